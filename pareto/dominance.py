"""Pareto dominance and the non-dominated filter (maximisation convention).

``a`` dominates ``b`` when ``a >= b`` in every objective and ``a > b`` in at least
one. A point is *non-dominated* in a set when no point of the set dominates it; this
is the weak notion, so exact duplicates of a non-dominated point are all kept. The
filter is moocore's ``is_nondominated`` (Kung, Luccio & Preparata 1975: O(n log n)
for m <= 3, O(n log^(m-2) n) above).
"""

from __future__ import annotations

import moocore
import numpy as np
from numpy.typing import ArrayLike

from pareto._arrays import as_points, same_width


def dominates(a: ArrayLike, b: ArrayLike) -> bool:
    """True when ``a >= b`` everywhere and ``a > b`` somewhere (both shape ``(m,)``)."""
    first = np.asarray(a, dtype=np.float64)
    second = np.asarray(b, dtype=np.float64)
    if first.ndim != 1 or first.shape != second.shape:
        raise ValueError(
            f"a and b must be points of the same length; got shapes {first.shape} and {second.shape}"
        )
    return bool(np.all(first >= second) and np.any(first > second))


def non_dominated_mask(points: ArrayLike) -> np.ndarray:
    """Boolean mask over the rows of ``points`` ``(n, m)``: True where no row dominates it.

    Duplicates of a non-dominated point are all True. Empty input gives an empty mask.
    """
    array = as_points(points)
    if len(array) <= 1:
        return np.ones(len(array), dtype=bool)
    return np.asarray(moocore.is_nondominated(array, maximise=True, keep_weakly=True), dtype=bool)


def non_dominated(points: ArrayLike) -> np.ndarray:
    """The rows of ``points`` selected by :func:`non_dominated_mask`, in their order."""
    array = as_points(points)
    return array[non_dominated_mask(array)]


def update_front(front: ArrayLike, new: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Maintain a front incrementally when a batch of new points arrives.

    ``front`` ``(k, m)`` is the current non-dominated set and ``new`` ``(n, m)`` the
    batch. Returns ``(front_keep_mask, new_on_front_mask)``: which old front points
    are still non-dominated in the union, and which new points are. Both masks are
    exactly :func:`non_dominated_mask` of ``vstack([front, new])``, split in two
    (one filter over the union). Either input may be empty (``[]`` or ``(0, m)``).
    """
    if np.size(front) == 0:
        return np.ones(0, dtype=bool), non_dominated_mask(as_points(new, "new"))
    if np.size(new) == 0:
        return non_dominated_mask(as_points(front, "front")), np.ones(0, dtype=bool)
    old = as_points(front, "front")
    batch = as_points(new, "new")
    same_width(old, batch, ("front", "new"))
    mask = non_dominated_mask(np.vstack([old, batch]))
    return mask[: len(old)], mask[len(old) :]
