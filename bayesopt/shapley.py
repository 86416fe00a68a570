"""Which parameters matter inside the parameter constraints: Shapley effects.

Under linear parameter constraints (``x1 + x2 <= 1``) the points a campaign can take
are the box cut down to a polytope, and there the parameters are no longer independent:
a large ``x1`` forces a small ``x2``. Sobol indices (:mod:`bayesopt.sensitivity`) need
independent parameters, so they are measured on the whole box, where the GP extrapolates
into points no campaign may try. Shapley effects (Owen 2014; Owen & Prieur 2017) share
an outcome's variance out among the parameters under any joint distribution: here each
parameter uniform in its search coordinates (:mod:`bayesopt.space`), restricted to the
points that satisfy every constraint. With the cost of a set ``u`` of parameters
``c(u) = E[Var(g | x_~u)]`` (what varying ``u`` alone, the others held, leaves),

    Sh_i = sum over u not holding i of |u|! (d - |u| - 1)! / d! * (c(u + i) - c(u)),

each parameter's contribution averaged over every order in which the parameters can be
added. The effects are non-negative, sum to ``Var(g)``, and for independent parameters lie
between the first-order and the total index (each interaction split equally among the
parameters in it). They are reported as shares of the variance over the constrained
region, so they sum to 1.

Estimated as Song, Nelson & Staum (2016)'s random-permutation algorithm (their Algorithm
1 with ``N_o = 1``, ``N_i = 3``, the setting they recommend): for each of ``M`` random
orders of the parameters and each prefix ``u`` of it, one point ``x`` is drawn from the
constrained distribution, the values of ``u`` are drawn ``N_i`` times again given the
others' values in ``x``, and the variance of ``g`` over those draws estimates ``c(u)``;
the differences between consecutive prefixes are the order's contributions, the last
parameter's being ``Var(g) - c(prefix)``. Every draw is, on its own, a point of the
constrained distribution, so ``Var(g)`` comes from all of them at no extra cost. The
effects are thus ratios of means over the orders, which are drawn independently, and
each one's standard error is the delta method's over the orders: it includes the error
of ``Var(g)``. (Taken from 8,192 separate points, ``Var(g)`` had an error that no
standard error showed: on a quadratic, the effects of eight seeds spread twice as far as
their standard errors said.) The effects sum to 1, as an order's contributions sum to
``Var(g)``.

Both the constrained distribution and its conditionals are drawn exactly, by rejection:
points of the unit cube mapped onto the box (:func:`bayesopt.space.from_unit`, which
rounds integers), kept where they satisfy the constraints
(:func:`bayesopt.parameter_constraints.satisfied`). A conditional keeps the other
parameters at ``x``, whose own values satisfy the constraints, so it is never empty, but
it can be thin: where :data:`MAX_CONDITIONAL_TRIES` proposals have not found every draw,
the draws missing repeat ``x``'s own values. That treats as fixed a set of values the
constraints pin to a sliver under ``1 / MAX_CONDITIONAL_TRIES`` of its box (the campaign
spec refuses constraints that leave under ``1/1024`` of the whole box).

References:
    A. B. Owen. Sobol' indices and Shapley value. SIAM/ASA Journal on Uncertainty
    Quantification 2, 2014.
    E. Song, B. L. Nelson, J. Staum. Shapley effects for global sensitivity analysis:
    theory and computation. SIAM/ASA Journal on Uncertainty Quantification 4, 2016.
    A. B. Owen, C. Prieur. On Shapley value for measuring importance of dependent inputs.
    SIAM/ASA Journal on Uncertainty Quantification 5, 2017.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bayesopt import parameter_constraints, space
from jobs.protocol import ProblemInfo

INNER_DRAWS = 3  # N_i: draws of a prefix's values per point
POINTS_PER_OUTCOME = 65536  # M (d - 1) N_i, the draws, at most about this
MIN_PERMUTATIONS = 256
MAX_PERMUTATIONS = 8192
MAX_CONDITIONAL_TRIES = 2**14  # proposals per conditional before its draws fall back
_CHUNK = 2**16  # proposals mapped and checked at once
_MAX_EMPTY_CHUNKS = 64  # 4M proposals, none inside: the constraints leave nothing


@dataclass(frozen=True)
class ShapleyEffects:
    """Every outcome's effects: ``effects`` and ``standard_errors`` are ``o x d`` shares of
    ``variance`` (``o``), the variance of each outcome over the constrained region."""

    effects: np.ndarray
    standard_errors: np.ndarray
    variance: np.ndarray


def shapley_effects(problem: ProblemInfo, means: Callable[[np.ndarray], np.ndarray],
                    permutations: int | None = None, seed: int = 0) -> ShapleyEffects:
    """The Shapley effects of the outcomes ``means`` computes (``n x d`` points in the
    problem's units to ``n x o``) over ``problem``'s box restricted to its parameter
    constraints (see the module docstring). ``permutations``: ``M``, by default as many
    as keep the conditional draws near :data:`POINTS_PER_OUTCOME`."""
    d = len(problem.parameters)
    m = permutations or default_permutations(d)
    rng = np.random.default_rng(seed)
    if d == 1:  # the one parameter takes all the variance
        values = means(space.from_unit(problem.parameters, constrained_draws(problem, m * INNER_DRAWS, rng)))
        variance = values.var(axis=0, ddof=1)
        return ShapleyEffects(np.ones((len(variance), 1)), np.zeros((len(variance), 1)), variance)
    points = constrained_draws(problem, m * (d - 1), rng)
    orders = np.argsort(rng.random((m, d)), axis=1)
    # free[k, j - 1]: the first j parameters of order k, redrawn given the others
    ranks = np.argsort(orders, axis=1)
    free = ranks[:, None, :] < np.arange(1, d)[None, :, None]
    draws = conditional_draws(problem, points, free.reshape(-1, d), INNER_DRAWS, rng)
    values = means(space.from_unit(problem.parameters, draws.reshape(-1, d)))
    values = values - values.mean(axis=0)  # centred: E[g^2] - E[g]^2 loses no digits
    blocks = values.reshape(m, (d - 1) * INNER_DRAWS, -1)  # one order's draws per block
    costs = blocks.reshape(m, d - 1, INNER_DRAWS, -1).var(axis=2, ddof=1)
    # every draw is, on its own, a point of the distribution: Var(g) from them all
    first, second = blocks.mean(axis=1), (blocks**2).mean(axis=1)  # m x o
    variance = second.mean(axis=0) - first.mean(axis=0) ** 2
    # each order's contributions without Var(g): the last parameter's is -c(prefix)
    steps = np.diff(np.concatenate([np.zeros_like(costs[:, :1]), costs,
                                    np.zeros_like(costs[:, :1])], axis=1), axis=1)
    contributions = np.empty_like(steps)
    np.put_along_axis(contributions, orders[:, :, None], steps, axis=1)
    last = (orders[:, -1:] == np.arange(d)).astype(float)[:, :, None]  # m x d x 1
    with np.errstate(divide="ignore", invalid="ignore"):
        effects = contributions.mean(axis=0) / variance + last.mean(axis=0)
        errors = _errors(contributions, last, first, second, variance)
    return ShapleyEffects(effects.T, errors.T, variance)


def _errors(contributions: np.ndarray, last: np.ndarray, first: np.ndarray,
            second: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """``d x o``: the standard errors of ``mean(contributions) / variance + mean(last)``,
    all four means over the independent orders, by the delta method (each order's
    linearised influence on the effect, ``Var(g) = mean(second) - mean(first)^2``)."""
    m = len(contributions)
    mean = contributions.mean(axis=0)
    influence = ((contributions - mean) / variance
                 - mean / variance**2 * (second - second.mean(axis=0))[:, None, :]
                 + 2 * first.mean(axis=0) * mean / variance**2
                 * (first - first.mean(axis=0))[:, None, :]
                 + (last - last.mean(axis=0)))
    return influence.std(axis=0, ddof=1) / np.sqrt(m)


def default_permutations(d: int) -> int:
    """``M`` for ``d`` parameters: about :data:`POINTS_PER_OUTCOME` draws."""
    return int(np.clip(POINTS_PER_OUTCOME // (max(d - 1, 1) * INNER_DRAWS),
                       MIN_PERMUTATIONS, MAX_PERMUTATIONS))


def constrained_draws(problem: ProblemInfo, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n x d`` points of the unit cube, uniform among those whose values satisfy every
    parameter constraint. ValueError where the constraints leave (next to) nothing."""
    d = len(problem.parameters)
    kept: list[np.ndarray] = []
    found, empty = 0, 0
    while found < n:
        unit = rng.random((_CHUNK, d))
        unit = unit[_inside(problem, unit)]
        kept.append(unit)
        found += len(unit)
        empty = 0 if len(unit) else empty + 1
        if empty == _MAX_EMPTY_CHUNKS:
            raise ValueError(f"no point of {_MAX_EMPTY_CHUNKS * _CHUNK} drawn in the box "
                             "satisfies the parameter constraints")
    return np.concatenate(kept)[:n]


def conditional_draws(problem: ProblemInfo, points: np.ndarray, free: np.ndarray, n_draws: int,
                      rng: np.random.Generator) -> np.ndarray:
    """``p x n_draws x d``: for each of the ``p`` unit-cube ``points``, its coordinates
    where ``free`` drawn again, uniform among the values that satisfy every constraint
    with the other coordinates held; the draws a thin conditional leaves missing after
    :data:`MAX_CONDITIONAL_TRIES` proposals keep the point's own values."""
    p, d = points.shape
    draws = np.repeat(points[:, None, :], n_draws, axis=1)
    found = np.zeros(p, dtype=int)
    pending = np.arange(p)
    batch, tried = 4 * n_draws, 0
    while pending.size and tried < MAX_CONDITIONAL_TRIES:
        proposals = np.where(free[pending, None, :], rng.random((len(pending), batch, d)),
                             points[pending, None, :])
        inside = _inside(problem, proposals.reshape(-1, d)).reshape(len(pending), batch)
        slot = found[pending, None] + np.cumsum(inside, axis=1) - 1
        taken = inside & (slot < n_draws)
        rows, columns = np.nonzero(taken)
        draws[pending[rows], slot[rows, columns]] = proposals[rows, columns]
        found[pending] = np.minimum(found[pending] + inside.sum(axis=1), n_draws)
        pending = pending[found[pending] < n_draws]
        tried += batch
        batch = min(4 * batch, max(_CHUNK // max(len(pending), 1), 1), MAX_CONDITIONAL_TRIES - tried)
    return draws


def _inside(problem: ProblemInfo, unit: np.ndarray) -> np.ndarray:
    values = space.from_unit(problem.parameters, unit)
    return parameter_constraints.satisfied(problem.parameters, problem.parameter_constraints, values)
