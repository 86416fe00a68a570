"""Linear constraints on the parameters of an external problem (Ax's parameter constraints).

A spec writes them as Ax does, one string each: ``"x1 + x2 <= 1"``, ``"lr_warmup <=
steps"``, ``"2*a - 0.5*b >= 3"``. :func:`parse` turns one into a
:class:`jobs.protocol.LinearConstraint`, ``sum(c_i x_i) <= bound`` over the
parameters in the problem's units; ``>=`` is negated into that form, and numbers on
either side are collected into the bound. Equality constraints are refused: a mixture
whose shares sum to one is declared with one share left out and ``a + b <= 1``.

Only ``float`` and ``int`` parameters on a linear scale may appear. A log-scale one is
searched on ``log(x)``, where the constraint is no longer linear, and a choice has no
order (Ax refuses both too). In the search coordinates of :mod:`bayesopt.space` such
parameters are their own values, so a constraint keeps its coefficients there
(:func:`search_inequalities`, BoTorch's ``inequality_constraints``: the acquisition is
optimised over the polytope by SLSQP, started from points drawn in it by hit-and-run).

Integers are relaxed to reals in the search and rounded afterwards, and rounding can
step over a constraint (``a + b <= 5`` at ``a = b = 2.5`` rounds to 6).
:func:`feasible_values` then takes, of the integers' floor and ceiling combinations,
the one nearest the relaxed point that satisfies every constraint, moving the float
parameters back inside where only they are over (the last digits of SLSQP's answer);
where no combination works, the nearest point of a feasible quasi-random design.
For one constraint some combination always works (round each integer towards the
side its coefficient allows), so the fallback is for rare joint cases. Sobol designs
(:func:`bayesopt.sobol.points`) keep only the points that satisfy every constraint,
in their sequence order, as Ax's Sobol generator rejects the others. The BO methods'
design starts from the box's centre; where the constraints exclude it, from the
Chebyshev centre of what they leave (:func:`centre`), as Ax's centre trial does.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence

import numpy as np

from bayesopt import space
from jobs.protocol import LinearConstraint, Parameter

# The integer parameters whose floor/ceiling combinations are tried: 2^12 at most.
MAX_INTEGER_PARAMETERS = 12
# The least share of the box the constraints may leave: a constrained Sobol design
# (bayesopt.sobol.MAX_DRAWS points examined) then finds about a thousand points.
MIN_FEASIBLE_SHARE = 1 / 1024

_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_TOKEN = re.compile(rf"\s*(?:(?P<number>{_NUMBER})|(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)"
                    r"|(?P<op><=|>=|==|=<|=>|[<>=+\-*]))")


def parse(text: str, parameters: Sequence[Parameter]) -> LinearConstraint:
    """One constraint string as ``sum(c_i x_i) <= bound``; ``ValueError`` saying what is
    wrong with it otherwise."""
    names = [p.name for p in parameters]
    coefficients, op, bound = inequality(text, names)
    if op == ">=":
        coefficients = {name: -c for name, c in coefficients.items()}
        bound = -bound
    for name in coefficients:
        parameter = parameters[names.index(name)]
        if parameter.choices:
            raise ValueError(f"{text!r}: {name} is a choice parameter, whose values are not "
                             "searched on their own scale; only float and int parameters can "
                             "be constrained")
        if parameter.log_scale:
            raise ValueError(f"{text!r}: {name} is on a log scale, where a linear constraint "
                             "is not linear; drop log_scale or the constraint")
    constraint = LinearConstraint(
        tuple((names.index(name), c) for name, c in coefficients.items()), bound, text.strip())
    least = sum(c * (parameters[i].low if c > 0 else parameters[i].high)
                for i, c in constraint.coefficients)
    if least - bound > constraint.tolerance(parameters):
        raise ValueError(f"{text!r}: no point within the parameters' bounds satisfies it "
                         f"(at best it is missed by {least - bound:g})")
    return constraint


def inequality(text: str, names: Sequence[str] | None = None,
               what: str = "parameter") -> tuple[dict[str, float], str, float]:
    """One linear inequality, ``sum(c * name) op bound`` with every name moved to the
    left and every number to the right, as ``(coefficients, op, bound)``: the
    coefficients by name in the order they first appear (none of them 0), ``op`` ``<=``
    or ``>=`` as written. ``names`` are the names allowed (any name where None); ``what``
    names them in messages. ``ValueError`` saying what is wrong otherwise."""
    tokens = _tokens(text, what)
    relations = [i for i, (kind, value) in enumerate(tokens) if kind == "op"
                 and value in ("<=", ">=", "==", "=<", "=>", "<", ">", "=")]
    if len(relations) != 1 or tokens[relations[0]][1] not in ("<=", ">="):
        raise ValueError(f"{text!r}: write one '<=' or '>=' between two linear expressions, "
                         "as 'x1 + 2*x2 <= 10' (equalities and strict inequalities are not "
                         "supported)")
    at = relations[0]
    left, left_constant = _linear(tokens[:at], text, names, what)
    right, right_constant = _linear(tokens[at + 1:], text, names, what)
    coefficients = {name: left.get(name, 0.0) - right.get(name, 0.0)
                    for name in dict.fromkeys([*left, *right])}
    coefficients = {name: c for name, c in coefficients.items() if c != 0.0}
    if not coefficients:
        raise ValueError(f"{text!r}: names no {what} with a coefficient other than 0")
    return coefficients, tokens[at][1], right_constant - left_constant


def _tokens(text: str, what: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while at < len(text.rstrip()):
        match = _TOKEN.match(text, at)
        if match is None:
            raise ValueError(f"{text!r}: cannot read {text[at:].strip()!r}; a constraint is "
                             f"numbers, {what} names, + - * and one <= or >=")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        at = match.end()
    return tokens


def _linear(tokens: list[tuple[str, str]], text: str, names: Sequence[str] | None,
            what: str) -> tuple[dict[str, float], float]:
    """A sum of terms (``3``, ``x``, ``2*x``, ``2 x``, ``x*2``, each with its sign) as
    its coefficients by name and its constant."""
    if not tokens:
        raise ValueError(f"{text!r}: one side of the inequality is empty")
    coefficients: dict[str, float] = {}
    constant = 0.0
    terms: list[tuple[float, list[tuple[str, str]]]] = []
    sign, term = 1.0, list[tuple[str, str]]()
    for kind, value in tokens:
        if kind == "op" and value in ("+", "-"):
            if term:  # the sign ends a term; a sign before any factor is the next term's
                terms.append((sign, term))
                sign, term = 1.0, list[tuple[str, str]]()
            sign = -sign if value == "-" else sign
        else:
            term.append((kind, value))
    terms.append((sign, term))
    for sign, term in terms:
        kinds = [kind for kind, value in term if value != "*"]
        values = [value for _, value in term]
        stars_between = values.count("*") == 0 or len(values) == 3 and values[1] == "*"
        if "op" in kinds or not 1 <= len(kinds) <= 2 or kinds.count("name") > 1 \
                or not stars_between:
            shown = " ".join(value for _, value in term) or "nothing"
            raise ValueError(f"{text!r}: cannot read the term {shown!r}; a term is a number, "
                             f"a {what}, or a number times a {what} ('2*x')")
        number = sign * float(np.prod([float(v) for k, v in term if k == "number"]))
        name = next((value for kind, value in term if kind == "name"), None)
        if name is None:
            constant += number
            continue
        if names is not None and name not in names:
            raise ValueError(f"{text!r}: unknown {what} {name!r}; the {what}s are "
                             f"{', '.join(names)} (put spaces around + and - where a name "
                             "could run into the next)")
        coefficients[name] = coefficients.get(name, 0.0) + number
    return coefficients, constant


# ---- numbers ------------------------------------------------------------------------


def satisfied(parameters: Sequence[Parameter], constraints: Sequence[LinearConstraint],
              x: np.ndarray, strictly: bool = False) -> np.ndarray:
    """``n``: whether each row of ``x`` (``n x d``, problem units) satisfies every
    constraint, within its tolerance (``strictly``: with no excess at all)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1, len(parameters))
    inside = np.ones(len(x), dtype=bool)
    for constraint in constraints:
        inside &= _excess(constraint, x) <= (0.0 if strictly else constraint.tolerance(parameters))
    return inside


