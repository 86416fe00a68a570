"""Parameter importance (``GET /campaigns/{id}/importance``) against functions whose
Sobol indices are known in closed form, beside Optuna's importance (its default,
fANOVA on a random forest) on the same points.

Functions (each maximised; indices over the uniform box):

* ``ishigami``: ``sin x0 + 7 sin^2 x1 + 0.1 x2^4 sin x0`` on ``[-pi, pi]^3`` (Ishigami
  & Homma 1990; a = 7, b = 0.1). First order (0.3139, 0.4424, 0), total (0.5576,
  0.4424, 0.2437): ``x2`` acts only through ``x0``.
* ``g-function``: Sobol's ``prod (|4 x_i - 2| + a_i) / (1 + a_i)`` on ``[0, 1]^6``,
  ``a = (0, 1, 4.5, 9, 99, 99)``: importance falling from ``x0`` to two inert inputs,
  with interactions and a kink at 0.5 that a smooth GP rounds off. ``V_i = 1 / (3 (1 +
  a_i)^2)``, ``S_i = V_i / V``, ``ST_i = V_i prod_{j != i} (1 + V_j) / V``, ``V =
  prod (1 + V_j) - 1``.

For each function, ``n`` points (20, 50, 100) drawn uniformly at random
(``numpy.random.default_rng(seed)``), 5 seeds; every tool gets the same points:

* ``mofront``: :func:`bayesopt.sensitivity.parameter_importance`, what the endpoint
  runs: Sobol indices of the BO methods' GP mean, first order and total.
* ``ax``: Ax 1.3 (``benchmarks/.ax-venv``, ``ax_importance_runner.py``): the points as
  completed trials, Ax's default GP (``Generators.BOTORCH_MODULAR``) fitted to them,
  and ``ax_parameter_sens`` unsigned, first order and total: the same estimand as
  mofront's, by Ax's own model and estimator.
* ``optuna-fanova``: ``optuna.importance.get_param_importances`` with
  ``FanovaImportanceEvaluator(seed=0)`` (Optuna's default) on a study of these trials:
  a random forest's first-order variance shares, normalised to sum 1.

Measures, per function, n and tool (mean over seeds): ``first_error``, the mean absolute
error of the normalised first-order shares ``S_i / sum S`` (the one quantity both tools
estimate); ``top_right``, the share of runs whose most important parameter is the true
one (by first order); for mofront and Ax also ``total_error``, the mean absolute error of
the total indices (Optuna has none); ``seconds`` (the model fit and the indices); and for
both, ``fit_r2``, the leave-one-out R^2 of the GP (mofront's ``GET /model-fit``, Ax's
``cross_validate``), with the error of the runs whose R^2 is under 0.5 (where the
viewer warns that the indices describe the model more than the outcome) against the
others'.

Run: ``.venv/bin/python benchmarks/bench_importance.py`` (about 5 minutes);
``--quick`` for a 1-seed smoke run that writes only ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_bo import AX_VENV, ensure_ax_venv
from report_io import code_version, write_report

from bayesopt.sensitivity import parameter_importance
from jobs.protocol import Objective, Observations, Parameter, ProblemInfo

OUT = Path(__file__).resolve().parent / "results" / "importance.json"
README = Path(__file__).resolve().parent / "README.md"
MARKERS = ("<!-- BEGIN bench_importance -->", "<!-- END bench_importance -->")
SIZES = (20, 50, 100)
AX_PYTHON = AX_VENV / "bin" / "python"
AX_RUNNER = Path(__file__).resolve().parent / "ax_importance_runner.py"
G_A = np.array([0.0, 1.0, 4.5, 9.0, 99.0, 99.0])


def _ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def _g_function(x: np.ndarray) -> np.ndarray:
    return np.prod((np.abs(4 * x - 2) + G_A) / (1 + G_A), axis=1)


def _g_indices() -> tuple[list[float], list[float]]:
    v = 1 / (3 * (1 + G_A) ** 2)
    total_variance = np.prod(1 + v) - 1
    first = v / total_variance
    total = np.array([v[i] * np.prod(np.delete(1 + v, i)) for i in range(len(v))]) / total_variance
    return first.tolist(), total.tolist()


FUNCTIONS: dict[str, dict[str, Any]] = {
    "ishigami": {"f": _ishigami, "low": -math.pi, "high": math.pi, "d": 3,
                 "first": [0.3139, 0.4424, 0.0], "total": [0.5576, 0.4424, 0.2437]},
    "g-function": {"f": _g_function, "low": 0.0, "high": 1.0, "d": 6,
                   **dict(zip(("first", "total"), _g_indices(), strict=True))},
}


def points(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    spec = FUNCTIONS[name]
    x = np.random.default_rng(seed).uniform(spec["low"], spec["high"], (n, spec["d"]))
    return x, spec["f"](x)


def run_mofront(name: str, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    spec = FUNCTIONS[name]
    problem = ProblemInfo(kind="external", id=name, objectives=(Objective("f", "maximize"),),
                          parameters=tuple(Parameter(f"x{i}", spec["low"], spec["high"])
                                           for i in range(spec["d"])))
    started = time.perf_counter()
    [outcome] = parameter_importance(problem, Observations(x=x, objectives=y[:, None]))
    return {"first": outcome.first_order, "total": outcome.total,
            "seconds": time.perf_counter() - started, "fit_r2": outcome.fit_r2}


def run_optuna(name: str, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    spec = FUNCTIONS[name]
    return fanova(x, y, [(spec["low"], spec["high"])] * spec["d"])


def fanova(x: np.ndarray, y: np.ndarray, bounds: list[tuple[float, float]]) -> dict[str, Any]:
    """Optuna's default importance (fANOVA, seed 0) of a maximising study holding the
    points as completed trials, each parameter ``x{i}`` a float in ``bounds[i]``."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {f"x{i}": optuna.distributions.FloatDistribution(low, high)
                     for i, (low, high) in enumerate(bounds)}
    study = optuna.create_study(direction="maximize")
    study.add_trials([optuna.trial.create_trial(
        params={f"x{i}": float(row[i]) for i in range(len(bounds))},
        distributions=distributions, value=float(value)) for row, value in zip(x, y, strict=True)])
    started = time.perf_counter()
    shares = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    return {"first": [float(shares[f"x{i}"]) for i in range(len(bounds))],
            "seconds": time.perf_counter() - started}


