"""The server's limits (``Settings.max_*``), each refused with a 4xx naming the field,
the limit and the setting, with nothing stored; artifacts are served by stored id
only, never from a path a request names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

LIMITS = {"max_body_bytes": 4000, "max_page_size": 20, "max_objectives": 2,
          "max_parameters": 4, "max_evaluations": 100, "max_env_steps": 5000}
ZDT1 = {"algorithm": "sobol", "problem": {"kind": "test-function", "id": "zdt1", "dim": 4},
        "budget": {"evaluations": 100}}


def external(n_parameters: int, n_objectives: int) -> dict:
    return {"algorithm": "sobol", "budget": {"evaluations": 10}, "problem": {
        "kind": "external",
        "parameters": [{"name": f"x{i}", "low": 0, "high": 1} for i in range(n_parameters)],
        "objectives": [{"name": f"f{i}", "sense": "minimize"} for i in range(n_objectives)]}}


@pytest.fixture
def http(sqlite_database: str) -> Iterator[TestClient]:
    settings = Settings(database_url=sqlite_database, run_scheduler=False, **LIMITS)
    with TestClient(create_app(settings)) as client:
        yield client


def refused(http: TestClient, spec: dict, loc: list[str], *fragments: str) -> None:
    response = http.post("/api/v1/campaigns", json=spec)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert [e["loc"] for e in errors] == [loc], errors
    for fragment in fragments:
        assert fragment in errors[0]["msg"], errors
    assert http.get("/api/v1/campaigns").json()["total"] == 0


def test_the_limits_allow_what_is_within_them(http: TestClient) -> None:
    assert http.post("/api/v1/campaigns", json=ZDT1).status_code == 201
    assert http.post("/api/v1/campaigns", json=external(4, 2)).status_code == 201
    assert http.get("/api/v1/campaigns?limit=20").status_code == 200


def test_request_body_over_the_limit_is_413(http: TestClient) -> None:
    spec = {**ZDT1, "params": {"padding": "x" * 5000}}
    response = http.post("/api/v1/campaigns", json=spec)
    assert response.status_code == 413
    assert "limit of 4000 bytes (MOFRONT_MAX_BODY_BYTES)" in response.json()["detail"]
    # A body sent without Content-Length (chunked) is counted as it arrives.
    chunks = iter([b'{"algorithm": "sobol", "params": {"padding": "', b"x" * 5000, b'"}}'])
    response = http.post("/api/v1/campaigns", content=chunks,
                         headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text
    assert "MOFRONT_MAX_BODY_BYTES" in response.json()["detail"]
    assert http.get("/api/v1/campaigns").json()["total"] == 0


def test_page_size_over_the_limit_is_refused(http: TestClient) -> None:
    campaign = http.post("/api/v1/campaigns", json=ZDT1).json()
    for url in ("/api/v1/campaigns?limit=21",
                f"/api/v1/campaigns/{campaign['id']}/evaluations?limit=21"):
        response = http.get(url)
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "limit"]
        assert "less than or equal to 20" in error["msg"] and "MOFRONT_MAX_PAGE_SIZE" in error["msg"]


def test_too_many_objectives_are_refused(http: TestClient) -> None:
    refused(http, {**ZDT1, "problem": {"kind": "test-function", "id": "dtlz2",
                                       "num_objectives": 3, "dim": 4}},
            ["body", "problem", "num_objectives"], "has 3 objectives", "at most 2",
            "MOFRONT_MAX_OBJECTIVES")
    refused(http, external(2, 3), ["body", "problem", "objectives"], "at most 2")


def test_too_many_parameters_are_refused(http: TestClient) -> None:
    refused(http, {**ZDT1, "problem": {"kind": "test-function", "id": "zdt1", "dim": 5}},
            ["body", "problem", "dim"], "has 5 parameters", "at most 4",
            "MOFRONT_MAX_PARAMETERS")
    refused(http, external(5, 2), ["body", "problem", "parameters"], "at most 4")


def test_budgets_over_the_ceiling_are_refused(http: TestClient) -> None:
    refused(http, {**ZDT1, "budget": {"evaluations": 101}}, ["body", "budget", "evaluations"],
            "101 evaluations", "ceiling of 100", "MOFRONT_MAX_EVALUATIONS")
    refused(http, {"algorithm": "cmorl", "budget": {"env_steps": 5001},
                   "problem": {"kind": "mo-gymnasium", "id": "deep-sea-treasure-v0"}},
            ["body", "budget", "env_steps"], "5001 env steps", "ceiling of 5000",
            "MOFRONT_MAX_ENV_STEPS")


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOFRONT_MAX_PAGE_SIZE", "7")
    monkeypatch.setenv("MOFRONT_MAX_BODY_BYTES", "1234")
    settings = Settings()
    assert (settings.max_page_size, settings.max_body_bytes) == (7, 1234)


@pytest.mark.parametrize("url", [
    "/api/v1/evaluations/..%2F..%2Fpyproject.toml/artifact",
    "/api/v1/evaluations/%2Fetc%2Fpasswd/artifact",
    "/api/v1/evaluations/1/artifact?path=/etc/passwd",
    "/ui/../pyproject.toml",
    "/ui/%2e%2e/pyproject.toml",
    "/ui/..%2Fpyproject.toml",
    "/ui/vendor/..%2F..%2Fpyproject.toml",
])
def test_no_path_from_a_request_reaches_the_file_system(http: TestClient, url: str) -> None:
    response = http.get(url)
    assert response.status_code in (404, 422), (url, response.status_code)
    assert "[project]" not in response.text and "root:" not in response.text