def feasible_share(parameters: Sequence[Parameter],
                   constraints: Sequence[LinearConstraint], n: int = 2**14) -> float:
    """The share of ``n`` quasi-random points of the box (unscrambled Sobol, rounded
    where the parameters are integers) that satisfy every constraint."""
    from scipy.stats import qmc  # here: the API process checks specs without scipy loaded

    unit = qmc.Sobol(d=len(parameters), scramble=False).random(n)
    return float(satisfied(parameters, constraints, space.from_unit(parameters, unit)).mean())


def centre(parameters: Sequence[Parameter],
           constraints: Sequence[LinearConstraint]) -> np.ndarray | None:
    """``1 x d``: the box's centre (:func:`bayesopt.space.centre`) if it satisfies the
    constraints; else the same with the constrained parameters moved to the Chebyshev
    centre of the region the constraints leave (the centre of the largest ball inside
    it, with each parameter's range scaled to 1), as Ax's centre trial falls back to,
    its integers rounded to the nearest combination inside; None where none is."""
    point = space.centre(parameters)
    if satisfied(parameters, constraints, point)[0]:
        return point
    from scipy.optimize import linprog  # here: only a constrained design needs it

    involved = sorted({i for constraint in constraints for i, _ in constraint.coefficients})
    low = np.array([parameters[i].low for i in involved])
    width = np.array([parameters[i].high - parameters[i].low for i in involved])
    rows, bounds = [], []
    for constraint in constraints:  # a . (low + width u) <= bound, the ball's radius r inside
        a = np.zeros(len(involved))
        for i, c in constraint.coefficients:
            a[involved.index(i)] = c * width[involved.index(i)]
        rows.append([*a, np.linalg.norm(a)])
        bounds.append(constraint.bound - sum(c * parameters[i].low
                                             for i, c in constraint.coefficients))
    for j in range(len(involved)):  # r <= u_j <= 1 - r
        rows.append([*(-np.eye(len(involved))[j]), 1.0])
        bounds.append(0.0)
        rows.append([*np.eye(len(involved))[j], 1.0])
        bounds.append(1.0)
    solved = linprog(c=[0.0] * len(involved) + [-1.0], A_ub=np.array(rows), b_ub=bounds,
                     bounds=[(0, 1)] * len(involved) + [(0, None)], method="highs")
    if not solved.success:
        return None
    relaxed = point.copy()
    relaxed[0, involved] = low + width * solved.x[:-1]
    rounded = space.decode(parameters, space.encode(parameters, relaxed))
    if satisfied(parameters, constraints, rounded)[0]:
        return rounded
    repaired = _nearest_rounding(parameters, constraints, rounded[0], relaxed[0])
    return None if repaired is None else repaired[None, :]


