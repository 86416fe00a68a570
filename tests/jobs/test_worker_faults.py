"""Faults the job service must survive: a worker killed mid-run, a server restarted
mid-campaign, a campaign that keeps crashing. Real server, real worker processes."""

from __future__ import annotations

import os
import signal

from tests.conftest import wait_for

SLOW_SPEC = {
    "algorithm": "sobol",
    # 0.03 s per evaluation: 200 evaluations take ~6 s, long enough to kill in the middle
    "problem": {"kind": "test-function", "id": "zdt1", "dim": 4, "evaluation_delay": 0.03},
    "budget": {"evaluations": 200},
    "params": {"batch_size": 5},
    "seed": 3,
}


def _campaign(http, cid):
    return http.get(f"/campaigns/{cid}").json()


def _finished(http, cid):
    campaign = _campaign(http, cid)
    return campaign if campaign["status"] in ("succeeded", "failed", "cancelled") else None


def _assert_complete(http, cid, budget):
    page = http.get(f"/campaigns/{cid}/evaluations", params={"limit": 10_000}).json()
    seqs = [item["seq"] for item in page["items"]]
    assert page["total"] == budget
    assert sorted(seqs) == list(range(budget))  # nothing lost, no duplicate seq


def test_sigkilled_worker_is_resumed_and_finishes_with_exactly_its_budget(database, make_server):
    server = make_server(database).start()
    with server.client() as http:
        cid = http.post("/campaigns", json=SLOW_SPEC).json()["id"]
        running = wait_for(
            lambda: (c := _campaign(http, cid))["worker"] and c["n_evaluations"] >= 40 and c,
            what="the worker to record some evaluations",
        )
        assert running["n_evaluations"] < 200, "the campaign finished before it could be killed"
        pid = int(running["worker"].rsplit(":", 1)[1])
        os.kill(pid, signal.SIGKILL)

        done = wait_for(lambda: _finished(http, cid), what="the campaign to finish")
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 2
        assert int(done["worker"].rsplit(":", 1)[1]) != pid
        _assert_complete(http, cid, 200)

    # the resumed campaign is the same as one that never crashed: the same seed, same points
    with server.client() as http:
        clean = http.post("/campaigns", json=SLOW_SPEC | {"problem": SLOW_SPEC["problem"] | {
            "evaluation_delay": 0.0}}).json()["id"]
        wait_for(lambda: _finished(http, clean), what="the clean campaign to finish")
        killed = http.get(f"/campaigns/{cid}/evaluations", params={"limit": 1000}).json()
        intact = http.get(f"/campaigns/{clean}/evaluations", params={"limit": 1000}).json()
        assert [e["params"] for e in killed["items"]] == [e["params"] for e in intact["items"]]


def test_server_restart_mid_campaign_resumes_it(database, make_server):
    server = make_server(database).start()
    with server.client() as http:
        cid = http.post("/campaigns", json=SLOW_SPEC).json()["id"]
        wait_for(lambda: _campaign(http, cid)["n_evaluations"] >= 40,
                 what="the worker to record some evaluations")
    server.stop(signal.SIGKILL)  # the worker dies with its server (PR_SET_PDEATHSIG)

    server.start()
    with server.client() as http:
        done = wait_for(lambda: _finished(http, cid), what="the campaign to finish")
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 1  # a restart does not count against the campaign
        _assert_complete(http, cid, 200)


def test_graceful_shutdown_requeues_and_the_next_server_finishes(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with server.client() as http:
        cid = http.post("/campaigns", json=SLOW_SPEC).json()["id"]
        wait_for(lambda: _campaign(http, cid)["n_evaluations"] >= 20,
                 what="the worker to record some evaluations")
    server.stop(signal.SIGTERM)
    server.start()
    with server.client() as http:
        done = wait_for(lambda: _finished(http, cid), what="the campaign to finish")
        assert done["status"] == "succeeded", done
        _assert_complete(http, cid, 200)


def test_campaign_that_keeps_dying_fails_after_max_attempts(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with server.client() as http:
        spec = SLOW_SPEC | {"max_attempts": 2}
        cid = http.post("/campaigns", json=spec).json()["id"]
        killed = set()
        for _ in range(2):
            campaign = wait_for(
                lambda: (c := _campaign(http, cid))["worker"]
                and c["worker"] not in killed and c["status"] == "running" and c,
                what="a new worker",
            )
            killed.add(campaign["worker"])
            os.kill(int(campaign["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
        done = wait_for(lambda: _finished(http, cid), what="the campaign to fail")
        assert done["status"] == "failed"
        assert "exited with code -9 after 2 attempts" in done["error"]
        page = http.get(f"/campaigns/{cid}/evaluations", params={"limit": 1000}).json()
        assert page["total"] == len({e["seq"] for e in page["items"]})  # what it did is kept


def test_cancel_a_running_campaign(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with server.client() as http:
        cid = http.post("/campaigns", json=SLOW_SPEC).json()["id"]
        wait_for(lambda: _campaign(http, cid)["n_evaluations"] >= 10, what="some evaluations")
        assert http.post(f"/campaigns/{cid}/cancel").status_code == 200
        done = wait_for(lambda: _finished(http, cid), what="the campaign to stop")
        assert done["status"] == "cancelled"
        assert 10 <= done["n_evaluations"] < 200
