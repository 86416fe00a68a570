"""MOGFN benchmark: MOGFN-PC and MOGFN-AL against NSGA-II and random sampling on GFlowNet
tasks, at the same number of objective evaluations.

Four experiments, several seeds each, every method given the same evaluation budget:

* ``hypergrid``: HyperGrid 32 x 32, Branin-Currin. ``mogfn`` trains ``steps`` steps of
  128 trajectories (every scored sample costs one evaluation); at checkpoints its stored
  sampler is measured by the paper's protocol (``morl.gfn_evaluation.evaluate_sampler``:
  a grid of 10 preferences, 128 samples each, the best per preference, Pareto-filtered):
  HV (reference 0) as a fraction of the grid's true Pareto HV, R2, top-10 reward and
  diversity, and the exact L1 distance between the sampler's distribution and its target
  R(x | w)^β / Z(w), averaged over ``simplex_grid(2, 4)``;
* ``ngrams-2`` and ``ngrams-3``: N-grams (20 letters, length 32-36) with the bigrams AV,
  VC (and CA), the same measures but L1;
* ``al-ngrams-2``: MOGFN-AL (``mogfn-al``) with a small budget: ``n_initial`` random
  sequences, then ``rounds`` rounds of ``batch`` proposals (the issue's 64 x 16).

The baselines see the same number of objective evaluations: **NSGA-II** (pymoo's
``NSGA2``, population 128 — 16 for the AL experiment — driven by ask/tell and cut at
the budget) on integer genes: the two coordinates of a grid point (pymoo's integer
recipe: SBX and polynomial mutation with rounding), or a length gene and 36 letter genes
for a sequence (two-point crossover over the token strings, each gene reset to a
uniform value with probability 1/37); and **random sampling** (uniform grid points;
uniform lengths and letters). Their candidates are the objects they evaluated, measured
by ``morl.gfn_evaluation.evaluate_candidates``: the same protocol, per preference the
best and top 10 of the distinct evaluated objects by R(x | w). So is each MOGFN run's own
evaluated set ("mogfn (evaluated)"), for a like-for-like reading. Every run also reports
the HV of everything it evaluated (what the service's front shows). MOGFN-AL and its
baselines are compared on the HV of everything evaluated vs evaluations.

``mogfn`` and ``mogfn-al`` run as the service runs a campaign: the spec validated by
``jobs.spec``, the campaign row created in a SQLite store, the algorithm recording
through the real ``jobs.recorder.StoreRecorder``; the samplers measured are the stored
artifacts, the evaluated sets the stored rows.

    .venv/bin/python benchmarks/bench_mogfn.py [--seeds 3] [--experiments hypergrid,...]
        [--methods mogfn,nsga2,random] [--steps hypergrid=1000,ngrams-2=2000,...]
        [--rounds 64] [--jobs 2] [--out benchmarks/results/bench_mogfn.json]
        [--no-readme] [--quick]
    .venv/bin/python benchmarks/bench_mogfn.py --report-from benchmarks/results/bench_mogfn.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the worker processes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: mofront's packages
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_bo import LoadSampler, TimedRecorder, say
from mogfn_report import goals as goal_rows
from mogfn_report import markdown, plot, summarise, write_readme
from report_io import code_version

from jobs import registry
from jobs.spec import validate
from storage import (
    all_evaluations,
    create_campaign,
    get_artifact,
    get_campaign,
    make_engine,
    make_sessionmaker,
    upgrade,
)


@dataclass(frozen=True)
class Experiment:
    """One task of the benchmark and how each method is run on it."""

    name: str
    task_id: str
    task_config: dict[str, Any]
    kind: str  # "pc": mogfn (sampler measured over training); "al": mogfn-al
    steps: tuple[int, int]  # (default, --quick) mogfn training steps (pc) / rounds (al)
    batch: tuple[int, int]  # (default, --quick) trajectories per step (pc) / proposals (al)
    round_steps: tuple[int, int]  # (default, --quick) mogfn steps_per_round: a stored sampler
    note: str


EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in [
    Experiment("hypergrid", "hypergrid", {"size": 32, "objectives": ["branin", "currin"]},
               "pc", (1000, 20), (128, 32), (10, 5), "HyperGrid 32 x 32, Branin-Currin"),
    Experiment("ngrams-2", "ngrams", {"ngrams": ["AV", "VC"]}, "pc", (2000, 10), (128, 32),
               (50, 5), "N-grams, bigrams AV, VC, length 32-36"),
    Experiment("ngrams-3", "ngrams", {"ngrams": ["AV", "VC", "CA"]}, "pc", (2000, 10),
               (128, 32), (50, 5), "N-grams, bigrams AV, VC, CA, length 32-36"),
    Experiment("al-ngrams-2", "ngrams", {"ngrams": ["AV", "VC"]}, "al", (64, 2), (16, 4),
               (1, 1), "N-grams, bigrams AV, VC: a small evaluation budget (rounds x batch)"),
]}
METHODS = {
    "mogfn": "mofront's MOGFN-PC (morl/mogfn.py), defaults of morl/gfn_config.py",
    "mogfn-al": "mofront's MOGFN-AL (bayesopt/mogfn_al.py), defaults of "
                "morl/gfn_config.py MOGFNALConfig",
    "nsga2": "NSGA-II (pymoo 0.6) on integer genes, sequence crossover and mutation",
    "random": "uniform random objects",
}
PAPER_PROTOCOL = {"n_divisions": 9, "n_samples": 128, "k": 10, "l1_divisions": 4}
QUICK_PROTOCOL = {"n_divisions": 9, "n_samples": 16, "k": 10, "l1_divisions": 2}
CHECKPOINT_FRACTIONS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0)
HYPERGRID_GOAL_STEPS = 500  # HV >= 0.99 of the true front within this many steps


@dataclass
class Config:
    seeds: int = 3
    experiments: list[str] = field(default_factory=lambda: list(EXPERIMENTS))
    methods: list[str] = field(default_factory=lambda: ["mogfn", "mogfn-al", "nsga2", "random"])
    steps: dict[str, int] = field(default_factory=dict)  # overrides, experiment -> steps
    rounds: int | None = None  # AL rounds (default 64; --quick 2)
    mogfn_params: dict[str, Any] = field(default_factory=dict)
    al_params: dict[str, Any] = field(default_factory=dict)
    jobs: int = 2
    out: str = "benchmarks/results/bench_mogfn.json"
    quick: bool = False
    readme: bool = True
    report_from: str | None = None

    def budget_steps(self, name: str) -> int:
        experiment = EXPERIMENTS[name]
        default, quick = experiment.steps
        if experiment.kind == "al":
            return self.rounds if self.rounds is not None else (quick if self.quick else default)
        return self.steps.get(name, quick if self.quick else default)

    def batch(self, name: str) -> int:
        default, quick = EXPERIMENTS[name].batch
        return quick if self.quick else default

    def evaluations(self, name: str) -> int:
        """The budget of objective evaluations of every method on ``name``."""
        experiment = EXPERIMENTS[name]
        if experiment.kind == "al":
            return self.al_settings()["n_initial"] + self.budget_steps(name) * self.batch(name)
        return self.budget_steps(name) * self.batch(name)

    def protocol(self) -> dict[str, int]:
        return dict(QUICK_PROTOCOL if self.quick else PAPER_PROTOCOL)

    def al_settings(self) -> dict[str, Any]:
        quick = {"n_initial": 4, "gfn_steps": 5, "gfn_batch_size": 8,
                 "samples_per_proposal": 4} if self.quick else {"n_initial": 16}
        return {**quick, **self.al_params}

    def round_steps(self, name: str) -> int:
        """mogfn's steps_per_round: it stores a sampler (about 1 MB on N-grams) each round."""
        default, quick = EXPERIMENTS[name].round_steps
        return quick if self.quick else default

    def checkpoints(self, name: str) -> list[int]:
        """mogfn steps at which its stored sampler is measured (multiples of the round)."""
        steps, unit = self.budget_steps(name), self.round_steps(name)
        chosen = {max(unit, round(f * steps / unit) * unit) for f in CHECKPOINT_FRACTIONS}
        if name == "hypergrid" and steps >= HYPERGRID_GOAL_STEPS:
            chosen.add(HYPERGRID_GOAL_STEPS)
        return sorted(s for s in chosen if s <= steps)


