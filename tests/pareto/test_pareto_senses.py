"""Tests of pareto.senses: sign conversion round trip and objective validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pareto.senses import from_maximization, to_maximization, validate_objectives
from tests.pareto.pareto_brute_force import real_points

senses_strategy = st.lists(st.sampled_from(["minimize", "maximize"]), min_size=1, max_size=5)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), senses=senses_strategy)
def test_to_maximization_negates_exactly_the_minimised_columns(data, senses) -> None:
    points = data.draw(real_points(len(senses)))
    converted = to_maximization(points, senses)
    assert converted.dtype == np.float64
    for row in range(len(points)):
        for column, sense in enumerate(senses):
            expected = -points[row, column] if sense == "minimize" else points[row, column]
            assert converted[row, column] == expected
    np.testing.assert_array_equal(from_maximization(converted, senses), points)


@settings(max_examples=50, deadline=None)
@given(data=st.data(), senses=senses_strategy)
def test_single_point_round_trip(data, senses) -> None:
    point = data.draw(real_points(len(senses), min_points=1, max_points=1))[0]
    converted = to_maximization(point, senses)
    assert converted.shape == point.shape
    np.testing.assert_array_equal(from_maximization(converted, senses), point)


def test_conversion_returns_a_float64_copy() -> None:
    values = np.array([[1.0, 2.0]])
    converted = to_maximization(values, ["maximize", "maximize"])
    converted[0, 0] = 99.0
    assert values[0, 0] == 1.0
    assert to_maximization([[1, 2]], ["minimize", "maximize"]).dtype == np.float64
    np.testing.assert_array_equal(to_maximization([[1, 2]], ["minimize", "maximize"]), [[-1, 2]])


def test_bad_senses_are_rejected() -> None:
    with pytest.raises(ValueError, match="allowed: minimize, maximize"):
        to_maximization([1.0, 2.0], ["maximize", "max"])
    with pytest.raises(ValueError, match="2 senses for 3 objectives"):
        to_maximization([1.0, 2.0, 3.0], ["maximize", "minimize"])


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n_objectives=st.integers(1, 4),
    bad_value=st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_validate_objectives_names_the_first_non_finite_cell(data, n_objectives, bad_value) -> None:
    points = data.draw(real_points(n_objectives, min_points=1))
    np.testing.assert_array_equal(validate_objectives(points, n_objectives), points)
    row = data.draw(st.integers(0, len(points) - 1))
    column = data.draw(st.integers(0, n_objectives - 1))
    points[row, column] = bad_value
    with pytest.raises(ValueError, match=f"row {row}, column {column} is"):
        validate_objectives(points, n_objectives)


def test_validate_objectives_rejects_wrong_shapes() -> None:
    assert validate_objectives([[1, 2]], 2).dtype == np.float64
    assert validate_objectives(np.empty((0, 2)), 2).shape == (0, 2)
    with pytest.raises(ValueError, match=r"shape \(n, 2\).*got shape \(3,\)"):
        validate_objectives([1.0, 2.0, 3.0], 2)
    with pytest.raises(ValueError, match=r"shape \(n, 2\).*got shape \(1, 3\)"):
        validate_objectives([[1.0, 2.0, 3.0]], 2)
    with pytest.raises(ValueError, match="rectangular array of numbers"):
        validate_objectives([[1.0, 2.0], [3.0]], 2)
    with pytest.raises(ValueError, match="rectangular array of numbers"):
        validate_objectives([["a", 2.0]], 2)
    with pytest.raises(ValueError, match="row 0, column 1 is nan"):
        validate_objectives([[1.0, None]], 2)
