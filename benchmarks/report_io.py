"""What every benchmark script writes the same way: its table into benchmarks/README.md
between its own markers, and the code version its numbers were measured on."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def replace_table(readme: Path, begin: str, end: str, table: str) -> None:
    """Put ``table`` between the ``begin`` and ``end`` markers of ``readme``, replacing
    what was there; append the marked block when the markers are not there yet."""
    text = readme.read_text() if readme.exists() else ""
    block = f"{begin}\n{table}{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    readme.write_text(text)


def add_seed_run_arguments(parser: argparse.ArgumentParser, *, seeds: int, out: Path,
                           quick: str) -> None:
    """The options every arms-over-seeds benchmark takes (``--arms`` is its own)."""
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--add", action="store_true",
                        help="add these runs to those in --out and summarise them all")
    parser.add_argument("--replace", action="store_true",
                        help="with --add: run arms and seeds --out already has again, "
                        "in place of their earlier runs")
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=out)
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--report-only", action="store_true",
                        help="no runs: summarise --out's runs again and rewrite the table")


def earlier_report(parser: argparse.ArgumentParser, out: Path, trials: int, arms: list[str],
                   seeds: range, replace: bool = False) -> tuple[dict[str, Any], list[str]]:
    """``--add``: the report already in ``out`` and the arms of both, its own first;
    refused (``parser.error``) if its runs have another number of trials or already
    hold one of these arm and seed pairs, unless ``replace`` (``--replace``): then
    those runs are left out of the report returned, to be run again."""
    previous: dict[str, Any] = json.loads(out.read_text())
    if previous["config"]["trials"] != trials:
        parser.error(f"--add: {out} has {previous['config']['trials']} trials a run")
    again = {(a, s) for a in arms for s in seeds}
    clash = {(r["arm"], r["seed"]) for r in previous["runs"]} & again
    if clash and not replace:
        parser.error(f"--add: {out} already has {sorted(clash)} (--replace runs them again)")
    previous["replaced"] = [*previous.get("replaced", []), *[  # their numbers, to compare
        {key: value for key, value in r.items() if not isinstance(value, (list, dict))}
        for r in previous["runs"] if (r["arm"], r["seed"]) in again]]
    previous["runs"] = [r for r in previous["runs"] if (r["arm"], r["seed"]) not in again]
    return previous, list(dict.fromkeys([*previous["config"]["arms"], *arms]))


def dumped(report: dict[str, Any]) -> str:
    """The report as JSON, indented, but each run (its every trial) on one line: indented
    runs would put each number on a line of its own (2.0 MB for bench_noise's 120 runs,
    not 1.3)."""
    head = json.dumps({k: v for k, v in report.items() if k != "runs"}, indent=1)
    runs = ",\n  ".join(json.dumps(run, separators=(",", ":")) for run in report["runs"])
    return f'{head[:-2]},\n "runs": [\n  {runs}\n ]\n}}\n'


def p_value(value: float | None) -> str:
    """A p-value for a table: three decimals, "< 0.001" below that, "–" for none."""
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def code_version(*packages: str) -> dict[str, Any]:
    """The commit measured, and the files under ``packages`` that differed from it."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False)
        return done.stdout.rstrip()

    changed = git("status", "--porcelain", "--", *packages)
    return {"commit": git("rev-parse", "--short", "HEAD") or None,
            "uncommitted_changes": [line[3:] for line in changed.splitlines()]}


