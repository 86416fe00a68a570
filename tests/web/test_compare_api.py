"""What the viewer's compare page reads besides the public routes it shares with the
client: ``GET /compare?history=true`` (each campaign's HV curve recomputed under the
common reference point) and Plotly.js served from the ``plotly`` package."""

from __future__ import annotations

from collections.abc import Iterator

import moocore
import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

PROBLEM = {
    "kind": "external",
    "parameters": [{"name": "temp", "low": 20, "high": 90}],
    "objectives": [{"name": "yield", "sense": "maximize"}, {"name": "cost", "sense": "minimize"}],
    "constraints": [{"name": "slack"}],
}
# Batches told to each campaign: (yield, cost, slack); slack < 0 is infeasible.
BATCHES = {
    "a": [[(50, 5, 1), (60, 8, 1)], [(70, 9, 1), (99, 0, -1), (40, 2, 1)], [(80, 12, 1)]],
    "b": [[(55, 4, 1)], [(75, 10, 1), (30, 3, 1)]],
}


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def told_campaign(http: TestClient, batches: list[list[tuple[float, float, float]]]) -> int:
    created = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": PROBLEM, "budget": {"evaluations": 20}})
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    for batch in batches:
        told = http.post(f"/api/v1/campaigns/{campaign_id}/tell", json={"results": [
            {"params": {"temp": 50}, "objectives": [y, c], "constraints": [s]}
            for y, c, s in batch]})
        assert told.status_code == 200, told.text
    return campaign_id


def expected_curve(batches: list[list[tuple[float, float, float]]], reference: list[float]
                   ) -> list[float]:
    """Exact HV (moocore, minimisation) of the feasible points told up to each batch."""
    curve, seen = [], []
    for batch in batches:
        seen += [(-y, c) for y, c, s in batch if s >= 0]
        points = np.array(seen, dtype=float)
        curve.append(moocore.hypervolume(points, ref=[-reference[0], reference[1]]))
    return curve


def test_compare_history_is_recomputed_under_the_common_reference_point(http):
    a, b = told_campaign(http, BATCHES["a"]), told_campaign(http, BATCHES["b"])
    plain = http.get("/api/v1/compare", params={"campaigns": f"{a},{b}"}).json()
    assert [entry["history"] for entry in plain["campaigns"]] == [None, None]

    reference = [20.0, 15.0]  # yield (maximised) at least 20, cost at most 15
    response = http.get("/api/v1/compare", params={
        "campaigns": f"{a},{b}", "reference_point": "20,15", "history": "true"})
    assert response.status_code == 200, response.text
    comparison = response.json()
    assert comparison["reference_point"] == reference
    for entry, name in zip(comparison["campaigns"], ["a", "b"]):
        curve = entry["history"]
        assert [p["n_evaluations"] for p in curve] == list(
            np.cumsum([len(batch) for batch in BATCHES[name]]))
        assert [p["hypervolume"] for p in curve] == pytest.approx(
            expected_curve(BATCHES[name], reference), rel=1e-12)
        assert curve[-1]["hypervolume"] == pytest.approx(entry["hypervolume"], rel=1e-12)
        assert curve[-1]["front_size"] == entry["front_size"]
        assert entry["budget_unit"] == "evaluations"
    # the infeasible (99, 0) would dominate all four others; it is never counted
    assert comparison["campaigns"][0]["history"][1]["front_size"] == 4

    assert [entry["front_points_counted"] for entry in comparison["campaigns"]] == [5, 3]
    # yield above 55 and cost below 10: a's (60, 8) and (70, 9); b's (75, 10) ties on cost
    tight = http.get("/api/v1/compare", params={"campaigns": f"{a},{b}",
                                                "reference_point": "55,10"}).json()
    assert [entry["front_points_counted"] for entry in tight["campaigns"]] == [2, 0]
    assert [entry["front_size"] for entry in tight["campaigns"]] == [5, 3]

    # without a reference point: the nadir rule over the union of the two fronts
    nadir = http.get("/api/v1/compare", params={"campaigns": f"{a},{b}", "history": "true"})
    point = nadir.json()["reference_point"]
    assert nadir.json()["reference_point_source"] == "nadir"
    for entry, name in zip(nadir.json()["campaigns"], ["a", "b"]):
        assert entry["history"][-1]["hypervolume"] == pytest.approx(
            expected_curve(BATCHES[name], point)[-1], rel=1e-12)


