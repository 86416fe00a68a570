"""Storage benchmark: mofront's store against Optuna's RDB storage doing the same job.

One run measures, on SQLite (a file) and on PostgreSQL (a fresh database of its own),
while one campaign grows through each scale (10^4 → 10^5 → 10^6 stored evaluations):

* **ingest rate** (evaluations/s): mofront through :func:`storage.append_evaluations`,
  one fresh session per batch exactly as ``jobs/recorder.py`` records a worker's batch
  (lock, ``on_front`` maintained incrementally, metric snapshot, commit), followed by
  the recorder's cancel check; Optuna through ``study.add_trials`` of completed trials
  (``optuna.trial.create_trial``) on ``optuna.storages.RDBStorage``;
* **front-query latency** (p50/p99): mofront ``storage.front(session, campaign_id)`` in
  a fresh session; Optuna ``study.best_trials``, "cold" (``optuna.load_study`` on the
  same storage object, so the trial cache starts empty, as in a fresh session) and
  "warm" (the same study object again, its in-process cache of finished trials full);
* **HV-query latency**: the front query plus the exact hypervolume under the campaign's
  reference point, as the ``/hypervolume`` route computes it.

The data are DTLZ2 (M = 3 objectives, d = 6 variables, all minimised) evaluated at
uniformly random x in [0, 1]^6 drawn with a fixed seed: the same vectors, in the same
order, go to both stores. Optuna stages have a time cap; a scale it would not reach
within the cap is reported as not run, with the time it would take at the measured
rate, never as a made-up number.

    python benchmarks/bench_store.py [--scales 1e4,1e5,1e6] [--backends sqlite,postgres]
        [--optuna-cap-seconds 300] [--out benchmarks/results/bench_store.json] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import moocore
import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: mofront's packages
sys.path.insert(0, str(ROOT / "benchmarks"))

import optuna
import report_io
from optuna.distributions import BaseDistribution, FloatDistribution
from optuna.storages import RDBStorage
from store_report import README, comparisons, goals, markdown, write_readme

from pareto import Sense, hypervolume, to_maximization
from storage import (
    NewEvaluation,
    append_evaluations,
    create_campaign,
    front,
    get_campaign,
    make_engine,
    make_sessionmaker,
    upgrade,
)

SENSES: list[Sense] = ["minimize", "minimize", "minimize"]
REFERENCE_POINT = [1.1, 1.1, 1.1]  # DTLZ2's published (BoTorch) reference point


@dataclass
class Config:
    scales: list[int] = field(default_factory=lambda: [10_000, 100_000, 1_000_000])
    backends: list[str] = field(default_factory=lambda: ["sqlite", "postgres"])
    batch_size: int = 1_000  # evaluations per recorded batch (main campaign)
    small_batch_size: int = 100  # a worker recording often (second campaign)
    small_batch_evaluations: int = 10_000
    n_variables: int = 6  # DTLZ2 d = 6, M = 3: the DESIGN.md reference problem
    seed: int = 0
    optuna_cap_seconds: float = 300.0  # ingest time per Optuna stage
    query_reps: int = 300  # mofront query repetitions per scale (fewer past the budget)
    query_budget_seconds: float = 15.0
    optuna_query_budget_seconds: float = 60.0  # Optuna: 3 to 20 reps within this
    http_reps: int = 50
    pg_admin_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    out: str = "benchmarks/results/bench_store.json"
    quick: bool = False


# ---------------------------------------------------------------------------- data


def dtlz2(x: np.ndarray, n_objectives: int = 3) -> np.ndarray:
    """DTLZ2 (Deb et al., 2005) for ``x`` ``(n, d)`` in [0, 1]^d, minimised:
    g = sum_{i >= M} (x_i - 0.5)^2, f_1 = (1+g) prod_{j<M-1} cos(x_j pi/2),
    f_k = (1+g) prod_{j<M-k} cos(x_j pi/2) sin(x_{M-k} pi/2). The front is the unit
    sphere's positive octant (g = 0)."""
    m = n_objectives
    g = ((x[:, m - 1 :] - 0.5) ** 2).sum(axis=1)
    angles = x[:, : m - 1] * (np.pi / 2)
    f = np.empty((len(x), m))
    for k in range(m):
        value = 1.0 + g
        value = value * np.prod(np.cos(angles[:, : m - 1 - k]), axis=1)
        if k > 0:
            value = value * np.sin(angles[:, m - 1 - k])
        f[:, k] = value
    return f


