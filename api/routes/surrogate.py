"""What the BO methods' GPs, fitted to every evaluation of a campaign, say about it:
which parameters matter to each outcome (``GET /campaigns/{id}/importance``: the Sobol
indices of their posterior means, :mod:`bayesopt.sensitivity`) and how well they
predict what was measured (``GET /campaigns/{id}/model-fit``: leave-one-out
cross-validation, :mod:`bayesopt.diagnostics`). Both are loaded through the registry, so
the API starts without torch, and computed on each request (the fit takes about 4 s an
outcome at 500 evaluations, well under a second at 50), not stored: evaluations keep
arriving.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from api.deps import CampaignDep, SessionDep
from api.observations import observations, problem_info
from api.routes.fronts import MAX_DENOISED_EVALUATIONS
from api.schemas import (
    FitPoint,
    ImportanceOut,
    ModelFitOut,
    OutcomeFitOut,
    OutcomeImportanceOut,
)
from jobs import registry
from jobs.protocol import ProblemInfo
from storage import all_evaluations

METHOD = (
    "Sobol indices of the GP posterior mean (the BO methods' model, fitted to every "
    "evaluation) over the parameters' box, each parameter uniform in its search "
    "coordinates (log scale, whole numbers, choices); first order: Saltelli (2010), "
    "the share of the variance the parameter explains alone; total: Jansen (1999), the "
    "share it takes part in, interactions included; *_se: the Monte Carlo standard "
    "error of each estimate"
)
MIN_EVALUATIONS = 2

router = APIRouter(tags=["fronts"])


FIT_METHOD = (
    "leave-one-out cross-validation of the GP of each outcome (the BO methods' model, "
    "fitted to every evaluation, its hyperparameters kept): each evaluation predicted from "
    "all the others, with the standard deviation of a new measurement there; r2: "
    "1 - SSE / SST of those predictions; rank_correlation: Spearman's; coverage: the "
    "share of measurements inside the predicted 95% interval"
)


@router.get("/campaigns/{campaign_id}/importance", response_model=ImportanceOut)
def campaign_importance(campaign: CampaignDep, session: SessionDep) -> ImportanceOut:
    """How much each parameter matters to each objective and outcome constraint."""
    info, evaluated = _modelled(campaign, session, "importance")
    outcomes = registry.importance()(info, observations(info, evaluated))
    return ImportanceOut(
        campaign_id=campaign.id,
        n_evaluations=len(evaluated),
        parameters=[p.name for p in info.parameters],
        outcomes=[OutcomeImportanceOut(
            name=o.name, kind=o.kind, sense=_sense(campaign, j, o.kind),
            variance=o.variance, first_order=o.first_order, total=o.total,
            first_order_se=o.first_order_se, total_se=o.total_se, fit_r2=o.fit_r2)
            for j, o in enumerate(outcomes)],
        method=METHOD,
        note=("measured on the whole box: Sobol indices need independent parameters, so "
              "the parameter constraints are not applied") if info.parameter_constraints
        else None,
    )


@router.get("/campaigns/{campaign_id}/model-fit", response_model=ModelFitOut)
def campaign_model_fit(campaign: CampaignDep, session: SessionDep) -> ModelFitOut:
    """How well the GPs predict each evaluation from the others."""
    info, evaluated = _modelled(campaign, session, "a model fit")
    fits = registry.model_fit()(info, observations(info, evaluated))
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
