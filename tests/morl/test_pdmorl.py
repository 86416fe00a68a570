"""PD-MORL without the service: evaluation rounds over a preference grid sharing one
stored network, a network that acts for any preference, guidance, relabelling and
resume. Tiny budgets; quality is measured by ``benchmarks/bench_morl.py``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from morl import load_policy
from morl.evaluation import evaluate
from morl.pdmorl import PDMORL, Guidance, Replay, cosine, key_preferences, random_preferences
from morl.problems import catalogue
from tests.bayesopt.memory_recorder import MemoryRecorder, MemoryStore, SimulatedCrash

TINY_DISCRETE = {"hidden_width": 32, "hidden_layers": 2, "n_explorers": 4, "eval_interval": 400,
                 "eval_preferences": 11, "batch_size": 16}
TINY_CONTINUOUS = {"hidden_width": 32, "hidden_layers": 2, "n_explorers": 2, "eval_interval": 200,
                   "eval_preferences": 3, "batch_size": 16, "random_steps": 100,
                   "policy_delay": 2}


def problem(env_id: str, **config):
    definition = catalogue()[env_id]
    return definition.build(definition.config(**config))


def run(env_id: str, budget: int, params: dict, store: MemoryStore | None = None,
        problem_config: dict | None = None, **recorder_args) -> MemoryRecorder:
    recorder = MemoryRecorder(budget, store=store, **recorder_args)
    PDMORL(problem(env_id, **(problem_config or {})), params, seed=0).run(recorder)
    return recorder


def test_each_round_evaluates_a_preference_grid_against_one_stored_network():
    recorder = run("deep-sea-treasure-v0", 1_200, TINY_DISCRETE)
    items = [recorder.store.evaluations[s] for s in sorted(recorder.store.evaluations)]
    rounds = sorted({e.meta["round"] for e in items})
    assert rounds == [1, 2, 3]  # every 400 steps
    for r in rounds:
        batch = [e for e in items if e.meta["round"] == r]
        prefs = np.array([e.params["preference"] for e in batch])
        assert len(batch) == 11  # 11 grid points, which hold the 3 key preferences
        np.testing.assert_allclose(prefs.sum(1), 1.0)
        assert len({e.artifact for e in batch}) == 1  # one network per round
        assert batch[0].meta["env_steps"] == 400 * r
    assert sum(e.cost for e in items) == 1_200
    assert all(e.meta["key_solutions"] == "learned" for e in items)


def test_stored_network_acts_for_any_preference_and_reproduces_recorded_returns():
    recorder = run("deep-sea-treasure-v0", 800, TINY_DISCRETE)
    items = list(recorder.store.evaluations.values())
    policy = load_policy(items[-1].artifact)
    env = problem("deep-sea-treasure-v0").make_env()
    obs = env.reset(seed=0)[0]
    for w in ([0.37, 0.63], [1.0, 0.0], [0.001, 0.999]):  # never evaluated exactly
        assert env.action_space.contains(int(policy.act(obs, w)))
    last_round = [e for e in items if e.meta["round"] == items[-1].meta["round"]]
    for item in last_round:
        returns = evaluate(lambda o, w=item.params["preference"]: policy.act(o, w), env,
                           episodes=1, gamma=0.99, seed=0)
        np.testing.assert_allclose(returns.discounted, item.objectives, rtol=1e-5)
    with pytest.raises(ValueError, match="preference must be 2 non-negative weights"):
        policy.act(obs, [1.0, 0.0, 0.0])


def test_continuous_network_on_mountain_car():
    recorder = run("mo-mountaincarcontinuous-v0", 400, TINY_CONTINUOUS,
                   problem_config={"max_episode_steps": 50})
    items = list(recorder.store.evaluations.values())
    assert len(items) == 2 * 3
    policy = load_policy(items[-1].artifact)
    obs = problem("mo-mountaincarcontinuous-v0").make_env().reset(seed=0)[0]
    for w in ([0.2, 0.8], [0.9, 0.1]):
        action = policy.act(obs, w)
        assert action.shape == (1,) and -1.0 <= action[0] <= 1.0


def test_known_key_solutions_come_from_the_known_front():
    recorder = run("deep-sea-treasure-v0", 400, TINY_DISCRETE | {"key_solutions": "known"})
    assert all(e.meta["key_solutions"] == "known" for e in recorder.store.evaluations.values())
    with pytest.raises(ValueError, match="needs a known Pareto front"):
        run("mo-mountaincarcontinuous-v0", 200, TINY_CONTINUOUS | {"key_solutions": "known"})


def test_a_crash_resumes_from_the_last_round_with_nothing_lost_or_duplicated():
    store = MemoryStore()
    with pytest.raises(SimulatedCrash):
        run("deep-sea-treasure-v0", 1_600, TINY_DISCRETE, store=store, fail_on_record=3)
    next_seq, state = store.checkpoint
    assert next_seq == 22 and state["round"] == 2 and state["replay"]["data"]["obs"].shape[0] > 0
    resumed = run("deep-sea-treasure-v0", 1_600, TINY_DISCRETE, store=store)
    seqs = sorted(resumed.store.evaluations)
    assert seqs == list(range(44)) and resumed.conflicts == []
    assert sorted({e.meta["round"] for e in resumed.store.evaluations.values()}) == [1, 2, 3, 4]
    assert sum(e.cost for e in resumed.store.evaluations.values()) == 1_600


def at_a_key_preference(prefs: np.ndarray) -> np.ndarray:
    """Whether each two-objective preference (last axis) is one of the key preferences."""
    return (np.abs(prefs[..., None, :] - key_preferences(2)).max(-1) < 1e-6).any(-1)


@pytest.mark.parametrize("key_fraction", [0.5, 0.0])
def test_learned_key_solutions_start_after_a_key_phase_of_key_fraction(key_fraction):
    params = TINY_DISCRETE | {"key_fraction": key_fraction}
    agent = PDMORL(problem("deep-sea-treasure-v0"), params, seed=0)
    agent.run(MemoryRecorder(400))
    explorers, copies = agent.cfg.n_explorers, 1 + agent.cfg.n_relabel
    rows = agent.replay.data["pref"][:agent.replay.size].reshape(-1, copies, explorers, 2)
    acted_at = rows[:, 0]  # round x explorer: the explorer's own preference at each step
    is_key = at_a_key_preference(acted_at)
    key_rounds = int(key_fraction * 400) // explorers
    assert is_key[:key_rounds].all()  # the key phase: key preferences only
    assert not is_key[key_rounds:key_rounds + 50].all()  # then each explorer's own slice
    assert agent.guidance.solutions is not None  # set from the network, updated online


@pytest.mark.parametrize("key_phase_relabel", ["key", "random"])
def test_the_key_phase_relabels_among_the_key_preferences_when_asked(key_phase_relabel):
    params = TINY_DISCRETE | {"key_fraction": 0.5, "key_phase_relabel": key_phase_relabel}
    agent = PDMORL(problem("deep-sea-treasure-v0"), params, seed=0)
    agent.run(MemoryRecorder(400))
    explorers, copies = agent.cfg.n_explorers, 1 + agent.cfg.n_relabel
    rows = agent.replay.data["pref"][:agent.replay.size].reshape(-1, copies, explorers, 2)
    replayed_at = rows[:, 1:]  # round x relabelled copy x explorer
    is_key = at_a_key_preference(replayed_at)
    key_rounds = 200 // explorers
    assert is_key[:key_rounds].all() == (key_phase_relabel == "key")
    assert is_key[key_rounds:].mean() < 0.2  # afterwards: random preferences either way


def test_guidance_projects_key_preferences_onto_their_key_solutions():
    guidance = Guidance(2, origin=np.array([0.0, -25.0]))
    solutions = np.array([[23.7, -19.0], [0.7, -1.0], [8.2, -3.0]])  # (1,0), (0,1), uniform
    guidance.set(solutions)
    projected = guidance.project(torch.tensor(key_preferences(2), dtype=torch.float64))
    expected = solutions - guidance.origin
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(projected.numpy(), expected, atol=1e-9)
    assert not guidance.offer(0, np.array([20.0, -10.0]))  # 20 < 23.7 at w = (1, 0)
    assert guidance.offer(1, np.array([0.7, -0.5]))
    assert cosine(torch.tensor([1.0, 0.0]), torch.tensor([[1.0, 0.0], [-1.0, 0.0]])).tolist() == \
        pytest.approx([0.9999, 0.0])


@pytest.mark.parametrize("direction_origin, expected", [("reference_point", [0.0, -25.0]),
                                                         ("zero", [0.0, 0.0])])
def test_directions_are_measured_from_the_reference_point_or_from_zero(direction_origin,
                                                                       expected):
    agent = PDMORL(problem("deep-sea-treasure-v0"),
                   TINY_DISCRETE | {"direction_origin": direction_origin}, seed=0)
    assert agent.guidance.origin.tolist() == expected  # DST's reference point: (0, -25)
    agent.guidance.set(np.array([[23.7, -19.0], [0.7, -1.0], [8.2, -3.0]]))
    projected = agent.guidance.project(torch.tensor([[1.0, 0.0]], dtype=torch.float64))
    direction = np.array([23.7, -19.0]) - np.array(expected)
    np.testing.assert_allclose(projected.numpy()[0], direction / np.linalg.norm(direction),
                               atol=1e-9)


@pytest.mark.parametrize("env_id, params", [("deep-sea-treasure-v0", TINY_DISCRETE),
                                            ("mo-mountaincarcontinuous-v0", TINY_CONTINUOUS)])
def test_without_guidance_there_are_no_key_solutions_key_phase_or_directions(env_id, params):
    agent = PDMORL(problem(env_id), params | {"guidance": False, "key_fraction": 0.5}, seed=0)
    recorder = MemoryRecorder(400)
    agent.run(recorder)
    assert agent.gradient_steps > 0
    assert agent.guidance.solutions is None
    assert {e.meta["key_solutions"] for e in recorder.store.evaluations.values()} == {"none"}
    assert agent.guidance.project(torch.tensor([[0.5, 0.5]])) is None  # S = 1, no angles
    explorers, copies = agent.cfg.n_explorers, 1 + agent.cfg.n_relabel
    rows = agent.replay.data["pref"][:agent.replay.size].reshape(-1, copies, explorers, 2)
    acted_at = rows[:, 0]  # round x explorer: the explorer's own preference at each step
    is_key = at_a_key_preference(acted_at)
    assert not is_key[:len(is_key) // 2].all()  # no key phase: each explorer's own slice


def test_relabel_preferences_and_replay_ring_buffer():
    prefs = random_preferences(1000, 3, np.random.default_rng(0))
    assert (prefs >= 0).all() and np.allclose(prefs.sum(1), 1.0, atol=2e-3)
    assert np.allclose(prefs, prefs.round(3))
    replay = Replay(capacity=5, obs_dim=1, action_dim=1, n_objectives=2)
    for start in (0, 3, 6):
        n = 3
        replay.add(obs=np.arange(start, start + n)[:, None], action=np.zeros((n, 1)),
                   reward=np.zeros((n, 2)), next_obs=np.zeros((n, 1)), done=np.zeros(n),
                   pref=np.full((n, 2), 0.5))
    assert replay.size == 5
    assert sorted(replay.data["obs"].ravel().tolist()) == [4, 5, 6, 7, 8]  # the newest five
    assert replay.state(limit=2)["data"]["obs"].ravel().tolist() == [7, 8]


@pytest.mark.parametrize(("env_id", "config", "hidden_layers", "width"), [
    ("fruit-tree-v0", {"depth": 5}, 4, 256),        # MO-DDQN: input layer + layer_N 3
    ("mo-mountaincarcontinuous-v0", {}, 2, 400),    # MO-TD3: input layer + layer_N 1
])
def test_default_networks_are_built_as_the_code_builds_them(env_id, config, hidden_layers,
                                                            width):
    agent = PDMORL(problem(env_id, **config), {"n_explorers": 2}, seed=0)
    networks = ([agent.learner.q] if hasattr(agent.learner, "q")
                else [agent.learner.actor, *agent.learner.critics])
    for network in networks:
        linear = [layer for layer in network.body if isinstance(layer, torch.nn.Linear)]
        assert len(linear) == hidden_layers + 1
        assert all(layer.out_features == width for layer in linear[:-1])
        assert all(torch.count_nonzero(layer.bias) == 0 for layer in linear)  # Xavier, zero bias


def test_explorers_share_out_the_codes_preference_grid_and_epsilon_decays_over_three_quarters():
    agent = PDMORL(problem("fruit-tree-v0", depth=5), {"n_explorers": 10}, seed=0)
    grid = np.vstack(agent.slices)
    assert len(grid) == 53_130  # every 6-objective preference in steps of 0.05
    np.testing.assert_allclose(grid * 20, np.round(grid * 20), atol=1e-9)
    firsts = [s[0] for s in agent.slices]
    assert all(len(s) in (5_313, 5_313 + 1) for s in agent.slices)
    assert sorted(map(tuple, firsts)) == list(map(tuple, firsts))  # contiguous, in order
    agent.budget = 1_000
    for steps, epsilon in [(0, 0.8), (375, 0.425), (750, 0.05), (1_000, 0.05)]:
        agent.steps_used = steps
        assert agent._epsilon() == pytest.approx(epsilon)


def fill_with_random_transitions(agent: PDMORL, rng: np.random.Generator,
                                 reward_scale: float, n: int = 64) -> int:
    """``n`` random one-dimensional-action transitions in the agent's replay; returns n."""
    m = agent.m
    agent.replay.add(obs=rng.normal(size=(n, agent.obs_dim)), action=rng.uniform(-1, 1, (n, 1)),
                     reward=rng.normal(0, reward_scale, (n, m)),
                     next_obs=rng.normal(size=(n, agent.obs_dim)), done=np.zeros(n),
                     pref=random_preferences(n, m, rng))
    return n


