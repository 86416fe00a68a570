"""Which parameters matter to each outcome: ``GET /campaigns/{id}/importance``.

The BO methods' GPs, fitted to every evaluation of the campaign, and the Sobol indices
of their posterior means over the parameters' box (:mod:`bayesopt.sensitivity`, loaded
through the registry so the API starts without torch). Computed on each request (a few
seconds at hundreds of evaluations), not stored: evaluations keep arriving.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from api.deps import CampaignDep, SessionDep
from api.observations import observations, problem_info
from api.routes.fronts import MAX_DENOISED_EVALUATIONS
from api.schemas import ImportanceOut, OutcomeImportanceOut
from jobs import registry
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


@router.get("/campaigns/{campaign_id}/importance", response_model=ImportanceOut)
def campaign_importance(campaign: CampaignDep, session: SessionDep) -> ImportanceOut:
    """How much each parameter matters to each objective and outcome constraint."""
    info = problem_info(campaign)
    if not info.parameters:
        raise _unavailable(
            f"campaign {campaign.id}'s problem ({info.kind} {info.id}) has no decision "
            "parameters: importance is for test functions and external problems")
    if campaign.n_evaluations < MIN_EVALUATIONS:
        raise _unavailable(
            f"campaign {campaign.id} has {campaign.n_evaluations} evaluations; importance "
            f"needs at least {MIN_EVALUATIONS} to fit a model to")
    if campaign.n_evaluations > MAX_DENOISED_EVALUATIONS:
        raise _unavailable(
            f"campaign {campaign.id} has {campaign.n_evaluations} evaluations; importance "
            f"fits a GP to at most {MAX_DENOISED_EVALUATIONS}")
    evaluated = all_evaluations(session, campaign.id)
    outcomes = registry.importance()(info, observations(info, evaluated))
    return ImportanceOut(
        campaign_id=campaign.id,
        n_evaluations=len(evaluated),
        parameters=[p.name for p in info.parameters],
        outcomes=[OutcomeImportanceOut(
            name=o.name, kind=o.kind,
            sense=campaign.objective_senses[j] if o.kind == "objective" else None,
            variance=o.variance, first_order=o.first_order, total=o.total,
            first_order_se=o.first_order_se, total_se=o.total_se)
            for j, o in enumerate(outcomes)],
        method=METHOD,
        note=("measured on the whole box: Sobol indices need independent parameters, so "
              "the parameter constraints are not applied") if info.parameter_constraints
        else None,
    )


def _unavailable(message: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["path", "campaign_id"], "msg": message,
                                "type": "value_error"}])
