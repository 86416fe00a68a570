"""Pareto-front mathematics for mofront: dominance and the non-dominated filter
(including the incremental ``on_front`` update the store runs for every batch), exact
hypervolume and hypervolume contributions, front-quality indicators (expected utility,
sparsity, IGD, IGD+, R2, and against a known front maximum utility loss and coverage),
empirical attainment surfaces of several runs, the front point a preference picks,
preference-weight grids, reference-point rules, and the conversion between
user-declared objective senses and the internal convention. Every function works in the
maximisation convention (all objectives maximised) on float64 arrays of shape
``(n_points, n_objectives)``; senses are converted at the boundary with
:func:`to_maximization` / :func:`from_maximization`. This package imports only numpy and
moocore — no torch, and nothing else of mofront — so every other package may import it.
"""

from pareto.attainment import attainment_surfaces, runs_needed
from pareto.dominance import dominates, non_dominated, non_dominated_mask, update_front
from pareto.hypervolume import hv_contributions, hypervolume, n_dominating_reference
from pareto.metrics import (
    coverage,
    distinct_points,
    expected_utility,
    igd,
    igd_plus,
    maximum_utility_loss,
    r2,
    sparsity,
)
from pareto.preference import (
    PreferenceChoice,
    best_conditioned_policy,
    best_for_preference,
    check_preference,
    normalized_utilities,
)
from pareto.reference import (
    ReferenceSource,
    check_reference_point,
    default_reference_point,
    resolve_reference_point,
)
from pareto.senses import Sense, from_maximization, to_maximization, validate_objectives
from pareto.weights import equally_spaced_weights, simplex_grid

__all__ = [
    "PreferenceChoice",
    "ReferenceSource",
    "Sense",
    "attainment_surfaces",
    "best_conditioned_policy",
    "best_for_preference",
    "check_preference",
    "check_reference_point",
    "coverage",
    "default_reference_point",
    "distinct_points",
    "dominates",
    "equally_spaced_weights",
    "expected_utility",
    "from_maximization",
    "hv_contributions",
    "hypervolume",
    "igd",
    "igd_plus",
    "maximum_utility_loss",
    "n_dominating_reference",
    "non_dominated",
    "non_dominated_mask",
    "normalized_utilities",
    "r2",
    "resolve_reference_point",
    "runs_needed",
    "simplex_grid",
    "sparsity",
    "to_maximization",
    "update_front",
    "validate_objectives",
]