def run_each(tasks: list[tuple[str, int]], one_run: Callable[[str, int, int], dict[str, Any]],
             trials: int, jobs: int, line: Callable[[dict[str, Any]], str]
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each ``(arm, seed)`` of ``tasks`` run by ``one_run(arm, seed, trials)`` in a pool
    of ``jobs`` processes, a line printed as each ends (``line``'s, or its error): the
    runs and the failed runs (those with an ``error``)."""
    runs: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(one_run, arm, seed, trials) for arm, seed in tasks]
        for future in as_completed(futures):
            run = future.result()
            if "error" in run:
                failed.append(run)
                print(f"{run['arm']} seed {run['seed']} FAILED:\n{run['error']}", flush=True)
                continue
            runs.append(run)
            print(f"{run['arm']} seed {run['seed']}: {line(run)}", flush=True)
    return runs, failed


def write_report(report: dict[str, Any], table: str, out: Path, readme: Path | None,
                 markers: tuple[str, str]) -> None:
    """The report to ``out`` and its table to ``readme`` (None: a quick run, the file
    only); exits with an error when some of its runs failed."""
    print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dumped(report))
    if readme is not None:
        replace_table(readme, *markers, table)
    print(f"wrote {out}" + ("" if readme is None else f" and the table in {readme}"))
    if report["failed"]:
        sys.exit(f"{len(report['failed'])} runs failed; see 'failed' in {out}")


def paired_table(comparisons: list[dict[str, Any]], measure: str = "HV / max") -> list[str]:
    """The paired comparisons (``compare``'s) as a markdown table's lines, or none."""
    if not comparisons:
        return []
    lines = ["", (f"| paired by seed | seeds | {measure}: difference (sd; a better in; paired "
                 "t p) |"), "|---|---:|---:|"]
    for pair in comparisons:
        lines.append(f"| {pair['a']} − {pair['b']} | {len(pair['seeds'])} | "
                     f"{pair['mean_difference']:+.3f} ({pair['sd_difference']:.3f}; "
                     f"{pair['a_better']} of {len(pair['seeds'])}; {p_value(pair['p'])}) |")
    return lines


def run_line(facts: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    """A report's first sentence: when, at which code, on what, with Ax's and Optuna's
    versions where an arm ran them."""
    code, packages = facts["code"], facts["packages"]
    ax_versions = sorted({r["ax"]["versions"]["ax-platform"] for r in runs if "ax" in r})
    line = (f"Run of {facts['date']} (code `{code['commit']}`"
            + (f" + uncommitted {', '.join(code['uncommitted_changes'])}"
               if code["uncommitted_changes"] else "")
            + f") on {facts['cpu_cores']} CPU cores, Python {facts['python']}, torch "
            f"{packages['torch']}, BoTorch {packages['botorch']}, "
            f"Ax {', '.join(ax_versions) or '–'}")
    if any(r["arm"].startswith("optuna") for r in runs):
        line += f", Optuna {packages['optuna']}"
    return line + "."


def reruns(facts: dict[str, Any]) -> str:
    """The arms run again later (``--add``), one sentence each, or nothing."""
    return "".join(f" Then {', '.join(a['arms'])} run again at code `{a['code']['commit']}` "
                   f"({a['date']})." for a in facts.get("added", []))


@dataclass(frozen=True)
class ArmsBenchmark:
    """An arms-over-seeds benchmark's own parts; :meth:`main` does the rest the same
    way for each: options, runs in parallel, ``--add`` (and ``--replace``), the report
    and its table."""

    name: str  # the script's stem: its results file and README markers
    doc: str
    arms: tuple[str, ...]
    expected_minutes: dict[str, float]  # the longest runs start first
    one_run: Callable[[str, int, int], dict[str, Any]]
    describe: Callable[[dict[str, Any]], str]  # a finished run, on one line
    report_for: Callable[[list[dict[str, Any]], list[str], int, dict[str, Any],
                          list[dict[str, Any]]], dict[str, Any]]
    resummarise: Callable[[dict[str, Any]], None]  # --report-only: summary, comparisons
    markdown: Callable[[dict[str, Any]], str]
    machine_facts: Callable[[], dict[str, Any]]
    ensure_ax: Callable[[], None]
    seeds: int
    trials: int
    quick_trials: int

    def main(self, argv: list[str] | None = None) -> None:
        readme = ROOT / "benchmarks" / "README.md"
        markers = (f"<!-- {self.name}:begin (generated by benchmarks/{self.name}.py) -->",
                   f"<!-- {self.name}:end -->")
        parser = argparse.ArgumentParser(description=self.doc.split("\n\n")[0])
        add_seed_run_arguments(
            parser, seeds=self.seeds, out=ROOT / f"benchmarks/results/{self.name}.json",
            quick=f"2 seeds, {self.quick_trials} evaluations, written to the temporary "
                  "directory only")
        parser.set_defaults(trials=self.trials)
        parser.add_argument("--arms", default=",".join(self.arms))
        args = parser.parse_args(argv)
        if args.report_only:
            report = json.loads(args.out.read_text())
            self.resummarise(report)
            write_report(report, self.markdown(report), args.out, readme, markers)
            return
        if args.quick:
            args.seeds, args.trials = 2, self.quick_trials
            args.out = Path(tempfile.gettempdir()) / f"{self.name}_quick.json"
        arms = args.arms.split(",")
        unknown = sorted(set(arms) - set(self.arms))
        if unknown:
            parser.error(f"--arms: unknown {', '.join(unknown)}; choose from "
                         f"{', '.join(self.arms)}")
        if args.replace and not args.add:
            parser.error("--replace goes with --add")
        if any(arm == "ax" or arm.startswith("ax-") for arm in arms):
            self.ensure_ax()
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        machine = self.machine_facts()
        runs: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        replaced: list[dict[str, Any]] = []  # --replace: what the runs done again measured
        new_arms = arms
        if args.add:
            previous, arms = earlier_report(parser, args.out, args.trials, arms, seeds,
                                            replace=args.replace)
            runs, failed = previous["runs"], previous.get("failed", [])
            replaced = previous.get("replaced", [])
            added = {"arms": new_arms, "seeds": list(seeds), "code": machine["code"],
                     "date": machine["date"]}  # the first run's facts stay the report's
            machine = previous["machine"] | {
                "added": [*previous["machine"].get("added", []), added]}
        tasks = sorted(((arm, seed) for seed in seeds for arm in new_arms),
                       key=lambda task: (-self.expected_minutes[task[0]], task[1]))
        done, failed_now = run_each(tasks, self.one_run, args.trials, args.jobs, self.describe)
        runs, failed = runs + done, failed + failed_now
        ax_runs = [r for r in runs if "ax" in r]
        if ax_runs:
            machine["packages"]["ax-platform"] = ax_runs[-1]["ax"]["versions"]["ax-platform"]
        runs.sort(key=lambda r: (arms.index(r["arm"]), r["seed"]))
        report = self.report_for(runs, arms, args.trials, machine, failed)
        if replaced:
            report["replaced"] = replaced
            again = {(r["arm"], r["seed"]): r["hv_share"] for r in runs}
            for old in replaced:
                print(f"{old['arm']} seed {old['seed']} again: HV/max {old['hv_share']:.3f} -> "
                      f"{again.get((old['arm'], old['seed']), float('nan')):.3f}")
        write_report(report, self.markdown(report), args.out, None if args.quick else readme,
                     markers)
