"""PD-MORL: one preference-conditioned network for the whole preference space.

Basaklar, Gumussoy, Ogras. "PD-MORL: Preference-Driven Multi-Objective Reinforcement
Learning Algorithm", ICLR 2023. Our own implementation, written from the paper and
from reading the authors' code (tbasaklar/PDMORL-…); settings in ``morl.config``.

* **Universal network** conditioned on (s, ω): MO-DDQN for discrete actions (input
  s ⊕ ω, output an m-vector Q for each action) and MO-TD3 for continuous actions (an
  actor π(s, ω) and twin vector critics Q_k(s, ω, a)).
* **Preference guidance.** Key preferences are the unit vectors and the uniform
  vector; each has a key solution (a return vector). An RBF interpolator with a
  linear kernel (scipy ``RBFInterpolator``) maps any ω to the projected direction ω_p
  (L2-normalised). The directional term is S = clamp(cos(ω_p, Q), 0, 0.9999):
  MO-DDQN takes the target action a* = argmax_a S·ωᵀQ_target(s′, a, ω) and regresses
  Q(s, a, ω) on r + γ·Q_target(s′, a*, ω); MO-TD3's critic loss adds the
  mean angle arccos S (degrees) between ω_p and each critic's Q, its target takes the
  twin with the smaller ωᵀQ, and its actor loss is −ωᵀQ₁ + ``actor_loss_coeff`` × that
  angle for Q₁ at the actor's action. Both regress on their TD targets with smooth L1,
  as the code does; ``td_loss="mse"`` takes TD3's squared error instead.
* **Relabelling** (HER-style): each transition is stored with the explorer's ω and
  with ``n_relabel`` random preferences (|N(0, I)|, L1-normalised, rounded to 3
  decimals, as in the code).
* **Parallel exploration**: ``n_explorers`` environments, explorer k drawing its ω at
  each episode start from its own contiguous slice of a preference grid (the code's
  steps: 0.01 for 2 objectives, 0.05 for more); one round = one step of every
  explorer, then ``updates_per_round`` gradient steps.
* **Networks** as the code builds them: an input layer and ``layer_N`` more hidden
  layers (4 in all for MO-DDQN, 2 for MO-TD3's actor and critics), Xavier-normal
  weights and zero biases; MO-TD3 clips the gradient norm of every critic and actor
  step at ``max_grad_norm`` (the code's 100).
* **Evaluation rounds** every ``eval_interval`` env steps: the network is stored once
  as an artifact and evaluated (deterministically) on a preference grid; one
  evaluation row per preference, all pointing at that artifact. The preferences are
  evaluated ``EVAL_BATCH`` at a time, each in its own environment, stepped together
  so that the network acts for all of them in one forward pass.

Where we differ from the paper and the authors' code, deliberately:
* Cosines are taken after shifting returns by the campaign's reference point
  (Q − r, and key solutions − r), so that every objective is non-negative where it
  matters. The code does this by hand for DST only (time + 19); without it a negative
  objective makes S clamp to 0 for every action. ``direction_origin="zero"`` measures
  them from 0 instead, as the code does on MuJoCo and fruit-tree.
* ``key_solutions="learned"`` (the default) learns the key solutions with the same
  network: for the first ``key_fraction`` of the budget the explorers act only at the
  key preferences (the paper runs separate single-preference trainings for MuJoCo);
  the network's returns at the key preferences then become the key solutions, and
  each later evaluation round replaces one whenever the network scalarises better at
  its preference (as the code does online). Until key solutions exist S = 1. With
  ``key_phase_relabel="key"`` the key phase also relabels among the key preferences
  only, so the network trains at them alone, as the paper's separate runs do; those
  transitions stay in the replay with key-preference labels after the phase.
  ``"known"`` takes them from the environment's known front, as the paper does for DST
  and fruit-tree.
* ``guidance=False`` is an ablation, not PD-MORL: no key solutions and no directional
  terms (S = 1 throughout), so what is left is a preference-conditioned DDQN / TD3 with
  relabelling and parallel exploration.
* ``preactivation_penalty`` (MO-TD3 only; 0 by default, as in the code) adds its weight
  × the squared norm of the pre-tanh actor output, averaged over the batch, to the
  actor loss. Without it, on hopper at a CPU-sized budget, the actor saturates within
  its first few hundred updates: it follows the early critic's action gradient to the
  box edges (|pre-tanh| 12–24, 70% of actions at ±1, 6-step episodes), where tanh
  passes almost no gradient back, and it stays there for thousands of steps. A weight of 0.01 keeps it in range.
* Explorers run in one process, stepped in lock-step (the code: 10 processes).
* A checkpoint keeps the networks, target networks, optimisers, key solutions and the
  most recent ``checkpoint_buffer`` replay transitions; environments restart from a
  reset and the rest of the replay refills as training continues.
* The budget counts explorer steps only; evaluation episodes are not counted.
"""

