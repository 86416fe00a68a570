"""NSGA-II via pymoo's ask/tell: budget, records, constraints, seeds and resume."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
from memory_recorder import MemoryRecorder, SimulatedCrash
from pydantic import ValidationError

from bayesopt import nsga2
from bayesopt.config import NSGA2Config
from bayesopt.problems import catalogue
from jobs.protocol import Cancelled


def _run(
    budget: float, seed: int = 0, problem_id: str = "branin-currin", **params: Any
) -> MemoryRecorder:
    recorder = MemoryRecorder(budget)
    nsga2.run(catalogue()[problem_id].build(), {"pop_size": 10, **params}, seed, "cpu", recorder)
    return recorder


def test_records_every_individual_to_exactly_the_budget() -> None:
    recorder = _run(37)
    assert recorder.batch_sizes == [10, 10, 10, 7]  # the last generation cut at the budget
    assert recorder.budget_used == 37
    items = recorder.evaluations()
    assert [e.meta["generation"] for e in items] == [1] * 10 + [2] * 10 + [3] * 10 + [4] * 7
    assert [e.meta["batch_index"] for e in items[-7:]] == list(range(7))
    x = recorder.points()
    assert ((x >= 0) & (x <= 1)).all()
    problem = catalogue()["branin-currin"].build()
    np.testing.assert_array_equal(np.array([e.objectives for e in items]), problem.evaluate(x))
    assert all(e.constraints is None and e.kind == "candidate" for e in items)
    assert all(set(log) == {"acquisition_seconds", "evaluation_seconds"} for log in recorder.logs)


def test_the_partial_last_generation_is_not_told_to_pymoo() -> None:
    recorder = _run(25)
    algorithm = pickle.loads(recorder.checkpoints[-1]["algorithm"])
    assert recorder.checkpoints[-1]["n_evaluated"] == 25
    assert algorithm.n_gen == 3  # generations 1 and 2 told; the 5 of generation 3 were not


def test_offspring_count_is_a_parameter() -> None:
    assert _run(24, n_offsprings=4).batch_sizes == [10, 4, 4, 4, 2]


def test_survivors_are_pymoos_choice_on_our_objectives() -> None:
    # Minimised objectives reach pymoo unchanged: its survivors are the best rank of the
    # first 20 evaluations.
    recorder = _run(20)
    algorithm = pickle.loads(recorder.checkpoints[-1]["algorithm"])
    f = np.array([e.objectives for e in recorder.evaluations()])
    np.testing.assert_array_equal(
        np.sort(algorithm.pop.get("F"), axis=0)[:1], np.sort(f, axis=0)[:1]
    )


def test_constraints_reach_pymoo_as_g_at_most_zero() -> None:
    recorder = _run(20, seed=2, problem_id="welded-beam")
    items = recorder.evaluations()
    slacks = np.array([e.constraints for e in items])
    assert slacks.shape == (20, 4)
    problem = catalogue()["welded-beam"].build()
    np.testing.assert_array_equal(slacks, problem.constraint_slacks(recorder.points()))
    algorithm = pickle.loads(recorder.checkpoints[-1]["algorithm"])
    population = algorithm.pop
    told = {tuple(e.params.values()): e.feasible for e in items}
    for x, feasible in zip(population.get("X"), population.get("feasible")[:, 0], strict=True):
        assert told[tuple(x)] == bool(feasible)
    assert any(e.feasible for e in items)


def test_same_seed_same_individuals_other_seed_other_individuals() -> None:
    first = _run(30, seed=7).points()
    np.testing.assert_array_equal(first, _run(30, seed=7).points())
    assert not np.allclose(first, _run(30, seed=8).points())


@pytest.mark.parametrize(
    "crash",
    [{"fail_on_record": 3}, {"fail_on_checkpoint": 2}, {"fail_on_record": 4}],
    ids=["during-record", "between-record-and-checkpoint", "partial-generation"],
)
def test_resume_after_a_crash_breeds_the_uninterrupted_generations(crash: dict[str, int]) -> None:
    uninterrupted = _run(35, seed=5)
    crashed = MemoryRecorder(35, **crash)
    problem = catalogue()["branin-currin"].build()
    with pytest.raises(SimulatedCrash):
        nsga2.run(problem, {"pop_size": 10}, 5, "cpu", crashed)
    resumed = MemoryRecorder(35, store=crashed.store)
    nsga2.run(problem, {"pop_size": 10}, 5, "cpu", resumed)
    assert resumed.conflicts == []
    np.testing.assert_array_equal(resumed.points(), uninterrupted.points())


def test_cancellation_stops_the_campaign() -> None:
    recorder = MemoryRecorder(50, fail_on_record=2, fail_with=Cancelled)
    with pytest.raises(Cancelled):
        nsga2.run(catalogue()["zdt1"].build(), {"pop_size": 10}, 0, "cpu", recorder)
    assert len(recorder.store.evaluations) == 10


def test_defaults_are_pymoos_with_a_population_of_twenty() -> None:
    config = NSGA2Config()
    assert (config.pop_size, config.n_offsprings) == (20, None)
    algorithm = nsga2.make_algorithm(config, catalogue()["zdt1"].info(), seed=0)
    assert algorithm.n_offsprings == 20
    assert (
        algorithm.mating.crossover.eta.value == 15 and algorithm.mating.crossover.prob.value == 0.9
    )
    assert algorithm.mating.mutation.eta.value == 20


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pop_size": 1}, "pop_size"),
        ({"crossover_prob": 1.5}, "crossover_prob"),
        ({"popsize": 5}, "popsize"),
    ],
)
def test_bad_params_raise_a_validation_error_naming_the_field(
    params: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        nsga2.run(catalogue()["zdt1"].build(), params, 0, "cpu", MemoryRecorder(10))
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]
