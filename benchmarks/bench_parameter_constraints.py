"""Linear parameter constraints: mofront's ``parameter_constraints`` against Ax's.

The problem is DTLZ2 (catalogue ``dtlz2``, 6 inputs in ``[0, 1]``, 2 objectives, both
minimised, reference point (1.1, 1.1)) with one linear constraint on its inputs,

    x1 + x2 + x3 + x4 + x5 <= 2,

say a budget shared by five ingredients. DTLZ2's own Pareto set (``x1 .. x5 = 0.5``,
sum 2.5) is outside it, so the constrained front lies on the constraint: ``x1 .. x5 =
0.4``, ``g = 5 * 0.1^2 = 0.05``, the quarter circle of radius 1.05. Its HV under (1.1,
1.1) is ``1.21 - pi * 1.05^2 / 4 = 0.344`` (:func:`max_hypervolume`). The constraint
leaves 22.5% of the box (the Irwin–Hall distribution at 2 for five uniforms).

Every arm gets the same number of evaluations (60), asked for four at a time:

* ``qlognehvi``: mofront's ``qlognehvi`` suggest function, as ``POST
  /campaigns/{id}/ask`` calls it (service defaults, the reference point given as a spec
  would), told the constraint as a parameter constraint: the Sobol design keeps the
  points inside it and the acquisition is optimised inside it;
* ``qlognehvi-outcome``: the same, told the constraint only as an outcome constraint
  (the slack ``2 - (x1 + .. + x5)`` measured with each result), what a user does without
  parameter constraints: the GP learns the slack, and points outside are evaluated and
  wasted;
* ``ax``: Ax (``ax-platform`` in ``benchmarks/.ax-venv``, its default generation
  strategy, through ``ax_runner.py --parameter-constraint``), told the constraint as a
  parameter constraint;
* ``sobol``: mofront's ``sobol`` with the parameter constraint (the design, rejected).

Quality: the HV of the evaluated points inside the constraint as a share of the
constrained maximum (exact, ``pareto``); waste: the evaluations outside it. Speed: the
median wall time of a suggestion (a batch of 4: model fit and acquisition) after the
initial design. Paired by seed with a paired t-test: ``qlognehvi`` against ``ax`` and
against ``qlognehvi-outcome``. One process per run, one torch thread.

    .venv/bin/python benchmarks/bench_parameter_constraints.py [--seeds 10]
        [--trials 60] [--jobs 2] [--arms ...] [--add] [--quick] [--report-only]
"""

from __future__ import annotations

import math
import os
import statistics
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
from report_io import ArmsBenchmark, paired_table, reruns, run_line

from jobs import registry
from jobs.protocol import Observations, ProblemInfo
from pareto import hypervolume, to_maximization

CONSTRAINT = "x1 + x2 + x3 + x4 + x5 <= 2"
BUDGET_SHARED = 2.0  # the constraint's bound
Q = 4
AX_PYTHON = AX_VENV / "bin" / "python"
AX_INITIAL_NODES = ("CenterOfSearchSpace", "Sobol")
ARMS = {"qlognehvi": "parameter constraint", "qlognehvi-outcome": "outcome constraint "
        "(the slack told with each result)", "ax": "parameter constraint (Ax)",
        "sobol": "parameter constraint (design rejected)"}
COMPARISONS = (("qlognehvi", "ax"), ("qlognehvi", "qlognehvi-outcome"))
EXPECTED_MINUTES = {"ax": 2.0, "qlognehvi": 2.0, "qlognehvi-outcome": 2.0, "sobol": 0.0}


def dtlz2() -> tuple[ProblemInfo, Any]:
    definition = registry.problem_definition("test-function", "dtlz2")
    config = definition.config.model_validate({"dim": 6, "num_objectives": 2})
    return definition.info(config), definition.build(config)


def external_problem(outcome: bool) -> ProblemInfo:
    """DTLZ2 declared as an external problem would be, with the constraint on its inputs
    or as an outcome constraint, and the reference point a spec gives."""
    catalogue, _ = dtlz2()
    problem = {"parameters": [{"name": p.name, "low": p.low, "high": p.high}
                              for p in catalogue.parameters],
               "objectives": [{"name": o.name, "sense": o.sense} for o in catalogue.objectives]}
    problem |= ({"constraints": [{"name": "budget_left"}]} if outcome
                else {"parameter_constraints": [CONSTRAINT]})
    definition = registry.problem_definition("external", "external")
    info = definition.info(definition.config.model_validate(problem))
    return replace(info, reference_point=catalogue.reference_point)