# ----------------------------------------------------------------------- tasks' objects


def task_of(name: str) -> Any:
    from morl.gfn_tasks import catalogue

    experiment = EXPERIMENTS[name]
    return catalogue()[experiment.task_id].task(experiment.task_config)


def state_of(task: Any, readable: Any) -> Any:
    """The terminal state of a stored readable object (grid coordinates or a string)."""
    if task.id == "hypergrid":
        return (tuple(int(c) for c in readable), True)
    from morl.gfn_tasks import AMINO_ACIDS

    return (tuple(AMINO_ACIDS.index(letter) for letter in readable), True)


def random_objects(task: Any, n: int, rng: np.random.Generator) -> list[Any]:
    """``n`` uniform random objects: grid points, or a uniform length then letters."""
    if task.id == "hypergrid":
        return [(tuple(int(c) for c in rng.integers(0, task.size, 2)), True) for _ in range(n)]
    lengths = rng.integers(task.min_length, task.max_length + 1, n)
    return [(tuple(int(t) for t in rng.integers(0, task.n_actions - 1, length)), True)
            for length in lengths]


def hv_of(objectives: np.ndarray) -> float:
    """HV (reference 0) of everything evaluated: what the service's front shows."""
    from pareto import hypervolume, non_dominated

    points = objectives[(objectives > 0).all(axis=1)] if len(objectives) else objectives
    return 0.0 if len(points) == 0 else float(hypervolume(non_dominated(points),
                                                          np.zeros(objectives.shape[1])))


