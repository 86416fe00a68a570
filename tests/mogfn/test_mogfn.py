"""MOGFN-PC without the service: it learns its target, records every scored sample
faithfully, stores a sampler that draws for new preferences, runs a user's task, and
resumes exactly. Tiny budgets; quality is measured by the benchmark, not here."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import numpy as np
import pytest
import torch
from pydantic import BaseModel, ConfigDict, Field

from jobs.protocol import Cancelled
from morl.gfn_evaluation import (
    evaluate_candidates,
    evaluate_sampler,
    l1_distance,
    target_distribution,
)
from morl.gfn_sampler import Conditioning, log_reward, thermometer
from morl.gfn_tasks import AMINO_ACIDS, GFNTask, catalogue, register_task, unregister_task
from morl.mogfn import MOGFN, load_sampler
from pareto.dominance import non_dominated
from tests.bayesopt.memory_recorder import MemoryRecorder, MemoryStore, SimulatedCrash


def grid(size: int = 4, **config: Any) -> Any:
    return catalogue()["hypergrid"].build({"size": size, **config})


def run(problem: Any, budget: int, params: dict[str, Any], seed: int = 0,
        store: MemoryStore | None = None, **recorder_args: Any) -> MemoryRecorder:
    recorder = MemoryRecorder(budget, store=store, **recorder_args)
    MOGFN(problem, params, seed=seed).run(recorder)
    return recorder


def test_trajectory_balance_learns_the_target_distribution_on_a_4x4_grid():
    # beta 4 keeps the 4 x 4 target spread over several points. Observed here (seeds
    # 0-2, batch 16): L1 1.07-1.09 at start, 0.15-0.22 after 200 steps.
    algorithm = MOGFN(grid(4), {"batch_size": 16, "beta": 4, "steps_per_round": 200}, seed=0)
    preference = [0.5, 0.5]
    before = l1_distance(algorithm.sampler(), preference)
    algorithm.run(MemoryRecorder(200 * 16))
    after = l1_distance(algorithm.sampler(), preference)
    assert algorithm.steps == 200
    assert before > 0.9
    assert after < 0.45 and after < before - 0.5, (before, after)


def test_exact_distribution_matches_the_sampler_frequencies():
    algorithm = MOGFN(grid(3), {"batch_size": 8}, seed=3)
    algorithm.run(MemoryRecorder(80))
    sampler = algorithm.sampler()
    states, exact = sampler.terminal_distribution([0.3, 0.7])
    assert len(states) == 9 and exact.sum() == pytest.approx(1.0)
    drawn = Counter(sampler.sample_states([0.3, 0.7], 4000, seed=1))
    empirical = np.array([drawn[s] / 4000 for s in states])
    assert np.abs(empirical - exact).sum() < 0.1
    target = target_distribution(sampler, states, [0.3, 0.7])
    assert target.sum() == pytest.approx(1.0) and (target > 0).all()


def _check_candidates(problem: Any, recorder: MemoryRecorder, budget: int, batch: int) -> None:
    task = problem.task
    items = recorder.evaluations()
    assert len(items) == budget and sum(e.cost for e in items) == budget
    for index, item in enumerate(items):
        assert item.kind == "candidate"
        assert item.meta["step"] == index // batch + 1
        w = item.params["preference"]
        assert len(w) == task.n_objectives and min(w) >= 0 and sum(w) == pytest.approx(1.0)
        assert item.meta["log_reward"] == pytest.approx(
            log_reward(np.array([item.objectives]), np.array(w), "weighted-sum", 1e-80)[0])
        assert item.meta["beta"] == task.default_beta
        assert all(0.0 <= v <= 1.0 for v in item.objectives)


def test_the_trainer_uses_the_task_settings_unless_the_params_set_them():
    default = MOGFN(grid(4))
    assert default.exploration == 0.0 and default.optimiser.param_groups[1]["lr"] == 0.1
    words = MOGFN(catalogue()["ngrams"].build())
    assert words.exploration == 0.01 and words.optimiser.param_groups[1]["lr"] == 0.01
    chosen = MOGFN(grid(4), {"exploration": 0.2, "lr_logz": 0.03})
    assert chosen.exploration == 0.2 and chosen.optimiser.param_groups[1]["lr"] == 0.03


def test_every_grid_candidate_is_valid_and_scored_by_the_task():
    problem = grid(8, objectives=["branin", "currin", "shubert"])
    recorder = run(problem, 50, {"batch_size": 16, "steps_per_round": 2})
    _check_candidates(problem, recorder, 50, 16)
    for item in recorder.evaluations():
        i, j = item.params["object"]
        assert 0 <= i < 8 and 0 <= j < 8
        assert list(item.objectives) == list(problem.task.table[i, j])
        assert item.meta["length"] == i + j + 1  # increments plus the stop
    # 4 steps (16, 16, 16, 2) in rounds of 2: two records, the sampler on each last item
    assert recorder.batch_sizes == [32, 18]
    artifacts = [e.artifact is not None for e in recorder.evaluations()]
    assert sum(artifacts) == 2 and artifacts[31] and artifacts[49]


def test_every_ngram_candidate_is_valid_and_scored_by_the_task():
    problem = catalogue()["ngrams"].build({"ngrams": ["AV", "VC", "CA"], "min_length": 6,
                                           "max_length": 9})
    recorder = run(problem, 24, {"batch_size": 8})
    _check_candidates(problem, recorder, 24, 8)
    for item in recorder.evaluations():
        text = item.params["object"]
        assert 6 <= len(text) <= 9 and set(text) <= set(AMINO_ACIDS)
        counts = [sum(text.startswith(g, i) for i in range(len(text))) for g in ("AV", "VC", "CA")]
        assert list(item.objectives) == [c / 4 for c in counts]  # 4 bigrams at length 9
        assert item.meta["length"] == len(text) + 1


def test_the_stored_sampler_draws_for_a_new_preference():
    problem = grid(6)
    recorder = run(problem, 64, {"batch_size": 16, "steps_per_round": 2})
    artifact = recorder.evaluations()[-1].artifact
    sampler = load_sampler(artifact)
    assert sampler.task.id == "hypergrid" and sampler.task.size == 6
    assert sampler.trained == {"steps": 4, "rounds": 2, "evaluations": 64}
    drawn = sampler.sample([0.15, 0.85], n=20, seed=5)
    assert len(drawn) == 20
    for obj, objectives in drawn:
        assert list(objectives) == list(problem.task.table[obj[0], obj[1]])
    assert sampler.sample([3, 17], n=20, seed=5) == drawn  # weights are normalised
    assert sampler.sample([0.15, 0.85], n=20, seed=6) != drawn
    assert [o for o, _ in sampler.sample([1, 0], 3, seed=0)] == \
        [o for o, _ in load_sampler(artifact).sample([1, 0], 3, seed=0)]
    with pytest.raises(ValueError, match="one non-negative weight per objective"):
        sampler.sample([0.2, 0.3, 0.5], n=2)
    with pytest.raises(ValueError, match="not a MOGFN sampler"):
        buffer = __import__("io").BytesIO()
        torch.save({"format": "other"}, buffer)
        load_sampler(buffer.getvalue())


class BitsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    length: int = Field(5, ge=2, le=12)


class Bits(GFNTask):
    """A user's task: fixed-length bit strings, many ones against many alternations."""

    id = "test-bits"
    summary = "bit strings: ones against alternations"
    Config = BitsConfig
    default_beta = 3.0

    def __init__(self, config: BitsConfig) -> None:
        super().__init__(config)
        self.length = config.length
        self.objective_names = ("ones", "alternations")
        self.n_actions = 2

    def initial_state(self) -> tuple[int, ...]:
        return ()

    def allowed_actions(self, state: tuple[int, ...]) -> list[bool]:
        return [len(state) < self.length] * 2

    def step(self, state: tuple[int, ...], action: int) -> tuple[int, ...]:
        return state + (action,)

    def is_terminal(self, state: tuple[int, ...]) -> bool:
        return len(state) == self.length

    def rewards(self, state: tuple[int, ...]) -> list[float]:
        flips = sum(a != b for a, b in itertools.pairwise(state))
        return [sum(state) / self.length, flips / (self.length - 1)]

    def readable(self, state: tuple[int, ...]) -> str:
        return "".join(map(str, state))

    def encode(self, state: tuple[int, ...]) -> np.ndarray:
        encoding = np.zeros(2 * self.length, dtype=np.float32)
        encoding[2 * np.arange(len(state)) + np.asarray(state, dtype=int)] = 1.0
        return encoding


