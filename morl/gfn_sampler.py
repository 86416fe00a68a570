"""The MOGFN-PC sampler: what a trained preference-conditioned GFlowNet is, how it draws
objects, and how it is stored.

A sampler is a forward policy P_F(a | s, w) and log Z(w) (``SamplerNetwork``, two
LeakyReLU MLPs) over a task's state encoding and the thermometer-encoded preference w
(and β, where it was trained conditioned on β; ``Conditioning``), plus the reward
exponent β and the scalarisation R(x | w) it was trained for (``log_reward``). ``walk``
runs trajectories of any task in lockstep, batched through the network;
``Sampler.terminal_distribution`` computes the exact distribution over objects by
dynamic programming when the task's DAG can be enumerated.

Stored format (``FORMAT``): ``torch.save`` of a dict of plain tensors, lists, numbers
and strings (the task id and config, the architecture, the conditioning, β, the
scalarisation, the weights), read back with ``torch.load(weights_only=True)``, so
loading an artifact never executes stored code::

    sampler = load_sampler(artifact_bytes)
    for obj, objectives in sampler.sample(preference=[0.3, 0.7], n=16, seed=0): ...

Training lives in ``morl.mogfn``.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch
from torch import nn

from morl.gfn_tasks import GFNTask, State, catalogue
from pareto.preference import check_preference

FORMAT = "mofront.gfn-sampler/1"
MAX_TRAJECTORY_STEPS = 100_000
MASKED = -1e9  # logit of a disallowed action


# ---- conditioning and networks ----------------------------------------------------------

def thermometer(values: torch.Tensor, bins: int, low: float, high: float) -> torch.Tensor:
    """``(n,)`` values → ``(n, bins)``: bin k is clip((v − e_k) / Δ, 0, 1), e_k evenly
    spaced from ``low`` to ``high`` with gap Δ."""
    edges = torch.linspace(low, high, bins, dtype=values.dtype, device=values.device)
    gap = (high - low) / (bins - 1)
    return ((values[:, None] - edges[None, :]) / gap).clamp(0.0, 1.0)


@dataclass(frozen=True)
class Conditioning:
    """How (w, β) reach the networks: thermometers of w_i over [0, 1], and of β over
    [0, β_max] when β is conditioned on (``beta_max`` set)."""

    n_objectives: int
    bins: int
    beta_max: float | None = None

    @property
    def dim(self) -> int:
        return self.bins * (self.n_objectives + (self.beta_max is not None))

    def encode(self, preferences: np.ndarray, betas: np.ndarray,
               device: torch.device) -> torch.Tensor:
        """``(n, m)`` preferences and ``(n,)`` betas → ``(n, dim)`` float32."""
        w = torch.as_tensor(preferences, dtype=torch.float32, device=device)
        parts = [thermometer(w[:, i], self.bins, 0.0, 1.0) for i in range(self.n_objectives)]
        if self.beta_max is not None:
            b = torch.as_tensor(betas, dtype=torch.float32, device=device)
            parts.append(thermometer(b, self.bins, 0.0, self.beta_max))
        return torch.cat(parts, dim=1)


def mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if index < len(sizes) - 2:
            layers.append(nn.LeakyReLU())
    return nn.Sequential(*layers)


class SamplerNetwork(nn.Module):
    """The forward policy P_F(· | s, w) over ``n_actions`` and log Z(w)."""

    def __init__(self, state_dim: int, cond_dim: int, n_actions: int,
                 hidden: Sequence[int], logz_hidden: Sequence[int]) -> None:
        super().__init__()
        self.state_dim, self.n_actions = state_dim, n_actions
        self.hidden, self.logz_hidden = list(hidden), list(logz_hidden)
        self.policy = mlp([state_dim + cond_dim, *hidden, n_actions])
        self.logz = mlp([cond_dim, *logz_hidden, 1])

    def log_probs(self, states: torch.Tensor, cond: torch.Tensor,
                  masks: torch.Tensor) -> torch.Tensor:
        """``(n, S)`` states, ``(n, C)`` conditioning, ``(n, A)`` allowed → ``(n, A)``
        log P_F, with −inf-like values on disallowed actions."""
        logits = self.policy(torch.cat([states, cond], dim=1))
        return torch.log_softmax(logits.masked_fill(~masks, MASKED), dim=1)

    def log_z(self, cond: torch.Tensor) -> torch.Tensor:
        return self.logz(cond).squeeze(1)


# ---- rewards ---------------------------------------------------------------------------

def log_reward(objectives: np.ndarray, preferences: np.ndarray, scalarisation: str,
               reward_min: float) -> np.ndarray:
    """log R(x | w) for ``(n, m)`` reward vectors and ``(n, m)`` (or ``(m,)``) preferences."""
    r = np.asarray(objectives, dtype=np.float64)
    w = np.broadcast_to(np.asarray(preferences, dtype=np.float64), r.shape)
    if scalarisation == "weighted-sum":
        return np.log(np.maximum(np.sum(w * r, axis=1), reward_min))
    if scalarisation == "weighted-log-sum":
        return np.sum(w * np.log(np.maximum(r, reward_min)), axis=1)
    if scalarisation == "tchebycheff":
        weighted = np.where(w > 0, w * r, np.inf)
        return np.log(np.maximum(np.min(weighted, axis=1), reward_min))
    raise ValueError(f"unknown scalarisation {scalarisation!r}; known: weighted-sum, "
                     "weighted-log-sum, tchebycheff")


def checked_rewards(task: GFNTask, state: State) -> list[float]:
    values = [float(v) for v in task.rewards(state)]
    if len(values) != task.n_objectives or not all(0.0 <= v <= 1.0 for v in values):
        raise ValueError(f"task {task.id!r} gave rewards {values} for {task.readable(state)!r}; "
                         f"expected {task.n_objectives} values in [0, 1]")
    return values


def checked_rewards_of(task: GFNTask, states: list[State]) -> list[list[float]]:
    """:func:`checked_rewards` of many states, scored at once (``GFNTask.rewards_of``)."""
    values = np.asarray(task.rewards_of(states), dtype=np.float64)
    if values.shape != (len(states), task.n_objectives):
        raise ValueError(f"task {task.id!r} gave rewards of shape {values.shape} for "
                         f"{len(states)} objects; expected ({len(states)}, {task.n_objectives})")
    bad = ~((values >= 0.0) & (values <= 1.0)).all(axis=1)
    if bad.any():
        index = int(np.argmax(bad))
        raise ValueError(f"task {task.id!r} gave rewards {values[index].tolist()} for "
                         f"{task.readable(states[index])!r}; expected {task.n_objectives} "
                         "values in [0, 1]")
    return [[float(v) for v in row] for row in values]


# ---- trajectories ----------------------------------------------------------------------

@dataclass
class Trajectories:
    """A batch of finished trajectories and the visited non-terminal states, row by row
    (``owner``: the trajectory a row belongs to) for the batched trajectory-balance loss."""

    terminals: list[State]
    actions: list[list[int]]
    log_pb: np.ndarray  # (B,) Σ_t log P_B(s_t | s_{t+1})
    encodings: np.ndarray  # (N, S) float32
    masks: np.ndarray  # (N, A) bool
    taken: np.ndarray  # (N,) int64
    owner: np.ndarray  # (N,) int64


Chooser = Callable[[np.ndarray, np.ndarray, list[int], int], np.ndarray]


def walk(task: GFNTask, n: int, choose: Chooser) -> Trajectories:
    """Run ``n`` >= 1 trajectories from s0 to terminal states, all in lockstep;
    ``choose(encodings, masks, active, t)`` picks the active trajectories' actions."""
    if n < 1:
        raise ValueError(f"walk needs at least one trajectory, got {n}")
    states: list[State] = [task.initial_state()] * n
    actions: list[list[int]] = [[] for _ in range(n)]
    log_pb = np.zeros(n)
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    active = [i for i in range(n) if not task.is_terminal(states[i])]
    t = 0
    while active:
        if t >= MAX_TRAJECTORY_STEPS:
            raise RuntimeError(f"task {task.id!r}: a trajectory ran past "
                               f"{MAX_TRAJECTORY_STEPS} steps; does is_terminal ever hold?")
        encodings = np.stack([np.asarray(task.encode(states[i]), dtype=np.float32)
                              for i in active])
        masks = np.array([task.allowed_actions(states[i]) for i in active], dtype=bool)
        dead = ~masks.any(axis=1)
        if dead.any():
            stuck = task.readable(states[active[int(np.argmax(dead))]])
            raise ValueError(f"task {task.id!r}: non-terminal state {stuck!r} allows no action")
        chosen = choose(encodings, masks, active, t)
        if not masks[np.arange(len(active)), chosen].all():
            raise ValueError(f"task {task.id!r}: a disallowed action was chosen")
        for row, i in enumerate(active):
            states[i] = task.step(states[i], int(chosen[row]))
            actions[i].append(int(chosen[row]))
            log_pb[i] -= math.log(task.n_parents(states[i]))
        rows.append((encodings, masks, chosen.astype(np.int64), np.asarray(active)))
        active = [i for i in active if not task.is_terminal(states[i])]
        t += 1
    if not rows:
        raise ValueError(f"task {task.id!r}: the initial state is already terminal")
    return Trajectories(
        terminals=states, actions=actions, log_pb=log_pb,
        encodings=np.concatenate([r[0] for r in rows]),
        masks=np.concatenate([r[1] for r in rows]),
        taken=np.concatenate([r[2] for r in rows]),
        owner=np.concatenate([r[3] for r in rows]).astype(np.int64),
    )


