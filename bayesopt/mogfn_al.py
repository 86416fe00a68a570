"""``mogfn-al``: MOGFN-AL, multi-objective active learning with a GFlowNet as the
acquisition optimiser over discrete objects.

Jain, Moksh et al. "Multi-Objective GFlowNets", ICML 2023 (MOGFN-AL), written from the
paper and from reading the authors' active-learning code (built on LaMBO, Stanton et
al. 2022): for expensive objectives, a surrogate model of the objectives is fitted on
the objects evaluated so far, a GFlowNet is trained to sample objects in proportion to
an acquisition value under it, and the batch it proposes is evaluated by the real
objective. Like every BO loop here it keeps BoTorch's seams: **fit**
(:func:`bayesopt.models.fit_model`), **acquire** (:func:`bayesopt.acquisition.qlognehvi`),
**optimise** — here by a GFlowNet over the task's objects instead of L-BFGS-B over a box.

A campaign on a ``gfn-task`` problem evaluates ``n_initial`` objects drawn uniformly at
random (round 0: uniformly random allowed actions from s0), then, round k = 1, 2, …,
until the budget is spent:

1. **Fit.** Each evaluated object x becomes a feature vector φ(x) ∈ [0, 1]^d
   (``GFNTask.features``: the bag of bigrams on N-grams — the count of each of the 400
   letter pairs / (max_length − 1) — the scaled coordinates on HyperGrid), and one GP
   per objective is fitted to (φ(x), r(x)) by :func:`bayesopt.models.fit_model`
   (maximisation convention; inputs on the unit cube).
2. **Acquire.** The acquisition value of an object is its expected hypervolume
   improvement over the evaluated objects' front, in BoTorch's log form,
   a(x) = qLogEHVI({φ(x)}) (:func:`bayesopt.acquisition.qlogehvi`; reference point: the
   problem's, 0 on GFlowNet tasks; ``mc_samples`` QMC samples). The paper's code uses
   NEHVI, which equals EHVI on noiseless objectives such as these tasks' (Daulton et
   al. 2021); EHVI's cost does not grow with the evaluated set, which NEHVI samples
   jointly with every candidate. Each of the many objects a training step scores is one
   q = 1 evaluation, so the GP's marginal posterior at all of them comes from one joint
   posterior call (``PointwiseModel``: exact for q = 1 and independent GPs; gpytorch's
   batched prediction re-evaluated the training covariance per object, 80x slower at 512
   observations). Like the authors' code, the GFlowNet is *not* preference-conditioned
   (``pref_cond=False``): the acquisition already weighs the whole front.
3. **Train the sampler.** ``gfn_steps`` trajectory-balance steps of MOGFN-PC's trainer
   (:class:`morl.mogfn.MOGFN`) on the task whose single reward is R(x) = exp(a(x))
   (``AcquisitionTask``): the sampler targets EHVI(x)^β, β = ``beta``, EHVI floored at
   ``reward_min``; its one "preference" weight is the constant 1. With ``warm_start``
   the same network keeps training from round to round, as in the authors' code; at
   the start of a round log Z is shifted to fit the new reward's scale
   (``MOGFN.recentre_log_z``). Training samples are scored by the surrogate only: no
   budget.
4. **Propose.** Each of the ``batch_size`` proposals is the object of highest a(x) among
   ``samples_per_proposal`` draws of the trained sampler that was neither evaluated nor
   proposed already (the authors' code: the best of 20 samples per proposal). Where the
   draws hold no such object, a uniformly random new one takes its place.
5. **Evaluate** the batch with the task's objectives and record it.

Where we differ from the authors' code, deliberately: the GFlowNet builds whole
objects from s0 (theirs edits sequences of the current Pareto pool, LaMBO-style); the
surrogate is an exact GP per objective on a fixed featurisation (theirs a multi-task GP
on a learned sequence encoder); EHVI rather than NEHVI (above).

Recording: every evaluated object is an evaluation: objectives r(x) (the task's), params
``{"object": the readable object}``, meta ``{"round": k, "stage": "initial" |
"acquisition", "batch_index": j, "log_acquisition": a(x)}`` (null in round 0 and for a
random filler). There is no preference: the sampler is not conditioned on one. The
last item of each acquisition round carries that round's sampler as an artifact
(``morl.gfn_sampler.load_sampler``; ``preference_conditioned`` false, so it is asked
for objects with ``preference=None``, and ``GET /campaigns/{id}/sample`` draws from it
without a preference). Each round logs ``fit_seconds``, ``gfn_seconds``,
``proposal_seconds``, ``evaluation_seconds``, the mean TB ``loss`` of its last tenth of
steps, ``log_z_shift`` and ``new_objects`` (the share of the draws that were new,
distinct objects) to the campaign history.

Reproducibility and resume: the surrogate fit and the acquisition are seeded from
(seed, k) inside ``torch.random.fork_rng``; the proposals and the random objects from a
numpy generator seeded from (seed, k); the GFlowNet's own random state is part of its
checkpoint. After each round the campaign checkpoints the evaluated objects, the round
and the sampler's training state (networks, optimiser, random states), so a resumed
campaign re-proposes, on CPU, exactly the batches an uninterrupted one would.

Where it lives. ``bayesopt`` imports only ``pareto`` and ``jobs.protocol`` of our code,
and ``morl`` only the same; MOGFN-AL needs both a BoTorch surrogate (this package) and
the GFlowNet (``morl.mogfn``, ``morl.gfn_sampler``, ``morl.gfn_tasks``,
``morl.gfn_config``). It is a BO loop whose acquisition optimiser is a GFlowNet, so it
lives here and is the one module of ``bayesopt`` that imports ``morl`` (never the other
way round, so there is no cycle); its parameters are ``morl.gfn_config.MOGFNALConfig``,
light as the registry needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from gpytorch.distributions import MultitaskMultivariateNormal
from linear_operator.operators import DiagLinearOperator
from torch import Tensor

from bayesopt import acquisition
from bayesopt.bo import _rng_devices, iteration_seed
from bayesopt.models import fit_model
from bayesopt.sobol import evaluations_in
from jobs.protocol import Evaluated, Recorder
from morl.gfn_config import MOGFNALConfig
from morl.gfn_sampler import Sampler, checked_rewards_of, policy_chooser, walk
from morl.gfn_tasks import GFNTask, State
from morl.mogfn import MOGFN
from pareto import to_maximization

ACQUISITION_CHUNK = 1024  # objects scored per acquisition call
RANDOM_TRIES = 20  # batches of uniformly random objects drawn to find new ones


# ---- the surrogate and its acquisition --------------------------------------------------

class PointwiseModel(Model):
    """A model's marginal posterior at each of ``b`` points (``b x 1 x d``), from one
    joint posterior call at the ``b`` points. Exact for q = 1 when the outputs are
    independent (a ``ModelListGP``): the q = 1 acquisition of ``b`` objects needs only
    each object's own ``m`` outputs."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model

    @property
    def num_outputs(self) -> int:
        return int(self.model.num_outputs)

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size([])

    def posterior(self, X: Tensor, output_indices: list[int] | None = None,
                  observation_noise: bool | Tensor = False,
                  posterior_transform: Any = None) -> GPyTorchPosterior:
        if X.shape[-2] != 1 or output_indices is not None or posterior_transform is not None:
            raise NotImplementedError("PointwiseModel answers q = 1 posteriors of all outputs")
        batch, d, m = X.shape[:-2], X.shape[-1], self.num_outputs
        joint: Any = self.model.posterior(X.reshape(-1, d), observation_noise=observation_noise)
        mean = joint.mean.reshape(*batch, 1, m)  # batch x 1 x m
        variance = joint.variance.reshape(*batch, m).clamp_min(1e-12)
        return GPyTorchPosterior(
            MultitaskMultivariateNormal(mean, DiagLinearOperator(variance)))


