"""C-MORL campaigns through the service: a real server, real worker processes, real
SQLite and PostgreSQL. Every evaluated policy is a row with its artifact, the
artifacts load and act, and a killed worker resumes from its checkpoint."""

from __future__ import annotations

import os
import signal

import numpy as np

from api.client import Client
from morl import load_policy
from morl.evaluation import evaluate
from morl.problems import MOGymConfig, catalogue
from tests.conftest import wait_for

TINY = {"n_steps": 64, "n_envs": 2, "minibatches": 4, "epochs": 2, "chunk_updates": 2,
        "n_init_policies": 3, "n_select": 2}
STEPS_PER_UPDATE = 128


def spec(env_id: str, env_steps: int, **params: object) -> dict:
    return {"algorithm": "cmorl", "problem": {"kind": "mo-gymnasium", "id": env_id},
            "budget": {"env_steps": env_steps}, "params": {**TINY, **params}, "seed": 1}


def _evaluations(http, cid: int) -> list[dict]:
    return http.get(f"/campaigns/{cid}/evaluations", params={"limit": 10_000}).json()["items"]


def test_tiny_discrete_campaign_on_deep_sea_treasure(database, make_server):
    run_tiny_campaign("deep-sea-treasure-v0", database, make_server)


def test_tiny_continuous_campaign_on_mountain_car(sqlite_database, make_server):
    run_tiny_campaign("mo-mountaincarcontinuous-v0", sqlite_database, make_server)


def run_tiny_campaign(env_id, database, make_server):
    server = make_server(database).start()
    budget = 2_000
    with Client(server.url) as client:
        campaign = client.submit(spec(env_id, budget))
        assert campaign.data["conventions"]["eval_gamma"] == 0.99
        assert campaign.data["conventions"]["discounted"] is True
        campaign.wait(progress=False, poll_seconds=0.3, timeout=240)
        assert campaign.status == "succeeded", campaign.data
        steps = (budget // STEPS_PER_UPDATE) * STEPS_PER_UPDATE
        assert campaign.data["budget"]["used"] == steps
        with server.client() as http:
            items = _evaluations(http, campaign.id)
        assert [item["seq"] for item in items] == list(range(len(items)))
        assert {item["meta"]["stage"] for item in items} == {"init", "extension"}
        assert items[-1]["budget_used"] == steps
        env = catalogue()[env_id].build(MOGymConfig()).make_env()
        for item in items[:: max(1, len(items) // 4)]:
            policy = load_policy(campaign.download_policy(item["id"]))
            assert policy.env_id == env_id
            action = policy.act(env.reset(seed=0)[0])
            assert env.action_space.contains(np.asarray(action, dtype=env.action_space.dtype)
                                             if env_id != "deep-sea-treasure-v0" else int(action))
            if env_id == "deep-sea-treasure-v0":  # deterministic: the stored return comes back
                returns = evaluate(policy.act, env, episodes=1, gamma=0.99, seed=0)
                np.testing.assert_allclose(returns.discounted, item["objectives"], rtol=1e-6)


def test_killed_cmorl_worker_resumes_from_its_checkpoint(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    budget = 12_000
    with server.client() as http:
        cid = http.post("/campaigns", json=spec("deep-sea-treasure-v0", budget,
                                                chunk_updates=1)).json()["id"]
        running = wait_for(
            lambda: (c := http.get(f"/campaigns/{cid}").json())["worker"]
            and c["n_evaluations"] >= 6 and c, what="the first recorded policies")
        assert running["status"] == "running", running
        os.kill(int(running["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
        done = wait_for(lambda: (c := http.get(f"/campaigns/{cid}").json())["status"]
                        in ("succeeded", "failed") and c, what="the resumed campaign to end",
                        timeout=240)
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 2
        items = _evaluations(http, cid)
        assert [item["seq"] for item in items] == list(range(len(items)))
        assert done["budget"]["used"] == (budget // STEPS_PER_UPDATE) * STEPS_PER_UPDATE
        assert items[-1]["budget_used"] == done["budget"]["used"]