@pytest.fixture
def bits_task():
    register_task(Bits)
    yield Bits
    unregister_task(Bits.id)


def test_a_registered_user_task_runs_end_to_end(bits_task):
    definition = catalogue()["test-bits"]
    info = definition.info({"length": 6})
    assert [o.name for o in info.objectives] == ["ones", "alternations"]
    assert info.kind == "gfn-task" and info.reference_point == (0.0, 0.0)
    problem = definition.build(definition.config.model_validate({"length": 6}))
    recorder = run(problem, 40, {"batch_size": 8, "steps_per_round": 5})
    items = recorder.evaluations()
    assert len(items) == 40 and recorder.conflicts == []
    for item in items:
        bits = item.params["object"]
        assert len(bits) == 6 and set(bits) <= {"0", "1"}
        assert list(item.objectives) == Bits(BitsConfig(length=6)).rewards(tuple(map(int, bits)))
        assert item.meta["beta"] == 3.0
    sampler = load_sampler(items[-1].artifact)
    assert isinstance(sampler.task, Bits) and sampler.task.length == 6
    assert len(sampler.sample([0.5, 0.5], 4)) == 4
    # an enumerable user task gets the exact distribution too (2^6 objects)
    states, probabilities = sampler.terminal_distribution([0.5, 0.5])
    assert len(states) == 64 and probabilities.sum() == pytest.approx(1.0)


