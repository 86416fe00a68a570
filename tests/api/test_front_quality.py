"""``/best``, ``/metrics`` and ``/known-front`` on a Bayesian-optimisation campaign
(sobol on BraninCurrin, both objectives minimised), on SQLite and PostgreSQL: the
evaluation a preference picks equals a brute-force search over the stored feasible
front, every measure equals ``pareto/`` on the stored points, and bad input is refused
naming ``preference``."""

from __future__ import annotations

from collections.abc import Iterator

import moocore
import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from pareto import equally_spaced_weights, expected_utility, hypervolume, sparsity
from storage import NewEvaluation, append_evaluations, make_engine, make_sessionmaker

SPEC = {"algorithm": "sobol", "problem": {"kind": "test-function", "id": "branin-currin"},
        "budget": {"evaluations": 100}, "seed": 3}


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def submit(http: TestClient) -> int:
    created = http.post("/api/v1/campaigns", json=SPEC)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


@pytest.fixture
def campaign_id(http: TestClient, database: str) -> int:
    """40 evaluations at random objective values, and one infeasible evaluation that
    would dominate them all if it counted."""
    campaign_id = submit(http)
    values = np.random.default_rng(5).uniform([0, 0], [200, 12], size=(40, 2))
    items = [NewEvaluation(seq=i, objectives=list(v), params={"x0": i / 40, "x1": 0.5})
             for i, v in enumerate(values)]
    items.append(NewEvaluation(seq=40, objectives=[-1.0, -1.0], constraints=[-0.5],
                               params={"x0": 1.0, "x1": 1.0}))
    engine = make_engine(database)
    with make_sessionmaker(engine)() as session:
        append_evaluations(session, campaign_id, items)
    engine.dispose()
    return campaign_id


def feasible_front(http: TestClient, campaign_id: int) -> list[dict]:
    """The non-dominated feasible evaluations, by pairwise comparison (minimisation)."""
    items = http.get(f"/api/v1/campaigns/{campaign_id}/evaluations",
                     params={"limit": 1000}).json()["items"]
    feasible = [item for item in items if item["feasible"]]

    def dominates(a: list[float], b: list[float]) -> bool:
        return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))

    return [item for item in feasible
            if not any(dominates(o["objectives"], item["objectives"]) for o in feasible)]


def brute_force_best(front: list[dict], preference: list[float]) -> tuple[dict, float]:
    """Maximise sum_i w_i (J_i - min_i) / (max_i - min_i) with J = -objectives."""
    weights = [w / sum(preference) for w in preference]
    gains = [[-v for v in item["objectives"]] for item in front]
    low = [min(g[i] for g in gains) for i in range(2)]
    high = [max(g[i] for g in gains) for i in range(2)]
    utilities = [sum(weights[i] * (g[i] - low[i]) / (high[i] - low[i]) for i in range(2))
                 for g in gains]
    best = max(range(len(front)), key=lambda k: (utilities[k], -front[k]["seq"]))
    return front[best], utilities[best]


@pytest.mark.parametrize("preference", [[1, 0], [0, 1], [0.5, 0.5], [3, 1], [0.2, 0.8]])
def test_best_is_the_brute_force_choice_over_the_feasible_front(http, campaign_id, preference):
    front = feasible_front(http, campaign_id)
    assert len(front) >= 4
    expected, utility = brute_force_best(front, preference)
    answer = http.get(f"/api/v1/campaigns/{campaign_id}/best",
                      params={"preference": ",".join(map(str, preference))})
    assert answer.status_code == 200, answer.text
    best = answer.json()
    assert best["evaluation"]["id"] == expected["id"]
    assert best["evaluation"]["seq"] == expected["seq"]
    assert best["evaluation"]["params"] == expected["params"]
    assert best["utility"] == pytest.approx(utility, abs=1e-12)
    assert best["preference"] == pytest.approx([w / sum(preference) for w in preference])
    assert best["front_size"] == len(front)
    objectives = np.array([item["objectives"] for item in front])
    assert best["normalization"]["nadir"] == objectives.max(axis=0).tolist()  # minimised
    assert best["normalization"]["ideal"] == objectives.min(axis=0).tolist()
    assert best["artifact_url"] is None  # a sobol candidate has no artifact


