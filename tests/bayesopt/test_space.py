"""Search coordinates of the BO methods and ``sobol``: log-scale, integer and choice
parameters.

Plain parameters must search exactly as before (the box itself); a log-scale one must
spread a design evenly over its decades; an integer or a choice one must only ever
produce valid values, each with an equal share of a uniform design; and a model-based
suggestion must be a valid value of every parameter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayesopt import bo, sobol, space
from jobs.protocol import Objective, Observations, Parameter, ProblemInfo

TINY: dict[str, Any] = {"q": 2, "num_restarts": 2, "raw_samples": 32, "mc_samples": 16,
                        "max_iter_acqf": 20}


@st.composite
def parameters(draw: Any) -> tuple[Parameter, ...]:
    out = []
    for i in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 3)) == 0:
            out.append(Parameter.choice(f"p{i}", [f"v{k}" for k in range(draw(st.integers(2, 5)))],
                                        ordered=draw(st.booleans())))
            continue
        integer, log_scale = draw(st.booleans()), draw(st.booleans())
        low = draw(st.integers(1, 50) if log_scale else st.integers(-50, 50))
        span = draw(st.integers(1, 1000))
        if not integer:
            low, span = low * draw(st.sampled_from([1e-4, 0.3, 1.0])), span * 0.37
        out.append(Parameter(f"p{i}", float(low), float(low + span), integer, log_scale))
    return tuple(out)


@settings(max_examples=150, deadline=None)
@given(parameters(), st.integers(0, 2**31 - 1))
def test_every_design_point_is_a_valid_value(params: tuple[Parameter, ...], seed: int) -> None:
    unit = np.random.default_rng(seed).random((64, len(params)))
    unit[:2] = [[0.0] * len(params), [1.0] * len(params)]  # the corners of the cube too
    x = space.from_unit(params, unit)
    for column, parameter in zip(x.T, params, strict=True):
        assert ((column >= parameter.low) & (column <= parameter.high)).all()
        if parameter.integer:
            assert (column == np.round(column)).all()
    # Values survive the round trip through search coordinates.
    z = space.encode(params, x)
    assert z.shape[1] == space.bounds(params).shape[1]
    np.testing.assert_allclose(space.decode(params, z), x, rtol=1e-12)
    # Any point of the search box decodes to valid values.
    box = space.bounds(params)
    inside = box[0] + np.random.default_rng(seed + 1).random((32, box.shape[1])) * (box[1] - box[0])
    for column, parameter in zip(space.decode(params, inside).T, params, strict=True):
        assert ((column >= parameter.low) & (column <= parameter.high)).all()
        assert not parameter.integer or (column == np.round(column)).all()


def test_plain_parameters_search_the_box_itself() -> None:
    params = (Parameter("a", -2.0, 3.0), Parameter("b", 10.0, 11.5))
    np.testing.assert_array_equal(space.bounds(params), [[-2.0, 10.0], [3.0, 11.5]])
    x = np.array([[0.25, 10.2], [-1.0, 11.0]])
    np.testing.assert_array_equal(space.encode(params, x), x)
    unit = np.random.default_rng(0).random((100, 2))
    np.testing.assert_array_equal(space.from_unit(params, unit),
                                  np.array([-2.0, 10.0]) + unit * np.array([5.0, 1.5]))
    np.testing.assert_array_equal(space.centre(params), [[0.5, 10.75]])


def test_each_integer_gets_an_equal_share_of_a_sobol_design() -> None:
    params = (Parameter("layers", 1.0, 4.0, integer=True),)
    x = sobol.points(params, seed=3, start=0, n=1024)
    values, counts = np.unique(x, return_counts=True)
    assert values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert counts.tolist() == [256, 256, 256, 256]  # the ends are not short-changed


def test_a_log_scale_design_spreads_evenly_over_the_decades() -> None:
    log_lr = (Parameter("lr", 1e-6, 1.0, log_scale=True),)
    x = sobol.points(log_lr, seed=1, start=0, n=600)[:, 0]
    per_decade = np.histogram(np.log10(x), bins=6, range=(-6, 0))[0]
    assert per_decade.min() >= 95 and per_decade.max() <= 105, per_decade
    # On a linear scale the same design barely visits the five lower decades.
    linear = sobol.points((Parameter("lr", 1e-6, 1.0),), seed=1, start=0, n=600)[:, 0]
    assert (linear < 0.1).mean() < 0.12
    assert space.centre(log_lr)[0, 0] == pytest.approx(1e-3)  # the geometric mean


def test_a_log_scale_integer_is_whole_and_spread_by_magnitude() -> None:
    batch = (Parameter("batch", 8.0, 1024.0, integer=True, log_scale=True),)
    x = sobol.points(batch, seed=0, start=0, n=512)[:, 0]
    assert (x == np.round(x)).all() and x.min() >= 8 and x.max() <= 1024
    # The search interval is [log 7.5, log 1024.5], whose middle is about 87.7.
    assert 0.45 < (x <= 88).mean() < 0.55
    assert space.centre(batch)[0, 0] == 88.0


def test_a_choice_is_one_hot_in_the_model_and_one_coordinate_in_a_design() -> None:
    optimiser = Parameter.choice("optimizer", ["sgd", "adam", "adamw"])
    params = (Parameter("lr", 1e-4, 1e-1, log_scale=True), optimiser)
    np.testing.assert_array_equal(space.bounds(params)[:, 1:], [[0, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(space.encode(params, [[1e-3, 2]])[0, 1:], [0, 0, 1])
    # the largest coordinate wins, whatever the others are
    np.testing.assert_array_equal(space.decode(params, [[np.log(1e-3), 0.2, 0.7, 0.4]]),
                                  [[pytest.approx(1e-3), 1]])
    x = sobol.points(params, seed=2, start=0, n=768)
    assert np.unique(x[:, 1], return_counts=True)[1].tolist() == [256, 256, 256]
    assert space.centre(params)[0, 1] == 1  # the middle value
    assert [optimiser.cast(i) for i in (0, 1, 2)] == ["sgd", "adam", "adamw"]
    assert optimiser.number("adamw") == 2.0


def test_an_ordered_choice_is_searched_by_its_index_as_an_integer() -> None:
    """As Ax's ordered choice parameters: one coordinate, the index relaxed to
    ``[-1/2, k - 1/2]`` and rounded, so 64 lies between 32 and 128 for the model."""
    batch = Parameter.choice("batch", [16, 32, 64, 128], ordered=True)
    params = (Parameter("lr", 1e-4, 1e-1, log_scale=True), batch)
    assert not batch.categorical and Parameter.choice("b", [1, 2]).categorical
    np.testing.assert_array_equal(space.bounds(params)[:, 1], [-0.5, 3.5])
    np.testing.assert_array_equal(space.encode(params, [[1e-3, 2]])[0, 1], 2.0)
    np.testing.assert_array_equal(
        space.decode(params, [[np.log(1e-3), z] for z in (-0.5, 0.49, 1.5, 2.51, 3.5)])[:, 1],
        [0, 0, 2, 3, 3])
    x = sobol.points((batch,), seed=2, start=0, n=1024)
    assert np.unique(x[:, 0], return_counts=True)[1].tolist() == [256] * 4
    assert space.centre((batch,))[0, 0] == 2  # half up from the middle, 1.5
    assert [batch.cast(i) for i in (0, 3)] == [16, 128] and batch.number(64) == 2.0


def test_the_optimiser_steps_integers_through_their_own_values() -> None:
    """Each integer's search column (ordered choices too; a category's one-hot columns
    are skipped) with the values it takes there, logs on a log scale."""
    params = (Parameter.choice("optimizer", ["sgd", "adam", "adamw"]),
              Parameter("layers", 1.0, 4.0, integer=True),
              Parameter("lr", 1e-4, 1e-1, log_scale=True),
              Parameter("width", 8.0, 10.0, integer=True, log_scale=True),
              Parameter.choice("batch", [16, 32, 64], ordered=True))
    values = space.discrete_values(params)
    assert sorted(values) == [3, 5, 6]
    assert values[3] == [1.0, 2.0, 3.0, 4.0] and values[6] == [0.0, 1.0, 2.0]
    np.testing.assert_allclose(values[5], np.log([8, 9, 10]))
    # every value decodes to itself
    z = np.zeros((1, space.bounds(params).shape[1]))
    z[0, 5] = values[5][1]
    assert space.decode(params, z)[0, 3] == 9.0


EXTERNAL = ProblemInfo(
    kind="external", id="external",
    objectives=(Objective("accuracy"), Objective("latency", "minimize")),
    parameters=(Parameter("lr", 1e-5, 1e-1, log_scale=True),
                Parameter("layers", 1.0, 6.0, integer=True),
                Parameter.choice("optimizer", ["sgd", "adam", "adamw"]),
                Parameter.choice("batch", [32, 64, 128, 256], ordered=True)),
)


def _training_run(x: np.ndarray) -> np.ndarray:
    """Accuracy peaks at lr = 1e-3, grows with depth and is best with adamw (index 2);
    latency grows with depth and falls with the batch size (by its index)."""
    log_lr, layers, optimiser, batch = np.log10(x[:, 0]), x[:, 1], x[:, 2], x[:, 3]
    accuracy = 1 - 0.1 * (log_lr + 3) ** 2 + 0.05 * layers + 0.1 * (optimiser == 2)
    return np.stack([accuracy, 2.0 * layers + 1 - 0.2 * batch], axis=1)


@pytest.mark.parametrize("suggest", [bo.suggest_qlognehvi, bo.suggest_qnparego])
def test_model_suggestions_are_valid_values(suggest: Any) -> None:
    x = sobol.points(EXTERNAL.parameters, 7, 0, 8)
    observations = Observations(x=x, objectives=_training_run(x), n_suggested=8)
    suggested = suggest(EXTERNAL, TINY, 7, observations, 2, "cpu")
    assert suggested.shape == (2, 4)
    lr, layers, optimiser, batch = suggested.T
    assert ((lr >= 1e-5) & (lr <= 1e-1)).all()
    assert ((layers >= 1) & (layers <= 6)).all() and (layers == np.round(layers)).all()
    assert set(optimiser) <= {0.0, 1.0, 2.0} and set(batch) <= {0.0, 1.0, 2.0, 3.0}
    again = suggest(EXTERNAL, TINY, 7, observations, 2, "cpu")
    np.testing.assert_array_equal(suggested, again)


def test_a_campaign_records_integers_as_ints() -> None:
    integer = EXTERNAL.parameters[1]
    assert integer.cast(3.0) == 3 and isinstance(integer.cast(3.0), int)
    assert isinstance(EXTERNAL.parameters[0].cast(3), float)
