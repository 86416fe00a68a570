"""A campaign's front judged: the evaluation a preference picks, the problem's known
Pareto front where it has one, and the front's quality measures against both.

Every number here is computed by ``pareto/`` on the stored front (``on_front`` rows,
which are feasible), converted to the maximisation convention first. Known fronts come
from :mod:`api.known_fronts`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query

from api.deps import CampaignDep, SessionDep
from api.known_fronts import known_front, problems_with_one
from api.routes.fronts import _objective, _query_error, _split
from api.schemas import (
    BestOut,
    EvaluationOut,
    ExpectedUtilityOut,
    KnownFrontMetricsOut,
    KnownFrontOut,
    MetricsOut,
    NormalizationOut,
)
from jobs import registry
from pareto import (
    best_conditioned_policy,
    best_for_preference,
    check_preference,
    coverage,
    distinct_points,
    equally_spaced_weights,
    expected_utility,
    from_maximization,
    hypervolume,
    igd,
    igd_plus,
    maximum_utility_loss,
    sparsity,
    to_maximization,
)
from storage import evaluations_with_artifacts, front, front_objectives, get_evaluation

PREFERENCE_CONDITIONED = ("pdmorl",)  # algorithms whose stored policy takes a preference

NORMALIZATION_RULE = (
    "objectives converted to maximisation, then min-max normalised over the campaign's "
    "front: (J_i - nadir_i) / (ideal_i - nadir_i), 0 where ideal_i = nadir_i; "
    "utility = sum_i w_i * normalised J_i with w scaled to sum 1; ties go to the "
    "earliest evaluation"
)
# The MORL-Baselines convention for expected utility: 100 equally spaced weights asked
# for (the simplex-lattice grid holding at least that many: 100 for 2 objectives, 105
# for 3).
EU_WEIGHTS = 100
# A known-front point counts as found when a front point is at least as good in every
# objective, less this fraction of the known front's range in that objective.
COVERAGE_RELATIVE_TOLERANCE = 0.01
NO_FRONT = {"description": "the campaign has no feasible evaluation yet"}

router = APIRouter(tags=["fronts"])


@router.get("/campaigns/{campaign_id}/best", response_model=BestOut,
            responses={409: NO_FRONT})
def best(
    campaign: CampaignDep,
    session: SessionDep,
    preference: Annotated[str, Query(
        max_length=2000,
        description="comma-separated weights, one per objective in the campaign's order: "
        "finite, >= 0, not all 0 (scaled to sum 1), e.g. 0.7,0.3",
    )],
    scalarisation: Annotated[Literal["linear", "chebyshev"], Query(
        description="linear: the weighted sum w·J~ (reaches only the front's convex "
        "hull); chebyshev: nearest the ideal in the weighted max-norm, "
        "-(max_i w_i (1 - J~_i) + 1e-4 sum_i w_i (1 - J~_i)) (pymoo's ASF; reaches "
        "every front point)",
    )] = "linear",
) -> BestOut:
    """The front evaluation that maximises the normalised linear utility ``w·J~`` for a
    preference ``w``: every objective is converted to maximisation (a minimised one is
    negated), min-max normalised over the campaign's front (its feasible non-dominated
    evaluations) so that a weight does not depend on an objective's units — a zero
    range maps to 0 — and weighted by ``w`` scaled to sum 1. Ties go to the earliest
    evaluation. The answer carries the utility, the nadir and ideal it was normalised
    with (raw units), the evaluation, and the path of its artifact (a policy) or null.
    409 when the campaign has no feasible evaluation yet.

    With ``scalarisation=chebyshev`` the utility is instead minus the weighted Chebyshev
    distance to the ideal of the same normalised front (augmented by a small weighted
    sum, which breaks ties), a larger weight keeping its objective nearer its best: a
    linear utility only ever picks points of the front's convex hull, so on a front that
    bulges towards the nadir (DTLZ2's) every weight picks an end, where Chebyshev picks
    each balanced point for some weight.

    A preference-conditioned campaign (PD-MORL: one network per evaluation round that
    acts for any preference) answers with a network to run at the preference asked for,
    ``act_preference``: of the stored networks, the one whose evaluation at the grid
    preference nearest it scores best on the same utility, normalised over every
    network's evaluations (the latest network on ties), and that evaluation as
    ``act_evaluation``, what to expect of it. ``artifact_url`` is then that network's."""
    weights = _parse_preference(preference, campaign.n_objectives)
    rows = front(session, campaign.id)
    if not rows:
        raise _no_front(campaign)
    senses = campaign.objective_senses
    values = to_maximization(np.array([row.objectives for row in rows]), senses)
    choice = best_for_preference(values, weights, scalarisation)
    chosen = get_evaluation(session, rows[choice.index].id)
    if chosen is None:  # the campaign was deleted since its front was read
        raise HTTPException(404, f"campaign {campaign.id} does not exist")
    artifact_url = (None if chosen.artifact_id is None
                    else f"/api/v1/evaluations/{chosen.id}/artifact")
    act_preference, act_evaluation = None, None
    if campaign.algorithm in PREFERENCE_CONDITIONED:
        networks = evaluations_with_artifacts(session, campaign.id)
        if networks:
            row = networks[best_conditioned_policy(
                [network.params["preference"] for network in networks],
                to_maximization(np.array([network.objectives for network in networks]),
                                senses),
                [network.artifact_id for network in networks],
                choice.weights,
                scalarisation,
            )]
            evaluated = get_evaluation(session, row.id)
            if evaluated is not None:
                artifact_url = f"/api/v1/evaluations/{row.id}/artifact"
                act_preference = choice.weights.tolist()
                act_evaluation = EvaluationOut.of(evaluated)
    return BestOut(
        campaign_id=campaign.id,
        objectives=[_objective(campaign, i) for i in range(campaign.n_objectives)],
        preference=choice.weights.tolist(),
        scalarisation=scalarisation,
        utility=choice.utility,
        normalization=NormalizationOut(
            rule=NORMALIZATION_RULE,
            nadir=from_maximization(choice.low, senses).tolist(),
            ideal=from_maximization(choice.high, senses).tolist(),
        ),
        front_size=len(rows),
        evaluation=EvaluationOut.of(chosen),
        artifact_url=artifact_url,
        act_preference=act_preference,
        act_evaluation=act_evaluation,
    )


@router.get("/campaigns/{campaign_id}/known-front", response_model=KnownFrontOut,
            responses={404: {"description": "unknown campaign, or no known front"}})
def campaign_known_front(campaign: CampaignDep) -> KnownFrontOut:
    """The problem's true Pareto front, for the problems that have one (MO-Gymnasium's
    deep-sea-treasure, its concave variant, fruit-tree, minecart), at the campaign's
    ``eval_gamma``: the points in the campaign's objective order and raw units, and
    their hypervolume under the campaign's reference point. 404 for other problems
    (``known_front`` in the campaign says which answer)."""
    known = known_front(campaign)
    if known is None:
        raise HTTPException(404, _no_known_front(campaign))
    reference = campaign.reference_point
    return KnownFrontOut(
        campaign_id=campaign.id,
        problem=campaign.problem["id"],
        gamma=known.gamma,
        objectives=[_objective(campaign, i) for i in range(campaign.n_objectives)],
        points=known.points.tolist(),
        hypervolume=None if reference is None else _hypervolume(known.points, reference, campaign),
        reference_point=reference,
        reference_point_source=campaign.reference_point_source,
        source=known.source,
    )


@router.get("/campaigns/{campaign_id}/metrics", response_model=MetricsOut,
            responses={409: NO_FRONT})
def metrics(campaign: CampaignDep, session: SessionDep) -> MetricsOut:
    """Quality measures of the campaign's front (its feasible non-dominated evaluations),
    all in the maximisation convention (minimised objectives negated) and raw units:
    exact hypervolume under the campaign's reference point; ``front_size``, the front's
    evaluations, and ``cardinality``, its distinct objective vectors (several stored
    policies may share one); sparsity over those distinct vectors (mean squared gap
    between neighbours per objective, lower is denser; as PGMORL and MORL-Baselines);
    expected utility, the mean over an equally spaced weight grid (the simplex lattice
    with at least 100 weights: 100 for 2 objectives, 105 for 3) of the best linear
    utility on the front. Where the problem has a known front (see ``/known-front``): IGD
    and IGD+ (lower is better), the maximum utility loss over the same weights (the most
    any of them loses against the known front; lower is better), the known front's
    hypervolume and the ratio of the campaign's to it, and coverage — the fraction of
    known-front points that some front point reaches within 1% of the known front's range
    in every objective (the tolerances are in the answer). 409 when the campaign has no
    feasible evaluation yet."""
    raw = front_objectives(session, campaign)
    if len(raw) == 0:
        raise _no_front(campaign)
    senses = campaign.objective_senses
    values = to_maximization(raw, senses)
    distinct = distinct_points(values)
    weights = equally_spaced_weights(campaign.n_objectives, EU_WEIGHTS)
    reference = campaign.reference_point
    campaign_hv = None if reference is None else _hypervolume(raw, reference, campaign)
    return MetricsOut(
        campaign_id=campaign.id,
        objectives=[_objective(campaign, i) for i in range(campaign.n_objectives)],
        sense="maximization: minimised objectives are negated before every measure",
        front_size=len(values),
        cardinality=len(distinct),
        reference_point=reference,
        reference_point_source=campaign.reference_point_source,
        hypervolume=campaign_hv,
        sparsity=sparsity(distinct),
        expected_utility=ExpectedUtilityOut(
            value=expected_utility(values, weights),
            n_weights=len(weights),
            weights=f"equally_spaced_weights({campaign.n_objectives}, {EU_WEIGHTS}): the "
            f"simplex lattice of {len(weights)} weights summing to 1",
        ),
        conventions=campaign.conventions or {},
        known_front=_known_front_metrics(campaign, values, campaign_hv),
    )


def _known_front_metrics(
    campaign: Any, values: np.ndarray, campaign_hv: float | None
) -> KnownFrontMetricsOut | None:
    found = known_front(campaign)
    if found is None:
        return None
    known = to_maximization(found.points, campaign.objective_senses)
    span = known.max(axis=0) - known.min(axis=0)
    tolerance = COVERAGE_RELATIVE_TOLERANCE * np.where(span > 0, span, 1.0)
    reference = campaign.reference_point
    known_hv = None if reference is None else _hypervolume(found.points, reference, campaign)
    return KnownFrontMetricsOut(
        gamma=found.gamma,
        size=len(known),
        hypervolume=known_hv,
        hypervolume_ratio=(campaign_hv / known_hv
                           if campaign_hv is not None and known_hv else None),
        igd=igd(values, known),
        igd_plus=igd_plus(values, known),
        maximum_utility_loss=maximum_utility_loss(
            values, known, equally_spaced_weights(campaign.n_objectives, EU_WEIGHTS)),
        coverage=coverage(values, known, tolerance),
        coverage_tolerance=tolerance.tolist(),
        source=found.source,
    )


def _hypervolume(points: np.ndarray, reference_raw: list[float], campaign: Any) -> float:
    senses = campaign.objective_senses
    return hypervolume(to_maximization(points, senses), to_maximization(reference_raw, senses))


def _parse_preference(text: str, n_objectives: int) -> np.ndarray:
    try:
        values = [float(part) for part in _split(text, "preference")]
    except ValueError:
        raise _query_error(
            "preference", f"{text!r} is not a comma-separated list of numbers"
        ) from None
    try:
        return check_preference(values, n_objectives)
    except ValueError as exc:
        raise _query_error("preference", str(exc)) from None


def _no_front(campaign: Any) -> HTTPException:
    return HTTPException(409, (
        f"campaign {campaign.id} has no feasible evaluation yet ({campaign.status}, "
        f"{campaign.n_evaluations} evaluations): there is no front to measure or choose from"
    ))


def _no_known_front(campaign: Any) -> str:
    problem = campaign.problem
    kind = problem.get("kind")
    message = (f"problem {kind}:{problem.get('id')} of campaign {campaign.id} "
               "has no known Pareto front")
    others = problems_with_one(kind) if kind in registry.PROBLEM_KINDS else []
    return f"{message}; {kind} problems with one: {', '.join(others)}" if others else message
