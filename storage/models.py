"""The tables of the store, as SQLAlchemy 2.0 typed models.

One row per campaign, one append-only row per evaluated candidate or policy (with its
raw objective vector on the row and an ``on_front`` flag maintained on insert), blobs
in ``artifacts``, the hypervolume-over-time curve in ``metric_snapshots`` and the latest
resumable algorithm state in ``checkpoints``. Every schema change here needs a matching
alembic migration in ``storage/migrations/versions`` (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from pareto import Sense

# Constraint names are spelled out so that migrations name them identically on every
# database (SQLite and PostgreSQL would otherwise pick different names).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CAMPAIGN_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED_STATUSES = ("succeeded", "failed", "cancelled")
EVALUATION_KINDS = ("candidate", "policy")
BUDGET_UNITS = ("evaluations", "env_steps")
REFERENCE_POINT_SOURCES = ("user", "published", "nadir")


def utcnow() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every back end.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are
    converted to UTC before they are written and tagged UTC when read back. A naive
    datetime given to the store is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# 64-bit ids on PostgreSQL; SQLite only autoincrements a column declared INTEGER.
BigIntegerId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        list[float]: JSON,
        list[str]: JSON,
        datetime: UTCDateTime,
        bytes: LargeBinary,
    }


class Campaign(Base):
    """One optimisation run: an algorithm on a problem, with a budget and a seed.

    ``status`` goes ``queued`` → ``running`` → ``succeeded`` | ``failed`` |
    ``cancelled``. ``reference_point`` is in raw units (the problem's own senses and
    objective order); it is ``None`` until fixed — given by the user, published for
    the problem, or set to the nadir rule at the first metric snapshot — and never
    changes afterwards. ``n_evaluations``, ``front_size``, ``budget_used`` and
    ``hypervolume`` are maintained by :func:`storage.append_evaluations`.
    """

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    algorithm: Mapped[str] = mapped_column(String(100), index=True)
    problem: Mapped[dict[str, Any]]
    spec: Mapped[dict[str, Any]]
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(
        String(16), index=True, default="queued", server_default="queued"
    )
    error: Mapped[str | None] = mapped_column(Text)
    n_objectives: Mapped[int] = mapped_column(Integer)
    objective_names: Mapped[list[str]]
    objective_senses: Mapped[list[Sense]] = mapped_column(JSON)
    reference_point: Mapped[list[float] | None]
    reference_point_source: Mapped[str | None] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    budget: Mapped[float] = mapped_column(Float)
    budget_unit: Mapped[str] = mapped_column(String(16))
    budget_used: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    n_evaluations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    front_size: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hypervolume: Mapped[float | None] = mapped_column(Float)
    conventions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    worker: Mapped[str | None] = mapped_column(String(255))
    device: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    max_attempts: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    cancel_requested: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    code_version: Mapped[str] = mapped_column(String(100), default="")
    message: Mapped[str | None] = mapped_column(Text)
    # "worker": the scheduler runs it; "client": an ask/tell campaign the user drives
    runs_on: Mapped[str] = mapped_column(String(16), default="worker", server_default="worker")

    @property
    def progress(self) -> float:
        """Fraction of the budget used, in [0, 1]."""
        if not self.budget or self.budget <= 0:
            return 0.0
        return min(1.0, max(0.0, (self.budget_used or 0.0) / self.budget))

    @property
    def problem_id(self) -> str | None:
        """The problem's id (``problem["id"]``), the key campaigns are compared by."""
        return self.problem.get("id") if isinstance(self.problem, dict) else None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    def __repr__(self) -> str:
        return f"Campaign(id={self.id!r}, name={self.name!r}, status={self.status!r})"


class Artifact(Base):
    """A blob (policy weights, a network shared by many policies…), content-addressed
    by ``sha256`` + ``size`` so storing the same bytes twice returns one row."""

    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Artifact(id={self.id!r}, sha256={self.sha256[:12]!r}…, size={self.size!r})"


