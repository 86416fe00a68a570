"""Leave-one-out cross-validation of the BO methods' GPs (bayesopt.diagnostics)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bayesopt.diagnostics import fit_outcomes, leave_one_out, model_fit, statistics
from jobs.protocol import Objective, Observations, Parameter, ProblemInfo

PROBLEM = ProblemInfo(kind="external", id="probe",
                      objectives=(Objective("f", "maximize"), Objective("g", "minimize")),
                      parameters=(Parameter("a", 0.0, 10.0), Parameter("b", 0.0, 10.0)),
                      constraints=1, constraint_names=("memory",))


def _observed(n: int = 25, seed: int = 0, **fields: object) -> Observations:
    x = np.random.default_rng(seed).uniform(0, 10, (n, 2))
    noise = np.random.default_rng(seed + 1).normal(0, 0.05, n)
    objectives = np.column_stack([np.sin(x[:, 0]) + 0.1 * x[:, 1] + noise, x[:, 1] ** 2])
    return Observations(x=x, objectives=objectives, constraints=x[:, :1] / 10, **fields)


@pytest.mark.parametrize("sem", [None, 0.05])
def test_the_closed_form_is_the_prediction_from_the_other_points(sem):
    observed = _observed(sem=None if sem is None else np.full((25, 2), sem))
    gp = fit_outcomes(PROBLEM, observed).model.models[0]
    mean, sd = leave_one_out(gp)
    # every point predicted from the 24 others by the GP's formulas, one solve each
    with torch.no_grad():
        inputs, targets = gp.train_inputs[0], gp.train_targets.numpy()
        kernel = gp.covar_module(inputs).to_dense().numpy()
        noise = gp.likelihood.noise.expand(25).numpy()
        prior = gp.mean_module(inputs).numpy()
    scale, shift = gp.outcome_transform.stdvs.item(), gp.outcome_transform.means.item()
    for i in range(25):
        rest = [j for j in range(25) if j != i]
        weights = np.linalg.solve(kernel[np.ix_(rest, rest)] + np.diag(noise[rest]),
                                  kernel[rest, i])
        assert mean[i] == pytest.approx(
            (prior[i] + weights @ (targets[rest] - prior[rest])) * scale + shift, abs=1e-9)
        assert sd[i] == pytest.approx(
            np.sqrt(kernel[i, i] + noise[i] - weights @ kernel[rest, i]) * scale, abs=1e-9)


def test_a_smooth_function_is_predicted_and_noise_is_not():
    fits = model_fit(PROBLEM, _observed(40))
    assert [(f.name, f.kind) for f in fits] == [
        ("f", "objective"), ("g", "objective"), ("memory", "constraint")]
    for fit in fits:
        assert fit.loo.r2 > 0.9 and fit.loo.rank_correlation > 0.9
        assert len(fit.loo.predicted) == len(fit.loo.sd) == len(fit.observed) == 40
    x = np.random.default_rng(5).uniform(0, 10, (40, 2))
    pure_noise = np.random.default_rng(6).normal(0, 1, (40, 2))
    [noise, _, _] = model_fit(PROBLEM, Observations(x=x, objectives=pure_noise,
                                                    constraints=pure_noise[:, :1]))
    assert noise.loo.r2 < 0.2


def test_told_noise_gives_intervals_that_hold_about_as_often_as_they_say():
    x = np.random.default_rng(2).uniform(0, 10, (60, 2))
    noisy = 0.3 * x[:, :1] + np.random.default_rng(3).normal(0, 0.5, (60, 1))
    [fit] = model_fit(
        ProblemInfo(kind="external", id="probe", objectives=(Objective("f", "maximize"),),
                    parameters=PROBLEM.parameters),
        Observations(x=x, objectives=noisy, sem=np.full((60, 1), 0.5)))
    assert 0.85 <= fit.loo.coverage <= 1.0


def test_statistics_that_are_undefined_are_none():
    two = statistics(np.array([1.0, 2.0]), np.array([1.1, 1.9]), np.array([0.1, 0.1]))
    assert (two.r2, two.rank_correlation, two.coverage) == (None, None, 1.0)
    flat = statistics(np.full(4, 3.0), np.full(4, 3.0), np.full(4, 0.1))
    assert (flat.r2, flat.rank_correlation) == (None, None)
    exact = statistics(np.arange(5.0), np.arange(5.0), np.full(5, 0.01))
    assert (exact.r2, exact.rank_correlation, exact.coverage) == pytest.approx((1.0, 1.0, 1.0))


def test_a_constraint_on_a_sum_is_the_sum_of_its_values_gps():
    """``heat + 2*wear <= 30``, told heat and wear: the constraint's outcome in the model
    views is ``heat``'s GP plus twice ``wear``'s (as the BO methods model it), the same
    GPs a problem constraining each value alone fits, its sd theirs combined."""
    from bayesopt.diagnostics import model_slice
    from bayesopt.external import ExternalConfig, ExternalDefinition

    def problem(constraints):
        return ExternalDefinition().info(ExternalConfig.model_validate({
            "parameters": [{"name": "a", "low": 0, "high": 10}, {"name": "b", "low": 0, "high": 10}],
            "objectives": [{"name": "f"}], "constraints": constraints}))

    summed, apart = problem(["heat + 2*wear <= 30"]), problem(["heat <= 30", "wear <= 30"])
    x = np.random.default_rng(3).uniform(0, 10, (20, 2))
    heat, wear = np.sin(x[:, 0]) * 5 + x[:, 1], x[:, 0] + 0.1 * x[:, 1] ** 2
    f = (x[:, 0] - 4) ** 2
    metric_sem = np.column_stack([np.full(20, 0.2), np.full(20, np.nan)])
    told_sum = Observations(x=x, objectives=f[:, None], constraints=(30 - heat - 2 * wear)[:, None],
                            metrics=np.column_stack([heat, wear]), metric_sem=metric_sem)
    told_apart = Observations(x=x, objectives=f[:, None],
                              constraints=np.column_stack([30 - heat, 30 - wear]),
                              constraint_sem=metric_sem)
    fits, parts = model_fit(summed, told_sum), model_fit(apart, told_apart)
    assert [o.name for o in fits] == ["f", "heat + 2*wear"]
    np.testing.assert_allclose(fits[1].observed, heat + 2 * wear)
    # (30 - (30 - heat) is heat to the last digits only: the fits agree to 1e-5)
    np.testing.assert_allclose(fits[1].loo.predicted, np.add(
        parts[1].loo.predicted, 2 * np.array(parts[2].loo.predicted)), rtol=1e-5)
    np.testing.assert_allclose(fits[1].loo.sd, np.hypot(
        parts[1].loo.sd, 2 * np.array(parts[2].loo.sd)), rtol=1e-5)
    _, sliced = model_slice(summed, told_sum, 0, np.array([5.0, 5.0]), n_points=7)
    _, sliced_apart = model_slice(apart, told_apart, 0, np.array([5.0, 5.0]), n_points=7)
    np.testing.assert_allclose(sliced[1].mean, np.add(
        sliced_apart[1].mean, 2 * np.array(sliced_apart[2].mean)), rtol=1e-5)