def search_inequalities(parameters: Sequence[Parameter],
                        constraints: Sequence[LinearConstraint]
                        ) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """The constraints in the search coordinates of :mod:`bayesopt.space`, in BoTorch's
    form ``(columns, coefficients, rhs)``: ``sum(coefficients * z[columns]) >= rhs``."""
    columns = _columns(parameters)
    return [(np.array([columns[i] for i, _ in constraint.coefficients]),
             -np.array([c for _, c in constraint.coefficients]), -constraint.bound)
            for constraint in constraints]


def feasible_values(parameters: Sequence[Parameter], constraints: Sequence[LinearConstraint],
                    z: np.ndarray, fallback: Callable[[], np.ndarray]) -> np.ndarray:
    """``n x D`` points of the search box (inside the constraints, integers relaxed) as
    ``n x d`` values that satisfy every constraint: :func:`bayesopt.space.decode`, then,
    for a row that rounding or the optimiser's last digits put outside, the nearest
    integer rounding that is inside, or else the nearest row of ``fallback()`` (values
    known to satisfy them; called only then)."""
    z = np.asarray(z, dtype=np.float64).reshape(-1, space.bounds(parameters).shape[1])
    x = space.decode(parameters, z)
    if not constraints:
        return x
    columns = _columns(parameters)
    # SLSQP's answer can be over by a few units in the last place: moved inside too
    for row in np.flatnonzero(~satisfied(parameters, constraints, x, strictly=True)):
        relaxed = x[row].copy()
        for j, column in columns.items():
            relaxed[j] = z[row, column]
        repaired = _nearest_rounding(parameters, constraints, x[row], relaxed)
        x[row] = repaired if repaired is not None else _nearest(parameters, fallback(), relaxed)
    return x


