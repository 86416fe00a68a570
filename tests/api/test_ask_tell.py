"""Ask/tell campaigns on external problems: suggestions, results, pending and expiry,
and every bad result refused with nothing stored."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import moocore
import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.client import Client
from api.settings import Settings

PROBLEM = {
    "kind": "external",
    "parameters": [{"name": "temp", "low": 20, "high": 90}, {"name": "time", "low": 1, "high": 10}],
    "objectives": [{"name": "yield", "sense": "maximize"}, {"name": "cost", "sense": "minimize"}],
}


def lab(temp: float, time: float) -> tuple[float, float]:
    """A stand-in for a lab experiment: yield peaks at 70 degrees, cost grows with both."""
    return 100 - (temp - 70) ** 2 / 20 - (time - 6) ** 2, temp * 0.1 + time


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def submit(http: TestClient, budget: int = 10, **problem_changes: object) -> dict:
    response = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": PROBLEM | problem_changes,
        "budget": {"evaluations": budget}, "seed": 4})
    assert response.status_code == 201, response.text
    return response.json()


def test_client_optimize_drives_a_local_function_to_its_budget(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with Client(server.url) as client:
        campaign = client.optimize(lab, parameters={"temp": (20, 90), "time": (1, 10)},
                                   objectives={"yield": "maximize", "cost": "minimize"},
                                   budget=12, algorithm="sobol", batch_size=5)
        campaign.refresh()
        assert campaign.status == "succeeded"
        assert campaign.data["runs_on"] == "client"
        assert campaign.data["worker"] is None and campaign.data["attempts"] == 0
        evaluations = campaign.evaluations()
        assert len(evaluations) == 12 and list(evaluations["seq"]) == list(range(12))
        for _, row in evaluations.iterrows():
            assert (row["yield"], row["cost"]) == pytest.approx(lab(row["param.temp"],
                                                                    row["param.time"]))
        values = np.column_stack([-evaluations["yield"], evaluations["cost"]])
        front = campaign.front()
        assert set(front["evaluation_id"]) == set(
            evaluations["evaluation_id"][moocore.is_nondominated(values, keep_weakly=True)])


def test_ask_conditions_on_pending_and_tell_stores_results(http):
    campaign = submit(http, budget=8)
    assert campaign["status"] == "running" and campaign["runs_on"] == "client"
    cid = campaign["id"]
    first = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 3}).json()
    second = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 3}).json()
    assert second["pending"] == 6 and second["remaining"] == 2
    points = [tuple(s["params"].values()) for s in first["suggestions"] + second["suggestions"]]
    assert len(set(points)) == 6
    for s in first["suggestions"] + second["suggestions"]:
        assert 20 <= s["params"]["temp"] <= 90 and 1 <= s["params"]["time"] <= 10

    results = [{"suggestion_id": s["id"], "objectives": list(lab(**s["params"]))}
               for s in first["suggestions"]]
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": results}).json()
    assert told["n_evaluations"] == 3 and told["remaining"] == 5
    assert [e["seq"] for e in told["evaluations"]] == [0, 1, 2]

    mine = {"params": {"temp": 70.0, "time": 6.0}, "objectives": {"cost": 13.0, "yield": 100.0}}
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [mine]}).json()
    assert told["evaluations"][0]["on_front"] is True

    items = http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]
    assert [i["meta"]["source"] for i in items] == ["ask", "ask", "ask", "user"]
    assert items[3]["objectives"] == [100.0, 13.0]  # a mapping is stored in objective order
    assert items[0]["params"] == first["suggestions"][0]["params"]

    # 3 pending + 4 told = 7 of 8: one more suggestion at most
    third = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 5}).json()
    assert len(third["suggestions"]) == 1 and third["remaining"] == 0
    refused = http.post(f"/api/v1/campaigns/{cid}/ask")
    assert refused.status_code == 409 and "no budget left" in refused.json()["detail"]

    rest = [{"suggestion_id": s["id"], "objectives": list(lab(**s["params"]))}
            for s in second["suggestions"] + third["suggestions"]]
    done = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": rest}).json()
    assert done["status"] == "succeeded" and done["n_evaluations"] == 8
    assert http.post(f"/api/v1/campaigns/{cid}/ask").status_code == 409


TRAINING = {
    "kind": "external",
    "parameters": [{"name": "lr", "low": 1e-5, "high": 0.1, "log_scale": True},
                   {"name": "layers", "low": 1, "high": 6, "value_type": "int"},
                   {"name": "optimizer", "value_type": "choice", "values": ["sgd", "adam"]},
                   {"name": "batch", "value_type": "choice", "values": [32, 64, 128]}],
    "objectives": [{"name": "accuracy"}, {"name": "latency", "sense": "minimize"}],
}


def training_run(lr: float, layers: int, optimizer: str, batch: int) -> tuple[float, float]:
    """A stand-in for training a network: accuracy peaks at lr = 1e-3 and is better with
    adam; deeper and smaller batches are slower."""
    accuracy = 1 - 0.1 * (math.log10(lr) + 3) ** 2 + 0.05 * layers + 0.1 * (optimizer == "adam")
    return accuracy, 2.0 * layers + 64 / batch


def test_int_and_log_parameters_are_suggested_and_told_as_declared(http):
    response = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": TRAINING, "budget": {"evaluations": 40}, "seed": 1})
    assert response.status_code == 201, response.text
    cid = response.json()["id"]
    suggestions = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 32}).json()["suggestions"]
    layers = [s["params"]["layers"] for s in suggestions]
    lrs = np.array([s["params"]["lr"] for s in suggestions])
    assert all(type(n) is int and 1 <= n <= 6 for n in layers), layers
    assert set(layers) == {1, 2, 3, 4, 5, 6}
    assert {s["params"]["optimizer"] for s in suggestions} == {"sgd", "adam"}
    assert {s["params"]["batch"] for s in suggestions} == {32, 64, 128}
    assert all(type(s["params"]["batch"]) is int for s in suggestions)
    assert ((lrs >= 1e-5) & (lrs <= 0.1)).all()
    # on a log scale: as many suggestions below 1e-3 (two decades of four) as above it
    assert 12 <= (lrs < 1e-3).sum() <= 20

    good = {"lr": 1e-3, "layers": 3, "optimizer": "adam", "batch": 64}
    for change, message in [
        ({"layers": 2.5}, "layers = 2.5 is not a whole number; the parameter is an int"),
        ({"optimizer": "rmsprop"}, "optimizer = 'rmsprop' is not one of its values: 'sgd', 'adam'"),
        ({"batch": "64"}, "batch = '64' is not one of its values: 32, 64, 128"),
        ({"lr": "fast"}, "lr = 'fast' is not a number; the parameter is numeric"),
    ]:
        refused = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
            {"params": good | change, "objectives": [0.5, 6.0]}]})
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"][0]
        assert detail["loc"] == ["body", "results", 0, "params", next(iter(change))]
        assert message in detail["msg"]

    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"params": good | {"batch": 64.0}, "objectives": list(training_run(**good))},
        {"suggestion_id": suggestions[0]["id"],
         "objectives": list(training_run(**suggestions[0]["params"]))}]})
    assert told.status_code == 200, told.text
    items = http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]
    assert items[0]["params"] == good and type(items[0]["params"]["batch"]) is int
    assert items[1]["params"] == suggestions[0]["params"]
    # the next suggestions are conditioned on the stored choices (read back as indices)
    assert http.post(f"/api/v1/campaigns/{cid}/ask").status_code == 200


def test_a_choice_is_ordered_or_a_category_as_declared_else_as_ax_decides(http):
    """Unset, ``is_ordered`` follows Ax: ordered unless the values are more than two
    strings, and ordered numbers sorted; the campaign stores what was decided."""
    declared = [{"name": "batch", "value_type": "choice", "values": [128, 32, 64]},
                {"name": "optimizer", "value_type": "choice", "values": ["sgd", "adam", "adamw"]},
                {"name": "norm", "value_type": "choice", "values": ["batch", "layer"]},
                {"name": "size", "value_type": "choice", "values": ["s", "m", "l"],
                 "is_ordered": True},
                {"name": "seed", "value_type": "choice", "values": [3, 1, 2],
                 "is_ordered": False}]
    response = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": PROBLEM | {"parameters": declared},
        "budget": {"evaluations": 8}})
    assert response.status_code == 201, response.text
    stored = response.json()["problem"]["parameters"]
    assert [(p["values"], p["is_ordered"]) for p in stored] == [
        ([32, 64, 128], True), (["sgd", "adam", "adamw"], False), (["batch", "layer"], True),
        (["s", "m", "l"], True), ([3, 1, 2], False)]
    cid = response.json()["id"]
    suggestions = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 8}).json()["suggestions"]
    assert {s["params"]["batch"] for s in suggestions} == {32, 64, 128}
    assert {s["params"]["size"] for s in suggestions} == {"s", "m", "l"}


def test_client_optimize_takes_int_and_log_parameters_through_the_model(sqlite_database,
                                                                        make_server):
    server = make_server(sqlite_database).start()
    with Client(server.url) as client:
        campaign = client.optimize(
            training_run,
            parameters={"lr": {"low": 1e-5, "high": 0.1, "log_scale": True},
                        "layers": {"low": 1, "high": 6, "value_type": "int"},
                        "optimizer": ["sgd", "adam", "adamw"],  # a list: the choices
                        "batch": [128, 32, 64]},
            objectives={"accuracy": "maximize", "latency": "minimize"},
            budget=13, algorithm="qlognehvi", batch_size=3,
            params={"num_restarts": 2, "raw_samples": 32, "mc_samples": 16})
        evaluations = campaign.evaluations()
    assert campaign.status == "succeeded" and len(evaluations) == 13
    declared = {p["name"]: p for p in campaign.data["problem"]["parameters"]}
    assert (declared["optimizer"]["values"], declared["optimizer"]["is_ordered"]) == (
        ["sgd", "adam", "adamw"], False)
    assert (declared["batch"]["values"], declared["batch"]["is_ordered"]) == ([32, 64, 128], True)
    layers, lrs = evaluations["param.layers"], evaluations["param.lr"]
    assert (layers == layers.round()).all() and layers.between(1, 6).all()
    assert lrs.between(1e-5, 0.1).all()  # 2 (d + 1) = 10 design points, then 3 from the GP
    assert set(evaluations["param.optimizer"]) <= {"sgd", "adam", "adamw"}
    assert set(evaluations["param.batch"]) <= {32, 64, 128}


def test_client_optimize_refuses_a_parameter_it_cannot_read_and_submits_nothing(
        sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with Client(server.url) as client:
        for form in [(1, 2, 3), 0.5, "sgd"]:
            with pytest.raises(ValueError, match=r"parameters\['lr'\]: expected \(low, high\), "
                                                 "a list of choices or a mapping"):
                client.optimize(lab, parameters={"temp": (20, 90), "lr": form},
                                objectives={"yield": "maximize", "cost": "minimize"}, budget=4)
        assert client.campaigns() == []


def test_suggestions_expire_and_late_results_are_still_stored(http):
    cid = submit(http, budget=6, suggestion_ttl_seconds=0.5)["id"]
    early = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 4}).json()
    assert early["pending"] == 4
    time.sleep(0.8)
    later = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 2}).json()
    assert later["pending"] == 2  # the four expired: no longer conditioned on
    late = early["suggestions"][0]
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"suggestion_id": late["id"], "objectives": list(lab(**late["params"]))}]})
    assert told.status_code == 200, told.text


def _bad_tells(first: dict, told: dict) -> list[tuple[dict, int, list, str]]:
    ok = list(lab(**first["params"]))
    return [
        ({"suggestion_id": 9999, "objectives": ok}, 422, ["suggestion_id"], "unknown suggestion"),
        ({"suggestion_id": told["id"], "objectives": ok}, 409, ["suggestion_id"],
         "already told"),
        ({"suggestion_id": first["id"], "objectives": [1.0]}, 422, ["objectives"],
         "expected 2"),
        ({"suggestion_id": first["id"], "objectives": {"yield": 1.0}}, 422, ["objectives"],
         "expected values for yield, cost"),
        ({"params": {"temp": 95.0, "time": 2.0}, "objectives": ok}, 422, ["params", "temp"],
         "outside its bounds [20.0, 90.0]"),
        ({"params": {"temp": 30.0}, "objectives": ok}, 422, ["params", "time"],
         "missing parameter"),
        ({"params": {"temp": 30.0, "time": 2.0, "pressure": 1.0}, "objectives": ok}, 422,
         ["params", "pressure"], "unknown parameter"),
        ({"objectives": ok}, 422, [], "either suggestion_id"),
        ({"suggestion_id": first["id"], "params": {"temp": 30.0, "time": 2.0},
          "objectives": ok}, 422, [], "not both"),
    ]


def test_bad_results_are_refused_and_nothing_changes(http):
    cid = submit(http, budget=3)["id"]
    first, told = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 2}).json()["suggestions"]
    http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"suggestion_id": told["id"], "objectives": list(lab(**told["params"]))}]})
    before = http.get(f"/api/v1/campaigns/{cid}/evaluations").json()

    for result, status, loc_tail, message in _bad_tells(first, told):
        response = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [result]})
        assert response.status_code == status, (result, response.text)
        detail = response.json()["detail"]
        assert detail[0]["loc"][:3] == ["body", "results", 0], detail
        assert detail[0]["loc"][3:] == loc_tail, detail
        assert message in detail[0]["msg"], detail

    for token in ("NaN", "Infinity"):
        body = f'{{"results": [{{"suggestion_id": {first["id"]}, "objectives": [1, {token}]}}]}}'
        response = http.post(f"/api/v1/campaigns/{cid}/tell", content=body,
                             headers={"content-type": "application/json"})
        assert response.status_code == 422, response.text

    # a good result and a bad one in the same request: neither is stored
    mixed = [{"suggestion_id": first["id"], "objectives": list(lab(**first["params"]))},
             {"suggestion_id": 9999, "objectives": [1.0, 2.0]}]
    assert http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": mixed}).status_code == 422
    too_many = [{"params": {"temp": 30.0 + i, "time": 2.0}, "objectives": [1.0, 2.0]}
                for i in range(3)]
    response = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": too_many})
    assert response.status_code == 409 and "takes 2 more result(s)" in response.json()["detail"]
    assert http.get(f"/api/v1/campaigns/{cid}/evaluations").json() == before


def test_ask_tell_only_for_external_campaigns(http):
    worker_campaign = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": {"kind": "test-function", "id": "zdt1"},
        "budget": {"evaluations": 5}}).json()
    for route in ("ask", "tell"):
        response = http.post(f"/api/v1/campaigns/{worker_campaign['id']}/{route}",
                             json={"results": [{"params": {}, "objectives": [1, 2]}]})
        assert response.status_code == 409 and "runs on a worker" in response.json()["detail"]
    assert http.post("/api/v1/campaigns/999/ask").status_code == 404
    assert http.post("/api/v1/campaigns/999/tell", json={"results": [
        {"params": {}, "objectives": [1]}]}).status_code == 404
    cid = submit(http)["id"]
    assert http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 0}).status_code == 422
    assert http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 101}).status_code == 422
    cancelled = http.post(f"/api/v1/campaigns/{cid}/cancel").json()
    assert cancelled["status"] == "cancelled"
    assert http.post(f"/api/v1/campaigns/{cid}/ask").status_code == 409


@pytest.mark.parametrize(("problem", "loc", "message"), [
    (PROBLEM | {"parameters": [{"name": "temp", "low": 90, "high": 20}]},
     ["body", "problem", "parameters", 0], "must be below high"),
    (PROBLEM | {"objectives": [{"name": "y"}, {"name": "y"}]},
     ["body", "problem"], "names must be unique; repeated: y"),
    (PROBLEM | {"objectives": [{"name": "y", "sense": "up"}]},
     ["body", "problem", "objectives", 0, "sense"], "'minimize' or 'maximize'"),
    ({"kind": "external", "objectives": PROBLEM["objectives"]},
     ["body", "problem", "parameters"], "required"),
    (PROBLEM | {"parameters": [{"name": "lr", "low": 0, "high": 1, "log_scale": True}]},
     ["body", "problem", "parameters", 0], "'lr': log_scale needs low > 0; got low 0.0"),
    (PROBLEM | {"parameters": [{"name": "n", "low": 0.5, "high": 4, "value_type": "int"}]},
     ["body", "problem", "parameters", 0], "'n': an int parameter needs whole-number bounds"),
    (PROBLEM | {"parameters": [{"name": "n", "low": 0, "high": 4, "value_type": "integer"}]},
     ["body", "problem", "parameters", 0, "value_type"], "'float', 'int' or 'choice'"),
    (PROBLEM | {"parameters": [{"name": "opt", "value_type": "choice"}]},
     ["body", "problem", "parameters", 0], "'opt': a choice parameter needs values"),
    (PROBLEM | {"parameters": [{"name": "opt", "value_type": "choice", "values": ["a", "a"]}]},
     ["body", "problem", "parameters", 0], "'opt': values must be unique; repeated: a"),
    (PROBLEM | {"parameters": [{"name": "opt", "low": 0, "high": 1, "values": ["a", "b"]}]},
     ["body", "problem", "parameters", 0], "values and is_ordered are for value_type 'choice'"),
    (PROBLEM | {"parameters": [{"name": "lr", "low": 0, "high": 1, "is_ordered": True}]},
     ["body", "problem", "parameters", 0], "values and is_ordered are for value_type 'choice'"),
    (PROBLEM | {"parameters": [{"name": "temp", "high": 1}]},
     ["body", "problem", "parameters", 0], "'temp': a float parameter needs low and high"),
])
def test_bad_external_problems_are_refused(http, problem, loc, message):
    response = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": problem, "budget": {"evaluations": 5}})
    assert response.status_code == 422, response.text
    matching = [e for e in response.json()["detail"] if e["loc"] == loc]
    assert matching and message in matching[0]["msg"], response.json()["detail"]
    assert http.get("/api/v1/campaigns").json()["total"] == 0
