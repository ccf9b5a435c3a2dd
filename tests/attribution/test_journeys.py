"""Path tables and the rule-based attribution models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosresearch.attribution import build_journeys, heuristic_attribution
from kosresearch.errors import KosDataError, KosParameterError


def _ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s)


def test_build_journeys_splits_touches_at_orders_and_at_long_silences():
    tp = pd.DataFrame({
        "customer_id": ["c1", "c1", "c1", "c1", "c1", "c2", "c2"],
        "ts": [_ts("2024-01-01"), _ts("2024-01-05"), _ts("2024-01-20"), _ts("2024-04-01"), _ts("2024-04-02"),
               _ts("2024-01-01"), _ts("2024-03-15")],
        "channel": ["douyin", " wechat_private ", "store_visit", "douyin", "douyin", "paid_ad", "koc_post"],
    })
    orders = pd.DataFrame({
        "customer_id": ["c1", "c2"],
        "ordered_at": [_ts("2024-01-21"), _ts("2024-01-10")],
        "amount": [500.0, 80.0],
    })
    j = build_journeys(tp, orders, lookback_days=30).set_index("path")
    # c1: the three January touches precede the 21 Jan order within 30 days -> one conversion
    assert j.loc["douyin>wechat_private>store_visit", ["conversions", "nulls"]].tolist() == [1, 0]
    assert j.loc["douyin>wechat_private>store_visit", "value"] == 500.0
    # c1's April touches have no order after them -> one null journey of two touches
    assert j.loc["douyin>douyin", ["conversions", "nulls"]].tolist() == [0, 1]
    # c2: paid_ad converts on 10 Jan; koc_post in March does not
    assert j.loc["paid_ad", "conversions"] == 1
    assert j.loc["koc_post", "nulls"] == 1
    assert j["conversions"].sum() == 2 and j["nulls"].sum() == 2


def test_build_journeys_leaves_out_touches_older_than_the_lookback():
    tp = pd.DataFrame({"customer_id": ["c", "c"], "ts": [_ts("2024-01-01"), _ts("2024-02-25")],
                       "channel": ["paid_ad", "douyin"]})
    orders = pd.DataFrame({"customer_id": ["c"], "ordered_at": [_ts("2024-03-01")], "amount": [10.0]})
    j = build_journeys(tp, orders, lookback_days=30).set_index("path")
    assert j.loc["douyin", "conversions"] == 1
    assert j.loc["paid_ad", "nulls"] == 1


def test_build_journeys_refuses_a_missing_column_and_a_bad_lookback():
    tp = pd.DataFrame({"customer_id": ["c"], "ts": [_ts("2024-01-01")]})
    orders = pd.DataFrame({"customer_id": ["c"], "ordered_at": [_ts("2024-01-02")], "amount": [1.0]})
    with pytest.raises(KosDataError, match="channel='channel' is not a column of touchpoints"):
        build_journeys(tp, orders)
    with pytest.raises(KosParameterError, match="lookback_days=0"):
        build_journeys(tp.assign(channel="douyin"), orders, lookback_days=0)


def test_heuristics_credit_a_tiny_table_as_worked_by_hand():
    j = pd.DataFrame({"path": ["a", "a > b > c", "b>b"], "conversions": [2, 1, 1], "value": [100.0, 60.0, 40.0]})
    h = heuristic_attribution(j, value_col="value", half_life=1).set_index("channel")
    assert h["first_touch"].to_dict() == {"a": 3.0, "b": 1.0, "c": 0.0}
    assert h["last_touch"].to_dict() == {"a": 2.0, "b": 1.0, "c": 1.0}
    # linear: a 2 + 1/3; b 1/3 + 1 (repeated touches counted); c 1/3
    assert h["linear"].to_dict() == pytest.approx({"a": 7 / 3, "b": 4 / 3, "c": 1 / 3})
    # position based on a>b>c: 0.4 / 0.2 / 0.4; on b>b: 0.5 / 0.5
    assert h["position_based"].to_dict() == pytest.approx({"a": 2.4, "b": 1.2, "c": 0.4})
    # time decay with half life 1 touch on a>b>c: weights 1/4, 1/2, 1 over 7/4
    assert h.loc["c", "time_decay"] == pytest.approx(4 / 7)
    assert h.loc["a", "linear_value"] == pytest.approx(100 + 20)
    for m in ("first_touch", "last_touch", "linear", "time_decay", "position_based"):
        assert h[m].sum() == pytest.approx(4.0)
        assert h[f"{m}_value"].sum() == pytest.approx(200.0)


def test_heuristics_refuse_bad_position_weights_and_negative_counts():
    j = pd.DataFrame({"path": ["a"], "conversions": [1]})
    with pytest.raises(KosParameterError, match="position_weights"):
        heuristic_attribution(j, position_weights=(0.5, 0.5))
    with pytest.raises(KosDataError, match="conversions_col='conversions' must hold finite non-negative"):
        heuristic_attribution(j.assign(conversions=-1))
    with pytest.raises(KosDataError, match="empty channel"):
        heuristic_attribution(pd.DataFrame({"path": ["a>>b"], "conversions": [1]}))


def test_build_journeys_reconstructs_the_planted_walks(journey_sim):
    """The simulator isolates every walk; with a 30-day lookback every planted journey comes back whole.

    The planted chain's start probabilities are recovered from first touches within sampling error.
    """
    t = journey_sim.tables
    j = build_journeys(t["touchpoints"], t["orders"], lookback_days=30)
    n_touch = (j["path"].str.count(">") + 1) @ (j["conversions"] + j["nulls"])
    assert n_touch == len(t["touchpoints"])
    first = j["path"].str.split(">").str[0]
    share = (j["conversions"] + j["nulls"]).groupby(first).sum() / (j["conversions"] + j["nulls"]).sum()
    states = journey_sim.truth["journeys"]["states"]
    P = np.array(journey_sim.truth["journeys"]["transition_matrix"])
    planted = pd.Series(P[0, 1:-2], index=states[1:-2])
    n = (j["conversions"] + j["nulls"]).sum()
    se = np.sqrt(planted * (1 - planted) / n)
    assert (np.abs(share.reindex(planted.index) - planted) < 4 * se).all()
