"""Tests of pareto.reference: the nadir-minus-10% rule, precedence and validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pareto.reference import (
    check_reference_point,
    default_reference_point,
    resolve_reference_point,
)
from tests.pareto.pareto_brute_force import brute_non_dominated_mask, grid_points, real_points


@settings(max_examples=200, deadline=None)
@given(points=grid_points(n_objectives=(1, 4), min_points=1, max_points=20))
def test_default_reference_point_follows_the_rule(points) -> None:
    front = points[brute_non_dominated_mask(points)]
    reference = default_reference_point(points)
    for i in range(points.shape[1]):
        nadir, ideal = min(front[:, i]), max(front[:, i])
        margin = 0.1 * (ideal - nadir) if ideal > nadir else 0.1 * max(abs(nadir), 1.0)
        assert reference[i] == pytest.approx(nadir - margin, rel=1e-12, abs=1e-12)
    assert np.all(front > reference)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), m=st.integers(1, 4))
def test_every_front_point_strictly_dominates_the_default(data, m) -> None:
    points = data.draw(real_points(m, min_points=1))
    front = points[brute_non_dominated_mask(points)]
    assert np.all(front > default_reference_point(front))


def test_default_reference_point_cases() -> None:
    np.testing.assert_allclose(default_reference_point([[0.0, 10.0], [10.0, 0.0]]), [-1.0, -1.0])
    # Zero range: subtract 10% of |nadir|, at least 0.1.
    np.testing.assert_allclose(default_reference_point([[5.0, -20.0]]), [4.5, -22.0])
    np.testing.assert_allclose(default_reference_point([[0.0, 0.3]]), [-0.1, 0.2])
    # A dominated point does not move the nadir.
    np.testing.assert_allclose(
        default_reference_point([[0.0, 10.0], [10.0, 0.0], [-5.0, -5.0]]), [-1.0, -1.0]
    )
    with pytest.raises(ValueError, match="empty front"):
        default_reference_point(np.empty((0, 2)))


def test_resolve_reference_point_precedence() -> None:
    front = np.array([[0.0, 10.0], [10.0, 0.0]])
    point, source = resolve_reference_point([1, 2], [3, 4], front)
    assert source == "user"
    np.testing.assert_array_equal(point, [1.0, 2.0])
    assert point.dtype == np.float64
    point, source = resolve_reference_point(None, (3, 4), front)
    assert source == "published"
    np.testing.assert_array_equal(point, [3.0, 4.0])
    point, source = resolve_reference_point(None, None, front)
    assert source == "nadir"
    np.testing.assert_allclose(point, [-1.0, -1.0])
    point, source = resolve_reference_point([0, -25], None, np.empty((0, 2)))
    assert source == "user"
    with pytest.raises(ValueError, match="empty front"):
        resolve_reference_point(None, None, np.empty((0, 2)))
    with pytest.raises(ValueError, match="reference_point has 3 values"):
        resolve_reference_point(None, [1, 2, 3], front)


def test_check_reference_point_messages() -> None:
    np.testing.assert_array_equal(check_reference_point([0, -25], 2), [0.0, -25.0])
    with pytest.raises(
        ValueError, match="reference_point has 3 values; the campaign has 2 objectives"
    ):
        check_reference_point([1.0, 2.0, 3.0], 2)
    with pytest.raises(ValueError, match=r"reference_point\[1\] is nan"):
        check_reference_point([1.0, float("nan")], 2)
    with pytest.raises(ValueError, match=r"reference_point\[0\] is -inf"):
        check_reference_point([float("-inf"), 1.0], 2)
    with pytest.raises(ValueError, match="flat list of 2 numbers"):
        check_reference_point([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="list of numbers"):
        check_reference_point(["a", 1.0], 2)
