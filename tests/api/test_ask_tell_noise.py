"""Noisy measurements with known standard errors: ``tell`` takes ``sem`` beside the
objectives (Ax's ``(mean, sem)``), keeps it with the evaluation, refuses a bad one with
nothing stored, and hands it to the model on the next ask; the client's loop takes
``(mean, sem)`` pairs from the function."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.client import Client
from api.settings import Settings
from bayesopt import bo
from jobs import registry
from jobs.protocol import Observations
from tests.api.test_ask_tell import PROBLEM, lab, submit


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def _tell(http, cid: int, *results: dict):
    return http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": list(results)})


def test_standard_errors_are_kept_with_the_evaluation_as_a_list_or_by_name(http):
    cid = submit(http, budget=5)["id"]
    told = _tell(http, cid,
                 {"params": {"temp": 40, "time": 2}, "objectives": [50.0, 6.0], "sem": [1.5, 0.0]},
                 {"params": {"temp": 50, "time": 3}, "objectives": [60.0, 8.0], "sem": [None, 0.2]},
                 {"params": {"temp": 60, "time": 4}, "objectives": {"yield": 70.0, "cost": 10.0},
                  "sem": {"cost": 0.3}},
                 {"params": {"temp": 70, "time": 5}, "objectives": [80.0, 12.0]},
                 {"params": {"temp": 80, "time": 6}, "objectives": [75.0, 14.0], "sem": [None, None]})
    assert told.status_code == 200, told.text
    items = http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]
    assert [item["meta"].get("sem") for item in items] == [
        [1.5, 0.0], [None, 0.2], [None, 0.3], None, None]  # all unknown: nothing kept
    assert [item["objectives"] for item in items][2] == [70.0, 10.0]
    front = http.get(f"/api/v1/campaigns/{cid}/front").json()["points"]
    assert {p["seq"]: p["sem"] for p in front} == {  # seq 4 is dominated by seq 3
        0: [1.5, 0.0], 1: [None, 0.2], 2: [None, 0.3], 3: None}
    projected = http.get(f"/api/v1/campaigns/{cid}/front", params={"objectives": "cost"}).json()
    assert [p["sem"] for p in projected["points"]] == [[0.0]]  # the least cost: seq 0 alone


@pytest.mark.parametrize(("sem", "loc", "message"), [
    ([-0.5, 1.0], ["body", "results", 1, "sem", "list[nullable[constrained-float]]", 0],
     "greater than or equal to 0"),
    ({"yield": float("inf")}, None, None),  # JSON has no inf: sent as a string below
    ([1.0], ["body", "results", 1, "sem"], "got 1 standard errors; expected 2 (yield, cost)"),
    ({"yield": 1.0, "loss": 2.0}, ["body", "results", 1, "sem", "loss"],
     "unknown objective 'loss'; the objectives are yield, cost"),
])
def test_a_bad_standard_error_is_refused_naming_the_field_and_nothing_is_stored(
        http, sem, loc, message):
    cid = submit(http, budget=5)["id"]
    good = {"params": {"temp": 40, "time": 2}, "objectives": [50.0, 6.0], "sem": [1.0, 1.0]}
    if loc is None:  # inf cannot be written in JSON; the string is refused as not a number
        response = http.post(f"/api/v1/campaigns/{cid}/tell", content=(
            '{"results": [{"params": {"temp": 40, "time": 2}, "objectives": [50, 6]}, '
            '{"params": {"temp": 50, "time": 2}, "objectives": [50, 6], '
            '"sem": {"yield": "inf"}}]}'), headers={"content-type": "application/json"})
        assert response.status_code == 422
        assert any("sem" in error["loc"] and "finite" in error["msg"]
                   for error in response.json()["detail"]), response.text
    else:
        response = _tell(http, cid, good, {"params": {"temp": 50, "time": 2},
                                           "objectives": [50.0, 6.0], "sem": sem})
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert any(error["loc"] == loc and message in error["msg"] for error in detail), detail
    assert http.get(f"/api/v1/campaigns/{cid}").json()["n_evaluations"] == 0


def test_the_model_is_asked_with_the_standard_errors_the_store_holds(http):
    params = {"num_restarts": 2, "raw_samples": 32, "mc_samples": 16}
    campaign = http.post("/api/v1/campaigns", json={
        "algorithm": "qlognehvi", "problem": PROBLEM, "params": params,
        "budget": {"evaluations": 12}, "seed": 3}).json()
    cid = campaign["id"]
    design = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 6}).json()["suggestions"]
    sems = [[0.5 + i, None if i == 2 else 0.1] for i in range(6)]
    assert _tell(http, cid, *[
        {"suggestion_id": s["id"], "objectives": list(lab(**s["params"])), "sem": sem}
        for s, sem in zip(design, sems, strict=True)]).status_code == 200
    after = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 2}).json()["suggestions"]

    stored = dict(campaign["problem"])
    definition = registry.problem_definition(stored.pop("kind"), stored.pop("id"))
    info = definition.info(definition.config.model_validate(stored))
    x = np.array([[s["params"]["temp"], s["params"]["time"]] for s in design])
    objectives = np.array([lab(*row) for row in x])

    def expected(sem):
        return bo.suggest_qlognehvi(info, params, 3, Observations(
            x=x, objectives=objectives, n_suggested=6, sem=sem), 2, "cpu")

    suggested = np.array([[s["params"]["temp"], s["params"]["time"]] for s in after])
    np.testing.assert_allclose(suggested, expected(
        np.array([[np.nan if v is None else v for v in row] for row in sems])))
    # and the standard errors made a difference: without them the model suggests elsewhere
    assert not np.allclose(suggested, expected(None))


def test_client_optimize_takes_mean_and_sem_pairs_from_the_function(sqlite_database,
                                                                    make_server):
    def noisy_lab(temp: float, time: float) -> dict:
        mean_yield, cost = lab(temp, time)
        return {"yield": (mean_yield, 0.1 * temp), "cost": cost}  # cost measured exactly

    server = make_server(sqlite_database).start()
    with Client(server.url) as client:
        campaign = client.optimize(noisy_lab, parameters={"temp": (20, 90), "time": (1, 10)},
                                   objectives={"yield": "maximize", "cost": "minimize"},
                                   budget=5, algorithm="sobol", batch_size=2)
        evaluations = campaign.evaluations()
        assert campaign.refresh().status == "succeeded" and len(evaluations) == 5
        np.testing.assert_allclose(evaluations["sem.yield"], 0.1 * evaluations["param.temp"])
        assert evaluations["sem.cost"].isna().all()
        front = campaign.front()
        np.testing.assert_allclose(front["sem.yield"], 0.1 * front["param.temp"])
        denoised = campaign.front(denoised=True)  # the model's front, and the CLI's
        assert {"predicted.yield", "predicted.cost", "sem.yield"} <= set(denoised.columns)
        printed = subprocess.run(
            [sys.executable, "-m", "api.cli", "front", str(campaign.id), "--denoised",
             "--url", server.url], capture_output=True, text=True, timeout=180, check=False)
        assert printed.returncode == 0, printed.stderr
        pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(printed.stdout)),
                                      denoised.astype({"sem.cost": float}))
        by_cost = campaign.front(["cost"])
        assert list(by_cost.columns[by_cost.columns.str.startswith("sem.")]) == ["sem.cost"]
        assert by_cost["sem.cost"].isna().all()
        # a list with a pair in it, and a NaN standard error read as unknown (as Ax does)
        second = client.optimize(lambda temp, time: [(lab(temp, time)[0], float("nan")),
                                                     (lab(temp, time)[1], 0.5)],
                                 parameters={"temp": (20, 90), "time": (1, 10)},
                                 objectives={"yield": "maximize", "cost": "minimize"},
                                 budget=2, algorithm="sobol")
        frame = second.evaluations()
        assert frame["sem.yield"].isna().all() and (frame["sem.cost"] == 0.5).all()
        # without any standard error the frame has no sem columns
        plain = client.optimize(lab, parameters={"temp": (20, 90), "time": (1, 10)},
                                objectives={"yield": "maximize", "cost": "minimize"},
                                budget=2, algorithm="sobol")
        assert not [c for c in plain.evaluations().columns if c.startswith("sem.")]


def test_the_denoised_front_is_picked_by_the_models_predictions(http):
    """A cold, cheap run measured as a great one (yield 99, with a standard error of 30)
    tops the front of the measurements and pushes a truly better run off it; the front
    of the model's predictions leaves the lucky run out and puts the better one back."""
    cid = submit(http, budget=20)["id"]
    grid = [(temp, time) for temp in (40, 55, 70, 85) for time in (1, 4, 7)]
    results = [{"params": {"temp": t, "time": h}, "objectives": list(lab(t, h)),
                "sem": [2.0, 0.05]} for t, h in grid]
    results.append({"params": {"temp": 30, "time": 3}, "objectives": [99.0, 6.0],
                    "sem": [30.0, 0.05]})  # lab(30, 3) is (11, 6)
    assert _tell(http, cid, *results).status_code == 200
    lucky, pushed_off = 12, 3  # seqs: the lucky run, and (55, 1), measured (63.75, 6.5)
    measured = http.get(f"/api/v1/campaigns/{cid}/front").json()
    assert {p["seq"] for p in measured["points"]} >= {lucky} and not measured["denoised"]
    assert pushed_off not in {p["seq"] for p in measured["points"]}  # the lucky run wins

    answer = http.get(f"/api/v1/campaigns/{cid}/front", params={"denoised": "true"})
    assert answer.status_code == 200, answer.text
    denoised = answer.json()
    assert denoised["denoised"] and lucky not in {p["seq"] for p in denoised["points"]}
    assert pushed_off in {p["seq"] for p in denoised["points"]}
    # the predictions are the model's posterior means at the stored evaluations
    stored = http.get(f"/api/v1/campaigns/{cid}").json()["problem"]
    definition = registry.problem_definition(stored.pop("kind"), stored.pop("id"))
    info = definition.info(definition.config.model_validate(stored))
    points = np.array([[r["params"]["temp"], r["params"]["time"]] for r in results])
    means = bo.denoised_objectives(info, Observations(
        x=points, objectives=np.array([r["objectives"] for r in results]),
        sem=np.array([r["sem"] for r in results])))
    for point in denoised["points"]:
        np.testing.assert_allclose(point["predicted"], means[point["seq"]])
        assert point["objectives"] == results[point["seq"]]["objectives"]  # as measured
    assert means[lucky][0] < 40  # the model does not believe the 99

    on_cost = http.get(f"/api/v1/campaigns/{cid}/front",
                       params={"denoised": "true", "objectives": "cost"}).json()
    assert [p["seq"] for p in on_cost["points"]] == [int(np.argmin(means[:, 1]))]
    assert len(on_cost["points"][0]["predicted"]) == 1


