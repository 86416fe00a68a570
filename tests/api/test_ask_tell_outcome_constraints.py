"""Outcome constraints on an external problem go by the names the spec declares: ``tell``
takes their values as a list or by those names, refuses others naming them, the client
names its columns after them, and ``client.optimize(constraints=...)`` takes them from
the function beside the objectives. A constraint declared with a bound, as Ax writes
it (``"memory <= 16"``), is told as measured and stored as its slack."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.client import Client
from api.settings import Settings
from bayesopt import bo
from jobs import registry
from jobs.protocol import Observations
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

    def with_its_noise(temp: float, time: float) -> dict[str, object]:
        return by_name(temp, time) | {"memory_left": (60 - temp, 0.25)}  # (slack, sem)

    with Client(server.url) as client:
        for fn in (by_name, in_order, with_its_noise):
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
            told_noise = fn is with_its_noise
            assert ("sem.memory_left" in evaluations) is told_noise
            if told_noise:
                assert (evaluations["sem.memory_left"] == 0.25).all()


def test_a_constraints_standard_error_is_kept_and_reaches_the_model(http):
    """``sem`` takes the constraints' standard errors too, by name or after the
    objectives'; they are kept as ``constraint_sem`` and the slack's GP is fitted with
    them, as the objectives' are."""
    params = {"num_restarts": 2, "raw_samples": 32, "mc_samples": 16}
    problem = PROBLEM | {"constraints": [{"name": "memory_left"}]}
    campaign = http.post("/api/v1/campaigns", json={
        "algorithm": "qlognehvi", "problem": problem, "params": params,
        "budget": {"evaluations": 12}, "seed": 3}).json()
    cid = campaign["id"]
    design = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 6}).json()["suggestions"]
    slack = [70 - s["params"]["temp"] for s in design]
    sems = [{"memory_left": 0.5 + i} if i % 2 else [None, 0.1, 0.5 + i] for i in range(6)]
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"suggestion_id": s["id"], "objectives": list(lab(**s["params"])),
         "constraints": [c], "sem": sem} for s, c, sem in zip(design, slack, sems, strict=True)]})
    assert told.status_code == 200, told.text
    items = http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]
    assert [item["meta"].get("constraint_sem") for item in items] == [[0.5 + i] for i in range(6)]
    assert [item["meta"].get("sem") for item in items] == [
        None if i % 2 else [None, 0.1] for i in range(6)]
    after = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 2}).json()["suggestions"]

    stored = dict(campaign["problem"])
    definition = registry.problem_definition(stored.pop("kind"), stored.pop("id"))
    info = definition.info(definition.config.model_validate(stored))
    x = np.array([[s["params"]["temp"], s["params"]["time"]] for s in design])

    def expected(constraint_sem):
        return bo.suggest_qlognehvi(info, params, 3, Observations(
            x=x, objectives=np.array([lab(*row) for row in x]), constraints=np.array([slack]).T,
            n_suggested=6, sem=np.array([[np.nan, np.nan if i % 2 else 0.1] for i in range(6)]),
            constraint_sem=constraint_sem), 2, "cpu")

    suggested = np.array([[s["params"]["temp"], s["params"]["time"]] for s in after])
    np.testing.assert_allclose(suggested, expected(np.array([[0.5 + i] for i in range(6)])))
    assert not np.allclose(suggested, expected(None))  # the slack's noise made a difference


@pytest.mark.parametrize(("sem", "loc", "message"), [
    ({"memory": 0.1}, ["body", "results", 0, "sem", "memory"],
     ("unknown name 'memory'; the objectives are yield, cost, the constraints memory_left, "
     "time_left")),
    ([0.1, 0.1, 0.1], ["body", "results", 0, "sem"],
     ("got 3 standard errors; expected 2 (yield, cost) or 4 with the constraints' "
     "(memory_left, time_left), null where one is not known")),
])
def test_a_standard_error_under_another_name_or_count_is_refused(http, sem, loc, message):
    cid = _campaign(http)
    response = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"params": {"temp": 40, "time": 2}, "objectives": [50.0, 6.0],
         "constraints": [1.0, 1.0], "sem": sem}]})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (loc, message)
    assert http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["total"] == 0


BOUNDED = PROBLEM | {"constraints": ["memory <= 16", {"name": "accuracy", "op": ">=",
                                                      "bound": 0.9}]}


def test_a_bounded_constraint_is_told_as_measured_and_stored_as_its_slack(http):
    created = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": BOUNDED, "budget": {"evaluations": 6}})
    assert created.status_code == 201, created.text
    assert created.json()["problem"]["constraints"] == [
        {"name": "memory", "op": "<=", "bound": 16.0},
        {"name": "accuracy", "op": ">=", "bound": 0.9}]
    cid = created.json()["id"]
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"params": {"temp": 40, "time": 2}, "objectives": [50.0, 6.0],
         "constraints": {"accuracy": 0.95, "memory": 12.5}},
        {"params": {"temp": 50, "time": 3}, "objectives": [60.0, 8.0], "constraints": [17.0, 0.95]},
        {"params": {"temp": 60, "time": 4}, "objectives": [70.0, 9.0], "constraints": [16.0, 0.5],
         "sem": {"memory": 0.5}},
    ]})
    assert told.status_code == 200, told.text
    items = http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]
    assert [(item["constraints"], item["feasible"]) for item in items] == [
        ([3.5, 0.95 - 0.9], True), ([-1.0, 0.95 - 0.9], False), ([0.0, 0.5 - 0.9], False)]
    assert [item["meta"]["constraint_values"] for item in items] == [
        [12.5, 0.95], [17.0, 0.95], [16.0, 0.5]]
    assert items[2]["meta"]["constraint_sem"] == [0.5, None]
    assert [item["on_front"] for item in items] == [True, False, False]