@dataclass(frozen=True)
class RoundAcquisition:
    """One round's fitted surrogate and its q = 1 qLogEHVI over feature vectors."""

    function: AcquisitionFunction
    tkwargs: dict[str, Any]

    def log_values(self, features: np.ndarray) -> np.ndarray:
        """a(x) = log EHVI({φ(x)}) of ``(n, d)`` feature rows → ``(n,)``."""
        values = []
        with torch.no_grad():
            for start in range(0, len(features), ACQUISITION_CHUNK):
                x = torch.tensor(features[start:start + ACQUISITION_CHUNK], **self.tkwargs)
                values.append(self.function(x[:, None, :]).cpu().numpy())  # b x 1 x d -> b
        return np.concatenate(values).astype(np.float64)


def fit_acquisition(features: np.ndarray, objectives: np.ndarray, reference_point: Any,
                    mc_samples: int, seed: int, device: str) -> RoundAcquisition:
    """Fit one GP per objective on ``(n, d)`` features in [0, 1]^d and ``(n, m)``
    objectives (maximised), and build qLogEHVI over their front with
    ``reference_point`` (maximised; None: BoTorch's rule on the observed front)."""
    tkwargs: dict[str, Any] = {"dtype": torch.float64, "device": torch.device(device)}
    train_x = torch.tensor(features, **tkwargs)
    train_y = torch.tensor(objectives, **tkwargs)
    d = train_x.shape[-1]
    bounds = torch.stack([torch.zeros(d, **tkwargs), torch.ones(d, **tkwargs)])
    published = None if reference_point is None else torch.tensor(reference_point, **tkwargs)
    with torch.random.fork_rng(devices=_rng_devices(tkwargs["device"])):
        torch.manual_seed(seed)
        model = fit_model(train_x, train_y, bounds)
        function = acquisition.qlogehvi(
            model=PointwiseModel(model),
            ref_point=acquisition.reference_point(train_y, None, published),
            objectives=train_y, mc_samples=mc_samples, seed=seed,
        )
    return RoundAcquisition(function, tkwargs)


