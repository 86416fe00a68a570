"""Picking the front point a user's preference asks for (maximisation convention).

A preference ``w`` (one non-negative weight per objective, not all zero) is scaled to
sum to 1 and scored against the front *normalised* per objective, so that a weight
means the same whatever the objectives' units (treasure in 0..124 against time in
-1..-19 would otherwise let one objective swamp the other):

    J~_i = (J_i - min_i) / (max_i - min_i)      min and max over the front; 0 if max = min
    u(J) = sum_i w_i * J~_i                      the normalised linear utility

:func:`best_for_preference` returns the front point maximising ``u``; of several
with the same utility, the first (the store keeps fronts in seq order: the earliest).

A linear utility reaches only the front's convex hull: on a front that bulges towards
the nadir (DTLZ2's quarter sphere, deep-sea-treasure-concave) every weight picks a
point at or near an end, and the balanced points are never chosen. The *Chebyshev*
scalarisation (``scalarisation="chebyshev"``; pymoo's ASF, Miettinen's achievement
function) reaches every front point: it picks the point nearest the ideal in the
weighted max-norm, a larger weight keeping its objective nearer its best,

    u(J) = -(max_i w_i (1 - J~_i) + rho * sum_i w_i (1 - J~_i)),   rho = 1e-4

(0 at the ideal; the small sum breaks ties between points level in the max-norm
towards the one better elsewhere). An objective flat over the front has every point at
its best: no shortfall (in the linear utility it counts 0 for all, which is the same).

A preference-conditioned policy (one network that acts for any preference, stored
once per evaluation round and evaluated there on a grid of preferences) is served at
the preference asked for, so the network to serve is picked by what each one did
*there*: :func:`best_conditioned_policy` scores every network by its evaluation at the
grid preference nearest ``w``, with ``u`` normalised over all the networks' evaluations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pareto._arrays import as_points, as_vector

# Utilities equal but for rounding (sums of the same terms in another order) tie.
TIE_TOLERANCE = 1e-12
# How a preference scores a point: the weighted sum, or the augmented Chebyshev distance.
SCALARISATIONS = ("linear", "chebyshev")
CHEBYSHEV_AUGMENTATION = 1e-4


def check_preference(preference: ArrayLike, n_objectives: int) -> np.ndarray:
    """Return ``preference`` scaled to sum to 1, as float64 ``(n_objectives,)``, or raise
    ValueError saying what is wrong: not numbers, the wrong count, a NaN, an infinite
    or a negative value, or all zeros."""
    try:
        weights = np.array(preference, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"preference must be a list of numbers; got {preference!r}") from None
    if weights.ndim != 1 or len(weights) != n_objectives:
        raise ValueError(
            f"preference has {weights.size} values; give one non-negative weight per "
            f"objective ({n_objectives})"
        )
    for index, value in enumerate(weights):
        if not np.isfinite(value) or value < 0:
            raise ValueError(
                f"preference[{index}] is {value}; every weight must be a finite number >= 0"
            )
    total = weights.sum()
    if total <= 0:
        raise ValueError("preference is all zeros; give at least one positive weight")
    return weights / total


@dataclass(frozen=True)
class PreferenceChoice:
    """The chosen front point and how it was scored."""

    index: int  # row of the front
    utility: float  # u of that row: in [0, 1] linear, in [-1 - rho, 0] Chebyshev
    weights: np.ndarray  # (m,), summing to 1
    low: np.ndarray  # (m,), per-objective minimum over the front (maximisation convention)
    high: np.ndarray  # (m,), per-objective maximum


def normalized_utilities(front: ArrayLike, weights: ArrayLike,
                         scalarisation: str = "linear") -> np.ndarray:
    """``u`` of every row of ``front`` ``(n, m)`` for ``weights`` ``(m,)`` (used as given:
    scale them with :func:`check_preference` first), linear or Chebyshev (see the module
    docstring). Shape ``(n,)``."""
    if scalarisation not in SCALARISATIONS:
        raise ValueError(f"scalarisation must be one of {', '.join(SCALARISATIONS)}; "
                         f"got {scalarisation!r}")
    points = as_points(front, "front")
    w = as_vector(weights, points.shape[1], "weights")
    if len(points) == 0:
        return np.empty(0)
    low, high = points.min(axis=0), points.max(axis=0)
    span = high - low
    scaled = np.divide(points - low, span, out=np.zeros_like(points), where=span > 0)
    if scalarisation == "linear":
        return scaled @ w
    # a flat objective: every point is at its best there, none short of it
    shortfall = w * np.where(span > 0, 1 - scaled, 0.0)
    return -(shortfall.max(axis=1) + CHEBYSHEV_AUGMENTATION * shortfall.sum(axis=1))


def best_for_preference(front: ArrayLike, weights: ArrayLike,
                        scalarisation: str = "linear") -> PreferenceChoice:
    """The row of ``front`` ``(n, m)`` with the largest normalised utility for ``weights``
    (checked and scaled to sum 1 by :func:`check_preference`), linear or Chebyshev; the
    first on ties. ValueError on an empty front or a bad preference."""
    points = as_points(front, "front")
    if len(points) == 0:
        raise ValueError("front is empty: there is no point to choose")
    w = check_preference(weights, points.shape[1])
    utilities = normalized_utilities(points, w, scalarisation)
    index = int(np.argmax(utilities))  # argmax returns the first maximum
    return PreferenceChoice(index, float(utilities[index]), w,
                            points.min(axis=0), points.max(axis=0))


def best_conditioned_policy(preferences: ArrayLike, points: ArrayLike, policies: ArrayLike,
                            preference: ArrayLike, scalarisation: str = "linear") -> int:
    """The row whose policy to run at ``preference``, among evaluations of
    preference-conditioned policies: row ``i`` is policy ``policies[i]`` evaluated at
    grid preference ``preferences[i]`` (summing to 1), scoring ``points[i]``
    (maximisation convention); rows in seq order.

    Each policy is represented by its row at the grid preference nearest ``preference``
    (scaled to sum 1; L1 distance, the first on ties) and scored by ``u`` normalised over
    all the rows given: not over the front alone, whose range in an objective may be
    zero while the policies still differ there (``scalarisation`` as for
    :func:`best_for_preference`). The highest score wins; on ties the
    policy whose rows come last, the one trained longest. ValueError on a bad
    preference, no rows, or shapes that disagree.
    """
    prefs = as_points(preferences, "preferences")
    values = as_points(points, "points")
    owners = np.asarray(policies)
    if len(values) == 0:
        raise ValueError("no evaluations of a preference-conditioned policy to choose from")
    if prefs.shape != values.shape or owners.shape != (len(values),):
        raise ValueError(
            f"preferences {prefs.shape}, points {values.shape} and policies "
            f"{owners.shape} must describe the same rows"
        )
    w = check_preference(preference, values.shape[1])
    distance = np.abs(prefs - w).sum(axis=1)
    utility = normalized_utilities(values, w, scalarisation)
    best_row, best_utility = -1, -np.inf
    _, first_rows = np.unique(owners, return_index=True)
    for policy in owners[np.sort(first_rows)]:
        rows = np.flatnonzero(owners == policy)
        row = int(rows[np.argmin(distance[rows])])
        if utility[row] >= best_utility - TIE_TOLERANCE:
            best_row, best_utility = row, max(best_utility, float(utility[row]))
    return best_row
