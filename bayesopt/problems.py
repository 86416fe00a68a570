"""Built-in test problems (kind ``"test-function"``): BoTorch's multi-objective test functions.

Each catalogue entry names one class of ``botorch.test_functions.multi_objective`` and
implements :class:`jobs.protocol.ProblemDefinition`: a pydantic ``config`` of the
problem's parameters (``dim``, ``num_objectives`` where BoTorch takes them, with
BoTorch's rules as field constraints), ``info(config)`` and ``build(config)``.

Evaluation is BoTorch's own code, never a re-implementation: ``build`` imports BoTorch
lazily, constructs the class with ``negate=False`` and calls it on a float64 tensor. With
``negate=False`` every objective is minimised, as the problems are published, so every
objective is declared ``"minimize"`` and the reference point is BoTorch's ``_ref_point``
as it stands (``problem.ref_point`` with ``negate=False``). The metadata (objective
names, bounds, reference points, maximum hypervolumes) is written out here so that
``info`` — and with it the registry and the submit-time checks — needs no torch;
``tests/bayesopt/test_problem_catalogue.py`` compares it with live BoTorch objects so
that a BoTorch upgrade that changes a value fails a test instead of drifting silently.

Observation noise (``noise_std``, BoTorch's argument of that name): BoTorch would draw
it inside ``forward`` from the global torch generator, so the function is built
noise-free and :func:`measure` adds the noise instead, drawn from the campaign's seed
and step, so that a campaign repeats and resumes exactly; each evaluation keeps its
noise-free values. On a constrained problem, ``constraint_noise_std`` (BoTorch's too)
adds noise to the constraints' slacks the same way: the campaign sees the noisy slacks
and judges feasibility by them, as BoTorch's noisy constrained problems do, and each
evaluation keeps its noise-free slacks.

Constrained problems (``info.constraints = c > 0``) also have ``constraint_slacks(x)``,
an ``n x c`` array of outcome-constraint slacks from BoTorch's ``evaluate_slack_true``.
Our convention is BoTorch's documented one (``ConstrainedBaseTestProblem``): constraint
``i`` is satisfied iff its slack ``g_i(x) >= 0``. BoTorch 0.18's ``WeldedBeam`` breaks
it: its slacks are pymoo's ``G(x) <= 0`` values copied as they are (the published
optimum (0.2444, 6.2187, 8.2915, 0.2444) has all four ``<= 0``, and 0.5% of uniform
random designs are "feasible" in BoTorch's reading against 32% in pymoo's), so its
entry negates them (``slack_sign = -1``); the other constrained entries pass BoTorch's
slacks through unchanged (checked against the published problems and by a test).

Left out on purpose: BoTorch's DTLZ4 (its ``_alpha`` is never used, so it evaluates
exactly DTLZ2), the robust-optimisation problems (DH1-4, ToyRobust), which are only
meaningful under input noise, and the constrained problems whose BoTorch form is not
the published one or has no usable reference point: BNH and SRN (reference point
(0, 0), marked TODO in BoTorch, which no feasible point dominates; SRN's first
constraint also uses ``x^4`` for ``x^2``), CONSTR (``x0`` widened from [0.1, 1] to
[0.1, 10], which makes nearly the whole box feasible) and MW7 (no published default
dimension).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from jobs.protocol import Objective, Parameter, ProblemInfo

KIND = "test-function"

# Service limits, not BoTorch's: beyond them exact hypervolume and the viewer give up.
MAX_DIM = 1000
MAX_OBJECTIVES = 10


# ---- configs ------------------------------------------------------------------------


class ProblemConfig(BaseModel):
    """Parameters every test function takes; fixed-size problems take nothing else."""

    model_config = ConfigDict(extra="forbid")

    evaluation_delay: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="simulated seconds per evaluation, for demos and scheduling tests",
    )
    noise_std: float | list[float] | None = Field(
        default=None,
        description="standard deviation of the Gaussian noise added to each objective, "
        "as BoTorch's noise_std: one number for every objective or one per objective (>= 0); "
        "the campaign sees the noisy values, and each evaluation keeps its noise-free ones "
        "in meta.true_objectives",
    )
    constraint_noise_std: float | list[float] | None = Field(
        default=None,
        description="constrained problems: standard deviation of the Gaussian noise added "
        "to each outcome constraint's slack, as BoTorch's constraint_noise_std: one number "
        "for every constraint or one per constraint (>= 0); feasibility is judged on the "
        "noisy slacks the campaign observes, and each evaluation keeps the noise-free ones "
        "in meta.true_constraints",
    )

    # The objective count of a problem of fixed size; the others have num_objectives.
    n_objectives: ClassVar[int | None] = None
    # The problem's outcome constraints (BoTorch's num_constraints).
    n_constraints: ClassVar[int] = 0

    @model_validator(mode="after")
    def _one_deviation_per_outcome(self) -> ProblemConfig:
        m = getattr(self, "num_objectives", None) or self.n_objectives
        if isinstance(self.noise_std, list) and m is not None and len(self.noise_std) != m:
            raise _length_error(self, "noise_std", m, "objectives")
        if self.constraint_noise_std is not None and self.n_constraints == 0:
            raise ValidationError.from_exception_data(type(self).__name__, [InitErrorDetails(
                type=PydanticCustomError(
                    "no_constraints", "this problem has no outcome constraints; "
                    "constraint_noise_std is for the constrained test functions"),
                loc=("constraint_noise_std",), input=self.constraint_noise_std)])
        if (isinstance(self.constraint_noise_std, list)
                and len(self.constraint_noise_std) != self.n_constraints):
            raise _length_error(self, "constraint_noise_std", self.n_constraints, "constraints")
        return self

    @field_validator("noise_std", "constraint_noise_std")
    @classmethod
    def _a_deviation(cls, value: float | list[float] | None,
                     info: ValidationInfo) -> float | list[float] | None:
        values = value if isinstance(value, list) else [] if value is None else [value]
        if not all(math.isfinite(v) and v >= 0 for v in values):
            raise ValueError(f"{info.field_name} must be finite and >= 0, got {value!r}")
        if isinstance(value, list) and not value:
            outcome = "objective" if info.field_name == "noise_std" else "constraint"
            raise ValueError(f"{info.field_name}: give one number, or one per {outcome}, "
                             "not []")
        return value


def _length_error(config: ProblemConfig, field: str, expected: int,
                  outcomes: str) -> ValidationError:
    """A deviation list of the wrong length, as pydantic reports a field's error."""
    given = getattr(config, field)
    return ValidationError.from_exception_data(type(config).__name__, [InitErrorDetails(
        type=PydanticCustomError(
            f"{field}_length",
            "{field} has {given} values for {expected} {outcomes}: give one number, or "
            "{expected}",
            {"field": field, "given": len(given), "expected": expected,
             "outcomes": outcomes}),
        loc=(field,), input=given)])


