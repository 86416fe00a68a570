"""C-MORL without the service: what it records, the policies it stores, its archive,
its constrained extension and its resume. Tiny budgets; quality is measured by
``benchmarks/bench_morl.py``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from morl import load_policy
from morl.cmorl import CMORL, Archive, Member, crowding_distance
from morl.evaluation import evaluate
from morl.ppo import Constraint, _barrier, gae
from morl.problems import MOGymConfig, catalogue
from pareto.dominance import non_dominated_mask
from tests.bayesopt.memory_recorder import MemoryRecorder, MemoryStore, SimulatedCrash

TINY = {"n_steps": 64, "n_envs": 2, "minibatches": 4, "epochs": 2, "chunk_updates": 2,
        "n_init_policies": 3, "n_select": 2}
STEPS_PER_UPDATE = 64 * 2


def problem(env_id: str):
    return catalogue()[env_id].build(MOGymConfig())


def run(env_id: str, budget: int, params: dict | None = None, seed: int = 0,
        store: MemoryStore | None = None, **recorder_args) -> MemoryRecorder:
    recorder = MemoryRecorder(budget, store=store, **recorder_args)
    CMORL(problem(env_id), {**TINY, **(params or {})}, seed=seed).run(recorder)
    return recorder


def test_dst_campaign_records_every_policy_with_its_provenance_and_budget():
    recorder = run("deep-sea-treasure-v0", budget=3_000)
    items = [recorder.store.evaluations[s] for s in sorted(recorder.store.evaluations)]
    init = [e for e in items if e.meta["stage"] == "init"]
    extension = [e for e in items if e.meta["stage"] == "extension"]
    # T_init = 0.4 * 3000 = 1200 steps: 3 policies x 3 updates of 128 steps, evaluated
    # after 2 updates and after the third
    assert len(init) == 6
    assert {tuple(e.params["preference"]) for e in init} == {(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)}
    assert extension, "the budget left after initialisation goes to extension"
    for e in extension:
        assert e.params["target_objective"] in ("treasure", "time")
        assert e.meta["parent_seq"] is not None and e.meta["parent_seq"] < len(items)
        parent = recorder.store.evaluations[e.meta["parent_seq"]]
        assert list(parent.objectives) == e.params["parent_objectives"]
    # every training step is accounted for, in whole PPO updates, within the budget
    assert sum(e.cost for e in items) == (3_000 // STEPS_PER_UPDATE) * STEPS_PER_UPDATE
    assert [e.meta["env_steps"] for e in items] == sorted(e.meta["env_steps"] for e in items)
    assert all(e.kind == "policy" and e.artifact for e in items)
    assert all(e.meta["eval_gamma"] == 0.99 and e.meta["eval_episodes"] == 1 for e in items)


def test_stored_policies_load_act_and_reproduce_their_recorded_returns():
    recorder = run("deep-sea-treasure-v0", budget=2_000)
    env = problem("deep-sea-treasure-v0").make_env()
    for item in recorder.store.evaluations.values():
        policy = load_policy(item.artifact)
        action = policy.act(env.reset(seed=0)[0])
        assert env.action_space.contains(int(action))
        # DST is deterministic: the stored policy gets exactly the recorded return vector
        returns = evaluate(policy.act, env, episodes=1, gamma=0.99, seed=0)
        np.testing.assert_allclose(returns.discounted, item.objectives, rtol=1e-6)
        np.testing.assert_allclose(returns.undiscounted, item.meta["undiscounted"], rtol=1e-6)


def test_continuous_actions_on_mountain_car():
    recorder = run("mo-mountaincarcontinuous-v0", budget=2_000)
    env = problem("mo-mountaincarcontinuous-v0").make_env()
    items = list(recorder.store.evaluations.values())
    assert items and all(len(e.objectives) == 2 for e in items)
    policy = load_policy(items[-1].artifact)
    obs = env.reset(seed=1)[0]
    action = policy.act(obs)
    assert action.shape == (1,) and -1.0 <= action[0] <= 1.0
    assert policy.act(np.stack([obs, obs])).shape == (2, 1)


def test_same_seed_same_campaign():
    first = run("deep-sea-treasure-v0", budget=1_500, seed=4)
    second = run("deep-sea-treasure-v0", budget=1_500, seed=4)
    assert [list(e.objectives) for e in first.store.evaluations.values()] == \
        [list(e.objectives) for e in second.store.evaluations.values()]


def test_a_crash_resumes_from_the_last_checkpoint_with_nothing_lost_or_duplicated():
    store = MemoryStore()
    with pytest.raises(SimulatedCrash):
        run("deep-sea-treasure-v0", budget=3_000, store=store, fail_on_record=4)
    assert store.checkpoint is not None
    checkpoint_seq = store.checkpoint[0]
    stored_before = set(store.evaluations)
    assert stored_before == set(range(checkpoint_seq))
    resumed = run("deep-sea-treasure-v0", budget=3_000, store=store)
    seqs = sorted(resumed.store.evaluations)
    assert seqs == list(range(len(seqs))) and len(seqs) > checkpoint_seq
    assert resumed.conflicts == []
    total = sum(e.cost for e in resumed.store.evaluations.values())
    assert total == (3_000 // STEPS_PER_UPDATE) * STEPS_PER_UPDATE


def test_gae_matches_its_recursive_definition():
    rng = np.random.default_rng(0)
    T, N, m, gamma, lam = 7, 3, 2, 0.9, 0.8
    rewards, values = rng.normal(size=(T, N, m)), rng.normal(size=(T, N, m))
    dones = rng.random((T, N)) < 0.3
    last = rng.normal(size=(N, m))
    advantages, returns = gae(rewards, values, dones, last, gamma, lam)
    for n in range(N):
        for j in range(m):
            expected, following = [], 0.0
            for t in reversed(range(T)):
                next_value = last[n, j] if t == T - 1 else values[t + 1, n, j]
                alive = 0.0 if dones[t, n] else 1.0
                delta = rewards[t, n, j] + gamma * next_value * alive - values[t, n, j]
                following = delta + gamma * lam * alive * following
                expected.append(following)
            np.testing.assert_allclose(advantages[:, n, j], expected[::-1])
    np.testing.assert_allclose(returns, advantages + values)


def test_crowding_distance_keeps_extremes_infinite_and_orders_the_interior():
    points = np.array([[0.0, 4.0], [1.0, 3.0], [1.5, 2.5], [3.0, 1.0], [4.0, 0.0]])
    distance = crowding_distance(points)
    assert np.isinf(distance[[0, 4]]).all()
    # interior: (x[i+1] - x[i-1]) / 4 + (y[i-1] - y[i+1]) / 4
    np.testing.assert_allclose(distance[1:4], [(1.5 - 0) / 4 + (4 - 2.5) / 4,
                                               (3 - 1) / 4 + (3 - 1) / 4,
                                               (4 - 1.5) / 4 + (2.5 - 0) / 4])


def test_archive_keeps_the_non_dominated_set_within_capacity_and_selects_by_crowding():
    rng = np.random.default_rng(1)
    archive = Archive(reference_point=np.array([0.0, 0.0]), capacity=8)
    points = rng.random((60, 2))
    for start in range(0, 60, 10):
        archive.add([Member(p, i, i, {}) for i, p in enumerate(points[start:start + 10], start)])
    kept = np.array([m.objectives for m in archive.members])
    front = points[non_dominated_mask(points)]
    assert len(kept) == min(8, len(front))
    assert {tuple(p) for p in kept} <= {tuple(p) for p in front}
    for j in range(2):  # the extremes of every objective survive the cap
        assert front[:, j].max() in kept[:, j]
    picked = archive.select(3, picked_before=set())
    assert len(picked) == 3
    again = archive.select(3, picked_before={tuple(np.round(m.objectives, 10)) for m in picked})
    assert not {id(m) for m in again} & {id(m) for m in picked}


def test_barrier_grows_towards_the_constraint_and_still_pulls_back_when_violated():
    """Objective 1 must keep its return >= 10 while objective 0 is the target: the
    barrier is -(1/t) log(-c) inside, its tangent past -delta, zero for the target."""
    constraint = Constraint(target=0, thresholds=(0.0, 10.0), barrier_t=20.0, delta=1e-3)
    scale = torch.tensor([1.0, 2.0])

    def barrier(ratio: float, mean_return: float) -> tuple[float, float]:
        rho = torch.tensor([ratio, ratio], requires_grad=True)
        returns = torch.tensor([[123.0, mean_return], [-50.0, mean_return]])
        value = _barrier(constraint, rho, returns, scale)
        value.backward()
        return float(value), float(rho.grad.sum())

    far, _ = barrier(1.0, 30.0)
    near, pull_near = barrier(1.0, 10.5)
    assert far == pytest.approx(-np.log((30 - 10) / 2) / 20)  # the target's column is ignored
    assert near > far and pull_near < 0  # raising the ratio on these samples lowers it
    violated, pull_violated = barrier(1.0, 9.0)
    assert np.isfinite(violated) and violated > near and pull_violated < 0


def test_a_minibatch_with_an_overflowing_ratio_is_skipped_and_the_weights_stay_finite():
    from morl.config import CMORLConfig
    from morl.ppo import Learner, Rollout

    problem = catalogue()["deep-sea-treasure-v0"].build(MOGymConfig())
    config = CMORLConfig(n_envs=2, n_steps=16, minibatches=2, epochs=1)
    learner = Learner(problem.make_env, 2, config, seed=0)
    rollout = learner.collect()
    before = [p.detach().clone() for p in learner.net.parameters()]
    poisoned = rollout.log_probs.clone()
    poisoned[:] = -1e4  # exp(log π − old log π) overflows to inf in every minibatch
    learner.update(Rollout(rollout.obs, rollout.actions, poisoned, rollout.advantages,
                           rollout.returns, rollout.return_scale), lr=3e-4,
                   weights=np.array([0.5, 0.5]))
    assert learner.skipped_steps == 2
    for old, new in zip(before, learner.net.parameters(), strict=True):
        assert torch.equal(old, new)  # no step taken, nothing turned to NaN
    learner.update(rollout, lr=3e-4, weights=np.array([0.5, 0.5]))
    assert learner.skipped_steps == 2  # a sound rollout trains as before
    assert any(not torch.equal(old, new) for old, new in zip(before, learner.net.parameters(),
                                                              strict=True))
    assert all(torch.isfinite(p).all() for p in learner.net.parameters())
