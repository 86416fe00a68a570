"""How well the BO methods' surrogate predicts what was measured: leave-one-out
cross-validation of each outcome's GP, as Ax's cross-validation plot and its model-fit
statistics judge a model before its suggestions or its sensitivities are trusted.

For each outcome's GP (:func:`bayesopt.models.fit_model`, fitted to every observation),
observation ``i`` is predicted from all the others with the GP's hyperparameters kept
as fitted: in closed form (Rasmussen & Williams 2006, eq. 5.12), with
``K_y = K + Sigma_noise`` over the observations and ``alpha = K_y^-1 (y - m)``,

    mu_-i = y_i - alpha_i / [K_y^-1]_ii,   var_-i = 1 / [K_y^-1]_ii,

the mean and variance of a new *measurement* at ``x_i`` (noise included) given the
other ``n - 1``. This is Ax's leave-one-out cross-validation (``cross_validate(adapter)``:
the fitted hyperparameters kept, not refitted per fold, computed in one factorisation),
with its ``use_posterior_predictive=True``: the interval is that of a measurement, which
is what a measurement can be checked against; Ax's default gives the noise-free
function's, narrower where the noise is large. Keeping the hyperparameters, which saw
point ``i``, makes it somewhat optimistic.

The statistics, over the observations (raw units): ``r2``, the coefficient of
determination ``1 - sum (y - mu)^2 / sum (y - mean y)^2`` (1 for perfect predictions, 0
for predicting the mean, negative for worse); ``rank_correlation``, Spearman's between
``y`` and ``mu``; ``coverage``, the share of ``y`` inside ``mu +- 1.96 sd`` (0.95 when the
model's uncertainty is calibrated; much less: overconfident). ``r2`` and
``rank_correlation`` are among Ax's model-fit statistics, under those names.

:func:`model_slice` is the model along one parameter (Ax's slice plot): each outcome's
posterior mean and standard deviation of the function (noise not included) at a grid of
that parameter's values, the others held at one point's; :func:`model_contour` the same
over a grid of two parameters (Ax's contour plot).

Reference:
    C. E. Rasmussen, C. K. I. Williams. Gaussian Processes for Machine Learning. MIT
    Press, 2006, section 5.4.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr

from bayesopt import space
from bayesopt.models import fit_model
from jobs.protocol import Observations, OutcomeBound, ProblemInfo

INTERVAL_Z = 1.959963984540054  # the 95% interval of a normal


@dataclass(frozen=True)
class LeaveOneOut:
    """One outcome's leave-one-out predictions (raw units) and how good they are (None
    where a statistic is undefined: fewer than 3 observations, or constant ones)."""

    predicted: list[float]
    sd: list[float]
    r2: float | None
    rank_correlation: float | None
    coverage: float


@dataclass(frozen=True)
class FittedOutcomes:
    """The GPs of a campaign's outcomes: the objectives, then the constraints' measured
    values, each ``values`` column with its name and kind ("objective" | "constraint").
    Outcome ``j`` is ``weights[j] @`` the GPs' outputs: one GP each, except where a
    constraint bounds a sum of measured values (``"a + 2*b <= 10"``), which is the sum of
    its values' GPs, as the BO methods model it."""

    model: Any  # ModelListGP, one GP per modelled column
    values: np.ndarray  # n x o, raw units
    names: list[str]
    kinds: list[str]
    weights: np.ndarray  # o x p: each outcome from the p GPs' outputs

    def combined(self, means: np.ndarray, sds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each outcome's mean and sd from its GPs' (``... x p`` each; independent)."""
        return means @ self.weights.T, np.sqrt((sds**2) @ (self.weights**2).T)

    def leave_one_out(self) -> tuple[np.ndarray, np.ndarray]:
        """``n x o`` each: every outcome's leave-one-out means and sds (:func:`leave_one_out`)."""
        loo = [leave_one_out(gp) for gp in self.model.models]
        return self.combined(np.column_stack([mean for mean, _ in loo]),
                             np.column_stack([sd for _, sd in loo]))


@dataclass(frozen=True)
class OutcomeFit:
    name: str
    kind: str
    observed: list[float]
    loo: LeaveOneOut


def fit_outcomes(problem: ProblemInfo, observations: Observations,
                 device: str = "cpu") -> FittedOutcomes:
    """One GP per outcome fitted to ``observations`` as the BO methods fit them (the told
    standard errors as known noise; a sum's values one GP each), seeded with 0 so the
    same observations give the same GPs."""
    if not problem.parameters:
        raise ValueError(f"{problem.id} has no decision parameters to model the outcomes on")
    values, names, kinds, variances = _outcomes(problem, observations)
    if len(values) < 2:
        raise ValueError(f"a model needs at least 2 measured points, got {len(values)}")
    modelled, modelled_variances, weights = _modelled(problem, observations, values, variances)
    tkwargs: dict[str, Any] = {"dtype": torch.float64, "device": torch.device(device)}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = fit_model(
            torch.tensor(space.encode(problem.parameters, observations.x), **tkwargs),
            torch.tensor(modelled, **tkwargs),
            torch.tensor(space.bounds(problem.parameters), **tkwargs),
            train_yvar=(None if modelled_variances is None
                        else torch.tensor(modelled_variances, **tkwargs)))
    return FittedOutcomes(model, values, names, kinds, weights)


def model_fit(problem: ProblemInfo, observations: Observations,
              device: str = "cpu") -> list[OutcomeFit]:
    """Every outcome's leave-one-out predictions and statistics (module docstring)."""
    fitted = fit_outcomes(problem, observations, device)
    means, sds = fitted.leave_one_out()
    return [OutcomeFit(name, kind, fitted.values[:, j].tolist(),
                       statistics(fitted.values[:, j], means[:, j], sds[:, j]))
            for j, (name, kind) in enumerate(zip(fitted.names, fitted.kinds, strict=True))]


@dataclass(frozen=True)
class OutcomeSlice:
    name: str
    kind: str
    mean: list[float]
    sd: list[float]


def model_slice(problem: ProblemInfo, observations: Observations, parameter: int,
                at: np.ndarray, n_points: int = 100, device: str = "cpu"
                ) -> tuple[list[float], list[OutcomeSlice]]:
    """The GPs along parameter ``parameter`` with the others at ``at`` (``d`` values in
    the problem's units, a choice by its index): the grid (``n_points`` values evenly
    spaced in the parameter's search coordinates, so geometrically on a log scale; every
    whole number of an integer up to ``n_points`` of them; every value of a choice, by
    index) and each outcome's posterior mean and standard deviation there."""
    grid = _grid(problem.parameters[parameter], n_points)
    points = np.repeat(np.asarray(at, dtype=np.float64).reshape(1, -1), len(grid), axis=0)
    points[:, parameter] = grid
    return grid.tolist(), _predicted(problem, observations, points, device)


def model_contour(problem: ProblemInfo, observations: Observations, x_parameter: int,
                  y_parameter: int, at: np.ndarray, n_points: int = 30, device: str = "cpu"
                  ) -> tuple[list[float], list[float], list[OutcomeSlice]]:
    """The GPs over two parameters with the others at ``at`` (Ax's contour plot): each
    one's grid as in :func:`model_slice`, and each outcome's posterior mean and standard
    deviation at every pair, row by row (``y`` the row, ``x`` the column)."""
    if x_parameter == y_parameter:
        raise ValueError("a contour needs two different parameters")
    xs = _grid(problem.parameters[x_parameter], n_points)
    ys = _grid(problem.parameters[y_parameter], n_points)
    points = np.repeat(np.asarray(at, dtype=np.float64).reshape(1, -1), len(xs) * len(ys), axis=0)
    points[:, x_parameter] = np.tile(xs, len(ys))
    points[:, y_parameter] = np.repeat(ys, len(xs))
    return xs.tolist(), ys.tolist(), _predicted(problem, observations, points, device)


def _predicted(problem: ProblemInfo, observations: Observations, points: np.ndarray,
               device: str) -> list[OutcomeSlice]:
    """Every outcome's posterior mean and sd (of the function) at ``points``."""
    fitted = fit_outcomes(problem, observations, device)
    tkwargs: dict[str, Any] = {"dtype": torch.float64, "device": torch.device(device)}
    z = torch.tensor(space.encode(problem.parameters, points), **tkwargs)
    with torch.no_grad():
        posteriors = [gp.posterior(z) for gp in fitted.model.models]
        means, sds = fitted.combined(
            np.column_stack([p.mean.reshape(-1).cpu().numpy() for p in posteriors]),
            np.column_stack([p.variance.clamp_min(0).sqrt().reshape(-1).cpu().numpy()
                             for p in posteriors]))
    return [OutcomeSlice(name, kind, means[:, j].tolist(), sds[:, j].tolist())
            for j, (name, kind) in enumerate(zip(fitted.names, fitted.kinds, strict=True))]


def _grid(parameter: Any, n_points: int) -> np.ndarray:
    """Values of one parameter to draw the model at, in the problem's units."""
    if parameter.choices:
        return np.arange(len(parameter.choices), dtype=np.float64)
    if parameter.integer and parameter.high - parameter.low + 1 <= n_points:
        return np.arange(parameter.low, parameter.high + 1, dtype=np.float64)
    low, high = (np.log([parameter.low, parameter.high]) if parameter.log_scale
                 else (parameter.low, parameter.high))
    grid = np.linspace(low, high, n_points)
    grid = np.exp(grid) if parameter.log_scale else grid
    return np.unique(np.clip(np.round(grid), parameter.low, parameter.high)) \
        if parameter.integer else np.clip(grid, parameter.low, parameter.high)


def _outcomes(problem: ProblemInfo, observations: Observations
              ) -> tuple[np.ndarray, list[str], list[str], np.ndarray | None]:
    """The measured values, objectives then constraints (``n x o``; a bounded
    constraint's value as told, from its slack), their names and kinds, and their known
    noise variances (NaN where unknown; None if none is known)."""
    n, m = len(observations.x), problem.n_objectives
    columns = [np.asarray(observations.objectives, dtype=np.float64).reshape(n, m)]
    sems = [_sem(observations.sem, n, m)]
    names = [o.name for o in problem.objectives]
    kinds = ["objective"] * m
    if problem.constraints and observations.constraints is not None:
        c = problem.constraints
        slacks = np.asarray(observations.constraints, dtype=np.float64).reshape(n, c)
        bounds = problem.constraint_bounds or (OutcomeBound(),) * c
        # the values as measured ("memory" of "memory <= 16"), not the slacks
        columns.append(np.column_stack([b.value(slacks[:, k]) for k, b in enumerate(bounds)]))
        sems.append(_sem(observations.constraint_sem, n, c))
        names += list(problem.slack_names)
        kinds += ["constraint"] * c
    sem = np.concatenate(sems, axis=1)
    variances = None if np.isnan(sem).all() else sem**2
    return np.concatenate(columns, axis=1), names, kinds, variances


def _modelled(problem: ProblemInfo, observations: Observations, values: np.ndarray,
              variances: np.ndarray | None
              ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """What the GPs are fitted to, with their known noise variances, and each outcome's
    weights on them: the outcomes themselves, except that where a constraint bounds a
    sum of measured values the objectives are followed by the values told."""
    o = values.shape[1]
    if not problem.scalarised or observations.metrics is None:
        return values, variances, np.eye(o)
    n, m = len(values), problem.n_objectives
    metrics = problem.metric_names
    told = np.asarray(observations.metrics, dtype=np.float64).reshape(n, len(metrics))
    sem = np.concatenate([_sem(observations.sem, n, m),
                          _sem(observations.metric_sem, n, len(metrics))], axis=1)
    weights = np.zeros((o, m + len(metrics)))
    weights[:m, :m] = np.eye(m)
    weights[m:, m:] = problem.value_weights()
    return (np.concatenate([values[:, :m], told], axis=1),
            None if np.isnan(sem).all() else sem**2, weights)


def _sem(values: Any, n: int, width: int) -> np.ndarray:
    return (np.full((n, width), np.nan) if values is None
            else np.asarray(values, dtype=np.float64).reshape(n, width))


def leave_one_out(gp: Any) -> tuple[np.ndarray, np.ndarray]:
    """A fitted BoTorch ``SingleTaskGP``'s leave-one-out means and standard deviations
    of each training observation, in raw units (its ``Standardize`` undone)."""
    with torch.no_grad():
        inputs, targets = gp.train_inputs[0], gp.train_targets  # as the GP holds them
        covariance = gp.covar_module(inputs).to_dense()
        noise = gp.likelihood.noise.expand(len(targets))
        precision = torch.cholesky_inverse(_cholesky(covariance + torch.diag(noise)))
        diagonal = precision.diagonal()
        alpha = precision @ (targets - gp.mean_module(inputs))
        mean, variance = targets - alpha / diagonal, 1 / diagonal
        scale, shift = _standardisation(gp)
        return ((mean * scale + shift).cpu().numpy(),
                (variance.sqrt() * scale).cpu().numpy())


def statistics(observed: np.ndarray, predicted: np.ndarray, sd: np.ndarray) -> LeaveOneOut:
    """The leave-one-out predictions of one outcome with their statistics."""
    observed = np.asarray(observed, dtype=np.float64)
    spread = float(((observed - observed.mean()) ** 2).sum())
    defined = len(observed) >= 3 and spread > 0
    r2 = 1 - float(((observed - predicted) ** 2).sum()) / spread if defined else None
    rank = None
    if defined and np.ptp(predicted) > 0:
        rank = float(spearmanr(observed, predicted).statistic)
    inside = np.abs(observed - predicted) <= INTERVAL_Z * sd
    return LeaveOneOut(predicted=predicted.tolist(), sd=sd.tolist(), r2=r2,
                       rank_correlation=rank, coverage=float(inside.mean()))


def _cholesky(matrix: torch.Tensor) -> torch.Tensor:
    """The Cholesky factor, with gpytorch's habit of adding jitter until it exists."""
    jitter = 1e-8 * float(matrix.diagonal().mean())
    for _ in range(6):
        factor, info = torch.linalg.cholesky_ex(matrix)
        if int(info) == 0:
            return factor
        matrix = matrix + jitter * torch.eye(len(matrix), dtype=matrix.dtype,
                                             device=matrix.device)
        jitter *= 10
    raise ValueError("the GP's covariance of the observations is not positive definite")


def _standardisation(gp: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``Standardize`` outcome transform's scale and shift (1 and 0 without one)."""
    transform = getattr(gp, "outcome_transform", None)
    if transform is None:
        return torch.ones(()), torch.zeros(())
    return transform.stdvs.reshape(()), transform.means.reshape(())
