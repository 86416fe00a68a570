"""MO-Gymnasium environments as mofront problems (problem kind ``mo-gymnasium``).

Light on purpose: the registry lists these problems and the API validates specs
against them without importing gymnasium or torch, so the table of environments below
is static and ``gymnasium``/``mo_gymnasium`` are imported only by :meth:`build`.

Each environment carries the evaluation conventions its literature uses, so that a
hypervolume is never quoted without them: the discount ``eval_gamma`` of the return
vectors, the reference point, and where a known Pareto front exists (MO-Gymnasium's
``env.unwrapped.pareto_front(gamma)``), its hypervolume under that reference point.
Sources: deep-sea-treasure (γ 0.99, ref (0, −25), HV 360.4009, the MORL-Baselines and
PD-MORL convention), minecart (γ 0.98, ref (−1, −1, −200), C-MORL's code), fruit-tree
depth 6 (γ 0.99, ref 0), the 2-objective MuJoCo tasks (γ 0.99, ref (−100, −100),
C-MORL's and PGMORL's code). Environments without a published reference point get
the store's rule (nadir of the stored front minus 10% of its range).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jobs.protocol import Objective, ProblemInfo


class MOGymConfig(BaseModel):
    """Parameters of an MO-Gymnasium problem."""

    model_config = ConfigDict(extra="forbid")

    max_episode_steps: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="cap on an episode's length, in training and evaluation; "
        "default (null): the environment's own time limit",
    )


class FruitTreeConfig(MOGymConfig):
    depth: Literal[5, 6, 7] = Field(6, description="depth of the tree (MO-Gymnasium: 5, 6 or 7)")


# Hypervolume of fruit-tree's known front at γ 0.99, reference point 0, per depth.
FRUIT_TREE_OPTIMAL = {5: 6920.582, 6: 9302.378, 7: 12302.338}


@dataclass(frozen=True)
class Environment:
    id: str
    summary: str
    objectives: tuple[str, ...]
    eval_gamma: float
    eval_episodes: int  # 1 where the environment is deterministic
    reference_point: tuple[float, ...] | None = None
    reference_point_source: str | None = None
    known_front: bool = False
    optimal_hypervolume: float | None = None  # of the known front at eval_gamma
    config: type[MOGymConfig] | None = None  # its parameters; None: MOGymConfig
    # Algorithm parameters whose default (null) the environment settles, as the papers'
    # code sets them per task.
    algorithm_defaults: dict[str, Any] = field(default_factory=dict)


ENVIRONMENTS: dict[str, Environment] = {
    env.id: env
    for env in [
        Environment(
            "deep-sea-treasure-v0",
            "Deep Sea Treasure: a submarine trades treasure value against time (discrete, 2 obj.)",
            ("treasure", "time"), eval_gamma=0.99, eval_episodes=1,
            reference_point=(0.0, -25.0),
            reference_point_source="MORL-Baselines / PD-MORL convention (γ 0.99)",
            known_front=True, optimal_hypervolume=360.4009,
        ),
        Environment(
            "deep-sea-treasure-concave-v0",
            "Deep Sea Treasure with a concave front (discrete, 2 obj.)",
            ("treasure", "time"), eval_gamma=0.99, eval_episodes=1,
            reference_point=(0.0, -25.0),
            reference_point_source="MORL-Baselines convention (γ 0.99)",
            known_front=True, optimal_hypervolume=1101.384,
        ),
        Environment(
            "fruit-tree-v0",
            "Fruit Tree: six nutrient values at the leaves of a binary tree, depth 5-7 "
            "(discrete, 6 obj.)",
            ("protein", "carbs", "fats", "vitamins", "minerals", "water"),
            eval_gamma=0.99, eval_episodes=1,
            reference_point=(0.0,) * 6, reference_point_source="C-MORL / PD-MORL convention",
            known_front=True, optimal_hypervolume=FRUIT_TREE_OPTIMAL[6], config=FruitTreeConfig,
        ),
        Environment(
            "minecart-v0",
            "Minecart: mine two ores while saving fuel (discrete, 3 obj.)",
            ("ore1", "ore2", "fuel"), eval_gamma=0.98, eval_episodes=5,
            reference_point=(-1.0, -1.0, -200.0),
            reference_point_source="C-MORL code (γ 0.98)",
            known_front=True, optimal_hypervolume=668.18,
        ),
        Environment(
            "mo-mountaincarcontinuous-v0",
            "Continuous Mountain Car: reach the flag against time and fuel (continuous, 2 obj.)",
            ("time", "fuel"), eval_gamma=0.99, eval_episodes=1,
        ),
        Environment(
            "mo-hopper-2obj-v5",
            "MuJoCo Hopper: forward speed against jump height (continuous, 2 obj.)",
            ("forward_speed", "jump_height"), eval_gamma=0.99, eval_episodes=1,
            reference_point=(-100.0, -100.0),
            reference_point_source="C-MORL / PGMORL code for 2-objective MuJoCo (γ 0.99)",
            algorithm_defaults={"policy_delay": 20},  # PD-MORL code, Hopper_MO_TD3_HER
        ),
        Environment(
            "mo-halfcheetah-v5",
            "MuJoCo HalfCheetah: forward speed against control cost (continuous, 2 obj.)",
            ("forward_speed", "energy"), eval_gamma=0.99, eval_episodes=1,
            reference_point=(-100.0, -100.0),
            reference_point_source="C-MORL / PGMORL code for 2-objective MuJoCo (γ 0.99)",
        ),
    ]
}


class MOGymProblem:
    """A built MO-Gymnasium problem: makes environments and knows their true front."""

    def __init__(self, info: ProblemInfo, environment: Environment, config: MOGymConfig):
        self.info = info
        self.environment = environment
        self.config = config

    def make_env(self, render_mode: str | None = None) -> Any:
        import mo_gymnasium

        kwargs: dict[str, Any] = {"render_mode": render_mode, **environment_kwargs(self.config)}
        if self.config.max_episode_steps is not None:
            kwargs["max_episode_steps"] = self.config.max_episode_steps
        return mo_gymnasium.make(self.environment.id, **kwargs)

    def known_front(self, gamma: float) -> Any:
        """The environment's true Pareto front of ``gamma``-discounted returns, or None."""
        return known_front(self.environment.id, gamma, **environment_kwargs(self.config))

    def evaluate(self, x: Any) -> Any:
        raise TypeError(f"{self.info.id} is an environment: it is solved by training "
                        "policies (cmorl, pdmorl), not by evaluating parameter vectors")


