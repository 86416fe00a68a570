"""The local executor's spare worker: a ``python -m jobs.worker --standby`` process that
has imported torch and the algorithms before any campaign exists, takes the next
campaign over stdin, and is replaced after each launch. Real server, real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from jobs.spec import CampaignSpec, resolve
from storage import create_campaign, get_campaign, make_engine, make_sessionmaker, upgrade
from tests.conftest import wait_for

SPEC = {"algorithm": "sobol", "problem": {"kind": "test-function", "id": "zdt1"},
        "budget": {"evaluations": 40}, "params": {"batch_size": 10}, "seed": 1}


def _ready_pids(log_dir: Path) -> list[int]:
    log = log_dir / "spare-worker.log"
    if not log.is_file():
        return []
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line["pid"] for line in lines if line["message"] == "spare worker ready"]


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def _run(http, spec=SPEC):  # type: ignore[no-untyped-def]
    cid = http.post("/campaigns", json=spec).json()["id"]
    return wait_for(lambda: (c := http.get(f"/campaigns/{cid}").json())["status"]
                    in ("succeeded", "failed") and c, what=f"campaign {cid} to finish")


def test_the_ready_spare_runs_the_next_campaign_and_is_replaced(sqlite_database, make_server,
                                                                tmp_path):
    server = make_server(sqlite_database).start()
    log_dir = tmp_path / "workers"
    spare = wait_for(lambda: _ready_pids(log_dir), what="the spare worker to be ready")[0]
    with server.client() as http:
        done = _run(http)
        assert done["status"] == "succeeded", done
        assert done["n_evaluations"] == 40
        assert done["worker"].endswith(f":{spare}")  # the spare ran it, not a new process
        # its output went to the campaign's own log once assigned, not to the spare's
        assert f"campaign {done['id']} started" in (log_dir / f"campaign-{done['id']}.log").read_text()
        assert f"campaign {done['id']} started" not in (log_dir / "spare-worker.log").read_text()

        replacement = wait_for(lambda: [p for p in _ready_pids(log_dir) if p != spare],
                               what="a new spare after the launch")[0]
        second = _run(http)
        assert second["status"] == "succeeded" and second["worker"].endswith(f":{replacement}")


def test_a_spare_that_dies_waiting_is_replaced(sqlite_database, make_server, tmp_path):
    server = make_server(sqlite_database).start()
    log_dir = tmp_path / "workers"
    first = wait_for(lambda: _ready_pids(log_dir), what="the spare worker to be ready")[0]
    os.kill(first, signal.SIGKILL)
    second = wait_for(lambda: [p for p in _ready_pids(log_dir) if p != first],
                      what="a replacement spare")[0]
    with server.client() as http:
        done = _run(http)
    assert done["status"] == "succeeded" and done["attempts"] == 1
    assert done["worker"].endswith(f":{second}")
    assert "spare worker exited with code -9" in server.log_path.read_text()


def test_the_spare_goes_with_the_server(sqlite_database, make_server, tmp_path):
    server = make_server(sqlite_database).start()
    spare = wait_for(lambda: _ready_pids(tmp_path / "workers"), what="the spare")[0]
    server.stop(signal.SIGTERM)
    wait_for(lambda: not _alive(spare), timeout=15, what="the spare to exit with the server")

    server = make_server(sqlite_database).start()
    spare = wait_for(lambda: [p for p in _ready_pids(tmp_path / "workers") if p != spare],
                     what="the second server's spare")[0]
    server.stop(signal.SIGKILL)  # no shutdown at all: the spare's death signal ends it
    wait_for(lambda: not _alive(spare), timeout=15, what="the spare to die with the server")


def test_without_a_spare_every_campaign_starts_its_own_worker(sqlite_database, make_server,
                                                               tmp_path):
    server = make_server(sqlite_database, extra_args=["--no-spare-worker"]).start()
    with server.client() as http:
        done = _run(http)
    assert done["status"] == "succeeded" and done["n_evaluations"] == 40
    assert not (tmp_path / "workers" / "spare-worker.log").exists()


def test_a_standby_worker_applies_its_assignment(sqlite_database, tmp_path):
    """The assignment's GPU list and log file are in force before the campaign runs;
    a standby worker whose stdin closes first exits without running anything."""
    upgrade(sqlite_database)
    engine = make_engine(sqlite_database)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        campaign = create_campaign(session, **resolve(CampaignSpec.model_validate(SPEC))
                                   .campaign_row(), status="queued", runs_on="worker")
        session.commit()
        cid = campaign.id
    command = [sys.executable, "-m", "jobs.worker", "--db", sqlite_database, "--standby"]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "0,1"}

    idle = subprocess.run(command, input=b"", env=env, capture_output=True, timeout=120, check=False)
    assert idle.returncode == 0
    with sessions() as session:
        assert get_campaign(session, cid).status == "queued"

    log_path = tmp_path / "assigned.log"
    assignment = {"campaign": cid, "cuda_visible_devices": "", "log_path": str(log_path)}
    probe = ("import os, runpy, sys; sys.argv = ['jobs.worker', *sys.argv[1:]]\n"
             "import jobs.worker as w\n"
             "real = w.run\n"
             "def run(db, cid, threads=1):\n"
             "    print('visible=' + repr(os.environ.get('CUDA_VISIBLE_DEVICES')), flush=True)\n"
             "    return real(db, cid, threads)\n"
             "w.run = run\n"
             "sys.exit(w.main())\n")
    assigned = subprocess.run([sys.executable, "-c", probe, "--db", sqlite_database,
                               "--standby"], input=json.dumps(assignment).encode() + b"\n",
                              env=env, capture_output=True, timeout=300, check=False)
    assert assigned.returncode == 0, assigned.stderr.decode()[-2000:]
    output = log_path.read_text()
    assert "visible=''" in output  # no GPU for this campaign, although the spare had two
    assert f"campaign {cid} succeeded" in output
    with sessions() as session:
        done = get_campaign(session, cid)
        assert done.status == "succeeded" and done.n_evaluations == 40
    engine.dispose()
