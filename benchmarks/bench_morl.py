"""MORL benchmark: mofront's MORL algorithms against MORL-Baselines on MO-Gymnasium.

One run trains, for several seeds and an equal budget of environment steps per
(environment, method), one of mofront's algorithms and its closest runnable
MORL-Baselines peers side by side, and measures them all the same way. Two suites:

* ``--suite cmorl`` (default): mofront's ``cmorl`` against PGMORL (MORL/D on discrete
  actions) on deep-sea-treasure-v0, minecart-v0 and mo-hopper-2obj-v5;
* ``--suite pdmorl``: mofront's ``pdmorl`` against Envelope Q-learning (CAPQL on
  continuous actions, where the library's Envelope does not run) and GPI-LS on
  deep-sea-treasure-v0, fruit-tree-v0 depth 5 and 6 and mo-hopper-2obj-v5.

The measurement:

* every policy a method evaluates is one point: the mean return vector over
  ``eval_episodes`` deterministic episodes, discounted by the environment's ``eval_gamma``,
  with the env steps the method had used when it was evaluated (a preference-conditioned
  method is evaluated at every preference of one grid: one point per preference);
* **HV vs env steps**: at s env steps, the exact hypervolume (``pareto.hypervolume``,
  moocore) of the non-dominated set of every point evaluated by s, under the stated
  reference point;
* **final metrics** on the front of every evaluated policy: HV (also as a fraction of
  the known optimum where there is one), expected utility (``pareto.expected_utility``
  over ``pareto.equally_spaced_weights(m, 100)``), sparsity, cardinality (front size),
  the known front's points recovered, env steps and wall time.

Conventions (checked against the catalogue, ``morl.problems``, at start):
deep-sea-treasure-v0 γ 0.99, ref (0, −25), optimal HV 360.4009 (and PD-MORL's own
convention, recomputed from the same return vectors: time objective + 19, ref (0, 0),
optimal HV 241.7331); fruit-tree-v0 depth 5 / 6 γ 0.99, ref 0, optimal HV 6920.582 /
9302.378; minecart-v0 γ 0.98, ref (−1, −1, −200), HV of the approximate known front
668.18; mo-hopper-2obj-v5 γ 0.99, ref (−100, −100), no known front.

mofront's side runs exactly as the service runs a campaign: the spec is validated by
``jobs.spec.validate`` (eval_gamma / eval_episodes default to the environment's), the
campaign row is created in a SQLite store as ``POST /api/v1/campaigns`` creates it, and
the algorithm records through the real :class:`jobs.recorder.StoreRecorder`; the points
above are the stored evaluation rows (``objectives``, ``budget_used``). The peers run in
their own virtual environment (``benchmarks/.morl-venv``: ``morl-baselines`` with a CPU
torch, created on first use) through ``benchmarks/pgmorl_runner.py`` (PGMORL, MORL/D)
and ``benchmarks/pdmorl_peers_runner.py`` (Envelope, CAPQL, GPI-LS).

    .venv/bin/python benchmarks/bench_morl.py [--suite cmorl|pdmorl] [--seeds 3]
        [--envs ENV,...] [--methods cmorl|pdmorl,peer,...] [--budgets ENV=STEPS,...]
        [--cmorl-params JSON] [--pdmorl-params JSON] [--gpils-gradient-updates 1]
        [--jobs 2] [--out benchmarks/results/bench_morl.json] [--no-readme] [--quick]
    .venv/bin/python benchmarks/bench_morl.py --report-from benchmarks/results/bench_morl.json
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import platform
import subprocess
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

import multiprocessing

from bench_bo import LoadSampler, TimedRecorder, say
from morl_report import goals as goal_rows
from morl_report import hv_curve, markdown, plot, summarise, write_readme
from report_io import code_version

from jobs import registry
from jobs.spec import validate
from storage import (
    all_evaluations,
    create_campaign,
    get_campaign,
    make_engine,
    make_sessionmaker,
    upgrade,
)

MORL_VENV = ROOT / "benchmarks" / ".morl-venv"
PEER_RUNNER = ROOT / "benchmarks" / "pgmorl_runner.py"
PREFERENCE_PEER_RUNNER = ROOT / "benchmarks" / "pdmorl_peers_runner.py"
WHEELS = Path("/opt/wheels")  # a CPU build of torch lies here (see the Makefile)
PEER_REQUIREMENTS = ["torch>=2.4,<2.14", "morl-baselines>=1.3,<1.4", "mujoco>=3"]


@dataclass(frozen=True)
class Alternative:
    """A second published convention, recomputed from the same raw return vectors:
    each point shifted by ``shift``, then measured under ``reference_point``."""

    name: str
    shift: tuple[float, ...]
    reference_point: tuple[float, ...]
    optimal_hypervolume: float


@dataclass(frozen=True)
class Benchmark:
    """An environment of the benchmark and its published conventions. ``env_id`` names
    it in the run (the MO-Gymnasium id, or a variant of it such as a fruit-tree depth)."""

    env_id: str
    eval_gamma: float
    reference_point: tuple[float, ...]
    optimal_hypervolume: float | None
    optimum_note: str
    discrete: bool
    gym_id: str | None = None  # the MO-Gymnasium id where env_id names a variant
    problem_params: tuple[tuple[str, Any], ...] = ()  # e.g. (("depth", 5),)
    alternative: Alternative | None = None

    @property
    def problem_id(self) -> str:
        return self.gym_id or self.env_id


BENCHMARKS: dict[str, Benchmark] = {
    b.env_id: b
    for b in [
        Benchmark("deep-sea-treasure-v0", 0.99, (0.0, -25.0), 360.4009,
                  "optimal front (10 points)", discrete=True,
                  alternative=Alternative("PD-MORL's convention: γ 0.99, time objective + 19",
                                          (0.0, 19.0), (0.0, 0.0), 241.7331)),
        Benchmark("fruit-tree-v0-d5", 0.99, (0.0,) * 6, 6920.582,
                  "optimal front, depth 5", discrete=True, gym_id="fruit-tree-v0",
                  problem_params=(("depth", 5),)),
        Benchmark("fruit-tree-v0-d6", 0.99, (0.0,) * 6, 9302.378,
                  "optimal front, depth 6", discrete=True, gym_id="fruit-tree-v0",
                  problem_params=(("depth", 6),)),
        Benchmark("minecart-v0", 0.98, (-1.0, -1.0, -200.0), 668.18,
                  "approximate known front: a soft target", discrete=True),
        Benchmark("mo-hopper-2obj-v5", 0.99, (-100.0, -100.0), None,
                  "no known front", discrete=False),
    ]
}

METHODS = {
    "cmorl": "mofront's C-MORL (morl/cmorl.py), defaults of morl/config.py",
    "pdmorl": "mofront's PD-MORL (morl/pdmorl.py), defaults of morl/config.py",
    "pgmorl": "MORL-Baselines PGMORL (continuous actions only)",
    "morld": "MORL-Baselines MORL/D with discrete SAC (substitute for PGMORL on discrete "
             "actions)",
    "envelope": "MORL-Baselines Envelope Q-learning (discrete actions only)",
    "capql": "MORL-Baselines CAPQL, preference-conditioned SAC (substitute for Envelope on "
             "continuous actions)",
    "gpils": "MORL-Baselines GPI-LS (GPILS discrete, GPILSContinuousAction continuous)",
}
DISCRETE_ONLY, CONTINUOUS_ONLY = {"morld", "envelope"}, {"pgmorl", "capql"}


@dataclass(frozen=True)
class Suite:
    """One of mofront's algorithms, its peers, environments and budgets."""

    ours: str  # the mofront algorithm; also the suite's name
    envs: tuple[str, ...]
    budgets: dict[str, tuple[int, int]]  # env -> (default, --quick) env steps per campaign
    out: str
    goal_fraction: float  # of the known optimum, drawn on the plot

    def peers(self, benchmark: Benchmark) -> list[str]:
        if self.ours == "cmorl":
            return ["morld" if benchmark.discrete else "pgmorl"]
        return ["envelope" if benchmark.discrete else "capql", "gpils"]


