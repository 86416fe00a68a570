"""The parameters of the ``qlognehvi``, ``qnparego`` and ``nsga2`` algorithms.

Light on purpose: pydantic only, no torch, no BoTorch, no pymoo, because the registry
validates specs and serves these schemas from the API process. Each model forbids
unknown fields, so a misspelt parameter is refused at submit time with its name.

Acquisition-optimiser defaults. BoTorch's multi-objective tutorial uses 10 restarts,
512 raw samples and 128 quasi-MC samples; Ax 1.3 (``ax/generators/torch/botorch_modular/
optimizer_defaults.py``) 20 restarts, 1024 raw samples, all 20 restarts in one batched
L-BFGS-B call (``BATCH_LIMIT = 20``, ``INIT_BATCH_LIMIT = 32``), and qLogNEHVI's own
default of 128 MC samples. First measurement, which chose 4 / 128 / 32 (2 shared CPU
cores, other jobs running beside, one torch thread as in a worker; noiseless problems,
100 evaluations, q = 4 after the initial design; "s/iter" is fit + acquisition per
batch, mean over the campaign / mean over its last 5 batches, at 80-100 observations):

    BraninCurrin (d=2, 6 Sobol + 24 batches), log10(59.36 - HV), per seed 0, 1, 2
    restarts/raw/MC      method     log10 HV difference    s/iter (mean / last 5)
    10 / 512 / 128       qlognehvi  -0.23 (seed 0 only)     25.8 / 27.5
     4 / 256 /  64       qlognehvi  -0.16  -0.26  -0.15     5.8 / 9.9, 5.9 / 8.0, 5.1 / 7.0
     4 / 128 /  32       qlognehvi  -0.31  -0.20  -0.25     4.6 / 5.3, 4.0 / 4.5, 3.2 / 3.7
     4 / 128 /  32       qnparego    0.19   0.50   0.41     6.3 / 6.6, 6.3 / 6.8, 6.5 / 5.5
     -                   sobol       1.45   1.59   1.59
     -                   nsga2       1.23   1.12   1.71     (pop_size 20)

    DTLZ2 (d=6, M=2, 14 Sobol + 22 batches), seed 0, log10(0.4246 - HV)
     4 / 128 /  32       qlognehvi  -1.75                   4.4 / 4.3
     4 / 128 /  32       qnparego   -1.61                   6.5 / 6.1
     -                   sobol -0.58, nsga2 -0.43

So 4 / 128 / 32 kept qLogNEHVI's quality on BraninCurrin (no worse than the tutorial's
settings within seed noise; BoTorch's tutorial reports about 0.20 on *noisy*
BraninCurrin) at a fifth of the time. The largest single batch: qLogNEHVI 7.3 s on
BraninCurrin, qNParEGO 11.5 s; one DTLZ2 first batch took 17 s while another job held
the other core (3.0 s re-run alone). qNParEGO costs more per batch than qLogNEHVI: ``q``
separate optimisations of a qLogNEI whose posterior spans the whole baseline, and
BoTorch's L-BFGS-B line search fails now and then on it (``OptimizationWarning`` ...
ABNORMAL), which ``optimize_acqf`` answers by restarting from new initial conditions.

But it left qLogNEHVI 0.14 behind Ax on DTLZ2 (bench_bo, 5 seeds: -1.716 +- 0.020 vs
-1.858 +- 0.010; Ax without its centre-point trial -1.790 +- 0.028). Second measurement,
qlognehvi on DTLZ2 (d=6), seeds 0-4, log10 HV difference at 100 evaluations (mean +- SE,
then per seed), and the thread CPU seconds of fit + acquisition per batch (mean / p95 /
max over the 110 batches; on the loaded benchmark machine wall time ran 1.3-1.5x this):

    restarts/raw/MC (batch_limit)    log10 HV difference                       CPU s/batch
     4 /  128 /  32 (5)    -1.710 +- 0.016  -1.768 -1.680 -1.704 -1.683 -1.713   2.4 / 3.4 / 3.9
     4 / 1024 /  32 (4)    -1.755 +- 0.021  -1.726 -1.785 -1.820 -1.706 -1.739   2.7 / 4.0 / 4.6
    10 / 1024 /  32 (10)   -1.733 +- 0.015  -1.743 -1.770 -1.699 -1.697 -1.758   3.1 / 4.4 / 4.8
    20 /  512 /  32 (20)   -1.737 +- 0.023  -1.756 -1.765 -1.733 -1.650 -1.779   3.3 / 5.7 / 6.8
    20 / 1024 /  32 (20)   -1.796 +- 0.018  -1.819 -1.815 -1.826 -1.725 -1.793   3.6 / 6.3 / 8.0
      same, no retry (*)   -1.796 +- 0.018  -1.811 -1.815 -1.820 -1.725 -1.809   3.5 / 5.8 / 6.4
    20 / 1024 / 128 (20),  -1.801 +- 0.019  -1.839 -1.759 -1.759 -1.799 -1.850   6.4 / 13.5 / 15.9
      maxiter 2000 (Ax's optimiser exactly)

So the gap was the acquisition optimiser: Ax's 20 restarts with 1024 raw samples bring
our loop level with Ax's loop (Ax less its centre point, whose advantage is DTLZ2's:
its Pareto set runs through the centre of the box); fewer restarts or raw samples do
not, 128 MC samples add nothing for twice the time, and L-BFGS-B never came near 200
iterations (at most 50). (*) ``retry_on_optimization_warning=False``: one restart's
ABNORMAL line search otherwise makes BoTorch throw all restarts away and start again,
which doubled some batches. Batching all restarts in one L-BFGS-B call (BoTorch's
batched L-BFGS-B) makes 20 restarts cost about twice 4, not five times.

On BraninCurrin (d=2) the same 20 / 1024 cost 9.9 s CPU a batch on average and up to
19.8 s (seed 0; 17 s over its last batches: its Pareto front, hence every acquisition
evaluation, is larger) for -0.354 against -0.318 with 4 / 128 (3.1 / 5.2 s). So the
defaults scale with the dimension d instead: ``min(20, 4 d)`` restarts and
``min(1024, 256 d)`` raw samples (the candidate sets of BoTorch's TuRBO also grow
linearly with d), which is Ax's 20 / 1024 on DTLZ2 and 8 / 512 on BraninCurrin:
-0.336, -0.251, -0.210 (seeds 0-2) at 2.8 / 4.8 / 5.8 s CPU a batch. qNParEGO keeps
4 / 128: it already costs 6-7 s a batch; its greedy loop (in :mod:`bayesopt.bo`) turns
the retries off too, which ``optimize_acqf_list`` cannot. These are single-machine
figures on a busy host, not a benchmark: ``benchmarks/bench_bo.py`` is the measurement
of record.

The BO loop itself (initial design, batch size) follows the tutorial: ``2 (d + 1)``
scrambled Sobol points, then batches of ``q = 4`` -- except that, as Ax 1.3's Client does
by default (``initialize_with_center=True``), the first point of the initial design is
the centre of the box (``initial_centre``, on by default; the Sobol points follow it). On
DTLZ2, whose Pareto set contains the centre, that is worth a lot: in ``bench_bo.py``
(5 seeds, 20 / 1024 / 32, log10 HV difference at 100 evaluations) qlognehvi without the
centre reached -1.760 +- 0.021 and with it -1.833 +- 0.011, against Ax's -1.858 +-
0.010 (Ax without its centre trial: -1.790 +- 0.028 in an earlier run); on BraninCurrin,
whose Pareto set does not, -0.269 +- 0.023 and -0.261 +- 0.023 (no difference). A
problem whose optimum is at the centre gets it for one evaluation, any other problem
loses one Sobol point of fourteen; ``initial_centre: false`` gives the pure Sobol design
of the tutorial.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BayesOptConfig(BaseModel):
    """What qLogNEHVI and qNParEGO share: the loop and the acquisition optimiser."""

    model_config = ConfigDict(extra="forbid")

    q: int = Field(
        default=4,  # BoTorch multi-objective tutorial: BATCH_SIZE = 4
        ge=1,
        le=64,
        description="candidates per batch after the initial design (greedy sequential)",
    )
    n_initial: int | None = Field(
        default=None,  # tutorial: 2 (d + 1) Sobol points
        ge=1,
        le=10000,
        description="scrambled Sobol points before the first model fit; "
        "default (null): 2 (d + 1) for d parameters",
    )
    initial_centre: bool = Field(
        default=True,  # Ax 1.3's Client: initialize_with_center=True; see the docstring
        description="make the centre of the box the first point of the initial design "
        "(the Sobol points follow it), as Ax does",
    )
    num_restarts: int | None = Field(
        default=None,  # Ax 1.3: NUM_RESTARTS = 20; the rule is measured in the docstring
        ge=1,
        le=100,
        description="starting points of the multi-start L-BFGS-B acquisition optimisation; "
        "default (null): min(20, 4 d) for d search dimensions (a choice has one per value)",
    )
    raw_samples: int | None = Field(
        default=None,  # Ax 1.3: RAW_SAMPLES = 1024; the rule is measured in the docstring
        ge=1,
        le=100000,
        description="quasi-random points scored to choose the optimiser's starting points; "
        "default (null): min(1024, 256 d) for d search dimensions (a choice has one per value)",
    )
    mc_samples: int = Field(
        default=32,  # tutorial: MC_SAMPLES = 128; measured in the module docstring
        ge=1,
        le=4096,
        description="quasi-Monte-Carlo posterior samples that estimate the acquisition value",
    )
    max_iter_acqf: int = Field(
        default=200,  # tutorial: options={"maxiter": 200}; never reached (see docstring)
        ge=1,
        le=10000,
        description="L-BFGS-B iterations per restart of the acquisition optimisation",
    )
    batch_limit: int | None = Field(
        default=None,  # Ax 1.3: BATCH_LIMIT = 20 with its 20 restarts, i.e. all of them
        ge=1,
        le=1000,
        description="restarts optimised together in one batched L-BFGS-B call (memory vs. "
        "speed); default (null): all of them",
    )
    failure_model: bool = Field(
        default=True,  # Gelbart et al. 2014 (a GP classifier there); see bayesopt.bo
        description="ask/tell: fit a GP to where evaluations failed and weight the "
        "acquisition by the chance that a point's evaluation succeeds; false: only "
        "condition on the failed points as pending ones, so they are not suggested again",
    )

    def initial_points(self, dim: int) -> int:
        """How many Sobol points the initial design has for ``dim`` parameters."""
        return self.n_initial if self.n_initial is not None else 2 * (dim + 1)

    def restarts(self, dim: int) -> int:
        """How many L-BFGS-B restarts the acquisition optimiser makes for ``dim`` parameters."""
        return self.num_restarts if self.num_restarts is not None else min(20, 4 * dim)

    def raw_points(self, dim: int) -> int:
        """How many raw points are scored for the starting points, for ``dim`` parameters."""
        return self.raw_samples if self.raw_samples is not None else min(1024, 256 * dim)

    def restarts_per_call(self, dim: int) -> int:
        """How many restarts one batched L-BFGS-B call optimises together."""
        return self.batch_limit if self.batch_limit is not None else self.restarts(dim)


class QLogNEHVIConfig(BayesOptConfig):
    """``qlognehvi``: q-Log Noisy Expected Hypervolume Improvement (Ament et al. 2023)."""


class QNParEGOConfig(BayesOptConfig):
    """``qnparego``: q-NParEGO, one random augmented-Chebyshev scalarisation per candidate
    (Knowles 2006; Daulton et al. 2020), with the log-EI of Ament et al. (2023).

    Keeps the light optimiser of the first measurement (4 restarts, 128 raw samples; see
    the module docstring): its per-batch cost is already near the 10 s goal."""

    num_restarts: int | None = Field(
        default=4,  # measured in the module docstring (tutorial: 10)
        ge=1,
        le=100,
        description="starting points of the multi-start L-BFGS-B acquisition optimisation; "
        "null: min(20, 4 d) for d search dimensions (a choice has one per value)",
    )
    raw_samples: int | None = Field(
        default=128,  # measured in the module docstring (tutorial: 512)
        ge=1,
        le=100000,
        description="quasi-random points scored to choose the optimiser's starting points; "
        "null: min(1024, 256 d) for d search dimensions (a choice has one per value)",
    )


class NSGA2Config(BaseModel):
    """``nsga2``: NSGA-II (Deb et al. 2002) as pymoo implements it, with pymoo's defaults."""

    model_config = ConfigDict(extra="forbid")

    pop_size: int = Field(
        default=20,  # ours: 100 evaluations are 5 generations (pymoo's default is 100)
        ge=2,
        le=100000,
        description="population size (also the size of the initial random population)",
    )
    n_offsprings: int | None = Field(
        default=None,  # pymoo: None -> pop_size
        ge=1,
        le=100000,
        description="offspring per generation; default (null): pop_size",
    )
    crossover_eta: float = Field(
        default=15.0,  # pymoo NSGA2: SBX(eta=15, prob=0.9)
        gt=0,
        le=1000,
        description="distribution index of simulated binary crossover (larger: closer to "
        "the parents)",
    )
    crossover_prob: float = Field(
        default=0.9,  # pymoo NSGA2: SBX(eta=15, prob=0.9)
        ge=0,
        le=1,
        description="probability that a mating pair is crossed over",
    )
    mutation_eta: float = Field(
        default=20.0,  # pymoo NSGA2: PM(eta=20)
        gt=0,
        le=1000,
        description="distribution index of polynomial mutation (larger: smaller steps)",
    )
    mutation_prob: float = Field(
        default=0.9,  # pymoo PM: prob=0.9
        ge=0,
        le=1,
        description="probability that an offspring is mutated",
    )
    mutation_prob_var: float | None = Field(
        default=None,  # pymoo PM: None -> min(0.5, 1 / d)
        ge=0,
        le=1,
        description="probability that each variable of a mutated offspring is mutated; "
        "default (null): min(0.5, 1 / d)",
    )
    eliminate_duplicates: bool = Field(
        default=True,  # pymoo GeneticAlgorithm default
        description="re-draw offspring identical to a member of the population",
    )