class AcquisitionTask(GFNTask):
    """The campaign's task with one reward, R(x) = exp(a(x)) ∈ (0, 1]: the acquisition
    value of a terminal object under the current round's surrogate (``log_acquisition``,
    set by :class:`MOGFNAL` each round). Everything else is the task's own."""

    id = "mogfn-al-acquisition"  # never registered: it only lives inside a campaign
    summary = "a task's objects, rewarded by a surrogate's acquisition value"

    def __init__(self, task: GFNTask) -> None:
        super().__init__(task.config)
        self.task = task
        self.objective_names = ("ehvi",)
        self.n_actions = task.n_actions
        self.log_acquisition: Callable[[np.ndarray], np.ndarray] | None = None

    def initial_state(self) -> State:
        return self.task.initial_state()

    def allowed_actions(self, state: State) -> Sequence[bool]:
        return self.task.allowed_actions(state)

    def step(self, state: State, action: int) -> State:
        return self.task.step(state, action)

    def is_terminal(self, state: State) -> bool:
        return self.task.is_terminal(state)

    def n_parents(self, state: State) -> int:
        return self.task.n_parents(state)

    def readable(self, state: State) -> Any:
        return self.task.readable(state)

    def encode(self, state: State) -> np.ndarray:
        return self.task.encode(state)

    def rewards(self, state: State) -> Sequence[float]:
        return [float(v) for v in self.rewards_of([state])[0]]

    def rewards_of(self, states: Sequence[State]) -> np.ndarray:
        if self.log_acquisition is None:
            raise RuntimeError("no acquisition yet: fit the round's surrogate first")
        log_a = self.log_acquisition(features_of(self.task, states))
        return np.exp(np.minimum(log_a, 0.0))[:, None]  # HVI <= 1 on rewards in [0, 1]


def features_of(task: GFNTask, states: Sequence[State]) -> np.ndarray:
    """``(n, d)`` feature rows of terminal states, checked to lie in [0, 1]."""
    rows = np.stack([np.asarray(task.features(s), dtype=np.float64) for s in states])
    if rows.ndim != 2 or not np.isfinite(rows).all() or rows.min() < 0 or rows.max() > 1:
        raise ValueError(f"task {task.id!r}: features must be fixed-length vectors in "
                         "[0, 1]; override GFNTask.features")
    return rows


# ---- the campaign --------------------------------------------------------------------------

