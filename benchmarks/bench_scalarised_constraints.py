"""Scalarised outcome constraints: mofront's qLogNEHVI and qNParEGO against Ax's, both
told a constraint on a sum of two measured values.

The problem is BoTorch's constrained Branin–Currin (catalogue
``constrained-branin-currin``: 2 inputs in ``[0, 1]``, 2 objectives, both minimised,
reference point (80, 12); Gelbart et al. 2014's disk constraint). Its disk, ``(X0 -
2.5)^2 + (X1 - 7.5)^2 <= 50`` in BoTorch's unnormalised coordinates, is measured as its
two squares, ``dx`` and ``dy``, and both tools are told it as Ax writes it:

    dx + dy <= 50

mofront reads it as an external problem's scalarised outcome constraint
(``"constraints": ["dx + dy <= 50"]``): ``dx`` and ``dy`` are told, and the constraint's
value is their sum (:meth:`jobs.protocol.ProblemInfo.constraint_values`), which one GP
models. Ax 1.3 models ``dx`` and ``dy`` with a GP each and applies the constraint to the
sum of their posterior samples, or would: in Ax 1.3.1 two of its parts mishandle a
constraint on a sum (``ax_runner._mend_scalarised_constraints``), and nothing meets it
in the model's units. The arms, each with the same number of evaluations (40), asked
for four at a time:

* ``qlognehvi``, ``qnparego``: mofront's suggest functions, as ``POST
  /campaigns/{id}/ask`` calls them (service defaults, the reference point given): a GP
  per value told;
* ``qlognehvi-sum``: the same fed the sum's slack alone, which it models with one GP,
  as it would a constraint told as one value (``disk <= 50``);
* ``ax``: Ax's default generation strategy told ``dx + dy <= 50.0``
  (``ax_runner.py --problem constrained-branin-currin``), as Ax 1.3.1 ships;
* ``ax-mended``: the same with the two parts mended in its process
  (``--fix-scalarised-constraints``): Ax's method, a GP per value, as meant;
* ``ax-sum``: Ax told the sum as one measured value, ``disk <= 50.0``
  (``--constraint-as-sum``): what modelling the sum instead of its terms does to Ax;
* ``sobol``: mofront's ``sobol``, which ignores the constraint.

Quality: the HV of the feasible evaluations as a share of BoTorch's maximum,
608.40; the share of evaluations after the initial design that are feasible. Speed:
the median wall time of a batch of 4 after the initial design. Paired by seed with a
paired t-test. One process per run, one torch thread.

    .venv/bin/python benchmarks/bench_scalarised_constraints.py [--seeds 8]
        [--trials 40] [--jobs 2] [--arms ...] [--add] [--quick] [--report-only]
"""

from __future__ import annotations

import functools
import os
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np
from bench_bo import AX_VENV, ax_campaign, ensure_ax_venv
from bench_failures import _seed_ranges, _seeds_text
from bench_mixed import machine_facts
from bench_outcome_constraints import (
    AX_INITIAL_NODES,
    arms_table,
    constrained_quality,
    initial_design,
    resummarise,
    summarise,
)
from bench_parameter_constraints import compare
from report_io import ArmsBenchmark

from jobs import registry
from jobs.protocol import Observations, ProblemInfo

CONSTRAINT = "dx + dy <= 50"
Q = 4
ARMS = ("qlognehvi", "qlognehvi-sum", "qnparego", "ax", "ax-mended", "ax-sum", "sobol")
COMPARISONS = (("qlognehvi", "ax-mended"), ("qnparego", "ax-mended"), ("qlognehvi", "ax"),
               ("qlognehvi", "qlognehvi-sum"), ("ax-sum", "ax-mended"), ("ax-mended", "ax"))
EXPECTED_MINUTES = {"ax": 1.0, "ax-mended": 2.0, "ax-sum": 1.0, "qlognehvi": 1.0,
                    "qlognehvi-sum": 1.0, "qnparego": 1.0, "sobol": 0.0}