def brute_force_chebyshev(front: list[dict], preference: list[float]) -> tuple[dict, float]:
    """Maximise -(max_i w_i (1 - J~_i) + 1e-4 sum_i w_i (1 - J~_i)), J~ as above."""
    weights = [w / sum(preference) for w in preference]
    gains = [[-v for v in item["objectives"]] for item in front]
    low = [min(g[i] for g in gains) for i in range(2)]
    high = [max(g[i] for g in gains) for i in range(2)]
    shortfalls = [[weights[i] * (1 - (g[i] - low[i]) / (high[i] - low[i])) for i in range(2)]
                  for g in gains]
    utilities = [-(max(row) + 1e-4 * sum(row)) for row in shortfalls]
    best = max(range(len(front)), key=lambda k: (utilities[k], -front[k]["seq"]))
    return front[best], utilities[best]


@pytest.mark.parametrize("preference", [[1, 0], [0.5, 0.5], [3, 1], [0.2, 0.8]])
def test_best_by_chebyshev_is_the_brute_force_choice(http, campaign_id, preference):
    front = feasible_front(http, campaign_id)
    expected, utility = brute_force_chebyshev(front, preference)
    answer = http.get(f"/api/v1/campaigns/{campaign_id}/best", params={
        "preference": ",".join(map(str, preference)), "scalarisation": "chebyshev"}).json()
    assert answer["scalarisation"] == "chebyshev"
    assert answer["evaluation"]["id"] == expected["id"]
    assert answer["utility"] == pytest.approx(utility, abs=1e-12)


def test_on_a_front_bulging_to_the_nadir_chebyshev_picks_the_balanced_point(http, database):
    # DTLZ2's front, both minimised: f0^2 + f1^2 = 1, which a weighted sum meets only at
    # its ends
    campaign_id = submit(http)
    angles = np.linspace(0, np.pi / 2, 9)
    items = [NewEvaluation(seq=i, objectives=[float(np.cos(a)), float(np.sin(a))],
                           params={"x0": i / 8, "x1": 0.5}) for i, a in enumerate(angles)]
    engine = make_engine(database)
    with make_sessionmaker(engine)() as session:
        append_evaluations(session, campaign_id, items)
    engine.dispose()

    def picked(scalarisation: str) -> int:
        answer = http.get(f"/api/v1/campaigns/{campaign_id}/best", params={
            "preference": "1,1", "scalarisation": scalarisation})
        assert answer.status_code == 200, answer.text
        return int(answer.json()["evaluation"]["seq"])

    assert picked("linear") in (0, 8)
    assert picked("chebyshev") == 4  # f0 = f1 = 0.707
    refused = http.get(f"/api/v1/campaigns/{campaign_id}/best",
                       params={"preference": "1,1", "scalarisation": "weighted"})
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["query", "scalarisation"]
    assert "'linear' or 'chebyshev'" in error["msg"]


@pytest.mark.parametrize(("preference", "message"), [
    ("1", "preference has 1 values; give one non-negative weight per objective (2)"),
    ("1,2,3", "preference has 3 values"),
    ("-1,2", "preference[0] is -1.0; every weight must be a finite number >= 0"),
    ("nan,1", "preference[0] is nan"),
    ("1,inf", "preference[1] is inf"),
    ("0,0", "preference is all zeros; give at least one positive weight"),
    ("a,b", "'a,b' is not a comma-separated list of numbers"),
    ("1,", "preference must be a comma-separated list with no empty items"),
])
def test_a_bad_preference_is_a_422_naming_the_field(http, campaign_id, preference, message):
    answer = http.get(f"/api/v1/campaigns/{campaign_id}/best", params={"preference": preference})
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["query", "preference"]
    assert message in error["msg"]


def test_a_missing_preference_and_an_unknown_campaign(http, campaign_id):
    missing = http.get(f"/api/v1/campaigns/{campaign_id}/best")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "preference"]
    unknown = http.get("/api/v1/campaigns/9999/best", params={"preference": "1,1"})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "campaign 9999 does not exist"


def test_a_campaign_without_evaluations_answers_409(http):
    empty = submit(http)
    for path in ("best?preference=1,1", "metrics"):
        answer = http.get(f"/api/v1/campaigns/{empty}/{path}")
        assert answer.status_code == 409
        assert answer.json()["detail"] == (
            f"campaign {empty} has no feasible evaluation yet (queued, 0 evaluations): "
            "there is no front to measure or choose from")


