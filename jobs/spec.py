"""The campaign spec, and its validation at submit time.

A spec is checked twice: its shape by pydantic (:class:`CampaignSpec`), then its
meaning against the registry (:func:`resolve`): the algorithm and problem exist, the
algorithm runs on that kind of problem with that budget unit, the parameters are the
algorithm's and the problem's own, the reference point has one finite value per
objective. Every error names the field (``loc``) and what is allowed, in the same
shape as FastAPI's validation errors, so nothing wrong ever reaches a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from jobs import registry
from jobs.protocol import ProblemInfo

MAX_EVALUATIONS = 10_000_000
MAX_ENV_STEPS = 10_000_000_000

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class BudgetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evaluations: int | None = Field(None, gt=0, le=MAX_EVALUATIONS)
    env_steps: int | None = Field(None, gt=0, le=MAX_ENV_STEPS)

    @model_validator(mode="after")
    def _exactly_one(self) -> BudgetSpec:
        given = [unit for unit in ("evaluations", "env_steps") if getattr(self, unit) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one budget unit: 'evaluations' or 'env_steps'")
        return self

    @property
    def unit(self) -> str:
        return "evaluations" if self.evaluations is not None else "env_steps"

    @property
    def amount(self) -> int:
        return int(self.evaluations if self.evaluations is not None else self.env_steps or 0)


class ProblemSpec(BaseModel):
    """``kind`` and ``id`` pick the problem (``id`` may be left out for a kind with a
    single problem, e.g. ``external``); any other key is one of its parameters."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(min_length=1, max_length=64)
    id: str | None = Field(None, min_length=1, max_length=128)

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ResourcesSpec(BaseModel):
    """What one campaign's worker holds while it runs. The ``ray`` executor reserves
    exactly this on the cluster (a fraction of a GPU shares it with other campaigns);
    the ``local`` executor gives a worker that asks for any GPU one whole GPU."""

    model_config = ConfigDict(extra="forbid")

    gpus: float = Field(0, ge=0, le=8, allow_inf_nan=False)
    cpus: float = Field(1, gt=0, le=256, allow_inf_nan=False)

    @model_validator(mode="after")
    def _whole_gpus_above_one(self) -> ResourcesSpec:
        if self.gpus > 1 and not float(self.gpus).is_integer():
            raise ValueError(
                f"gpus: a fraction shares one GPU, so it must be at most 1; above 1 give "
                f"a whole number of GPUs; got {self.gpus:g}"
            )
        return self


class CampaignSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    algorithm: str = Field(min_length=1, max_length=64)
    problem: ProblemSpec
    budget: BudgetSpec
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    reference_point: list[FiniteFloat] | None = Field(None, min_length=1, max_length=64)
    resources: ResourcesSpec = Field(default_factory=lambda: ResourcesSpec.model_validate({}))
    max_attempts: int = Field(3, ge=1, le=10)


