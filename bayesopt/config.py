"""The parameters of the ``qlognehvi``, ``qnparego`` and ``nsga2`` algorithms.

Light on purpose: pydantic only, no torch, no BoTorch, no pymoo, because the registry
validates specs and serves these schemas from the API process. Each model forbids
unknown fields, so a misspelt parameter is refused at submit time with its name.

Acquisition-optimiser defaults. BoTorch's multi-objective tutorial uses 10 restarts,
512 raw samples and 128 quasi-MC samples. Measured here (2 shared CPU cores, other jobs
running beside, one torch thread as in a worker; noiseless problems, 100 evaluations,
q = 4 after the initial design; "s/iter" is fit + acquisition per batch, mean over the
campaign / mean over its last 5 batches, at 80-100 observations):

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

So 4 / 128 / 32 keeps qLogNEHVI's quality (no worse than the tutorial's settings within
seed noise; BoTorch's tutorial reports about 0.20 on *noisy* BraninCurrin) at a fifth
of the time. The largest single batch: qLogNEHVI 7.3 s on BraninCurrin, qNParEGO
11.5 s; one DTLZ2 first batch took 17 s while another job held the other core (3.0 s
re-run alone). qNParEGO costs more per batch than qLogNEHVI: ``q`` separate
optimisations of a qLogNEI whose posterior spans the whole baseline, and BoTorch's
L-BFGS-B line search fails now and then on it (``OptimizationWarning`` ... ABNORMAL),
which ``optimize_acqf`` answers by restarting from new initial conditions. These are single-machine figures on
a busy host, not a benchmark: ``benchmarks/bench_bo.py`` is the measurement of record.

The BO loop itself (initial design, batch size) follows the tutorial: ``2 (d + 1)``
scrambled Sobol points, then batches of ``q = 4``.
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
    num_restarts: int = Field(
        default=4,  # tutorial: NUM_RESTARTS = 10; measured in the module docstring
        ge=1,
        le=100,
        description="starting points of the multi-start L-BFGS-B acquisition optimisation",
    )
    raw_samples: int = Field(
        default=128,  # tutorial: RAW_SAMPLES = 512; measured in the module docstring
        ge=1,
        le=100000,
        description="quasi-random points scored to choose the optimiser's starting points",
    )
    mc_samples: int = Field(
        default=32,  # tutorial: MC_SAMPLES = 128; measured in the module docstring
        ge=1,
        le=4096,
        description="quasi-Monte-Carlo posterior samples that estimate the acquisition value",
    )
    max_iter_acqf: int = Field(
        default=200,  # tutorial: options={"maxiter": 200}
        ge=1,
        le=10000,
        description="L-BFGS-B iterations per restart of the acquisition optimisation",
    )
    batch_limit: int = Field(
        default=5,  # tutorial: options={"batch_limit": 5}
        ge=1,
        le=1000,
        description="restarts optimised jointly in one L-BFGS-B call (memory vs. speed)",
    )

    def initial_points(self, dim: int) -> int:
        """How many Sobol points the initial design has for ``dim`` parameters."""
        return self.n_initial if self.n_initial is not None else 2 * (dim + 1)


class QLogNEHVIConfig(BayesOptConfig):
    """``qlognehvi``: q-Log Noisy Expected Hypervolume Improvement (Ament et al. 2023)."""


class QNParEGOConfig(BayesOptConfig):
    """``qnparego``: q-NParEGO, one random augmented-Chebyshev scalarisation per candidate
    (Knowles 2006; Daulton et al. 2020), with the log-EI of Ament et al. (2023)."""


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