def test_a_sampler_of_an_unregistered_task_says_what_to_do(bits_task):
    problem = catalogue()["test-bits"].build()
    artifact = run(problem, 8, {"batch_size": 8}).evaluations()[-1].artifact
    unregister_task("test-bits")
    with pytest.raises(ValueError, match="not registered here"):
        load_sampler(artifact)


@pytest.mark.parametrize("failure", [{"fail_on_record": 3}, {"fail_on_checkpoint": 2}])
def test_resume_after_a_crash_gives_the_uninterrupted_campaign(failure):
    problem = grid(5)
    params = {"batch_size": 8, "steps_per_round": 2, "replay_batch_size": 4}
    budget = 8 * 9  # 9 steps, rounds of 2 steps: 5 records
    reference = run(problem, budget, params, seed=7)
    store = MemoryStore()
    with pytest.raises(SimulatedCrash):
        run(problem, budget, params, seed=7, store=store, **failure)
    resumed = run(problem, budget, params, seed=7, store=store)
    assert resumed.conflicts == []  # re-recorded rows (and artifacts) came back identical
    assert sorted(store.evaluations) == list(range(budget))
    assert [e.objectives for e in resumed.evaluations()] == \
        [e.objectives for e in reference.evaluations()]
    assert resumed.evaluations() == reference.evaluations()


def test_cancellation_propagates_from_record():
    recorder = MemoryRecorder(64, fail_on_record=2, fail_with=Cancelled)
    with pytest.raises(Cancelled):
        MOGFN(grid(3), {"batch_size": 8, "steps_per_round": 2}).run(recorder)
    assert recorder.batch_sizes == [16]


def test_a_finished_campaign_resumes_to_nothing():
    store = MemoryStore()
    run(grid(3), 16, {"batch_size": 8}, store=store)
    again = run(grid(3), 16, {"batch_size": 8}, store=store)
    assert again.batch_sizes == []


@pytest.mark.parametrize("scalarisation", ["weighted-sum", "weighted-log-sum", "tchebycheff"])
def test_each_scalarisation_trains(scalarisation):
    recorder = run(grid(4), 32, {"batch_size": 16, "scalarisation": scalarisation})
    items = recorder.evaluations()
    expected = log_reward(np.array([e.objectives for e in items]),
                          np.array([e.params["preference"] for e in items]), scalarisation, 1e-80)
    np.testing.assert_allclose([e.meta["log_reward"] for e in items], expected)
    assert np.isfinite(recorder.logs[-1]["loss"])


def test_scalarisations_and_thermometer():
    r = np.array([[0.5, 0.2], [0.0, 1.0]])
    w = np.array([0.25, 0.75])
    np.testing.assert_allclose(log_reward(r, w, "weighted-sum", 1e-80),
                               np.log([0.275, 0.75]))
    np.testing.assert_allclose(log_reward(r, w, "weighted-log-sum", 1e-80),
                               [0.25 * np.log(0.5) + 0.75 * np.log(0.2),
                                0.25 * np.log(1e-80)])
    np.testing.assert_allclose(log_reward(r, w, "tchebycheff", 1e-80),
                               np.log([0.125, 1e-80]))
    # Tchebycheff ignores objectives of zero weight: min over w_i > 0 only
    np.testing.assert_allclose(log_reward(r, np.array([0.0, 1.0]), "tchebycheff", 1e-80),
                               np.log([0.2, 1.0]))
    with pytest.raises(ValueError, match="unknown scalarisation"):
        log_reward(r, w, "chebyshev", 1e-80)
    # edges 0, .25, .5, .75, 1: bin k is clip((v - e_k) / .25, 0, 1)
    bins = thermometer(torch.tensor([0.0, 0.6, 1.0]), 5, 0.0, 1.0)
    np.testing.assert_allclose(bins.numpy(), [[0, 0, 0, 0, 0], [1, 1, 0.4, 0, 0],
                                              [1, 1, 1, 1, 0]], atol=1e-6)
    cond = Conditioning(2, 50, beta_max=32.0)
    assert cond.dim == 150
    assert cond.encode(np.array([[0.3, 0.7]]), np.array([8.0]), torch.device("cpu")).shape == \
        (1, 150)


