"""Reference-point rules for the hypervolume (maximisation convention).

A hypervolume is always reported with its reference point. The point comes from, in
order: the user's campaign spec, the problem's published value (MO-Gymnasium or paper
values), or the default rule below, applied to the non-dominated evaluations —
nadir minus 10% of the ideal-nadir range per objective. The caller fixes the result at
the campaign's first metric snapshot so that the hypervolume history stays comparable.
All points here are in the maximisation convention (convert with
:func:`pareto.senses.to_maximization` first).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from pareto._arrays import as_points
from pareto.dominance import non_dominated

ReferenceSource = Literal["user", "published", "nadir"]

# Margin below the nadir, as a fraction of the ideal - nadir range.
MARGIN = 0.1


def check_reference_point(point: ArrayLike, n_objectives: int) -> np.ndarray:
    """Return ``point`` as a float64 ``(n_objectives,)`` array, or raise ValueError
    saying what is wrong (not numbers, wrong length, NaN or infinite values)."""
    try:
        array = np.array(point, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"reference_point must be a list of numbers; got {point!r}") from None
    if array.ndim != 1:
        raise ValueError(
            f"reference_point must be a flat list of {n_objectives} numbers; "
            f"got an array of shape {array.shape}"
        )
    if len(array) != n_objectives:
        raise ValueError(
            f"reference_point has {len(array)} values; the campaign has {n_objectives} objectives"
        )
    bad = np.flatnonzero(~np.isfinite(array))
    if len(bad):
        index = int(bad[0])
        raise ValueError(
            f"reference_point[{index}] is {array[index]}; every value must be a finite number"
        )
    return array


def default_reference_point(front: ArrayLike) -> np.ndarray:
    """Nadir of the non-dominated points minus 10% of the range, per objective.

    With ``nadir = min`` and ``ideal = max`` over the non-dominated points of ``front``
    (dominated rows, if any are given, are filtered out first — the nadir point is
    defined on the Pareto front), the reference point is
    ``nadir_i - 0.1 * (ideal_i - nadir_i)``, or ``nadir_i - 0.1 * max(|nadir_i|, 1)``
    where the range is 0 (e.g. a single point). Every non-dominated point then
    strictly dominates it (at least one float step below the nadir, should the margin
    vanish in rounding). Raises ValueError on an empty front.
    """
    points = as_points(front, "front")
    if len(points) == 0:
        raise ValueError("cannot derive a reference point from an empty front")
    if not np.all(np.isfinite(points)):
        raise ValueError("front contains NaN or infinite values")
    points = non_dominated(points)
    nadir = points.min(axis=0)
    spread = points.max(axis=0) - nadir
    margin = np.where(spread > 0, MARGIN * spread, MARGIN * np.maximum(np.abs(nadir), 1.0))
    return np.minimum(nadir - margin, np.nextafter(nadir, -np.inf))


def resolve_reference_point(
    user: ArrayLike | None,
    published: ArrayLike | None,
    front: ArrayLike,
) -> tuple[np.ndarray, ReferenceSource]:
    """Pick the reference point: the user's if given, else the published one, else
    :func:`default_reference_point` of ``front``. Returns ``(point, source)`` with
    source ``"user"``, ``"published"`` or ``"nadir"``.

    ``front`` is ``(n, m)`` (n may be 0 when a given point is used); a given point is
    checked with :func:`check_reference_point` against its ``m`` objectives.
    """
    points = as_points(front, "front")
    n_objectives = points.shape[1]
    if user is not None:
        return check_reference_point(user, n_objectives), "user"
    if published is not None:
        return check_reference_point(published, n_objectives), "published"
    return default_reference_point(points), "nadir"