# C-MORL budgets are whole multiples of 49,152 env steps: one PGMORL iteration (6
# policies x 4 envs x 2048 steps) and 12 C-MORL PPO updates (8 envs x 512 steps); MORL/D's
# turn length is a divisor of the budget. Sized so that the default run (3 seeds, C-MORL
# and the peer, 2 at a time) takes about 65 minutes on 2 idle cores (CPU seconds per 10k
# env steps measured in --quick runs: C-MORL 2.5-4, PGMORL 6, MORL/D 13-20).
# PD-MORL budgets: multiples of 10,000 steps (GPI-LS trains in iterations of 10,000; PD-MORL
# and the peers evaluate every budget / 20 steps); the 100k for deep-sea-treasure.
SUITES: dict[str, Suite] = {
    "cmorl": Suite("cmorl", ("deep-sea-treasure-v0", "minecart-v0", "mo-hopper-2obj-v5"), {
        "deep-sea-treasure-v0": (8 * 49_152, 49_152),
        "minecart-v0": (8 * 49_152, 49_152),
        "mo-hopper-2obj-v5": (16 * 49_152, 2 * 49_152),
    }, "benchmarks/results/bench_morl.json", goal_fraction=0.9),
    "pdmorl": Suite("pdmorl", ("deep-sea-treasure-v0", "fruit-tree-v0-d5", "fruit-tree-v0-d6",
                               "mo-hopper-2obj-v5"), {
        "deep-sea-treasure-v0": (100_000, 4_000),
        "fruit-tree-v0-d5": (100_000, 4_000),
        "fruit-tree-v0-d6": (200_000, 4_000),
        "mo-hopper-2obj-v5": (100_000, 2_000),
    }, "benchmarks/results/bench_pdmorl.json", goal_fraction=0.95),
}


