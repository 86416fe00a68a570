"""The built-in test functions: they build and evaluate, and their metadata is BoTorch's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from bayesopt import problems
from bayesopt.problems import (
    DTLZConfig,
    GMMConfig,
    InvalidCandidates,
    ProblemConfig,
    TestFunctionDefinition,
    ZDTConfig,
    catalogue,
)

REQUIRED = {
    "branin-currin",
    "zdt1",
    "zdt2",
    "zdt3",
    "dtlz1",
    "dtlz2",
    "vehicle-safety",
    "car-side-impact",
    "constrained-branin-currin",
    "c2dtlz2",
    "disc-brake",
    "welded-beam",
}
CONSTRAINED = {"constrained-branin-currin", "c2dtlz2", "disc-brake", "welded-beam", "osy"}

# Every entry at its defaults, plus the non-default shapes its config allows.
CONFIGS: list[tuple[str, dict[str, Any]]] = [(pid, {}) for pid in catalogue()]
CONFIGS += [(pid, {"dim": d}) for pid in ("zdt1", "zdt2", "zdt3") for d in (2, 10)]
CONFIGS += [
    (pid, {"num_objectives": m, "dim": d})
    for pid in ("dtlz1", "dtlz2", "dtlz3", "dtlz5", "dtlz7", "c2dtlz2")
    for m, d in ((3, 6), (4, 9))
]
CONFIGS += [("c2dtlz2", {"dim": 8})]
CONFIGS += [("gmm", {"num_objectives": m}) for m in (3, 4)]


def _config_id(case: tuple[str, dict[str, Any]]) -> str:
    pid, config = case
    return pid + "".join(f"-{k}={v}" for k, v in config.items())


def _botorch_function(entry: TestFunctionDefinition, config: dict[str, Any], negate: bool = False):
    from botorch.test_functions import multi_objective

    return getattr(multi_objective, entry.botorch_class)(negate=negate, **config)


def _points_in_box(info, n: int, seed: int = 0) -> np.ndarray:
    low = np.array([p.low for p in info.parameters])
    high = np.array([p.high for p in info.parameters])
    inside = low + (high - low) * np.random.default_rng(seed).random((n, len(low)))
    return np.vstack([low, high, inside])


def test_catalogue_has_the_required_problems_with_one_line_summaries() -> None:
    entries = catalogue()
    assert REQUIRED <= set(entries)
    for pid, entry in entries.items():
        assert entry.id == pid
        assert entry.summary and "\n" not in entry.summary and "(" in entry.summary  # citation
        assert issubclass(entry.config, ProblemConfig)
        assert entry.config.model_config.get("extra") == "forbid"
        delay = entry.config.model_json_schema()["properties"]["evaluation_delay"]
        assert delay["default"] == 0.0 and "simulated seconds" in delay["description"]


@pytest.mark.parametrize("case", CONFIGS, ids=_config_id)
def test_info_matches_the_live_botorch_object(case: tuple[str, dict[str, Any]]) -> None:
    pid, config = case
    entry = catalogue()[pid]
    info = entry.info(config)
    cfg = entry.parse(config)
    function = _botorch_function(entry, cfg.model_dump(exclude={"evaluation_delay", "constraint_noise_std"}))

    assert info.kind == "test-function" and info.id == pid
    assert info.n_objectives == function.num_objectives
    assert len(info.parameters) == function.dim
    assert [p.name for p in info.parameters] == [f"x{i}" for i in range(function.dim)]
    bounds = np.array([[p.low for p in info.parameters], [p.high for p in info.parameters]])
    np.testing.assert_array_equal(bounds, function.bounds.numpy())
    assert info.senses == ["minimize"] * function.num_objectives
    # With negate=False the reference point is in minimisation units, as ours is.
    np.testing.assert_array_equal(np.array(info.reference_point), function.ref_point.numpy())
    assert info.reference_point_source == f"BoTorch test function {entry.botorch_class}"
    if function._max_hv is None or (pid == "c2dtlz2" and info.n_objectives != 2):
        # BoTorch keeps C2DTLZ2's two-objective value for any M; we give none there.
        assert info.known_max_hypervolume is None
    else:
        assert info.known_max_hypervolume == pytest.approx(function._max_hv, rel=1e-12)
    assert info.constraints == getattr(function, "num_constraints", 0)
    assert (info.constraints > 0) == (pid in CONSTRAINED)


def test_botorch_negates_the_reference_point_with_the_objectives() -> None:
    entry = catalogue()["branin-currin"]
    reference_point = entry.info().reference_point
    assert reference_point is not None
    negated = _botorch_function(entry, {}, negate=True)
    assert negated.ref_point.tolist() == [-v for v in reference_point]


@pytest.mark.parametrize(
    ("pid", "config", "reference_point", "max_hv"),
    [
        ("branin-currin", {}, (18.0, 6.0), 59.36),
        ("dtlz2", {"dim": 6, "num_objectives": 2}, (1.1, 1.1), 0.4246),
        ("dtlz2", {"dim": 6, "num_objectives": 3}, (1.1, 1.1, 1.1), 0.8074),
        ("zdt1", {"dim": 4}, (11.0, 11.0), 120.67),
    ],
)
def test_the_design_reference_numbers(
    pid: str, config: dict[str, Any], reference_point: tuple[float, ...], max_hv: float
) -> None:
    info = catalogue()[pid].info(config)
    assert info.reference_point == reference_point
    assert info.known_max_hypervolume == pytest.approx(max_hv, abs=5e-3)


@pytest.mark.parametrize("case", CONFIGS, ids=_config_id)
def test_every_entry_builds_and_evaluates_finite_values(case: tuple[str, dict[str, Any]]) -> None:
    pid, config = case
    problem = catalogue()[pid].build(config)
    x = _points_in_box(problem.info, 4)  # the two corners and four inside
    y = problem.evaluate(x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float64
    assert y.shape == (len(x), problem.info.n_objectives)
    assert np.isfinite(y).all()
    assert problem.evaluate(x[:0]).shape == (0, problem.info.n_objectives)


@pytest.mark.parametrize("case", CONFIGS, ids=_config_id)
def test_constraint_slacks_are_botorchs_with_feasible_meaning_nonnegative(
    case: tuple[str, dict[str, Any]],
) -> None:
    pid, config = case
    entry = catalogue()[pid]
    problem = entry.build(config)
    x = _points_in_box(problem.info, 20)
    slacks = problem.constraint_slacks(x)
    assert slacks.dtype == np.float64 and slacks.shape == (len(x), problem.info.constraints)
    assert np.isfinite(slacks).all()
    assert problem.constraint_slacks(x[:0]).shape == (0, problem.info.constraints)
    if problem.info.constraints:
        import torch

        function = _botorch_function(
            entry, entry.parse(config).model_dump(exclude={"evaluation_delay", "constraint_noise_std"})
        )
        expected = function.evaluate_slack_true(torch.from_numpy(x)).numpy()
        np.testing.assert_array_equal(slacks, entry.slack_sign * expected)


@pytest.mark.parametrize(
    ("pid", "x", "feasible"),
    [
        # the disk (x0' - 2.5)^2 + (x1' - 7.5)^2 <= 50 on Branin's box [-5, 10] x [0, 15]
        ("constrained-branin-currin", [0.5, 0.5], True),
        ("constrained-branin-currin", [0.0, 0.0], False),
        # the published optimum-cost design (Ragsdell & Phillips), all constraints active
        ("welded-beam", [0.2444, 6.2187, 8.2915, 0.2444], True),
        ("welded-beam", [5.0, 0.1, 0.1, 0.125], False),  # thin, short, huge weld: stress fails
        # disc brake: outer minus inner radius must be at least 20
        ("disc-brake", [55.0, 80.0, 1500.0, 12.0], True),
        ("disc-brake", [70.0, 80.0, 1500.0, 12.0], False),
        # C2-DTLZ2: a point of the front inside the feasible arc near f1 = f2 ...
        ("c2dtlz2", [0.5, 0.5, 0.5, 0.5], True),
        # ... and one on the front between the arcs, which the constraint cuts out
        ("c2dtlz2", [0.25, 0.5, 0.5, 0.5], False),
    ],
)
def test_slack_sign_convention_on_known_designs(pid: str, x: list[float], feasible: bool) -> None:
    slacks = catalogue()[pid].build().constraint_slacks(np.array([x]))
    assert bool((slacks >= 0).all()) is feasible


def test_evaluate_uses_botorch_unnegated() -> None:
    entry = catalogue()["dtlz2"]
    problem = entry.build({"num_objectives": 3})
    x = _points_in_box(problem.info, 3, seed=1)
    import torch

    expected = _botorch_function(entry, {"dim": 6, "num_objectives": 3})(torch.from_numpy(x))
    np.testing.assert_array_equal(problem.evaluate(x), expected.numpy())


def test_evaluate_rejects_bad_shapes_and_points_outside_the_box() -> None:
    problem = catalogue()["vehicle-safety"].build()
    with pytest.raises(InvalidCandidates, match=r"n x 5"):
        problem.evaluate(np.full((2, 4), 2.0))
    with pytest.raises(InvalidCandidates, match=r"n x 5"):
        problem.evaluate(np.full(5, 2.0))
    with pytest.raises(InvalidCandidates, match=r"finite"):
        problem.evaluate(np.array([[2.0, 2.0, np.nan, 2.0, 2.0]]))
    with pytest.raises(InvalidCandidates, match=r"x3=3\.5 in row 1 is outside its bounds"):
        problem.evaluate(np.array([[2.0] * 5, [2.0, 2.0, 2.0, 3.5, 2.0]]))


def test_evaluation_delay_sleeps_per_point(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(problems.time, "sleep", slept.append)
    problem = catalogue()["zdt1"].build({"evaluation_delay": 0.25})
    problem.evaluate(np.full((3, 4), 0.5))
    assert slept == [0.75]
    catalogue()["zdt1"].build().evaluate(np.full((3, 4), 0.5))
    assert slept == [0.75]  # no delay by default


@pytest.mark.parametrize(
    ("config_class", "values", "field"),
    [
        (ZDTConfig, {"dim": 1}, "dim"),
        (ZDTConfig, {"num_objectives": 3}, "num_objectives"),
        (DTLZConfig, {"dim": 2}, "dim"),
        (DTLZConfig, {"num_objectives": 3, "dim": 3}, "dim"),
        (DTLZConfig, {"num_objectives": 6}, "dim"),  # default dim 6 is then too small
        (DTLZConfig, {"num_objectives": 1, "dim": 4}, "num_objectives"),
        (GMMConfig, {"num_objectives": 5}, "num_objectives"),
        (ProblemConfig, {"evaluation_delay": -1}, "evaluation_delay"),
        (ProblemConfig, {"evaluation_delay": 61}, "evaluation_delay"),
        (ProblemConfig, {"dim": 3}, "dim"),  # fixed-size problems take no dim
        (DTLZConfig, {"dims": 8}, "dims"),
    ],
)
def test_bad_configs_raise_a_validation_error_naming_the_field(
    config_class: type[ProblemConfig], values: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        config_class.model_validate(values)
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]
    assert field in str(caught.value)


def test_dtlz_dim_error_says_what_to_do() -> None:
    with pytest.raises(ValidationError, match="set dim to at least 5"):
        catalogue()["dtlz2"].info({"num_objectives": 4, "dim": 4})


def test_entries_accept_a_mapping_a_config_or_nothing() -> None:
    entry = catalogue()["zdt2"]
    assert entry.info({"dim": 7}) == entry.info(ZDTConfig(dim=7))
    assert len(entry.info().parameters) == 4
    with pytest.raises(TypeError, match="ZDTConfig"):
        entry.info(DTLZConfig())
    with pytest.raises(ValidationError):
        entry.info({"unknown": 1})


def test_the_catalogue_and_info_need_no_torch() -> None:
    code = (
        "import sys\n"
        "from bayesopt.problems import catalogue\n"
        "import bayesopt.sobol\n"
        "infos = [entry.info() for entry in catalogue().values()]\n"
        "assert 'torch' not in sys.modules and 'botorch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