class Evaluation(Base):
    """One evaluated candidate (BO) or policy (MORL). Append-only.

    ``objectives`` are the raw values as the user sees them, in the campaign's
    objective order and senses. ``params`` is what was evaluated (x by name, or a
    preference), ``meta`` where it came from (iteration, stage…). ``constraints`` are
    outcome-constraint slacks (feasible iff all >= 0); an infeasible row is never on
    the front. ``budget_used`` is the campaign's budget used once
    this item was recorded. ``on_front`` is True exactly for the rows that no other
    row of the campaign dominates; it is maintained on insert, and the partial index
    ``ix_evaluations_front`` holds only those rows, so front queries never scan the
    dominated ones. Filter with ``Evaluation.on_front`` (rendered ``on_front = 1`` on
    SQLite, ``on_front`` on PostgreSQL: the same predicates as the index's).
    """

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("campaign_id", "seq"),
        Index(
            "ix_evaluations_front",
            "campaign_id",
            "seq",
            postgresql_where=text("on_front"),
            sqlite_where=text("on_front = 1"),
        ),
        Index(
            "ix_evaluations_artifact_id",
            "artifact_id",
            postgresql_where=text("artifact_id IS NOT NULL"),
            sqlite_where=text("artifact_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="candidate", server_default="candidate")
    objectives: Mapped[list[float]]
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    budget_used: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    on_front: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    meta: Mapped[dict[str, Any] | None] = mapped_column(default=dict)
    constraints: Mapped[list[float] | None]
    feasible: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    artifact_id: Mapped[int | None] = mapped_column(
        ForeignKey("artifacts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return (
            f"Evaluation(campaign_id={self.campaign_id!r}, seq={self.seq!r}, "
            f"objectives={self.objectives!r}, on_front={self.on_front!r})"
        )


class MetricSnapshot(Base):
    """The campaign's state after one recorded batch: one point of the HV-over-time
    curve. ``seq`` is the last seq of the batch; ``wall_seconds`` counts from the
    campaign's start; ``extras`` holds per-iteration diagnostics (e.g. fit_seconds)."""

    __tablename__ = "metric_snapshots"
    __table_args__ = (Index("ix_metric_snapshots_campaign_id_seq", "campaign_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    n_evaluations: Mapped[int] = mapped_column(Integer)
    budget_used: Mapped[float] = mapped_column(Float)
    hypervolume: Mapped[float | None] = mapped_column(Float)
    front_size: Mapped[int] = mapped_column(Integer)
    wall_seconds: Mapped[float | None] = mapped_column(Float)
    extras: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return (
            f"MetricSnapshot(campaign_id={self.campaign_id!r}, seq={self.seq!r}, "
            f"hypervolume={self.hypervolume!r}, front_size={self.front_size!r})"
        )


class Checkpoint(Base):
    """The latest resumable algorithm state of a campaign (one row per campaign)."""

    __tablename__ = "checkpoints"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    next_seq: Mapped[int] = mapped_column(Integer)
    budget_used: Mapped[float] = mapped_column(Float)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"Checkpoint(campaign_id={self.campaign_id!r}, next_seq={self.next_seq!r})"


SUGGESTION_STATUSES = ("pending", "told", "expired", "failed")


class Suggestion(Base):
    """A point handed out by ``ask`` for an external (ask/tell) campaign.

    ``pending`` until a result is told for it (``told``, with the evaluation it became),
    until ``expires_at`` passes (``expired``), or until the user reports that its
    evaluation failed (``failed``, with the ``reason`` they gave). Pending suggestions
    are conditioned on, so the campaign never suggests the same point twice while
    results are out; failed ones teach the BO methods where evaluations fail.
    """

    __tablename__ = "suggestions"
    __table_args__ = (Index("ix_suggestions_campaign_id_status", "campaign_id", "status"),)

    id: Mapped[int] = mapped_column(BigIntegerId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    params: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    evaluation_id: Mapped[int | None] = mapped_column(
        ForeignKey("evaluations.id", ondelete="SET NULL")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"Suggestion(id={self.id!r}, campaign_id={self.campaign_id!r}, {self.status})"


TOKEN_SCOPES = ("read", "submit", "admin")  # each grants what the ones before it grant


class ApiToken(Base):
    """An API token. Only the SHA-256 of its secret is stored (the secret is shown once,
    when it is created); ``prefix`` is the secret's first characters, so a person can
    tell their tokens apart in ``mofront token list``. A revoked token keeps its row
    (``revoked_at`` set) and is refused."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(16))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"ApiToken(id={self.id!r}, name={self.name!r}, scope={self.scope!r})"
