"""The algorithms and problems mofront knows, by import path, loaded lazily.

Nothing here imports an algorithm module until it is asked for, so the API can list
the registry and validate specs without importing torch: each algorithm's ``config``
(a pydantic model of its parameters) lives in a module that is light to import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel, ValidationError

from jobs.protocol import ProblemDefinition


class UnknownName(LookupError):
    """An algorithm, problem kind or problem id that is not registered."""

    def __init__(self, what: str, name: str, known: list[str]):
        self.what, self.name, self.known = what, name, known
        super().__init__(f"unknown {what} {name!r}; known: {', '.join(sorted(known))}")


@dataclass(frozen=True)
class AlgorithmEntry:
    name: str
    summary: str
    run: str  # "module:function" implementing jobs.protocol.Algorithm
    config: str  # "module:Model", a pydantic model of the parameters (extra="forbid")
    problem_kinds: tuple[str, ...]
    budget_units: tuple[str, ...]
    suggest: str | None = None  # "module:function" implementing jobs.protocol.Suggest

    def load(self) -> Callable[..., None]:
        return _load(self.run)

    def load_suggest(self) -> Callable[..., Any]:
        if self.suggest is None:
            raise UnknownName("ask/tell algorithm", self.name, _ask_tell_algorithms())
        return _load(self.suggest)

    def config_model(self) -> type[BaseModel]:
        return _load(self.config)


@dataclass(frozen=True)
class ProblemKind:
    kind: str
    summary: str
    catalogue: str  # "module:function" returning dict[id, ProblemDefinition]

    def definitions(self) -> dict[str, ProblemDefinition]:
        return _load(self.catalogue)()


ALGORITHMS: dict[str, AlgorithmEntry] = {
    entry.name: entry
    for entry in [
        AlgorithmEntry(
            name="sobol",
            summary="Scrambled Sobol quasi-random search (the random baseline)",
            run="bayesopt.sobol:run",
            config="bayesopt.sobol:SobolConfig",
            problem_kinds=("test-function", "external"),
            budget_units=("evaluations",),
            suggest="bayesopt.sobol:suggest",
        ),
        AlgorithmEntry(
            name="qlognehvi",
            summary="q-Log Noisy Expected Hypervolume Improvement, BoTorch "
            "(Daulton et al., 2021; Ament et al., 2023)",
            run="bayesopt.bo:run_qlognehvi",
            config="bayesopt.config:QLogNEHVIConfig",
            problem_kinds=("test-function", "external"),
            budget_units=("evaluations",),
            suggest="bayesopt.bo:suggest_qlognehvi",
        ),
        AlgorithmEntry(
            name="qnparego",
            summary="q-NParEGO, random augmented Chebyshev scalarisations with log-EI, BoTorch "
            "(Knowles, 2006; Daulton et al., 2020)",
            run="bayesopt.bo:run_qnparego",
            config="bayesopt.config:QNParEGOConfig",
            problem_kinds=("test-function", "external"),
            budget_units=("evaluations",),
            suggest="bayesopt.bo:suggest_qnparego",
        ),
        AlgorithmEntry(
            name="nsga2",
            summary="NSGA-II, the evolutionary baseline, via pymoo (Deb et al., 2002)",
            run="bayesopt.nsga2:run",
            config="bayesopt.config:NSGA2Config",
            problem_kinds=("test-function",),
            budget_units=("evaluations",),
        ),
        AlgorithmEntry(
            name="cmorl",
            summary="C-MORL: Pareto initialisation by PPO, then constrained policy "
            "extension by an interior-point method (Liu et al., ICLR 2025)",
            run="morl.cmorl:run",
            config="morl.config:CMORLConfig",
            problem_kinds=("mo-gymnasium",),
            budget_units=("env_steps",),
        ),
        AlgorithmEntry(
            name="pdmorl",
            summary="PD-MORL: one preference-conditioned network (MO-DDQN / MO-TD3) with "
            "preference guidance and relabelling (Basaklar et al., ICLR 2023)",
            run="morl.pdmorl:run",
            config="morl.config:PDMORLConfig",
            problem_kinds=("mo-gymnasium",),
            budget_units=("env_steps",),
        ),
        AlgorithmEntry(
            name="mogfn",
            summary="MOGFN-PC: one preference-conditioned GFlowNet trained by trajectory "
            "balance (Jain et al., ICML 2023)",
            run="morl.mogfn:run",
            config="morl.gfn_config:MOGFNConfig",
            problem_kinds=("gfn-task",),
            budget_units=("evaluations",),
        ),
        AlgorithmEntry(
            name="mogfn-al",
            summary="MOGFN-AL: active learning for expensive objectives, a GFlowNet trained "
            "on the qLogNEHVI of a GP surrogate proposing each batch (Jain et al., ICML 2023)",
            run="bayesopt.mogfn_al:run",
            config="morl.gfn_config:MOGFNALConfig",
            problem_kinds=("gfn-task",),
            budget_units=("evaluations",),
        ),
    ]
}

PROBLEM_KINDS: dict[str, ProblemKind] = {
    entry.kind: entry
    for entry in [
        ProblemKind(
            kind="test-function",
            summary="Synthetic multi-objective test functions (BoTorch's implementations)",
            catalogue="bayesopt.problems:catalogue",
        ),
        ProblemKind(
            kind="external",
            summary="A black box you evaluate yourself, through ask/tell",
            catalogue="bayesopt.external:catalogue",
        ),
        ProblemKind(
            kind="mo-gymnasium",
            summary="Multi-objective RL environments of MO-Gymnasium (vector rewards)",
            catalogue="morl.problems:catalogue",
        ),
        ProblemKind(
            kind="gfn-task",
            summary="Discrete generation tasks for GFlowNets: HyperGrid, N-grams, or your own",
            catalogue="morl.gfn_tasks:catalogue",
        ),
    ]
}


# What the API asks of the BO methods' surrogate (their GPs fitted to a campaign's
# measurements), loaded on first use so that the API starts without torch.
SURROGATE_VIEWS = {
    # posterior means at the measurements: the model-predicted front (GET .../front?denoised=true)
    "denoised": "bayesopt.bo:denoised_objectives",
    # ...and of the constraint slacks, to judge that front's feasibility by
    "denoised-slacks": "bayesopt.bo:denoised_slacks",
    # its variance split over the parameters, Sobol indices (GET .../importance)
    "importance": "bayesopt.sensitivity:parameter_importance",
    # leave-one-out cross-validation (GET .../model-fit)
    "model-fit": "bayesopt.diagnostics:model_fit",
    # along one parameter through one evaluation (GET .../model-slice)
    "model-slice": "bayesopt.diagnostics:model_slice",
    # over two parameters (GET .../model-contour)
    "model-contour": "bayesopt.diagnostics:model_contour",
}


def surrogate(view: str) -> Callable[..., Any]:
    """The function behind one of :data:`SURROGATE_VIEWS`."""
    return cast(Callable[..., Any], _load(SURROGATE_VIEWS[view]))


def algorithm(name: str) -> AlgorithmEntry:
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise UnknownName("algorithm", name, list(ALGORITHMS)) from None


def problem_kind(kind: str) -> ProblemKind:
    try:
        return PROBLEM_KINDS[kind]
    except KeyError:
        raise UnknownName("problem kind", kind, list(PROBLEM_KINDS)) from None


def problem_definition(kind: str, problem_id: str) -> ProblemDefinition:
    definitions = problem_kind(kind).definitions()
    try:
        return definitions[problem_id]
    except KeyError:
        raise UnknownName(f"{kind} problem", problem_id, list(definitions)) from None


def _ask_tell_algorithms() -> list[str]:
    return [entry.name for entry in ALGORITHMS.values() if entry.suggest is not None]


def describe() -> dict[str, Any]:
    """The registry as JSON: what ``GET /api/v1/registry`` serves to forms and clients."""
    algorithms = [
        {
            "name": entry.name,
            "summary": entry.summary,
            "problem_kinds": list(entry.problem_kinds),
            "budget_units": list(entry.budget_units),
            "ask_tell": entry.suggest is not None,
            "params_schema": entry.config_model().model_json_schema(),
        }
        for entry in ALGORITHMS.values()
    ]
    problems = []
    for kind in PROBLEM_KINDS.values():
        for definition in kind.definitions().values():
            problems.append({
                "kind": kind.kind,
                "id": definition.id,
                "summary": definition.summary,
                "params_schema": definition.config.model_json_schema(),
                **_default_objectives(definition),
            })
    return {"algorithms": algorithms, "problems": problems}


def _default_objectives(definition: ProblemDefinition) -> dict[str, Any]:
    """Objectives and reference point with default parameters; none for a problem whose
    objectives the user declares (an external problem)."""
    try:
        info = definition.info(definition.config())
    except ValidationError:
        return {"objectives": None, "reference_point": None}
    return {
        "objectives": [{"name": o.name, "sense": o.sense} for o in info.objectives],
        "reference_point": list(info.reference_point) if info.reference_point else None,
    }


def _load(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)