@pytest.mark.parametrize("max_grad_norm", [0.05, None])
def test_td3_steps_are_clipped_to_the_codes_gradient_norm(max_grad_norm):
    agent = PDMORL(problem("mo-mountaincarcontinuous-v0"),
                   {**TINY_CONTINUOUS, "max_grad_norm": max_grad_norm, "policy_delay": 2}, seed=0)
    rng = np.random.default_rng(0)
    n = fill_with_random_transitions(agent, rng, reward_scale=100.0)

    def gradient_norm_after(step, network):
        agent.learner.update(agent.replay.sample(n, rng, agent.device), agent.guidance, step)
        return torch.linalg.vector_norm(torch.stack(
            [p.grad.norm() for p in network.parameters() if p.grad is not None])).item()

    # Step 1 updates the critics alone; step 2 the actor too (whose loss also reaches the
    # critics' gradients, so the critics are read after step 1).
    norms = [gradient_norm_after(1, agent.learner.critics),
             gradient_norm_after(2, agent.learner.actor)]
    for norm in norms:
        if max_grad_norm is None:  # unclipped, both are well above the 0.05 of the other case
            assert norm > 0.2
        else:
            assert norm <= max_grad_norm * (1 + 1e-5)


def test_policy_delay_defaults_to_the_codes_value_for_each_environment():
    from jobs.spec import validate

    def delay(env_id, **params):
        return PDMORL(problem(env_id), {"n_explorers": 1, **params}, seed=0).learner.policy_delay

    assert delay("mo-hopper-2obj-v5") == 20           # the code's Hopper_MO_TD3_HER
    assert delay("mo-mountaincarcontinuous-v0") == 10  # its other tasks
    assert delay("mo-hopper-2obj-v5", policy_delay=3) == 3
    spec = {"name": "hopper", "algorithm": "pdmorl", "seed": 0,
            "problem": {"kind": "mo-gymnasium", "id": "mo-hopper-2obj-v5"},
            "budget": {"env_steps": 1000}, "params": {}}
    assert validate(spec).params["policy_delay"] == 20  # recorded with the campaign


