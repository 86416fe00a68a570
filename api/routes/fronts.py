"""Fronts and metrics: the Pareto front, hypervolume, its history, and comparisons."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, HTTPException, Query

from api.deps import MAX_ID, CampaignDep, SessionDep
from api.observations import observations, problem_info
from api.schemas import (
    AttainmentOut,
    AttainmentSurfaceOut,
    CompareEntry,
    CompareHistoryPoint,
    CompareOut,
    FrontOut,
    FrontPoint,
    HistoryOut,
    HistoryPoint,
    HypervolumeOut,
    ObjectiveOut,
)
from jobs import registry
from pareto import (
    attainment_surfaces,
    default_reference_point,
    from_maximization,
    hv_contributions,
    hypervolume,
    n_dominating_reference,
    non_dominated_mask,
    runs_needed,
    to_maximization,
    update_front,
)
from storage import (
    all_evaluations,
    feasible_objectives,
    front,
    front_meta,
    front_objectives,
    get_campaign,
    history,
)

# A curve of this many points draws as smoothly as one per batch, and caps the work of
# a comparison of long campaigns (one exact HV per point).
COMPARE_HISTORY_POINTS = 200
# Exclusive HV contributions cost one hypervolume per point above 3 objectives: they are
# computed up to this many distinct vectors (about 0.2 s on one core here; 1,000 points
# in 5 objectives took 8 s), and for any number in 2 or 3 objectives (5,000: 3 ms).
CONTRIBUTION_LIMITS = {4: 500, 5: 200, 6: 100}
CONTRIBUTION_LIMIT_ABOVE = 50
# A denoised front fits exact GPs to every evaluation, O(n^3) each: for 2 objectives on
# 3 inputs, one thread, 1.2 s at 200 evaluations, 6 s at 500, 30 s at 1,000.
MAX_DENOISED_EVALUATIONS = 500


router = APIRouter(tags=["fronts"])


@router.get("/campaigns/{campaign_id}/front", response_model=FrontOut)
def campaign_front(
    campaign: CampaignDep,
    session: SessionDep,
    objectives: Annotated[
        str | None,
        Query(max_length=2000, description="comma-separated objective names (a subset)"),
    ] = None,
    contributions: Annotated[bool, Query(
        description="also give each point's exclusive hypervolume contribution under the "
        "campaign's reference point (on the objectives shown): the volume lost without its "
        "objective vector; evaluations sharing one vector each get that vector's (null "
        "until the campaign's reference point is fixed)")] = False,
    denoised: Annotated[bool, Query(
        description="ask/tell campaigns: the front of the model's predictions instead of "
        "the measurements (Ax's use_model_predictions): the BO methods' GPs, with the "
        "standard errors told, fitted to every evaluation; each point then also has "
        "`predicted`, the posterior means it was picked by")] = False,
) -> FrontOut:
    indices = _objective_indices(campaign, objectives)
    if denoised:
        return _denoised_front(session, campaign, indices, contributions)
    points = front(session, campaign.id, indices)
    # standard errors are told with ask/tell results only (meta.sem)
    metas = front_meta(session, campaign.id) if campaign.runs_on == "client" else {}
    chosen = indices if indices is not None else list(range(campaign.n_objectives))
    values = [[p.objectives[i] for i in chosen] for p in points]
    reference, note = None, None
    shares: list[float | None] = [None] * len(points)
    if contributions:
        shares, note = _contributions(values, chosen, campaign)
        if note is None:
            reference = [campaign.reference_point[i] for i in chosen]
    return FrontOut(
        campaign_id=campaign.id,
        objectives=[_objective(campaign, i) for i in chosen],
        points=[
            FrontPoint(evaluation_id=p.id, seq=p.seq, objectives=v, params=p.params,
                       hv_contribution=share, sem=_chosen_sems(metas.get(p.id), chosen))
            for p, v, share in zip(points, values, shares, strict=True)
        ],
        reference_point=reference,
        contributions_note=note,
    )


def _contributions(values: list[list[float]], chosen: list[int],
                   campaign: Any) -> tuple[list[float | None], str | None]:
    """Each point's exclusive HV contribution under the campaign's reference point (on the
    objectives ``chosen``), or Nones and why not. Each objective vector counts once: copies
    would otherwise each get 0 (removing one copy loses nothing), which on a MORL front,
    where several policies often share a return vector, hides what the vector adds."""
    none: list[float | None] = [None] * len(values)
    if campaign.reference_point is None:
        return none, "no reference point yet: it is fixed at the campaign's first metric snapshot"
    if not values:
        return [], None
    senses = [campaign.objective_senses[i] for i in chosen]
    distinct, which = np.unique(to_maximization(np.array(values, dtype=float), senses),
                                axis=0, return_inverse=True)
    m = len(chosen)
    limit = CONTRIBUTION_LIMITS.get(m, CONTRIBUTION_LIMIT_ABOVE)
    if m > 3 and len(distinct) > limit:
        return none, (
            f"not computed: {len(distinct)} distinct front points in {m} objectives; above 3 "
            f"objectives each costs a hypervolume, so they are computed for up to {limit} "
            f"(show fewer objectives, or use pareto.hv_contributions)")
    reference = to_maximization(
        np.array([campaign.reference_point[i] for i in chosen], dtype=float), senses)
    return hv_contributions(distinct, reference)[which.reshape(-1)].tolist(), None


@router.get("/campaigns/{campaign_id}/hypervolume", response_model=HypervolumeOut)
def campaign_hypervolume(
    campaign: CampaignDep,
    session: SessionDep,
    reference_point: Annotated[
        str | None,
        Query(max_length=2000, description="comma-separated, one value per objective, raw units"),
    ] = None,
) -> HypervolumeOut:
    if reference_point is not None:
        point = _parse_reference_point(reference_point, campaign.n_objectives)
        source = "user"
    else:
        point, source = campaign.reference_point, campaign.reference_point_source
    senses = campaign.objective_senses
    values = to_maximization(front_objectives(session, campaign), senses)
    reference = None if point is None else to_maximization(np.array(point, dtype=float), senses)
    return HypervolumeOut(
        campaign_id=campaign.id,
        hypervolume=0.0 if reference is None else hypervolume(values, reference),
        reference_point=point,
        reference_point_source=source,
        objectives=[_objective(campaign, i) for i in range(campaign.n_objectives)],
        front_size=len(values),
        front_points_counted=0 if reference is None else n_dominating_reference(values, reference),
    )


@router.get("/campaigns/{campaign_id}/history", response_model=HistoryOut)
def campaign_history(campaign: CampaignDep, session: SessionDep) -> HistoryOut:
    return HistoryOut(
        campaign_id=campaign.id,
        budget_unit=campaign.budget_unit,
        reference_point=campaign.reference_point,
        reference_point_source=campaign.reference_point_source,
        points=[
            HistoryPoint(
                seq=s.seq,
                n_evaluations=s.n_evaluations,
                budget_used=s.budget_used,
                hypervolume=s.hypervolume,
                front_size=s.front_size,
                wall_seconds=s.wall_seconds,
                extras=s.extras or {},
            )
            for s in history(session, campaign.id)
        ],
    )


@router.get("/compare", response_model=CompareOut,
            responses={404: {"description": "one of the campaigns does not exist"}})
def compare(
    session: SessionDep,
    campaigns: Annotated[str, Query(max_length=2000, description="comma-separated ids")],
    reference_point: Annotated[str | None, Query(max_length=2000)] = None,
    with_history: Annotated[bool, Query(
        alias="history",
        description=f"also return each campaign's HV curve under the common reference "
        f"point (at most {COMPARE_HISTORY_POINTS} points per campaign)",
    )] = False,
) -> CompareOut:
    """Each campaign's HV under one reference point: the one given, else the published
    point the campaigns share, else the DESIGN.md rule over the union of their fronts.
    With ``history=true``, each campaign's HV curve too, recomputed under that point."""
    chosen = _campaigns_on_one_problem(session, campaigns)
    first = chosen[0]
    senses = first.objective_senses
    fronts = [to_maximization(front_objectives(session, c), senses) for c in chosen]
    point_raw, source = _common_reference_point(chosen, fronts, reference_point)
    point_max = to_maximization(np.array(point_raw, dtype=float), senses)
    return CompareOut(
        objectives=[_objective(first, i) for i in range(first.n_objectives)],
        reference_point=point_raw,
        reference_point_source=source,
        campaigns=[
            CompareEntry(
                campaign_id=c.id,
                name=c.name,
                algorithm=c.algorithm,
                status=c.status,
                hypervolume=hypervolume(f, point_max) if len(f) else 0.0,
                front_size=len(f),
                front_points_counted=n_dominating_reference(f, point_max) if len(f) else 0,
                n_evaluations=c.n_evaluations,
                budget_used=c.budget_used,
                budget_unit=c.budget_unit,
                history=_history_under(session, c, point_max) if with_history else None,
            )
            for c, f in zip(chosen, fronts)
        ],
    )


