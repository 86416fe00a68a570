"""Known observation noise: mofront's ask/tell told each result's SEM, against Ax.

The problem is BoTorch's BraninCurrin (catalogue ``branin-currin``: 2 inputs in
``[0, 1]``, both objectives minimised, reference point (18, 6), noise-free maximum HV
59.36) measured with a relative error of 10%: objective ``j`` at ``x`` is observed as

    y_j = f_j(x) + sd_j(x) z,   sd_j(x) = RELATIVE_ERROR * |f_j(x)|,   RELATIVE_ERROR = 0.1,

the noise of an instrument, or of a score averaged over a few runs, whose error grows
with what it measures. So the noise differs by two orders of magnitude over the box
(branin's sd 0.04 at its minimum, 31 at its maximum) and by an order of magnitude along
the front itself (the front's branin runs from 0.4 to about 12, its currin from 1.9 to
5.7): a single noise level, inferred, is wrong almost everywhere, and one that the many
poor points far from the front inflate smooths the front over. ``z`` is one standard
normal per trial and objective, drawn in trial order by ``numpy.random.default_rng(seed)``
(row ``i`` of its ``trials x 2`` draws for trial ``i``), so every arm of a seed sees the
same ``z`` sequence, at its own points.

The design was first noise growing along the first input (``sd_j = se_j * 2 x0``, the
noisy tutorial's levels on average); it was changed before any full run, once it was
seen that the Pareto set lies at ``x0 <= 0.124``, where that noise all but vanishes, so
the front would have been measured nearly exactly by every arm.

Every arm gets the same number of trials (40), asked for one point at a time (ask 1,
evaluate, tell 1):

* ``qlognehvi-sem``: mofront's ``qlognehvi`` suggest function, as ``POST
  /campaigns/{id}/ask`` calls it, service defaults, told the true ``sd_j(x)`` of every
  observation as its standard error (``Observations.sem``, what ``tell`` with ``sem``
  stores): each objective's GP is fitted with that fixed noise (``train_Yvar = sem^2``);
* ``qlognehvi``: the same told the means only: the GPs infer one noise level each;
* ``qnparego-sem``: ``qnparego`` told the SEMs;
* ``sobol``: mofront's ``sobol`` (looks at nothing);
* ``ax-sem``: Ax (``ax-platform`` in ``benchmarks/.ax-venv``, its own default generation
  strategy, the reference point as objective thresholds: ``ax_runner.py --noise
  relative``) with every trial completed as ``{metric: (mean, sem)}``;
* ``ax``: the same with the means only (``--no-sem``: Ax infers the noise);
* ``qlognehvi-sem-noref``, ``qlognehvi-noref``: ``qlognehvi`` with and without the SEMs,
  not given the published reference point (as an external problem without
  ``reference_point``), so that it infers one: told the SEMs, from the posterior means
  at the observations; not told them, from the noisy observations. Added after the
  first run, which gave every arm the published point, and run with ``--add``.

Quality, exact (``pareto``), as a share of the noise-free maximum HV (59.36):
``hv_true``, the HV of the noise-free values of every evaluated point (the metric of
BoTorch's noisy tutorial); ``hv_reported``, the HV of the noise-free values of the points
on the *observed* (noisy) front, what a user who picks from the reported front actually
gets; for mofront's arms, ``hv_denoised``, the HV of the true values of the points on
the *denoised* front (``GET .../front?denoised=true``: the front of the GP's posterior
means at the measurements, the standard errors used where the arm told them; added
after the runs and computed from their stored trials by ``--report-only``); for Ax's
arms, the same on Ax's own front of its model's predictions
(``get_pareto_frontier(use_model_predictions=True)``, recorded by ``ax_runner.py``; the
Ax arms were run again for it with ``--add --replace``). The JSON also has ``hv_observed``, the HV the noisy values claim, and the share of
the model's trials whose true values lie inside the reference box. Speed: the median wall time of a
suggestion (model fit and acquisition) after the initial design (mofront's 2 (d + 1) = 6
points, the centre and Sobol; Ax's centre and 4 Sobol points, up to its first trial of a
model-based node). Per Ax trial the JSON records the node and, for a model-based one,
the BoTorch model, its likelihood (``FixedNoiseGaussianLikelihood`` where the SEMs were
used, ``GaussianLikelihood`` where the noise was inferred) and the acquisition class Ax
chose (``qLogProbabilityOfFeasibility`` while no observation dominates the thresholds,
then ``qLogNoisyExpectedHypervolumeImprovement``). Paired by seed, with a paired
t-test: ``qlognehvi-sem`` against ``qlognehvi`` and against ``ax-sem``, and ``ax-sem``
against ``ax``. One process per run, one torch thread; an Ax run is a subprocess of its
worker.

    .venv/bin/python benchmarks/bench_noise.py [--seeds 20] [--first-seed 0] [--trials 40]
        [--jobs 2] [--arms ...] [--out benchmarks/results/bench_noise.json] [--add]
        [--quick] [--report-only]

``--add`` adds the runs to those already in ``--out`` (same trials; a run of an arm and
seed already there is refused) and summarises them all. ``--quick``: 2 seeds, 12 trials,
written to the temporary directory only (not ``--out``, not the README).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
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
from report_io import (
    add_seed_run_arguments,
    dumped,
    earlier_report,
    p_value,
    replace_table,
)

from jobs import registry
from jobs.protocol import Observations, ProblemInfo
from pareto import hypervolume, non_dominated_mask, to_maximization

README = ROOT / "benchmarks" / "README.md"
TABLE_BEGIN = "<!-- bench_noise:begin (generated by benchmarks/bench_noise.py) -->"
TABLE_END = "<!-- bench_noise:end -->"
PROBLEM = "branin-currin"
RELATIVE_ERROR = 0.1  # each objective's noise sd, as a share of its noise-free value
AX_PYTHON = AX_VENV / "bin" / "python"
AX_INITIAL_NODES = ("CenterOfSearchSpace", "Sobol")
# arm -> (mofront algorithm, or "ax"; whether each observation's SEM is told)
ARMS: dict[str, tuple[str, bool]] = {
    "qlognehvi-sem": ("qlognehvi", True),
    "qlognehvi": ("qlognehvi", False),
    "qnparego-sem": ("qnparego", True),
    "sobol": ("sobol", False),
    "ax-sem": ("ax", True),
    "ax": ("ax", False),
    "qlognehvi-sem-noref": ("qlognehvi", True),
    "qlognehvi-noref": ("qlognehvi", False),
}
# Arms whose suggest function is not given BraninCurrin's published reference point, so
# that qLogNEHVI infers one (told the SEMs: from the posterior means; else from the
# noisy measurements), as for an external problem without "reference_point".
NO_REFERENCE_POINT = {"qlognehvi-sem-noref", "qlognehvi-noref"}
SEM_TOLD = {"qlognehvi-sem": "yes (`sem`)", "qlognehvi": "no (noise inferred)",
            "qnparego-sem": "yes (`sem`)", "sobol": "no (looks at nothing)",
            "ax-sem": "yes (`(mean, sem)`)", "ax": "no (noise inferred)",
            "qlognehvi-sem-noref": "yes (`sem`); no reference point given",
            "qlognehvi-noref": "no (noise inferred); no reference point given"}
COMPARISONS = (("qlognehvi-sem", "qlognehvi"), ("qlognehvi-sem", "ax-sem"), ("ax-sem", "ax"),
               ("qlognehvi-sem-noref", "qlognehvi-noref"))
METRICS = ("hv_true", "hv_reported")
# Rough minutes per 40-trial run, two at once on 2 cores: the longest are started first.
EXPECTED_MINUTES = {"ax-sem": 1.2, "ax": 1.2, "qlognehvi-sem": 0.5, "qlognehvi": 0.6,
                    "qnparego-sem": 0.6, "sobol": 0.0, "qlognehvi-sem-noref": 0.5,
                    "qlognehvi-noref": 0.6}


def problem() -> tuple[ProblemInfo, Any]:
    """BraninCurrin as the catalogue builds it: its info (as the ask route sees it) and
    the built problem, whose ``evaluate`` gives the noise-free values."""
    definition = registry.problem_definition("test-function", PROBLEM)
    config = definition.config.model_validate({})
    info = definition.info(config)
    if [(p.low, p.high) for p in info.parameters] != [(0.0, 1.0), (0.0, 1.0)]:
        raise RuntimeError(f"{PROBLEM}: the noise model needs the unit square")
    return info, definition.build(config)


def noise_sd(true: list[float]) -> list[float]:
    """Each objective's noise standard deviation where its noise-free values are ``true``."""
    return [RELATIVE_ERROR * abs(v) for v in true]


