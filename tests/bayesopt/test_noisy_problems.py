"""Built-in test functions with observation noise (``noise_std`` and, on constrained
problems, ``constraint_noise_std``, as BoTorch's): what each campaign loop stores, that
the noise is seeded by the campaign, and what is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from memory_recorder import MemoryRecorder, SimulatedCrash
from pydantic import ValidationError

from api.app import create_app
from api.settings import Settings
from bayesopt import bo, nsga2, sobol
from bayesopt.problems import catalogue
from jobs.protocol import Evaluated

TUTORIAL_NOISE = [15.19, 0.63]  # BoTorch's noisy multi-objective tutorial, BraninCurrin
TINY: dict[str, Any] = {"q": 3, "num_restarts": 2, "raw_samples": 32, "mc_samples": 16,
                        "max_iter_acqf": 20}
RUNS = {
    "qlognehvi": (bo.run_qlognehvi, TINY),
    "qnparego": (bo.run_qnparego, TINY),
    "sobol": (sobol.run, {"batch_size": 4}),
    "nsga2": (nsga2.run, {"pop_size": 6}),
}


def _campaign(algorithm: str, noise_std: Any, budget: int = 10, seed: int = 0,
              recorder: MemoryRecorder | None = None, problem_id: str = "branin-currin",
              **more_noise: Any) -> list[Evaluated]:
    run, params = RUNS[algorithm]
    recorder = recorder or MemoryRecorder(budget)
    problem = catalogue()[problem_id].build({"noise_std": noise_std, **more_noise})
    run(problem, params, seed, "cpu", recorder)
    return recorder.evaluations()


def _true_values(evaluated: list[Evaluated]) -> np.ndarray:
    problem = catalogue()["branin-currin"].build()
    return problem.evaluate(np.array([[e.params["x0"], e.params["x1"]] for e in evaluated]))


@pytest.mark.parametrize("algorithm", list(RUNS))
def test_each_loop_stores_the_noisy_values_and_keeps_the_true_ones(algorithm: str) -> None:
    evaluated = _campaign(algorithm, TUTORIAL_NOISE)
    assert len(evaluated) == 10
    observed = np.array([e.objectives for e in evaluated])
    truth = _true_values(evaluated)
    np.testing.assert_allclose([e.meta["true_objectives"] for e in evaluated], truth)
    assert all(e.meta["sem"] == TUTORIAL_NOISE for e in evaluated)
    standardised = (observed - truth) / np.array(TUTORIAL_NOISE)
    assert np.all(standardised != 0)
    assert 0.3 < standardised.std() < 3  # draws of the deviation asked for, per objective


def test_a_noise_free_objective_is_observed_exactly_and_its_sem_unknown() -> None:
    evaluated = _campaign("sobol", [2.0, 0.0])
    observed, truth = np.array([e.objectives for e in evaluated]), _true_values(evaluated)
    np.testing.assert_array_equal(observed[:, 1], truth[:, 1])
    assert np.all(observed[:, 0] != truth[:, 0])
    assert all(e.meta["sem"] == [2.0, None] for e in evaluated)


def test_without_noise_nothing_changes() -> None:
    for noise_std in (None, 0.0, [0.0, 0.0]):
        evaluated = _campaign("sobol", noise_std)
        np.testing.assert_array_equal([e.objectives for e in evaluated], _true_values(evaluated))
        assert all("true_objectives" not in e.meta and "sem" not in e.meta for e in evaluated)


def test_one_number_is_every_objectives_deviation() -> None:
    problem = catalogue()["dtlz2"].build({"noise_std": 0.1, "num_objectives": 3})
    assert problem.noise_std == (0.1, 0.1, 0.1)


def test_the_noise_is_the_campaigns_own_seeded_draw() -> None:
    first, again = _campaign("qlognehvi", TUTORIAL_NOISE), _campaign("qlognehvi", TUTORIAL_NOISE)
    assert [e.objectives for e in first] == [e.objectives for e in again]
    other = _campaign("qlognehvi", TUTORIAL_NOISE, seed=1)
    assert [e.objectives for e in other] != [e.objectives for e in first]


def test_a_resumed_campaign_observes_what_the_uninterrupted_one_did() -> None:
    whole = _campaign("qlognehvi", TUTORIAL_NOISE, budget=13)
    crashed = MemoryRecorder(13, fail_on_record=3)
    with pytest.raises(SimulatedCrash):
        _campaign("qlognehvi", TUTORIAL_NOISE, recorder=crashed)
    resumed = MemoryRecorder(13, store=crashed.store)
    _campaign("qlognehvi", TUTORIAL_NOISE, recorder=resumed)
    assert resumed.conflicts == []
    assert resumed.evaluations() == whole


def test_the_model_is_fitted_with_the_noise_known() -> None:
    problem = catalogue()["branin-currin"].build({"noise_std": [15.19, 0.0]})
    sem = bo._known_noise(problem, 4)
    assert sem is not None and sem.shape == (4, 2)
    assert np.all(sem[:, 0] == 15.19) and np.isnan(sem[:, 1]).all()
    assert bo._known_noise(catalogue()["branin-currin"].build(), 4) is None


@pytest.mark.parametrize(("noise_std", "message"), [
    (-1.0, "noise_std must be finite and >= 0"),
    ([1.0, float("inf")], "noise_std must be finite and >= 0"),
    ([], "give one number, or one per objective"),
    ([1.0, 2.0, 3.0], "noise_std has 3 values for 2 objectives: give one number, or 2"),
])
def test_a_deviation_that_is_not_one_is_refused(noise_std: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as raised:
        catalogue()["branin-currin"].parse({"noise_std": noise_std})
    assert raised.value.errors()[0]["loc"][0] == "noise_std"


@pytest.mark.parametrize("algorithm", ["qlognehvi", "sobol", "nsga2"])
def test_constraint_noise_is_added_to_the_slacks_and_the_true_ones_kept(algorithm: str) -> None:
    evaluated = _campaign(algorithm, None, problem_id="constrained-branin-currin",
                          constraint_noise_std=0.5)
    x = np.array([[e.params["x0"], e.params["x1"]] for e in evaluated])
    problem = catalogue()["constrained-branin-currin"].build()
    truth = problem.constraint_slacks(x)
    np.testing.assert_allclose([e.meta["true_constraints"] for e in evaluated], truth)
    assert all(e.meta["constraint_sem"] == [0.5] for e in evaluated)
    errors = np.array([e.constraints for e in evaluated]) - truth
    assert np.all(errors != 0) and 0.1 < errors.std() < 1.5  # draws of 0.5
    np.testing.assert_array_equal([e.objectives for e in evaluated], problem.evaluate(x))
    assert all("true_objectives" not in e.meta for e in evaluated)


def test_constraint_noise_leaves_the_objectives_draws_as_they_were() -> None:
    alone = _campaign("sobol", 2.0, problem_id="constrained-branin-currin")
    both = _campaign("sobol", 2.0, problem_id="constrained-branin-currin",
                     constraint_noise_std=0.5)
    assert [e.objectives for e in both] == [e.objectives for e in alone]
    assert [e.constraints for e in both] != [e.constraints for e in alone]
    assert all(e.meta["sem"] == [2.0, 2.0] for e in both)


def test_the_model_is_fitted_with_the_constraint_noise_known() -> None:
    problem = catalogue()["disc-brake"].build({"constraint_noise_std": [0.1, 0.0, 0.2, 0.3]})
    sem = bo._known_noise(problem, 3, "constraint_noise_std")
    assert sem is not None and sem.shape == (3, 4)
    assert np.isnan(sem[:, 1]).all() and np.all(sem[:, 3] == 0.3)
    assert bo._known_noise(problem, 3) is None  # the objectives are exact


@pytest.mark.parametrize(("problem_id", "deviation", "message"), [
    ("branin-currin", 0.5, ("this problem has no outcome constraints; constraint_noise_std is "
                           "for the constrained test functions")),
    ("disc-brake", [0.1, 0.1, 0.1],
     "constraint_noise_std has 3 values for 4 constraints: give one number, or 4"),
    ("c2dtlz2", [0.1, 0.1], "constraint_noise_std has 2 values for 1 constraints"),
    ("osy", -0.1, "constraint_noise_std must be finite and >= 0"),
    ("osy", [], "constraint_noise_std: give one number, or one per constraint, not []"),
])
def test_a_constraint_deviation_that_does_not_fit_is_refused(problem_id: str, deviation: Any,
                                                            message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as raised:
        catalogue()[problem_id].parse({"constraint_noise_std": deviation})
    assert raised.value.errors()[0]["loc"][0] == "constraint_noise_std"


@pytest.fixture
def http(database: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def test_the_api_refuses_a_deviation_per_objective_of_the_wrong_length(http: TestClient) -> None:
    spec = {"algorithm": "qlognehvi", "budget": {"evaluations": 20},
            "problem": {"kind": "test-function", "id": "dtlz2", "num_objectives": 3, "dim": 4,
                        "noise_std": [0.1, 0.1]}}
    response = http.post("/api/v1/campaigns", json=spec)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "problem", "noise_std"]
    assert "2 values for 3 objectives: give one number, or 3" in error["msg"]
    assert http.get("/api/v1/campaigns").json()["total"] == 0
    accepted = http.post("/api/v1/campaigns", json={
        **spec, "problem": {**spec["problem"], "noise_std": [0.1, 0.1, 0.0]}})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["problem"]["noise_std"] == [0.1, 0.1, 0.0]


def test_the_api_refuses_constraint_noise_on_an_unconstrained_problem(http: TestClient) -> None:
    spec = {"algorithm": "sobol", "budget": {"evaluations": 20},
            "problem": {"kind": "test-function", "id": "zdt1", "constraint_noise_std": 0.1}}
    response = http.post("/api/v1/campaigns", json=spec)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "problem", "constraint_noise_std"]
    assert "no outcome constraints" in error["msg"]
    accepted = http.post("/api/v1/campaigns", json={**spec, "problem": {
        "kind": "test-function", "id": "welded-beam", "constraint_noise_std": 0.1}})
    assert accepted.status_code == 201, accepted.text
    assert http.get("/api/v1/campaigns").json()["total"] == 1
