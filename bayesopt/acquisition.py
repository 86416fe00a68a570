"""The acquisition functions of the BO methods, built from BoTorch's own classes.

Everything here is in the maximisation convention: the model's first ``m`` outputs are
the objectives (minimised ones negated), its last ``c`` outputs the outcome-constraint
slacks ``g(x)``, feasible iff ``g(x) >= 0``. BoTorch's constraint callables are the
other way round (satisfied iff ``callable(samples) <= 0``), so constraint ``i`` is
passed as ``-samples[..., m + i]``; an ``IdentityMCMultiOutputObjective`` selects the
``m`` objective outputs. Where a constraint bounds a sum of measured values (Ax's
scalarised outcome constraints), the outputs after the objectives are instead those
``k`` values, and each slack is an affine function of their samples, ``g_j = w_j .
y[m:m+k] + b_j`` (:func:`slack_constraints`' ``slack_map``), as Ax hands BoTorch its
``A y <= b``. Both functions are Monte-Carlo estimates over posterior samples
drawn with a seeded ``SobolQMCNormalSampler`` (randomised quasi-MC base samples, fixed
across the optimisation so the estimate is a deterministic, differentiable function of
the candidates: the sample-average approximation of Balandat et al. 2020).

**qLogNEHVI** (Daulton et al. 2021; Ament et al. 2023). With ``P_t`` the Pareto front of
the noiseless posterior values ``f_t(X_baseline)`` in MC sample ``t`` and ``r`` the
reference point, the q-noisy expected hypervolume improvement of a batch ``X`` is

    qNEHVI(X) = 1/N sum_t [ HV(P_t ∪ f_t(X), r) - HV(P_t, r) ] * prod_i 1[g_i,t(X) >= 0],

the hypervolume improvement integrated over the uncertainty about the observed points
as well as the new ones (Daulton et al. 2021), which makes it correct under noise and
lets pending points be conditioned on by fantasising them into ``X_baseline``. The
"Log" version (Ament et al. 2023) evaluates the logarithm of a smooth (fat-tailed
softplus / soft-max) approximation of the same quantity, with the feasibility
indicators replaced by sigmoids of temperature ``eta``, so that its gradient does not
vanish where the improvement is zero almost everywhere — the failure that makes plain
qNEHVI hard to optimise. ``prune_baseline=True`` drops baseline points with
negligible probability of being Pareto optimal; ``cache_root=True`` reuses the Cholesky
factor of the baseline posterior across evaluations (Daulton et al. 2021, §4).

**qLogNParEGO** (Knowles 2006; Daulton et al. 2020; Ament et al. 2023). ParEGO turns
the multi-objective problem into a random single-objective one: weights ``w`` drawn
uniformly from the simplex, objectives normalised to ``[0, 1]`` over the baseline, and
the augmented Chebyshev scalarisation (maximisation form, ``alpha = 0.05``)

    s_w(y) = min_j w_j y_j + alpha * sum_j w_j y_j,

whose maxima over all ``w`` reach every Pareto-optimal point, convex front or not.
q-NParEGO (Daulton et al. 2020) draws a different ``w`` for each of the ``q`` candidates
and optimises, for each, the noisy expected improvement of ``s_w`` (here its log form,
qLogNEI, with constraints weighted in as above). We use BoTorch's ``qLogNParEGO`` rather
than ``get_chebyshev_scalarization`` + ``qLogNoisyExpectedImprovement`` as in the older
tutorial: it is exactly that composition, but it normalises with the posterior mean at
the baseline (not the noisy observations), applies the outcome selection before the
scalarisation, and keeps the constraint and pending-point handling in one BoTorch class.

**qLogEHVI** (:func:`qlogehvi`, used by ``mogfn_al``): the same improvement over the
front of the *observed* values, its non-dominated region split into boxes once; on
noiseless objectives it is qNEHVI, at a cost that does not grow with the baseline.

References:
    S. Daulton, M. Balandat, E. Bakshy. Differentiable Expected Hypervolume Improvement
    for Parallel Multi-Objective Bayesian Optimization. NeurIPS 2020.
    S. Daulton, M. Balandat, E. Bakshy. Parallel Bayesian Optimization of Multiple Noisy
    Objectives with Expected Hypervolume Improvement. NeurIPS 2021.
    S. Ament, S. Daulton, D. Eriksson, M. Balandat, E. Bakshy. Unexpected Improvements
    to Expected Improvement for Bayesian Optimization. NeurIPS 2023.
    J. Knowles. ParEGO: A Hybrid Algorithm With On-Line Landscape Approximation for
    Expensive Multiobjective Optimization Problems. IEEE TEVC 10(1), 2006.
    M. Balandat et al. BoTorch: A Framework for Efficient Monte-Carlo Bayesian
    Optimization. NeurIPS 2020.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from botorch.acquisition.multi_objective.logei import (
    qLogExpectedHypervolumeImprovement,
    qLogNoisyExpectedHypervolumeImprovement,
)
from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
from botorch.acquisition.multi_objective.parego import qLogNParEGO
from botorch.models.model import Model
from botorch.sampling.normal import SobolQMCNormalSampler
from botorch.utils.multi_objective.box_decompositions.non_dominated import (
    FastNondominatedPartitioning,
)
from botorch.utils.multi_objective.hypervolume import infer_reference_point
from botorch.utils.multi_objective.pareto import is_non_dominated
from botorch.utils.sampling import sample_simplex
from torch import Tensor

from bayesopt.kernels import use_environment_cache

use_environment_cache()  # before a qLogEHVI is built here: torch reads it then

Constraint = Callable[[Tensor], Tensor]


def objective_outputs(n_objectives: int) -> IdentityMCMultiOutputObjective:
    """Select the ``m`` objective outputs of the ``m + c``-output model."""
    return IdentityMCMultiOutputObjective(outcomes=list(range(n_objectives)))


def slack_constraints(n_objectives: int, n_constraints: int,
                      slack_map: tuple[Tensor, Tensor] | None = None) -> list[Constraint] | None:
    """BoTorch constraint callables for the slacks: ``-g_i <= 0`` iff feasible. Each
    slack is an output of its own; with ``slack_map`` (``weights``, ``c x k``, and
    ``offsets``, ``c``), the first ``c`` are affine in the ``k`` outputs after the
    objectives, and any others (the success GP's) are the outputs after those."""
    if n_constraints == 0:
        return None
    if slack_map is None:
        return [_negated_output(n_objectives + i) for i in range(n_constraints)]
    weights, offsets = slack_map
    c, k = weights.shape
    return [*(_negated_affine(n_objectives, weights[j], offsets[j]) for j in range(c)),
            *(_negated_output(n_objectives + k + i) for i in range(n_constraints - c))]


def _negated_affine(start: int, weights: Tensor, offset: Tensor) -> Constraint:
    def constraint(samples: Tensor) -> Tensor:
        return -(samples[..., start:start + len(weights)] @ weights + offset)

    return constraint


def _negated_output(index: int) -> Constraint:
    def constraint(samples: Tensor) -> Tensor:  # sample x batch x q x (m + c) -> ... x q
        return -samples[..., index]

    return constraint


def reference_point(objectives: Tensor, slacks: Tensor | None, published: Tensor | None) -> Tensor:
    """The hypervolume reference point ``r`` (maximisation convention, shape ``m``).

    The problem's published point where it has one; otherwise BoTorch's
    ``infer_reference_point`` on the observed front (its nadir minus 10% of its range,
    the rule Ishibuchi et al. 2011 found robust), taken over the feasible observations,
    or over all of them while none is feasible yet.

    Args:
        objectives: ``n x m`` observed objectives (maximised).
        slacks: ``n x c`` observed slacks, or None.
        published: ``m`` published reference point (maximised), or None.
    """
    if published is not None:
        return published
    candidates = objectives
    if slacks is not None:
        feasible = (slacks >= 0).all(dim=-1)
        if feasible.any():
            candidates = objectives[feasible]
    front = candidates[is_non_dominated(candidates)]
    return infer_reference_point(front)


def qlognehvi(
    model: Model,
    x_baseline: Tensor,
    ref_point: Tensor,
    n_objectives: int,
    constraints: list[Constraint] | None,
    x_pending: Tensor | None,
    mc_samples: int,
    seed: int,
) -> qLogNoisyExpectedHypervolumeImprovement:
    """qLogNEHVI over ``x_baseline`` (``n x d``), pending points ``x_pending`` (``k x d``)."""
    return qLogNoisyExpectedHypervolumeImprovement(
        model=model,
        ref_point=ref_point.tolist(),
        X_baseline=x_baseline,
        sampler=SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]), seed=seed),
        objective=objective_outputs(n_objectives),
        constraints=constraints,
        X_pending=x_pending,
        prune_baseline=True,
        cache_root=True,
    )