def peer_for(benchmark: Benchmark) -> str:
    return "morld" if benchmark.discrete else "pgmorl"


def runs_on(method: str, benchmark: Benchmark) -> bool:
    if method in DISCRETE_ONLY:
        return benchmark.discrete
    if method in CONTINUOUS_ONLY:
        return not benchmark.discrete
    return True


@dataclass
class Config:
    suite: str = "cmorl"
    seeds: int = 3
    first_seed: int = 0  # seeds first_seed … first_seed + seeds − 1 (more seeds for a run)
    envs: list[str] = field(default_factory=lambda: list(SUITES["cmorl"].envs))
    methods: list[str] = field(default_factory=lambda: ["cmorl", "peer"])  # peer: the suite's
    budgets: dict[str, int] = field(default_factory=dict)  # overrides, env id -> steps
    # The peers' own budgets where smaller than ours (they cost 6-10x more per env step);
    # they are then compared with ours at their budget, on our HV-vs-steps curve.
    peer_budgets: dict[str, int] = field(default_factory=dict)
    cmorl_params: dict[str, Any] = field(default_factory=dict)
    pdmorl_params: dict[str, Any] = field(default_factory=dict)
    gpils_gradient_updates: int = 1  # the library's default is 20: see pdmorl_peers_runner
    jobs: int = 2
    out: str = "benchmarks/results/bench_morl.json"
    peer_python: str = str(MORL_VENV / "bin" / "python")
    quick: bool = False
    readme: bool = True
    report_from: str | None = None

    def budget(self, env_id: str, method: str | None = None) -> int:
        """Env steps per campaign on ``env_id``: ours, or ``method``'s when it is a peer
        with a budget of its own."""
        default, quick = SUITES[self.suite].budgets[env_id]
        ours = self.budgets.get(env_id, quick if self.quick else default)
        if method is not None and method != self.suite and env_id in self.peer_budgets:
            return self.peer_budgets[env_id]
        return ours

    def params(self, method: str, env_id: str) -> dict[str, Any]:
        """Our algorithm's parameters on ``env_id``: the shared ones, then the entry named
        after the environment, if any (``{"chunk_updates": 5, "minecart-v0": {...}}``)."""
        given = {"cmorl": self.cmorl_params, "pdmorl": self.pdmorl_params}.get(method, {})
        shared = {k: v for k, v in given.items() if k not in BENCHMARKS}
        return {**shared, **given.get(env_id, {})}


# ----------------------------------------------------------------- our campaigns


def campaign_spec(env_id: str, algorithm: str, seed: int, budget: int,
                  params: dict[str, Any]) -> dict[str, Any]:
    benchmark = BENCHMARKS[env_id]
    return {
        "name": f"bench-morl-{algorithm}-{env_id}-{seed}",
        "algorithm": algorithm,
        "problem": {"kind": "mo-gymnasium", "id": benchmark.problem_id,
                    **dict(benchmark.problem_params)},
        "budget": {"env_steps": budget},
        "params": dict(params),
        "seed": seed,
    }


def check_conventions(env_id: str, algorithm: str) -> dict[str, Any]:
    """The catalogue's conventions for ``env_id``, checked against the benchmark's."""
    benchmark = BENCHMARKS[env_id]
    resolved = validate(campaign_spec(env_id, algorithm, 0, 49_152, {}))
    stated = (benchmark.eval_gamma, benchmark.reference_point, benchmark.optimal_hypervolume)
    catalogue = (resolved.params["eval_gamma"], tuple(resolved.reference_point or ()),
                 resolved.info.known_max_hypervolume)
    if stated != catalogue:
        raise RuntimeError(f"{env_id}: the benchmark states (γ, ref, optimum) {stated}, the "
                           f"catalogue has {catalogue}")
    front = _known_front(benchmark)
    conventions = {"eval_gamma": resolved.params["eval_gamma"],
                   "eval_episodes": resolved.params["eval_episodes"],
                   "reference_point": list(benchmark.reference_point),
                   "reference_point_source": resolved.reference_point_source,
                   "optimal_hypervolume": benchmark.optimal_hypervolume,
                   "optimum_note": benchmark.optimum_note,
                   "problem": campaign_spec(env_id, algorithm, 0, 1, {})["problem"],
                   "known_front_hypervolume": _hypervolume(front, benchmark.reference_point)}
    if algorithm != "cmorl":  # the known front itself, to count the points each run recovers
        conventions["known_front"] = None if front is None else front.tolist()
    if benchmark.alternative is not None:
        alternative = benchmark.alternative
        shifted = None if front is None else front + np.asarray(alternative.shift)
        conventions["alternative"] = {
            "name": alternative.name, "shift": list(alternative.shift),
            "reference_point": list(alternative.reference_point),
            "optimal_hypervolume": alternative.optimal_hypervolume,
            "known_front_hypervolume": _hypervolume(shifted, alternative.reference_point)}
    return conventions


