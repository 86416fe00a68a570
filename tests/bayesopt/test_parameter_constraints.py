"""Linear parameter constraints (Ax's ``parameter_constraints``): how a constraint string
is read, how a rounded or slightly-off point is brought back inside, and that the Sobol
design and both BO methods suggest only points that satisfy every constraint."""

from __future__ import annotations

import numpy as np
import pytest

from bayesopt import bo, parameter_constraints, sobol
from bayesopt.external import ExternalConfig, ExternalDefinition
from jobs.protocol import Observations, Parameter

PARAMETERS = (Parameter("x1", 0, 1), Parameter("x2", 0, 1), Parameter("n", 1, 8, integer=True),
              Parameter("lr", 1e-5, 1, log_scale=True), Parameter.choice("opt", ["sgd", "adam"]))


@pytest.mark.parametrize(("text", "coefficients", "bound"), [
    ("x1 + x2 <= 1", {"x1": 1, "x2": 1}, 1),
    ("x1 <= x2", {"x1": 1, "x2": -1}, 0),
    ("2*x1 - 0.5 * x2 >= -0.3", {"x1": -2, "x2": 0.5}, 0.3),
    ("-x1 + 2 x2 + 1 <= 3 - x1*3", {"x1": 2, "x2": 2}, 2),
    ("n + 3*x1 <= 4.5", {"n": 1, "x1": 3}, 4.5),
    ("x1 + 1e-3*x2 <= 1.5e0", {"x1": 1, "x2": 0.001}, 1.5),
    ("x1 + x2 - x2 <= 0.5", {"x1": 1}, 0.5),  # a coefficient of 0 drops out
])
def test_a_constraint_is_read_as_ax_writes_it(text, coefficients, bound):
    constraint = parameter_constraints.parse(text, PARAMETERS)
    names = [p.name for p in PARAMETERS]
    assert {names[i]: c for i, c in constraint.coefficients} == pytest.approx(coefficients)
    assert constraint.bound == pytest.approx(bound)
    assert constraint.text == text


@pytest.mark.parametrize(("text", "message"), [
    ("x1 + x2 == 1", "one '<=' or '>='"),
    ("x1 < x2", "one '<=' or '>='"),
    ("x1 + x2 <= 1 <= 2", "one '<=' or '>='"),
    ("x1 + y <= 1", "unknown parameter 'y'; the parameters are x1, x2, n, lr, opt"),
    ("x1-x2 <= 0", "put spaces around + and -"),
    ("lr <= 0.1", "lr is on a log scale"),
    ("opt <= 1", "opt is a choice parameter"),
    ("x1 + x2 >= 3", ("no point within the parameters' bounds satisfies it (at best it is "
                     "missed by 1)")),
    ("x1 * x2 <= 1", "cannot read the term 'x1 * x2'"),
    ("x1 ** 2 <= 1", "cannot read the term"),
    ("x1 ^ 2 <= 1", "cannot read '^ 2 <= 1'"),
    ("3 <= 4", "names no parameter"),
    ("<= 1", "one side of the inequality is empty"),
])
def test_a_constraint_that_cannot_be_read_or_met_says_why(text, message):
    with pytest.raises(ValueError) as raised:
        parameter_constraints.parse(text, PARAMETERS)
    assert message in str(raised.value)
    assert str(raised.value).startswith(repr(text))


def test_constraints_leaving_too_little_of_the_box_are_refused():
    problem = {"parameters": [{"name": "a", "low": 0, "high": 1}, {"name": "b", "low": 0, "high": 1}],
               "objectives": [{"name": "f"}]}
    ExternalConfig.model_validate(problem | {"parameter_constraints": ["a + b <= 0.1"]})  # 0.5%
    with pytest.raises(ValueError, match=r"together they leave 0.006% of the box, under the 0.10%"):
        ExternalConfig.model_validate(problem | {"parameter_constraints": ["a + b <= 0.01"]})
    with pytest.raises(ValueError, match=r"constraint 1, 'a \+ c <= 1': unknown"):
        ExternalConfig.model_validate(problem | {"parameter_constraints": ["a <= b", "a + c <= 1"]})


