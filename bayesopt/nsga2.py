"""``nsga2``: NSGA-II, the evolutionary baseline, run by pymoo through its ask/tell interface.

NSGA-II (Deb et al. 2002) keeps a population of ``pop_size`` designs. Each generation
it breeds ``n_offsprings`` children — binary tournaments on (non-domination rank,
crowding distance), simulated binary crossover (SBX, Deb & Agrawal 1995) and polynomial
mutation — evaluates them, and keeps the best ``pop_size`` of parents and children:
whole fronts by non-dominated sorting, the last front cut by crowding distance so the
survivors spread along it. Constraints use Deb's (2000) constrained domination: a
feasible design beats an infeasible one, two infeasible ones compare by total violation.

The algorithm is pymoo's ``NSGA2`` with pymoo's own defaults (random initial
population, SBX eta 15 with probability 0.9, polynomial mutation eta 20, duplicate
elimination); only ``pop_size`` defaults to 20 (pymoo: 100), so that 100 evaluations
are five generations. pymoo minimises and wants constraints as ``G(x) <= 0``, so the
wrapper hands it ``F = -y`` for maximised objectives (``to_maximization`` then negate)
and ``G = -g`` for our slacks ``g(x) >= 0``. pymoo never evaluates anything itself: the
loop asks it for a generation, evaluates it with ``problem.evaluate`` (and
``problem.constraint_slacks``, through :func:`bayesopt.problems.measure`, noisy where the
problem is), records every individual with ``meta``
``{"generation": g, "batch_index": j}`` (``g`` is pymoo's ``n_gen``: 1 for the initial
population), and tells the results back.

Budget: the campaign stops at exactly ``recorder.budget`` evaluations. When the budget
ends inside a generation, only the first individuals of that generation that fit are
evaluated and recorded; that partial generation is never told to pymoo (its survival
step would need the whole generation), so it takes no part in selection — it is simply
the last evaluations of the campaign.

Resume: after each recorded generation the campaign checkpoints the pickled pymoo
algorithm, whose state includes its ``numpy.random.Generator`` (pymoo >= 0.6.2 draws
all its randomness from ``algorithm.random_state``, seeded by ``setup(seed=...)``). A
resumed campaign unpickles it and asks again, so it breeds exactly the generations an
uninterrupted one would. The pickle is tied to the pymoo version that wrote it.

References:
    K. Deb, A. Pratap, S. Agarwal, T. Meyarivan. A Fast and Elitist Multiobjective
    Genetic Algorithm: NSGA-II. IEEE TEVC 6(2), 2002.
    K. Deb, R. B. Agrawal. Simulated Binary Crossover for Continuous Search Space.
    Complex Systems 9(2), 1995.
    K. Deb. An Efficient Constraint Handling Method for Genetic Algorithms. Computer
    Methods in Applied Mechanics and Engineering 186(2-4), 2000.
    J. Blank, K. Deb. pymoo: Multi-Objective Optimization in Python. IEEE Access 8, 2020.
"""

from __future__ import annotations

import pickle
import time
from typing import Any

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.evaluator import Evaluator
from pymoo.core.problem import Problem as PymooProblem
from pymoo.core.termination import NoTermination
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.problems.static import StaticProblem

from bayesopt.config import NSGA2Config
from bayesopt.problems import measure
from bayesopt.sobol import evaluations_in
from jobs.protocol import Evaluated, ProblemInfo, Recorder
from pareto import to_maximization


