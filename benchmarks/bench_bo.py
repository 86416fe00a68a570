"""Bayesian-optimisation benchmark: mofront's BO campaigns against its baselines and Ax.

One run measures, on BraninCurrin (d = 2) and DTLZ2 (d = 6, M = 2), both noiseless,
for a budget of 100 evaluations and several seeds per (problem, method):

* **quality**: log10 of the hypervolume difference ``max_hv - HV`` after every
  evaluation, HV exact (``pareto.hypervolume``, moocore) of everything evaluated so
  far under BoTorch's published reference point, ``max_hv`` the problem's
  ``ProblemInfo.known_max_hypervolume`` (BoTorch's ``max_hv``);
* **wall time per iteration** (one recorded batch: fit + acquisition + evaluation +
  storage), and where it goes (the ``fit_seconds`` / ``acquisition_seconds`` /
  ``evaluation_seconds`` the algorithms log to the campaign history);
* **the service's own overhead**: storage — every ``record`` / ``checkpoint`` /
  ``progress`` / ``restore`` call of the real :class:`jobs.recorder.StoreRecorder`,
  timed by a subclass, as a share of the iteration; scheduling — one short campaign
  per algorithm submitted over HTTP to a real ``mofront serve`` subprocess, from the
  submit to the first stored evaluation and from the last one to ``succeeded``.

mofront's methods (``qlognehvi``, ``qnparego``, ``nsga2``, ``sobol``) run in-process,
one campaign per process, through the service's registry and store: the campaign is
created from a spec exactly as ``POST /api/v1/campaigns`` creates it (reference point
"published"), in one SQLite store shared by the run's worker processes, and the
algorithm records through the store recorder. Ax (``ax-platform`` 1.3) runs its own
default multi-objective method in its own virtual environment (``benchmarks/.ax-venv``,
created on first use) through ``benchmarks/ax_runner.py``. HV is computed here, the
same way, for every method.

    .venv/bin/python benchmarks/bench_bo.py [--seeds 5] [--problems branin-currin,dtlz2]
        [--methods qlognehvi,qnparego,nsga2,sobol,ax] [--budget 100] [--jobs 2]
        [--out benchmarks/results/bench_bo.json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Self

os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the worker processes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: mofront's packages
sys.path.insert(0, str(ROOT / "benchmarks"))

import multiprocessing

from bo_report import (
    README,
    goals,
    hv_curve,
    hypervolumes,
    markdown,
    plot,
    summarise,
    write_readme,
)
from bo_service import scheduling_overhead
from report_io import code_version

from jobs import registry
from jobs.recorder import StoreRecorder
from jobs.spec import validate
from storage import (
    all_evaluations,
    create_campaign,
    get_campaign,
    history,
    make_engine,
    make_sessionmaker,
    upgrade,
)

AX_VENV = ROOT / "benchmarks" / ".ax-venv"
AX_RUNNER = ROOT / "benchmarks" / "ax_runner.py"
WHEELS = Path("/opt/wheels")  # a CPU build of torch may lie here (see the Makefile)

# problem id -> its parameters in mofront's catalogue
PROBLEMS: dict[str, dict[str, int]] = {
    "branin-currin": {},
    "dtlz2": {"dim": 6, "num_objectives": 2},
}


@dataclass(frozen=True)
class Method:
    """A method of the benchmark: a registered algorithm with its parameters, or Ax."""

    name: str
    algorithm: str | None  # mofront registry name; None: Ax through ax_runner.py
    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""


METHODS: dict[str, Method] = {
    method.name: method
    for method in [
        Method("qlognehvi", "qlognehvi", {"q": 4}, "defaults of bayesopt/config.py, q = 4"),
        Method("qnparego", "qnparego", {"q": 4}, "defaults of bayesopt/config.py, q = 4"),
        Method("nsga2", "nsga2", {}, "defaults of bayesopt/config.py (population 20)"),
        Method("sobol", "sobol", {"batch_size": 4}, "scrambled Sobol, recorded 4 at a time"),
        Method("ax", None, {"q": 4}, "Ax Client, its default generation strategy"),
        # Diagnostics, not in the default set: where a gap to Ax on DTLZ2 comes from.
        Method("qlognehvi-init5", "qlognehvi", {"q": 4, "n_initial": 5},
               "diagnostic: qlognehvi with Ax's initial-design size (5 Sobol points)"),
        Method("ax-nocentre", None, {"q": 4, "centre": False},
               "diagnostic: Ax's default strategy without its centre-point trial"),
        Method("qlognehvi-nocentre", "qlognehvi", {"q": 4, "initial_centre": False},
               "diagnostic: qlognehvi with the pure Sobol initial design (no centre point)"),
        # Not in the default set: the tutorial's acquisition settings, to compare quality
        # and time with the light defaults (--methods ...,qlognehvi-tutorial).
        Method(
            "qlognehvi-tutorial",
            "qlognehvi",
            {"q": 4, "num_restarts": 10, "raw_samples": 512, "mc_samples": 128},
            "BoTorch tutorial settings: 10 restarts, 512 raw samples, 128 MC samples",
        ),
    ]
}
DEFAULT_METHODS = ["qlognehvi", "qnparego", "nsga2", "sobol", "ax"]


@dataclass
class Config:
    seeds: int = 5
    problems: list[str] = field(default_factory=lambda: list(PROBLEMS))
    methods: list[str] = field(default_factory=lambda: list(DEFAULT_METHODS))
    budget: int = 100
    q: int = 4
    jobs: int = 2
    serve_budget: int = 30  # evaluations of each campaign run through `mofront serve`
    serve_methods: list[str] = field(
        default_factory=lambda: ["qlognehvi", "qnparego", "nsga2", "sobol"]
    )
    out: str = "benchmarks/results/bench_bo.json"
    ax_python: str = str(AX_VENV / "bin" / "python")
    quick: bool = False
    readme: bool = True  # regenerate this benchmark's section of benchmarks/README.md
    report_from: str | None = None


# ----------------------------------------------------------------- our campaigns


class TimedRecorder(StoreRecorder):
    """The service's store recorder, timing every call that touches the store.

    ``batches`` gets one entry per ``record``: its size, when it returned (seconds
    since ``clock_start``) and the storage time accumulated so far, so an iteration's
    wall time and storage time are differences between consecutive entries.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.clock_start = time.perf_counter()  # the campaign's clock starts here
        super().__init__(*args, **kwargs)  # reads the campaign: storage time too
        self.storage_seconds = time.perf_counter() - self.clock_start
        self.batches: list[dict[str, float]] = []

    def _timed(self, call: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            self.storage_seconds += time.perf_counter() - started

    def record(self, items: Any) -> None:
        try:
            self._timed(super().record, items)
        finally:
            self.batches.append({
                "size": len(items),
                "at": time.perf_counter() - self.clock_start,
                "storage_total": self.storage_seconds,
            })

    def progress(self, budget_used: float, message: str | None = None) -> None:
        self._timed(super().progress, budget_used, message)

    def checkpoint(self, state: dict[str, Any]) -> None:
        self._timed(super().checkpoint, state)

    def restore(self) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._timed(super().restore)
        return result

    def log(self, **values: float) -> None:
        started = time.perf_counter()
        super().log(**values)
        self.storage_seconds += time.perf_counter() - started


def campaign_spec(problem_id: str, method: Method, seed: int, budget: int,
                  problem_params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The campaign's spec; ``problem_params`` in place of the problem's in ``PROBLEMS``."""
    params = PROBLEMS[problem_id] if problem_params is None else problem_params
    return {
        "name": f"bench-bo-{method.name}-{problem_id}-{seed}",
        "algorithm": method.algorithm,
        "problem": {"kind": "test-function", "id": problem_id, **params},
        "budget": {"evaluations": budget},
        "params": dict(method.params),
        "seed": seed,
    }


def run_ours(task: dict[str, Any]) -> dict[str, Any]:
    """One campaign of a mofront algorithm, in this process, through the store."""
    import torch

    torch.set_num_threads(1)
    method = METHODS[task["method"]]
    resolved = validate(campaign_spec(task["problem"], method, task["seed"], task["budget"],
                                      task.get("problem_params")))
    info = resolved.info
    engine = make_engine(task["db_url"]).execution_options(sqlite_immediate=True)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        # The fields POST /api/v1/campaigns sets, then what the worker sets on start.
        campaign = create_campaign(
            session,
            **resolved.campaign_row(),
            status="running",
            runs_on="worker",
            started_at=datetime.now(UTC),
            worker=f"{platform.node()}:{os.getpid()}",
            device="cpu",
            code_version=metadata.version("mofront"),
        )
        session.commit()
        campaign_id = campaign.id
    definition = registry.problem_definition(info.kind, info.id)
    problem = definition.build(definition.config.model_validate(resolved.problem_params))
    run = registry.algorithm(resolved.spec.algorithm).load()  # imports BoTorch / pymoo

    unix_start, cpu_start = time.time(), time.process_time()
    recorder = TimedRecorder(sessions, campaign_id)
    run(problem, resolved.params, resolved.spec.seed, "cpu", recorder)
    total = time.perf_counter() - recorder.clock_start
    cpu_seconds = time.process_time() - cpu_start
    with sessions() as session:
        finished = get_campaign(session, campaign_id)
        assert finished is not None
        finished.status, finished.finished_at = "succeeded", datetime.now(UTC)
        session.commit()
        stored_hv = finished.hypervolume
        evaluations = all_evaluations(session, campaign_id)
        snapshots = history(session, campaign_id)
        objectives = [list(row.objectives) for row in evaluations]
        constraints = [None if row.constraints is None else list(row.constraints)
                       for row in evaluations]
        points = [[row.params[p.name] for p in info.parameters] for row in evaluations]
        metas = [dict(row.meta or {}) for row in evaluations]
        extras = [dict(row.extras or {}) for row in snapshots]
    engine.dispose()
    if len(extras) != len(recorder.batches):
        raise RuntimeError(f"{len(recorder.batches)} batches recorded, {len(extras)} snapshots")

    iterations, previous_at, previous_storage, n = [], 0.0, 0.0, 0
    for index, (batch, logged) in enumerate(zip(recorder.batches, extras, strict=True)):
        last = index == len(recorder.batches) - 1
        at = total if last else batch["at"]  # the final checkpoint belongs to the last
        storage_total = recorder.storage_seconds if last else batch["storage_total"]
        meta = metas[n]
        n += int(batch["size"])
        iterations.append({
            "n_evaluations": n,
            "size": int(batch["size"]),
            "stage": meta.get("stage", "generation" if "generation" in meta else "batch"),
            "wall_seconds": at - previous_at,
            "storage_seconds": storage_total - previous_storage,
            **{key: float(value) for key, value in logged.items()},
        })
        previous_at, previous_storage = at, storage_total
    return {
        "problem": task["problem"], "method": task["method"], "seed": task["seed"],
        "algorithm": method.algorithm, "params": resolved.params,
        "reference_point": list(info.reference_point or []), "senses": list(info.senses),
        "max_hypervolume": info.known_max_hypervolume,
        "stored_hypervolume": stored_hv,
        "objectives": objectives, "points": points, "iterations": iterations,
        # a noisy problem's noise-free values (problems.measure), else None
        "true_objectives": ([meta["true_objectives"] for meta in metas]
                            if metas and "true_objectives" in metas[0] else None),
        # a constrained problem's slacks as observed, and with constraint_noise_std the
        # noise-free ones
        "constraints": constraints if any(c is not None for c in constraints) else None,
        "true_constraints": ([meta["true_constraints"] for meta in metas]
                             if metas and "true_constraints" in metas[0] else None),
        "total_seconds": total, "storage_seconds": recorder.storage_seconds,
        "cpu_seconds": cpu_seconds,
        "unix_start": unix_start, "unix_end": time.time(), "pid": os.getpid(),
        "torch_threads": torch.get_num_threads(),
    }


# ---------------------------------------------------------------------------- Ax


def ensure_ax_venv(python: str) -> None:
    """Create ``benchmarks/.ax-venv`` with ax-platform 1.3 and a CPU torch of our version."""
    if Path(python).exists():
        return
    if Path(python) != AX_VENV / "bin" / "python":
        raise FileNotFoundError(f"--ax-python {python} does not exist")
    import torch

    say(f"creating {AX_VENV} (ax-platform 1.3, torch {torch.__version__})")
    subprocess.run([sys.executable, "-m", "venv", str(AX_VENV)], check=True)
    pin = AX_VENV / "constraints.txt"
    pin.write_text(f"torch=={torch.__version__}\n")  # keep it CPU, as ours
    links = ["--find-links", str(WHEELS)] if WHEELS.is_dir() else []
    subprocess.run([str(AX_VENV / "bin" / "pip"), "install", "--quiet", *links, "-c", str(pin),
                    f"torch=={torch.__version__}", "ax-platform>=1.3,<1.4"], check=True)


def ax_campaign(arguments: list[str], prefix: str) -> dict[str, Any]:
    """``ax_runner.py``'s output for one campaign run with ``arguments`` (``--out`` is
    added) in the Ax virtual environment, on one thread; ``RuntimeError`` with the end
    of its log if it fails."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        out, log = Path(tmp) / "ax.json", Path(tmp) / "ax.log"
        with open(log, "w") as handle:
            done = subprocess.run(
                [str(AX_VENV / "bin" / "python"), str(AX_RUNNER), *arguments, "--out", str(out)],
                stdout=handle, stderr=subprocess.STDOUT, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"ax_runner failed ({done.returncode}): {log.read_text()[-3000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
    return result


def run_ax(task: dict[str, Any]) -> dict[str, Any]:
    """One Ax campaign, in the Ax virtual environment (a subprocess of this worker)."""
    stem = f"{task['method']}-{task['problem']}-{task['seed']}"
    out, log = Path(task["tmp"]) / f"{stem}.json", Path(task["tmp"]) / f"{stem}.log"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    unix_start = time.time()
    with open(log, "w") as handle:
        done = subprocess.run(
            [task["ax_python"], str(AX_RUNNER), "--problem", task["problem"],
             "--seed", str(task["seed"]), "--budget", str(task["budget"]),
             "--q", str(task["q"]), "--out", str(out),
             *([] if METHODS[task["method"]].params.get("centre", True) else ["--no-centre"])],
            stdout=handle, stderr=subprocess.STDOUT, env=env, check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"ax_runner failed ({done.returncode}): {log.read_text()[-3000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    info = registry.problem_definition("test-function", task["problem"]).info(
        PROBLEMS[task["problem"]]
    )
    if result["reference_point"] != list(info.reference_point or []):
        raise RuntimeError(f"Ax was given the reference point {result['reference_point']}, "
                           f"the catalogue's is {info.reference_point}")
    n, iterations = 0, []
    for iteration in result["iterations"]:
        n += iteration["n_trials"]
        model = any(node not in ("CenterOfSearchSpace", "Sobol") for node in iteration["nodes"])
        iterations.append({
            "n_evaluations": n, "size": iteration["n_trials"],
            "stage": "acquisition" if model else "initial",
            "nodes": iteration["nodes"], "wall_seconds": iteration["wall_seconds"],
            "acquisition_seconds": iteration["generate_seconds"],
            "evaluation_seconds": iteration["evaluate_seconds"],
            "complete_seconds": iteration["complete_seconds"],
        })
    return {
        "problem": task["problem"], "method": task["method"], "seed": task["seed"],
        "algorithm": None, "params": METHODS[task["method"]].params,
        "reference_point": result["reference_point"], "senses": list(info.senses),
        "max_hypervolume": info.known_max_hypervolume,
        "objectives": [trial["objectives"] for trial in result["trials"]],
        "nodes": [trial["node"] for trial in result["trials"]],
        "generation_strategy": result["generation_strategy"],
        "ax_versions": result["versions"], "torch_threads": result["torch_threads"],
        "iterations": iterations, "total_seconds": result["total_seconds"],
        "cpu_seconds": result["cpu_seconds"],
        "unix_start": unix_start, "unix_end": time.time(), "pid": os.getpid(),
    }


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    try:
        return run_ax(task) if METHODS[task["method"]].algorithm is None else run_ours(task)
    except Exception:  # noqa: BLE001 -- a failed campaign is reported, the others go on
        return {**{k: task[k] for k in ("problem", "method", "seed")},
                "error": traceback.format_exc()}


# ------------------------------------------------------------------------ report


def say(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def machine_facts(cfg: Config) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in ("torch", "botorch", "gpytorch", "pymoo", "moocore", "numpy", "scipy",
                    "sqlalchemy", "matplotlib"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None

    return {
        "code": code_version("bayesopt", "jobs", "storage", "pareto", "api"),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
        "platform": platform.platform(), "python": platform.python_version(),
        "parallel_processes": cfg.jobs, "torch_threads_per_process": 1,
        "packages": versions,
    }


# Rough minutes per campaign on 2 cores, used only to start the longest first (so the
# run does not end with one long campaign running alone).
EXPECTED_MINUTES = {"ax": 7.0, "ax-nocentre": 7.0, "qlognehvi-tutorial": 6.0, "qnparego": 3.5,
                    "qlognehvi": 2.0, "qlognehvi-init5": 2.0, "qlognehvi-nocentre": 2.0}


def tasks_for(cfg: Config, db_url: str, tmp: str) -> list[dict[str, Any]]:
    """Every (problem, method, seed), the longest kinds of campaign first."""
    tasks = [
        {"problem": problem, "method": method, "seed": seed, "budget": cfg.budget,
         "q": cfg.q, "db_url": db_url, "tmp": tmp, "ax_python": cfg.ax_python}
        for seed in range(cfg.seeds) for problem in cfg.problems for method in cfg.methods
    ]
    return sorted(tasks, key=lambda task: -EXPECTED_MINUTES.get(task["method"], 0.1))


class LoadSampler:
    """Samples the 1-minute load average every ``seconds`` in a thread: a load above the
    number of campaigns run at once means something else shared the CPU."""

    def __init__(self, seconds: float = 30.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(seconds,), daemon=True)

    def _run(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, Any]:
        if not self.samples:
            return {"samples": 0}
        return {"samples": len(self.samples), "mean": float(sum(self.samples) / len(self.samples)),
                "max": float(max(self.samples))}


def run_all(cfg: Config, tmp: str) -> list[dict[str, Any]]:
    db_url = f"sqlite:///{Path(tmp) / 'bench_bo.db'}"
    upgrade(db_url)
    tasks = tasks_for(cfg, db_url, tmp)
    runs: list[dict[str, Any]] = []
    partial = Path(tempfile.gettempdir()) / f"bench_bo_runs-{os.getpid()}.jsonl"
    say(f"each finished campaign is also appended to {partial}")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=cfg.jobs, mp_context=context,
                             max_tasks_per_child=1) as pool:
        futures = {pool.submit(run_task, task): task for task in tasks}
        for done, future in enumerate(as_completed(futures), start=1):
            run = future.result()
            runs.append(run)
            with open(partial, "a") as handle:
                handle.write(json.dumps(run) + "\n")
            label = f"{run['problem']} {run['method']} seed {run['seed']}"
            if "error" in run:
                say(f"[{done}/{len(tasks)}] {label} FAILED:\n{run['error']}")
                continue
            curve = hv_curve(run)
            if run.get("stored_hypervolume") is not None:  # ours: the store's own HV agrees?
                run["hv_matches_store"] = math.isclose(
                    hypervolumes(run)[-1], run["stored_hypervolume"], rel_tol=1e-9, abs_tol=1e-12)
                if not run["hv_matches_store"]:
                    say(f"{label}: HV {hypervolumes(run)[-1]!r} differs from the store's "
                        f"{run['stored_hypervolume']!r}")
            say(f"[{done}/{len(tasks)}] {label}: log10 HV diff {curve[-1]:.3f} after "
                f"{len(run['objectives'])} evaluations, {run['total_seconds']:.0f} s")
    return runs


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, help="seeds per (problem, method)")
    parser.add_argument("--problems", help=f"comma-separated: {','.join(PROBLEMS)}")
    parser.add_argument("--methods", help=f"comma-separated: {','.join(METHODS)}")
    parser.add_argument("--budget", type=int, help="evaluations per campaign")
    parser.add_argument("--jobs", type=int, help="campaigns run at once (one torch thread each)")
    parser.add_argument("--serve-budget", type=int,
                        help="evaluations of each campaign run through `mofront serve` (0: skip)")
    parser.add_argument("--out")
    parser.add_argument("--ax-python", help="Python of the Ax environment "
                        "(default benchmarks/.ax-venv, created when missing)")
    parser.add_argument("--report-from", metavar="JSON",
                        help="only summarise that results file again (plot, table, README)")
    parser.add_argument("--no-readme", action="store_true",
                        help="leave benchmarks/README.md alone (e.g. for a diagnostic run)")
    parser.add_argument("--quick", action="store_true",
                        help="budget 20, 1 seed; writes /tmp, leaves the README alone")
    args = parser.parse_args(argv)
    cfg = Config()
    if args.quick:
        cfg = Config(seeds=1, budget=20, serve_budget=10, out="/tmp/bench_bo_quick.json",
                     quick=True)
    for name in ("seeds", "budget", "jobs", "serve_budget", "out", "ax_python", "report_from"):
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
    if args.no_readme:
        cfg.readme = False
    if args.problems:
        cfg.problems = [part.strip() for part in args.problems.split(",")]
    if args.methods:
        cfg.methods = [part.strip() for part in args.methods.split(",")]
    unknown = [p for p in cfg.problems if p not in PROBLEMS]
    unknown += [m for m in cfg.methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown {', '.join(unknown)}; problems: {', '.join(PROBLEMS)}; "
                     f"methods: {', '.join(METHODS)}")
    return cfg


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv)
    if cfg.report_from:  # summarise a finished run again (e.g. after changing the report)
        source = Path(cfg.report_from)
        saved: dict[str, Any] = json.loads(source.read_text())
        write_results(saved, source,
                      saved["config"]["quick"] or not saved["config"].get("readme", True))
        return
    facts = machine_facts(cfg)  # before anything runs: the code measured
    if any(METHODS[name].algorithm is None for name in cfg.methods):
        ensure_ax_venv(cfg.ax_python)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_bo_") as tmp, LoadSampler() as load:
        serve = []
        if cfg.serve_budget > 0:
            say(f"scheduling overhead: one campaign of {cfg.serve_budget} evaluations per "
                f"algorithm through `mofront serve`, nothing else running")
            serve = scheduling_overhead(cfg.serve_methods, cfg.serve_budget, Path(tmp),
                                        {m: METHODS[m].params for m in cfg.serve_methods})
        say(f"{len(cfg.problems) * len(cfg.methods) * cfg.seeds} campaigns, {cfg.jobs} at once")
        runs = run_all(cfg, tmp)
    failed = [run for run in runs if "error" in run]
    runs = sorted((run for run in runs if "error" not in run),
                  key=lambda run: (run["problem"], run["method"], run["seed"]))
    report: dict[str, Any] = {
        "benchmark": "bench_bo", "machine": facts, "config": asdict(cfg),
        "methods": {name: asdict(METHODS[name]) for name in cfg.methods},
        "problems": {name: PROBLEMS[name] for name in cfg.problems},
        "elapsed_seconds": time.perf_counter() - started, "load_average": load.summary(),
        "runs": runs, "failed": failed, "scheduling": serve,
    }
    out = Path(cfg.out) if Path(cfg.out).is_absolute() else ROOT / cfg.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")  # the raw numbers first
    write_results(report, out, cfg.quick or not cfg.readme)
    if failed:
        sys.exit(f"{len(failed)} campaigns failed; see 'failed' in {out}")


def write_results(report: dict[str, Any], out: Path, quick: bool) -> None:
    """Summary and goals into the JSON, the plot next to it, the table (README unless
    ``quick``)."""
    report["summary"] = summarise(report)
    report["goals"] = goals(report)
    out.write_text(json.dumps(report, indent=1) + "\n")
    figure = out.with_name(out.stem + "_hv.png")
    plot(report, figure)
    table = markdown(report, figure)
    print("\n" + table)
    if not quick:
        write_readme(table)
    say(f"wrote {out} and {figure}" + ("" if quick else f" and the table in {README}"))


if __name__ == "__main__":
    main()