def test_td_loss_is_the_codes_smooth_l1_unless_mse_is_asked_for():
    """With TD errors far above 1, smooth L1 bounds each error's pull on the critics;
    mean squared error (TD3's own loss) pulls in proportion to the error."""
    def critic_gradient_norm(params):
        agent = PDMORL(problem("mo-mountaincarcontinuous-v0"),
                       {**TINY_CONTINUOUS, "max_grad_norm": None, **params}, seed=0)
        rng = np.random.default_rng(0)
        n = fill_with_random_transitions(agent, rng, reward_scale=100.0)
        agent.learner.update(agent.replay.sample(n, rng, agent.device), agent.guidance, 1)
        return torch.linalg.vector_norm(torch.stack(
            [p.grad.norm() for p in agent.learner.critics.parameters()])).item()

    smooth_l1 = critic_gradient_norm({})
    assert critic_gradient_norm({"td_loss": "smooth_l1"}) == smooth_l1
    assert critic_gradient_norm({"td_loss": "mse"}) > 20 * smooth_l1
    with pytest.raises(ValueError, match="td_loss"):
        PDMORL(problem("mo-mountaincarcontinuous-v0"), {"td_loss": "l2"}, seed=0)


@pytest.mark.parametrize("penalty", [1.0, 0.0])
def test_preactivation_penalty_pulls_a_saturated_actor_back_into_tanh_range(penalty):
    agent = PDMORL(problem("mo-mountaincarcontinuous-v0"),
                   {**TINY_CONTINUOUS, "preactivation_penalty": penalty, "policy_delay": 1},
                   seed=0)
    rng = np.random.default_rng(0)
    n = fill_with_random_transitions(agent, rng, reward_scale=1.0)
    actor = agent.learner.actor
    with torch.no_grad():  # saturate it: tanh's gradient all but vanishes out there
        actor.body[-1].weight.mul_(200.0)
        actor.body[-1].bias.fill_(8.0)
    batch = agent.replay.sample(n, rng, agent.device)

    def mean_preactivation():
        with torch.no_grad():
            return actor.preactivation(batch["obs"], batch["pref"]).abs().mean().item()

    before = mean_preactivation()
    for step in range(1, 51):
        agent.learner.update(batch, agent.guidance, step)
    after = mean_preactivation()
    assert before > 5.0
    if penalty:
        assert after < 0.8 * before
    else:  # the critic's gradient alone does not get through the saturated tanh
        assert after > 0.95 * before
