"""``qlognehvi`` and ``qnparego``: multi-objective Bayesian optimisation with BoTorch.

One loop serves both methods; they differ only in how a batch is proposed
(:data:`QLOGNEHVI`, :data:`QNPAREGO`). A campaign (:func:`run_qlognehvi`,
:func:`run_qnparego`) evaluates an initial design of ``n_initial`` scrambled Sobol
points — by default ``2 (d + 1)``, the first points of the ``sobol`` baseline's own
sequence at the same seed, after the centre of the box with ``initial_centre`` — and
then, until the budget is spent, repeats

1. **fit** (:mod:`bayesopt.models`): one GP per objective (maximisation convention)
   and per constraint slack, on everything observed so far (where a constraint bounds
   a sum of measured values, one per value instead: :class:`MeasuredConstraints`);
2. **acquire** (:mod:`bayesopt.acquisition`): qLogNEHVI, or ``q`` qLogNParEGO
   functions with one random Chebyshev scalarisation each;
3. **optimise**: multi-start L-BFGS-B over the problem's box in search coordinates
   (:mod:`bayesopt.space`: ``log(x)`` for a log-scale parameter, an unordered choice
   one-hot, an ordered one by its index; the box itself otherwise) (``optimize_acqf``
   with ``sequential=True`` — greedy sequential selection of the ``q`` candidates,
   each conditioned on the ones before it as pending points — or the same greedy
   sequence across the ParEGO functions, as ``optimize_acqf_list`` does), then
   evaluates the batch. The last batch is cut to what the budget has left. Where some
   inputs are integers (ordered choices included), BoTorch's
   ``optimize_acqf_mixed_alternating`` instead, as Ax uses: it steps each integer
   through its values (relaxing those with more than 20) between L-BFGS-B steps on
   the rest, until a round improves the (log) acquisition by less than 1e-4 (BoTorch's
   1e-8 kept qLogNParEGO going through all 64 rounds: on ``bench_mixed``'s problem,
   16-35 s a suggestion against 6-14 s, the same points). Relaxing every integer and
   rounding the optimum, as this module did before, kept suggesting one point: on
   ``bench_choices``' sweep, seed 5, 23 of 40 suggestions were the same batch size and
   learning rate, 0.898 of the maximum HV against 1.000 now. Under an external problem's parameter constraints
   (:mod:`bayesopt.parameter_constraints`) it is multi-start SLSQP inside them
   (BoTorch's ``inequality_constraints``), five restarts a call, started from
   quasi-random points inside them, and each candidate is rounded to a point inside.

Every candidate is recorded as soon as its batch is evaluated, with ``meta``
``{"iteration": k, "stage": "initial" | "acquisition", "batch_index": j}`` (iteration 0
is the initial design), and each batch's ``fit_seconds``, ``acquisition_seconds``
(building and optimising the acquisition function) and ``evaluation_seconds`` go to the
campaign history through ``recorder.log``.

Reproducibility and resume: all the randomness of iteration ``k`` (GP fitting's
retries, the optimiser's raw samples, the MC base samples, ParEGO's weights) is seeded
from ``(seed, k)`` inside ``torch.random.fork_rng``, so it depends neither on what ran
before in the process nor on the global torch RNG. After each batch the campaign
checkpoints the observations and the iteration; a resumed campaign refits on exactly
the same data with the same seed and so proposes, on CPU, exactly the candidates an
uninterrupted one would (a batch recorded but not checkpointed is proposed and recorded
again, which the recorder ignores). On CUDA, floating-point reductions are not
bit-reproducible, so neither is the run.

Ask/tell (:func:`suggest_qlognehvi`, :func:`suggest_qnparego`) is the same proposal
made statelessly from the observations the service holds, pending suggestions included
as ``X_pending``; until ``n_initial`` points are observed or pending it hands out the
next points of the seeded Sobol sequence instead. Points whose evaluation failed do
not count towards the initial design, which is there to cover the space with
observations. After it, by default (``failure_model``), a GP fitted to where
evaluations failed and succeeded is one more outcome constraint
(:mod:`bayesopt.models`), so the acquisition is weighted by the chance that a point can
be evaluated at all (the unknown constraints of Gelbart et al. 2014). With
``failure_model`` false, failed points only join ``X_pending``, and stay there, so the
acquisition does not propose them again (as Ax conditions on abandoned arms, and on
failed ones with ``include_failed_as_pending``). Optuna's samplers drop failed trials.
``benchmarks/bench_failures.py`` measures the three. Where the user told the
objectives' standard errors (``observations.sem``), an objective with every one known is
fitted with that noise (:mod:`bayesopt.models`), and so is a constraint's slack
(``observations.constraint_sem``), and a reference point not published is
inferred from the posterior means at the observed points instead of the observations
themselves, which under known noise are known to be noisy: one lucky measurement then
does not set it (Ax infers its objective thresholds from model predictions too). Without
standard errors the observations are used as they are, as before. A campaign on a
test function with ``noise_std`` (:func:`bayesopt.problems.measure`) is told that
deviation as every observation's standard error, as BoTorch's noisy multi-objective
tutorial fits its GPs (``train_Yvar``); an objective without noise infers its own.

Everything is float64 on ``device`` ("cuda" when the worker has a GPU, else "cpu").
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.optim.optimize import optimize_acqf
from botorch.optim.optimize_mixed import optimize_acqf_mixed_alternating
from torch import Tensor
from torch.quasirandom import SobolEngine

from bayesopt import acquisition, parameter_constraints, problems, sobol, space
from bayesopt.config import BayesOptConfig, QLogNEHVIConfig, QNParEGOConfig
from bayesopt.models import fit_model
from jobs.protocol import (
    Evaluated,
    LinearConstraint,
    Observations,
    Parameter,
    ProblemInfo,
    Recorder,
)
from pareto import from_maximization, to_maximization

# ---- one proposal: fit, acquire, optimise ---------------------------------------------


@dataclass(frozen=True)
class Surrogate:
    """What an acquisition needs: the fitted model and the data it was fitted on."""

    model: Any  # a fitted ModelListGP with m + c outputs
    x: Tensor  # n x D observed inputs (search coordinates: bayesopt.space)
    objectives: Tensor  # n x m, maximisation convention
    slacks: Tensor | None  # n x c, feasible iff >= 0
    pending: Tensor | None  # k x D points being evaluated elsewhere (search coordinates)
    bounds: Tensor  # 2 x D box (search coordinates; a choice has one per value)
    published_reference_point: Tensor | None  # m, maximisation convention
    # n x m: what a reference point is inferred from when none is published: the
    # observed objectives, or, where standard errors were told, the posterior means there
    front_values: Tensor | None = None
    # The parameter constraints in search coordinates, BoTorch's inequality_constraints
    inequalities: list[tuple[Tensor, Tensor, float]] | None = None
    # Search column -> the values an integer takes there (space.discrete_values)
    discrete: dict[int, list[float]] = field(default_factory=dict)
    # Where the model's constraint outputs are measured values a slack sums (Ax's
    # scalarised constraints): (weights c x k, offsets c), slack = weights @ y + offsets
    slack_map: tuple[Tensor, Tensor] | None = None

    def raw_points(self) -> Callable[[int, int, int | None], Tensor] | None:
        """The optimiser's random starting points under parameter constraints: a
        scrambled Sobol sequence of the box with the points outside them left out.
        BoTorch's own, hit-and-run in the polytope, took 2 s an ask on one thread."""
        if not self.inequalities:
            return None
        return functools.partial(_points_inside, self.bounds, self.inequalities)

    def reference_point(self) -> Tensor:
        values = self.objectives if self.front_values is None else self.front_values
        return acquisition.reference_point(values, self.slacks, self.published_reference_point)

    @property
    def n_objectives(self) -> int:
        return self.objectives.shape[-1]

    @property
    def n_constraints(self) -> int:
        return 0 if self.slacks is None else self.slacks.shape[-1]

    def constraints(self) -> list[acquisition.Constraint] | None:
        """The acquisition's feasibility callables, one per slack."""
        return acquisition.slack_constraints(self.n_objectives, self.n_constraints,
                                             self.slack_map)