def _known_front(benchmark: Benchmark) -> np.ndarray | None:
    """MO-Gymnasium's known front at eval γ, or None where there is none."""
    from morl.problems import known_front

    return known_front(benchmark.problem_id, benchmark.eval_gamma,
                       **dict(benchmark.problem_params))


def _hypervolume(front: np.ndarray | None, reference_point: tuple[float, ...]) -> float | None:
    """The HV of a known front (a check of the published optimum), or None."""
    from pareto import hypervolume

    return None if front is None else hypervolume(front, reference_point)


def run_ours(task: dict[str, Any]) -> dict[str, Any]:
    """One campaign of ours (C-MORL or PD-MORL), in this process, through the store."""
    import torch

    torch.set_num_threads(1)
    resolved = validate(campaign_spec(task["env"], task["method"], task["seed"],
                                      task["budget"], task["params"]))
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
    run = registry.algorithm(resolved.spec.algorithm).load()  # morl.cmorl:run, …

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
        stored = {"hypervolume": finished.hypervolume, "front_size": finished.front_size,
                  "budget_used": finished.budget_used, "conventions": finished.conventions}
        rows = all_evaluations(session, campaign_id)
        evaluations = [{
            "env_steps": float(row.budget_used),
            "objectives": [float(v) for v in row.objectives],
            "undiscounted": (row.meta or {}).get("undiscounted"),
            "stage": (row.meta or {}).get("stage"),
            "preference": (row.params or {}).get("preference"),
            "on_front": bool(row.on_front),
        } for row in rows]
    engine.dispose()
    return {
        "env": task["env"], "method": task["method"], "seed": task["seed"],
        "budget": task["budget"],
        "params": resolved.params, "conventions": resolved.conventions,
        "evaluations": evaluations, "stored": stored,
        "env_steps": float(recorder.budget_used),
        "wall_seconds": total, "storage_seconds": recorder.storage_seconds,
        "cpu_seconds": cpu_seconds, "unix_start": unix_start, "unix_end": time.time(),
        "torch_threads": torch.get_num_threads(),
    }


# ------------------------------------------------------------------- the peer


def ensure_peer_venv(python: str) -> None:
    """Create ``benchmarks/.morl-venv`` with morl-baselines and a CPU torch."""
    if Path(python).exists():
        return
    if Path(python) != MORL_VENV / "bin" / "python":
        raise FileNotFoundError(f"--peer-python {python} does not exist")
    say(f"creating {MORL_VENV} ({', '.join(PEER_REQUIREMENTS)})")
    subprocess.run([sys.executable, "-m", "venv", str(MORL_VENV)], check=True)
    links = ["--find-links", str(WHEELS)] if WHEELS.is_dir() else []
    subprocess.run([str(MORL_VENV / "bin" / "pip"), "install", "--quiet", *links,
                    *PEER_REQUIREMENTS], check=True)
    done = subprocess.run([python, "-c", "import torch; print(torch.version.cuda)"],
                          capture_output=True, text=True, check=True)
    if done.stdout.strip() not in ("None", ""):
        raise RuntimeError(f"{MORL_VENV} got a CUDA build of torch; install the CPU wheel")