def noise_draws(seed: int, trials: int) -> np.ndarray:
    """The ``trials x 2`` standard normals of a seed, row ``i`` for trial ``i``."""
    return np.random.default_rng(seed).standard_normal((trials, 2))


def initial_design(algorithm: str, d: int) -> int:
    """How many points mofront's BO methods draw before fitting a model (the same
    cut is used for ``sobol``)."""
    model = registry.algorithm("qlognehvi" if algorithm == "sobol" else algorithm)
    config: Any = model.config_model().model_validate({})
    return int(config.initial_points(d))


def run_mofront(algorithm: str, seed: int, trials: int, sem: bool,
                published_reference: bool = True) -> dict[str, Any]:
    info, built = problem()
    if not published_reference:  # the suggest function infers one; scoring keeps (18, 6)
        info = replace(info, reference_point=None, reference_point_source=None)
    d, m = len(info.parameters), info.n_objectives
    suggest = registry.algorithm(algorithm).load_suggest()
    low = np.array([p.low for p in info.parameters])
    high = np.array([p.high for p in info.parameters])
    z = noise_draws(seed, trials)
    x: list[list[float]] = []
    observed: list[list[float]] = []
    sds: list[list[float]] = []
    log = []
    for index in range(trials):
        observations = Observations(
            x=np.array(x, dtype=float).reshape(-1, d),
            objectives=np.array(observed, dtype=float).reshape(-1, m),
            n_suggested=index,
            sem=np.array(sds, dtype=float).reshape(-1, m) if sem and sds else None)
        started = time.perf_counter()
        suggested = suggest(info, {}, seed, observations, 1, "cpu")
        seconds = time.perf_counter() - started
        # the ask route clips what it hands out to the box, so do we
        point = np.clip(np.asarray(suggested, dtype=float).reshape(-1, d)[0], low, high)
        true = [float(v) for v in built.evaluate(point[None, :])[0]]
        sd = noise_sd(true)
        noisy = [float(v + s * e) for v, s, e in zip(true, sd, z[index], strict=True)]
        x.append(point.tolist())
        observed.append(noisy)
        sds.append(sd)
        log.append({"x": point.tolist(), "objectives": true, "observed": noisy, "sd": sd,
                    "suggest_seconds": seconds})
    return {"trials": log, "model_start": initial_design(algorithm, d)}


