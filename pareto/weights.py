"""Preference (weight) vectors on the probability simplex.

The simplex-lattice design (Das & Dennis 1998): every vector whose components are
multiples of 1/H and sum to 1. There are C(H + m - 1, m - 1) of them for m objectives
and H divisions, e.g. 101 for m = 2, H = 100. Used for expected utility and R2.
"""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np


def simplex_grid(n_objectives: int, n_divisions: int) -> np.ndarray:
    """All weight vectors ``k / n_divisions`` (k integer >= 0) summing to 1.

    Returns a float64 array of shape ``(C(n_divisions + m - 1, m - 1), m)``, rows in
    lexicographic order of their integer numerators (first component ascending), e.g.
    ``simplex_grid(2, 2)`` is ``[[0, 1], [0.5, 0.5], [1, 0]]``.
    """
    if n_objectives < 1:
        raise ValueError(f"n_objectives must be >= 1; got {n_objectives}")
    if n_divisions < 1:
        raise ValueError(f"n_divisions must be >= 1; got {n_divisions}")
    # Stars and bars: choose where the m - 1 bars go among H + m - 1 slots;
    # the gaps between consecutive bars are the numerators.
    slots = n_divisions + n_objectives - 1
    bars = np.array(list(combinations(range(slots), n_objectives - 1)), dtype=np.int64)
    bars = bars.reshape(comb(slots, n_objectives - 1), n_objectives - 1)
    edges = np.hstack([np.full((len(bars), 1), -1), bars, np.full((len(bars), 1), slots)])
    numerators = np.diff(edges, axis=1) - 1
    return numerators / n_divisions


def equally_spaced_weights(n_objectives: int, n_points: int) -> np.ndarray:
    """The smallest :func:`simplex_grid` with at least ``n_points`` vectors, all of it.

    The divisions H are the smallest with ``C(H + m - 1, m - 1) >= n_points``, and the
    whole grid is returned (so it may hold more than ``n_points`` vectors; it is never
    subsampled, to keep it evenly spaced and deterministic). With one objective the
    only weight vector is ``[1.0]``, returned alone whatever ``n_points`` is.
    """
    if n_objectives < 1:
        raise ValueError(f"n_objectives must be >= 1; got {n_objectives}")
    if n_points < 1:
        raise ValueError(f"n_points must be >= 1; got {n_points}")
    if n_objectives == 1:
        return np.ones((1, 1))
    n_divisions = 1
    while comb(n_divisions + n_objectives - 1, n_objectives - 1) < n_points:
        n_divisions += 1
    return simplex_grid(n_objectives, n_divisions)