def test_rounding_an_integer_over_a_constraint_takes_the_nearest_rounding_inside():
    parameters = (Parameter("a", 0, 10, integer=True), Parameter("b", 0, 10, integer=True))
    constraints = (parameter_constraints.parse("a + b <= 5", parameters),)
    relaxed = np.array([[2.5, 2.5], [1.2, 3.7], [0.0, 5.0]])  # each exactly on a + b = 5
    assert not parameter_constraints.satisfied(
        parameters, constraints, np.floor(relaxed + 0.5)).all()  # plain rounding: 6, 6, 5
    x = parameter_constraints.feasible_values(parameters, constraints, relaxed,
                                              fallback=lambda: np.empty((0, 2)))
    assert x[0].sum() == 5 and set(x[0]) == {2.0, 3.0}
    assert x[1].tolist() == [1.0, 4.0]  # (1, 4) is nearer (1.2, 3.7) than (2, 3)
    assert x[2].tolist() == [0.0, 5.0]


def test_a_float_a_hair_over_is_moved_back_and_a_point_far_outside_falls_back():
    parameters = (Parameter("x", 0, 1), Parameter("y", 0, 1))
    constraints = (parameter_constraints.parse("x + y <= 1", parameters),)
    x = parameter_constraints.feasible_values(parameters, constraints,
                                              np.array([[0.6, 0.4 + 1e-6]]), lambda: np.empty((0, 2)))
    assert x[0] == pytest.approx([0.6 - 5e-7, 0.4 + 5e-7]) and x[0].sum() <= 1
    # an optimiser's answer left outside (here by far): no rounding of n works, so the
    # nearest point known to be inside is taken
    ints = (Parameter("n", 0, 9, integer=True), Parameter("x", 0, 1))
    over_two = tuple(parameter_constraints.parse(t, ints) for t in ("n >= 2", "n + x <= 5"))
    x = parameter_constraints.feasible_values(ints, over_two, np.array([[0.2, 0.5]]),
                                              fallback=lambda: np.array([[5.0, 0.0], [2.0, 0.6]]))
    assert x.tolist() == [[2.0, 0.6]]


def _problem(*constraints: str):
    config = ExternalConfig.model_validate({
        "parameters": [{"name": "a", "low": 0, "high": 10, "value_type": "int"},
                       {"name": "b", "low": 0, "high": 10, "value_type": "int"},
                       {"name": "x", "low": 0, "high": 1}],
        "objectives": [{"name": "f1"}, {"name": "f2"}],
        "parameter_constraints": list(constraints)})
    return ExternalDefinition().info(config)


def test_the_sobol_design_keeps_the_points_inside_in_sequence_order():
    info = _problem("a + b <= 7", "x <= 0.1*a")
    whole = sobol.points(info.parameters, 3, 0, 40, constraints=info.parameter_constraints)
    assert parameter_constraints.satisfied(info.parameters, info.parameter_constraints, whole).all()
    cut = np.concatenate([sobol.points(info.parameters, 3, start, 10,
                                       constraints=info.parameter_constraints)
                          for start in range(0, 40, 10)])
    np.testing.assert_array_equal(cut, whole)  # the same design however it is asked for
    box = sobol.points(info.parameters, 3, 0, 2048)  # about 7% of them are inside
    inside = box[parameter_constraints.satisfied(info.parameters, info.parameter_constraints, box)]
    np.testing.assert_array_equal(whole, inside[:40])


