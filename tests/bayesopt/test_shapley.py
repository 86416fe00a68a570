"""Shapley effects inside parameter constraints (``bayesopt.shapley``), on functions whose
effects are known exactly: on the triangle ``x1 + x2 <= 1``, where the two parameters
depend on each other, and on parameters left independent, where the effects of an
additive function are its first-order Sobol indices."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bayesopt import parameter_constraints, space
from bayesopt.external import ExternalConfig, ExternalDefinition
from bayesopt.shapley import conditional_draws, constrained_draws, shapley_effects
from jobs.protocol import ProblemInfo


def _problem(parameters: list[dict], constraints: list[str]) -> ProblemInfo:
    return ExternalDefinition().info(ExternalConfig.model_validate({
        "parameters": parameters, "objectives": [{"name": "f"}],
        "parameter_constraints": constraints}))


UNIT = [{"name": f"x{i}", "low": 0, "high": 1} for i in range(3)]
TRIANGLE = _problem(UNIT[:2], ["x0 + x1 <= 1"])


def _close(effects: np.ndarray, errors: np.ndarray, expected: list[float]) -> bool:
    return bool(np.all(np.abs(effects - expected) < 4 * errors + 1e-3))


@pytest.mark.parametrize(("coefficients", "expected"), [
    # x0 alone: Var(E[x0 | x1]) = Var(x1) / 4 = 1/72 of Var(x0) = 1/18, so x1 gets
    # (1/72) / 2 / (1/18) = 1/8 and x0 the other 7/8
    ((1.0, 0.0), [7 / 8, 1 / 8]),
    # x0 + 2 x1: E[f | x0] = 1 whatever x0 is, and x0's effect is 1/8 of Var(f) = 1/6
    ((1.0, 2.0), [1 / 8, 7 / 8]),
    ((1.0, 1.0), [1 / 2, 1 / 2]),
])
def test_on_the_triangle_the_effects_are_the_exact_ones(coefficients, expected):
    result = shapley_effects(TRIANGLE, lambda x: x @ np.array(coefficients)[:, None])
    [effects], [errors] = result.effects, result.standard_errors
    assert _close(effects, errors, expected), (effects, errors)
    assert errors.max() < 0.01
    assert effects.sum() == pytest.approx(1)  # the orders' contributions telescope
    variance = {(1.0, 0.0): 1 / 18, (1.0, 2.0): 1 / 6, (1.0, 1.0): 1 / 18}[coefficients]
    assert result.variance[0] == pytest.approx(variance, rel=0.05)


def test_independent_parameters_of_an_additive_function_get_their_first_order_shares():
    # x2 is in no constraint; f = x2 + 3 (x0 + x1) makes x0 and x1 share the triangle's
    # variance of their sum, 9/18, and x2 its own, 1/12
    problem = _problem(UNIT, ["x0 + x1 <= 1"])
    result = shapley_effects(problem, lambda x: (x[:, 2] + 3 * (x[:, 0] + x[:, 1]))[:, None])
    [effects], [errors] = result.effects, result.standard_errors
    share = (1 / 12) / (1 / 12 + 9 / 18)
    assert _close(effects, errors, [(1 - share) / 2, (1 - share) / 2, share]), (effects, errors)


def test_a_parameter_the_outcome_ignores_gets_no_effect_even_when_constrained():
    # x1 constrains x0, but f depends on x0 only through the triangle's dependence:
    # f = x0 gives x1 a share (1/8); f = x2, in no constraint, gives both none
    problem = _problem(UNIT, ["x0 + x1 <= 1"])
    result = shapley_effects(problem, lambda x: np.stack([x[:, 0], x[:, 2]], axis=1))
    assert _close(result.effects[0], result.standard_errors[0], [7 / 8, 1 / 8, 0])
    assert _close(result.effects[1], result.standard_errors[1], [0, 0, 1])


def test_one_parameter_takes_all_the_variance():
    problem = _problem(UNIT[:1], ["x0 <= 0.5"])
    result = shapley_effects(problem, lambda x: x ** 2)
    assert result.effects.tolist() == [[1.0]]
    assert result.variance[0] == pytest.approx(np.var(np.linspace(0, 0.5, 10001) ** 2), rel=0.05)


def test_draws_keep_the_constraints_and_the_values_held():
    problem = _problem([{"name": "a", "low": 0, "high": 10, "value_type": "int"},
                        {"name": "b", "low": 0, "high": 10, "value_type": "int"},
                        {"name": "x", "low": 0, "high": 1}], ["a + b <= 5", "b - 4*x <= 1"])
    rng = np.random.default_rng(0)
    points = constrained_draws(problem, 500, rng)
    assert points.shape == (500, 3)
    inside = parameter_constraints.satisfied(
        problem.parameters, problem.parameter_constraints, space.from_unit(problem.parameters, points))
    assert inside.all()
    free = rng.random((500, 3)) < 0.5
    draws = conditional_draws(problem, points, free, 3, rng)
    values = space.from_unit(problem.parameters, draws.reshape(-1, 3))
    assert parameter_constraints.satisfied(
        problem.parameters, problem.parameter_constraints, values).all()
    held = np.repeat(points[:, None, :], 3, axis=1)
    assert np.array_equal(draws[~np.broadcast_to(free[:, None, :], draws.shape)],
                          held[~np.broadcast_to(free[:, None, :], draws.shape)])
    assert (draws != held).any()


def test_a_conditional_too_thin_to_draw_keeps_the_point_own_values():
    # x0 = 1 - 1e-9 leaves x1 a sliver [0, 1e-9] that no proposal finds
    point = np.array([[1 - 1e-9, 5e-10]])
    draws = conditional_draws(TRIANGLE, point, np.array([[False, True]]), 3,
                              np.random.default_rng(0))
    assert np.array_equal(draws, np.repeat(point[:, None, :], 3, axis=1))


def test_constraints_that_leave_nothing_are_refused_not_drawn_for_ever():
    problem = _problem(UNIT[:2], ["x0 + x1 <= 1"])
    # each possible alone, the two together exclude every point (a spec refuses them)
    unreachable = replace(problem, parameter_constraints=tuple(
        parameter_constraints.parse(text, problem.parameters)
        for text in ("x0 + x1 >= 1.5", "x0 + x1 <= 0.5")))
    with pytest.raises(ValueError, match="satisfies the parameter constraints"):
        constrained_draws(unreachable, 10, np.random.default_rng(0))