def run_ax(seed: int, trials: int, sem: bool) -> dict[str, Any]:
    """One Ax campaign through ``ax_runner.py --noise relative`` in the Ax venv;
    its noise-free values and observations are checked against ours."""
    info, built = problem()
    result = ax_campaign(["--problem", PROBLEM, "--seed", str(seed), "--budget", str(trials),
                          "--q", "1", "--noise", "relative", "--noise-relative",
                          repr(RELATIVE_ERROR), "--noise-seed", str(seed),
                          "--sem" if sem else "--no-sem"], "bench_noise_ax_")
    if result["reference_point"] != list(info.reference_point or []):
        raise RuntimeError(f"Ax was given the reference point {result['reference_point']}, "
                           f"the catalogue's is {info.reference_point}")
    if len(result["iterations"]) != trials or len(result["trials"]) != trials:
        raise RuntimeError(f"Ax made {len(result['trials'])} trials in "
                           f"{len(result['iterations'])} requests, not {trials} one at a time")
    z = noise_draws(seed, trials)
    log_trials = []
    for index, (trial, iteration) in enumerate(
            zip(result["trials"], result["iterations"], strict=True)):
        if trial["index"] != index:
            raise RuntimeError(f"Ax's trial {trial['index']} came {index}th")
        true = [float(v) for v in built.evaluate(np.array([trial["x"]]))[0]]
        sd = noise_sd(true)
        noisy = [float(v + s * e) for v, s, e in zip(true, sd, z[index], strict=True)]
        if not (np.allclose(true, trial["objectives"], rtol=1e-9, atol=1e-9)
                and np.allclose(noisy, trial["observed"], rtol=1e-9, atol=1e-9)
                and np.allclose(sd, trial["sd"], rtol=1e-12, atol=1e-12)):
            raise RuntimeError(f"Ax's trial {index} was not observed as ours would be: "
                               f"{trial} against {true}, {noisy}, {sd}")
        log_trials.append({"x": trial["x"], "objectives": true, "observed": noisy, "sd": sd,
                           "suggest_seconds": iteration["generate_seconds"],
                           "node": trial["node"], "model": trial["model"]})
    model_start = next((i for i, t in enumerate(log_trials)
                        if t["node"] not in AX_INITIAL_NODES), trials)
    return {"trials": log_trials, "model_start": model_start,
            "predicted_front": result.get("predicted_front"),
            "ax": {"generation_strategy": result["generation_strategy"],
                   "versions": result["versions"], "torch_threads": result["torch_threads"],
                   "total_seconds": result["total_seconds"],
                   "cpu_seconds": result["cpu_seconds"]}}


