"""MOGFN-PC: a preference-conditioned GFlowNet for multi-objective generation.

Jain, Moksh et al. "Multi-Objective GFlowNets", ICML 2023. Our own implementation in
plain torch, written from the paper and from reading the authors' code (MJ10/mo_gfn,
recursionpharma/gflownet). Settings in ``morl.gfn_config``, tasks in ``morl.gfn_tasks``,
the sampler (networks, trajectories, stored form) in ``morl.gfn_sampler``, the paper's
evaluation in ``morl.gfn_evaluation``.

One forward policy P_F(a | s, w) and one log Z(w) learn, for every preference w on the
simplex at once, to sample objects x with probability proportional to R(x | w)^β:

1. **Conditioning.** Each training trajectory draws its own w ~ Dirichlet(α·1), α = 1
   (and, with ``condition_on_beta``, its own integer β ~ U{1..β_max}). w is encoded
   by a thermometer of 50 bins per objective (β by one of 50 bins over [0, β_max]):
   bin k of a value v is clip((v − e_k)/Δ, 0, 1) for the evenly spaced edges e_k.
2. **Sampling.** From s0, actions are drawn from P_F(· | s, w) = softmax of the MLP's
   logits over the allowed actions, with probability ε of a uniformly random allowed
   action instead (off-policy exploration; the loss uses P_F itself).
3. **Reward.** R(x | w) scalarises the task's reward vector r(x) ∈ [0, 1]^m: the weighted
   sum Σ w_i r_i (default), the weighted log-sum Π r_i^{w_i}, or Tchebycheff min_i w_i r_i
   over the i with w_i > 0; floored at ``reward_min`` before the log.
4. **Trajectory balance** (Malkin et al., 2022), per trajectory τ = (s0 → … → x):
   L(τ; w) = (log Z(w) + Σ_t log P_F(s_{t+1} | s_t, w) − β log R(x | w)
              − Σ_t log P_B(s_t | s_{t+1}))²,
   averaged over the batch; P_B = 1 on append-only sequences and uniform over a
   state's parents on the grid (``GFNTask.n_parents``). Adam, gradient-norm clipping.
5. **Replay** (optional, off by default as in the paper): a buffer of the
   least-dominated objects seen; each step replays ``replay_batch_size`` of them,
   rescored under fresh preferences (their rewards are known: no evaluation, no budget).

Budget and recording. The budget counts scored samples: each training step samples
``batch_size`` fresh trajectories and scores each terminal object once (cost 1). Every
scored sample is recorded (objectives = its reward vector; params = the readable object
and the preference it was sampled for; meta = step, round, β, log R(x | w), length).
Records come in rounds of ``steps_per_round`` steps: after each round the last item
carries the sampler as an artifact (:func:`load_sampler`), then a checkpoint holds the
networks, the optimiser, the replay buffer and the random state, so a resumed campaign
re-draws exactly the samples an uninterrupted one would have.

Where we differ from the authors' code, deliberately: one w per trajectory (mo_gfn
draws one per batch; gflownet one per trajectory); Tchebycheff as min_i w_i r_i (the
code's variant rewards distance from the ideal point); an MLP over a task-given state
encoding for every task (mo_gfn uses a Transformer on sequences).
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from jobs.protocol import Evaluated, Recorder
from morl.gfn_config import MOGFNConfig
from morl.gfn_sampler import (
    Chooser,
    Conditioning,
    Sampler,
    SamplerNetwork,
    Trajectories,
    checked_rewards_of,
    load_sampler,
    log_reward,
    policy_chooser,
    walk,
)
from morl.gfn_tasks import GFNTask, State
from pareto.dominance import non_dominated_mask

__all__ = ["MOGFN", "Sampler", "load_sampler", "run"]


# ---- trajectory balance -------------------------------------------------------------------

def trajectory_balance(network: SamplerNetwork, batch: Trajectories, cond: torch.Tensor,
                       log_rewards: np.ndarray, betas: np.ndarray) -> tuple[torch.Tensor,
                                                                            torch.Tensor]:
    """The mean TB loss of the batch and its log Z(w) ``(B,)``."""
    residuals, log_z = tb_residuals(network, batch, cond, log_rewards, betas)
    return (residuals ** 2).mean(), log_z


def tb_residuals(network: SamplerNetwork, batch: Trajectories, cond: torch.Tensor,
                 log_rewards: np.ndarray, betas: np.ndarray) -> tuple[torch.Tensor,
                                                                      torch.Tensor]:
    """Per trajectory, log Z(w) + Σ log P_F − β log R(x | w) − Σ log P_B ``(B,)``, and
    log Z(w) ``(B,)``."""
    device = cond.device
    log_p = network.log_probs(torch.from_numpy(batch.encodings).to(device),
                              cond[torch.from_numpy(batch.owner).to(device)],
                              torch.from_numpy(batch.masks).to(device))
    taken = torch.from_numpy(batch.taken).to(device)
    log_pf_rows = log_p.gather(1, taken[:, None]).squeeze(1)
    log_pf = torch.zeros(len(batch.terminals), device=device).index_add_(
        0, torch.from_numpy(batch.owner).to(device), log_pf_rows)
    log_z = network.log_z(cond)
    target = torch.as_tensor(betas * log_rewards + batch.log_pb, dtype=torch.float32,
                             device=device)
    return log_z + log_pf - target, log_z


def concatenate(first: Trajectories, second: Trajectories) -> Trajectories:
    offset = len(first.terminals)
    return Trajectories(
        terminals=first.terminals + second.terminals, actions=first.actions + second.actions,
        log_pb=np.concatenate([first.log_pb, second.log_pb]),
        encodings=np.concatenate([first.encodings, second.encodings]),
        masks=np.concatenate([first.masks, second.masks]),
        taken=np.concatenate([first.taken, second.taken]),
        owner=np.concatenate([first.owner, second.owner + offset]),
    )


# ---- replay buffer ---------------------------------------------------------------------

class ReplayBuffer:
    """The least-dominated distinct objects seen (by successive non-dominated layers;
    within the last layer that fits, by largest reward sum), with a trajectory to each."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: dict[State, tuple[list[int], tuple[float, ...]]] = {}

    def add(self, terminals: list[State], actions: list[list[int]],
            objectives: list[list[float]]) -> None:
        for state, path, values in zip(terminals, actions, objectives, strict=True):
            self.items.setdefault(state, (list(path), tuple(values)))
        if len(self.items) <= self.capacity:
            return
        keys = list(self.items)
        points = np.array([self.items[k][1] for k in keys])
        remaining = np.arange(len(keys))
        kept: list[int] = []
        while len(kept) < self.capacity:
            layer = remaining[non_dominated_mask(points[remaining])]
            room = self.capacity - len(kept)
            if len(layer) > room:
                layer = layer[np.argsort(-points[layer].sum(axis=1), kind="stable")[:room]]
            kept.extend(int(i) for i in layer)
            remaining = np.setdiff1d(remaining, layer)
        self.items = {keys[i]: self.items[keys[i]] for i in sorted(kept)}

    def sample(self, n: int, rng: np.random.Generator) -> list[tuple[list[int], tuple[float, ...]]]:
        values = list(self.items.values())
        return [values[i] for i in rng.integers(len(values), size=n)]

    def __len__(self) -> int:
        return len(self.items)


