"""The ``sobol`` baseline: budget, bounds, seeds, resume after a crash, and ask/tell."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from memory_recorder import MemoryRecorder, MemoryStore, SimulatedCrash
from pydantic import ValidationError
from scipy.stats import qmc

from bayesopt import sobol
from bayesopt.problems import catalogue
from jobs.protocol import Cancelled, Objective, Observations, Parameter, ProblemInfo, Recorder


class TwoBowls:
    """Two quadratic bowls over an uneven box; counts the points it evaluates."""

    info = ProblemInfo(
        kind="test",
        id="two-bowls",
        objectives=(Objective("a", "minimize"), Objective("b", "minimize")),
        parameters=(
            Parameter("x0", -5.0, 10.0),
            Parameter("x1", 0.0, 15.0),
            Parameter("x2", 0.45, 1.35),
        ),
    )

    def __init__(self) -> None:
        self.evaluated = 0

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        self.evaluated += len(x)
        return np.stack([((x - 1) ** 2).sum(axis=1), ((x + 1) ** 2).sum(axis=1)], axis=1)


LOW = np.array([p.low for p in TwoBowls.info.parameters])
HIGH = np.array([p.high for p in TwoBowls.info.parameters])


def _run(budget: float, seed: int = 0, **params: Any) -> MemoryRecorder:
    recorder = MemoryRecorder(budget)
    sobol.run(TwoBowls(), params, seed, "cpu", recorder)
    return recorder


def test_the_memory_recorder_implements_the_protocol() -> None:
    assert isinstance(MemoryRecorder(1), Recorder)


def test_records_exactly_the_budget_truncating_the_last_batch() -> None:
    recorder = _run(25, batch_size=10)
    assert recorder.batch_sizes == [10, 10, 5]
    assert recorder.checkpoints == [{"n_drawn": 10}, {"n_drawn": 20}, {"n_drawn": 25}]
    assert recorder.budget_used == 25
    items = list(recorder.store.evaluations.values())
    assert all(e.kind == "candidate" and e.cost == 1.0 for e in items)
    assert all(list(e.params) == ["x0", "x1", "x2"] for e in items)
    x = recorder.points()
    np.testing.assert_array_equal(np.array([e.objectives for e in items]), TwoBowls().evaluate(x))


@pytest.mark.parametrize(
    ("budget", "batch_size", "batches"),
    [(20, 10, [10, 10]), (3, 10, [3]), (7.9, 4, [4, 3]), (0, 10, []), (5, 1, [1] * 5)],
)
def test_batches_add_up_to_the_budget(budget: float, batch_size: int, batches: list[int]) -> None:
    assert _run(budget, batch_size=batch_size).batch_sizes == batches


@pytest.mark.filterwarnings("ignore:The balance properties of Sobol")
def test_points_are_the_scaled_scrambled_sobol_sequence_within_bounds() -> None:
    x = _run(300, seed=7, batch_size=64).points()
    assert ((x >= LOW) & (x <= HIGH)).all()
    expected = qmc.scale(qmc.Sobol(3, rng=7).random(300), LOW, HIGH)
    np.testing.assert_allclose(x, expected, rtol=0, atol=1e-12)
    assert len(np.unique(x, axis=0)) == 300


def test_batch_size_does_not_change_the_sequence() -> None:
    np.testing.assert_array_equal(
        _run(30, seed=3, batch_size=7).points(), _run(30, seed=3, batch_size=30).points()
    )


def test_same_seed_same_points_different_seed_different_points() -> None:
    first = _run(16, seed=11).points()
    np.testing.assert_array_equal(first, _run(16, seed=11).points())
    assert not np.allclose(first, _run(16, seed=12).points())


def test_unscrambled_sequence_starts_at_the_lower_corner() -> None:
    x = _run(2, scramble=False).points()
    np.testing.assert_array_equal(x[0], LOW)
    np.testing.assert_allclose(x[1], (LOW + HIGH) / 2, rtol=1e-15)


@pytest.mark.parametrize(
    "crash",
    [
        {"fail_on_record": 3},  # batch 3 never stored
        {"fail_on_checkpoint": 2},  # batch 2 stored, its checkpoint lost
        {"fail_on_record": 1},  # nothing stored, no checkpoint
    ],
    ids=["during-record", "between-record-and-checkpoint", "before-first-record"],
)
def test_resume_after_a_crash_reproduces_the_uninterrupted_campaign(
    crash: dict[str, int],
) -> None:
    uninterrupted = _run(45, seed=5, batch_size=10)

    crashed = MemoryRecorder(
        45,
        fail_on_record=crash.get("fail_on_record"),
        fail_on_checkpoint=crash.get("fail_on_checkpoint"),
    )
    with pytest.raises(SimulatedCrash):
        sobol.run(TwoBowls(), {"batch_size": 10}, 5, "cpu", crashed)

    resumed = MemoryRecorder(45, store=crashed.store)
    problem = TwoBowls()
    sobol.run(problem, {"batch_size": 10}, 5, "cpu", resumed)

    checkpointed = crashed.checkpoints[-1]["n_drawn"] if crashed.checkpoints else 0
    assert problem.evaluated == 45 - checkpointed  # fast-forwarded, not redrawn
    assert resumed.conflicts == []
    assert len(resumed.store.evaluations) == 45 and resumed.budget_used == 45
    np.testing.assert_array_equal(resumed.points(), uninterrupted.points())
    assert resumed.checkpoints[-1] == {"n_drawn": 45}


def test_a_finished_campaign_resumes_to_nothing() -> None:
    recorder = _run(12, batch_size=5)
    problem = TwoBowls()
    again = MemoryRecorder(12, store=recorder.store)
    sobol.run(problem, {"batch_size": 5}, 0, "cpu", again)
    assert problem.evaluated == 0 and again.batch_sizes == []


def test_a_checkpoint_beyond_the_budget_is_refused() -> None:
    recorder = MemoryRecorder(10, store=MemoryStore(checkpoint=(20, {"n_drawn": 20})))
    with pytest.raises(ValueError, match="n_drawn=20"):
        sobol.run(TwoBowls(), {}, 0, "cpu", recorder)


def test_cancellation_stops_the_campaign() -> None:
    recorder = MemoryRecorder(50, fail_on_record=2, fail_with=Cancelled)
    with pytest.raises(Cancelled):
        sobol.run(TwoBowls(), {"batch_size": 10}, 0, "cpu", recorder)
    assert len(recorder.store.evaluations) == 10


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 10001}, "batch_size"),
        ({"scramble": "sometimes"}, "scramble"),
        ({"batchsize": 5}, "batchsize"),
    ],
)
def test_bad_params_raise_a_validation_error_naming_the_field(
    params: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        sobol.run(TwoBowls(), params, 0, "cpu", MemoryRecorder(10))
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]


def test_runs_on_a_built_in_problem() -> None:
    problem = catalogue()["branin-currin"].build()
    recorder = MemoryRecorder(12)
    sobol.run(problem, {"batch_size": 5}, 1, "cpu", recorder)
    assert recorder.batch_sizes == [5, 5, 2]
    objectives = np.array([e.objectives for e in recorder.store.evaluations.values()])
    assert objectives.shape == (12, 2) and np.isfinite(objectives).all()


def _observations(n_suggested: int) -> Observations:
    return Observations(x=np.empty((0, 3)), objectives=np.empty((0, 2)), n_suggested=n_suggested)


@pytest.mark.filterwarnings("ignore:The balance properties of Sobol")
def test_suggest_continues_the_campaign_sequence_from_n_suggested() -> None:
    campaign = _run(20, seed=4, batch_size=20).points()
    first = sobol.suggest(TwoBowls.info, {}, 4, _observations(0), 7, "cpu")
    rest = sobol.suggest(TwoBowls.info, {}, 4, _observations(7), 13, "cpu")
    np.testing.assert_array_equal(np.vstack([first, rest]), campaign)
    assert sobol.suggest(TwoBowls.info, {}, 4, _observations(3), 0, "cpu").shape == (0, 3)


def test_points_is_a_slice_of_the_sequence() -> None:
    whole = sobol.points(TwoBowls.info.parameters, 9, 0, 16)
    np.testing.assert_array_equal(sobol.points(TwoBowls.info.parameters, 9, 5, 6), whole[5:11])
    with pytest.raises(ValueError, match="start >= 0"):
        sobol.points(TwoBowls.info.parameters, 9, -1, 2)


def test_suggest_rejects_misnamed_params() -> None:
    with pytest.raises(ValidationError, match="batchsize"):
        sobol.suggest(TwoBowls.info, {"batchsize": 3}, 0, _observations(0), 2, "cpu")