def one_run(arm: str, seed: int, trials: int) -> dict[str, Any]:
    try:
        import torch

        torch.set_num_threads(1)
        started = time.perf_counter()
        algorithm, sem = ARMS[arm]
        result = (run_ax(seed, trials, sem) if algorithm == "ax"
                  else run_mofront(algorithm, seed, trials, sem,
                                   published_reference=arm not in NO_REFERENCE_POINT))
        return {"arm": arm, "seed": seed, "sem_told": sem,
                **quality(result["trials"]),
                **(denoised_quality(result["trials"], sem) if algorithm != "ax"
                   else predicted_front_quality(result["trials"], result["predicted_front"])),
                "wall_seconds": time.perf_counter() - started, **result}
    except Exception:  # noqa: BLE001 -- a failed run is reported, the others go on
        return {"arm": arm, "seed": seed, "error": traceback.format_exc()}


def quality(trials: list[dict[str, Any]]) -> dict[str, float]:
    """``hv_true``, ``hv_reported`` (and ``hv_observed``, the HV the noisy values claim)
    as shares of the noise-free maximum HV."""
    info, _ = problem()
    reference = to_maximization(list(info.reference_point or ()), info.senses)
    max_hv = float(info.known_max_hypervolume or math.nan)
    true = to_maximization([t["objectives"] for t in trials], info.senses)
    observed = to_maximization([t["observed"] for t in trials], info.senses)
    front = non_dominated_mask(observed)
    return {"hv_true": hypervolume(true, reference) / max_hv,
            "hv_reported": hypervolume(true[front], reference) / max_hv,
            "hv_observed": hypervolume(observed, reference) / max_hv,
            "reported_front_size": int(front.sum())}


def denoised_quality(trials: list[dict[str, Any]], sem_told: bool) -> dict[str, float]:
    """``hv_denoised``: the HV of the true values of the points on mofront's *denoised*
    front (``GET .../front?denoised=true``: the front of the GP's posterior means at
    the measurements, with the standard errors where the arm told them), as a share of
    the noise-free maximum HV; and that front's size."""
    from bayesopt import bo

    info, _ = problem()
    reference = to_maximization(list(info.reference_point or ()), info.senses)
    means = bo.denoised_objectives(info, Observations(
        x=np.array([t["x"] for t in trials]),
        objectives=np.array([t["observed"] for t in trials]),
        sem=np.array([t["sd"] for t in trials]) if sem_told else None))
    front = non_dominated_mask(to_maximization(means, info.senses))
    true = to_maximization([t["objectives"] for t in trials], info.senses)
    return {"hv_denoised": hypervolume(true[front], reference)
            / float(info.known_max_hypervolume or math.nan),
            "denoised_front_size": int(front.sum())}


def predicted_front_quality(trials: list[dict[str, Any]],
                            front: list[dict[str, Any]]) -> dict[str, float]:
    """``hv_denoised`` for an Ax run: the HV of the true values of the trials on Ax's
    own front of its model's predictions (``get_pareto_frontier(use_model_predictions=
    True)``), as a share of the noise-free maximum HV; and that front's size."""
    info, _ = problem()
    reference = to_maximization(list(info.reference_point or ()), info.senses)
    picked = sorted({point["trial"] for point in front})
    true = to_maximization([trials[i]["objectives"] for i in picked], info.senses)
    hv = hypervolume(true, reference) if picked else 0.0
    return {"hv_denoised": hv / float(info.known_max_hypervolume or math.nan),
            "denoised_front_size": len(picked)}


