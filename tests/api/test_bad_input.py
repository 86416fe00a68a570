"""Bad input is refused with a 4xx that names the field, and changes nothing stored."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from jobs.registry import ALGORITHMS, PROBLEM_KINDS

GOOD = {
    "algorithm": "sobol",
    "problem": {"kind": "test-function", "id": "zdt1", "dim": 4},
    "budget": {"evaluations": 50},
    "params": {"batch_size": 10},
}


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database, run_scheduler=False))
    with TestClient(app) as client:
        yield client


def with_changes(**changes: object) -> dict:
    spec = copy.deepcopy(GOOD)
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        target = spec
        for part in path:
            target = target[part]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return spec


BAD_SPECS = [
    pytest.param(with_changes(algorithm="sobolx"), ["body", "algorithm"],
                 f"known: {', '.join(sorted(ALGORITHMS))}", id="unknown-algorithm"),
    pytest.param(with_changes(problem__id="zdt9"), ["body", "problem", "id"], "known:",
                 id="unknown-problem"),
    pytest.param(with_changes(problem__kind="gym"), ["body", "problem", "kind"],
                 f"known: {', '.join(sorted(PROBLEM_KINDS))}", id="unknown-problem-kind"),
    pytest.param(with_changes(params__batch_sise=3), ["body", "params", "batch_sise"],
                 "allowed: batch_size, scramble", id="misspelled-param"),
    pytest.param(with_changes(params__batch_size="many"), ["body", "params", "batch_size"],
                 "integer", id="param-wrong-type"),
    pytest.param(with_changes(problem__dimm=3), ["body", "problem", "dimm"], "unknown field",
                 id="misspelled-problem-param"),
    pytest.param(with_changes(problem__dim=1), ["body", "problem", "dim"], "greater",
                 id="problem-param-out-of-range"),
    pytest.param(with_changes(reference_point=[1, 2, 3]), ["body", "reference_point"],
                 "has 3 values", id="reference-point-length"),
    pytest.param(with_changes(budget__evaluations=-5), ["body", "budget", "evaluations"],
                 "greater than 0", id="negative-budget"),
    pytest.param(with_changes(budget__evaluations=10**12), ["body", "budget", "evaluations"],
                 "less than or equal", id="absurd-budget"),
    pytest.param(with_changes(budget__evaluations=..., budget__env_steps=1000),
                 ["body", "budget", "env_steps"], "evaluations", id="wrong-budget-unit"),
    pytest.param(with_changes(budget={}), ["body", "budget"], "exactly one",
                 id="missing-budget-unit"),
    pytest.param(with_changes(seed=-1), ["body", "seed"], "greater", id="negative-seed"),
    pytest.param(with_changes(algorithm=...), ["body", "algorithm"], "required",
                 id="missing-algorithm"),
    pytest.param(with_changes(colour="red"), ["body", "colour"], "unknown field",
                 id="unknown-top-level-field"),
]


@pytest.mark.parametrize(("spec", "loc", "message"), BAD_SPECS)
def test_bad_spec_is_refused_naming_the_field(http, spec, loc, message):
    before = http.get("/api/v1/campaigns").json()["total"]
    response = http.post("/api/v1/campaigns", json=spec)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    matching = [e for e in errors if e["loc"] == loc]
    assert matching, errors
    assert message in matching[0]["msg"], matching[0]["msg"]
    assert http.get("/api/v1/campaigns").json()["total"] == before


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_reference_point_is_refused(http, token):
    body = (
        '{"algorithm": "sobol", "problem": {"kind": "test-function", "id": "zdt1"},'
        f' "budget": {{"evaluations": 10}}, "reference_point": [1.0, {token}]}}'
    )
    response = http.post("/api/v1/campaigns", content=body,
                         headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "reference_point", 1]
    assert http.get("/api/v1/campaigns").json()["total"] == 0


def test_malformed_json_is_refused(http):
    response = http.post("/api/v1/campaigns", content="{not json",
                         headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_queries_refuse_bad_parameters_naming_them(http):
    campaign = http.post("/api/v1/campaigns", json=GOOD).json()
    cid = campaign["id"]
    cases = [
        (f"/api/v1/campaigns/{cid}/hypervolume?reference_point=1,2,3", "reference_point",
         "has 3 values"),
        (f"/api/v1/campaigns/{cid}/hypervolume?reference_point=1,nan", "reference_point",
         "finite"),
        (f"/api/v1/campaigns/{cid}/hypervolume?reference_point=1,abc", "reference_point",
         "not a comma-separated list"),
        (f"/api/v1/campaigns/{cid}/front?objectives=f1,f9", "objectives", "unknown objective"),
        (f"/api/v1/campaigns/{cid}/evaluations?limit=0", "limit", "greater"),
        (f"/api/v1/campaigns/{cid}/evaluations?limit=100000", "limit", "less"),
        ("/api/v1/campaigns?status=done", "status", "queued"),
        ("/api/v1/compare?campaigns=1,x", "campaigns", "not a campaign id"),
        # found by the fuzz test: each was a 500 (int('²') and an id past 64 bits)
        ("/api/v1/compare?campaigns=%C2%B2", "campaigns", "not a campaign id"),
        ("/api/v1/compare?campaigns=99999999999999999999999", "campaigns", "not a campaign id"),
    ]
    for url, field, message in cases:
        response = http.get(url)
        assert response.status_code == 422, (url, response.text)
        detail = response.json()["detail"]
        assert detail[0]["loc"][-1] == field, (url, detail)
        assert message in detail[0]["msg"], (url, detail)
    assert http.get(f"/api/v1/campaigns/{cid}").json()["status"] == "queued"


@pytest.mark.parametrize("url", [
    "/api/v1/campaigns/999", "/api/v1/campaigns/999/front",
    "/api/v1/campaigns/999/hypervolume", "/api/v1/campaigns/999/history",
    "/api/v1/campaigns/999/evaluations", "/api/v1/evaluations/999",
    "/api/v1/evaluations/999/artifact", "/api/v1/compare?campaigns=999",
])
def test_unknown_ids_are_404_with_a_message(http, url):
    response = http.get(url)
    assert response.status_code == 404
    assert "999 does not exist" in response.json()["detail"]


def test_cancel_and_delete(http):
    first = http.post("/api/v1/campaigns", json=GOOD).json()
    second = http.post("/api/v1/campaigns", json=GOOD).json()
    cancelled = http.post(f"/api/v1/campaigns/{first['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert http.post(f"/api/v1/campaigns/{first['id']}/cancel").status_code == 409
    assert http.post("/api/v1/campaigns/999/cancel").status_code == 404
    assert http.delete(f"/api/v1/campaigns/{first['id']}").status_code == 204
    assert http.get(f"/api/v1/campaigns/{first['id']}").status_code == 404
    assert http.delete(f"/api/v1/campaigns/{first['id']}").status_code == 404
    listing = http.get("/api/v1/campaigns").json()
    assert [c["id"] for c in listing["items"]] == [second["id"]]


def test_listing_filters_and_paginates(http):
    ids = [http.post("/api/v1/campaigns", json=GOOD).json()["id"] for _ in range(5)]
    other = with_changes(problem={"kind": "test-function", "id": "branin-currin"})
    branin = http.post("/api/v1/campaigns", json=other).json()["id"]
    page = http.get("/api/v1/campaigns", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 6
    assert [c["id"] for c in page["items"]] == [ids[-1], ids[-2]]  # newest first
    filtered = http.get("/api/v1/campaigns", params={"problem": "branin-currin"}).json()
    assert [c["id"] for c in filtered["items"]] == [branin]
    assert http.get("/api/v1/campaigns", params={"status": "running"}).json()["total"] == 0
    assert http.get("/api/v1/campaigns", params={"algorithm": "sobol"}).json()["total"] == 6


def test_registry_lists_algorithms_and_problems_with_schemas(http):
    registry = http.get("/api/v1/registry").json()
    sobol = next(a for a in registry["algorithms"] if a["name"] == "sobol")
    assert set(sobol["params_schema"]["properties"]) == {"batch_size", "scramble"}
    problems = {p["id"]: p for p in registry["problems"]}
    for required in ["branin-currin", "zdt1", "zdt2", "zdt3", "dtlz1", "dtlz2",
                     "vehicle-safety", "car-side-impact"]:
        assert required in problems
    assert problems["branin-currin"]["reference_point"] == [18.0, 6.0]


def test_health_and_metrics(http):
    http.post("/api/v1/campaigns", json=GOOD)
    assert http.get("/healthz").json() == {"status": "ok"}
    metrics = http.get("/metrics").text
    assert 'mofront_campaigns{status="queued"} 1.0' in metrics
    assert "mofront_queue_length 1.0" in metrics
    assert "mofront_request_seconds_count" in metrics
    assert http.get("/openapi.json").json()["info"]["title"] == "mofront"
