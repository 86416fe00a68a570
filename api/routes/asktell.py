"""Ask/tell for external problems: the user evaluates, mofront suggests and stores.

``ask`` fits the campaign's algorithm on everything told so far, conditioned on the
suggestions still pending and knowing where evaluations failed, and hands out new
ones; ``tell`` stores results — for suggestions, or for any point the user evaluated
on their own — exactly like a worker's evaluations; ``fail`` reports suggestions that
could not be evaluated (Optuna's failed trial, Ax's failed or abandoned one): they
free their share of the budget and keep the reason given, and the BO methods model
where evaluations fail to keep their suggestions away (``bayesopt.bo``). A failed
suggestion may still be told later. ``GET .../suggestions`` lists them all with what
became of each, so a client that restarts can pick up its pending work. The campaign
succeeds when its budget of results is told.
Suggesting can take seconds (a GP fit), so it runs outside any database transaction,
one ask at a time per campaign; the budget is then re-checked under the lock.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, NoReturn, cast

import numpy as np
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from api.auth import SUBMIT
from api.deps import (
    MAX_ID,
    CampaignDep,
    CampaignId,
    SessionDep,
    SettingsDep,
    WriteSessionDep,
    existing_campaign,
)
from api.limits import page_size
from api.observations import observations, points, problem_info
from api.schemas import (
    AskOut,
    FailOut,
    Status,
    SuggestionOut,
    SuggestionPage,
    SuggestionRecord,
    SuggestionStatus,
    TellOut,
    ToldEvaluation,
)
from jobs import registry
from jobs.protocol import ProblemInfo
from jobs.worker import detect_device
from storage import (
    NewEvaluation,
    add_suggestions,
    all_evaluations,
    append_evaluations,
    count_suggestions,
    expire_suggestions,
    failed_suggestions,
    list_suggestions,
    lock_campaign,
    pending_suggestions,
    suggestion_counts,
    suggestions_by_id,
)

router = APIRouter(tags=["ask/tell"])

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
_ask_locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)


class Result(BaseModel):
    """One evaluated point: for a suggestion (``suggestion_id``) or for any point the
    user chose (``params``). Objectives (and the outcome constraints' values as
    measured, if the problem declares constraints; stored as slacks) as a list in the
    campaign's order, or as a mapping by name; for a scalarised constraint (``"a + 2*b
    <= 10"``), the values it sums, each once. ``sem``: the objectives' standard errors
    where the measurement is noisy and its noise is known (Ax's ``(mean, sem)``), as a
    list (null where unknown; the constraints' after the objectives', if any is known)
    or a mapping by name (only those known, objectives and constraints)."""

    model_config = ConfigDict(extra="forbid")

    suggestion_id: int | None = Field(None, ge=1)
    params: dict[str, FiniteFloat | str] | None = None
    objectives: list[FiniteFloat] | dict[str, FiniteFloat]
    constraints: list[FiniteFloat] | dict[str, FiniteFloat] | None = None
    sem: list[NonNegativeFloat | None] | dict[str, NonNegativeFloat] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Result:
        if (self.suggestion_id is None) == (self.params is None):
            raise ValueError("give either suggestion_id (a result for a suggestion) or "
                             "params (a point you chose), not both and not neither")
        return self


class TellIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    results: list[Result] = Field(min_length=1, max_length=1000)


class Failure(BaseModel):
    """A suggestion whose evaluation failed (a crash, a diverged run, a broken sample),
    and why."""

    model_config = ConfigDict(extra="forbid")

    suggestion_id: int = Field(ge=1, le=MAX_ID)
    reason: str | None = Field(None, max_length=2000)


class FailIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    failures: list[Failure] = Field(min_length=1, max_length=1000)


@router.post("/campaigns/{campaign_id}/ask", response_model=AskOut, dependencies=[SUBMIT],
             responses={409: {"description": "not an open ask/tell campaign, or no budget left"}})
def ask(
    campaign_id: CampaignId,
    session: SessionDep,
    write_session: WriteSessionDep,
    n: Annotated[int, Query(ge=1, le=100, description="how many suggestions")] = 1,
) -> AskOut:
    with _ask_locks[campaign_id]:
        with write_session.begin():  # before the reads below, so their snapshot sees it
            expire_suggestions(write_session, campaign_id)
        campaign = existing_campaign(session, campaign_id)
        _require_open_ask_tell(campaign)
        info = problem_info(campaign)
        evaluated = all_evaluations(session, campaign_id)
        pending = pending_suggestions(session, campaign_id)
        failed = failed_suggestions(session, campaign_id)
        remaining = int(campaign.budget) - len(evaluated) - len(pending)
        if remaining <= 0:
            raise HTTPException(409, (
                f"campaign {campaign_id} has no budget left to suggest: {len(evaluated)} told, "
                f"{len(pending)} pending of {int(campaign.budget)}"))
        count = min(n, remaining)
        points = _suggest(campaign, info, evaluated, pending, failed,
                          count_suggestions(session, campaign_id), count)

        with write_session.begin():
            lock_campaign(write_session, campaign_id)
            ttl = float(campaign.problem.get("suggestion_ttl_seconds", 3600.0))
            suggestions = add_suggestions(
                write_session, campaign_id,
                [{p.name: p.cast(v) for p, v in zip(info.parameters, row, strict=True)}
                 for row in points],
                expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
            )
            answer = AskOut(
                campaign_id=campaign_id,
                suggestions=[SuggestionOut(id=s.id, params=s.params, expires_at=s.expires_at)
                             for s in suggestions],
                pending=len(pending) + len(suggestions),
                remaining=remaining - len(suggestions),
            )
        return answer


@router.post("/campaigns/{campaign_id}/tell", response_model=TellOut, dependencies=[SUBMIT],
             responses={409: {"description": "not an open ask/tell campaign, over budget, "
                                             "or a suggestion already told or expired"}})
def tell(campaign_id: CampaignId, body: TellIn, session: WriteSessionDep) -> TellOut:
    with session.begin():
        campaign = _locked_open_campaign(session, campaign_id)
        info = problem_info(campaign)
        suggestions = suggestions_by_id(
            session, campaign_id, [r.suggestion_id for r in body.results if r.suggestion_id])
        rows = _checked_results(body.results, info, suggestions)
        left = int(campaign.budget) - campaign.n_evaluations
        if len(rows) > left:
            raise HTTPException(409, (
                f"campaign {campaign_id} takes {left} more result(s) (budget "
                f"{int(campaign.budget)}, {campaign.n_evaluations} told); got {len(rows)}"))

        first_seq = campaign.n_evaluations
        items = [
            NewEvaluation(seq=first_seq + i, objectives=objectives, params=params,
                          budget_used=float(first_seq + i + 1), constraints=constraints,
                          meta={"source": "ask" if suggestion_id else "user",
                                "suggestion_id": suggestion_id} | meta)
            for i, (suggestion_id, params, objectives, constraints, meta) in enumerate(rows)
        ]
        append_evaluations(session, campaign_id, items)
        stored = {e.seq: e for e in all_evaluations(session, campaign_id)[first_seq:]}
        for item in items:
            suggestion_id = item.meta["suggestion_id"]
            if suggestion_id is not None:
                suggestions[suggestion_id].status = "told"
                suggestions[suggestion_id].evaluation_id = stored[item.seq].id
        if campaign.n_evaluations >= campaign.budget:
            campaign.status = "succeeded"
            campaign.finished_at = datetime.now(UTC)
        answer = TellOut(
            campaign_id=campaign_id,
            status=cast(Status, campaign.status),
            evaluations=[
                ToldEvaluation(evaluation_id=stored[item.seq].id, seq=item.seq,
                               suggestion_id=item.meta["suggestion_id"],
                               on_front=stored[item.seq].on_front)
                for item in items
            ],
            n_evaluations=campaign.n_evaluations,
            remaining=int(campaign.budget) - campaign.n_evaluations,
        )
    return answer


@router.post("/campaigns/{campaign_id}/fail", response_model=FailOut, dependencies=[SUBMIT],
             responses={409: {"description": "not an open ask/tell campaign, or a suggestion "
                                             "already told"}})
def fail(campaign_id: CampaignId, body: FailIn, session: WriteSessionDep) -> FailOut:
    """Report suggestions that could not be evaluated. Each frees its share of the
    budget; the BO methods model where evaluations fail and steer later asks away.
    Failing a suggestion that already failed changes nothing (its first reason stays)."""
    with session.begin():
        campaign = _locked_open_campaign(session, campaign_id)
        suggestions = suggestions_by_id(session, campaign_id,
                                        [f.suggestion_id for f in body.failures])
        for index, failure in enumerate(body.failures):
            where = ["body", "failures", index, "suggestion_id"]
            suggestion = suggestions.get(failure.suggestion_id)
            if suggestion is None:
                _refuse(422, where, f"unknown suggestion {failure.suggestion_id} for this campaign")
            if suggestion.status == "told":
                _refuse(409, where, (
                    f"suggestion {failure.suggestion_id} was already told (evaluation "
                    f"{suggestion.evaluation_id}); a stored result cannot fail"))
        now = datetime.now(UTC)
        for failure in body.failures:
            suggestion = suggestions[failure.suggestion_id]
            if suggestion.status != "failed":
                suggestion.status = "failed"
                suggestion.reason = failure.reason
                suggestion.failed_at = now
        pending = len(pending_suggestions(session, campaign_id))
        answer = FailOut(
            campaign_id=campaign_id,
            failed=sorted(suggestions),
            pending=pending,
            remaining=int(campaign.budget) - campaign.n_evaluations - pending,
        )
    return answer


@router.get("/campaigns/{campaign_id}/suggestions", response_model=SuggestionPage)
def campaign_suggestions(
    campaign: CampaignDep,
    session: SessionDep,
    settings: SettingsDep,
    status: Annotated[SuggestionStatus | None, Query(
        description="only suggestions in this status")] = None,
    limit: Annotated[int | None, Query(
        ge=1, description="page size (default 100, at most MOFRONT_MAX_PAGE_SIZE)")] = None,
    offset: Annotated[int, Query(ge=0, le=10**12)] = 0,
) -> SuggestionPage:
    """The campaign's suggestions in the order they were handed out, with what became
    of each: ``pending`` (its ``params`` are still to be evaluated), ``told`` (with the
    evaluation it became), ``expired`` or ``failed`` (with the reason given). A pending
    suggestion past its ``expires_at`` reads ``expired``. Empty for a campaign that runs
    on a worker."""
    now = datetime.now(UTC)
    counts = suggestion_counts(session, campaign.id, now)
    rows = list_suggestions(session, campaign.id, status=status,
                            limit=page_size(limit, 100, settings), offset=offset, now=now)
    return SuggestionPage(
        items=[SuggestionRecord.of(suggestion, shown, told_at)
               for suggestion, shown, told_at in rows],
        total=counts[status] if status else sum(counts.values()),
        counts=counts,
    )


def _locked_open_campaign(session: Session, campaign_id: int) -> Any:
    """The campaign, locked for this transaction, its overdue suggestions expired; 404
    if there is none, 409 unless it is an open ask/tell campaign."""
    campaign = lock_campaign(session, campaign_id)
    if campaign is None:
        raise HTTPException(404, f"campaign {campaign_id} does not exist")
    _require_open_ask_tell(campaign)
    expire_suggestions(session, campaign_id)
    return campaign


def _require_open_ask_tell(campaign: Any) -> None:
    if campaign.runs_on != "client":
        raise HTTPException(409, (
            f"campaign {campaign.id} runs on a worker; ask/tell is for campaigns on an "
            "external problem"))
    if campaign.status != "running":
        raise HTTPException(409, f"campaign {campaign.id} is {campaign.status}")


def _suggest(campaign: Any, info: ProblemInfo, evaluated: list[Any], pending: list[Any],
             failed: list[Any], n_suggested: int, n: int) -> np.ndarray:
    parameters = info.parameters
    observed = observations(info, evaluated, pending=points(info, pending),
                            failed=points(info, failed), n_suggested=n_suggested)
    suggest = registry.algorithm(campaign.algorithm).load_suggest()
    suggested = np.asarray(suggest(info, dict(campaign.params), campaign.seed, observed, n,
                                   detect_device()), dtype=float).reshape(-1, len(parameters))
    low = np.array([p.low for p in parameters])
    high = np.array([p.high for p in parameters])
    return np.clip(suggested, low, high)


def _checked_results(
    results: list[Result], info: ProblemInfo, suggestions: dict[int, Any]
) -> list[tuple[int | None, dict[str, float], list[float], list[float] | None,
                dict[str, Any]]]:
    """Every result checked against the problem; 422/409 naming the first bad field."""
    objective_names = [o.name for o in info.objectives]
    constraint_count = info.constraints
    seen: set[int] = set()
    rows = []
    for index, result in enumerate(results):
        where = ["body", "results", index]
        if result.suggestion_id is not None:
            suggestion = suggestions.get(result.suggestion_id)
            if suggestion is None:
                _refuse(422, [*where, "suggestion_id"],
                        f"unknown suggestion {result.suggestion_id} for this campaign")
            if suggestion.status == "told" or result.suggestion_id in seen:
                _refuse(409, [*where, "suggestion_id"],
                        f"suggestion {result.suggestion_id} was already told")
            seen.add(result.suggestion_id)
            params = dict(suggestion.params)
        else:
            params = _checked_params(result.params or {}, info, [*where, "params"])
        objectives = _as_vector(result.objectives, objective_names, [*where, "objectives"])
        constraints = None
        metrics = info.metric_names
        if constraint_count or result.constraints is not None:
            if result.constraints is None:
                _refuse(422, [*where, "constraints"], (
                    f"the problem declares {constraint_count} constraint(s) "
                    f"({', '.join(info.slack_names)}); give "
                    + ("their values" if metrics == info.slack_names else
                       f"the values of {', '.join(metrics)}")))
            measured = _as_vector(result.constraints, metrics, [*where, "constraints"])
            values = info.constraint_values(measured)
            constraints = info.slacks(values)
        scalarised = info.scalarised
        meta = {} if result.sem is None else _standard_errors(
            result.sem, objective_names, metrics, [*where, "sem"],
            "values measured for the constraints" if scalarised else "constraints")
        if constraints is not None and scalarised:
            meta.update(_per_constraint(info, measured, meta.pop("constraint_sem", None)))
        if constraints is not None and not all(b.is_slack for b in info.constraint_bounds):
            meta["constraint_values"] = values  # as told; the slacks are stored beside
        rows.append((result.suggestion_id, params, objectives, constraints, meta))
    return rows


def _per_constraint(info: ProblemInfo, measured: list[float],
                    metric_sems: list[float | None] | None) -> dict[str, Any]:
    """What a result's meta keeps where a constraint is scalarised: the values told by
    name (``metric_values``, ``metric_sem``) and each constraint's standard error
    (``constraint_sem``, where all its terms' are known)."""
    metrics = info.metric_names
    kept: dict[str, Any] = {"metric_values": dict(zip(metrics, measured, strict=True))}
    if metric_sems is not None:
        kept["metric_sem"] = {name: sem for name, sem in zip(metrics, metric_sems, strict=True)
                              if sem is not None}
        sems = info.constraint_sems(metric_sems)
        if any(sem is not None for sem in sems):
            kept["constraint_sem"] = sems
    return kept


def _standard_errors(values: list[float | None] | dict[str, float], names: list[str],
                     slack_names: list[str], where: list[Any],
                     constraints: str = "constraints") -> dict[str, Any]:
    """The standard errors in the campaign's order, None where unknown, as the
    evaluation's meta keeps them: ``sem`` for the objectives, ``constraint_sem`` for
    what is told for the constraints (``slack_names``), each left out if none of its
    values is known. ``constraints`` names those in messages."""
    both = names + slack_names
    if isinstance(values, dict):
        unknown = sorted(set(values) - set(both))
        if unknown:
            _refuse(422, [*where, unknown[0]], (
                f"unknown objective {unknown[0]!r}; the objectives are {', '.join(names)}"
                if not slack_names else
                f"unknown name {unknown[0]!r}; the objectives are {', '.join(names)}, the "
                f"{constraints} {', '.join(slack_names)}"))
        values = [values.get(name) for name in both]
    if len(values) not in {len(names), len(both)}:
        _refuse(422, where, (
            f"got {len(values)} standard errors; expected {len(names)} ({', '.join(names)})"
            + (f" or {len(both)} with the {constraints}' ({', '.join(slack_names)})"
               if slack_names else "") + ", null where one is not known"))
    values = [None if v is None else float(v) for v in values]
    parts = {"sem": values[:len(names)], "constraint_sem": values[len(names):]}
    return {key: part for key, part in parts.items() if any(v is not None for v in part)}


def _checked_params(params: dict[str, float | str], info: ProblemInfo,
                    where: list[Any]) -> dict[str, Any]:
    names = [p.name for p in info.parameters]
    unknown = sorted(set(params) - set(names))
    if unknown:
        _refuse(422, [*where, unknown[0]],
                f"unknown parameter {unknown[0]!r}; the problem has {', '.join(names)}")
    for parameter in info.parameters:
        if parameter.name not in params:
            _refuse(422, [*where, parameter.name], f"missing parameter {parameter.name!r}")
        value = params[parameter.name]
        if parameter.choices:
            if value not in parameter.choices:
                _refuse(422, [*where, parameter.name], (
                    f"{parameter.name} = {value!r} is not one of its values: "
                    f"{', '.join(map(repr, parameter.choices))}"))
            continue
        if isinstance(value, str):
            _refuse(422, [*where, parameter.name],
                    f"{parameter.name} = {value!r} is not a number; the parameter is numeric")
        if not parameter.low <= value <= parameter.high:
            _refuse(422, [*where, parameter.name], (
                f"{parameter.name} = {value} is outside its bounds "
                f"[{parameter.low}, {parameter.high}]"))
        if parameter.integer and not float(value).is_integer():
            _refuse(422, [*where, parameter.name], (
                f"{parameter.name} = {value} is not a whole number; the parameter is an int"))
    values = [p.number(params[p.name]) for p in info.parameters]
    for constraint in info.parameter_constraints:
        if not constraint.holds(values, info.parameters):
            _refuse(422, where, (
                f"the point is outside the parameter constraint {constraint.text!r} (over "
                f"by {constraint.excess(values):g}); suggestions always satisfy it"))
    return {p.name: p.cast(value) for p, value in zip(info.parameters, values, strict=True)}


def _as_vector(values: list[float] | dict[str, float], names: list[str],
               where: list[Any]) -> list[float]:
    if isinstance(values, dict):
        if sorted(values) != sorted(names):
            _refuse(422, where, f"expected values for {', '.join(names)}; got "
                                f"{', '.join(values) or 'none'}")
        values = [values[name] for name in names]
    if len(values) != len(names):
        _refuse(422, where, f"got {len(values)} values; expected {len(names)} "
                            f"({', '.join(names)})")
    if not all(math.isfinite(v) for v in values):
        _refuse(422, where, "values must be finite numbers")
    return [float(v) for v in values]


def _refuse(status: int, loc: list[Any], message: str) -> NoReturn:
    raise HTTPException(status, [{"loc": loc, "msg": message, "type": "value_error"}])


