"""Exact hypervolume and hypervolume contributions (maximisation convention), via moocore.

The hypervolume of a set X with respect to a reference point r is the Lebesgue
measure of the region dominated by X and bounded by r:
``HV(X, r) = vol( union over p in X of the box [r, p] )`` (Zitzler & Thiele 1998).
Only points that strictly dominate r (``p > r`` in every objective) enclose a
box of positive volume; the others are dropped before moocore is called, so they
contribute nothing. moocore computes it exactly for any number of objectives
(O(n log n) for m <= 3, HV4D+ for m = 4, recursive above).
"""

from __future__ import annotations

import moocore
import numpy as np
from numpy.typing import ArrayLike

from pareto._arrays import as_points, as_vector


def _inside(
    points: ArrayLike, reference_point: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (points, reference point, mask of the points strictly dominating it)."""
    array = as_points(points)
    reference = as_vector(reference_point, array.shape[1], "reference_point")
    return array, reference, np.all(array > reference, axis=1)


def hypervolume(points: ArrayLike, reference_point: ArrayLike) -> float:
    """Exact hypervolume of ``points`` ``(n, m)`` with respect to ``reference_point`` ``(m,)``.

    Points that do not strictly dominate the reference point contribute nothing;
    an empty set (or one with no such point) has hypervolume 0.0.

    >>> hypervolume([[1.0, 0.0], [0.0, 1.0]], [-1.0, -1.0])
    3.0
    """
    array, reference, inside = _inside(points, reference_point)
    if not inside.any():
        return 0.0
    # Copies add no volume but cost moocore time, which grows steeply with the number of
    # points above 3 objectives: a fruit-tree campaign's front holds thousands of rows
    # that are the same few leaves (10,317 rows, 58 distinct: 8 s per call, 0.5 ms unique).
    distinct = np.unique(array[inside], axis=0)
    return float(moocore.hypervolume(distinct, ref=reference, maximise=True))


def n_dominating_reference(points: ArrayLike, reference_point: ArrayLike) -> int:
    """How many of ``points`` strictly dominate ``reference_point``: the ones whose box
    the hypervolume measures. The rest add nothing, so a reference point set past the
    front (say, on the wrong side for a minimised objective) shows here as 0 of n."""
    return int(_inside(points, reference_point)[2].sum())


def hv_contributions(points: ArrayLike, reference_point: ArrayLike) -> np.ndarray:
    """Exclusive hypervolume contribution of each point: ``HV(X) - HV(X minus {p})``.

    This is the exact definition for every input, as moocore defines it:
    a point that does not strictly dominate the reference point, a dominated point,
    and each copy of a duplicated point all get 0 (removing one copy of a duplicate
    changes nothing); and a dominated point still counts when computing the others'
    contributions (a point dominated by one point only reduces that point's
    contribution). When the points are mutually non-dominated (a front) moocore's
    fast algorithm is used; otherwise its exact one (``ignore_dominated=False``),
    which recomputes the hypervolume once per point.
    """
    array, reference, inside = _inside(points, reference_point)
    contributions = np.zeros(len(array))
    candidates = array[inside]
    if len(candidates) == 0:
        return contributions
    if array.shape[1] == 1:
        contributions[inside] = _contributions_1d(candidates[:, 0], reference[0])
        return contributions
    mutually_non_dominated = bool(
        np.all(moocore.is_nondominated(candidates, maximise=True, keep_weakly=True))
    )
    contributions[inside] = moocore.hv_contributions(
        candidates, ref=reference, maximise=True, ignore_dominated=mutually_non_dominated
    )
    return contributions


def _contributions_1d(values: np.ndarray, reference: float) -> np.ndarray:
    """One objective (moocore needs m >= 2): only a unique maximum contributes,
    by how far it exceeds the next best value (or the reference point)."""
    contributions = np.zeros(len(values))
    best = int(np.argmax(values))
    others = np.delete(values, best)
    runner_up = max(float(others.max()), reference) if len(others) else reference
    contributions[best] = values[best] - runner_up
    return contributions
