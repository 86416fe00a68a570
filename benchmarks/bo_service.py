"""The scheduling half of ``bench_bo.py``'s service overhead: campaigns run end to end
through a real ``mofront serve`` subprocess.

A fresh SQLite store and a server with one local worker slot (the scheduler's default
poll interval) are started; one campaign per algorithm is submitted over HTTP, one at a
time, and waited for. The timestamps the service itself stores then say where the time
went: submit (``created_at``) → worker marked the campaign running (``started_at``) →
first evaluation stored → last evaluation stored → ``succeeded`` (``finished_at``). The
start-up (submit → first evaluation) and the wind-down (last evaluation → succeeded)
are the scheduling overhead; everything between is the algorithm recording batches.

The server is measured as a running service is used: the first campaign is submitted
once the server's spare worker (``jobs.executors.local``) has finished its imports,
which a fresh server does in its first few seconds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from storage import all_evaluations, get_campaign, history, make_engine, make_sessionmaker

ROOT = Path(__file__).resolve().parent.parent
FINISHED = ("succeeded", "failed", "cancelled")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(database_url: str, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    environment = {**os.environ, "MOFRONT_LOG_DIR": str(tmp / "workers")}
    log = open(tmp / "serve.log", "ab")  # noqa: SIM115 -- handed to the child
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--db", database_url,
         "--port", str(port), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=ROOT,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mofront serve exited: {(tmp / 'serve.log').read_text()[-3000:]}")
        try:
            if (httpx.get(f"{url}/healthz", timeout=1).status_code == 200
                    and _spare_is_ready(tmp / "workers")):
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"mofront serve did not start: {(tmp / 'serve.log').read_text()[-3000:]}")


def _spare_is_ready(log_dir: Path) -> bool:
    log = log_dir / "spare-worker.log"
    return log.is_file() and "spare worker ready" in log.read_text()


def _stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def scheduling_overhead(methods: list[str], budget: int, tmp: Path,
                        params: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One BraninCurrin campaign of ``budget`` evaluations per algorithm in ``methods``
    through ``mofront serve``; the service's own timestamps of each."""
    database_url = f"sqlite:///{tmp / 'serve.db'}"
    process, url = _start_server(database_url, tmp)
    submitted: list[tuple[str, int, float]] = []
    try:
        with httpx.Client(base_url=f"{url}/api/v1", timeout=30) as client:
            for method in methods:
                spec = {"name": f"bench-serve-{method}", "algorithm": method,
                        "problem": {"kind": "test-function", "id": "branin-currin"},
                        "budget": {"evaluations": budget}, "params": params[method], "seed": 0}
                started = time.perf_counter()
                response = client.post("/campaigns", json=spec)
                response.raise_for_status()
                campaign_id = int(response.json()["id"])
                while True:
                    status = client.get(f"/campaigns/{campaign_id}").json()["status"]
                    if status in FINISHED:
                        break
                    time.sleep(0.05)
                if status != "succeeded":
                    raise RuntimeError(f"serve campaign {method} ended {status}")
                submitted.append((method, campaign_id, time.perf_counter() - started))
    finally:
        _stop_server(process)

    engine = make_engine(database_url)
    rows = []
    with make_sessionmaker(engine)() as session:
        for method, campaign_id, observed in submitted:
            campaign = get_campaign(session, campaign_id)
            assert campaign is not None and campaign.started_at and campaign.finished_at
            evaluations = all_evaluations(session, campaign_id)
            snapshots = history(session, campaign_id)
            first, last = evaluations[0].created_at, evaluations[-1].created_at
            run_seconds = _seconds(campaign.finished_at, campaign.created_at)
            startup = _seconds(first, campaign.created_at)
            wind_down = _seconds(campaign.finished_at, last)
            walls = [row.wall_seconds for row in snapshots if row.wall_seconds is not None]
            rows.append({
                "method": method, "campaign_id": campaign_id, "budget": budget,
                "n_evaluations": len(evaluations), "n_batches": len(snapshots),
                "submit_to_running_seconds": _seconds(campaign.started_at, campaign.created_at),
                "running_to_first_evaluation_seconds": _seconds(first, campaign.started_at),
                "submit_to_first_evaluation_seconds": startup,
                "first_to_last_evaluation_seconds": _seconds(last, first),
                "last_evaluation_to_succeeded_seconds": wind_down,
                "submit_to_succeeded_seconds": run_seconds,
                "client_observed_seconds": observed,
                "overhead_seconds": startup + wind_down,
                "overhead_share_of_campaign": (startup + wind_down) / run_seconds,
                "batch_wall_seconds": [b - a for a, b in zip([0.0, *walls], walls)],
                "extras": [dict(row.extras or {}) for row in snapshots],
            })
    engine.dispose()
    return rows
