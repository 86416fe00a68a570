"""External problems: a black box only the user can evaluate (a lab experiment, a
simulator on their own cluster), optimised through ask/tell over HTTP.

The spec declares the box and the objectives, e.g.
``{"kind": "external", "parameters": [{"name": "temp", "low": 20, "high": 90}],
"objectives": [{"name": "yield", "sense": "maximize"}]}``. A parameter may be
``"value_type": "int"`` (whole numbers only) and ``"log_scale": true`` (searched on
``log(x)``; needs ``low > 0``), as in Ax's range parameters: ``{"name": "lr", "low":
1e-5, "high": 0.1, "log_scale": true}``, ``{"name": "layers", "low": 1, "high": 8,
"value_type": "int"}``; or one of a list of values, as Ax's choice parameters:
``{"name": "optimizer", "value_type": "choice", "values": ["sgd", "adam", "adamw"]}``.
A choice is ordered (searched by its index, as an integer) or a category (searched
one-hot) as ``"is_ordered"`` says; unset, it is ordered unless its values are more
than two strings, Ax's default, and ordered numbers are sorted.
``"parameter_constraints"`` are linear constraints on float and int parameters
written as Ax writes them, ``["x1 + x2 <= 1", "warmup <= steps"]``
(:mod:`bayesopt.parameter_constraints`); every suggestion satisfies them and a told
point must too. ``"constraints"`` are outcome constraints, values measured beside the
objectives with a bound each, as Ax writes them: ``["memory <= 16", "accuracy >=
0.9"]`` (:class:`ConstraintSpec`); the BO methods model each one and steer to where it
holds, and a point that misses one is never on the front. There is nothing to build
on a worker: ``POST /campaigns/{id}/ask`` suggests points and ``/tell`` stores results.

A bound on a linear combination of measured values, ``"gpu + 2*cpu <= 10"``, is read
as Ax 1.3 reads it (a scalarised outcome constraint): ``gpu`` and ``cpu`` are told by
name and the constraint's value is the sum
(:meth:`jobs.protocol.ProblemInfo.constraint_values`), stored as its slack. As in Ax,
the BO methods fit a GP to each value told and bound the sum of their posterior
samples (:mod:`bayesopt.acquisition`); so do the denoised front's predicted slack and
the model views (importance, model fit, slices: :mod:`bayesopt.diagnostics`), which
show the constraint's value as the sum of its values' GPs.
``benchmarks/bench_scalarised_constraints.py`` measures it against Ax, and against a
GP of the sum.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from bayesopt import parameter_constraints
from jobs.protocol import LinearConstraint, Objective, OutcomeBound, Parameter, ProblemInfo

NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_.\-]*"
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=rf"^{NAME_PATTERN}$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]
ChoiceValue = Annotated[str, Field(max_length=100)] | int | Finite


class ParameterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    low: Finite | None = Field(None, description="lower bound (float and int parameters)")
    high: Finite | None = Field(None, description="upper bound (float and int parameters)")
    value_type: Literal["float", "int", "choice"] = Field(
        "float", description="int: only whole numbers in [low, high]; choice: one of values")
    log_scale: bool = Field(
        False, description="search on log(x), for values over orders of magnitude; low > 0")
    values: list[ChoiceValue] | None = Field(
        None, min_length=2, max_length=100,
        description="a choice parameter's values (strings or numbers)")
    is_ordered: bool | None = Field(
        None, description="a choice's values have an order (searched by their index as an "
                          "integer) or are categories (searched one-hot); unset: as Ax, "
                          "ordered unless they are more than two strings; numbers in order "
                          "are sorted")

    @model_validator(mode="after")
    def _consistent(self) -> ParameterSpec:
        if self.value_type == "choice":
            return self._choice_checked()
        if self.values is not None or self.is_ordered is not None:
            raise ValueError(f"parameter {self.name!r}: values and is_ordered are for "
                             f"value_type 'choice'; a {self.value_type} parameter has low and "
                             "high")
        if self.low is None or self.high is None:
            raise ValueError(f"parameter {self.name!r}: a {self.value_type} parameter needs low "
                             "and high")
        if not self.low < self.high:
            raise ValueError(f"parameter {self.name!r}: low ({self.low}) must be below high "
                             f"({self.high})")
        if self.value_type == "int" and not (self.low.is_integer() and self.high.is_integer()):
            raise ValueError(f"parameter {self.name!r}: an int parameter needs whole-number "
                             f"bounds; got low {self.low}, high {self.high}")
        if self.log_scale and self.low <= 0:
            raise ValueError(f"parameter {self.name!r}: log_scale needs low > 0; got low "
                             f"{self.low}")
        return self

    def _choice_checked(self) -> ParameterSpec:
        if self.values is None:
            raise ValueError(f"parameter {self.name!r}: a choice parameter needs values")
        if self.low is not None or self.high is not None or self.log_scale:
            raise ValueError(f"parameter {self.name!r}: a choice parameter has values, not low, "
                             "high or log_scale")
        repeated = sorted({str(v) for v in self.values if self.values.count(v) > 1})
        if repeated:
            raise ValueError(f"parameter {self.name!r}: values must be unique; repeated: "
                             f"{', '.join(repeated)}")
        numbers = all(isinstance(v, int | float) for v in self.values)
        if self.is_ordered is None:  # Ax's default
            self.is_ordered = numbers or len(self.values) == 2
        if self.is_ordered and numbers:
            self.values = sorted(self.values)  # type: ignore[type-var]  # all numbers
        return self

    def parameter(self) -> Parameter:
        if self.value_type == "choice":
            assert self.values is not None
            return Parameter.choice(self.name, self.values, ordered=bool(self.is_ordered))
        assert self.low is not None and self.high is not None
        return Parameter(self.name, self.low, self.high, integer=self.value_type == "int",
                         log_scale=self.log_scale)


class ObjectiveSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    sense: Literal["minimize", "maximize"] = "maximize"


class ConstraintSpec(BaseModel):
    """An outcome constraint the user measures and tells. ``{"name": "memory", "op":
    "<=", "bound": 16}``, or as Ax writes it, ``"memory <= 16"``: the point is feasible
    where the value told holds the bound. A bare name (``"memory_left"``) is a slack,
    feasible iff ``>= 0``. A linear combination of measured values, ``"a + 2*b <= 10"``
    (Ax's scalarised outcome constraint), is ``{"terms": {"a": 1, "b": 2}, "op": "<=",
    "bound": 10}``, named by its sum (``"a + 2*b"``): ``a`` and ``b`` are told, and the
    constraint's value is their sum. One value with a coefficient (``"2*a <= 10"``, ``"10
    >= a"``) is read as that value's own bound (``a <= 5``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=1000, description=(
        "the measured value's name; a scalarised constraint's is its sum ('a + 2*b'), "
        "filled in where left out"))
    op: Literal["<=", ">="] = Field(">=", description="the value told must be <= or >= bound")
    bound: Finite = 0.0
    terms: dict[Name, Finite] | None = Field(
        None, min_length=2, max_length=20, exclude_if=lambda terms: terms is None,
        description="a scalarised constraint: the coefficient of each measured value in "
                    "the sum that must hold the bound")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        return _outcome_constraint(data) if isinstance(data, str) else data

    @model_validator(mode="after")
    def _named_by_its_sum(self) -> ConstraintSpec:
        if self.terms is not None and not self.name:
            self.name = _sum_text(self.terms)
        if self.terms is None:
            if not self.name:
                raise ValueError("an outcome constraint needs a name (of the value told), or "
                                 "terms (a scalarised constraint's measured values)")
            if not re.fullmatch(NAME_PATTERN, self.name) or len(self.name) > 100:
                raise ValueError(f"name {self.name!r}: a measured value's name is up to 100 "
                                 "letters, digits, _ . and -, starting with a letter or _")
        elif 0.0 in self.terms.values():
            raise ValueError(f"{self.name!r}: a term with coefficient 0 counts nothing; "
                             "leave it out")
        elif self.name != _sum_text(self.terms):
            raise ValueError(f"a scalarised constraint is named by its sum, "
                             f"{_sum_text(self.terms)!r}; got name {self.name!r}")
        return self

    def bound_of(self) -> OutcomeBound:
        return OutcomeBound(self.op, self.bound, tuple((self.terms or {}).items()))

    @property
    def metrics(self) -> list[str]:
        """The values told for this constraint."""
        return list(self.terms) if self.terms else [self.name]


