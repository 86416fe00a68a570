"""Tests of pareto.hypervolume against a 2-D sweep, inclusion-exclusion and cell counting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pareto.hypervolume import hv_contributions, hypervolume, n_dominating_reference
from tests.pareto.pareto_brute_force import (
    grid_points,
    hypervolume_cell_count,
    hypervolume_inclusion_exclusion,
    hypervolume_sweep_2d,
    real_points,
)

reference_2d = st.tuples(st.floats(-12, 5), st.floats(-12, 5)).map(np.array)


def test_known_values() -> None:
    assert hypervolume([[1.0, 0.0], [0.0, 1.0]], [-1.0, -1.0]) == pytest.approx(3.0)
    assert hypervolume([[2.0, 3.0, 4.0]], [0.0, 0.0, 0.0]) == pytest.approx(24.0)
    assert hypervolume([[3.0], [1.0]], [0.0]) == pytest.approx(3.0)
    assert hypervolume(np.empty((0, 2)), [0.0, 0.0]) == 0.0
    # On or below the reference point in some objective: no volume.
    assert hypervolume([[0.0, 5.0], [-1.0, 9.0]], [0.0, 0.0]) == 0.0
    np.testing.assert_allclose(
        hv_contributions([[5, 1], [5, 1], [1, 5], [4, 4], [-1, 9]], [0, 0]), [0, 0, 1, 9, 0]
    )


def test_deep_sea_treasure_discounted_front() -> None:
    # The 10 optimal (treasure, time penalty) returns of deep-sea-treasure-v0, gamma 0.99.
    treasures = [0.7, 8.2, 11.5, 14.0, 15.1, 16.1, 19.6, 20.3, 22.4, 23.7]
    steps = [1, 3, 5, 7, 8, 9, 13, 14, 17, 19]
    front = [
        [0.99 ** (t - 1) * v, -sum(0.99**k for k in range(t))]
        for v, t in zip(treasures, steps, strict=True)
    ]
    assert hypervolume(front, [0.0, -25.0]) == pytest.approx(360.4009, abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(points=real_points(2), reference=reference_2d)
def test_two_objectives_match_sweep(points, reference) -> None:
    expected = hypervolume_sweep_2d(points, reference)
    assert hypervolume(points, reference) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n_objectives=st.integers(2, 5))
def test_matches_inclusion_exclusion(data, n_objectives) -> None:
    points = data.draw(real_points(n_objectives, max_points=8))
    reference = data.draw(real_points(n_objectives, min_points=1, max_points=1))[0]
    expected = hypervolume_inclusion_exclusion(points, reference)
    assert hypervolume(points, reference) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n_objectives=st.integers(3, 4))
def test_integer_points_match_cell_count(data, n_objectives) -> None:
    points = data.draw(grid_points(n_objectives=n_objectives, max_points=30, low=-1, high=4))
    reference = np.array(
        data.draw(st.lists(st.integers(-1, 1), min_size=n_objectives, max_size=n_objectives)),
        dtype=np.float64,
    )
    assert hypervolume(points, reference) == hypervolume_cell_count(points, reference)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n_objectives=st.integers(1, 6), copies=st.integers(2, 50))
def test_copies_of_points_add_nothing(data, n_objectives, copies) -> None:
    points = data.draw(grid_points(n_objectives=n_objectives, max_points=8, low=0, high=3))
    reference = np.full(n_objectives, -1.0)
    repeated = np.repeat(points, copies, axis=0)
    assert hypervolume(repeated, reference) == hypervolume(points, reference)
    assert hypervolume(repeated, reference) == hypervolume_cell_count(points, reference)


def test_a_fruit_tree_like_front_of_many_copies_in_six_objectives() -> None:
    # A front of thousands of rows that are a few distinct leaves (as a PD-MORL campaign
    # on fruit-tree records): the value is that of the distinct leaves.
    rng = np.random.default_rng(0)
    leaves = rng.uniform(0.0, 10.0, size=(60, 6))
    rows = leaves[rng.integers(0, 60, size=6000)]
    distinct = np.unique(rows, axis=0)
    assert hypervolume(rows, np.zeros(6)) == hypervolume(distinct, np.zeros(6)) > 0


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n_objectives=st.integers(1, 4))
def test_points_counted_are_those_strictly_dominating_the_reference(data, n_objectives) -> None:
    points = data.draw(grid_points(n_objectives, max_points=12))
    reference = np.full(n_objectives, 1.0)  # on the grid: ties with it are common
    expected = sum(all(p[i] > reference[i] for i in range(n_objectives)) for p in points)
    assert n_dominating_reference(points, reference) == expected


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n_objectives=st.integers(1, 4))
def test_points_outside_the_reference_box_add_nothing(data, n_objectives) -> None:
    points = data.draw(real_points(n_objectives, max_points=10))
    reference = np.zeros(n_objectives)
    outside = data.draw(real_points(n_objectives, min_points=1, max_points=5))
    column = data.draw(st.integers(0, n_objectives - 1))
    outside[:, column] = -np.abs(outside[:, column])  # <= reference in that objective
    assert hypervolume(np.vstack([points, outside]), reference) == pytest.approx(
        hypervolume(points, reference), rel=1e-12, abs=1e-12
    )


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n_objectives=st.integers(1, 4))
def test_contributions_are_leave_one_out_differences(data, n_objectives) -> None:
    # Small integer grid: duplicates, ties and dominated points are common.
    points = data.draw(grid_points(n_objectives=n_objectives, max_points=12, low=-1, high=3))
    reference = np.full(n_objectives, -1.0)
    total = hypervolume_cell_count(points, reference)
    expected = [
        total - hypervolume_cell_count(np.delete(points, i, axis=0), reference)
        for i in range(len(points))
    ]
    contributions = hv_contributions(points, reference)
    assert contributions.shape == (len(points),)
    np.testing.assert_allclose(contributions, expected, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n_objectives=st.integers(2, 3))
def test_contributions_of_a_real_front(data, n_objectives) -> None:
    points = data.draw(real_points(n_objectives, max_points=8))
    reference = np.full(n_objectives, -10.5)
    total = hypervolume_inclusion_exclusion(points, reference)
    expected = [
        total - hypervolume_inclusion_exclusion(np.delete(points, i, axis=0), reference)
        for i in range(len(points))
    ]
    np.testing.assert_allclose(hv_contributions(points, reference), expected, rtol=1e-7, atol=1e-7)


def test_reference_point_length_is_checked() -> None:
    with pytest.raises(ValueError, match=r"reference_point must have shape \(2,\)"):
        hypervolume([[1.0, 2.0]], [0.0, 0.0, 0.0])
