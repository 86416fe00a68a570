"""What each method's policies return across the preferences, from a ``bench_morl.py``
report: where a hypervolume gap between two methods comes from.

For one two-objective environment and every method in the report, over its seeds:

* the **last round** (each run's evaluations at its largest env-step count): the mean
  return vector of the policies evaluated at preferences ω₁ in each of ``--bins`` equal
  bins of [0, 1] (PD-MORL's ``preference``, the peers' ``weights``);
* over **every round**: the mean best single point's hypervolume, ∏(J − r), and the
  mean largest value reached on each objective; and the best single point's
  hypervolume over the **last five rounds** only.

    python benchmarks/preference_profile.py results/bench_pdmorl.json mo-hopper-2obj-v5
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from bench_morl import load_report
from morl_report import LABELS

LATE_ROUNDS = 5


def preference_of(row: dict[str, Any]) -> list[float] | None:
    return row.get("preference") or row.get("weights")


def profile(runs: list[dict[str, Any]], reference: np.ndarray, bins: int) -> dict[str, Any]:
    by_bin: list[list[list[float]]] = [[] for _ in range(bins)]
    best_point, late_best_point, maxima = [], [], []
    for run in runs:
        rows = run["evaluations"]
        returns = np.array([row["objectives"] for row in rows], dtype=float)
        point_hv = np.prod(np.clip(returns - reference, 0, None), axis=1)
        best_point.append(float(point_hv.max()))
        maxima.append(returns.max(axis=0))
        steps = np.array([row["env_steps"] for row in rows])
        last = steps.max()
        late_best_point.append(float(point_hv[steps >= np.unique(steps)[-LATE_ROUNDS:][0]].max()))
        for row in rows:
            preference = preference_of(row)
            if row["env_steps"] == last and preference is not None:
                by_bin[min(int(preference[0] * bins), bins - 1)].append(row["objectives"])
    return {"seeds": len(runs),
            "last_round": [np.mean(values, axis=0) if values else None for values in by_bin],
            "best_point": float(np.mean(best_point)),
            "late_best_point": float(np.mean(late_best_point)),
            "maxima": np.mean(maxima, axis=0)}


def markdown(report: dict[str, Any], env_id: str, bins: int) -> str:
    reference = np.asarray(report["conventions"][env_id]["reference_point"], dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    header = [f"ω₁ {edges[i]:.1f}–{edges[i + 1]:.1f}" for i in range(bins)]
    lines = [(f"{env_id}, reference point {tuple(reference.tolist())}; last round: mean "
             "(J₁, J₂) at the preferences in each bin; every round: the best single "
             "point's HV and each objective's largest value; last five rounds: the best single "
             "point's HV (means over seeds)"), "",
             "| method | seeds | " + " | ".join(header) + " | best point's HV | max J₁ | max J₂ "
             "| last five rounds: best point's HV |",
             "|---|---|" + "---|" * (bins + 4)]
    methods = sorted({run["method"] for run in report["runs"] if run["env"] == env_id})
    for method in methods:
        runs = [run for run in report["runs"] if run["env"] == env_id and run["method"] == method]
        found = profile(runs, reference, bins)
        cells = ["—" if mean is None else f"({mean[0]:.0f}, {mean[1]:.0f})"
                 for mean in found["last_round"]]
        lines.append(f"| {LABELS.get(method, method)} | {found['seeds']} | " + " | ".join(cells)
                     + f" | {found['best_point']:,.0f} | {found['maxima'][0]:.1f} | "
                     f"{found['maxima'][1]:.1f} | {found['late_best_point']:,.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="a bench_morl.py results JSON")
    parser.add_argument("env", help="a two-objective environment of the report")
    parser.add_argument("--bins", type=int, default=5, help="preference bins (default 5)")
    args = parser.parse_args()
    report = load_report(args.report)
    if args.env not in report.get("conventions", {}):
        parser.error(f"env: {args.env!r} is not in the report; it has "
                     f"{', '.join(sorted(report.get('conventions', {})))}")
    if len(report["conventions"][args.env]["reference_point"]) != 2:
        parser.error(f"env: {args.env} has more than two objectives; the profile bins ω₁")
    if args.bins < 1:
        parser.error("--bins: must be at least 1")
    print(markdown(report, args.env, args.bins))


if __name__ == "__main__":
    main()