def slack(x: np.ndarray) -> float:
    return BUDGET_SHARED - float(np.sum(x[1:6]))


def max_hypervolume() -> float:
    """The HV under (1.1, 1.1) of the constrained front, the quarter circle of radius
    1.05 (each point's g at its least under the constraint): the square less the
    quarter disc, which lies inside it."""
    radius = 1 + 5 * (BUDGET_SHARED / 5 - 0.5) ** 2
    return 1.1 * 1.1 - math.pi * radius**2 / 4


def run_mofront(algorithm: str, seed: int, trials: int, outcome: bool) -> dict[str, Any]:
    info, (_, built) = external_problem(outcome), dtlz2()
    suggest = registry.algorithm(algorithm).load_suggest()
    x: list[list[float]] = []
    objectives: list[list[float]] = []
    log: list[dict[str, Any]] = []
    while len(x) < trials:
        observations = Observations(
            x=np.array(x, dtype=float).reshape(-1, 6),
            objectives=np.array(objectives, dtype=float).reshape(-1, 2),
            constraints=np.array([[t["slack"]] for t in log]).reshape(-1, 1) if outcome else None,
            n_suggested=len(x))
        started = time.perf_counter()
        batch = np.asarray(suggest(info, {}, seed, observations, min(Q, trials - len(x)), "cpu"))
        seconds = time.perf_counter() - started
        values = built.evaluate(batch)
        for point, value in zip(batch, values, strict=True):
            x.append(point.tolist())
            objectives.append([float(v) for v in value])
            log.append({"x": point.tolist(), "objectives": objectives[-1],
                        "slack": slack(point), "suggest_seconds": seconds})
    return {"trials": log, "model_start": _initial_design(algorithm)}


def _initial_design(algorithm: str) -> int:
    model = registry.algorithm("qlognehvi" if algorithm == "sobol" else algorithm)
    config: Any = model.config_model().model_validate({})
    return int(config.initial_points(6))


