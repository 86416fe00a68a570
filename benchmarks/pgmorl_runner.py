"""One MORL-Baselines campaign for ``bench_morl.py``, run with the peer's own Python.

MORL-Baselines (pip ``morl-baselines``) pins packages of its own (wandb, pymoo, cvxpy…),
so it lives in ``benchmarks/.morl-venv`` and this script imports nothing of mofront's.
It trains one of the library's multi-policy algorithms, unchanged, on an MO-Gymnasium
environment for a given number of environment steps (``log=False``: wandb stays off),
and measures **every policy the algorithm evaluates** the way mofront measures its own:

* each time the algorithm evaluates its population (its own evaluation, left as it
  is, since its selection depends on it), every member is evaluated once more here:
  ``episodes`` episodes with deterministic actions, episode ``k`` reset with seed
  ``eval_seed + k``, the return vector discounted by ``eval_gamma`` (and undiscounted
  beside it), the mean over episodes — ``morl/evaluation.py``'s convention;
* the env steps the algorithm had used at that point are written with it, so the
  benchmark draws the same HV-vs-env-steps curve as for mofront's stored rows.

The time spent in these extra evaluations is measured and reported apart
(``measurement_seconds``, ``measurement_cpu_seconds``); ``wall_seconds`` and
``cpu_seconds`` are the algorithm's own (its own evaluations included).

Methods:

``pgmorl``
    PGMORL (Xu et al., ICML 2020), ``morl_baselines.multi_policy.pgmorl.PGMORL``: a
    population of MO-PPO policies (weighted-sum advantages), a warm-up stage with fixed
    weights, then generations of prediction-guided (policy, weight) selection. The
    library asserts a ``Box`` action space: **continuous actions only**. Its PPO trains
    on normalised observations (``NormalizeObservation``, clipped to ±10, in the
    training environments); the deployed policy is that pipeline, so a policy is
    evaluated here with the running statistics of the first training environment at the
    time of the evaluation (frozen), the action the actor's mean (clipped to the action
    box, as ``ClipAction`` does in training). The library's own evaluation feeds raw
    observations and samples actions; its numbers are kept for information only.
    Budget: ``total_timesteps`` is not a cap in the library — it trains
    ``warmup_iterations`` and then whole generations of ``evolutionary_iterations``
    until it has done at least ``total_timesteps // (steps_per_iteration · num_envs ·
    pop_size)`` iterations; so we pick them to land exactly on the budget (see
    :func:`pgmorl_schedule`), keeping the library's PPO settings.
``morld``
    MORL/D (Felten, Talbi & Danoy, JAIR 2024),
    ``morl_baselines.multi_policy.morld.MORLD`` with its discrete soft actor-critic
    (``MOSACDiscrete``): a population of weighted-sum policies trained one at a time,
    in turns of ``exchange_every`` steps (the divisor of the budget closest to the
    library's default 40,000, so that whole turns spend exactly the budget), the whole population evaluated after each
    turn — the decomposition framework PGMORL is an instance of, and the library's
    nearest policy-based multi-policy method that runs on discrete actions. A policy is evaluated by the arg-max of its actor's logits on raw
    observations (MORL/D does not normalise them).

    .morl-venv/bin/python benchmarks/pgmorl_runner.py --method pgmorl \\
        --env mo-hopper-2obj-v5 --seed 0 --budget 589824 --eval-gamma 0.99 \\
        --episodes 1 --reference-point=-100,-100 --out /tmp/pgmorl.json

Output JSON: versions, the algorithm's settings as run, ``evaluations`` (one per
measured policy: ``env_steps``, ``objectives`` (discounted), ``undiscounted``,
``round``, ``member``), ``env_steps`` (what the algorithm used in all), the library's own
final archive, and timings.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from copy import deepcopy
from importlib import metadata
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("WANDB_MODE", "disabled")  # belt and braces: log=False is passed too

import gymnasium as gym
import mo_gymnasium as mo_gym
import numpy as np
import torch

PGMORL_POP_SIZE = 6  # the library's defaults, kept
PGMORL_NUM_ENVS = 4
PGMORL_STEPS_PER_ITERATION = 2048
PGMORL_WARMUP_SHARE = 0.4  # share of the iterations spent warming up (library: 80 of 80 + 20k)
PGMORL_GENERATIONS = 3  # at least this many evolutionary generations when the budget allows
MORLD_EXCHANGE_EVERY = 40_000  # the library's default turn length, in env steps


# --------------------------------------------------------------------- measurement


class Measurement:
    """Evaluates policies under the benchmark's convention and keeps what it measured."""

    def __init__(self, env_id: str, gamma: float, episodes: int, seed: int):
        self.env_id = env_id
        self.gamma = gamma
        self.episodes = episodes
        self.seed = seed
        self.rows: list[dict[str, Any]] = []
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.rounds = 0

    def returns(self, act: Any, env: gym.Env) -> tuple[np.ndarray, np.ndarray, list[int]]:
        discounted, undiscounted, lengths = [], [], []
        width = env.unwrapped.reward_space.shape[0]  # type: ignore[attr-defined]
        for episode in range(self.episodes):
            obs, _ = env.reset(seed=self.seed + episode)
            total_discounted, total = np.zeros(width), np.zeros(width)
            discount, length, done = 1.0, 0, False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(act(obs))
                reward = np.asarray(reward, dtype=np.float64)
                total += reward
                total_discounted += discount * reward
                discount *= self.gamma
                length += 1
                done = bool(terminated or truncated)
            discounted.append(total_discounted)
            undiscounted.append(total)
            lengths.append(length)
        return np.mean(discounted, axis=0), np.mean(undiscounted, axis=0), lengths

    def record_round(self, env_steps: int, members: list[tuple[Any, gym.Env]],
                     weights: list[Any]) -> None:
        """Evaluate each (act, env) of a population evaluation at ``env_steps``."""
        started, cpu_started = time.perf_counter(), time.process_time()
        for index, ((act, env), weight) in enumerate(zip(members, weights, strict=True)):
            discounted, undiscounted, lengths = self.returns(act, env)
            env.close()
            self.rows.append({
                "env_steps": int(env_steps), "round": self.rounds, "member": index,
                "weights": [float(v) for v in np.asarray(weight).ravel()],
                "objectives": [float(v) for v in discounted],
                "undiscounted": [float(v) for v in undiscounted],
                "episode_length": float(np.mean(lengths)),
            })
        self.rounds += 1
        self.seconds += time.perf_counter() - started
        self.cpu_seconds += time.process_time() - cpu_started