def measure_candidates(task: Any, states: list[Any], objectives: np.ndarray,
                       protocol: dict[str, int]) -> dict[str, Any]:
    from morl.gfn_evaluation import evaluate_candidates

    found = evaluate_candidates(task, states, objectives, n_divisions=protocol["n_divisions"],
                                k=protocol["k"])
    return {**_metrics(found), "hv_all_evaluated": hv_of(objectives)}


def _metrics(found: Any) -> dict[str, Any]:
    return {key: getattr(found, key) for key in ("hypervolume", "hypervolume_fraction", "r2",
                                                  "topk_reward", "topk_diversity", "l1")}


# ----------------------------------------------------------------- our campaigns


def store_campaign(sessions: Any, spec: dict[str, Any]) -> tuple[int, Any, dict[str, Any]]:
    """Create the campaign row as ``POST /api/v1/campaigns`` and a worker's start do;
    return its id, the built problem and the resolved parameters."""
    resolved = validate(spec)
    info = resolved.info
    with sessions() as session:
        campaign = create_campaign(
            session, **resolved.campaign_row(), status="running", runs_on="worker",
            started_at=datetime.now(UTC), worker=f"{platform.node()}:{os.getpid()}",
            device="cpu", code_version=metadata.version("mofront"),
        )
        session.commit()
        campaign_id = campaign.id
    definition = registry.problem_definition(info.kind, info.id)
    problem = definition.build(definition.config.model_validate(resolved.problem_params))
    return campaign_id, problem, resolved.params


def run_campaign(task: dict[str, Any], spec: dict[str, Any],
                 artifact_steps: set[int] | None = None) -> tuple[dict[str, Any], list[Any]]:
    """Run one campaign of ours through the store; its timings and its stored rows, with
    the artifacts of the rows whose ``meta["step"]`` is in ``artifact_steps``."""
    import torch

    torch.set_num_threads(1)
    engine = make_engine(task["db_url"]).execution_options(sqlite_immediate=True)
    sessions = make_sessionmaker(engine)
    campaign_id, problem, params = store_campaign(sessions, spec)
    run = registry.algorithm(spec["algorithm"]).load()
    cpu_start = time.process_time()
    recorder = TimedRecorder(sessions, campaign_id)
    run(problem, params, spec["seed"], "cpu", recorder)
    timing = {"wall_seconds": time.perf_counter() - recorder.clock_start,
              "cpu_seconds": time.process_time() - cpu_start,
              "storage_seconds": recorder.storage_seconds, "params": params}
    with sessions() as session:
        finished = get_campaign(session, campaign_id)
        assert finished is not None
        finished.status, finished.finished_at = "succeeded", datetime.now(UTC)
        session.commit()
        timing["stored_hypervolume"] = finished.hypervolume
        rows = all_evaluations(session, campaign_id)
        stored = [{"objectives": [float(v) for v in row.objectives],
                   "object": (row.params or {}).get("object"), "meta": row.meta or {},
                   "artifact": _artifact(session, row, artifact_steps or set())}
                  for row in rows]
    engine.dispose()
    return timing, stored


