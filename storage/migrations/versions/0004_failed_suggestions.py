"""Failed suggestions: ``suggestions.reason`` and ``suggestions.failed_at``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

A suggestion may now be ``failed`` (the user could not evaluate it). Existing rows keep
their status and get no reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("suggestions", sa.Column("reason", sa.Text(), nullable=True))
    op.add_column("suggestions", sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE suggestions SET status = 'expired' WHERE status = 'failed'")
    with op.batch_alter_table("suggestions") as batch:
        batch.drop_column("failed_at")
        batch.drop_column("reason")
