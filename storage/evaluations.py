"""Evaluations: append a batch (maintaining ``on_front``), list them, read the front.

The front is never recomputed from all evaluations. Each appended batch is merged
with the current front rows only (``on_front = true``, read through the partial index
``ix_evaluations_front``): :func:`pareto.update_front` says which old front rows the
batch dominates and which new rows join the front. That is exact, because a point
dominated by some evaluation is also dominated by a front row (dominance is
transitive and the front dominates every evaluation off it), and it keeps a batch's
cost proportional to the batch plus the front, whatever the campaign's size.

Concurrency. Appends to one campaign must be serialised, or two batches merged with
the same old front could both keep points the other dominates.
:func:`append_evaluations` therefore locks before it reads:

* PostgreSQL: ``SELECT … FROM campaigns … FOR UPDATE`` on the campaign row. A second
  appender to the same campaign waits there; under READ COMMITTED (the default, and
  assumed) its later statements then see the first one's committed rows. Appends to
  different campaigns do not block each other.
* SQLite: the transaction starts with ``BEGIN IMMEDIATE`` (see
  :mod:`storage.engine`), which takes the database-wide write lock before the first
  read; other writers wait up to ``busy_timeout`` (30 s). ``FOR UPDATE`` is not
  rendered on SQLite.

The unique constraint on ``(campaign_id, seq)`` backs this up: the same seq can never
be stored twice, whatever happens.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from sqlalchemy import (
    Column,
    ColumnElement,
    Dialect,
    Label,
    Row,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from pareto import (
    Sense,
    check_reference_point,
    default_reference_point,
    from_maximization,
    hypervolume,
    non_dominated_mask,
    to_maximization,
    update_front,
    validate_objectives,
)
from storage.campaigns import lock_campaign
from storage.models import EVALUATION_KINDS, Campaign, Evaluation, MetricSnapshot, utcnow

# Bound on the number of bound parameters in one IN (...) list.
_IN_CHUNK = 500

_EVALUATIONS = cast(Table, Evaluation.__table__)
_E = _EVALUATIONS.c


class _JSONText(TypeDecorator[Any]):
    """A NOT NULL JSON column read as text and decoded by the engine's JSON
    deserializer (orjson, see :mod:`storage.engine`), called directly on each value.

    The ``JSON`` type decodes through a Python wrapper per value (psycopg's json
    loader on PostgreSQL, SQLAlchemy's processor on SQLite); at thousands of front
    rows with two JSON columns each, that wrapper cost more than the decoding itself.
    """

    impl = Text
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # What sqltypes.JSON decodes with, minus its per-value None check: the
        # columns read this way are NOT NULL.
        return getattr(dialect, "_json_deserializer", None) or json.loads


def _json_read(column: Column[Any]) -> Label[Any]:
    """``CAST(column AS TEXT)`` under the column's own name, decoded as :class:`_JSONText`."""
    return sql_cast(column, _JSONText()).label(column.key)


class CampaignNotFound(LookupError):
    """Raised when evaluations are appended to a campaign id that does not exist."""


@dataclass(slots=True)
class NewEvaluation:
    """One evaluated item to append. ``objectives`` are raw values (the campaign's
    senses and objective order); ``budget_used`` is the campaign's budget used once
    this item is counted. ``constraints`` are outcome-constraint slacks: the item is
    feasible iff every one is ``>= 0``, and only feasible items can be on the front."""

    seq: int
    objectives: Sequence[float]
    params: dict[str, Any] = field(default_factory=dict)
    kind: str = "candidate"
    budget_used: float = 0.0
    artifact_id: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    constraints: Sequence[float] | None = None

    @property
    def feasible(self) -> bool:
        return self.constraints is None or all(float(v) >= 0 for v in self.constraints)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What :func:`append_evaluations` did. ``inserted`` new rows, ``skipped`` items
    whose seq was already stored (or repeated in the batch). The other fields are the
    campaign's state after the append, read under the lock."""

    inserted: int
    skipped: int
    n_evaluations: int = 0
    front_size: int = 0
    hypervolume: float | None = None
    cancel_requested: bool = False


def append_evaluations(
    session: Session,
    campaign_id: int,
    items: Sequence[NewEvaluation],
    *,
    extras: Mapping[str, Any] | None = None,
    wall_seconds: float | None = None,
) -> AppendResult:
    """Append a batch of evaluations to a campaign, in one transaction.

    **Transaction.** Called on a session with no transaction in progress (the normal
    case), it begins one, takes the lock (see the module docstring), writes and
    **commits**; on any error it rolls back and nothing is written. Called on a session
    already in a transaction, it works inside that transaction and leaves the commit
    (or rollback) to the caller; on SQLite the write lock is then only taken at the
    first write, so prefer a fresh session.

    **Steps.** Every objective vector is validated first (``n_objectives`` finite
    numbers; ValueError naming the seq otherwise). Items whose seq is already stored
    for the campaign, or repeated within the batch (the first one wins), are skipped:
    recording a batch again is a no-op. The new rows are merged with the current front
    (old front rows they dominate get ``on_front = false``), inserted in bulk, and the
    campaign's ``n_evaluations``, ``front_size``, ``budget_used`` (the largest item
    ``budget_used`` so far) and ``hypervolume`` are updated. One
    :class:`~storage.models.MetricSnapshot` is written per batch that inserted
    anything. If the campaign has no reference point yet, it is fixed now from the
    front (:func:`pareto.default_reference_point`, stored in raw units with source
    ``"nadir"``) and never changes afterwards. ``wall_seconds`` defaults to the time
    since ``campaign.started_at``.

    Raises :class:`CampaignNotFound` for an unknown campaign and ValueError for an
    invalid item.
    """
    if session.in_transaction():
        return _append(session, campaign_id, items, extras, wall_seconds)
    with session.begin():
        # The first statement of the transaction: BEGIN IMMEDIATE on SQLite.
        session.connection(execution_options={"sqlite_immediate": True})
        return _append(session, campaign_id, items, extras, wall_seconds)


def _append(
    session: Session,
    campaign_id: int,
    items: Sequence[NewEvaluation],
    extras: Mapping[str, Any] | None,
    wall_seconds: float | None,
) -> AppendResult:
    campaign = lock_campaign(session, campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"campaign {campaign_id} does not exist")
    items = list(items)
    raw = _validated_objectives(campaign, items)

    fresh = _unstored(session, campaign_id, items)
    if not fresh:
        return _result(campaign, inserted=0, skipped=len(items))
    new_raw = raw[fresh]
    new_items = [items[index] for index in fresh]

    senses = campaign.objective_senses
    n_objectives = campaign.n_objectives
    front_rows = session.execute(
        select(_E.id, _json_read(_E.objectives)).where(_E.campaign_id == campaign_id, _E.on_front)
    ).all()
    front_ids = [row.id for row in front_rows]
    front_max = to_maximization(
        np.array([row.objectives for row in front_rows], dtype=np.float64).reshape(
            -1, n_objectives
        ),
        senses,
    )
    new_max = to_maximization(new_raw, senses)
    feasible = np.array([item.feasible for item in new_items], dtype=bool)
    keep, feasible_joins = update_front(front_max, new_max[feasible])
    joins = np.zeros(len(new_items), dtype=bool)
    joins[feasible] = feasible_joins

    dominated_ids = [front_ids[index] for index in np.flatnonzero(~keep)]
    for start in range(0, len(dominated_ids), _IN_CHUNK):
        session.execute(
            update(Evaluation)
            .where(Evaluation.id.in_(dominated_ids[start : start + _IN_CHUNK]))
            .values(on_front=False),
            execution_options={"synchronize_session": False},
        )

    now = utcnow()
    session.execute(
        insert(_EVALUATIONS),  # Core insert: one executemany, no ORM bookkeeping
        [
            {
                "campaign_id": campaign_id,
                "seq": int(item.seq),
                "kind": item.kind,
                "objectives": objectives,
                "params": item.params,
                "budget_used": float(item.budget_used),
                "on_front": on_front,
                "meta": item.meta,
                "constraints": (
                    None if item.constraints is None else [float(v) for v in item.constraints]
                ),
                "feasible": item.feasible,
                "artifact_id": item.artifact_id,
                "created_at": now,
            }
            for item, objectives, on_front in zip(
                new_items, new_raw.tolist(), joins.tolist(), strict=True
            )
        ],
    )

    front_now = np.vstack([front_max[keep], new_max[joins]])
    if campaign.reference_point is None and len(front_now):
        # fixed at the first snapshot with a feasible point, then never changed
        reference_max = default_reference_point(front_now)
        campaign.reference_point = from_maximization(reference_max, senses).tolist()
        campaign.reference_point_source = "nadir"
    current_hypervolume = 0.0
    if campaign.reference_point is not None:
        reference_max = to_maximization(campaign.reference_point, senses)
        current_hypervolume = hypervolume(front_now, reference_max)

    campaign.n_evaluations = (campaign.n_evaluations or 0) + len(new_items)
    campaign.front_size = len(front_now)
    campaign.budget_used = max(
        campaign.budget_used or 0.0, max(float(item.budget_used) for item in new_items)
    )
    campaign.hypervolume = current_hypervolume
    if wall_seconds is None and campaign.started_at is not None:
        wall_seconds = (now - campaign.started_at).total_seconds()
    session.add(
        MetricSnapshot(
            campaign_id=campaign_id,
            seq=max(int(item.seq) for item in new_items),
            n_evaluations=campaign.n_evaluations,
            budget_used=campaign.budget_used,
            hypervolume=current_hypervolume,
            front_size=campaign.front_size,
            wall_seconds=wall_seconds,
            extras=dict(extras or {}),
            created_at=now,
        )
    )
    session.flush()
    return _result(campaign, inserted=len(new_items), skipped=len(items) - len(new_items))


def _result(campaign: Campaign, *, inserted: int, skipped: int) -> AppendResult:
    return AppendResult(
        inserted=inserted,
        skipped=skipped,
        n_evaluations=campaign.n_evaluations,
        front_size=campaign.front_size,
        hypervolume=campaign.hypervolume,
        cancel_requested=campaign.cancel_requested,
    )


def _validated_objectives(campaign: Campaign, items: list[NewEvaluation]) -> np.ndarray:
    """The batch's raw objective vectors as an ``(n, m)`` array, after checking every
    item; ValueError naming the first bad item's seq."""
    n_objectives = campaign.n_objectives
    names = campaign.objective_names
    for item in items:
        try:
            seq = operator.index(item.seq)
        except TypeError:
            raise ValueError(f"seq must be an integer; got {item.seq!r}") from None
        if seq < 0 or isinstance(item.seq, bool):
            raise ValueError(f"seq must be a non-negative integer; got {item.seq!r}")
        if item.kind not in EVALUATION_KINDS:
            raise ValueError(
                f"evaluation seq {seq}: kind is {item.kind!r}; allowed: "
                f"{', '.join(EVALUATION_KINDS)}"
            )
        if not math.isfinite(item.budget_used):
            raise ValueError(f"evaluation seq {seq}: budget_used must be finite")
        if len(item.objectives) != n_objectives:
            raise ValueError(
                f"evaluation seq {seq}: got {len(item.objectives)} objective values, "
                f"the campaign has {n_objectives} ({', '.join(names)})"
            )
    if not items:
        return np.empty((0, n_objectives))
    try:
        return validate_objectives([item.objectives for item in items], n_objectives)
    except ValueError as error:
        raise ValueError(f"evaluation seq {_first_bad_seq(items)}: {error}") from None


def _first_bad_seq(items: list[NewEvaluation]) -> int | str:
    for item in items:
        try:
            if not all(math.isfinite(float(value)) for value in item.objectives):
                return item.seq
        except (TypeError, ValueError):
            return item.seq
    return "?"


def _unstored(session: Session, campaign_id: int, items: list[NewEvaluation]) -> list[int]:
    """Positions in ``items`` of the first occurrence of each seq not yet stored."""
    first_position: dict[int, int] = {}
    for position, item in enumerate(items):
        first_position.setdefault(int(item.seq), position)
    if not first_position:
        return []
    seqs = sorted(first_position)
    stored: set[int] = set()
    if seqs[-1] - seqs[0] < 4 * len(seqs):
        # Dense seqs (the usual case): one range scan of the (campaign_id, seq) index.
        stored.update(
            session.scalars(
                select(Evaluation.seq).where(
                    Evaluation.campaign_id == campaign_id,
                    Evaluation.seq.between(seqs[0], seqs[-1]),
                )
            )
        )
    else:
        for start in range(0, len(seqs), _IN_CHUNK):
            stored.update(
                session.scalars(
                    select(Evaluation.seq).where(
                        Evaluation.campaign_id == campaign_id,
                        Evaluation.seq.in_(seqs[start : start + _IN_CHUNK]),
                    )
                )
            )
    return sorted(position for seq, position in first_position.items() if seq not in stored)


def list_evaluations(
    session: Session,
    campaign_id: int,
    *,
    limit: int = 100,
    offset: int = 0,
    on_front: bool | None = None,
) -> tuple[list[Evaluation], int]:
    """One page of a campaign's evaluations ordered by seq, and how many there are
    (all of them, only the front rows, or only the dominated ones).

    The total comes from the campaign's counters (``n_evaluations``, ``front_size``),
    which :func:`append_evaluations` keeps in step with the rows, so no count scan.
    """
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    if campaign is None:
        return [], 0
    query = select(Evaluation).where(Evaluation.campaign_id == campaign_id)
    if on_front is True:
        query = query.where(Evaluation.on_front)
        total = campaign.front_size
    elif on_front is False:
        query = query.where(~Evaluation.on_front)
        total = campaign.n_evaluations - campaign.front_size
    else:
        total = campaign.n_evaluations
    page = session.scalars(query.order_by(Evaluation.seq).limit(limit).offset(offset)).all()
    return list(page), int(total)


def get_evaluation(session: Session, evaluation_id: int) -> Evaluation | None:
    """The evaluation with this id, or None."""
    return session.get(Evaluation, evaluation_id)


def latest_with_artifact(session: Session, campaign_id: int) -> Evaluation | None:
    """The campaign's most recent evaluation that has an artifact (e.g. the latest
    PD-MORL universal network), or None."""
    return session.scalars(
        select(Evaluation)
        .where(Evaluation.campaign_id == campaign_id, Evaluation.artifact_id.is_not(None))
        .order_by(Evaluation.seq.desc())
        .limit(1)
    ).first()


def evaluations_with_artifacts(session: Session, campaign_id: int) -> list[Row[Any]]:
    """The campaign's feasible evaluations that have an artifact, in seq order, as rows
    of :func:`front`'s columns: for a PD-MORL campaign, every round's stored network at
    every preference of its evaluation grid."""
    return list(session.execute(
        select(*_FRONT_COLUMNS)
        .where(_E.campaign_id == campaign_id, _E.feasible, _E.artifact_id.is_not(None))
        .order_by(_E.seq)
    ).all())


# A front query returns plain rows of these columns, not ORM objects: building an
# object per front point cost more than the query itself at thousands of points. They
# are table (Core) columns, not ORM attributes: selecting ORM attributes sends every
# row through per-column Python getters, about 1 ms per front of 2,500 points.
_FRONT_COLUMNS: tuple[ColumnElement[Any], ...] = (
    _E.id,
    _E.seq,
    _E.kind,
    _json_read(_E.objectives),
    _json_read(_E.params),
    _E.budget_used,
    _E.artifact_id,
)


def front(
    session: Session, campaign_id: int, objectives: Sequence[int] | None = None
) -> list[Row[Any]]:
    """The campaign's non-dominated evaluations, ordered by seq, as rows with the
    attributes ``id, seq, kind, objectives, params, budget_used, artifact_id``.

    Without ``objectives``: the rows flagged ``on_front`` (read through the partial
    index; weakly non-dominated, so exact duplicates of a front point are all there).

    With ``objectives`` (indices into the campaign's objectives, e.g. ``[0, 2]``): the
    front rows that are non-dominated when only those objectives are compared. Looking
    at the front rows alone is enough. Take any evaluation p dominated on the subset S
    by some evaluation q. Either q is on the full front, or some front row r weakly
    dominates q in every objective (every dominated evaluation is dominated by a front
    row); then r >= q >= p on S with q > p somewhere on S, so r dominates p on S. So
    whatever is dominated on S is dominated on S by a front row, and filtering the
    front rows projected on S yields exactly the front on S. (An evaluation off the
    full front that merely ties a front row on S adds no new point to the projected
    front; it is not returned.)
    """
    columns: list[int] | None = None
    senses: list[Sense] = []
    if objectives is not None:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            return []
        columns = _objective_indices(objectives, campaign)
        senses = [campaign.objective_senses[index] for index in columns]
    rows = list(
        session.execute(
            select(*_FRONT_COLUMNS)
            .where(_E.campaign_id == campaign_id, _E.on_front)
            .order_by(_E.seq)
        ).all()
    )
    if columns is None or not rows:
        return rows
    projected = to_maximization(
        np.array([row.objectives for row in rows], dtype=np.float64)[:, columns], senses
    )
    mask = non_dominated_mask(projected)
    return [row for row, keep in zip(rows, mask.tolist(), strict=True) if keep]


def front_meta(session: Session, campaign_id: int) -> dict[int, dict[str, Any]]:
    """The ``meta`` of each of the campaign's front rows, by evaluation id (a separate
    read: :func:`front` leaves it out, which most of its callers do not need)."""
    return {row.id: row.meta or {} for row in session.execute(
        select(_E.id, _json_read(_E.meta)).where(_E.campaign_id == campaign_id, _E.on_front))}


def _objective_indices(objectives: Sequence[int], campaign: Campaign) -> list[int]:
    indices = [operator.index(index) for index in objectives]
    if not indices:
        raise ValueError("objectives must name at least one objective index")
    if len(set(indices)) != len(indices):
        raise ValueError(f"objectives {indices} repeats an index")
    for index in indices:
        if not 0 <= index < campaign.n_objectives:
            raise ValueError(
                f"objective index {index} is out of range; the campaign has "
                f"{campaign.n_objectives} objectives (0..{campaign.n_objectives - 1}: "
                f"{', '.join(campaign.objective_names)})"
            )
    return indices


def front_hypervolume(
    session: Session, campaign: Campaign, reference_point_raw: Sequence[float]
) -> float:
    """Exact hypervolume of the campaign's front for a reference point given in raw
    units (the campaign's senses and objective order). Front points that do not
    strictly dominate the reference point contribute nothing. ValueError if the
    reference point has the wrong length or is not finite."""
    reference = check_reference_point(reference_point_raw, campaign.n_objectives)
    senses = campaign.objective_senses
    points = front_objectives(session, campaign)
    return hypervolume(to_maximization(points, senses), to_maximization(reference, senses))


def front_objectives(session: Session, campaign: Campaign) -> np.ndarray:
    """The raw objective vectors of the campaign's front, ``(front size, m)``: all a
    hypervolume or a comparison needs, without decoding params."""
    values = session.scalars(
        select(_json_read(_E.objectives)).where(_E.campaign_id == campaign.id, _E.on_front)
    ).all()
    return np.array(values, dtype=np.float64).reshape(-1, campaign.n_objectives)


def feasible_objectives(session: Session, campaign: Campaign) -> tuple[np.ndarray, np.ndarray]:
    """Every feasible evaluation's seq and raw objective vector, in seq order: what a
    hypervolume curve under another reference point is recomputed from. Reads all of
    the campaign's rows (the objectives column only)."""
    rows = session.execute(
        select(_E.seq, _json_read(_E.objectives))
        .where(_E.campaign_id == campaign.id, _E.feasible)
        .order_by(_E.seq)
    ).all()
    seqs = np.array([row.seq for row in rows], dtype=np.int64)
    values = np.array([row.objectives for row in rows], dtype=np.float64)
    return seqs, values.reshape(-1, campaign.n_objectives)
