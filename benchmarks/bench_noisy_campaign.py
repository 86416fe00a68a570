"""A noisy built-in problem: mofront's BO campaigns against Ax, in BoTorch's noisy tutorial.

The problem is the one of BoTorch's multi-objective tutorial (qNEHVI and qNParEGO on
BraninCurrin): ``branin-currin`` (2 inputs, both objectives minimised, reference point
(18, 6), noise-free maximum HV 59.36) observed with Gaussian noise of deviation 15.19 on
``branin`` and 0.63 on ``currin``, the tutorial's ``NOISE_SE``. mofront's campaigns get
it as the spec ``{"kind": "test-function", "id": "branin-currin", "noise_std": [15.19,
0.63]}`` (:func:`bayesopt.problems.measure` draws the noise, the GPs are fitted with it
known); Ax (``ax_runner.py --noise fixed --noise-std 15.19,0.63``) completes each trial
with ``(y, sem)``, the same deviations, so both are told the noise. The budget is the
tutorial's: an initial design of ``2 (d + 1) = 6`` points (Ax chooses its own), then 20
batches of 4: 86 evaluations.

Arms (each a whole campaign; mofront's through the service's store, as ``bench_bo``
runs them):

* ``qlognehvi``, ``qnparego``, ``sobol``: mofront's algorithms, service defaults, q = 4;
* ``qlognehvi-tutorial``: ``qlognehvi`` with the tutorial's optimiser settings (10
  restarts, 512 raw samples, 128 MC samples);
* ``ax``: Ax's default generation strategy, 4 trials at a time.

Quality, exact (``pareto``), as a share of the noise-free maximum HV:

* ``hv_true``: the HV of the noise-free values of every evaluated point (the tutorial's
  measure: the best the campaign has sampled);
* ``hv_front``: the HV of the noise-free values of the points on the front the campaign
  reports, the front of the *observed* values: what a user takes home;
* ``hv_denoised``: the same for the front of the model's predictions at the evaluated
  points (mofront's ``GET /front?denoised=true``, :func:`bayesopt.bo.denoised_objectives`;
  Ax's ``get_pareto_frontier(use_model_predictions=True)``; none for ``sobol``).

Speed: the median seconds a batch of 4 takes to propose after the initial design.
Paired by seed against ``ax`` (paired t-test). One process per run, one torch thread.

    .venv/bin/python benchmarks/bench_noisy_campaign.py [--seeds 5] [--trials 86]
        [--jobs 2] [--arms ...] [--add] [--quick] [--report-only]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np
from bench_bo import AX_VENV, ax_campaign, ensure_ax_venv, run_ours
from bench_failures import _seed_ranges, _seeds_text
from bench_mixed import machine_facts
from bench_parameter_constraints import compare
from report_io import ArmsBenchmark, paired_table, reruns, run_line

from bayesopt import bo
from jobs import registry
from jobs.protocol import Observations
from pareto import hypervolume, non_dominated_mask, to_maximization
from storage import upgrade

PROBLEM = "branin-currin"
NOISE_STD = [15.19, 0.63]  # BoTorch's multi-objective tutorial, NOISE_SE
Q = 4
AX_PYTHON = AX_VENV / "bin" / "python"
AX_INITIAL_NODES = ("CenterOfSearchSpace", "Sobol")
ARMS = ("qlognehvi", "qnparego", "qlognehvi-tutorial", "ax", "sobol")
COMPARISONS = (("qlognehvi", "ax"), ("qnparego", "ax"), ("qlognehvi-tutorial", "ax"))
MEASURES = {"hv_true": "HV / max, everything evaluated",
            "hv_front": "HV / max, the reported front",
            "hv_denoised": "HV / max, the front of the model's predictions"}
EXPECTED_MINUTES = {"qlognehvi-tutorial": 6.0, "ax": 5.0, "qnparego": 3.0, "qlognehvi": 2.0,
                    "sobol": 0.0}


def _info() -> Any:
    definition = registry.problem_definition("test-function", PROBLEM)
    return definition.info(definition.config.model_validate({"noise_std": NOISE_STD}))


def run_mofront(arm: str, seed: int, trials: int) -> dict[str, Any]:
    """One campaign through the store (``bench_bo.run_ours``), in a store of its own."""
    with tempfile.TemporaryDirectory(prefix="bench_noisy_campaign_") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'store.db'}"
        upgrade(db_url)
        run = run_ours({"problem": PROBLEM, "method": arm, "seed": seed, "budget": trials,
                        "db_url": db_url, "problem_params": {"noise_std": NOISE_STD}})
    model_batches = [it for it in run["iterations"] if it["stage"] == "acquisition"]
    denoised = None
    if arm != "sobol":  # what GET /front?denoised=true picks, from the same observations
        observed, info = np.array(run["objectives"]), _info()
        means = bo.denoised_objectives(info, Observations(
            x=np.array(run["points"]), objectives=observed,
            sem=np.tile(NOISE_STD, (len(observed), 1))))
        denoised = np.flatnonzero(non_dominated_mask(to_maximization(means, info.senses)))
    return {"observed": run["objectives"], "true": run["true_objectives"],
            "denoised_front": None if denoised is None else denoised.tolist(),
            "batch_seconds": [it["wall_seconds"] - it.get("evaluation_seconds", 0.0)
                              for it in model_batches]}


def run_ax(seed: int, trials: int) -> dict[str, Any]:
    result = ax_campaign(["--problem", PROBLEM, "--seed", str(seed), "--budget", str(trials),
                          "--q", str(Q), "--noise", "fixed",
                          "--noise-std", ",".join(map(str, NOISE_STD))],
                         "bench_noisy_campaign_ax_")
    position = {trial["index"]: i for i, trial in enumerate(result["trials"])}
    return {"observed": [trial["observed"] for trial in result["trials"]],
            "true": [trial["objectives"] for trial in result["trials"]],
            "denoised_front": [position[p["trial"]] for p in result["predicted_front"]],
            "batch_seconds": [it["generate_seconds"] for it in result["iterations"]
                              if not set(it["nodes"]) <= set(AX_INITIAL_NODES)],
            "ax": {"generation_strategy": result["generation_strategy"],
                   "versions": result["versions"], "total_seconds": result["total_seconds"]}}


def one_run(arm: str, seed: int, trials: int) -> dict[str, Any]:
    try:
        import torch

        torch.set_num_threads(1)
        started = time.perf_counter()
        result = run_ax(seed, trials) if arm == "ax" else run_mofront(arm, seed, trials)
        return {"arm": arm, "seed": seed,
                **quality(result["observed"], result["true"], result["denoised_front"]),
                "wall_seconds": time.perf_counter() - started, **result}
    except Exception:  # noqa: BLE001 -- a failed run is reported, the others go on
        return {"arm": arm, "seed": seed, "error": traceback.format_exc()}


def quality(observed: list[list[float]], true: list[list[float]],
            denoised_front: list[int] | None) -> dict[str, Any]:
    info = _info()
    reference = to_maximization(list(info.reference_point or ()), info.senses)
    true_max = to_maximization(true, info.senses)
    on_front = non_dominated_mask(to_maximization(observed, info.senses))
    noise = (np.array(observed) - np.array(true)) / np.array(NOISE_STD)
    max_hv = info.known_max_hypervolume
    return {"hv_true": hypervolume(true_max, reference) / max_hv,
            "hv_front": hypervolume(true_max[on_front], reference) / max_hv,
            "hv_denoised": (None if denoised_front is None
                            else hypervolume(true_max[denoised_front], reference) / max_hv),
            "front_size": int(np.count_nonzero(on_front)),
            "noise_sd_measured": [float(v) for v in noise.std(axis=0)]}


def summarise(runs: list[dict[str, Any]], arms: list[str]) -> list[dict[str, Any]]:
    rows = []
    for arm in arms:
        mine = [r for r in runs if r["arm"] == arm]
        if not mine:
            continue
        row: dict[str, Any] = {"arm": arm, "seeds": len(mine)}
        for measure in MEASURES:
            values = [r[measure] for r in mine if r[measure] is not None]
            row[measure] = statistics.mean(values) if values else None
            row[f"{measure}_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
            row[f"{measure}_per_seed"] = {str(r["seed"]): r[measure] for r in mine}
        row["front_size"] = statistics.mean(r["front_size"] for r in mine)
        seconds = [s for r in mine for s in r["batch_seconds"]]
        row["batch_seconds_median"] = statistics.median(seconds) if seconds else None
        rows.append(row)
    return rows


def markdown(report: dict[str, Any]) -> str:
    config = report["config"]
    lines = [
        (f"{run_line(report['machine'], report['runs'])} BraninCurrin observed with Gaussian "
         f"noise of deviation {NOISE_STD[0]} and {NOISE_STD[1]} (BoTorch's noisy tutorial); "
         f"{config['trials']} evaluations, {Q} at a time, seeds {_seeds_text(config['seeds'])}; "
         "HV of noise-free values as a share of the maximum 59.36 under the reference point "
         "(18, 6)." + reruns(report["machine"])),
        "",
        ("| arm | seeds | " + " | ".join(f"{label} (mean ± sd)" for label in MEASURES.values())
         + " | points on the reported front | s per batch of 4 (median) |"),
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["summary"]:
        seconds = row["batch_seconds_median"]
        shares = " | ".join("–" if row[m] is None else f"{row[m]:.3f} ± {row[f'{m}_sd']:.3f}"
                            for m in MEASURES)
        lines.append(f"| {row['arm']} | {row['seeds']} | {shares} | {row['front_size']:.1f} | "
                     f"{'–' if seconds is None else f'{seconds:.1f}'} |")
    for measure, label in MEASURES.items():
        lines += paired_table(report["comparisons"][measure], label)
    return "\n".join(lines) + "\n"


def _compare_all(runs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {measure: compare([{**r, "hv_share": r[measure]} for r in runs
                              if r[measure] is not None], COMPARISONS)
            for measure in MEASURES}


def report_for(runs: list[dict[str, Any]], arms: list[str], trials: int,
               machine: dict[str, Any], failed: list[dict[str, Any]]) -> dict[str, Any]:
    return {"config": {"seeds": _seed_ranges(runs, arms), "trials": trials, "arms": arms,
                       "q": Q, "problem": PROBLEM, "noise_std": NOISE_STD,
                       "reference_point": [18.0, 6.0]},
            "machine": machine, "max_hypervolume": _info().known_max_hypervolume,
            "summary": summarise(runs, arms), "comparisons": _compare_all(runs),
            "runs": runs, "failed": failed}


def resummarise(report: dict[str, Any]) -> None:
    report["summary"] = summarise(report["runs"], report["config"]["arms"])
    report["comparisons"] = _compare_all(report["runs"])


BENCHMARK = ArmsBenchmark(
    name="bench_noisy_campaign", doc=__doc__ or "", arms=ARMS,
    expected_minutes=EXPECTED_MINUTES, one_run=one_run,
    describe=lambda run: (f"HV/max {run['hv_true']:.3f} (reported front {run['hv_front']:.3f}) "
                          f"in {run['wall_seconds']:.0f} s"),
    report_for=report_for, resummarise=resummarise, markdown=markdown,
    machine_facts=machine_facts, ensure_ax=lambda: ensure_ax_venv(str(AX_PYTHON)),
    seeds=5, trials=86, quick_trials=14)
main = BENCHMARK.main

if __name__ == "__main__":
    main()