class ZDTConfig(ProblemConfig):
    """ZDT problems: two objectives, any input dimension of at least 2."""

    num_objectives: Literal[2] = Field(default=2, description="ZDT problems have two objectives")
    dim: int = Field(default=4, ge=2, le=MAX_DIM, description="input dimension (at least 2)")


class DTLZConfig(ProblemConfig):
    """DTLZ problems: M objectives over a d-dimensional unit cube, with d > M."""

    num_objectives: int = Field(
        default=2, ge=2, le=MAX_OBJECTIVES, description="number of objectives M"
    )
    dim: int = Field(
        default=6,
        ge=3,
        le=MAX_DIM,
        validate_default=True,
        description="input dimension d; must be greater than num_objectives",
    )

    @field_validator("dim")
    @classmethod
    def _dim_exceeds_num_objectives(cls, dim: int, info: ValidationInfo) -> int:
        num_objectives = info.data.get("num_objectives")
        if num_objectives is not None and dim <= num_objectives:
            raise ValueError(
                f"DTLZ needs dim > num_objectives, got dim={dim} and "
                f"num_objectives={num_objectives}; set dim to at least {num_objectives + 1}"
            )
        return dim


class C2DTLZ2Config(DTLZConfig):
    """C2-DTLZ2: as DTLZ, with BoTorch's constrained-MOO tutorial's dim 4 as default."""

    n_constraints: ClassVar[int] = 1

    dim: int = Field(
        default=4,
        ge=3,
        le=MAX_DIM,
        validate_default=True,
        description="input dimension d; must be greater than num_objectives",
    )