def catalogue() -> tuple[ProblemInfo, Any]:
    definition = registry.problem_definition("test-function", "constrained-branin-currin")
    config = definition.config.model_validate({})
    return definition.info(config), definition.build(config)


def external_problem() -> ProblemInfo:
    """The problem declared as an external problem would be: its inputs, its objectives,
    the scalarised constraint as Ax writes it, and the reference point a spec gives."""
    info, _ = catalogue()
    problem = {"parameters": [{"name": p.name, "low": p.low, "high": p.high}
                              for p in info.parameters],
               "objectives": [{"name": o.name, "sense": o.sense} for o in info.objectives],
               "constraints": [CONSTRAINT]}
    definition = registry.problem_definition("external", "external")
    external = definition.info(definition.config.model_validate(problem))
    return replace(external, reference_point=info.reference_point)


def measured(built: Any, x: np.ndarray) -> tuple[list[list[float]], list[dict[str, float]]]:
    """The objectives and the disk's two squares at each row of ``x``; the squares sum
    to 50 less BoTorch's slack, which is checked."""
    unnormalised = np.array([-5.0, 0.0]) + 15.0 * x
    dx, dy = (unnormalised[:, 0] - 2.5) ** 2, (unnormalised[:, 1] - 7.5) ** 2
    np.testing.assert_allclose(50 - dx - dy, built.constraint_slacks(x)[:, 0], atol=1e-9)
    return ([[float(v) for v in row] for row in built.evaluate(x)],
            [{"dx": float(a), "dy": float(b)} for a, b in zip(dx, dy, strict=True)])


def run_mofront(arm: str, seed: int, trials: int) -> dict[str, Any]:
    """The suggest function fed what the ask route reads from the store: the squares
    told (``metrics``) and the sum's slack; ``-sum``: the slack alone."""
    info, (_, built) = external_problem(), catalogue()
    algorithm, _, told_as = arm.partition("-")
    suggest = registry.algorithm(algorithm).load_suggest()
    log: list[dict[str, Any]] = []
    while len(log) < trials:
        slacks = [info.slacks(info.constraint_values([t["dx"], t["dy"]])) for t in log]
        observations = Observations(
            x=np.array([t["x"] for t in log], dtype=float).reshape(-1, 2),
            objectives=np.array([t["objectives"] for t in log], dtype=float).reshape(-1, 2),
            constraints=np.array(slacks, dtype=float).reshape(-1, 1), n_suggested=len(log),
            metrics=None if told_as == "sum" else
            np.array([[t["dx"], t["dy"]] for t in log], dtype=float).reshape(-1, 2))
        started = time.perf_counter()
        batch = np.asarray(suggest(info, {}, seed, observations, min(Q, trials - len(log)),
                                   "cpu"))
        seconds = time.perf_counter() - started
        objectives, squares = measured(built, batch)
        log += [{"x": point.tolist(), "objectives": values, **told, "suggest_seconds": seconds}
                for point, values, told in zip(batch, objectives, squares, strict=True)]
    return {"trials": log, "model_start": initial_design(algorithm, dim=2)}


