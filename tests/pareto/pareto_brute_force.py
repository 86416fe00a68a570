"""Hypothesis strategies and brute-force references for the tests of `pareto/`.

The references are deliberately naive (pairwise loops, inclusion-exclusion, counting
unit cells) so that they are obviously right; they share no code with `pareto/`.
Everything is in the maximisation convention.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from hypothesis import strategies as st


@st.composite
def grid_points(
    draw: st.DrawFn,
    n_objectives: int | tuple[int, int] = (1, 4),
    min_points: int = 0,
    max_points: int = 30,
    low: int = 0,
    high: int = 4,
) -> np.ndarray:
    """Points on a small integer grid, so ties and exact duplicates are common.

    ``n_objectives`` is fixed, or a ``(low, high)`` range to draw it from.
    """
    m = n_objectives if isinstance(n_objectives, int) else draw(st.integers(*n_objectives))
    n = draw(st.integers(min_points, max_points))
    values = draw(st.lists(st.integers(low, high), min_size=n * m, max_size=n * m))
    return np.array(values, dtype=np.float64).reshape(n, m)


@st.composite
def real_points(
    draw: st.DrawFn,
    n_objectives: int,
    min_points: int = 0,
    max_points: int = 20,
) -> np.ndarray:
    """Points with real coordinates in [-10, 10]."""
    n = draw(st.integers(min_points, max_points))
    values = draw(
        st.lists(
            st.floats(-10, 10, allow_nan=False, allow_infinity=False),
            min_size=n * n_objectives,
            max_size=n * n_objectives,
        )
    )
    return np.array(values, dtype=np.float64).reshape(n, n_objectives)


def brute_dominates(a: np.ndarray, b: np.ndarray) -> bool:
    at_least_as_good = all(x >= y for x, y in zip(a, b, strict=True))
    better_somewhere = any(x > y for x, y in zip(a, b, strict=True))
    return at_least_as_good and better_somewhere


def brute_non_dominated_mask(points: np.ndarray) -> np.ndarray:
    """O(n^2) pairwise check."""
    return np.array(
        [
            not any(brute_dominates(points[j], points[i]) for j in range(len(points)) if j != i)
            for i in range(len(points))
        ],
        dtype=bool,
    )


def hypervolume_sweep_2d(points: np.ndarray, reference: np.ndarray) -> float:
    """m = 2: sweep the points by decreasing first objective, adding vertical slabs."""
    inside = [p for p in points if p[0] > reference[0] and p[1] > reference[1]]
    inside.sort(key=lambda p: -p[0])
    area, best_second = 0.0, reference[1]
    for k, point in enumerate(inside):
        best_second = max(best_second, point[1])
        next_first = inside[k + 1][0] if k + 1 < len(inside) else reference[0]
        area += (point[0] - next_first) * (best_second - reference[1])
    return area


def hypervolume_inclusion_exclusion(points: np.ndarray, reference: np.ndarray) -> float:
    """Any m, small n: sum over non-empty subsets S of (-1)^(|S|+1) vol(intersection of boxes)."""
    total = 0.0
    for size in range(1, len(points) + 1):
        for subset in combinations(range(len(points)), size):
            corner = points[list(subset)].min(axis=0)
            volume = float(np.prod(np.maximum(corner - reference, 0.0)))
            total += (-1) ** (size + 1) * volume
    return total


def hypervolume_cell_count(points: np.ndarray, reference: np.ndarray) -> float:
    """Integer points and reference: count the unit cells [c, c+1]^m that some point covers."""
    m = len(reference)
    if len(points) == 0:
        return 0.0
    top = int(max(points.max(), reference.max()))
    axes = [np.arange(int(reference[i]), top) for i in range(m)]
    corners = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, m)
    covered = np.zeros(len(corners), dtype=bool)
    for point in points:
        covered |= np.all(corners + 1 <= point, axis=1)
    return float(covered.sum())