class GMMConfig(ProblemConfig):
    """The Gaussian-mixture problem: 2-D input, 2 to 4 objectives."""

    num_objectives: int = Field(default=2, ge=2, le=4, description="number of objectives (2 to 4)")


# ---- the built problem --------------------------------------------------------------


class InvalidCandidates(ValueError):
    """The points handed to ``evaluate`` have the wrong shape or leave the box."""


class BoTorchProblem:
    """A built test function: ``evaluate`` maps ``n x d`` parameters to ``n x m`` objectives."""

    def __init__(
        self,
        info: ProblemInfo,
        function: Any,
        evaluation_delay: float,
        slack_sign: float = 1.0,
        noise_std: float | list[float] | None = None,
        constraint_noise_std: float | list[float] | None = None,
    ) -> None:
        self.info = info
        self.evaluation_delay = evaluation_delay
        # One deviation per objective (per constraint), or None where all are noise-free.
        self.noise_std: tuple[float, ...] | None = _per_outcome(noise_std, info.n_objectives)
        self.constraint_noise_std: tuple[float, ...] | None = _per_outcome(
            constraint_noise_std, info.constraints)
        self._function = function  # a BoTorch MultiObjectiveTestProblem, negate=False
        self._slack_sign = slack_sign  # -1 where BoTorch's slacks are feasible iff <= 0
        self._low = np.array([p.low for p in info.parameters])
        self._high = np.array([p.high for p in info.parameters])

    def evaluate(self, x: Any) -> np.ndarray:
        import torch

        points = np.ascontiguousarray(x, dtype=np.float64)
        self._check(points)
        n = points.shape[0]
        if self.evaluation_delay > 0:
            time.sleep(self.evaluation_delay * n)
        if n == 0:
            return np.empty((0, self.info.n_objectives), dtype=np.float64)
        with torch.no_grad():
            values = self._function(torch.from_numpy(points))
        return values.to(torch.float64).numpy().copy()  # n x m

    def observe(self, values: np.ndarray, rng: np.random.Generator,
                deviations: tuple[float, ...] | None = None) -> np.ndarray:
        """What a noisy evaluation reports for the noise-free ``n x k`` ``values``: each
        plus an independent normal draw of its column's deviation (``deviations``, the
        objectives' ``noise_std`` unless given)."""
        deviations = self.noise_std if deviations is None else deviations
        if deviations is None:
            return values
        return values + rng.standard_normal(values.shape) * np.array(deviations)

    def constraint_slacks(self, x: Any) -> np.ndarray:
        """The ``n x c`` outcome-constraint slacks at ``x``: feasible iff all ``>= 0``.

        An unconstrained problem (``info.constraints == 0``) returns ``n x 0``. No
        evaluation delay: it stands for the cost of ``evaluate``, which computes the same
        simulation.
        """
        import torch

        points = np.ascontiguousarray(x, dtype=np.float64)
        self._check(points)
        c = self.info.constraints
        if c == 0 or points.shape[0] == 0:
            return np.empty((points.shape[0], c), dtype=np.float64)
        with torch.no_grad():
            slacks = self._function.evaluate_slack_true(torch.from_numpy(points))
        return self._slack_sign * slacks.to(torch.float64).numpy().reshape(-1, c)  # n x c

    def _check(self, points: np.ndarray) -> None:
        d = len(self.info.parameters)
        if points.ndim != 2 or points.shape[1] != d:
            raise InvalidCandidates(
                f"{self.info.id} expects an n x {d} array of parameters, got shape {points.shape}"
            )
        if not np.isfinite(points).all():
            raise InvalidCandidates(f"{self.info.id}: parameters must be finite")
        outside = (points < self._low) | (points > self._high)
        if outside.any():
            row, col = np.argwhere(outside)[0]
            parameter = self.info.parameters[col]
            raise InvalidCandidates(
                f"{self.info.id}: {parameter.name}={float(points[row, col])!r} in row {row} is "
                f"outside its bounds [{parameter.low}, {parameter.high}]"
            )


