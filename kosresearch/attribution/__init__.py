"""Attribution causality: credit rules, multi-touch attribution, staggered DiD, counterfactual time series, placebo checks."""

from kosresearch.attribution.compare import PeriodComparison, compare_periods
from kosresearch.attribution.did import AggteResult, AttGtResult, DidResult, att_gt, did_2x2
from kosresearch.attribution.its import CausalImpactResult, InterventionResult, causal_impact, intervention_effect
from kosresearch.attribution.journeys import build_journeys, heuristic_attribution
from kosresearch.attribution.mta import (
    AttributionComparison,
    MarkovResult,
    ShapleyResult,
    compare_attribution,
    markov_attribution,
    shapley_attribution,
)
from kosresearch.attribution.panel import store_week_panel
from kosresearch.attribution.rules import CreditResult, credit_orders
from kosresearch.attribution.placebo import (
    ProgrammeEffect,
    RefutationResult,
    pretrend_test,
    programme_effect,
    refute_att_gt,
)

__all__ = [
    "AggteResult",
    "AttGtResult",
    "AttributionComparison",
    "CausalImpactResult",
    "CreditResult",
    "InterventionResult",
    "DidResult",
    "MarkovResult",
    "PeriodComparison",
    "ProgrammeEffect",
    "RefutationResult",
    "ShapleyResult",
    "att_gt",
    "build_journeys",
    "causal_impact",
    "compare_attribution",
    "compare_periods",
    "credit_orders",
    "did_2x2",
    "heuristic_attribution",
    "intervention_effect",
    "markov_attribution",
    "pretrend_test",
    "programme_effect",
    "refute_att_gt",
    "shapley_attribution",
    "store_week_panel",
]
