"""Tests of pareto.preference (the front point a preference picks) and pareto.metrics.
coverage, against loops written straight from their definitions."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pareto import best_conditioned_policy, best_for_preference, check_preference, coverage
from tests.pareto.pareto_brute_force import grid_points, real_points


def brute_utilities(front: np.ndarray, preference: list[float]) -> list[float]:
    """sum_i w_i (J_i - min_i) / (max_i - min_i), w scaled to sum 1, a zero range giving 0."""
    m = front.shape[1]
    total = sum(preference)
    weights = [w / total for w in preference]
    low = [min(p[i] for p in front) for i in range(m)]
    high = [max(p[i] for p in front) for i in range(m)]
    return [
        sum(weights[i] * ((p[i] - low[i]) / (high[i] - low[i]) if high[i] > low[i] else 0.0)
            for i in range(m))
        for p in front
    ]


@st.composite
def front_and_preference(draw: st.DrawFn) -> tuple[np.ndarray, list[float]]:
    m = draw(st.integers(1, 4))
    front = draw(st.one_of(real_points(m, min_points=1, max_points=15),
                           grid_points(m, min_points=1, max_points=15)))
    preference = draw(st.lists(st.floats(0, 10), min_size=m, max_size=m)
                      .filter(lambda w: sum(w) > 1e-6))
    return front, preference


@settings(max_examples=300, deadline=None)
@given(case=front_and_preference())
def test_best_for_preference_maximises_the_normalised_utility(case) -> None:
    front, preference = case
    utilities = brute_utilities(front, preference)
    choice = best_for_preference(front, preference)
    assert utilities[choice.index] == pytest.approx(max(utilities), abs=1e-12)
    assert choice.utility == pytest.approx(utilities[choice.index], abs=1e-12)
    assert choice.weights.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(choice.low, front.min(axis=0))
    np.testing.assert_array_equal(choice.high, front.max(axis=0))


def brute_chebyshev(front: np.ndarray, preference: list[float]) -> list[float]:
    """-(max_i w_i (1 - J~_i) + 1e-4 sum_i w_i (1 - J~_i)), J~ and w as above but a
    zero range giving no shortfall."""
    m = front.shape[1]
    weights = [w / sum(preference) for w in preference]
    flat = [front[:, k].min() == front[:, k].max() for k in range(m)]
    linear_at_each = [brute_utilities(front, [float(i == k) for i in range(m)])
                      for k in range(m)]  # J~_k of every point
    shortfalls = [[0.0 if flat[k] else weights[k] * (1 - linear_at_each[k][j])
                   for k in range(m)] for j in range(len(front))]
    return [-(max(row) + 1e-4 * sum(row)) for row in shortfalls]


@settings(max_examples=300, deadline=None)
@given(case=front_and_preference())
def test_the_chebyshev_pick_is_nearest_the_ideal_in_the_weighted_max_norm(case) -> None:
    front, preference = case
    utilities = brute_chebyshev(front, preference)
    choice = best_for_preference(front, preference, "chebyshev")
    assert utilities[choice.index] == pytest.approx(max(utilities), abs=1e-12)
    assert choice.utility == pytest.approx(utilities[choice.index], abs=1e-12)
    assert -1 - 1e-4 <= choice.utility <= 0


def test_on_a_front_bulging_to_the_nadir_only_chebyshev_picks_the_balanced_points() -> None:
    # a quarter circle about the nadir (DTLZ2's front, maximised): below the chord
    angles = np.linspace(0, np.pi / 2, 11)
    front = np.stack([1 - np.cos(angles), 1 - np.sin(angles)], axis=1)
    linear = {best_for_preference(front, [w, 1 - w]).index for w in np.linspace(0, 1, 21)}
    assert linear == {0, 10}  # every weight picks an end
    picked = [best_for_preference(front, [w, 1 - w], "chebyshev").index
              for w in np.linspace(0.05, 0.95, 19)]
    assert picked == sorted(picked) and set(picked) == set(range(11))  # every point
    assert best_for_preference(front, [1, 1], "chebyshev").index == 5  # the middle
    with pytest.raises(ValueError, match="scalarisation must be one of linear, chebyshev"):
        best_for_preference(front, [1, 1], "tchebycheff")


def test_ties_go_to_the_first_point_and_a_flat_objective_counts_zero() -> None:
    front = np.array([[1.0, 5.0], [0.0, 5.0], [1.0, 5.0]])  # objective 2 has a zero range
    choice = best_for_preference(front, [1, 1])
    assert (choice.index, choice.utility) == (0, 0.5)
    assert best_for_preference(front, [0, 3]).index == 0  # all utilities 0: the first


def test_the_weights_are_scaled_to_sum_one() -> None:
    front = np.array([[0.0, 10.0], [10.0, 0.0], [6.0, 6.0]])
    assert best_for_preference(front, [2, 2]).index == 2
    assert best_for_preference(front, [2, 2]).utility == pytest.approx(0.6)
    assert best_for_preference(front, [9, 1]).index == 1
    np.testing.assert_allclose(check_preference([3, 1], 2), [0.75, 0.25])


@pytest.mark.parametrize(("preference", "message"), [
    ([1.0], "preference has 1 values; give one non-negative weight per objective (2)"),
    ([1.0, -0.5], "preference[1] is -0.5; every weight must be a finite number >= 0"),
    ([float("nan"), 1.0], "preference[0] is nan"),
    ([float("inf"), 1.0], "preference[0] is inf"),
    ([0.0, 0.0], "preference is all zeros"),
    (["a", 1], "preference must be a list of numbers"),
])
def test_a_bad_preference_is_refused_with_the_reason(preference, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check_preference(preference, 2)


def test_an_empty_front_has_no_best_point() -> None:
    with pytest.raises(ValueError, match="front is empty"):
        best_for_preference(np.empty((0, 2)), [1, 1])


@st.composite
def conditioned_rounds(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, list[int], list[float]]:
    """Networks (policy ids in seq order), each evaluated on the same grid of 2-objective
    preferences, and a preference to serve."""
    grid = [[k / 4, 1 - k / 4] for k in range(5)]
    n_rounds = draw(st.integers(1, 5))
    values = draw(st.lists(st.lists(st.integers(0, 6), min_size=2, max_size=2),
                           min_size=5 * n_rounds, max_size=5 * n_rounds))
    weight = draw(st.integers(0, 20)) / 20
    return (np.array(grid * n_rounds, dtype=float), np.array(values, dtype=float),
            [10 + r for r in range(n_rounds) for _ in grid], [weight, 1 - weight])


@settings(max_examples=300, deadline=None)
@given(case=conditioned_rounds())
def test_the_served_network_is_the_best_at_the_grid_preference_nearest_the_one_asked(
        case) -> None:
    preferences, points, policies, preference = case
    weights = check_preference(preference, 2)
    row = best_conditioned_policy(preferences, points, policies, preference)
    utilities = brute_utilities(points, preference)  # normalised over all the rows
    candidates = []  # (utility, first row, row nearest the preference) of each round
    for first in range(0, len(points), 5):
        distances = [abs(preferences[i][0] - weights[0]) * 2 for i in range(first, first + 5)]
        nearest = first + distances.index(min(distances))
        candidates.append((utilities[nearest], first, nearest))
    best = max(candidates)[0]
    last_best = [nearest for utility, _, nearest in candidates
                 if utility == pytest.approx(best, rel=0, abs=1e-9)][-1]
    assert row == last_best


def test_a_later_network_that_got_worse_is_not_served() -> None:
    preferences = [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]] * 3
    points = [[9, 1], [5, 5], [1, 9],   # network 7: good everywhere
              [9, 1], [5, 5], [1, 9],   # network 8: as good
              [0, 0], [5, 5], [1, 9]]   # network 9, the latest: lost the first objective
    networks = [7, 7, 7, 8, 8, 8, 9, 9, 9]
    served = best_conditioned_policy(preferences, points, networks, [0.9, 0.1])
    assert served == 3  # network 8 at (1, 0): the latest of the two that reach (9, 1)
    assert best_conditioned_policy(preferences, points, networks,
                                   [0.45, 0.55]) == 7  # all level at (0.5, 0.5): the latest
    # the front alone has no range in either objective here, the networks still differ
    grid = [[0.2, 0.8], [1.0, 0.0]] * 2
    assert best_conditioned_policy(grid, [[5, 1], [5, 2], [5, 0], [5, 3]], [1, 1, 2, 2],
                                   [0.2, 0.8]) == 0


def test_no_conditioned_evaluations_mismatched_rows_or_a_bad_preference_are_refused() -> None:
    with pytest.raises(ValueError, match="no evaluations"):
        best_conditioned_policy(np.empty((0, 2)), np.empty((0, 2)), [], [1, 1])
    with pytest.raises(ValueError, match="must describe the same rows"):
        best_conditioned_policy([[1.0, 0.0]], [[1.0, 0.0]], [1, 2], [1, 1])
    with pytest.raises(ValueError, match="preference has 3 values"):
        best_conditioned_policy([[1.0, 0.0]], [[1.0, 0.0]], [1], [1, 1, 1])


@settings(max_examples=200, deadline=None)
@given(data=st.data(), m=st.integers(1, 4), tolerance=st.sampled_from([0.0, 0.5, 1.0]))
def test_coverage_counts_the_known_points_reached(data, m, tolerance) -> None:
    front = data.draw(grid_points(m, max_points=12))
    known = data.draw(grid_points(m, min_points=1, max_points=12))
    reached = [
        any(all(p[i] >= z[i] - tolerance for i in range(m)) for p in front) for z in known
    ]
    assert coverage(front, known, tolerance) == pytest.approx(sum(reached) / len(known))


def test_coverage_of_a_front_against_itself_is_one_and_tolerance_is_per_objective() -> None:
    known = np.array([[0.0, 3.0], [1.0, 2.0], [3.0, 0.0]])
    assert coverage(known, known, 0.0) == 1.0
    near = known - [0.05, 0.5]
    assert coverage(near, known, 0.1) == 0.0
    assert coverage(near, known, [0.1, 0.5]) == 1.0
    assert coverage(np.empty((0, 2)), known, 0.1) == 0.0
    with pytest.raises(ValueError, match="tolerance must be finite and >= 0"):
        coverage(known, known, -1.0)
