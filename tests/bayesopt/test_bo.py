"""qLogNEHVI and qNParEGO: the campaign loop (budget, records, timings, seeds, resume),
constraints, and ask/tell suggestions. Tiny optimiser settings: correctness, not quality
(quality is measured by ``benchmarks/bench_bo.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from memory_recorder import MemoryRecorder, SimulatedCrash
from pydantic import ValidationError

from bayesopt import acquisition, bo, models, sobol
from bayesopt.config import NSGA2Config, QLogNEHVIConfig, QNParEGOConfig
from bayesopt.problems import catalogue
from jobs.protocol import Objective, Observations, Parameter, ProblemInfo

TINY: dict[str, Any] = {
    "q": 3,
    "num_restarts": 2,
    "raw_samples": 32,
    "mc_samples": 16,
    "max_iter_acqf": 20,
    "initial_centre": False,  # the pure Sobol design; the centre has its own test
}
RUNS = {"qlognehvi": bo.run_qlognehvi, "qnparego": bo.run_qnparego}
SUGGESTS = {"qlognehvi": bo.suggest_qlognehvi, "qnparego": bo.suggest_qnparego}
METHODS = list(RUNS)


def _run(
    method: str, budget: float, seed: int = 0, problem_id: str = "branin-currin", **params: Any
) -> MemoryRecorder:
    recorder = MemoryRecorder(budget)
    RUNS[method](catalogue()[problem_id].build(), {**TINY, **params}, seed, "cpu", recorder)
    return recorder


@pytest.fixture(scope="module")
def campaigns() -> dict[str, MemoryRecorder]:
    """One uninterrupted campaign per method: 6 Sobol points, then batches 3, 3, 1."""
    return {method: _run(method, 13, seed=3) for method in METHODS}


@pytest.mark.parametrize("method", METHODS)
def test_runs_to_exactly_the_budget_and_records_where_each_candidate_came_from(
    method: str, campaigns: dict[str, MemoryRecorder]
) -> None:
    recorder = campaigns[method]
    assert recorder.batch_sizes == [6, 3, 3, 1]  # 2 (d + 1) initial points; last batch cut
    assert recorder.budget_used == 13 and recorder.conflicts == []
    items = recorder.evaluations()
    assert [e.meta for e in items[:6]] == [
        {"iteration": 0, "stage": "initial", "batch_index": j} for j in range(6)
    ]
    assert [e.meta for e in items[6:]] == [
        {"iteration": k, "stage": "acquisition", "batch_index": j}
        for k, n in ((1, 3), (2, 3), (3, 1))
        for j in range(n)
    ]
    assert all(e.kind == "candidate" and e.cost == 1.0 and e.constraints is None for e in items)
    x = recorder.points()
    assert ((x >= 0) & (x <= 1)).all()
    assert len(np.unique(x, axis=0)) == 13
    problem = catalogue()["branin-currin"].build()
    np.testing.assert_array_equal(np.array([e.objectives for e in items]), problem.evaluate(x))


@pytest.mark.parametrize("method", METHODS)
def test_the_initial_design_is_the_sobol_baselines_first_points(
    method: str, campaigns: dict[str, MemoryRecorder]
) -> None:
    info = catalogue()["branin-currin"].info()
    np.testing.assert_array_equal(
        campaigns[method].points()[:6], sobol.points(info.parameters, 3, 0, 6)
    )


@pytest.mark.parametrize("method", METHODS)
def test_timings_are_logged_before_every_batch(
    method: str, campaigns: dict[str, MemoryRecorder]
) -> None:
    logs = campaigns[method].logs
    assert len(logs) == 4
    assert all(
        set(log)
        == {"fit_seconds", "acquisition_seconds", "proposal_cpu_seconds", "evaluation_seconds"}
        for log in logs
    )
    first = logs[0]
    assert first["fit_seconds"] == first["acquisition_seconds"] == first["proposal_cpu_seconds"] == 0
    assert all(log["fit_seconds"] > 0 and log["acquisition_seconds"] > 0 for log in logs[1:])
    assert all(log["proposal_cpu_seconds"] > 0 for log in logs[1:])
    assert all(log["evaluation_seconds"] >= 0 for log in logs)


@pytest.mark.parametrize("method", METHODS)
def test_checkpoints_hold_the_observations_and_the_iteration(
    method: str, campaigns: dict[str, MemoryRecorder]
) -> None:
    recorder = campaigns[method]
    assert [state["iteration"] for state in recorder.checkpoints] == [0, 1, 2, 3]
    last = recorder.checkpoints[-1]
    assert set(last) == {"iteration", "x", "objectives", "constraints"}
    np.testing.assert_array_equal(np.array(last["x"]), recorder.points())
    assert last["objectives"] == [list(e.objectives) for e in recorder.evaluations()]
    assert last["constraints"] is None


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_candidates_other_seed_other_candidates(
    method: str, campaigns: dict[str, MemoryRecorder]
) -> None:
    again = _run(method, 9, seed=3)
    np.testing.assert_array_equal(again.points(), campaigns[method].points()[:9])
    assert not np.allclose(_run(method, 6, seed=4).points(), again.points()[:6])


@pytest.mark.parametrize(
    ("method", "crash"),
    [
        ("qlognehvi", {"fail_on_record": 3}),  # batch 3 never stored
        ("qlognehvi", {"fail_on_checkpoint": 2}),  # batch 2 stored, its checkpoint lost
        ("qnparego", {"fail_on_record": 4}),  # the last, truncated batch never stored
    ],
    ids=["qlognehvi-during-record", "qlognehvi-between-record-and-checkpoint", "qnparego"],
)
def test_resume_after_a_crash_proposes_the_uninterrupted_campaigns_candidates(
    method: str, crash: dict[str, int], campaigns: dict[str, MemoryRecorder]
) -> None:
    problem = catalogue()["branin-currin"].build()
    crashed = MemoryRecorder(13, **crash)
    with pytest.raises(SimulatedCrash):
        RUNS[method](problem, TINY, 3, "cpu", crashed)
    torch.manual_seed(12345)  # the global RNG state must not matter
    resumed = MemoryRecorder(13, store=crashed.store)
    RUNS[method](problem, TINY, 3, "cpu", resumed)
    assert resumed.conflicts == []
    np.testing.assert_array_equal(resumed.points(), campaigns[method].points())
    assert resumed.checkpoints[-1] == campaigns[method].checkpoints[-1]


def test_a_finished_campaign_resumes_to_nothing(campaigns: dict[str, MemoryRecorder]) -> None:
    again = MemoryRecorder(13, store=campaigns["qlognehvi"].store)
    bo.run_qlognehvi(catalogue()["branin-currin"].build(), TINY, 3, "cpu", again)
    assert again.batch_sizes == []


@pytest.mark.parametrize(("budget", "batches"), [(4, [4]), (0, []), (7, [6, 1])])
def test_small_budgets_cut_the_initial_design_or_the_first_batch(
    budget: int, batches: list[int]
) -> None:
    assert _run("qlognehvi", budget).batch_sizes == batches


def test_n_initial_and_q_are_parameters() -> None:
    recorder = _run("qnparego", 8, n_initial=3, q=2)
    assert recorder.batch_sizes == [3, 2, 2, 1]


@pytest.mark.parametrize("method", METHODS)
def test_constrained_problem_records_slacks_and_finds_feasible_points(method: str) -> None:
    recorder = _run(method, 9, seed=1, problem_id="constrained-branin-currin")
    problem = catalogue()["constrained-branin-currin"].build()
    items = recorder.evaluations()
    slacks = np.array([e.constraints for e in items])
    assert slacks.shape == (9, 1)
    np.testing.assert_array_equal(slacks, problem.constraint_slacks(recorder.points()))
    assert sum(e.feasible for e in items[6:]) >= 1  # the model steers into the disk
    assert recorder.checkpoints[-1]["constraints"] == slacks.tolist()


def test_slack_constraints_are_satisfied_iff_the_slack_is_nonnegative() -> None:
    constraints = acquisition.slack_constraints(n_objectives=2, n_constraints=2)
    assert constraints is not None and len(constraints) == 2
    samples = torch.tensor([[[1.0, 2.0, 0.5, -0.5]]])  # 1 sample x q=1 x (m + c)
    assert constraints[0](samples).item() < 0  # slack 0.5: satisfied (BoTorch: <= 0)
    assert constraints[1](samples).item() > 0  # slack -0.5: violated
    assert acquisition.slack_constraints(2, 0) is None


def test_a_sum_of_measured_values_is_a_slack_affine_in_their_outputs() -> None:
    """``gpu + 2*cpu <= 10`` and ``gpu >= 1``, told gpu and cpu: the slacks ``10 - gpu -
    2 cpu`` and ``gpu - 1`` from the model's outputs after the objectives, then the
    success GP's output as a slack of its own."""
    from bayesopt.external import ExternalConfig, ExternalDefinition

    info = ExternalDefinition().info(ExternalConfig.model_validate({
        "parameters": [{"name": "x", "low": 0, "high": 1}], "objectives": [{"name": "f"}],
        "constraints": ["gpu + 2*cpu <= 10", "gpu >= 1"]}))
    assert info.metric_names == ["gpu", "cpu"]
    weights, offsets = info.slack_map()
    assert (weights, offsets) == ([[-1.0, -2.0], [1.0, 0.0]], [10.0, -1.0])
    gpu, cpu = 3.0, 4.0
    assert np.array(weights) @ [gpu, cpu] + offsets == pytest.approx(
        info.slacks(info.constraint_values([gpu, cpu])))
    constraints = acquisition.slack_constraints(
        1, 3, (torch.tensor(weights), torch.tensor(offsets)))
    assert constraints is not None and len(constraints) == 3
    samples = torch.tensor([[[0.5, gpu, cpu, -0.25]]])  # f, gpu, cpu, success
    assert [c(samples).item() for c in constraints] == pytest.approx([1.0, -2.0, 0.25])