def test_metrics_equal_pareto_on_the_stored_front(http, campaign_id):
    front = feasible_front(http, campaign_id)
    gains = -np.array([item["objectives"] for item in front])  # maximisation convention
    weights = equally_spaced_weights(2, 100)
    metrics = http.get(f"/api/v1/campaigns/{campaign_id}/metrics").json()
    assert metrics["front_size"] == len(front)
    assert metrics["cardinality"] == len({tuple(point) for point in gains})
    assert metrics["reference_point"] == [18.0, 6.0]
    assert metrics["hypervolume"] == hypervolume(gains, [-18.0, -6.0])
    assert metrics["hypervolume"] == http.get(
        f"/api/v1/campaigns/{campaign_id}/hypervolume").json()["hypervolume"]
    assert metrics["sparsity"] == sparsity(gains)
    assert metrics["expected_utility"]["value"] == expected_utility(gains, weights)
    assert metrics["expected_utility"]["n_weights"] == len(weights) == 100
    assert metrics["known_front"] is None
    assert metrics["conventions"] == {}


def test_hv_contributions_under_minimised_objectives(http, campaign_id):
    answer = http.get(f"/api/v1/campaigns/{campaign_id}/front",
                      params={"contributions": "true"}).json()
    assert answer["reference_point"] == [18.0, 6.0]
    costs = np.array([point["objectives"] for point in answer["points"]])
    expected = moocore.hv_contributions(costs, ref=[18.0, 6.0])  # moocore minimises
    assert [p["hv_contribution"] for p in answer["points"]] == pytest.approx(
        expected.tolist(), rel=1e-9, abs=1e-12)
    assert any(share == 0 for share in expected)  # outside the reference box
    assert any(share > 0 for share in expected)


def test_hv_contributions_are_declined_where_they_would_be_slow(http, database):
    """Six objectives, 150 distinct front points: above the cap of 100, so the answer
    says why there are none; on three of the objectives they are computed."""
    created = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "budget": {"evaluations": 200},
        "problem": {"kind": "test-function", "id": "dtlz2", "num_objectives": 6, "dim": 8}})
    campaign_id = created.json()["id"]
    sphere = np.abs(np.random.default_rng(0).normal(size=(150, 6)))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)  # mutually non-dominated
    engine = make_engine(database)
    with make_sessionmaker(engine)() as session:
        append_evaluations(session, campaign_id, [
            NewEvaluation(seq=i, objectives=list(v), params={}) for i, v in enumerate(sphere)])
    engine.dispose()
    answer = http.get(f"/api/v1/campaigns/{campaign_id}/front",
                      params={"contributions": "true"}).json()
    assert len(answer["points"]) == 150
    assert answer["contributions_note"].startswith(
        "not computed: 150 distinct front points in 6 objectives")
    assert {p["hv_contribution"] for p in answer["points"]} == {None}
    assert answer["reference_point"] is None

    subset = http.get(f"/api/v1/campaigns/{campaign_id}/front",
                      params={"contributions": "true", "objectives": "f1,f2,f3"}).json()
    assert subset["contributions_note"] is None
    assert all(p["hv_contribution"] is not None for p in subset["points"])


def test_hv_contributions_wait_for_a_reference_point(http):
    created = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "budget": {"evaluations": 10},
        "problem": {"kind": "external", "parameters": [{"name": "x", "low": 0, "high": 1}],
                    "objectives": [{"name": "a", "sense": "maximize"},
                                   {"name": "b", "sense": "maximize"}]}}).json()
    assert created["reference_point"] is None
    answer = http.get(f"/api/v1/campaigns/{created['id']}/front",
                      params={"contributions": "true"}).json()
    assert answer["points"] == [] and answer["reference_point"] is None
    assert answer["contributions_note"].startswith("no reference point yet")


def test_a_test_function_has_no_known_front(http, campaign_id):
    answer = http.get(f"/api/v1/campaigns/{campaign_id}/known-front")
    assert answer.status_code == 404
    assert answer.json()["detail"] == (
        f"problem test-function:branin-currin of campaign {campaign_id} has no known Pareto front")


def test_the_new_routes_are_documented(http):
    paths = http.get("/openapi.json").json()["paths"]
    best = paths["/api/v1/campaigns/{campaign_id}/best"]["get"]
    described = " ".join(best["description"].split())
    assert "min-max normalised over the campaign's front" in described
    assert "a zero range maps to 0" in described
    assert "409" in best["responses"]
    metrics = paths["/api/v1/campaigns/{campaign_id}/metrics"]["get"]
    assert "equally spaced weight grid" in " ".join(metrics["description"].split())
    assert "/api/v1/campaigns/{campaign_id}/known-front" in paths
