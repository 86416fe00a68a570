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

Output JSON: the versions, the generation strategy's name, every trial (x, objectives,
the generation node that produced it) in trial order, and per iteration the seconds
spent generating (model fit + acquisition), evaluating and completing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from importlib import metadata
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch
from ax.api.client import Client
from ax.api.configs import RangeParameterConfig
from botorch.test_functions import multi_objective

# The benchmark's problems, as BoTorch builds them (the ids are mofront's catalogue ids).
PROBLEMS: dict[str, tuple[str, dict[str, int], list[str]]] = {
    "branin-currin": ("BraninCurrin", {}, ["branin", "currin"]),
    "dtlz2": ("DTLZ2", {"dim": 6, "num_objectives": 2}, ["f1", "f2"]),
}


def make_problem(problem_id: str) -> tuple[Any, list[str]]:
    class_name, arguments, names = PROBLEMS[problem_id]
    function = getattr(multi_objective, class_name)(negate=False, **arguments)
    return function.to(torch.float64), names


def run(problem_id: str, seed: int, budget: int, q: int, centre: bool = True) -> dict[str, Any]:
    torch.set_num_threads(1)
    function, names = make_problem(problem_id)
    bounds = function.bounds.tolist()  # 2 x d
    parameters = [f"x{i}" for i in range(function.dim)]
    reference_point = [float(v) for v in function.ref_point.tolist()]  # negate=False: raw

    client = Client(random_seed=seed)
    client.configure_experiment(
        name=f"{problem_id}-{seed}",
        parameters=[
            RangeParameterConfig(name=name, parameter_type="float", bounds=(low, high))
            for name, low, high in zip(parameters, bounds[0], bounds[1], strict=True)
        ],
    )
    client.configure_optimization(
        objective=", ".join(f"-{name}" for name in names),
        outcome_constraints=[
            f"{name} <= {value!r}" for name, value in zip(names, reference_point, strict=True)
        ],
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
        x = torch.tensor(
            [[asked[index][name] for name in parameters] for index in indices],
            dtype=torch.float64,
        )
        with torch.no_grad():
            objectives = function(x).tolist()  # n x m, minimised
        evaluated = time.perf_counter()
        for index, values in zip(indices, objectives, strict=True):
            client.complete_trial(
                trial_index=index,
                raw_data={name: float(v) for name, v in zip(names, values, strict=True)},
            )
        completed = time.perf_counter()
        nodes = [_node_of(client, index) for index in indices]
        for index, point, values, node in zip(indices, x.tolist(), objectives, nodes,
                                              strict=True):
            trials.append({"index": index, "x": point, "objectives": values, "node": node})
        iterations.append({
            "n_trials": len(indices),
            "nodes": sorted(set(nodes)),
            "generate_seconds": generated - started,
            "evaluate_seconds": evaluated - generated,
            "complete_seconds": completed - evaluated,
            "wall_seconds": completed - started,
        })

    strategy = client._generation_strategy_or_choose()  # what Ax chose by default
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
        "trials": trials,
        "iterations": iterations,
    }


def _node_of(client: Client, trial_index: int) -> str:
    trial = client._experiment.trials[trial_index]
    runs = trial.generator_runs
    name = runs[0]._generation_node_name if runs else None
    return str(name or "unknown")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problem", required=True, choices=sorted(PROBLEMS))
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--q", type=int, default=4)
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-centre", action="store_true",
                        help="diagnostic: no centre-point trial (otherwise Ax's defaults)")
    args = parser.parse_args()
    for name in list(logging.root.manager.loggerDict):  # Ax logs every trial at INFO
        if name == "ax" or name.startswith("ax."):
            logging.getLogger(name).setLevel(logging.WARNING)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = run(args.problem, args.seed, args.budget, args.q, centre=not args.no_centre)
    result["total_seconds"] = time.perf_counter() - started
    result["cpu_seconds"] = time.process_time() - cpu_started
    with open(args.out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
