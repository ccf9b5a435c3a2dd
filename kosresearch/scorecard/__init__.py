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


# ``kosresearch.scorecard`` is both this package and the function ``scorecard`` (issue 6 names both).
# Once the package is imported, Python binds the attribute ``kosresearch.scorecard`` to the module, so
# the module is made callable: ``kr.scorecard(weekly)`` calls the function however it was reached.
import sys as _sys
import types as _types


class _CallableModule(_types.ModuleType):
    def __call__(self, *args, **kwargs):
        return scorecard(*args, **kwargs)

    @property
    def __signature__(self):  # help() and inspect show the function's signature
        import inspect

        return inspect.signature(scorecard)


_sys.modules[__name__].__class__ = _CallableModule
