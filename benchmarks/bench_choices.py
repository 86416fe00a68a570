"""Ordered choice parameters: a batch size searched by its order or as a category.

The problem is the batch-size sweep of :mod:`batch_sweep` (a learning rate on a log
scale, a batch size in {8, 16, ..., 1024}, a dropout; accuracy against time per
epoch; exact front, reference point (accuracy 0.8, time 3)). Arms, each asked for one
point at a time for the same budget and seeds:

* ``qlognehvi``: mofront's ``qlognehvi`` suggest function, exactly what ``POST
  /campaigns/{id}/ask`` calls, on the external problem with the batch size declared as
  ``{"value_type": "choice", "values": [8, ..., 1024]}``: numbers, so ordered by
  default (Ax's rule), searched by their index as an integer;
* ``qlognehvi-categorical``: the same declared ``"is_ordered": false``, searched
  one-hot (eight coordinates), what every choice was before ``is_ordered`` existed;
* ``ax``: Ax (``ax-platform`` in ``benchmarks/.ax-venv``, its default generation
  strategy, ``ax_runner.py --problem batch-sweep``) with the batch size an ``int``
  ``ChoiceParameterConfig``, which Ax orders by default;
* ``optuna-gp``: Optuna's ``GPSampler`` with ``suggest_categorical`` for the batch size,
  which it treats as unordered (Optuna has no ordered choice);
* ``sobol``: mofront's ``sobol``.

The spec's reference point is the one HV is measured under (Ax gets it as objective
thresholds). Quality is the hypervolume of everything evaluated as a share of the
maximum (exact, ``pareto``), after 20 and after ``trials`` evaluations; speed is the
median wall time of a suggestion after the initial design. Paired by seed with a
paired t-test. One process per run, one torch thread.

    .venv/bin/python benchmarks/bench_choices.py [--seeds 10] [--trials 40] [--jobs 2]
        [--arms ...] [--add] [--quick] [--report-only]
"""

from __future__ import annotations

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

import batch_sweep
from bench_bo import AX_VENV, ax_campaign, ensure_ax_venv
from bench_failures import _seed_ranges, _seeds_text
from bench_mixed import machine_facts
from bench_parameter_constraints import compare
from report_io import ArmsBenchmark, paired_table, reruns, run_line

from jobs import registry
from jobs.protocol import Observations, ProblemInfo
from pareto import hypervolume, to_maximization

ARMS = ("qlognehvi", "qlognehvi-categorical", "ax", "optuna-gp", "sobol")
COMPARISONS = (("qlognehvi", "qlognehvi-categorical"), ("qlognehvi", "ax"),
               ("qlognehvi", "optuna-gp"))
EXPECTED_MINUTES = {"ax": 2.0, "qlognehvi": 1.0, "qlognehvi-categorical": 1.0,
                    "optuna-gp": 1.0, "sobol": 0.0}
SENSES = list(batch_sweep.OBJECTIVES.values())
HALFWAY = 20
INITIAL_DESIGN = {"mofront": 8, "optuna": 10}  # 2 (d + 1) Sobol points; n_startup_trials


def problem_info(ordered: bool) -> ProblemInfo:
    """The sweep as the ask route sees it, the batch size ordered or a category."""
    spec = {"parameters": [
        {"name": "lr", "low": batch_sweep.LR[0], "high": batch_sweep.LR[1], "log_scale": True},
        {"name": "batch", "value_type": "choice", "values": batch_sweep.BATCHES,
         "is_ordered": ordered},
        {"name": "dropout", "low": batch_sweep.DROPOUT[0], "high": batch_sweep.DROPOUT[1]}],
        "objectives": [{"name": name, "sense": sense}
                       for name, sense in batch_sweep.OBJECTIVES.items()]}
    definition = registry.problem_definition("external", "external")
    info = definition.info(definition.config.model_validate(spec))
    return replace(info, reference_point=batch_sweep.REFERENCE_POINT)


def max_hypervolume() -> float:
    return hypervolume(to_maximization(batch_sweep.front(), SENSES),
                       to_maximization(list(batch_sweep.REFERENCE_POINT), SENSES))