def test_reference_point_is_published_or_inferred_from_the_feasible_front() -> None:
    objectives = torch.tensor([[1.0, 4.0], [3.0, 2.0], [10.0, 10.0], [0.0, 0.0]])
    slacks = torch.tensor([[1.0], [0.0], [-1.0], [2.0]])
    published = torch.tensor([-5.0, -5.0])
    assert acquisition.reference_point(objectives, slacks, published) is published
    # Feasible front {(1, 4), (3, 2)}: nadir (1, 2) minus 10% of the range (2, 2).
    inferred = acquisition.reference_point(objectives, slacks, None)
    assert torch.allclose(inferred, torch.tensor([0.8, 1.8]))
    # No feasible point yet: the front of all observations.
    assert torch.allclose(
        acquisition.reference_point(objectives, -torch.ones(4, 1), None),
        torch.tensor([9.0, 9.0]),  # one point y: y - 10% |y|
    )


# ---- ask/tell -----------------------------------------------------------------------

EXTERNAL = ProblemInfo(
    kind="external",
    id="bench",
    objectives=(Objective("yield", "maximize"), Objective("cost", "minimize")),
    parameters=(Parameter("temp", 20.0, 90.0), Parameter("time", 1.0, 5.0)),
)
LOW, HIGH = np.array([20.0, 1.0]), np.array([90.0, 5.0])


