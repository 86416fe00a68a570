"""MOGFN-AL (``bayesopt.mogfn_al``): tiny campaigns that record each round's batch of
real evaluations, propose only new objects, store a sampler that is not
preference-conditioned, resume exactly, and run through the service on SQLite and
PostgreSQL. Quality is measured by ``benchmarks/bench_mogfn.py``, not here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from bayesopt.models import fit_model
from bayesopt.mogfn_al import MOGFNAL, PointwiseModel, features_of
from jobs import registry, spec
from jobs.protocol import Cancelled
from jobs.worker import run_campaign
from morl.gfn_sampler import load_sampler
from morl.gfn_tasks import catalogue
from storage import make_engine, make_sessionmaker
from tests.bayesopt.memory_recorder import MemoryRecorder, MemoryStore, SimulatedCrash

NGRAMS = {"ngrams": ["AV", "VC"], "min_length": 4, "max_length": 6}
PARAMS = {"n_initial": 4, "batch_size": 4, "gfn_steps": 4, "gfn_batch_size": 8,
          "samples_per_proposal": 4, "hidden": [32, 32], "logz_hidden": [16]}


def ngrams() -> Any:
    return catalogue()["ngrams"].build(NGRAMS)


def run(problem: Any, budget: int, params: dict[str, Any] | None = None, seed: int = 0,
        store: MemoryStore | None = None, **recorder_args: Any) -> MemoryRecorder:
    recorder = MemoryRecorder(budget, store=store, **recorder_args)
    MOGFNAL(problem, {**PARAMS, **(params or {})}, seed=seed).run(recorder)
    return recorder


@pytest.mark.parametrize("task_id, config", [("ngrams", NGRAMS), ("hypergrid", {"size": 8})])
def test_each_round_records_its_batch_of_new_valid_objects(task_id, config):
    problem = catalogue()[task_id].build(config)
    task = problem.task
    recorder = run(problem, 4 + 2 * 4 + 3)  # the last round is cut to the budget left
    assert recorder.batch_sizes == [4, 4, 4, 3]
    evaluations = recorder.evaluations()
    assert [e.meta["round"] for e in evaluations] == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 3
    assert [e.meta["stage"] for e in evaluations[:5]] == ["initial"] * 4 + ["acquisition"]
    assert all(e.meta["log_acquisition"] is None for e in evaluations[:4])
    acquired = [e.meta["log_acquisition"] for e in evaluations[4:]]
    if task_id == "ngrams":
        assert all(isinstance(v, float) for v in acquired)
    else:  # 64 grid points: some proposals' draws hold no new one, a random one fills in
        assert all(v is None or isinstance(v, float) for v in acquired)
        assert any(isinstance(v, float) for v in acquired)
    readable = [e.params["object"] for e in evaluations]
    assert len({str(r) for r in readable}) == len(readable)  # nothing evaluated twice
    assert all(set(e.params) == {"object"} for e in evaluations)  # no preference
    for e in evaluations:
        if task_id == "ngrams":
            state = (tuple("ARNDCEQGHILKMFPSTWYV".index(c) for c in e.params["object"]), True)
        else:
            state = (tuple(e.params["object"]), True)
        assert task.is_terminal(state)
        assert e.objectives == [float(v) for v in task.rewards(state)]
    assert [i for i, e in enumerate(evaluations) if e.artifact is not None] == [7, 11, 14]
    assert set(recorder.logs[1]) >= {"fit_seconds", "gfn_seconds", "proposal_seconds",
                                     "evaluation_seconds", "loss", "log_z_shift",
                                     "new_objects"}


def test_the_stored_sampler_draws_without_a_preference():
    recorder = run(ngrams(), 12)
    sampler = load_sampler(recorder.evaluations()[-1].artifact)
    assert sampler.preference_conditioned is False
    assert sampler.trained["round"] == 2 and sampler.trained["evaluations"] == 12
    task = ngrams().task
    for sequence, objectives in sampler.sample(None, n=10, seed=0):
        assert 4 <= len(sequence) <= 6
        state = (tuple("ARNDCEQGHILKMFPSTWYV".index(c) for c in sequence), True)
        assert objectives == [float(v) for v in task.rewards(state)]
    with pytest.raises(ValueError, match="not conditioned on a preference"):
        sampler.sample([0.5, 0.5], n=2)


def test_the_pointwise_posterior_gives_the_batched_acquisition_values():
    from bayesopt.acquisition import qlogehvi

    problem = ngrams()
    task = problem.task
    algorithm = MOGFNAL(problem, PARAMS, seed=1)
    states = algorithm.new_objects(24, np.random.default_rng(0))
    x = torch.tensor(features_of(task, states))
    y = torch.tensor([task.rewards(s) for s in states], dtype=torch.float64)
    model = fit_model(x[:16], y[:16], torch.stack([torch.zeros(x.shape[1]),
                                                   torch.ones(x.shape[1])]).double())
    reference = torch.zeros(2, dtype=torch.float64)
    with torch.no_grad():
        batched = qlogehvi(model, reference, y[:16], 32, 0)(x[16:, None, :])
        pointwise = qlogehvi(PointwiseModel(model), reference, y[:16], 32, 0)(x[16:, None, :])
    torch.testing.assert_close(pointwise, batched, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("failure", [{"fail_on_record": 3}, {"fail_on_checkpoint": 2}])
def test_resume_after_a_crash_gives_the_uninterrupted_campaign(failure):
    budget = 4 + 3 * 4
    reference = run(ngrams(), budget, seed=7)
    store = MemoryStore()
    with pytest.raises(SimulatedCrash):
        run(ngrams(), budget, seed=7, store=store, **failure)
    resumed = run(ngrams(), budget, seed=7, store=store)
    assert resumed.conflicts == []  # re-recorded rows (and samplers) came back identical
    assert sorted(store.evaluations) == list(range(budget))
    assert resumed.evaluations() == reference.evaluations()


def test_cancellation_propagates_from_record():
    recorder = MemoryRecorder(16, fail_on_record=2, fail_with=Cancelled)
    with pytest.raises(Cancelled):
        MOGFNAL(ngrams(), PARAMS).run(recorder)
    assert recorder.batch_sizes == [4]


def test_fresh_networks_each_round_without_warm_start():
    recorder = run(ngrams(), 12, {"warm_start": False})
    assert recorder.batch_sizes == [4, 4, 4]


# ---- through the service --------------------------------------------------------------

SPEC = {"algorithm": "mogfn-al", "problem": {"kind": "gfn-task", "id": "ngrams", **NGRAMS},
        "budget": {"evaluations": 12}, "params": PARAMS, "seed": 2}


def test_specs_are_checked_at_submit_time():
    assert "mogfn-al" in registry.ALGORITHMS
    resolved = spec.validate(SPEC)
    assert resolved.info.reference_point == (0.0, 0.0)
    with pytest.raises(spec.SpecError, match="gfn_stepz"):
        spec.validate({**SPEC, "params": {"gfn_stepz": 3}})
    with pytest.raises(spec.SpecError, match="gfn-task"):
        spec.validate({**SPEC, "problem": {"kind": "test-function", "id": "branin-currin"}})
    described = {a["name"]: a for a in registry.describe()["algorithms"]}
    assert {"batch_size", "gfn_steps", "beta"} <= set(
        described["mogfn-al"]["params_schema"]["properties"])


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def test_a_campaign_through_the_service_records_each_round(http, database):
    created = http.post("/api/v1/campaigns", json=SPEC)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    engine = make_engine(database)
    try:
        assert run_campaign(make_sessionmaker(engine), campaign_id) == 0
    finally:
        engine.dispose()
    campaign = http.get(f"/api/v1/campaigns/{campaign_id}").json()
    assert campaign["status"] == "succeeded" and campaign["budget"]["used"] == 12
    items = http.get(f"/api/v1/campaigns/{campaign_id}/evaluations",
                     params={"limit": 100}).json()["items"]
    assert [item["meta"]["round"] for item in items] == [0] * 4 + [1] * 4 + [2] * 4
    assert [item["seq"] for item in items if item["artifact_id"] is not None] == [7, 11]
    history = http.get(f"/api/v1/campaigns/{campaign_id}/history").json()["points"]
    assert [point["n_evaluations"] for point in history] == [4, 8, 12]

    url = f"/api/v1/campaigns/{campaign_id}/sample"
    drawn = http.get(url, params={"n": 5, "seed": 1})
    assert drawn.status_code == 200, drawn.text
    body = drawn.json()
    assert body["preference"] is None and body["preference_conditioned"] is False
    assert body["trained"]["round"] == 2 and len(body["candidates"]) == 5
    refused = http.get(url, params={"preference": "0.5,0.5"})
    assert refused.status_code == 422 and "leave the preference out" in refused.text