def policy_chooser(network: SamplerNetwork, cond: torch.Tensor, rng: np.random.Generator,
                   exploration: float) -> Chooser:
    """Draw actions from P_F(· | s, w) (ε-mixed with uniform) using ``rng`` only."""
    device = cond.device

    def choose(encodings: np.ndarray, masks: np.ndarray, active: list[int], t: int) -> np.ndarray:
        with torch.no_grad():
            log_p = network.log_probs(torch.from_numpy(encodings).to(device), cond[active],
                                      torch.from_numpy(masks).to(device))
        probs = np.where(masks, np.exp(log_p.double().cpu().numpy()), 0.0)
        if not np.isfinite(probs).all():
            raise FloatingPointError("the forward policy produced non-finite probabilities")
        if exploration > 0:
            explore = rng.random(len(active)) < exploration
            uniform = masks / masks.sum(axis=1, keepdims=True)
            probs = np.where(explore[:, None], uniform, probs)
        cumulative = np.cumsum(probs, axis=1)
        cumulative /= cumulative[:, -1:]
        return np.argmax(cumulative > rng.random(len(active))[:, None], axis=1)

    return choose


# ---- the sampler (what is stored) -------------------------------------------------------

class Sampler:
    """A trained MOGFN-PC sampler: draws objects for any preference, and on a task small
    enough to enumerate, gives its exact distribution over terminal objects.

    ``preference_conditioned=False`` marks a sampler trained on one scalar reward that
    is not the task's (MOGFN-AL's acquisition, ``bayesopt.mogfn_al``): its network is
    conditioned on the constant ``w = (1)`` and it is asked for objects with
    ``preference=None``; the objects' objective vectors are still the task's."""

    def __init__(self, task: GFNTask, network: SamplerNetwork, conditioning: Conditioning,
                 beta: float, scalarisation: str, reward_min: float,
                 trained: dict[str, Any] | None = None,
                 preference_conditioned: bool = True) -> None:
        if preference_conditioned and conditioning.n_objectives != task.n_objectives:
            raise ValueError(f"a preference-conditioned sampler of task {task.id!r} needs "
                             f"{task.n_objectives} preference weights, its network takes "
                             f"{conditioning.n_objectives}")
        if not preference_conditioned and conditioning.n_objectives != 1:
            raise ValueError("a sampler that is not preference-conditioned takes one "
                             f"constant weight, not {conditioning.n_objectives}")
        self.task = task
        self.network = network
        self.conditioning = conditioning
        self.beta = beta
        self.scalarisation = scalarisation
        self.reward_min = reward_min
        self.trained = trained or {}
        self.preference_conditioned = preference_conditioned
        self._graph: _Graph | None = None

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    def check_preference(self, preference: Any) -> np.ndarray:
        """The network's weights for ``preference`` (scaled to sum 1), or ValueError:
        one weight per objective for a preference-conditioned sampler, None otherwise."""
        if not self.preference_conditioned:
            if preference is not None:
                raise ValueError("this sampler is not conditioned on a preference (it was "
                                 f"trained on {self.trained.get('reward', 'one scalar reward')}"
                                 "): leave the preference out")
            return np.ones(1)
        if preference is None:
            raise ValueError(f"this sampler is conditioned on a preference: give one weight "
                             f"per objective ({self.task.n_objectives})")
        return check_preference(preference, self.task.n_objectives)

    def _cond(self, preference: Any, n: int) -> tuple[np.ndarray, torch.Tensor]:
        w = self.check_preference(preference)
        cond = self.conditioning.encode(np.tile(w, (n, 1)), np.full(n, self.beta), self.device)
        return w, cond

    def sample_states(self, preference: Any, n: int, seed: int = 0) -> list[State]:
        """``n`` terminal states drawn from P_F(· | w) (no exploration)."""
        if n <= 0:
            return []
        _, cond = self._cond(preference, n)
        rng = np.random.default_rng(seed)
        with torch.no_grad():
            return walk(self.task, n, policy_chooser(self.network, cond, rng, 0.0)).terminals

    def sample(self, preference: Any, n: int, seed: int = 0) -> list[tuple[Any, list[float]]]:
        """``n`` new candidates for ``preference``: (readable object, objective vector)."""
        return [(self.task.readable(s), checked_rewards(self.task, s))
                for s in self.sample_states(preference, n, seed)]

    def log_rewards(self, objectives: np.ndarray, preference: Any) -> np.ndarray:
        """log R(x | w) of the task's reward vectors (preference-conditioned samplers)."""
        if not self.preference_conditioned:
            raise ValueError("this sampler was not trained on the task's rewards, so "
                             "R(x | w) is not its target")
        w = check_preference(preference, self.task.n_objectives)
        return log_reward(objectives, w, self.scalarisation, self.reward_min)

    def terminal_distribution(self, preference: Any,
                              max_states: int = 1_000_000) -> tuple[list[State], np.ndarray]:
        """The exact probability of every terminal state under P_F(· | w), by dynamic
        programming over the task's DAG in topological order (it must be enumerable)."""
        if self._graph is None:
            self._graph = _Graph.of(self.task, max_states)
        graph = self._graph
        _, cond = self._cond(preference, len(graph.inner))
        with torch.no_grad():
            log_p = self.network.log_probs(torch.from_numpy(graph.encodings).to(self.device),
                                           cond, torch.from_numpy(graph.masks).to(self.device))
        probs = np.exp(log_p.double().cpu().numpy())
        flow = np.zeros(len(graph.states))
        flow[0] = 1.0
        for index in graph.order:
            row = graph.row.get(index)
            if row is not None:
                for action, child in graph.children[index]:
                    flow[child] += flow[index] * probs[row, action]
        return [graph.states[i] for i in graph.terminal], flow[graph.terminal]

    def to_bytes(self) -> bytes:
        net = self.network
        data = {
            "format": FORMAT,
            "task": {"id": self.task.id, "config": self.task.config.model_dump(mode="json")},
            "objective_names": list(self.task.objective_names),
            "state_dim": net.state_dim, "n_actions": net.n_actions,
            "hidden": net.hidden, "logz_hidden": net.logz_hidden,
            "conditioning": {"n_objectives": self.conditioning.n_objectives,
                             "bins": self.conditioning.bins,
                             "beta_max": self.conditioning.beta_max},
            "beta": float(self.beta), "scalarisation": self.scalarisation,
            "reward_min": float(self.reward_min),
            "network": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
            "trained": dict(self.trained),
            "preference_conditioned": self.preference_conditioned,
        }
        buffer = io.BytesIO()
        torch.save(data, buffer)
        return buffer.getvalue()


