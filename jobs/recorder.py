"""The recorder a worker hands to an algorithm: it persists every evaluated item the
moment it is recorded, keeps progress and history, checkpoints, and raises
``Cancelled`` once the campaign has been cancelled.

Sequence numbers are the recorder's: item *k* of a campaign gets ``seq = k``. A
checkpoint stores the next seq with the algorithm's state, so a resumed campaign
re-assigns the same seqs to the items it regenerates after the checkpoint; the store
ignores seqs it already has, so nothing is duplicated and nothing is lost.

Every store call is one unit retried with back-off when the database connection is
lost (:func:`storage.retry_on_disconnect`): a PostgreSQL restart or a terminated
backend pauses the campaign instead of killing its worker. Each unit is idempotent
(the seq rule above; a checkpoint overwrites; artifacts are content-addressed).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from jobs.protocol import Cancelled, Evaluated
from storage import (
    AppendResult,
    NewEvaluation,
    append_evaluations,
    get_campaign,
    load_checkpoint,
    retry_on_disconnect,
    save_checkpoint,
    store_artifact,
)

T = TypeVar("T")


class StoreRecorder:
    """:class:`jobs.protocol.Recorder` backed by the SQL store."""

    def __init__(self, sessions: sessionmaker[Session], campaign_id: int):
        self._sessions = sessions
        self._campaign_id = campaign_id

        def read() -> tuple[float, datetime | None]:
            with sessions() as session:
                campaign = _campaign(session, campaign_id)
                return float(campaign.budget), campaign.started_at

        self._budget, self._started = self._retrying(read, "reading the campaign")
        self._next_seq = 0
        self._budget_used = 0.0
        self._extras: dict[str, float] = {}
        self._clock_start = time.monotonic()

    @property
    def budget(self) -> float:
        return self._budget

    @property
    def budget_used(self) -> float:
        return self._budget_used

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def record(self, items: Sequence[Evaluated]) -> None:
        budget_used = self._budget_used
        costs = []
        for item in items:
            budget_used += float(item.cost)
            costs.append(budget_used)

        def store_artifacts() -> list[NewEvaluation]:
            rows = []
            with self._sessions() as session:
                for offset, (item, used) in enumerate(zip(items, costs, strict=True)):
                    artifact_id = None
                    if item.artifact is not None:
                        artifact = store_artifact(session, item.artifact,
                                                  item.artifact_content_type)
                        artifact_id = artifact.id
                    rows.append(NewEvaluation(
                        seq=self._next_seq + offset,
                        objectives=[float(v) for v in item.objectives],
                        params=item.params,
                        kind=item.kind,
                        budget_used=used,
                        artifact_id=artifact_id,
                        meta=item.meta,
                        constraints=item.constraints,
                    ))
                session.commit()
            return rows

        def append(rows: list[NewEvaluation]) -> AppendResult:
            with self._sessions() as session:
                return append_evaluations(
                    session,
                    self._campaign_id,
                    rows,
                    extras=self._extras or None,
                    wall_seconds=self._wall_seconds(),
                )

        rows = self._retrying(store_artifacts, "storing artifacts")
        result = self._retrying(lambda: append(rows), f"recording seqs {self._next_seq}…")
        self._extras = {}
        self._next_seq += len(rows)
        self._budget_used = budget_used
        if result.cancel_requested:
            raise Cancelled(f"campaign {self._campaign_id} was cancelled")

    def progress(self, budget_used: float, message: str | None = None) -> None:
        self._budget_used = float(budget_used)

        def update() -> bool:
            with self._sessions() as session:
                campaign = _campaign(session, self._campaign_id)
                campaign.budget_used = max(campaign.budget_used, self._budget_used)
                if message is not None:
                    campaign.message = message
                cancelled = bool(campaign.cancel_requested)
                session.commit()
                return cancelled

        if self._retrying(update, "updating progress"):
            raise Cancelled(f"campaign {self._campaign_id} was cancelled")

    def checkpoint(self, state: dict[str, Any]) -> None:
        blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

        def save() -> None:
            with self._sessions() as session:
                save_checkpoint(session, self._campaign_id, next_seq=self._next_seq,
                                budget_used=self._budget_used, state=blob)
                session.commit()

        self._retrying(save, "saving a checkpoint")

    def restore(self) -> dict[str, Any] | None:
        def load() -> Any:
            with self._sessions() as session:
                return load_checkpoint(session, self._campaign_id)

        checkpoint = self._retrying(load, "loading the checkpoint")
        if checkpoint is None:
            return None
        self._next_seq = checkpoint.next_seq
        self._budget_used = checkpoint.budget_used
        state: dict[str, Any] = pickle.loads(checkpoint.state)
        return state

    def log(self, **values: float) -> None:
        self._extras.update({name: float(value) for name, value in values.items()})

    def _wall_seconds(self) -> float:
        if self._started is None:
            return time.monotonic() - self._clock_start
        started = self._started if self._started.tzinfo else self._started.replace(tzinfo=UTC)
        return (datetime.now(UTC) - started).total_seconds()

    def _retrying(self, operation: Callable[[], T], what: str) -> T:
        return retry_on_disconnect(operation, what, campaign_id=self._campaign_id)


def _campaign(session: Session, campaign_id: int) -> Any:
    campaign = get_campaign(session, campaign_id)
    if campaign is None:
        raise Cancelled(f"campaign {campaign_id} no longer exists")
    return campaign