@router.get("/attainment", response_model=AttainmentOut,
            responses={404: {"description": "one of the campaigns does not exist"}})
def attainment(
    session: SessionDep,
    campaigns: Annotated[str, Query(max_length=2000, description="comma-separated ids")],
    percentiles: Annotated[str | None, Query(
        max_length=2000, description="comma-separated, each in (0, 100]; default: the "
        "best (one run), 50 (the median) and 100 (every run)")] = None,
) -> AttainmentOut:
    """Empirical attainment surfaces of several runs on one problem, typically one
    algorithm's seeds: for each percentile p, the corner points of the boundary of what
    at least p% of the campaigns' fronts reach (weakly dominate), in raw units. A campaign
    with no feasible evaluation yet counts as a run that reaches nothing. 2 or 3
    objectives (moocore's exact EAF)."""
    chosen = _campaigns_on_one_problem(session, campaigns)
    ids = [c.id for c in chosen]
    if len(set(ids)) != len(ids):
        raise _query_error("campaigns", "each campaign may be named once: each is one run")
    first = chosen[0]
    if first.n_objectives not in (2, 3):
        raise _query_error("campaigns", (
            f"attainment surfaces are computed for 2 or 3 objectives; these campaigns have "
            f"{first.n_objectives} (compare them by hypervolume with /compare)"))
    levels = _parse_percentiles(percentiles, len(chosen))
    senses = first.objective_senses
    fronts = [to_maximization(front_objectives(session, c), senses) for c in chosen]
    surfaces = attainment_surfaces(fronts, levels)
    return AttainmentOut(
        objectives=[_objective(first, i) for i in range(first.n_objectives)],
        campaign_ids=ids,
        surfaces=[
            AttainmentSurfaceOut(
                percentile=level,
                runs_needed=runs_needed(level, len(chosen)),
                points=from_maximization(surface, senses).tolist(),
            )
            for level, surface in zip(levels, surfaces, strict=True)
        ],
    )


