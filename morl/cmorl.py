"""C-MORL: multi-objective RL through efficient discovery of the Pareto front.

Liu, Ruohong et al. "C-MORL: Multi-Objective Reinforcement Learning through Efficient
Discovery of Pareto Front", ICLR 2025. Our own implementation, written from the paper
and from reading the authors' code (RuohLiuq/C-MORL); settings in ``morl.config``.

1. **Pareto initialisation.** ``n_init_policies`` preference vectors on a simplex grid;
   one PPO policy per vector (``morl.ppo``: multi-head value, per-objective GAE,
   ``wᵀA`` standardised) trained for ``init_fraction`` of the env-step budget, shared
   equally. Every ``chunk_updates`` updates each policy is evaluated and recorded.
2. **Archive and selection.** Every evaluated policy joins the archive, which keeps the
   non-dominated ones, capped at ``archive_size`` by NSGA-II crowding distance
   (objectives range-normalised, the extremes of each objective kept). Each round
   picks the ``n_select`` policies of largest crowding distance among those that
   dominate the reference point, skipping objective vectors picked in earlier rounds.
3. **Constrained extension.** For a picked policy π_r and each objective i, a copy of
   π_r is trained for ``chunk_updates`` PPO updates to maximise J_i subject to
   J_j ≥ threshold_j for every j ≠ i (``morl.ppo.Constraint``: PPO-clip on objective
   i's standardised advantage plus the log barrier −(1/t)·Σ_j log(−ĉ_j), t =
   ``barrier_t``). The extended policies are evaluated, recorded, added to the
   archive, and the next round re-selects, until the budget is spent.

Budget and recording. The budget counts every environment step of training, in all
parallel environments (the authors' code counts steps per environment, so its
"500k" on minecart is about 4M steps here); evaluation episodes are not counted.
Every evaluated policy is recorded at once with its eval-γ-discounted mean return
vector (the undiscounted one in ``meta``), the preference or constraint that produced
it, its parent, the env steps used so far, and its actor with the observation
normaliser as an artifact (``morl.load_policy``). A checkpoint after every recorded
batch holds the policies in training, the archive (with each member's full learner
state: critic, optimiser and normalisers too) and the random states; environments
restart from a reset on resume.

Where we differ from the authors' code, deliberately:
* The barrier covers only the objectives j ≠ i, as the paper's problem states (the
  code's slice ``hat_cost[:obj]`` cuts the batch axis, so the target is constrained
  too).
* Each objective's extension starts from π_r itself, as in the paper (the code chains
  objective i+1's extension from objective i's result).
* The constraint threshold is ``J_j(π_r) − (1 − β)·|J_j(π_r)|``, which is the
  paper's ``β·J_j(π_r)`` for non-negative returns; for a negative return (e.g. the
  time penalty of deep-sea-treasure) ``β·J_j`` would demand an *improvement* on j,
  so we allow the same (1 − β) relative loss instead.
* The constraint is estimated on the training rollouts, in the units of the per-state
  returns under the training discount: ``J_j(π_r)`` is the mean return of π_r's first
  rollout of the extension, and ``J_j(θ)`` its importance-weighted estimate
  ``mean(clip(ρ)·G_j)``, both scaled by objective j's return standard deviation (the
  code uses the same estimator with the batch mean in place of π_r's value). Past
  ĉ = −δ the barrier continues along its tangent, so a violated constraint still
  gets a gradient (the code clamps ĉ, which leaves none).
* The learning rate decays linearly with the share of the campaign's budget used.
* When every archive member has been picked once, the memory of picked vectors is
  cleared rather than stopping the campaign early.
* Policies train one after another in one process (a worker holds one CPU thread or
  one GPU); the code runs one process per policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from jobs.protocol import Evaluated, Recorder
from morl.config import CMORLConfig
from morl.evaluation import evaluate
from morl.ppo import Constraint, Learner
from pareto.dominance import non_dominated_mask
from pareto.weights import equally_spaced_weights

ROLLOUT_SEED_STRIDE = 1009


@dataclass
class Member:
    """An archive member: an evaluated policy and the learner state to extend it from."""

    objectives: np.ndarray
    seq: int
    policy_id: int
    state: dict[str, Any]


def crowding_distance(points: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance with each objective normalised by its range; the
    extremes of every objective get ``inf``."""
    n, m = points.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        order = np.argsort(points[:, j], kind="stable")
        values = points[order, j]
        span = values[-1] - values[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (values[2:] - values[:-2]) / span
    return distance


class Archive:
    """The non-dominated policies found so far, capped by crowding distance."""

    def __init__(self, reference_point: np.ndarray | None, capacity: int):
        self.reference_point = reference_point
        self.capacity = capacity
        self.members: list[Member] = []

    def add(self, new: list[Member]) -> None:
        pool = self.members + new
        points = np.array([member.objectives for member in pool])
        keep = non_dominated_mask(points)
        # One member per objective vector: a copy adds nothing to the front.
        seen: set[tuple[float, ...]] = set()
        for index in np.flatnonzero(keep):
            key = tuple(np.round(points[index], 10))
            if key in seen:
                keep[index] = False
            seen.add(key)
        pool = [member for member, kept in zip(pool, keep, strict=True) if kept]
        while len(pool) > self.capacity:
            crowding = crowding_distance(np.array([member.objectives for member in pool]))
            pool.pop(int(np.argmin(crowding)))
        self.members = pool

    def select(self, n: int, picked_before: set[tuple[float, ...]]) -> list[Member]:
        candidates = [m for m in self.members if _key(m.objectives) not in picked_before]
        if self.reference_point is not None:
            inside = [m for m in candidates if np.all(m.objectives >= self.reference_point)]
            candidates = inside or candidates
        if not candidates:
            return []
        crowding = crowding_distance(np.array([m.objectives for m in candidates]))
        order = np.argsort(-crowding, kind="stable")
        return [candidates[i] for i in order[:n]]


class CMORL:
    """C-MORL on one MO-Gymnasium problem; ``run(recorder)`` drives it to the budget.

    Usable without the service: ``CMORL(problem, {"n_init_policies": 6}, seed=0)``
    with ``problem = morl.problems.catalogue()[env_id].build(MOGymConfig())`` and any
    :class:`jobs.protocol.Recorder` (its ``budget`` is the env-step budget).
    """

    def __init__(self, problem: Any, params: dict[str, Any] | CMORLConfig, seed: int = 0,
                 device: str = "cpu"):
        self.problem = problem
        self.config = params if isinstance(params, CMORLConfig) else CMORLConfig(**params)
        defaults = problem.info.parameter_defaults
        self.eval_gamma = _given(self.config.eval_gamma, defaults.get("eval_gamma", 1.0))
        self.eval_episodes = _given(self.config.eval_episodes, defaults.get("eval_episodes", 1))
        self.seed = seed
        self.device = device
        self.n_objectives = problem.info.n_objectives
        self.objective_names = [o.name for o in problem.info.objectives]
        reference = problem.info.reference_point
        self.archive = Archive(None if reference is None else np.asarray(reference, float),
                               self.config.archive_size)
        self.eval_env = problem.make_env()
        self.steps_used = 0
        self.seq = 0
        self.next_policy_id = 0
        self.rng = np.random.default_rng(seed)

    # ---- the two stages ------------------------------------------------------------
    def run(self, recorder: Recorder) -> None:
        cfg = self.config
        self.budget = int(recorder.budget)
        torch.manual_seed(self.seed)
        state = recorder.restore()
        learners: list[Learner] = []
        weights = self.init_preferences()
        picked: set[tuple[float, ...]] = set()
        if state is not None:
            learners, picked = self._restore(state, weights)
        elif self.budget > 0:
            learners = [self._learner() for _ in weights]
            self.next_policy_id = len(learners)
        init_updates = self.init_updates_per_policy()
        try:
            while learners and self._can_update() and any(
                ln.updates < init_updates for ln in learners
            ):
                batch = []
                for policy_id, (learner, w) in enumerate(zip(learners, weights, strict=True)):
                    n = min(cfg.chunk_updates, init_updates - learner.updates)
                    steps = self._train(learner, n, weights=w)
                    if steps:
                        batch.append(self._evaluated(
                            learner, steps, policy_id, parent=None,
                            params={"preference": [float(v) for v in w]},
                            stage="init"))
                self._record(recorder, batch, stage="init", learners=learners, picked=picked)
        finally:
            for learner in learners:
                learner.close()

        while self._can_update():
            parents = self.archive.select(cfg.n_select, picked)
            if not parents and picked:
                picked.clear()
                parents = self.archive.select(cfg.n_select, picked)
            if not parents:
                break
            picked.update(_key(p.objectives) for p in parents)
            tasks = [(parent, i) for parent in parents for i in range(self.n_objectives)]
            updates_left = (self.budget - self.steps_used) // self._steps_per_update()
            tasks = tasks[:updates_left]
            per_task = max(1, min(cfg.chunk_updates, updates_left // len(tasks)))
            batch = [self._extend(parent, target, per_task) for parent, target in tasks]
            self._record(recorder, batch, stage="extension", learners=[], picked=picked)
        self.eval_env.close()

    def init_preferences(self) -> np.ndarray:
        grid = equally_spaced_weights(self.n_objectives, self.config.n_init_policies)
        if len(grid) > self.config.n_init_policies:  # evenly spread subset, ends kept
            index = np.round(np.linspace(0, len(grid) - 1, self.config.n_init_policies))
            grid = grid[index.astype(int)]
        return grid

    def init_updates_per_policy(self) -> int:
        init_steps = self.config.init_fraction * self.budget
        per_policy = init_steps / (len(self.init_preferences()) * self._steps_per_update())
        return max(1, int(per_policy))

    def _extend(self, parent: Member, target: int, n_updates: int) -> tuple[Evaluated, Member]:
        cfg = self.config
        child = self._learner()
        child.load_state(parent.state)
        try:
            rollout = child.collect()
            anchor = child.mean_returns(rollout)
            thresholds = anchor - (1.0 - cfg.beta) * np.abs(anchor)
            constraint = Constraint(target, tuple(float(v) for v in thresholds), cfg.barrier_t)
            child.update(rollout, self._lr(), constraint=constraint)
            self.steps_used += child.steps_per_update
            steps = child.steps_per_update + self._train(child, n_updates - 1, constraint=constraint)
            policy_id = self.next_policy_id
            self.next_policy_id += 1
            return self._evaluated(
                child, steps, policy_id, parent=parent,
                params={
                    "target_objective": self.objective_names[target],
                    "target_index": target,
                    "beta": cfg.beta,
                    "parent_objectives": [float(v) for v in parent.objectives],
                },
                stage="extension")
        finally:
            child.close()

    # ---- pieces ----------------------------------------------------------------
    def _learner(self) -> Learner:
        env_seed = int(self.rng.integers(2**31 - 1))
        return Learner(self.problem.make_env, self.n_objectives, self.config, env_seed, self.device)

    def _steps_per_update(self) -> int:
        return self.config.n_steps * self.config.n_envs

    def _can_update(self) -> bool:
        return self.steps_used + self._steps_per_update() <= self.budget

    def _lr(self) -> float:
        if not self.config.lr_decay:
            return self.config.lr
        return self.config.lr * max(0.0, 1.0 - self.steps_used / max(self.budget, 1))

    def _train(self, learner: Learner, n_updates: int, weights: np.ndarray | None = None,
               constraint: Constraint | None = None) -> int:
        """Up to ``n_updates`` PPO updates within the budget; returns env steps used."""
        steps = 0
        for _ in range(n_updates):
            if not self._can_update():
                break
            learner.update(learner.collect(), self._lr(), weights=weights, constraint=constraint)
            self.steps_used += learner.steps_per_update
            steps += learner.steps_per_update
        return steps

    def _evaluated(self, learner: Learner, steps: int, policy_id: int, parent: Member | None,
                   params: dict[str, Any], stage: str) -> tuple[Evaluated, Member]:
        eval_seed = int(self.rng.integers(2**31 - 1))
        returns = evaluate(learner.act_deterministic, self.eval_env, self.eval_episodes,
                           self.eval_gamma, eval_seed)
        meta = {
            "stage": stage,
            "policy": policy_id,
            "parent_policy": None if parent is None else parent.policy_id,
            "parent_seq": None if parent is None else parent.seq,
            "updates": learner.updates,
            "env_steps": self.steps_used,
            "undiscounted": [float(v) for v in returns.undiscounted],
            "episode_length": float(np.mean(returns.episode_lengths)),
            "eval_gamma": self.eval_gamma,
            "eval_episodes": self.eval_episodes,
        }
        item = Evaluated(
            objectives=[float(v) for v in returns.discounted],
            params=params,
            kind="policy",
            cost=float(steps),
            meta=meta,
            artifact=learner.policy_artifact(self.problem.info.id, {**params, **meta}),
        )
        member = Member(np.asarray(returns.discounted, float), -1, policy_id, learner.state())
        return item, member

    def _record(self, recorder: Recorder, batch: list[tuple[Evaluated, Member]], stage: str,
                learners: list[Learner], picked: set[tuple[float, ...]]) -> None:
        if not batch:
            return
        for offset, (_, member) in enumerate(batch):
            member.seq = self.seq + offset
        recorder.record([item for item, _ in batch])
        self.seq += len(batch)
        self.archive.add([member for _, member in batch])
        recorder.progress(self.steps_used, f"{stage}: {self.steps_used} env steps, "
                          f"archive {len(self.archive.members)}")
        recorder.checkpoint({
            "stage": stage,
            "learners": [learner.state() for learner in learners],
            "archive": [vars(member) for member in self.archive.members],
            "picked": sorted(picked),
            "steps_used": self.steps_used,
            "seq": self.seq,
            "next_policy_id": self.next_policy_id,
            "rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
        })

    def _restore(self, state: dict[str, Any],
                 weights: np.ndarray) -> tuple[list[Learner], set[tuple[float, ...]]]:
        self.steps_used = int(state["steps_used"])
        self.seq = int(state["seq"])
        self.next_policy_id = int(state["next_policy_id"])
        self.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        self.archive.members = [
            Member(np.asarray(m["objectives"], float), int(m["seq"]), int(m["policy_id"]),
                   m["state"]) for m in state["archive"]
        ]
        learners = []
        if state["stage"] == "init":
            for learner_state in state["learners"]:
                learner = self._learner()
                learner.load_state(learner_state)
                learners.append(learner)
        return learners, {tuple(key) for key in state["picked"]}


def run(problem: Any, params: dict[str, Any], seed: int, device: str, recorder: Recorder) -> None:
    """The ``cmorl`` entry point of the registry (``jobs.protocol.Algorithm``)."""
    CMORL(problem, params, seed=seed, device=device).run(recorder)


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value


def _key(objectives: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in np.round(objectives, 10))
