"""customer_features on a hand-made dataset whose every number can be worked out by hand (see helpers.tiny_tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kosresearch as kr
from kosresearch.errors import KosParameterError
from kosresearch.tiers.features import FEATURE_COLUMNS
from tests.tiers.helpers import tiny_tables


@pytest.fixture(scope="module")
def tiny():
    ds = kr.open_dataset(tiny_tables())
    yield ds
    ds.close()


@pytest.fixture(scope="module")
def feats(tiny):
    return kr.customer_features(tiny).set_index(["customer_id", "period"])


def test_panel_is_dense_from_the_acquisition_period_to_the_end_of_the_data(tiny, feats):
    assert list(kr.customer_features(tiny).columns) == list(FEATURE_COLUMNS)
    assert list(feats.index) == [("c1", "2024-01"), ("c1", "2024-02"), ("c2", "2024-01"), ("c2", "2024-02"),
                                 ("c3", "2024-02")]


def test_text_columns_keep_the_default_text_dtype_and_a_missing_advisor_is_missing(tiny):
    # object columns of Python strings cost a quarter of the time and 1.3 GB on a 3 M-row region
    f = kr.customer_features(tiny)
    text = ["customer_id", "region", "store_id", "kos_id", "acquisition_channel", "period"]
    assert all(pd.api.types.is_string_dtype(f[c]) for c in text)
    if int(pd.__version__.split(".")[0]) >= 3:
        assert not any(f[c].dtype == object for c in text)
    assert f["kos_id"].isna().any() and (f["kos_id"].isna() == ~f["kos_served"]).all()


def test_period_length_and_completeness_follow_the_data_end(feats):
    jan, feb = feats.loc[("c1", "2024-01")], feats.loc[("c1", "2024-02")]
    assert jan["period_days"] == 31 and bool(jan["period_complete"])
    # the data end on 2024-02-04 00:00, the day after the last order (c3, 02-03 11:00)
    assert feb["period_days"] == 3 and not bool(feb["period_complete"])
    assert jan["period_start"] == pd.Timestamp("2024-01-01")


def test_spend_frequency_repeat_and_recency_of_a_two_order_customer(feats):
    jan, feb = feats.loc[("c1", "2024-01")], feats.loc[("c1", "2024-02")]
    assert (jan["monetary"], jan["frequency"]) == (199.0, 1)
    assert bool(jan["first_purchase"]) and not bool(jan["repeat_purchase"]) and not bool(jan["repeat_buyer"])
    # last order 01-02 10:00, period end 02-01 00:00: 29 days 14 hours
    assert jan["recency_days"] == pytest.approx(29 + 14 / 24)
    assert jan["tenure_days"] == pytest.approx(30 + 14 / 24)
    assert jan["first_order_days"] == pytest.approx(29 + 14 / 24)
    assert feats.loc[("c3", "2024-02"), "first_order_days"] == pytest.approx(13 / 24)  # 02-03 11:00 to 02-04
    assert (feb["monetary"], feb["frequency"], feb["orders_to_date"], feb["spend_to_date"]) == (50.0, 1, 2, 249.0)
    assert bool(feb["repeat_purchase"]) and bool(feb["repeat_buyer"]) and not bool(feb["first_purchase"])
    assert feb["recency_days"] == pytest.approx(1.5)  # 02-02 12:00 to 02-04 00:00


def test_influence_counts_referrals_their_spend_and_orders_with_the_customers_code(feats):
    jan, feb = feats.loc[("c1", "2024-01")], feats.loc[("c1", "2024-02")]
    assert (jan["referrals"], jan["referred_spend"], jan["koc_code_orders"]) == (1, 100.5, 1)
    assert (feb["referrals"], feb["referred_spend"], feb["koc_code_orders"]) == (0, 0.0, 0)
    assert feats.loc[("c2", "2024-01"), "referrals"] == 0


def test_engagement_counts_and_the_last_activity(feats):
    jan = feats.loc[("c1", "2024-01")]
    assert (jan["kos_messages"], jan["messages_to_kos"], jan["group_messages"]) == (1, 0, 0)
    assert (jan["content_interactions"], jan["touchpoints"]) == (1, 1)
    assert (jan["feedback_given"], jan["feedback_to_date"]) == (1, 1)
    # last customer activity in January: the feedback on 01-10 10:00 (the KOS's message does not count)
    assert jan["days_since_active"] == pytest.approx(21 + 14 / 24)
    c3 = feats.loc[("c3", "2024-02")]
    assert c3["messages_to_kos"] == 1 and c3["kos_served"] and not feats.loc[("c2", "2024-01"), "kos_served"]
    # a quiet period keeps counting from the last activity
    c2 = feats.loc[("c2", "2024-02")]
    assert c2["frequency"] == 0 and c2["days_since_active"] == pytest.approx(25 + 5.5 / 24 + 3)  # 01-06 18:30 to 02-04 00:00


def test_start_and_end_select_periods_and_end_hides_later_events(tiny):
    f = kr.customer_features(tiny, end="2024-01")
    assert set(f["period"]) == {"2024-01"} and len(f) == 2
    c1 = f.set_index("customer_id").loc["c1"]
    assert c1["spend_to_date"] == 199.0 and bool(c1["period_complete"])
    g = kr.customer_features(tiny, start="2024-02-15")
    assert set(g["period"]) == {"2024-02"}
    assert g.set_index("customer_id").loc["c1", "orders_to_date"] == 2


def test_quarters_and_weeks_have_their_own_labels(tiny):
    q = kr.customer_features(tiny, period="Q")
    assert set(q["period"]) == {"2024-Q1"} and q.set_index("customer_id").loc["c1", "frequency"] == 2
    w = kr.customer_features(tiny, period="W")
    assert w["period"].iloc[0] == "2024-W01"
    assert w.groupby("customer_id").size()["c1"] == 5  # 2024-W01 .. 2024-W05


def test_missing_optional_tables_give_missing_columns_not_zeros():
    t = tiny_tables()
    for name in ("messages", "touchpoints", "feedback", "promo_codes", "content", "groups", "group_members"):
        t.pop(name)
    t["orders"]["promo_code"] = None
    f = kr.customer_features(kr.open_dataset(t))
    assert f["messages_to_kos"].isna().all() and f["touchpoints"].isna().all()
    assert f["koc_code_orders"].isna().all() and f["feedback_given"].isna().all()
    assert np.isfinite(f["days_since_active"]).all()


def test_bad_arguments_are_refused(tiny):
    with pytest.raises(KosParameterError, match=r"period='D' is not allowed; choose one of \['M', 'Q', 'W'\]"):
        kr.customer_features(tiny, period="D")
    with pytest.raises(KosParameterError, match="start='2024-03' lies after end='2024-01'"):
        kr.customer_features(tiny, start="2024-03", end="2024-01")
    with pytest.raises(KosParameterError, match="start='someday' is not a date"):
        kr.customer_features(tiny, start="someday")


def test_sample_panel_matches_the_latent_tier_panel_row_for_row(sample_features, truth_tiers):
    assert len(sample_features) == len(truth_tiers)
    assert sample_features["monetary"].sum() == pytest.approx(
        sample_features.groupby("customer_id")["spend_to_date"].last().sum())
