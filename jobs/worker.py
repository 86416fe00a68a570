"""Run one campaign in this process: ``python -m jobs.worker --db URL --campaign ID``
(the ``local`` executor), or :func:`run` called inside a Ray actor (the ``ray`` one).

``--standby`` starts a spare worker instead: it imports torch and every registered
algorithm, then waits for its assignment, one JSON line on stdin (the campaign id, the
GPUs it may see, where its output goes). The local executor keeps one spare ready, so a
submitted campaign starts in milliseconds rather than the seconds those imports take.
CUDA is left untouched until the assignment has set ``CUDA_VISIBLE_DEVICES``.

The worker marks the campaign running, builds its problem, loads its algorithm, and
hands it a :class:`~jobs.recorder.StoreRecorder`. A heartbeat thread stamps the
campaign every few seconds so the scheduler can tell a live worker from a dead one.
Success and cancellation are written here; any other exception is written to
``campaign.error`` and the process exits non-zero, leaving the retry-or-fail decision
to the scheduler, which also catches deaths that leave no trace (SIGKILL, OOM).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import signal
import socket
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from jobs import logs, registry
from jobs.protocol import Cancelled
from jobs.recorder import StoreRecorder
from storage import get_campaign, make_engine, make_sessionmaker, retry_on_disconnect

HEARTBEAT_SECONDS = float(os.environ.get("MOFRONT_HEARTBEAT_SECONDS", "2"))
EXIT_FAILED = 3
PR_SET_PDEATHSIG = 1

log = logging.getLogger("mofront.worker")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.worker")
    parser.add_argument("--db", required=True, help="database URL")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--campaign", type=int, help="campaign id")
    target.add_argument("--standby", action="store_true",
                        help="import everything, then read the campaign from stdin")
    args = parser.parse_args(argv)
    _die_with_server()
    campaign_id = args.campaign
    if args.standby:
        logs.configure()
        campaign_id = stand_by()
        if campaign_id is None:  # let go before any assignment: nothing to run
            return 0
    logs.configure(campaign_id=campaign_id)  # every record of this process names it
    return run(args.db, campaign_id)


def stand_by() -> int | None:
    """Import what campaigns need, wait for the assignment on stdin and apply it; the
    campaign id, or None when stdin closes first."""
    _limit_threads()
    for entry in registry.ALGORITHMS.values():
        try:
            entry.load()
        except Exception:  # that algorithm's campaigns import it themselves, and fail there
            log.warning("spare worker: could not preload %s", entry.name, exc_info=True)
    log.info("spare worker ready", extra={"pid": os.getpid()})
    line = sys.stdin.readline()
    if not line.strip():
        return None
    assignment = json.loads(line)
    if assignment.get("cuda_visible_devices") is not None:  # None: as the server has it
        os.environ["CUDA_VISIBLE_DEVICES"] = assignment["cuda_visible_devices"]
    if assignment.get("log_path"):
        output = os.open(assignment["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
            os.dup2(output, stream.fileno())
        os.close(output)
    return int(assignment["campaign"])


def run(database_url: str, campaign_id: int, threads: int = 1) -> int:
    """Run the campaign against the store at ``database_url``; the exit code."""
    _limit_threads(threads)
    # Every session of a worker writes: on SQLite, take the write lock at BEGIN so a
    # read-then-write transaction never fails with 'database is locked' midway.
    engine = make_engine(database_url).execution_options(sqlite_immediate=True)
    try:
        return run_campaign(make_sessionmaker(engine), campaign_id)
    finally:
        engine.dispose()


def run_campaign(sessions: sessionmaker[Session], campaign_id: int) -> int:
    device = detect_device()
    context = {"campaign_id": campaign_id}
    started = retry_on_disconnect(lambda: _mark_running(sessions, campaign_id, device),
                                  "marking the campaign running", **context)
    if started is None:
        log.error("campaign %s does not exist", campaign_id, extra=context)
        return EXIT_FAILED
    problem_spec, algorithm_name, params, seed, user_reference_point = started
    log.info("campaign %s started: %s on %s, %s", campaign_id, algorithm_name,
             problem_spec.get("id"), device, extra=context)
    stop_heartbeat = _start_heartbeat(sessions, campaign_id)
    try:
        definition = registry.problem_definition(problem_spec["kind"], problem_spec["id"])
        problem_params = {k: v for k, v in problem_spec.items() if k not in ("kind", "id")}
        problem = definition.build(definition.config.model_validate(problem_params))
        if user_reference_point is not None:  # what the user asked to be measured against
            problem.info = replace(problem.info, reference_point=user_reference_point)
        run = registry.algorithm(algorithm_name).load()
        recorder = StoreRecorder(sessions, campaign_id)
        run(problem, params, seed, device, recorder)
    except Cancelled:
        _finish(sessions, campaign_id, "cancelled")
        log.info("campaign %s cancelled", campaign_id, extra=context)
        return 0
    except Exception as exc:  # the campaign's failure, not the worker's: report and exit
        log.exception("campaign %s failed", campaign_id, extra=context)
        _note_error(sessions, campaign_id, f"{type(exc).__name__}: {exc}")
        return EXIT_FAILED
    finally:
        stop_heartbeat()
    _finish(sessions, campaign_id, "succeeded")
    log.info("campaign %s succeeded", campaign_id, extra=context)
    return 0


def _mark_running(sessions: sessionmaker[Session], campaign_id: int,
                  device: str) -> tuple[dict[str, Any], str, dict[str, Any], int, Any] | None:
    """Mark the campaign running on this worker; what it runs, or None if it is gone."""
    with sessions() as session:
        campaign = get_campaign(session, campaign_id)
        if campaign is None:
            return None
        campaign.status = "running"
        campaign.worker = f"{socket.gethostname()}:{os.getpid()}"
        campaign.device = device
        campaign.started_at = campaign.started_at or _now()
        campaign.heartbeat_at = _now()
        session.commit()
        user_reference_point = (
            tuple(campaign.reference_point)
            if campaign.reference_point_source == "user" and campaign.reference_point
            else None
        )
        return (dict(campaign.problem), campaign.algorithm, dict(campaign.params),
                campaign.seed, user_reference_point)


def _finish(sessions: sessionmaker[Session], campaign_id: int, status: str) -> None:
    def finish() -> None:
        with sessions() as session:
            campaign = get_campaign(session, campaign_id)
            if campaign is None:
                return
            campaign.status = status
            campaign.finished_at = _now()
            if status == "succeeded":
                campaign.message = None
                campaign.error = None
            session.commit()

    retry_on_disconnect(finish, f"marking the campaign {status}", campaign_id=campaign_id)


def _note_error(sessions: sessionmaker[Session], campaign_id: int, error: str) -> None:
    def note() -> None:
        with sessions() as session:
            campaign = get_campaign(session, campaign_id)
            if campaign is not None:
                campaign.error = error[:4000]
                session.commit()

    retry_on_disconnect(note, "noting the campaign's error", campaign_id=campaign_id)


def _start_heartbeat(sessions: sessionmaker[Session], campaign_id: int) -> Any:
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                with sessions() as session:
                    campaign = get_campaign(session, campaign_id)
                    if campaign is None:
                        return
                    campaign.heartbeat_at = _now()
                    session.commit()
            except Exception:  # a missed beat is retried; the scheduler tolerates a few
                log.warning("campaign %s: heartbeat missed", campaign_id, exc_info=True,
                            extra={"campaign_id": campaign_id})

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()

    def stop_and_join() -> None:
        stop.set()
        thread.join(timeout=HEARTBEAT_SECONDS + 5)

    return stop_and_join


def _die_with_server() -> None:
    """Ask Linux to SIGTERM this worker when the server that launched it dies, so a
    killed server leaves no orphan writing to the store. Done here rather than in a
    ``preexec_fn``, which is unsafe in the server's multi-threaded process."""
    server_pid = os.environ.get("MOFRONT_SERVER_PID")
    if server_pid is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(server_pid):  # the server died before the request took effect
        sys.exit(EXIT_FAILED)


def _limit_threads(threads: int = 1) -> None:
    """One intra-op thread per worker unless it holds more CPUs: on a shared CPU, small
    networks ran 5x faster with one thread than with two."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(threads)


def detect_device() -> str:
    """'cuda' when torch sees a GPU, else 'cpu' (imports torch)."""
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def _now() -> datetime:
    return datetime.now(UTC)


def _exit_now(code: int) -> None:
    """End the process without the interpreter's teardown of torch and friends (about a
    second), so the server sees the worker slot free at once. The store is committed
    and the engine disposed by now; only the log streams need flushing."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit_now(main())