def summarise(runs: list[dict[str, Any]], arms: list[str]) -> list[dict[str, Any]]:
    rows = []
    for arm in arms:
        mine = [r for r in runs if r["arm"] == arm]
        if not mine:
            continue
        row: dict[str, Any] = {"arm": arm, "sem_told": ARMS[arm][1], "seeds": len(mine)}
        for metric in (*METRICS, "hv_observed"):
            values = [r[metric] for r in mine]
            row[metric] = statistics.mean(values)
            row[f"{metric}_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
            row[f"{metric}_per_seed"] = {str(r["seed"]): r[metric] for r in mine}
        if all("hv_denoised" in r for r in mine):  # mofront's arms: the denoised front
            from scipy import stats

            values = [r["hv_denoised"] for r in mine]
            gains = [r["hv_denoised"] - r["hv_reported"] for r in mine]
            row["hv_denoised"] = statistics.mean(values)
            row["hv_denoised_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
            row["denoised_gain"] = statistics.mean(gains)
            row["denoised_gain_p"] = (
                float(stats.ttest_rel(values, [r["hv_reported"] for r in mine]).pvalue)
                if len(values) > 1 and statistics.stdev(gains) > 0 else None)
            row["denoised_front_size"] = statistics.mean(r["denoised_front_size"] for r in mine)
        later = [t for r in mine for t in r["trials"][r["model_start"]:]]
        row["suggest_seconds_median"] = (statistics.median(t["suggest_seconds"] for t in later)
                                         if later else None)
        row["trials_after_initial_design"] = statistics.mean(
            len(r["trials"]) - r["model_start"] for r in mine)
        # where the model put its trials: inside the reference box, near the front
        reference = problem()[0].reference_point or ()
        row["share_in_reference_box"] = (
            sum(all(v < r for v, r in zip(t["objectives"], reference, strict=True))
                for t in later) / len(later) if later else None)
        row["reported_front_size"] = statistics.mean(r["reported_front_size"] for r in mine)
        if ARMS[arm][0] == "ax":
            models = [t["model"] for t in later if t.get("model")]
            row["ax_generation_strategies"] = sorted({r["ax"]["generation_strategy"]
                                                      for r in mine})
            row["ax_acquisitions"] = _counts(m["acquisition"] for m in models)
            row["ax_likelihoods"] = _counts("+".join(m["likelihoods"]) for m in models)
            row["ax_models"] = _counts(m["botorch_model"] for m in models)
        rows.append(row)
    return rows


def _counts(values: Any) -> dict[str, int]:
    return dict(sorted(Counter(str(value) for value in values).items()))


def compare(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Paired by seed: the mean difference ``a - b`` of each metric, its sd, and the
    paired t-test's p-value (None with fewer than two pairs or no variation)."""
    from scipy import stats

    by = {(r["arm"], r["seed"]): r for r in runs}
    answers = []
    for a, b in COMPARISONS:
        seeds = sorted(s for (arm, s) in by if arm == a and (b, s) in by)
        if not seeds:
            continue
        answer: dict[str, Any] = {"a": a, "b": b, "seeds": seeds}
        for metric in METRICS:
            first = [by[a, s][metric] for s in seeds]
            second = [by[b, s][metric] for s in seeds]
            differences = [x - y for x, y in zip(first, second, strict=True)]
            p = t = None
            if len(seeds) > 1 and statistics.stdev(differences) > 0:
                test = stats.ttest_rel(first, second)
                t, p = float(test.statistic), float(test.pvalue)
            answer[metric] = {
                "mean_a": statistics.mean(first), "mean_b": statistics.mean(second),
                "mean_difference": statistics.mean(differences),
                "sd_difference": statistics.stdev(differences) if len(seeds) > 1 else 0.0,
                "a_better": sum(x > 0 for x in differences), "t": t, "p": p}
        answers.append(answer)
    return answers


def markdown(report: dict[str, Any]) -> str:
    facts, config = report["machine"], report["config"]
    batches = report.get("batches") or [{"machine": facts, "arms": config["arms"]}]

    def run_of(batch: dict[str, Any]) -> str:
        code = batch["machine"]["code"]
        text = f"{batch['machine']['date']} (code `{code['commit']}`"
        if code["uncommitted_changes"]:
            text += f" + uncommitted {', '.join(code['uncommitted_changes'])}"
        if len(batches) > 1:
            text += f": {', '.join(batch['arms'])}, seeds {batch['seeds'][0]}–{batch['seeds'][-1]}"
        return text + ")"

    packages = facts["packages"]
    ax_versions = sorted({r["ax"]["versions"]["ax-platform"] for r in report["runs"] if "ax" in r})
    lines = [
        (f"Run{'s' if len(batches) > 1 else ''} of {'; '.join(run_of(b) for b in batches)} on "
         f"{facts['cpu_cores']} CPU cores, Python {facts['python']}, torch {packages['torch']}, "
         f"BoTorch {packages['botorch']}, Ax {', '.join(ax_versions) or '–'}. BraninCurrin, "
         f"noise sd = {RELATIVE_ERROR} · |f(x)|; {config['trials']} trials, one "
         f"at a time, seeds {_seeds_text(config['seeds'])}; HV as a share of the noise-free "
         f"maximum {report['max_hypervolume']:.2f} under the reference point (18, 6)."),
        "",
        ("| arm | SEM told | seeds | HV of everything evaluated (true values; mean ± sd) | "
         "HV of the reported front (true values; mean ± sd) | HV of the denoised front "
         "(true values; mean ± sd; gain over the reported front, paired t p) | s per "
         "suggestion after the initial design (median) |"),
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in report["summary"]:
        seconds = row["suggest_seconds_median"]
        denoised = ("– (Ax's own not measured)" if "hv_denoised" not in row else
                    f"{row['hv_denoised']:.3f} ± {row['hv_denoised_sd']:.3f}; "
                    f"{row['denoised_gain']:+.3f} ({p_value(row['denoised_gain_p'])})")
        lines.append(
            f"| {row['arm']} | {SEM_TOLD[row['arm']]} | {row['seeds']} | {row['hv_true']:.3f} ± "
            f"{row['hv_true_sd']:.3f} | {row['hv_reported']:.3f} ± {row['hv_reported_sd']:.3f} "
            f"| {denoised} | {'–' if seconds is None else f'{seconds:.2f}'} |")
    if report["comparisons"]:
        lines += ["", ("| paired by seed | seeds | HV of everything evaluated: difference "
                       "(paired t p) | HV of the reported front: difference (paired t p) |"),
                  "|---|---:|---:|---:|"]
        for pair in report["comparisons"]:
            cells = [f"{pair[m]['mean_difference']:+.3f} ({p_value(pair[m]['p'])})" for m in METRICS]
            lines.append(f"| {pair['a']} − {pair['b']} | {len(pair['seeds'])} | "
                         f"{cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def report_for(runs: list[dict[str, Any]], arms: list[str], trials: int,
               batches: list[dict[str, Any]], failed: list[dict[str, Any]]) -> dict[str, Any]:
    info, _ = problem()
    return {
        "config": {"seeds": _seed_ranges(runs, arms), "trials": trials, "arms": arms,
                   "problem": PROBLEM, "reference_point": list(info.reference_point or []),
                   "noise": {"kind": "relative", "relative_error": RELATIVE_ERROR,
                             "sd": "relative_error * |f_j(x)|",
                             "z": "numpy default_rng(seed), trials x 2"},
                   "batch_size": 1},
        "machine": batches[-1]["machine"],
        "batches": batches,
        "max_hypervolume": info.known_max_hypervolume,
        "summary": summarise(runs, arms),
        "comparisons": compare(runs),
        "runs": runs,
        "failed": failed,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_seed_run_arguments(parser, seeds=20, out=ROOT / "benchmarks/results/bench_noise.json",
                           quick="2 seeds, 12 trials, written to the temporary directory only")
    parser.add_argument("--arms", default=",".join(ARMS))
    args = parser.parse_args(argv)
    if args.report_only:
        report = json.loads(args.out.read_text())
        for run in report["runs"]:  # runs made before the denoised front was measured
            if ARMS[run["arm"]][0] != "ax" and "hv_denoised" not in run:
                run.update(denoised_quality(run["trials"], run["sem_told"]))
        report["summary"] = summarise(report["runs"], report["config"]["arms"])
        report["comparisons"] = compare(report["runs"])
        args.out.write_text(dumped(report))
        replace_table(README, TABLE_BEGIN, TABLE_END, markdown(report))
        print(markdown(report))
        return
    if args.quick:
        if args.add:
            parser.error("--quick cannot --add")
        args.seeds, args.trials = 2, 12
        args.out = Path(tempfile.gettempdir()) / "bench_noise_quick.json"
    arms = args.arms.split(",")
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        parser.error(f"--arms: unknown {', '.join(unknown)}; choose from {', '.join(ARMS)}")
    if any(ARMS[arm][0] == "ax" for arm in arms):
        ensure_ax_venv(str(AX_PYTHON))

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    batch = {"machine": machine_facts(), "arms": arms, "seeds": list(seeds)}
    earlier: list[dict[str, Any]] = []
    batches: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    new_arms = arms
    replaced: list[dict[str, Any]] = []
    if args.replace and not args.add:
        parser.error("--replace goes with --add")
    if args.add:
        previous, arms = earlier_report(parser, args.out, args.trials, arms, seeds,
                                        replace=args.replace)
        earlier, replaced = previous["runs"], previous.get("replaced", [])
        batches, failed = previous["batches"], previous.get("failed", [])

    runs = list(earlier)
    partial = Path(tempfile.gettempdir()) / f"bench_noise_runs-{os.getpid()}.jsonl"
    print(f"each finished run is also appended to {partial}", flush=True)
    tasks = sorted(((arm, seed) for seed in seeds for arm in new_arms),
                   key=lambda task: (-EXPECTED_MINUTES[task[0]], task[1]))
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(one_run, arm, seed, args.trials) for arm, seed in tasks]
        for future in as_completed(futures):
            run = future.result()
            with open(partial, "a") as handle:
                handle.write(json.dumps(run) + "\n")
            if "error" in run:
                failed.append(run)
                print(f"{run['arm']} seed {run['seed']} FAILED:\n{run['error']}", flush=True)
                continue
            runs.append(run)
            later = [t["suggest_seconds"] for t in run["trials"][run["model_start"]:]]
            print(f"{run['arm']} seed {run['seed']}: hv_true {run['hv_true']:.3f}, hv_reported "
                  f"{run['hv_reported']:.3f}, {statistics.median(later) if later else 0:.2f} s "
                  f"per suggestion after the initial design, in {run['wall_seconds']:.0f} s",
                  flush=True)
    ax_runs = [r for r in runs[len(earlier):] if "ax" in r]
    if ax_runs:
        batch["machine"]["packages"]["ax-platform"] = ax_runs[-1]["ax"]["versions"]["ax-platform"]
    runs.sort(key=lambda r: (arms.index(r["arm"]), r["seed"]))
    report = report_for(runs, arms, args.trials, [*batches, batch], failed)
    if replaced:  # what the runs they replace measured, seed by seed
        report["replaced"] = replaced
        again = {(r["arm"], r["seed"]): r for r in runs}
        for old in replaced:
            new = again.get((old["arm"], old["seed"]), {})
            print(f"{old['arm']} seed {old['seed']} again: " + ", ".join(
                f"{m} {old[m]:.4f} -> {new.get(m, math.nan):.4f}" for m in METRICS))
    table = markdown(report)
    print(table)
    for pair in report["comparisons"]:
        print(f"{pair['a']} - {pair['b']}, paired over {len(pair['seeds'])} seeds: " + "; ".join(
            f"{m} {pair[m]['mean_difference']:+.4f} (sd {pair[m]['sd_difference']:.4f}, "
            f"{pair[m]['a_better']} of {len(pair['seeds'])} better, p {p_value(pair[m]['p'])})"
            for m in METRICS))
    for row in report["summary"]:
        if "ax_acquisitions" in row:
            print(f"{row['arm']}: {row['ax_generation_strategies']}; model trials' acquisition "
                  f"{row['ax_acquisitions']}, likelihood {row['ax_likelihoods']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumped(report))
    if not args.quick:
        replace_table(README, TABLE_BEGIN, TABLE_END, table)
    print(f"wrote {args.out}" + ("" if args.quick else f" and the table in {README}"))
    if failed:
        sys.exit(f"{len(failed)} runs failed; see 'failed' in {args.out}")


if __name__ == "__main__":
    main()