def _artifact(session: Any, row: Any, steps: set[int]) -> bytes | None:
    if row.artifact_id is None or (row.meta or {}).get("step") not in steps:
        return None
    blob = get_artifact(session, row.artifact_id)
    return None if blob is None else bytes(blob.data)


def run_mogfn(task: dict[str, Any]) -> dict[str, Any]:
    from morl.gfn_evaluation import evaluate_sampler
    from morl.gfn_sampler import load_sampler

    name, protocol = task["experiment"], task["protocol"]
    spec = {"name": f"bench-mogfn-{name}-{task['seed']}", "algorithm": "mogfn",
            "problem": {"kind": "gfn-task", "id": EXPERIMENTS[name].task_id,
                        **EXPERIMENTS[name].task_config},
            "budget": {"evaluations": task["evaluations"]},
            "params": {"batch_size": task["batch"], "steps_per_round": task["round_steps"],
                       **task["params"]},
            "seed": task["seed"]}
    timing, rows = run_campaign(task, spec, set(task["checkpoints"]))
    problem_task = task_of(name)
    objectives = np.array([row["objectives"] for row in rows])
    states = [state_of(problem_task, row["object"]) for row in rows]
    samplers = {row["meta"]["step"]: row["artifact"] for row in rows if row["artifact"]}
    checkpoints = []
    for step in task["checkpoints"]:
        started = time.perf_counter()
        found = evaluate_sampler(
            load_sampler(samplers[step]), n_divisions=protocol["n_divisions"],
            n_samples=protocol["n_samples"], k=protocol["k"], seed=task["seed"],
            l1_divisions=protocol["l1_divisions"] if problem_task.known_front() is not None
            else None)
        evaluated = step * task["batch"]
        checkpoints.append({"step": step, "evaluations": evaluated, **_metrics(found),
                            "hv_all_evaluated": hv_of(objectives[:evaluated]),
                            "measure_seconds": time.perf_counter() - started})
    own = measure_candidates(problem_task, states, objectives, protocol)
    return {**_identity(task), **timing, "checkpoints": checkpoints,
            "evaluated_candidates": own, "evaluations": len(rows)}


def run_mogfn_al(task: dict[str, Any]) -> dict[str, Any]:
    name = task["experiment"]
    spec = {"name": f"bench-mogfn-al-{name}-{task['seed']}", "algorithm": "mogfn-al",
            "problem": {"kind": "gfn-task", "id": EXPERIMENTS[name].task_id,
                        **EXPERIMENTS[name].task_config},
            "budget": {"evaluations": task["evaluations"]},
            "params": {"batch_size": task["batch"], **task["params"]}, "seed": task["seed"]}
    timing, rows = run_campaign(task, spec)
    problem_task = task_of(name)
    objectives = np.array([row["objectives"] for row in rows])
    states = [state_of(problem_task, row["object"]) for row in rows]
    return {**_identity(task), **timing, **_al_measures(task, problem_task, states, objectives),
            "rounds": [row["meta"]["round"] for row in rows]}


def _al_measures(task: dict[str, Any], problem_task: Any, states: list[Any],
                 objectives: np.ndarray) -> dict[str, Any]:
    """HV of everything evaluated after each batch, and the protocol's measures at the end."""
    marks = sorted({*range(task["n_initial"], len(states) + 1, task["batch"]), len(states)})
    return {
        "evaluations": len(states),
        "objectives": objectives.tolist(),
        "checkpoints": [{"evaluations": e, "hv_all_evaluated": hv_of(objectives[:e])}
                        for e in marks],
        "evaluated_candidates": measure_candidates(problem_task, states, objectives,
                                                   task["protocol"]),
    }


# -------------------------------------------------------------------- the baselines