def describe_data(objectives: np.ndarray, scales: list[int]) -> list[dict[str, Any]]:
    """Front size and HV (reference 1.1^3) of each prefix, computed here with moocore
    directly: the expected answers the stores' fronts are checked against."""
    rows = []
    for n in scales:
        mask = moocore.is_nondominated(objectives[:n])
        rows.append({
            "n_evaluations": n,
            "front_size": int(mask.sum()),
            "hypervolume": float(moocore.hypervolume(objectives[:n][mask], ref=REFERENCE_POINT)),
        })
    return rows


# ------------------------------------------------------------------------- helpers


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000.0
    p50, p99 = np.percentile(ms, [50, 99])
    return {"p50": round(float(p50), 3), "p99": round(float(p99), 3),
            "mean": round(float(ms.mean()), 3), "reps": len(ms)}


def repeat(call: Callable[[], Any], reps: int, budget_seconds: float, warmup: int = 3,
           min_reps: int = 3) -> list[float]:
    """Latencies of ``call`` over up to ``reps`` repetitions, stopping once
    ``budget_seconds`` are spent (but never below ``min_reps``)."""
    for _ in range(warmup):
        call()
    latencies: list[float] = []
    started = time.perf_counter()
    while len(latencies) < reps:
        t0 = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - t0)
        if len(latencies) >= min_reps and time.perf_counter() - started > budget_seconds:
            break
    return latencies


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