def test_beta_conditioning_samples_integer_betas_and_samples_at_beta():
    recorder = run(grid(4), 48, {"batch_size": 16, "condition_on_beta": True, "beta": 8,
                                 "beta_max": 12})
    betas = {e.meta["beta"] for e in recorder.evaluations()}
    assert betas <= set(map(float, range(1, 13))) and len(betas) > 3
    sampler = load_sampler(recorder.evaluations()[-1].artifact)
    assert sampler.beta == 8.0 and sampler.conditioning.beta_max == 12.0
    assert len(sampler.sample([0.5, 0.5], 3)) == 3
    with pytest.raises(ValueError, match="beta_max"):
        MOGFN(grid(4), {"condition_on_beta": True, "beta": 20, "beta_max": 12})


def test_replay_keeps_the_least_dominated_objects_and_costs_no_budget():
    algorithm = MOGFN(grid(6), {"batch_size": 16, "replay_batch_size": 8, "replay_capacity": 5},
                      seed=1)
    recorder = MemoryRecorder(64)
    algorithm.run(recorder)
    assert len(recorder.evaluations()) == 64 and algorithm.evaluations == 64
    kept = np.array([values for _, values in algorithm.replay.items.values()])
    assert len(kept) == 5
    # the first non-dominated layer of everything sampled is kept, as far as it fits
    seen = np.unique([e.objectives for e in recorder.evaluations()], axis=0)
    layer = {tuple(p) for p in non_dominated(seen)}
    held = {tuple(p) for p in kept}
    assert layer <= held if len(layer) <= 5 else held <= layer


def test_evaluate_sampler_reports_the_papers_metrics():
    algorithm = MOGFN(grid(5), {"batch_size": 16}, seed=0)
    algorithm.run(MemoryRecorder(160))
    evaluation = evaluate_sampler(algorithm.sampler(), n_divisions=4, n_samples=16, k=4)
    assert len(evaluation.preferences) == 5 and len(evaluation.best) == 5
    assert 0 < evaluation.hypervolume <= 1 and 0 < evaluation.hypervolume_fraction <= 1.0 + 1e-9
    assert 0 <= evaluation.r2 <= 1 and 0 < evaluation.topk_reward <= 1
    assert evaluation.topk_diversity >= 0 and 0 <= evaluation.l1 <= 2
    assert evaluation.as_dict()["front"] == evaluation.front
    ngrams = MOGFN(catalogue()["ngrams"].build({"min_length": 4, "max_length": 6}),
                   {"batch_size": 4}, seed=0)
    result = evaluate_sampler(ngrams.sampler(), n_divisions=2, n_samples=6, k=3)
    assert result.l1 is None and result.hypervolume_fraction is None
    assert result.topk_diversity > 0  # edit distances between random sequences


def test_evaluate_candidates_picks_the_best_distinct_objects_per_preference():
    task = catalogue()["hypergrid"].task({"size": 6})
    states = [((i, j), True) for i in range(6) for j in range(6)]
    objectives = np.array([task.rewards(s) for s in states])
    evaluation = evaluate_candidates(task, states, objectives, n_divisions=4, k=3)
    for w, best in zip(evaluation.preferences, evaluation.best, strict=True):
        assert np.dot(w, best) == pytest.approx(np.max(objectives @ np.array(w)))
    # repeating objects changes nothing: the top K are distinct objects
    again = evaluate_candidates(task, states + states[:10],
                                np.vstack([objectives, objectives[:10]]), n_divisions=4, k=3)
    assert again == evaluation
    assert evaluation.l1 is None and 0 < evaluation.hypervolume_fraction <= 1.0 + 1e-9
    assert evaluation.topk_diversity > 0
    one = evaluate_candidates(task, states[:1], objectives[:1], n_divisions=2, k=3)
    assert one.topk_diversity == 0.0 and len(np.unique(one.front, axis=0)) == 1