def test_a_centre_outside_the_constraints_moves_to_the_centre_of_what_they_leave():
    inside = _problem("a + b <= 12")
    design = bo._initial_points(inside.parameters, 0, 0, 5, True, inside.parameter_constraints)
    assert design[0].tolist() == [5.0, 5.0, 0.5]  # the box's centre (5, 5) is inside
    outside = _problem("a + b <= 7")
    design = bo._initial_points(outside.parameters, 0, 0, 5, True, outside.parameter_constraints)
    # the largest ball in a + b <= 7, a, b in [0, 10]: centre (2.05, 2.05), rounded
    assert design[0].tolist() == [2.0, 2.0, 0.5]
    assert parameter_constraints.satisfied(outside.parameters, outside.parameter_constraints,
                                           design).all()
    np.testing.assert_array_equal(  # then the Sobol points inside, as without the centre
        design[1:], sobol.points(outside.parameters, 0, 0, 4,
                                 constraints=outside.parameter_constraints))
    # DTLZ2's inputs under x1 + .. + x5 <= 2: each at 2 / (5 + sqrt 5), as Ax's centre
    dtlz = tuple(Parameter(f"x{i}", 0, 1) for i in range(6))
    budget = (parameter_constraints.parse("x1 + x2 + x3 + x4 + x5 <= 2", dtlz),)
    point = parameter_constraints.centre(dtlz, budget)
    assert point is not None
    np.testing.assert_allclose(point[0], [0.5] + [2 / (5 + np.sqrt(5))] * 5, atol=1e-9)


def _two_objectives(x: np.ndarray) -> list[list[float]]:
    """Both objectives grow with a and b alike, so the front lies on a + b = 7."""
    return [[a + 3 * xx, b - 0.1 * (a - 4) ** 2] for a, b, xx in x]


@pytest.mark.parametrize("suggest", [bo.suggest_qlognehvi, bo.suggest_qnparego])
def test_the_bo_methods_suggest_inside_the_constraints_and_go_to_their_edge(suggest):
    info = _problem("a + b <= 7", "x <= 0.1*a")
    params = {"num_restarts": 4, "raw_samples": 64, "mc_samples": 32}
    x, y = np.empty((0, 3)), np.empty((0, 2))
    acquired = []
    while len(x) < 16:
        observed = Observations(x=x, objectives=y, n_suggested=len(x))
        batch = suggest(info, params, 5, observed, 3, "cpu")
        assert parameter_constraints.satisfied(info.parameters, info.parameter_constraints,
                                               batch).all(), batch
        assert np.array_equal(batch[:, :2], np.round(batch[:, :2]))  # whole numbers
        if len(x) >= 8:  # 2 (d + 1): the design is done
            acquired.append(batch)
        x, y = np.vstack([x, batch]), np.vstack([y, _two_objectives(batch)])
    acquired = np.vstack(acquired)
    on_edge = acquired[:, 0] + acquired[:, 1] == 7
    assert on_edge.mean() >= 0.5, acquired  # the optimum is on the constraint, not short of it


def test_a_float_a_few_units_in_the_last_place_over_is_moved_inside_exactly():
    parameters = tuple(Parameter(f"x{i}", 0, 1) for i in range(6))
    constraints = (parameter_constraints.parse("x1 + x2 + x3 + x4 + x5 <= 2", parameters),)
    z = np.array([[0.3, 0.4, 0.4, 0.4, 0.4, 0.4 + 3e-9]])  # within the tolerance, yet over
    assert parameter_constraints.satisfied(parameters, constraints, z)[0]
    x = parameter_constraints.feasible_values(parameters, constraints, z, lambda: np.empty((0, 6)))
    assert x[0, 1:].sum() - 2 <= 1e-15
    np.testing.assert_allclose(x, z, atol=1e-8)


def test_a_long_constrained_design_is_drawn_however_far_it_goes():
    parameters = (Parameter("a", 0, 1), Parameter("b", 0, 1))
    small = (parameter_constraints.parse("a + b <= 0.1", parameters),)  # 0.5% of the box
    far = sobol.points(parameters, 0, 6000, 2, constraints=small)  # past 2^20 draws
    assert len(far) == 2 and parameter_constraints.satisfied(parameters, small, far).all()


def test_a_constrained_suggestion_is_the_same_for_the_same_observations():
    info = _problem("a + b <= 7", "x <= 0.1*a")
    x = sobol.points(info.parameters, 1, 0, 10, constraints=info.parameter_constraints)
    observed = Observations(x=x, objectives=np.array(_two_objectives(x)), n_suggested=10)
    params = {"num_restarts": 4, "raw_samples": 64, "mc_samples": 32}
    first, again = (bo.suggest_qlognehvi(info, params, 3, observed, 2, "cpu") for _ in range(2))
    np.testing.assert_array_equal(first, again)  # what a resumed campaign relies on
