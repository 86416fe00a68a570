"""The true Pareto fronts of the problems that have one, for the API.

A problem says it has one (``ProblemInfo.has_known_front``) and computes it
(``problem.known_front(gamma)``); today these are MO-Gymnasium's deep-sea-treasure
(and its concave variant), fruit-tree and minecart. The problem is found through the
registry from the campaign's stored problem (kind, id and parameters, e.g. fruit-tree's
depth). Asking whether a front exists imports nothing heavy; only computing one imports
the environment library, so the API starts without gymnasium. A front depends on the
problem and the discount alone, so it is computed once per process and
``(problem, gamma)``: minecart's takes 0.7-1.4 s here (MO-Gymnasium searches for it),
the others well under 0.1 s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
from pydantic import ValidationError

from jobs import registry


@dataclass(frozen=True)
class KnownFront:
    points: np.ndarray  # (k, m), raw units, the campaign's objective order; read-only
    gamma: float
    source: str


def has_known_front(problem: dict[str, Any]) -> bool:
    """Whether ``GET /campaigns/{id}/known-front`` answers for a campaign's problem."""
    return _has_known_front(_key(problem))


def known_front(campaign: Any) -> KnownFront | None:
    """The true front of the campaign's problem at its ``eval_gamma``, or None."""
    key = _key(campaign.problem)
    if not _has_known_front(key):
        return None
    definition, config = _definition(key)
    defaults = definition.info(config).parameter_defaults
    gamma = float((campaign.conventions or {}).get("eval_gamma",
                                                   defaults.get("eval_gamma", 1.0)))
    return KnownFront(_computed(key, gamma), gamma, _source(campaign.problem, gamma))


def problems_with_one(kind: str) -> list[str]:
    """The ids of the problems of this kind that have a known front (default parameters)."""
    definitions = registry.problem_kind(kind).definitions().values()
    return [d.id for d in definitions if _has_known_front(_key({"kind": kind, "id": d.id}))]


def _key(problem: dict[str, Any]) -> str:
    """The stored problem as a hashable cache key."""
    return json.dumps(problem, sort_keys=True)


def _definition(key: str) -> tuple[Any, Any]:
    problem = json.loads(key)
    definition = registry.problem_definition(problem["kind"], problem["id"])
    parameters = {name: value for name, value in problem.items() if name not in ("kind", "id")}
    return definition, definition.config.model_validate(parameters)


@lru_cache(maxsize=256)
def _has_known_front(key: str) -> bool:
    try:
        definition, config = _definition(key)
    except (KeyError, registry.UnknownName, ValidationError):
        return False  # a problem since removed from the registry, or an old parameter
    return bool(definition.info(config).has_known_front)


@lru_cache(maxsize=64)
def _computed(key: str, gamma: float) -> np.ndarray:
    definition, config = _definition(key)
    points = np.asarray(definition.build(config).known_front(gamma), dtype=np.float64)
    points.setflags(write=False)  # shared by every request
    return points


def _source(problem: dict[str, Any], gamma: float) -> str:
    parameters = ", ".join(f"{name}={value}" for name, value in problem.items()
                           if name not in ("kind", "id") and value is not None)
    described = f"{problem['id']}{f' ({parameters})' if parameters else ''}"
    if problem["kind"] != "mo-gymnasium":
        return f"{problem['kind']}:{described}, the task's own known front (no discounting)"
    try:
        library = f"MO-Gymnasium {version('mo-gymnasium')}"
    except PackageNotFoundError:
        library = "MO-Gymnasium"
    return f"{library}: {described} env.unwrapped.pareto_front(gamma={gamma})"
