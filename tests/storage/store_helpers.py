"""Plain helpers shared by the store tests (imported by name, like
``tests/pareto/pareto_brute_force.py``): campaign fields and a brute-force front."""

from __future__ import annotations

from typing import Any

import numpy as np


def campaign_fields(**overrides: Any) -> dict[str, Any]:
    senses = overrides.pop("senses", ["maximize", "maximize"])
    fields: dict[str, Any] = {
        "name": "test-campaign",
        "algorithm": "sobol",
        "problem": {"kind": "test-function", "id": "branin-currin"},
        "spec": {"algorithm": "sobol"},
        "objective_names": [f"f{index}" for index in range(len(senses))],
        "objective_senses": senses,
        "seed": 0,
        "budget": 1000.0,
        "budget_unit": "evaluations",
        "code_version": "test",
    }
    fields.update(overrides)
    return fields


def brute_force_front_mask(points: np.ndarray) -> np.ndarray:
    """Reference non-dominated mask (maximisation, weak: duplicates kept), O(n^2)."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) == 0:
        return np.zeros(0, dtype=bool)
    at_least = np.all(points[:, None, :] >= points[None, :, :], axis=2)  # [i, j]: i >= j
    better = np.any(points[:, None, :] > points[None, :, :], axis=2)  # [i, j]: i > j somewhere
    dominated = np.any(at_least & better, axis=0)  # j dominated by some i
    return ~dominated