def nsga2_states(task: Any, budget: int, pop_size: int, seed: int) -> list[Any]:
    """The objects NSGA-II evaluates, in order, cut at ``budget`` (pymoo ask/tell)."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.mutation import Mutation
    from pymoo.core.problem import Problem
    from pymoo.core.termination import NoTermination
    from pymoo.operators.crossover.pntx import TwoPointCrossover
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    from pymoo.problems.static import StaticProblem

    class TokenMutation(Mutation):
        """Each gene reset to a uniform value of its range with probability 1/n_var."""

        def _do(self, problem: Any, X: Any, *args: Any, random_state: Any = None,
                **kwargs: Any) -> Any:
            X = X.copy()
            reset = random_state.random(X.shape) < 1.0 / problem.n_var
            uniform = random_state.integers(problem.xl, problem.xu + 1, size=X.shape)
            X[reset] = uniform[reset]
            return X

    m = task.n_objectives
    if task.id == "hypergrid":
        low, high = np.zeros(2), np.full(2, task.size - 1)
        crossover = SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair())
        mutation: Any = PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair())

        def decode(x: np.ndarray) -> Any:
            return (tuple(int(v) for v in x), True)
    else:
        low = np.array([task.min_length] + [0] * task.max_length)
        high = np.array([task.max_length] + [task.n_actions - 2] * task.max_length)
        crossover, mutation = TwoPointCrossover(), TokenMutation()

        def decode(x: np.ndarray) -> Any:
            return (tuple(int(v) for v in x[1:1 + int(x[0])]), True)

    genes = Problem(n_var=len(low), n_obj=m, xl=low, xu=high, vtype=int)
    algorithm = NSGA2(pop_size=pop_size, sampling=IntegerRandomSampling(),
                      crossover=crossover, mutation=mutation, eliminate_duplicates=True)
    algorithm.setup(genes, seed=seed, termination=NoTermination())
    states: list[Any] = []
    while len(states) < budget:
        population = algorithm.ask()
        x = np.round(population.get("X")).astype(np.int64)
        generation = [decode(row) for row in x][: budget - len(states)]
        states += generation
        if len(generation) < len(x):
            break  # a cut generation is never told: it takes no part in selection
        rewards = np.array([task.rewards(s) for s in generation])
        Evaluator().eval(StaticProblem(genes, F=-rewards), population)
        algorithm.tell(infills=population)
    return states


def run_baseline(task: dict[str, Any]) -> dict[str, Any]:
    name, method = task["experiment"], task["method"]
    problem_task = task_of(name)
    started, cpu_start = time.perf_counter(), time.process_time()
    if method == "nsga2":
        states = nsga2_states(problem_task, task["evaluations"], task["batch"], task["seed"])
    else:
        states = random_objects(problem_task, task["evaluations"],
                                np.random.default_rng(task["seed"]))
    objectives = np.array([problem_task.rewards(s) for s in states], dtype=np.float64)
    timing = {"wall_seconds": time.perf_counter() - started,
              "cpu_seconds": time.process_time() - cpu_start,
              "params": {"pop_size": task["batch"]} if method == "nsga2" else {}}
    if EXPERIMENTS[name].kind == "al":
        return {**_identity(task), **timing,
                **_al_measures(task, problem_task, states, objectives)}
    checkpoints = []
    for step in task["checkpoints"]:
        evaluated = step * task["batch"]
        found = measure_candidates(problem_task, states[:evaluated], objectives[:evaluated],
                                   task["protocol"])
        checkpoints.append({"step": step, "evaluations": evaluated, **found})
    return {**_identity(task), **timing, "checkpoints": checkpoints,
            "evaluated_candidates": checkpoints[-1], "evaluations": len(states)}


def _identity(task: dict[str, Any]) -> dict[str, Any]:
    return {key: task[key] for key in ("experiment", "method", "seed")} | {
        "budget": task["evaluations"]}


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    try:
        if task["method"] == "mogfn":
            return run_mogfn(task)
        if task["method"] == "mogfn-al":
            return run_mogfn_al(task)
        return run_baseline(task)
    except Exception:  # noqa: BLE001 -- a failed run is reported, the others go on
        return {**_identity(task), "error": traceback.format_exc()}


# ------------------------------------------------------------------------ the run


def machine_facts(cfg: Config) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in ("torch", "botorch", "gpytorch", "pymoo", "moocore", "numpy",
                    "sqlalchemy", "matplotlib"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None

    return {
        "code": code_version("morl", "bayesopt", "jobs", "storage", "pareto"),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
        "platform": platform.platform(), "python": platform.python_version(),
        "parallel_processes": cfg.jobs, "torch_threads_per_process": 1,
        "packages": versions,
    }


# Estimated CPU seconds per run (default budgets, one thread; from per-step timings of
# --quick runs), used only to start the longest runs first, so the run does not end with
# one running alone: about 3.5 CPU hours in all, 2 hours with --jobs 2 on 2 idle cores.
COST = {("hypergrid", "mogfn"): 250, ("ngrams-2", "mogfn"): 750, ("ngrams-3", "mogfn"): 850,
        ("al-ngrams-2", "mogfn-al"): 1900}


def tasks_for(cfg: Config, db_url: str) -> list[dict[str, Any]]:
    tasks = []
    for name in cfg.experiments:
        experiment = EXPERIMENTS[name]
        ours = "mogfn-al" if experiment.kind == "al" else "mogfn"
        for method in cfg.methods:
            if method in ("mogfn", "mogfn-al") and method != ours:
                continue
            for seed in range(cfg.seeds):
                tasks.append({
                    "experiment": name, "method": method, "seed": seed, "db_url": db_url,
                    "evaluations": cfg.evaluations(name), "batch": cfg.batch(name),
                    "checkpoints": cfg.checkpoints(name), "protocol": cfg.protocol(),
                    "params": cfg.al_settings() if method == "mogfn-al" else cfg.mogfn_params,
                    "n_initial": cfg.al_settings()["n_initial"],
                    "round_steps": cfg.round_steps(name),
                })
    return sorted(tasks, key=lambda t: -COST.get((t["experiment"], t["method"]), 10))


def run_all(cfg: Config, tmp: str) -> list[dict[str, Any]]:
    db_url = f"sqlite:///{Path(tmp) / 'bench_mogfn.db'}"
    upgrade(db_url)
    tasks = tasks_for(cfg, db_url)
    runs: list[dict[str, Any]] = []
    partial = Path(tempfile.gettempdir()) / f"bench_mogfn_runs-{os.getpid()}.jsonl"
    say(f"{len(tasks)} runs, {cfg.jobs} at once; each finished one is also appended to "
        f"{partial}")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=cfg.jobs, mp_context=context,
                             max_tasks_per_child=1) as pool:
        futures = {pool.submit(run_task, task): task for task in tasks}
        for done, future in enumerate(as_completed(futures), start=1):
            run = future.result()
            runs.append(run)
            with open(partial, "a") as handle:
                handle.write(json.dumps(run) + "\n")
            label = f"{run['experiment']} {run['method']} seed {run['seed']}"
            if "error" in run:
                say(f"[{done}/{len(tasks)}] {label} FAILED:\n{run['error']}")
                continue
            last = run["checkpoints"][-1]
            hv = last.get("hypervolume", last["hv_all_evaluated"])
            say(f"[{done}/{len(tasks)}] {label}: HV {hv:.4g} after {last['evaluations']} "
                f"evaluations, {run['wall_seconds']:.0f} s")
    return runs


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, help="seeds per (experiment, method): 0 … N−1")
    parser.add_argument("--experiments", help=f"comma-separated: {','.join(EXPERIMENTS)}")
    parser.add_argument("--methods", help=f"comma-separated: {','.join(METHODS)}")
    parser.add_argument("--steps", help="mogfn training steps (every method gets steps x "
                        "batch evaluations): one number for every PC experiment, or "
                        "hypergrid=1000,ngrams-2=2000,ngrams-3=2000")
    parser.add_argument("--rounds", type=int, help="MOGFN-AL rounds (default 64; the "
                        "budget is n_initial + rounds x 16 evaluations)")
    parser.add_argument("--mogfn-params", help="JSON object of MOGFN parameters "
                        "(morl/gfn_config.py MOGFNConfig), for every PC experiment")
    parser.add_argument("--al-params", help="JSON object of MOGFN-AL parameters "
                        "(morl/gfn_config.py MOGFNALConfig), e.g. '{\"gfn_steps\": 100}'")
    parser.add_argument("--jobs", type=int, help="runs at once (one torch thread each)")
    parser.add_argument("--out")
    parser.add_argument("--report-from", metavar="JSON",
                        help="only summarise that results file again (plot, table, README)")
    parser.add_argument("--no-readme", action="store_true",
                        help="leave benchmarks/README.md alone")
    parser.add_argument("--quick", action="store_true",
                        help="tiny budgets, 1 seed; writes /tmp, leaves the README alone")
    args = parser.parse_args(argv)
    cfg = Config()
    if args.quick:
        cfg.seeds, cfg.quick, cfg.out = 1, True, "/tmp/bench_mogfn_quick.json"
    for name in ("seeds", "jobs", "out", "report_from", "rounds"):
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
    cfg.readme = not args.no_readme
    if args.experiments:
        cfg.experiments = [part.strip() for part in args.experiments.split(",")]
    if args.methods:
        cfg.methods = [part.strip() for part in args.methods.split(",")]
    if args.steps:
        pc = [name for name, e in EXPERIMENTS.items() if e.kind == "pc"]
        for part in args.steps.split(","):
            name, _, steps = part.rpartition("=")
            for target in ([name.strip()] if name else pc):
                cfg.steps[target] = int(float(steps))
    if args.mogfn_params:
        cfg.mogfn_params = json.loads(args.mogfn_params)
    if args.al_params:
        cfg.al_params = json.loads(args.al_params)
    unknown = [e for e in [*cfg.experiments, *cfg.steps] if e not in EXPERIMENTS]
    unknown += [m for m in cfg.methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown {', '.join(unknown)}; experiments: {', '.join(EXPERIMENTS)}; "
                     f"methods: {', '.join(METHODS)}")
    bad = [f"{name} ({cfg.round_steps(name)})" for name, steps in cfg.steps.items()
           if steps % cfg.round_steps(name)]
    if bad:
        parser.error("--steps must be multiples of the steps between two stored samplers: "
                     + ", ".join(bad))
    return cfg


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv)
    if cfg.report_from:
        source = Path(cfg.report_from)
        saved: dict[str, Any] = json.loads(source.read_text())
        write_results(saved, source,
                      saved["config"]["quick"] or not saved["config"].get("readme", True))
        return
    facts = machine_facts(cfg)
    settings = {name: {"task": EXPERIMENTS[name].task_config, "note": EXPERIMENTS[name].note,
                       "kind": EXPERIMENTS[name].kind, "evaluations": cfg.evaluations(name),
                       "batch": cfg.batch(name), "steps": cfg.budget_steps(name),
                       "steps_per_round": cfg.round_steps(name),
                       "checkpoints": cfg.checkpoints(name)}
                for name in cfg.experiments}
    for name, stated in settings.items():
        say(f"{name}: {stated['note']}; {stated['evaluations']:,} evaluations per run")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_mogfn_") as tmp, LoadSampler() as load:
        runs = run_all(cfg, tmp)
    failed = [run for run in runs if "error" in run]
    runs = sorted((run for run in runs if "error" not in run),
                  key=lambda run: (run["experiment"], run["method"], run["seed"]))
    report: dict[str, Any] = {
        "benchmark": "bench_mogfn", "machine": facts, "config": asdict(cfg),
        "experiments": settings, "methods": METHODS, "protocol": cfg.protocol(),
        "known_front_hypervolume": _true_hypervolumes(cfg),
        "elapsed_seconds": time.perf_counter() - started, "load_average": load.summary(),
        "runs": runs, "failed": failed,
    }
    out = Path(cfg.out) if Path(cfg.out).is_absolute() else ROOT / cfg.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")  # the raw numbers first
    write_results(report, out, cfg.quick or not cfg.readme)
    if failed:
        sys.exit(f"{len(failed)} runs failed; see 'failed' in {out}")


def _true_hypervolumes(cfg: Config) -> dict[str, float | None]:
    from pareto import hypervolume

    result: dict[str, float | None] = {}
    for name in cfg.experiments:
        front = task_of(name).known_front()
        result[name] = None if front is None else float(hypervolume(front,
                                                                    np.zeros(front.shape[1])))
    return result


def write_results(report: dict[str, Any], out: Path, quick: bool) -> None:
    """Summary and goals into the JSON, the plot next to it, the table (README unless
    ``quick``)."""
    report["summary"] = summarise(report)
    report["goals"] = goal_rows(report)
    out.write_text(json.dumps(report, indent=1) + "\n")
    figure = out.with_name(out.stem + "_hv.png")
    plot(report, figure)
    table = markdown(report, figure)
    print("\n" + table)
    if not quick:
        write_readme(table)
    say(f"wrote {out} and {figure}" + ("" if quick else " and the table in benchmarks/README.md"))


if __name__ == "__main__":
    main()
