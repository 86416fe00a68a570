"""The parameters of MOGFN-PC, as a pydantic model (no torch: the API process reads it).

The registry validates campaign specs and serves this schema from the API process, so
this module stays light. Each default cites where it comes from: "mo_gfn code" is the
authors' N-gram implementation (MJ10/mo_gfn, ``configs/algorithm/mogfn.yaml``), "TB
code" the trajectory-balance HyperGrid code of Malkin et al. (2022), as read for
``ALGORITHMS.md``. The reward exponent β defaults to the task's own (``default_beta``
of the task in ``morl.gfn_tasks``: 16 on HyperGrid, 96 on N-grams).
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
    lr_logz: float = Field(
        1e-2, gt=0, le=1.0,
        description="Adam learning rate of the log Z(w) network (mo_gfn code: 10x the "
        "policy's)",
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
    exploration: float = Field(
        0.01, ge=0, lt=1,
        description="epsilon: probability of a uniformly random allowed action at each step "
        "of a training trajectory (mo_gfn code: 0.01)",
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
