"""One MORL-Baselines campaign of a preference-conditioned method, for ``bench_morl.py
--suite pdmorl``, run with the peer's own Python (``benchmarks/.morl-venv``).

PD-MORL learns one network that serves every preference; its peers here do too, so
each is measured the same way as mofront's ``pdmorl``: every ``eval_every`` env steps
(and once at the end) the agent's greedy policy is evaluated at **each preference of
the grid the benchmark passes in** (the grid ``morl.pdmorl`` evaluates), ``episodes``
deterministic episodes each, episode ``k`` reset with seed ``eval_seed + k``, the return
vector discounted by ``eval_gamma`` (``pgmorl_runner.Measurement``). The time spent
measuring is reported apart; the algorithm's own loop is left unchanged (``log=False``:
wandb stays off, and the library's own evaluations run only when logging is on).

Methods:

``envelope``
    Envelope Q-learning (Yang, Sun & Narasimhan, NeurIPS 2019),
    ``morl_baselines.multi_policy.envelope.Envelope``: one Q-network conditioned on
    (s, ω) with vector outputs, like PD-MORL's MO-DDQN. **Discrete actions only.**
    Settings of the library's Envelope example (minecart): batch 64, net 4 × 256,
    lr 3e-4, gradient-norm clip 0.1, hard target update every 1,000 steps, PER, homotopy
    λ 0 → 1 over 10,000 steps; ε 1 → 0.05 over three quarters of the budget (PD-MORL's
    schedule here); training γ the environment's eval γ.
``gpils``
    GPI-LS (Alegre et al., AAMAS 2023; GPI-PD without its learned model):
    ``morl_baselines.multi_policy.gpi_pd.GPILS`` on discrete actions (settings of the
    library's GPI-LS example: 2 nets of 4 × 256, batch 128, lr 3e-4, PER, hard target
    update every 200 steps, ``gradient_updates`` per step, ε 1 → 0.05 over three
    quarters of the budget), ``GPILSContinuousAction`` on continuous ones (library
    defaults: TD3-style actor and twin critics of 2 × 256, ``gradient_updates`` per
    step). Trains in
    iterations of ``timesteps_per_iter`` steps at the corner weight its linear support
    picks; measured with its GPI policy (discrete) / its actor (continuous), as the
    library evaluates it. It may stop before the budget when the linear support has no
    corner weight left; ``env_steps`` says what it used.
``capql``
    CAPQL (Lu, Herman & Yu, ICLR 2023), ``morl_baselines.multi_policy.capql.CAPQL``:
    one preference-conditioned SAC (actor and twin vector critics take ω), the
    library's closest peer to Envelope on continuous actions — **the substitute for
    Envelope** on MuJoCo. Library defaults; measured with the actor's mean.

    .morl-venv/bin/python benchmarks/pdmorl_peers_runner.py --method envelope \\
        --env deep-sea-treasure-v0 --seed 0 --budget 100000 --eval-every 5000 \\
        --eval-gamma 0.99 --episodes 1 --reference-point=0,-25 \\
        --preferences /tmp/prefs.json --out /tmp/envelope.json

Output JSON as ``pgmorl_runner.py``'s: versions, settings, ``evaluations`` (one per
(round, preference): ``env_steps``, ``objectives`` (discounted), ``undiscounted``,
``weights``), ``env_steps``, timings.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from importlib import metadata
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("WANDB_MODE", "disabled")  # belt and braces: log=False is passed too

import gymnasium as gym
import mo_gymnasium as mo_gym
import numpy as np
import torch
from pgmorl_runner import Measurement

EPSILON_END = 0.05
GPILS_TIMESTEPS_PER_ITER = 10_000  # the library's default iteration length


class Schedule:
    """Measures the agent at every ``every`` env steps, from inside its own update."""

    def __init__(self, args: argparse.Namespace, measurement: Measurement, preferences: np.ndarray):
        self.args = args
        self.measurement = measurement
        self.preferences = preferences
        self.every = args.eval_every
        self.next_due = args.eval_every
        self.last_measured = -1

    def make_env(self) -> gym.Env:
        return mo_gym.make(self.args.env, **self.args.env_kwargs)

    def due(self, agent: Any) -> None:
        if agent.global_step >= self.next_due:
            self.measure(agent)
            while self.next_due <= agent.global_step:
                self.next_due += self.every

    def measure(self, agent: Any) -> None:
        if agent.global_step == self.last_measured:
            return
        self.last_measured = agent.global_step

        def greedy(w: np.ndarray) -> Any:
            def act(obs: np.ndarray) -> Any:
                with torch.no_grad():
                    action = agent.eval(np.asarray(obs, dtype=np.float32), w.astype(np.float32))
                return action

            return act

        members = [(greedy(w), self.make_env()) for w in self.preferences]
        self.measurement.record_round(agent.global_step, members, list(self.preferences))


def measured(base: type, schedule: Schedule) -> type:
    """``base`` with a measurement after each of its updates (its loop unchanged)."""

    class Measured(base):  # type: ignore[misc,valid-type]
        def update(self, *args: Any, **kwargs: Any) -> Any:
            result = super().update(*args, **kwargs)
            schedule.due(self)
            return result

    return Measured


def run_envelope(args: argparse.Namespace, schedule: Schedule) -> dict[str, Any]:
    from morl_baselines.multi_policy.envelope.envelope import Envelope

    env = schedule.make_env()
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise TypeError(
            f"MORL-Baselines' Envelope is discrete-only; {args.env} is continuous "
            "(the suite runs capql there)"
        )
    settings = {
        "learning_rate": 3e-4,
        "gamma": args.eval_gamma,
        "batch_size": 64,
        "net_arch": [256, 256, 256, 256],
        "buffer_size": int(2e6),
        "max_grad_norm": 0.1,
        "initial_epsilon": 1.0,
        "final_epsilon": EPSILON_END,
        "epsilon_decay_steps": max(1, 3 * args.budget // 4),
        "initial_homotopy_lambda": 0.0,
        "final_homotopy_lambda": 1.0,
        "homotopy_decay_steps": 10_000,
        "learning_starts": 100,
        "envelope": True,
        "gradient_updates": 1,
        "target_net_update_freq": 1000,
        "tau": 1.0,
        "log": False,
        "seed": args.seed,
        "device": "cpu",
    }
    agent = measured(Envelope, schedule)(env, **settings)
    agent.train(
        total_timesteps=args.budget,
        eval_env=schedule.make_env(),
        ref_point=np.asarray(args.reference_point, dtype=float),
    )
    schedule.measure(agent)
    return {
        "settings": {
            **settings,
            "library_defaults_kept": "PER α 0.6, 4 sampled weights "
            "per update (num_sample_w), a new random weight each episode",
        },
        "env_steps": int(agent.global_step),
    }


def run_gpils(args: argparse.Namespace, schedule: Schedule) -> dict[str, Any]:
    env = schedule.make_env()
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    iteration = (
        GPILS_TIMESTEPS_PER_ITER
        if args.budget >= 4 * GPILS_TIMESTEPS_PER_ITER
        else max(1, args.budget // 4)
    )
    settings: dict[str, Any]
    if discrete:
        from morl_baselines.multi_policy.gpi_pd.gpi_pd import GPILS as Agent

        settings = {
            "num_nets": 2,
            "max_grad_norm": None,
            "learning_rate": 3e-4,
            "gamma": args.eval_gamma,
            "batch_size": 128,
            "net_arch": [256, 256, 256, 256],
            "buffer_size": int(2e5),
            "initial_epsilon": 1.0,
            "final_epsilon": EPSILON_END,
            "epsilon_decay_steps": max(1, 3 * args.budget // 4),
            "learning_starts": 100,
            "alpha_per": 0.6,
            "min_priority": 0.01,
            "per": True,
            "use_gpi": True,
            "gradient_updates": args.gradient_updates,
            "target_net_update_freq": 200,
            "tau": 1.0,
        }
    else:
        from morl_baselines.multi_policy.gpi_pd.gpi_pd_continuous_action import (
            GPILSContinuousAction as Agent,
        )

        settings = {"gamma": args.eval_gamma, "gradient_updates": args.gradient_updates}
    settings.update({"log": False, "seed": args.seed, "device": "cpu"})
    agent = measured(Agent, schedule)(env, **settings)
    agent.train(
        total_timesteps=args.budget,
        eval_env=schedule.make_env(),
        ref_point=np.asarray(args.reference_point, dtype=float),
        num_eval_episodes_for_front=args.episodes,
        timesteps_per_iter=iteration,
        weight_selection_algo="gpi-ls",
        checkpoints=False,
    )
    schedule.measure(agent)
    return {
        "settings": {
            **settings,
            "timesteps_per_iter": iteration,
            "weight_selection_algo": "gpi-ls",
            "library_defaults_kept": "the rest of GPILS"
            + ("" if discrete else "ContinuousAction")
            + "'s defaults",
        },
        "env_steps": int(agent.global_step),
    }


def run_capql(args: argparse.Namespace, schedule: Schedule) -> dict[str, Any]:
    from morl_baselines.multi_policy.capql.capql import CAPQL

    env = schedule.make_env()
    if isinstance(env.action_space, gym.spaces.Discrete):
        raise TypeError(f"CAPQL is continuous-only; {args.env} is discrete (run envelope)")
    settings = {"gamma": args.eval_gamma, "log": False, "seed": args.seed, "device": "cpu"}
    agent = measured(CAPQL, schedule)(env, **settings)
    agent.train(
        total_timesteps=args.budget,
        eval_env=schedule.make_env(),
        ref_point=np.asarray(args.reference_point, dtype=float),
        num_eval_episodes_for_front=args.episodes,
        checkpoints=False,
    )
    schedule.measure(agent)
    return {
        "settings": {
            **settings,
            "library_defaults_kept": "SAC: net 2 × 256, batch 128, "
            "lr 3e-4, τ 0.005, α 0.2, learning_starts 1000, 1 update per step",
        },
        "env_steps": int(agent.global_step),
    }


METHODS = {"envelope": run_envelope, "gpils": run_gpils, "capql": run_capql}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", choices=sorted(METHODS), required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument(
        "--env-kwargs", type=json.loads, default={}, help='JSON, e.g. {"depth": 5} for fruit-tree'
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, required=True, help="env steps")
    parser.add_argument("--eval-every", type=int, required=True, help="env steps")
    parser.add_argument("--eval-gamma", type=float, required=True)
    parser.add_argument("--episodes", type=int, required=True)
    parser.add_argument(
        "--reference-point", required=True, type=lambda text: [float(v) for v in text.split(",")]
    )
    parser.add_argument(
        "--preferences", required=True, help="JSON file: the preference grid every round evaluates"
    )
    parser.add_argument(
        "--gradient-updates",
        type=int,
        default=20,
        help="GPI-LS gradient steps per env step (library default 20)",
    )
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    torch.set_num_threads(1)
    with open(args.preferences) as handle:
        preferences = np.asarray(json.load(handle), dtype=np.float64)
    measurement = Measurement(args.env, args.eval_gamma, args.episodes, seed=10_000 + args.seed)
    schedule = Schedule(args, measurement, preferences)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = METHODS[args.method](args, schedule)
    total = time.perf_counter() - started
    versions = {
        name: metadata.version(name)
        for name in ("morl-baselines", "mo-gymnasium", "gymnasium", "torch", "numpy")
    }
    report = {
        "method": args.method,
        "env": args.env,
        "env_kwargs": args.env_kwargs,
        "seed": args.seed,
        "budget": args.budget,
        "eval_gamma": args.eval_gamma,
        "eval_episodes": args.episodes,
        "reference_point": args.reference_point,
        "preferences": len(preferences),
        "versions": versions,
        "torch_threads": torch.get_num_threads(),
        **result,
        "library_archive": [],
        "library_archive_convention": "not kept (log=False)",
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