@pytest.mark.parametrize("told_exact", [False, True])
def test_the_denoised_front_judges_noisy_constraints_by_their_predicted_slacks(http,
                                                                            told_exact):
    """A run at 90 degrees, measured again, would top the front, but only because its
    second measurement of the constraint (``temp <= 60`` as the slack ``60 - temp``)
    came out lucky: the first said -30. Told with standard errors, the denoised front
    goes by the model's predicted slack and leaves it out; told exact (sem 0), by the
    measurement."""
    cid = submit(http, budget=20, constraints=["headroom"])["id"]
    grid = [(temp, time) for temp in (30, 45, 60, 75, 90) for time in (2, 6, 10)]
    sem = 0.0 if told_exact else 10.0
    results = [{"params": {"temp": t, "time": h}, "objectives": [t, h],
                "constraints": {"headroom": 60.0 - t}, "sem": {"headroom": sem}}
               for t, h in grid]
    lucky = len(results)
    results.append({"params": {"temp": 90, "time": 6}, "objectives": [90.0, 6.0],
                    "constraints": {"headroom": 4.0}, "sem": {"headroom": sem}})  # truly -30
    assert _tell(http, cid, *results).status_code == 200, "told"
    measured = {p["seq"] for p in http.get(f"/api/v1/campaigns/{cid}/front").json()["points"]}
    assert lucky in measured
    answer = http.get(f"/api/v1/campaigns/{cid}/front", params={"denoised": "true"})
    assert answer.status_code == 200, answer.text
    points = answer.json()["points"]
    if told_exact:
        assert lucky in {p["seq"] for p in points}
        assert all(p["predicted_slacks"] is None for p in points)
        return
    assert lucky not in {p["seq"] for p in points}
    assert points and all(p["predicted_slacks"][0] >= 0 for p in points)
    stored = http.get(f"/api/v1/campaigns/{cid}").json()["problem"]
    definition = registry.problem_definition(stored.pop("kind"), stored.pop("id"))
    info = definition.info(definition.config.model_validate(stored))
    slacks = bo.denoised_slacks(info, Observations(
        x=np.array([[r["params"]["temp"], r["params"]["time"]] for r in results]),
        objectives=np.array([r["objectives"] for r in results]),
        constraints=np.array([[r["constraints"]["headroom"]] for r in results]),
        constraint_sem=np.full((len(results), 1), sem)))
    assert slacks[lucky][0] < 0  # the model does not believe the 4
    for point in points:
        assert point["predicted_slacks"] == pytest.approx(slacks[point["seq"]].tolist())


@pytest.mark.parametrize(("query", "message"), [
    ({"denoised": "true", "contributions": "true"}, "ask for one or the other"),
    ({"worker": True}, "on a noise-free problem; a denoised front is for ask/tell campaigns"),
    ({"many": True}, "has 501 evaluations; a denoised front fits a GP to at most 500"),
])
def test_a_denoised_front_is_refused_where_it_does_not_apply(http, query, message):
    if query.get("worker"):
        cid = http.post("/api/v1/campaigns", json={
            "algorithm": "sobol", "problem": {"kind": "test-function", "id": "branin-currin"},
            "budget": {"evaluations": 4}}).json()["id"]
        query = {"denoised": "true"}
    elif query.get("many"):  # one more than a denoised front fits a GP to
        cid = submit(http, budget=501)["id"]
        grid = [{"params": {"temp": 20 + i % 70, "time": 1 + i // 70}, "objectives": [1.0, 2.0]}
                for i in range(501)]
        assert _tell(http, cid, *grid).status_code == 200
        query = {"denoised": "true"}
    else:
        cid = submit(http, budget=5)["id"]
    response = http.get(f"/api/v1/campaigns/{cid}/front", params=query)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "denoised"]
    assert message in response.json()["detail"][0]["msg"]
