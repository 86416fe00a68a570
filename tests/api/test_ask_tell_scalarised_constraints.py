"""Scalarised outcome constraints, as Ax 1.3 reads them: a linear combination of
measured values with a bound (``"a + 2*b <= 10"``). The values are told by their own
names; the constraint's value is their sum, stored as its slack, with the values told
kept beside it; standard errors combine; the client takes the values from the
function; the BO methods model each value, as Ax does."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

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


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def _submit(http: TestClient, constraints: list, algorithm: str = "sobol", budget: int = 10,
            **spec) -> dict:
    response = http.post("/api/v1/campaigns", json={
        "algorithm": algorithm, "problem": PROBLEM | {"constraints": constraints},
        "budget": {"evaluations": budget}, **spec})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(("text", "stored"), [
    ("gpu + 2*cpu <= 10", {"name": "gpu + 2*cpu", "op": "<=", "bound": 10.0,
                           "terms": {"gpu": 1.0, "cpu": 2.0}}),
    ("gpu <= cpu", {"name": "gpu - cpu", "op": "<=", "bound": 0.0,
                    "terms": {"gpu": 1.0, "cpu": -1.0}}),
    ("gpu + cpu - 10 >= 0.5*cpu", {"name": "gpu + 0.5*cpu", "op": ">=", "bound": 10.0,
                                   "terms": {"gpu": 1.0, "cpu": 0.5}}),
    # one measured value with a coefficient, or on the right, is that value's own bound
    ("2*memory <= 32", {"name": "memory", "op": "<=", "bound": 16.0}),
    ("16 >= memory", {"name": "memory", "op": "<=", "bound": 16.0}),
    ("-memory >= -16", {"name": "memory", "op": "<=", "bound": 16.0}),
])
def test_a_linear_combination_is_read_as_ax_reads_it(http, text, stored):
    assert _submit(http, [text])["problem"]["constraints"] == [stored]


def test_the_values_are_told_by_their_own_names_and_the_sum_is_stored_as_its_slack(http):
    campaign = _submit(http, ["gpu + 2*cpu <= 10", "gpu <= 4"])
    cid = campaign["id"]
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"params": {"temp": 40, "time": 2}, "objectives": [50.0, 6.0],
         "constraints": {"cpu": 2.0, "gpu": 3.0}},                     # 7 <= 10, 3 <= 4
        {"params": {"temp": 50, "time": 3}, "objectives": [60.0, 8.0],
         "constraints": [5.0, 3.0]},                                  # gpu, cpu: 11 > 10
        {"params": {"temp": 60, "time": 4}, "objectives": [70.0, 9.0],
         "constraints": [4.5, 1.0]},                                  # 6.5 <= 10, 4.5 > 4
    ]})
    assert told.status_code == 200, told.text
    items = http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]
    assert [(item["constraints"], item["feasible"], item["on_front"]) for item in items] == [
        ([3.0, 1.0], True, True), ([-1.0, -1.0], False, False), ([3.5, -0.5], False, False)]
    assert [item["meta"]["constraint_values"] for item in items] == [
        [7.0, 3.0], [11.0, 5.0], [6.5, 4.5]]
    assert [item["meta"]["metric_values"] for item in items] == [
        {"gpu": 3.0, "cpu": 2.0}, {"gpu": 5.0, "cpu": 3.0}, {"gpu": 4.5, "cpu": 1.0}]


def test_standard_errors_of_the_values_combine_into_the_constraints(http):
    cid = _submit(http, ["gpu + 2*cpu <= 10", "gpu <= 4"])["id"]
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"params": {"temp": 40, "time": 2}, "objectives": [50.0, 6.0],
         "constraints": [3.0, 2.0], "sem": {"gpu": 0.3, "cpu": 0.2}},
        {"params": {"temp": 50, "time": 3}, "objectives": [60.0, 8.0],
         "constraints": [3.0, 2.0], "sem": [0.5, None, 0.3, None]},    # cpu's unknown
    ]})
    assert told.status_code == 200, told.text
    first, second = (item["meta"] for item in
                     http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"])
    assert first["metric_sem"] == {"gpu": 0.3, "cpu": 0.2}
    assert first["constraint_sem"] == pytest.approx([math.hypot(0.3, 2 * 0.2), 0.3])
    assert "sem" not in first
    # the sum's error is unknown where one of its terms' is; gpu's own constraint keeps it
    assert (second["sem"], second["metric_sem"], second["constraint_sem"]) == (
        [0.5, None], {"gpu": 0.3}, [None, 0.3])


@pytest.mark.parametrize(("result", "loc", "message"), [
    ({"constraints": {"gpu + 2*cpu": 7.0}}, ["constraints"],
     "expected values for gpu, cpu; got gpu + 2*cpu"),
    ({"constraints": [7.0]}, ["constraints"], "got 1 values; expected 2 (gpu, cpu)"),
    ({}, ["constraints"], ("the problem declares 1 constraint(s) (gpu + 2*cpu); give the "
                           "values of gpu, cpu")),
    ({"constraints": [3.0, 2.0], "sem": {"gpu + 2*cpu": 0.1}}, ["sem", "gpu + 2*cpu"],
     ("unknown name 'gpu + 2*cpu'; the objectives are yield, cost, the values measured for "
      "the constraints gpu, cpu")),
])
def test_the_sum_told_in_place_of_its_values_is_refused_naming_them(http, result, loc, message):
    cid = _submit(http, ["gpu + 2*cpu <= 10"])["id"]
    response = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"params": {"temp": 40, "time": 2}, "objectives": [50.0, 6.0]} | result]})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (["body", "results", 0, *loc], message)
    assert http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["total"] == 0


def test_a_repeated_sum_is_refused(http):
    response = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "budget": {"evaluations": 6},
        "problem": PROBLEM | {"constraints": ["a + b <= 3", "a + b >= 1"]}})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["msg"].removeprefix("Value error, ") == (
        "constraints: names must be unique; repeated: a + b")


def test_the_model_fits_each_value_a_sum_bounds_as_ax_does(http):
    """``heat + 2*wear <= 60``: the BO methods fit a GP to ``heat`` and one to ``wear``
    (not to the sum), and feasibility is the sum of their samples: the suggestions are
    those of the observations with the values told (``Observations.metrics``), and not
    those of a GP fitted to the sum."""
    params = {"num_restarts": 2, "raw_samples": 32, "mc_samples": 16}
    campaign = _submit(http, ["heat + 2*wear <= 60"], algorithm="qlognehvi", params=params,
                       seed=5)
    cid = campaign["id"]
    design = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 6}).json()["suggestions"]
    told = [{"heat": s["params"]["temp"] / 2, "wear": s["params"]["time"] ** 2}
            for s in design]
    response = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"suggestion_id": s["id"], "objectives": list(lab(**s["params"])), "constraints": t,
         "sem": {"wear": 0.5}} for s, t in zip(design, told, strict=True)]})
    assert response.status_code == 200, response.text
    feasible = [item["feasible"] for item in
                http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]]
    assert any(feasible) and not all(feasible)
    after = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 2}).json()["suggestions"]

    stored = dict(campaign["problem"])
    definition = registry.problem_definition(stored.pop("kind"), stored.pop("id"))
    info = definition.info(definition.config.model_validate(stored))
    x = np.array([[s["params"]["temp"], s["params"]["time"]] for s in design])
    total = np.array([[t["heat"] + 2 * t["wear"]] for t in told])
    observed = Observations(x=x, objectives=np.array([lab(*row) for row in x]),
                            constraints=60 - total, n_suggested=6,
                            constraint_sem=np.full((6, 1), 1.0))  # 2 * 0.5, heat's unknown

    def suggested(observations):
        return bo.suggest_qlognehvi(info, params, 5, observations, 2, "cpu")

    by_values = suggested(replace(
        observed, metrics=np.array([[t["heat"], t["wear"]] for t in told]),
        metric_sem=np.array([[np.nan, 0.5]] * 6), constraint_sem=None))
    shown = np.array([[s["params"]["temp"], s["params"]["time"]] for s in after])
    np.testing.assert_allclose(shown, by_values)
    assert not np.allclose(shown, suggested(observed))  # a GP of the sum suggests otherwise


def test_client_optimize_takes_the_values_a_sum_needs_from_the_function(
        sqlite_database, make_server):
    server = make_server(sqlite_database).start()

    def measured(temp: float, time: float) -> dict[str, float]:
        crop, cost = lab(temp, time)
        return {"yield": crop, "cost": cost, "heat": temp / 2, "wear": time}

    def in_order(temp: float, time: float) -> list[float]:
        return [*lab(temp, time), temp / 2, time]

    with Client(server.url) as client:
        for fn in (measured, in_order):
            campaign = client.optimize(fn, parameters={"temp": (20, 90), "time": (1, 10)},
                                       objectives={"yield": "maximize", "cost": "minimize"},
                                       budget=8, algorithm="sobol", batch_size=4,
                                       constraints=["heat + 3*wear <= 45"])
            assert campaign.constraint_names == ["heat + 3*wear"]
            assert campaign.constraint_metrics == ["heat", "wear"]
            evaluations = campaign.evaluations()
            assert list(evaluations["metric.heat"]) == list(evaluations["param.temp"] / 2)
            assert list(evaluations["metric.wear"]) == list(evaluations["param.time"])
            total = evaluations["param.temp"] / 2 + 3 * evaluations["param.time"]
            assert list(evaluations["constraint.heat + 3*wear"]) == pytest.approx(list(total))
            assert list(evaluations["feasible"]) == list(total <= 45)
            assert not evaluations["feasible"].all() and evaluations["feasible"].any()
            front = campaign.front()
            assert (front["param.temp"] / 2 + 3 * front["param.time"] <= 45).all()


def test_the_denoised_front_judges_a_sum_told_with_errors_by_its_predicted_slack(http):
    """A run at 90 degrees, measured again, would top the front only because both
    values its constraint sums came out lucky the second time (56 in all, inside the
    bound of 60; truly 90). Told with standard errors, the sum's error is theirs combined,
    and the denoised front goes by the model's predicted slack, which leaves it out."""
    cid = _submit(http, ["heat + wear <= 60"], budget=20)["id"]
    grid = [(temp, time) for temp in (30, 45, 60, 75, 90) for time in (2, 6, 10)]
    results = [{"params": {"temp": t, "time": h}, "objectives": [t, h],
                "constraints": {"heat": t / 2, "wear": t / 2}, "sem": {"heat": 6, "wear": 8}}
               for t, h in grid]
    lucky = len(results)
    results.append({"params": {"temp": 90, "time": 6}, "objectives": [90.0, 6.0],
                    "constraints": {"heat": 28.0, "wear": 28.0}, "sem": {"heat": 6, "wear": 8}})
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": results})
    assert told.status_code == 200, told.text
    [stored] = {tuple(item["meta"]["constraint_sem"]) for item in
                http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]}
    assert stored == pytest.approx((10.0,))  # the root of 6^2 + 8^2
    measured = http.get(f"/api/v1/campaigns/{cid}/front").json()["points"]
    assert lucky in {p["seq"] for p in measured}
    denoised = http.get(f"/api/v1/campaigns/{cid}/front", params={"denoised": "true"})
    assert denoised.status_code == 200, denoised.text
    points = denoised.json()["points"]
    assert points and lucky not in {p["seq"] for p in points}
    assert all(p["predicted_slacks"][0] >= 0 for p in points)


