"""Outcome constraints on an external problem go by the names the spec declares: ``tell``
takes their values as a list or by those names, refuses others naming them, the client
names its columns after them, and ``client.optimize(constraints=...)`` takes them from
the function beside the objectives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.client import Client
from api.settings import Settings
from tests.api.test_ask_tell import PROBLEM, lab

CONSTRAINED = PROBLEM | {"constraints": [{"name": "memory_left"}, {"name": "time_left"}]}


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def _campaign(http: TestClient) -> int:
    created = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": CONSTRAINED, "budget": {"evaluations": 6}})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_constraint_values_are_told_as_a_list_or_by_their_declared_names(http):
    cid = _campaign(http)
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"params": {"temp": 40, "time": 2}, "objectives": [50.0, 6.0],
         "constraints": {"time_left": 1.0, "memory_left": -2.0}},
        {"params": {"temp": 50, "time": 3}, "objectives": [60.0, 8.0], "constraints": [3.0, 0.5]},
    ]})
    assert told.status_code == 200, told.text
    items = http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]
    assert [(item["constraints"], item["feasible"]) for item in items] == [
        ([-2.0, 1.0], False), ([3.0, 0.5], True)]


@pytest.mark.parametrize(("constraints", "message"), [
    ({"c0": 1.0, "c1": 1.0}, "expected values for memory_left, time_left; got c0, c1"),
    ([1.0], "got 1 values; expected 2 (memory_left, time_left)"),
    (None, "the problem declares 2 constraint(s) (memory_left, time_left); give their values"),
])
def test_constraint_values_under_other_names_are_refused_naming_the_declared_ones(
        http, constraints, message):
    cid = _campaign(http)
    result = {"params": {"temp": 40, "time": 2}, "objectives": [50.0, 6.0]}
    if constraints is not None:
        result["constraints"] = constraints
    response = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [result]})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "results", 0, "constraints"]
    assert error["msg"] == message
    assert http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["total"] == 0


def test_client_optimize_takes_the_constraints_from_the_function(sqlite_database, make_server):
    server = make_server(sqlite_database).start()

    def by_name(temp: float, time: float) -> dict[str, float]:
        crop, cost = lab(temp, time)
        return {"yield": crop, "memory_left": 60 - temp, "cost": cost}

    def in_order(temp: float, time: float) -> list[float]:
        return [*lab(temp, time), 60 - temp]

    with Client(server.url) as client:
        for fn in (by_name, in_order):
            campaign = client.optimize(fn, parameters={"temp": (20, 90), "time": (1, 10)},
                                       objectives={"yield": "maximize", "cost": "minimize"},
                                       budget=8, algorithm="sobol", batch_size=4,
                                       constraints=["memory_left"])
            assert campaign.constraint_names == ["memory_left"]
            evaluations = campaign.evaluations()
            assert list(evaluations["constraint.memory_left"]) == list(
                60 - evaluations["param.temp"])
            assert list(evaluations["feasible"]) == list(evaluations["param.temp"] <= 60)
            assert not evaluations["feasible"].all() and evaluations["feasible"].any()
            front = campaign.front()
            assert (front["param.temp"] <= 60).all()  # an infeasible point is never on it