Optimise = Callable[[Surrogate, int, BayesOptConfig, int], Tensor]


# Raw points scored per batch while choosing the starting points (Ax 1.3's
# INIT_BATCH_LIMIT): chunking only, the scores are the same.
_INIT_BATCH_LIMIT = 32


# Restarts per SLSQP call under parameter constraints, where batch_limit is not set.
# SLSQP optimises the restarts of a call as one problem, until all of them have
# converged; on DTLZ2 (6 inputs, one constraint, 40 evaluations, seed 0) all 20 at once
# took 14-35 s a batch of 4 for an HV of 0.685 of the maximum, 5 at a time 7-13 s
# (0.687), one at a time 9-15 s (0.630).
_CONSTRAINED_BATCH_LIMIT = 5


def _optimiser_options(config: BayesOptConfig, dim: int,
                       constrained: bool = False) -> dict[str, bool | float | int | str]:
    per_call = config.restarts_per_call(dim)
    if constrained and config.batch_limit is None:
        per_call = min(per_call, _CONSTRAINED_BATCH_LIMIT)
    return {
        "batch_limit": per_call,
        "init_batch_limit": max(_INIT_BATCH_LIMIT, per_call),
        "maxiter": config.max_iter_acqf,
    }


def _optimise_qlognehvi(surrogate: Surrogate, n: int, config: BayesOptConfig, seed: int) -> Tensor:
    """``n x d`` candidates maximising qLogNEHVI, chosen greedily one after another."""
    acqf = acquisition.qlognehvi(
        model=surrogate.model,
        x_baseline=surrogate.x,
        ref_point=surrogate.reference_point(),
        n_objectives=surrogate.n_objectives,
        constraints=surrogate.constraints(),
        x_pending=surrogate.pending,
        mc_samples=config.mc_samples,
        seed=seed,
    )
    return _maximise(acqf, surrogate, n, config)


