"""Tests of pareto.dominance against O(n^2) pairwise dominance on integer grids."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pareto.dominance import dominates, non_dominated, non_dominated_mask, update_front
from tests.pareto.pareto_brute_force import brute_dominates, brute_non_dominated_mask, grid_points


@settings(max_examples=200, deadline=None)
@given(pair=grid_points(n_objectives=(1, 5), min_points=2, max_points=2, high=2))
def test_dominates_matches_definition(pair) -> None:
    assert dominates(pair[0], pair[1]) == brute_dominates(pair[0], pair[1])
    assert not (dominates(pair[0], pair[1]) and dominates(pair[1], pair[0]))


def test_dominates_known_cases() -> None:
    assert dominates([1, 1], [1, 0])
    assert not dominates([1, 1], [1, 1])
    assert not dominates([2, 0], [0, 2])
    with pytest.raises(ValueError, match="same length"):
        dominates([1, 2], [1, 2, 3])


@settings(max_examples=300, deadline=None)
@given(points=grid_points(n_objectives=(1, 5), max_points=40))
def test_non_dominated_mask_matches_pairwise_check(points) -> None:
    mask = non_dominated_mask(points)
    assert mask.dtype == bool and mask.shape == (len(points),)
    np.testing.assert_array_equal(mask, brute_non_dominated_mask(points))
    np.testing.assert_array_equal(non_dominated(points), points[mask])


def test_non_dominated_mask_keeps_duplicates_and_handles_empty() -> None:
    points = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0], [2.0, 1.0]])
    np.testing.assert_array_equal(non_dominated_mask(points), [True, True, False, True])
    assert non_dominated_mask(np.empty((0, 3))).shape == (0,)
    assert non_dominated(np.empty((0, 3))).shape == (0, 3)
    np.testing.assert_array_equal(non_dominated_mask([[3.0], [1.0], [3.0]]), [True, False, True])


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    n_objectives=st.integers(1, 5),
)
def test_update_front_matches_front_of_union(data, n_objectives) -> None:
    history = data.draw(grid_points(n_objectives=n_objectives, max_points=25))
    front = history[brute_non_dominated_mask(history)]
    new = data.draw(grid_points(n_objectives=n_objectives, max_points=15))
    keep, on_front = update_front(front, new)
    union_mask = brute_non_dominated_mask(np.vstack([front, new]))
    np.testing.assert_array_equal(keep, union_mask[: len(front)])
    np.testing.assert_array_equal(on_front, union_mask[len(front) :])


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    n_objectives=st.integers(1, 4),
    n_batches=st.integers(1, 6),
)
def test_incremental_updates_give_the_front_of_everything(data, n_objectives, n_batches) -> None:
    batches = [
        data.draw(grid_points(n_objectives=n_objectives, max_points=8)) for _ in range(n_batches)
    ]
    front = np.empty((0, n_objectives))
    for batch in batches:
        keep, on_front = update_front(front, batch)
        front = np.vstack([front[keep], batch[on_front]])
    everything = np.vstack(batches)
    expected = everything[brute_non_dominated_mask(everything)]
    assert sorted(map(tuple, front)) == sorted(map(tuple, expected))


def test_update_front_accepts_empty_inputs() -> None:
    keep, on_front = update_front([], [[1.0, 2.0], [2.0, 1.0], [0.0, 0.0]])
    assert keep.shape == (0,)
    np.testing.assert_array_equal(on_front, [True, True, False])
    keep, on_front = update_front([[1.0, 2.0]], np.empty((0, 2)))
    np.testing.assert_array_equal(keep, [True])
    assert on_front.shape == (0,)
    with pytest.raises(ValueError, match="front has 2 objectives but new has 3"):
        update_front([[1.0, 2.0]], [[1.0, 2.0, 3.0]])
