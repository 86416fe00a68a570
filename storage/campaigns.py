"""Campaign rows: create, read, list, delete, request cancellation.

Every function takes a :class:`~sqlalchemy.orm.Session` and leaves the commit to the
caller (one request or one worker step = one transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from pareto import check_reference_point
from storage.models import (
    BUDGET_UNITS,
    CAMPAIGN_STATUSES,
    FINISHED_STATUSES,
    REFERENCE_POINT_SOURCES,
    Artifact,
    Campaign,
    Checkpoint,
    Evaluation,
    MetricSnapshot,
    utcnow,
)

SENSES = ("minimize", "maximize")

# Bound on the number of bound parameters in one IN (...) list.
_IN_CHUNK = 500


def create_campaign(session: Session, **fields: Any) -> Campaign:
    """Insert a campaign and flush it (so ``id`` is set); the caller commits.

    ``fields`` are :class:`~storage.models.Campaign` columns. Required: ``name``,
    ``algorithm``, ``problem`` (a dict with at least ``"id"``), ``objective_names``,
    ``objective_senses``, ``budget``, ``budget_unit``. ``n_objectives`` defaults to
    the number of names; ``spec`` and ``params`` to ``{}``; ``status`` to
    ``"queued"``. A given ``reference_point`` (raw units) is checked and its source
    defaults to ``"user"``. Raises ValueError naming the field when one is
    inconsistent, TypeError for an unknown field.
    """
    fields = dict(fields)
    names = list(fields.get("objective_names") or [])
    senses = list(fields.get("objective_senses") or [])
    n_objectives = int(fields.setdefault("n_objectives", len(names)))
    if n_objectives < 1:
        raise ValueError("objective_names: a campaign needs at least one objective")
    if len(names) != n_objectives or len(senses) != n_objectives:
        raise ValueError(
            f"n_objectives is {n_objectives} but objective_names has {len(names)} entries "
            f"and objective_senses {len(senses)}; give one name and one sense per objective"
        )
    for index, sense in enumerate(senses):
        if sense not in SENSES:
            raise ValueError(f"objective_senses[{index}] is {sense!r}; allowed: {', '.join(SENSES)}")
    fields["objective_names"] = [str(name) for name in names]
    fields["objective_senses"] = senses
    status = fields.setdefault("status", "queued")
    if status not in CAMPAIGN_STATUSES:
        raise ValueError(f"status is {status!r}; allowed: {', '.join(CAMPAIGN_STATUSES)}")
    unit = fields.get("budget_unit")
    if unit not in BUDGET_UNITS:
        raise ValueError(f"budget_unit is {unit!r}; allowed: {', '.join(BUDGET_UNITS)}")
    if not fields.get("budget") or float(fields["budget"]) <= 0:
        raise ValueError(f"budget must be a positive number of {unit}; got {fields.get('budget')!r}")
    if fields.get("reference_point") is not None:
        point = check_reference_point(fields["reference_point"], n_objectives)
        fields["reference_point"] = [float(value) for value in point]
        fields.setdefault("reference_point_source", "user")
    source = fields.get("reference_point_source")
    if source is not None and source not in REFERENCE_POINT_SOURCES:
        raise ValueError(
            f"reference_point_source is {source!r}; allowed: {', '.join(REFERENCE_POINT_SOURCES)}"
        )
    fields.setdefault("spec", {})
    fields.setdefault("params", {})
    fields.setdefault("conventions", {})
    campaign = Campaign(**fields)
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(session: Session, campaign_id: int) -> Campaign | None:
    """The campaign with this id, or None. Reads the row afresh from the database."""
    return session.get(Campaign, campaign_id, populate_existing=True)


def list_campaigns(
    session: Session,
    *,
    status: str | Sequence[str] | None = None,
    algorithm: str | None = None,
    problem: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Campaign], int]:
    """One page of campaigns, newest first, and the total number matching the filters.

    ``status`` is one status or several; ``problem`` is a problem id, matched against
    ``problem["id"]``.
    """
    criteria: list[ColumnElement[bool]] = []
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        criteria.append(Campaign.status.in_(statuses))
    if algorithm is not None:
        criteria.append(Campaign.algorithm == algorithm)
    if problem is not None:
        criteria.append(Campaign.problem["id"].as_string() == problem)
    total = session.scalar(select(func.count()).select_from(Campaign).where(*criteria)) or 0
    page = session.scalars(
        select(Campaign)
        .where(*criteria)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(page), int(total)


def delete_campaign(session: Session, campaign_id: int) -> bool:
    """Delete a campaign with its evaluations, metric snapshots and checkpoint, and the
    artifacts that no other campaign's evaluation still references. False if there was
    no such campaign.

    The children are deleted explicitly (the foreign keys also cascade, but SQLite
    enforces them only on connections with ``PRAGMA foreign_keys=ON``).
    """
    if session.get(Campaign, campaign_id) is None:
        return False
    artifact_ids = session.scalars(
        select(Evaluation.artifact_id)
        .where(Evaluation.campaign_id == campaign_id, Evaluation.artifact_id.is_not(None))
        .distinct()
    ).all()
    for table in (Evaluation, MetricSnapshot, Checkpoint):
        session.execute(
            delete(table).where(table.campaign_id == campaign_id),
            execution_options={"synchronize_session": False},
        )
    session.execute(delete(Campaign).where(Campaign.id == campaign_id))
    for start in range(0, len(artifact_ids), _IN_CHUNK):
        chunk = artifact_ids[start : start + _IN_CHUNK]
        still_used = select(Evaluation.id).where(Evaluation.artifact_id == Artifact.id).exists()
        session.execute(
            delete(Artifact).where(Artifact.id.in_(chunk), ~still_used),
            execution_options={"synchronize_session": False},
        )
    session.expire_all()
    return True


def lock_campaign(session: Session, campaign_id: int) -> Campaign | None:
    """Read the campaign row afresh and lock it until the transaction ends: ``FOR
    UPDATE`` on PostgreSQL; on SQLite the transaction's write lock does the same."""
    return session.execute(
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def request_cancel(session: Session, campaign_id: int) -> Campaign | None:
    """Ask for a campaign to stop; returns it, or None if there is no such campaign.

    Sets ``cancel_requested``. A ``queued`` campaign is cancelled at once (status
    ``cancelled``, ``finished_at`` set) since no worker holds it; a ``running`` one
    stops when its worker next records a batch (the recorder raises ``Cancelled``);
    a finished one is left as it is. The row is locked (``FOR UPDATE`` on PostgreSQL)
    so this does not race a scheduler claiming the campaign.
    """
    campaign = lock_campaign(session, campaign_id)
    if campaign is None or campaign.status in FINISHED_STATUSES:
        return campaign
    campaign.cancel_requested = True
    if campaign.status == "queued":
        campaign.status = "cancelled"
        campaign.finished_at = utcnow()
    session.flush()
    return campaign
