"""Attainment surfaces against their definition: a point is attained at level k when at
least k runs have a front point weakly dominating it; the surface's corners are exactly
the points of that region nothing else in it dominates."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pareto.attainment import attainment_surfaces
from tests.pareto.pareto_brute_force import grid_points


def attained_by(runs: list[np.ndarray], point: np.ndarray) -> int:
    return sum(bool(len(run)) and bool(np.any(np.all(run >= point, axis=1))) for run in runs)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), m=st.integers(2, 3), n_runs=st.integers(1, 5),
       percentile=st.sampled_from([1, 20, 25, 50, 60, 75, 99, 100]))
def test_surface_corners_bound_the_region_attained_by_enough_runs(data, m, n_runs, percentile):
    runs = [data.draw(grid_points(m, max_points=5)) for _ in range(n_runs)]
    [surface] = attainment_surfaces(runs, [percentile])
    needed = math.ceil(percentile * n_runs / 100)
    grid = np.array(list(itertools.product(range(-1, 6), repeat=m)), dtype=float)
    for point in grid:  # every point of the grid around the data (grid_points: 0..4)
        reached = attained_by(runs, point) >= needed
        under_a_corner = bool(len(surface)) and bool(np.any(np.all(surface >= point, axis=1)))
        assert reached == under_a_corner, (point, surface)
    for corner in surface:  # and each corner is a maximal attained point
        assert attained_by(runs, corner) >= needed
        for i in range(m):
            assert attained_by(runs, corner + 0.5 * np.eye(m)[i]) < needed


def test_a_run_with_an_empty_front_counts_among_the_runs():
    runs = [np.array([[1.0, 5.0], [3.0, 3.0]]), np.array([[2.0, 4.0]]), np.array([[4.0, 1.0]]),
            np.empty((0, 2))]
    best, median, every = attainment_surfaces(runs, [25, 50, 100])
    assert sorted(map(tuple, best)) == [(1, 5), (2, 4), (3, 3), (4, 1)]
    assert sorted(map(tuple, median)) == [(1, 4), (2, 3), (3, 1)]
    assert every.shape == (0, 2)


def test_refusals_name_what_is_wrong():
    with pytest.raises(ValueError, match="2 or 3 objectives; got 4"):
        attainment_surfaces([np.zeros((1, 4))], [50])
    with pytest.raises(ValueError, match=r"percentiles must be in \(0, 100\]; got 0"):
        attainment_surfaces([np.zeros((1, 2))], [0])
    with pytest.raises(ValueError, match="at least one run"):
        attainment_surfaces([], [50])
    with pytest.raises(ValueError, match="same number of objectives"):
        attainment_surfaces([np.zeros((1, 2)), np.zeros((1, 3))], [50])
