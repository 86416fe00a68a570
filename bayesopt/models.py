"""The surrogate of the BO methods: one independent GP per outcome, fitted by type-II ML.

Each outcome ``j`` (the ``m`` objectives in the maximisation convention, then the ``c``
constraint slacks) gets its own ``SingleTaskGP``

    f_j ~ GP(mu_j, k_j),   y_ij = f_j(x_i) + eps_ij,   eps_ij ~ N(0, sigma_j^2),

with BoTorch's default prior for ``SingleTaskGP`` (constant mean, RBF kernel with one
lengthscale per input under the dimension-scaled log-normal prior of Hvarfner et al.
2024, inferred noise). Inputs are mapped to the unit cube by a ``Normalize`` input
transform with the bounds of the search box (:mod:`bayesopt.space`; fixed, not learnt
from the data); outputs are standardised by ``Standardize(m=1)``. The hyperparameters maximise the exact marginal
log likelihood (``fit_gpytorch_mll``, L-BFGS-B), one model at a time. The models are
independent, so a ``ModelListGP`` of them is the joint ``m + c``-output model the
acquisition functions sample from (as in BoTorch's multi-objective tutorial).

Reference: M. Balandat et al. BoTorch: A Framework for Efficient Monte-Carlo Bayesian
Optimization. NeurIPS 2020.
"""

from __future__ import annotations

from botorch.fit import fit_gpytorch_mll
from botorch.models import ModelListGP, SingleTaskGP
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood
from torch import Tensor


def fit_model(train_x: Tensor, train_y: Tensor, bounds: Tensor) -> ModelListGP:
    """Fit one GP per column of ``train_y`` and return them as a ``ModelListGP``.

    Args:
        train_x: ``n x d`` observed inputs, in search coordinates (:mod:`bayesopt.space`).
        train_y: ``n x o`` observed outcomes (objectives to maximise, then slacks).
        bounds: ``2 x d`` bounds of the search box (lower row, upper row).
    """
    d = train_x.shape[-1]
    models = []
    for j in range(train_y.shape[-1]):
        model = SingleTaskGP(
            train_x,
            train_y[:, j : j + 1],
            input_transform=Normalize(d=d, bounds=bounds),
            outcome_transform=Standardize(m=1),
        )
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        models.append(model)
    return ModelListGP(*models)
