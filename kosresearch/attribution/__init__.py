"""Attribution causality: credit rules, multi-touch attribution, staggered DiD, counterfactual time series, placebo checks."""

from kosresearch.attribution.journeys import build_journeys, heuristic_attribution
from kosresearch.attribution.mta import (
    AttributionComparison,
    MarkovResult,
    ShapleyResult,
    compare_attribution,
    markov_attribution,
    shapley_attribution,
)

__all__ = [
    "AttributionComparison",
    "MarkovResult",
    "ShapleyResult",
    "build_journeys",
    "compare_attribution",
    "heuristic_attribution",
    "markov_attribution",
    "shapley_attribution",
]