def environment_kwargs(config: MOGymConfig) -> dict[str, Any]:
    """The problem parameters that are the environment's own (e.g. fruit-tree's depth)."""
    return config.model_dump(exclude={"max_episode_steps"})


def known_front(env_id: str, gamma: float, **kwargs: Any) -> Any:
    """``env.unwrapped.pareto_front(gamma)`` as an ``n x m`` float array, or None."""
    environment = ENVIRONMENTS.get(env_id)
    if environment is None or not environment.known_front:
        return None
    import mo_gymnasium
    import numpy as np

    env = mo_gymnasium.make(env_id, **kwargs)
    try:
        front = env.unwrapped.pareto_front(gamma=gamma)  # type: ignore[attr-defined]
        return np.asarray(front, dtype=float)
    finally:
        env.close()


@dataclass(frozen=True)
class MOGymDefinition:
    environment: Environment

    @property
    def config(self) -> type[MOGymConfig]:
        return self.environment.config or MOGymConfig

    @property
    def id(self) -> str:
        return self.environment.id

    @property
    def summary(self) -> str:
        return self.environment.summary

    def info(self, config: MOGymConfig) -> ProblemInfo:
        env = self.environment
        return ProblemInfo(
            kind="mo-gymnasium",
            id=env.id,
            objectives=tuple(Objective(name, "maximize") for name in env.objectives),
            reference_point=env.reference_point,
            reference_point_source=env.reference_point_source,
            known_max_hypervolume=(FRUIT_TREE_OPTIMAL[config.depth]
                                   if isinstance(config, FruitTreeConfig)
                                   else env.optimal_hypervolume),
            has_known_front=env.known_front,
            parameter_defaults={"eval_gamma": env.eval_gamma, "eval_episodes": env.eval_episodes,
                                **env.algorithm_defaults},
        )

    def build(self, config: MOGymConfig) -> MOGymProblem:
        return MOGymProblem(self.info(config), self.environment, config)


def catalogue() -> dict[str, MOGymDefinition]:
    return {env_id: MOGymDefinition(env) for env_id, env in ENVIRONMENTS.items()}