# --------------------------------------------------------------------------- PGMORL


def pgmorl_schedule(budget: int) -> dict[str, int]:
    """Warm-up and generation lengths (in iterations) that spend exactly the budget.

    One iteration trains each of the ``pop_size`` policies on ``steps_per_iteration ·
    num_envs`` steps. The library runs ``warmup_iterations``, then whole generations of
    ``evolutionary_iterations``; we take ``n = budget // iteration_steps`` iterations,
    about 40% of them as warm-up (C-MORL's init share, where the library's default
    is 80 of a much larger total), and split the rest into up to 3 generations of equal
    length (the warm-up absorbs the remainder).
    """
    iteration_steps = PGMORL_POP_SIZE * PGMORL_NUM_ENVS * PGMORL_STEPS_PER_ITERATION
    n = budget // iteration_steps
    if n < 2:
        raise ValueError(f"PGMORL needs at least 2 iterations of {iteration_steps} env steps "
                         f"(one warm-up, one evolutionary); budget {budget} allows {n}")
    evolution = max(1, n - max(1, round(PGMORL_WARMUP_SHARE * n)))
    generations = min(PGMORL_GENERATIONS, evolution)
    per_generation = evolution // generations
    warmup = n - generations * per_generation
    return {"iterations": n, "warmup_iterations": warmup,
            "evolutionary_iterations": per_generation, "generations": generations,
            "iteration_steps": iteration_steps, "env_steps": n * iteration_steps}


