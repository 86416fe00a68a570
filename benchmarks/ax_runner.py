"""One Ax campaign for ``bench_bo.py``, run with the Ax virtual environment's Python.

Ax (``ax-platform`` 1.3) pins packages that clash with mofront's (its SQL storage pins
SQLAlchemy 1.4), so it lives in ``benchmarks/.ax-venv`` and this script imports nothing
of mofront's. It drives Ax's ``Client`` API with Ax's own default generation strategy
(``configure_generation_strategy`` is never called: Ax chooses, and we record what it
chose), on the same problem as mofront's campaigns: the BoTorch test function evaluated
here with ``negate=False`` (every objective minimised, as published), and the published
reference point given to Ax as objective thresholds (``f_i <= r_i``) so that Ax knows it.

The loop asks for ``q`` trials at a time (``client.get_next_trials(max_trials=q)``, the
last request cut to what the budget has left), evaluates them, completes them, and
repeats until ``budget`` trials are complete. While Ax initialises it may hand out
fewer than ``q`` trials per request; each request is one iteration of the output.

    benchmarks/.ax-venv/bin/python benchmarks/ax_runner.py --problem branin-currin \\
        --seed 0 --budget 100 --q 4 --out /tmp/ax.json

``--noise relative`` (for ``bench_noise.py``; the default, ``none``, is the noiseless
campaign above) observes objective ``j`` with Gaussian noise of a relative error
``rel`` (``--noise-relative``): ``sd_j(x) = rel * |f_j(x)|``, ``y_j = f_j(x) + sd_j(x) z_ij`` with ``z`` the ``budget x m`` standard normals of
``numpy.random.default_rng(--noise-seed)``, row ``i`` for trial ``i``. With ``--sem``
(the default) each trial is completed with ``(y_j, sd_j(x))``, Ax's ``(mean, sem)``;
with ``--no-sem`` with ``y_j`` alone, so that Ax infers the noise. ``--noise fixed``
(for ``bench_noisy_campaign.py``) is the same with one deviation per objective,
``sd_j = --noise-std``'s ``j``-th (``15.19,0.63``: BoTorch's noisy tutorial).

``--parameter-constraint 'x1 + x2 <= 2'`` (repeated for more; ``bench_parameter_constraints.py``)
gives Ax linear constraints on the inputs (``configure_experiment(parameter_constraints=...)``).

``--problem batch-sweep`` is ``bench_choices.py``'s problem (``batch_sweep.py``, beside
this script): a log-scale learning rate, the batch size an ``int``
``ChoiceParameterConfig`` (which Ax orders by default) and a dropout; ``accuracy``
maximised and ``time`` minimised, with the reference point as thresholds
(``accuracy >= 0.8``, ``time <= 3.0``).

A constrained problem (``c2dtlz2``; ``bench_outcome_constraints.py``) reports its
constraint as the metric ``violation``, BoTorch's slack negated, completed with each
trial beside the objectives, and gives Ax the outcome constraint ``violation <= 0.0``
(feasible iff BoTorch's slack is ``>= 0``); its trials carry ``violation``.
``constrained-branin-currin`` (``bench_scalarised_constraints.py``) reports its disk
constraint, ``(X0 - 2.5)^2 + (X1 - 7.5)^2 <= 50`` in BoTorch's unnormalised
coordinates, as its two squares, the metrics ``dx`` and ``dy``, and gives Ax the
scalarised outcome constraint ``dx + dy <= 50.0``; with ``--constraint-as-sum``, the
one metric ``disk`` (their sum) and ``disk <= 50.0``. Its trials carry the metrics.
``--fix-scalarised-constraints`` mends, in this process, how Ax 1.3.1 hands such a
constraint to BoTorch (:func:`_mend_scalarised_constraints`).

Output JSON: the versions, the generation strategy's name, every trial (x, objectives,
the generation node that produced it) in trial order, and per iteration the seconds
spent generating (model fit + acquisition), evaluating and completing. A noisy
campaign's trials also carry the noise (``sd``, ``z``), what Ax was told (``observed``,
``sem``: None with ``--no-sem``) and, for a model-based trial, what Ax fitted and
optimised to produce it (``model``, see :func:`_model_of`); ``objectives`` stay the
noise-free values. A noisy campaign also records ``predicted_front``: the trials on
Ax's front of its model's predictions at the end (``client.get_pareto_frontier(
use_model_predictions=True)``, Ax's denoised front), each with its predicted values.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import batch_sweep  # beside this script: pure numpy
import numpy as np
import torch
from ax.adapter import adapter_utils
from ax.api.client import Client
from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig
from botorch.test_functions import multi_objective

INITIAL_NODES = ("CenterOfSearchSpace", "Sobol")  # Ax's nodes that fit no model

# The benchmark's problems, as BoTorch builds them (the ids are mofront's catalogue ids).
PROBLEMS: dict[str, tuple[str, dict[str, int], list[str]]] = {
    "branin-currin": ("BraninCurrin", {}, ["branin", "currin"]),
    "dtlz2": ("DTLZ2", {"dim": 6, "num_objectives": 2}, ["f1", "f2"]),
    "c2dtlz2": ("C2DTLZ2", {"dim": 4, "num_objectives": 2}, ["f1", "f2"]),
    "constrained-branin-currin": ("ConstrainedBraninCurrin", {}, ["branin", "currin"]),
}
BATCH_SWEEP = "batch-sweep"  # bench_choices.py's problem (batch_sweep.py), not BoTorch's
CONSTRAINT_METRIC = "violation"  # a constrained problem's: BoTorch's slack, negated
DISK_RADIUS_SQUARED = 50.0  # ConstrainedBraninCurrin's disk: dx + dy <= 50


@dataclass
class Problem:
    """A problem as a campaign sees it: Ax's parameter configs, the objectives with their
    senses and reference point, and ``evaluate`` (points, one list of values per
    parameter, to their objectives and, for a constrained problem, the metrics its
    outcome constraints are on, by name) and the outcome constraints, as Ax writes them."""

    parameters: list[Any]
    objectives: list[str]
    senses: list[str]
    reference_point: list[float]
    evaluate: Callable[[list[list[Any]]], tuple[list[list[float]], list[dict[str, float]]]]
    outcome_constraints: tuple[str, ...] = ()


def make_problem(problem_id: str, constraint_as_sum: bool = False) -> Problem:
    if problem_id == BATCH_SWEEP:
        return Problem(
            parameters=[
                RangeParameterConfig(name="lr", parameter_type="float", bounds=batch_sweep.LR,
                                     scaling="log"),
                ChoiceParameterConfig(name="batch", parameter_type="int",
                                      values=batch_sweep.BATCHES),  # Ax's default: ordered
                RangeParameterConfig(name="dropout", parameter_type="float",
                                     bounds=batch_sweep.DROPOUT)],
            objectives=list(batch_sweep.OBJECTIVES), senses=list(batch_sweep.OBJECTIVES.values()),
            reference_point=list(batch_sweep.REFERENCE_POINT),
            evaluate=lambda points: ([list(batch_sweep.evaluate(*p)) for p in points],
                                     [{} for _ in points]))
    class_name, arguments, names = PROBLEMS[problem_id]
    function = getattr(multi_objective, class_name)(negate=False, **arguments).to(torch.float64)
    metrics, constraints = _constraint_metrics(problem_id, function, constraint_as_sum)

    def evaluate(points: list[list[Any]]) -> tuple[list[list[float]], list[dict[str, float]]]:
        x = torch.tensor(points, dtype=torch.float64)
        with torch.no_grad():
            return function(x).tolist(), metrics(x)

    bounds = function.bounds.tolist()  # 2 x d
    return Problem(
        parameters=[RangeParameterConfig(name=f"x{i}", parameter_type="float", bounds=(low, high))
                    for i, (low, high) in enumerate(zip(bounds[0], bounds[1], strict=True))],
        objectives=names, senses=["minimize"] * len(names),  # as published, negate=False
        reference_point=[float(v) for v in function.ref_point.tolist()],
        evaluate=evaluate, outcome_constraints=constraints)


def _constraint_metrics(problem_id: str, function: Any, as_sum: bool) -> tuple[
        Callable[[torch.Tensor], list[dict[str, float]]], tuple[str, ...]]:
    """What a constrained problem reports beside its objectives at each point, and the
    outcome constraints on it (module docstring); nothing for an unconstrained one."""
    if problem_id == "constrained-branin-currin":
        def squares(x: torch.Tensor) -> list[dict[str, float]]:
            low, high = function.con_bounds
            unnormalised = low + x * (high - low)
            dx = (unnormalised[:, 0] - 2.5).pow(2).tolist()
            dy = (unnormalised[:, 1] - 7.5).pow(2).tolist()
            return [{"disk": a + b} if as_sum else {"dx": a, "dy": b}
                    for a, b in zip(dx, dy, strict=True)]

        bound = DISK_RADIUS_SQUARED
        return squares, ((f"disk <= {bound!r}",) if as_sum else (f"dx + dy <= {bound!r}",))
    if getattr(function, "num_constraints", 0) > 0:
        def violation(x: torch.Tensor) -> list[dict[str, float]]:
            slacks = function.evaluate_slack_true(x)[:, 0]
            return [{CONSTRAINT_METRIC: v} for v in (-slacks).tolist()]

        return violation, (f"{CONSTRAINT_METRIC} <= 0.0",)
    return (lambda x: [{} for _ in range(len(x))]), ()


def _mend_scalarised_constraints() -> None:
    """Two mends, in this process, to how Ax 1.3.1 models a constraint on a sum of
    metrics (``dx + dy <= 50``), without which nothing meets it in the model's units:

    * ``BilogY`` bilog-transforms every metric of a constraint around the constraint's
      bound, ``f(y) = bound + sign(y - bound) log(|y - bound| + 1)``. That keeps
      ``f(bound) = bound`` for a constraint on one metric; on a sum it maps ``dx = 5``
      and ``dy = 5`` to about 46 each, whose sum never meets 50. Here the metrics of a
      sum are left untransformed.
    * ``extract_outcome_constraints`` builds BoTorch's ``A y <= b`` from a constraint
      on several metrics only when it is the deprecated ``ScalarizedOutcomeConstraint``
      class; any other it reads as a constraint on its first metric, and
      ``StandardizeY`` turns every scalarised constraint into a plain
      ``OutcomeConstraint``. So ``dx + dy <= 50`` reached BoTorch as ``dx <= -44.5``
      (standardised). Here every metric's weight is read, as Ax's plots were mended to
      (``len(metric_names) > 1`` in place of the class test)."""
    from ax.adapter import adapter_utils
    from ax.adapter import torch as torch_adapter
    from ax.adapter.transforms import bilog_y
    from ax.core.types import ComparisonOp

    bilog_init = bilog_y.BilogY.__init__

    def init_without_sums(self: Any, search_space: Any = None, experiment_data: Any = None,
                          adapter: Any = None, config: Any = None) -> None:
        bilog_init(self, search_space=search_space, experiment_data=experiment_data,
                   adapter=adapter, config=config)
        config_of = None if adapter is None else adapter._optimization_config
        summed = {signature for c in (config_of.outcome_constraints if config_of else [])
                  if len(c.metric_signatures) > 1 for signature in c.metric_signatures}
        self.metric_to_bound = {signature: bound for signature, bound
                                in self.metric_to_bound.items() if signature not in summed}

    bilog_y.BilogY.__init__ = init_without_sums

    def extract(outcome_constraints: list[Any], outcomes: list[str]) -> Any:
        if not outcome_constraints:
            return None
        a = np.zeros((len(outcome_constraints), len(outcomes)))
        b = np.zeros((len(outcome_constraints), 1))
        for i, constraint in enumerate(outcome_constraints):
            sign = 1.0 if constraint.op == ComparisonOp.LEQ else -1.0
            for signature, weight in constraint.metric_weights:
                a[i, outcomes.index(signature)] = sign * weight
            b[i, 0] = sign * constraint.bound
        return a, b

    adapter_utils.extract_outcome_constraints = extract
    torch_adapter.extract_outcome_constraints = extract  # imported by name there


def run(problem_id: str, seed: int, budget: int, q: int, centre: bool = True,
        noise: dict[str, Any] | None = None,
        parameter_constraints: list[str] | None = None,
        constraint_as_sum: bool = False) -> dict[str, Any]:
    """One campaign. ``noise``: None (noiseless), or ``{"relative": rel, "seed": int,
    "sem": bool}`` for the relative noise of the module docstring (``{"std": [...],
    ...}`` for the fixed one).
    ``parameter_constraints``: Ax's linear constraints on the inputs, as strings."""
    torch.set_num_threads(1)
    problem = make_problem(problem_id, constraint_as_sum)
    names, reference_point = problem.objectives, problem.reference_point
    z = None
    if noise is not None:
        z = np.random.default_rng(noise["seed"]).standard_normal((budget, len(names)))
    parameters = [p.name for p in problem.parameters]
    if problem.outcome_constraints and noise is not None:
        raise ValueError("a constrained problem is run without noise")

    client = Client(random_seed=seed)
    client.configure_experiment(
        name=f"{problem_id}-{seed}",
        parameters=problem.parameters,
        parameter_constraints=parameter_constraints or None,
    )
    least = {"minimize": "<=", "maximize": ">="}  # the reference point as thresholds
    client.configure_optimization(
        objective=", ".join(name if sense == "maximize" else f"-{name}"
                            for name, sense in zip(names, problem.senses, strict=True)),
        outcome_constraints=[
            f"{name} {least[sense]} {value!r}"
            for name, sense, value in zip(names, problem.senses, reference_point, strict=True)
        ] + list(problem.outcome_constraints),
    )

    if not centre:  # a diagnostic only: Ax's default strategy, less its centre-point trial
        client.configure_generation_strategy(initialize_with_center=False)

    trials: list[dict[str, Any]] = []
    iterations: list[dict[str, Any]] = []
    while len(trials) < budget:
        started = time.perf_counter()
        asked = client.get_next_trials(max_trials=min(q, budget - len(trials)))
        generated = time.perf_counter()
        indices = sorted(asked)
        x = [[asked[index][name] for name in parameters] for index in indices]
        objectives, measured = problem.evaluate(x)  # n x m, in the problem's senses
        noisy: list[dict[str, Any]] = [{} for _ in indices]  # stays empty without noise
        if z is not None:
            assert noise is not None
            for row, (index, values) in enumerate(zip(indices, objectives, strict=True)):
                sd = (list(noise["std"]) if "std" in noise
                      else [noise["relative"] * abs(v) for v in values])
                observed = [v + s * e for v, s, e in zip(values, sd, z[index], strict=True)]
                noisy[row] = {"observed": observed, "sem": sd if noise["sem"] else None,
                              "sd": sd, "z": z[index].tolist()}
        evaluated = time.perf_counter()
        for index, values, told, metrics in zip(indices, objectives, noisy, measured,
                                                strict=True):
            raw_data: dict[str, Any]
            if not told:
                raw_data = {name: float(v) for name, v in zip(names, values, strict=True)}
                raw_data |= metrics
            elif told["sem"] is None:  # the mean only: Ax infers the noise
                raw_data = dict(zip(names, told["observed"], strict=True))
            else:  # (mean, sem)
                raw_data = dict(zip(names, zip(told["observed"], told["sem"], strict=True),
                                    strict=True))
            client.complete_trial(trial_index=index, raw_data=raw_data)
        completed = time.perf_counter()
        nodes = [_node_of(client, index) for index in indices]
        model = (_model_of(client) if z is not None  # completing trials refits nothing
                 and any(node not in INITIAL_NODES for node in nodes) else None)
        for index, point, values, node, told, metrics in zip(
                indices, x, objectives, nodes, noisy, measured, strict=True):
            trial = {"index": index, "x": point, "objectives": values, "node": node, **metrics}
            if z is not None:
                trial |= {**told, "model": None if node in INITIAL_NODES else model}
            trials.append(trial)
        iterations.append({
            "n_trials": len(indices),
            "nodes": sorted(set(nodes)),
            "generate_seconds": generated - started,
            "evaluate_seconds": evaluated - generated,
            "complete_seconds": completed - evaluated,
            "wall_seconds": completed - started,
        })

    strategy = client._generation_strategy_or_choose()  # what Ax chose by default
    predicted_front = None
    if z is not None:  # Ax's own denoised front: its model's predictions at every arm
        predicted_front = [
            {"trial": index, "predicted": {name: _mean(outcome[name]) for name in names}}
            for _, outcome, index, _ in client.get_pareto_frontier(use_model_predictions=True)]
    return {
        "problem": problem_id,
        "seed": seed,
        "budget": budget,
        "q": q,
        "reference_point": reference_point,
        "generation_strategy": strategy.name,
        "versions": {
            package: metadata.version(package)
            for package in ("ax-platform", "botorch", "gpytorch", "torch")
        },
        "torch_threads": torch.get_num_threads(),
        "noise": None if noise is None else {
            "kind": "fixed" if "std" in noise else "relative", **noise},
        "parameter_constraints": parameter_constraints or [],
        "outcome_constraints": list(problem.outcome_constraints),
        "scalarised_constraints_mended": (adapter_utils.extract_outcome_constraints.__name__
                                          == "extract"),
        "predicted_front": predicted_front,
        "trials": trials,
        "iterations": iterations,
    }


