"""Noisy outcome constraints: which front to report, judged by the truth.

The problem is BoTorch's ``ConstrainedBraninCurrin`` (catalogue
``constrained-branin-currin``: 2 inputs, both objectives minimised, one disk constraint,
reference point (80, 12), maximum HV 608.40) with its constraint measured with noise:
``{"constraint_noise_std": 10}`` and ``30`` (the slack runs from about -130 to 50). The
objectives are exact, so only feasibility is in doubt. Each run is a ``qlognehvi`` campaign of 40
evaluations (service defaults, q = 4) through the store (``bench_bo.run_ours``), 5 seeds.

Three fronts are picked from each campaign's evaluations, and judged by the noise-free
slacks (a point whose true slack is negative counts for nothing) and exact objectives:

* ``measured``: the stored front (``GET /front``): non-dominated among the points the
  noisy measurement calls feasible;
* ``denoised-as-before``: ``GET /front?denoised=true`` as it was before this benchmark's
  commit, the front of the GPs' predicted objectives among the points *measured* feasible;
* ``denoised``: as it is now, feasibility judged by the GP's predicted slack
  (:func:`bayesopt.bo.denoised_slacks`, told the noise), as Ax's
  ``use_model_predictions`` judges outcome constraints.

Measures: ``hv``, the HV of a front's truly feasible points as a share of the maximum;
``false_feasible``, how many of its points are truly infeasible (what a user would pick
and find the constraint broken); and, per run, the HV of every truly feasible point
evaluated (``hv_possible``, the most any front could report), and over every point
evaluated, how many the measurement and the prediction each call wrongly feasible or
wrongly infeasible. Paired by seed (t-test).

    .venv/bin/python benchmarks/bench_noisy_constraints.py [--seeds 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np
from bench_bo import run_ours
from report_io import code_version, write_report
from scipy.stats import ttest_rel

from bayesopt import bo
from jobs import registry
from jobs.protocol import Observations
from pareto import hypervolume, non_dominated_mask, to_maximization
from storage import upgrade

PROBLEM = "constrained-branin-currin"
CONSTRAINT_NOISES = (10.0, 30.0)
TRIALS = 40
FRONTS = ("measured", "denoised-as-before", "denoised")
OUT = ROOT / "benchmarks" / "results" / "noisy_constraints.json"
README = ROOT / "benchmarks" / "README.md"
MARKERS = ("<!-- BEGIN bench_noisy_constraints -->", "<!-- END bench_noisy_constraints -->")


def _info(noise: float) -> Any:
    definition = registry.problem_definition("test-function", PROBLEM)
    return definition.info(definition.config.model_validate({"constraint_noise_std": noise}))


def one_run(noise: float, seed: int, trials: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench_noisy_constraints_") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'store.db'}"
        upgrade(db_url)
        run = run_ours({"problem": PROBLEM, "method": "qlognehvi", "seed": seed,
                        "budget": trials, "db_url": db_url,
                        "problem_params": {"constraint_noise_std": noise}})
    info = _info(noise)
    objectives = np.array(run["objectives"])
    slacks, true_slacks = np.array(run["constraints"]), np.array(run["true_constraints"])
    observed = Observations(x=np.array(run["points"]), objectives=objectives,
                            constraints=slacks,
                            constraint_sem=np.full(slacks.shape, noise))
    predicted = bo.denoised_objectives(info, observed)
    predicted_slacks = bo.denoised_slacks(info, observed)
    fronts = {
        "measured": _front(objectives, slacks, info),
        "denoised-as-before": _front(predicted, slacks, info),
        "denoised": _front(predicted, predicted_slacks, info),
    }
    truly = (true_slacks >= 0).all(axis=1)
    result: dict[str, Any] = {
        "noise": noise, "seed": seed, "n": len(objectives),
        "hv_possible": _hv(objectives, truly, info),
        "misjudged": {name: _misjudged(judged, truly) for name, judged in (
            ("measured", slacks), ("predicted", predicted_slacks))},
    }
    for name, rows in fronts.items():
        result[name] = {"rows": rows.tolist(),
                        "hv": _hv(objectives[rows], truly[rows], info),
                        "false_feasible": int((~truly[rows]).sum()), "size": len(rows)}
    return result


def _misjudged(slacks: np.ndarray, truly: np.ndarray) -> dict[str, int]:
    called = (slacks >= 0).all(axis=1)
    return {"wrongly_feasible": int((called & ~truly).sum()),
            "wrongly_infeasible": int((~called & truly).sum())}


def _front(values: np.ndarray, slacks: np.ndarray, info: Any) -> np.ndarray:
    """Indices of the non-dominated points among those with every slack >= 0."""
    feasible = np.flatnonzero((slacks >= 0).all(axis=1))
    if len(feasible) == 0:
        return feasible
    return feasible[non_dominated_mask(to_maximization(values[feasible], info.senses))]


def _hv(objectives: np.ndarray, truly_feasible: np.ndarray, info: Any) -> float:
    """HV of the truly feasible points' exact objectives, as a share of the maximum."""
    counted = objectives[truly_feasible]
    reference = to_maximization(list(info.reference_point), info.senses)
    if len(counted) == 0:
        return 0.0
    return hypervolume(to_maximization(counted, info.senses), reference) / \
        info.known_max_hypervolume