def _normaliser(vector_env: Any) -> Any:
    """The ``NormalizeObservation`` wrapper of the first training environment."""
    env = vector_env.envs[0]
    while not isinstance(env, gym.wrappers.NormalizeObservation):
        env = env.env
    return env


def run_pgmorl(args: argparse.Namespace, measurement: Measurement) -> dict[str, Any]:
    from morl_baselines.multi_policy.pgmorl.pgmorl import PGMORL

    schedule = pgmorl_schedule(args.budget)
    env_id = args.env

    def deployed(agent: Any, statistics: Any) -> tuple[Any, gym.Env]:
        """The policy as trained: normalised, clipped observations; the actor's mean."""
        normalised = gym.wrappers.NormalizeObservation(mo_gym.make(env_id))
        normalised.obs_rms = deepcopy(statistics)
        normalised.update_running_mean = False
        env: gym.Env = gym.wrappers.TransformObservation(
            normalised, lambda obs: np.clip(obs, -10, 10), normalised.observation_space)
        env = gym.wrappers.ClipAction(env)
        actor = deepcopy(agent.networks.actor_mean)

        def act(obs: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                mean = actor(torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0))
            return mean[0].numpy()

        return act, env

    class MeasuredPGMORL(PGMORL):  # type: ignore[misc]
        def _PGMORL__eval_all_agents(self, *a: Any, **k: Any) -> None:
            super()._PGMORL__eval_all_agents(*a, **k)  # the library's own, unchanged
            statistics = _normaliser(self.env).obs_rms
            measurement.record_round(
                self.global_step, [deployed(agent, statistics) for agent in self.agents],
                [agent.np_weights for agent in self.agents])

    settings = {
        "env_id": env_id, "origin": [float(v) for v in args.reference_point],
        "num_envs": PGMORL_NUM_ENVS, "pop_size": PGMORL_POP_SIZE,
        "steps_per_iteration": PGMORL_STEPS_PER_ITERATION,
        "warmup_iterations": schedule["warmup_iterations"],
        "evolutionary_iterations": schedule["evolutionary_iterations"],
        "log": False, "seed": args.seed, "device": "cpu",
    }
    agent = MeasuredPGMORL(**{**settings, "origin": np.asarray(settings["origin"])})
    eval_env = mo_gym.make(env_id)
    agent.train(total_timesteps=schedule["env_steps"], eval_env=eval_env,
                ref_point=np.asarray(args.reference_point, dtype=float))
    return {
        "settings": {**settings, "gamma": agent.gamma, "schedule": schedule,
                     "library_defaults_kept": "PPO: lr 3e-4, 10 epochs, 32 minibatches, "
                     "clip 0.2, GAE 0.95, γ 0.995, net [64, 64]; EA: 7 weight candidates, "
                     "delta_weight 0.2, sparsity_coef -1"},
        "env_steps": int(agent.global_step),
        "library_archive": [[float(v) for v in e] for e in agent.archive.evaluations],
        "library_archive_convention": "the library's own: stochastic actions, raw "
                                      "observations, discounted by the training γ",
    }


# --------------------------------------------------------------------------- MORL/D


