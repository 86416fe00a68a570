"""Artifact download by evaluation id, and the documentation routes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from storage import (
    NewEvaluation,
    append_evaluations,
    make_engine,
    make_sessionmaker,
    store_artifact,
)


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def test_artifact_is_served_by_evaluation_id(http, database):
    campaign = http.post("/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": {"kind": "test-function", "id": "branin-currin"},
        "budget": {"evaluations": 10}}).json()
    weights = b"\x00policy-weights\xff" * 100
    sessions = make_sessionmaker(make_engine(database))
    with sessions() as session:
        artifact_id = store_artifact(session, weights, "application/x-pytorch").id
        session.commit()
    with sessions() as session:
        append_evaluations(session, campaign["id"], [
            NewEvaluation(seq=0, objectives=[10.0, 3.0], params={"x0": 0.1, "x1": 0.2},
                          artifact_id=artifact_id),
            NewEvaluation(seq=1, objectives=[12.0, 2.0], params={"x0": 0.3, "x1": 0.4}),
        ])

    items = http.get(f"/api/v1/campaigns/{campaign['id']}/evaluations").json()["items"]
    with_artifact, without = items
    assert with_artifact["artifact_id"] == artifact_id and without["artifact_id"] is None

    download = http.get(f"/api/v1/evaluations/{with_artifact['id']}/artifact")
    assert download.status_code == 200
    assert download.content == weights
    assert download.headers["content-type"] == "application/x-pytorch"
    assert download.headers["x-artifact-sha256"] == hashlib.sha256(weights).hexdigest()
    assert "attachment" in download.headers["content-disposition"]

    missing = http.get(f"/api/v1/evaluations/{without['id']}/artifact")
    assert missing.status_code == 404
    assert "has no artifact" in missing.json()["detail"]
    assert http.get(f"/api/v1/evaluations/{with_artifact['id']}").json()["seq"] == 0


def test_docs_and_viewer_are_served(http):
    docs = http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = http.get("/openapi.json").json()
    for path in ["/api/v1/campaigns", "/api/v1/campaigns/{campaign_id}/front",
                 "/api/v1/campaigns/{campaign_id}/hypervolume", "/api/v1/compare",
                 "/api/v1/registry", "/api/v1/evaluations/{evaluation_id}/artifact"]:
        assert path in schema["paths"], path
    viewer = http.get("/")
    assert viewer.status_code == 200 and "<title>mofront</title>" in viewer.text
