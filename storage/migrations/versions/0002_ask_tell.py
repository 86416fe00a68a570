"""Ask/tell and richer evaluations: evaluation ``meta``, outcome ``constraints`` and
``feasible``; ``campaigns.runs_on``; the ``suggestions`` table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Existing rows get ``meta`` NULL (read as ``{}``), feasible, and run by a worker.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("evaluations", sa.Column("meta", sa.JSON(), nullable=True))
    op.add_column("evaluations", sa.Column("constraints", sa.JSON(), nullable=True))
    op.add_column(
        "evaluations",
        sa.Column("feasible", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column(
        "campaigns",
        sa.Column("runs_on", sa.String(length=16), server_default="worker", nullable=False),
    )
    op.create_table(
        "suggestions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("evaluation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name=op.f("fk_suggestions_campaign_id_campaigns"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"], ["evaluations.id"],
            name=op.f("fk_suggestions_evaluation_id_evaluations"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestions")),
    )
    op.create_index(
        "ix_suggestions_campaign_id_status", "suggestions", ["campaign_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_suggestions_campaign_id_status", table_name="suggestions")
    op.drop_table("suggestions")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("runs_on")
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_column("feasible")
        batch.drop_column("constraints")
        batch.drop_column("meta")
