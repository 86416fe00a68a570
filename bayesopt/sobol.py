"""``sobol``: scrambled Sobol quasi-random search, the random baseline.

The algorithm draws the points of a scrambled Sobol sequence (Sobol', 1967) in the
unit cube, maps them onto the problem's box (on a log scale and rounded where a
parameter says so: :mod:`bayesopt.space`), evaluates them in batches and
records every batch; it fits no model and never looks at the objectives. The engine is
``scipy.stats.qmc.Sobol``, whose scrambling is a random linear matrix scramble plus a
digital shift (Matoušek, 1998), the inexpensive form of Owen's (1998) scrambling: it
keeps the sequence's low-discrepancy structure and makes each seed an independent,
unbiased randomisation of it.

It is the baseline every model-based method must beat at equal budget to earn its fit
time. Quasi-random points fill the box more evenly than i.i.d. uniform ones, so it is
the stronger, and so the fairer, random baseline; scrambled Sobol points are also the
usual initial design of BoTorch's methods.

Resume: after each recorded batch the algorithm checkpoints ``{"n_drawn": n}``. A
resumed campaign restores it and fast-forwards the engine by ``n``: the same seed
reproduces exactly the sequence of points an uninterrupted campaign would have drawn.
If the crash fell between a ``record`` and its ``checkpoint``, the batch is drawn again
identically and re-recorded under the same seqs, which the recorder ignores.

Ask/tell: :func:`suggest` returns the next ``n`` points of the same seeded sequence,
continuing from the number of suggestions already made, so an external campaign sees
exactly the points a built-in one would. :func:`points` is that slice of the sequence;
the BO methods draw their initial design from it too, so at equal seed every method
starts from the points the ``sobol`` baseline evaluates first. An external problem's
parameter constraints (:mod:`bayesopt.parameter_constraints`) are kept by rejection:
the design is the sequence's points that satisfy them, in order, as in Ax's Sobol
generator. Only external problems have such constraints, and they never run on a
worker, so :func:`run` draws the box.

References:
    I. M. Sobol'. On the distribution of points in a cube and the approximate evaluation
    of integrals. USSR Comput. Math. Math. Phys. 7(4), 1967.
    A. B. Owen. Scrambling Sobol' and Niederreiter-Xing points. J. Complexity 14(4), 1998.
    J. Matoušek. On the L2-discrepancy for anchored boxes. J. Complexity 14(4), 1998.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.stats import qmc

from bayesopt import parameter_constraints, space
from bayesopt.problems import measure
from jobs.protocol import (
    Evaluated,
    LinearConstraint,
    Observations,
    Parameter,
    ProblemInfo,
    Recorder,
)

# Sobol points examined for a constrained design before giving up, unless at least one
# in 2^14 satisfied the constraints. The spec check (bayesopt.external) refuses
# constraints that leave under 1/1024 of the box, where this finds about a thousand.
MAX_DRAWS = 2**20


class SobolConfig(BaseModel):
    """The parameters of the ``sobol`` algorithm."""

    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(
        default=10, ge=1, le=10000, description="points evaluated and recorded per batch"
    )
    scramble: bool = Field(
        default=True, description="randomise the sequence with the seed (unscrambled: seed ignored)"
    )


def run(problem: Any, params: dict[str, Any], seed: int, device: str, recorder: Recorder) -> None:
    """Evaluate ``recorder.budget`` Sobol points of ``problem``, ``batch_size`` at a time.

    ``device`` is ignored: nothing here runs on an accelerator.
    """
    config = SobolConfig.model_validate(params)
    parameters = problem.info.parameters
    if not parameters:
        raise ValueError(
            f"sobol needs a problem with decision parameters; {problem.info.id} has none"
        )
    if problem.info.parameter_constraints:
        raise ValueError("sobol runs a constrained parameter space through ask/tell only")
    total = evaluations_in(recorder.budget)

    engine = _engine(len(parameters), config.scramble, seed)
    state = recorder.restore()
    n_drawn = 0 if state is None else int(state["n_drawn"])
    if not 0 <= n_drawn <= total:
        raise ValueError(f"checkpoint n_drawn={n_drawn} is outside the budget 0..{total}")
    if n_drawn:
        engine.fast_forward(n_drawn)

    while n_drawn < total:
        n = min(config.batch_size, total - n_drawn)
        x = space.from_unit(parameters, _draw(engine, n))
        objectives, measured_slacks, measured = measure(problem, x, seed, n_drawn)
        slacks = [None] * n if measured_slacks is None else measured_slacks  # n x c
        recorder.record(
            [
                Evaluated(
                    objectives=[float(v) for v in row],
                    params={p.name: p.cast(v) for p, v in zip(parameters, point, strict=True)},
                    kind="candidate",
                    cost=1.0,
                    meta={"batch": n_drawn // config.batch_size, "sequence_index": n_drawn + i,
                          **more},
                    constraints=None if slack is None else [float(v) for v in slack],
                )
                for i, (point, row, slack, more) in enumerate(
                    zip(x, objectives, slacks, measured, strict=True))
            ]
        )
        n_drawn += n
        recorder.checkpoint({"n_drawn": n_drawn})


def points(
    parameters: tuple[Parameter, ...], seed: int, start: int, n: int, scramble: bool = True,
    constraints: tuple[LinearConstraint, ...] = (),
) -> np.ndarray:
    """Points ``start .. start + n - 1`` of the seeded Sobol sequence, ``n x d`` in the box.

    With parameter ``constraints``, of the sequence's points that satisfy them all (the
    others are skipped, in order), so the design is the same however it is cut.
    """
    if start < 0 or n < 0:
        raise ValueError(f"need start >= 0 and n >= 0, got start={start}, n={n}")
    if n == 0:
        return np.empty((0, len(parameters)), dtype=np.float64)
    engine = _engine(len(parameters), scramble, seed)
    if not constraints:
        if start:
            engine.fast_forward(start)
        return space.from_unit(parameters, _draw(engine, n))
    kept: list[np.ndarray] = []
    found = drawn = 0
    while found < start + n:
        if drawn >= MAX_DRAWS and found < drawn / 2**14:  # a long design is no reason
            raise ValueError(
                f"the parameter constraints leave too little of the box: {found} of "
                f"{drawn:,} Sobol points satisfy them, {start + n} are needed")
        chunk = space.from_unit(parameters, _draw(engine, 4096))
        drawn += len(chunk)
        inside = chunk[parameter_constraints.satisfied(parameters, constraints, chunk)]
        kept.append(inside)
        found += len(inside)
    return np.concatenate(kept)[start : start + n]



def suggest(
    problem: ProblemInfo,
    params: dict[str, Any],
    seed: int,
    observations: Observations,
    n: int,
    device: str,
) -> np.ndarray:
    """The ask half of ``sobol`` (:class:`jobs.protocol.Suggest`): the next ``n`` points.

    The sequence continues from ``observations.n_suggested``; what was observed is not
    looked at, and pending or failed points need no special care, since the sequence
    never repeats a point. ``device`` is ignored.
    """
    config = SobolConfig.model_validate(params)
    if not problem.parameters:
        raise ValueError(f"sobol needs a problem with decision parameters; {problem.id} has none")
    return points(problem.parameters, seed, observations.n_suggested, n, config.scramble,
                  problem.parameter_constraints)


def _engine(d: int, scramble: bool, seed: int) -> qmc.Sobol:
    return qmc.Sobol(d=d, scramble=scramble, rng=seed)


def evaluations_in(budget: float, algorithm: str = "sobol") -> int:
    """The whole number of evaluations a budget allows (it cannot be exceeded)."""
    if not math.isfinite(budget) or budget < 0:
        raise ValueError(
            f"{algorithm} needs a finite, non-negative evaluation budget, got {budget}"
        )
    return math.floor(budget)


def _draw(engine: qmc.Sobol, n: int) -> np.ndarray:
    # scipy warns when the first draw is not a power of two (the balance properties hold
    # at powers of two of the cumulative count). Batches are the user's choice and the
    # sequence is the same however it is cut, so the warning says nothing actionable.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The balance properties of Sobol")
        return engine.random(n)