from __future__ import annotations

import copy
import io
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jobs.protocol import Evaluated, Recorder
from morl.config import PDMORLConfig
from morl.evaluation import Returns, evaluate_together
from morl.policy import FORMAT, ActionSpace, mlp
from morl.ppo import to_cpu
from pareto.weights import equally_spaced_weights, simplex_grid

COS_MAX = 0.9999
TD_LOSSES = {"smooth_l1": F.smooth_l1_loss, "mse": F.mse_loss}
EVAL_BATCH = 128  # evaluation environments stepped together; bounds their memory


# ---- networks and the stored policy ------------------------------------------------
def _xavier(body: nn.Sequential) -> nn.Sequential:
    """Xavier-normal weights and zero biases, the code's initialisation of every layer."""
    for layer in body:
        if isinstance(layer, nn.Linear):
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)
    return body


class QNetwork(nn.Module):
    """MO-DDQN: (s ⊕ ω) → an m-vector of returns for every action."""

    def __init__(self, obs_dim: int, n_actions: int, n_objectives: int, width: int, layers: int):
        super().__init__()
        self.n_actions, self.n_objectives = n_actions, n_objectives
        self.body = _xavier(mlp([obs_dim + n_objectives, *[width] * layers,
                                 n_actions * n_objectives], nn.ReLU))

    def forward(self, obs: torch.Tensor, pref: torch.Tensor) -> torch.Tensor:
        out = self.body(torch.cat([obs, pref], -1))
        return out.view(*out.shape[:-1], self.n_actions, self.n_objectives)


class ActorNetwork(nn.Module):
    """MO-TD3 actor: (s ⊕ ω) → an action within the box (tanh, rescaled)."""

    centre: torch.Tensor
    half_range: torch.Tensor

    def __init__(self, obs_dim: int, action: ActionSpace, n_objectives: int, width: int,
                 layers: int):
        super().__init__()
        self.body = _xavier(mlp([obs_dim + n_objectives, *[width] * layers, action.dim],
                                nn.ReLU))
        low, high = torch.tensor(action.low), torch.tensor(action.high)
        self.register_buffer("centre", (high + low) / 2)
        self.register_buffer("half_range", (high - low) / 2)

    def preactivation(self, obs: torch.Tensor, pref: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([obs, pref], -1))

    def squash(self, preactivation: torch.Tensor) -> torch.Tensor:
        return self.centre + self.half_range * torch.tanh(preactivation)

    def forward(self, obs: torch.Tensor, pref: torch.Tensor) -> torch.Tensor:
        return self.squash(self.preactivation(obs, pref))


class CriticNetwork(nn.Module):
    """MO-TD3 critic: (s ⊕ ω ⊕ a) → an m-vector of returns."""

    def __init__(self, obs_dim: int, action_dim: int, n_objectives: int, width: int, layers: int):
        super().__init__()
        self.body = _xavier(mlp([obs_dim + n_objectives + action_dim, *[width] * layers,
                                 n_objectives], nn.ReLU))

    def forward(self, obs: torch.Tensor, pref: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([obs, pref, action], -1))