def parego_weights(n_objectives: int, q: int, seed: int, like: Tensor) -> Tensor:
    """``q x m`` scalarisation weights, i.i.d. uniform on the simplex (seeded)."""
    return sample_simplex(d=n_objectives, n=q, seed=seed, dtype=like.dtype, device=like.device)


def qlognparego(
    model: Model,
    x_baseline: Tensor,
    weights: Tensor,
    n_objectives: int,
    constraints: list[Constraint] | None,
    x_pending: Tensor | None,
    mc_samples: int,
    seed: int,
) -> qLogNParEGO:
    """qLogNEI of the augmented Chebyshev scalarisation with ``weights`` (shape ``m``)."""
    return qLogNParEGO(
        model=model,
        X_baseline=x_baseline,
        scalarization_weights=weights,
        sampler=SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]), seed=seed),
        objective=objective_outputs(n_objectives),
        constraints=constraints,
        X_pending=x_pending,
        prune_baseline=True,
        cache_root=True,
    )


def qlogehvi(
    model: Model,
    ref_point: Tensor,
    objectives: Tensor,
    mc_samples: int,
    seed: int,
) -> qLogExpectedHypervolumeImprovement:
    """qLogEHVI over the observed front of ``objectives`` (``n x m``, maximised).

    The expected hypervolume improvement over the front of the *observed* values, in
    the log form of Ament et al. (2023), with the non-dominated space above
    ``ref_point`` split into boxes once (``FastNondominatedPartitioning``). On noiseless
    objectives it equals qNEHVI (Daulton et al. 2021, whose baseline values are then
    known), and its cost does not grow with the baseline, which qNEHVI samples jointly
    with every candidate.
    """
    partitioning = FastNondominatedPartitioning(ref_point=ref_point, Y=objectives)
    return qLogExpectedHypervolumeImprovement(
        model=model,
        ref_point=ref_point.tolist(),
        partitioning=partitioning,  # type: ignore[arg-type]  # as in BoTorch's tutorials
        sampler=SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]), seed=seed),
    )
