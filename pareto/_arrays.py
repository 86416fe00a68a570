"""Shape checks shared by the `pareto` modules (private).

Every public function takes objective vectors as array-likes and works on float64
arrays: a set of points is ``(n, m)``, a single point or reference point is ``(m,)``.
These helpers convert and reject wrong shapes with a message naming the argument.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def as_points(points: ArrayLike, name: str = "points") -> np.ndarray:
    """Return ``points`` as a float64 ``(n, m)`` array; ``n`` may be 0, ``m`` must be >= 1."""
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] < 1:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_points, n_objectives); got shape {array.shape}"
        )
    return array


def as_vector(vector: ArrayLike, n_objectives: int, name: str) -> np.ndarray:
    """Return ``vector`` as a float64 ``(n_objectives,)`` array."""
    array = np.asarray(vector, dtype=np.float64)
    if array.ndim != 1 or array.shape[0] != n_objectives:
        raise ValueError(
            f"{name} must have shape ({n_objectives},) to match {n_objectives} objectives; "
            f"got shape {array.shape}"
        )
    return array


def same_width(first: np.ndarray, second: np.ndarray, names: tuple[str, str]) -> None:
    """Raise if two point sets do not have the same number of objectives."""
    if first.shape[1] != second.shape[1]:
        raise ValueError(
            f"{names[0]} has {first.shape[1]} objectives but {names[1]} has {second.shape[1]}"
        )
