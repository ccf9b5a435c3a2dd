"""RFM summaries and calibration/holdout splits on orders small enough to check by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.value import calibration_holdout, rfm_summary


@pytest.fixture
def orders() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "c"],
        "ordered_at": pd.to_datetime([
            "2025-01-06 10:00", "2025-01-20 18:00", "2025-01-20 20:00",  # two orders on one day
            "2025-02-03 09:00", "2025-01-13 12:00", "2025-03-10 08:00",  # c buys after the end
        ]),
        "amount": [100.0, 30.0, 20.0, 70.0, 30.0, 99.0],
    })


def test_rfm_summary_matches_a_hand_worked_example(orders):
    rfm = rfm_summary(orders, observation_end="2025-03-03")
    # a: first 2025-01-06; repeat days 01-20 (30+20) and 02-03 (70) -> 2 repeats, last 4 weeks after the first
    a = rfm.set_index("customer_id").loc["a"]
    assert (a["frequency"], a["recency"], a["T"], a["monetary_value"], a["first_value"]) == (2, 4.0, 8.0, 60.0, 100.0)
    assert a["first_purchase_at"] == pd.Timestamp("2025-01-06")
    b = rfm.set_index("customer_id").loc["b"]
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 7.0, 0.0)
    assert list(rfm["customer_id"]) == ["a", "b"]  # c's first purchase is after the end
    assert rfm.attrs == {"time_unit": "W", "observation_end": "2025-03-03T00:00:00"}


def test_every_order_counts_with_exact_times_when_not_merging_days(orders):
    rfm = rfm_summary(orders, observation_end="2025-03-03", merge_same_day=False).set_index("customer_id")
    assert rfm.loc["a", "frequency"] == 3
    assert rfm.loc["a", "recency"] == pytest.approx((pd.Timestamp("2025-02-03 09:00") - pd.Timestamp("2025-01-06 10:00"))
                                                    / pd.Timedelta(weeks=1))
    assert rfm.loc["a", "monetary_value"] == pytest.approx(40.0)


@pytest.mark.parametrize("unit, days", [("D", 1.0), ("W", 7.0), ("M", 365.25 / 12)])
def test_time_unit_scales_recency_and_age(orders, unit, days):
    rfm = rfm_summary(orders, observation_end="2025-03-03", time_unit=unit).set_index("customer_id")
    assert rfm.loc["a", "recency"] == pytest.approx(28 / days)
    assert rfm.loc["a", "T"] == pytest.approx(56 / days)


def test_default_end_is_midnight_after_the_last_order_and_input_is_not_mutated(orders):
    before = orders.copy()
    rfm = rfm_summary(orders)
    assert rfm.attrs["observation_end"] == "2025-03-11T00:00:00"
    assert "c" in set(rfm["customer_id"])
    pd.testing.assert_frame_equal(orders, before)


def test_text_timestamps_and_custom_column_names_are_accepted(orders):
    renamed = orders.rename(columns={"customer_id": "cid", "ordered_at": "ts", "amount": "v"}).assign(
        ts=lambda d: d["ts"].astype(str))
    rfm = rfm_summary(renamed, customer_col="cid", time_col="ts", value_col="v", observation_end="2025-03-03")
    assert list(rfm.columns[:2]) == ["cid", "frequency"]


def test_calibration_holdout_splits_purchases_by_hand(orders):
    data = calibration_holdout(orders, calibration_end="2025-01-27", observation_end="2025-03-03").set_index(
        "customer_id")
    assert data.loc["a", "frequency"] == 1 and data.loc["a", "T"] == 3.0
    assert data.loc["a", "frequency_holdout"] == 1 and data.loc["a", "monetary_value_holdout"] == 70.0
    assert data.loc["b", "frequency_holdout"] == 0
    assert data["duration_holdout"].unique().tolist() == [5.0]
    assert "c" not in data.index


@pytest.mark.parametrize(
    "change, kwargs, error, match",
    [
        (lambda d: d.drop(columns="amount"), {}, KosDataError, "value_col='amount' is not a column of orders"),
        (lambda d: d.assign(amount=["x"] * 6), {}, KosDataError, "value_col='amount' must be numeric"),
        (lambda d: d.assign(amount=[-1.0] + [1.0] * 5), {}, KosDataError, "value_col='amount' has 1 negative"),
        (lambda d: d.assign(ordered_at=["2025-01-01", "soon"] + ["2025-01-02"] * 4), {}, KosDataError,
         "time_col='ordered_at' must hold timestamps; 1 values"),
        (lambda d: d.assign(customer_id=[None] + ["a"] * 5), {}, KosDataError, "customer_col='customer_id' has 1 missing"),
        (lambda d: d, {"time_unit": "Y"}, KosParameterError, "time_unit='Y' is not allowed"),
        (lambda d: d, {"observation_end": "2020-01-01"}, KosDataError, "no order lies before observation_end"),
        (lambda d: d, {"observation_end": "someday"}, KosParameterError, "observation_end='someday' is not a date"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_it(orders, change, kwargs, error, match):
    with pytest.raises(error, match=match):
        rfm_summary(change(orders), **kwargs)


def test_calibration_end_must_precede_the_end(orders):
    with pytest.raises(KosParameterError, match="calibration_end='2025-04-01 00:00:00' must precede"):
        calibration_holdout(orders, calibration_end="2025-04-01", observation_end="2025-03-03")
