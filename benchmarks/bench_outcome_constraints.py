"""Outcome constraints: mofront's constrained qLogNEHVI and qNParEGO against Ax's.

The problem is C2-DTLZ2 (catalogue ``c2dtlz2``: 4 inputs in ``[0, 1]``, 2 objectives,
both minimised, reference point (1.1, 1.1); Jain & Deb 2014), whose one constraint
leaves three disconnected arcs of DTLZ2's front feasible. The constraint is measured
beside the objectives as ``violation``, BoTorch's slack negated, and both tools are told
it the same way, as Ax writes it:

    violation <= 0

mofront reads it as an external problem's outcome constraint would be declared
(``"constraints": ["violation <= 0"]``) and turns each measured value into the slack its
GP models (:meth:`jobs.protocol.ProblemInfo.slacks`); Ax takes it as an outcome
constraint of ``configure_optimization``. Every arm gets the same number of evaluations
(60), asked for four at a time:

* ``qlognehvi``, ``qnparego``: mofront's suggest functions, as ``POST
  /campaigns/{id}/ask`` calls them (service defaults, the reference point given as a
  spec would): a GP per objective and for the constraint, the acquisition weighted by
  the probability of feasibility;
* ``ax``: Ax (``ax-platform`` in ``benchmarks/.ax-venv``, its default generation
  strategy, through ``ax_runner.py --problem c2dtlz2``);
* ``sobol``: mofront's ``sobol``, which ignores the constraint.

Quality: the HV of the feasible evaluations as a share of C2-DTLZ2's maximum,
0.39964 (BoTorch's ``_max_hv``, from NSGA-II); the share of evaluations after the
initial design that are feasible (how well the constraint's model steers). Speed: the
median wall time of a suggestion (a batch of 4) after the initial design. Paired by
seed with a paired t-test against ``ax``. One process per run, one torch thread.

    .venv/bin/python benchmarks/bench_outcome_constraints.py [--seeds 8]
        [--trials 60] [--jobs 2] [--arms ...] [--add] [--quick] [--report-only]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import traceback
from collections.abc import Callable
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
from bench_parameter_constraints import compare
from report_io import ArmsBenchmark, paired_table, reruns, run_line

from jobs import registry
from jobs.protocol import Observations, ProblemInfo
from pareto import hypervolume, to_maximization

CONSTRAINT = "violation <= 0"
Q = 4
AX_PYTHON = AX_VENV / "bin" / "python"
AX_INITIAL_NODES = ("CenterOfSearchSpace", "Sobol")
ARMS = ("qlognehvi", "qnparego", "ax", "sobol")
COMPARISONS = (("qlognehvi", "ax"), ("qnparego", "ax"))
EXPECTED_MINUTES = {"ax": 3.0, "qlognehvi": 2.0, "qnparego": 1.0, "sobol": 0.0}


def c2dtlz2() -> tuple[ProblemInfo, Any]:
    definition = registry.problem_definition("test-function", "c2dtlz2")
    config = definition.config.model_validate({"dim": 4, "num_objectives": 2})
    return definition.info(config), definition.build(config)


def external_problem() -> ProblemInfo:
    """C2-DTLZ2 declared as an external problem would be: its inputs, its objectives,
    the outcome constraint as Ax writes it, and the reference point a spec gives."""
    catalogue, _ = c2dtlz2()
    problem = {"parameters": [{"name": p.name, "low": p.low, "high": p.high}
                              for p in catalogue.parameters],
               "objectives": [{"name": o.name, "sense": o.sense} for o in catalogue.objectives],
               "constraints": [CONSTRAINT]}
    definition = registry.problem_definition("external", "external")
    info = definition.info(definition.config.model_validate(problem))
    return replace(info, reference_point=catalogue.reference_point)


def measured(built: Any, x: np.ndarray) -> tuple[list[list[float]], list[float]]:
    """The objectives and the constraint's value (``violation``) at each row of ``x``."""
    return ([[float(v) for v in row] for row in built.evaluate(x)],
            [-float(s) for s in built.constraint_slacks(x)[:, 0]])


