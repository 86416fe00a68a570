"""Faults of the store under a running campaign, with a real server and a real worker:
every PostgreSQL connection terminated (``pg_terminate_backend``) again and again while
the campaign records — it finishes on its first attempt with nothing lost — and the
server stopped with SIGTERM mid-campaign, twice — what is stored is always
whole batches, and the campaign finishes with exactly its budget."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from storage import (
    get_campaign,
    history,
    list_evaluations,
    make_engine,
    make_sessionmaker,
    retry_on_disconnect,
)
from tests.conftest import _fresh_postgres_database, wait_for

BATCH = 5
SPEC = {
    "algorithm": "sobol",
    # 0.02 s per evaluation: 300 evaluations take ~6 s, recorded 5 at a time
    "problem": {"kind": "test-function", "id": "zdt1", "dim": 4, "evaluation_delay": 0.02},
    "budget": {"evaluations": 300},
    "params": {"batch_size": BATCH},
    "seed": 11,
}


@pytest.fixture
def postgres_database(postgres_available: str | None) -> Iterator[str]:
    if postgres_available is not None:
        pytest.skip(postgres_available)
    url, drop = _fresh_postgres_database()
    try:
        yield url
    finally:
        drop()  # type: ignore[operator]


def get(http: httpx.Client, path: str, **params: Any) -> Any:
    """GET that waits out a 503 (the server's own connection was just terminated)."""
    for _ in range(50):
        response = http.get(path, params=params)
        if response.status_code != 503:
            assert response.status_code == 200, response.text
            return response.json()
        time.sleep(0.1)
    raise AssertionError(f"{path}: still 503")


def assert_complete(http: httpx.Client, cid: int, budget: int) -> None:
    page = get(http, f"/campaigns/{cid}/evaluations", limit=10_000)
    assert page["total"] == budget
    assert sorted(item["seq"] for item in page["items"]) == list(range(budget))


def terminate_backends(database_url: str) -> int:
    """Terminate every other connection to the campaign's database; how many."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url, autocommit=True) as connection:
        return len(connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchall())


def worker_retries(server: Any, cid: int) -> list[dict]:
    """The worker's log records of a retried unit of store work."""
    path = server.log_path.parent / "workers" / f"campaign-{cid}.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return [record for line in lines
            if line.startswith("{") and "retry" in (record := json.loads(line))]


def test_terminated_postgres_connections_lose_nothing(postgres_database: str,
                                                      make_server: Any) -> None:
    server = make_server(postgres_database).start()
    with server.client() as http:
        cid = http.post("/campaigns", json=SPEC).json()["id"]
        wait_for(lambda: get(http, f"/campaigns/{cid}")["n_evaluations"] >= 20,
                 what="the worker to record some evaluations")
        stop = threading.Event()
        terminated: list[int] = []

        def keep_terminating() -> None:
            """Every 50 ms, until the worker has had to retry 5 times (or it finished)."""
            while not stop.wait(0.05) and len(worker_retries(server, cid)) < 5:
                terminated.append(terminate_backends(postgres_database))

        killer = threading.Thread(target=keep_terminating)
        killer.start()
        try:
            done = wait_for(lambda: (c := get(http, f"/campaigns/{cid}"))["status"]
                            in ("succeeded", "failed", "cancelled") and c,
                            what="the campaign to finish")
        finally:
            stop.set()
            killer.join()
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 1, "the worker died: a lost connection was not retried"
        assert_complete(http, cid, 300)
    retries = worker_retries(server, cid)
    print(f"{sum(terminated)} connections terminated in {len(terminated)} rounds; "
          f"the worker retried {len(retries)} times, attempts {done['attempts']}")
    # Whether a termination lands in the middle of one of the worker's statements (a
    # retry) or between them (the pool's pre-ping replaces the dead connection at its
    # next checkout, no retry) is timing: on an idle machine every one can land between.
    # The retry itself is pinned down by the test below; here the connections were
    # terminated and the campaign carried on with nothing lost.
    assert sum(terminated) > 0
    assert all(r["campaign_id"] == cid for r in retries)


def test_a_connection_terminated_under_a_statement_is_retried(
        postgres_database: str, caplog: pytest.LogCaptureFixture) -> None:
    """The unit of work whose connection dies between two of its statements runs again
    on a new connection, and the retry is logged with its campaign."""
    engine = make_engine(postgres_database)
    sessions = make_sessionmaker(engine)
    calls: list[int] = []

    def unit_of_work() -> int:
        with sessions() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            calls.append(pid)
            if len(calls) == 1:
                assert terminate_backends(postgres_database) >= 1
            return session.execute(text("SELECT pg_backend_pid()")).scalar_one()

    try:
        with caplog.at_level("WARNING", logger="mofront.storage"):
            pid = retry_on_disconnect(unit_of_work, "a test unit", campaign_id=7)
    finally:
        engine.dispose()
    assert len(calls) == 2 and pid == calls[1] != calls[0]
    retries = [r for r in caplog.records if getattr(r, "retry", None) is not None]
    assert [(r.retry, r.campaign_id) for r in retries] == [(1, 7)]  # type: ignore[attr-defined]
    assert "database connection lost" in retries[0].getMessage()


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_sigterm_mid_campaign_leaves_whole_batches(store: str, sqlite_database: str,
                                                   make_server: Any,
                                                   request: pytest.FixtureRequest) -> None:
    database = (request.getfixturevalue("postgres_database") if store == "postgres"
                else sqlite_database)
    server = make_server(database).start()
    with server.client() as http:
        cid = http.post("/campaigns", json=SPEC).json()["id"]
    engine = make_engine(database)
    sessions = make_sessionmaker(engine)
    stored = 0
    try:
        for _ in range(2):  # stop it twice, wherever it has got to
            with server.client() as http:
                wait_for(lambda at_least=stored + 20: get(http, f"/campaigns/{cid}")[
                    "n_evaluations"] >= at_least, what="the worker to record more evaluations")
            server.stop(signal.SIGTERM)
            with sessions() as session:
                campaign = get_campaign(session, cid)
                rows = list_evaluations(session, cid, limit=10_000, offset=0)[0]
                snapshots = history(session, cid)
            assert campaign is not None
            stored = campaign.n_evaluations
            assert sorted(row.seq for row in rows) == list(range(stored))
            assert stored % BATCH == 0, f"{stored} evaluations stored: a half-written batch"
            assert [s.n_evaluations for s in snapshots] == list(range(BATCH, stored + 1, BATCH))
            assert campaign.front_size == sum(row.on_front for row in rows)
            assert campaign.status == "queued", "a stopped server queues its campaigns again"
            server.start()
    finally:
        engine.dispose()
    with server.client() as http:
        done = wait_for(lambda: (c := get(http, f"/campaigns/{cid}"))["status"]
                        in ("succeeded", "failed", "cancelled") and c,
                        what="the campaign to finish")
        assert done["status"] == "succeeded", done
        assert_complete(http, cid, 300)
