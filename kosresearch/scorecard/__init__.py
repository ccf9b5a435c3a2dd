"""KOS scorecards: weekly process, relationship and growth metrics; fair composite ranks; best practices."""

from kosresearch.scorecard.leaders import (
    BestPracticesResult,
    LeaderProfileResult,
    TeamTrendsResult,
    best_practices,
    leader_profile,
    team_trends,
)
from kosresearch.scorecard.metrics import METRICS, NO_REPLY_TEXTS, MetricInfo, kos_weekly_metrics
from kosresearch.scorecard.scorecard import DEFAULT_WEIGHTS, LAYERS, ScorecardResult, scorecard

__all__ = [
    "kos_weekly_metrics",
    "scorecard",
    "best_practices",
    "leader_profile",
    "team_trends",
    "ScorecardResult",
    "BestPracticesResult",
    "LeaderProfileResult",
    "TeamTrendsResult",
    "MetricInfo",
    "METRICS",
    "NO_REPLY_TEXTS",
    "DEFAULT_WEIGHTS",
    "LAYERS",
]
