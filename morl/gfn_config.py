"""The parameters of MOGFN-PC, as a pydantic model (no torch: the API process reads it).

The registry validates campaign specs and serves this schema from the API process, so
this module stays light. Each default cites where it comes from: "mo_gfn code" is the
authors' N-gram implementation (MJ10/mo_gfn, ``configs/algorithm/mogfn.yaml``), "TB
code" the trajectory-balance HyperGrid code of Malkin et al. (2022), as read for
``ALGORITHMS.md``. The reward exponent β defaults to the task's own (``default_beta``
of the task in ``morl.gfn_tasks``: 16 on HyperGrid, 96 on N-grams), and so do the log Z
learning rate and the exploration ε (``default_lr_logz``, ``default_exploration``): the
mo_gfn code's on N-grams (1e-2, 0.01), the TB code's on HyperGrid (0.1, on-policy). On
HyperGrid 32 x 32 Branin-Currin the mo_gfn values left the sampler's L1 distance to its
target at 0.23-0.40 after 1,000 steps; the TB code's brought it to 0.14 (bench_mogfn).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Scalarisation = Literal["weighted-sum", "weighted-log-sum", "tchebycheff"]


class MOGFNConfig(BaseModel):
    """MOGFN-PC (Jain et al., ICML 2023): one preference-conditioned GFlowNet."""

    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(
        128, ge=1, le=4096,
        description="trajectories sampled, scored and recorded per training step; each "
        "costs one evaluation (mo_gfn code: 128)",
    )
    lr: float = Field(1e-3, gt=0, le=1.0,
                      description="Adam learning rate of the forward policy (TB code: 1e-3)")
    lr_logz: float | None = Field(
        None, gt=0, le=1.0,
        description="Adam learning rate of the log Z(w) network; default (null): the "
        "task's own (N-grams 1e-2, mo_gfn code: 10x the policy's; HyperGrid 0.1, TB code)",
    )
    weight_decay: float = Field(1e-4, ge=0, le=1.0,
                                description="Adam weight decay (mo_gfn code: 1e-4)")
    grad_clip: float = Field(10.0, gt=0, description="gradient-norm clipping (mo_gfn code: 10)")
    hidden: list[int] = Field(
        [256, 256], min_length=1, max_length=6,
        description="hidden widths of the forward policy MLP, LeakyReLU (TB code: 2 x 256)",
    )
    logz_hidden: list[int] = Field(
        [64, 64], min_length=1, max_length=6,
        description="hidden widths of the log Z(w) MLP, LeakyReLU",
    )
    exploration: float | None = Field(
        None, ge=0, lt=1,
        description="epsilon: probability of a uniformly random allowed action at each step "
        "of a training trajectory; default (null): the task's own (N-grams 0.01, mo_gfn "
        "code; HyperGrid 0, on-policy as in the TB code)",
    )
    preference_alpha: float = Field(
        1.0, gt=0, le=100,
        description="concentration alpha of the Dirichlet(alpha * 1) training preferences "
        "(mo_gfn code: 1)",
    )
    thermometer_bins: int = Field(
        50, ge=2, le=1000,
        description="bins of the thermometer encoding per objective weight (and of beta) "
        "(mo_gfn code: 50)",
    )
    beta: float | None = Field(
        None, gt=0, le=1000,
        description="reward exponent beta: the sampler targets R(x|w)^beta; default (null): "
        "the task's own (HyperGrid 16, N-grams 96)",
    )
    condition_on_beta: bool = Field(
        False,
        description="also condition on beta: each training trajectory draws an integer beta "
        "uniformly in 1..beta_max, thermometer-encoded; sampling uses beta",
    )
    beta_max: float | None = Field(
        None, gt=1, le=1000,
        description="top of the sampled beta range (condition_on_beta); default (null): "
        "beta itself (mo_gfn code: 32)",
    )
    scalarisation: Scalarisation = Field(
        "weighted-sum",
        description="R(x|w): 'weighted-sum' sum_i w_i r_i (the paper's default), "
        "'weighted-log-sum' prod_i r_i^w_i, or 'tchebycheff' min_i w_i r_i over the "
        "objectives with w_i > 0",
    )
    reward_min: float = Field(
        1e-80, gt=0, le=1e-3,
        description="floor of R(x|w) before its log (mo_gfn code: 1e-80)",
    )
    replay_batch_size: int = Field(
        0, ge=0, le=4096,
        description="extra trajectories per step replayed from the buffer of best samples "
        "(rescored under fresh preferences, not evaluated again, no budget); 0: no replay, "
        "as in the paper",
    )
    replay_capacity: int = Field(
        1000, ge=1, le=100_000,
        description="distinct objects kept in the replay buffer: the least-dominated ones",
    )
    steps_per_round: int = Field(
        10, ge=1, le=10_000,
        description="training steps between two records: the candidates of a round are "
        "recorded together, with the sampler as an artifact and a checkpoint",
    )

    @model_validator(mode="after")
    def _beta_range(self) -> MOGFNConfig:
        if (self.condition_on_beta and self.beta is not None and self.beta_max is not None
                and self.beta > self.beta_max):
            raise ValueError(
                f"beta ({self.beta}) lies above beta_max ({self.beta_max}): the sampler would "
                "be asked for a beta it never saw in training; raise beta_max or lower beta"
            )
        return self


class MOGFNALConfig(BaseModel):
    """MOGFN-AL (Jain et al., ICML 2023): a GFlowNet as the acquisition optimiser of a
    multi-objective BO loop over discrete objects (``bayesopt.mogfn_al``).

    Defaults cite "mogfn-al code": the authors' active-learning code (built on LaMBO),
    ``hydra_config/optimizer/mogfn_seq.yaml`` and the README's run command
    (``acquisition=nehvi optimizer.use_acqf=True optimizer.pref_cond=False
    optimizer.sample_beta=32``), as read for ``ALGORITHMS.md``.
    """

    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(
        16, ge=1, le=1024,
        description="objects proposed, evaluated by the real objective and recorded per "
        "round (mogfn-al code: 16)",
    )
    n_initial: int = Field(
        16, ge=1, le=100_000,
        description="objects drawn uniformly at random (uniform allowed actions) and "
        "evaluated before the first surrogate fit (round 0)",
    )
    mc_samples: int = Field(
        32, ge=1, le=4096,
        description="quasi-Monte-Carlo posterior samples of the log-EHVI estimate (as "
        "qlognehvi's default)",
    )
    gfn_steps: int = Field(
        300, ge=1, le=100_000,
        description="trajectory-balance steps on the acquisition reward per round, "
        "continuing the previous round's sampler with warm_start (mogfn-al code: 1000-1500 "
        "from a pretrained encoder; fewer here, see bench_mogfn)",
    )
    gfn_batch_size: int = Field(
        16, ge=1, le=4096,
        description="trajectories per training step (mogfn-al code: train_batch_size 16); "
        "they are scored by the surrogate, not evaluated, and cost no budget",
    )
    samples_per_proposal: int = Field(
        20, ge=1, le=10_000,
        description="objects drawn from the trained sampler per proposal: each of the "
        "batch_size proposals is the best new object of its own draws by acquisition value "
        "(mogfn-al code: num_eval_samples 20)",
    )
    beta: float = Field(
        32.0, gt=0, le=1000,
        description="reward exponent: the sampler targets EHVI(x)^beta (mogfn-al code: "
        "sample_beta 32)",
    )
    reward_min: float = Field(
        1e-20, gt=0, le=1e-3,
        description="floor of EHVI(x) before its log (mogfn-al code: 1e-20)",
    )
    warm_start: bool = Field(
        True,
        description="keep training one sampler from round to round (mogfn-al code); false: "
        "a fresh network every round",
    )
    lr: float = Field(1e-4, gt=0, le=1.0,
                      description="Adam learning rate of the forward policy (mogfn-al code: "
                      "pi_lr 1e-4)")
    lr_logz: float = Field(1e-3, gt=0, le=1.0,
                           description="Adam learning rate of log Z (mogfn-al code: z_lr 1e-3)")
    weight_decay: float = Field(1e-4, ge=0, le=1.0,
                                description="Adam weight decay (mogfn-al code: 1e-4)")
    grad_clip: float = Field(10.0, gt=0,
                             description="gradient-norm clipping (mogfn-al code: gen_clip 10)")
    hidden: list[int] = Field(
        [256, 256], min_length=1, max_length=6,
        description="hidden widths of the forward policy MLP, LeakyReLU (as mogfn)",
    )
    logz_hidden: list[int] = Field(
        [64, 64], min_length=1, max_length=6, description="hidden widths of the log Z MLP",
    )
    exploration: float = Field(
        0.05, ge=0, lt=1,
        description="epsilon: probability of a uniformly random allowed action at each step "
        "of a training trajectory (mogfn-al code: random_action_prob 0.05)",
    )

    def sampler_config(self) -> MOGFNConfig:
        """The MOGFN-PC settings of the acquisition sampler (one constant 'preference')."""
        return MOGFNConfig.model_validate({
            "batch_size": self.gfn_batch_size, "lr": self.lr, "lr_logz": self.lr_logz,
            "weight_decay": self.weight_decay, "grad_clip": self.grad_clip,
            "hidden": self.hidden, "logz_hidden": self.logz_hidden,
            "exploration": self.exploration, "beta": self.beta,
            "reward_min": self.reward_min, "steps_per_round": self.gfn_steps,
        })
