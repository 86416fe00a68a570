"""MORL campaigns on Deep Sea Treasure whose evaluations are real, loadable (but
untrained) policies, built without training: each campaign is submitted through the
API of an app with no scheduler (so its conventions are filled as for any submission
and no worker picks it up), each policy is evaluated with ``morl.evaluation.evaluate``
as the campaign's conventions say, the rows are stored through ``storage``, and the
campaign is marked succeeded so a server started later on the same database leaves it
alone.

* :func:`store_policy_campaign`: C-MORL style, one policy artifact per evaluation.
* :func:`store_universal_campaign`: PD-MORL style, one network artifact shared by
  every evaluation, each row's params holding the preference it was evaluated at.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import torch
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from api.settings import Settings
from morl.evaluation import evaluate
from morl.pdmorl import QNetwork, network_bytes
from morl.policy import ActionSpace, Actor, RunningMeanStd, load_policy, policy_bytes
from morl.problems import MOGymConfig, catalogue
from storage import (
    NewEvaluation,
    append_evaluations,
    get_campaign,
    make_engine,
    make_sessionmaker,
    store_artifact,
)

DST = "deep-sea-treasure-v0"
MAX_EPISODE_STEPS = 30  # an untrained policy that never finds treasure stops here
PROBLEM = {"kind": "mo-gymnasium", "id": DST, "max_episode_steps": MAX_EPISODE_STEPS}
# Random networks with three times PyTorch's initial weights: their deterministic paths
# differ more, so several Deep Sea Treasure treasures are found, not one.
WEIGHT_SCALE = 3.0


def untrained_policy(env: Any, seed: int) -> bytes:
    torch.manual_seed(seed)
    obs_dim = env.observation_space.shape[0]
    actor = Actor(obs_dim, ActionSpace.of(env.action_space), [64, 64])
    with torch.no_grad():
        for parameter in actor.parameters():
            parameter.mul_(WEIGHT_SCALE)
    return policy_bytes(actor, RunningMeanStd((obs_dim,)), DST, {"seed": seed})


def store_policy_campaign(database_url: str, n_policies: int = 8) -> dict[str, Any]:
    """A cmorl campaign with ``n_policies`` policy evaluations; returns its JSON."""

    def rows(session: Session, env: Any, conventions: dict[str, Any]) -> list[NewEvaluation]:
        items, steps = [], 0
        for seq in range(n_policies):
            blob = untrained_policy(env, seed=seq)
            returns = evaluate(load_policy(blob).act, env, conventions["eval_episodes"],
                               conventions["eval_gamma"], seed=0)
            steps += returns.steps
            weight = seq / max(1, n_policies - 1)
            items.append(NewEvaluation(
                seq=seq, kind="policy", objectives=returns.discounted.tolist(),
                params={"preference": [weight, 1 - weight]}, budget_used=steps,
                artifact_id=store_artifact(session, blob).id,
                meta={"stage": "init", "parent": None, "env_steps": steps,
                      "undiscounted": returns.undiscounted.tolist()},
            ))
        return items

    return _stored_campaign(database_url, "cmorl", "dst-untrained-policies", rows)


def store_universal_campaign(
    database_url: str, preferences: tuple[tuple[float, float], ...] = ((1, 0), (0.5, 0.5), (0, 1))
) -> dict[str, Any]:
    """A pdmorl campaign: one untrained MO-DDQN network evaluated at each preference."""

    def rows(session: Session, env: Any, conventions: dict[str, Any]) -> list[NewEvaluation]:
        torch.manual_seed(2)  # a network that goes for the first treasure at (0, 1) only
        action = ActionSpace.of(env.action_space)
        network = QNetwork(env.observation_space.shape[0], action.n, 2, width=32, layers=2)
        blob = network_bytes(network, action, 2, DST, {"round": 1})
        policy, artifact = load_policy(blob), store_artifact(session, blob)
        items = []
        for seq, preference in enumerate(preferences):
            returns = evaluate(lambda obs, w=preference: policy.act(obs, w), env,
                               conventions["eval_episodes"], conventions["eval_gamma"], seed=0)
            items.append(NewEvaluation(
                seq=seq, kind="policy", objectives=returns.discounted.tolist(),
                params={"preference": list(preference)}, artifact_id=artifact.id,
                meta={"stage": "evaluation", "round": 1,
                      "undiscounted": returns.undiscounted.tolist()},
            ))
        return items

    return _stored_campaign(database_url, "pdmorl", "dst-untrained-universal", rows)


def _stored_campaign(
    database_url: str, algorithm: str, name: str,
    rows: Callable[[Session, Any, dict[str, Any]], list[NewEvaluation]],
) -> dict[str, Any]:
    spec = {"name": name, "algorithm": algorithm, "problem": PROBLEM,
            "budget": {"env_steps": 10_000}, "seed": 0}
    with TestClient(create_app(Settings(database_url=database_url,
                                        run_scheduler=False))) as http:
        created = http.post("/api/v1/campaigns", json=spec)
        assert created.status_code == 201, created.text
        campaign = created.json()
    env = catalogue()[DST].build(MOGymConfig(max_episode_steps=MAX_EPISODE_STEPS)).make_env()
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        items = rows(session, env, campaign["conventions"])
        session.commit()
    env.close()
    with sessions() as session:
        append_evaluations(session, campaign["id"], items)
    with sessions() as session:
        row = get_campaign(session, campaign["id"])
        row.status = "succeeded"
        row.started_at, row.finished_at = row.created_at, datetime.now(UTC)
        session.commit()
    engine.dispose()
    return campaign