def _nearest_rounding(parameters: Sequence[Parameter], constraints: Sequence[LinearConstraint],
                      x: np.ndarray, relaxed: np.ndarray) -> np.ndarray | None:
    integers = sorted({i for constraint in constraints for i, _ in constraint.coefficients
                       if parameters[i].integer})[:MAX_INTEGER_PARAMETERS]
    roundings = [sorted({float(np.clip(np.floor(relaxed[i]), parameters[i].low, parameters[i].high)),
                         float(np.clip(np.ceil(relaxed[i]), parameters[i].low, parameters[i].high))})
                 for i in integers]
    best, best_key = None, (float(np.inf), float(np.inf))
    for combination in itertools.product(*roundings):
        candidate = x.copy()
        candidate[integers] = combination
        candidate = _inside_on_floats(parameters, constraints, candidate)
        if not satisfied(parameters, constraints, candidate)[0]:
            continue
        # Nearest first; between equally near roundings (2.5 to 2 or 3), the one that
        # keeps each constraint's value nearest the relaxed point's: on an edge, on it.
        change = sum(abs(c.excess(candidate.tolist()) - c.excess(relaxed.tolist()))
                     for c in constraints)
        key = (round(_distance(parameters, candidate, relaxed), 12), float(change))
        if key < best_key:
            best, best_key = candidate, key
    return best


def _inside_on_floats(parameters: Sequence[Parameter], constraints: Sequence[LinearConstraint],
                      x: np.ndarray, rounds: int = 50) -> np.ndarray:
    """``x`` moved onto each violated constraint along its float parameters' coefficients
    and clipped to the bounds, in turn (alternating projections)."""
    x = x.copy()
    for _ in range(rounds):
        moved = False
        for constraint in constraints:
            excess = constraint.excess(x.tolist())
            floats = [(i, c) for i, c in constraint.coefficients if not parameters[i].integer]
            if excess <= 0 or not floats:
                continue
            norm = sum(c * c for _, c in floats)
            for i, c in floats:
                x[i] = np.clip(x[i] - excess * c / norm, parameters[i].low, parameters[i].high)
            moved = True
        if not moved:
            break
    return x


def _nearest(parameters: Sequence[Parameter], points: np.ndarray, target: np.ndarray) -> np.ndarray:
    if len(points) == 0:
        raise ValueError("no point satisfying the parameter constraints to fall back on")
    distances = [_distance(parameters, point, target) for point in points]
    return np.asarray(points[int(np.argmin(distances))], dtype=np.float64).copy()


def _distance(parameters: Sequence[Parameter], a: np.ndarray, b: np.ndarray) -> float:
    """Squared distance with each parameter scaled by its range (a category: 0 or 1)."""
    total = 0.0
    for j, parameter in enumerate(parameters):
        if parameter.categorical:
            total += float(round(a[j]) != round(b[j]))
        elif parameter.log_scale:
            total += ((np.log(a[j]) - np.log(b[j])) / np.log(parameter.high / parameter.low)) ** 2
        else:
            total += ((a[j] - b[j]) / (parameter.high - parameter.low)) ** 2
    return total


def _excess(constraint: LinearConstraint, x: np.ndarray) -> np.ndarray:
    return sum((c * x[:, i] for i, c in constraint.coefficients),
               start=np.zeros(len(x))) - constraint.bound


def _columns(parameters: Sequence[Parameter]) -> dict[int, int]:
    """Parameter index to its search column, for the parameters a constraint may name
    (those searched on one column of their own values)."""
    columns, at = {}, 0
    for j, parameter in enumerate(parameters):
        if parameter.categorical:
            at += len(parameter.choices)
            continue
        if not parameter.log_scale and not parameter.choices:
            columns[j] = at
        at += 1
    return columns