# Where the alternating search stops: an improvement of the acquisition below this in a
# round. Both acquisitions are logs, so it is a relative 0.01%. BoTorch's 1e-8 kept
# qLogNParEGO creeping through all 64 rounds (three times the time, the same point).
ALTERNATING_TOL = 1e-4


def _maximise(acqf: AcquisitionFunction, surrogate: Surrogate, q: int,
              config: BayesOptConfig) -> Tensor:
    """``q`` candidates maximising ``acqf``, chosen greedily one after another: by
    multi-start L-BFGS-B (SLSQP under parameter constraints) over the box; where some
    inputs are integers, by BoTorch's alternating search, which steps through their
    values and optimises the rest between the steps (as Ax does), rather than relaxing
    them and rounding the optimum, which kept suggesting the same point."""
    dim = surrogate.bounds.shape[-1]
    options = _optimiser_options(config, dim, surrogate.inequalities is not None)
    if surrogate.discrete:
        bounds = surrogate.bounds.clone()
        for column, values in surrogate.discrete.items():  # the values' own ends
            bounds[0, column], bounds[1, column] = values[0], values[-1]
        with warnings.catch_warnings():
            # Its start, a relaxed search, restarts where a line search ends ABNORMAL
            # and says so each time: nothing a user can act on.
            warnings.filterwarnings("ignore", message="Optimization failed in "
                                    "`gen_candidates_scipy`", category=RuntimeWarning)
            candidates, _ = optimize_acqf_mixed_alternating(
                acq_function=acqf,
                bounds=bounds,
                discrete_dims=surrogate.discrete,
                inequality_constraints=surrogate.inequalities,
                q=q,
                num_restarts=config.restarts(dim),
                raw_samples=config.raw_points(dim),
                # maxiter_acqf is L-BFGS-B's limit; the alternating search keeps its own
                options={**{key: options[key] for key in ("batch_limit", "init_batch_limit")},
                         "tol": ALTERNATING_TOL},
            )
        return candidates
    candidates, _ = optimize_acqf(
        acq_function=acqf,
        bounds=surrogate.bounds,
        inequality_constraints=surrogate.inequalities,
        generator=surrogate.raw_points(),
        q=q,
        num_restarts=config.restarts(dim),
        raw_samples=config.raw_points(dim),
        options=options,
        sequential=True,
        # An L-BFGS-B line search that ends ABNORMAL in one restart would make BoTorch
        # discard all the restarts and optimise again from new starting points (double
        # the time); the restart's last point is still a valid start, so keep them all.
        retry_on_optimization_warning=False,
    )
    return candidates


def _optimise_qnparego(surrogate: Surrogate, n: int, config: BayesOptConfig, seed: int) -> Tensor:
    """``n x d`` candidates, candidate ``i`` maximising qLogNParEGO with weights ``w_i``."""
    weights = acquisition.parego_weights(surrogate.n_objectives, n, seed, like=surrogate.x)
    acqfs: list[AcquisitionFunction] = [
        acquisition.qlognparego(
            model=surrogate.model,
            x_baseline=surrogate.x,
            weights=w,
            n_objectives=surrogate.n_objectives,
            constraints=surrogate.constraints(),
            x_pending=surrogate.pending,
            mc_samples=config.mc_samples,
            seed=seed,
        )
        for w in weights
    ]
    # Sequential greedy, as BoTorch's optimize_acqf_list: the i-th function sees
    # candidates 1..i-1 (and the pending points) as pending, so the batch is spread out
    # even where two weight vectors are close. Written out here because
    # optimize_acqf_list cannot turn off the restart-discarding retry (see above).
    chosen: list[Tensor] = []
    for acqf in acqfs:
        if chosen:
            earlier = torch.cat(chosen, dim=-2)
            pending = surrogate.pending
            acqf.set_X_pending(
                earlier if pending is None else torch.cat([pending, earlier], dim=-2)
            )
        chosen.append(_maximise(acqf, surrogate, 1, config))
    return torch.cat(chosen, dim=-2)


@dataclass(frozen=True)
class Method:
    """A BO method: its name, its parameters, and how it optimises a batch."""

    name: str
    config: type[BayesOptConfig]
    optimise: Optimise


QLOGNEHVI = Method("qlognehvi", QLogNEHVIConfig, _optimise_qlognehvi)
QNPAREGO = Method("qnparego", QNParEGOConfig, _optimise_qnparego)