def run_mofront(algorithm: str, seed: int, trials: int, ordered: bool) -> dict[str, Any]:
    info = problem_info(ordered)
    suggest = registry.algorithm(algorithm).load_suggest()
    x: list[list[float]] = []  # as the algorithms see them: the batch size by its index
    params, objectives, seconds = [], [], []
    for _ in range(trials):
        started = time.perf_counter()
        point = suggest(info, {}, seed, Observations(x=x, objectives=objectives,
                                                     n_suggested=len(x)), 1, "cpu")[0]
        seconds.append(time.perf_counter() - started)
        x.append([float(v) for v in point])
        params.append([p.cast(v) for p, v in zip(info.parameters, point, strict=True)])
        objectives.append(list(batch_sweep.evaluate(*params[-1])))
    return {"params": params, "objectives": objectives, "suggest_seconds": seconds,
            "model_start": INITIAL_DESIGN["mofront"]}


def run_ax(seed: int, trials: int) -> dict[str, Any]:
    result = ax_campaign(["--problem", "batch-sweep", "--seed", str(seed), "--budget",
                          str(trials), "--q", "1"], "bench_choices_ax_")
    if result["reference_point"] != list(batch_sweep.REFERENCE_POINT):
        raise RuntimeError(f"Ax was given the reference point {result['reference_point']}")
    for trial in result["trials"]:
        if trial["objectives"] != list(batch_sweep.evaluate(*trial["x"])):
            raise RuntimeError(f"Ax's sweep is not ours at {trial['x']}")
    return {"params": [t["x"] for t in result["trials"]],
            "objectives": [t["objectives"] for t in result["trials"]],
            "suggest_seconds": [it["generate_seconds"] for it in result["iterations"]],
            "model_start": next((i for i, t in enumerate(result["trials"])
                                 if t["node"] not in ("CenterOfSearchSpace", "Sobol")), trials),
            "ax": {"generation_strategy": result["generation_strategy"],
                   "versions": result["versions"], "total_seconds": result["total_seconds"]}}


def run_optuna(seed: int, trials: int) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(directions=SENSES, sampler=optuna.samplers.GPSampler(seed=seed))
    params, objectives, seconds = [], [], []
    for _ in range(trials):
        started = time.perf_counter()
        trial = study.ask()
        point = [trial.suggest_float("lr", *batch_sweep.LR, log=True),
                 trial.suggest_categorical("batch", batch_sweep.BATCHES),
                 trial.suggest_float("dropout", *batch_sweep.DROPOUT)]
        seconds.append(time.perf_counter() - started)
        values = list(batch_sweep.evaluate(*point))
        study.tell(trial, values)
        params.append(point)
        objectives.append(values)
    return {"params": params, "objectives": objectives, "suggest_seconds": seconds,
            "model_start": INITIAL_DESIGN["optuna"]}


def one_run(arm: str, seed: int, trials: int) -> dict[str, Any]:
    try:
        import torch

        torch.set_num_threads(1)
        started = time.perf_counter()
        if arm == "ax":
            result = run_ax(seed, trials)
        elif arm == "optuna-gp":
            result = run_optuna(seed, trials)
        else:
            result = run_mofront(arm.removesuffix("-categorical"), seed, trials,
                                 ordered=not arm.endswith("-categorical"))
        maximised = to_maximization(result["objectives"], SENSES)
        reference = to_maximization(list(batch_sweep.REFERENCE_POINT), SENSES)
        curve = [hypervolume(maximised[: i + 1], reference) / max_hypervolume()
                 for i in range(len(maximised))]
        return {"arm": arm, "seed": seed, "hv_share": curve[-1],
                "hv_share_halfway": curve[min(HALFWAY, trials) - 1], "hv_curve": curve,
                "wall_seconds": time.perf_counter() - started, **result}
    except Exception:  # noqa: BLE001 -- a failed run is reported, the others go on
        return {"arm": arm, "seed": seed, "error": traceback.format_exc()}


