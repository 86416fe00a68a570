"""The ``gfn-task`` catalogue: HyperGrid and N-grams, their rewards and configs, the
user-task registration, and that the catalogue stays light (no torch)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from pydantic import ValidationError

from morl.gfn_tasks import (
    AMINO_ACIDS,
    REFERENCE_SOURCE,
    GFNTask,
    HyperGrid,
    catalogue,
    levenshtein,
    max_occurrences,
    occurrences,
    register_task,
    unregister_task,
)
from pareto.dominance import non_dominated_mask
from pareto.hypervolume import hypervolume


def test_catalogue_and_its_problem_info():
    definitions = catalogue()
    assert {"hypergrid", "ngrams"} <= set(definitions)
    for definition in definitions.values():
        info = definition.info(definition.config())
        assert info.kind == "gfn-task" and info.id == definition.id
        assert all(o.sense == "maximize" for o in info.objectives)
        assert info.reference_point == (0.0,) * info.n_objectives
        assert info.reference_point_source == REFERENCE_SOURCE
    grid = definitions["hypergrid"].info({"size": 8, "objectives": ["branin", "currin",
                                                                   "sphere"]})
    assert [o.name for o in grid.objectives] == ["branin", "currin", "sphere"]
    assert grid.has_known_front and 0 < grid.known_max_hypervolume <= 1
    assert not definitions["ngrams"].info().has_known_front


def test_the_catalogue_imports_no_torch():
    code = ("import sys, morl.gfn_tasks as t, morl.gfn_config; t.catalogue()['hypergrid'].info();"
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("names", [["branin", "currin"], ["shubert", "beale", "sphere"],
                                   ["branin", "currin", "shubert", "beale"]])
def test_hypergrid_objectives_span_exactly_zero_to_one(names):
    task = catalogue()["hypergrid"].task({"size": 16, "objectives": names})
    assert task.table.shape == (16, 16, len(names))
    np.testing.assert_allclose(task.table.min(axis=(0, 1)), 0.0)
    np.testing.assert_allclose(task.table.max(axis=(0, 1)), 1.0)
    front = task.known_front()
    assert non_dominated_mask(front).all()
    assert hypervolume(front, np.zeros(len(names))) == pytest.approx(
        hypervolume(task.table.reshape(-1, len(names)), np.zeros(len(names))))


def test_hypergrid_moves_parents_and_rewards():
    task = catalogue()["hypergrid"].task({"size": 3})
    state = task.initial_state()
    assert list(task.allowed_actions(state)) == [True, True, True]
    for action in (0, 0, 1):
        state = task.step(state, action)
    assert task.readable(state) == [2, 1]
    assert list(task.allowed_actions(state)) == [False, True, True]  # x is at the edge
    assert task.n_parents(state) == 2 and task.n_parents(task.step(task.initial_state(), 1)) == 1
    done = task.step(state, 2)
    assert task.is_terminal(done) and task.n_parents(done) == 1
    assert task.rewards(done) == list(task.table[2, 1])
    # Branin is negated: the grid point nearest its minimum (pi, 2.275) scores near 1
    big = catalogue()["hypergrid"].task({"size": 32})
    i, j = round((np.pi + 5) / 15 * 31), round(2.275 / 15 * 31)
    assert big.table[i, j, 0] > 0.99
    assert task.distance([0, 2], [2, 1]) == 3.0


def test_ngrams_rewards_count_overlapping_occurrences_scaled_to_one():
    task = catalogue()["ngrams"].task({"ngrams": ["AV", "VA", "AA"], "min_length": 4,
                                       "max_length": 6})
    assert task.scale == [3, 3, 5]  # AVAVAV: 3 AV; VAVAVA: 3 VA; AAAAAA: 5 AA
    state = task.initial_state()
    for letter in "AVAAV":
        state = task.step(state, AMINO_ACIDS.index(letter))
    assert task.allowed_actions(state)[AMINO_ACIDS.index("A")]  # 5 letters < 6
    state = task.step(state, 20)
    assert task.is_terminal(state) and task.readable(state) == "AVAAV"
    assert task.rewards(state) == [2 / 3, 1 / 3, 1 / 5]
    assert max_occurrences("AV", 36) == 18 and max_occurrences("AAA", 5) == 3
    assert occurrences("AA", "AAAA") == 3
    assert levenshtein("AVCA", "VCAA") == 2 and task.distance("AV", "AVC") == 1.0


def test_ngrams_length_limits():
    task = catalogue()["ngrams"].task({"min_length": 2, "max_length": 3})
    state = task.initial_state()
    assert not task.allowed_actions(state)[20]  # too short to stop
    for _ in range(3):
        state = task.step(state, 0)
    assert list(task.allowed_actions(state)) == [False] * 20 + [True]  # must stop
    assert task.encode(state).shape == (3 * 20 + 20 + 4,)


@pytest.mark.parametrize("kind, config, message", [
    ("hypergrid", {"objectives": ["branin"]}, "at least 2"),
    ("hypergrid", {"objectives": ["branin", "branin"]}, "distinct"),
    ("hypergrid", {"objectives": ["branin", "rosenbrock"]}, "branin"),
    ("hypergrid", {"size": 1}, "greater than or equal to 2"),
    ("hypergrid", {"width": 3}, "Extra inputs"),
    ("ngrams", {"ngrams": ["AB", "AV"]}, "unknown: ['B']"),
    ("ngrams", {"min_length": 40}, "exceeds max_length"),
    ("ngrams", {"ngrams": ["AV", "VC", "CA", "AC", "WY"]}, "at most 4"),
])
def test_bad_task_parameters_are_refused_with_a_message(kind, config, message):
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        catalogue()[kind].info(config)


class _Unregistrable(GFNTask):
    summary = "no id"


def test_register_task_checks_the_class():
    with pytest.raises(TypeError, match="GFNTask subclass"):
        register_task(object)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'id'"):
        register_task(_Unregistrable)

    class Impostor(HyperGrid):
        pass

    with pytest.raises(ValueError, match="built-in"):
        register_task(Impostor)

    class Mine(HyperGrid):
        id = "my-grid"

    class Other(HyperGrid):
        id = "my-grid"

    try:
        register_task(Mine)
        assert catalogue()["my-grid"].task_class is Mine
        with pytest.raises(ValueError, match="already registered"):
            register_task(Other)
        register_task(Other, replace=True)
        assert catalogue()["my-grid"].task_class is Other
    finally:
        unregister_task("my-grid")
    assert "my-grid" not in catalogue()

    class Reckless(HyperGrid):
        id = "reckless-grid"
        default_exploration = 1.0

    class Frozen(HyperGrid):
        id = "frozen-grid"
        default_lr_logz = 0.0

    with pytest.raises(ValueError, match="default_exploration must lie in"):
        register_task(Reckless)
    with pytest.raises(ValueError, match="default_lr_logz must lie in"):
        register_task(Frozen)
    assert not {"reckless-grid", "frozen-grid"} & set(catalogue())
