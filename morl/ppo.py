"""Multi-objective PPO: the policy learner of C-MORL.

One :class:`Learner` is one policy in training: an actor, a critic with one value head
per objective, its optimiser, running normalisers of observations and of each
objective's return, and ``n_envs`` copies of the environment stepped in lock-step.

* Rollouts: ``n_steps`` steps in each of ``n_envs`` environments; an episode that ends
  (terminated or truncated) is reset at once. Truncation is treated as termination,
  as in C-MORL's code (``use_proper_time_limits`` off).
* Rewards are scaled per objective by the running standard deviation of the
  discounted return (the usual PPO return normalisation, one scale per objective).
* Advantages: GAE(λ) per objective on the scaled rewards; the value heads learn the
  per-objective returns. For a preference ``w`` the policy is trained on
  ``wᵀA`` with ``A`` de-normalised back to the environment's units (so ``w`` weighs
  the objectives as the user reads them), then standardised over the batch.
* Constrained extension (:class:`Constraint`): the PPO-clip surrogate on the target
  objective's standardised advantage plus the log barrier of :class:`Constraint`.

Hyperparameter defaults are in :class:`morl.config.PPOConfig`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from morl.policy import ActionSpace, Actor, RunningMeanStd, mlp, normalise, policy_bytes

REWARD_CLIP = 10.0


class ActorCritic(nn.Module):
    def __init__(self, obs_dim: int, action: ActionSpace, n_objectives: int, hidden: list[int]):
        super().__init__()
        self.actor = Actor(obs_dim, action, hidden)
        self.critic = mlp([obs_dim, *hidden, n_objectives])


class EnvRunner:
    """``n_envs`` copies of one environment, stepped together, each reset when it ends."""

    def __init__(self, make_env: Callable[[], Any], n_envs: int, seed: int):
        self.envs = [make_env() for _ in range(n_envs)]
        self.obs = np.stack([
            np.asarray(env.reset(seed=seed + k)[0], dtype=np.float64).ravel()
            for k, env in enumerate(self.envs)
        ])

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Step every env; returns (rewards ``n x m``, dones ``n``) and updates ``obs``."""
        rewards, dones = [], []
        for k, env in enumerate(self.envs):
            obs, reward, terminated, truncated, _ = env.step(actions[k])
            done = bool(terminated or truncated)
            if done:
                obs, _ = env.reset()
            self.obs[k] = np.asarray(obs, dtype=np.float64).ravel()
            rewards.append(np.asarray(reward, dtype=np.float64))
            dones.append(done)
        return np.stack(rewards), np.asarray(dones)

    def close(self) -> None:
        for env in self.envs:
            env.close()


@dataclass
class Rollout:
    obs: torch.Tensor  # T x N x obs_dim, normalised
    actions: torch.Tensor
    log_probs: torch.Tensor  # T x N
    advantages: np.ndarray  # T x N x m, in scaled-reward units
    returns: np.ndarray  # T x N x m, in scaled-reward units (value targets)
    return_scale: np.ndarray  # m, what the scaled rewards were divided by


@dataclass(frozen=True)
class Constraint:
    """Extension of a policy π_r on objective ``target``: maximise J_target subject to
    J_j >= threshold_j for every other j, by an interior-point (log-barrier) method.

    ``thresholds`` are in the units of the per-state returns of the training rollouts
    (environment units, training discount): see ``morl.cmorl`` for how they are set
    from π_r. On a minibatch with probability ratios ρ and returns G, the constraint
    estimate is ``ĉ_j = (threshold_j − mean(clip(ρ)·G_j)) / scale_j`` (feasible when
    ``ĉ_j < 0``) and the barrier ``−(1/t)·Σ_j log(−ĉ_j)``, continued linearly below
    ``−δ`` so that an infeasible batch still gets a gradient back towards feasibility.
    """

    target: int
    thresholds: tuple[float, ...]  # one per objective; the target's is ignored
    barrier_t: float
    delta: float = 1e-3


