"""kosresearch: research notebooks for Key Opinion Sales (KOS) programmes.

Public names are imported lazily, so ``import kosresearch`` is fast and has no
side effects (no logging set-up, no warning filters, no font registration).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "KosDataError": "kosresearch.errors",
    "KosParameterError": "kosresearch.errors",
    "NotFittedError": "kosresearch.errors",
    "open_dataset": "kosresearch.data.loader",
    "Dataset": "kosresearch.data.loader",
    "simulate": "kosresearch.data.simulate",
    "Scenario": "kosresearch.data.simulate",
    "SimulatedData": "kosresearch.data.simulate",
    "PRESETS": "kosresearch.data.simulate",
    "simulate_to_disk": "kosresearch.data.simulate",
    "customer_month_activity": "kosresearch.data.features",
    "load_region": "kosresearch.data.sources",
    "publish_headlines": "kosresearch.report.headlines",
    "set_theme": "kosresearch.report.theme",
    "md_text": "kosresearch.report.text",
    "t": "kosresearch.report.text",
    "pseudonymise": "kosresearch.report.text",
    "run_reports": "kosresearch.report.runner",
    "project_root": "kosresearch.paths",
    # attribution causality (issue 3)
    "AggteResult": "kosresearch.attribution",
    "AttGtResult": "kosresearch.attribution",
    "AttributionComparison": "kosresearch.attribution",
    "CausalImpactResult": "kosresearch.attribution",
    "CreditResult": "kosresearch.attribution",
    "DidResult": "kosresearch.attribution",
    "InterventionResult": "kosresearch.attribution",
    "MarkovResult": "kosresearch.attribution",
    "PeriodComparison": "kosresearch.attribution",
    "ProgrammeEffect": "kosresearch.attribution",
    "RefutationResult": "kosresearch.attribution",
    "ShapleyResult": "kosresearch.attribution",
    "att_gt": "kosresearch.attribution",
    "build_journeys": "kosresearch.attribution",
    "causal_impact": "kosresearch.attribution",
    "compare_attribution": "kosresearch.attribution",
    "compare_periods": "kosresearch.attribution",
    "credit_orders": "kosresearch.attribution",
    "did_2x2": "kosresearch.attribution",
    "heuristic_attribution": "kosresearch.attribution",
    "intervention_effect": "kosresearch.attribution",
    "markov_attribution": "kosresearch.attribution",
    "pretrend_test": "kosresearch.attribution",
    "programme_effect": "kosresearch.attribution",
    "refute_att_gt": "kosresearch.attribution",
    "shapley_attribution": "kosresearch.attribution",
    "store_week_panel": "kosresearch.attribution",
    # tier migration
    "customer_features": "kosresearch.tiers.features",
    "value_scores": "kosresearch.tiers.scoring",
    "assign_tiers": "kosresearch.tiers.scoring",
    "tier_agreement": "kosresearch.tiers.scoring",
    "tier_flows": "kosresearch.tiers.scoring",
    "transition_matrix": "kosresearch.tiers.transitions",
    "compare_transitions": "kosresearch.tiers.transitions",
    "promotion_effect": "kosresearch.tiers.promotion",
    "rising_stars": "kosresearch.tiers.stars",
    "effort_allocation": "kosresearch.tiers.effort",
    # value accounting (issue 7)
    "rfm_summary": "kosresearch.value",
    "calibration_holdout": "kosresearch.value",
    "BetaGeo": "kosresearch.value",
    "GammaGamma": "kosresearch.value",
    "customer_lifetime_value": "kosresearch.value",
    "holdout_check": "kosresearch.value",
    "acquisition_costs": "kosresearch.value",
    "referral_economics": "kosresearch.value",
    "ltv_cac": "kosresearch.value",
    "mask_personal_data": "kosresearch.privacy",
    # scorecards (issue 6)
    "kos_weekly_metrics": "kosresearch.scorecard",
    "scorecard": "kosresearch.scorecard",
    "best_practices": "kosresearch.scorecard",
    "leader_profile": "kosresearch.scorecard",
    "team_trends": "kosresearch.scorecard",
    # feedback loop (issue 6)
    "classify_feedback": "kosresearch.feedback",
    "evaluate_classifier": "kosresearch.feedback",
    "category_agreement": "kosresearch.feedback",
    "feedback_funnel": "kosresearch.feedback",
    "loop_closure_effect": "kosresearch.feedback",
    "product_themes": "kosresearch.feedback",
    "praise_stories": "kosresearch.feedback",
    # content effect sizes (issue 5)
    "content_posts": "kosresearch.content.rates",
    "engagement_table": "kosresearch.content.rates",
    "rate_ratios": "kosresearch.content.rates",
    "pairwise_rate_ratios": "kosresearch.content.rates",
    "cross_rate_ratios": "kosresearch.content.rates",
    "adjust_pvalues": "kosresearch.content.effects",
    "effect_size": "kosresearch.content.effects",
    "cohens_h": "kosresearch.content.effects",
    "min_detectable_rate_ratio": "kosresearch.content.effects",
    "posts_needed": "kosresearch.content.effects",
    "strategy_change_effect": "kosresearch.content.strategy",
    "kos_benchmark": "kosresearch.content.benchmark",
    "group_activation": "kosresearch.content.benchmark",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'kosresearch' has no attribute {name!r}") from None
    mod = importlib.import_module(module)
    # a public name that is also a subpackage (``scorecard``) resolves to the subpackage, which is
    # callable, so ``kr.scorecard(...)`` and ``from kosresearch import scorecard as sc`` both work
    value = mod if mod.__name__ == f"{__name__}.{name}" else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from kosresearch.data.loader import Dataset, open_dataset
    from kosresearch.data.simulate import Scenario, SimulatedData, simulate
    from kosresearch.data.sources import load_region
    from kosresearch.paths import project_root
    from kosresearch.report.headlines import publish_headlines
    from kosresearch.report.runner import run_reports
    from kosresearch.report.text import md_text, pseudonymise, t
    from kosresearch.report.theme import set_theme
    from kosresearch.content.benchmark import group_activation, kos_benchmark
    from kosresearch.content.effects import (
        adjust_pvalues,
        cohens_h,
        effect_size,
        min_detectable_rate_ratio,
        posts_needed,
    )
    from kosresearch.content.rates import (
        content_posts,
        cross_rate_ratios,
        engagement_table,
        pairwise_rate_ratios,
        rate_ratios,
    )
    from kosresearch.content.strategy import strategy_change_effect
    from kosresearch.errors import KosDataError, KosParameterError, NotFittedError
    from kosresearch.tiers.effort import effort_allocation
    from kosresearch.tiers.features import customer_features
    from kosresearch.tiers.promotion import promotion_effect
    from kosresearch.tiers.scoring import assign_tiers, tier_agreement, tier_flows, value_scores
    from kosresearch.tiers.stars import rising_stars
    from kosresearch.tiers.transitions import compare_transitions, transition_matrix
    from kosresearch.value import (
        BetaGeo,
        GammaGamma,
        acquisition_costs,
        calibration_holdout,
        customer_lifetime_value,
        holdout_check,
        ltv_cac,
        referral_economics,
        rfm_summary,
    )
    from kosresearch.feedback import (
        category_agreement,
        classify_feedback,
        evaluate_classifier,
        feedback_funnel,
        loop_closure_effect,
        praise_stories,
        product_themes,
    )
    from kosresearch.privacy import mask_personal_data
    from kosresearch.scorecard import best_practices, kos_weekly_metrics, leader_profile, scorecard, team_trends