# ---- catalogue entries --------------------------------------------------------------

Bounds = list[tuple[float, float]]


@dataclass(frozen=True)
class TestFunctionDefinition:
    """One catalogue entry; the callables read the validated config."""

    __test__ = False  # not a pytest test class, despite its name

    id: str
    summary: str
    config: type[ProblemConfig]
    botorch_class: str  # name in botorch.test_functions.multi_objective
    objective_names: Callable[[Any], tuple[str, ...]]
    bounds: Callable[[Any], Bounds]
    reference_point: Callable[[Any], tuple[float, ...]]
    max_hypervolume: Callable[[Any], float | None]
    constraints: int = 0  # BoTorch's num_constraints
    slack_sign: float = 1.0  # -1: BoTorch's slacks are feasible iff <= 0 (WeldedBeam)

    def parse(self, config: Any = None) -> ProblemConfig:
        """Accept a config of this entry's type, a mapping of its fields, or None (defaults)."""
        if config is None:
            return self.config()
        if isinstance(config, self.config):
            return config
        if isinstance(config, Mapping):
            return self.config.model_validate(dict(config))
        raise TypeError(
            f"{self.id} takes a {self.config.__name__} or a mapping of its fields, "
            f"not {type(config).__name__}"
        )

    def info(self, config: Any = None) -> ProblemInfo:
        cfg = self.parse(config)
        return ProblemInfo(
            kind=KIND,
            id=self.id,
            objectives=tuple(Objective(n, "minimize") for n in self.objective_names(cfg)),
            parameters=tuple(
                Parameter(f"x{i}", low, high) for i, (low, high) in enumerate(self.bounds(cfg))
            ),
            reference_point=self.reference_point(cfg),
            reference_point_source=f"BoTorch test function {self.botorch_class}",
            known_max_hypervolume=self.max_hypervolume(cfg),
            constraints=self.constraints,
        )

    def build(self, config: Any = None) -> BoTorchProblem:
        import torch
        from botorch.test_functions import multi_objective

        cfg = self.parse(config)
        function_class = getattr(multi_objective, self.botorch_class)
        # BoTorch's own noise would come from the global torch generator: ours is seeded
        # by the campaign (BoTorchProblem.observe), so the function is built noise-free.
        arguments = cfg.model_dump(exclude={"evaluation_delay", "noise_std",
                                            "constraint_noise_std"})
        # .to(): some classes (GMM) keep float32 buffers otherwise.
        function = function_class(negate=False, **arguments).to(torch.float64)
        return BoTorchProblem(self.info(cfg), function, cfg.evaluation_delay, self.slack_sign,
                              cfg.noise_std, cfg.constraint_noise_std)


