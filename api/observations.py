"""What a model of an ask/tell campaign is fitted on, read back from the store: the
problem as the campaign declared it, and its evaluations (and suggestions) as the
arrays of :class:`jobs.protocol.Observations`."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from jobs import registry
from jobs.protocol import Observations, ProblemInfo


def problem_info(campaign: Any) -> ProblemInfo:
    """The campaign's problem, with the reference point its spec gave, if any."""
    problem = dict(campaign.problem)
    definition = registry.problem_definition(problem.pop("kind"), problem.pop("id"))
    info = definition.info(definition.config.model_validate(problem))
    if campaign.reference_point is not None and campaign.reference_point_source == "user":
        info = replace(info, reference_point=tuple(campaign.reference_point))
    return info


def points(info: ProblemInfo, rows: list[Any]) -> np.ndarray:
    """``n x d``: the decision values of evaluations or suggestions (a choice by its
    index, :meth:`jobs.protocol.Parameter.number`)."""
    parameters = info.parameters
    return np.array([[p.number(row.params[p.name]) for p in parameters]
                     for row in rows]).reshape(-1, len(parameters))


def observations(info: ProblemInfo, evaluated: list[Any], **more: Any) -> Observations:
    """The evaluations as observations, with the standard errors told with them, the
    objectives' and the constraints' (NaN where one was not; None if none was);
    ``more``: the other fields (``pending``…)."""
    m, c = info.n_objectives, info.constraints
    sems = [(e.meta or {}).get("sem") for e in evaluated]
    constraint_sems = [(e.meta or {}).get("constraint_sem") for e in evaluated]
    if info.scalarised:
        more = {**_metrics(info, evaluated), **more}
    return Observations(
        x=points(info, evaluated),
        objectives=np.array([e.objectives for e in evaluated]).reshape(-1, m),
        constraints=(
            np.array([e.constraints for e in evaluated]).reshape(-1, info.constraints)
            if info.constraints else None
        ),
        sem=None if not any(sems) else np.array(
            [[math.nan if v is None else v for v in (sem or [None] * m)] for sem in sems],
            dtype=float).reshape(-1, m),
        constraint_sem=None if not any(constraint_sems) else np.array(
            [[math.nan if v is None else v for v in (sem or [None] * c)]
             for sem in constraint_sems], dtype=float).reshape(-1, c),
        **more,
    )


def _metrics(info: ProblemInfo, evaluated: list[Any]) -> dict[str, Any]:
    """The values told for the constraints of a problem that bounds a sum of them
    (``metrics``, ``n x k``), with their standard errors (``metric_sem``, NaN where one
    was not told; None if none was)."""
    names = info.metric_names
    metas = [e.meta or {} for e in evaluated]
    told = [meta.get("metric_sem") or {} for meta in metas]
    return {
        "metrics": np.array([[meta["metric_values"][name] for name in names] for meta in metas],
                            dtype=float).reshape(-1, len(names)),
        "metric_sem": None if not any(told) else np.array(
            [[sem.get(name, math.nan) for name in names] for sem in told],
            dtype=float).reshape(-1, len(names)),
    }