def run_mofront(algorithm: str, seed: int, trials: int) -> dict[str, Any]:
    info, (_, built) = external_problem(), c2dtlz2()
    suggest = registry.algorithm(algorithm).load_suggest()
    log: list[dict[str, Any]] = []
    while len(log) < trials:
        observations = Observations(
            x=np.array([t["x"] for t in log], dtype=float).reshape(-1, 4),
            objectives=np.array([t["objectives"] for t in log], dtype=float).reshape(-1, 2),
            constraints=np.array([info.slacks([t["violation"]]) for t in log]).reshape(-1, 1),
            n_suggested=len(log))
        started = time.perf_counter()
        batch = np.asarray(suggest(info, {}, seed, observations, min(Q, trials - len(log)),
                                   "cpu"))
        seconds = time.perf_counter() - started
        objectives, violations = measured(built, batch)
        log += [{"x": point.tolist(), "objectives": values, "violation": violation,
                 "suggest_seconds": seconds}
                for point, values, violation in zip(batch, objectives, violations, strict=True)]
    return {"trials": log, "model_start": initial_design(algorithm)}


def initial_design(algorithm: str, dim: int = 4) -> int:
    """How many of a run's first evaluations are the design, before any model (a
    ``sobol`` run's count as the BO methods' would)."""
    model = registry.algorithm("qlognehvi" if algorithm == "sobol" else algorithm)
    config: Any = model.config_model().model_validate({})
    return int(config.initial_points(dim))


def run_ax(seed: int, trials: int) -> dict[str, Any]:
    _, built = c2dtlz2()
    result = ax_campaign(["--problem", "c2dtlz2", "--seed", str(seed), "--budget", str(trials),
                          "--q", str(Q)], "bench_outcome_constraints_ax_")
    seconds = [it["generate_seconds"] for it in result["iterations"]
               for _ in range(it["n_trials"])]
    trials_log = []
    for trial, spent in zip(result["trials"], seconds, strict=True):
        [ours], [violation] = measured(built, np.array([trial["x"]]))
        if not np.allclose([*ours, violation], [*trial["objectives"], trial["violation"]],
                           rtol=1e-9, atol=1e-9):
            raise RuntimeError(f"Ax's C2-DTLZ2 is not ours at {trial['x']}")
        trials_log.append({"x": trial["x"], "objectives": ours, "violation": violation,
                           "suggest_seconds": spent, "node": trial["node"]})
    model_start = next((i for i, t in enumerate(trials_log)
                        if t["node"] not in AX_INITIAL_NODES), trials)
    return {"trials": trials_log, "model_start": model_start,
            "ax": {"generation_strategy": result["generation_strategy"],
                   "versions": result["versions"], "total_seconds": result["total_seconds"]}}


def one_run(arm: str, seed: int, trials: int) -> dict[str, Any]:
    try:
        import torch

        torch.set_num_threads(1)
        started = time.perf_counter()
        result = run_ax(seed, trials) if arm == "ax" else run_mofront(arm, seed, trials)
        return {"arm": arm, "seed": seed, **quality(result["trials"], result["model_start"]),
                "wall_seconds": time.perf_counter() - started, **result}
    except Exception:  # noqa: BLE001 -- a failed run is reported, the others go on
        return {"arm": arm, "seed": seed, "error": traceback.format_exc()}


def quality(trials: list[dict[str, Any]], model_start: int) -> dict[str, Any]:
    info, _ = c2dtlz2()
    return constrained_quality(info, trials, model_start, lambda t: t["violation"] <= 0)


