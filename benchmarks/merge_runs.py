"""Merge a re-run of some environments into a committed ``bench_morl.py`` results file.

A full ``bench_morl.py`` run takes hours; when one environment is re-run on its own (more
seeds, a longer budget, new settings), its runs replace that environment's runs in the
committed file, and the file says so: every merged re-run is listed under ``merged`` with
its code, date, config, wall time, load and a note, and the README table is regenerated.

    .venv/bin/python benchmarks/merge_runs.py /tmp/bench_hopper.json \\
        --into benchmarks/results/bench_pdmorl.json --note "what was re-run and why"

What is replaced: for each (environment, method) the re-run holds, every base run of that
pair; the environment's budgets and conventions follow the re-run, and so do its
parameters of our algorithm (``--pdmorl-params``, ``--cmorl-params``) when the re-run
has runs of it there: a re-run of peers only leaves them as they were. An earlier merge
entry of the same environment is dropped once none of its runs is left in the file; the
re-run's own merge entries of the environment (seeds it gained with ``--add-seeds``)
come with it. A re-run with failed campaigns is refused.

With ``--add-seeds`` nothing is replaced: the re-run's seeds (``bench_morl.py --first-seed``)
join the base's runs of the same (environment, method). It is refused unless the base has
runs of every pair the re-run holds, none of the re-run's seeds, and the same budgets,
conventions and (when the re-run has runs of our algorithm) parameters of ours.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench_morl import BENCHMARKS, SUITES, load_report, save_report, write_results


def _methods_of(entry: dict[str, Any], env_id: str) -> set[str]:
    """The method names a run config covers on ``env_id`` (``peer`` expanded)."""
    suite = SUITES[entry["suite"]]
    return {name for method in entry["methods"]
            for name in (suite.peers(BENCHMARKS[env_id]) if method == "peer" else [method])}


def merge(base: dict[str, Any], rerun: dict[str, Any], note: str,
          add_seeds: bool = False) -> dict[str, Any]:
    """``base`` with ``rerun``'s runs in place of the ones they cover (or, with
    ``add_seeds``, beside them)."""
    if rerun.get("failed"):
        raise ValueError(f"the re-run has {len(rerun['failed'])} failed campaign(s); "
                         "re-run them before merging")
    if rerun["suite"] != base["suite"]:
        raise ValueError(f"suites differ: the base is {base['suite']!r}, the re-run "
                         f"{rerun['suite']!r}")
    rerun_pairs = {(run["env"], run["method"]) for run in rerun["runs"]}
    replaced = set(rerun_pairs)
    unknown = sorted({env for env, _ in replaced} - set(base["config"]["envs"]))
    if unknown:
        raise ValueError(f"the base has no {', '.join(unknown)}; merge re-runs of its "
                         f"environments: {', '.join(base['config']['envs'])}")
    if add_seeds:
        _check_same_setting(base, rerun, replaced)
        replaced = set()
    kept = [run for run in base["runs"] if (run["env"], run["method"]) not in replaced]
    runs = sorted(kept + rerun["runs"], key=lambda run: (run["env"], run["method"], run["seed"]))
    left = {(run["env"], run["method"]) for run in kept}

    merged = dict(base)
    merged["runs"] = runs
    merged["budgets"] = dict(base["budgets"])
    merged["peer_budgets"] = dict(base.get("peer_budgets") or {})
    merged["conventions"] = dict(base["conventions"])
    config = dict(base["config"])
    params_key = f"{base['suite']}_params"
    params = dict(config.get(params_key) or {})
    rerun_params = rerun["config"].get(params_key) or {}
    entries = list(base.get("merged", []))
    for env_id in sorted({run["env"] for run in rerun["runs"]}):
        merged["budgets"][env_id] = rerun["budgets"][env_id]
        if env_id in rerun.get("peer_budgets", {}):
            merged["peer_budgets"][env_id] = rerun["peer_budgets"][env_id]
        else:
            merged["peer_budgets"].pop(env_id, None)
        merged["conventions"][env_id] = rerun["conventions"][env_id]
        if (env_id, SUITES[base["suite"]].ours) in rerun_pairs:
            env_params = _env_params(rerun_params, env_id)
            if env_params:
                params[env_id] = env_params
            else:
                params.pop(env_id, None)
        entries = [entry for entry in entries if entry["env"] != env_id
                   or any((env_id, m) in left for m in _methods_of(entry["config"], env_id))]
        entries.append({"env": env_id, "machine": rerun["machine"], "config": rerun["config"],
                        "elapsed_seconds": rerun["elapsed_seconds"],
                        "load_average": rerun["load_average"], "note": note})
        # A re-run that grew by --add-seeds brings the entries of the seeds it gained.
        entries += [entry for entry in rerun.get("merged", []) if entry["env"] == env_id]
    config[params_key] = params
    merged["config"] = config
    merged["merged"] = entries
    return merged


def _env_params(params: dict[str, Any], env_id: str) -> dict[str, Any]:
    """A run config's parameters on ``env_id``: the shared ones, then the environment's."""
    return {**{k: v for k, v in params.items() if k not in BENCHMARKS},
            **params.get(env_id, {})}


def _check_same_setting(base: dict[str, Any], rerun: dict[str, Any],
                        pairs: set[tuple[str, str]]) -> None:
    """Refuse to add seeds measured under a different setting, or seeds already there."""
    for env_id, method in sorted(pairs):
        seeds = {run["seed"] for run in base["runs"]
                 if run["env"] == env_id and run["method"] == method}
        if not seeds:
            raise ValueError(f"--add-seeds: the base has no {method} runs on {env_id} to add "
                             "seeds to; merge without --add-seeds")
        again = sorted(seeds & {run["seed"] for run in rerun["runs"]
                                if run["env"] == env_id and run["method"] == method})
        if again:
            raise ValueError(f"--add-seeds: {method} on {env_id} already has seed(s) "
                             f"{', '.join(map(str, again))}; re-run with --first-seed "
                             f"{max(seeds) + 1}")
    params_key = f"{base['suite']}_params"
    for env_id in sorted({env for env, _ in pairs}):
        checks = [("budget", base["budgets"][env_id], rerun["budgets"][env_id]),
                  ("peer budget", (base.get("peer_budgets") or {}).get(env_id),
                   (rerun.get("peer_budgets") or {}).get(env_id)),
                  ("conventions", base["conventions"][env_id], rerun["conventions"][env_id])]
        if (env_id, SUITES[base["suite"]].ours) in pairs:  # the parameters are only ours
            checks.append((params_key, (base["config"].get(params_key) or {}).get(env_id, {}),
                           _env_params(rerun["config"].get(params_key) or {}, env_id)))
        for field, ours, theirs in checks:
            if ours != theirs:
                raise ValueError(f"--add-seeds: the {field} on {env_id} differs (base "
                                 f"{ours!r}, re-run {theirs!r}); merge without --add-seeds")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rerun", help="the results JSON of the re-run (bench_morl.py --out)")
    parser.add_argument("--into", required=True, help="the results JSON to merge it into")
    parser.add_argument("--note", required=True,
                        help="one sentence for the report: what was re-run, and why")
    parser.add_argument("--add-seeds", action="store_true",
                        help="keep the base's runs and add the re-run's seeds to them")
    parser.add_argument("--no-readme", action="store_true",
                        help="leave benchmarks/README.md alone")
    args = parser.parse_args(argv)
    into = Path(args.into)
    try:
        report = merge(load_report(into), load_report(Path(args.rerun)), args.note,
                       args.add_seeds)
    except ValueError as error:
        parser.exit(2, f"merge_runs: {error}\n")
    save_report(report, into)  # every run's evaluated policies, the merged ones included
    write_results(report, into, args.no_readme)


if __name__ == "__main__":
    main()
