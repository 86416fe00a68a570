"""Every BO algorithm runs a tiny campaign end to end through the service on
BraninCurrin (a real server and worker), and qlognehvi drives an ask/tell campaign
from the client against a local function."""

from __future__ import annotations

import numpy as np
import pytest

from api.client import Client

TINY_BO = {"q": 2, "n_initial": 4, "num_restarts": 2, "raw_samples": 32, "mc_samples": 16}


@pytest.fixture(scope="module")
def server(tmp_path_factory, postgres_available):
    from tests.conftest import Server

    path = tmp_path_factory.mktemp("bo")
    server = Server(f"sqlite:///{path / 'mofront.db'}", path / "server.log", workers=2).start()
    yield server
    server.stop()


@pytest.mark.parametrize(("algorithm", "params"), [
    ("qlognehvi", TINY_BO),
    ("qnparego", TINY_BO),
    ("nsga2", {"pop_size": 4}),
    ("sobol", {"batch_size": 4}),
])
def test_algorithm_runs_end_to_end_on_branin_currin(server, algorithm, params):
    with Client(server.url) as client:
        campaign = client.submit({
            "algorithm": algorithm, "problem": {"kind": "test-function", "id": "branin-currin"},
            "budget": {"evaluations": 10}, "params": params, "seed": 0})
        campaign.wait(progress=False, poll_seconds=0.3, timeout=240)
        assert campaign.status == "succeeded", campaign.data
        evaluations = campaign.evaluations()
        assert list(evaluations["seq"]) == list(range(10))
        x = evaluations[["param.x0", "param.x1"]].to_numpy()
        assert ((x >= 0) & (x <= 1)).all()
        items = campaign._client.request(
            "GET", f"/campaigns/{campaign.id}/evaluations", params={"limit": 20})["items"]
        assert all(item["meta"] for item in items)  # where each candidate came from
        history = campaign.history()
        assert history["n_evaluations"].iloc[-1] == 10
        if algorithm in ("qlognehvi", "qnparego"):
            stages = [item["meta"]["stage"] for item in items]
            assert stages[:4] == ["initial"] * 4 and set(stages[4:]) == {"acquisition"}
            # 4 initial points, then 3 batches of q=2, each with its GP fit and acquisition
            timed = [e for e in history["extras"] if e.get("acquisition_seconds", 0) > 0]
            assert len(timed) == 3 and all(e["fit_seconds"] > 0 for e in timed)


def test_qlognehvi_ask_tell_against_a_local_function(server):
    def branin_currin_like(a: float, b: float) -> dict[str, float]:
        return {"f": (a - 0.3) ** 2 + b, "g": (b - 0.7) ** 2 + a}

    with Client(server.url) as client:
        campaign = client.optimize(
            branin_currin_like, parameters={"a": (0, 1), "b": (0, 1)},
            objectives={"f": "minimize", "g": "minimize"}, budget=9,
            algorithm="qlognehvi", batch_size=2, params=TINY_BO, reference_point=[2, 2])
        assert campaign.refresh().status == "succeeded"
        evaluations = campaign.evaluations()
        assert len(evaluations) == 9
        for _, row in evaluations.iterrows():
            expected = branin_currin_like(row["param.a"], row["param.b"])
            assert np.isclose(row["f"], expected["f"]) and np.isclose(row["g"], expected["g"])
        assert campaign.hypervolume() > 0


def test_a_noisy_test_function_campaign_shows_the_observed_and_the_true_values(server):
    with Client(server.url) as client:
        campaign = client.submit({
            "algorithm": "qlognehvi", "budget": {"evaluations": 8}, "params": TINY_BO,
            "problem": {"kind": "test-function", "id": "branin-currin",
                        "noise_std": [15.19, 0.63]}})
        campaign.wait(progress=False, poll_seconds=0.3, timeout=240)
        assert campaign.status == "succeeded", campaign.data
        evaluations = campaign.evaluations()
        denoised = campaign.front(denoised=True)  # the front of the GPs' predictions
    assert len(denoised) >= 1 and {"predicted.branin", "predicted.currin"} <= set(denoised)
    assert list(evaluations["sem.branin"]) == [15.19] * 8
    assert list(evaluations["sem.currin"]) == [0.63] * 8
    noise = evaluations[["branin", "currin"]].to_numpy() - evaluations[
        ["true.branin", "true.currin"]].to_numpy()
    assert np.all(noise != 0) and np.abs(noise / [15.19, 0.63]).max() < 6


def test_constraint_noise_is_observed_and_feasibility_judged_on_what_was_observed(server):
    with Client(server.url) as client:
        campaign = client.submit({
            "algorithm": "sobol", "budget": {"evaluations": 12}, "params": {"batch_size": 6},
            "problem": {"kind": "test-function", "id": "constrained-branin-currin",
                        "constraint_noise_std": 5.0}})
        campaign.wait(progress=False, poll_seconds=0.3, timeout=240)
        assert campaign.status == "succeeded", campaign.data
        evaluations = campaign.evaluations()
        denoised = campaign.front(denoised=True)  # offered: the constraint is noisy
    assert len(denoised) >= 1 and (denoised["predicted_slack.c0"] >= 0).all()
    assert list(evaluations["sem.c0"]) == [5.0] * 12
    noise = evaluations["constraint.c0"] - evaluations["true.c0"]
    assert np.all(noise != 0) and np.abs(noise / 5.0).max() < 6
    assert list(evaluations["feasible"]) == list(evaluations["constraint.c0"] >= 0)
    assert "true.branin" not in evaluations  # the objectives are exact
