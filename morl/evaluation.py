"""Policy evaluation: the return vectors a MORL result is made of.

An evaluation runs ``episodes`` episodes with a deterministic policy and reports the
mean return vector twice: discounted by ``gamma`` (the ``eval_gamma`` a campaign
states, and what goes on its front) and undiscounted (kept beside it, so either
convention can be quoted later). Episode ``k`` is reset with seed ``seed + k``, so
the same policy and seed give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
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
    discounted: list[np.ndarray] = []
    undiscounted: list[np.ndarray] = []
    lengths: list[int] = []
    frames: list[Any] = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        total_discounted = total = None
        discount, length, done = 1.0, 0, False
        while not done:
            if render:
                frames.append(env.render())
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            reward = np.asarray(reward, dtype=np.float64)
            total = reward.copy() if total is None else total + reward
            weighted = discount * reward
            total_discounted = weighted if total_discounted is None else total_discounted + weighted
            discount *= gamma
            length += 1
            done = bool(terminated or truncated)
        assert total is not None and total_discounted is not None  # every episode takes a step
        discounted.append(total_discounted)
        undiscounted.append(total)
        lengths.append(length)
    return Returns(np.mean(discounted, axis=0), np.mean(undiscounted, axis=0), lengths, frames)