def _bench(x: np.ndarray) -> np.ndarray:
    u = (x - LOW) / (HIGH - LOW)
    return np.stack([np.sin(3 * u[:, 0]) + u[:, 1], (u**2).sum(axis=1)], axis=1)


def _observed(
    x: np.ndarray, pending: np.ndarray | None = None, n_suggested: int = 0
) -> Observations:
    return Observations(
        x=x,
        objectives=_bench(x),
        pending=pending,
        n_suggested=n_suggested or len(x) + (0 if pending is None else len(pending)),
    )


@pytest.mark.parametrize("method", METHODS)
def test_suggest_hands_out_the_sobol_sequence_until_n_initial_then_the_model(method: str) -> None:
    suggest = SUGGESTS[method]
    sequence = sobol.points(EXTERNAL.parameters, 5, 0, 12)
    first = suggest(EXTERNAL, TINY, 5, Observations(x=[], objectives=[]), 4, "cpu")
    np.testing.assert_array_equal(first, sequence[:4])
    # 4 told + 1 pending < 6 = 2 (d + 1): still Sobol, continuing from n_suggested.
    x = sequence[:4]
    second = suggest(EXTERNAL, TINY, 5, _observed(x, sequence[4:5]), 1, "cpu")
    np.testing.assert_array_equal(second, sequence[5:6])
    # 6 told: the model, which is not the Sobol continuation.
    model = suggest(EXTERNAL, TINY, 5, _observed(sequence[:6]), 3, "cpu")
    assert model.shape == (3, 2)
    assert not np.isclose(model[:, None, :], sequence[None, 6:9, :]).all(axis=-1).any()


