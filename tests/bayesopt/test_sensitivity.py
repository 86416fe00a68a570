"""Sobol indices of the fitted GP (bayesopt.sensitivity) against functions whose
indices are known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayesopt.sensitivity import parameter_importance
from jobs.protocol import Objective, Observations, Parameter, ProblemInfo


def _problem(*parameters: Parameter, objectives: tuple[str, ...] = ("f",),
             constraint_names: tuple[str, ...] = ()) -> ProblemInfo:
    return ProblemInfo(kind="external", id="probe",
                       objectives=tuple(Objective(name, "maximize") for name in objectives),
                       parameters=parameters, constraints=len(constraint_names),
                       constraint_names=constraint_names)


def _uniform(n: int, low: float, high: float, d: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, (n, d))


def test_a_linear_function_splits_its_variance_by_squared_slope_and_an_unused_input_gets_none():
    # g = 2 x0 + x1 on [0, 1]: Var = (4 + 1) / 12, so S = ST = (0.8, 0.2, 0)
    problem = _problem(*(Parameter(f"x{i}", 0.0, 1.0) for i in range(3)))
    x = _uniform(30, 0.0, 1.0, 3)
    [f] = parameter_importance(problem, Observations(x=x, objectives=2 * x[:, :1] + x[:, 1:2]))
    assert (f.name, f.kind) == ("f", "objective")
    assert f.first_order == pytest.approx([0.8, 0.2, 0.0], abs=0.02)
    assert f.total == pytest.approx([0.8, 0.2, 0.0], abs=0.02)
    assert f.variance == pytest.approx(5 / 12, rel=0.05)
    assert all(0 < se < 0.03 for se in f.first_order_se[:2] + f.total_se[:2])


def test_the_ishigami_function_recovers_its_analytic_indices():
    # Ishigami (a = 7, b = 0.1) on [-pi, pi]^3 (Sobol' & Levitan 1999): x2 matters only
    # through its interaction with x0
    problem = _problem(*(Parameter(f"x{i}", -math.pi, math.pi) for i in range(3)))
    x = _uniform(200, -math.pi, math.pi, 3)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    [f] = parameter_importance(problem, Observations(x=x, objectives=y[:, None]))
    assert f.first_order == pytest.approx([0.3139, 0.4424, 0.0], abs=0.04)
    assert f.total == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.04)


def test_a_pure_interaction_has_no_first_order_share_but_all_of_the_total():
    problem = _problem(*(Parameter(f"x{i}", 0.0, 1.0) for i in range(3)))
    x = _uniform(40, 0.0, 1.0, 3)
    y = (x[:, 0] - 0.5) * (x[:, 1] - 0.5)
    [f] = parameter_importance(problem, Observations(x=x, objectives=y[:, None]))
    assert f.first_order == pytest.approx([0.0, 0.0, 0.0], abs=0.03)
    assert f.total == pytest.approx([1.0, 1.0, 0.0], abs=0.03)


def test_choices_log_scales_and_integers_are_drawn_as_the_methods_search_them():
    # the optimiser moves g by 0, +3 or -3 (variance 6); log10(lr) is uniform on [-4, 0]
    # (variance 16/12) because lr is searched on a log scale; the layers do nothing
    optimiser = Parameter.choice("optimiser", ["sgd", "adam", "adamw"])
    problem = _problem(optimiser, Parameter("lr", 1e-4, 1.0, log_scale=True),
                       Parameter("layers", 1, 8, integer=True))
    rng = np.random.default_rng(2)
    x = np.column_stack([rng.integers(0, 3, 60), 10 ** rng.uniform(-4, 0, 60),
                         rng.integers(1, 9, 60)]).astype(float)
    y = np.array([0.0, 3.0, -3.0])[x[:, 0].astype(int)] + np.log10(x[:, 1])
    [f] = parameter_importance(problem, Observations(x=x, objectives=y[:, None]))
    share = 6 / (6 + 16 / 12)
    assert f.total == pytest.approx([share, 1 - share, 0.0], abs=0.03)
    assert f.first_order == pytest.approx([share, 1 - share, 0.0], abs=0.03)


def test_every_objective_and_constraint_gets_its_own_indices_and_a_flat_one_gets_none():
    problem = _problem(Parameter("a", 0.0, 1.0), Parameter("b", 0.0, 1.0),
                       objectives=("f", "g", "level"), constraint_names=("memory",))
    x = _uniform(25, 0.0, 1.0, 2)
    objectives = np.column_stack([x[:, 0], x[:, 1], np.full(25, 3.0)])
    outcomes = parameter_importance(problem, Observations(
        x=x, objectives=objectives, constraints=(4 * x[:, 1] - 1)[:, None]))
    assert [(o.name, o.kind) for o in outcomes] == [
        ("f", "objective"), ("g", "objective"), ("level", "objective"), ("memory", "constraint")]
    assert outcomes[0].total == pytest.approx([1.0, 0.0], abs=0.02)
    assert outcomes[1].total == pytest.approx([0.0, 1.0], abs=0.02)
    assert outcomes[3].total == pytest.approx([0.0, 1.0], abs=0.02)
    flat = outcomes[2]
    assert (flat.first_order, flat.total, flat.total_se) == (None, None, None)
    assert flat.variance == pytest.approx(0.0, abs=1e-12)


def test_the_same_observations_give_the_same_indices():
    problem = _problem(Parameter("a", 0.0, 1.0), Parameter("b", 0.0, 1.0))
    x = _uniform(15, 0.0, 1.0, 2)
    observed = Observations(x=x, objectives=np.sin(3 * x[:, :1]) + x[:, 1:2] ** 2)
    assert parameter_importance(problem, observed) == parameter_importance(problem, observed)


def test_told_standard_errors_are_the_noise_the_model_is_fitted_with():
    # y = a + N(0, 1): told the noise, the GP's mean keeps close to a, whose variance over
    # the box is 1/12; told the measurements are exact, it runs through the noise
    problem = _problem(Parameter("a", 0.0, 1.0), Parameter("b", 0.0, 1.0))
    x = _uniform(30, 0.0, 1.0, 2)
    y = x[:, :1] + np.random.default_rng(3).normal(0.0, 1.0, (30, 1))
    [known] = parameter_importance(problem, Observations(x=x, objectives=y, sem=np.ones((30, 1))))
    [exact] = parameter_importance(problem, Observations(x=x, objectives=y,
                                                         sem=np.full((30, 1), 1e-4)))
    assert known.variance == pytest.approx(1 / 12, rel=0.3)
    assert exact.variance > 2 * known.variance
    assert known.total[0] > known.total[1]


@pytest.mark.parametrize(("problem", "observed", "message"), [
    (_problem(), Observations(x=np.empty((3, 0)), objectives=np.ones((3, 1))),
     "no decision parameters"),
    (_problem(Parameter("a", 0.0, 1.0)), Observations(x=[[0.5]], objectives=[[1.0]]),
     "at least 2 measured points, got 1"),
])
def test_what_cannot_be_measured_is_refused(problem, observed, message):
    with pytest.raises(ValueError, match=message):
        parameter_importance(problem, observed)
