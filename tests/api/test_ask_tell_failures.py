"""Suggestions that could not be evaluated: ``POST .../fail`` frees their budget, keeps
the reason and keeps them from being suggested again; ``GET .../suggestions`` lists
what became of every suggestion; the client's loop fails, catches and resumes as
Optuna's ``study.optimize`` does."""

from __future__ import annotations

import io
import math
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.client import APIError, Client
from api.settings import Settings
from bayesopt import bo
from jobs import registry
from jobs.protocol import Observations
from tests.api.test_ask_tell import PROBLEM, lab, submit


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def _ask(http, cid: int, n: int) -> list[dict]:
    response = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": n})
    assert response.status_code == 200, response.text
    return response.json()["suggestions"]


def _fail(http, cid: int, *failures: tuple[int, str | None]):
    return http.post(f"/api/v1/campaigns/{cid}/fail", json={"failures": [
        {"suggestion_id": sid, "reason": reason} for sid, reason in failures]})


def test_failed_suggestions_free_their_budget_keep_the_reason_and_are_not_repeated(http):
    cid = submit(http, budget=4)["id"]
    first = _ask(http, cid, 4)
    assert http.post(f"/api/v1/campaigns/{cid}/ask").status_code == 409  # all 4 pending

    failed = _fail(http, cid, (first[0]["id"], "CUDA out of memory"), (first[1]["id"], None))
    assert failed.status_code == 200, failed.text
    assert failed.json() == {"campaign_id": cid, "failed": [first[0]["id"], first[1]["id"]],
                             "pending": 2, "remaining": 2}
    again = _fail(http, cid, (first[0]["id"], "a second reason"))  # a retry changes nothing
    assert again.status_code == 200 and again.json()["remaining"] == 2

    second = _ask(http, cid, 2)
    handed_out = [tuple(s["params"].values()) for s in first + second]
    assert len(set(handed_out)) == 6  # neither failed point is handed out again

    page = http.get(f"/api/v1/campaigns/{cid}/suggestions", params={"status": "failed"}).json()
    assert page["total"] == 2 and page["counts"] == {
        "pending": 4, "told": 0, "expired": 0, "failed": 2}
    assert [(s["id"], s["reason"]) for s in page["items"]] == [
        (first[0]["id"], "CUDA out of memory"), (first[1]["id"], None)]
    assert all(s["failed_at"] and s["evaluation_id"] is None for s in page["items"])
    assert page["items"][0]["params"] == first[0]["params"]

    # a failed suggestion may still be told later: it then counts like any result
    late = first[0]
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"suggestion_id": late["id"], "objectives": list(lab(**late["params"]))}]})
    assert told.status_code == 200, told.text
    record = http.get(f"/api/v1/campaigns/{cid}/suggestions").json()["items"][0]
    assert record["status"] == "told"
    assert record["evaluation_id"] == told.json()["evaluations"][0]["evaluation_id"]
    for suggestion in first[2:] + second[:1]:
        assert http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
            {"suggestion_id": suggestion["id"],
             "objectives": list(lab(**suggestion["params"]))}]}).status_code == 200
    assert http.get(f"/api/v1/campaigns/{cid}").json()["status"] == "succeeded"
    counts = http.get(f"/api/v1/campaigns/{cid}/suggestions").json()["counts"]
    assert counts == {"pending": 1, "told": 4, "expired": 0, "failed": 1}


def test_bad_failures_are_refused_and_nothing_changes(http):
    cid = submit(http, budget=5)["id"]
    pending, told = _ask(http, cid, 2)
    http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"suggestion_id": told["id"], "objectives": list(lab(**told["params"]))}]})
    before = http.get(f"/api/v1/campaigns/{cid}/suggestions").json()

    for failures, status, loc, message in [
        ([{"suggestion_id": 9999}], 422, ["body", "failures", 0, "suggestion_id"],
         "unknown suggestion 9999 for this campaign"),
        ([{"suggestion_id": pending["id"]}, {"suggestion_id": told["id"]}], 409,
         ["body", "failures", 1, "suggestion_id"], f"suggestion {told['id']} was already told"),
        ([{"suggestion_id": pending["id"], "reason": "x" * 2001}], 422,
         ["body", "failures", 0, "reason"], "at most 2000 characters"),
        ([{"suggestion_id": pending["id"], "why": "?"}], 422,
         ["body", "failures", 0, "why"], "unknown field 'why'"),
        ([{"suggestion_id": 0}], 422, ["body", "failures", 0, "suggestion_id"], "greater than"),
        ([], 422, ["body", "failures"], "at least 1 item"),
    ]:
        response = http.post(f"/api/v1/campaigns/{cid}/fail", json={"failures": failures})
        assert response.status_code == status, (failures, response.text)
        detail = response.json()["detail"][0]
        assert detail["loc"] == loc and message in detail["msg"], detail
    assert http.get(f"/api/v1/campaigns/{cid}/suggestions").json() == before

    worker_campaign = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": {"kind": "test-function", "id": "zdt1"},
        "budget": {"evaluations": 5}}).json()
    response = _fail(http, worker_campaign["id"], (1, None))
    assert response.status_code == 409 and "runs on a worker" in response.json()["detail"]
    assert http.get(f"/api/v1/campaigns/{worker_campaign['id']}/suggestions").json() == {
        "items": [], "total": 0, "counts": {"pending": 0, "told": 0, "expired": 0, "failed": 0}}
    assert _fail(http, 999, (1, None)).status_code == 404
    assert http.get("/api/v1/campaigns/999/suggestions").status_code == 404
    http.post(f"/api/v1/campaigns/{cid}/cancel")
    cancelled = _fail(http, cid, (pending["id"], None))
    assert cancelled.status_code == 409 and "is cancelled" in cancelled.json()["detail"]