@pytest.mark.parametrize("method", METHODS)
def test_model_suggestions_are_distinct_in_bounds_and_avoid_pending_points(method: str) -> None:
    suggest = SUGGESTS[method]
    x = sobol.points(EXTERNAL.parameters, 2, 0, 8)
    first = suggest(EXTERNAL, TINY, 2, _observed(x), 3, "cpu")
    second = suggest(EXTERNAL, TINY, 2, _observed(x, pending=first), 3, "cpu")
    for batch in (first, second):
        assert batch.shape == (3, 2)
        assert ((batch >= LOW) & (batch <= HIGH)).all()
        assert len(np.unique(batch, axis=0)) == 3
    both = np.vstack([first, second])
    assert len(np.unique(both, axis=0)) == 6  # no suggestion repeats a pending point
    # Same observations and n_suggested: the same suggestions.
    np.testing.assert_array_equal(suggest(EXTERNAL, TINY, 2, _observed(x), 3, "cpu"), first)


@pytest.mark.parametrize("method", METHODS)
def test_failed_points_do_not_fill_the_initial_design(method: str) -> None:
    sequence = sobol.points(EXTERNAL.parameters, 5, 0, 12)
    # 4 told + 2 failed < 6 = 2 (d + 1): the design goes on, from n_suggested.
    design = Observations(x=sequence[:4], objectives=_bench(sequence[:4]),
                          failed=sequence[4:6], n_suggested=6)
    np.testing.assert_array_equal(SUGGESTS[method](EXTERNAL, TINY, 5, design, 2, "cpu"),
                                  sequence[6:8])


def _hotter_is_better(x: np.ndarray) -> np.ndarray:
    u = (x - LOW) / (HIGH - LOW)
    return np.stack([u[:, 0] + 0.2 * u[:, 1], u[:, 1] + 0.1 * u[:, 0]], axis=1)


@pytest.mark.parametrize("method", METHODS)
def test_the_failure_model_keeps_suggestions_where_evaluations_succeed(method: str) -> None:
    """Every evaluation above 55 degrees failed, and the objectives reward heat: the
    success GP keeps the suggestions on the side that can be evaluated; without it the
    model, knowing nothing there, goes looking above 55."""
    tried = sobol.points(EXTERNAL.parameters, 0, 0, 16)
    succeeded = tried[:, 0] <= 55
    observations = Observations(x=tried[succeeded], objectives=_hotter_is_better(tried[succeeded]),
                                failed=tried[~succeeded], n_suggested=16)
    modelled = SUGGESTS[method](EXTERNAL, TINY, 0, observations, 3, "cpu")
    assert modelled[:, 0].max() <= 60, modelled
    as_pending = SUGGESTS[method](EXTERNAL, TINY | {"failure_model": False}, 0, observations, 3,
                                  "cpu")
    assert as_pending[:, 0].max() > 60, as_pending
    # without the model, failed points enter the acquisition exactly as pending ones do
    pending = Observations(x=observations.x, objectives=observations.objectives,
                           pending=observations.failed, n_suggested=16)
    np.testing.assert_array_equal(
        as_pending, SUGGESTS[method](EXTERNAL, TINY | {"failure_model": False}, 0, pending, 3,
                                    "cpu"))


def test_a_known_noise_level_is_fitted_as_given_per_observation() -> None:
    """A precise sine, and at x = 0.5 one measurement far off it: with its standard error
    told (2, against 0.01 elsewhere) the GP goes through the precise ones and past the
    outlier; with the noise inferred, one level for all, it follows the outlier. An
    outcome with any standard error missing infers its noise."""
    x = torch.cat([torch.rand(12, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0)),
                   torch.tensor([[0.5]], dtype=torch.float64)])
    y = torch.sin(6 * x)
    y[-1] = 3.0
    bounds = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    yvar = torch.full_like(y, 0.01**2)
    yvar[-1] = 2.0**2
    at_outlier = torch.tensor([[0.5]], dtype=torch.float64)

    def mean_at_outlier(train_yvar: torch.Tensor | None) -> float:
        torch.manual_seed(0)
        return models.fit_model(x, y, bounds, train_yvar=train_yvar).posterior(
            at_outlier).mean.item()

    assert mean_at_outlier(yvar) == pytest.approx(np.sin(3.0), abs=0.05)
    assert mean_at_outlier(None) > 2.5
    partly_known = yvar.clone()
    partly_known[0] = float("nan")
    assert mean_at_outlier(partly_known) == pytest.approx(mean_at_outlier(None))
    exact = models.fit_model(x, y, bounds, train_yvar=torch.zeros_like(y))  # floored, solvable
    assert torch.isfinite(exact.posterior(at_outlier).mean).all()


