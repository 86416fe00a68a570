"""Tests of pareto.metrics against direct loops over the definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pareto.metrics import (
    distinct_points,
    expected_utility,
    igd,
    igd_plus,
    maximum_utility_loss,
    r2,
    sparsity,
)
from pareto.weights import simplex_grid
from tests.pareto.pareto_brute_force import grid_points, real_points

objectives = st.integers(1, 4)


@st.composite
def front_and_weights(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    m = draw(objectives)
    front = draw(real_points(m, min_points=1, max_points=15))
    weights = simplex_grid(m, draw(st.integers(1, 6)))
    return front, weights


@settings(max_examples=150, deadline=None)
@given(case=front_and_weights())
def test_expected_utility_is_mean_of_best_linear_utility(case) -> None:
    front, weights = case
    best = [max(sum(w[i] * p[i] for i in range(len(w))) for p in front) for w in weights]
    assert expected_utility(front, weights) == pytest.approx(
        sum(best) / len(best), rel=1e-9, abs=1e-9
    )


@settings(max_examples=150, deadline=None)
@given(case=front_and_weights(), data=st.data())
def test_maximum_utility_loss_is_the_worst_shortfall_over_weights(case, data) -> None:
    front, weights = case
    known = data.draw(real_points(front.shape[1], min_points=1, max_points=15))

    def best(points, w):  # type: ignore[no-untyped-def]
        return max(sum(w[i] * p[i] for i in range(len(w))) for p in points)

    expected = max(best(known, w) - best(front, w) for w in weights)
    assert maximum_utility_loss(front, known, weights) == pytest.approx(
        expected, rel=1e-9, abs=1e-9)
    assert maximum_utility_loss(known, known, weights) == 0.0


def test_maximum_utility_loss_refuses_mismatched_widths() -> None:
    with pytest.raises(ValueError, match="weights"):
        maximum_utility_loss([[1.0, 2.0]], [[1.0, 2.0]], [[1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="reference_front is empty"):
        maximum_utility_loss([[1.0, 2.0]], np.empty((0, 2)), [[1.0, 0.0]])


@settings(max_examples=150, deadline=None)
@given(data=st.data(), m=objectives)
def test_distinct_points_keep_each_vector_once(data, m) -> None:
    front = data.draw(grid_points(m, max_points=15))  # a coarse grid: duplicates are common
    distinct = distinct_points(front)
    assert sorted(map(tuple, distinct)) == sorted({tuple(point) for point in front})
    assert distinct.shape[1] == m


@settings(max_examples=150, deadline=None)
@given(data=st.data(), m=objectives)
def test_sparsity_is_mean_squared_neighbour_gap(data, m) -> None:
    front = data.draw(real_points(m, max_points=15))
    expected = 0.0
    if len(front) >= 2:
        for j in range(m):
            column = sorted(front[:, j])
            expected += sum((column[i + 1] - column[i]) ** 2 for i in range(len(column) - 1))
        expected /= len(front) - 1
    assert sparsity(front) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), m=objectives)
def test_igd_and_igd_plus_match_loops(data, m) -> None:
    front = data.draw(real_points(m, min_points=1, max_points=12))
    reference = data.draw(real_points(m, min_points=1, max_points=12))
    distance = [min(math.dist(z, p) for p in front) for z in reference]
    shortfall = [
        min(math.sqrt(sum(max(z[i] - p[i], 0.0) ** 2 for i in range(m))) for p in front)
        for z in reference
    ]
    assert igd(front, reference) == pytest.approx(np.mean(distance), rel=1e-9, abs=1e-9)
    assert igd_plus(front, reference) == pytest.approx(np.mean(shortfall), rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), m=objectives)
def test_igd_plus_is_zero_when_the_front_weakly_dominates_the_reference(data, m) -> None:
    reference = data.draw(grid_points(n_objectives=m, min_points=1, max_points=10))
    front = reference + data.draw(
        grid_points(n_objectives=m, min_points=len(reference), max_points=len(reference))
    )
    assert igd_plus(front, reference) == 0.0


@settings(max_examples=150, deadline=None)
@given(case=front_and_weights(), data=st.data())
def test_r2_is_mean_of_best_tchebycheff_utility(case, data) -> None:
    front, weights = case
    ideal = data.draw(real_points(front.shape[1], min_points=1, max_points=1))[0]
    per_weight = [
        min(max(w[i] * (ideal[i] - p[i]) for i in range(len(w))) for p in front) for w in weights
    ]
    assert r2(front, weights, ideal) == pytest.approx(np.mean(per_weight), rel=1e-9, abs=1e-9)


def test_known_values() -> None:
    front = np.array([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]])
    assert sparsity(front) == pytest.approx(2.0)
    assert sparsity(front[:1]) == 0.0
    assert sparsity(np.empty((0, 2))) == 0.0
    assert expected_utility(front, [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]) == pytest.approx(
        (2.0 + 1.0 + 2.0) / 3
    )
    assert r2(front, [[0.5, 0.5]], [2.0, 2.0]) == pytest.approx(0.5)
    # Ishibuchi et al. (2015), example 4, written for minimisation: negate into our convention.
    reference = -np.array([[10, 0], [6, 1], [2, 2], [1, 6], [0, 10]], dtype=float)
    a = -np.array([[4, 2], [3, 3], [2, 4]], dtype=float)
    b = -np.array([[8, 2], [4, 4], [2, 8]], dtype=float)
    assert igd(a, reference) > igd(b, reference)
    assert igd_plus(a, reference) < igd_plus(b, reference)


def test_empty_or_mismatched_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="front is empty"):
        expected_utility(np.empty((0, 2)), [[0.5, 0.5]])
    with pytest.raises(ValueError, match="reference_front is empty"):
        igd([[1.0, 2.0]], np.empty((0, 2)))
    with pytest.raises(ValueError, match="front has 2 objectives but reference_front has 3"):
        igd_plus([[1.0, 2.0]], [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"ideal must have shape \(2,\)"):
        r2([[1.0, 2.0]], [[0.5, 0.5]], [1.0])