def constrained_quality(info: ProblemInfo, trials: list[dict[str, Any]], model_start: int,
                        feasible: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """A run's HV of its ``feasible`` evaluations as a share of the problem's maximum,
    how many they are, and their share after the initial design."""
    kept = [t["objectives"] for t in trials if feasible(t)]
    reference = to_maximization(list(info.reference_point or ()), info.senses)
    hv = hypervolume(to_maximization(kept, info.senses), reference) if kept else 0.0
    later = trials[model_start:]
    assert info.known_max_hypervolume is not None
    return {"hv_share": hv / info.known_max_hypervolume, "feasible": len(kept),
            "feasible_share_after_design": (sum(map(feasible, later)) / len(later)
                                            if later else None)}


def summarise(runs: list[dict[str, Any]], arms: list[str]) -> list[dict[str, Any]]:
    rows = []
    for arm in arms:
        mine = [r for r in runs if r["arm"] == arm]
        if not mine:
            continue
        shares = [r["hv_share"] for r in mine]
        batch_seconds = [t["suggest_seconds"] for r in mine for t in r["trials"][r["model_start"]:]]
        rows.append({
            "arm": arm, "seeds": len(mine),
            "hv_share": statistics.mean(shares),
            "hv_share_sd": statistics.stdev(shares) if len(shares) > 1 else 0.0,
            "hv_share_per_seed": {str(r["seed"]): r["hv_share"] for r in mine},
            "feasible": statistics.mean(r["feasible"] for r in mine),
            "feasible_share_after_design": statistics.mean(
                r["feasible_share_after_design"] for r in mine),
            "batch_seconds_median": statistics.median(batch_seconds) if batch_seconds else None,
        })
    return rows


def markdown(report: dict[str, Any]) -> str:
    config = report["config"]
    return arms_table(report, (
        f"C2-DTLZ2 (4 inputs, 2 objectives) under the outcome constraint `{CONSTRAINT}`; "
        f"{config['trials']} evaluations, {Q} at a time, seeds {_seeds_text(config['seeds'])}; "
        f"HV of the feasible evaluations as a share of the maximum "
        f"{report['max_hypervolume']:.5f} under the reference point (1.1, 1.1)."))


def arms_table(report: dict[str, Any], what: str) -> str:
    """A constraint benchmark's table: the run's line and ``what`` was measured, a row
    per arm, and the paired comparisons."""
    lines = [
        f"{run_line(report['machine'], report['runs'])} {what}" + reruns(report["machine"]),
        "",
        ("| arm | seeds | HV / max (mean ± sd) | feasible evaluations (mean) | feasible after "
         "the initial design | s per batch of 4 after the initial design (median) |"),
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in report["summary"]:
        seconds = row["batch_seconds_median"]
        lines.append(
            f"| {row['arm']} | {row['seeds']} | {row['hv_share']:.3f} ± {row['hv_share_sd']:.3f} "
            f"| {row['feasible']:.1f} | {row['feasible_share_after_design']:.0%} | "
            f"{'–' if seconds is None or row['arm'] == 'sobol' else f'{seconds:.1f}'} |")
    lines += paired_table(report["comparisons"])
    return "\n".join(lines) + "\n"


def report_for(runs: list[dict[str, Any]], arms: list[str], trials: int,
               machine: dict[str, Any], failed: list[dict[str, Any]]) -> dict[str, Any]:
    info, _ = c2dtlz2()
    return {"config": {"seeds": _seed_ranges(runs, arms), "trials": trials, "arms": arms,
                       "q": Q, "problem": "c2dtlz2 (dim 4, 2 objectives)",
                       "outcome_constraint": CONSTRAINT, "reference_point": [1.1, 1.1]},
            "machine": machine, "max_hypervolume": info.known_max_hypervolume,
            "summary": summarise(runs, arms), "comparisons": compare(runs, COMPARISONS),
            "runs": runs, "failed": failed}


def resummarise(report: dict[str, Any],
                comparisons: tuple[tuple[str, str], ...] = COMPARISONS) -> None:
    report["summary"] = summarise(report["runs"], report["config"]["arms"])
    report["comparisons"] = compare(report["runs"], comparisons)


BENCHMARK = ArmsBenchmark(
    name="bench_outcome_constraints", doc=__doc__ or "", arms=ARMS,
    expected_minutes=EXPECTED_MINUTES, one_run=one_run,
    describe=lambda run: (f"HV/max {run['hv_share']:.3f}, {run['feasible']} feasible, in "
                          f"{run['wall_seconds']:.0f} s"),
    report_for=report_for, resummarise=resummarise, markdown=markdown,
    machine_facts=machine_facts, ensure_ax=lambda: ensure_ax_venv(str(AX_PYTHON)),
    seeds=8, trials=60, quick_trials=24)
main = BENCHMARK.main

if __name__ == "__main__":
    main()