@dataclass(frozen=True)
class Proposal:
    candidates: np.ndarray  # n x d, problem units
    fit_seconds: float
    acquisition_seconds: float
    cpu_seconds: float  # this thread's CPU time for both: the cost without contention


def propose(
    method: Method,
    config: BayesOptConfig,
    problem: ProblemInfo,
    x: np.ndarray,
    objectives: np.ndarray,
    slacks: np.ndarray | None,
    pending: np.ndarray | None,
    n: int,
    seed: int,
    device: str,
    failed: np.ndarray | None = None,
    sem: np.ndarray | None = None,
    constraint_sem: np.ndarray | None = None,
    measured: MeasuredConstraints | None = None,
) -> Proposal:
    """Fit on the observations, then optimise ``method``'s acquisition for ``n`` points.

    ``x`` (``n_obs x d``), ``objectives`` (``n_obs x m``, raw, the problem's senses),
    ``slacks`` (``n_obs x c`` or None), ``pending`` (``k x d`` or None) and ``failed``
    (``f x d`` or None: points whose evaluation failed, modelled by the success GP of
    :func:`bayesopt.models.fit_model`, one more slack) are numpy arrays in problem
    units (a choice by its index); so is the ``n x d`` result. ``sem`` (``n_obs x m`` or
    None) are the objectives' known standard errors, NaN where unknown: an objective
    with every one known is fitted with that noise; ``constraint_sem`` (``n_obs x c``
    or None), the same for the slacks. ``measured``: where the slacks are sums of
    measured values, those values, which are modelled in their place. ``seed`` seeds all
    randomness.
    """
    tkwargs: dict[str, Any] = {"dtype": torch.float64, "device": torch.device(device)}
    parameters = problem.parameters
    bounds = torch.tensor(space.bounds(parameters), **tkwargs)
    maximised = torch.tensor(to_maximization(objectives, problem.senses), **tkwargs)
    train_x = torch.tensor(space.encode(parameters, x), **tkwargs)
    train_slacks = None if slacks is None else torch.tensor(slacks, **tkwargs)
    modelled, modelled_sem = ((train_slacks, constraint_sem) if measured is None else
                              (torch.tensor(measured.values, **tkwargs), measured.sem))
    train_y = maximised if modelled is None else torch.cat([maximised, modelled], -1)
    m = maximised.shape[-1]
    train_yvar = None
    if sem is not None or modelled_sem is not None:  # NaN: that noise is inferred
        train_yvar = torch.full_like(train_y, float("nan"))
        if sem is not None:
            train_yvar[:, :m] = torch.tensor(sem, **tkwargs) ** 2
        if modelled_sem is not None:
            train_yvar[:, m:] = torch.tensor(modelled_sem, **tkwargs) ** 2
    failed_x = (None if failed is None or len(failed) == 0
                else torch.tensor(space.encode(parameters, failed), **tkwargs))
    if failed_x is not None:  # every observed point succeeded: slack +1 on the success GP
        succeeded = torch.ones(len(train_x), 1, **tkwargs)
        train_slacks = succeeded if train_slacks is None else torch.cat([train_slacks, succeeded], -1)
    published = (
        None
        if problem.reference_point is None
        else torch.tensor(to_maximization(problem.reference_point, problem.senses), **tkwargs)
    )
    with torch.random.fork_rng(devices=_rng_devices(tkwargs["device"])):
        torch.manual_seed(seed)
        started, cpu_started = time.perf_counter(), time.thread_time()
        model = fit_model(train_x, train_y, bounds, failed_x, train_yvar)
        fitted = time.perf_counter()
        surrogate = Surrogate(
            model=model,
            x=train_x,
            objectives=maximised,
            slacks=train_slacks,
            pending=None
            if pending is None or len(pending) == 0
            else torch.tensor(space.encode(parameters, pending), **tkwargs),
            bounds=bounds,
            published_reference_point=published,
            front_values=None if sem is None else _posterior_means(model, train_x, m),
            inequalities=_inequalities(problem, tkwargs),
            discrete=space.discrete_values(parameters),
            slack_map=None if measured is None else (
                torch.tensor(measured.weights, **tkwargs),
                torch.tensor(measured.offsets, **tkwargs)),
        )
        candidates = method.optimise(surrogate, n, config, seed).detach()  # n x d
        x_new = parameter_constraints.feasible_values(
            parameters, problem.parameter_constraints, candidates.cpu().numpy().reshape(n, -1),
            fallback=functools.partial(_fallback_points, problem, seed))
        acquired = time.perf_counter()
    return Proposal(x_new, fitted - started, acquired - fitted, time.thread_time() - cpu_started)