def measure(problem: Any, x: np.ndarray, seed: int, step: int
            ) -> tuple[np.ndarray, np.ndarray | None, list[dict[str, Any]]]:
    """``problem``'s ``n x m`` objectives and ``n x c`` constraint slacks (None for an
    unconstrained problem) at ``x`` as a campaign observes them, and each point's meta.

    Without noise: the values, no meta. With ``noise_std`` (``constraint_noise_std``):
    the objectives (slacks) plus noise drawn from ``(seed, step)``, the objectives' draws
    first, so a resumed campaign draws the same and constraint noise leaves the
    objectives' draws as they were; each point keeps its ``true_objectives`` and ``sem``
    (``true_constraints`` and ``constraint_sem``): the deviations, null where one is 0,
    as standard errors told with ask/tell."""
    values = np.asarray(problem.evaluate(x), dtype=np.float64).reshape(len(x), -1)
    c = problem.info.constraints
    slacks = (np.asarray(problem.constraint_slacks(x), dtype=np.float64).reshape(len(x), c)
              if c else None)
    meta: list[dict[str, Any]] = [{} for _ in range(len(x))]
    rng = np.random.default_rng((seed, step))
    noise_std = getattr(problem, "noise_std", None)
    if noise_std is not None:
        observed = problem.observe(values, rng)
        for row, point in zip(values, meta, strict=True):
            point.update(true_objectives=[float(v) for v in row], sem=_sems(noise_std))
        values = observed
    constraint_noise_std = getattr(problem, "constraint_noise_std", None)
    if slacks is not None and constraint_noise_std is not None:
        observed = problem.observe(slacks, rng, constraint_noise_std)
        for row, point in zip(slacks, meta, strict=True):
            point.update(true_constraints=[float(v) for v in row],
                         constraint_sem=_sems(constraint_noise_std))
        slacks = observed
    return values, slacks, meta


def _sems(deviations: tuple[float, ...]) -> list[float | None]:
    return [v if v > 0 else None for v in deviations]


def _per_outcome(noise_std: float | list[float] | None, k: int) -> tuple[float, ...] | None:
    if noise_std is None:
        return None
    values = tuple(noise_std) if isinstance(noise_std, list) else (noise_std,) * k
    return None if not any(values) else values


def _fixed(
    problem_id: str,
    summary: str,
    botorch_class: str,
    objective_names: tuple[str, ...],
    bounds: Bounds,
    reference_point: tuple[float, ...],
    max_hypervolume: float | None,
    constraints: int = 0,
    slack_sign: float = 1.0,
) -> TestFunctionDefinition:
    config = type(f"{botorch_class}Config", (ProblemConfig,), {
        "n_objectives": len(objective_names), "n_constraints": constraints,
        "__doc__": ProblemConfig.__doc__})
    return TestFunctionDefinition(
        id=problem_id,
        summary=summary,
        config=config,
        botorch_class=botorch_class,
        objective_names=lambda cfg: objective_names,
        bounds=lambda cfg: list(bounds),
        reference_point=lambda cfg: reference_point,
        max_hypervolume=lambda cfg: max_hypervolume,
        constraints=constraints,
        slack_sign=slack_sign,
    )


def _numbered(cfg: Any) -> tuple[str, ...]:
    return tuple(f"f{i + 1}" for i in range(cfg.num_objectives))


def _unit_cube(cfg: Any) -> Bounds:
    return [(0.0, 1.0)] * cfg.dim


def _zdt(
    problem_id: str, summary: str, botorch_class: str, max_hv: float
) -> TestFunctionDefinition:
    # Reference point (11, 11) from Yang et al. (2019); the maximum does not depend on dim.
    return TestFunctionDefinition(
        id=problem_id,
        summary=summary,
        config=ZDTConfig,
        botorch_class=botorch_class,
        objective_names=_numbered,
        bounds=_unit_cube,
        reference_point=lambda cfg: (11.0, 11.0),
        max_hypervolume=lambda cfg: max_hv,
    )


def _dtlz(
    problem_id: str,
    summary: str,
    botorch_class: str,
    reference_value: float,
    max_hv: Callable[[int], float] | None,
) -> TestFunctionDefinition:
    return TestFunctionDefinition(
        id=problem_id,
        summary=summary,
        config=DTLZConfig,
        botorch_class=botorch_class,
        objective_names=_numbered,
        bounds=_unit_cube,
        reference_point=lambda cfg: (reference_value,) * cfg.num_objectives,
        max_hypervolume=lambda cfg: None if max_hv is None else max_hv(cfg.num_objectives),
    )