def test_compare_history_refuses_a_bad_flag(http):
    a = told_campaign(http, BATCHES["a"])
    response = http.get("/api/v1/compare", params={"campaigns": f"{a}", "history": "maybe"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "history"]


def test_plotly_is_served_from_the_python_package_and_slash_opens_the_viewer(http):
    pytest.importorskip("plotly", reason="the plotly package serves Plotly.js")
    script = http.get("/ui/vendor/plotly.min.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "plotly.js v" in script.text[:200]
    root = http.get("/", follow_redirects=False)
    assert root.status_code in (302, 307) and root.headers["location"] == "/ui/"
    for page in ["", "campaign.html", "compare.html", "submit.html"]:
        assert http.get(f"/ui/{page}").status_code == 200, page


def test_attainment_surfaces_of_two_runs(http):
    a, b = told_campaign(http, BATCHES["a"]), told_campaign(http, BATCHES["b"])
    answer = http.get("/api/v1/attainment", params={"campaigns": f"{a},{b}"})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["campaign_ids"] == [a, b]
    assert [s["percentile"] for s in result["surfaces"]] == [50.0, 100.0]  # best = median
    assert [s["runs_needed"] for s in result["surfaces"]] == [1, 2]
    best, both = ({tuple(point) for point in s["points"]} for s in result["surfaces"])
    # one run: the non-dominated union of the fronts (yield up, cost down), raw units
    assert best == {(40, 2), (55, 4), (60, 8), (70, 9), (75, 10), (80, 12)}
    # both runs: e.g. (50, 5) is a's own point and b's (55, 4) is better in both
    assert (50, 5) in both and (55, 4) not in both
    feasible = {name: [(y, c) for batch in batches for y, c, s in batch if s >= 0]
                for name, batches in BATCHES.items()}
    for y, c in both:  # every run reaches every corner
        for points in feasible.values():
            assert any(yr >= y and cr <= c for yr, cr in points)

    median = http.get("/api/v1/attainment",
                      params={"campaigns": f"{a},{b}", "percentiles": "100"}).json()
    assert {tuple(p) for p in median["surfaces"][0]["points"]} == both


@pytest.mark.parametrize(("params", "message"), [
    ({"percentiles": "0"}, "each percentile must be in (0, 100]; got 0.0"),
    ({"percentiles": "50,abc"}, "'50,abc' is not a comma-separated list of numbers"),
    ({"percentiles": "50,"}, "percentiles must be a comma-separated list with no empty items"),
])
def test_attainment_refuses_bad_percentiles(http, params, message):
    a = told_campaign(http, BATCHES["a"])
    answer = http.get("/api/v1/attainment", params={"campaigns": f"{a}", **params})
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"loc": ["query", "percentiles"], "msg": message, "type": "value_error"}]


def test_attainment_refuses_repeated_campaigns_and_four_objectives(http):
    a = told_campaign(http, BATCHES["a"])
    twice = http.get("/api/v1/attainment", params={"campaigns": f"{a},{a}"})
    assert twice.status_code == 422
    assert twice.json()["detail"][0]["loc"] == ["query", "campaigns"]
    assert "each campaign may be named once" in twice.json()["detail"][0]["msg"]
    four = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": {**PROBLEM, "objectives": [
            {"name": f"o{i}", "sense": "maximize"} for i in range(4)]},
        "budget": {"evaluations": 20}}).json()
    refused = http.get("/api/v1/attainment", params={"campaigns": str(four["id"])})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"].startswith(
        "attainment surfaces are computed for 2 or 3 objectives; these campaigns have 4")