class SpecError(ValueError):
    """A spec that cannot run; ``errors`` are FastAPI-style ``{loc, msg, type}`` dicts."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))


@dataclass(frozen=True)
class ResolvedCampaign:
    """A spec checked against the registry, with every default filled in."""

    spec: CampaignSpec
    info: ProblemInfo
    problem_params: dict[str, Any]
    params: dict[str, Any]
    reference_point: list[float] | None
    reference_point_source: str | None
    conventions: dict[str, Any]

    def campaign_row(self) -> dict[str, Any]:
        """The fields of the stored campaign that come from the spec (``storage.
        create_campaign`` keywords); the caller adds status, timestamps and the like."""
        spec, info = self.spec, self.info
        return {
            "name": spec.name or f"{spec.algorithm}-{info.id}",
            "algorithm": spec.algorithm,
            "problem": {"kind": info.kind, "id": info.id, **self.problem_params},
            "spec": spec.model_dump(mode="json", exclude_none=True),
            "params": self.params,
            "n_objectives": info.n_objectives,
            "objective_names": [o.name for o in info.objectives],
            "objective_senses": [o.sense for o in info.objectives],
            "reference_point": self.reference_point,
            "reference_point_source": self.reference_point_source,
            "seed": spec.seed,
            "budget": float(spec.budget.amount),
            "budget_unit": spec.budget.unit,
            "max_attempts": spec.max_attempts,
            "conventions": self.conventions,
        }


def parse(document: dict[str, Any]) -> CampaignSpec:
    try:
        return CampaignSpec.model_validate(document)
    except ValidationError as exc:
        raise SpecError(_pydantic_errors(exc, prefix=(), model=CampaignSpec)) from None


def resolve(spec: CampaignSpec) -> ResolvedCampaign:
    """Check ``spec`` against the registry; raise :class:`SpecError` naming each bad field."""
    try:
        algorithm = registry.algorithm(spec.algorithm)
    except registry.UnknownName as exc:
        raise SpecError([_error(("algorithm",), str(exc))]) from None
    try:
        definition = registry.problem_definition(spec.problem.kind, _problem_id(spec.problem))
    except registry.UnknownName as exc:
        field = "kind" if exc.what == "problem kind" else "id"
        raise SpecError([_error(("problem", field), str(exc))]) from None

    errors: list[dict[str, Any]] = []
    if spec.problem.kind not in algorithm.problem_kinds:
        errors.append(_error(
            ("problem", "kind"),
            f"algorithm {algorithm.name!r} runs on problem kinds "
            f"{', '.join(algorithm.problem_kinds)}; got {spec.problem.kind!r}",
        ))
    if spec.budget.unit not in algorithm.budget_units:
        errors.append(_error(
            ("budget", spec.budget.unit),
            f"algorithm {algorithm.name!r} takes a budget in "
            f"{' or '.join(algorithm.budget_units)}; got {spec.budget.unit!r}",
        ))
    try:
        problem_config = definition.config.model_validate(spec.problem.parameters)
    except ValidationError as exc:
        errors.extend(_pydantic_errors(exc, prefix=("problem",), model=definition.config))
        problem_config = None
    config_model = algorithm.config_model()
    try:
        params = config_model.model_validate(spec.params).model_dump(mode="json")
    except ValidationError as exc:
        errors.extend(_pydantic_errors(exc, prefix=("params",), model=config_model))
        params = {}
    if errors or problem_config is None:
        raise SpecError(errors)

    info = definition.info(problem_config)
    if params.get("key_solutions") == "known" and not info.has_known_front:
        raise SpecError([_error(
            ("params", "key_solutions"),
            f"key_solutions 'known' needs a problem with a known Pareto front; {info.id!r} "
            "has none: use 'learned'",
        )])
    for name, value in info.parameter_defaults.items():
        if name in params and params[name] is None:
            params[name] = value
    reference_point, source = _reference_point(spec, info)
    return ResolvedCampaign(
        spec=spec,
        info=info,
        problem_params=problem_config.model_dump(mode="json"),
        params=params,
        reference_point=reference_point,
        reference_point_source=source,
        conventions=_conventions(params, reference_point, source),
    )


def _conventions(params: dict[str, Any], reference_point: list[float] | None,
                 source: str | None) -> dict[str, Any]:
    """How a policy campaign's numbers are measured, stated once on the campaign: the
    discount of its return vectors, episodes per evaluation, and the reference point."""
    if "eval_gamma" not in params:
        return {}
    return {
        "eval_gamma": params["eval_gamma"],
        "discounted": params["eval_gamma"] < 1.0,
        "eval_episodes": params.get("eval_episodes"),
        "reference_point": reference_point,
        "reference_point_source": source,
    }


def _problem_id(problem: ProblemSpec) -> str:
    if problem.id is not None:
        return problem.id
    known = list(registry.problem_kind(problem.kind).definitions())
    if len(known) == 1:
        return known[0]
    raise SpecError([_error(("problem", "id"),
                            f"give the problem id; known: {', '.join(sorted(known))}")])


def validate(document: dict[str, Any]) -> ResolvedCampaign:
    return resolve(parse(document))


def _reference_point(spec: CampaignSpec, info: ProblemInfo) -> tuple[list[float] | None, str | None]:
    if spec.reference_point is not None:
        if len(spec.reference_point) != info.n_objectives:
            raise SpecError([_error(
                ("reference_point",),
                f"reference_point has {len(spec.reference_point)} values; problem "
                f"{info.id!r} has {info.n_objectives} objectives "
                f"({', '.join(o.name for o in info.objectives)})",
            )])
        return list(spec.reference_point), "user"
    if info.reference_point is not None:
        return list(info.reference_point), "published"
    return None, None


def _error(loc: tuple[Any, ...], message: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": message, "type": "value_error"}


def _pydantic_errors(
    exc: ValidationError, prefix: tuple[Any, ...], model: type[BaseModel]
) -> list[dict[str, Any]]:
    return [
        {"loc": [*prefix, *error["loc"]], "msg": explain(dict(error), model), "type": error["type"]}
        for error in exc.errors(include_url=False, include_context=False)
    ]


def explain(error: dict[str, Any], model: type[BaseModel] = CampaignSpec) -> str:
    """A pydantic error's message, with the allowed names added to 'unknown field'."""
    if error["type"] != "extra_forbidden":
        return str(error["msg"])
    loc = tuple(error["loc"])
    message = f"unknown field {loc[-1]!r}"
    allowed = _allowed_fields(model, loc[:-1])
    return f"{message}; allowed: {', '.join(allowed)}" if allowed else message


def _allowed_fields(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """The field names of the (nested) model at ``path``, for 'unknown field' messages."""
    for part in path:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)
