"""MOGFN campaigns through the service: spec checks at submit time, and a real server
with a real worker on SQLite recording every sample, the sampler artifacts that load
and draw, and the HyperGrid's known front."""

from __future__ import annotations

import numpy as np
import pytest

from api.client import Client
from jobs import registry, spec
from morl.gfn_tasks import catalogue
from morl.mogfn import load_sampler

pytestmark = pytest.mark.skipif(
    "mogfn" not in registry.ALGORITHMS or "gfn-task" not in registry.PROBLEM_KINDS,
    reason="jobs/registry.py has no 'mogfn' algorithm / 'gfn-task' problem kind",
)


def campaign_spec(**params: object) -> dict:
    return {"algorithm": "mogfn",
            "problem": {"kind": "gfn-task", "id": "hypergrid", "size": 8},
            "budget": {"evaluations": 96},
            "params": {"batch_size": 16, "steps_per_round": 2, **params}, "seed": 3}


def test_specs_are_checked_at_submit_time():
    resolved = spec.validate(campaign_spec())
    assert resolved.info.reference_point == (0.0, 0.0)
    with pytest.raises(spec.SpecError, match="scalarisation"):
        spec.validate(campaign_spec(scalarisation="chebyshev"))
    with pytest.raises(spec.SpecError, match="env_steps"):
        spec.validate({**campaign_spec(), "budget": {"env_steps": 100}})
    with pytest.raises(spec.SpecError, match="size"):
        spec.validate({**campaign_spec(), "problem": {"kind": "gfn-task", "id": "hypergrid",
                                                      "size": 1}})
    described = registry.describe()
    assert any(a["name"] == "mogfn" for a in described["algorithms"])
    ids = {p["id"] for p in described["problems"] if p["kind"] == "gfn-task"}
    assert {"hypergrid", "ngrams"} <= ids


def test_the_task_fills_the_sampler_settings_a_spec_leaves_unset():
    hypergrid = spec.validate(campaign_spec()).params
    assert (hypergrid["beta"], hypergrid["lr_logz"], hypergrid["exploration"]) == (16.0, 0.1, 0.0)
    ngrams = spec.validate({**campaign_spec(), "problem": {"kind": "gfn-task", "id": "ngrams"}})
    assert (ngrams.params["beta"], ngrams.params["lr_logz"],
            ngrams.params["exploration"]) == (96.0, 0.01, 0.01)
    chosen = spec.validate(campaign_spec(lr_logz=0.02, exploration=0.05)).params
    assert (chosen["beta"], chosen["lr_logz"], chosen["exploration"]) == (16.0, 0.02, 0.05)


def test_a_hypergrid_campaign_through_the_service(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with Client(server.url) as client:
        campaign = client.submit(campaign_spec())
        campaign.wait(progress=False, poll_seconds=0.3, timeout=240)
        assert campaign.status == "succeeded", campaign.data
        assert campaign.data["budget"]["used"] == 96
        with server.client() as http:
            items = http.get(f"/campaigns/{campaign.id}/evaluations",
                             params={"limit": 1000}).json()["items"]
        assert [item["seq"] for item in items] == list(range(96))
        table = catalogue()["hypergrid"].task({"size": 8}).table
        for item in items:
            i, j = item["params"]["object"]
            assert item["objectives"] == list(table[i, j])
            assert sum(item["params"]["preference"]) == pytest.approx(1.0)
        with_sampler = [item for item in items if item["artifact_id"] is not None]
        assert [item["seq"] for item in with_sampler] == [31, 63, 95]
        sampler = load_sampler(campaign.download_policy(with_sampler[-1]["id"]))
        assert sampler.trained["evaluations"] == 96
        drawn = sampler.sample([0.9, 0.1], n=8, seed=0)
        assert all(objectives == list(table[o[0], o[1]]) for o, objectives in drawn)
        known = campaign.known_front()
        np.testing.assert_allclose(np.sort(known.to_numpy(), axis=0),
                                   np.sort(catalogue()["hypergrid"].task({"size": 8})
                                           .known_front(), axis=0))
        assert known.attrs["source"] == (
            "gfn-task:hypergrid (size=8, objectives=['branin', 'currin']), "
            "the task's own known front (no discounting)")