def _mean(value: Any) -> float:
    """A metric's value as Ax reports it, ``mean`` or ``(mean, sem)``: the mean."""
    return float(value[0] if isinstance(value, (tuple, list)) else value)


def _node_of(client: Client, trial_index: int) -> str:
    trial = client._experiment.trials[trial_index]
    runs = trial.generator_runs
    name = runs[0]._generation_node_name if runs else None
    return str(name or "unknown")


def _model_of(client: Client) -> dict[str, Any] | None:
    """What the generation just made fitted and optimised: the BoTorch model, the
    likelihood of each of its parts (``FixedNoiseGaussianLikelihood``: the told SEMs were
    used; ``GaussianLikelihood``: the noise was inferred) and the acquisition class Ax
    chose for it. From Ax's private attributes: None where this Ax version lacks them."""
    try:
        node = client._generation_strategy_or_choose().current_node
        generator = node.generator_spec_to_gen_from.fitted_adapter.generator
        model = generator.surrogate.model
        parts = getattr(model, "models", None) or [model]
        acquisition = getattr(generator, "_botorch_acqf_class", None)
    except AttributeError:
        return None
    return {
        "botorch_model": type(model).__name__,
        "likelihoods": [type(part.likelihood).__name__ for part in parts],
        "acquisition": None if acquisition is None else acquisition.__name__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problem", required=True, choices=sorted([*PROBLEMS, BATCH_SWEEP]))
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--q", type=int, default=4)
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-centre", action="store_true",
                        help="diagnostic: no centre-point trial (otherwise Ax's defaults)")
    parser.add_argument("--noise", choices=("none", "relative", "fixed"), default="none",
                        help="observation noise (default none: the noiseless campaign)")
    parser.add_argument("--noise-relative", type=float, metavar="REL",
                        help="relative: the noise sd as a share of |f_j(x)|")
    parser.add_argument("--noise-std", metavar="SD,SD",
                        help="fixed: each objective's noise sd, comma-separated")
    parser.add_argument("--noise-seed", type=int,
                        help="seed of the noise draws (default --seed)")
    parser.add_argument("--sem", action=argparse.BooleanOptionalAction, default=True,
                        help="relative: complete trials with (mean, sem) (default) or "
                        "with the mean only (--no-sem: Ax infers the noise)")
    parser.add_argument("--parameter-constraint", action="append", default=[],
                        metavar="TEXT", help="a linear constraint on the inputs, as Ax writes "
                        "it ('x1 + x2 <= 2'); repeat for more")
    parser.add_argument("--fix-scalarised-constraints", action="store_true",
                        help="mend how Ax 1.3.1 hands a constraint on several metrics to "
                        "BoTorch (otherwise it constrains the first metric only)")
    parser.add_argument("--constraint-as-sum", action="store_true",
                        help="constrained-branin-currin: report the disk as one metric, "
                        "'disk <= 50', not its two squares under 'dx + dy <= 50'")
    args = parser.parse_args()
    noise = None
    if args.noise == "relative":
        if args.noise_relative is None or args.noise_relative < 0:
            parser.error("--noise relative needs --noise-relative >= 0")
        noise = {"relative": args.noise_relative, "sem": args.sem,
                 "seed": args.seed if args.noise_seed is None else args.noise_seed}
    elif args.noise == "fixed":
        std = [float(v) for v in (args.noise_std or "").split(",") if v.strip()]
        if not std or min(std) < 0:
            parser.error("--noise fixed needs --noise-std, one sd >= 0 per objective")
        noise = {"std": std, "sem": args.sem,
                 "seed": args.seed if args.noise_seed is None else args.noise_seed}
    elif args.noise_relative is not None or args.noise_seed is not None:
        parser.error("--noise-relative and --noise-seed need --noise relative or fixed")
    if args.noise_std is not None and args.noise != "fixed":
        parser.error("--noise-std needs --noise fixed")
    for name in list(logging.root.manager.loggerDict):  # Ax logs every trial at INFO
        if name == "ax" or name.startswith("ax."):
            logging.getLogger(name).setLevel(logging.WARNING)
    if args.fix_scalarised_constraints:
        _mend_scalarised_constraints()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = run(args.problem, args.seed, args.budget, args.q, centre=not args.no_centre,
                 noise=noise, parameter_constraints=args.parameter_constraint,
                 constraint_as_sum=args.constraint_as_sum)
    result["total_seconds"] = time.perf_counter() - started
    result["cpu_seconds"] = time.process_time() - cpu_started
    with open(args.out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
