"""How a trained MOGFN sampler is evaluated: the paper's protocol, for benchmarks and tests.

Jain et al. (2023) and their code (MJ10/mo_gfn ``MOGFN.evaluation``): for each
preference w of a simplex grid (10 points per axis: ``simplex_grid(m, 9)``), draw
``n_samples`` = 128 objects, keep the one of highest R(x | w), and Pareto-filter these
best objects. Reported:

* ``hypervolume`` of that front, reference point 0 (rewards lie in [0, 1] and are
  maximised), and its fraction of the true front's where the task knows it;
* ``r2``: the R2 indicator with ideal point 1 and the grid as weight vectors (lower is
  better; ``pareto.metrics.r2``);
* ``topk_reward``: the mean R(x | w) of the K = 10 best samples of each preference,
  averaged over the grid (mo_gfn averages log R; we report R itself);
* ``topk_diversity``: the mean pairwise distance between those K objects
  (``GFNTask.distance``: edit distance for sequences, unit moves on the grid), averaged;
* ``l1`` (enumerable tasks only, e.g. HyperGrid): the exact L1 distance
  Σ_x |P_F(x | w) − R(x | w)^β / Z(w)| between the sampler's distribution over
  objects, computed by dynamic programming over the task's DAG, and its target,
  averaged over the preferences of ``simplex_grid(m, l1_divisions)``. In [0, 2];
  0 means the sampler has learnt the target exactly.

:func:`evaluate_candidates` takes the same measures on a fixed set of evaluated objects
instead of a sampler's fresh draws (the best and the top K of the distinct objects by
R(x | w), per preference): for methods without a sampler (NSGA-II, random sampling) and
for any method's evaluated objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np

from morl.gfn_sampler import Sampler, checked_rewards, log_reward
from morl.gfn_tasks import GFNTask, State
from pareto.dominance import non_dominated_mask
from pareto.hypervolume import hypervolume
from pareto.metrics import r2
from pareto.weights import simplex_grid


@dataclass(frozen=True)
class SamplerEvaluation:
    preferences: list[list[float]]  # the grid, (k, m)
    best: list[list[float]]  # objective vector of the best sample per preference
    best_objects: list[Any]
    front: list[list[float]]  # the non-dominated rows of ``best``
    hypervolume: float
    hypervolume_fraction: float | None  # of the true front's hypervolume, where known
    r2: float
    topk_reward: float
    topk_diversity: float
    l1: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_sampler(sampler: Sampler, *, n_divisions: int = 9, n_samples: int = 128,
                     k: int = 10, seed: int = 0, l1_divisions: int | None = 4,
                     max_states: int = 200_000) -> SamplerEvaluation:
    """The paper's evaluation of ``sampler`` (see the module docstring). ``l1`` is
    computed only for a task with a known front (one small enough to enumerate) and
    ``l1_divisions`` set."""
    task = sampler.task
    m = task.n_objectives
    preferences = simplex_grid(m, n_divisions)
    best, best_objects, topk_rewards, topk_diversities = [], [], [], []
    for index, w in enumerate(preferences):
        states = sampler.sample_states(w, n_samples, seed=seed + index)
        objectives = np.array([checked_rewards(task, s) for s in states])
        rewards = np.exp(sampler.log_rewards(objectives, w))
        order = np.argsort(-rewards, kind="stable")
        best.append(objectives[order[0]])
        best_objects.append(task.readable(states[order[0]]))
        top = order[:k]
        topk_rewards.append(float(np.mean(rewards[top])))
        readable = [task.readable(states[i]) for i in top]
        pairs = [task.distance(a, b) for a, b in combinations(readable, 2)]
        topk_diversities.append(float(np.mean(pairs)) if pairs else 0.0)
    best_points = np.array(best)
    front = best_points[non_dominated_mask(best_points)]
    reference = np.zeros(m)
    hv = hypervolume(front, reference)
    true_front = task.known_front()
    true_hv = None if true_front is None else hypervolume(true_front, reference)
    l1 = None
    if true_front is not None and l1_divisions is not None:
        l1 = mean_l1(sampler, simplex_grid(m, l1_divisions), max_states)
    return SamplerEvaluation(
        preferences=preferences.tolist(),
        best=best_points.tolist(),
        best_objects=best_objects,
        front=front.tolist(),
        hypervolume=hv,
        hypervolume_fraction=None if not true_hv else hv / true_hv,
        r2=r2(front, preferences, np.ones(m)),
        topk_reward=float(np.mean(topk_rewards)),
        topk_diversity=float(np.mean(topk_diversities)),
        l1=l1,
    )


def evaluate_candidates(task: GFNTask, states: list[State], objectives: np.ndarray, *,
                        scalarisation: str = "weighted-sum", reward_min: float = 1e-80,
                        n_divisions: int = 9, k: int = 10) -> SamplerEvaluation:
    """The paper's measures on evaluated objects ``states`` with reward vectors
    ``objectives`` ``(n, m)`` (see the module docstring): per preference of
    ``simplex_grid(m, n_divisions)``, the best and the top ``k`` distinct objects by
    R(x | w) under ``scalarisation``; ``l1`` is None (there is no distribution)."""
    if not states:
        raise ValueError("evaluate_candidates needs at least one evaluated object")
    values = np.asarray(objectives, dtype=np.float64).reshape(len(states), task.n_objectives)
    first: dict[State, int] = {}
    for index, state in enumerate(states):
        first.setdefault(state, index)
    keep = np.fromiter(first.values(), dtype=np.int64, count=len(first))
    values, kept_states = values[keep], [states[i] for i in keep]
    m = task.n_objectives
    preferences = simplex_grid(m, n_divisions)
    best, best_objects, topk_rewards, topk_diversities = [], [], [], []
    for w in preferences:
        log_r = log_reward(values, w, scalarisation, reward_min)
        top = np.lexsort((np.arange(len(log_r)), -log_r))[:k]  # ties to the earliest
        best.append(values[top[0]])
        best_objects.append(task.readable(kept_states[top[0]]))
        topk_rewards.append(float(np.mean(np.exp(log_r[top]))))
        readable = [task.readable(kept_states[i]) for i in top]
        pairs = [task.distance(a, b) for a, b in combinations(readable, 2)]
        topk_diversities.append(float(np.mean(pairs)) if pairs else 0.0)
    best_points = np.array(best)
    front = best_points[non_dominated_mask(best_points)]
    reference = np.zeros(m)
    hv = hypervolume(front, reference)
    true_front = task.known_front()
    true_hv = None if true_front is None else hypervolume(true_front, reference)
    return SamplerEvaluation(
        preferences=preferences.tolist(), best=best_points.tolist(),
        best_objects=best_objects, front=front.tolist(), hypervolume=hv,
        hypervolume_fraction=None if not true_hv else hv / true_hv,
        r2=r2(front, preferences, np.ones(m)),
        topk_reward=float(np.mean(topk_rewards)),
        topk_diversity=float(np.mean(topk_diversities)), l1=None,
    )


def target_distribution(sampler: Sampler, states: list[State], preference: Any) -> np.ndarray:
    """R(x | w)^β / Z(w) over the terminal ``states`` (all of them, so Z is exact)."""
    objectives = np.array([checked_rewards(sampler.task, s) for s in states])
    log_target = sampler.beta * sampler.log_rewards(objectives, preference)
    target = np.exp(log_target - log_target.max())
    return target / target.sum()


def l1_distance(sampler: Sampler, preference: Any, max_states: int = 200_000) -> float:
    """Exact Σ_x |P_F(x | w) − R(x | w)^β / Z(w)| over every terminal object x."""
    states, learned = sampler.terminal_distribution(preference, max_states)
    return float(np.abs(learned - target_distribution(sampler, states, preference)).sum())


def mean_l1(sampler: Sampler, preferences: np.ndarray, max_states: int = 200_000) -> float:
    return float(np.mean([l1_distance(sampler, w, max_states) for w in preferences]))