class BoxProblem(PymooProblem):
    """The box and the numbers of objectives and constraints, as pymoo sees a problem.

    It carries no evaluation: the campaign loop evaluates each generation itself and
    tells pymoo the results (``F`` to minimise, ``G <= 0`` feasible).
    """

    def __init__(self, info: ProblemInfo) -> None:
        super().__init__(
            n_var=len(info.parameters),
            n_obj=info.n_objectives,
            n_ieq_constr=info.constraints,
            xl=np.array([p.low for p in info.parameters], dtype=np.float64),
            xu=np.array([p.high for p in info.parameters], dtype=np.float64),
        )

    def _evaluate(self, x: Any, out: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("nsga2 evaluates through ask/tell; pymoo never calls the problem")


def make_algorithm(config: NSGA2Config, info: ProblemInfo, seed: int) -> NSGA2:
    """pymoo's NSGA-II with ``config``'s operators, set up on ``info``'s box and seeded."""
    algorithm = NSGA2(
        pop_size=config.pop_size,
        n_offsprings=config.n_offsprings,
        crossover=SBX(eta=config.crossover_eta, prob=config.crossover_prob),
        mutation=PM(
            eta=config.mutation_eta, prob=config.mutation_prob, prob_var=config.mutation_prob_var
        ),
        eliminate_duplicates=config.eliminate_duplicates,
    )
    # The budget decides when to stop, never pymoo's convergence criteria.
    algorithm.setup(BoxProblem(info), termination=NoTermination(), seed=seed)
    return algorithm


def run(problem: Any, params: dict[str, Any], seed: int, device: str, recorder: Recorder) -> None:
    """Evolve ``problem`` for ``recorder.budget`` evaluations (:class:`jobs.protocol.Algorithm`).

    ``device`` is ignored: nothing here runs on an accelerator.
    """
    config = NSGA2Config.model_validate(params)
    info: ProblemInfo = problem.info
    d = len(info.parameters)
    if d == 0:
        raise ValueError(f"nsga2 needs a problem with continuous parameters; {info.id} has none")
    total = evaluations_in(recorder.budget, "nsga2")

    state = recorder.restore()
    if state is None:
        algorithm, n_evaluated = make_algorithm(config, info, seed), 0
    else:
        algorithm, n_evaluated = pickle.loads(state["algorithm"]), int(state["n_evaluated"])
    if not 0 <= n_evaluated <= total:
        raise ValueError(f"checkpoint n_evaluated={n_evaluated} is outside the budget 0..{total}")

    names = [p.name for p in info.parameters]
    low = np.array([p.low for p in info.parameters], dtype=np.float64)
    high = np.array([p.high for p in info.parameters], dtype=np.float64)
    while n_evaluated < total:
        started = time.perf_counter()
        generation = algorithm.ask()  # a pymoo Population of len(generation) individuals
        asked = time.perf_counter()
        complete = len(generation) <= total - n_evaluated
        n = len(generation) if complete else total - n_evaluated
        # pymoo's operators keep to the box; the clip only removes rounding residue.
        generation.set("X", np.clip(generation.get("X").astype(np.float64), low, high))
        x = generation.get("X")[:n]
        n_gen = int(generation.get("n_gen")[0])
        objectives, slacks, measured = measure(problem, x, seed, n_gen)
        evaluated = time.perf_counter()

        recorder.log(acquisition_seconds=asked - started, evaluation_seconds=evaluated - asked)
        recorder.record(
            [
                Evaluated(
                    objectives=[float(v) for v in objectives[j]],
                    params={name: float(v) for name, v in zip(names, x[j], strict=True)},
                    kind="candidate",
                    cost=1.0,
                    meta={"generation": n_gen, "batch_index": j, **measured[j]},
                    constraints=None if slacks is None else [float(v) for v in slacks[j]],
                )
                for j in range(n)
            ]
        )
        n_evaluated += n
        if complete:
            minimised = -to_maximization(objectives, info.senses)  # pymoo minimises
            outcomes: dict[str, Any] = {"F": minimised}
            if slacks is not None:
                outcomes["G"] = -slacks  # pymoo: feasible iff G <= 0
            Evaluator().eval(StaticProblem(algorithm.problem, **outcomes), generation)
            algorithm.tell(infills=generation)
        recorder.checkpoint(
            {
                "algorithm": pickle.dumps(algorithm, protocol=pickle.HIGHEST_PROTOCOL),
                "n_evaluated": n_evaluated,
            }
        )
