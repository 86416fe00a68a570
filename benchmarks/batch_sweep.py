"""The batch-size sweep of ``bench_choices.py``: a stand-in for tuning a training run
whose batch size is one of a list of powers of two, with its front computed exactly.

Pure numpy, imported by ``bench_choices.py`` and by ``ax_runner.py`` in Ax's own
environment alike. Three parameters,

    lr in [1e-5, 1] (log), batch in {8, 16, ..., 1024}, dropout in [0, 0.5],

and two objectives, ``accuracy`` (maximised) and ``time`` per epoch (minimised),

    best_lr  = -4.5 + 0.35 * log2(batch / 8)     (larger batches take larger steps)
    accuracy = 1 - 0.1 (log10 lr - best_lr)^2 - 0.03 (log2 batch - 6)^2
               - 2 (dropout - 0.1)^2
    time     = 1 + 64 / batch.

For each batch size the best accuracy is ``1 - 0.03 (log2 batch - 6)^2``, at its own
best learning rate and a dropout of 0.1, so the Pareto front is the batch sizes from
64 up, each at those settings: five points, three of them (64, 128, 256) inside the
reference point (accuracy 0.8, time 3), so the hypervolume is exact
(``bench_choices.max_hypervolume``). Uniformly random points reach about half of it
in 20 evaluations (0.53 on average over 30 draws; 0.63 in 40). What lies between the
batch sizes (the accuracy falls away from 64 on both sides, the best learning rate
grows with the batch) is what a model that knows their order can use.
"""

from __future__ import annotations

import math

BATCHES = [8, 16, 32, 64, 128, 256, 512, 1024]
LR = (1e-5, 1.0)
DROPOUT = (0.0, 0.5)
OBJECTIVES = {"accuracy": "maximize", "time": "minimize"}
REFERENCE_POINT = (0.8, 3.0)  # accuracy, time


def best_log_lr(batch: int) -> float:
    return -4.5 + 0.35 * math.log2(batch / 8)


def evaluate(lr: float, batch: int, dropout: float) -> tuple[float, float]:
    accuracy = (1 - 0.1 * (math.log10(lr) - best_log_lr(batch)) ** 2
                - 0.03 * (math.log2(batch) - 6) ** 2 - 2 * (dropout - 0.1) ** 2)
    return accuracy, 1 + 64 / batch


def front() -> list[tuple[float, float]]:
    """The Pareto front: each batch size at its best, less those another beats."""
    best = [evaluate(10 ** best_log_lr(b), b, 0.1) for b in BATCHES]
    return [p for p in best
            if not any(q != p and q[0] >= p[0] and q[1] <= p[1] for q in best)]

