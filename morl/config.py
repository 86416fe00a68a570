"""The parameters of the MORL algorithms, as pydantic models (no torch, no gymnasium).

The registry validates campaign specs and serves these schemas from the API process,
so this module stays light. Each default cites where it comes from. "C-MORL code" is
the authors' public implementation (RuohLiuq/C-MORL: ``morl/arguments.py``, the PPO
of ``externals/pytorch-a2c-ppo-acktr-gail``) as read for ``ALGORITHMS.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EvaluationConfig(BaseModel):
    """How policies are evaluated: part of every result (stored on the campaign)."""

    model_config = ConfigDict(extra="forbid")

    eval_gamma: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="discount of the evaluated return vectors (1.0: undiscounted); "
        "default (null): the environment's published convention, e.g. 0.99 for "
        "deep-sea-treasure, 0.98 for minecart",
    )
    eval_episodes: int | None = Field(
        default=None, ge=1, le=1000,
        description="episodes per policy evaluation (deterministic actions); default "
        "(null): 1 for deterministic environments, 5 for stochastic ones",
    )


class PPOConfig(BaseModel):
    """PPO as in C-MORL's code (Schulman et al. 2017 with the MuJoCo settings)."""

    model_config = ConfigDict(extra="forbid")

    lr: float = Field(3e-4, gt=0, le=1.0, description="Adam learning rate (C-MORL code: 3e-4)")
    lr_decay: bool = Field(True, description="decay the learning rate linearly to 0 over "
                           "each policy's updates (C-MORL code: linear decay)")
    gamma: float = Field(0.995, gt=0, le=1.0, description="training discount (C-MORL code: 0.995)")
    gae_lambda: float = Field(0.95, ge=0, le=1.0, description="GAE λ (C-MORL code: 0.95)")
    clip: float = Field(0.2, gt=0, le=1.0, description="PPO clip ε (C-MORL code: 0.2)")
    epochs: int = Field(10, ge=1, le=100, description="PPO epochs per update (C-MORL code: 10)")
    minibatches: int = Field(32, ge=1, le=1024,
                             description="minibatches per epoch (C-MORL code: 32)")
    n_steps: int = Field(512, ge=4, le=100_000,
                         description="steps per environment per update (C-MORL code: 512)")
    n_envs: int = Field(8, ge=1, le=256,
                        description="parallel environments per policy (C-MORL code: 8)")
    hidden: list[int] = Field([64, 64], min_length=1, max_length=4,
                              description="hidden layer widths of actor and critic, tanh "
                              "(C-MORL code: 64, 64)")
    value_coef: float = Field(0.5, ge=0, description="value loss weight (C-MORL code: 0.5)")
    entropy_coef: float = Field(0.0, ge=0, description="entropy bonus (C-MORL code: 0)")
    max_grad_norm: float = Field(0.5, gt=0, description="gradient clipping (C-MORL code: 0.5)")
    normalise_observations: bool = Field(True, description="running observation normalisation")
    normalise_rewards: bool = Field(True, description="per-objective running return "
                                    "normalisation of the rewards")


class CMORLConfig(EvaluationConfig, PPOConfig):
    """C-MORL (Liu et al., ICLR 2025): Pareto initialisation, then constrained extension."""

    n_init_policies: int = Field(
        6, ge=1, le=64,
        description="preference vectors of the initialisation stage, on a simplex grid "
        "(C-MORL code: 6 for 2-3 objectives)",
    )
    init_fraction: float = Field(
        0.4, gt=0, lt=1,
        description="share of the env-step budget spent on the initialisation stage "
        "(T_init / T)",
    )
    n_select: int = Field(
        5, ge=1, le=64,
        description="policies picked from the archive for each round of extension, by "
        "largest crowding distance (C-MORL code: 5-6)",
    )
    chunk_updates: int = Field(
        20, ge=1, le=10_000,
        description="PPO updates between evaluations, and per extension before "
        "re-selecting (C-MORL code: 20)",
    )
    beta: float = Field(0.9, gt=0, le=1.0,
                        description="constraint relaxation β: keep J_j >= β·J_j(π_r) "
                        "(C-MORL: 0.9)")
    barrier_t: float = Field(20.0, gt=0, description="log-barrier sharpness t (C-MORL: 20)")
    archive_size: int = Field(200, ge=2, le=10_000,
                              description="cap on the archive of non-dominated policies, "
                              "by crowding distance (C-MORL code: 200)")