def test_suggestions_list_pages_filters_and_reads_expiry_without_writing(http):
    cid = submit(http, budget=9, suggestion_ttl_seconds=0.5)["id"]
    early = _ask(http, cid, 3)
    time.sleep(0.8)
    later = _ask(http, cid, 4)  # this ask marks the first three expired in the store
    time.sleep(0.8)  # now the last four are past expiry too, but nothing marked them

    page = http.get(f"/api/v1/campaigns/{cid}/suggestions", params={"limit": 5}).json()
    assert page["total"] == 7 and [s["id"] for s in page["items"]] == [
        s["id"] for s in (early + later)[:5]]
    assert page["counts"] == {"pending": 0, "told": 0, "expired": 7, "failed": 0}
    rest = http.get(f"/api/v1/campaigns/{cid}/suggestions",
                    params={"limit": 5, "offset": 5}).json()
    assert [s["id"] for s in rest["items"]] == [s["id"] for s in later[2:]]
    assert http.get(f"/api/v1/campaigns/{cid}/suggestions",
                    params={"status": "pending"}).json()["items"] == []
    expired = http.get(f"/api/v1/campaigns/{cid}/suggestions", params={"status": "expired"})
    assert expired.json()["total"] == 7
    bad = http.get(f"/api/v1/campaigns/{cid}/suggestions", params={"status": "lost"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "status"]


def _flaky_lab(temp: float, time: float) -> tuple[float, float]:
    if temp > 70:
        raise ValueError(f"the reactor tripped at {temp:.1f} degrees")
    if time > 8:
        return math.nan, 1.0
    return lab(temp, time)


def test_client_optimize_fails_and_catches_like_optuna(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with Client(server.url) as client:
        spec = {"parameters": {"temp": (20, 90), "time": (1, 10)},
                "objectives": {"yield": "maximize", "cost": "minimize"}, "algorithm": "sobol"}
        with pytest.raises(ValueError, match="the reactor tripped"):
            client.optimize(_flaky_lab, budget=12, **spec, seed=1)

        campaign = client.optimize(_flaky_lab, budget=12, **spec, seed=1, catch=(ValueError,),
                                   max_failures=50)
        assert campaign.status == "succeeded"
        evaluations = campaign.evaluations()
        assert len(evaluations) == 12
        assert (evaluations["param.temp"] <= 70).all() and (evaluations["param.time"] <= 8).all()
        failed = campaign.suggestions("failed")
        assert len(failed) >= 1 and len(campaign.suggestions("told")) == 12
        for _, row in failed.iterrows():
            if row["param.temp"] > 70:
                assert row["reason"] == f"ValueError: the reactor tripped at {row['param.temp']:.1f} degrees"
            else:
                assert row["param.time"] > 8 and row["reason"].startswith(
                    "the objectives are not all finite")

        def always_fails(temp: float, time: float) -> tuple[float, float]:
            raise ValueError("no lab today")

        with pytest.raises(RuntimeError, match="3 evaluations failed .* no lab today"):
            client.optimize(always_fails, budget=5, **spec, catch=(ValueError,), max_failures=3)


def test_a_driver_that_died_is_resumed_on_its_pending_suggestions(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with Client(server.url) as client:
        calls = []

        def dies_on_the_second_call(temp: float, time: float) -> tuple[float, float]:
            calls.append((temp, time))
            if len(calls) == 2:
                raise KeyboardInterrupt
            return lab(temp, time)

        with pytest.raises(KeyboardInterrupt):
            client.optimize(dies_on_the_second_call, parameters={"temp": (20, 90),
                            "time": (1, 10)}, objectives={"yield": "maximize",
                            "cost": "minimize"}, budget=6, algorithm="sobol", batch_size=4)
        campaign = client.campaigns()[0]
        left = campaign.suggestions("pending")
        assert len(left) == 2  # the batch's last two were never evaluated
        assert campaign.suggestions("failed")["reason"].tolist() == ["KeyboardInterrupt"]
        printed = subprocess.run(
            [sys.executable, "-m", "api.cli", "suggestions", str(campaign.id), "--status",
             "failed", "--url", server.url], capture_output=True, text=True, timeout=180,
            check=False)
        assert printed.returncode == 0, printed.stderr
        rows = pd.read_csv(io.StringIO(printed.stdout))
        assert rows[["status", "reason", "param.temp", "param.time"]].values.tolist() == [
            ["failed", "KeyboardInterrupt", *calls[1]]]

        resumed = []

        def records(temp: float, time: float) -> tuple[float, float]:
            resumed.append((temp, time))
            return lab(temp, time)

        campaign.run(records, batch_size=4, resume=True)
        assert campaign.status == "succeeded"
        assert resumed[:2] == list(zip(left["param.temp"], left["param.time"], strict=True))
        assert len(campaign.suggestions("pending")) == 0
        assert len(campaign.evaluations()) == 6


def test_parallel_drivers_wait_for_each_other_and_never_tell_twice(sqlite_database,
                                                                   make_server):
    server = make_server(sqlite_database).start()
    with Client(server.url) as client, Client(server.url) as other:
        campaign = client.submit({"algorithm": "sobol", "problem": PROBLEM,
                                  "budget": {"evaluations": 5}})
        held = other.campaign(campaign.id).ask(2)  # another driver holds two suggestions

        def the_other_driver_tells() -> None:
            other.campaign(campaign.id).tell([
                {"suggestion_id": s["id"], "objectives": list(lab(**s["params"]))}
                for s in held])

        later = threading.Timer(1.5, the_other_driver_tells)
        later.start()
        done = []
        campaign.run(lambda temp, time: done.append(1) or lab(temp, time), batch_size=2,
                     poll_seconds=0.1)
        later.join()
        # three told here; then the budget left was all held by the other driver, so this
        # one waited for it instead of failing or taking over its suggestions
        assert campaign.status == "succeeded" and len(done) == 3
        assert len(campaign.evaluations()) == 5
        assert len(campaign.suggestions("told")) == 5


def test_tell_takes_a_choice_as_a_string_from_the_client(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with Client(server.url) as client:
        campaign = client.submit({"algorithm": "sobol", "budget": {"evaluations": 3},
                                  "problem": PROBLEM | {"parameters": [
                                      {"name": "temp", "low": 20, "high": 90},
                                      {"name": "mode", "value_type": "choice",
                                       "values": ["batch", "flow"]}]}})
        campaign.tell({"params": {"temp": 40, "mode": "flow"}, "objectives": [50.0, 4.0]})
        assert campaign.evaluations()["param.mode"].tolist() == ["flow"]
        with pytest.raises(APIError, match="'slow' is not one of its values"):
            campaign.tell({"params": {"temp": 40, "mode": "slow"}, "objectives": [50.0, 4.0]})


def test_the_model_is_asked_with_the_failed_points_as_the_store_holds_them(http):
    params = {"num_restarts": 2, "raw_samples": 32, "mc_samples": 16}
    campaign = http.post("/api/v1/campaigns", json={
        "algorithm": "qlognehvi", "problem": PROBLEM, "params": params,
        "budget": {"evaluations": 12}, "seed": 3}).json()
    cid = campaign["id"]
    design = _ask(http, cid, 6)
    http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"suggestion_id": s["id"], "objectives": list(lab(**s["params"]))} for s in design]})
    doomed = _ask(http, cid, 2)
    assert _fail(http, cid, *[(s["id"], "diverged") for s in doomed]).status_code == 200
    after = _ask(http, cid, 2)

    stored = dict(campaign["problem"])
    definition = registry.problem_definition(stored.pop("kind"), stored.pop("id"))
    info = definition.info(definition.config.model_validate(stored))

    def matrix(suggestions):
        return np.array([[s["params"]["temp"], s["params"]["time"]] for s in suggestions])
    x = matrix(design)
    expected = bo.suggest_qlognehvi(info, params, 3, Observations(
        x=x, objectives=np.array([lab(*row) for row in x]), failed=matrix(doomed),
        n_suggested=8), 2, "cpu")
    np.testing.assert_allclose(matrix(after), expected)
