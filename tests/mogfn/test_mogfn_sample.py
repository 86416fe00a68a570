"""``GET /campaigns/{id}/sample`` and ``Campaign.sample``: new objects drawn from a
GFlowNet campaign's stored sampler, on SQLite and PostgreSQL. Every object answered is
a valid terminal object of the campaign's task whose objective vector is the task's
reward for it; preferences the campaign never trained or recorded are served; bad
input is refused naming the field, a campaign without a sampler with a 409."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.client import APIError, Client
from api.settings import Settings
from jobs import registry
from jobs.worker import run_campaign
from morl.gfn_tasks import AMINO_ACIDS, GFNTask, catalogue
from storage import make_engine, make_sessionmaker

pytestmark = pytest.mark.skipif(
    "mogfn" not in registry.ALGORITHMS, reason="jobs/registry.py has no 'mogfn' algorithm"
)

GRID = {"kind": "gfn-task", "id": "hypergrid", "size": 8}
NGRAMS = {"kind": "gfn-task", "id": "ngrams", "ngrams": ["AV", "VC", "CA"],
          "min_length": 6, "max_length": 8}
NEW_PREFERENCE = [0.123, 0.877]  # never drawn in training (Dirichlet) nor recorded


def mogfn_spec(problem: dict[str, Any], evaluations: int = 64) -> dict[str, Any]:
    return {"algorithm": "mogfn", "problem": problem, "budget": {"evaluations": evaluations},
            "params": {"batch_size": 16, "steps_per_round": 2, "hidden": [32, 32]},
            "seed": 5}


SOBOL = {"algorithm": "sobol", "problem": {"kind": "test-function", "id": "branin-currin"},
         "budget": {"evaluations": 4}, "seed": 0}


def task_of(problem: dict[str, Any]) -> GFNTask:
    return catalogue()[problem["id"]].task({k: v for k, v in problem.items()
                                             if k not in ("kind", "id")})


def state_of(task: GFNTask, readable: Any) -> Any:
    """The terminal state of a readable object, checking it is one the task can build."""
    if task.id == "hypergrid":
        assert isinstance(readable, list) and len(readable) == 2
        assert all(isinstance(c, int) and 0 <= c < task.size for c in readable)  # type: ignore[attr-defined]
        return (tuple(readable), True)
    assert isinstance(readable, str) and set(readable) <= set(AMINO_ACIDS)
    assert task.min_length <= len(readable) <= task.max_length  # type: ignore[attr-defined]
    return (tuple(AMINO_ACIDS.index(letter) for letter in readable), True)


def assert_valid_candidates(problem: dict[str, Any], objects: list[Any],
                            objectives: list[list[float]]) -> None:
    task = task_of(problem)
    for readable, values in zip(objects, objectives, strict=True):
        state = state_of(task, readable)
        assert task.is_terminal(state) and task.readable(state) == readable
        assert values == [float(v) for v in task.rewards(state)]


# ---- through a real server and the Python client ------------------------------------------

def test_sampling_through_the_server_and_the_client(database, make_server):
    server = make_server(database).start()
    with Client(server.url) as client:
        grid = client.submit(mogfn_spec(GRID))
        ngrams = client.submit(mogfn_spec(NGRAMS))
        sobol = client.submit(SOBOL)
        for campaign in (grid, ngrams, sobol):
            campaign.wait(progress=False, poll_seconds=0.3, timeout=300)
            assert campaign.status == "succeeded", campaign.data

        recorded = grid.evaluations()["param.preference"]
        assert all(abs(w[0] - NEW_PREFERENCE[0]) > 1e-6 for w in recorded)
        drawn = grid.sample(NEW_PREFERENCE, n=40, seed=1)
        assert list(drawn.columns) == ["object", "branin", "currin", "preference"]
        assert len(drawn) == 40
        assert drawn.attrs["preference"] == pytest.approx(NEW_PREFERENCE)
        assert drawn.attrs["trained"]["evaluations"] == 64
        assert drawn.attrs["task"] == {"id": "hypergrid",
                                       "config": {"size": 8, "objectives": ["branin", "currin"]}}
        assert all(w == pytest.approx(NEW_PREFERENCE) for w in drawn["preference"])
        assert_valid_candidates(GRID, list(drawn["object"]),
                                drawn[["branin", "currin"]].to_numpy().tolist())
        again = grid.sample([1.23, 8.77], n=40, seed=1)  # the same preference, unscaled
        assert list(again["object"]) == list(drawn["object"])

        names = ngrams.objective_names
        sequences = ngrams.sample([0.2, 0.3, 0.5], n=25, seed=0)
        assert len(sequences) == 25 and list(sequences.columns) == ["object", *names,
                                                                    "preference"]
        assert_valid_candidates(NGRAMS, list(sequences["object"]),
                                sequences[names].to_numpy().tolist())

        with pytest.raises(APIError) as refused:
            sobol.sample([0.5, 0.5])
        assert refused.value.status_code == 409 and "not a GFlowNet" in str(refused.value)
        with pytest.raises(APIError) as refused:
            grid.sample([0.5, 0.5, 0.5])
        assert refused.value.status_code == 422 and "preference" in str(refused.value)


# ---- the route's answers and refusals, in process ---------------------------------------

@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def submit(http: TestClient, spec: dict[str, Any]) -> int:
    created = http.post("/api/v1/campaigns", json=spec)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def run_here(database: str, campaign_id: int) -> None:
    """Run the campaign in this process, as a worker would (StoreRecorder and all)."""
    engine = make_engine(database)
    try:
        assert run_campaign(make_sessionmaker(engine), campaign_id) == 0
    finally:
        engine.dispose()


def test_the_answer_and_every_refusal(http, database):
    trained = submit(http, mogfn_spec(GRID, evaluations=32))
    run_here(database, trained)
    url = f"/api/v1/campaigns/{trained}/sample"

    answer = http.get(url, params={"preference": "1,3", "n": 7, "seed": 4})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["preference"] == [0.25, 0.75] and body["n"] == 7 and body["seed"] == 4
    assert body["preference_conditioned"] is True
    assert [o["name"] for o in body["objectives"]] == ["branin", "currin"]
    holder = http.get(f"/api/v1/evaluations/{body['evaluation_id']}").json()
    assert holder["seq"] == 31 and holder["artifact_id"] is not None
    assert body["artifact_url"] == f"/api/v1/evaluations/{holder['id']}/artifact"
    assert len(body["candidates"]) == 7
    assert all(c["preference"] == [0.25, 0.75] for c in body["candidates"])
    assert_valid_candidates(GRID, [c["object"] for c in body["candidates"]],
                            [c["objectives"] for c in body["candidates"]])
    assert http.get(url, params={"preference": "1,3", "n": 7, "seed": 4}).json() == body
    assert http.get(url, params={"preference": "1,0", "n": 1000}).status_code == 200

    for params, field in [
        ({"preference": "0.5"}, "preference"),  # one weight for two objectives
        ({"preference": "0.2,0.3,0.5"}, "preference"),
        ({"preference": "-1,2"}, "preference"),
        ({"preference": "0,0"}, "preference"),
        ({"preference": "nan,1"}, "preference"),
        ({"preference": "a,b"}, "preference"),
        ({"preference": "0.5,"}, "preference"),
        ({}, "preference"),  # a preference-conditioned sampler needs one
        ({"preference": "1,1", "n": 0}, "n"),
        ({"preference": "1,1", "n": 1001}, "n"),
        ({"preference": "1,1", "seed": -1}, "seed"),
    ]:
        refused = http.get(url, params=params)
        assert refused.status_code == 422, (params, refused.text)
        assert field in refused.text, (params, refused.text)

    missing = http.get("/api/v1/campaigns/999999/sample", params={"preference": "1,1"})
    assert missing.status_code == 404 and "does not exist" in missing.text

    not_gfn = submit(http, SOBOL)
    refused = http.get(f"/api/v1/campaigns/{not_gfn}/sample", params={"preference": "1,1"})
    assert refused.status_code == 409 and "not a GFlowNet" in refused.json()["detail"]

    queued = submit(http, mogfn_spec(GRID))  # no worker runs it: no sampler yet
    refused = http.get(f"/api/v1/campaigns/{queued}/sample", params={"preference": "1,1"})
    assert refused.status_code == 409
    assert "no sampler yet" in refused.json()["detail"]
