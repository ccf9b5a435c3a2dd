"""Tier migration: value scores, tiers, transition matrices, promotion effect, rising stars, effort vs value.

Public names (see each docstring):

- :func:`customer_features` — customer × period features in DuckDB SQL;
- :func:`value_scores` — spend, repurchase, influence and engagement scores and the weighted value score;
- :func:`assign_tiers` — core / potential / mass / churned per customer and period (with hysteresis);
- :func:`tier_agreement`, :func:`tier_flows` — agreement with reference tiers; flows between two periods;
- :func:`transition_matrix`, :func:`compare_transitions` — Markov transition matrices with intervals,
  chain algebra (n-step, stationary, first passage, absorption, projection) and homogeneity tests;
- :func:`promotion_effect` — effect of promotion invitations (IPW or matching) with balance and overlap;
- :func:`rising_stars` — potential and mass customers most likely to move up, with reasons;
- :func:`effort_allocation` — KOS effort per tier against value per tier, flagging even spreaders.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "customer_features": "kosresearch.tiers.features",
    "value_scores": "kosresearch.tiers.scoring",
    "assign_tiers": "kosresearch.tiers.scoring",
    "tier_agreement": "kosresearch.tiers.scoring",
    "tier_flows": "kosresearch.tiers.scoring",
    "logistic_repurchase": "kosresearch.tiers.scoring",
    "bgnbd_repurchase": "kosresearch.tiers.scoring",
    "ValueScores": "kosresearch.tiers.scoring",
    "TierAssignment": "kosresearch.tiers.scoring",
    "AgreementResult": "kosresearch.tiers.scoring",
    "FlowResult": "kosresearch.tiers.scoring",
    "TIER_LABELS": "kosresearch.tiers.scoring",
    "DEFAULT_WEIGHTS": "kosresearch.tiers.scoring",
    "transition_matrix": "kosresearch.tiers.transitions",
    "compare_transitions": "kosresearch.tiers.transitions",
    "TransitionResult": "kosresearch.tiers.transitions",
    "SegmentedTransitions": "kosresearch.tiers.transitions",
    "AbsorptionResult": "kosresearch.tiers.transitions",
    "ProjectionResult": "kosresearch.tiers.transitions",
    "ComparisonResult": "kosresearch.tiers.transitions",
    "TIER_STATES": "kosresearch.tiers.transitions",
    "promotion_effect": "kosresearch.tiers.promotion",
    "PromotionResult": "kosresearch.tiers.promotion",
    "rising_stars": "kosresearch.tiers.stars",
    "RisingStarsResult": "kosresearch.tiers.stars",
    "effort_allocation": "kosresearch.tiers.effort",
    "EffortResult": "kosresearch.tiers.effort",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'kosresearch.tiers' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
