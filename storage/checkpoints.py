"""Checkpoints: the latest resumable algorithm state of each campaign (one row per
campaign, overwritten in place)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Checkpoint, utcnow


def save_checkpoint(
    session: Session, campaign_id: int, *, next_seq: int, budget_used: float, state: bytes
) -> None:
    """Insert or replace the campaign's checkpoint (an upsert: ``INSERT … ON CONFLICT
    DO UPDATE`` on SQLite and PostgreSQL). The caller commits."""
    values = {
        "campaign_id": campaign_id,
        "next_seq": int(next_seq),
        "budget_used": float(budget_used),
        "state": bytes(state),
        "updated_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        statement = insert(Checkpoint).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[Checkpoint.campaign_id],
            set_={key: statement.excluded[key] for key in values if key != "campaign_id"},
        )
        session.execute(statement)
    else:
        session.merge(Checkpoint(**values))
        session.flush()


def load_checkpoint(session: Session, campaign_id: int) -> Checkpoint | None:
    """The campaign's latest checkpoint, read afresh, or None."""
    return session.scalars(
        select(Checkpoint)
        .where(Checkpoint.campaign_id == campaign_id)
        .execution_options(populate_existing=True)
    ).first()
