"""Discrete generation tasks for GFlowNets (problem kind ``gfn-task``) and their catalogue.

A task is a pointed DAG of states: from ``initial_state()`` an agent takes allowed
actions (``allowed_actions(state)``, a mask over ``n_actions``) through ``step`` until
``is_terminal``; a terminal state is an object x with a reward vector ``rewards(x)``,
one value in [0, 1] per objective, all maximised. To add your own task, write one
:class:`GFNTask` subclass and register it::

    @register_task
    class Palindromes(GFNTask):
        id = "palindromes"
        summary = "binary strings rewarded for symmetry and for ones"
        ...                              # the abstract methods below

after which ``catalogue()`` (and so the registry, the API and ``mogfn``) knows it
(in every process that imports your module). States must be hashable (tuples).

Built in:

* ``hypergrid``: an H x H grid (default 32 x 32; Bengio et al., 2021). Actions:
  increment one coordinate (not past H - 1) or stop. Objectives: 2-4 of Branin,
  Currin, Shubert, Beale and Sphere, as in MOGFN's HyperGrid (Jain et al., 2023).
  Grid point k maps to x = -1 + 2k / (H - 1) in [-1, 1]^2 and each function reads x
  as the public HyperGrid code of OP-GFN does (Chen & Mauch, 2023,
  ``multi/grid_cond_gfn.py``, which reuses MOGFN's task): Branin and Currin on their
  usual domains (Branin negated: its minima are the best points), Shubert on -1.5 x,
  Beale and Sphere on x. Each objective is then min-max normalised over the H^2 grid
  points, so it spans exactly [0, 1] (that code divides by approximate maxima, e.g.
  Currin by 13.77, which leaves values a little above 1). P_B is uniform over a
  state's parents. The true front is known (all H^2 points are enumerated).
* ``ngrams``: sequences over the 20 amino-acid letters of length 32-36, built by
  appending tokens and stopping (P_B = 1); objective i counts the occurrences of the
  n-gram ``ngrams[i]`` (overlapping ones too), divided by the most occurrences a
  sequence of the maximum length can hold (18 for a bigram of two different letters at
  length 36, as ``max_score_per_dim: 18`` in mo_gfn's ``configs/task/regex_4.yaml``).
  Defaults: bigrams AV, VC (+ CA, AC for 3-4 objectives; mo_gfn's fourth, AB, has a
  letter outside the vocabulary, so it is always 0: we use AC instead).

Light on purpose: numpy only (no torch), because the API reads the catalogue.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from jobs.protocol import Objective, ProblemInfo
from pareto.dominance import non_dominated
from pareto.hypervolume import hypervolume

KIND = "gfn-task"
REFERENCE_SOURCE = "MOGFN paper: rewards in [0,1], reference 0"

State = Any  # any hashable value; the built-in tasks use tuples


class NoParameters(BaseModel):
    """A task without parameters."""

    model_config = ConfigDict(extra="forbid")


class GFNTask(ABC):
    """A discrete generation task: write one subclass, then :func:`register_task` it.

    Class attributes: ``id`` (catalogue name), ``summary`` (one line), ``Config`` (a
    pydantic model of the task's parameters, ``extra="forbid"``; default: none),
    ``default_beta`` (reward exponent β the sampler uses unless the campaign sets one),
    ``default_lr_logz`` and ``default_exploration`` (the log Z learning rate and the ε of
    uniform random actions, likewise).
    The instance sets ``objective_names`` and ``n_actions`` (in ``__init__`` or as
    class attributes). Every method but the abstract ones has a sensible default.
    """

    id: ClassVar[str]
    summary: ClassVar[str]
    Config: ClassVar[type[BaseModel]] = NoParameters
    default_beta: ClassVar[float] = 1.0
    default_lr_logz: ClassVar[float] = 1e-2  # mo_gfn code: 10x the policy's 1e-3
    default_exploration: ClassVar[float] = 0.01  # mo_gfn code

    objective_names: tuple[str, ...]
    n_actions: int

    def __init__(self, config: BaseModel) -> None:
        self.config = config

    @abstractmethod
    def initial_state(self) -> State:
        """The source state s0 every trajectory starts from."""

    @abstractmethod
    def allowed_actions(self, state: State) -> Sequence[bool]:
        """A mask of ``n_actions`` booleans; at least one is true in a non-terminal state."""

    @abstractmethod
    def step(self, state: State, action: int) -> State:
        """The state an allowed action leads to."""

    @abstractmethod
    def is_terminal(self, state: State) -> bool:
        """Whether ``state`` is a finished object x (no more actions)."""

    @abstractmethod
    def rewards(self, state: State) -> Sequence[float]:
        """The objective vector of a terminal state: one value in [0, 1] per objective."""

    @abstractmethod
    def readable(self, state: State) -> Any:
        """The object as a user reads it, JSON-able (a string, a list of coordinates)."""

    @abstractmethod
    def encode(self, state: State) -> np.ndarray:
        """The state as a fixed-length float vector, the policy network's input."""

    def n_parents(self, state: State) -> int:
        """How many states lead to ``state`` in one step; P_B is uniform over them.
        1 (the default) for tree-shaped tasks such as append-only sequences."""
        return 1

    def rewards_of(self, states: Sequence[State]) -> np.ndarray:
        """The reward vectors of many terminal states, ``(n, m)``; override where scoring
        a batch at once is cheaper than one by one."""
        return np.array([self.rewards(s) for s in states], dtype=np.float64).reshape(
            len(states), self.n_objectives)

    def features(self, state: State) -> np.ndarray:
        """A terminal object as a fixed-length vector in [0, 1]^d: the input of the
        surrogate model of ``mogfn-al``. Default: the state encoding (which must then lie
        in [0, 1]); override with what the objectives are likely smooth in."""
        return np.asarray(self.encode(state), dtype=np.float64)

    def distance(self, a: Any, b: Any) -> float:
        """Distance between two readable objects, for top-K diversity: Levenshtein
        (edit) distance between strings or sequences, Hamming where lengths match."""
        if not isinstance(a, str) and len(a) == len(b):
            return float(sum(x != y for x, y in zip(a, b, strict=True)))
        return float(levenshtein(a, b))

    def known_front(self) -> np.ndarray | None:
        """The true Pareto front ``(k, m)`` where the task can enumerate it, else None."""
        return None

    @property
    def n_objectives(self) -> int:
        return len(self.objective_names)


def levenshtein(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Edit distance (insertions, deletions, substitutions of one item each)."""
    previous = list(range(len(b) + 1))
    for i, item_a in enumerate(a, start=1):
        current = [i]
        for j, item_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (item_a != item_b)))
        previous = current
    return previous[-1]


# ---- HyperGrid ------------------------------------------------------------------------

GridFunction = Literal["branin", "currin", "shubert", "beale", "sphere"]


def _branin(x: np.ndarray) -> np.ndarray:
    u = 15 * (x[..., 0] / 2 + 0.5) - 5  # [-5, 10]
    v = 15 * (x[..., 1] / 2 + 0.5)  # [0, 15]
    value = ((v - 5.1 / (4 * np.pi**2) * u**2 + 5 / np.pi * u - 6) ** 2
             + 10 * (1 - 1 / (8 * np.pi)) * np.cos(u) + 10)
    return -value  # minimised benchmark: its minima are the best points


def _currin(x: np.ndarray) -> np.ndarray:
    u, v = x[..., 0] / 2 + 0.5, x[..., 1] / 2 + 0.5  # [0, 1]^2
    with np.errstate(divide="ignore"):
        factor = 1 - np.exp(-1 / (2 * v))  # 1 at v = 0
    return factor * (2300 * u**3 + 1900 * u**2 + 2092 * u + 60) / (
        100 * u**3 + 500 * u**2 + 4 * u + 20)


def _shubert(x: np.ndarray) -> np.ndarray:
    u = -1.5 * x
    j = np.arange(1, 6).reshape((1,) * (x.ndim - 1) + (5,))
    sums = [np.sum(j * np.cos((j + 1) * u[..., [d]] + j), axis=-1) for d in range(2)]
    return sums[0] * sums[1]


def _beale(x: np.ndarray) -> np.ndarray:
    u, v = x[..., 0], x[..., 1]
    return (1.5 - u + u * v) ** 2 + (2.25 - u + u * v**2) ** 2 + (2.625 - u + u * v**3) ** 2


def _sphere(x: np.ndarray) -> np.ndarray:
    return np.sum(x**2, axis=-1)


GRID_FUNCTIONS = {"branin": _branin, "currin": _currin, "shubert": _shubert,
                  "beale": _beale, "sphere": _sphere}


class HyperGridConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(32, ge=2, le=256, description="H: the grid is H x H (MOGFN: 32)")
    objectives: list[GridFunction] = Field(
        ["branin", "currin"], min_length=2, max_length=4,
        description="2 to 4 distinct objective functions, each scaled to [0, 1] on the grid",
    )

    @field_validator("objectives")
    @classmethod
    def _distinct(cls, objectives: list[str]) -> list[str]:
        if len(set(objectives)) != len(objectives):
            raise ValueError(f"objectives must be distinct; got {objectives}")
        return objectives


class HyperGrid(GFNTask):
    """States ``(coordinates, done)``; actions 0, 1 increment a coordinate, 2 stops."""

    id = "hypergrid"
    summary = ("HyperGrid: walk an H x H grid, stop anywhere; 2-4 of Branin, Currin, "
               "Shubert, Beale, Sphere (MOGFN, Jain et al. 2023)")
    Config = HyperGridConfig
    # OP-GFN's preference-conditioned GFlowNet on this HyperGrid draws beta ~ Gamma(16, 1)
    # (mean 16) and its fixed-beta runs use 8 and 16 (Chen & Mauch, 2023, multi/).
    default_beta = 16.0
    # The trajectory-balance HyperGrid code (Malkin et al., 2022): log Z learns at 0.1 and
    # trajectories are sampled on-policy.
    default_lr_logz = 0.1
    default_exploration = 0.0

    dim = 2

    def __init__(self, config: HyperGridConfig) -> None:
        super().__init__(config)
        self.size = config.size
        self.objective_names = tuple(config.objectives)
        self.n_actions = self.dim + 1
        axis = np.arange(self.size)
        points = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1)  # (H, H, 2)
        x = -1 + 2 * points / (self.size - 1)
        raw = np.stack([GRID_FUNCTIONS[name](x) for name in config.objectives], axis=-1)
        low, high = raw.min(axis=(0, 1)), raw.max(axis=(0, 1))
        self.table = (raw - low) / np.where(high > low, high - low, 1.0)  # (H, H, m) in [0, 1]

    def initial_state(self) -> State:
        return ((0,) * self.dim, False)

    def allowed_actions(self, state: State) -> Sequence[bool]:
        coordinates, done = state
        if done:
            return [False] * self.n_actions
        return [c < self.size - 1 for c in coordinates] + [True]

    def step(self, state: State, action: int) -> State:
        coordinates, _ = state
        if action == self.dim:
            return (coordinates, True)
        moved = list(coordinates)
        moved[action] += 1
        return (tuple(moved), False)

    def is_terminal(self, state: State) -> bool:
        return bool(state[1])

    def rewards(self, state: State) -> Sequence[float]:
        return [float(v) for v in self.table[state[0]]]

    def readable(self, state: State) -> Any:
        return list(state[0])

    def encode(self, state: State) -> np.ndarray:
        encoding = np.zeros(self.dim * self.size, dtype=np.float32)
        encoding[np.arange(self.dim) * self.size + np.asarray(state[0])] = 1.0
        return encoding

    def n_parents(self, state: State) -> int:
        coordinates, done = state
        return 1 if done else max(1, sum(c > 0 for c in coordinates))

    def features(self, state: State) -> np.ndarray:
        """The grid point's coordinates scaled to [0, 1]^2."""
        return np.asarray(state[0], dtype=np.float64) / (self.size - 1)

    def distance(self, a: Any, b: Any) -> float:
        """Manhattan distance: the number of unit moves between two grid points."""
        return float(sum(abs(x - y) for x, y in zip(a, b, strict=True)))

    def known_front(self) -> np.ndarray:
        return non_dominated(self.table.reshape(-1, self.n_objectives))


# ---- N-grams --------------------------------------------------------------------------

AMINO_ACIDS = "ARNDCEQGHILKMFPSTWYV"  # mo_gfn's ResidueTokenizer vocabulary, in its order
DEFAULT_NGRAMS = ("AV", "VC", "CA", "AC")


class NGramsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ngrams: list[str] = Field(
        list(DEFAULT_NGRAMS[:2]), min_length=2, max_length=4,
        description="one n-gram over the 20 amino-acid letters per objective, 2 to 4 "
        "(mo_gfn code: AV, VC; then CA and a fourth)",
    )
    min_length: int = Field(32, ge=1, le=256, description="shortest sequence (mo_gfn: 32)")
    max_length: int = Field(36, ge=1, le=256, description="longest sequence (mo_gfn: 36)")

    @field_validator("ngrams")
    @classmethod
    def _in_vocabulary(cls, ngrams: list[str]) -> list[str]:
        for ngram in ngrams:
            unknown = sorted(set(ngram) - set(AMINO_ACIDS))
            if not ngram or unknown:
                raise ValueError(f"n-gram {ngram!r} must be non-empty and use only the letters "
                                 f"{AMINO_ACIDS}" + (f"; unknown: {unknown}" if unknown else ""))
        if len(set(ngrams)) != len(ngrams):
            raise ValueError(f"n-grams must be distinct; got {ngrams}")
        return ngrams

    @model_validator(mode="after")
    def _lengths(self) -> NGramsConfig:
        if self.min_length > self.max_length:
            raise ValueError(f"min_length ({self.min_length}) exceeds max_length "
                             f"({self.max_length})")
        longest = max(len(n) for n in self.ngrams)
        if longest > self.max_length:
            raise ValueError(f"an n-gram of {longest} letters cannot occur in a sequence of at "
                             f"most {self.max_length}")
        return self


def max_occurrences(ngram: str, length: int) -> int:
    """The most (overlapping) occurrences of ``ngram`` a string of ``length`` can hold:
    successive occurrences start at least its smallest period p apart."""
    n = len(ngram)
    period = next((p for p in range(1, n) if ngram[p:] == ngram[:-p]), n)
    return 0 if n > length else 1 + (length - n) // period


def occurrences(ngram: str, text: str) -> int:
    return sum(text.startswith(ngram, i) for i in range(len(text) - len(ngram) + 1))


class NGrams(GFNTask):
    """States ``(tokens, done)``; actions 0-19 append a letter, 20 stops."""

    id = "ngrams"
    summary = ("N-grams: amino-acid sequences of length 32-36 rewarded for n-gram counts, "
               "2-4 objectives (MOGFN, Jain et al. 2023)")
    Config = NGramsConfig
    default_beta = 96.0  # MOGFN paper, N-gram tasks

    def __init__(self, config: NGramsConfig) -> None:
        super().__init__(config)
        self.ngrams = list(config.ngrams)
        self.min_length, self.max_length = config.min_length, config.max_length
        self.objective_names = tuple(f"count_{n}" for n in self.ngrams)
        self.n_actions = len(AMINO_ACIDS) + 1
        self.scale = [max_occurrences(n, self.max_length) for n in self.ngrams]
        self._width = len(AMINO_ACIDS)

    def initial_state(self) -> State:
        return ((), False)

    def allowed_actions(self, state: State) -> Sequence[bool]:
        tokens, done = state
        if done:
            return [False] * self.n_actions
        return [len(tokens) < self.max_length] * self._width + [len(tokens) >= self.min_length]

    def step(self, state: State, action: int) -> State:
        tokens, _ = state
        if action == self._width:
            return (tokens, True)
        return (tokens + (action,), False)

    def is_terminal(self, state: State) -> bool:
        return bool(state[1])

    def rewards(self, state: State) -> Sequence[float]:
        text = self.readable(state)
        return [occurrences(n, text) / s for n, s in zip(self.ngrams, self.scale, strict=True)]

    def readable(self, state: State) -> Any:
        return "".join(AMINO_ACIDS[t] for t in state[0])

    def features(self, state: State) -> np.ndarray:
        """Bag of bigrams: the count of each of the 400 ordered letter pairs, divided by
        the most a sequence can hold (max_length - 1), so in [0, 1]^400."""
        tokens = np.asarray(state[0], dtype=np.int64)
        width = self._width
        counts = np.bincount(tokens[:-1] * width + tokens[1:], minlength=width * width)
        return counts.astype(np.float64) / max(1, self.max_length - 1)

    def encode(self, state: State) -> np.ndarray:
        """One-hot letters by position, then the last letter and the length one-hot (an
        MLP reads the Markov structure of n-gram counts from the last letter)."""
        tokens = state[0]
        width, length = self._width, len(tokens)
        encoding = np.zeros(self.max_length * width + width + self.max_length + 1,
                            dtype=np.float32)
        if length:
            encoding[np.arange(length) * width + np.asarray(tokens)] = 1.0
            encoding[self.max_length * width + tokens[-1]] = 1.0
        encoding[self.max_length * width + width + length] = 1.0
        return encoding


# ---- the catalogue --------------------------------------------------------------------

BUILT_IN: dict[str, type[GFNTask]] = {task.id: task for task in (HyperGrid, NGrams)}
_REGISTERED: dict[str, type[GFNTask]] = {}


class GFNProblem:
    """A built ``gfn-task`` problem: its info and the task a GFlowNet samples from."""

    def __init__(self, info: ProblemInfo, task: GFNTask) -> None:
        self.info = info
        self.task = task

    def known_front(self, gamma: float | None = None) -> np.ndarray | None:
        """The task's true front (``gamma`` is ignored: there is no discounting)."""
        return self.task.known_front()

    def evaluate(self, x: Any) -> Any:
        raise TypeError(f"{self.info.id} is a generation task: it is solved by sampling "
                        "objects (mogfn), not by evaluating parameter vectors")


@dataclass(frozen=True)
class GFNTaskDefinition:
    """A catalogue entry (``jobs.protocol.ProblemDefinition``) for one task class."""

    task_class: type[GFNTask]

    @property
    def id(self) -> str:
        return self.task_class.id

    @property
    def summary(self) -> str:
        return self.task_class.summary

    @property
    def config(self) -> type[BaseModel]:
        return self.task_class.Config

    def parse(self, config: Any = None) -> BaseModel:
        """Accept a config of this task's type, a mapping of its fields, or None (defaults)."""
        if config is None:
            return self.config()
        if isinstance(config, self.config):
            return config
        if isinstance(config, Mapping):
            return self.config.model_validate(dict(config))
        raise TypeError(f"{self.id} takes a {self.config.__name__} or a mapping of its "
                        f"fields, not {type(config).__name__}")

    def task(self, config: Any = None) -> GFNTask:
        return self.task_class(self.parse(config))

    def info(self, config: Any = None) -> ProblemInfo:
        return _info(self.task(config))

    def build(self, config: Any = None) -> GFNProblem:
        task = self.task(config)
        return GFNProblem(_info(task), task)


def _info(task: GFNTask) -> ProblemInfo:
    front = task.known_front()
    m = task.n_objectives
    return ProblemInfo(
        kind=KIND,
        id=task.id,
        objectives=tuple(Objective(name, "maximize") for name in task.objective_names),
        reference_point=(0.0,) * m,
        reference_point_source=REFERENCE_SOURCE,
        known_max_hypervolume=None if front is None else hypervolume(front, np.zeros(m)),
        has_known_front=front is not None,
        parameter_defaults={"beta": task.default_beta, "lr_logz": task.default_lr_logz,
                            "exploration": task.default_exploration},
    )


def register_task(task_class: type[GFNTask], *, replace: bool = False) -> type[GFNTask]:
    """Add a user's :class:`GFNTask` subclass to the ``gfn-task`` catalogue (usable as a
    class decorator). ``replace=True`` lets a registered id be registered again; a
    built-in id cannot be taken."""
    if not (isinstance(task_class, type) and issubclass(task_class, GFNTask)):
        raise TypeError(f"register_task takes a GFNTask subclass, not {task_class!r}")
    for attribute in ("id", "summary"):
        if not isinstance(getattr(task_class, attribute, None), str):
            raise TypeError(f"{task_class.__name__} needs a class attribute {attribute!r} (str)")
    if task_class.Config.model_config.get("extra") != "forbid":
        raise TypeError(f"{task_class.__name__}.Config must forbid unknown parameters: "
                        "model_config = ConfigDict(extra='forbid')")
    if not math.isfinite(task_class.default_beta) or task_class.default_beta <= 0:
        raise ValueError(f"{task_class.__name__}.default_beta must be a positive number")
    if not 0 < task_class.default_lr_logz <= 1:
        raise ValueError(f"{task_class.__name__}.default_lr_logz must lie in (0, 1]")
    if not 0 <= task_class.default_exploration < 1:
        raise ValueError(f"{task_class.__name__}.default_exploration must lie in [0, 1)")
    task_id = task_class.id
    if task_id in BUILT_IN and BUILT_IN[task_id] is not task_class:
        raise ValueError(f"{task_id!r} is a built-in task; choose another id")
    if task_id in _REGISTERED and _REGISTERED[task_id] is not task_class and not replace:
        raise ValueError(f"a task {task_id!r} is already registered "
                         f"({_REGISTERED[task_id].__name__}); pass replace=True to replace it")
    _REGISTERED[task_id] = task_class
    return task_class


def unregister_task(task_id: str) -> None:
    """Remove a user-registered task (built-in ones stay)."""
    _REGISTERED.pop(task_id, None)


def catalogue() -> dict[str, GFNTaskDefinition]:
    """Every ``gfn-task`` problem: the built-in tasks, then the registered ones."""
    return {task_id: GFNTaskDefinition(task_class)
            for task_id, task_class in {**BUILT_IN, **_REGISTERED}.items()}
