"""append_evaluations keeps ``on_front`` equal to the brute-force non-dominated set,
whatever the batches; retries are no-ops; bad vectors write nothing; front queries
read only the front rows; the reference point is fixed once; history is recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from pareto import Sense, default_reference_point, from_maximization, hypervolume, to_maximization
from storage import (
    Campaign,
    CampaignNotFound,
    Evaluation,
    MetricSnapshot,
    NewEvaluation,
    append_evaluations,
    front,
    front_hypervolume,
    front_objectives,
    get_campaign,
    get_evaluation,
    history,
    list_evaluations,
    make_engine,
    make_sessionmaker,
)
from tests.storage.store_helpers import brute_force_front_mask

Sessions = sessionmaker[Session]


def batch(start: int, points: Any, **fields: Any) -> list[NewEvaluation]:
    return [
        NewEvaluation(seq=start + offset, objectives=[float(v) for v in point], **fields)
        for offset, point in enumerate(np.asarray(points, dtype=float).tolist())
    ]


def append(sessions: Sessions, campaign_id: int, items: list[NewEvaluation], **kwargs: Any) -> Any:
    with sessions() as session:
        return append_evaluations(session, campaign_id, items, **kwargs)


def stored(sessions: Sessions, campaign_id: int) -> tuple[list[Evaluation], Campaign]:
    with sessions() as session:
        rows = session.scalars(
            select(Evaluation).where(Evaluation.campaign_id == campaign_id).order_by(Evaluation.seq)
        ).all()
        campaign = get_campaign(session, campaign_id)
        assert campaign is not None
        return list(rows), campaign


def check_against_brute_force(sessions: Sessions, campaign_id: int) -> None:
    """Every invariant of the store against a recomputation from all rows."""
    rows, campaign = stored(sessions, campaign_id)
    senses = campaign.objective_senses
    points = to_maximization(
        np.array([row.objectives for row in rows]).reshape(-1, campaign.n_objectives), senses
    )
    expected = brute_force_front_mask(points)
    assert [row.on_front for row in rows] == expected.tolist()
    assert campaign.n_evaluations == len(rows)
    assert campaign.front_size == int(expected.sum())
    with sessions() as session:
        assert [row.seq for row in front(session, campaign_id)] == [
            row.seq for row, keep in zip(rows, expected, strict=True) if keep
        ]
        for subset in ([0], [campaign.n_objectives - 1], list(range(campaign.n_objectives))[::-1]):
            # A front row is on the subset's front iff no evaluation at all dominates it
            # there (rows off the full front are never returned).
            projected_mask = brute_force_front_mask(points[:, subset])
            assert [row.seq for row in front(session, campaign_id, subset)] == [
                row.seq
                for row, on_front, on_subset in zip(rows, expected, projected_mask, strict=True)
                if on_front and on_subset
            ]
    if rows:
        assert campaign.reference_point is not None
        reference = to_maximization(campaign.reference_point, senses)
        assert campaign.hypervolume == pytest.approx(hypervolume(points[expected], reference))


@st.composite
def campaigns_in_batches(draw: st.DrawFn) -> tuple[list[str], np.ndarray, list[int], list[int]]:
    """Senses, points on a small integer grid (ties and duplicates are common), the
    batch boundaries, and which batches get recorded a second time."""
    n_objectives = draw(st.integers(1, 3))
    senses = draw(
        st.lists(st.sampled_from(["minimize", "maximize"]), min_size=n_objectives,
                 max_size=n_objectives)
    )
    n_points = draw(st.integers(1, 40))
    values = draw(
        st.lists(st.integers(-3, 3), min_size=n_points * n_objectives,
                 max_size=n_points * n_objectives)
    )
    points = np.array(values, dtype=float).reshape(n_points, n_objectives)
    cuts = sorted(set(draw(st.lists(st.integers(1, n_points), max_size=6))) | {n_points})
    retried = draw(st.lists(st.integers(0, len(cuts) - 1), max_size=3))
    return senses, points, cuts, retried


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=campaigns_in_batches())
def test_front_equals_brute_force_whatever_the_batches(
    sessions: Sessions, new_campaign: Callable[..., int], case: Any
) -> None:
    senses, points, cuts, retried = case
    campaign_id = new_campaign(senses=senses)
    start = 0
    batches = []
    for end in cuts:
        batches.append(batch(start, points[start:end]))
        start = end
    for index, items in enumerate(batches):
        result = append(sessions, campaign_id, items)
        assert (result.inserted, result.skipped) == (len(items), 0)
        check_against_brute_force(sessions, campaign_id)
        if index in retried:
            result = append(sessions, campaign_id, items)
            assert (result.inserted, result.skipped) == (0, len(items))
    check_against_brute_force(sessions, campaign_id)


def test_large_batches_with_many_dominated_front_rows(
    sessions: Sessions, new_campaign: Callable[..., int]
) -> None:
    """A front of 1,200 points, then a batch that dominates all of them at once (more
    than one IN-list chunk of ids to flip), then random 3-objective batches."""
    campaign_id = new_campaign(senses=["maximize", "minimize", "maximize"])
    line = np.linspace(0, 1, 1200)
    append(sessions, campaign_id, batch(0, np.column_stack([line, -(1 - line) - 5, line * 0])))
    _, campaign = stored(sessions, campaign_id)
    assert campaign.front_size == 1200
    append(sessions, campaign_id, batch(1200, [[2.0, -10.0, 1.0], [2.0, -10.0, 1.0]]))
    _, campaign = stored(sessions, campaign_id)
    assert campaign.front_size == 2  # two duplicates of the new best point
    rng = np.random.default_rng(7)
    seq = 1202
    for size in (500, 1, 999, 300):
        append(sessions, campaign_id, batch(seq, rng.normal(size=(size, 3)) * [1, 5, 1] + [1, -8, 0]))
        seq += size
    check_against_brute_force(sessions, campaign_id)


def test_retried_and_overlapping_batches_are_idempotent(
    sessions: Sessions, new_campaign: Callable[..., int]
) -> None:
    campaign_id = new_campaign()
    empty = append(sessions, campaign_id, [])
    assert (empty.inserted, empty.skipped, empty.n_evaluations) == (0, 0, 0)
    first = batch(0, [[i, 10 - i] for i in range(10)])
    assert append(sessions, campaign_id, first).inserted == 10
    again = append(sessions, campaign_id, first)
    assert (again.inserted, again.skipped) == (0, 10)
    overlapping = batch(5, [[i, 10 - i] for i in range(5, 15)])
    result = append(sessions, campaign_id, overlapping)
    assert (result.inserted, result.skipped) == (5, 5)
    duplicated = [NewEvaluation(seq=20, objectives=[1.0, 1.0]), NewEvaluation(20, [9.0, 9.0])]
    result = append(sessions, campaign_id, duplicated)
    assert (result.inserted, result.skipped) == (1, 1)
    rows, campaign = stored(sessions, campaign_id)
    assert [row.seq for row in rows] == [*range(15), 20]
    assert rows[-1].objectives == [1.0, 1.0]  # the first of the repeated seq wins
    assert campaign.n_evaluations == 16
    with sessions() as session:
        assert len(history(session, campaign_id)) == 3  # retries write no snapshot
    check_against_brute_force(sessions, campaign_id)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([NewEvaluation(0, [1.0, 2.0]), NewEvaluation(1, [float("nan"), 0.0])], "seq 1"),
        ([NewEvaluation(0, [1.0, 2.0]), NewEvaluation(7, [float("inf"), 0.0])], "seq 7"),
        ([NewEvaluation(3, [1.0, 2.0, 3.0])], "seq 3: got 3 objective values"),
        ([NewEvaluation(4, [1.0])], "seq 4: got 1 objective values"),
        ([NewEvaluation(5, ["a", 1.0])], "seq 5"),  # type: ignore[list-item]
        ([NewEvaluation(6, [1.0, 2.0], kind="policyy")], "seq 6: kind"),
        ([NewEvaluation(-1, [1.0, 2.0])], "non-negative"),
    ],
)
def test_invalid_items_are_rejected_and_nothing_is_written(
    sessions: Sessions, new_campaign: Callable[..., int], items: list[NewEvaluation], message: str
) -> None:
    campaign_id = new_campaign()
    append(sessions, campaign_id, batch(100, [[0.5, 0.5]]))
    with pytest.raises(ValueError, match=message):
        append(sessions, campaign_id, items)
    rows, campaign = stored(sessions, campaign_id)
    assert [row.seq for row in rows] == [100]
    assert (campaign.n_evaluations, campaign.front_size) == (1, 1)
    with sessions() as session:
        assert len(history(session, campaign_id)) == 1


def test_unknown_campaign(sessions: Sessions) -> None:
    with pytest.raises(CampaignNotFound, match="campaign 999"):
        append(sessions, 999, batch(0, [[1.0, 2.0]]))


def test_append_inside_a_callers_transaction_leaves_the_commit_to_it(
    sessions: Sessions, new_campaign: Callable[..., int]
) -> None:
    campaign_id = new_campaign()
    with sessions() as session:
        assert get_campaign(session, campaign_id) is not None  # a transaction is now open
        append_evaluations(session, campaign_id, batch(0, [[1.0, 1.0]]))
        session.rollback()
    assert stored(sessions, campaign_id)[0] == []


def _statements_on(engine: Engine) -> tuple[list[tuple[str, Any]], Callable[[], None]]:
    captured: list[tuple[str, Any]] = []

    def listener(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "after_cursor_execute", listener)
    return captured, lambda: event.remove(engine, "after_cursor_execute", listener)


def test_front_queries_read_only_front_rows(
    engine: Engine, sessions: Sessions, new_campaign: Callable[..., int]
) -> None:
    campaign_id = new_campaign()
    rng = np.random.default_rng(0)
    append(sessions, campaign_id, batch(0, rng.random((300, 2))))
    captured, stop = _statements_on(engine)
    try:
        append(sessions, campaign_id, batch(300, rng.random((50, 2))))
        with sessions() as session:
            front(session, campaign_id)
            campaign = get_campaign(session, campaign_id)
            assert campaign is not None
            front_hypervolume(session, campaign, [0.0, 0.0])
    finally:
        stop()
    reads = [
        (statement, parameters)
        for statement, parameters in captured
        if statement.lstrip().upper().startswith("SELECT") and "FROM evaluations" in statement
        and "seq BETWEEN" not in statement and ".seq IN" not in statement
    ]
    assert len(reads) == 3  # append's front read, front(), front_hypervolume()
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # Tiny tables are cheapest to scan; forbid that to see the index is usable.
            connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in reads:
            assert "on_front" in statement
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            plan = " ".join(
                str(column)
                for row in connection.exec_driver_sql(prefix + statement, parameters).all()
                for column in row
            )
            assert "ix_evaluations_front" in plan, plan


def test_reference_point_is_fixed_at_the_first_snapshot(
    sessions: Sessions, new_campaign: Callable[..., int]
) -> None:
    senses: list[Sense] = ["maximize", "minimize"]
    campaign_id = new_campaign(senses=senses)
    first = [[1.0, 5.0], [3.0, 9.0], [2.0, 7.0]]
    append(sessions, campaign_id, batch(0, first))
    _, campaign = stored(sessions, campaign_id)
    expected = from_maximization(default_reference_point(to_maximization(first, senses)), senses)
    assert campaign.reference_point == pytest.approx(expected.tolist())
    assert campaign.reference_point_source == "nadir"
    fixed = list(campaign.reference_point or [])
    append(sessions, campaign_id, batch(3, [[10.0, -3.0], [-50.0, 100.0]]))
    _, campaign = stored(sessions, campaign_id)
    assert campaign.reference_point == fixed
    with sessions() as session:
        snapshots = history(session, campaign_id)
    reference = to_maximization(fixed, senses)
    assert snapshots[0].hypervolume == pytest.approx(
        hypervolume(to_maximization(first, senses), reference)
    )
    assert snapshots[1].hypervolume == pytest.approx(
        hypervolume(to_maximization([[10.0, -3.0]], senses), reference)
    )


def test_a_given_reference_point_is_kept(
    sessions: Sessions, new_campaign: Callable[..., int]
) -> None:
    campaign_id = new_campaign(reference_point=[0, 10], senses=["maximize", "minimize"])
    append(sessions, campaign_id, batch(0, [[1.0, 3.0], [2.0, 5.0]]))
    _, campaign = stored(sessions, campaign_id)
    assert campaign.reference_point == [0.0, 10.0]
    assert campaign.reference_point_source == "user"
    # maximised: (1, -3), (2, -5) over (0, -10): 7 + 10 - 5 (overlap)
    assert campaign.hypervolume == pytest.approx(12.0)


def test_front_hypervolume_in_raw_units(
    sessions: Sessions, new_campaign: Callable[..., int]
) -> None:
    campaign_id = new_campaign(senses=["maximize", "minimize"])
    with sessions() as session, pytest.raises(ValueError, match="out of range"):
        front(session, campaign_id, [0, 2])  # checked even before anything is stored
    append(sessions, campaign_id, batch(0, [[1.0, 3.0], [2.0, 5.0], [0.5, 6.0]]))
    with sessions() as session:
        campaign = get_campaign(session, campaign_id)
        assert campaign is not None
        # boxes [0,1]x[3,6] and [0,2]x[5,6] (raw), overlapping on [0,1]x[5,6]: 3 + 2 - 1
        assert front_hypervolume(session, campaign, [0.0, 6.0]) == pytest.approx(4.0)
        assert front_hypervolume(session, campaign, [5.0, 0.0]) == 0.0
        with pytest.raises(ValueError, match="reference_point"):
            front_hypervolume(session, campaign, [0.0])
        with pytest.raises(ValueError, match="out of range"):
            front(session, campaign_id, [2])


def test_history_snapshots(sessions: Sessions, new_campaign: Callable[..., int]) -> None:
    campaign_id = new_campaign()
    append(sessions, campaign_id, batch(0, [[1, 1], [2, 0]], budget_used=2.0),
           extras={"fit_seconds": 0.5}, wall_seconds=1.5)
    append(sessions, campaign_id, batch(2, [[1.5, 0.5]], budget_used=3.0))
    append(sessions, campaign_id, batch(3, [[0, 0]], budget_used=4.0), wall_seconds=9.0)
    with sessions() as session:
        snapshots = history(session, campaign_id)
        assert [s.seq for s in snapshots] == [1, 2, 3]
        assert [s.n_evaluations for s in snapshots] == [2, 3, 4]
        assert [s.budget_used for s in snapshots] == [2.0, 3.0, 4.0]
        assert [s.front_size for s in snapshots] == [2, 3, 3]
        assert [s.wall_seconds for s in snapshots] == [1.5, None, 9.0]  # never started
        assert [s.extras for s in snapshots] == [{"fit_seconds": 0.5}, {}, {}]
        volumes = [s.hypervolume or 0.0 for s in snapshots]
        assert 0.0 < volumes[0] < volumes[1] == volumes[2]
        assert all(s.created_at.tzinfo is not None for s in snapshots)
        campaign = get_campaign(session, campaign_id)
        assert campaign is not None
        assert campaign.budget_used == 4.0
        assert campaign.progress == pytest.approx(4.0 / 1000.0)
        assert campaign.hypervolume == snapshots[-1].hypervolume
        count = session.scalar(select(func.count()).select_from(MetricSnapshot))
        assert count == 3


def test_list_and_get_evaluations(sessions: Sessions, new_campaign: Callable[..., int]) -> None:
    campaign_id = new_campaign()
    points = [[i % 5, 4 - i % 5] if i % 2 else [0, 0] for i in range(20)]
    append(sessions, campaign_id, batch(0, points, params={"x": [0.1]}, kind="policy"))
    with sessions() as session:
        page, total = list_evaluations(session, campaign_id, limit=7, offset=5)
        assert total == 20
        assert [row.seq for row in page] == list(range(5, 12))
        on_front, front_total = list_evaluations(session, campaign_id, on_front=True)
        assert front_total == len(on_front) == 10
        off_front, off_total = list_evaluations(session, campaign_id, on_front=False)
        assert off_total == len(off_front) == 10
        assert sorted(row.seq for row in on_front + off_front) == list(range(20))
        assert list_evaluations(session, 12345) == ([], 0)
        one = get_evaluation(session, page[0].id)
        assert one is not None
        assert (one.seq, one.kind, one.params) == (5, "policy", {"x": [0.1]})
        assert one.objectives == [0.0, 4.0]
        assert one.created_at.tzinfo is not None
        assert get_evaluation(session, 10**9) is None


def test_objectives_round_trip_exactly(
    sessions: Sessions, new_campaign: Callable[..., int]
) -> None:
    campaign_id = new_campaign(senses=["minimize", "maximize", "minimize"])
    values = [0.1 + 0.2, 1e-300, -123456.789012345678]
    append(sessions, campaign_id, [NewEvaluation(np.int64(0), np.array(values))])  # type: ignore[arg-type]
    rows, _ = stored(sessions, campaign_id)
    assert rows[0].objectives == values
    assert all(type(value) is float for value in rows[0].objectives)


def test_front_rows_decode_json_as_the_engine_is_configured(
    store_url: str, engine: Engine, sessions: Sessions, new_campaign: Callable[..., int]
) -> None:
    # front() reads objectives and params as text and decodes them itself (faster than
    # the JSON type): same values as the ORM reads, with the engine's deserializer.
    campaign_id = new_campaign()
    params = {"x": [0.1, -2.5e-7], "name": "ünï", "nested": {"k": [1, None, True]}}
    append(sessions, campaign_id, batch(0, [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], params=params))
    with sessions() as session:
        rows = front(session, campaign_id)
        objects, _ = list_evaluations(session, campaign_id, on_front=True)
        campaign = get_campaign(session, campaign_id)
        assert campaign is not None
        objectives = front_objectives(session, campaign)
    assert [row._asdict() for row in rows] == [
        {name: getattr(obj, name) for name in rows[0]._fields} for obj in objects
    ]
    assert rows[0].params == params
    assert objectives.tolist() == [obj.objectives for obj in objects]

    calls: list[str | bytes] = []

    def counting_loads(value: str | bytes) -> Any:
        calls.append(value)
        return json.loads(value)

    custom = make_engine(store_url, json_deserializer=counting_loads)
    try:
        with make_sessionmaker(custom)() as session:
            assert [row._asdict() for row in front(session, campaign_id)] == [
                row._asdict() for row in rows
            ]
    finally:
        custom.dispose()
    assert len(calls) == 2 * len(rows)  # objectives and params of each front row
