"""The coordinates the BO methods and ``sobol`` search in: log scales, integers, choices.

A plain parameter is searched on its own scale, ``[low, high]``. A ``log_scale`` one
is searched on ``log(x)``, so a learning rate in ``[1e-5, 1e-1]`` gets as much of the
design and of the GP's lengthscale for ``[1e-5, 1e-4]`` as for ``[1e-2, 1e-1]``. An
``integer`` one is searched on the real interval ``[low - 1/2, high + 1/2]`` (its log
when it is on a log scale too) and rounded to the nearest whole number on the way
back, so every integer owns an equal share of a uniform design (Optuna's GP sampler
widens integer bounds by half a step the same way). A ``choices`` parameter whose
values have no order (:attr:`~jobs.protocol.Parameter.categorical`) is searched
one-hot: one coordinate in ``[0, 1]`` per value, the value with the largest
coordinate chosen on the way back; in a design drawn in the unit cube it takes one
coordinate, cut into equal shares, one per value. An ordered one is searched by its
index as an integer, as Ax's ordered choice parameters are.

:func:`bounds` gives the box in these coordinates, :func:`encode` maps values from
the problem's units into it (a choice by its index), :func:`decode` maps a point of
the box back (rounding integers, clipping to the bounds) and :func:`from_unit` maps
the unit cube, one coordinate per parameter, onto the problem's values: the Sobol
designs are drawn in the unit cube.

The GP sees whole-number inputs. The BO methods step each integer through its own
values (:func:`discrete_values`; ``bayesopt.bo``) and optimise the rest between the
steps; an unordered choice is optimised over its one-hot relaxation and takes its
largest coordinate. A candidate can therefore still land on a point already observed
or pending, most often when a choice has few values; it is suggested anyway (the user
sees a repeated point, never a point outside the declared set).

For a problem whose parameters are all plain, :func:`encode` is the identity,
:func:`bounds` is ``[low, high]`` and :func:`decode` only clips, so built-in test
functions search exactly as before this module existed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jobs.protocol import Parameter


def bounds(parameters: Sequence[Parameter]) -> np.ndarray:
    """``2 x D``: the lower and upper edges of the search box (``D`` counts a choice's
    one-hot coordinates)."""
    return np.concatenate([_bounds(p) for p in parameters], axis=1)


def encode(parameters: Sequence[Parameter], x: np.ndarray) -> np.ndarray:
    """``n x d`` values in the problem's units (a choice's index), ``n x D`` in search
    coordinates."""
    x = np.asarray(x, dtype=np.float64).reshape(-1, len(parameters))
    columns = []
    for j, parameter in enumerate(parameters):
        value = x[:, j]
        if parameter.categorical:
            columns.append(np.eye(len(parameter.choices))[value.round().astype(int)])
        else:
            columns.append((np.log(value) if parameter.log_scale else value)[:, None])
    return np.concatenate(columns, axis=1)


def decode(parameters: Sequence[Parameter], z: np.ndarray) -> np.ndarray:
    """``n x D`` points of the search box as valid ``n x d`` values in the problem's
    units: exponentiated where on a log scale, rounded where integer, clipped to the
    bounds, a choice's index the largest of its coordinates."""
    z = np.asarray(z, dtype=np.float64).reshape(-1, _width(parameters))
    x = np.empty((len(z), len(parameters)))
    at = 0
    for j, parameter in enumerate(parameters):
        if parameter.categorical:
            x[:, j] = z[:, at : at + len(parameter.choices)].argmax(axis=1)
            at += len(parameter.choices)
            continue
        value = np.exp(z[:, at]) if parameter.log_scale else z[:, at].copy()
        if parameter.integer:
            value = np.floor(value + 0.5)  # half up: each integer owns [k - 1/2, k + 1/2)
        x[:, j] = np.clip(value, parameter.low, parameter.high)
        at += 1
    return x


def from_unit(parameters: Sequence[Parameter], unit: np.ndarray) -> np.ndarray:
    """``n x d`` points of the unit cube (a Sobol design) as values in the problem's units."""
    unit = np.asarray(unit, dtype=np.float64).reshape(-1, len(parameters))
    x = np.empty_like(unit)
    for j, parameter in enumerate(parameters):
        if parameter.categorical:
            k = len(parameter.choices)
            x[:, j] = np.minimum(np.floor(unit[:, j] * k), k - 1)
        else:
            low, high = _bounds(parameter)[:, 0]
            x[:, j] = decode([parameter], low + unit[:, j] * (high - low))[:, 0]
    return x


def centre(parameters: Sequence[Parameter]) -> np.ndarray:
    """``1 x d``: the centre of the search box as a value (the geometric mean of the
    bounds on a log scale, rounded for an integer, the middle value of a choice)."""
    return np.array([[from_unit([p], np.array([[0.5]]))[0, 0] if p.categorical
                      else decode([p], _bounds(p).mean(axis=0))[0, 0] for p in parameters]])


def discrete_values(parameters: Sequence[Parameter]) -> dict[int, list[float]]:
    """The search columns of the integers (ordered choices included), each with the
    values it may take there (logs on a log scale), for an optimiser that searches them
    value by value rather than relaxed."""
    values: dict[int, list[float]] = {}
    at = 0
    for parameter in parameters:
        if parameter.categorical:
            at += len(parameter.choices)
            continue
        if parameter.integer:
            whole = np.arange(parameter.low, parameter.high + 1)
            values[at] = (np.log(whole) if parameter.log_scale else whole).tolist()
        at += 1
    return values


def _bounds(parameter: Parameter) -> np.ndarray:
    """``2 x D_j``: one parameter's edges in search coordinates."""
    if parameter.categorical:
        return np.stack([np.zeros(len(parameter.choices)), np.ones(len(parameter.choices))])
    low, high = parameter.low, parameter.high
    if parameter.integer:
        low, high = low - 0.5, high + 0.5
    if parameter.log_scale:
        low, high = np.log(low), np.log(high)
    return np.array([[low], [high]], dtype=np.float64)


def _width(parameters: Sequence[Parameter]) -> int:
    return sum(len(p.choices) if p.categorical else 1 for p in parameters)