@pytest.mark.parametrize("method", METHODS)
def test_known_noise_keeps_a_lucky_measurement_from_drawing_the_suggestions(method: str) -> None:
    """Heat pays; one cold run was measured as beating everything, with a standard error
    of 1 where the others' is 0.01. Told the standard errors, the model (and the
    reference point, inferred from the posterior means) discounts it and suggests hot
    runs; not told them, it chases the cold corner."""
    x = np.vstack([sobol.points(EXTERNAL.parameters, 0, 0, 15), [[25.0, 1.5]]])
    y = np.vstack([_hotter_is_better(x[:-1]), [[2.0, 0.0]]])
    sem = np.full_like(y, 0.01)
    sem[-1] = 1.0
    told = SUGGESTS[method](EXTERNAL, TINY, 0, Observations(x=x, objectives=y, n_suggested=16,
                                                            sem=sem), 3, "cpu")
    assert told[:, 0].min() > 40, told
    untold = SUGGESTS[method](EXTERNAL, TINY, 0, Observations(x=x, objectives=y, n_suggested=16),
                              3, "cpu")
    assert untold[:, 0].min() < 30, untold
    all_unknown = np.full_like(y, np.nan)
    np.testing.assert_array_equal(untold, SUGGESTS[method](
        EXTERNAL, TINY, 0, Observations(x=x, objectives=y, n_suggested=16, sem=all_unknown), 3,
        "cpu"))


def test_suggest_uses_constraints_and_a_published_reference_point_when_there_are_some() -> None:
    info = catalogue()["constrained-branin-currin"].info()
    problem = catalogue()["constrained-branin-currin"].build()
    x = sobol.points(info.parameters, 0, 0, 7)
    observations = Observations(
        x=x, objectives=problem.evaluate(x), constraints=problem.constraint_slacks(x), n_suggested=7
    )
    suggested = bo.suggest_qlognehvi(info, TINY, 0, observations, 2, "cpu")
    assert suggested.shape == (2, 2) and ((suggested >= 0) & (suggested <= 1)).all()
    with pytest.raises(ValueError, match="1 constraints but no slacks"):
        bo.suggest_qlognehvi(
            info, TINY, 0, Observations(x=x, objectives=problem.evaluate(x)), 2, "cpu"
        )


@pytest.mark.parametrize(
    ("observations", "message"),
    [
        (Observations(x=np.zeros((3, 3)), objectives=np.zeros((3, 2))), r"x must be an n x 2"),
        (Observations(x=np.zeros((3, 2)), objectives=np.zeros((2, 2))), r"3 observed points"),
        (
            Observations(x=np.zeros((1, 2)), objectives=[[np.nan, 0.0]]),
            r"objectives must be finite",
        ),
        (
            Observations(x=np.zeros((1, 2)), objectives=np.zeros((1, 2)), pending=np.zeros((1, 1))),
            r"pending must be an n x 2",
        ),
        (
            Observations(x=np.zeros((1, 2)), objectives=np.zeros((1, 2)), failed=np.zeros((2, 3))),
            r"failed must be an n x 2",
        ),
        (
            Observations(x=np.zeros((2, 2)), objectives=np.zeros((2, 2)), sem=np.zeros((1, 2))),
            r"sem must be an 2 x 2 array",
        ),
        (
            Observations(x=np.zeros((1, 2)), objectives=np.zeros((1, 2)), sem=[[-1.0, np.nan]]),
            r"sem must be >= 0 and finite",
        ),
        (
            Observations(x=np.zeros((1, 2)), objectives=np.zeros((1, 2)), sem=[[np.inf, 0.0]]),
            r"sem must be >= 0 and finite",
        ),
    ],
)
def test_suggest_rejects_malformed_observations(observations: Observations, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bo.suggest_qnparego(EXTERNAL, TINY, 0, observations, 1, "cpu")


def test_suggest_zero_points_is_an_empty_array() -> None:
    x = sobol.points(EXTERNAL.parameters, 0, 0, 8)
    assert bo.suggest_qlognehvi(EXTERNAL, TINY, 0, _observed(x), 0, "cpu").shape == (0, 2)


# ---- configs ------------------------------------------------------------------------


@pytest.mark.parametrize("config", [QLogNEHVIConfig, QNParEGOConfig, NSGA2Config])
def test_configs_forbid_unknown_fields_and_describe_every_field(config: Any) -> None:
    assert config.model_config.get("extra") == "forbid"
    for name, schema in config.model_json_schema()["properties"].items():
        assert schema.get("description"), name
    with pytest.raises(ValidationError) as caught:
        config.model_validate({"batch_sze": 4})
    assert [error["loc"] for error in caught.value.errors()] == [("batch_sze",)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": 0}, "q"),
        ({"n_initial": 0}, "n_initial"),
        ({"num_restarts": 0}, "num_restarts"),
        ({"raw_samples": "many"}, "raw_samples"),
        ({"mc_samples": 5000}, "mc_samples"),
        ({"num_restart": 4}, "num_restart"),
    ],
)
def test_bad_params_are_refused_before_anything_is_evaluated(
    params: dict[str, Any], field: str
) -> None:
    recorder = MemoryRecorder(10)
    with pytest.raises(ValidationError) as caught:
        bo.run_qlognehvi(catalogue()["branin-currin"].build(), params, 0, "cpu", recorder)
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]
    assert recorder.batch_sizes == []


