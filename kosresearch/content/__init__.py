"""Content effect sizes: rates per exposure, rate ratios, effect sizes, multiplicity, power,
strategy-change verification and fair advisor benchmarking."""

from kosresearch.content.benchmark import KosBenchmark, group_activation, kos_benchmark
from kosresearch.content.effects import (
    EffectSizeResult,
    adjust_pvalues,
    cohens_h,
    effect_size,
    min_detectable_rate_ratio,
    posts_needed,
)
from kosresearch.content.strategy import StrategyChangeResult, strategy_change_effect
from kosresearch.content.rates import (
    CrossRateRatios,
    EngagementTable,
    PairwiseRateRatios,
    RateRatioContrast,
    RateRatioResult,
    content_posts,
    cross_rate_ratios,
    engagement_table,
    pairwise_rate_ratios,
    rate_ratios,
)

__all__ = [
    "CrossRateRatios",
    "EffectSizeResult",
    "EngagementTable",
    "KosBenchmark",
    "PairwiseRateRatios",
    "RateRatioContrast",
    "RateRatioResult",
    "StrategyChangeResult",
    "adjust_pvalues",
    "cohens_h",
    "content_posts",
    "cross_rate_ratios",
    "effect_size",
    "engagement_table",
    "group_activation",
    "kos_benchmark",
    "min_detectable_rate_ratio",
    "pairwise_rate_ratios",
    "posts_needed",
    "rate_ratios",
    "strategy_change_effect",
]
