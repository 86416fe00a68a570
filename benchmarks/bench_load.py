"""Load benchmark: N concurrent clients querying fronts and hypervolumes of a real
``mofront serve`` while campaigns write to the same store.

The server runs on loopback only (127.0.0.1, a free port) against a fresh store (a
SQLite file, or a fresh PostgreSQL database) that requires API tokens; every client
sends a read token, so the numbers include the token check. Before measuring, one
campaign is filled with ``--stored`` evaluations (DTLZ2, 3 objectives, appended through
the store as a worker does) and two slow Sobol campaigns are started on the server's
workers: they keep recording batches, so the fronts are being written while they are
read. Then, for each client count, that many clients (asyncio tasks, one keep-alive
connection each) run for ``--seconds``, each sending one request after another,
alternating ``GET /campaigns/{id}/front`` and ``GET /campaigns/{id}/hypervolume`` over
the big campaign and the two being written. Reported per client count: requests
completed, throughput (requests/s), p50/p99 latency, errors, and the evaluations the
writing campaigns stored during the window.

Bounded: at most 64 clients and 120 s per level, and only a server this script starts
on loopback is ever queried.

    python benchmarks/bench_load.py [--clients 1,8,32] [--seconds 15] [--stored 20000]
        [--backend sqlite|postgres] [--out benchmarks/results/bench_load.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: mofront's packages

from storage import (
    NewEvaluation,
    append_evaluations,
    create_campaign,
    create_token,
    make_engine,
    make_sessionmaker,
    upgrade,
)

MAX_CLIENTS, MAX_SECONDS = 64, 120
PG_URL = os.environ.get("MOFRONT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
WRITER = {"algorithm": "sobol", "budget": {"evaluations": 1_000_000}, "params": {"batch_size": 10},
          "problem": {"kind": "test-function", "id": "zdt1", "dim": 4, "evaluation_delay": 0.01}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--stored", type=int, default=20_000,
                        help="evaluations in the big campaign queried")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/bench_load.json")
    args = parser.parse_args()
    levels = [int(n) for n in args.clients.split(",")]
    if max(levels) > MAX_CLIENTS or min(levels) < 1:
        parser.error(f"--clients: each count must be within 1..{MAX_CLIENTS}")
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be within (0, {MAX_SECONDS}]")

    with tempfile.TemporaryDirectory(prefix="bench-load-") as directory:
        database, drop = _database(args.backend, Path(directory))
        try:
            results = run(database, Path(directory), levels, args.seconds, args.stored)
        finally:
            drop()
    report = {
        "benchmark": "bench_load",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "backend": args.backend, "stored": args.stored, "seconds": args.seconds,
        "levels": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.exists():  # one file, a result per backend
        previous = json.loads(args.out.read_text())
        runs = previous.get("runs", {}) if isinstance(previous, dict) else {}
    else:
        runs = {}
    runs[args.backend] = report
    args.out.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
    print(table(report))


def run(database: str, directory: Path, levels: list[int], seconds: float,
        stored: int) -> list[dict[str, Any]]:
    (reader, submitter), big = _prepare(database, stored)
    port = _free_port()
    log = open(directory / "server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--db", database, "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "MOFRONT_POLL_SECONDS": "0.2"})
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {reader}"}
    try:
        _wait_until_up(url, server, directory / "server.log")
        with httpx.Client(base_url=f"{url}/api/v1", timeout=30,
                          headers={"Authorization": f"Bearer {submitter}"}) as http:
            writers = []
            for seed in (1, 2):
                response = http.post("/campaigns", json={**WRITER, "seed": seed})
                response.raise_for_status()
                writers.append(response.json()["id"])
            for cid in writers:
                _wait_for(lambda cid=cid: http.get(f"/campaigns/{cid}").json()["n_evaluations"] > 0)
            results = []
            for clients in levels:
                before = sum(http.get(f"/campaigns/{c}").json()["n_evaluations"] for c in writers)
                level = asyncio.run(_load(url, headers, [big, *writers], clients, seconds))
                after = sum(http.get(f"/campaigns/{c}").json()["n_evaluations"] for c in writers)
                level["evaluations_written_per_s"] = round((after - before) / seconds, 1)
                results.append(level)
                print(f"{clients:>3} clients: {level['throughput_per_s']:8.1f} req/s, "
                      f"p50 {level['p50_ms']:.1f} ms, p99 {level['p99_ms']:.1f} ms, "
                      f"{level['errors']} errors, {level['evaluations_written_per_s']} "
                      "evaluations written/s", flush=True)
            for cid in writers:
                http.post(f"/campaigns/{cid}/cancel")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    return results


async def _load(url: str, headers: dict[str, str], campaigns: list[int], clients: int,
                seconds: float) -> dict[str, Any]:
    paths = [f"/campaigns/{cid}/{what}" for cid in campaigns for what in ("front", "hypervolume")]
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(index: int, http: httpx.AsyncClient) -> None:
        nonlocal errors
        k = index
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                response = await http.get(paths[k % len(paths)])
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
            k += 1

    async with httpx.AsyncClient(base_url=f"{url}/api/v1", headers=headers, timeout=60,
                                 limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(i, http) for i in range(clients)))
        elapsed = time.perf_counter() - started
    milliseconds = np.array(latencies) * 1000
    return {
        "clients": clients, "requests": len(latencies), "errors": errors,
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(milliseconds, 50)), 2) if len(latencies) else None,
        "p99_ms": round(float(np.percentile(milliseconds, 99)), 2) if len(latencies) else None,
    }


def _prepare(database: str, stored: int) -> tuple[tuple[str, str], int]:
    """Migrate the store; create a read token for the clients and a submit token for
    starting the writers (their secrets), and the big campaign (its id)."""
    engine = make_engine(database)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        secrets = (create_token(session, "read", "bench_load clients")[1],
                   create_token(session, "submit", "bench_load writers")[1])
        campaign = create_campaign(
            session, name="bench-load-dtlz2", algorithm="sobol",
            problem={"kind": "test-function", "id": "dtlz2", "num_objectives": 3, "dim": 6},
            objective_names=["f0", "f1", "f2"], objective_senses=["minimize"] * 3,
            budget=float(stored), budget_unit="evaluations", status="succeeded",
            reference_point=[1.1, 1.1, 1.1])
        session.commit()
        big = campaign.id
    rng = np.random.default_rng(0)
    for start in range(0, stored, 1000):
        x = rng.random((min(1000, stored - start), 6))
        with sessions() as session:
            append_evaluations(session, big, [
                NewEvaluation(seq=start + i, objectives=_dtlz2(row).tolist(),
                              params={f"x{j}": float(v) for j, v in enumerate(row)},
                              budget_used=float(start + i + 1))
                for i, row in enumerate(x)])
    engine.dispose()
    return secrets, big


def _dtlz2(x: np.ndarray, m: int = 3) -> np.ndarray:
    g = np.sum((x[m - 1:] - 0.5) ** 2)
    theta = x[: m - 1] * np.pi / 2
    f = np.full(m, 1.0 + g)
    for i in range(m):
        f[i] *= np.prod(np.cos(theta[: m - 1 - i]))
        if i > 0:
            f[i] *= np.sin(theta[m - 1 - i])
    return f


def _database(backend: str, directory: Path) -> tuple[str, Any]:
    if backend == "sqlite":
        return f"sqlite:///{directory / 'bench-load.db'}", lambda: None
    import psycopg

    name = f"mofront_bench_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return PG_URL.rsplit("/", 1)[0] + f"/{name}", drop


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start in 60 s")


def _wait_for(predicate: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("the writing campaigns did not start")
        time.sleep(0.2)


def table(report: dict[str, Any]) -> str:
    title = (f"bench_load on {report['backend']}, {report['stored']} evaluations stored, "
             f"{report['seconds']:g} s per level, {report['machine']['cpus']} CPUs")
    lines = [title, "", "| clients | requests/s | p50 (ms) | p99 (ms) | errors | evaluations written/s |",
             "|---:|---:|---:|---:|---:|---:|"]
    for level in report["levels"]:
        lines.append(f"| {level['clients']} | {level['throughput_per_s']} | {level['p50_ms']} | "
                     f"{level['p99_ms']} | {level['errors']} | "
                     f"{level['evaluations_written_per_s']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
