"""The metric history of a campaign: one snapshot per recorded batch (the
hypervolume-over-time curve). Snapshots are written by
:func:`storage.append_evaluations`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import MetricSnapshot


def history(session: Session, campaign_id: int) -> list[MetricSnapshot]:
    """The campaign's metric snapshots, ordered by seq (oldest first)."""
    return list(
        session.scalars(
            select(MetricSnapshot)
            .where(MetricSnapshot.campaign_id == campaign_id)
            .order_by(MetricSnapshot.seq, MetricSnapshot.id)
        ).all()
    )
