"""What the BO methods' GPs, fitted to every evaluation of a campaign, say about it:

- ``GET /campaigns/{id}/importance``: which parameters matter to each outcome, the Sobol
  indices of the GPs' posterior means (:mod:`bayesopt.sensitivity`) and, under parameter
  constraints, their Shapley effects inside them (:mod:`bayesopt.shapley`);
- ``GET /campaigns/{id}/model-fit``: how well they predict what was measured,
  leave-one-out cross-validation (:mod:`bayesopt.diagnostics`);
- ``GET /campaigns/{id}/model-slice`` and ``/model-contour``: what they predict along one
  parameter, or over two, through one evaluation.

All four are loaded through the registry, so the API starts without torch, and are
computed on each request, not stored, since evaluations keep arriving. The fit takes
about 4 s an outcome at 500 evaluations and well under a second at 50.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from api.deps import MAX_ID, CampaignDep, SessionDep
from api.observations import observations, points, problem_info
from api.routes.fronts import MAX_DENOISED_EVALUATIONS
from api.schemas import (
    FitPoint,
    ImportanceOut,
    ModelContourOut,
    ModelFitOut,
    ModelSliceOut,
    OutcomeContourOut,
    OutcomeFitOut,
    OutcomeImportanceOut,
    OutcomeSliceOut,
)
from jobs import registry
from jobs.protocol import ProblemInfo
from storage import all_evaluations

IMPORTANCE_METHOD = (
    "Sobol indices of the GP posterior mean (the BO methods' model, fitted to every "
    "evaluation) over the parameters' box, each parameter uniform in its search "
    "coordinates (log scale, whole numbers, choices); first order: Saltelli (2010), "
    "the share of the variance the parameter explains alone; total: Jansen (1999), the "
    "share it takes part in, interactions included; *_se: the Monte Carlo standard "
    "error of each estimate"
)
SHAPLEY_METHOD = (
    "; shapley (under parameter constraints): the Shapley effects of the same mean over "
    "the region the constraints leave, each parameter uniform there (Owen 2014; Song, "
    "Nelson & Staum 2016's random permutations): each parameter's share of the variance "
    "there, interactions and dependence split among the parameters, the shares summing to 1"
)
MIN_EVALUATIONS = 2
FIT_METHOD = (
    "leave-one-out cross-validation of the GP of each outcome (the BO methods' model, "
    "fitted to every evaluation, its hyperparameters kept): each evaluation predicted from "
    "all the others, with the standard deviation of a new measurement there; r2: "
    "1 - SSE / SST of those predictions; rank_correlation: Spearman's; coverage: the "
    "share of measurements inside the predicted 95% interval"
)

router = APIRouter(tags=["model"])


@router.get("/campaigns/{campaign_id}/importance", response_model=ImportanceOut)
def campaign_importance(campaign: CampaignDep, session: SessionDep) -> ImportanceOut:
    """How much each parameter matters to each objective and outcome constraint."""
    info, evaluated = _modelled(campaign, session, "importance")
    outcomes = registry.surrogate("importance")(info, observations(info, evaluated))
    return ImportanceOut(
        campaign_id=campaign.id,
        n_evaluations=len(evaluated),
        parameters=[p.name for p in info.parameters],
        outcomes=[OutcomeImportanceOut(
            name=o.name, kind=o.kind, sense=_sense(campaign, j, o.kind),
            variance=o.variance, first_order=o.first_order, total=o.total,
            first_order_se=o.first_order_se, total_se=o.total_se, fit_r2=o.fit_r2,
            constrained_variance=o.constrained_variance, shapley=o.shapley,
            shapley_se=o.shapley_se)
            for j, o in enumerate(outcomes)],
        method=IMPORTANCE_METHOD + (SHAPLEY_METHOD if info.parameter_constraints else ""),
        note=("the Sobol indices are measured on the whole box, since they need independent "
              "parameters; the Shapley effects, inside the parameter constraints")
        if info.parameter_constraints else None,
    )


@router.get("/campaigns/{campaign_id}/model-fit", response_model=ModelFitOut)
def campaign_model_fit(campaign: CampaignDep, session: SessionDep) -> ModelFitOut:
    """How well the GPs predict each evaluation from the others."""
    info, evaluated = _modelled(campaign, session, "a model fit")
    fits = registry.surrogate("model-fit")(info, observations(info, evaluated))
    return ModelFitOut(
        campaign_id=campaign.id,
        n_evaluations=len(evaluated),
        outcomes=[OutcomeFitOut(
            name=fit.name, kind=fit.kind, sense=_sense(campaign, j, fit.kind),
            r2=fit.loo.r2, rank_correlation=fit.loo.rank_correlation,
            coverage=fit.loo.coverage,
            points=[FitPoint(evaluation_id=e.id, seq=e.seq, observed=observed,
                             predicted=predicted, sd=sd)
                    for e, observed, predicted, sd in zip(
                        evaluated, fit.observed, fit.loo.predicted, fit.loo.sd, strict=True)])
            for j, fit in enumerate(fits)],
        method=FIT_METHOD,
    )


SLICE_METHOD = (
    "the GP of each outcome (the BO methods' model, fitted to every evaluation) along one "
    "parameter, the others held at one evaluation's values: posterior mean and standard "
    "deviation of the function (measurement noise not included)"
)


AtQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description=(
    "the evaluation whose values hold the other parameters; default: the earliest on the "
    "front (else the first)"))]


@router.get("/campaigns/{campaign_id}/model-slice", response_model=ModelSliceOut)
def campaign_model_slice(
    campaign: CampaignDep,
    session: SessionDep,
    parameter: Annotated[str, Query(max_length=100, description="the parameter varied")],
    at: AtQuery = None,
    n_points: Annotated[int, Query(alias="points", ge=2, le=500, description=(
        "grid size of a float parameter (an integer's every value up to this many; a "
        "choice's every value)"))] = 100,
) -> ModelSliceOut:
    """What the GPs predict along one parameter, through one evaluation."""
    info, evaluated = _modelled(campaign, session, "a model slice")
    index = _parameter_index(info, parameter, "parameter", campaign)
    through, held = _held(info, evaluated, at, campaign)
    grid, slices = registry.surrogate("model-slice")(
        info, observations(info, evaluated), index, held, n_points)
    return ModelSliceOut(
        campaign_id=campaign.id, parameter=parameter,
        values=[info.parameters[index].cast(v) for v in grid],
        inside=[_inside(info, held, {index: v}) for v in grid],
        at_evaluation_id=through.id, at_params=through.params,
        outcomes=[OutcomeSliceOut(name=o.name, kind=o.kind, sense=_sense(campaign, j, o.kind),
                                  mean=o.mean, sd=o.sd) for j, o in enumerate(slices)],
        method=SLICE_METHOD,
    )


CONTOUR_METHOD = (
    "the GP of each outcome (the BO methods' model, fitted to every evaluation) over two "
    "parameters, the others held at one evaluation's values: posterior mean and standard "
    "deviation of the function (measurement noise not included), row by row (y the row, "
    "x the column)"
)


@router.get("/campaigns/{campaign_id}/model-contour", response_model=ModelContourOut)
def campaign_model_contour(
    campaign: CampaignDep,
    session: SessionDep,
    x: Annotated[str, Query(max_length=100, description="the parameter across")],
    y: Annotated[str, Query(max_length=100, description="the parameter up")],
    at: AtQuery = None,
    n_points: Annotated[int, Query(alias="points", ge=2, le=100, description=(
        "grid size of each float parameter (an integer's every value up to this many; a "
        "choice's every value)"))] = 30,
) -> ModelContourOut:
    """What the GPs predict over two parameters, through one evaluation (Ax's contour)."""
    info, evaluated = _modelled(campaign, session, "a model contour")
    i, j = _parameter_index(info, x, "x", campaign), _parameter_index(info, y, "y", campaign)
    if i == j:
        raise _query_error("y", f"x and y are both {x!r}; a contour needs two parameters")
    through, held = _held(info, evaluated, at, campaign)
    xs, ys, surfaces = registry.surrogate("model-contour")(
        info, observations(info, evaluated), i, j, held, n_points)

    def rows(values: list[float]) -> list[list[float]]:
        return [values[k * len(xs):(k + 1) * len(xs)] for k in range(len(ys))]

    return ModelContourOut(
        campaign_id=campaign.id, x=x, y=y,
        x_values=[info.parameters[i].cast(v) for v in xs],
        y_values=[info.parameters[j].cast(v) for v in ys],
        inside=[[_inside(info, held, {i: u, j: v}) for u in xs] for v in ys],
        at_evaluation_id=through.id, at_params=through.params,
        outcomes=[OutcomeContourOut(name=o.name, kind=o.kind, sense=_sense(campaign, k, o.kind),
                                    mean=rows(o.mean), sd=rows(o.sd))
                  for k, o in enumerate(surfaces)],
        method=CONTOUR_METHOD,
    )


def _parameter_index(info: ProblemInfo, name: str, field: str, campaign: Any) -> int:
    names = [p.name for p in info.parameters]
    if name not in names:
        raise _query_error(field, f"{name!r} is not a parameter of campaign {campaign.id}; "
                                  f"its parameters: {', '.join(names)}")
    return names.index(name)


def _held(info: ProblemInfo, evaluated: list[Any], at: int | None,
          campaign: Any) -> tuple[Any, Any]:
    """The evaluation the other parameters are held at, and its values as numbers."""
    through = _through(evaluated, at)
    if through is None:
        raise _query_error("at", f"evaluation {at} is not an evaluation of campaign "
                                 f"{campaign.id}")
    return through, points(info, [through])[0]


def _inside(info: ProblemInfo, held: Any, changed: dict[int, float]) -> bool:
    """Whether the point ``held`` with the values ``changed`` keeps the parameter
    constraints."""
    point = [changed.get(k, value) for k, value in enumerate(held)]
    return all(c.holds(point, info.parameters) for c in info.parameter_constraints)


def _through(evaluated: list[Any], at: int | None) -> Any:
    """The evaluation ``at``, or by default the earliest on the front (else the first);
    None if ``at`` is not among ``evaluated``."""
    if at is not None:
        return next((e for e in evaluated if e.id == at), None)
    return next((e for e in evaluated if e.on_front), evaluated[0])


def _query_error(field: str, message: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["query", field], "msg": message,
                                "type": "value_error"}])