def run_peer(task: dict[str, Any]) -> dict[str, Any]:
    """One MORL-Baselines campaign in the peer's environment (a subprocess)."""
    benchmark = BENCHMARKS[task["env"]]
    stem = f"{task['method']}-{task['env']}-{task['seed']}"
    out, log = Path(task["tmp"]) / f"{stem}.json", Path(task["tmp"]) / f"{stem}.log"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "WANDB_MODE": "disabled"}
    command = [task["peer_python"], str(PEER_RUNNER), "--method", task["method"],
               "--env", benchmark.problem_id, "--seed", str(task["seed"]),
               "--budget", str(task["budget"]), "--eval-gamma", repr(benchmark.eval_gamma),
               "--episodes", str(task["eval_episodes"]),
               f"--reference-point={','.join(map(repr, benchmark.reference_point))}",
               "--out", str(out)]
    if task["method"] in ("envelope", "capql", "gpils"):
        command[1] = str(PREFERENCE_PEER_RUNNER)
        command += ["--env-kwargs", json.dumps(dict(benchmark.problem_params)),
                    "--eval-every", str(task["eval_every"]),
                    "--preferences", task["preferences"],
                    "--gradient-updates", str(task["gpils_gradient_updates"])]
    unix_start = time.time()
    with open(log, "w") as handle:
        done = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, env=env,
                              check=False, cwd=task["tmp"])
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[1]).name} failed ({done.returncode}): "
                           f"{log.read_text()[-3000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    return {
        "env": task["env"], "method": task["method"], "seed": task["seed"],
        "budget": task["budget"], "params": result["settings"],
        "versions": result["versions"], "torch_threads": result["torch_threads"],
        "evaluations": result["evaluations"], "env_steps": float(result["env_steps"]),
        "library_archive": result["library_archive"],
        "library_archive_convention": result["library_archive_convention"],
        "wall_seconds": result["wall_seconds"],
        "measurement_seconds": result["measurement_seconds"],
        "cpu_seconds": result["cpu_seconds"],
        "unix_start": unix_start, "unix_end": time.time(),
    }