@dataclass
class _Graph:
    """A task's DAG enumerated from s0: states, edges, a topological order, and the
    encodings and masks of its non-terminal states (``row``: state index → their row)."""

    states: list[State]
    children: list[list[tuple[int, int]]]
    order: list[int]
    terminal: list[int]
    row: dict[int, int]
    inner: list[int]
    encodings: np.ndarray
    masks: np.ndarray

    @classmethod
    def of(cls, task: GFNTask, max_states: int) -> _Graph:
        start = task.initial_state()
        index: dict[State, int] = {start: 0}
        states: list[State] = [start]
        children: list[list[tuple[int, int]]] = [[]]
        indegree = [0]
        frontier = [0]
        while frontier:
            i = frontier.pop()
            if task.is_terminal(states[i]):
                continue
            for action, allowed in enumerate(task.allowed_actions(states[i])):
                if not allowed:
                    continue
                child = task.step(states[i], action)
                if child not in index:
                    if len(states) >= max_states:
                        raise ValueError(f"task {task.id!r} has more than {max_states} states: "
                                         "too many for an exact distribution")
                    index[child] = len(states)
                    states.append(child)
                    children.append([])
                    indegree.append(0)
                    frontier.append(index[child])
                children[i].append((action, index[child]))
                indegree[index[child]] += 1
        order, ready = [], [0]
        while ready:  # Kahn's algorithm
            i = ready.pop()
            order.append(i)
            for _, child in children[i]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
        if len(order) != len(states):
            raise ValueError(f"task {task.id!r} has a cycle: its states do not form a DAG")
        inner = [i for i in range(len(states)) if not task.is_terminal(states[i])]
        return cls(
            states=states, children=children, order=order,
            terminal=[i for i in range(len(states)) if task.is_terminal(states[i])],
            row={i: r for r, i in enumerate(inner)}, inner=inner,
            encodings=np.stack([np.asarray(task.encode(states[i]), np.float32) for i in inner]),
            masks=np.array([task.allowed_actions(states[i]) for i in inner], dtype=bool),
        )


def load_sampler(source: bytes | str | Path | BinaryIO) -> Sampler:
    """A :class:`Sampler` from an artifact's bytes (or a path or file), on the CPU.

    The task is rebuilt from the ``gfn-task`` catalogue: a user task must be registered
    (its module imported) in the loading process too."""
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    data = torch.load(source, map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a MOGFN sampler artifact (expected format {FORMAT!r})")
    task_id = data["task"]["id"]
    definitions = catalogue()
    if task_id not in definitions:
        raise ValueError(f"the sampler was trained on task {task_id!r}, which is not registered "
                         f"here (known: {', '.join(sorted(definitions))}); import the module "
                         "that registers it first")
    task = definitions[task_id].task(data["task"]["config"])
    conditioning = Conditioning(**data["conditioning"])
    network = SamplerNetwork(data["state_dim"], conditioning.dim, data["n_actions"],
                             data["hidden"], data["logz_hidden"])
    network.load_state_dict(data["network"])
    network.eval()
    return Sampler(task, network, conditioning, data["beta"], data["scalarisation"],
                   data["reward_min"], data["trained"],
                   preference_conditioned=bool(data.get("preference_conditioned", True)))