def _inequalities(problem: ProblemInfo,
                  tkwargs: dict[str, Any]) -> list[tuple[Tensor, Tensor, float]] | None:
    if not problem.parameter_constraints:
        return None
    return [(torch.tensor(columns, dtype=torch.long, device=tkwargs["device"]),
             torch.tensor(coefficients, **tkwargs), float(rhs))
            for columns, coefficients, rhs in parameter_constraints.search_inequalities(
                problem.parameters, problem.parameter_constraints)]


def _points_inside(bounds: Tensor, inequalities: list[tuple[Tensor, Tensor, float]],
                   n: int, q: int, seed: int | None) -> Tensor:
    """``n x q x D`` points of the seeded, scrambled Sobol sequence of ``bounds`` that
    satisfy every ``(columns, coefficients, rhs)`` inequality, in sequence order.
    Without a ``seed`` (BoTorch passes none) it is drawn from torch's generator, as
    BoTorch's own raw samples are, so the iteration's seed still fixes the points."""
    if seed is None:
        seed = int(torch.randint(0, 1_000_000, (1,)).item())
    engine = SobolEngine(bounds.shape[-1], scramble=True, seed=seed)
    kept: list[Tensor] = []
    found = drawn = 0
    while found < n * q:
        if drawn >= sobol.MAX_DRAWS and found < drawn / 2**14:
            raise ValueError(f"the parameter constraints leave too little of the box: "
                             f"{found} of {drawn:,} Sobol points satisfy them")
        z = bounds[0] + (bounds[1] - bounds[0]) * engine.draw(
            4096, dtype=bounds.dtype).to(bounds.device)
        drawn += len(z)
        inside = torch.ones(len(z), dtype=torch.bool, device=z.device)
        for columns, coefficients, rhs in inequalities:
            inside &= z[:, columns] @ coefficients >= rhs
        kept.append(z[inside])
        found += int(inside.sum())
    return torch.cat(kept)[: n * q].reshape(n, q, -1)


def _fallback_points(problem: ProblemInfo, seed: int) -> np.ndarray:
    """Points known to satisfy the parameter constraints, for a candidate whose rounding
    cannot (:func:`bayesopt.parameter_constraints.feasible_values`, which asks for them
    only then)."""
    return sobol.points(problem.parameters, seed, 0, 256,
                        constraints=problem.parameter_constraints)


def _posterior_means(model: Any, x: Tensor, m: int) -> Tensor:
    """``n x m``: the objectives' posterior means at ``x``, the observations denoised."""
    with torch.no_grad():
        return model.posterior(x).mean[..., :m]


def _rng_devices(device: torch.device) -> list[int]:
    """The CUDA devices whose RNG state ``fork_rng`` must save and restore."""
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def iteration_seed(seed: int, iteration: int) -> int:
    """A 32-bit seed for one iteration, a deterministic function of (seed, iteration)."""
    sequence = np.random.SeedSequence([seed % 2**64, iteration])
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def _initial_points(
    parameters: tuple[Parameter, ...], seed: int, start: int, n: int, centre: bool,
    constraints: tuple[LinearConstraint, ...] = (),
) -> np.ndarray:
    """Points ``start .. start + n - 1`` of the initial design, ``n x d``.

    Without ``centre``, the seeded Sobol sequence itself (the ``sobol`` baseline's
    points); with it, point 0 is the centre of the box and point ``i >= 1`` is Sobol
    point ``i - 1``, so a resumed campaign or a later suggestion continues the same design.
    Under parameter ``constraints`` the Sobol points are those that satisfy them, and a
    centre outside them is moved to the centre of the region they leave, or, where that
    rounds outside, left out (as Ax's centre trial: :func:`bayesopt.parameter_constraints.centre`).
    """
    first = None
    if centre:
        first = (parameter_constraints.centre(parameters, constraints) if constraints
                 else space.centre(parameters))
    if first is None or n == 0:
        return sobol.points(parameters, seed, start, n, constraints=constraints)
    rows = []
    if start == 0 and n > 0:
        rows.append(first)
        start, n = 1, n - 1
    rows.append(sobol.points(parameters, seed, start - 1, n, constraints=constraints))
    return np.concatenate(rows, axis=0)


# ---- the campaign loop --------------------------------------------------------------