def _dtlz1_max_hv(m: int) -> float:
    # BoTorch's formula, kept so the drift test holds. The region the linear front
    # sum(f) = 1/2 leaves undominated is a simplex of volume 0.5^m / m!, not 0.5^m, so
    # BoTorch's value is low by 0.5^m (1 - 1/m!): 0.125 for m = 2, 1e-9 of the volume.
    return 400.0**m - 0.5**m


def _spherical_max_hv(reference_value: float) -> Callable[[int], float]:
    # The box minus the positive orthant of the unit ball (DTLZ2 and DTLZ3).
    def max_hv(m: int) -> float:
        return reference_value**m - math.pi ** (m / 2) / math.gamma(m / 2 + 1) / 2**m

    return max_hv


_ENTRIES: tuple[TestFunctionDefinition, ...] = (
    _fixed(
        "branin-currin",
        "Branin and Currin functions, 2 inputs, 2 objectives (Belakaria et al., NeurIPS 2019)",
        "BraninCurrin",
        ("branin", "currin"),
        [(0.0, 1.0), (0.0, 1.0)],
        (18.0, 6.0),
        59.36011874867746,  # BoTorch: approximated with NSGA-II
    ),
    _zdt(
        "zdt1",
        "ZDT1, convex front, 2 objectives (Zitzler, Deb & Thiele, 2000)",
        "ZDT1",
        120 + 2 / 3,
    ),
    _zdt(
        "zdt2",
        "ZDT2, concave front, 2 objectives (Zitzler, Deb & Thiele, 2000)",
        "ZDT2",
        120 + 1 / 3,
    ),
    _zdt(
        "zdt3",
        "ZDT3, disconnected front, 2 objectives (Zitzler, Deb & Thiele, 2000)",
        "ZDT3",
        128.77811613069076,
    ),
    _dtlz(
        "dtlz1",
        "DTLZ1, linear front behind many local fronts (Deb et al., 2005)",
        "DTLZ1",
        400.0,
        _dtlz1_max_hv,
    ),
    _dtlz(
        "dtlz2",
        "DTLZ2, spherical concave front (Deb et al., 2005)",
        "DTLZ2",
        1.1,
        _spherical_max_hv(1.1),
    ),
    _dtlz(
        "dtlz3",
        "DTLZ3, spherical front behind many local fronts (Deb et al., 2005)",
        "DTLZ3",
        10000.0,
        _spherical_max_hv(10000.0),
    ),
    _dtlz("dtlz5", "DTLZ5, degenerate curve-shaped front (Deb et al., 2005)", "DTLZ5", 10.0, None),
    _dtlz(
        "dtlz7",
        "DTLZ7, front in 2^(M-1) disconnected regions (Deb et al., 2005)",
        "DTLZ7",
        15.0,
        None,
    ),
    TestFunctionDefinition(
        id="gmm",
        summary="Gaussian-mixture objectives on the unit square, 2 to 4 objectives "
        "(Daulton et al., ICML 2022)",
        config=GMMConfig,
        botorch_class="GMM",
        objective_names=_numbered,
        bounds=lambda cfg: [(0.0, 1.0), (0.0, 1.0)],
        reference_point=lambda cfg: (-0.2338, -0.2211, -0.5180, -0.1866)[: cfg.num_objectives],
        max_hypervolume=lambda cfg: None,
    ),
    _fixed(
        "vehicle-safety",
        "Vehicle crash-worthiness design, 5 inputs, 3 objectives (Liao et al., 2008; "
        "Tanabe & Ishibuchi, 2020)",
        "VehicleSafety",
        ("mass", "acceleration", "toe_board_intrusion"),
        [(1.0, 3.0)] * 5,
        (1864.72022, 11.81993945, 0.2903999384),
        246.81607081187002,
    ),
    _fixed(
        "car-side-impact",
        "Car side-impact design, 7 inputs, 4 objectives (Jain & Deb, 2014; "
        "Tanabe & Ishibuchi, 2020)",
        "CarSideImpact",
        ("weight", "pubic_force", "v_pillar_velocity", "constraint_violation"),
        [(0.5, 1.5), (0.45, 1.35), (0.5, 1.5), (0.5, 1.5), (0.875, 2.625), (0.4, 1.2), (0.4, 1.2)],
        (45.4872, 4.5114, 13.3394, 10.3942),
        484.72654347642793,
    ),
    _fixed(
        "penicillin",
        "Penicillin fermentation simulator, 7 inputs, 3 objectives (Liang & Lai, 2021)",
        "Penicillin",
        ("negative_yield", "co2", "time"),
        [
            (60.0, 120.0),
            (0.05, 18.0),
            (293.0, 303.0),
            (0.05, 18.0),
            (0.01, 0.5),
            (500.0, 700.0),
            (5.0, 6.5),
        ],
        (25.935, 57.612, 935.5),
        2183455.909507436,
    ),
    # ---- constrained (info.constraints > 0) ----
    _fixed(
        "constrained-branin-currin",
        "Branin-Currin with a disk constraint, 2 inputs, 2 objectives, 1 constraint "
        "(Gelbart et al., 2014; Daulton et al., 2020)",
        "ConstrainedBraninCurrin",
        ("branin", "currin"),
        [(0.0, 1.0), (0.0, 1.0)],
        (80.0, 12.0),
        608.4004237022673,  # BoTorch: NSGA-II with 90k evaluations
        constraints=1,
    ),
    TestFunctionDefinition(
        id="c2dtlz2",
        summary="C2-DTLZ2, DTLZ2 with a constraint that leaves disconnected parts of the "
        "front feasible, 1 constraint (Jain & Deb, 2014)",
        config=C2DTLZ2Config,
        botorch_class="C2DTLZ2",
        objective_names=_numbered,
        bounds=_unit_cube,
        reference_point=lambda cfg: (1.1,) * cfg.num_objectives,
        # BoTorch's class attribute is the 2-objective value (from NSGA-II); it keeps it
        # for any M, which is wrong for M > 2, so we give none there.
        max_hypervolume=lambda cfg: 0.3996406303723544 if cfg.num_objectives == 2 else None,
        constraints=1,
    ),
    _fixed(
        "disc-brake",
        "Disc-brake design, 4 inputs, 2 objectives, 4 constraints (Ray & Liew, 2002; "
        "Tanabe & Ishibuchi, 2020)",
        "DiscBrake",
        ("mass", "stopping_time"),
        [(55.0, 80.0), (75.0, 110.0), (1000.0, 3000.0), (11.0, 20.0)],
        (5.7771, 3.9651),
        None,
        constraints=4,
    ),
    _fixed(
        "welded-beam",
        "Welded-beam design, 4 inputs, 2 objectives (cost, deflection), 4 constraints "
        "(Ragsdell & Phillips, 1976; Ray & Liew, 2002)",
        "WeldedBeam",
        ("cost", "deflection"),
        [(0.125, 5.0), (0.1, 10.0), (0.1, 10.0), (0.125, 5.0)],
        (40.0, 0.015),
        None,
        constraints=4,
        slack_sign=-1.0,  # BoTorch returns pymoo's G <= 0; see the module docstring
    ),
    _fixed(
        "osy",
        "OSY, 6 inputs, 2 objectives, 6 constraints (Osyczka & Kundu, 1995)",
        "OSY",
        ("f1", "f2"),
        [(0.0, 10.0), (0.0, 10.0), (1.0, 5.0), (0.0, 6.0), (1.0, 5.0), (0.0, 10.0)],
        (-75.0, 75.0),
        None,
        constraints=6,
    ),
)


def catalogue() -> dict[str, TestFunctionDefinition]:
    """The built-in test functions by id, in a stable order."""
    return {entry.id: entry for entry in _ENTRIES}
