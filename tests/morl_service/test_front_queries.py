"""``/best``, ``/known-front`` and ``/metrics`` on a C-MORL campaign whose evaluations are
real policy artifacts (Deep Sea Treasure, see ``policy_campaign``), on SQLite and
PostgreSQL: the chosen policy is the brute-force choice and loads and acts, the known
front is MO-Gymnasium's with the published hypervolume, and every measure equals
``pareto/`` on the stored points."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from morl import load_policy
from morl.problems import known_front
from pareto import (
    coverage,
    distinct_points,
    equally_spaced_weights,
    expected_utility,
    hypervolume,
    igd,
    igd_plus,
    sparsity,
)
from tests.morl_service.policy_campaign import DST, store_policy_campaign

DST_HV = 360.4009  # DESIGN.md: gamma 0.99, reference point (0, -25)


@pytest.fixture
def stored(database: str) -> Iterator[tuple[TestClient, dict]]:
    campaign = store_policy_campaign(database)
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as http:
        yield http, campaign


def stored_front(http: TestClient, campaign_id: int) -> list[dict]:
    """The non-dominated evaluations (both objectives maximised), by pairwise comparison."""
    items = http.get(f"/api/v1/campaigns/{campaign_id}/evaluations",
                     params={"limit": 1000}).json()["items"]

    def dominates(a: list[float], b: list[float]) -> bool:
        return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))

    return [item for item in items
            if not any(dominates(o["objectives"], item["objectives"]) for o in items)]


def brute_force_utilities(front: list[dict], preference: list[float]) -> list[float]:
    weights = [w / sum(preference) for w in preference]
    low = [min(item["objectives"][i] for item in front) for i in range(2)]
    high = [max(item["objectives"][i] for item in front) for i in range(2)]
    return [sum(weights[i] * ((item["objectives"][i] - low[i]) / (high[i] - low[i])
                              if high[i] > low[i] else 0.0) for i in range(2))
            for item in front]


def test_best_picks_the_brute_force_policy_and_links_its_artifact(stored):
    http, campaign = stored
    front = stored_front(http, campaign["id"])
    assert len(front) >= 2, "the untrained policies should find at least two treasures"
    chosen = set()
    for preference in ([1, 0], [0, 1], [1, 1], [0.9, 0.1], [0.1, 0.9]):
        utilities = brute_force_utilities(front, preference)
        expected = front[int(np.argmax(utilities))]  # first of equals: the earliest seq
        answer = http.get(f"/api/v1/campaigns/{campaign['id']}/best",
                          params={"preference": ",".join(map(str, preference))}).json()
        evaluation = answer["evaluation"]
        assert evaluation["id"] == expected["id"], preference
        assert answer["utility"] == pytest.approx(max(utilities), abs=1e-12)
        assert evaluation["kind"] == "policy"
        assert evaluation["params"] == expected["params"]
        assert evaluation["meta"]["stage"] == "init"
        assert answer["artifact_url"] == f"/api/v1/evaluations/{evaluation['id']}/artifact"
        chosen.add(evaluation["id"])
        policy = load_policy(http.get(answer["artifact_url"]).content)
        assert policy.env_id == DST and int(policy.act(np.array([0, 0]))) in range(4)
    assert len(chosen) >= 2  # the two extreme preferences pick different policies


def test_known_front_is_mo_gymnasiums_with_the_published_hypervolume(stored):
    http, campaign = stored
    answer = http.get(f"/api/v1/campaigns/{campaign['id']}/known-front")
    assert answer.status_code == 200, answer.text
    known = answer.json()
    assert known["gamma"] == 0.99 and known["problem"] == DST
    assert [o["name"] for o in known["objectives"]] == ["treasure", "time"]
    np.testing.assert_array_equal(known["points"], known_front(DST, 0.99))
    assert len(known["points"]) == 10
    assert known["reference_point"] == [0.0, -25.0]
    assert known["hypervolume"] == pytest.approx(DST_HV, abs=1e-3)
    assert "pareto_front(gamma=0.99)" in known["source"]


def test_metrics_equal_pareto_on_the_stored_points(stored):
    http, campaign = stored
    front = np.array([item["objectives"] for item in stored_front(http, campaign["id"])])
    known = known_front(DST, 0.99)
    metrics = http.get(f"/api/v1/campaigns/{campaign['id']}/metrics").json()
    assert metrics["front_size"] == len(front)
    assert metrics["cardinality"] == len(distinct_points(front))
    assert metrics["hypervolume"] == pytest.approx(hypervolume(front, [0, -25]), rel=1e-12)
    assert metrics["sparsity"] == pytest.approx(sparsity(distinct_points(front)), rel=1e-12)
    assert metrics["expected_utility"]["value"] == pytest.approx(
        expected_utility(front, equally_spaced_weights(2, 100)), rel=1e-12)
    assert metrics["conventions"]["eval_gamma"] == 0.99
    assert metrics["conventions"]["discounted"] is True

    measured = metrics["known_front"]
    assert measured["gamma"] == 0.99 and measured["size"] == 10
    assert measured["hypervolume"] == pytest.approx(DST_HV, abs=1e-3)
    assert measured["hypervolume_ratio"] == pytest.approx(
        hypervolume(front, [0, -25]) / hypervolume(known, [0, -25]), rel=1e-12)
    assert measured["igd"] == pytest.approx(igd(front, known), rel=1e-12)
    assert measured["igd_plus"] == pytest.approx(igd_plus(front, known), rel=1e-12)
    weights = equally_spaced_weights(2, 100)
    losses = (weights @ known.T).max(axis=1) - (weights @ front.T).max(axis=1)
    assert measured["maximum_utility_loss"] == pytest.approx(losses.max(), rel=1e-12)
    assert measured["maximum_utility_loss"] > 0  # untrained policies miss treasures
    tolerance = 0.01 * (known.max(axis=0) - known.min(axis=0))
    assert measured["coverage_tolerance"] == pytest.approx(tolerance.tolist(), rel=1e-12)
    assert measured["coverage"] == coverage(front, known, tolerance)
    # Deep Sea Treasure is deterministic: each treasure an untrained policy reaches
    # straight away is a true Pareto point, so it is counted as covered.
    found = sum(any(np.allclose(point, p, atol=1e-9) for p in front) for point in known)
    assert found >= 2
    assert measured["coverage"] == found / 10


@pytest.mark.parametrize(("problem", "gamma", "optimal"), [
    ({"id": "deep-sea-treasure-concave-v0"}, 0.99, 1101.384),
    ({"id": "fruit-tree-v0", "depth": 5}, 0.99, 6920.582),
    ({"id": "fruit-tree-v0", "depth": 7}, 0.99, 12302.338),
])
def test_known_fronts_follow_the_problem_and_its_parameters(sqlite_database, problem, gamma,
                                                          optimal):
    with TestClient(create_app(Settings(database_url=sqlite_database,
                                        run_scheduler=False))) as http:
        campaign = http.post("/api/v1/campaigns", json={
            "algorithm": "cmorl", "problem": {"kind": "mo-gymnasium", **problem},
            "budget": {"env_steps": 10_000}}).json()
        assert campaign["known_front"] is True
        known = http.get(f"/api/v1/campaigns/{campaign['id']}/known-front").json()
    assert known["gamma"] == gamma
    assert known["hypervolume"] == pytest.approx(optimal, abs=1e-3)  # DESIGN.md's numbers
    parameters = {k: v for k, v in problem.items() if k != "id"}
    np.testing.assert_array_equal(known["points"],
                                  known_front(problem["id"], gamma, **parameters))


def test_an_environment_without_a_known_front_answers_404(sqlite_database):
    with TestClient(create_app(Settings(database_url=sqlite_database,
                                        run_scheduler=False))) as http:
        campaign = http.post("/api/v1/campaigns", json={
            "algorithm": "cmorl", "problem": {"kind": "mo-gymnasium",
                                              "id": "mo-mountaincarcontinuous-v0"},
            "budget": {"env_steps": 10_000}}).json()
        assert campaign["known_front"] is False
        answer = http.get(f"/api/v1/campaigns/{campaign['id']}/known-front")
    assert answer.status_code == 404
    assert answer.json()["detail"] == (
        f"problem mo-gymnasium:mo-mountaincarcontinuous-v0 of campaign {campaign['id']} has "
        "no known Pareto front; mo-gymnasium problems with one: deep-sea-treasure-v0, "
        "deep-sea-treasure-concave-v0, fruit-tree-v0, minecart-v0")


def test_cardinality_and_sparsity_count_each_return_vector_once(stored):
    """Several stored policies may share a return vector: the front lists each
    evaluation, while cardinality and sparsity count the distinct vectors, as PGMORL and
    MORL-Baselines do."""
    http, campaign = stored
    front = [item["objectives"] for item in stored_front(http, campaign["id"])]
    metrics = http.get(f"/api/v1/campaigns/{campaign['id']}/metrics").json()
    distinct = sorted({tuple(point) for point in front})
    assert len(distinct) < len(front), "the campaign must share a return vector to test this"
    assert metrics["front_size"] == len(front)
    assert metrics["cardinality"] == len(distinct)
    columns = [sorted(point[i] for point in distinct) for i in range(2)]
    squared_gaps = sum((b - a) ** 2 for column in columns for a, b in pairwise(column))
    assert metrics["sparsity"] == pytest.approx(squared_gaps / (len(distinct) - 1), rel=1e-12)


def test_hv_contributions_count_each_return_vector_once(stored):
    """A front point's contribution is what the hypervolume loses without its return
    vector, so policies sharing a vector each show that vector's contribution."""
    http, campaign = stored
    plain = http.get(f"/api/v1/campaigns/{campaign['id']}/front").json()
    assert plain["reference_point"] is None
    assert {point["hv_contribution"] for point in plain["points"]} == {None}

    answer = http.get(f"/api/v1/campaigns/{campaign['id']}/front",
                      params={"contributions": "true"}).json()
    assert answer["reference_point"] == [0.0, -25.0]
    points = answer["points"]
    assert [p["evaluation_id"] for p in points] == [p["evaluation_id"] for p in plain["points"]]
    vectors = {tuple(p["objectives"]) for p in points}
    assert len(vectors) < len(points), "the campaign must share a return vector to test this"
    whole = hypervolume(np.array(sorted(vectors)), [0, -25])
    for point in points:
        rest = np.array(sorted(vectors - {tuple(point["objectives"])})).reshape(-1, 2)
        assert point["hv_contribution"] == pytest.approx(
            whole - hypervolume(rest, [0, -25]), rel=1e-9, abs=1e-12)
        assert point["hv_contribution"] > 0