def test_a_slack_constraint_keeps_no_second_copy_of_its_values(http):
    cid = _campaign(http)
    http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"params": {"temp": 40, "time": 2}, "objectives": [50.0, 6.0], "constraints": [1.0, 2.0]}]})
    [item] = http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]
    assert "constraint_values" not in item["meta"]


@pytest.mark.parametrize(("constraints", "loc", "message"), [
    (["memory < 16"], [0], ("'memory < 16': a strict inequality cannot be told apart from its "
                           "bound; use <= or >=")),
    (["memory == 16"], [0], ("'memory == 16': '==' is not a bound; use <= or >= (an equality is "
                            "met by almost no measurement)")),
    (["memory <= 110%"], [0], ("'memory <= 110%': a bound relative to a baseline is not "
                              "supported; give it in the outcome's own units")),
    (["memory <= 0.9 * baseline"], [0], ("'memory <= 0.9 * baseline': a bound relative to a "
                                        "baseline is not supported; give it in the outcome's "
                                        "own units")),
    (["memory_left", "memory * time <= 2"], [1], (
        "'memory * time <= 2': cannot read the term 'memory * time'; a term is a number, a "
        "measured value, or a number times a measured value ('2*x'); write an outcome "
        "constraint as 'name <= bound', 'name >= bound', a sum of measured values 'a + 2*b "
        "<= bound', or a bare name")),
    (["3 <= 4"], [0], ("'3 <= 4': names no measured value with a coefficient other than 0; "
                       "write an outcome constraint as 'name <= bound', 'name >= bound', a sum "
                       "of measured values 'a + 2*b <= bound', or a bare name")),
    (["memory <= 16 <= 20"], [0], ("write an outcome constraint as 'name <= bound', 'name >= "
                                  "bound', a sum of measured values 'a + 2*b <= bound', or a "
                                  "bare name; got 'memory <= 16 <= 20'")),
    (["memory + 0.1*cost <= 9"], [], ("cost is an objective; an outcome constraint is on another "
                                     "measured value (an objective's least acceptable value is "
                                     "the campaign's reference_point)")),
    ([{"terms": {"a": 1, "b": 2}, "name": "ab", "op": "<=", "bound": 1}], [0],
     "a scalarised constraint is named by its sum, 'a + 2*b'; got name 'ab'"),
    ([{"terms": {"a": 1, "b": 0}, "op": "<=", "bound": 1}], [0],
     "'a + 0*b': a term with coefficient 0 counts nothing; leave it out"),
    ([{"op": "<=", "bound": 1}], [0], ("an outcome constraint needs a name (of the value told), "
                                      "or terms (a scalarised constraint's measured values)")),
    ([{"name": "memory", "op": "<", "bound": 16}], [0, "op"], "Input should be '<=' or '>='"),
    (["cost <= 9"], [], ("cost is an objective; an outcome constraint is on another measured "
                        "value (an objective's least acceptable value is the campaign's "
                        "reference_point)")),
])
def test_a_constraint_that_cannot_be_read_is_refused_naming_what_is_allowed(
        http, constraints, loc, message):
    response = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": PROBLEM | {"constraints": constraints},
        "budget": {"evaluations": 6}})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "problem", "constraints", *loc]
    assert error["msg"].removeprefix("Value error, ") == message
    assert http.get("/api/v1/campaigns").json()["total"] == 0


def test_the_model_sees_a_bounded_constraint_as_the_slack_it_leaves(http):
    """``memory <= 60`` told as ``temp`` leads to exactly the suggestions a bare slack
    told as ``60 - temp`` does: the bound is turned into the slack the GP models."""
    params = {"num_restarts": 2, "raw_samples": 32, "mc_samples": 16}
    suggested = []
    for constraint, told in (("memory <= 60", lambda temp: temp),
                             ("memory_left", lambda temp: 60 - temp)):
        cid = http.post("/api/v1/campaigns", json={
            "algorithm": "qlognehvi", "problem": PROBLEM | {"constraints": [constraint]},
            "params": params, "budget": {"evaluations": 10}, "seed": 5}).json()["id"]
        design = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 6}).json()["suggestions"]
        response = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
            {"suggestion_id": s["id"], "objectives": list(lab(**s["params"])),
             "constraints": [told(s["params"]["temp"])]} for s in design]})
        assert response.status_code == 200, response.text
        feasible = [item["feasible"] for item in
                    http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]]
        assert feasible == [s["params"]["temp"] <= 60 for s in design]
        assert any(feasible) and not all(feasible)
        after = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 2}).json()["suggestions"]
        suggested.append([s["params"] for s in after])
    assert suggested[0] == suggested[1]


def test_client_optimize_takes_a_bounded_constraint_as_measured(sqlite_database, make_server):
    server = make_server(sqlite_database).start()

    def measured(temp: float, time: float) -> dict[str, float]:
        crop, cost = lab(temp, time)
        return {"yield": crop, "cost": cost, "memory": temp / 4}

    with Client(server.url) as client:
        campaign = client.optimize(measured, parameters={"temp": (20, 90), "time": (1, 10)},
                                   objectives={"yield": "maximize", "cost": "minimize"},
                                   budget=8, algorithm="sobol", batch_size=4,
                                   constraints=["memory <= 15"])
        assert campaign.constraint_names == ["memory"]
        evaluations = campaign.evaluations()
        assert list(evaluations["constraint.memory"]) == list(evaluations["param.temp"] / 4)
        assert list(evaluations["feasible"]) == list(evaluations["param.temp"] <= 60)
        assert not evaluations["feasible"].all() and evaluations["feasible"].any()
        assert (campaign.front()["param.temp"] <= 60).all()