@contextmanager
def database(backend: str, name: str, cfg: Config) -> Iterator[str]:
    """A fresh, empty database for one system on one backend; removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"{name}-") as directory:
            yield f"sqlite:///{directory}/{name}.db"
        return
    admin = cfg.pg_admin_url
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield "postgresql+psycopg://" + admin.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def database_bytes(url: str, engine: Any) -> int | None:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_database_size(current_database())")
                   .scalar())


# ------------------------------------------------------------------------- mofront


def mofront_ingest(sessions: Any, campaign_id: int, objectives: np.ndarray, xs: np.ndarray,
                   start: int, stop: int, batch_size: int) -> tuple[dict[str, Any], Any]:
    """Record evaluations ``start..stop`` as a worker does, batch by batch."""
    batch_seconds: list[float] = []
    result = None
    clock = time.perf_counter()
    for low in range(start, stop, batch_size):
        high = min(low + batch_size, stop)
        t0 = time.perf_counter()
        rows = [
            NewEvaluation(seq=seq, objectives=values, params={"x": x}, budget_used=float(seq + 1))
            for seq, values, x in zip(range(low, high), objectives[low:high].tolist(),
                                      xs[low:high].tolist(), strict=True)
        ]
        with sessions() as session:
            result = append_evaluations(session, campaign_id, rows,
                                        wall_seconds=time.perf_counter() - clock)
        with sessions() as session:  # the recorder's cancel check after each batch
            campaign = get_campaign(session, campaign_id)
            assert campaign is not None and not campaign.cancel_requested
        batch_seconds.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - clock
    return {
        "evaluations": stop - start, "batch_size": batch_size, "seconds": round(seconds, 3),
        "per_second": round((stop - start) / seconds, 1),
        "batch_ms": percentiles(batch_seconds),
    }, result


def new_campaign(sessions: Any, name: str, cfg: Config) -> int:
    with sessions() as session:
        campaign = create_campaign(
            session, name=name, algorithm="random-search",
            problem={"kind": "test-function", "id": "dtlz2", "n_variables": cfg.n_variables},
            objective_names=["f1", "f2", "f3"], objective_senses=SENSES,
            budget=float(max(cfg.scales)), budget_unit="evaluations",
            reference_point=REFERENCE_POINT, reference_point_source="published",
            seed=cfg.seed, status="running", started_at=datetime.now(UTC),
        )
        session.commit()
        return campaign.id


def bench_mofront(backend: str, objectives: np.ndarray, xs: np.ndarray,
                  expected: list[dict[str, Any]], cfg: Config) -> dict[str, Any]:
    out: dict[str, Any] = {"stages": []}
    with database(backend, f"mofront_bench_{os.getpid()}", cfg) as url:
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)

        small_n = min(cfg.small_batch_evaluations, max(cfg.scales))
        small_id = new_campaign(sessions, "bench-small-batches", cfg)
        out["small_batch"], _ = mofront_ingest(sessions, small_id, objectives, xs, 0, small_n,
                                               cfg.small_batch_size)
        say(f"{backend} mofront: {small_n:,} evaluations in batches of "
            f"{cfg.small_batch_size}: {out['small_batch']['per_second']:,.0f}/s")

        campaign_id = new_campaign(sessions, "bench-store", cfg)
        stored = 0
        for target, truth in zip(cfg.scales, expected, strict=True):
            ingest, result = mofront_ingest(sessions, campaign_id, objectives, xs, stored,
                                            target, cfg.batch_size)
            stored = target
            stage: dict[str, Any] = {"n_evaluations": target, "status": "ok", "ingest": ingest}
            stage.update(mofront_queries(sessions, campaign_id, cfg))
            stage["front_size"] = result.front_size
            stage["hypervolume"] = result.hypervolume
            stage["database_bytes"] = database_bytes(url, engine)
            if result.front_size != truth["front_size"] or stage["front_rows"] != truth[
                    "front_size"] or abs(result.hypervolume - truth["hypervolume"]) > 1e-9:
                raise AssertionError(f"mofront front disagrees with moocore at {target}: "
                                     f"{result.front_size} vs {truth}")
            stage.update(http_queries(url, campaign_id, cfg))
            out["stages"].append(stage)
            say(f"{backend} mofront {target:,}: ingest {ingest['per_second']:,.0f}/s "
                f"(batch {cfg.batch_size}), front p50 {stage['front_query_ms']['p50']:.2f} ms "
                f"p99 {stage['front_query_ms']['p99']:.2f} ms, HV p50 "
                f"{stage['hv_query_ms']['p50']:.2f} ms, front {result.front_size}")
        engine.dispose()
    return out


def mofront_queries(sessions: Any, campaign_id: int, cfg: Config) -> dict[str, Any]:
    def front_query() -> int:
        with sessions() as session:
            return len(front(session, campaign_id))

    def hv_query() -> float:
        # What GET /campaigns/{id}/hypervolume does: campaign lookup, front, exact HV.
        with sessions() as session:
            campaign = get_campaign(session, campaign_id)
            assert campaign is not None and campaign.reference_point is not None
            points = front(session, campaign_id)
            senses = campaign.objective_senses
            return hypervolume(
                to_maximization(np.array([p.objectives for p in points]), senses),
                to_maximization(np.array(campaign.reference_point, dtype=float), senses),
            )

    return {
        "front_rows": front_query(),
        "front_query_ms": percentiles(repeat(front_query, cfg.query_reps,
                                             cfg.query_budget_seconds)),
        "hv_query_ms": percentiles(repeat(hv_query, cfg.query_reps, cfg.query_budget_seconds)),
    }


def http_queries(url: str, campaign_id: int, cfg: Config) -> dict[str, Any]:
    """The same two queries through the FastAPI app (TestClient, no network)."""
    try:
        from fastapi.testclient import TestClient

        from api.app import create_app
        from api.settings import Settings

        app = create_app(Settings(database_url=url, run_scheduler=False))
        with TestClient(app) as client:
            results = {}
            for route in ("front", "hypervolume"):
                path = f"/api/v1/campaigns/{campaign_id}/{route}"

                def get(path: str = path) -> None:
                    response = client.get(path)
                    response.raise_for_status()

                results[f"http_{route}_ms"] = percentiles(
                    repeat(get, cfg.http_reps, cfg.query_budget_seconds))
            return results
    except Exception as error:  # noqa: BLE001  (optional measurement: say why it was not timed)
        return {"http_error": f"{type(error).__name__}: {error}"}


# -------------------------------------------------------------------------- Optuna


OPTUNA_STUDY = "bench-store"


def optuna_trials(objectives: np.ndarray, xs: np.ndarray, low: int, high: int) -> list[Any]:
    names = [f"x{i}" for i in range(xs.shape[1])]
    distributions: dict[str, BaseDistribution] = {
        name: FloatDistribution(0.0, 1.0) for name in names
    }
    return [
        optuna.trial.create_trial(values=values, params=dict(zip(names, x, strict=True)),
                                  distributions=distributions)
        for values, x in zip(objectives[low:high].tolist(), xs[low:high].tolist(), strict=True)
    ]


def bench_optuna(backend: str, objectives: np.ndarray, xs: np.ndarray,
                 expected: list[dict[str, Any]], cfg: Config) -> dict[str, Any]:
    out: dict[str, Any] = {"stages": []}
    with database(backend, f"optuna_bench_{os.getpid()}", cfg) as url:
        storage = RDBStorage(url)
        study = optuna.create_study(study_name=OPTUNA_STUDY, storage=storage,
                                    directions=["minimize"] * 3)
        stored, rate, capped = 0, 0.0, False
        for target, truth in zip(cfg.scales, expected, strict=True):
            if capped or (rate and (target - stored) / rate > cfg.optuna_cap_seconds):
                out["stages"].append(not_run(target, stored, rate, cfg))
                say(f"{backend} optuna {target:,}: {out['stages'][-1]['note']}")
                continue
            deadline = time.perf_counter() + cfg.optuna_cap_seconds
            clock = time.perf_counter()
            reached = stored
            for low in range(stored, target, cfg.batch_size):
                if time.perf_counter() > deadline:
                    break
                high = min(low + cfg.batch_size, target)
                study.add_trials(optuna_trials(objectives, xs, low, high))
                reached = high
            seconds = time.perf_counter() - clock
            rate = (reached - stored) / seconds
            ingest = {"evaluations": reached - stored, "seconds": round(seconds, 3),
                      "per_second": round(rate, 1), "transaction": "one per trial (add_trial)"}
            if reached < target:
                capped = True
                stage = not_run(target, stored, rate, cfg)
                stage["ingest"] = ingest
                stage["note"] = (f"not run: stopped at {reached:,} after the "
                                 f"{cfg.optuna_cap_seconds:.0f} s cap; " + stage["note"][9:])
                out["stages"].append(stage)
                stored = reached
                say(f"{backend} optuna {target:,}: {stage['note']}")
                continue
            stored = target
            stage = {"n_evaluations": target, "status": "ok", "ingest": ingest}
            stage.update(optuna_queries(storage, cfg))
            if stage["front_rows"] != truth["front_size"]:
                raise AssertionError(f"optuna best_trials has {stage['front_rows']} trials at "
                                     f"{target}; moocore says {truth['front_size']}")
            out["stages"].append(stage)
            say(f"{backend} optuna {target:,}: ingest {rate:,.0f}/s, best_trials cold p50 "
                f"{stage['front_query_ms']['p50']:.1f} ms, warm p50 "
                f"{stage['front_query_warm_ms']['p50']:.1f} ms")
        storage.remove_session()
        storage.engine.dispose()
        del study, storage
        gc.collect()
    return out


def not_run(target: int, stored: int, rate: float, cfg: Config) -> dict[str, Any]:
    minutes = (target - stored) / rate / 60 if rate else float("inf")
    return {"n_evaluations": target, "status": "not run",
            "note": f"not run: would take ~{minutes:,.0f} min more of ingest at the measured "
                    f"{rate:,.0f}/s (cap {cfg.optuna_cap_seconds:.0f} s per stage)"}


def optuna_queries(storage: RDBStorage, cfg: Config) -> dict[str, Any]:
    senses = SENSES
    reference = to_maximization(np.array(REFERENCE_POINT), senses)

    def hv_of(trials: list[Any]) -> float:
        return hypervolume(to_maximization(np.array([t.values for t in trials]), senses),
                           reference)

    def timed(load: Callable[[], Any]) -> tuple[list[float], list[float], int]:
        front_s: list[float] = []
        hv_s: list[float] = []
        rows = 0
        started = time.perf_counter()
        while len(front_s) < 20:
            t0 = time.perf_counter()
            trials = load().best_trials
            t1 = time.perf_counter()
            hv_of(trials)
            t2 = time.perf_counter()
            front_s.append(t1 - t0)
            hv_s.append(t2 - t0)  # HV query = best_trials + hypervolume, same rep
            rows = len(trials)
            spent = time.perf_counter() - started
            if len(front_s) >= 3 and spent > cfg.optuna_query_budget_seconds:
                break
        return front_s, hv_s, rows

    # Cold: load_study wraps the storage in a new cache, so every trial is read again.
    cold_front, cold_hv, rows = timed(
        lambda: optuna.load_study(study_name=OPTUNA_STUDY, storage=storage))
    warm_study = optuna.load_study(study_name=OPTUNA_STUDY, storage=storage)
    _ = warm_study.best_trials  # fill the in-process cache of finished trials
    warm_front, warm_hv, _ = timed(lambda: warm_study)
    return {
        "front_rows": rows,
        "front_query_ms": percentiles(cold_front), "hv_query_ms": percentiles(cold_hv),
        "front_query_warm_ms": percentiles(warm_front), "hv_query_warm_ms": percentiles(warm_hv),
    }


# -------------------------------------------------------------------------- report


def machine_facts() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in ("sqlalchemy", "psycopg", "optuna", "numpy", "moocore", "fastapi"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    return {
        "code": code_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
        "platform": platform.platform(), "python": platform.python_version(),
        "packages": versions,
    }


def code_version() -> dict[str, Any]:
    """The commit measured, and the files of the measured packages that differed from
    it when the run started (the store is imported once, at the start)."""
    return report_io.code_version("storage", "pareto", "api", "jobs")


def postgres_version(cfg: Config) -> str | None:
    try:
        with psycopg.connect(cfg.pg_admin_url) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else None
    except psycopg.Error:
        return None


# ---------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", help="comma-separated, e.g. 1e4,1e5,1e6")
    parser.add_argument("--backends", help="comma-separated: sqlite,postgres")
    parser.add_argument("--optuna-cap-seconds", type=float)
    parser.add_argument("--out")
    parser.add_argument("--pg-admin-url", default=os.environ.get("MOFRONT_BENCH_PG"),
                        help="PostgreSQL URL used only to create and drop the benchmark's own "
                             "databases (default: postgresql://postgres@127.0.0.1:5432/test)")
    parser.add_argument("--quick", action="store_true",
                        help="10^3 and 10^4 only, short caps; writes /tmp, leaves README alone")
    args = parser.parse_args(argv)
    cfg = Config()
    if args.quick:
        cfg = Config(scales=[1_000, 10_000], small_batch_evaluations=2_000,
                     optuna_cap_seconds=30.0, query_reps=50, query_budget_seconds=3.0,
                     optuna_query_budget_seconds=5.0, http_reps=10,
                     out="/tmp/bench_store_quick.json", quick=True)
    if args.scales:
        cfg.scales = sorted(int(float(part)) for part in args.scales.split(","))
    if args.backends:
        cfg.backends = [part.strip() for part in args.backends.split(",")]
    if args.optuna_cap_seconds is not None:
        cfg.optuna_cap_seconds = args.optuna_cap_seconds
    if args.out:
        cfg.out = args.out
    if args.pg_admin_url:
        cfg.pg_admin_url = args.pg_admin_url
    return cfg


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv)
    code = code_version()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

    rng = np.random.default_rng(cfg.seed)
    xs = rng.random((max(cfg.scales), cfg.n_variables))
    objectives = dtlz2(xs)
    expected = describe_data(objectives, cfg.scales)
    sizes = ", ".join(f"{row['front_size']:,} at {row['n_evaluations']:,}" for row in expected)
    say(f"data: DTLZ2 M=3 d={cfg.n_variables}, front sizes {sizes}")

    results: dict[str, Any] = {}
    for backend in cfg.backends:
        results[backend] = {
            "mofront": bench_mofront(backend, objectives, xs, expected, cfg),
            "optuna": bench_optuna(backend, objectives, xs, expected, cfg),
        }

    facts = machine_facts()
    facts["code"] = code
    if "postgres" in cfg.backends:
        facts["postgresql"] = postgres_version(cfg)
    report: dict[str, Any] = {
        "benchmark": "bench_store", "machine": facts, "config": asdict(cfg),
        "data": {"problem": "DTLZ2", "n_objectives": 3, "n_variables": cfg.n_variables,
                 "senses": SENSES, "x": f"uniform in [0, 1]^{cfg.n_variables}, numpy "
                 f"default_rng({cfg.seed})", "reference_point": REFERENCE_POINT,
                 "scales": expected},
        "out": cfg.out, "results": results,
    }
    report["comparisons"] = comparisons(results)
    report["goals"] = goals(report)
    out = Path(cfg.out) if Path(cfg.out).is_absolute() else ROOT / cfg.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    print("\n" + table)
    if not cfg.quick:
        write_readme(table)
    say(f"wrote {out}" + ("" if cfg.quick else f" and the table in {README}"))


if __name__ == "__main__":
    main()
