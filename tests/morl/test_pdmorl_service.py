"""PD-MORL campaigns through the service: a real server and worker processes, real
SQLite and PostgreSQL. One stored network per evaluation round serves any preference,
and a killed worker resumes from its checkpoint."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from api.client import Client
from morl import load_policy
from morl.problems import MOGymConfig, catalogue
from tests.conftest import wait_for

TINY = {"hidden_width": 32, "hidden_layers": 2, "n_explorers": 4, "eval_interval": 400,
        "eval_preferences": 11, "batch_size": 16}


def spec(env_id: str, env_steps: int, problem: dict | None = None, **params: object) -> dict:
    return {"algorithm": "pdmorl",
            "problem": {"kind": "mo-gymnasium", "id": env_id, **(problem or {})},
            "budget": {"env_steps": env_steps}, "params": {**TINY, **params}, "seed": 2}


def _evaluations(http, cid: int) -> list[dict]:
    return http.get(f"/campaigns/{cid}/evaluations", params={"limit": 10_000}).json()["items"]


def run_tiny_campaign(env_id: str, database: str, make_server, budget: int, **kwargs) -> None:
    server = make_server(database).start()
    with Client(server.url) as client:
        campaign = client.submit(spec(env_id, budget, **kwargs))
        campaign.wait(progress=False, poll_seconds=0.3, timeout=240)
        assert campaign.status == "succeeded", campaign.data
        assert campaign.data["budget"]["used"] == budget
        with server.client() as http:
            items = _evaluations(http, campaign.id)
        assert [item["seq"] for item in items] == list(range(len(items)))
        last_round = max(item["meta"]["round"] for item in items)
        shared = {item["artifact_id"] for item in items if item["meta"]["round"] == last_round}
        assert len(shared) == 1  # the universal network, stored once for the round
        with server.client() as http:
            best = http.get(f"/campaigns/{campaign.id}/best",
                            params={"preference": "0.123,0.877"}).json()
        # a stored universal network, to be run at the preference asked for: the one
        # whose evaluation at the nearest grid preference scores best
        assert best["act_preference"] == [0.123, 0.877]
        grid = {tuple(item["params"]["preference"]) for item in items}
        nearest = list(min(grid, key=lambda w: abs(w[0] - 0.123) + abs(w[1] - 0.877)))
        served = best["act_evaluation"]
        assert served["params"]["preference"] == nearest
        assert best["artifact_url"] == f"/api/v1/evaluations/{served['id']}/artifact"
        returns = np.array([item["objectives"] for item in items])  # every round's network
        low, high = returns.min(axis=0), returns.max(axis=0)

        def utility(item: dict) -> float:
            span = np.where(high > low, high - low, np.inf)
            return float(np.dot([0.123, 0.877], (np.array(item["objectives"]) - low) / span))

        at_grid_point = [item for item in items if item["params"]["preference"] == nearest]
        assert len(at_grid_point) == len({item["meta"]["round"] for item in items})
        top = max(utility(item) for item in at_grid_point)
        assert utility(served) == pytest.approx(top)
        assert served["id"] == max(item["id"] for item in at_grid_point
                                   if utility(item) == pytest.approx(top))  # the latest
        policy = load_policy(campaign.download_policy(served["id"]))
        env = catalogue()[env_id].build(MOGymConfig()).make_env()
        obs = env.reset(seed=0)[0]
        for w in ([0.123, 0.877], [0.5, 0.5]):  # any preference, evaluated or not
            action = np.asarray(policy.act(obs, w))
            assert env.action_space.contains(action.astype(env.action_space.dtype)
                                             if action.ndim else int(action))


def test_tiny_discrete_campaign_on_deep_sea_treasure(database, make_server):
    run_tiny_campaign("deep-sea-treasure-v0", database, make_server, budget=800)


def test_tiny_continuous_campaign_on_mountain_car(sqlite_database, make_server):
    run_tiny_campaign("mo-mountaincarcontinuous-v0", sqlite_database, make_server, budget=400,
                      problem={"max_episode_steps": 50}, n_explorers=2, eval_interval=200,
                      eval_preferences=3, random_steps=100, policy_delay=2)


def test_known_key_solutions_are_refused_where_no_front_is_known(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with server.client() as http:
        response = http.post("/campaigns", json=spec("mo-hopper-2obj-v5", 1000,
                                                     key_solutions="known"))
        assert response.status_code == 422
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", "params", "key_solutions"]
        assert "known Pareto front" in detail["msg"]
        assert http.get("/campaigns").json()["total"] == 0


def test_killed_pdmorl_worker_resumes_from_its_checkpoint(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    budget = 8_000
    with server.client() as http:
        cid = http.post("/campaigns", json=spec("deep-sea-treasure-v0", budget)).json()["id"]
        running = wait_for(
            lambda: (c := http.get(f"/campaigns/{cid}").json())["worker"]
            and c["n_evaluations"] >= 11 and c, what="the first evaluation round")
        assert running["status"] == "running", running
        os.kill(int(running["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
        done = wait_for(lambda: (c := http.get(f"/campaigns/{cid}").json())["status"]
                        in ("succeeded", "failed") and c, what="the resumed campaign to end",
                        timeout=240)
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 2
        items = _evaluations(http, cid)
        assert [item["seq"] for item in items] == list(range(20 * 11))  # 20 rounds of 11
        assert done["budget"]["used"] == budget
