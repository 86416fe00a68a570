"""Parameter importance inside parameter constraints: mofront's Shapley effects
(``GET /importance`` under parameter constraints, :mod:`bayesopt.shapley`) against what
the importance of each peer says, given the same evaluations.

The question a user asks of a constrained campaign is which parameters move the outcome
*where the campaign can go*. Its answer here is each parameter's Shapley effect under the
uniform distribution on the constrained region: the effects are shares that sum to 1,
defined for dependent parameters. Functions (each maximised):

* ``triangle``: ``x0 + 2 x1`` on ``x0 + x1 <= 1`` (``[0, 1]^2``): effects exactly
  (1/8, 7/8), though the box gives ``x0`` a first-order share of 0.2 (``E[f | x0] = 1``
  whatever ``x0`` is, inside the triangle).
* ``lab``: the README's yield, ``100 - (temp - 70)^2 / 20 - (time - 6)^2``, on
  ``temp`` in ``[20, 90]`` and ``time`` in ``[1, 10]`` with ``10 time <= temp`` (half
  the box: a long run needs a high temperature). On the box ``time`` has 0.033 of the
  variance; inside, about 0.22.
* ``mixture``: ``exp(2 x0) + 3 x1 x2 + x3`` with the shares ``x0 + x1 + x2 <= 1`` and
  ``x3`` in ``[0, 0.5]``, ``x4`` in ``[0, 1]`` inert.

The reference effects of ``lab`` and ``mixture`` are :func:`bayesopt.shapley.shapley_effects`
on the function itself, the mean of four runs of 65,536 orders each (their standard
errors are in the report); the same estimator recovers the triangle's exact effects
(``tests/bayesopt/test_shapley.py``). The endpoint's own estimate has a sampling error
too, given with it (``shapley_se``): about 0.008 on ``triangle`` and ``lab`` and 0.018 on
``mixture``, where ``exp(2 x0)`` has a long tail; its draws are seeded, so that error is
the same in every run.

For each function, ``n`` points (20, 50) uniform at random inside the constraints, 5
seeds; every tool gets the same points:

* ``mofront``: :func:`bayesopt.sensitivity.parameter_importance`'s ``shapley``.
* ``mofront-box``: the same call's first-order Sobol indices on the box, as shares
  ``S_i / sum S`` (what the endpoint gave before the constraints were taken in).
* ``ax``: Ax 1.3 (``benchmarks/.ax-venv``, ``ax_importance_runner.py``), its GP fitted
  to the points as completed trials of an experiment with the same parameter
  constraints, and ``ax_parameter_sens``'s first-order Sobol indices as shares (drawn on
  the parameters' box: Ax has no importance inside constraints).
* ``optuna-fanova``: Optuna's default importance (fANOVA on a random forest), already
  shares summing to 1.

Measures, per function, n and tool (mean over seeds): ``error``, the mean absolute error
of the shares against the reference effects; ``top_right``, the share of runs whose most
important parameter is the reference's.

Run: ``.venv/bin/python benchmarks/bench_constrained_importance.py`` (about 5 minutes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_bo import AX_VENV, ensure_ax_venv
from bench_importance import fanova, paired
from report_io import code_version, write_report

from bayesopt import space
from bayesopt.external import ExternalConfig, ExternalDefinition
from bayesopt.sensitivity import parameter_importance
from bayesopt.shapley import constrained_draws, shapley_effects
from jobs.protocol import Observations, ProblemInfo

OUT = Path(__file__).resolve().parent / "results" / "constrained_importance.json"
README = Path(__file__).resolve().parent / "README.md"
MARKERS = ("<!-- BEGIN bench_constrained_importance -->",
           "<!-- END bench_constrained_importance -->")
SIZES = (20, 50)
REFERENCE_ORDERS = 65536
REFERENCE_SEEDS = (1, 2, 3, 4)  # not 0, the seed of the endpoint's own draws
AX_PYTHON = AX_VENV / "bin" / "python"
AX_RUNNER = Path(__file__).resolve().parent / "ax_importance_runner.py"


def _unit(names: str, high: dict[str, float] | None = None) -> list[dict[str, Any]]:
    return [{"name": name, "low": 0.0, "high": (high or {}).get(name, 1.0)} for name in names.split()]


FUNCTIONS: dict[str, dict[str, Any]] = {
    "triangle": {"parameters": _unit("x0 x1"), "constraints": ["x0 + x1 <= 1"],
                 "f": lambda x: x[:, 0] + 2 * x[:, 1], "exact": [1 / 8, 7 / 8]},
    "lab": {"parameters": [{"name": "temp", "low": 20.0, "high": 90.0},
                           {"name": "time", "low": 1.0, "high": 10.0}],
            "constraints": ["10*time - temp <= 0"],
            "f": lambda x: 100 - (x[:, 0] - 70) ** 2 / 20 - (x[:, 1] - 6) ** 2},
    "mixture": {"parameters": _unit("x0 x1 x2 x3 x4", {"x3": 0.5}),
                "constraints": ["x0 + x1 + x2 <= 1"],
                "f": lambda x: np.exp(2 * x[:, 0]) + 3 * x[:, 1] * x[:, 2] + x[:, 3]},
}


def problem(name: str) -> ProblemInfo:
    spec = FUNCTIONS[name]
    return ExternalDefinition().info(ExternalConfig.model_validate({
        "parameters": spec["parameters"], "objectives": [{"name": "f"}],
        "parameter_constraints": spec["constraints"]}))


def reference(name: str) -> dict[str, list[float]]:
    """The function's own effects: exact where known, else the estimator on it."""
    spec = FUNCTIONS[name]
    if "exact" in spec:
        return {"effects": spec["exact"], "se": [0.0] * len(spec["exact"])}
    runs = [shapley_effects(problem(name), lambda x: spec["f"](x)[:, None],
                            permutations=REFERENCE_ORDERS, seed=seed) for seed in REFERENCE_SEEDS]
    effects = np.mean([run.effects[0] for run in runs], axis=0)
    errors = np.sqrt(np.mean([run.standard_errors[0] ** 2 for run in runs], axis=0) / len(runs))
    return {"effects": effects.tolist(), "se": errors.tolist()}


