"""Multi-objective reinforcement learning: C-MORL, PD-MORL, MOGFN and the RL building
blocks they share (PPO pieces, MO-Gymnasium problems, policy evaluation and storage).

``morl`` imports ``pareto`` and ``jobs.protocol`` only, never ``storage`` or ``api``:
algorithms do not know there is a database. ``morl.problems``, ``morl.config``,
``morl.gfn_tasks`` and ``morl.gfn_config`` are light (no torch, no gymnasium) because
the API reads them; ``load_policy`` is imported on first use for the same reason.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "load_policy":
        from morl.policy import load_policy

        return load_policy
    raise AttributeError(f"module 'morl' has no attribute {name!r}")