def _sum_text(terms: dict[str, float]) -> str:
    """``{"a": 1, "b": -0.5}`` as ``"a - 0.5*b"``."""
    text = ""
    for name, c in terms.items():
        size = "" if abs(c) == 1 else f"{abs(c):g}*"
        sign = ("-" if c < 0 else "") if not text else (" - " if c < 0 else " + ")
        text += f"{sign}{size}{name}"
    return text


def _outcome_constraint(text: str) -> dict[str, Any]:
    """``"memory <= 16"`` as ``{"name": "memory", "op": "<=", "bound": 16.0}``, ``"a +
    2*b <= 10"`` as ``{"terms": {"a": 1.0, "b": 2.0}, "op": "<=", "bound": 10.0}``, a bare
    name as a slack; ``ValueError`` saying what is allowed for anything else."""
    shapes = ("write an outcome constraint as 'name <= bound', 'name >= bound', a sum of "
              "measured values 'a + 2*b <= bound', or a bare name")
    if re.fullmatch(rf"\s*{NAME_PATTERN}\s*", text):
        return {"name": text.strip()}
    relations = re.findall(r"[<>=!]+", text)
    if len(relations) != 1:
        raise ValueError(f"{shapes}; got {text!r}")
    if relations[0] in {"<", ">"}:
        raise ValueError(f"{text!r}: a strict inequality cannot be told apart from its bound; "
                         "use <= or >=")
    if relations[0] not in {"<=", ">="}:
        raise ValueError(f"{text!r}: {relations[0]!r} is not a bound; use <= or >= (an "
                         "equality is met by almost no measurement)")
    if "%" in text or re.search(r"\bbaseline\b", text):
        raise ValueError(f"{text!r}: a bound relative to a baseline is not supported; give it "
                         "in the outcome's own units")
    try:
        terms, op, bound = parameter_constraints.inequality(text, what="measured value")
    except ValueError as exc:
        raise ValueError(f"{exc}; {shapes}") from None
    if len(terms) > 1:
        return {"terms": terms, "op": op, "bound": bound}
    [(name, c)] = terms.items()
    flipped = {"<=": ">=", ">=": "<="}[op] if c < 0 else op
    return {"name": name, "op": flipped, "bound": bound / c}


class ExternalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parameters: list[ParameterSpec] = Field(min_length=1, max_length=100)
    objectives: list[ObjectiveSpec] = Field(min_length=1, max_length=10)
    constraints: list[ConstraintSpec] = Field(
        default_factory=list, max_length=20,
        description="outcome constraints, told with each result: as Ax writes them, "
                    "'memory <= 16', or {name, op, bound}; a bare name is a slack, met when "
                    ">= 0")
    parameter_constraints: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        default_factory=list, max_length=50,
        description="linear constraints on float and int parameters (not log-scale), as Ax "
                    "writes them: 'x1 + 2*x2 <= 10', 'warmup <= steps'; every suggestion "
                    "satisfies them",
    )
    suggestion_ttl_seconds: float = Field(
        3600.0, gt=0, le=30 * 24 * 3600,
        description="seconds a suggestion stays pending (conditioned on) before it expires",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> ExternalConfig:
        for field in ("parameters", "objectives", "constraints"):
            names = [item.name for item in getattr(self, field)]
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise ValueError(f"{field}: names must be unique; repeated: {', '.join(repeated)}")
        return self

    @field_validator("constraints")
    @classmethod
    def _not_objectives(cls, constraints: list[ConstraintSpec],
                        info: ValidationInfo) -> list[ConstraintSpec]:
        objectives = {o.name for o in info.data.get("objectives") or []}
        shared = [m for c in constraints for m in c.metrics if m in objectives]
        if shared:
            raise ValueError(f"{shared[0]} is an objective; an outcome constraint is on another "
                             "measured value (an objective's least acceptable value is the "
                             "campaign's reference_point)")
        return constraints

    @field_validator("parameter_constraints")
    @classmethod
    def _usable(cls, texts: list[str], info: ValidationInfo) -> list[str]:
        specs = info.data.get("parameters")  # absent where the parameters were refused
        if specs is None:
            return texts
        parameters = tuple(p.parameter() for p in specs)
        parsed = _linear_constraints(parameters, texts)
        if parsed:
            share = _feasible_share(parameters, parsed)
            if share < parameter_constraints.MIN_FEASIBLE_SHARE:
                raise ValueError(
                    f"together they leave {share:.3%} of the box, under the "
                    f"{parameter_constraints.MIN_FEASIBLE_SHARE:.2%} a design can be drawn "
                    "from; narrow the parameters' bounds to the region they allow")
        return texts

    def linear_constraints(self) -> tuple[LinearConstraint, ...]:
        return _linear_constraints(tuple(p.parameter() for p in self.parameters),
                                   self.parameter_constraints)


@functools.lru_cache(maxsize=256)  # a stored spec is validated again on every ask and tell
def _feasible_share(parameters: tuple[Parameter, ...],
                    constraints: tuple[LinearConstraint, ...]) -> float:
    return parameter_constraints.feasible_share(parameters, constraints)


def _linear_constraints(parameters: tuple[Parameter, ...],
                        texts: list[str]) -> tuple[LinearConstraint, ...]:
    """The parameter constraints parsed; ``ValueError`` naming the first that cannot be
    read or satisfied."""
    parsed = []
    for index, text in enumerate(texts):
        try:
            parsed.append(parameter_constraints.parse(text, parameters))
        except ValueError as exc:
            raise ValueError(f"constraint {index}, {exc}") from None
    return tuple(parsed)


class ExternalDefinition:
    id = "external"
    summary = "A black box you evaluate yourself, driven by ask/tell over HTTP"
    config = ExternalConfig

    def info(self, config: ExternalConfig) -> ProblemInfo:
        return ProblemInfo(
            kind="external",
            id=self.id,
            objectives=tuple(Objective(o.name, o.sense) for o in config.objectives),
            parameters=tuple(p.parameter() for p in config.parameters),
            constraints=len(config.constraints),
            constraint_names=tuple(c.name for c in config.constraints),
            constraint_bounds=tuple(c.bound_of() for c in config.constraints),
            parameter_constraints=config.linear_constraints(),
        )

    def build(self, config: ExternalConfig) -> None:
        raise TypeError("an external problem is evaluated by its user through ask/tell; "
                        "it does not run on a worker")


def catalogue() -> dict[str, ExternalDefinition]:
    return {ExternalDefinition.id: ExternalDefinition()}