def run_morld(args: argparse.Namespace, measurement: Measurement) -> dict[str, Any]:
    from morl_baselines.multi_policy.morld.morld import MORLD

    env_id = args.env
    env = mo_gym.make(env_id)
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise TypeError(f"morld is run here with its discrete SAC; {env_id} is continuous")
    pop_size = 6
    # Policies train one at a time, in turns of exchange_every steps (the library's
    # default is 40,000): we take the turn length closest to it that divides the
    # budget, so the run spends exactly the budget.
    turns = min((t for t in range(1, args.budget + 1) if args.budget % t == 0),
                key=lambda t: abs(args.budget / t - MORLD_EXCHANGE_EVERY))
    exchange_every = args.budget // turns
    def deployed(policy: Any) -> tuple[Any, gym.Env]:
        actor = deepcopy(policy.wrapped.actor)

        def act(obs: np.ndarray) -> int:
            with torch.no_grad():
                logits = actor(torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0))
            return int(torch.argmax(logits[0]).item())

        return act, mo_gym.make(env_id)

    class MeasuredMORLD(MORLD):  # type: ignore[misc]
        def _MORLD__eval_all_policies(self, *a: Any, **k: Any) -> Any:
            evals = super()._MORLD__eval_all_policies(*a, **k)
            measurement.record_round(self.global_step,
                                     [deployed(policy) for policy in self.population],
                                     [policy.weights for policy in self.population])
            return evals

    settings = {
        "policy_name": "MOSACDiscrete", "pop_size": pop_size,
        "exchange_every": exchange_every, "seed": args.seed, "log": False, "device": "cpu",
        "scalarization_method": "ws",
    }
    agent = MeasuredMORLD(env=env, **settings)
    eval_env = mo_gym.make(env_id)
    agent.train(total_timesteps=exchange_every * turns,
                eval_env=eval_env, ref_point=np.asarray(args.reference_point, dtype=float),
                num_eval_episodes_for_front=1, checkpoints=False)
    return {
        "settings": {**settings, "gamma": agent.gamma, "turns": turns,
                     "num_eval_episodes_for_front": 1,
                     "library_defaults_kept": "MOSACDiscrete: net [256, 256], batch 128, "
                     "lr 3e-4, learning_starts 20000, update_frequency 4, target every 2000, "
                     "autotuned α; MORL/D: uniform weights, neighbourhood 1, no sharing, "
                     "no weight adaptation"},
        "env_steps": int(agent.global_step),
        "library_archive": [[float(v) for v in e] for e in agent.archive.evaluations],
        "library_archive_convention": "the library's own: sampled actions, discounted by "
                                      "the training γ",
    }


METHODS = {"pgmorl": run_pgmorl, "morld": run_morld}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", choices=sorted(METHODS), required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, required=True, help="env steps")
    parser.add_argument("--eval-gamma", type=float, required=True)
    parser.add_argument("--episodes", type=int, required=True)
    parser.add_argument("--reference-point", required=True,
                        type=lambda text: [float(v) for v in text.split(",")])
    parser.add_argument("--schedule-only", action="store_true",
                        help="print PGMORL's schedule for --budget and exit")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.schedule_only:
        print(json.dumps(pgmorl_schedule(args.budget)))
        return

    torch.set_num_threads(1)
    measurement = Measurement(args.env, args.eval_gamma, args.episodes, seed=10_000 + args.seed)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = METHODS[args.method](args, measurement)
    total = time.perf_counter() - started
    versions = {name: metadata.version(name)
                for name in ("morl-baselines", "mo-gymnasium", "gymnasium", "torch", "numpy")}
    report = {
        "method": args.method, "env": args.env, "seed": args.seed, "budget": args.budget,
        "eval_gamma": args.eval_gamma, "eval_episodes": args.episodes,
        "reference_point": args.reference_point, "versions": versions,
        "torch_threads": torch.get_num_threads(),
        **result,
        "evaluations": measurement.rows,
        "measurement_seconds": measurement.seconds,
        "measurement_cpu_seconds": measurement.cpu_seconds,
        "wall_seconds": total - measurement.seconds,
        "total_seconds": total,
        "cpu_seconds": time.process_time() - cpu_started - measurement.cpu_seconds,
    }
    if any(not all(math.isfinite(v) for v in row["objectives"]) for row in measurement.rows):
        raise RuntimeError("a measured return vector is not finite")
    with open(args.out, "w") as handle:
        json.dump(report, handle)


if __name__ == "__main__":
    main()
