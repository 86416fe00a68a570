"""Empirical attainment surfaces of several runs (maximisation convention), via moocore.

A run *attains* a point z when some point of its front weakly dominates z. The p%
attainment surface of n runs is the boundary of the region of points attained by at
least p% of them (Grunert da Fonseca, Fonseca & Hall, EMO 2001): at 100/n% (one run) the
best any run reached, at 50% the median, at 100% what every run reached. It shows the
run-to-run spread of a stochastic optimiser where one hypervolume per run hides where on
the front the runs differ. moocore computes it exactly for 2 and 3 objectives
(Fonseca et al., EMO 2011); the surface is given by its corner points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import moocore
import numpy as np
from numpy.typing import ArrayLike

from pareto._arrays import as_points


def attainment_surfaces(fronts: Sequence[ArrayLike],
                        percentiles: Sequence[float]) -> list[np.ndarray]:
    """The corner points ``(k, m)`` of each ``percentiles`` attainment surface of the
    runs whose fronts (``(n_i, m)`` each, maximised) are given, in the order asked.

    A run with an empty front attains nothing but still counts among the runs, so a
    percentile more of them than the non-empty ones could reach gives an empty surface.
    ValueError unless there are 2 or 3 objectives, at least one run, and every
    percentile is in (0, 100].
    """
    if not fronts:
        raise ValueError("attainment surfaces need at least one run")
    for p in percentiles:
        if not 0 < p <= 100:
            raise ValueError(f"percentiles must be in (0, 100]; got {p}")
    arrays = [as_points(front, f"fronts[{i}]") for i, front in enumerate(fronts)]
    widths = {a.shape[1] for a in arrays}
    if len(widths) != 1:
        raise ValueError(f"every front needs the same number of objectives; got {sorted(widths)}")
    m = widths.pop()
    if m not in (2, 3):
        raise ValueError(f"attainment surfaces are computed for 2 or 3 objectives; got {m}")
    attaining = [a for a in arrays if len(a)]
    surfaces = []
    for p in percentiles:
        needed = runs_needed(p, len(arrays))
        if needed > len(attaining):
            surfaces.append(np.empty((0, m)))
            continue
        surfaces.append(_surface(attaining, needed))
    return surfaces


def runs_needed(percentile: float, n_runs: int) -> int:
    """How many of ``n_runs`` must attain a point for it to be under the ``percentile``
    surface: at least ``percentile``% of them (the float slack keeps 100 × k / n at k)."""
    return max(1, math.ceil(percentile * n_runs / 100 - 1e-9))


def _surface(runs: list[np.ndarray], needed: int) -> np.ndarray:
    """The surface attained by at least ``needed`` of ``runs`` (each non-empty). moocore
    takes a percentile and rounds the runs it means up, so it is given one halfway
    between needed - 1 and needed, clear of rounding; it minimises, so the points are
    negated on the way in and out."""
    points = -np.vstack(runs)
    sets = np.concatenate([np.full(len(run), i + 1) for i, run in enumerate(runs)])
    corners = moocore.eaf(points, sets, percentiles=[100 * (needed - 0.5) / len(runs)])
    return np.asarray(-corners[:, :-1], dtype=np.float64)
