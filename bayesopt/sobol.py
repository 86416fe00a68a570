"""``sobol``: scrambled Sobol quasi-random search, the random baseline.

The algorithm draws the points of a scrambled Sobol sequence (Sobol', 1967) in the
unit cube, scales them to the problem's box bounds, evaluates them in batches and
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

from jobs.protocol import Evaluated, Recorder


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
            f"sobol needs a problem with continuous parameters; {problem.info.id} has none"
        )
    names = [p.name for p in parameters]
    low = np.array([p.low for p in parameters], dtype=np.float64)
    high = np.array([p.high for p in parameters], dtype=np.float64)
    total = _evaluations_in(recorder.budget)

    engine = qmc.Sobol(d=len(parameters), scramble=config.scramble, rng=seed)
    state = recorder.restore()
    n_drawn = 0 if state is None else int(state["n_drawn"])
    if not 0 <= n_drawn <= total:
        raise ValueError(f"checkpoint n_drawn={n_drawn} is outside the budget 0..{total}")
    if n_drawn:
        engine.fast_forward(n_drawn)

    while n_drawn < total:
        n = min(config.batch_size, total - n_drawn)
        unit = _draw(engine, n)  # n x d in [0, 1)
        # Rounding in low + u (high - low) can step past high by an ulp.
        x = np.clip(qmc.scale(unit, low, high), low, high)
        objectives = np.asarray(problem.evaluate(x), dtype=np.float64)  # n x m
        recorder.record(
            [
                Evaluated(
                    objectives=[float(v) for v in row],
                    params={name: float(v) for name, v in zip(names, point, strict=True)},
                    kind="candidate",
                    cost=1.0,
                )
                for point, row in zip(x, objectives, strict=True)
            ]
        )
        n_drawn += n
        recorder.checkpoint({"n_drawn": n_drawn})


def _evaluations_in(budget: float) -> int:
    """The whole number of evaluations a budget allows (it cannot be exceeded)."""
    if not math.isfinite(budget) or budget < 0:
        raise ValueError(f"sobol needs a finite, non-negative evaluation budget, got {budget}")
    return math.floor(budget)


def _draw(engine: qmc.Sobol, n: int) -> np.ndarray:
    # scipy warns when the first draw is not a power of two (the balance properties hold
    # at powers of two of the cumulative count). Batches are the user's choice and the
    # sequence is the same however it is cut, so the warning says nothing actionable.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The balance properties of Sobol")
        return engine.random(n)