def run_ax(seed: int, trials: int) -> dict[str, Any]:
    _, built = dtlz2()
    result = ax_campaign(["--problem", "dtlz2", "--seed", str(seed), "--budget", str(trials),
                          "--q", str(Q), "--parameter-constraint", CONSTRAINT],
                         "bench_parameter_constraints_ax_")
    seconds = [it["generate_seconds"] for it in result["iterations"]
               for _ in range(it["n_trials"])]
    trials_log = []
    for trial, spent in zip(result["trials"], seconds, strict=True):
        point = np.array(trial["x"])
        ours = [float(v) for v in built.evaluate(point[None, :])[0]]
        if not np.allclose(ours, trial["objectives"], rtol=1e-9, atol=1e-9):
            raise RuntimeError(f"Ax's DTLZ2 is not ours at {trial['x']}")
        trials_log.append({"x": trial["x"], "objectives": ours, "slack": slack(point),
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
        result = (run_ax(seed, trials) if arm == "ax"
                  else run_mofront(arm.removesuffix("-outcome"), seed, trials,
                                   outcome=arm.endswith("-outcome")))
        return {"arm": arm, "seed": seed, **quality(result["trials"]),
                "wall_seconds": time.perf_counter() - started, **result}
    except Exception:  # noqa: BLE001 -- a failed run is reported, the others go on
        return {"arm": arm, "seed": seed, "error": traceback.format_exc()}


def quality(trials: list[dict[str, Any]]) -> dict[str, Any]:
    info, _ = dtlz2()
    inside = [t["objectives"] for t in trials if t["slack"] >= -1e-9]
    reference = to_maximization(list(info.reference_point or ()), info.senses)
    hv = hypervolume(to_maximization(inside, info.senses), reference) if inside else 0.0
    return {"hv_share": hv / max_hypervolume(), "outside": len(trials) - len(inside),
            "least_slack": min(t["slack"] for t in trials)}


def summarise(runs: list[dict[str, Any]], arms: list[str]) -> list[dict[str, Any]]:
    rows = []
    for arm in arms:
        mine = [r for r in runs if r["arm"] == arm]
        if not mine:
            continue
        shares = [r["hv_share"] for r in mine]
        later = [t for r in mine for t in r["trials"][r["model_start"]:]]
        batch_seconds = [t["suggest_seconds"] for t in later]  # each trial its batch's
        rows.append({
            "arm": arm, "seeds": len(mine),
            "hv_share": statistics.mean(shares),
            "hv_share_sd": statistics.stdev(shares) if len(shares) > 1 else 0.0,
            "hv_share_per_seed": {str(r["seed"]): r["hv_share"] for r in mine},
            "outside": statistics.mean(r["outside"] for r in mine),
            "outside_after_initial_design": statistics.mean(
                sum(t["slack"] < -1e-9 for t in r["trials"][r["model_start"]:]) for r in mine),
            "least_slack": min(r["least_slack"] for r in mine),
            "on_the_constraint": (sum(abs(t["slack"]) < 1e-3 for t in later) / len(later)
                                  if later else None),
            "batch_seconds_median": statistics.median(batch_seconds) if batch_seconds else None,
        })
    return rows


def compare(runs: list[dict[str, Any]],
            comparisons: tuple[tuple[str, str], ...] = COMPARISONS) -> list[dict[str, Any]]:
    """Each pair of arms' HV shares, paired by seed, with a paired t-test."""
    from scipy import stats

    by = {(r["arm"], r["seed"]): r for r in runs}
    answers = []
    for a, b in comparisons:
        seeds = sorted(s for (arm, s) in by if arm == a and (b, s) in by)
        if len(seeds) < 2:
            continue
        first = [by[a, s]["hv_share"] for s in seeds]
        second = [by[b, s]["hv_share"] for s in seeds]
        differences = [x - y for x, y in zip(first, second, strict=True)]
        p = (float(stats.ttest_rel(first, second).pvalue)
             if statistics.stdev(differences) > 0 else None)
        answers.append({"a": a, "b": b, "seeds": seeds,
                        "mean_difference": statistics.mean(differences),
                        "sd_difference": statistics.stdev(differences),
                        "a_better": sum(d > 0 for d in differences), "p": p})
    return answers


def markdown(report: dict[str, Any]) -> str:
    config = report["config"]
    lines = [
        (f"{run_line(report['machine'], report['runs'])} "
         f"DTLZ2 (6 inputs, 2 objectives) under `{CONSTRAINT}`; {config['trials']} "
         f"evaluations, {Q} at a time, seeds {_seeds_text(config['seeds'])}; HV of the "
         f"evaluations inside the constraint as a share of the constrained maximum "
         f"{report['max_hypervolume']:.4f} under the reference point (1.1, 1.1)."
         + reruns(report["machine"])),
        "",
        ("| arm | constraint told as | seeds | HV / max (mean ± sd) | evaluations outside "
         "the constraint (mean) | of them after the initial design | model's points on "
         "the constraint (slack < 0.001) | s per batch of 4 after the initial design "
         "(median) |"),
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["summary"]:
        seconds = row["batch_seconds_median"]
        edge = row["on_the_constraint"]
        lines.append(
            f"| {row['arm']} | {ARMS[row['arm']]} | {row['seeds']} | {row['hv_share']:.3f} ± "
            f"{row['hv_share_sd']:.3f} | {row['outside']:.1f} | "
            f"{row['outside_after_initial_design']:.1f} | "
            f"{'–' if edge is None or row['arm'] == 'sobol' else f'{edge:.0%}'} | "
            f"{'–' if seconds is None or row['arm'] == 'sobol' else f'{seconds:.1f}'} |")
    lines += paired_table(report["comparisons"])
    return "\n".join(lines) + "\n"


def report_for(runs: list[dict[str, Any]], arms: list[str], trials: int,
               machine: dict[str, Any], failed: list[dict[str, Any]]) -> dict[str, Any]:
    return {"config": {"seeds": _seed_ranges(runs, arms), "trials": trials, "arms": arms,
                       "q": Q, "problem": "dtlz2 (dim 6, 2 objectives)",
                       "parameter_constraint": CONSTRAINT, "reference_point": [1.1, 1.1]},
            "machine": machine, "max_hypervolume": max_hypervolume(),
            "summary": summarise(runs, arms), "comparisons": compare(runs),
            "runs": runs, "failed": failed}


def resummarise(report: dict[str, Any]) -> None:
    report["summary"] = summarise(report["runs"], report["config"]["arms"])
    report["comparisons"] = compare(report["runs"])


BENCHMARK = ArmsBenchmark(
    name="bench_parameter_constraints", doc=__doc__ or "", arms=tuple(ARMS),
    expected_minutes=EXPECTED_MINUTES, one_run=one_run,
    describe=lambda run: (f"HV/max {run['hv_share']:.3f}, {run['outside']} outside, in "
                          f"{run['wall_seconds']:.0f} s"),
    report_for=report_for, resummarise=resummarise, markdown=markdown,
    machine_facts=machine_facts, ensure_ax=lambda: ensure_ax_venv(str(AX_PYTHON)),
    seeds=10, trials=60, quick_trials=24)
main = BENCHMARK.main

if __name__ == "__main__":
    main()
