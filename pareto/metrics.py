"""Quality indicators of a front (maximisation convention).

Expected utility and sparsity follow PGMORL (Xu et al., ICML 2020) and MORL-Baselines
(Felten et al., NeurIPS 2023), maximum utility loss Zintgraf et al. (BNAIC 2015) as
MORL-Baselines reports it; IGD and IGD+ (Ishibuchi et al., EMO 2015) come from
moocore; R2 is the standard R2 indicator with the weighted Tchebycheff utility
(Hansen & Jaszkiewicz 1998; Brockhoff, Wagner & Trautmann, GECCO 2012); coverage counts
the points of a known front that a front reaches.
None of them filters its input: pass the front you want measured.
"""

from __future__ import annotations

import moocore
import numpy as np
from numpy.typing import ArrayLike

from pareto._arrays import as_points, as_vector, same_width

# Bound on the (weights x points x objectives) block built at once by r2.
_R2_BLOCK_ELEMENTS = 4_000_000


def _non_empty(points: ArrayLike, name: str) -> np.ndarray:
    array = as_points(points, name)
    if len(array) == 0:
        raise ValueError(f"{name} is empty; the indicator needs at least one point")
    return array


def expected_utility(front: ArrayLike, weights: ArrayLike) -> float:
    """Expected utility ``EU = mean over w of max over p in front of w . p``.

    ``front`` is ``(n, m)``, ``weights`` is ``(k, m)`` (typically
    :func:`pareto.weights.equally_spaced_weights`): the linear utility an agent picking
    its best policy for each preference would get, averaged over preferences.
    """
    points = _non_empty(front, "front")
    preferences = _non_empty(weights, "weights")
    same_width(points, preferences, ("front", "weights"))
    return float(np.mean(np.max(preferences @ points.T, axis=1)))


def distinct_points(front: ArrayLike) -> np.ndarray:
    """The distinct rows of ``front``, each exact duplicate once, in lexicographic order.

    A front of stored policies often holds several with the same return vector (a
    PD-MORL grid, C-MORL's extensions). PGMORL and MORL-Baselines count each vector once
    for cardinality and sparsity (MORL-Baselines' ``filter_pareto_dominated`` removes
    duplicates); measure those on this.
    """
    points = as_points(front, "front")
    return np.unique(points, axis=0) if len(points) else points


def maximum_utility_loss(front: ArrayLike, reference_front: ArrayLike,
                         weights: ArrayLike) -> float:
    """Maximum utility loss against a reference (known) front, over linear utilities:

    ``MUL = max over w of (max over z in reference of w . z - max over p in front of w . p)``

    ``front`` ``(n, m)``, ``reference_front`` ``(k, m)``, ``weights`` ``(j, m)``. The
    most any preference of ``weights`` loses by picking from ``front`` instead of the
    reference front. 0 when every preference's best reference utility is reached;
    negative when the front beats the reference everywhere. Lower is better.
    """
    points = _non_empty(front, "front")
    reference = _non_empty(reference_front, "reference_front")
    preferences = _non_empty(weights, "weights")
    same_width(points, reference, ("front", "reference_front"))
    same_width(points, preferences, ("front", "weights"))
    best_reachable = np.max(preferences @ reference.T, axis=1)
    best_found = np.max(preferences @ points.T, axis=1)
    return float(np.max(best_reachable - best_found))


def sparsity(front: ArrayLike) -> float:
    """Sparsity: mean squared gap between neighbours along each objective.

    ``S = 1/(n-1) * sum over objectives j of sum over i of (P~_j[i+1] - P~_j[i])^2``
    where ``P~_j`` is objective ``j`` of the front sorted. 0.0 for fewer than 2 points.
    Lower means a denser front.
    """
    points = as_points(front, "front")
    if len(points) < 2:
        return 0.0
    gaps = np.diff(np.sort(points, axis=0), axis=0)
    return float(np.sum(gaps**2) / (len(points) - 1))


def igd(front: ArrayLike, reference_front: ArrayLike) -> float:
    """Inverted generational distance: mean over reference points of the Euclidean
    distance to the nearest front point (Coello & Reyes Sierra 2004). Lower is better."""
    points = _non_empty(front, "front")
    reference = _non_empty(reference_front, "reference_front")
    same_width(points, reference, ("front", "reference_front"))
    return float(moocore.igd(points, ref=reference, maximise=True))


def igd_plus(front: ArrayLike, reference_front: ArrayLike) -> float:
    """IGD+ (Ishibuchi et al. 2015), maximisation-aware: mean over reference points z of
    ``min over p of sqrt(sum_i max(z_i - p_i, 0)^2)`` — only the amount by which a
    front point falls short of z counts. Weakly Pareto-compliant. Lower is better."""
    points = _non_empty(front, "front")
    reference = _non_empty(reference_front, "reference_front")
    same_width(points, reference, ("front", "reference_front"))
    return float(moocore.igd_plus(points, ref=reference, maximise=True))


def r2(front: ArrayLike, weights: ArrayLike, ideal: ArrayLike) -> float:
    """R2 indicator with the Tchebycheff utility with respect to the ideal point z*:

    ``R2 = mean over w of min over p in front of max_i w_i * (z*_i - p_i)``.

    ``front`` is ``(n, m)``, ``weights`` ``(k, m)``, ``ideal`` ``(m,)``. Lower is better.
    """
    points = _non_empty(front, "front")
    preferences = _non_empty(weights, "weights")
    same_width(points, preferences, ("front", "weights"))
    shortfall = as_vector(ideal, points.shape[1], "ideal") - points  # (n, m)
    block = max(1, _R2_BLOCK_ELEMENTS // shortfall.size)
    best = np.empty(len(preferences))
    for start in range(0, len(preferences), block):
        chunk = preferences[start : start + block]  # (b, m)
        tchebycheff = np.max(chunk[:, None, :] * shortfall[None, :, :], axis=2)  # (b, n)
        best[start : start + block] = np.min(tchebycheff, axis=1)
    return float(np.mean(best))


def coverage(front: ArrayLike, reference_front: ArrayLike, tolerance: ArrayLike) -> float:
    """Fraction of ``reference_front`` points z (a known front, ``(k, m)``) reached by
    ``front`` ``(n, m)``: some front point p has ``p_i >= z_i - tolerance_i`` in every
    objective. ``tolerance`` is one value or one per objective, >= 0. A point beyond z
    counts too (a known front that is itself an approximation can be beaten). An empty
    ``front`` covers nothing (0.0). Higher is better; 1.0 means every point is found."""
    reference = _non_empty(reference_front, "reference_front")
    points = as_points(front, "front")
    if len(points) == 0:
        return 0.0
    same_width(points, reference, ("front", "reference_front"))
    slack = np.broadcast_to(np.asarray(tolerance, dtype=np.float64), (reference.shape[1],))
    if np.any(slack < 0) or not np.all(np.isfinite(slack)):
        raise ValueError(f"tolerance must be finite and >= 0; got {tolerance!r}")
    reached = np.all(points[None, :, :] >= reference[:, None, :] - slack, axis=2)  # (k, n)
    return float(np.mean(reached.any(axis=1)))