def _parse_percentiles(text: str | None, n_runs: int) -> list[float]:
    if text is None:
        return sorted({100 / n_runs, 50.0, 100.0} if n_runs > 1 else {100.0})
    try:
        levels = [float(part) for part in _split(text, "percentiles")]
    except ValueError:
        raise _query_error(
            "percentiles", f"{text!r} is not a comma-separated list of numbers") from None
    wrong = [level for level in levels if not 0 < level <= 100]
    if wrong:
        raise _query_error("percentiles", f"each percentile must be in (0, 100]; got {wrong[0]}")
    return levels


def _campaigns_on_one_problem(session: Any, campaigns: str) -> list[Any]:
    """The campaigns named, refused (422, ``campaigns``) unless they share their
    objectives and senses, so their fronts live in one objective space."""
    chosen = [_campaign_for_compare(session, part) for part in _split(campaigns, "campaigns")]
    first = chosen[0]
    signature = (first.objective_names, first.objective_senses)
    for other in chosen[1:]:
        if (other.objective_names, other.objective_senses) != signature:
            raise _query_error("campaigns", (
                f"campaign {other.id} has objectives {other.objective_names}; campaign "
                f"{first.id} has {first.objective_names}: compare campaigns on the same problem"
            ))
    return chosen


def _history_under(
    session: Any, campaign: Any, reference_max: np.ndarray
) -> list[CompareHistoryPoint]:
    """The campaign's HV after each metric snapshot (thinned to at most
    ``COMPARE_HISTORY_POINTS``), under ``reference_max`` (maximisation convention): the
    front of the feasible evaluations recorded up to that snapshot's seq, maintained
    incrementally. The stored history is under each campaign's own reference point, so
    two campaigns' stored curves are not comparable; these are."""
    snapshots = history(session, campaign.id)
    if len(snapshots) > COMPARE_HISTORY_POINTS:
        keep = np.unique(np.linspace(0, len(snapshots) - 1, COMPARE_HISTORY_POINTS).round())
        snapshots = [snapshots[int(i)] for i in keep]
    seqs, raw = feasible_objectives(session, campaign)
    values = to_maximization(raw, campaign.objective_senses)
    current = np.empty((0, campaign.n_objectives))
    taken = 0
    curve = []
    for snapshot in snapshots:
        upto = int(np.searchsorted(seqs, snapshot.seq, side="right"))
        if upto > taken:
            batch = values[taken:upto]
            keep_old, keep_new = update_front(current, batch)
            current = np.vstack([current[keep_old], batch[keep_new]])
            taken = upto
        curve.append(CompareHistoryPoint(
            seq=snapshot.seq,
            n_evaluations=snapshot.n_evaluations,
            budget_used=snapshot.budget_used,
            hypervolume=hypervolume(current, reference_max) if len(current) else 0.0,
            front_size=len(current),
        ))
    return curve


