"""Policy evaluation: the return vectors a MORL result is made of.

An evaluation runs ``episodes`` episodes with a deterministic policy and reports the
mean return vector twice: discounted by ``gamma`` (the ``eval_gamma`` a campaign
states, and what goes on its front) and undiscounted (kept beside it, so either
convention can be quoted later). Episode ``k`` is reset with seed ``seed + k``, so
the same policy and seed give the same numbers.

:func:`evaluate_together` evaluates several policies (a preference-conditioned network
at each preference of a grid) in lock-step, one environment each, so that the policy
is called once per time step with a batch instead of once per policy: on hopper, half
of a sequential evaluation's time was the network's batch-of-one forward passes.
:func:`evaluate` is the case of one policy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Returns:
    discounted: np.ndarray  # mean over episodes, gamma-discounted
    undiscounted: np.ndarray
    episode_lengths: list[int]
    frames: list[Any] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return int(sum(self.episode_lengths))


def evaluate(
    act: Callable[[np.ndarray], Any],
    env: Any,
    episodes: int,
    gamma: float,
    seed: int,
    render: bool = False,
) -> Returns:
    """Run ``episodes`` episodes of ``act`` in ``env`` (an MO-Gymnasium env whose reward
    is a vector); the env's own time limit ends an episode that does not terminate."""
    return evaluate_together(lambda obs, rows: [act(obs[0])], [env], episodes, gamma, seed,
                             render)[0]


def evaluate_together(
    act: Callable[[np.ndarray, np.ndarray], Any],
    envs: Sequence[Any],
    episodes: int,
    gamma: float,
    seed: int,
    render: bool = False,
) -> list[Returns]:
    """:func:`evaluate` for ``len(envs)`` policies at once, policy ``i`` acting in
    ``envs[i]``. ``act(observations, rows)`` answers one action per row for the stacked
    observations of the environments still running and their indices. Every
    environment's episode ``k`` is reset with seed ``seed + k``, so row ``i`` is what
    policy ``i`` alone gives (up to the rounding of a batched forward pass)."""
    discounted: list[list[np.ndarray]] = [[] for _ in envs]
    undiscounted: list[list[np.ndarray]] = [[] for _ in envs]
    lengths: list[list[int]] = [[] for _ in envs]
    frames: list[list[Any]] = [[] for _ in envs]
    for episode in range(episodes):
        obs = [np.asarray(env.reset(seed=seed + episode)[0]) for env in envs]
        total: list[Any] = [0.0] * len(envs)
        total_discounted: list[Any] = [0.0] * len(envs)
        running = list(range(len(envs)))
        discount, length = 1.0, 0
        while running:  # every running environment is at time step ``length``
            actions = act(np.stack([obs[i] for i in running]), np.asarray(running))
            still_running = []
            for i, action in zip(running, actions, strict=True):
                if render:
                    frames[i].append(envs[i].render())
                obs[i], reward, terminated, truncated, _ = envs[i].step(action)
                reward = np.asarray(reward, dtype=np.float64)
                total[i] = total[i] + reward
                total_discounted[i] = total_discounted[i] + discount * reward
                if terminated or truncated:
                    discounted[i].append(total_discounted[i])
                    undiscounted[i].append(total[i])
                    lengths[i].append(length + 1)
                else:
                    still_running.append(i)
            discount *= gamma
            length += 1
            running = still_running
    return [Returns(np.mean(discounted[i], axis=0), np.mean(undiscounted[i], axis=0),
                    lengths[i], frames[i]) for i in range(len(envs))]
