"""Known-answer tests of kos_weekly_metrics on the hand-made dataset of tests/scorecard/helpers.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kosresearch as kr
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.scorecard import NO_REPLY_TEXTS, kos_weekly_metrics
from tests.scorecard.helpers import tiny_tables


@pytest.fixture(scope="module")
def weekly() -> pd.DataFrame:
    return kos_weekly_metrics(kr.open_dataset(tiny_tables())).set_index(["kos_id", "week"])


W1, W2 = pd.Timestamp("2024-02-26"), pd.Timestamp("2024-03-04")


def test_one_row_per_kos_and_week_from_the_first_week_of_data(weekly):
    assert list(weekly.index) == [("k1", W1), ("k1", W2), ("k2", W1), ("k2", W2)]
    assert weekly.loc[("k1", W1), "kos_name"] == "小王"


def test_response_time_counts_business_minutes_across_the_night_and_the_weekend(weekly):
    # Sat 20:50 -> Sun 09:10 is 10 + 10 business minutes; Sun 23:00 -> Mon 09:05 is 5
    row = weekly.loc[("k1", W1)]
    assert row["reply_needed"] == 2 and row["replied"] == 2
    assert row["response_minutes_median"] == pytest.approx(12.5)
    assert row["response_minutes_p90"] == pytest.approx(5 + 0.9 * 15)
    assert (row["replied_within_1min"], row["replied_within_5min"], row["replied_within_30min"]) == (0, 1, 2)


def test_a_question_sent_and_answered_before_opening_waited_zero_minutes(weekly):
    # Tue 03:00 -> 08:30: both outside business hours
    row = weekly.loc[("k1", W2)]
    assert row["response_minutes_median"] == 0.0
    assert row["replied_within_1min"] == 1


def test_a_second_message_of_the_same_wait_is_not_counted_again(weekly):
    # m01 and m02 wait for the same reply m03: one wait, not two
    assert weekly.loc[("k1", W1), "reply_needed"] == 2


def test_thanks_and_emoji_need_no_reply_but_a_message_without_text_does(weekly):
    row = weekly.loc[("k1", W2)]
    assert row["no_reply_messages"] == 2  # "谢谢！" and "👍"
    # waits: m06 (answered), m10 (no text: unknown content, needs a reply), m12 and m14 (never answered)
    assert row["reply_needed"] == 4 and row["replied"] == 1
    assert row["replied_within_30min_share"] == pytest.approx(0.25)


def test_the_no_reply_list_is_configurable_and_compared_after_normalising():
    tables = tiny_tables()
    ds = kr.open_dataset(tables)
    strict = kos_weekly_metrics(ds, no_reply=()).set_index(["kos_id", "week"])
    # without a list only the emoji-only message is excused
    assert strict.loc[("k1", W2), "no_reply_messages"] == 1
    wider = kos_weekly_metrics(ds, no_reply=(*NO_REPLY_TEXTS, "你好")).set_index(["kos_id", "week"])
    # "你好" (m12, m14) now needs no reply either
    assert wider.loc[("k1", W2), "no_reply_messages"] == 4
    assert wider.loc[("k1", W2), "reply_needed"] == 2


@pytest.mark.parametrize("text", ["好的", "好的！", " OK ", "ok~", "谢谢亲😊", "👌🏻", "🙏🙏"])
def test_acknowledgements_with_punctuation_case_and_emoji_are_excused(text):
    tables = tiny_tables()
    msgs = tables["messages"]
    msgs.loc[msgs["message_id"] == "m10", "text"] = text
    row = kos_weekly_metrics(kr.open_dataset(tables)).set_index(["kos_id", "week"]).loc[("k1", W2)]
    assert row["no_reply_messages"] == 3
    assert row["reply_needed"] == 3


def test_sla_met_exactly_at_the_deadline_and_missed_one_second_later(weekly):
    # c2 answers exactly 24 business hours after acquisition, c3 one second later
    row = weekly.loc[("k1", W2)]
    assert row["private_adds"] == 2
    assert (row["sla_customers"], row["sla_met"]) == (2, 1)
    assert row["sla_share"] == pytest.approx(0.5)


def test_a_customer_whose_deadline_is_after_the_data_end_is_left_out_of_the_sla_share(weekly):
    row = weekly.loc[("k2", W2)]
    assert row["private_adds"] == 1
    assert row["sla_customers"] == 0 and np.isnan(row["sla_share"])


def test_the_sla_deadline_follows_sla_hours():
    ds = kr.open_dataset(tiny_tables())
    loose = kos_weekly_metrics(ds, sla_hours=25).set_index(["kos_id", "week"]).loc[("k1", W2)]
    assert (loose["sla_customers"], loose["sla_met"]) == (2, 2)


def test_business_hours_change_the_clock():
    ds = kr.open_dataset(tiny_tables())
    row = kos_weekly_metrics(ds, business_hours=("10:00", "20:00")).set_index(["kos_id", "week"]).loc[("k1", W1)]
    # Sat 20:50 -> Sun 09:10: both outside 10-20 -> 0; Sun 23:00 -> Mon 09:05 -> 0
    assert row["response_minutes_median"] == 0.0


def test_new_member_speaking_exactly_7_days_after_joining_counts_and_recent_members_wait(weekly):
    assert (weekly.loc[("k1", W1), "new_members"], weekly.loc[("k1", W1), "new_members_spoke_7d"]) == (1, 1)
    assert weekly.loc[("k1", W2), "new_members"] == 0  # joined less than 7 days before the data end


def test_group_daily_active_speakers_is_zero_with_a_group_and_missing_without(weekly):
    assert weekly.loc[("k1", W1), "group_active_speakers"] == 0.0
    assert weekly.loc[("k1", W2), "group_active_speakers"] == pytest.approx(1 / 7)
    assert np.isnan(weekly.loc[("k2", W1), "group_active_speakers"])


def test_posts_interactions_leads_and_sentiment(weekly):
    row = weekly.loc[("k1", W1)]
    assert (row["posts"], row["interactions"], row["leads"]) == (1, 16, 2)
    assert (row["sentiment_messages"], row["sentiment_positive"], row["sentiment_negative"]) == (2, 1, 1)


def test_sales_repeat_sales_and_active_private_customers(weekly):
    row = weekly.loc[("k1", W2)]
    assert row["sales"] == pytest.approx(320.0) and row["repeat_sales"] == pytest.approx(200.0)
    assert row["orders"] == 3
    assert row["active_private_customers"] == 3


def test_expected_sales_standardise_by_channel_and_tier(weekly):
    # week 2, all customers 'new': walk-in rate (200 + 50 + 30) / 3, paid-ads rate 70
    assert weekly.loc[("k1", W2), "expected_sales"] == pytest.approx(2 * 280 / 3 + 70)
    assert weekly.loc[("k2", W2), "expected_sales"] == pytest.approx(280 / 3)


def test_expected_sales_add_up_to_the_customers_sales_when_every_customer_is_bound(weekly):
    total = weekly.groupby(level="week")[["book_sales", "expected_sales"]].sum()
    np.testing.assert_allclose(total["expected_sales"], total["book_sales"])


def test_without_message_tables_the_message_metrics_are_missing():
    tables = {k: v for k, v in tiny_tables().items() if k not in ("messages", "groups", "group_members", "content")}
    out = kos_weekly_metrics(kr.open_dataset(tables))
    assert out["sla_share"].isna().all() and out["response_minutes_median"].isna().all()
    assert out["posts"].isna().all() and out["group_active_speakers"].isna().all()
    assert out["private_adds"].sum() == 4


def test_the_input_dataset_is_left_unchanged():
    tables = tiny_tables()
    before = {k: v.copy() for k, v in tables.items()}
    kos_weekly_metrics(kr.open_dataset(tables))
    for k, v in tables.items():
        pd.testing.assert_frame_equal(v, before[k])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sla_hours": 0}, "sla_hours=0"),
        ({"sla_hours": "24"}, "sla_hours='24'"),
        ({"reply_minutes": (5, 5)}, "reply_minutes=\\(5, 5\\)"),
        ({"reply_minutes": (0.5,)}, "reply_minutes"),
        ({"business_hours": ("21:00", "09:00")}, "must close after it opens"),
        ({"business_hours": ("9am", "21:00")}, "'9am' is not a time of day"),
        ({"business_hours": "09:00-21:00"}, "business_hours='09:00-21:00'"),
        ({"no_reply": "谢谢"}, "no_reply='谢谢'"),
        ({"no_reply": ["谢谢", 1]}, "texts only; got 1"),
    ],
)
def test_bad_arguments_are_refused_with_their_name(kwargs, match):
    with pytest.raises(KosParameterError, match=match):
        kos_weekly_metrics(kr.open_dataset(tiny_tables()), **kwargs)


def test_a_dataset_without_orders_is_refused():
    class NoOrders:  # stands in for a Dataset whose source lacks the orders table
        def require(self, *names):
            raise KosDataError(f"this analysis needs table 'orders', which the source does not have ({names})")

    with pytest.raises(KosDataError, match="'orders'"):
        kos_weekly_metrics(NoOrders())
