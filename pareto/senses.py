"""Objective senses and the conversion to the maximisation convention.

Inside mofront every objective is maximised. A problem may declare an objective
``"minimize"``; the store keeps the value as the user sees it, and these helpers turn
it into the maximisation convention (negating minimised columns) and back. They are
also where raw objective arrays are validated: float64, the right shape, finite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike

Sense = Literal["minimize", "maximize"]
SENSES: tuple[str, ...] = get_args(Sense)


def _sign(senses: Sequence[Sense], n_objectives: int) -> np.ndarray:
    """Return +1 for each maximised objective and -1 for each minimised one."""
    if len(senses) != n_objectives:
        raise ValueError(f"got {len(senses)} senses for {n_objectives} objectives")
    for index, sense in enumerate(senses):
        if sense not in SENSES:
            raise ValueError(f"senses[{index}] is {sense!r}; allowed: {', '.join(SENSES)}")
    return np.array([1.0 if sense == "maximize" else -1.0 for sense in senses])


def to_maximization(values: ArrayLike, senses: Sequence[Sense]) -> np.ndarray:
    """Return a float64 copy of ``values`` with every minimised objective negated.

    ``values`` is one point ``(m,)`` or a set of points ``(n, m)``; the last axis is
    the objective axis and must have ``len(senses)`` entries.
    """
    array = np.array(values, dtype=np.float64)  # always a copy
    if array.ndim not in (1, 2):
        raise ValueError(f"values must be a point (m,) or points (n, m); got shape {array.shape}")
    return array * _sign(senses, array.shape[-1])


def from_maximization(values: ArrayLike, senses: Sequence[Sense]) -> np.ndarray:
    """Inverse of :func:`to_maximization`: back to the senses the user declared."""
    return to_maximization(values, senses)  # negation is its own inverse


def validate_objectives(values: ArrayLike, n_objectives: int) -> np.ndarray:
    """Return ``values`` as a float64 ``(n, n_objectives)`` array, or raise ValueError.

    Rejects anything that is not a 2-D array of numbers with ``n_objectives``
    columns (a single vector must be wrapped as ``[[...]]``), and any NaN or ±inf;
    the message names the first offending row and column.
    """
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"objectives must be a rectangular array of numbers with {n_objectives} "
            f"columns: {error}"
        ) from None
    if array.ndim != 2 or array.shape[1] != n_objectives:
        raise ValueError(
            f"objectives must have shape (n, {n_objectives}) — one row per evaluation, "
            f"one column per objective; got shape {array.shape}"
        )
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        row, column = (int(i) for i in bad[0])
        raise ValueError(
            f"objectives row {row}, column {column} is {array[row, column]}; "
            f"objective values must be finite numbers ({len(bad)} non-finite value(s) in all)"
        )
    return array