def summarise(runs: list[dict[str, Any]], arms: list[str]) -> list[dict[str, Any]]:
    rows = []
    for arm in arms:
        mine = [r for r in runs if r["arm"] == arm]
        if not mine:
            continue
        shares = [r["hv_share"] for r in mine]
        later = [s for r in mine for s in r["suggest_seconds"][r["model_start"]:]]
        best_batch = [max(zip(r["objectives"], r["params"]))[1][1] for r in mine]
        rows.append({
            "arm": arm, "seeds": len(mine),
            "hv_share": statistics.mean(shares),
            "hv_share_sd": statistics.stdev(shares) if len(shares) > 1 else 0.0,
            "hv_share_per_seed": {str(r["seed"]): r["hv_share"] for r in mine},
            "hv_share_halfway": statistics.mean(r["hv_share_halfway"] for r in mine),
            "most_accurate_batch": statistics.mode(best_batch),
            "suggest_seconds_median": statistics.median(later) if later else None,
        })
    return rows


def markdown(report: dict[str, Any]) -> str:
    config = report["config"]
    lines = [
        (f"{run_line(report['machine'], report['runs'])} The batch-size sweep (lr, batch in "
         f"{{8, ..., 1024}}, dropout); {config['trials']} evaluations, one at a time, seeds "
         f"{_seeds_text(config['seeds'])}; HV of the evaluations as a share of the maximum "
         f"{report['max_hypervolume']:.4f} under the reference point (accuracy 0.8, time 3)."
         + reruns(report["machine"])),
        "",
        (f"| arm | batch size searched as | seeds | HV / max after {HALFWAY} | HV / max at the "
         "end (mean ± sd) | most accurate batch found (mode) | s per suggestion after the "
         "initial design (median) |"),
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    searched = {"qlognehvi": "ordered (its index, an integer)", "ax": "ordered (Ax's default)",
                "qlognehvi-categorical": "a category (one-hot)",
                "optuna-gp": "a category (suggest_categorical)", "sobol": "–"}
    for row in report["summary"]:
        seconds = row["suggest_seconds_median"]
        lines.append(
            f"| {row['arm']} | {searched[row['arm']]} | {row['seeds']} | "
            f"{row['hv_share_halfway']:.3f} | {row['hv_share']:.3f} ± {row['hv_share_sd']:.3f} | "
            f"{row['most_accurate_batch']} | "
            f"{'–' if seconds is None or row['arm'] == 'sobol' else f'{seconds:.2f}'} |")
    lines += paired_table(report["comparisons"], "HV / max at the end")
    return "\n".join(lines) + "\n"


def report_for(runs: list[dict[str, Any]], arms: list[str], trials: int,
               machine: dict[str, Any], failed: list[dict[str, Any]]) -> dict[str, Any]:
    return {"config": {"seeds": _seed_ranges(runs, arms), "trials": trials, "arms": arms,
                       "q": 1, "problem": "batch_sweep",
                       "reference_point": list(batch_sweep.REFERENCE_POINT)},
            "machine": machine, "max_hypervolume": max_hypervolume(),
            "summary": summarise(runs, arms), "comparisons": compare(runs, COMPARISONS),
            "runs": runs, "failed": failed}


def resummarise(report: dict[str, Any]) -> None:
    report["summary"] = summarise(report["runs"], report["config"]["arms"])
    report["comparisons"] = compare(report["runs"], COMPARISONS)


BENCHMARK = ArmsBenchmark(
    name="bench_choices", doc=__doc__ or "", arms=ARMS, expected_minutes=EXPECTED_MINUTES,
    one_run=one_run,
    describe=lambda run: (f"HV/max {run['hv_share']:.3f} ({run['hv_share_halfway']:.3f} after "
                          f"{HALFWAY}), in {run['wall_seconds']:.0f} s"),
    report_for=report_for, resummarise=resummarise, markdown=markdown,
    machine_facts=machine_facts,
    ensure_ax=lambda: ensure_ax_venv(str(AX_VENV / "bin" / "python")),
    seeds=10, trials=40, quick_trials=12)
main = BENCHMARK.main

if __name__ == "__main__":
    main()