def run_ax(name: str, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    spec = FUNCTIONS[name]
    task = {"low": spec["low"], "high": spec["high"], "x": x.tolist(), "y": y.tolist()}
    done = subprocess.run([str(AX_PYTHON), str(AX_RUNNER)], input=json.dumps(task),
                          capture_output=True, text=True, check=True, timeout=600)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


TOOLS = {"mofront": run_mofront, "ax": run_ax, "optuna-fanova": run_optuna}


def measured(name: str, result: dict[str, Any]) -> dict[str, Any]:
    """Errors against the function's closed-form indices."""
    truth = FUNCTIONS[name]
    true_first = np.array(truth["first"])
    first = np.clip(np.array(result["first"], dtype=float), 0, None)
    shares = first / first.sum() if first.sum() > 0 else first
    row = {"first_error": float(np.abs(shares - true_first / true_first.sum()).mean()),
           "top_right": bool(np.argmax(first) == np.argmax(true_first)),
           "seconds": result["seconds"]}
    if "total" in result:
        row["total_error"] = float(np.abs(np.array(result["total"]) - truth["total"]).mean())
    return row


def summary(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name in FUNCTIONS:
        for n in sorted({r["n"] for r in runs}):
            for tool in TOOLS:
                chosen = [r for r in runs if (r["function"], r["n"], r["tool"]) == (name, n, tool)]
                if not chosen:
                    continue
                row: dict[str, Any] = {"function": name, "n": n, "tool": tool,
                                       "seeds": len(chosen)}
                for key in ("first_error", "total_error", "seconds", "fit_r2"):
                    values = [r[key] for r in chosen if key in r]
                    if values:
                        row[key] = float(np.mean(values))
                        row[f"{key}_sd"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
                row["top_right"] = float(np.mean([r["top_right"] for r in chosen]))
                rows.append(row)
    return rows


def paired(runs: list[dict[str, Any]], key: str, tool: str = "mofront",
           peer: str = "ax") -> dict[str, Any]:
    """``tool`` against ``peer`` on ``key`` over every function, n and seed: the mean
    difference (negative: ``tool`` is closer to the truth), in how many runs ``tool`` was
    closer, and the paired t-test's p."""
    from scipy.stats import ttest_rel

    by_run = {(r["function"], r["n"], r["seed"], r["tool"]): r[key] for r in runs if key in r}
    pairs = [(value, by_run[(*run[:3], peer)]) for run, value in by_run.items()
             if run[3] == tool and (*run[:3], peer) in by_run]
    ours, theirs = (np.array(column) for column in zip(*pairs, strict=True))
    return {"measure": key, "tool": tool, "peer": peer, "pairs": len(pairs),
            "difference": float((ours - theirs).mean()), "better": int((ours < theirs).sum()),
            "p": float(ttest_rel(ours, theirs).pvalue) if len(pairs) > 1 else None}


def trust(runs: list[dict[str, Any]], tool: str = "mofront",
          threshold: float = 0.5) -> dict[str, Any]:
    """Whether the model's leave-one-out R^2 tells the runs to trust from the others:
    ``tool``'s mean first-order share error where its R^2 is under ``threshold`` and
    where it is not (the viewer warns under 0.5)."""
    chosen = [r for r in runs if r["tool"] == tool and r.get("fit_r2") is not None]
    poor = [r["first_error"] for r in chosen if r["fit_r2"] < threshold]
    good = [r["first_error"] for r in chosen if r["fit_r2"] >= threshold]
    return {"tool": tool, "threshold": threshold, "poor_runs": len(poor),
            "poor_error": float(np.mean(poor)) if poor else None,
            "good_runs": len(good), "good_error": float(np.mean(good)) if good else None}


def markdown(report: dict[str, Any]) -> str:
    lines = [
        (f"Code `{report['code']['commit']}`, {report['config']['seeds']} seeds, points "
        "uniform at random, the same for every tool. Error of the normalised first-order "
        "shares `S_i / sum S` (every tool), of the total indices (not Optuna's); top: runs "
        "whose most important parameter (first order) is the true one."),
        "",
        ("| function | n | tool | first-order share error | total index error | top right "
        "| model LOO R² | seconds |"),
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in report["summary"]:
        total = (f"{row['total_error']:.3f} ± {row['total_error_sd']:.3f}"
                 if "total_error" in row else "–")
        lines.append(
            f"| {row['function']} | {row['n']} | {row['tool']} | {row['first_error']:.3f} ± "
            f"{row['first_error_sd']:.3f} | {total} | {row['top_right']:.0%} "
            f"| {_maybe(row.get('fit_r2'))} | {row['seconds']:.2f} |")
    lines.append("")
    for comparison in report["comparisons"]:
        p = comparison["p"]
        lines.append(
            f"- {comparison['tool']} − {comparison['peer']}, {comparison['measure']} over "
            f"{comparison['pairs']} paired runs: {comparison['difference']:+.4f} "
            f"(paired t-test p = {'–' if p is None else f'{p:.3f}'})")
    for split in report["trust"]:
        lines.append(
            f"- {split['tool']}, runs whose model LOO R² is under {split['threshold']}: "
            f"{split['poor_runs']}, first-order share error {_maybe(split['poor_error'])}; "
            f"the other {split['good_runs']}: {_maybe(split['good_error'])}")
    return "\n".join(lines) + "\n"


def _maybe(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--quick", action="store_true", help="1 seed, n = 20, no README table")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    ensure_ax_venv(str(AX_PYTHON))
    seeds = range(1 if args.quick else args.seeds)
    sizes = SIZES[:1] if args.quick else SIZES
    runs = []
    for name in FUNCTIONS:
        for n in sizes:
            for seed in seeds:
                x, y = points(name, n, seed)
                for tool, run in TOOLS.items():
                    result = run(name, x, y)
                    runs.append({"function": name, "n": n, "seed": seed, "tool": tool,
                                 **result, **measured(name, result)})
                    print(f"{name} n={n} seed {seed} {tool}: first-order share error "
                          f"{runs[-1]['first_error']:.3f}", flush=True)
    report = {
        "benchmark": "bench_importance",
        "code": code_version("bayesopt", "benchmarks/bench_importance.py"),
        "config": {"seeds": len(seeds), "sizes": list(sizes),
                   "truth": {name: {"first": spec["first"], "total": spec["total"]}
                             for name, spec in FUNCTIONS.items()}},
        "summary": summary(runs),
        "comparisons": [paired(runs, "first_error"), paired(runs, "total_error"),
                        paired(runs, "first_error", peer="optuna-fanova")],
        "trust": [trust(runs), trust(runs, "ax")],
        "runs": runs,
        "failed": [],
    }
    write_report(report, markdown(report), args.out, None if args.quick else README, MARKERS)


if __name__ == "__main__":
    main()
