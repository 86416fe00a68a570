"""The mofront store: it owns the database schema (SQLAlchemy 2.0 typed models for
campaigns, append-only evaluations with their raw objective vectors and a maintained
``on_front`` flag, artifacts, metric snapshots, checkpoints and hashed API tokens), the engine and
session setup for SQLite (WAL, ``BEGIN IMMEDIATE`` writers) and PostgreSQL (row
locks), the alembic migrations shipped in ``storage/migrations``, and the
intention-named queries the workers and the API need (``append_evaluations``,
``front``, ``history``…). Query functions take a ``Session`` and leave the commit to
the caller, except :func:`append_evaluations`, which commits its own transaction when
given a fresh session. Of mofront's packages it imports only ``pareto``.
"""

from storage.artifacts import get_artifact, store_artifact
from storage.campaigns import (
    create_campaign,
    delete_campaign,
    get_campaign,
    list_campaigns,
    lock_campaign,
    request_cancel,
)
from storage.checkpoints import load_checkpoint, save_checkpoint
from storage.engine import database_url, make_engine, make_sessionmaker, upgrade
from storage.evaluations import (
    AppendResult,
    CampaignNotFound,
    NewEvaluation,
    append_evaluations,
    evaluations_with_artifacts,
    feasible_objectives,
    front,
    front_hypervolume,
    front_meta,
    front_objectives,
    get_evaluation,
    latest_with_artifact,
    list_evaluations,
)
from storage.metrics import history
from storage.models import (
    CAMPAIGN_STATUSES,
    FINISHED_STATUSES,
    SUGGESTION_STATUSES,
    TOKEN_SCOPES,
    ApiToken,
    Artifact,
    Base,
    Campaign,
    Checkpoint,
    Evaluation,
    MetricSnapshot,
    Suggestion,
)
from storage.retry import retry_on_disconnect
from storage.suggestions import (
    add_suggestions,
    all_evaluations,
    count_suggestions,
    expire_suggestions,
    failed_suggestions,
    list_suggestions,
    pending_suggestions,
    suggestion_counts,
    suggestions_by_id,
)
from storage.tokens import create_token, find_token, list_tokens, revoke_token, tokens_exist

__all__ = [
    "CAMPAIGN_STATUSES",
    "FINISHED_STATUSES",
    "SUGGESTION_STATUSES",
    "TOKEN_SCOPES",
    "ApiToken",
    "AppendResult",
    "Artifact",
    "Base",
    "Campaign",
    "CampaignNotFound",
    "Checkpoint",
    "Evaluation",
    "MetricSnapshot",
    "NewEvaluation",
    "Suggestion",
    "add_suggestions",
    "all_evaluations",
    "append_evaluations",
    "count_suggestions",
    "create_campaign",
    "create_token",
    "database_url",
    "delete_campaign",
    "evaluations_with_artifacts",
    "expire_suggestions",
    "failed_suggestions",
    "feasible_objectives",
    "find_token",
    "front",
    "front_hypervolume",
    "front_meta",
    "front_objectives",
    "get_artifact",
    "get_campaign",
    "get_evaluation",
    "history",
    "latest_with_artifact",
    "list_campaigns",
    "list_evaluations",
    "list_suggestions",
    "list_tokens",
    "load_checkpoint",
    "lock_campaign",
    "make_engine",
    "make_sessionmaker",
    "pending_suggestions",
    "request_cancel",
    "retry_on_disconnect",
    "revoke_token",
    "save_checkpoint",
    "store_artifact",
    "suggestion_counts",
    "suggestions_by_id",
    "tokens_exist",
    "upgrade",
]
