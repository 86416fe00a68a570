"""The coordinates the BO methods and ``sobol`` search in, one per parameter.

A plain parameter is searched on its own scale, ``[low, high]``. A ``log_scale`` one
is searched on ``log(x)``, so a learning rate in ``[1e-5, 1e-1]`` gets as much of the
design and of the GP's lengthscale for ``[1e-5, 1e-4]`` as for ``[1e-2, 1e-1]``. An
``integer`` one is searched on the real interval ``[low - 1/2, high + 1/2]`` (its log
when it is on a log scale too) and rounded to the nearest whole number on the way
back, so every integer owns an equal share of a uniform design (Optuna's GP sampler
widens integer bounds by half a step the same way).

:func:`bounds` gives the box in these coordinates, :func:`encode` maps values from
the problem's units into it, :func:`decode` maps a point of the box back (rounding
integers, clipping to the bounds) and :func:`from_unit` maps the unit cube onto the
problem's values through the box: the Sobol designs are drawn in the unit cube.

Integers are handled by rounding after a continuous search, the simplest of BoTorch's
options: the GP sees whole-number inputs, the acquisition is optimised over the
continuous relaxation, and each candidate is rounded afterwards. A rounded candidate
can therefore land on a point already observed or pending, most often when an integer
parameter has few values; it is suggested anyway (the user sees a repeated point,
never a point outside the declared set).

For a problem whose parameters are all plain, :func:`encode` is the identity,
:func:`bounds` is ``[low, high]`` and :func:`decode` only clips, so built-in test
functions search exactly as before this module existed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import qmc

from jobs.protocol import Parameter


def bounds(parameters: Sequence[Parameter]) -> np.ndarray:
    """``2 x d``: the lower and upper edge of the search box, in search coordinates."""
    low = np.array([_widened(p)[0] for p in parameters], dtype=np.float64)
    high = np.array([_widened(p)[1] for p in parameters], dtype=np.float64)
    logged = _log_mask(parameters)
    low[logged], high[logged] = np.log(low[logged]), np.log(high[logged])
    return np.stack([low, high])


def encode(parameters: Sequence[Parameter], x: np.ndarray) -> np.ndarray:
    """``n x d`` values in the problem's units, in search coordinates."""
    z = np.array(x, dtype=np.float64).reshape(-1, len(parameters))
    logged = _log_mask(parameters)
    z[:, logged] = np.log(z[:, logged])
    return z


def decode(parameters: Sequence[Parameter], z: np.ndarray) -> np.ndarray:
    """``n x d`` points of the search box as valid values in the problem's units:
    exponentiated where on a log scale, rounded where integer, clipped to the bounds."""
    x = np.array(z, dtype=np.float64).reshape(-1, len(parameters))
    logged = _log_mask(parameters)
    x[:, logged] = np.exp(x[:, logged])
    integer = np.array([p.integer for p in parameters], dtype=bool)
    x[:, integer] = np.floor(x[:, integer] + 0.5)  # half up: each integer owns [k - 1/2, k + 1/2)
    low = np.array([p.low for p in parameters], dtype=np.float64)
    high = np.array([p.high for p in parameters], dtype=np.float64)
    return np.clip(x, low, high)


def from_unit(parameters: Sequence[Parameter], unit: np.ndarray) -> np.ndarray:
    """``n x d`` points of the unit cube (a Sobol design) as values in the problem's units."""
    box = bounds(parameters)
    return decode(parameters, qmc.scale(unit, box[0], box[1]))


def centre(parameters: Sequence[Parameter]) -> np.ndarray:
    """``1 x d``: the centre of the search box as a value (the geometric mean of the
    bounds on a log scale, rounded for an integer)."""
    box = bounds(parameters)
    return decode(parameters, (box[0] + box[1]) / 2)


def _widened(parameter: Parameter) -> tuple[float, float]:
    if parameter.integer:
        return parameter.low - 0.5, parameter.high + 0.5
    return parameter.low, parameter.high


def _log_mask(parameters: Sequence[Parameter]) -> np.ndarray:
    return np.array([p.log_scale for p in parameters], dtype=bool)
