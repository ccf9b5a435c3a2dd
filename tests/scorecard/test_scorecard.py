"""Tests of the composite scorecard on weekly tables small enough to score by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.scorecard import DEFAULT_WEIGHTS, scorecard
from kosresearch.scorecard._aggregate import Grouper
from tests.scorecard.helpers import weekly_frame

GOOD = {"sla_met": 9, "replied_within_5min": 9, "new_members_spoke_7d": 9, "sentiment_positive": 9,
        "sentiment_negative": 1, "response_minutes_median": 5.0, "posts": 20, "interactions": 300,
        "group_active_speakers": 3.0, "book_sales": 20.0, "leads": 20, "private_adds": 20,
        "active_private_customers": 20, "repeat_sales": 20.0}
MID = {"sla_met": 5, "replied_within_5min": 5, "new_members_spoke_7d": 5, "sentiment_positive": 5,
       "sentiment_negative": 5, "response_minutes_median": 20.0, "posts": 10, "interactions": 100,
       "group_active_speakers": 1.0, "book_sales": 10.0, "leads": 10, "private_adds": 10,
       "active_private_customers": 10, "repeat_sales": 10.0}
BAD = {"sla_met": 1, "replied_within_5min": 1, "new_members_spoke_7d": 1, "sentiment_positive": 1,
       "sentiment_negative": 9, "response_minutes_median": 60.0, "posts": 1, "interactions": 1,
       "group_active_speakers": 0.1, "book_sales": 2.0, "leads": 1, "private_adds": 1,
       "active_private_customers": 1, "repeat_sales": 1.0}


def test_a_kos_best_on_every_metric_ranks_first_with_the_top_percentile():
    card = scorecard(weekly_frame({"a": GOOD, "b": MID, "c": BAD}), period=None, n_boot=20)
    t = card.table.set_index("kos_id")
    assert list(t["rank"]) == [1, 2, 3]
    np.testing.assert_allclose(t["composite"], [100 * 2.5 / 3, 100 * 1.5 / 3, 100 * 0.5 / 3])
    for layer in ("process", "relationship", "growth"):
        assert t.loc["a", f"score_{layer}"] > t.loc["c", f"score_{layer}"]


def test_identical_kos_share_the_rank_and_score_fifty():
    card = scorecard(weekly_frame({"a": {}, "b": {}}), period=None, n_boot=20)
    assert list(card.table["rank"]) == [1, 1]
    np.testing.assert_allclose(card.table["composite"], 50.0)


def test_shorter_response_time_scores_higher():
    card = scorecard(weekly_frame({"fast": {"response_minutes_median": 3.0}, "slow": {"response_minutes_median": 90.0}}),
                     weights={"response_minutes_median": 1.0}, period=None, n_boot=20)
    t = card.table.set_index("kos_id")
    assert t.loc["fast", "composite"] == 75.0 and t.loc["slow", "composite"] == 25.0


def test_weights_pick_the_metrics_of_the_composite():
    frame = weekly_frame({"a": {"sla_met": 9, "posts": 1}, "b": {"sla_met": 1, "posts": 30}})
    by_sla = scorecard(frame, weights={"sla_share": 1}, period=None, n_boot=20).table.set_index("kos_id")
    by_posts = scorecard(frame, weights={"posts_per_week": 2}, period=None, n_boot=20).table.set_index("kos_id")
    assert by_sla.loc["a", "rank"] == 1 and by_posts.loc["b", "rank"] == 1
    assert by_posts.loc["b", "composite"] == 75.0


def test_default_weights_sum_to_one_over_the_three_layers():
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)


def test_a_kos_without_a_metric_is_scored_on_the_others_and_shows_the_weight_covered():
    frame = weekly_frame({"a": {}, "b": {"group_active_speakers": np.nan}})
    t = scorecard(frame, period=None, n_boot=20).table.set_index("kos_id")
    assert t.loc["a", "weight_covered"] == pytest.approx(1.0)
    assert t.loc["b", "weight_covered"] == pytest.approx(1.0 - DEFAULT_WEIGHTS["group_active_speakers"])


def test_mix_adjusted_sales_ratio_is_customer_sales_over_expected():
    frame = weekly_frame({"a": {"book_sales": 30.0, "expected_sales": 20.0}})
    t = scorecard(frame, period=None, n_boot=20).table
    assert t.loc[0, "sales_vs_expected"] == pytest.approx(1.5)


def test_shares_pool_numerators_and_denominators_over_the_weeks():
    frame = weekly_frame({"a": {}}, weeks=2)
    frame.loc[0, ["sla_met", "sla_customers"]] = [1, 1]
    frame.loc[1, ["sla_met", "sla_customers"]] = [0, 9]
    t = scorecard(frame, period=None, n_boot=20).table
    assert t.loc[0, "sla_share"] == pytest.approx(0.1)  # not the mean of 1.0 and 0.0


def test_weekly_medians_are_combined_by_their_weighted_median():
    grouper = Grouper(np.zeros(3, int), 1)
    med = grouper.weighted_median(np.array([10.0, 20.0, 30.0]), np.array([1.0, 5.0, 1.0]), np.ones((3, 1)))
    assert med[0, 0] == 20.0
    med = grouper.weighted_median(np.array([10.0, np.nan, 30.0]), np.array([3.0, 5.0, 1.0]), np.ones((3, 1)))
    assert med[0, 0] == 10.0


def test_periods_split_the_weeks_and_rank_intervals_contain_the_rank():
    rng = np.random.default_rng(3)
    frame = weekly_frame({k: {} for k in "abcdef"}, weeks=10)
    frame["sla_met"] = rng.integers(0, 11, len(frame))
    frame["posts"] = rng.integers(0, 30, len(frame))
    card = scorecard(frame, period="M", n_boot=100)
    assert sorted(card.table["period"].unique()) == ["2024-01", "2024-02", "2024-03"]
    t = card.table
    assert ((t["rank_low"] <= t["rank"]) & (t["rank"] <= t["rank_high"])).all()
    assert (t["conf_low"] <= t["conf_high"]).all()
    assert (t["n_kos"] == 6).all()


def test_the_bootstrap_is_reproducible_with_its_seed():
    frame = weekly_frame({"a": {"posts": 3}, "b": {"posts": 5}}, weeks=6)
    frame["posts"] = np.arange(len(frame)) % 7
    one = scorecard(frame, period=None, n_boot=50, seed=1).table
    two = scorecard(frame, period=None, n_boot=50, seed=1).table
    pd.testing.assert_frame_equal(one, two)


def test_the_input_table_is_not_modified():
    frame = weekly_frame({"a": GOOD, "b": BAD})
    before = frame.copy()
    scorecard(frame, n_boot=20)
    pd.testing.assert_frame_equal(frame, before)


def test_summary_and_plot_show_the_last_period():
    import matplotlib

    matplotlib.use("Agg")
    card = scorecard(weekly_frame({"a": GOOD, "b": BAD}, weeks=6), period="M", n_boot=20)
    summary = card.summary(lang="zh")
    assert list(summary["KOS"]) == ["name-a", "name-b"]
    ax = card.plot(lang="en")
    assert ax.get_title().endswith("2024-02")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"weights": {"sales": 1}}, KosParameterError, "not scorecard metrics"),
        ({"weights": {"sla_share": -1}}, KosParameterError, r"weights\['sla_share'\]=-1"),
        ({"weights": {"sla_share": 0}}, KosParameterError, "at least one metric"),
        ({"weights": [("sla_share", 1)]}, KosParameterError, "must be a mapping"),
        ({"period": "D"}, KosParameterError, "period='D'"),
        ({"n_boot": 5}, KosParameterError, "n_boot=5"),
        ({"conf_level": 95}, KosParameterError, "conf_level=95"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        scorecard(weekly_frame({"a": {}}), **kwargs)


def test_a_table_that_is_not_the_weekly_metrics_is_refused():
    with pytest.raises(KosDataError, match="week='week' is not a column of metrics"):
        scorecard(pd.DataFrame({"region": ["e"], "kos_id": ["k"], "kos_name": ["n"], "store_id": ["s"]}))
    frame = weekly_frame({"a": {}}).drop(columns="sla_met")
    with pytest.raises(KosDataError, match="lacks columns \\['sla_met'\\]"):
        scorecard(frame)
    with pytest.raises(KosDataError, match="no rows"):
        scorecard(weekly_frame({"a": {}}).iloc[:0])