def summary(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per noise level: each front's means, and the new front paired against the others."""
    rows = []
    for noise in sorted({r["noise"] for r in runs}):
        mine = [r for r in runs if r["noise"] == noise]
        fronts = {name: {
            "hv": float(np.mean([r[name]["hv"] for r in mine])),
            "hv_sd": float(np.std([r[name]["hv"] for r in mine], ddof=1)) if len(mine) > 1
            else 0.0,
            "false_feasible": float(np.mean([r[name]["false_feasible"] for r in mine])),
            "size": float(np.mean([r[name]["size"] for r in mine]))} for name in FRONTS}
        comparisons = []
        for base in ("measured", "denoised-as-before"):
            ours = np.array([r["denoised"]["hv"] for r in mine])
            theirs = np.array([r[base]["hv"] for r in mine])
            p = (float(ttest_rel(ours, theirs).pvalue)
                 if len(mine) > 1 and np.any(ours != theirs) else None)
            comparisons.append({"against": base, "difference": float((ours - theirs).mean()),
                                "p": p, "better": int((ours > theirs).sum()),
                                "worse": int((ours < theirs).sum())})
        misjudged = {judge: {kind: float(np.mean([r["misjudged"][judge][kind] for r in mine]))
                             for kind in ("wrongly_feasible", "wrongly_infeasible")}
                     for judge in ("measured", "predicted")}
        rows.append({"noise": noise, "seeds": len(mine), "fronts": fronts,
                     "comparisons": comparisons, "misjudged": misjudged,
                     "misjudged_comparison": misjudged_comparison(mine),
                     "hv_possible": float(np.mean([r["hv_possible"] for r in mine]))})
    return rows


def misjudged_comparison(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Points misjudged (either way) by the prediction against the measurement, paired by
    run: their totals, the paired t-test's p and in how many runs each was fewer."""
    def total(run: dict[str, Any], judge: str) -> int:
        return sum(run["misjudged"][judge].values())

    measured = np.array([total(r, "measured") for r in runs])
    predicted = np.array([total(r, "predicted") for r in runs])
    return {"measured": int(measured.sum()), "predicted": int(predicted.sum()),
            "p": float(ttest_rel(predicted, measured).pvalue) if len(runs) > 1 else None,
            "fewer": int((predicted < measured).sum()), "more": int((predicted > measured).sum())}


def markdown(report: dict[str, Any]) -> str:
    lines = [
        (f"Code `{report['code']['commit']}`, {report['config']['seeds']} seeds per noise "
         f"level, {report['config']['trials']} evaluations of `qlognehvi` each. HV of each "
         "front's truly feasible points (exact objectives) as a share of the maximum; "
         "misjudged: of the 40 points evaluated, how many the measured (predicted) slack "
         "calls feasible wrongly / infeasible wrongly."),
        "",
        "| constraint noise | front | HV / max | truly infeasible points on it | points |",
        "|---:|---|---:|---:|---:|",
    ]
    for row in report["summary"]:
        for name in FRONTS:
            front = row["fronts"][name]
            lines.append(f"| {row['noise']:g} | {name} | {front['hv']:.3f} ± "
                         f"{front['hv_sd']:.3f} | {front['false_feasible']:.1f} | "
                         f"{front['size']:.1f} |")
    lines.append("")
    for row in report["summary"]:
        m, p_ = row["misjudged"]["measured"], row["misjudged"]["predicted"]
        lines.append(
            f"- noise {row['noise']:g}: every truly feasible point evaluated reaches "
            f"{row['hv_possible']:.3f}; misjudged by the measurement "
            f"{m['wrongly_feasible']:.1f} / {m['wrongly_infeasible']:.1f}, by the prediction "
            f"{p_['wrongly_feasible']:.1f} / {p_['wrongly_infeasible']:.1f}")
        mc = row["misjudged_comparison"]
        lines.append(f"  - points misjudged over the {row['seeds']} runs: {mc['measured']} by the "
                     f"measurement, {mc['predicted']} by the prediction (paired p = "
                     f"{'–' if mc['p'] is None else format(mc['p'], '.4f')}; fewer in "
                     f"{mc['fewer']} runs, more in {mc['more']})")
        for c in row["comparisons"]:
            p = "–" if c["p"] is None else f"{c['p']:.3f}"
            lines.append(f"  - denoised − {c['against']}: {c['difference']:+.3f} (paired p = "
                         f"{p}; better on {c['better']}, worse on {c['worse']} seeds)")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=TRIALS)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--quick", action="store_true", help="1 seed, 12 evaluations, no README")
    parser.add_argument("--report-only", action="store_true",
                        help="no runs: summarise --out's runs again and rewrite the table")
    args = parser.parse_args(argv)
    if args.report_only:
        report = json.loads(args.out.read_text())
        report["summary"] = summary(report["runs"])
        write_report(report, markdown(report), args.out, README, MARKERS)
        return
    seeds = range(1 if args.quick else args.seeds)
    trials = 12 if args.quick else args.trials
    runs = []
    for noise, seed in ((noise, seed) for noise in CONSTRAINT_NOISES for seed in seeds):
        runs.append(one_run(noise, seed, trials))
        print(f"noise {noise:g} seed {seed}: " + ", ".join(f"{name} {runs[-1][name]['hv']:.3f} "
                                            f"({runs[-1][name]['false_feasible']} false)"
                                            for name in FRONTS), flush=True)
    report = {"benchmark": "bench_noisy_constraints",
              "code": code_version("bayesopt", "api", "benchmarks/bench_noisy_constraints.py"),
              "config": {"seeds": len(seeds), "trials": trials, "problem": PROBLEM,
                         "constraint_noise_std": list(CONSTRAINT_NOISES)},
              "summary": summary(runs), "runs": runs, "failed": []}
    write_report(report, markdown(report), args.out, None if args.quick else README, MARKERS)


if __name__ == "__main__":
    main()