def probe_pgmorl(python: str, env_id: str) -> dict[str, Any]:
    """Does MORL-Baselines' PGMORL accept ``env_id``? Its constructor checks the action
    space; we record what it says rather than assume it."""
    code = (
        "import os; os.environ['WANDB_MODE'] = 'disabled'\n"
        "import numpy as np\n"
        "from morl_baselines.multi_policy.pgmorl.pgmorl import PGMORL\n"
        f"PGMORL(env_id={env_id!r}, origin=np.zeros(3), log=False, seed=0, device='cpu')\n"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return {"env": env_id, "supported": done.returncode == 0,
            "message": lines[-1] if done.returncode != 0 and lines else None}


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    try:
        return run_ours(task) if task["method"] in SUITES else run_peer(task)
    except Exception:  # noqa: BLE001 -- a failed campaign is reported, the others go on
        return {**{k: task[k] for k in ("env", "method", "seed", "budget")},
                "error": traceback.format_exc()}


# ------------------------------------------------------------------------ the run


def machine_facts(cfg: Config) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in ("torch", "gymnasium", "mo-gymnasium", "mujoco", "moocore", "numpy",
                    "sqlalchemy", "matplotlib"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None

    return {
        "code": code_version("morl", "jobs", "storage", "pareto"),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
        "platform": platform.platform(), "python": platform.python_version(),
        "parallel_processes": cfg.jobs, "torch_threads_per_process": 1,
        "packages": versions,
    }


# Rough CPU seconds per 10k env steps on this machine type (one thread), used only to
# start the longest campaigns first (so the run does not end with one running alone).
SECONDS_PER_10K = {("cmorl", True): 3.5, ("cmorl", False): 4.0, ("pgmorl", False): 6.0,
                   ("morld", True): 20.0, ("pdmorl", True): 30.0, ("pdmorl", False): 60.0,
                   ("envelope", True): 150.0, ("gpils", True): 150.0, ("capql", False): 60.0,
                   ("gpils", False): 60.0}


def preference_grid(env_id: str, cfg: Config, tmp: str) -> str:
    """The preferences ``pdmorl`` evaluates each round, in a file for the peers' runner."""
    from morl.pdmorl import evaluation_preferences

    m = len(BENCHMARKS[env_id].reference_point)
    path = Path(tmp) / f"preferences-{env_id}.json"
    grid = evaluation_preferences(m, cfg.pdmorl_params.get("eval_preferences"))
    path.write_text(json.dumps(grid.tolist()))
    return str(path)


def tasks_for(cfg: Config, db_url: str, tmp: str,
              conventions: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    suite = SUITES[cfg.suite]
    tasks = []
    for env_id in cfg.envs:
        benchmark = BENCHMARKS[env_id]
        methods = [name for method in cfg.methods
                   for name in (suite.peers(benchmark) if method == "peer" else [method])]
        # The peers measure at PD-MORL's evaluation interval (its default: budget / 20; the
        # smaller peer budget's twentieth when the peers have one, for both).
        eval_every = cfg.pdmorl_params.get("eval_interval") or max(
            1, min(cfg.budget(env_id, method) for method in methods) // 20)
        preferences = preference_grid(env_id, cfg, tmp) if cfg.suite == "pdmorl" else ""
        for method in methods:
            if not runs_on(method, benchmark):
                continue  # not supported by the library: recorded in the report instead
            params = cfg.params(method, env_id)
            if method == "pdmorl" and "eval_interval" not in params:
                params = {**params, "eval_interval": eval_every}
            for seed in range(cfg.first_seed, cfg.first_seed + cfg.seeds):
                tasks.append({
                    "env": env_id, "method": method, "seed": seed,
                    "budget": cfg.budget(env_id, method),
                    "params": params, "db_url": db_url, "tmp": tmp,
                    "peer_python": cfg.peer_python,
                    "eval_episodes": conventions[env_id]["eval_episodes"],
                    "eval_every": eval_every, "preferences": preferences,
                    "gpils_gradient_updates": cfg.gpils_gradient_updates,
                })
    return sorted(tasks, key=lambda task: -task["budget"] * SECONDS_PER_10K.get(
        (task["method"], BENCHMARKS[task["env"]].discrete), 5.0))


def run_all(cfg: Config, tmp: str, conventions: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    db_url = f"sqlite:///{Path(tmp) / f'bench_{cfg.suite}.db'}"
    upgrade(db_url)
    tasks = tasks_for(cfg, db_url, tmp, conventions)
    runs: list[dict[str, Any]] = []
    partial = Path(tempfile.gettempdir()) / f"bench_morl_runs-{os.getpid()}.jsonl"
    say(f"{len(tasks)} campaigns, {cfg.jobs} at once; each finished one is also appended "
        f"to {partial}")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=cfg.jobs, mp_context=context,
                             max_tasks_per_child=1) as pool:
        futures = {pool.submit(run_task, task): task for task in tasks}
        for done, future in enumerate(as_completed(futures), start=1):
            run = future.result()
            runs.append(run)
            with open(partial, "a") as handle:
                handle.write(json.dumps(run) + "\n")
            label = f"{run['env']} {run['method']} seed {run['seed']}"
            if "error" in run:
                say(f"[{done}/{len(tasks)}] {label} FAILED:\n{run['error']}")
                continue
            reference = conventions[run["env"]]["reference_point"]
            final = hv_curve(run, reference, [run["env_steps"]])[0]
            say(f"[{done}/{len(tasks)}] {label}: HV {final:.4g} after {run['env_steps']:.0f} "
                f"env steps, {len(run['evaluations'])} policies, {run['wall_seconds']:.0f} s")
    return runs


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", choices=sorted(SUITES), default="cmorl",
                        help="cmorl: C-MORL against PGMORL / MORL/D; pdmorl: PD-MORL against "
                        "Envelope (CAPQL on continuous actions) and GPI-LS")
    parser.add_argument("--seeds", type=int, help="seeds per (env, method): 0 … N−1")
    parser.add_argument("--first-seed", type=int, help="the first seed (default 0), to add "
                        "seeds to a committed run: --first-seed 5 --seeds 5 runs seeds 5 … 9")
    parser.add_argument("--envs", help=f"comma-separated: {','.join(BENCHMARKS)}")
    parser.add_argument("--methods", help="comma-separated: the suite's own (cmorl or "
                        "pdmorl), peer (its peers: PGMORL / MORL/D for cmorl; Envelope / "
                        "CAPQL and GPI-LS for pdmorl), or any of " + ", ".join(METHODS))
    parser.add_argument("--budgets", help="env steps per campaign, e.g. "
                        "deep-sea-treasure-v0=245760,mo-hopper-2obj-v5=589824 (cmorl: "
                        "multiples of 49152 keep every method's step count exact; pdmorl: "
                        "multiples of 10000)")
    parser.add_argument("--peer-budgets", help="the peers' env steps where smaller than "
                        "ours, e.g. deep-sea-treasure-v0=20000: they are compared with ours "
                        "at that step count, on our HV-vs-steps curve")
    parser.add_argument("--cmorl-params", help="JSON object of C-MORL parameters "
                        "(morl/config.py) for every environment, and under an environment's "
                        'id its own, e.g. {"chunk_updates": 5, "deep-sea-treasure-v0": '
                        '{"n_envs": 4}}')
    parser.add_argument("--pdmorl-params", help="JSON object of PD-MORL parameters "
                        "(morl/config.py PDMORLConfig), shared and per environment as "
                        "--cmorl-params")
    parser.add_argument("--gpils-gradient-updates", type=int, help="GPI-LS gradient steps per "
                        "env step (default 1, as PD-MORL and Envelope; the library's is 20)")
    parser.add_argument("--jobs", type=int, help="campaigns run at once (one torch thread each)")
    parser.add_argument("--out")
    parser.add_argument("--peer-python", help="Python of the MORL-Baselines environment "
                        "(default benchmarks/.morl-venv, created when missing)")
    parser.add_argument("--report-from", metavar="JSON",
                        help="only summarise that results file again (plot, table, README)")
    parser.add_argument("--no-readme", action="store_true",
                        help="leave benchmarks/README.md alone")
    parser.add_argument("--quick", action="store_true",
                        help="tiny budgets, 1 seed; writes /tmp, leaves the README alone")
    args = parser.parse_args(argv)
    suite = SUITES[args.suite]
    cfg = Config(suite=suite.ours, envs=list(suite.envs), methods=[suite.ours, "peer"],
                 out=suite.out)
    if args.quick:
        cfg.seeds, cfg.quick = 1, True
        cfg.out = f"/tmp/{Path(suite.out).stem}_quick.json"
    for name in ("seeds", "first_seed", "jobs", "out", "peer_python", "report_from",
                 "gpils_gradient_updates"):
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
    if args.no_readme:
        cfg.readme = False
    if args.envs:
        cfg.envs = [part.strip() for part in args.envs.split(",")]
    if args.methods:
        cfg.methods = [part.strip() for part in args.methods.split(",")]
    if args.budgets:
        for part in args.budgets.split(","):
            env_id, _, steps = part.partition("=")
            cfg.budgets[env_id.strip()] = int(float(steps))
    if args.peer_budgets:
        for part in args.peer_budgets.split(","):
            env_id, _, steps = part.partition("=")
            cfg.peer_budgets[env_id.strip()] = int(float(steps))
    if args.cmorl_params:
        cfg.cmorl_params = json.loads(args.cmorl_params)
    if args.pdmorl_params:
        cfg.pdmorl_params = json.loads(args.pdmorl_params)
    unknown = [e for e in [*cfg.envs, *cfg.budgets, *cfg.peer_budgets] if e not in suite.budgets]
    unknown += [m for m in cfg.methods if m not in METHODS and m != "peer"]
    if unknown:
        parser.error(f"unknown {', '.join(unknown)}; envs of suite {suite.ours}: "
                     f"{', '.join(suite.budgets)}; methods: {', '.join(METHODS)}, peer")
    return cfg


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv)
    if cfg.report_from:
        source = Path(cfg.report_from)
        saved = load_report(source)
        write_results(saved, source,
                      saved["config"]["quick"] or not saved["config"].get("readme", True))
        return
    facts = machine_facts(cfg)
    conventions = {env_id: check_conventions(env_id, cfg.suite) for env_id in cfg.envs}
    for env_id, stated in conventions.items():
        say(f"{env_id}: γ {stated['eval_gamma']}, {stated['eval_episodes']} episode(s), ref "
            f"{tuple(stated['reference_point'])}, optimum {stated['optimal_hypervolume']} "
            f"(known front's HV here: {stated['known_front_hypervolume']}), "
            f"budget {cfg.budget(env_id):,} env steps")
        if "alternative" in stated:
            alternative = stated["alternative"]
            say(f"  and {alternative['name']}: ref {tuple(alternative['reference_point'])}, "
                f"optimum {alternative['optimal_hypervolume']} (known front's HV here: "
                f"{alternative['known_front_hypervolume']})")
    peers_needed = any(m not in SUITES for m in cfg.methods)
    probes = []
    if peers_needed:
        ensure_peer_venv(cfg.peer_python)
        if cfg.suite == "cmorl":
            probes = [probe_pgmorl(cfg.peer_python, env_id) for env_id in cfg.envs
                      if BENCHMARKS[env_id].discrete]
        for probe in probes:
            say(f"PGMORL on {probe['env']}: "
                + ("runs" if probe["supported"] else f"not supported ({probe['message']})"))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_morl_") as tmp, LoadSampler() as load:
        runs = run_all(cfg, tmp, conventions)
    failed = [run for run in runs if "error" in run]
    runs = sorted((run for run in runs if "error" not in run),
                  key=lambda run: (run["env"], run["method"], run["seed"]))
    report: dict[str, Any] = {
        "benchmark": "bench_morl", "suite": cfg.suite, "machine": facts, "config": asdict(cfg),
        "budgets": {env_id: cfg.budget(env_id) for env_id in cfg.envs},
        "peer_budgets": {env_id: steps for env_id, steps in cfg.peer_budgets.items()
                         if env_id in cfg.envs},
        "conventions": conventions, "methods": METHODS, "pgmorl_probe": probes,
        "elapsed_seconds": time.perf_counter() - started, "load_average": load.summary(),
        "runs": runs, "failed": failed,
    }
    out = Path(cfg.out) if Path(cfg.out).is_absolute() else ROOT / cfg.out
    out.parent.mkdir(parents=True, exist_ok=True)
    save_report(report, out)  # the raw numbers first
    write_results(report, out, cfg.quick or not cfg.readme)
    if failed:
        sys.exit(f"{len(failed)} campaigns failed; see 'failed' in {out}")


SEEDS_PER_FILE = 20  # of one environment and method in one evaluations file (about 1 MB)


def evaluations_dir(out: Path) -> Path:
    return out.with_name(out.stem + "_evaluations")


def save_report(report: dict[str, Any], out: Path, rows_saved: bool = False) -> None:
    """The report as readable JSON, every run's policies beside it, xz-compressed, one
    file per (environment, method) in ``<stem>_evaluations/`` (skipped when
    ``rows_saved``: they were written beside ``out`` already).

    PD-MORL records 101 preferences per evaluation round, so the per-policy rows of a
    run reach megabytes (a 200k-step fruit-tree run: 45,600 rows; xz packs the repeated
    leaves into 40% of what gzip needs). One file per environment, method and block of
    ``SEEDS_PER_FILE`` seeds keeps every file small as seeds are added (52 hopper seeds
    of GPI-LS were 2.3 MB in one file). The readable JSON keeps what a reader looks at
    (config, conventions, per-run figures, summary, goals) and names the files with the
    rows.
    """
    folder = evaluations_dir(out)
    groups: dict[str, dict[str, Any]] = {}
    for run in report["runs"]:
        first = run["seed"] // SEEDS_PER_FILE * SEEDS_PER_FILE
        name = f"{run['env']}.{run['method']}.seeds-{first}-{first + SEEDS_PER_FILE - 1}.json.xz"
        groups.setdefault(name, {})[run_key(run)] = run
    names = [f"{folder.name}/{name}" for name in sorted(groups)]
    if not (rows_saved and report.get("evaluations_files") == names):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in set(folder.glob("*.json.xz")) - {folder / name for name in groups}:
            stale.unlink()
        for name, runs in groups.items():
            rows = {key: _significant(run["evaluations"]) for key, run in runs.items()}
            with lzma.open(folder / name, "wt", encoding="utf-8", preset=9) as handle:
                json.dump(rows, handle, separators=(",", ":"))
        single = out.with_name(out.stem + "_evaluations.json.xz")  # the layout before
        if report.pop("evaluations_file", None) == single.name and single.exists():
            single.unlink()
        report["evaluations_files"] = names
    readable = {**report, "runs": [{k: v for k, v in run.items() if k != "evaluations"}
                                   for run in report["runs"]]}
    out.write_text(json.dumps(readable, indent=1) + "\n")


def _significant(value: Any, digits: int = 8) -> Any:
    """``value`` with every float cut to ``digits`` significant digits: the returns come
    from float32 rewards (about 7 digits), and the digits beyond are most of what xz
    cannot compress (every row of bench_pdmorl: 3.5 MB at 17 digits, 2.0 at 8)."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, list):
        return [_significant(item, digits) for item in value]
    if isinstance(value, dict):
        return {key: _significant(item, digits) for key, item in value.items()}
    return value


def load_report(source: Path) -> dict[str, Any]:
    """A report written by :func:`save_report` (or an older one with the rows in one
    file, or inline)."""
    report: dict[str, Any] = json.loads(source.read_text())
    names = report.get("evaluations_files") or (
        [report["evaluations_file"]] if "evaluations_file" in report else [])
    rows: dict[str, Any] = {}
    for name in names:
        with lzma.open(source.parent / name, "rt", encoding="utf-8") as handle:
            rows.update(json.load(handle))
    if names:
        for run in report["runs"]:
            run["evaluations"] = rows[run_key(run)]
    return report


def run_key(run: dict[str, Any]) -> str:
    return f"{run['env']}/{run['method']}/{run['seed']}"


def write_results(report: dict[str, Any], out: Path, quick: bool) -> None:
    """Summary and goals into the JSON, the plot next to it, the table (README unless
    ``quick``)."""
    report["summary"] = summarise(report)
    report["goals"] = goal_rows(report)
    save_report(report, out, rows_saved=True)
    figure = out.with_name(out.stem + "_hv.png")
    plot(report, figure)
    table = markdown(report, figure)
    print("\n" + table)
    if not quick:
        write_readme(table, report.get("suite", "cmorl"))
    say(f"wrote {out} and {figure}" + ("" if quick else " and the table in benchmarks/README.md"))


if __name__ == "__main__":
    main()