class MOGFNAL:
    """MOGFN-AL on one ``gfn-task`` problem; usable without the service."""

    def __init__(self, problem: Any, params: dict[str, Any] | MOGFNALConfig | None = None,
                 seed: int = 0, device: str = "cpu") -> None:
        self.config = (params if isinstance(params, MOGFNALConfig)
                       else MOGFNALConfig.model_validate(params or {}))
        self.problem = problem
        self.task: GFNTask = problem.task
        self.senses = list(problem.info.senses)
        reference = problem.info.reference_point
        self.reference_point = (None if reference is None
                                else to_maximization(np.asarray(reference, float), self.senses))
        self.seed, self.device = seed, device
        self.acquisition_task = AcquisitionTask(self.task)
        self.sampler_trainer = self._new_trainer(seed)
        self.states: list[State] = []  # evaluated objects, in order
        self.objectives: list[list[float]] = []
        self.rounds = 0  # completed rounds; round 0 is the random initial design

    def _new_trainer(self, seed: int) -> MOGFN:
        return MOGFN(SimpleNamespace(task=self.acquisition_task),
                     self.config.sampler_config(), seed=seed, device=self.device)

    def sampler(self, k: int) -> Sampler:
        """Round ``k``'s acquisition sampler as trained so far, over the real task (its
        objects' objective vectors are the task's), not preference-conditioned."""
        trainer = self.sampler_trainer
        return Sampler(self.task, trainer.network, trainer.conditioning, trainer.beta,
                       trainer.config.scalarisation, trainer.config.reward_min,
                       {"round": k, "steps": trainer.steps, "evaluations": len(self.states),
                        "reward": f"EHVI^{trainer.beta:g} under round {k}'s GP surrogate"},
                       preference_conditioned=False)

    def run(self, recorder: Recorder) -> None:
        cfg = self.config
        total = evaluations_in(recorder.budget, "mogfn-al")
        state = recorder.restore()
        if state is not None:
            self.load_state(state)
        while len(self.states) < total:
            k = self.rounds
            rng = np.random.default_rng(iteration_seed(self.seed, k))
            n = min(cfg.n_initial if k == 0 else cfg.batch_size, total - len(self.states))
            if k == 0:
                chosen = self.new_objects(n, rng)
                log_values: list[float | None] = [None] * n
                diagnostics: dict[str, float] = {}
            else:
                chosen, log_values, diagnostics = self.propose(n, k, rng)
            started = time.perf_counter()
            objectives = checked_rewards_of(self.task, chosen)
            diagnostics["evaluation_seconds"] = time.perf_counter() - started
            items = [
                Evaluated(
                    objectives=values,
                    params={"object": self.task.readable(s)},
                    kind="candidate",
                    cost=1.0,
                    meta={"round": k, "stage": "initial" if k == 0 else "acquisition",
                          "batch_index": j, "log_acquisition": value},
                )
                for j, (s, values, value) in enumerate(
                    zip(chosen, objectives, log_values, strict=True))
            ]
            self.states += chosen
            self.objectives += objectives
            self.rounds += 1
            if k > 0:
                items[-1].artifact = self.sampler(k).to_bytes()
            recorder.log(**diagnostics)
            recorder.record(items)
            recorder.progress(len(self.states), self._message(k, log_values, diagnostics))
            recorder.checkpoint(self.state())

    def propose(self, n: int, k: int, rng: np.random.Generator
                ) -> tuple[list[State], list[float | None], dict[str, float]]:
        """Round ``k``'s batch of ``n`` new objects: fit, train the sampler, choose."""
        cfg = self.config
        started = time.perf_counter()
        maximised = to_maximization(np.array(self.objectives, dtype=np.float64), self.senses)
        acquisition_k = fit_acquisition(features_of(self.task, self.states), maximised,
                                        self.reference_point, cfg.mc_samples,
                                        iteration_seed(self.seed, k), self.device)
        self.acquisition_task.log_acquisition = acquisition_k.log_values
        fitted = time.perf_counter()

        if not cfg.warm_start:
            self.sampler_trainer = self._new_trainer(iteration_seed(self.seed, k))
        shift = self.sampler_trainer.recentre_log_z(cfg.gfn_batch_size)
        losses = [self.sampler_trainer.train_step(cfg.gfn_batch_size)[1]["loss"]
                  for _ in range(cfg.gfn_steps)]
        trained = time.perf_counter()

        draws = self.sampler(k).sample_states(None, n * cfg.samples_per_proposal,
                                              seed=int(rng.integers(2**63)))
        chosen, values, new_share = self._best_per_proposal(draws, n, acquisition_k)
        missing = [j for j, s in enumerate(chosen) if s is None]
        if missing:  # proposals whose draws held no new object
            fillers = self.new_objects(len(missing), rng,
                                       avoid={s for s in chosen if s is not None})
            for j, filler in zip(missing, fillers, strict=True):
                chosen[j], values[j] = filler, None
        tail = max(1, len(losses) // 10)
        return [s for s in chosen if s is not None], values, {
            "fit_seconds": fitted - started, "gfn_seconds": trained - fitted,
            "proposal_seconds": time.perf_counter() - trained,
            "loss": float(np.mean(losses[-tail:])), "log_z_shift": shift,
            "new_objects": new_share,
        }

    def _best_per_proposal(self, draws: list[State], n: int, acquisition_k: RoundAcquisition
                           ) -> tuple[list[State | None], list[float | None], float]:
        """Split the draws into ``n`` groups in order; each proposal is its group's new
        object of highest a(x) (None where there is none), and the share of new objects."""
        seen = set(self.states)
        fresh = list(dict.fromkeys(s for s in draws if s not in seen))
        scores = dict(zip(fresh, acquisition_k.log_values(features_of(self.task, fresh)),
                          strict=True)) if fresh else {}
        size = len(draws) // n
        chosen: list[State | None] = []
        values: list[float | None] = []
        taken: set[State] = set()
        for j in range(n):
            group = [s for s in draws[j * size:(j + 1) * size] if s in scores and s not in taken]
            best = max(group, key=lambda s: scores[s], default=None)  # first of equal ones
            chosen.append(best)
            values.append(None if best is None else float(scores[best]))
            if best is not None:
                taken.add(best)
        return chosen, values, len(fresh) / max(1, len(draws))

    def new_objects(self, n: int, rng: np.random.Generator,
                    avoid: set[State] | None = None) -> list[State]:
        """``n`` objects drawn by uniformly random allowed actions, distinct and never
        evaluated where the task has that many (else repeats are allowed)."""
        seen = set(self.states) | (avoid or set())
        trainer = self.sampler_trainer
        cond = trainer.conditioning.encode(np.ones((n, 1)), np.full(n, trainer.beta),
                                           trainer.device)
        chosen: list[State] = []
        drawn: list[State] = []
        for _ in range(RANDOM_TRIES):
            batch = walk(self.task, n, policy_chooser(trainer.network, cond, rng, 1.0))
            drawn += batch.terminals
            chosen += list(dict.fromkeys(s for s in batch.terminals
                                         if s not in seen and s not in chosen))[:n - len(chosen)]
            if len(chosen) == n:
                return chosen
        return chosen + drawn[:n - len(chosen)]  # a task with fewer new objects than n

    def _message(self, k: int, log_values: list[float | None],
                 diagnostics: dict[str, float]) -> str:
        if k == 0:
            return f"round 0: {len(self.states)} random objects evaluated"
        picked = [v for v in log_values if v is not None]
        mean = f"{np.mean(picked):.3g}" if picked else "n/a"
        return (f"round {k}: {len(self.states)} evaluations, mean log EHVI of the batch "
                f"{mean}, TB loss {diagnostics['loss']:.3g}")

    # ---- checkpoint ----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"sampler": self.sampler_trainer.state(), "states": list(self.states),
                "objectives": [list(v) for v in self.objectives], "rounds": self.rounds}

    def load_state(self, state: dict[str, Any]) -> None:
        self.sampler_trainer.load_state(state["sampler"])
        self.states = list(state["states"])
        self.objectives = [list(map(float, v)) for v in state["objectives"]]
        self.rounds = int(state["rounds"])


def run(problem: Any, params: dict[str, Any], seed: int, device: str, recorder: Recorder) -> None:
    """The ``mogfn-al`` entry point of the registry (``jobs.protocol.Algorithm``)."""
    MOGFNAL(problem, params, seed=seed, device=device).run(recorder)