def _modelled(campaign: Any, session: Any, what: str) -> tuple[ProblemInfo, list[Any]]:
    """The campaign's problem and evaluations, or a 422 saying why no model is fitted."""
    info = problem_info(campaign)
    if not info.parameters:
        raise _unavailable(
            f"campaign {campaign.id}'s problem ({info.kind} {info.id}) has no decision "
            f"parameters: {what} is for test functions and external problems")
    if campaign.n_evaluations < MIN_EVALUATIONS:
        raise _unavailable(
            f"campaign {campaign.id} has {campaign.n_evaluations} evaluations; {what} "
            f"needs at least {MIN_EVALUATIONS} to fit a model to")
    if campaign.n_evaluations > MAX_DENOISED_EVALUATIONS:
        raise _unavailable(
            f"campaign {campaign.id} has {campaign.n_evaluations} evaluations; {what} "
            f"fits a GP to at most {MAX_DENOISED_EVALUATIONS}")
    return info, all_evaluations(session, campaign.id)


def _sense(campaign: Any, index: int, kind: str) -> str | None:
    """Outcome ``index``'s sense: an objective's (the objectives come first), else None."""
    return campaign.objective_senses[index] if kind == "objective" else None


def _unavailable(message: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["path", "campaign_id"], "msg": message,
                                "type": "value_error"}])