def points(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    info = problem(name)
    unit = constrained_draws(info, n, np.random.default_rng(seed))
    x = space.from_unit(info.parameters, unit)
    return x, FUNCTIONS[name]["f"](x)


def run_mofront(name: str, x: np.ndarray, y: np.ndarray) -> dict[str, dict[str, Any]]:
    """Both of mofront's answers from one call: the Shapley effects and the box shares."""
    started = time.perf_counter()
    [outcome] = parameter_importance(problem(name), Observations(x=x, objectives=y[:, None]))
    seconds = time.perf_counter() - started
    return {"mofront": {"shares": outcome.shapley, "seconds": seconds, "fit_r2": outcome.fit_r2},
            "mofront-box": {"shares": _shares(outcome.first_order), "seconds": seconds}}


def run_ax(name: str, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    spec = FUNCTIONS[name]
    task = {"parameters": spec["parameters"], "parameter_constraints": spec["constraints"],
            "x": x.tolist(), "y": y.tolist()}
    done = subprocess.run([str(AX_PYTHON), str(AX_RUNNER)], input=json.dumps(task),
                          capture_output=True, text=True, check=True, timeout=600)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"shares": _shares(result["first"]), "seconds": result["seconds"],
            "fit_r2": result["fit_r2"]}


def run_fanova(name: str, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    spec = FUNCTIONS[name]
    bounds = [(p["low"], p["high"]) for p in spec["parameters"]]
    result = fanova(x, y, bounds)
    return {"shares": result["first"], "seconds": result["seconds"]}


def _shares(first_order: list[float] | None) -> list[float] | None:
    if first_order is None:
        return None
    clipped = np.clip(np.array(first_order, dtype=float), 0, None)
    return (clipped / clipped.sum()).tolist() if clipped.sum() > 0 else clipped.tolist()


TOOLS = ("mofront", "mofront-box", "ax", "optuna-fanova")


def measured(truth: dict[str, list[float]], shares: list[float]) -> dict[str, Any]:
    effects = np.array(truth["effects"])
    ours = np.array(shares)
    return {"error": float(np.abs(ours - effects).mean()),
            "top_right": bool(np.argmax(ours) == np.argmax(effects))}


def summary(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name in FUNCTIONS:
        for n in sorted({r["n"] for r in runs}):
            for tool in TOOLS:
                chosen = [r for r in runs if (r["function"], r["n"], r["tool"]) == (name, n, tool)]
                if not chosen:
                    continue
                errors = [r["error"] for r in chosen]
                row = {"function": name, "n": n, "tool": tool, "seeds": len(chosen),
                       "error": float(np.mean(errors)),
                       "error_sd": float(np.std(errors, ddof=1)) if len(errors) > 1 else 0.0,
                       "top_right": float(np.mean([r["top_right"] for r in chosen])),
                       "seconds": float(np.mean([r["seconds"] for r in chosen]))}
                fits = [r["fit_r2"] for r in chosen if r.get("fit_r2") is not None]
                row["fit_r2"] = float(np.mean(fits)) if fits else None
                rows.append(row)
    return rows


def markdown(report: dict[str, Any]) -> str:
    truths = "; ".join(
        f"{name} ({', '.join(p['name'] for p in FUNCTIONS[name]['parameters'])}): "
        f"{', '.join(f'{v:.3f}' for v in truth['effects'])}"
        for name, truth in report["config"]["reference"].items())
    lines = [
        (f"Code `{report['code']['commit']}`, {report['config']['seeds']} seeds, points "
         "uniform at random inside the constraints, the same for every tool. Error: mean "
         "absolute error of each tool's shares against the reference Shapley effects "
         f"({truths}); top: runs whose most important parameter is the reference's."),
        "",
        "| function | n | tool | share error | top right | model LOO R² | seconds |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for row in report["summary"]:
        fit = "–" if row["fit_r2"] is None else f"{row['fit_r2']:.3f}"
        lines.append(
            f"| {row['function']} | {row['n']} | {row['tool']} | {row['error']:.3f} ± "
            f"{row['error_sd']:.3f} | {row['top_right']:.0%} | {fit} | {row['seconds']:.2f} |")
    lines.append("")
    for comparison in report["comparisons"]:
        p = comparison["p"]
        lines.append(
            f"- {comparison['tool']} − {comparison['peer']} over {comparison['pairs']} paired "
            f"runs: {comparison['difference']:+.4f} (closer in {comparison['better']}; paired "
            f"t-test p = {'–' if p is None else f'{p:.3g}'})")
    return "\n".join(lines) + "\n"


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
    truths = {name: reference(name) for name in FUNCTIONS}
    runs = []
    for name in FUNCTIONS:
        for n in sizes:
            for seed in seeds:
                x, y = points(name, n, seed)
                results = {**run_mofront(name, x, y), "ax": run_ax(name, x, y),
                           "optuna-fanova": run_fanova(name, x, y)}
                for tool, result in results.items():
                    runs.append({"function": name, "n": n, "seed": seed, "tool": tool,
                                 **result, **measured(truths[name], result["shares"])})
                    print(f"{name} n={n} seed {seed} {tool}: share error "
                          f"{runs[-1]['error']:.3f}", flush=True)
    report = {
        "benchmark": "bench_constrained_importance",
        "code": code_version("bayesopt", "benchmarks/bench_constrained_importance.py"),
        "config": {"seeds": len(seeds), "sizes": list(sizes), "reference": truths,
                   "reference_orders": REFERENCE_ORDERS},
        "summary": summary(runs),
        "comparisons": [paired(runs, "error", peer=peer) for peer in TOOLS[1:]],
        "runs": runs,
        "failed": [],
    }
    write_report(report, markdown(report), args.out, None if args.quick else README, MARKERS)


if __name__ == "__main__":
    main()
