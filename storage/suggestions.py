"""Suggestions of ask/tell campaigns: hand out, expire, list, count, look up.

A suggestion is ``pending`` from ``ask`` until a result is told for it (``told``),
its ``expires_at`` passes (``expired``, set lazily by :func:`expire_suggestions` on
the next ask or tell, and read as such before that by :func:`status_as_of`) or the
user reports that its evaluation failed (``failed``). Callers hold the campaign's
lock (``lock_campaign``) while they change suggestions, so two clients never hand out
or tell the same one twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, update
from sqlalchemy.orm import Session

from storage.models import SUGGESTION_STATUSES, Evaluation, Suggestion, utcnow


def add_suggestions(
    session: Session, campaign_id: int, points: Sequence[dict[str, Any]], expires_at: datetime
) -> list[Suggestion]:
    now = utcnow()
    suggestions = [
        Suggestion(campaign_id=campaign_id, params=params, status="pending", created_at=now,
                   expires_at=expires_at)
        for params in points
    ]
    session.add_all(suggestions)
    session.flush()
    return suggestions


def expire_suggestions(session: Session, campaign_id: int, now: datetime | None = None) -> int:
    """Mark the campaign's pending suggestions past their expiry as expired."""
    result = session.execute(
        update(Suggestion)
        .where(
            Suggestion.campaign_id == campaign_id,
            Suggestion.status == "pending",
            Suggestion.expires_at <= (now or utcnow()),
        )
        .values(status="expired"),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def pending_suggestions(session: Session, campaign_id: int) -> list[Suggestion]:
    return _with_stored_status(session, campaign_id, "pending")


def failed_suggestions(session: Session, campaign_id: int) -> list[Suggestion]:
    return _with_stored_status(session, campaign_id, "failed")


def _with_stored_status(session: Session, campaign_id: int, status: str) -> list[Suggestion]:
    return list(session.scalars(
        select(Suggestion)
        .where(Suggestion.campaign_id == campaign_id, Suggestion.status == status)
        .order_by(Suggestion.id)
    ))


def status_as_of(now: datetime) -> ColumnElement[str]:
    """A suggestion's status at ``now``: a pending one past its expiry reads ``expired``
    before :func:`expire_suggestions` has marked it, so reading needs no write."""
    overdue = and_(Suggestion.status == "pending", Suggestion.expires_at <= now)
    return case((overdue, "expired"), else_=Suggestion.status)


def list_suggestions(
    session: Session,
    campaign_id: int,
    status: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    now: datetime | None = None,
) -> list[tuple[Suggestion, str, datetime | None]]:
    """The campaign's suggestions in the order they were handed out, each with its
    status at ``now`` (:func:`status_as_of`) and, once told, when its evaluation was
    stored; only those in ``status``, if given."""
    shown = status_as_of(now or utcnow())
    query = (select(Suggestion, shown, Evaluation.created_at)
             .outerjoin(Evaluation, Evaluation.id == Suggestion.evaluation_id)
             .where(Suggestion.campaign_id == campaign_id))
    if status is not None:
        query = query.where(shown == status)
    rows = session.execute(query.order_by(Suggestion.id).offset(offset).limit(limit))
    return [(suggestion, str(current), told_at) for suggestion, current, told_at in rows]


def count_suggestions(session: Session, campaign_id: int) -> int:
    """How many suggestions the campaign ever handed out (any status)."""
    return int(session.scalar(
        select(func.count()).select_from(Suggestion).where(Suggestion.campaign_id == campaign_id)
    ) or 0)


def suggestion_counts(
    session: Session, campaign_id: int, now: datetime | None = None
) -> dict[str, int]:
    """How many of the campaign's suggestions are in each status at ``now`` (every status
    named, zero or not)."""
    shown = status_as_of(now or utcnow())
    rows = session.execute(
        select(shown, func.count()).where(Suggestion.campaign_id == campaign_id).group_by(shown)
    )
    counts = dict.fromkeys(SUGGESTION_STATUSES, 0)
    counts.update({str(status): int(n) for status, n in rows})
    return counts


def suggestions_by_id(
    session: Session, campaign_id: int, ids: Iterable[int]
) -> dict[int, Suggestion]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(Suggestion).where(Suggestion.campaign_id == campaign_id, Suggestion.id.in_(wanted))
    )
    return {row.id: row for row in rows}


def all_evaluations(session: Session, campaign_id: int) -> list[Evaluation]:
    """Every evaluation of a campaign in seq order: what a model is fitted on. Meant
    for ask/tell campaigns, whose budgets are in the hundreds, not for MORL archives."""
    return list(session.scalars(
        select(Evaluation).where(Evaluation.campaign_id == campaign_id).order_by(Evaluation.seq)
    ))
