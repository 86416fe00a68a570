"""Campaign rows, artifacts and checkpoints: create/list/cancel/delete (with its
cascade), content-addressed artifacts, checkpoint upserts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from storage import (
    Artifact,
    Campaign,
    Checkpoint,
    Evaluation,
    MetricSnapshot,
    NewEvaluation,
    append_evaluations,
    create_campaign,
    delete_campaign,
    get_artifact,
    get_campaign,
    list_campaigns,
    load_checkpoint,
    request_cancel,
    save_checkpoint,
    store_artifact,
)
from tests.storage.store_helpers import campaign_fields

Sessions = sessionmaker[Session]


def test_create_and_get(sessions: Sessions) -> None:
    with sessions() as session:
        campaign = create_campaign(
            session,
            **campaign_fields(senses=["maximize", "minimize"], conventions={"eval_gamma": 0.99}),
        )
        session.commit()
        campaign_id = campaign.id
    with sessions() as session:
        loaded = get_campaign(session, campaign_id)
        assert loaded is not None
        campaign = loaded
        assert campaign.status == "queued"
        assert campaign.n_objectives == 2
        assert campaign.objective_senses == ["maximize", "minimize"]
        assert campaign.conventions == {"eval_gamma": 0.99}
        assert campaign.problem_id == "branin-currin"
        assert (campaign.budget_used, campaign.n_evaluations, campaign.front_size) == (0.0, 0, 0)
        assert (campaign.attempts, campaign.max_attempts, campaign.cancel_requested) == (0, 3, False)
        assert campaign.reference_point is None and campaign.hypervolume is None
        assert campaign.progress == 0.0
        assert campaign.created_at.tzinfo is not None
        assert abs(campaign.created_at - datetime.now(UTC)) < timedelta(minutes=1)
        assert get_campaign(session, campaign_id + 1000) is None


def test_timestamps_come_back_in_utc(sessions: Sessions) -> None:
    started = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    with sessions() as session:
        campaign = create_campaign(session, **campaign_fields(started_at=started))
        session.commit()
        campaign_id = campaign.id
    with sessions() as session:
        loaded = get_campaign(session, campaign_id)
        assert loaded is not None and loaded.started_at is not None
        assert loaded.started_at == started
        assert loaded.started_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"objective_senses": ["maximize"]}, "one name and one sense per objective"),
        ({"objective_senses": ["maximize", "up"]}, r"objective_senses\[1\]"),
        ({"budget_unit": "steps"}, "budget_unit"),
        ({"budget": 0}, "budget must be a positive"),
        ({"reference_point": [0.0, float("nan")]}, r"reference_point\[1\]"),
        ({"reference_point": [0.0]}, "2 objectives"),
        ({"status": "paused"}, "status"),
    ],
)
def test_create_rejects_inconsistent_fields(
    sessions: Sessions, overrides: dict[str, object], message: str
) -> None:
    with sessions() as session, pytest.raises(ValueError, match=message):
        create_campaign(session, **campaign_fields(**overrides))


def test_list_filters_and_pages_newest_first(sessions: Sessions) -> None:
    with sessions() as session:
        now = datetime.now(UTC)
        for index in range(7):
            create_campaign(
                session,
                **campaign_fields(
                    name=f"c{index}",
                    algorithm="sobol" if index % 2 else "qnehvi",
                    problem={"kind": "test-function", "id": "zdt1" if index < 3 else "dtlz2"},
                    status="running" if index in (1, 4) else "queued",
                    created_at=now + timedelta(seconds=index),
                ),
            )
        session.commit()
    with sessions() as session:
        page, total = list_campaigns(session, limit=3)
        assert total == 7
        assert [c.name for c in page] == ["c6", "c5", "c4"]
        page, total = list_campaigns(session, limit=3, offset=6)
        assert ([c.name for c in page], total) == (["c0"], 7)
        page, total = list_campaigns(session, status="running")
        assert ([c.name for c in page], total) == (["c4", "c1"], 2)
        page, total = list_campaigns(session, status=["running", "queued"], algorithm="sobol")
        assert [c.name for c in page] == ["c5", "c3", "c1"]
        page, total = list_campaigns(session, problem="zdt1")
        assert [c.name for c in page] == ["c2", "c1", "c0"]
        page, total = list_campaigns(session, problem="zdt1", algorithm="sobol", status="queued")
        assert (page, total) == ([], 0)


def test_request_cancel(sessions: Sessions, new_campaign: Callable[..., int]) -> None:
    queued = new_campaign()
    running = new_campaign(status="running")
    finished = new_campaign(status="succeeded")
    with sessions() as session:
        for campaign_id in (queued, running, finished):
            request_cancel(session, campaign_id)
        assert request_cancel(session, 9999) is None
        session.commit()
    with sessions() as session:
        states = {}
        for campaign_id in (queued, running, finished):
            campaign = get_campaign(session, campaign_id)
            assert campaign is not None
            states[campaign_id] = (campaign.status, campaign.cancel_requested,
                                   campaign.finished_at is not None)
    assert states == {
        queued: ("cancelled", True, True),
        running: ("running", True, False),
        finished: ("succeeded", False, False),
    }
    with sessions() as session:
        result = append_evaluations(session, running, [NewEvaluation(0, [1.0, 1.0])])
    assert result.cancel_requested


def _count(session: Session, model: type, campaign_id: int | None = None) -> int:
    query = select(func.count()).select_from(model)
    if campaign_id is not None:
        query = query.where(model.campaign_id == campaign_id)  # type: ignore[attr-defined]
    return int(session.scalar(query) or 0)


def test_delete_cascades_and_removes_orphan_artifacts(
    sessions: Sessions, new_campaign: Callable[..., int]
) -> None:
    doomed, kept = new_campaign(), new_campaign()
    with sessions() as session:
        own = store_artifact(session, b"only the doomed campaign's policy", "application/x-pt")
        shared = store_artifact(session, b"a network both campaigns use")
        session.commit()
        own_id, shared_id = own.id, shared.id
    with sessions() as session:
        append_evaluations(session, doomed, [
            NewEvaluation(0, [1.0, 2.0], kind="policy", artifact_id=own_id),
            NewEvaluation(1, [2.0, 1.0], kind="policy", artifact_id=shared_id),
            NewEvaluation(2, [0.0, 0.0]),
        ])
    with sessions() as session:
        append_evaluations(session, kept, [NewEvaluation(0, [1.0, 1.0], artifact_id=shared_id)])
    with sessions() as session:
        save_checkpoint(session, doomed, next_seq=3, budget_used=3.0, state=b"state")
        session.commit()
        assert delete_campaign(session, doomed) is True
        session.commit()
        assert delete_campaign(session, doomed) is False
    with sessions() as session:
        assert get_campaign(session, doomed) is None
        assert _count(session, Evaluation, doomed) == 0
        assert _count(session, MetricSnapshot, doomed) == 0
        assert _count(session, Checkpoint, doomed) == 0
        assert get_artifact(session, own_id) is None
        assert get_artifact(session, shared_id) is not None
        assert _count(session, Evaluation, kept) == 1
        assert _count(session, MetricSnapshot, kept) == 1


def test_database_cascade_on_raw_delete(
    sessions: Sessions, new_campaign: Callable[..., int]
) -> None:
    """The foreign keys themselves cascade (SQLite enforces them on our connections)."""
    campaign_id = new_campaign()
    with sessions() as session:
        append_evaluations(session, campaign_id, [NewEvaluation(0, [1.0, 2.0])])
    with sessions() as session:
        save_checkpoint(session, campaign_id, next_seq=1, budget_used=1.0, state=b"")
        session.execute(delete(Campaign).where(Campaign.id == campaign_id))
        session.commit()
        assert _count(session, Evaluation) == 0
        assert _count(session, MetricSnapshot) == 0
        assert _count(session, Checkpoint) == 0


def test_artifacts_are_deduplicated(sessions: Sessions) -> None:
    blob = bytes(range(256)) * 1000
    with sessions() as session:
        first = store_artifact(session, blob, "application/octet-stream")
        second = store_artifact(session, blob, "application/octet-stream")
        other = store_artifact(session, blob + b"!", "application/octet-stream")
        session.commit()
        assert first.id == second.id != other.id
        assert second.data == blob
        assert (first.size, len(first.sha256)) == (256_000, 64)
        first_id = first.id
    with sessions() as session:
        artifact = get_artifact(session, first_id)
        assert artifact is not None
        assert artifact.data == blob
        assert artifact.content_type == "application/octet-stream"
        assert _count(session, Artifact) == 2
        assert get_artifact(session, 12345) is None


def test_checkpoints_upsert(sessions: Sessions, new_campaign: Callable[..., int]) -> None:
    campaign_id = new_campaign()
    with sessions() as session:
        assert load_checkpoint(session, campaign_id) is None
        save_checkpoint(session, campaign_id, next_seq=10, budget_used=10.0, state=b"first")
        session.commit()
        first = load_checkpoint(session, campaign_id)
        assert first is not None
        first_time = first.updated_at
        save_checkpoint(session, campaign_id, next_seq=25, budget_used=31.5, state=b"second")
        session.commit()
    with sessions() as session:
        checkpoint = load_checkpoint(session, campaign_id)
        assert checkpoint is not None
        assert (checkpoint.next_seq, checkpoint.budget_used, checkpoint.state) == (
            25, 31.5, b"second"
        )
        assert checkpoint.updated_at >= first_time
        assert checkpoint.updated_at.tzinfo is not None
        assert _count(session, Checkpoint) == 1
