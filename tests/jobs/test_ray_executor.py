"""The ``ray`` executor on a real local Ray instance (2 CPUs, started by this module):
campaigns as detached actors, a cancel, a killed actor process, a restarted server, a
sweep. Real ``mofront serve`` processes, real PostgreSQL (and SQLite for the one-machine
case). Small sobol campaigns on ZDT1: no torch-heavy work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from api.client import Client, parse_seeds
from jobs.executors import Resources
from jobs.spec import SpecError, validate
from storage import Campaign, make_engine, make_sessionmaker
from tests.conftest import _fresh_postgres_database, wait_for

ray = pytest.importorskip("ray")

from jobs.executors.ray import (
    ACTOR_PREFIX,
    RayExecutorError,
    check_store_reachable,
    store_namespace,
    worker_store_url,
)

SLOW_SPEC = {
    "algorithm": "sobol",
    # 0.03 s per evaluation: 200 evaluations take ~6 s, long enough to act in the middle
    "problem": {"kind": "test-function", "id": "zdt1", "dim": 4, "evaluation_delay": 0.03},
    "budget": {"evaluations": 200},
    "params": {"batch_size": 5},
    "seed": 3,
    "resources": {"cpus": 1},
}


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """A local Ray instance of 2 CPUs, owned by this test process; servers connect to it
    by address, as to any cluster. Starting it also turns on Ray's token authentication
    (RAY_AUTH_MODE=token, inherited by the servers)."""
    context = ray.init(address="local", num_cpus=2, include_dashboard=False,
                       namespace="mofront-tests", log_to_driver=False)
    try:
        yield str(context.address_info["gcs_address"])
    finally:
        ray.shutdown()


@pytest.fixture
def pg_database(postgres_available: str | None) -> Iterator[str]:
    if postgres_available is not None:
        pytest.skip(postgres_available)
    url, drop = _fresh_postgres_database()
    try:
        yield url
    finally:
        drop()  # type: ignore[operator]


@pytest.fixture
def ray_server(make_server, ray_address: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """``mofront serve --executor ray``; afterwards the servers stop and every campaign
    actor left on the cluster is killed, so the next test has both CPUs."""
    servers = []

    def make(database_url: str, **kwargs: object):  # type: ignore[no-untyped-def]
        server = make_server(database_url, workers=100, extra_args=[
            "--executor", "ray", "--ray-address", ray_address], **kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
    for actor in _campaign_actors():
        ray.kill(ray.get_actor(actor["name"], namespace=actor["namespace"]))


def _campaign_actors(namespace: str | None = None) -> list[dict[str, str]]:
    return [actor for actor in ray.util.list_named_actors(all_namespaces=True)
            if actor["name"].startswith(ACTOR_PREFIX)
            and (namespace is None or actor["namespace"] == namespace)]


def _campaign(http, cid):  # type: ignore[no-untyped-def]
    return http.get(f"/campaigns/{cid}").json()


def _finished(http, cid):  # type: ignore[no-untyped-def]
    campaign = _campaign(http, cid)
    return campaign if campaign["status"] in ("succeeded", "failed", "cancelled") else None


def _seqs(http, cid) -> list[int]:  # type: ignore[no-untyped-def]
    page = http.get(f"/campaigns/{cid}/evaluations", params={"limit": 10_000}).json()
    assert page["total"] == len(page["items"])
    return sorted(item["seq"] for item in page["items"])


def _pid(campaign: dict) -> int:  # type: ignore[type-arg]
    return int(campaign["worker"].rsplit(":", 1)[1])


def _process_title(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


def test_campaign_runs_to_succeeded_as_a_ray_actor_on_postgres(pg_database, ray_server):
    server = ray_server(pg_database).start()
    with server.client() as http:
        cid = http.post("/campaigns", json=SLOW_SPEC).json()["id"]
        running = wait_for(lambda: (c := _campaign(http, cid))["worker"] and c,
                           what="the actor to start the campaign")
        pid = _pid(running)
        # the worker is a Ray actor process, not a child of the server
        assert _process_title(pid).startswith("ray::CampaignWorker"), _process_title(pid)
        names = [a["name"] for a in _campaign_actors(store_namespace(
            worker_store_url(pg_database)))]
        assert names == [f"mofront-campaign-{cid}"]

        done = wait_for(lambda: _finished(http, cid), what="the campaign to finish")
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 1 and done["device"] == "cpu"
        assert _seqs(http, cid) == list(range(200))
        assert done["hypervolume"] > 0
        # a finished campaign's actor is let go, with its CPU
        wait_for(lambda: not _campaign_actors(), timeout=30, what="the actor to be released")


def test_campaign_asking_for_more_than_the_cluster_has_waits_with_a_reason(
        pg_database, ray_server):
    server = ray_server(pg_database).start()
    with server.client() as http:
        cid = http.post("/campaigns", json=SLOW_SPEC | {"resources": {"gpus": 0.5}}).json()["id"]
        waiting = wait_for(lambda: (c := _campaign(http, cid))["message"] and c,
                           what="the scheduler to say why it waits")
        assert waiting["status"] == "queued"
        assert waiting["message"] == ("waiting: no Ray node has 1 CPU and 0.5 GPUs; the "
                                      "largest offers 2 CPUs and 0 GPUs")
        # it holds up nobody: a campaign behind it runs
        other = http.post("/campaigns", json=SLOW_SPEC | {"budget": {"evaluations": 20}}).json()
        assert wait_for(lambda: _finished(http, other["id"]))["status"] == "succeeded"
        assert http.post(f"/campaigns/{cid}/cancel").json()["status"] == "cancelled"


def test_cancel_stops_the_campaign_on_the_cluster_within_seconds(pg_database, ray_server):
    server = ray_server(pg_database).start()
    with server.client() as http:
        cid = http.post("/campaigns", json=SLOW_SPEC).json()["id"]
        wait_for(lambda: _campaign(http, cid)["n_evaluations"] >= 10, what="some evaluations")
        asked = time.monotonic()
        assert http.post(f"/campaigns/{cid}/cancel").status_code == 200
        done = wait_for(lambda: _finished(http, cid), what="the campaign to stop")
        assert time.monotonic() - asked < 5
        assert done["status"] == "cancelled"
        assert 10 <= done["n_evaluations"] < 200
        wait_for(lambda: not _campaign_actors(), timeout=30, what="the actor to be released")


def test_killed_ray_worker_process_resumes_with_exactly_its_budget(pg_database, ray_server):
    server = ray_server(pg_database).start()
    with server.client() as http:
        cid = http.post("/campaigns", json=SLOW_SPEC).json()["id"]
        running = wait_for(
            lambda: (c := _campaign(http, cid))["worker"] and c["n_evaluations"] >= 40 and c,
            what="the actor to record some evaluations",
        )
        assert running["n_evaluations"] < 200, "the campaign finished before it could be killed"
        pid = _pid(running)
        os.kill(pid, signal.SIGKILL)

        done = wait_for(lambda: _finished(http, cid), what="the campaign to finish")
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 2
        assert _pid(done) != pid
        assert _seqs(http, cid) == list(range(200))  # nothing lost, nothing twice

        # the resumed campaign holds the points of one that never crashed
        clean = http.post("/campaigns", json=SLOW_SPEC | {"problem": SLOW_SPEC["problem"] | {
            "evaluation_delay": 0.0}}).json()["id"]
        wait_for(lambda: _finished(http, clean), what="the clean campaign to finish")
        killed = http.get(f"/campaigns/{cid}/evaluations", params={"limit": 1000}).json()
        intact = http.get(f"/campaigns/{clean}/evaluations", params={"limit": 1000}).json()
        assert [e["params"] for e in killed["items"]] == [e["params"] for e in intact["items"]]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_server_restart_leaves_the_campaign_running_and_the_new_server_reports_it(
        pg_database, ray_server, stop_signal):
    spec = SLOW_SPEC | {"budget": {"evaluations": 400},
                        "problem": SLOW_SPEC["problem"] | {"evaluation_delay": 0.05}}
    first = ray_server(pg_database).start()
    with first.client() as http:
        cid = http.post("/campaigns", json=spec).json()["id"]
        before = wait_for(lambda: (c := _campaign(http, cid))["n_evaluations"] >= 30 and c,
                          what="the actor to record some evaluations")
    first.stop(stop_signal)

    # no server: the campaign goes on writing to the store
    sessions = make_sessionmaker(make_engine(pg_database))

    def stored() -> Campaign:
        with sessions() as session:
            campaign = session.scalars(select(Campaign).where(Campaign.id == cid)).one()
            session.expunge(campaign)
            return campaign

    at_stop = stored().n_evaluations
    wait_for(lambda: stored().n_evaluations >= at_stop + 20, timeout=30,
             what="evaluations recorded while no server runs")
    assert stored().status == "running"

    second = ray_server(pg_database).start()
    with second.client() as http:
        seen = _campaign(http, cid)
        assert seen["status"] == "running", seen
        assert seen["worker"] == before["worker"]  # the same actor process, not a new one
        assert seen["n_evaluations"] > before["n_evaluations"]
        later = wait_for(lambda: (c := _campaign(http, cid))["n_evaluations"]
                         > seen["n_evaluations"] and c, what="progress reported by the new server")
        assert later["status"] in ("running", "succeeded")

        done = wait_for(lambda: _finished(http, cid), what="the campaign to finish")
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 1  # never relaunched
        assert done["worker"] == before["worker"]
        assert _seqs(http, cid) == list(range(400))
        # the new server reaps the adopted actor like one it launched
        wait_for(lambda: not _campaign_actors(), timeout=30, what="the actor to be released")


def test_sweep_runs_seeds_side_by_side_and_reports_hypervolume(
        sqlite_database, ray_server, tmp_path):
    """SQLite is fine when the whole cluster is this machine."""
    spec = SLOW_SPEC | {"budget": {"evaluations": 40},
                        "problem": SLOW_SPEC["problem"] | {"evaluation_delay": 0.06}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    server = ray_server(sqlite_database).start()
    finished = subprocess.run(
        [sys.executable, "-m", "api.cli", "sweep", str(tmp_path / "spec.json"), "--seeds", "0-3",
         "--url", server.url], check=False, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, finished.stderr + finished.stdout
    lines = finished.stdout.strip().splitlines()
    assert lines[0].split("\t") == ["seed", "campaign", "status", "evaluations", "front",
                                    "hypervolume"]
    rows = [line.split("\t") for line in lines[1:5]]
    assert [int(row[0]) for row in rows] == [0, 1, 2, 3]
    assert all(row[2] == "succeeded" and row[3] == "40" for row in rows)
    summary = lines[-1]
    assert summary.startswith("hypervolume over 4 succeeded seeds: ")
    assert "± " in summary and "reference point (11, 11), published, common to all" in summary

    with Client(server.url) as client:
        campaigns = [client.campaign(int(row[1])) for row in rows]
        # each seed is its own campaign, named after it
        assert [c.data["seed"] for c in campaigns] == [0, 1, 2, 3]
        assert [c.data["name"] for c in campaigns] == [f"sobol-zdt1-seed{s}" for s in range(4)]
        # two at a time: as many as the cluster has CPUs (1 each), no more, no fewer
        spans = [(_time(c.data["started_at"]), _time(c.data["finished_at"])) for c in campaigns]
        assert _most_at_once(spans) == 2, spans

        sweep = client.sweep(spec, [7, 8], poll_seconds=0.2, timeout=120)
        table = sweep.table()
        assert list(table["seed"]) == [7, 8] and set(table["status"]) == {"succeeded"}
        mean, std, n = sweep.hypervolume_summary(table)
        values = list(table["hypervolume"])
        assert n == 2 and mean == pytest.approx(sum(values) / 2)
        assert std == pytest.approx(abs(values[0] - values[1]) / 2 ** 0.5)


def _time(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


# ---- without a cluster ----------------------------------------------------------------

def test_sqlite_is_refused_when_a_node_is_another_machine():
    here = {"127.0.0.1", "10.0.0.5"}
    check_store_reachable("sqlite:////data/mofront.db", ["10.0.0.5"], here)  # one machine
    check_store_reachable("postgresql+psycopg://db/mofront", ["10.0.0.5", "10.0.0.6"], here)
    with pytest.raises(RayExecutorError) as refused:
        check_store_reachable("sqlite:////data/mofront.db", ["10.0.0.5", "10.0.0.6"], here)
    message = str(refused.value)
    assert "SQLite file on this machine (/data/mofront.db)" in message
    assert "other machines (10.0.0.6)" in message
    assert "--db postgresql://USER@HOST/DATABASE" in message


def test_store_url_for_workers_is_absolute_and_namespaced_without_password(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert worker_store_url("sqlite:///relative.db") == f"sqlite:///{tmp_path}/relative.db"
    assert worker_store_url("postgresql://u:secret@db/x") == "postgresql+psycopg://u:secret@db/x"
    assert store_namespace("postgresql+psycopg://u:secret@db/x") == store_namespace(
        "postgresql+psycopg://u:other@db/x")
    assert store_namespace("postgresql+psycopg://u@db/x") != store_namespace(
        "postgresql+psycopg://u@db/y")


def test_resources_spec_takes_fractional_gpus_and_cpus():
    spec = {"algorithm": "sobol", "problem": {"kind": "test-function", "id": "zdt1"},
            "budget": {"evaluations": 10}}
    resolved = validate(spec | {"resources": {"gpus": 0.25, "cpus": 2}})
    assert Resources.of(resolved.spec.model_dump()) == Resources(cpus=2.0, gpus=0.25)
    assert Resources.of({}) == Resources(cpus=1.0, gpus=0.0)
    with pytest.raises(SpecError, match="above 1 give a whole number of GPUs; got 1.5"):
        validate(spec | {"resources": {"gpus": 1.5}})
    with pytest.raises(SpecError, match="resources.cpus"):
        validate(spec | {"resources": {"cpus": 0}})


def test_parse_seeds():
    assert parse_seeds("0-9") == list(range(10))
    assert parse_seeds("0,3, 7") == [0, 3, 7]
    assert parse_seeds("0-2,10") == [0, 1, 2, 10]
    for bad in ("", "a", "3-1", "1,1", "-2"):
        with pytest.raises(ValueError):
            parse_seeds(bad)


def test_local_server_never_imports_ray(sqlite_database):
    code = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from api.app import create_app\n"
        "from api.settings import Settings\n"
        f"with TestClient(create_app(Settings(database_url={sqlite_database!r}))) as http:\n"
        "    assert http.get('/healthz').status_code == 200\n"
        "assert 'ray' not in sys.modules, 'ray imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_serve_with_ray_refuses_an_in_memory_store():
    finished = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--executor", "ray", "--db", "sqlite://"],
        check=False, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2
    assert "in-memory SQLite store cannot be shared with Ray workers" in finished.stderr