@dataclass
class _Observed:
    """The campaign's observations so far; checkpointed after each batch."""

    x: list[list[float]]
    objectives: list[list[float]]
    constraints: list[list[float]] | None
    iteration: int  # the last completed iteration; -1 before the initial design

    def state(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "x": self.x,
            "objectives": self.objectives,
            "constraints": self.constraints,
        }

    @classmethod
    def restore(cls, state: dict[str, Any] | None, constrained: bool) -> _Observed:
        if state is None:
            return cls([], [], [] if constrained else None, -1)
        return cls(
            [list(map(float, row)) for row in state["x"]],
            [list(map(float, row)) for row in state["objectives"]],
            None
            if state["constraints"] is None
            else [list(map(float, row)) for row in state["constraints"]],
            int(state["iteration"]),
        )

    def arrays(self, d: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        x = np.array(self.x, dtype=np.float64).reshape(-1, d)
        objectives = np.array(self.objectives, dtype=np.float64).reshape(-1, m)
        if self.constraints is None:
            return x, objectives, None
        slacks = np.array(self.constraints, dtype=np.float64).reshape(len(x), -1)
        return x, objectives, slacks


def run_loop(
    method: Method,
    problem: Any,
    params: dict[str, Any],
    seed: int,
    device: str,
    recorder: Recorder,
) -> None:
    """Drive one BO campaign on ``problem`` to ``recorder.budget`` evaluations."""
    config = method.config.model_validate(params)
    info: ProblemInfo = problem.info
    d, m, c = len(info.parameters), info.n_objectives, info.constraints
    if d == 0:
        raise ValueError(
            f"{method.name} needs a problem with decision parameters; {info.id} has none"
        )
    total = sobol.evaluations_in(recorder.budget, method.name)
    n_initial = min(config.initial_points(d), total)

    observed = _Observed.restore(recorder.restore(), constrained=c > 0)
    if not 0 <= len(observed.x) <= total:
        raise ValueError(
            f"checkpoint holds {len(observed.x)} evaluations, outside the budget 0..{total}"
        )

    while len(observed.x) < total:
        iteration = observed.iteration + 1
        if len(observed.x) < n_initial:
            stage = "initial"
            x = _initial_points(
                info.parameters, seed, len(observed.x), n_initial - len(observed.x),
                config.initial_centre, info.parameter_constraints,
            )  # fmt: skip
            fit_seconds = acquisition_seconds = proposal_cpu_seconds = 0.0
        else:
            stage = "acquisition"
            n = min(config.q, total - len(observed.x))
            x_seen, objectives_seen, slacks_seen = observed.arrays(d, m)
            proposal = propose(
                method, config, info, x_seen, objectives_seen, slacks_seen, None, n,
                iteration_seed(seed, iteration), device, sem=_known_noise(problem, len(x_seen)),
                constraint_sem=_known_noise(problem, len(x_seen), "constraint_noise_std"),
            )  # fmt: skip
            x = proposal.candidates
            fit_seconds, acquisition_seconds = proposal.fit_seconds, proposal.acquisition_seconds
            proposal_cpu_seconds = proposal.cpu_seconds

        started = time.perf_counter()
        objectives, slacks, measured = problems.measure(problem, x, seed, iteration)
        evaluation_seconds = time.perf_counter() - started

        recorder.log(
            fit_seconds=fit_seconds,
            acquisition_seconds=acquisition_seconds,
            proposal_cpu_seconds=proposal_cpu_seconds,
            evaluation_seconds=evaluation_seconds,
        )
        recorder.record(_evaluated(info, x, objectives, slacks,
                                   {"iteration": iteration, "stage": stage}, measured))
        observed.x += x.tolist()
        observed.objectives += objectives.tolist()
        if observed.constraints is not None and slacks is not None:
            observed.constraints += slacks.tolist()
        observed.iteration = iteration
        recorder.checkpoint(observed.state())


def _known_noise(problem: Any, n: int, field: str = "noise_std") -> np.ndarray | None:
    """A noisy test function's deviations (``noise_std``, or ``constraint_noise_std``)
    as the ``n x m`` (``n x c``) standard errors of what was observed (NaN for a
    noise-free outcome, whose noise the GP infers), so each GP is fitted with the noise
    known, as BoTorch's noisy multi-objective tutorial does."""
    noise_std = getattr(problem, field, None)
    if noise_std is None:
        return None
    return np.tile([v if v > 0 else np.nan for v in noise_std], (n, 1))


def _evaluated(
    info: ProblemInfo,
    x: np.ndarray,
    objectives: np.ndarray,
    slacks: np.ndarray | None,
    meta: dict[str, Any],
    measured: list[dict[str, Any]],
) -> list[Evaluated]:
    return [
        Evaluated(
            objectives=[float(v) for v in objectives[j]],
            params={p.name: p.cast(v) for p, v in zip(info.parameters, x[j], strict=True)},
            kind="candidate",
            cost=1.0,
            meta={**meta, "batch_index": j, **measured[j]},
            constraints=None if slacks is None else [float(v) for v in slacks[j]],
        )
        for j in range(len(x))
    ]


def run_qlognehvi(
    problem: Any, params: dict[str, Any], seed: int, device: str, recorder: Recorder
) -> None:
    """A ``qlognehvi`` campaign (:class:`jobs.protocol.Algorithm`)."""
    run_loop(QLOGNEHVI, problem, params, seed, device, recorder)


def run_qnparego(
    problem: Any, params: dict[str, Any], seed: int, device: str, recorder: Recorder
) -> None:
    """A ``qnparego`` campaign (:class:`jobs.protocol.Algorithm`)."""
    run_loop(QNPAREGO, problem, params, seed, device, recorder)


# ---- ask/tell -----------------------------------------------------------------------


def suggest_with(
    method: Method,
    problem: ProblemInfo,
    params: dict[str, Any],
    seed: int,
    observations: Observations,
    n: int,
    device: str,
) -> np.ndarray:
    """``n x d`` suggestions given ``observations`` (:class:`jobs.protocol.Suggest`).

    Sobol points (continuing the seeded sequence from ``observations.n_suggested``)
    while fewer than ``n_initial`` points are observed or pending, or none is observed
    yet; then the method's acquisition, conditioned on the pending points and weighted by
    the success GP of the failed ones (``failure_model``). The
    randomness of a model-based suggestion is seeded from ``(seed, n_suggested)``.
    """
    config = method.config.model_validate(params)
    d, m, c = len(problem.parameters), problem.n_objectives, problem.constraints
    if d == 0:
        raise ValueError(
            f"{method.name} needs a problem with decision parameters; {problem.id} has none"
        )
    if n < 0:
        raise ValueError(f"cannot suggest a negative number of points ({n})")
    x, objectives, slacks, pending, failed, sem = _observation_arrays(observations, d, m, c)
    if n == 0:
        return np.empty((0, d), dtype=np.float64)
    if len(x) == 0 or len(x) + len(pending) < config.initial_points(d):
        return _initial_points(
            problem.parameters, seed, observations.n_suggested, n, config.initial_centre,
            problem.parameter_constraints,
        )
    if not config.failure_model:
        pending, failed = np.vstack([pending, failed]), failed[:0]
    constraint_sem = (None if c == 0 else _standard_errors(
        observations.constraint_sem, len(x), c, "constraint_sem"))
    proposal = propose(
        method, config, problem, x, objectives, slacks, pending, n,
        iteration_seed(seed, observations.n_suggested), device, failed=failed, sem=sem,
        constraint_sem=constraint_sem, measured=_measured(problem, observations, len(x)),
    )  # fmt: skip
    return proposal.candidates


def denoised_objectives(problem: ProblemInfo, observations: Observations,
                        device: str = "cpu") -> np.ndarray:
    """``n x m``: the posterior means of the objectives at the observed points, in raw
    units and the problem's senses: the measurements with their noise modelled away.

    The GPs are the BO methods' own (:func:`bayesopt.models.fit_model`: the known
    standard errors where ``observations.sem`` has them all for an objective, an
    inferred noise level otherwise), fitted with a fixed seed, so the same
    observations give the same values. Picking the front of these values instead of
    the measurements' is Ax's ``use_model_predictions``: a point whose measurement
    was lucky is not put on it, nor one that was unlucky kept off.
    """
    d, m = len(problem.parameters), problem.n_objectives
    if d == 0:
        raise ValueError(f"{problem.id} has no decision parameters to model the objectives on")
    x, objectives, _, _, _, sem = _observation_arrays(observations, d, m, 0)
    if len(x) == 0:
        return np.empty((0, m), dtype=np.float64)
    means = _means_at_observations(
        problem, x, to_maximization(objectives, problem.senses), sem, device)
    return from_maximization(means, problem.senses)


def denoised_slacks(problem: ProblemInfo, observations: Observations,
                    device: str = "cpu") -> np.ndarray:
    """``n x c``: the posterior means of the outcome constraints' slacks at the observed
    points, by the same GPs as :func:`denoised_objectives` (each slack with its told
    ``constraint_sem`` as known noise, else an inferred level): feasibility judged on
    the model's predictions rather than noisy measurements, as Ax's
    ``use_model_predictions`` judges its outcome constraints."""
    d, c = len(problem.parameters), problem.constraints
    if d == 0 or c == 0:
        raise ValueError(f"{problem.id} has no outcome constraints on decision parameters "
                         "to model")
    x, _, slacks, _, _, _ = _observation_arrays(observations, d, problem.n_objectives, c)
    if len(x) == 0 or slacks is None:
        return np.empty((0, c), dtype=np.float64)
    measured = _measured(problem, observations, len(x))
    if measured is not None:  # the values the slacks sum, modelled as the methods do
        means = _means_at_observations(problem, x, measured.values, measured.sem, device)
        return means @ measured.weights.T + measured.offsets
    sem = _standard_errors(observations.constraint_sem, len(x), c, "constraint_sem")
    return _means_at_observations(problem, x, slacks, sem, device)


def _means_at_observations(problem: ProblemInfo, x: np.ndarray, values: np.ndarray,
                           sem: np.ndarray | None, device: str) -> np.ndarray:
    """``n x k``: the posterior means at ``x`` of one GP per column of ``values`` fitted
    to them (the known standard errors ``sem`` where a column has them all), with a
    fixed seed, so the same observations give the same values."""
    tkwargs: dict[str, Any] = {"dtype": torch.float64, "device": torch.device(device)}
    train_x = torch.tensor(space.encode(problem.parameters, x), **tkwargs)
    with torch.random.fork_rng(devices=_rng_devices(tkwargs["device"])):
        torch.manual_seed(0)
        model = fit_model(train_x, torch.tensor(values, **tkwargs),
                          torch.tensor(space.bounds(problem.parameters), **tkwargs),
                          train_yvar=None if sem is None else torch.tensor(sem, **tkwargs) ** 2)
        return _posterior_means(model, train_x, values.shape[1]).cpu().numpy()


@dataclass(frozen=True)
class MeasuredConstraints:
    """Outcome constraints modelled through the values they sum (Ax's scalarised
    constraints): ``values`` (``n x k``, the values told), their ``sem`` (NaN where
    unknown, or None), and each slack as ``weights @ values + offsets`` (``c x k``,
    ``c``; :meth:`jobs.protocol.ProblemInfo.slack_map`)."""

    values: np.ndarray
    sem: np.ndarray | None
    weights: np.ndarray
    offsets: np.ndarray


def _measured(problem: ProblemInfo, observations: Observations,
              n: int) -> MeasuredConstraints | None:
    """The values the constraints sum, where some constraint bounds a sum and they were
    observed; else None (each slack is modelled itself)."""
    if not problem.scalarised or observations.metrics is None:
        return None
    k = len(problem.metric_names)
    values = _matrix(observations.metrics, k, "metrics")
    if len(values) != n:
        raise ValueError(f"{n} observed points but {len(values)} rows of metrics")
    weights, offsets = problem.slack_map()
    return MeasuredConstraints(values, _standard_errors(observations.metric_sem, n, k, "metric_sem"),
                               np.array(weights, dtype=np.float64),
                               np.array(offsets, dtype=np.float64))


def _observation_arrays(
    observations: Observations, d: int, m: int, c: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, np.ndarray | None]:
    """Check the shapes of ``observations``; (x, objectives, slacks, pending, failed, sem)."""
    x = _matrix(observations.x, d, "x")
    objectives = _matrix(observations.objectives, m, "objectives")
    if len(objectives) != len(x):
        raise ValueError(f"{len(x)} observed points but {len(objectives)} objective rows")
    slacks = None
    if c > 0:
        if observations.constraints is None:
            raise ValueError(f"the problem has {c} constraints but no slacks were observed")
        slacks = _matrix(observations.constraints, c, "constraints")
        if len(slacks) != len(x):
            raise ValueError(f"{len(x)} observed points but {len(slacks)} constraint rows")
    pending = _matrix(observations.pending, d, "pending")
    failed = _matrix(observations.failed, d, "failed")
    return x, objectives, slacks, pending, failed, _standard_errors(observations.sem, len(x), m)


def _standard_errors(values: Any, n: int, m: int, name: str = "sem") -> np.ndarray | None:
    """``observations.sem`` (or ``name``) checked: ``n x m``, each >= 0 or NaN (not
    given); None if it is None or all NaN."""
    if values is None:
        return None
    sem = np.asarray(values, dtype=np.float64)
    if sem.size == 0:
        sem = sem.reshape(0, m)
    if sem.shape != (n, m):
        raise ValueError(f"observations.{name} must be an {n} x {m} array, got shape "
                         f"{sem.shape}")
    given = sem[~np.isnan(sem)]
    if not (np.isfinite(given) & (given >= 0)).all():
        raise ValueError(f"observations.{name} must be >= 0 and finite, or NaN where not given")
    return None if len(given) == 0 else sem


def _matrix(values: Any, width: int, name: str) -> np.ndarray:
    array = np.asarray([] if values is None else values, dtype=np.float64)
    if array.size == 0:
        return array.reshape(0, width)
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(
            f"observations.{name} must be an n x {width} array, got shape {array.shape}"
        )
    if not np.isfinite(array).all():
        raise ValueError(f"observations.{name} must be finite")
    return array


def suggest_qlognehvi(
    problem: ProblemInfo,
    params: dict[str, Any],
    seed: int,
    observations: Observations,
    n: int,
    device: str,
) -> np.ndarray:
    """Ask ``qlognehvi`` for ``n`` points (:class:`jobs.protocol.Suggest`)."""
    return suggest_with(QLOGNEHVI, problem, params, seed, observations, n, device)


def suggest_qnparego(
    problem: ProblemInfo,
    params: dict[str, Any],
    seed: int,
    observations: Observations,
    n: int,
    device: str,
) -> np.ndarray:
    """Ask ``qnparego`` for ``n`` points (:class:`jobs.protocol.Suggest`)."""
    return suggest_with(QNPAREGO, problem, params, seed, observations, n, device)
