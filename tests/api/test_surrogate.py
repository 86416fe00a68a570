"""What the GPs fitted to a campaign's evaluations say about it, through the API, the
Python client and the CLI: ``GET /campaigns/{id}/importance`` (the parameters' Sobol
indices, and their Shapley effects under parameter constraints) and ``GET /campaigns/{id}/model-fit`` (leave-one-out cross-validation)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.client import Client
from api.settings import Settings
from bayesopt.external import ExternalConfig, ExternalDefinition
from bayesopt.shapley import shapley_effects
from tests.api.test_ask_tell import PROBLEM, lab, submit
from tests.api.test_client_and_cli import mofront

# cost = 0.1 temp + time with temp uniform on [20, 90] and time on [1, 10]: the variances
# 0.01 * 70^2 / 12 and 9^2 / 12, so temp has 0.377 of cost's variance and time 0.623
COST_SHARES = [0.01 * 70**2 / (0.01 * 70**2 + 81), 81 / (0.01 * 70**2 + 81)]


def _variance_of_square(low: float, high: float) -> float:
    """Var(u^2) for u uniform on [low, high]."""
    width = high - low
    return (high**5 - low**5) / (5 * width) - ((high**3 - low**3) / (3 * width)) ** 2


# yield = 100 - (temp - 70)^2 / 20 - (time - 6)^2 is a sum too, so its shares are the
# variances of its terms over their sum: 0.967 for temp, 0.033 for time
YIELD_TERMS = [_variance_of_square(-50, 20) / 400, _variance_of_square(-5, 4)]
YIELD_SHARES = [term / sum(YIELD_TERMS) for term in YIELD_TERMS]


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def _told(http: TestClient, n: int, **problem_changes: object) -> int:
    """An ask/tell campaign with ``n`` results of the lab function told."""
    cid = submit(http, budget=n, **problem_changes)["id"]
    suggestions = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": n}).json()["suggestions"]
    results = [{"suggestion_id": s["id"], "objectives": list(lab(**s["params"]))}
               for s in suggestions]
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": results})
    assert told.status_code == 200, told.text
    return cid


def test_each_objective_gets_the_share_of_its_variance_each_parameter_explains(http):
    cid = _told(http, 24)
    response = http.get(f"/api/v1/campaigns/{cid}/importance")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["n_evaluations"] == 24
    assert result["parameters"] == ["temp", "time"]
    assert [(o["name"], o["kind"], o["sense"]) for o in result["outcomes"]] == [
        ("yield", "objective", "maximize"), ("cost", "objective", "minimize")]
    cost = result["outcomes"][1]
    assert cost["first_order"] == pytest.approx(COST_SHARES, abs=0.03)
    assert cost["total"] == pytest.approx(COST_SHARES, abs=0.03)
    assert cost["variance"] == pytest.approx(0.01 * 70**2 / 12 + 81 / 12, rel=0.05)
    assert all(se >= 0 for se in cost["first_order_se"] + cost["total_se"])
    assert result["outcomes"][0]["total"] == pytest.approx(YIELD_SHARES, abs=0.03)
    assert "Sobol indices of the GP posterior mean" in result["method"]
    assert result["note"] is None
    assert all(o["fit_r2"] > 0.95 for o in result["outcomes"])  # smooth: well predicted


def test_model_fit_predicts_each_evaluation_from_the_others(http):
    cid = _told(http, 20)
    response = http.get(f"/api/v1/campaigns/{cid}/model-fit")
    assert response.status_code == 200, response.text
    result = response.json()
    evaluations = http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]
    assert result["n_evaluations"] == 20
    assert "leave-one-out" in result["method"]
    for j, outcome in enumerate(result["outcomes"]):
        assert outcome["name"] == ["yield", "cost"][j]
        assert [p["evaluation_id"] for p in outcome["points"]] == [e["id"] for e in evaluations]
        assert [p["observed"] for p in outcome["points"]] == [
            e["objectives"][j] for e in evaluations]
        assert all(p["sd"] > 0 for p in outcome["points"])
        assert outcome["r2"] > 0.95 and outcome["rank_correlation"] > 0.95
        assert 0.0 <= outcome["coverage"] <= 1.0
    # the importance endpoint's fit_r2 is this R^2
    importance = http.get(f"/api/v1/campaigns/{cid}/importance").json()
    assert [o["fit_r2"] for o in importance["outcomes"]] == pytest.approx(
        [o["r2"] for o in result["outcomes"]], abs=1e-12)


def test_model_slice_follows_one_parameter_through_one_evaluation(http):
    cid = _told(http, 20)
    evaluations = http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]
    response = http.get(f"/api/v1/campaigns/{cid}/model-slice",
                        params={"parameter": "temp", "points": 8})
    assert response.status_code == 200, response.text
    result = response.json()
    earliest_on_front = next(e for e in evaluations if e["on_front"])
    assert result["at_evaluation_id"] == earliest_on_front["id"]
    assert result["at_params"] == earliest_on_front["params"]
    assert result["values"] == pytest.approx([20 + 10 * k for k in range(8)])
    assert result["inside"] == [True] * 8  # no parameter constraints
    time = earliest_on_front["params"]["time"]
    _, cost = result["outcomes"]
    assert cost["name"] == "cost" and cost["sense"] == "minimize"
    assert cost["mean"] == pytest.approx([lab(t, time)[1] for t in result["values"]], abs=0.3)
    assert all(sd >= 0 for sd in cost["sd"])

    through = evaluations[-1]
    other = http.get(f"/api/v1/campaigns/{cid}/model-slice",
                     params={"parameter": "time", "at": through["id"], "points": 4}).json()
    assert other["at_evaluation_id"] == through["id"] and len(other["values"]) == 4
    assert other["outcomes"][1]["mean"] == pytest.approx(
        [lab(through["params"]["temp"], t)[1] for t in other["values"]], abs=0.3)


def test_model_contour_covers_two_parameters_through_one_evaluation(http):
    cid = _told(http, 20, parameter_constraints=["temp + 10*time <= 150"])
    response = http.get(f"/api/v1/campaigns/{cid}/model-contour",
                        params={"x": "temp", "y": "time", "points": 5})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["x_values"] == pytest.approx([20, 37.5, 55, 72.5, 90])
    assert result["y_values"] == pytest.approx([1, 3.25, 5.5, 7.75, 10])
    assert result["inside"] == [[u + 10 * v <= 150 + 1e-9 for u in result["x_values"]]
                                for v in result["y_values"]]
    cost = result["outcomes"][1]
    assert len(cost["mean"]) == 5 and all(len(row) == 5 for row in cost["mean"])
    expected = [[lab(u, v)[1] for u in result["x_values"]] for v in result["y_values"]]
    inside = np.array(result["inside"])  # where there are evaluations to learn from
    assert np.allclose(np.array(cost["mean"])[inside], np.array(expected)[inside], atol=0.5)
    # the slice through the same evaluation is the contour's row at its time
    through = http.get(f"/api/v1/evaluations/{result['at_evaluation_id']}").json()
    sliced = http.get(f"/api/v1/campaigns/{cid}/model-slice", params={
        "parameter": "temp", "points": 5, "at": through["id"]}).json()
    assert sliced["values"] == result["x_values"]
    assert result["at_params"] == through["params"]
    refused = http.get(f"/api/v1/campaigns/{cid}/model-contour",
                       params={"x": "temp", "y": "temp"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "y"]
    refused = http.get(f"/api/v1/campaigns/{cid}/model-contour",
                       params={"x": "pressure", "y": "temp"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "x"]


def test_model_slice_refuses_what_is_not_there(http):
    cid = _told(http, 6)
    refused = http.get(f"/api/v1/campaigns/{cid}/model-slice", params={"parameter": "pressure"})
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["query", "parameter"]
    assert error["msg"] == f"'pressure' is not a parameter of campaign {cid}; its parameters: temp, time"
    elsewhere = _told(http, 3)
    foreign = http.get(f"/api/v1/campaigns/{elsewhere}/evaluations").json()["items"][0]["id"]
    refused = http.get(f"/api/v1/campaigns/{cid}/model-slice",
                       params={"parameter": "temp", "at": foreign})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query", "at"]
    for points in (1, 501):
        refused = http.get(f"/api/v1/campaigns/{cid}/model-slice",
                           params={"parameter": "temp", "points": points})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == [
            "query", "points"]


def test_model_slice_of_a_choice_gives_each_of_its_values(http):
    problem = {"parameters": [{"name": "temp", "low": 20, "high": 90},
                              {"name": "catalyst", "value_type": "choice",
                               "values": ["none", "Pd", "Pt"]}]}
    cid = submit(http, budget=9, **problem)["id"]
    asked = http.post(f"/api/v1/campaigns/{cid}/ask", params={"n": 9}).json()["suggestions"]
    boost = {"none": 0.0, "Pd": 5.0, "Pt": 9.0}
    told = http.post(f"/api/v1/campaigns/{cid}/tell", json={"results": [
        {"suggestion_id": s["id"], "objectives": [
            s["params"]["temp"] / 10 + boost[s["params"]["catalyst"]], s["params"]["temp"]]}
        for s in asked]})
    assert told.status_code == 200, told.text
    result = http.get(f"/api/v1/campaigns/{cid}/model-slice",
                      params={"parameter": "catalyst"}).json()
    assert result["values"] == ["none", "Pd", "Pt"]
    assert len(result["outcomes"][0]["mean"]) == 3


def test_under_parameter_constraints_the_shapley_effects_are_measured_inside_them(http):
    # time <= temp / 10 keeps half the box, where a long run needs a high temperature: the
    # two depend on each other, and yield's share from time grows from 0.033 to about 0.22
    constraint = "10*time - temp <= 0"
    cid = _told(http, 16, parameter_constraints=[constraint])
    result = http.get(f"/api/v1/campaigns/{cid}/importance").json()
    assert result["note"] == ("the Sobol indices are measured on the whole box, since they "
                              "need independent parameters; the Shapley effects, inside the "
                              "parameter constraints")
    assert "Shapley effects" in result["method"]
    spec = {key: value for key, value in PROBLEM.items() if key != "kind"}
    problem = ExternalDefinition().info(ExternalConfig.model_validate(
        {**spec, "parameter_constraints": [constraint]}))
    truth = shapley_effects(problem, lambda x: np.stack(lab(x[:, 0], x[:, 1]), axis=1))
    for j, outcome in enumerate(result["outcomes"]):
        assert outcome["fit_r2"] > 0.99
        assert sum(outcome["shapley"]) == pytest.approx(1)
        tolerance = 4 * np.hypot(outcome["shapley_se"], truth.standard_errors[j]) + 0.01
        assert np.all(np.abs(np.subtract(outcome["shapley"], truth.effects[j])) < tolerance)
        assert outcome["constrained_variance"] == pytest.approx(truth.variance[j], rel=0.05)
    assert result["outcomes"][0]["shapley"][1] > 0.18  # on the box: 0.033

    unconstrained = http.get(f"/api/v1/campaigns/{_told(http, 8)}/importance").json()
    assert unconstrained["note"] is None and "Shapley" not in unconstrained["method"]
    assert all(o["shapley"] is None and o["shapley_se"] is None
               for o in unconstrained["outcomes"])


def test_the_client_and_cli_add_the_shapley_effects_under_parameter_constraints(
        sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with Client(server.url) as client:
        campaign = client.optimize(lab, parameters={"temp": (20, 90), "time": (1, 10)},
                                   objectives={"yield": "maximize", "cost": "minimize"},
                                   parameter_constraints=["10*time - temp <= 0"],
                                   budget=12, algorithm="sobol", batch_size=12)
        frame = campaign.importance()
    assert list(frame.columns) == ["outcome", "kind", "parameter", "first_order", "total",
                                   "first_order_se", "total_se", "shapley", "shapley_se",
                                   "fit_r2"]
    assert frame.groupby("outcome")["shapley"].sum().tolist() == pytest.approx([1, 1])

    printed = mofront("importance", str(campaign.id), "--url", server.url)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0] == ("from 12 evaluations; total (first order) share of each outcome's "
                        "variance; Shapley effect inside the parameter constraints")
    temp = next(line for line in lines if line.startswith("temp"))
    shapley = frame[frame["parameter"] == "temp"]["shapley"].tolist()
    assert f"; {shapley[0]:.3f}" in temp and f"; {shapley[1]:.3f}" in temp


def test_a_slice_says_where_the_parameter_constraints_hold(http):
    cid = _told(http, 12, parameter_constraints=["temp + 10*time <= 150"])
    # a slice says where along it the constraints hold, the other parameter held (here
    # through the longest run, where the hottest temperatures break the constraint)
    evaluations = http.get(f"/api/v1/campaigns/{cid}/evaluations").json()["items"]
    longest = max(evaluations, key=lambda e: e["params"]["time"])
    assert longest["params"]["time"] > 6.5
    sliced = http.get(f"/api/v1/campaigns/{cid}/model-slice",
                      params={"parameter": "temp", "points": 15, "at": longest["id"]}).json()
    time = sliced["at_params"]["time"]
    assert sliced["inside"] == [temp + 10 * time <= 150 + 1e-9 for temp in sliced["values"]]
    assert True in sliced["inside"] and False in sliced["inside"]


def test_a_campaign_without_parameters_or_with_too_few_evaluations_is_refused(http):
    morl = http.post("/api/v1/campaigns", json={
        "algorithm": "cmorl", "budget": {"env_steps": 5000},
        "problem": {"kind": "mo-gymnasium", "id": "deep-sea-treasure-v0"}}).json()["id"]
    refused = http.get(f"/api/v1/campaigns/{morl}/importance")
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["path", "campaign_id"]
    assert "no decision parameters" in error["msg"]

    refused = http.get(f"/api/v1/campaigns/{morl}/model-fit")
    assert refused.status_code == 422
    assert "a model fit is for test functions and external problems" in \
        refused.json()["detail"][0]["msg"]

    one = _told(http, 1)
    refused = http.get(f"/api/v1/campaigns/{one}/importance")
    assert refused.status_code == 422
    assert "has 1 evaluations; importance needs at least 2" in refused.json()["detail"][0]["msg"]
    assert http.get(f"/api/v1/campaigns/{one}/model-fit").status_code == 422
    assert http.get("/api/v1/campaigns/999999/importance").status_code == 404
    assert http.get("/api/v1/campaigns/999999/model-fit").status_code == 404


def test_the_client_gives_a_frame_and_the_cli_a_table(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with Client(server.url) as client:
        campaign = client.optimize(lab, parameters={"temp": (20, 90), "time": (1, 10)},
                                   objectives={"yield": "maximize", "cost": "minimize"},
                                   budget=16, algorithm="sobol", batch_size=8)
        frame = campaign.importance()
    assert list(frame.columns) == ["outcome", "kind", "parameter", "first_order", "total",
                                   "first_order_se", "total_se", "fit_r2"]
    assert list(zip(frame["outcome"], frame["parameter"], strict=True)) == [
        ("yield", "temp"), ("yield", "time"), ("cost", "temp"), ("cost", "time")]
    assert list(frame["total"][2:]) == pytest.approx(COST_SHARES, abs=0.03)
    assert frame.attrs["n_evaluations"] == 16

    printed = mofront("importance", str(campaign.id), "--url", server.url)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0] == "from 16 evaluations; total (first order) share of each outcome's variance"
    header, *rows = [line.split() for line in lines[1:] if line.strip() and set(line) != {"-", " "}]
    assert header == ["parameter", "yield", "cost"]
    temp = next(row for row in rows if row[0] == "temp")
    assert float(temp[3]) == pytest.approx(COST_SHARES[0], abs=0.03)  # cost's total

    as_csv = mofront("importance", str(campaign.id), "--csv", "--url", server.url)
    assert as_csv.stdout.splitlines()[0] == (
        "outcome,kind,parameter,first_order,total,first_order_se,total_se,fit_r2")
    refused = mofront("importance", "999999", "--url", server.url)
    assert refused.returncode != 0 and "999999" in refused.stderr

    with Client(server.url) as client:
        fit = client.campaign(campaign.id).model_fit()
        sliced = client.campaign(campaign.id).model_slice("time", points=5)
    assert list(sliced.columns) == ["time", "mean.yield", "sd.yield", "mean.cost", "sd.cost"]
    assert list(sliced["time"]) == pytest.approx([1, 3.25, 5.5, 7.75, 10])
    assert sliced.attrs["at_params"].keys() == {"temp", "time"}
    with Client(server.url) as client:
        contour = client.campaign(campaign.id).model_contour("temp", "time", points=3)
    assert list(contour.columns) == ["temp", "time", "inside", "mean.yield", "sd.yield",
                                     "mean.cost", "sd.cost"]
    assert len(contour) == 9 and contour["inside"].all()
    printed = mofront("model-slice", str(campaign.id), "--parameter", "time", "--points", "5",
                      "--url", server.url)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0] == (f"# through evaluation {sliced.attrs['at_evaluation_id']}, "
                        f"temp={sliced.attrs['at_params']['temp']}")
    assert lines[1] == "time,mean.yield,sd.yield,mean.cost,sd.cost" and len(lines) == 7
    refused = mofront("model-slice", str(campaign.id), "--parameter", "pressure",
                      "--url", server.url)
    assert refused.returncode != 0 and "'pressure' is not a parameter" in refused.stderr
    assert list(fit.columns) == ["outcome", "kind", "evaluation_id", "seq", "observed",
                                 "predicted", "sd"]
    assert len(fit) == 2 * 16
    assert set(fit.attrs["statistics"]) == {"yield", "cost"}
    printed = mofront("model-fit", str(campaign.id), "--url", server.url)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0] == "leave-one-out over 16 evaluations: each predicted from all the others"
    assert lines[1].split("\t") == ["outcome", "kind", "R²", "rank correlation",
                                     "in the 95% interval"]
    cost = lines[3].split("\t")
    assert cost[:3] == ["cost", "objective", f"{fit.attrs['statistics']['cost']['r2']:.3f}"]
