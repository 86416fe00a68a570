"""External problems: a black box only the user can evaluate (a lab experiment, a
simulator on their own cluster), optimised through ask/tell over HTTP.

The spec declares the box and the objectives, e.g.
``{"kind": "external", "parameters": [{"name": "temp", "low": 20, "high": 90}],
"objectives": [{"name": "yield", "sense": "maximize"}]}``. A parameter may be
``"value_type": "int"`` (whole numbers only) and ``"log_scale": true`` (searched on
``log(x)``; needs ``low > 0``), as in Ax's range parameters: ``{"name": "lr", "low":
1e-5, "high": 0.1, "log_scale": true}``, ``{"name": "layers", "low": 1, "high": 8,
"value_type": "int"}``. There is nothing to build on a worker: ``POST
/campaigns/{id}/ask`` suggests points and ``/tell`` stores results.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jobs.protocol import Objective, Parameter, ProblemInfo

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class ParameterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    low: Finite
    high: Finite
    value_type: Literal["float", "int"] = Field(
        "float", description="int: only whole numbers in [low, high] are suggested and told")
    log_scale: bool = Field(
        False, description="search on log(x), for values over orders of magnitude; low > 0")

    @model_validator(mode="after")
    def _ordered(self) -> ParameterSpec:
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


class ObjectiveSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    sense: Literal["minimize", "maximize"] = "maximize"


class ConstraintSpec(BaseModel):
    """An outcome constraint the user measures and tells: feasible iff its value >= 0."""

    model_config = ConfigDict(extra="forbid")

    name: Name


class ExternalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parameters: list[ParameterSpec] = Field(min_length=1, max_length=100)
    objectives: list[ObjectiveSpec] = Field(min_length=1, max_length=10)
    constraints: list[ConstraintSpec] = Field(default_factory=list, max_length=20)
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


class ExternalDefinition:
    id = "external"
    summary = "A black box you evaluate yourself, driven by ask/tell over HTTP"
    config = ExternalConfig

    def info(self, config: ExternalConfig) -> ProblemInfo:
        return ProblemInfo(
            kind="external",
            id=self.id,
            objectives=tuple(Objective(o.name, o.sense) for o in config.objectives),
            parameters=tuple(
                Parameter(p.name, p.low, p.high, integer=p.value_type == "int",
                          log_scale=p.log_scale)
                for p in config.parameters
            ),
            constraints=len(config.constraints),
        )

    def build(self, config: ExternalConfig) -> None:
        raise TypeError("an external problem is evaluated by its user through ask/tell; "
                        "it does not run on a worker")


def catalogue() -> dict[str, ExternalDefinition]:
    return {ExternalDefinition.id: ExternalDefinition()}