class PDMORLConfig(EvaluationConfig):
    """PD-MORL (Basaklar et al., ICLR 2023): one preference-conditioned network.

    "PD-MORL code" is the authors' public implementation (tbasaklar/PDMORL-…:
    ``lib/utilities/settings.py``, ``lib/common_ptan/agent.py``) as read for
    ``ALGORITHMS.md``. Where the code's setting differs between the discrete (MO-DDQN:
    DST, fruit-tree) and the continuous (MO-TD3: MuJoCo) variants, the default is null
    and resolved by the action space; the resolved values are recorded with the
    campaign's evaluations.
    """

    lr: float = Field(3e-4, gt=0, le=1.0, description="Adam learning rate (PD-MORL code: 3e-4)")
    gamma: float | None = Field(
        None, gt=0, le=1.0,
        description="training discount; default (null): 0.99 discrete, 0.995 continuous "
        "(PD-MORL code)")
    batch_size: int | None = Field(
        None, ge=1, le=65536,
        description="minibatch size; default (null): 32 discrete, 256 continuous (PD-MORL code)")
    hidden_width: int | None = Field(
        None, ge=8, le=4096,
        description="width of the hidden layers; default (null): 256 discrete (the code's "
        "DST width; it uses 512 for fruit-tree), 400 continuous (PD-MORL code)")
    hidden_layers: int | None = Field(
        None, ge=1, le=8,
        description="hidden layers; default (null): 4 discrete, 2 continuous (PD-MORL code: an "
        "input layer then layer_N = 3 more for MO-DDQN, layer_N_actor = layer_N_critic = 1 "
        "for MO-TD3)")
    buffer_size: int | None = Field(
        None, ge=100, le=10_000_000,
        description="replay capacity in transitions; default (null): 10k discrete, 1M "
        "continuous (PD-MORL code: 10k DST/FTN, 2M MuJoCo)")
    tau: float = Field(0.005, gt=0, le=1.0, description="soft target update τ (PD-MORL code)")
    epsilon_start: float = Field(0.8, ge=0, le=1.0, description="ε-greedy start, discrete "
                                 "(PD-MORL code: 0.8)")
    epsilon_end: float = Field(0.05, ge=0, le=1.0, description="ε-greedy end (PD-MORL code: 0.05)")
    epsilon_decay_fraction: float = Field(
        0.75, gt=0, le=1.0,
        description="share of the budget over which ε decays linearly (PD-MORL code: "
        "ε = 0.8 − t/T per process, which reaches 0.05 at 0.75 T)")
    exploration_noise: float = Field(0.1, ge=0, le=1.0, description="TD3 Gaussian action noise, "
                                     "as a fraction of the action range (TD3 paper: 0.1)")
    target_noise: float = Field(0.2, ge=0, le=1.0, description="TD3 target policy smoothing "
                                "noise (TD3 paper: 0.2)")
    target_noise_clip: float = Field(0.5, ge=0, le=1.0, description="TD3 target noise clip "
                                     "(TD3 paper: 0.5)")
    policy_delay: int | None = Field(
        None, ge=1, le=100,
        description="critic updates per actor update, continuous only; default (null): the "
        "environment's (PD-MORL code: 20 for Hopper, 10 for the other MuJoCo tasks), else 10")
    actor_loss_coeff: float = Field(
        10.0, ge=0, description="weight of the angle term (degrees) in the actor loss (PD-MORL "
        "code: 10, for MuJoCo returns about 900 from the origin); the angle's gradient goes as "
        "1 / |Q - origin|, so returns on a smaller scale weigh it more: the hopper benchmark at "
        "γ 0.99 (returns about 330 from its reference point) sets 4")
    max_grad_norm: float | None = Field(
        100.0, gt=0, description="MO-TD3: gradient-norm clip of the critics' and the actor's "
        "steps (PD-MORL code: clip_grad_norm_ 100 on both); null: no clip")
    preactivation_penalty: float = Field(
        0.0, ge=0, le=100.0,
        description="MO-TD3: weight of the squared norm of the pre-tanh actor output "
        "(averaged over the batch) added to the actor loss, which keeps the actor out of "
        "tanh saturation (0: none, as in PD-MORL's code; not in the paper)")
    random_steps: int = Field(1000, ge=0, le=1_000_000, description="uniformly random "
                              "actions before the actor acts, continuous only")
    n_relabel: int = Field(3, ge=0, le=32, description="extra random preferences each "
                           "transition is replayed with (PD-MORL code: 3)")
    n_explorers: int = Field(10, ge=1, le=64, description="parallel explorers, each on its own "
                             "slice of the preference simplex (PD-MORL code: 10 processes)")
    updates_per_round: int | None = Field(
        None, ge=1, le=1000,
        description="gradient steps per round of one step by every explorer; default "
        "(null): n_explorers (the code's 10 processes and 10 learner steps)")
    key_solutions: Literal["learned", "known"] = Field(
        "learned",
        description="'learned': short single-preference runs at the key preferences, "
        "updated online whenever the network scalarises better there; 'known': from the "
        "environment's known Pareto front (only where it has one, as the paper does for "
        "DST and fruit-tree)")
    key_fraction: float = Field(
        0.1, ge=0, lt=1,
        description="share of the budget spent on the key preferences alone, when "
        "key_solutions='learned'; 0: no key phase, the key solutions start as the network's "
        "returns after its first steps and are replaced online as it improves")
    key_phase_relabel: Literal["random", "key"] = Field(
        "random",
        description="preferences the key phase replays its transitions with: 'random' (the "
        "n_relabel random preferences of every step) or 'key' (n_relabel draws among the key "
        "preferences, so that the key phase trains the network at the key preferences only, "
        "as the paper's separate single-preference runs do); after the key phase every step "
        "is relabelled at random. On mo-hopper-2obj-v5 'key' stalled the HV once the key "
        "phase ended (benchmarks/pdmorl_hopper.md)")
    eval_interval: int | None = Field(
        None, ge=1, le=100_000_000,
        description="env steps between evaluation rounds; default (null): budget / 20")
    eval_preferences: int | None = Field(
        None, ge=2, le=10_000,
        description="preferences evaluated per round, on a simplex grid; default (null): "
        "101 for 2 objectives, the smallest simplex grid with at least 50 for more")
    td_loss: Literal["smooth_l1", "mse"] = Field(
        "smooth_l1",
        description="regression loss of the Q-network and critics on their TD targets "
        "(PD-MORL code: smooth L1 for MO-DDQN and MO-TD3; TD3's own: mse)")
    guidance: bool = Field(
        True,
        description="preference guidance: key solutions and the directional terms (S in "
        "the target-action choice, the angle terms in the losses); false turns them off, "
        "leaving a preference-conditioned DDQN / TD3 with relabelling: an ablation of "
        "PD-MORL, not PD-MORL")
    direction_origin: Literal["reference_point", "zero"] = Field(
        "reference_point",
        description="where the directions of the key solutions and of Q are measured from "
        "for the angle terms: 'reference_point' (Q − r; our default, so that a negative "
        "objective does not clamp every cosine to 0) or 'zero' (raw Q, as PD-MORL's code "
        "does on MuJoCo and fruit-tree; it shifts DST's time by +19 by hand; on "
        "mo-hopper-2obj-v5 with learned key solutions it halved the HV: "
        "benchmarks/pdmorl_hopper.md)")
    checkpoint_buffer: int = Field(100_000, ge=0, le=10_000_000,
                                   description="most recent replay transitions kept in a "
                                   "checkpoint (the rest is refilled after a resume)")
