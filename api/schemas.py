"""Response schemas of the REST API, kept apart from the ORM models in ``storage``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from pydantic import BaseModel

from api.known_fronts import has_known_front

Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class ObjectiveOut(BaseModel):
    name: str
    sense: Literal["minimize", "maximize"]


class BudgetOut(BaseModel):
    unit: str
    amount: float
    used: float


class CampaignOut(BaseModel):
    id: int
    name: str | None
    algorithm: str
    problem: dict[str, Any]
    params: dict[str, Any]
    seed: int
    status: Status
    progress: float
    budget: BudgetOut
    message: str | None
    error: str | None
    objectives: list[ObjectiveOut]
    reference_point: list[float] | None
    reference_point_source: str | None
    conventions: dict[str, Any]
    known_front: bool  # GET /campaigns/{id}/known-front answers
    n_evaluations: int
    front_size: int
    hypervolume: float | None
    attempts: int
    max_attempts: int
    runs_on: Literal["worker", "client"]
    worker: str | None
    device: str | None
    code_version: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, campaign: Any) -> CampaignOut:
        return cls(
            id=campaign.id,
            name=campaign.name,
            algorithm=campaign.algorithm,
            problem=campaign.problem,
            params=campaign.params,
            seed=campaign.seed,
            status=campaign.status,
            progress=campaign.progress,
            budget=BudgetOut(
                unit=campaign.budget_unit, amount=campaign.budget, used=campaign.budget_used
            ),
            message=campaign.message,
            error=campaign.error,
            objectives=[
                ObjectiveOut(name=name, sense=sense)
                for name, sense in zip(campaign.objective_names, campaign.objective_senses)
            ],
            reference_point=campaign.reference_point,
            reference_point_source=campaign.reference_point_source,
            conventions=campaign.conventions or {},
            known_front=has_known_front(campaign.problem),
            n_evaluations=campaign.n_evaluations,
            front_size=campaign.front_size,
            hypervolume=campaign.hypervolume,
            attempts=campaign.attempts,
            max_attempts=campaign.max_attempts,
            runs_on=campaign.runs_on,
            worker=campaign.worker,
            device=campaign.device,
            code_version=campaign.code_version,
            created_at=campaign.created_at,
            started_at=campaign.started_at,
            finished_at=campaign.finished_at,
        )


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    total: int


class EvaluationOut(BaseModel):
    id: int
    campaign_id: int
    seq: int
    kind: str
    objectives: list[float]
    params: dict[str, Any]
    meta: dict[str, Any]
    constraints: list[float] | None
    feasible: bool
    budget_used: float
    on_front: bool
    artifact_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, evaluation: Any) -> EvaluationOut:
        return cls(
            id=evaluation.id,
            campaign_id=evaluation.campaign_id,
            seq=evaluation.seq,
            kind=evaluation.kind,
            objectives=evaluation.objectives,
            params=evaluation.params,
            meta=evaluation.meta or {},
            constraints=evaluation.constraints,
            feasible=evaluation.feasible,
            budget_used=evaluation.budget_used,
            on_front=evaluation.on_front,
            artifact_id=evaluation.artifact_id,
            created_at=evaluation.created_at,
        )


class EvaluationPage(BaseModel):
    items: list[EvaluationOut]
    total: int


class FrontPoint(BaseModel):
    evaluation_id: int
    seq: int
    objectives: list[float]
    params: dict[str, Any]
    # with ?contributions=true: the HV lost without this point's objective vector
    hv_contribution: float | None = None
    # the objectives' standard errors, where the result was told with some (ask/tell)
    sem: list[float | None] | None = None
    # with ?denoised=true: the model's posterior means, by which the point was picked
    predicted: list[float] | None = None
    # with ?denoised=true on a campaign with noisy constraints: the predicted slacks its
    # feasibility was judged by (null for a constraint judged on its measurement)
    predicted_slacks: list[float | None] | None = None


class FrontOut(BaseModel):
    campaign_id: int
    objectives: list[ObjectiveOut]
    points: list[FrontPoint]
    # with ?contributions=true: the reference point the contributions are measured under
    reference_point: list[float] | None = None
    # with ?contributions=true: why they were not computed, when they were not
    contributions_note: str | None = None
    # with ?denoised=true: the points are the front of the model's predictions
    denoised: bool = False


class OutcomeImportanceOut(BaseModel):
    name: str
    kind: str  # objective | constraint
    sense: str | None  # an objective's
    # Var of the GP's posterior mean over the box; the indices are shares of it
    variance: float
    # one per parameter, in `parameters` order; null where the mean is flat (variance 0)
    first_order: list[float] | None
    total: list[float] | None
    first_order_se: list[float] | None
    total_se: list[float] | None
    # the GP's leave-one-out R^2 (GET /model-fit): near 1, the indices describe the outcome
    fit_r2: float | None
    # with parameter constraints only (else null): Var of the mean over the region they
    # leave, and each parameter's Shapley effect there (shares summing to 1; null if flat)
    constrained_variance: float | None = None
    shapley: list[float] | None = None
    shapley_se: list[float] | None = None


class ImportanceOut(BaseModel):
    campaign_id: int
    n_evaluations: int
    parameters: list[str]
    outcomes: list[OutcomeImportanceOut]
    method: str
    note: str | None = None


class FitPoint(BaseModel):
    evaluation_id: int
    seq: int
    observed: float
    # predicted from every other evaluation, with the sd of a new measurement there
    predicted: float
    sd: float


class OutcomeFitOut(BaseModel):
    name: str
    kind: str  # objective | constraint
    sense: str | None
    r2: float | None  # null: under 3 evaluations, or all measured the same
    rank_correlation: float | None
    coverage: float  # share of measurements inside predicted +- 1.96 sd (calibrated: 0.95)
    points: list[FitPoint]


class ModelFitOut(BaseModel):
    campaign_id: int
    n_evaluations: int
    outcomes: list[OutcomeFitOut]
    method: str


class OutcomeSliceOut(BaseModel):
    name: str
    kind: str  # objective | constraint
    sense: str | None
    mean: list[float]  # one per value of the parameter
    sd: list[float]


class ModelSliceOut(BaseModel):
    campaign_id: int
    parameter: str
    values: list[float | int | str]  # the parameter's grid, in its own units (a choice's values)
    # whether each value keeps the parameter constraints, the others held (all true without any)
    inside: list[bool]
    at_evaluation_id: int  # the other parameters are held at this evaluation's values
    at_params: dict[str, Any]
    outcomes: list[OutcomeSliceOut]
    method: str


class OutcomeContourOut(BaseModel):
    name: str
    kind: str  # objective | constraint
    sense: str | None
    mean: list[list[float]]  # one row per y value, one column per x value
    sd: list[list[float]]


class ModelContourOut(BaseModel):
    campaign_id: int
    x: str
    y: str
    x_values: list[float | int | str]
    y_values: list[float | int | str]
    inside: list[list[bool]]  # whether each (x, y) keeps the parameter constraints
    at_evaluation_id: int
    at_params: dict[str, Any]
    outcomes: list[OutcomeContourOut]
    method: str


class HypervolumeOut(BaseModel):
    campaign_id: int
    hypervolume: float
    reference_point: list[float] | None
    reference_point_source: str | None
    objectives: list[ObjectiveOut]
    front_size: int
    # front evaluations strictly dominating the reference point: those the HV measures
    front_points_counted: int


class HistoryPoint(BaseModel):
    seq: int
    n_evaluations: int
    budget_used: float
    hypervolume: float | None
    front_size: int
    wall_seconds: float | None
    extras: dict[str, Any]


class HistoryOut(BaseModel):
    campaign_id: int
    budget_unit: str
    reference_point: list[float] | None
    reference_point_source: str | None
    points: list[HistoryPoint]


class CompareHistoryPoint(BaseModel):
    """One point of a campaign's HV curve recomputed under the comparison's common
    reference point: the front of its first ``n_evaluations`` evaluations."""

    seq: int
    n_evaluations: int
    budget_used: float
    hypervolume: float
    front_size: int


class CompareEntry(BaseModel):
    campaign_id: int
    name: str | None
    algorithm: str
    status: Status
    hypervolume: float
    front_size: int
    front_points_counted: int  # front evaluations strictly dominating the reference point
    n_evaluations: int
    budget_used: float
    budget_unit: str | None = None
    history: list[CompareHistoryPoint] | None = None


class CompareOut(BaseModel):
    objectives: list[ObjectiveOut]
    reference_point: list[float]
    reference_point_source: str
    campaigns: list[CompareEntry]


class AttainmentSurfaceOut(BaseModel):
    percentile: float
    runs_needed: int  # of the campaigns, at least this many reach each point below it
    points: list[list[float]]  # the surface's corners, raw units, each objective's sense


class AttainmentOut(BaseModel):
    objectives: list[ObjectiveOut]
    campaign_ids: list[int]
    surfaces: list[AttainmentSurfaceOut]


class SuggestionOut(BaseModel):
    id: int
    params: dict[str, int | float | str]  # ints for int parameters, a choice's own value
    expires_at: datetime


class AskOut(BaseModel):
    campaign_id: int
    suggestions: list[SuggestionOut]
    pending: int
    remaining: int


SuggestionStatus = Literal["pending", "told", "expired", "failed"]


class SuggestionRecord(SuggestionOut):
    """A suggestion as stored: what became of it, and why it failed if it did."""

    status: SuggestionStatus
    created_at: datetime
    evaluation_id: int | None  # the evaluation its result became, once told
    told_at: datetime | None  # when that evaluation was stored
    reason: str | None  # what the user reported when it failed
    failed_at: datetime | None

    @classmethod
    def of(cls, suggestion: Any, status: str, told_at: datetime | None) -> SuggestionRecord:
        return cls(id=suggestion.id, params=suggestion.params, expires_at=suggestion.expires_at,
                   status=cast(SuggestionStatus, status), created_at=suggestion.created_at,
                   evaluation_id=suggestion.evaluation_id, told_at=told_at,
                   reason=suggestion.reason, failed_at=suggestion.failed_at)


class SuggestionPage(BaseModel):
    items: list[SuggestionRecord]
    total: int  # how many match the status asked for
    counts: dict[str, int]  # the campaign's suggestions by status, every status named


class FailOut(BaseModel):
    campaign_id: int
    failed: list[int]  # the suggestions now failed (those failed before included)
    pending: int
    remaining: int  # results the budget still takes beyond the pending suggestions


class ToldEvaluation(BaseModel):
    evaluation_id: int
    seq: int
    suggestion_id: int | None
    on_front: bool


class TellOut(BaseModel):
    campaign_id: int
    status: Status
    evaluations: list[ToldEvaluation]
    n_evaluations: int
    remaining: int


class NormalizationOut(BaseModel):
    """The per-objective range a preference was scored against, in raw units."""

    rule: str
    nadir: list[float]  # the worst value of each objective over the front
    ideal: list[float]  # the best


class BestOut(BaseModel):
    campaign_id: int
    objectives: list[ObjectiveOut]
    preference: list[float]  # as given, scaled to sum 1
    scalarisation: str  # linear | chebyshev: how the preference scored each point
    utility: float
    normalization: NormalizationOut
    front_size: int
    evaluation: EvaluationOut
    artifact_url: str | None
    # For a preference-conditioned policy (PD-MORL's universal network): act with this
    # preference, ``policy.act(obs, act_preference)``; null for one-policy-per-row.
    act_preference: list[float] | None = None
    # The served network's own evaluation at the grid preference nearest
    # ``act_preference``: what to expect of it. Null for one-policy-per-row.
    act_evaluation: EvaluationOut | None = None


class SampledCandidateOut(BaseModel):
    object: Any  # the task's readable object: a sequence string, grid coordinates…
    objectives: list[float]  # its reward vector under the task, in the campaign's order
    preference: list[float] | None  # what it was drawn for; null: sampler not conditioned


class SampleOut(BaseModel):
    campaign_id: int
    algorithm: str
    task: dict[str, Any]  # {"id": ..., "config": {...}}: the task the sampler was trained on
    objectives: list[ObjectiveOut]
    preference: list[float] | None  # as given, scaled to sum 1
    preference_conditioned: bool
    n: int
    seed: int
    evaluation_id: int  # the evaluation whose artifact is the sampler used
    artifact_url: str
    trained: dict[str, Any]  # how far it was trained (steps, rounds, evaluations…)
    candidates: list[SampledCandidateOut]


class KnownFrontOut(BaseModel):
    campaign_id: int
    problem: str
    gamma: float
    objectives: list[ObjectiveOut]
    points: list[list[float]]
    hypervolume: float | None
    reference_point: list[float] | None
    reference_point_source: str | None
    source: str


class ExpectedUtilityOut(BaseModel):
    value: float
    n_weights: int
    weights: str  # how the weight grid was made


class KnownFrontMetricsOut(BaseModel):
    gamma: float
    size: int
    hypervolume: float | None
    hypervolume_ratio: float | None
    igd: float
    igd_plus: float
    maximum_utility_loss: float
    coverage: float
    coverage_tolerance: list[float]
    source: str


class MetricsOut(BaseModel):
    campaign_id: int
    objectives: list[ObjectiveOut]
    sense: str
    front_size: int
    cardinality: int
    reference_point: list[float] | None
    reference_point_source: str | None
    hypervolume: float | None
    sparsity: float
    expected_utility: ExpectedUtilityOut
    conventions: dict[str, Any]
    known_front: KnownFrontMetricsOut | None
