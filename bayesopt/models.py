"""The surrogate of the BO methods: one independent GP per outcome, fitted by type-II ML.

Each outcome ``j`` (the ``m`` objectives in the maximisation convention, then the ``c``
constraint slacks) gets its own ``SingleTaskGP``

    f_j ~ GP(mu_j, k_j),   y_ij = f_j(x_i) + eps_ij,   eps_ij ~ N(0, sigma_j^2),

with BoTorch's default prior for ``SingleTaskGP`` (constant mean, RBF kernel with one
lengthscale per input under the dimension-scaled log-normal prior of Hvarfner et al.
2024, inferred noise). Inputs are mapped to the unit cube by a ``Normalize`` input
transform with the bounds of the search box (:mod:`bayesopt.space`; fixed, not learnt
from the data); outputs are standardised by ``Standardize(m=1)``. The hyperparameters
maximise the exact marginal log likelihood (``fit_gpytorch_mll``, L-BFGS-B), one model
at a time. The models are independent, so a ``ModelListGP`` of them is the joint
``m + c``-output model the acquisition functions sample from (as in BoTorch's multi-objective tutorial).

Where the user told the standard error of every observation of an outcome (ask/tell's
``sem``), that outcome's noise is not inferred but known: ``eps_ij ~ N(0, sem_ij^2)``, a
fixed variance of its own for each observation (BoTorch's ``train_Yvar``; Ax does the
same with ``(mean, sem)``). If any observation of an outcome lacks one, its noise is
inferred as above from all of them: one inferred level cannot be mixed with known ones
without a model of how they relate. A known variance is floored at ``1e-5`` of the
outcome's sample variance, so that exact (``sem = 0``) measurements that disagree still
give a solvable fit (gpytorch would round a standardised variance below ``1e-6`` up
anyway, with a warning).

Where evaluations failed (ask/tell: ``POST .../fail``), one more GP models *where*
they fail: fitted on every point tried, labelled +1 where the evaluation succeeded and
-1 where it failed, and used as one more constraint slack, so the acquisition is
weighted by the posterior probability that a point's evaluation succeeds. This is the
unknown-constraint model of Gelbart, Snoek & Adams (2014) with one deviation: they fit
a GP *classifier* (probit likelihood, needing approximate inference); we regress on the
labels with the same exact GP as every other outcome (label regression), so BoTorch's
constraint weighting applies unchanged and the fit stays exact and deterministic.

References:
    M. Balandat et al. BoTorch: A Framework for Efficient Monte-Carlo Bayesian
    Optimization. NeurIPS 2020.
    M. A. Gelbart, J. Snoek, R. P. Adams. Bayesian Optimization with Unknown
    Constraints. UAI 2014.
"""

from __future__ import annotations

import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import ModelListGP, SingleTaskGP
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood
from torch import Tensor

KNOWN_NOISE_FLOOR = 1e-5  # of an outcome's sample variance: the least known noise variance


def fit_model(train_x: Tensor, train_y: Tensor, bounds: Tensor,
              failed_x: Tensor | None = None, train_yvar: Tensor | None = None) -> ModelListGP:
    """Fit one GP per column of ``train_y`` and return them as a ``ModelListGP``.

    Args:
        train_x: ``n x d`` observed inputs, in search coordinates (:mod:`bayesopt.space`).
        train_y: ``n x o`` observed outcomes (objectives to maximise, then slacks).
        bounds: ``2 x d`` bounds of the search box (lower row, upper row).
        failed_x: ``f x d`` inputs whose evaluation failed, or None. With them, one more
            output: the *success* GP, fitted on ``train_x`` and ``failed_x`` with the
            label +1 for an evaluation that succeeded and -1 for one that failed, a slack
            like the others (feasible iff >= 0).
        train_yvar: ``n x o`` known noise variances of ``train_y`` (NaN where unknown), or
            None. A column without a NaN fixes that outcome's noise; any other column's
            noise is inferred.
    """
    models = [_fitted(train_x, train_y[:, j : j + 1], bounds, _known_noise(train_y, train_yvar, j))
              for j in range(train_y.shape[-1])]
    if failed_x is not None and len(failed_x):
        labels = torch.cat([train_x.new_ones(len(train_x), 1), -train_x.new_ones(len(failed_x), 1)])
        models.append(_fitted(torch.cat([train_x, failed_x]), labels, bounds))
    return ModelListGP(*models)


def _known_noise(train_y: Tensor, train_yvar: Tensor | None, j: int) -> Tensor | None:
    """Column ``j``'s known noise variances (``n x 1``, floored), or None to infer them."""
    if train_yvar is None:
        return None
    column = train_yvar[:, j : j + 1]
    if torch.isnan(column).any():
        return None
    floor = KNOWN_NOISE_FLOOR * train_y[:, j].var().nan_to_num(0.0).clamp_min(1e-12)
    return column.clamp_min(floor)


def _fitted(train_x: Tensor, train_y: Tensor, bounds: Tensor,
            train_yvar: Tensor | None = None) -> SingleTaskGP:
    model = SingleTaskGP(
        train_x,
        train_y,
        train_yvar,
        input_transform=Normalize(d=train_x.shape[-1], bounds=bounds),
        outcome_transform=Standardize(m=1),
    )
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return model