def _common_reference_point(
    chosen: list[Any], fronts: list[np.ndarray], given: str | None
) -> tuple[list[float], str]:
    first = chosen[0]
    if given is not None:
        return _parse_reference_point(given, first.n_objectives), "user"
    published = {tuple(c.reference_point) for c in chosen
                 if c.reference_point_source == "published" and c.reference_point}
    if len(published) == 1 and all(c.reference_point_source == "published" for c in chosen):
        return list(published.pop()), "published"
    union = np.vstack([f for f in fronts if len(f)] or [np.empty((0, first.n_objectives))])
    if len(union) == 0:
        raise _query_error("campaigns", "none of these campaigns has evaluations yet")
    point_max = default_reference_point(union)
    return [float(v) for v in to_maximization(point_max, first.objective_senses)], "nadir"


def _campaign_for_compare(session: Any, part: str) -> Any:
    # ASCII digits only: str.isdigit() accepts '²', which int() refuses
    if not (part.isascii() and part.isdigit()) or int(part) > MAX_ID:
        raise _query_error("campaigns", f"{part!r} is not a campaign id (a positive integer)")
    campaign = get_campaign(session, int(part))
    if campaign is None:
        raise HTTPException(404, f"campaign {part} does not exist")
    return campaign


def _objective_indices(campaign: Any, names: str | None) -> list[int] | None:
    if names is None:
        return None
    indices = []
    for name in _split(names, "objectives"):
        if name not in campaign.objective_names:
            raise _query_error("objectives", (
                f"unknown objective {name!r}; campaign {campaign.id} has "
                f"{', '.join(campaign.objective_names)}"
            ))
        indices.append(campaign.objective_names.index(name))
    if len(set(indices)) != len(indices):
        raise _query_error("objectives", "each objective may be named once")
    return indices


def _parse_reference_point(text: str, n_objectives: int) -> list[float]:
    try:
        values = [float(part) for part in _split(text, "reference_point")]
    except ValueError:
        raise _query_error(
            "reference_point", f"{text!r} is not a comma-separated list of numbers"
        ) from None
    if len(values) != n_objectives:
        raise _query_error("reference_point", (
            f"reference_point has {len(values)} values; the campaign has {n_objectives} objectives"
        ))
    if not all(np.isfinite(values)):
        raise _query_error("reference_point", "reference_point values must be finite numbers")
    return values


def _split(text: str, field: str) -> list[str]:
    parts = [part.strip() for part in text.split(",")]
    if not parts or any(part == "" for part in parts):
        raise _query_error(field, f"{field} must be a comma-separated list with no empty items")
    return parts