class UniversalPolicy:
    """A stored PD-MORL network: ``act(obs, preference)`` for any preference."""

    kind = "pdmorl"

    def __init__(self, network: nn.Module, action: ActionSpace, n_objectives: int, env_id: str,
                 meta: dict[str, Any] | None = None):
        self.network = network.eval()
        self.action = action
        self.n_objectives = n_objectives
        self.env_id = env_id
        self.meta = dict(meta or {})

    def act(self, obs: Any, preference: Any) -> Any:
        """The action for one observation, or one per row of a batch; ``preference`` is
        one preference for every row, or one row of preferences per observation."""
        pref = np.asarray(preference, dtype=np.float64)
        obs = np.asarray(obs, dtype=np.float64)
        single = obs.ndim == 1
        obs_batch = obs.reshape(1, -1) if single else obs.reshape(len(obs), -1)
        if (pref.ndim not in (1, 2) or pref.shape[-1] != self.n_objectives
                or (pref.ndim == 2 and len(pref) != len(obs_batch))
                or (pref < 0).any() or (pref.sum(-1) <= 0).any()):
            raise ValueError(f"preference must be {self.n_objectives} non-negative weights, "
                             "not all zero (or one such row per observation); got "
                             f"{pref.tolist()}")
        pref_batch = np.broadcast_to(pref / pref.sum(-1, keepdims=True),
                                     (len(obs_batch), self.n_objectives))
        with torch.no_grad():
            o = torch.as_tensor(obs_batch, dtype=torch.float32)
            w = torch.as_tensor(np.array(pref_batch), dtype=torch.float32)
            if self.action.kind == "discrete":
                action = (self.network(o, w) * w[:, None, :]).sum(-1).argmax(-1).numpy()
            else:
                action = self.network(o, w).numpy()
        return action[0] if single else action

    def to_bytes(self) -> bytes:
        return network_bytes(self.network, self.action, self.n_objectives, self.env_id, self.meta)


def network_bytes(network: nn.Module, action: ActionSpace, n_objectives: int, env_id: str,
                  meta: dict[str, Any], width: int | None = None, layers: int | None = None,
                  obs_dim: int | None = None) -> bytes:
    linear = [layer for layer in network.modules() if isinstance(layer, nn.Linear)]
    document = {
        "format": FORMAT,
        "kind": "pdmorl",
        "variant": "ddqn" if action.kind == "discrete" else "td3",
        "env_id": env_id,
        "obs_dim": obs_dim if obs_dim is not None else linear[0].in_features - n_objectives,
        "n_objectives": n_objectives,
        "width": width if width is not None else linear[0].out_features,
        "layers": layers if layers is not None else len(linear) - 1,
        "action": action.to_dict(),
        "network": {k: v.detach().cpu() for k, v in network.state_dict().items()},
        "meta": meta,
    }
    buffer = io.BytesIO()
    torch.save(document, buffer)
    return buffer.getvalue()


def load_universal(document: dict[str, Any]) -> UniversalPolicy:
    action = ActionSpace.from_dict(document["action"])
    obs_dim, m = int(document["obs_dim"]), int(document["n_objectives"])
    width, layers = int(document["width"]), int(document["layers"])
    network: nn.Module
    if document["variant"] == "ddqn":
        network = QNetwork(obs_dim, action.n, m, width, layers)
    else:
        network = ActorNetwork(obs_dim, action, m, width, layers)
    network.load_state_dict(document["network"])
    return UniversalPolicy(network, action, m, document["env_id"], document["meta"])