def run_ax(seed: int, trials: int, arm: str) -> dict[str, Any]:
    _, built = catalogue()
    as_sum = arm == "ax-sum"
    result = ax_campaign(["--problem", "constrained-branin-currin", "--seed", str(seed),
                          "--budget", str(trials), "--q", str(Q),
                          *(["--constraint-as-sum"] if as_sum else []),
                          *(["--fix-scalarised-constraints"] if arm == "ax-mended" else [])],
                         "bench_scalarised_constraints_ax_")
    seconds = [it["generate_seconds"] for it in result["iterations"]
               for _ in range(it["n_trials"])]
    trials_log = []
    for trial, spent in zip(result["trials"], seconds, strict=True):
        [ours], [squares] = measured(built, np.array([trial["x"]]))
        told = [trial["disk"]] if as_sum else [trial["dx"], trial["dy"]]
        if not np.allclose([*ours, *told], [*trial["objectives"], *(
                [squares["dx"] + squares["dy"]] if as_sum else squares.values())], atol=1e-9):
            raise RuntimeError(f"Ax's constrained Branin-Currin is not ours at {trial['x']}")
        trials_log.append({"x": trial["x"], "objectives": ours, **squares,
                           "suggest_seconds": spent, "node": trial["node"]})
    model_start = next((i for i, t in enumerate(trials_log)
                        if t["node"] not in AX_INITIAL_NODES), trials)
    return {"trials": trials_log, "model_start": model_start,
            "ax": {"generation_strategy": result["generation_strategy"],
                   "outcome_constraints": result["outcome_constraints"],
                   "mended": result["scalarised_constraints_mended"],
                   "versions": result["versions"], "total_seconds": result["total_seconds"]}}


def one_run(arm: str, seed: int, trials: int) -> dict[str, Any]:
    try:
        import torch

        torch.set_num_threads(1)
        started = time.perf_counter()
        result = (run_ax(seed, trials, arm) if arm.startswith("ax")
                  else run_mofront(arm, seed, trials))
        return {"arm": arm, "seed": seed, **quality(result["trials"], result["model_start"]),
                "wall_seconds": time.perf_counter() - started, **result}
    except Exception:  # noqa: BLE001 -- a failed run is reported, the others go on
        return {"arm": arm, "seed": seed, "error": traceback.format_exc()}


def _feasible(trial: dict[str, Any]) -> bool:
    return trial["dx"] + trial["dy"] <= 50.0


def quality(trials: list[dict[str, Any]], model_start: int) -> dict[str, Any]:
    info, _ = catalogue()
    return constrained_quality(info, trials, model_start, _feasible)


def markdown(report: dict[str, Any]) -> str:
    config = report["config"]
    return arms_table(report, (
        f"Constrained Branin–Currin (2 inputs, 2 objectives) with its disk told as two "
        f"measured values under `{CONSTRAINT}` (`qlognehvi-sum`: one GP of the sum; "
        f"`ax-mended`: Ax with its handling of such a constraint mended; `ax-sum`: Ax told "
        f"their sum, `disk <= 50`); "
        f"{config['trials']} evaluations, {Q} at a time, seeds "
        f"{_seeds_text(config['seeds'])}; HV of the feasible evaluations as a share of the "
        f"maximum {report['max_hypervolume']:.2f} under the reference point (80, 12)."))


def report_for(runs: list[dict[str, Any]], arms: list[str], trials: int,
               machine: dict[str, Any], failed: list[dict[str, Any]]) -> dict[str, Any]:
    info, _ = catalogue()
    return {"config": {"seeds": _seed_ranges(runs, arms), "trials": trials, "arms": arms,
                       "q": Q, "problem": "constrained-branin-currin",
                       "outcome_constraint": CONSTRAINT, "reference_point": [80.0, 12.0]},
            "machine": machine, "max_hypervolume": info.known_max_hypervolume,
            "summary": summarise(runs, arms), "comparisons": compare(runs, COMPARISONS),
            "runs": runs, "failed": failed}


BENCHMARK = ArmsBenchmark(
    name="bench_scalarised_constraints", doc=__doc__ or "", arms=ARMS,
    expected_minutes=EXPECTED_MINUTES, one_run=one_run,
    describe=lambda run: (f"HV/max {run['hv_share']:.3f}, {run['feasible']} feasible, in "
                          f"{run['wall_seconds']:.0f} s"),
    report_for=report_for, resummarise=functools.partial(resummarise, comparisons=COMPARISONS),
    markdown=markdown,
    machine_facts=machine_facts, ensure_ax=lambda: ensure_ax_venv(str(AX_VENV / "bin" / "python")),
    seeds=8, trials=40, quick_trials=16)
main = BENCHMARK.main

if __name__ == "__main__":
    main()
