"""Tests of best_practices, leader_profile and team_trends on hand-made weekly tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.scorecard import best_practices, leader_profile, team_trends
from tests.scorecard.helpers import weekly_frame


def _pool(rates: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """One week per KOS with new_members_spoke_7d / new_members = successes / trials."""
    return weekly_frame({k: {"new_members_spoke_7d": s, "new_members": n} for k, (s, n) in rates.items()}, weeks=1)


def test_a_large_kos_far_above_the_pool_is_credibly_better_and_a_tiny_lucky_one_is_not():
    rates = {f"k{i}": (10, 100) for i in range(12)}
    rates["star"] = (60, 100)
    rates["lucky"] = (2, 2)
    best = best_practices(_pool(rates), metric="new_member_speak_share")
    t = best.table.set_index("kos_id")
    assert list(best.leaders["kos_id"]) == ["star"]
    assert t.loc["lucky", "rate"] == 1.0 and not t.loc["lucky", "credibly_better"]
    assert t.loc["star", "conf_low"] > t.loc["star", "pool_rate"]


def test_posterior_is_the_beta_binomial_update_of_the_fitted_prior():
    rates = {f"k{i}": (s, 50) for i, s in enumerate([3, 5, 8, 10, 4, 6, 20, 2])}
    t = best_practices(_pool(rates), metric="new_member_speak_share").table.set_index("kos_id")
    a, b = t["prior_alpha"].iloc[0], t["prior_beta"].iloc[0]
    np.testing.assert_allclose(t["estimate"], (a + t["successes"]) / (a + b + t["trials"]))
    np.testing.assert_allclose(t["conf_low"], stats.beta.ppf(0.025, a + t["successes"], b + t["trials"] - t["successes"]))


def test_when_rates_differ_no_more_than_chance_nobody_is_flagged():
    rng = np.random.default_rng(5)
    rates = {f"k{i}": (int(rng.binomial(40, 0.2)), 40) for i in range(30)}
    assert len(best_practices(_pool(rates), metric="new_member_speak_share").leaders) == 0


def test_for_negative_share_lower_is_better():
    rates = {f"k{i}": {"sentiment_negative": 10, "sentiment_messages": 100} for i in range(10)}
    rates["calm"] = {"sentiment_negative": 0, "sentiment_messages": 200}
    best = best_practices(weekly_frame(rates, weeks=1), metric="negative_share")
    assert list(best.leaders["kos_id"]) == ["calm"]
    assert best.table["kos_id"].iloc[0] == "calm"


def test_their_numbers_come_with_the_leaders():
    rates = {f"k{i}": (10, 100) for i in range(8)} | {"star": (60, 100)}
    t = best_practices(_pool(rates), metric="new_member_speak_share").table
    assert {"sla_share", "posts_per_week", "sales_vs_expected"} <= set(t.columns)


def test_since_keeps_only_later_weeks():
    frame = weekly_frame({"a": {}, "b": {}}, weeks=4)
    frame.loc[frame["week"] < "2024-01-15", "new_members"] = 1000
    t = best_practices(frame, metric="new_member_speak_share", since="2024-01-15").table
    assert (t["trials"] == 20).all()


def test_funnel_plot_and_summary_render():
    import matplotlib

    matplotlib.use("Agg")
    rates = {f"k{i}": (10, 100) for i in range(8)} | {"star": (60, 100)}
    best = best_practices(_pool(rates), metric="new_member_speak_share")
    assert len(best.summary(lang="zh")) == 1
    assert "Funnel" in best.plot().get_title()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"metric": "sales_per_week"}, KosParameterError, "metric='sales_per_week' is not a share metric"),
        ({"metric": "sla_share", "min_trials": 0}, KosParameterError, "min_trials=0"),
        ({"metric": "sla_share", "since": "soon"}, KosParameterError, "since='soon'"),
        ({"metric": "sla_share", "since": "2030-01-01"}, KosDataError, "no rows from since"),
    ],
)
def test_best_practices_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        best_practices(weekly_frame({"a": {}}), **kwargs)


def test_leader_profile_finds_the_metric_that_separates_sales_leaders():
    kos = {}
    for i in range(20):
        leader = i < 5
        kos[f"k{i}"] = {"book_sales": 30.0 + i if leader else 5.0 + i, "posts": 20 + i if leader else i,
                        "sla_met": 5}
    profile = leader_profile(weekly_frame(kos, weeks=2), n_boot=100)
    top = profile.table.iloc[0]
    assert top["metric"] == "posts_per_week" and top["estimate"] == pytest.approx(1.0)
    assert "sales_vs_expected" not in set(profile.table["metric"])  # the outcome's own layer is left out


def test_leader_profile_refuses_too_few_kos_and_bad_top():
    with pytest.raises(KosDataError, match="at least 2 leaders and 2 other KOS"):
        leader_profile(weekly_frame({"a": {}, "b": {}}), n_boot=50)
    with pytest.raises(KosParameterError, match="top=1.5"):
        leader_profile(weekly_frame({"a": {}}), top=1.5)
    with pytest.raises(KosParameterError, match="outcome='profit'"):
        leader_profile(weekly_frame({"a": {}}), outcome="profit")


def test_team_trends_pool_over_kos_with_wilson_intervals():
    frame = weekly_frame({"a": {"sla_met": 2, "sla_customers": 4}, "b": {"sla_met": 6, "sla_customers": 6}}, weeks=1)
    t = team_trends(frame, period=None).table.set_index("metric")
    assert t.loc["sla_share", "estimate"] == pytest.approx(0.8)
    assert t.loc["sla_share", "n"] == 10
    assert t.loc["sla_share", "conf_low"] < 0.8 < t.loc["sla_share", "conf_high"]
    assert t.loc["posts_per_week", "estimate"] == pytest.approx(10.0)


@pytest.mark.parametrize("period", ["W", "M", "Q", "Y", None])
def test_team_trends_plot_every_period(period):
    import matplotlib

    matplotlib.use("Agg")
    trends = team_trends(weekly_frame({"a": {}, "b": {}}, weeks=10), period=period)
    ax = trends.plot(lang="zh")
    assert len(ax.get_lines()) == 4
    assert len(trends.summary(lang="en")) == len(trends.latest())
