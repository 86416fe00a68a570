"""Policy evaluation: several policies stepped together give each policy what it gets
evaluated alone."""

from __future__ import annotations

import numpy as np
import pytest

from morl import load_policy
from morl.evaluation import evaluate, evaluate_together
from morl.problems import catalogue


def make_env(env_id: str):
    definition = catalogue()[env_id]
    return definition.build(definition.config()).make_env()


@pytest.mark.parametrize("env_id", ["mo-hopper-2obj-v5", "deep-sea-treasure-v0"])
def test_policies_stepped_together_return_what_each_returns_alone(env_id):
    gains = np.array([0.3, -0.8, 1.5, 0.05, -2.0])

    def act(obs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if env_id == "deep-sea-treasure-v0":  # down (1) or right (3), by row and position
            return ((obs[:, 0] + obs[:, 1] + rows) % 2 * 2 + 1).astype(np.int64)
        return np.tanh(obs[:, 2:5] * gains[rows, None] * 4.0)  # elementwise: exact per row

    envs = [make_env(env_id) for _ in gains]
    together = evaluate_together(act, envs, episodes=2, gamma=0.99, seed=7)
    alone = [evaluate(lambda o, i=i: act(np.asarray(o)[None], np.array([i]))[0],
                      make_env(env_id), episodes=2, gamma=0.99, seed=7)
             for i in range(len(gains))]
    for mine, single in zip(together, alone, strict=True):
        np.testing.assert_array_equal(mine.discounted, single.discounted)
        np.testing.assert_array_equal(mine.undiscounted, single.undiscounted)
        assert mine.episode_lengths == single.episode_lengths
    lengths = {tuple(r.episode_lengths) for r in together}
    assert len(lengths) > 1  # episodes ended at different steps: the batch shrank


def test_a_universal_network_acts_for_one_preference_per_row(tmp_path):
    from tests.morl.test_pdmorl import TINY_CONTINUOUS, run

    recorder = run("mo-mountaincarcontinuous-v0", 200, TINY_CONTINUOUS,
                   problem_config={"max_episode_steps": 50})
    policy = load_policy(next(iter(recorder.store.evaluations.values())).artifact)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(4, 2))
    prefs = np.array([[1.0, 0.0], [0.3, 0.7], [2.0, 2.0], [0.0, 5.0]])
    each = np.array([policy.act(o, w) for o, w in zip(obs, prefs, strict=True)])
    np.testing.assert_allclose(policy.act(obs, prefs), each, atol=1e-6)
    with pytest.raises(ValueError, match="one such row per observation"):
        policy.act(obs, prefs[:3])
    with pytest.raises(ValueError, match="preference must be 2 non-negative weights"):
        policy.act(obs, np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]))