def test_default_initial_design_is_two_d_plus_one() -> None:
    assert QLogNEHVIConfig().initial_points(6) == 14
    assert QNParEGOConfig(n_initial=5).initial_points(6) == 5


def test_qlognehvi_optimiser_defaults_scale_with_the_dimension() -> None:
    # min(20, 4 d) restarts and min(1024, 256 d) raw points: Ax's 20 / 1024 from d = 5
    # and d = 4 on; all restarts in one batched L-BFGS-B call unless batch_limit is set.
    config = QLogNEHVIConfig()
    assert [config.restarts(d) for d in (1, 2, 5, 6, 30)] == [4, 8, 20, 20, 20]
    assert [config.raw_points(d) for d in (1, 2, 4, 6, 30)] == [256, 512, 1024, 1024, 1024]
    assert bo._optimiser_options(config, 6) == {
        "batch_limit": 20, "init_batch_limit": 32, "maxiter": 200,
    }  # fmt: skip
    assert bo._optimiser_options(config, 2)["batch_limit"] == 8
    chosen = QLogNEHVIConfig(num_restarts=3, raw_samples=64, batch_limit=2)
    assert (chosen.restarts(6), chosen.raw_points(6), chosen.restarts_per_call(6)) == (3, 64, 2)
    # qNParEGO keeps the light optimiser whatever the dimension.
    parego = QNParEGOConfig()
    assert (parego.restarts(6), parego.raw_points(6), parego.restarts_per_call(6)) == (4, 128, 4)


def test_initial_centre_puts_the_box_centre_first_then_the_sobol_sequence() -> None:
    params = {**TINY, "initial_centre": True}
    sequence = sobol.points(EXTERNAL.parameters, 5, 0, 6)
    design = np.concatenate([[[55.0, 3.0]], sequence[:5]])  # centre of [20, 90] x [1, 5]
    # Ask/tell: the same design however it is split into requests.
    first = bo.suggest_qlognehvi(EXTERNAL, params, 5, Observations(x=[], objectives=[]), 2, "cpu")
    np.testing.assert_array_equal(first, design[:2])
    rest = bo.suggest_qlognehvi(EXTERNAL, params, 5, _observed(design[:2], design[2:3]), 3, "cpu")
    np.testing.assert_array_equal(rest, design[3:6])
    # A campaign: the centre, then Sobol points 0 .. n_initial - 2; on by default, as Ax.
    centred = _run("qlognehvi", 6, seed=3, initial_centre=True).points()
    info = catalogue()["branin-currin"].info()
    np.testing.assert_array_equal(centred[0], [0.5, 0.5])
    np.testing.assert_array_equal(centred[1:], sobol.points(info.parameters, 3, 0, 5))
    assert QLogNEHVIConfig().initial_centre and QNParEGOConfig().initial_centre
