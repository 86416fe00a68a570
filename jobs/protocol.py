"""The contract between algorithms and the service.

Algorithms (``morl/``, ``bayesopt/``) implement :class:`Algorithm` and talk to the
service only through a :class:`Recorder`; they never import ``storage`` or ``api``.
A problem is described by :class:`ProblemInfo` plus an ``evaluate`` callable. This
module imports nothing of ours but ``pareto``, so algorithms can depend on it freely.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Sense = Literal["minimize", "maximize"]


class Cancelled(Exception):
    """Raised by :meth:`Recorder.record` once the campaign has been cancelled."""


@dataclass(frozen=True)
class Objective:
    name: str
    sense: Sense = "maximize"


@dataclass(frozen=True)
class Parameter:
    """One decision variable with its box bounds (in the problem's units).

    ``integer``: only whole numbers in ``[low, high]`` are valid values. ``log_scale``:
    the variable varies over orders of magnitude (``0 < low``), so algorithms that
    model or sample it do so on ``log(x)`` (a learning rate, a batch size).
    ``choices``: the variable takes one of these values (an optimiser's name, a batch
    size); algorithms see its index, ``0 .. len(choices) - 1`` (:meth:`choice`).
    ``ordered``: the values have an order (16 < 32 < 64; small < medium < large), so
    the index is searched as an integer; otherwise they are unordered categories
    (:attr:`categorical`).
    """

    name: str
    low: float
    high: float
    integer: bool = False
    log_scale: bool = False
    choices: tuple[str | float, ...] = ()
    ordered: bool = False

    @classmethod
    def choice(cls, name: str, values: Sequence[str | float], ordered: bool = False) -> Parameter:
        return cls(name, 0.0, float(len(values) - 1), integer=True, choices=tuple(values),
                   ordered=ordered)

    @property
    def categorical(self) -> bool:
        """One of unordered values: no value lies between two others."""
        return bool(self.choices) and not self.ordered

    def cast(self, value: float) -> int | float | str:
        """A number as algorithms see it, as stored and shown: an ``int`` for an integer
        parameter, the chosen value for a choice."""
        if self.choices:
            return self.choices[round(float(value))]
        return round(float(value)) if self.integer else float(value)

    def number(self, value: Any) -> float:
        """A stored value as the number algorithms see (:meth:`cast`'s inverse)."""
        return float(self.choices.index(value)) if self.choices else float(value)


@dataclass(frozen=True)
class LinearConstraint:
    """A linear constraint on the parameters: ``sum(c * x[i] for i, c in coefficients)
    <= bound``, in the problem's units (Ax's parameter constraints). ``text`` is the
    constraint as the user wrote it, for messages.
    """

    coefficients: tuple[tuple[int, float], ...]  # (parameter index, coefficient)
    bound: float
    text: str = ""

    def excess(self, x: Sequence[float]) -> float:
        """How far ``x`` (one number per parameter) goes over the bound; <= 0 inside."""
        return sum(c * float(x[i]) for i, c in self.coefficients) - self.bound

    def tolerance(self, parameters: Sequence[Parameter]) -> float:
        """The excess still read as satisfied: a billionth of the constraint's scale, so
        ``x + y <= 1`` holds at ``x = 0.1, y = 1 - 0.1`` whatever the floating point."""
        scale = abs(self.bound) + sum(
            abs(c) * max(abs(parameters[i].low), abs(parameters[i].high))
            for i, c in self.coefficients)
        return 1e-9 * max(scale, 1.0)

    def holds(self, x: Sequence[float], parameters: Sequence[Parameter]) -> bool:
        return self.excess(x) <= self.tolerance(parameters)


@dataclass(frozen=True)
class OutcomeBound:
    """Where an outcome constraint holds, as the user states it: its measured value
    ``op`` ``bound`` (Ax's outcome constraints, ``memory <= 16``). Algorithms see the
    slack, how far inside the value is: feasible iff it is ``>= 0``. The default,
    ``>= 0``, is a constraint whose value is its own slack."""

    op: Literal["<=", ">="] = ">="
    bound: float = 0.0
    # A scalarised constraint, ``sum(c * metric) op bound`` (Ax's ``"a + 2*b <= 10"``):
    # each (metric, c); its value is that sum of the metrics told. Empty: the
    # constraint's own value is told.
    terms: tuple[tuple[str, float], ...] = ()

    def slack(self, value: float) -> float:
        return value - self.bound if self.op == ">=" else self.bound - value

    def value(self, slack: Any) -> Any:
        """The measured value whose slack is ``slack`` (a number or an array)."""
        return slack + self.bound if self.op == ">=" else self.bound - slack

    @property
    def is_slack(self) -> bool:
        return self.op == ">=" and self.bound == 0.0


@dataclass(frozen=True)
class ProblemInfo:
    """What a campaign needs to know about a problem before running it."""

    kind: str
    id: str
    objectives: tuple[Objective, ...]
    parameters: tuple[Parameter, ...] = ()
    reference_point: tuple[float, ...] | None = None  # raw units, problem's own senses
    reference_point_source: str | None = None  # where the published point comes from
    known_max_hypervolume: float | None = None
    has_known_front: bool = False  # the problem can compute its true Pareto front
    constraints: int = 0
    constraint_names: tuple[str, ...] = ()  # as declared; else c0, c1, ... (slack_names)
    constraint_bounds: tuple[OutcomeBound, ...] = ()  # as declared; else each value is its slack
    # Linear constraints on the parameters themselves: every suggestion satisfies them
    parameter_constraints: tuple[LinearConstraint, ...] = ()
    # The problem's own values for an algorithm's parameters of the same names, filled in
    # where a spec leaves them unset (null): how policies on an environment are evaluated
    # ({"eval_gamma": 0.99, "eval_episodes": 1}), a GFlowNet task's reward exponent beta.
    parameter_defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def n_objectives(self) -> int:
        return len(self.objectives)

    @property
    def senses(self) -> list[Sense]:
        return [o.sense for o in self.objectives]

    @property
    def slack_names(self) -> list[str]:
        """The outcome constraints' names: as the problem declares them, else c0, c1, ..."""
        return list(self.constraint_names) or [f"c{i}" for i in range(self.constraints)]

    def slacks(self, values: Sequence[float]) -> list[float]:
        """The outcome constraints' values as measured, as slacks (feasible iff all
        ``>= 0``)."""
        bounds = self.constraint_bounds or (OutcomeBound(),) * len(values)
        return [bound.slack(float(v)) for bound, v in zip(bounds, values, strict=True)]

    @property
    def bounds(self) -> tuple[OutcomeBound, ...]:
        """Each outcome constraint's bound, as declared or else ``>= 0`` (a slack)."""
        return self.constraint_bounds or (OutcomeBound(),) * self.constraints

    @property
    def metric_names(self) -> list[str]:
        """What is told for the outcome constraints: each constraint's own value, or
        each metric a scalarised one sums, once, in the order they first appear."""
        names = [name for bound, constraint in zip(self.bounds, self.slack_names, strict=True)
                 for name in ([m for m, _ in bound.terms] or [constraint])]
        return list(dict.fromkeys(names))

    def value_weights(self) -> list[list[float]]:
        """``c x k``: each outcome constraint's value as a weighted sum of the values told
        for the constraints (:attr:`metric_names`): 1 on its own value, or its terms'
        coefficients."""
        metrics = self.metric_names
        rows = []
        for bound, name in zip(self.bounds, self.slack_names, strict=True):
            row = [0.0] * len(metrics)
            for metric, c in bound.terms or ((name, 1.0),):
                row[metrics.index(metric)] += c
            rows.append(row)
        return rows

    def constraint_values(self, metrics: Sequence[float]) -> list[float]:
        """Each outcome constraint's value from the metrics told (in
        :attr:`metric_names`' order): its own, or its terms' sum."""
        return [sum(w * float(v) for w, v in zip(row, metrics, strict=True) if w)
                for row in self.value_weights()]

    @property
    def scalarised(self) -> bool:
        """Whether some outcome constraint bounds a sum of measured values."""
        return any(bound.terms for bound in self.constraint_bounds)

    def slack_map(self) -> tuple[list[list[float]], list[float]]:
        """``(weights, offsets)``, ``c x k`` and ``c``: each outcome constraint's slack
        from the values told for the constraints (:attr:`metric_names`), ``slack_j =
        sum_i weights[j][i] * value_i + offsets[j]``."""
        signs = [1.0 if bound.op == ">=" else -1.0 for bound in self.bounds]
        return ([[sign * w for w in row] for sign, row in zip(signs, self.value_weights(),
                                                              strict=True)],
                [-sign * bound.bound for sign, bound in zip(signs, self.bounds, strict=True)])

    def constraint_sems(self, metric_sems: Sequence[float | None]) -> list[float | None]:
        """Each outcome constraint's standard error from its metrics' (independent
        errors: the root of the sum of ``(c * sem)^2``); None where one is unknown."""
        sems: list[float | None] = []
        for row in self.value_weights():
            terms = [(w, sem) for w, sem in zip(row, metric_sems, strict=True) if w]
            known = [(w, sem) for w, sem in terms if sem is not None]
            sems.append(math.sqrt(sum((w * sem) ** 2 for w, sem in known))
                        if len(known) == len(terms) else None)
        return sems


@dataclass
class Evaluated:
    """One evaluated candidate or policy, as an algorithm hands it to the recorder.

    ``objectives`` are raw values in the problem's own senses and objective order.
    ``params`` is what was evaluated: the decision variables by name (problem units),
    or a policy's preference vector. ``meta`` says where it came from (``iteration``,
    ``batch``, ``stage``, ``parent``…). ``constraints`` are the outcome-constraint
    slacks ``g(x)`` of a constrained problem: feasible iff every one is ``>= 0``; an
    infeasible item is stored but never on the front.
    ``cost`` is the budget this item consumed (1 evaluation, or its env steps).
    """

    objectives: Sequence[float]
    params: dict[str, Any] = field(default_factory=dict)
    kind: Literal["candidate", "policy"] = "candidate"
    cost: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)
    constraints: Sequence[float] | None = None
    artifact: bytes | None = None
    artifact_content_type: str = "application/octet-stream"

    @property
    def feasible(self) -> bool:
        return self.constraints is None or all(value >= 0 for value in self.constraints)


@runtime_checkable
class Recorder(Protocol):
    """How an algorithm reports to the service.

    ``record`` persists a batch at once (each item gets the next ``seq``), updates
    progress and raises :class:`Cancelled` when the campaign was cancelled. A resumed
    campaign calls ``restore`` first; the seqs recorded after the restored checkpoint are
    re-assigned identically, and re-recording an already stored seq is a no-op.
    """

    @property
    def budget(self) -> float: ...

    @property
    def budget_used(self) -> float: ...

    def record(self, items: Sequence[Evaluated]) -> None: ...

    def progress(self, budget_used: float, message: str | None = None) -> None: ...

    def checkpoint(self, state: dict[str, Any]) -> None: ...

    def restore(self) -> dict[str, Any] | None: ...

    def log(self, **values: float) -> None:
        """Attach per-iteration diagnostics (e.g. fit_seconds) to the campaign history."""
        ...


class Algorithm(Protocol):
    """``run`` drives one campaign to the end of its budget (or until Cancelled)."""

    def __call__(
        self,
        problem: Any,
        params: dict[str, Any],
        seed: int,
        device: str,
        recorder: Recorder,
    ) -> None: ...


class Problem(Protocol):
    """A built problem: ``evaluate`` maps a ``n x d`` array of parameters (problem units)
    to a ``n x m`` array of raw objective values (the problem's own senses). A problem
    with ``info.constraints = c > 0`` also has ``constraint_slacks(x) -> n x c``, the
    outcome constraints ``g(x)``, feasible iff all ``>= 0``."""

    info: ProblemInfo

    def evaluate(self, x: Any) -> Any: ...


@dataclass(frozen=True)
class Observations:
    """What an ask/tell campaign knows when asked for suggestions.

    ``x``: ``n x d`` evaluated points (problem units, a choice by its index:
    :meth:`Parameter.number`); ``objectives``: ``n x m`` raw
    values; ``constraints``: ``n x c`` slacks or None; ``pending``: ``k x d`` points
    suggested and not yet told (to condition on, so no duplicates are suggested);
    ``failed``: ``f x d`` points whose evaluation the user reported failed (a
    model-based method learns to avoid where they lie);
    ``n_suggested``: how many suggestions were ever made (a quasi-random sequence
    continues from there); ``sem``: ``n x m`` standard errors of the observed
    objectives (raw units, the noise of each measurement, as Ax takes ``(mean, sem)``),
    NaN where one was not given, or None when none was; ``constraint_sem``: the same,
    ``n x c``, for the constraints' slacks. Where a constraint bounds a sum of measured
    values (:attr:`ProblemInfo.scalarised`): ``metrics``, ``n x k``, the values told
    (:attr:`ProblemInfo.metric_names`), and ``metric_sem``, their standard errors as
    ``sem`` has the objectives'; the BO methods model those values, not the slacks.
    """

    x: Any
    objectives: Any
    constraints: Any = None
    pending: Any = None
    n_suggested: int = 0
    failed: Any = None
    sem: Any = None
    constraint_sem: Any = None
    metrics: Any = None
    metric_sem: Any = None


class Suggest(Protocol):
    """The ask half of an ask/tell algorithm: ``n`` new points (``n x d``, problem units,
    a choice by its index) for ``problem`` given what was observed. Stateless: the service rebuilds the
    observations from the store on every ask."""

    def __call__(
        self,
        problem: ProblemInfo,
        params: dict[str, Any],
        seed: int,
        observations: Observations,
        n: int,
        device: str,
    ) -> Any: ...


class ProblemDefinition(Protocol):
    """An entry of a problem catalogue: its parameter schema and how to build it.

    ``config`` is a pydantic model (extra="forbid") of the problem's parameters, e.g.
    ``dim`` and ``num_objectives``. ``info`` must not import torch; ``build`` may.
    """

    id: str
    summary: str
    config: Any

    def info(self, config: Any) -> ProblemInfo: ...

    def build(self, config: Any) -> Problem: ...