# ---- replay ------------------------------------------------------------------------
class Replay:
    """A ring buffer of (s, a, r, s′, done, ω) transitions, numpy, float32."""

    FIELDS = ("obs", "action", "reward", "next_obs", "done", "pref")

    def __init__(self, capacity: int, obs_dim: int, action_dim: int, n_objectives: int):
        self.capacity = capacity
        self.data = {
            "obs": np.zeros((capacity, obs_dim), np.float32),
            "action": np.zeros((capacity, action_dim), np.float32),
            "reward": np.zeros((capacity, n_objectives), np.float32),
            "next_obs": np.zeros((capacity, obs_dim), np.float32),
            "done": np.zeros((capacity, 1), np.float32),
            "pref": np.zeros((capacity, n_objectives), np.float32),
        }
        self.size = 0
        self.position = 0

    def add(self, **batch: np.ndarray) -> None:
        n = len(batch["obs"])
        index = (self.position + np.arange(n)) % self.capacity
        for name in self.FIELDS:
            self.data[name][index] = np.asarray(batch[name], np.float32).reshape(n, -1)
        self.position = int((self.position + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def sample(self, n: int, rng: np.random.Generator, device: torch.device) -> dict[str, torch.Tensor]:
        index = rng.integers(0, self.size, size=n)
        return {name: torch.as_tensor(values[index], device=device)
                for name, values in self.data.items()}

    def state(self, limit: int) -> dict[str, Any]:
        keep = min(self.size, limit)
        index = (self.position - keep + np.arange(keep)) % self.capacity
        return {"data": {k: v[index].copy() for k, v in self.data.items()}}

    def load(self, state: dict[str, Any]) -> None:
        data = state["data"]
        self.size = self.position = 0
        if len(data["obs"]):
            self.add(**data)


# ---- preference guidance -------------------------------------------------------------
def key_preferences(n_objectives: int) -> np.ndarray:
    """The unit vectors and the uniform vector."""
    return np.vstack([np.eye(n_objectives), np.full((1, n_objectives), 1.0 / n_objectives)])


class Guidance:
    """Key solutions and the RBF projection ω ↦ ω_p (None until solutions exist)."""

    def __init__(self, n_objectives: int, origin: np.ndarray):
        self.preferences = key_preferences(n_objectives)
        self.origin = origin
        self.solutions: np.ndarray | None = None
        self._interpolator: Any = None

    def set(self, solutions: np.ndarray) -> None:
        from scipy.interpolate import RBFInterpolator

        self.solutions = np.asarray(solutions, dtype=np.float64)
        directions = _unit(self.solutions - self.origin)
        self._interpolator = RBFInterpolator(self.preferences, directions, kernel="linear")

    def offer(self, preference_index: int, returns: np.ndarray) -> bool:
        """Replace a key solution when ``returns`` scalarise better at its preference."""
        assert self.solutions is not None
        w = self.preferences[preference_index]
        if float(w @ returns) > float(w @ self.solutions[preference_index]) + 1e-9:
            solutions = self.solutions.copy()
            solutions[preference_index] = returns
            self.set(solutions)
            return True
        return False

    def project(self, prefs: torch.Tensor) -> torch.Tensor | None:
        if self._interpolator is None:
            return None
        projected = self._interpolator(prefs.detach().cpu().numpy().astype(np.float64))
        return torch.as_tensor(_unit(projected), dtype=prefs.dtype, device=prefs.device)


def cosine(direction: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """S = clamp(cos(ω_p, Q), 0, 0.9999) along the last axis (broadcasting)."""
    return torch.clamp(F.cosine_similarity(direction, q, dim=-1, eps=1e-8), 0.0, COS_MAX)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def random_preferences(n: int, n_objectives: int, rng: np.random.Generator) -> np.ndarray:
    """|N(0, I)| draws, L1-normalised and rounded to 3 decimals (the code's relabelling)."""
    draws = np.abs(rng.standard_normal((n, n_objectives))) + 1e-12
    return np.round(draws / draws.sum(-1, keepdims=True), 3)


def evaluation_preferences(n_objectives: int, count: int | None) -> np.ndarray:
    if count is None:
        count = 101 if n_objectives == 2 else 50
    grid = equally_spaced_weights(n_objectives, count)
    return np.unique(np.vstack([grid, key_preferences(n_objectives)]).round(12), axis=0)


# ---- the two learners --------------------------------------------------------------
class DDQN:
    """MO-DDQN with the directional target-action choice."""

    def __init__(self, obs_dim: int, action: ActionSpace, m: int, width: int, layers: int,
                 cfg: PDMORLConfig, gamma: float, device: torch.device):
        self.action, self.gamma, self.cfg, self.device = action, gamma, cfg, device
        self.q = QNetwork(obs_dim, action.n, m, width, layers).to(device)
        self.q_target = copy.deepcopy(self.q)
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=cfg.lr)
        self.td_loss = TD_LOSSES[cfg.td_loss]

    def act(self, obs: np.ndarray, prefs: np.ndarray, epsilon: float,
            rng: np.random.Generator) -> np.ndarray:
        with torch.no_grad():
            o = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
            w = torch.as_tensor(prefs, dtype=torch.float32, device=self.device)
            greedy = (self.q(o, w) * w[:, None, :]).sum(-1).argmax(-1).cpu().numpy()
        explore = rng.random(len(obs)) < epsilon
        return np.where(explore, rng.integers(0, self.action.n, len(obs)), greedy)

    def update(self, batch: dict[str, torch.Tensor], guidance: Guidance, step: int) -> None:
        obs, pref = batch["obs"], batch["pref"]
        action = batch["action"].long().squeeze(-1)
        origin = torch.as_tensor(guidance.origin, dtype=torch.float32, device=self.device)
        with torch.no_grad():
            q_next = self.q_target(batch["next_obs"], pref)  # B x A x m
            shifted = q_next - origin
            score = (shifted * pref[:, None, :]).sum(-1)
            direction = guidance.project(pref)
            if direction is not None:
                score = cosine(direction[:, None, :], shifted) * score
            best = q_next[torch.arange(len(obs)), score.argmax(-1)]
            target = batch["reward"] + self.gamma * (1.0 - batch["done"]) * best
        q = self.q(obs, pref)[torch.arange(len(obs)), action]
        loss = self.td_loss(q, target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        _soft_update(self.q_target, self.q, self.cfg.tau)

    def policy_network(self) -> nn.Module:
        return self.q

    def state(self) -> dict[str, Any]:
        return {"q": self.q.state_dict(), "q_target": self.q_target.state_dict(),
                "optimizer": self.optimizer.state_dict()}

    def load(self, state: dict[str, Any]) -> None:
        self.q.load_state_dict(state["q"])
        self.q_target.load_state_dict(state["q_target"])
        self.optimizer.load_state_dict(state["optimizer"])


class TD3:
    """MO-TD3 with the angle terms in the critic and actor losses."""

    def __init__(self, obs_dim: int, action: ActionSpace, m: int, width: int, layers: int,
                 cfg: PDMORLConfig, gamma: float, device: torch.device):
        self.action, self.gamma, self.cfg, self.device = action, gamma, cfg, device
        assert cfg.policy_delay is not None, "PDMORL resolves the environment's policy delay"
        self.policy_delay = cfg.policy_delay
        self.actor = ActorNetwork(obs_dim, action, m, width, layers).to(device)
        self.critics = nn.ModuleList(
            CriticNetwork(obs_dim, action.dim, m, width, layers) for _ in range(2)).to(device)
        self.actor_target = copy.deepcopy(self.actor)
        self.critics_target = copy.deepcopy(self.critics)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=cfg.lr)
        self.critic_optimizer = torch.optim.Adam(self.critics.parameters(), lr=cfg.lr)
        self.td_loss = TD_LOSSES[cfg.td_loss]
        self.low = torch.tensor(action.low, dtype=torch.float32, device=device)
        self.high = torch.tensor(action.high, dtype=torch.float32, device=device)

    def act(self, obs: np.ndarray, prefs: np.ndarray, random_action: bool,
            rng: np.random.Generator) -> np.ndarray:
        low, high = np.array(self.action.low), np.array(self.action.high)
        if random_action:
            return rng.uniform(low, high, size=(len(obs), len(low)))
        with torch.no_grad():
            action = self.actor(torch.as_tensor(obs, dtype=torch.float32, device=self.device),
                                torch.as_tensor(prefs, dtype=torch.float32, device=self.device))
        noise = rng.normal(0.0, self.cfg.exploration_noise * (high - low) / 2, action.shape)
        return np.clip(action.cpu().numpy() + noise, low, high)

    def update(self, batch: dict[str, torch.Tensor], guidance: Guidance, step: int) -> None:
        cfg = self.cfg
        obs, pref, action = batch["obs"], batch["pref"], batch["action"]
        origin = torch.as_tensor(guidance.origin, dtype=torch.float32, device=self.device)
        direction = guidance.project(pref)
        with torch.no_grad():
            half_range = (self.high - self.low) / 2
            noise = (torch.randn_like(action) * cfg.target_noise * half_range).clamp(
                -cfg.target_noise_clip * half_range, cfg.target_noise_clip * half_range)
            next_action = torch.max(torch.min(
                self.actor_target(batch["next_obs"], pref) + noise, self.high), self.low)
            q1, q2 = (critic(batch["next_obs"], pref, next_action) for critic in self.critics_target)
            pick_first = ((q1 * pref).sum(-1) <= (q2 * pref).sum(-1)).unsqueeze(-1)
            q_next = torch.where(pick_first, q1, q2)
            target = batch["reward"] + self.gamma * (1.0 - batch["done"]) * q_next
        critic_loss = torch.zeros((), device=self.device)
        for critic in self.critics:
            q = critic(obs, pref, action)
            critic_loss = critic_loss + self.td_loss(q, target)
            if direction is not None:
                critic_loss = critic_loss + _angle(direction, q - origin).mean()
        self.critic_optimizer.zero_grad()
        critic_loss.backward()
        self._clip(self.critics)
        self.critic_optimizer.step()
        if step % self.policy_delay:
            return
        preactivation = self.actor.preactivation(obs, pref)
        q1 = self.critics[0](obs, pref, self.actor.squash(preactivation))
        actor_loss = -(q1 * pref).sum(-1).mean()
        if cfg.preactivation_penalty:
            actor_loss = actor_loss + cfg.preactivation_penalty * (
                preactivation.pow(2).sum(-1).mean())
        if direction is not None:
            actor_loss = actor_loss + cfg.actor_loss_coeff * _angle(direction, q1 - origin).mean()
        self.actor_optimizer.zero_grad()
        actor_loss.backward()
        self._clip(self.actor)
        self.actor_optimizer.step()
        _soft_update(self.actor_target, self.actor, cfg.tau)
        _soft_update(self.critics_target, self.critics, cfg.tau)

    def _clip(self, network: nn.Module) -> None:
        if self.cfg.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(network.parameters(), self.cfg.max_grad_norm)

    def policy_network(self) -> nn.Module:
        return self.actor

    def state(self) -> dict[str, Any]:
        return {name: getattr(self, name).state_dict() for name in (
            "actor", "critics", "actor_target", "critics_target", "actor_optimizer",
            "critic_optimizer")}

    def load(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            getattr(self, name).load_state_dict(value)


def _angle(direction: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return torch.rad2deg(torch.arccos(cosine(direction, q)))


def _soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters(), strict=True):
            t.mul_(1.0 - tau).add_(s, alpha=tau)


# ---- the algorithm -----------------------------------------------------------------
class PDMORL:
    """PD-MORL on one MO-Gymnasium problem; ``run(recorder)`` drives it to the budget."""

    def __init__(self, problem: Any, params: dict[str, Any] | PDMORLConfig, seed: int = 0,
                 device: str = "cpu"):
        self.problem = problem
        cfg = params if isinstance(params, PDMORLConfig) else PDMORLConfig(**params)
        defaults = problem.info.parameter_defaults
        self.cfg = cfg.model_copy(update={
            "policy_delay": _given(cfg.policy_delay, defaults.get("policy_delay", 10))})
        self.eval_gamma = _given(self.cfg.eval_gamma, defaults.get("eval_gamma", 1.0))
        self.eval_episodes = _given(self.cfg.eval_episodes, defaults.get("eval_episodes", 1))
        self.seed, self.device = seed, torch.device(device)
        self.m = problem.info.n_objectives
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.envs = [problem.make_env() for _ in range(self.cfg.n_explorers)]
        self.eval_envs: list[Any] = []  # one per evaluated preference, made when first needed
        probe = self.envs[0]
        self.obs_dim = int(np.prod(probe.observation_space.shape))
        self.action = ActionSpace.of(probe.action_space)
        discrete = self.action.kind == "discrete"
        self.gamma = _given(self.cfg.gamma, 0.99 if discrete else 0.995)
        self.batch_size = _given(self.cfg.batch_size, 32 if discrete else 256)
        self.width = _given(self.cfg.hidden_width, 256 if discrete else 400)
        self.layers = _given(self.cfg.hidden_layers, 4 if discrete else 2)
        buffer_size = _given(self.cfg.buffer_size, 10_000 if discrete else 1_000_000)
        self.updates_per_round = _given(self.cfg.updates_per_round, self.cfg.n_explorers)
        learner_type = DDQN if discrete else TD3
        self.learner = learner_type(self.obs_dim, self.action, self.m, self.width,
                                    self.layers, self.cfg, self.gamma, self.device)
        self.replay = Replay(buffer_size, self.obs_dim, 1 if discrete else self.action.dim, self.m)
        reference = problem.info.reference_point
        self.guidance = Guidance(self.m, np.zeros(self.m)
                                 if reference is None or self.cfg.direction_origin == "zero"
                                 else np.asarray(reference, dtype=np.float64))
        self.slices = np.array_split(_exploration_grid(self.m), self.cfg.n_explorers)
        self.steps_used = self.gradient_steps = self.round = 0
        self.last_eval_steps = 0

    def run(self, recorder: Recorder) -> None:
        cfg = self.cfg
        self.budget = int(recorder.budget)
        self.eval_interval = _given(cfg.eval_interval, max(1, self.budget // 20))
        state = recorder.restore()
        if state is not None:
            self._restore(state)
        elif cfg.key_solutions == "known" and cfg.guidance:
            self.guidance.set(self._known_key_solutions())
        learned = cfg.key_solutions == "learned" and cfg.guidance
        key_phase_end = int(cfg.key_fraction * self.budget) if learned else 0
        obs = np.stack([np.asarray(env.reset(seed=self.seed * 1000 + k + self.round)[0],
                                   np.float64).ravel() for k, env in enumerate(self.envs)])
        prefs = np.stack([self._explorer_preference(k, key_phase_end) for k in range(len(self.envs))])
        try:
            while self.steps_used + len(self.envs) <= self.budget:
                obs, prefs = self._explore(obs, prefs, key_phase_end)
                for _ in range(self.updates_per_round):
                    if self.replay.size >= self.batch_size:
                        self.gradient_steps += 1
                        self.learner.update(self.replay.sample(self.batch_size, self.rng,
                                                               self.device),
                                            self.guidance, self.gradient_steps)
                if (cfg.guidance and self.guidance.solutions is None
                        and self.steps_used >= key_phase_end):
                    self.guidance.set(np.array([returns.discounted for returns in
                                                self._returns_at(self.guidance.preferences)]))
                if self.steps_used - self.last_eval_steps >= self.eval_interval:
                    self._evaluation_round(recorder)
            if self.steps_used > self.last_eval_steps or self.round == 0:
                self._evaluation_round(recorder)
        finally:
            for env in [*self.envs, *self.eval_envs]:
                env.close()

    # ---- exploration ---------------------------------------------------------------
    def _explorer_preference(self, k: int, key_phase_end: int) -> np.ndarray:
        if self.steps_used < key_phase_end:  # the key preferences only, explorers in turn
            keys = self.guidance.preferences
            return keys[(k + self.round) % len(keys)]
        grid = self.slices[k]
        return grid[self.rng.integers(len(grid))]

    def _explore(self, obs: np.ndarray, prefs: np.ndarray,
                 key_phase_end: int) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(self.learner, DDQN):
            actions = self.learner.act(obs, prefs, self._epsilon(), self.rng)
        else:
            actions = self.learner.act(obs, prefs, self.steps_used < self.cfg.random_steps,
                                       self.rng)
        next_obs, rewards, dones = obs.copy(), np.zeros((len(obs), self.m)), np.zeros(len(obs))
        start_obs, step_prefs = obs.copy(), prefs.copy()
        for k, env in enumerate(self.envs):
            step_action = int(actions[k]) if self.action.kind == "discrete" else actions[k]
            o, r, terminated, truncated, _ = env.step(step_action)
            rewards[k] = np.asarray(r, dtype=np.float64)
            next_obs[k] = np.asarray(o, dtype=np.float64).ravel()
            # Bootstrapping stops at a true terminal state only; a time limit is not one.
            dones[k] = float(terminated)
            if terminated or truncated:
                o, _ = env.reset()
                obs[k] = np.asarray(o, dtype=np.float64).ravel()
                prefs[k] = self._explorer_preference(k, key_phase_end)
            else:
                obs[k] = next_obs[k]
        in_key_phase = self.steps_used < key_phase_end
        self.steps_used += len(self.envs)
        stored_actions = np.asarray(actions, dtype=np.float64).reshape(len(obs), -1)
        relabelled = [step_prefs]
        for _ in range(self.cfg.n_relabel):
            relabelled.append(self._relabel_preferences(len(obs), in_key_phase))
        for pref in relabelled:
            self.replay.add(obs=start_obs, action=stored_actions, reward=rewards,
                            next_obs=next_obs, done=dones, pref=pref)
        return obs, prefs

    def _relabel_preferences(self, n: int, in_key_phase: bool) -> np.ndarray:
        if in_key_phase and self.cfg.key_phase_relabel == "key":
            keys = self.guidance.preferences
            return keys[self.rng.integers(len(keys), size=n)]
        return random_preferences(n, self.m, self.rng)

    def _epsilon(self) -> float:
        decay_steps = max(1.0, self.cfg.epsilon_decay_fraction * self.budget)
        fraction = min(1.0, self.steps_used / decay_steps)
        return self.cfg.epsilon_start + fraction * (self.cfg.epsilon_end - self.cfg.epsilon_start)

    # ---- evaluation --------------------------------------------------------------
    def _policy(self) -> Any:
        return UniversalPolicy(copy.deepcopy(self.learner.policy_network()).cpu(), self.action,
                               self.m, self.problem.info.id)

    def _returns_at(self, preferences: np.ndarray,
                    policy: UniversalPolicy | None = None) -> list[Returns]:
        """The network's returns at each preference: up to ``EVAL_BATCH`` preferences at
        a time, one evaluation environment each, stepped together."""
        acting = policy or self._policy()
        while len(self.eval_envs) < min(len(preferences), EVAL_BATCH):
            self.eval_envs.append(self.problem.make_env())
        returns: list[Returns] = []
        for start in range(0, len(preferences), EVAL_BATCH):
            chunk = preferences[start:start + EVAL_BATCH]

            def act(obs: np.ndarray, rows: np.ndarray, chunk: np.ndarray = chunk) -> Any:
                return acting.act(obs, chunk[rows])

            returns += evaluate_together(act, self.eval_envs[:len(chunk)], self.eval_episodes,
                                         self.eval_gamma, seed=self.seed)
        return returns

    def _evaluation_round(self, recorder: Recorder) -> None:
        self.round += 1
        policy = self._policy()
        artifact = network_bytes(
            policy.network, self.action, self.m, self.problem.info.id,
            {"round": self.round, "env_steps": self.steps_used, "eval_gamma": self.eval_gamma},
            width=self.width, layers=self.layers, obs_dim=self.obs_dim)
        items = []
        returns_by_pref = {}
        preferences = evaluation_preferences(self.m, self.cfg.eval_preferences)
        for index, (w, returns) in enumerate(zip(preferences,
                                                 self._returns_at(preferences, policy),
                                                 strict=True)):
            returns_by_pref[tuple(np.round(w, 12))] = returns.discounted
            items.append(Evaluated(
                objectives=[float(v) for v in returns.discounted],
                params={"preference": [float(v) for v in w]},
                kind="policy",
                cost=float(self.steps_used - self.last_eval_steps) if index == 0 else 0.0,
                meta={
                    "stage": "evaluation", "round": self.round, "env_steps": self.steps_used,
                    "gradient_steps": self.gradient_steps,
                    "undiscounted": [float(v) for v in returns.undiscounted],
                    "eval_gamma": self.eval_gamma, "eval_episodes": self.eval_episodes,
                    "key_solutions": self.cfg.key_solutions if self.cfg.guidance else "none",
                },
                artifact=artifact,
            ))
        if self.guidance.solutions is not None and self.cfg.key_solutions == "learned":
            for k, w in enumerate(self.guidance.preferences):
                self.guidance.offer(k, returns_by_pref[tuple(np.round(w, 12))])
        self.last_eval_steps = self.steps_used
        recorder.record(items)
        recorder.progress(self.steps_used, f"round {self.round}: {self.steps_used} env steps, "
                          f"{self.gradient_steps} gradient steps")
        recorder.checkpoint(self._state())

    def _known_key_solutions(self) -> np.ndarray:
        front = self.problem.known_front(self.eval_gamma)
        if front is None:
            raise ValueError(f"key_solutions='known' needs a known Pareto front; "
                             f"{self.problem.info.id} has none: use 'learned'")
        return np.array([front[np.argmax(front @ w)] for w in self.guidance.preferences])

    # ---- checkpoint ----------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "learner": to_cpu(self.learner.state()),
            "replay": self.replay.state(self.cfg.checkpoint_buffer),
            "key_solutions": None if self.guidance.solutions is None
            else self.guidance.solutions.tolist(),
            "steps_used": self.steps_used, "gradient_steps": self.gradient_steps,
            "round": self.round, "last_eval_steps": self.last_eval_steps,
            "rng": self.rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
        }

    def _restore(self, state: dict[str, Any]) -> None:
        self.learner.load(state["learner"])
        self.replay.load(state["replay"])
        if state["key_solutions"] is not None:
            self.guidance.set(np.asarray(state["key_solutions"]))
        self.steps_used = int(state["steps_used"])
        self.gradient_steps = int(state["gradient_steps"])
        self.round = int(state["round"])
        self.last_eval_steps = int(state["last_eval_steps"])
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])


def _exploration_grid(n_objectives: int) -> np.ndarray:
    """The preference grid the explorers share out: step 0.01 for 2 objectives (the code's
    DST step) and 0.05 for more (its fruit-tree step; 53,130 preferences for 6)."""
    return simplex_grid(n_objectives, 100 if n_objectives == 2 else 20)


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value


def run(problem: Any, params: dict[str, Any], seed: int, device: str, recorder: Recorder) -> None:
    """The ``pdmorl`` entry point of the registry (``jobs.protocol.Algorithm``)."""
    PDMORL(problem, params, seed=seed, device=device).run(recorder)