def test_the_model_views_show_a_sum_through_its_values_gps(http):
    cid = _submit(http, ["heat + 2*wear <= 60"], budget=12)["id"]
    grid = [(temp, time) for temp in (30, 50, 70, 90) for time in (2, 6, 10)]
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"params": {"temp": t, "time": h}, "objectives": list(lab(t, h)),
         "constraints": {"heat": t / 2, "wear": h}} for t, h in grid]})
    assert told.status_code == 200, told.text
    fit = http.get(f"/api/v1/campaigns/{cid}/model-fit").json()["outcomes"]
    assert [(o["name"], o["kind"]) for o in fit] == [
        ("yield", "objective"), ("cost", "objective"), ("heat + 2*wear", "constraint")]
    assert [p["observed"] for p in fit[2]["points"]] == pytest.approx(
        [t / 2 + 2 * h for t, h in grid])
    assert fit[2]["r2"] > 0.9  # a sum of two smooth values, each with a GP of its own
    importance = http.get(f"/api/v1/campaigns/{cid}/importance").json()["outcomes"]
    total = dict(zip(["temp", "time"], importance[2]["total"], strict=True))
    assert total["temp"] > 0.5 > total["time"] > 0.1  # temp/2 spans 30, 2*time 18
    sliced = http.get(f"/api/v1/campaigns/{cid}/model-slice",
                      params={"parameter": "time", "points": 5})
    assert sliced.status_code == 200, sliced.text