def _denoised_front(session: Any, campaign: Any, indices: list[int] | None,
                    contributions: bool) -> FrontOut:
    """The feasible evaluations whose posterior means are non-dominated (on the chosen
    objectives), in seq order, each with its measurement and its prediction; feasible by
    the predicted slacks of the constraints whose measurements are noisy
    (:func:`_noisy_constraints`)."""
    if contributions:
        raise _query_error("denoised", "contributions are measured on the front of the "
                                       "measurements; ask for one or the other")
    if campaign.runs_on != "client" and not _noisy(campaign.problem):
        raise _query_error("denoised", (
            f"campaign {campaign.id} runs on a worker on a noise-free problem; a denoised "
            "front is for ask/tell campaigns, whose measurements may be noisy, and test "
            "functions with noise_std or constraint_noise_std"))
    if campaign.n_evaluations > MAX_DENOISED_EVALUATIONS:
        raise _query_error("denoised", (
            f"campaign {campaign.id} has {campaign.n_evaluations} evaluations; a denoised "
            f"front fits a GP to at most {MAX_DENOISED_EVALUATIONS}"))
    info = problem_info(campaign)
    evaluated = all_evaluations(session, campaign.id)
    observed = observations(info, evaluated)
    predicted = registry.surrogate("denoised")(info, observed)
    judged = _noisy_constraints(campaign, info, observed)
    slacks = registry.surrogate("denoised-slacks")(info, observed) if any(judged) else None
    chosen = indices if indices is not None else list(range(campaign.n_objectives))
    feasible = [i for i, e in enumerate(evaluated)
                if _feasible(e, None if slacks is None else slacks[i], judged)]
    senses = [campaign.objective_senses[i] for i in chosen]
    kept = non_dominated_mask(to_maximization(predicted[feasible][:, chosen], senses)) \
        if feasible else np.zeros(0, dtype=bool)
    rows = [i for i, keep in zip(feasible, kept.tolist(), strict=True) if keep]
    return FrontOut(
        campaign_id=campaign.id,
        objectives=[_objective(campaign, i) for i in chosen],
        points=[
            FrontPoint(evaluation_id=evaluated[i].id, seq=evaluated[i].seq,
                       objectives=[evaluated[i].objectives[j] for j in chosen],
                       params=evaluated[i].params,
                       sem=_chosen_sems(evaluated[i].meta, chosen),
                       predicted=[float(predicted[i][j]) for j in chosen],
                       predicted_slacks=None if slacks is None else [
                           float(v) if noisy else None
                           for v, noisy in zip(slacks[i], judged, strict=True)])
            for i in rows
        ],
        denoised=True,
    )


def _noisy_constraints(campaign: Any, info: Any, observed: Any) -> list[bool]:
    """Which outcome constraints a denoised front judges on the model's predicted slacks
    rather than the measured ones: on a test function, those with a
    ``constraint_noise_std``; in an ask/tell campaign every one, as Ax's
    ``use_model_predictions`` does, except one whose every result was told exact
    (``sem`` 0)."""
    c = info.constraints
    if campaign.runs_on == "client":
        sem = observed.constraint_sem
        return [sem is None or not bool(np.all(sem[:, k] == 0)) for k in range(c)]
    deviation = campaign.problem.get("constraint_noise_std") or 0.0
    return [v > 0 for v in (deviation if isinstance(deviation, list) else [deviation] * c)]


def _feasible(evaluation: Any, predicted_slacks: Any, judged: list[bool]) -> bool:
    """Feasible by the predicted slacks where ``judged``, by the measured ones elsewhere."""
    if predicted_slacks is None:
        return bool(evaluation.feasible)
    return all((predicted if noisy else measured) >= 0 for predicted, measured, noisy in zip(
        predicted_slacks, evaluation.constraints, judged, strict=True))


def _noisy(problem: dict[str, Any]) -> bool:
    """Whether the campaign's problem is a test function observed with noise, in its
    objectives or its constraints."""
    return any(bool(deviation) and any(deviation if isinstance(deviation, list) else [deviation])
               for deviation in (problem.get("noise_std"), problem.get("constraint_noise_std")))


def _chosen_sems(meta: dict[str, Any] | None, chosen: list[int]) -> list[float | None] | None:
    """The standard errors told with a result (``meta.sem``), on the objectives shown."""
    sem = (meta or {}).get("sem")
    return None if not sem else [sem[i] for i in chosen]


def _objective(campaign: Any, index: int) -> ObjectiveOut:
    return ObjectiveOut(
        name=campaign.objective_names[index], sense=campaign.objective_senses[index]
    )


def _query_error(field: str, message: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["query", field], "msg": message, "type": "value_error"}])
