"""Linear parameter constraints on an external problem, through the API: a spec's
``parameter_constraints`` are checked when it is submitted, every suggestion satisfies
them (Sobol and BO alike), and a told point outside them is refused with nothing
stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.client import Client
from api.settings import Settings
from tests.api.test_ask_tell import PROBLEM, lab

EDGE = "temp + 10*time <= 100"  # the best yield, at (70, 6), is outside: 130


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def _submit(http: TestClient, algorithm: str, budget: int, constraints: list[str]):
    return http.post("/api/v1/campaigns", json={
        "algorithm": algorithm, "problem": PROBLEM | {"parameter_constraints": constraints},
        "budget": {"evaluations": budget}, "seed": 2,
        "params": {} if algorithm == "sobol" else {"num_restarts": 4, "raw_samples": 64}})


def _inside(params: dict) -> bool:
    return params["temp"] + 10 * params["time"] <= 100 + 1e-9


@pytest.mark.parametrize(("constraints", "message"), [
    (["temp + dose <= 3"], ("constraint 0, 'temp + dose <= 3': unknown parameter "
                           "'dose'; the parameters are temp, time")),
    ([EDGE, "temp = 30"], "constraint 1, 'temp = 30': write one '<=' or '>='"),
    (["temp + time >= 101"], "no point within the parameters' bounds satisfies it"),
    (["temp >= 89.99"], "together they leave 0.0"),
])
def test_a_constraint_that_cannot_be_used_is_refused_when_submitted(http, constraints, message):
    response = _submit(http, "qlognehvi", 10, constraints)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "problem", "parameter_constraints"]
    assert message in error["msg"], error["msg"]
    assert http.get("/api/v1/campaigns").json()["total"] == 0


@pytest.mark.parametrize("algorithm", ["sobol", "qlognehvi"])
def test_every_suggestion_is_inside_the_constraints(http, algorithm):
    created = _submit(http, algorithm, 10, [EDGE])
    assert created.status_code == 201, created.text
    assert created.json()["problem"]["parameter_constraints"] == [EDGE]
    cid = created.json()["id"]
    suggested = []
    for n in (6, 4):  # the design, then (qlognehvi) one batch from the GP
        asked = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": n})
        assert asked.status_code == 200, asked.text
        batch = asked.json()["suggestions"]
        suggested += [s["params"] for s in batch]
        told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
            {"suggestion_id": s["id"], "objectives": list(lab(**s["params"]))} for s in batch]})
        assert told.status_code == 200, told.text
    assert len(suggested) == 10 and all(map(_inside, suggested)), suggested
    assert http.get(f"/api/v1/campaigns/{cid}").json()["status"] == "succeeded"


def test_a_told_point_outside_is_refused_and_nothing_is_stored(http):
    cid = _submit(http, "sobol", 10, [EDGE, "time >= 2"]).json()["id"]
    on_the_edge = {"params": {"temp": 30.0, "time": 7.0}, "objectives": [50.0, 10.0]}
    outside = {"params": {"temp": 40.0, "time": 6.5}, "objectives": [60.0, 10.5]}
    response = http.post(f"/api/v1/campaigns/{cid}/tell",
                         json={"results": [on_the_edge, outside]})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "results", 1, "params"]
    assert error["msg"] == ("the point is outside the parameter constraint 'temp + 10*time <= "
                            "100' (over by 5); suggestions always satisfy it")
    second = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"params": {"temp": 20.0, "time": 1.5}, "objectives": [1.0, 1.0]}]})
    assert second.json()["detail"][0]["msg"].startswith(
        "the point is outside the parameter constraint 'time >= 2' (over by 0.5)")
    assert http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["total"] == 0
    # on the edge, as floating point computes it, is inside
    edge = {"params": {"temp": 100 - 10 * 7.3, "time": 7.3}, "objectives": [50.0, 10.0]}
    assert http.post(f"/api/v1/campaigns/{cid}/tell",
                     json={"results": [on_the_edge, edge]}).status_code == 200


def test_client_optimize_passes_the_constraints_and_stays_inside(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    seen = []

    def experiment(temp: float, time: float) -> tuple[float, float]:
        seen.append({"temp": temp, "time": time})
        return lab(temp, time)

    with Client(server.url) as client:
        campaign = client.optimize(experiment, parameters={"temp": (20, 90), "time": (1, 10)},
                                   objectives={"yield": "maximize", "cost": "minimize"},
                                   budget=9, algorithm="qnparego", batch_size=3,
                                   params={"num_restarts": 4, "raw_samples": 64},
                                   parameter_constraints=[EDGE])
        assert campaign.data["problem"]["parameter_constraints"] == [EDGE]
        evaluations = campaign.evaluations()
    assert len(seen) == 9 and all(map(_inside, seen)), seen
    assert (evaluations["param.temp"] + 10 * evaluations["param.time"] <= 100 + 1e-9).all()
