"""Which parameters matter: Sobol indices of the BO methods' surrogate.

For each outcome (an objective, or a constraint's measured value) a GP is fitted to the
campaign's measurements exactly as the BO methods fit it (:func:`bayesopt.models.fit_model`,
with the told standard errors where there are any), and its posterior mean ``g`` is
decomposed by variance over the parameters' box, each parameter drawn independently and
uniformly in the coordinates the methods search in (:mod:`bayesopt.space`: ``log(x)`` on a
log scale; each whole number of an integer and each value of a choice equally likely):

- the **first-order index** ``S_i = Var(E[g | x_i]) / Var(g)``: the share of the variance
  that ``x_i`` explains on its own;
- the **total index** ``ST_i = E[Var(g | x_~i)] / Var(g)``: the share it takes part in,
  its interactions with the others included. ``ST_i`` near 0 means the outcome does not
  depend on ``x_i`` anywhere in the box; ``ST_i - S_i`` is what it does only together
  with others, and ``1 - sum_i S_i`` is the share of all interactions.

Both are estimated from ``N`` rows of two quasi-random matrices ``A`` and ``B`` (the two
halves of one scrambled Sobol design of ``2d`` columns) and the ``d`` matrices ``A_B^i``
(``A`` with column ``i`` from ``B``): Saltelli et al. (2010)'s
``S_i = mean(g(B) (g(A_B^i) - g(A))) / V`` and Jansen (1999)'s
``ST_i = mean((g(A) - g(A_B^i))^2) / (2V)``, ``V`` the variance of ``g`` over ``A`` and
``B`` (in the first-order estimator ``g(B)`` is centred on its mean, which leaves the
expectation as it is and takes away the variance an offset of ``g`` adds). This is Ax's
``SobolSensitivityGPMean`` (the indices of the posterior mean, not averaged over
posterior samples). Each index comes with the standard error of its estimate from a
bootstrap over the ``N`` rows: it treats the rows as independent, so for this
quasi-random design it overstates the sampling error (on ``2 x0 + x1``, 0.016 against an
actual error of 0.001). It says how much of an index is sampling, not how sure the GP
is: with few measurements the GP, and so its indices, can be wrong in ways no sampling
reveals. So each outcome also gets ``fit_r2``, its GP's leave-one-out R^2
(:mod:`bayesopt.diagnostics`): near 1, the GP predicts measurements it was not shown,
and its indices can be trusted; far below, they describe the GP more than the outcome.

Sobol indices need independent inputs, so they are measured on the whole box: a
problem's parameter constraints are not applied. Where it has some, each outcome also
gets the Shapley effects of ``g`` over the region they leave (:mod:`bayesopt.shapley`),
where the parameters depend on each other. Optuna's importances (fANOVA on a
random forest) are first-order shares normalised to sum to 1; ``S_i / sum_j S_j``
compares with them.

References:
    A. Saltelli et al. Variance based sensitivity analysis of model output. Design and
    estimator for the total sensitivity index. Computer Physics Communications 181, 2010.
    M. J. W. Jansen. Analysis of variance designs for model output. Computer Physics
    Communications 117, 1999.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import gpytorch
import numpy as np
import torch
from torch.quasirandom import SobolEngine

from bayesopt import diagnostics, shapley, space
from jobs.protocol import Observations, ProblemInfo

BASE_SAMPLES = 4096  # N, at most: rows of A and B; (d + 2) N posterior means per outcome
POINTS_PER_OUTCOME = 65536  # N is halved (a power of 2, 512 at least) to keep (d + 2) N under this
BOOTSTRAP_RESAMPLES = 200
_CHUNK = 512  # points per posterior call: gpytorch builds their chunk x chunk covariance too


@dataclass(frozen=True)
class OutcomeIndices:
    """One outcome's Sobol indices, one per parameter (None where the fitted mean is flat
    over the box, so no share of a variance of 0 is defined)."""

    name: str
    kind: str  # "objective" | "constraint"
    variance: float  # Var(g) over the box, in the outcome's units squared
    first_order: list[float] | None
    total: list[float] | None
    first_order_se: list[float] | None
    total_se: list[float] | None
    fit_r2: float | None  # the GP's leave-one-out R^2 (bayesopt.diagnostics): trust it near 1
    # under parameter constraints (bayesopt.shapley): Var(g) over the region they leave, and
    # each parameter's Shapley effect there, a share of that variance (None where it is 0)
    constrained_variance: float | None = None
    shapley: list[float] | None = None
    shapley_se: list[float] | None = None


def parameter_importance(problem: ProblemInfo, observations: Observations,
                         n_samples: int | None = None, device: str = "cpu"
                         ) -> list[OutcomeIndices]:
    """The Sobol indices of every objective, then every constraint's measured value,
    over ``problem.parameters`` (see the module docstring), from ``n_samples`` rows
    (default: :func:`base_samples`), and under parameter constraints their Shapley
    effects inside them (:func:`bayesopt.shapley.shapley_effects`). Deterministic: the
    GP fit, the design and the draws are seeded with 0."""
    d = len(problem.parameters)
    fitted = diagnostics.fit_outcomes(problem, observations, device)
    tkwargs: dict[str, Any] = {"dtype": torch.float64, "device": torch.device(device)}
    a, b = _design(problem, n_samples or base_samples(d))
    rows = np.concatenate([a, b, *(_swapped(a, b, i) for i in range(d))])
    means = _posterior_means(fitted.model, space.encode(problem.parameters, rows),
                             tkwargs) @ fitted.weights.T
    loo_means, loo_sds = fitted.leave_one_out()
    n = len(a)
    g_a, g_b = means[:n], means[n : 2 * n]
    g_ab = means[2 * n :].reshape(d, n, -1)
    rng = np.random.default_rng(0)
    resamples = rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))
    outcomes = [
        _indices(name, kind, g_a[:, j], g_b[:, j], g_ab[:, :, j], resamples,
                 diagnostics.statistics(fitted.values[:, j], loo_means[:, j],
                                        loo_sds[:, j]).r2)
        for j, (name, kind) in enumerate(zip(fitted.names, fitted.kinds, strict=True))
    ]
    if not problem.parameter_constraints:
        return outcomes
    effects = shapley.shapley_effects(problem, lambda x: _posterior_means(
        fitted.model, space.encode(problem.parameters, x), tkwargs) @ fitted.weights.T)
    return [_with_shapley(outcome, effects, j) for j, outcome in enumerate(outcomes)]


def base_samples(d: int) -> int:
    """``N`` for ``d`` parameters: :data:`BASE_SAMPLES`, halved until ``(d + 2) N`` is
    at most :data:`POINTS_PER_OUTCOME` (512 at least), so 100 parameters cost about as
    much as 14."""
    n = BASE_SAMPLES
    while n > 512 and (d + 2) * n > POINTS_PER_OUTCOME:
        n //= 2
    return n


def _design(problem: ProblemInfo, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """``A`` and ``B``, ``N x d`` each in the problem's units: the two halves of one
    scrambled Sobol design in the unit cube, mapped onto the box."""
    d = len(problem.parameters)
    unit = SobolEngine(2 * d, scramble=True, seed=0).draw(n_samples, dtype=torch.float64).numpy()
    return (space.from_unit(problem.parameters, unit[:, :d]),
            space.from_unit(problem.parameters, unit[:, d:]))


def _swapped(a: np.ndarray, b: np.ndarray, i: int) -> np.ndarray:
    """``A_B^i``: ``A`` with column ``i`` taken from ``B``."""
    mixed = a.copy()
    mixed[:, i] = b[:, i]
    return mixed


def _posterior_means(model: Any, z: np.ndarray, tkwargs: dict[str, Any]) -> np.ndarray:
    """``len(z) x o``: every outcome's posterior mean at the search-coordinate points ``z``,
    one GP at a time without their variances (a ``ModelListGP`` posterior would build
    each chunk's joint covariance: four times slower at 500 observations)."""
    parts = []
    with torch.no_grad(), gpytorch.settings.skip_posterior_variances(True):
        for start in range(0, len(z), _CHUNK):
            chunk = torch.tensor(z[start : start + _CHUNK], **tkwargs)
            parts.append(torch.cat([gp.posterior(chunk).mean for gp in model.models], dim=-1)
                         .cpu().numpy())
    return np.concatenate(parts)


def _indices(name: str, kind: str, g_a: np.ndarray, g_b: np.ndarray, g_ab: np.ndarray,
             resamples: np.ndarray, fit_r2: float | None) -> OutcomeIndices:
    """Saltelli's first-order and Jansen's total estimators for one outcome, and their
    bootstrap standard errors. ``g_ab``: ``d x N``, the outcome at each ``A_B^i``."""
    first, total, variance = _estimates(g_a, g_b, g_ab)
    scale = max(float(np.abs(np.concatenate([g_a, g_b])).max()), 1e-300)
    if not variance > 1e-20 * scale**2:  # a flat mean: its rounding noise is not a shape
        return OutcomeIndices(name, kind, max(float(variance), 0.0), None, None, None, None,
                              fit_r2)
    boot = [_estimates(g_a[rows], g_b[rows], g_ab[:, rows])[:2] for rows in resamples]
    boot_first, boot_total = (np.array(column) for column in zip(*boot, strict=True))
    return OutcomeIndices(
        name, kind, float(variance),
        first_order=first.tolist(), total=total.tolist(),
        first_order_se=boot_first.std(axis=0, ddof=1).tolist(),
        total_se=boot_total.std(axis=0, ddof=1).tolist(),
        fit_r2=fit_r2,
    )


def _with_shapley(outcome: OutcomeIndices, effects: shapley.ShapleyEffects,
                  j: int) -> OutcomeIndices:
    """``outcome`` with its Shapley effects over the constrained region (none where the
    mean is flat there, as for the Sobol indices)."""
    variance = float(effects.variance[j])
    if outcome.first_order is None or not variance > 1e-12 * outcome.variance:
        return replace(outcome, constrained_variance=max(variance, 0.0))
    return replace(outcome, constrained_variance=variance,
                   shapley=effects.effects[j].tolist(),
                   shapley_se=effects.standard_errors[j].tolist())


def _estimates(g_a: np.ndarray, g_b: np.ndarray, g_ab: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, float]:
    """The estimators from ``g_a``, ``g_b`` (``N``) and ``g_ab`` (``d x N``): first-order
    and total indices (``d`` each) and the variance."""
    both = np.concatenate([g_a, g_b])
    variance = float(both.var())
    centred_b = g_b - both.mean()  # same expectation, far less variance where g's mean is far from 0
    with np.errstate(divide="ignore", invalid="ignore"):
        first = (centred_b * (g_ab - g_a)).mean(axis=1) / variance
        total = 0.5 * ((g_a - g_ab) ** 2).mean(axis=1) / variance
    return first, total, variance