def replay_chooser(action_lists: list[list[int]]) -> Chooser:
    """Follow stored trajectories (for replayed objects) instead of the policy."""

    def choose(encodings: np.ndarray, masks: np.ndarray, active: list[int], t: int) -> np.ndarray:
        return np.array([action_lists[i][t] for i in active], dtype=np.int64)

    return choose


# ---- training ----------------------------------------------------------------------------

class MOGFN:
    """MOGFN-PC training on one ``gfn-task`` problem; usable without the service."""

    def __init__(self, problem: Any, params: dict[str, Any] | MOGFNConfig | None = None,
                 seed: int = 0, device: str = "cpu") -> None:
        self.config = (params if isinstance(params, MOGFNConfig)
                       else MOGFNConfig.model_validate(params or {}))
        cfg = self.config
        self.problem = problem
        self.task: GFNTask = problem.task
        self.device = torch.device(device)
        self.beta = float(cfg.beta if cfg.beta is not None else self.task.default_beta)
        self.exploration = (cfg.exploration if cfg.exploration is not None
                            else self.task.default_exploration)
        lr_logz = cfg.lr_logz if cfg.lr_logz is not None else self.task.default_lr_logz
        beta_max = (cfg.beta_max or self.beta) if cfg.condition_on_beta else None
        if beta_max is not None and self.beta > beta_max:
            raise ValueError(f"beta ({self.beta}) lies above beta_max ({beta_max})")
        self.conditioning = Conditioning(self.task.n_objectives, cfg.thermometer_bins, beta_max)
        torch.manual_seed(seed)
        state_dim = len(np.asarray(self.task.encode(self.task.initial_state())))
        self.network = SamplerNetwork(state_dim, self.conditioning.dim, self.task.n_actions,
                                      cfg.hidden, cfg.logz_hidden).to(self.device)
        self.optimiser = torch.optim.Adam(
            [{"params": self.network.policy.parameters(), "lr": cfg.lr},
             {"params": self.network.logz.parameters(), "lr": lr_logz}],
            weight_decay=cfg.weight_decay)
        self.rng = np.random.default_rng(seed)
        self.replay = ReplayBuffer(cfg.replay_capacity)
        self.steps = 0
        self.rounds = 0
        self.evaluations = 0

    def sampler(self) -> Sampler:
        return Sampler(self.task, self.network, self.conditioning, self.beta,
                       self.config.scalarisation, self.config.reward_min,
                       {"steps": self.steps, "rounds": self.rounds,
                        "evaluations": self.evaluations})

    def _conditions(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        preferences = self.rng.dirichlet(np.full(self.task.n_objectives,
                                                 self.config.preference_alpha), size=n)
        if self.conditioning.beta_max is None:
            return preferences, np.full(n, self.beta)
        top = max(1, math.floor(self.conditioning.beta_max))
        return preferences, self.rng.integers(1, top + 1, size=n).astype(np.float64)

    def train_step(self, n: int) -> tuple[list[Evaluated], dict[str, float]]:
        """One TB update on ``n`` fresh trajectories (+ replayed ones); the fresh ones'
        candidates, scored, as :class:`Evaluated` items (no artifact)."""
        cfg = self.config
        preferences, betas = self._conditions(n)
        cond = self.conditioning.encode(preferences, betas, self.device)
        batch = walk(self.task, n, policy_chooser(self.network, cond, self.rng, self.exploration))
        objectives = checked_rewards_of(self.task, batch.terminals)
        log_r = log_reward(np.array(objectives), preferences, cfg.scalarisation, cfg.reward_min)
        all_batch, all_pref, all_beta, all_log_r = batch, preferences, betas, log_r
        n_replay = min(cfg.replay_batch_size, len(self.replay))
        if n_replay:
            replayed = self.replay.sample(n_replay, self.rng)
            r_pref, r_beta = self._conditions(n_replay)
            r_batch = walk(self.task, n_replay, replay_chooser([p for p, _ in replayed]))
            r_log_r = log_reward(np.array([v for _, v in replayed]), r_pref, cfg.scalarisation,
                                 cfg.reward_min)
            all_batch = concatenate(batch, r_batch)
            all_pref, all_beta = np.vstack([preferences, r_pref]), np.concatenate([betas, r_beta])
            all_log_r = np.concatenate([log_r, r_log_r])
        if cfg.replay_batch_size:
            self.replay.add(batch.terminals, batch.actions, objectives)
        all_cond = self.conditioning.encode(all_pref, all_beta, self.device)
        loss, log_z = trajectory_balance(self.network, all_batch, all_cond, all_log_r, all_beta)
        self.optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.network.parameters(), cfg.grad_clip)
        self.optimiser.step()
        self.steps += 1
        self.evaluations += n
        items = [
            Evaluated(
                objectives=values,
                params={"object": self.task.readable(state),
                        "preference": [float(v) for v in w]},
                kind="candidate",
                cost=1.0,
                meta={"step": self.steps, "round": self.rounds + 1, "beta": float(beta),
                      "log_reward": float(lr), "length": len(path)},
            )
            for state, path, values, w, beta, lr in zip(
                batch.terminals, batch.actions, objectives, preferences, betas, log_r,
                strict=True)
        ]
        diagnostics = {"loss": float(loss.item()), "log_z": float(log_z.mean().item()),
                       "reward": float(np.mean(np.exp(log_r)))}
        return items, diagnostics

    def recentre_log_z(self, n: int) -> float:
        """Shift log Z(w) by minus the mean TB residual of ``n`` fresh on-policy
        trajectories (the least-squares fit of its constant part) and return the shift.

        For a reward that has just changed (MOGFN-AL's rounds), whose log scale may lie
        hundreds of nats from the last one: Adam moves log Z by about its learning rate a
        step, so it would otherwise take thousands of steps to catch up while the
        residual swamps the policy's gradient."""
        cfg = self.config
        preferences, betas = self._conditions(n)
        cond = self.conditioning.encode(preferences, betas, self.device)
        batch = walk(self.task, n, policy_chooser(self.network, cond, self.rng, self.exploration))
        objectives = checked_rewards_of(self.task, batch.terminals)
        log_r = log_reward(np.array(objectives), preferences, cfg.scalarisation, cfg.reward_min)
        with torch.no_grad():
            residuals, _ = tb_residuals(self.network, batch, cond, log_r, betas)
            shift = -float(residuals.mean())
            last = self.network.logz[-1]
            assert isinstance(last, nn.Linear)
            last.bias.add_(shift)
        return shift

    def run(self, recorder: Recorder) -> None:
        cfg = self.config
        total = _evaluations_in(recorder.budget)
        state = recorder.restore()
        if state is not None:
            self.load_state(state)
        while self.evaluations < total:
            items: list[Evaluated] = []
            diagnostics: list[dict[str, float]] = []
            started = time.perf_counter()
            for _ in range(cfg.steps_per_round):
                if self.evaluations >= total:
                    break
                step_items, step_diagnostics = self.train_step(
                    min(cfg.batch_size, total - self.evaluations))
                items.extend(step_items)
                diagnostics.append(step_diagnostics)
            self.rounds += 1
            items[-1].artifact = self.sampler().to_bytes()
            mean = {k: float(np.mean([d[k] for d in diagnostics])) for k in diagnostics[0]}
            seconds = (time.perf_counter() - started) / len(diagnostics)
            recorder.log(**mean, seconds_per_step=seconds)
            recorder.record(items)
            recorder.progress(self.evaluations, f"step {self.steps}: {self.evaluations} samples, "
                              f"TB loss {mean['loss']:.3g}, mean R(x|w) {mean['reward']:.3f}")
            recorder.checkpoint(self.state())

    # ---- checkpoint ----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "network": {k: v.detach().cpu().clone() for k, v in self.network.state_dict().items()},
            "optimiser": _on_cpu(self.optimiser.state_dict()),
            "rng": copy.deepcopy(self.rng.bit_generator.state),
            "torch_rng": torch.get_rng_state(),
            "replay": [(s, p, v) for s, (p, v) in self.replay.items.items()],
            "steps": self.steps, "rounds": self.rounds, "evaluations": self.evaluations,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.network.load_state_dict(state["network"])
        self.optimiser.load_state_dict(state["optimiser"])
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        self.replay.items = {s: (list(p), tuple(v)) for s, p, v in state["replay"]}
        self.steps, self.rounds = int(state["steps"]), int(state["rounds"])
        self.evaluations = int(state["evaluations"])


def _on_cpu(value: Any) -> Any:
    """A deep copy with every tensor on the CPU, so a checkpoint loads on any machine."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    if isinstance(value, dict):
        return {k: _on_cpu(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_on_cpu(v) for v in value)
    return copy.deepcopy(value)


def _evaluations_in(budget: float) -> int:
    if not math.isfinite(budget) or budget < 0:
        raise ValueError(f"mogfn needs a finite, non-negative evaluation budget, got {budget}")
    return math.floor(budget)


def run(problem: Any, params: dict[str, Any], seed: int, device: str, recorder: Recorder) -> None:
    """The ``mogfn`` entry point of the registry (``jobs.protocol.Algorithm``)."""
    MOGFN(problem, params, seed=seed, device=device).run(recorder)
