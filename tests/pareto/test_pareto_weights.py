"""Tests of pareto.weights against enumerating the integer lattice directly."""

from __future__ import annotations

from itertools import product
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pareto.weights import equally_spaced_weights, simplex_grid


@settings(max_examples=60, deadline=None)
@given(n_objectives=st.integers(1, 4), n_divisions=st.integers(1, 8))
def test_simplex_grid_is_the_whole_lattice(n_objectives, n_divisions) -> None:
    expected = sorted(
        numerators
        for numerators in product(range(n_divisions + 1), repeat=n_objectives)
        if sum(numerators) == n_divisions
    )
    grid = simplex_grid(n_objectives, n_divisions)
    assert grid.shape == (comb(n_divisions + n_objectives - 1, n_objectives - 1), n_objectives)
    assert grid.dtype == np.float64
    numerators = np.rint(grid * n_divisions).astype(int)
    np.testing.assert_allclose(grid, numerators / n_divisions, rtol=0, atol=1e-15)
    assert [tuple(row) for row in numerators] == expected  # also: lexicographic order
    np.testing.assert_allclose(grid.sum(axis=1), 1.0, atol=1e-12)


def test_simplex_grid_known_sizes() -> None:
    assert simplex_grid(2, 100).shape == (101, 2)
    np.testing.assert_array_equal(simplex_grid(2, 2), [[0, 1], [0.5, 0.5], [1, 0]])
    assert simplex_grid(3, 12).shape == (91, 3)
    with pytest.raises(ValueError, match="n_divisions must be >= 1"):
        simplex_grid(2, 0)
    with pytest.raises(ValueError, match="n_objectives must be >= 1"):
        simplex_grid(0, 3)


@settings(max_examples=60, deadline=None)
@given(n_objectives=st.integers(2, 4), n_points=st.integers(1, 200))
def test_equally_spaced_weights_is_the_smallest_grid_big_enough(n_objectives, n_points) -> None:
    n_divisions = 1
    while len(simplex_grid(n_objectives, n_divisions)) < n_points:
        n_divisions += 1
    weights = equally_spaced_weights(n_objectives, n_points)
    np.testing.assert_array_equal(weights, simplex_grid(n_objectives, n_divisions))
    assert len(weights) >= n_points


def test_equally_spaced_weights_edge_cases() -> None:
    assert equally_spaced_weights(2, 101).shape == (101, 2)
    assert equally_spaced_weights(2, 1).shape == (2, 2)  # the smallest grid has H = 1
    np.testing.assert_array_equal(equally_spaced_weights(1, 50), [[1.0]])
    with pytest.raises(ValueError, match="n_points must be >= 1"):
        equally_spaced_weights(2, 0)