class Learner:
    """One policy in training, with everything needed to continue training it."""

    def __init__(self, make_env: Callable[[], Any], n_objectives: int, config: Any,
                 seed: int, device: str = "cpu"):
        self.config = config
        self.device = torch.device(device)
        self.n_objectives = n_objectives
        self.runner = EnvRunner(make_env, config.n_envs, seed)
        probe = self.runner.envs[0]
        self.obs_dim = int(np.prod(probe.observation_space.shape))
        self.action = ActionSpace.of(probe.action_space)
        self.net = ActorCritic(self.obs_dim, self.action, n_objectives, list(config.hidden))
        self.net.to(self.device)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.lr, eps=1e-5)
        self.obs_rms = RunningMeanStd((self.obs_dim,))
        self.ret_rms = RunningMeanStd((n_objectives,))
        self._running_return = np.zeros((config.n_envs, n_objectives))
        self.updates = 0
        self.skipped_steps = 0  # minibatch steps skipped for a non-finite gradient

    @property
    def steps_per_update(self) -> int:
        return self.config.n_steps * self.config.n_envs

    # ---- data --------------------------------------------------------------------
    def _normalised(self, obs: np.ndarray) -> np.ndarray:
        return normalise(obs, self.obs_rms) if self.config.normalise_observations else obs

    def collect(self) -> Rollout:
        cfg, runner = self.config, self.runner
        obs_seq, action_seq, logp_seq, value_seq, reward_seq, done_seq = [], [], [], [], [], []
        for _ in range(cfg.n_steps):
            if cfg.normalise_observations:
                self.obs_rms.update(runner.obs)
            obs = torch.as_tensor(self._normalised(runner.obs), dtype=torch.float32,
                                  device=self.device)
            with torch.no_grad():
                dist = self.net.actor.distribution(obs)
                action = dist.sample()
                log_prob = _joint(dist.log_prob(action), self.action)
                value = self.net.critic(obs)
            env_action = action.cpu().numpy()
            if self.action.kind == "box":
                env_action = np.clip(env_action, self.action.low, self.action.high)
            rewards, dones = runner.step(env_action)
            obs_seq.append(obs)
            action_seq.append(action)
            logp_seq.append(log_prob)
            value_seq.append(value.cpu().numpy())
            reward_seq.append(self._scale_rewards(rewards, dones))
            done_seq.append(dones)
        with torch.no_grad():
            last_obs = torch.as_tensor(self._normalised(runner.obs), dtype=torch.float32,
                                       device=self.device)
            last_value = self.net.critic(last_obs).cpu().numpy()
        advantages, returns = gae(np.stack(reward_seq), np.stack(value_seq), np.stack(done_seq),
                                  last_value, cfg.gamma, cfg.gae_lambda)
        return Rollout(torch.stack(obs_seq), torch.stack(action_seq), torch.stack(logp_seq),
                       advantages, returns, self.return_scale())

    def _scale_rewards(self, rewards: np.ndarray, dones: np.ndarray) -> np.ndarray:
        if not self.config.normalise_rewards:
            return rewards
        self._running_return = self._running_return * self.config.gamma + rewards
        self.ret_rms.update(self._running_return)
        self._running_return[dones] = 0.0
        return np.clip(rewards / self.return_scale(), -REWARD_CLIP, REWARD_CLIP)

    def return_scale(self) -> np.ndarray:
        if not self.config.normalise_rewards:
            return np.ones(self.n_objectives)
        return np.sqrt(self.ret_rms.var + 1e-8)

    # ---- learning ----------------------------------------------------------------
    def update(self, rollout: Rollout, lr: float, weights: np.ndarray | None = None,
               constraint: Constraint | None = None) -> dict[str, float]:
        """PPO epochs on ``rollout``: scalarised by ``weights``, or the constrained
        extension of ``constraint.target``."""
        cfg = self.config
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        raw_advantages = rollout.advantages * rollout.return_scale  # environment units
        if constraint is None:
            assert weights is not None
            signal = raw_advantages @ np.asarray(weights, dtype=np.float64)
        else:
            signal = raw_advantages[..., constraint.target]
        signal = (signal - signal.mean()) / (signal.std() + 1e-8)

        def flat(array: Any) -> torch.Tensor:
            tensor = torch.as_tensor(np.asarray(array) if not torch.is_tensor(array) else array)
            return tensor.reshape(-1, *tensor.shape[2:]).to(self.device)

        obs, actions, old_log_probs = flat(rollout.obs), flat(rollout.actions), flat(rollout.log_probs)
        advantages = flat(signal).float()
        returns = flat(rollout.returns).float()
        raw_returns = flat(rollout.returns * rollout.return_scale).float()
        n = len(obs)
        batch = max(1, n // cfg.minibatches)
        stats = {"policy_loss": 0.0, "value_loss": 0.0, "barrier": 0.0}
        steps = 0
        for _ in range(cfg.epochs):
            order = torch.randperm(n, device=self.device)
            for start in range(0, n - batch + 1, batch):
                idx = order[start : start + batch]
                dist = self.net.actor.distribution(obs[idx])
                log_prob = _joint(dist.log_prob(actions[idx]), self.action)
                ratio = torch.exp(log_prob - old_log_probs[idx])
                clipped = torch.clamp(ratio, 1 - cfg.clip, 1 + cfg.clip)
                policy_loss = -torch.min(ratio * advantages[idx], clipped * advantages[idx]).mean()
                value_loss = 0.5 * (self.net.critic(obs[idx]) - returns[idx]).pow(2).sum(-1).mean()
                entropy = _joint(dist.entropy(), self.action).mean()
                loss = policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy
                barrier = torch.zeros((), device=self.device)
                if constraint is not None:
                    barrier = _barrier(constraint, clipped, raw_returns[idx],
                                       torch.as_tensor(rollout.return_scale, device=self.device))
                    loss = loss + barrier
                self.optimizer.zero_grad()
                loss.backward()
                norm = nn.utils.clip_grad_norm_(self.net.parameters(), cfg.max_grad_norm)
                if not torch.isfinite(norm):
                    # One overflowing minibatch (e.g. a probability ratio past float range)
                    # would turn every weight into NaN for good: skip its step instead.
                    self.skipped_steps += 1
                    continue
                self.optimizer.step()
                stats["policy_loss"] += policy_loss.item()
                stats["value_loss"] += value_loss.item()
                stats["barrier"] += barrier.item()
                steps += 1
        self.updates += 1
        return {key: value / max(steps, 1) for key, value in stats.items()}

    def mean_returns(self, rollout: Rollout) -> np.ndarray:
        """Mean per-state return of each objective on ``rollout``, environment units."""
        return (rollout.returns * rollout.return_scale).reshape(-1, self.n_objectives).mean(0)

    # ---- what is kept ------------------------------------------------------------
    def act_deterministic(self, obs: np.ndarray) -> Any:
        x = torch.as_tensor(self._normalised(np.asarray(obs, dtype=np.float64).ravel()[None]),
                            dtype=torch.float32, device=self.device)
        with torch.no_grad():
            action = self.net.actor.deterministic(x).cpu().numpy()[0]
        if self.action.kind == "box":
            action = np.clip(action, self.action.low, self.action.high)
        return action

    def policy_artifact(self, env_id: str, meta: dict[str, Any]) -> bytes:
        actor = copy.deepcopy(self.net.actor).cpu()
        return policy_bytes(actor, self.obs_rms, env_id, meta)

    def state(self) -> dict[str, Any]:
        """Everything but the environments (which restart from a reset on resume)."""
        return {
            "net": {k: v.detach().cpu().clone() for k, v in self.net.state_dict().items()},
            "optimizer": to_cpu(self.optimizer.state_dict()),
            "obs_rms": self.obs_rms.state(),
            "ret_rms": self.ret_rms.state(),
            "updates": self.updates,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.obs_rms.load(state["obs_rms"])
        self.ret_rms.load(state["ret_rms"])
        self.updates = int(state["updates"])

    def close(self) -> None:
        self.runner.close()


def gae(rewards: np.ndarray, values: np.ndarray, dones: np.ndarray, last_value: np.ndarray,
        gamma: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation, per objective. ``rewards``/``values``:
    ``T x N x m``; ``dones``: ``T x N`` (step t ended its episode); ``last_value``:
    ``N x m``. Returns (advantages, returns), both ``T x N x m``."""
    advantages = np.zeros_like(rewards)
    running = np.zeros_like(last_value)
    next_value = last_value
    for t in reversed(range(len(rewards))):
        alive = (1.0 - dones[t].astype(np.float64))[:, None]
        delta = rewards[t] + gamma * next_value * alive - values[t]
        running = delta + gamma * lam * alive * running
        advantages[t] = running
        next_value = values[t]
    return advantages, advantages + values


def _barrier(constraint: Constraint, clipped_ratio: torch.Tensor, raw_returns: torch.Tensor,
             scale: torch.Tensor) -> torch.Tensor:
    total = torch.zeros((), device=raw_returns.device)
    for j, threshold in enumerate(constraint.thresholds):
        if j == constraint.target:
            continue
        estimate = (clipped_ratio * raw_returns[:, j]).mean()
        c_hat = (threshold - estimate) / scale[j]  # feasible when < 0
        inside = -torch.log(torch.clamp(-c_hat, min=constraint.delta))
        # Past -delta the barrier continues along its tangent, so gradients survive.
        outside = -math.log(constraint.delta) + (c_hat + constraint.delta) / constraint.delta
        total = total + torch.where(c_hat < -constraint.delta, inside, outside)
    return total / constraint.barrier_t


def _joint(values: torch.Tensor, action: ActionSpace) -> torch.Tensor:
    """Sum a Gaussian's per-dimension log-probabilities (or entropies) over the action."""
    return values.sum(-1) if action.kind == "box" else values


def to_cpu(value: Any) -> Any:
    """A copy of nested tensors (dicts, lists) on the CPU, for checkpoints."""
    if torch.is_tensor(value):
        return value.detach().cpu().clone()
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_cpu(v) for v in value]
    return value
