"""CAC, referral economics and LTV/CAC on a hand-made dataset (answers by hand) and on a small simulation."""

from __future__ import annotations

import dataclasses
import math
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

import kosresearch as kr
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.value import acquisition_costs, ltv_cac, referral_economics

matplotlib.use("Agg")


def _s(*values):
    return pd.Series(list(values), dtype="str")


def _ts(*values):
    return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[us]")


def hand_tables() -> dict[str, pd.DataFrame]:
    """Six customers in one store; c1 refers c2 and c6, c2 refers c4 (a chain of three generations)."""
    ids = ("c1", "c2", "c3", "c4", "c5", "c6")
    orders = [  # customer, time, amount
        ("c1", "2024-01-03 10:00", 100.0), ("c1", "2024-06-01 10:00", 200.0), ("c1", "2025-02-01 10:00", 300.0),
        ("c2", "2024-01-10 10:00", 80.0),
        ("c3", "2024-02-05 10:00", 500.0), ("c3", "2024-03-01 10:00", 100.0),
        ("c4", "2024-02-20 10:00", 60.0),
        ("c5", "2024-03-01 10:00", 40.0),
        ("c6", "2024-03-15 10:00", 90.0), ("c6", "2024-04-15 10:00", 10.0),
    ]
    n = len(orders)
    return {
        "stores": pd.DataFrame({"store_id": _s("s1"), "region": _s("east"), "city": _s("上海"),
                                "opened_at": _ts("2020-01-01"), "program_start": _ts(None)}),
        "kos": pd.DataFrame({"kos_id": _s("k1"), "store_id": _s("s1"), "region": _s("east"),
                             "joined_at": _ts("2021-01-01")}),
        "customers": pd.DataFrame({
            "customer_id": _s(*ids), "region": _s(*["east"] * 6), "store_id": _s(*["s1"] * 6),
            "kos_id": _s(*["k1"] * 6),
            "acquired_at": _ts("2024-01-03 10:00", "2024-01-10 10:00", "2024-02-05 10:00", "2024-02-20 10:00",
                               "2024-03-01 10:00", "2024-03-15 10:00"),
            "acquisition_channel": _s("kos_content", "referral", "paid_ads", "referral", "walk_in", "referral"),
            "acquisition_cost": [50.0, 20.0, 180.0, 30.0, 5.0, 25.0],
            "referrer_id": _s(None, "c1", None, "c2", None, "c1"),
        }),
        "orders": pd.DataFrame({
            "order_id": _s(*[f"o{i}" for i in range(n)]), "customer_id": _s(*[o[0] for o in orders]),
            "region": _s(*["east"] * n), "store_id": _s(*["s1"] * n), "kos_id": _s(*["k1"] * n),
            "ordered_at": _ts(*[o[1] for o in orders]), "amount": [o[2] for o in orders],
            "promo_code": _s(*[None] * n),
        }),
    }


@pytest.fixture
def hand():
    return kr.open_dataset(hand_tables())


def test_cac_by_channel_and_cohort_by_hand(hand):
    res = acquisition_costs(hand)
    t = res.table.set_index("channel")
    assert list(t.index) == ["paid_ads", "kos_content", "referral", "walk_in", "all"]  # vocabulary order
    assert t.loc["referral", "estimate"] == pytest.approx(25.0)  # (20 + 30 + 25) / 3, rewards are the cost
    assert t.loc["referral", "n_customers"] == 3 and t.loc["referral", "share"] == pytest.approx(0.5)
    assert t.loc["all", "estimate"] == pytest.approx(310 / 6)
    assert t.loc["all", "total_cost"] == pytest.approx(310.0)
    sd = np.std([20, 30, 25], ddof=1)
    assert t.loc["referral", "std_error"] == pytest.approx(sd / math.sqrt(3))
    assert math.isnan(t.loc["paid_ads", "std_error"])  # one customer: no interval
    c = res.by_cohort.set_index(["channel", "cohort"])["estimate"]
    assert c[("referral", "2024-01")] == 20.0 and c[("referral", "2024-02")] == 30.0
    assert set(acquisition_costs(hand, cohort_freq="Q").by_cohort["cohort"]) == {"2024Q1"}
    assert res.plot().get_xlabel().startswith("CAC") and res.plot(by="cohort").get_xlabel() == "acquisition cohort"
    zh = res.summary(lang="zh")
    assert list(zh.columns[:2]) == ["获客渠道", "客户数"] and zh.iloc[2, 0] == "转介绍"


def test_cac_refuses_an_unknown_cohort_length(hand):
    with pytest.raises(KosParameterError, match="cohort_freq='W' is not allowed"):
        acquisition_costs(hand, cohort_freq="W")


def test_referral_economics_by_hand(hand):
    res = referral_economics(hand, window_months=12, observation_end="2025-06-01")
    t = res.table.set_index("term")["estimate"]
    assert t["referral_rate"] == pytest.approx(0.5)
    assert t["k_factor"] == pytest.approx(0.5)  # c1 referred two, c2 one, within 12 months: 3 / 6
    assert t["referrer_share"] == pytest.approx(2 / 6)
    assert t["referrals_per_referrer"] == pytest.approx(1.5)
    assert t["reward_per_referral"] == pytest.approx(25.0)
    # revenue in the 12 months after acquisition (c1's 2025-02-01 order is outside its window)
    assert t["revenue_referred"] == pytest.approx((80 + 60 + 100) / 3)
    assert t["revenue_other"] == pytest.approx((300 + 600 + 40) / 3)
    assert t["revenue_difference"] == pytest.approx(80 - 940 / 3)
    assert t["revenue_referrers"] == pytest.approx((300 + 80) / 2)
    assert res.chains.set_index("generation")["n_customers"].to_dict() == {0: 3, 1: 2, 2: 1}
    assert res.referrals_distribution.set_index("referrals")["n_customers"].to_dict() == {
        "0": 4, "1": 1, "2": 1, "3": 0, "4": 0, "5+": 0}
    assert res.by_channel.set_index("channel").loc["paid_ads", "repeat_orders"] == 1.0
    assert res.plot().get_yticklabels() and res.plot(kind="referrals").get_ylabel() == "share of customers"
    assert res.summary(lang="zh")["指标"].iloc[0] == "转介绍获客占比"
    assert res.channel_summary(lang="en")["channel"].tolist() == ["paid ads", "KOS content", "referral", "walk-in"]


def test_referral_window_must_fit_in_the_observation(hand):
    with pytest.raises(KosDataError, match="no customer was acquired at least window_months=12"):
        referral_economics(hand, window_months=12, observation_end="2024-06-01")


def test_ltv_of_fully_observed_customers_is_their_realised_margin(hand):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ltv_cac(hand, horizon_months=6, margin=0.5, discount_rate=0.0, n_boot=0, observation_end="2025-06-01")
    ltv = res.customers.set_index("customer_id")["ltv"]
    # six months after acquisition all customers are observed: margin of their orders in that window
    assert ltv.to_dict() == pytest.approx({"c1": 150.0, "c2": 40.0, "c3": 300.0, "c4": 30.0, "c5": 20.0, "c6": 50.0})
    assert res.estimate("referral", "ltv")["estimate"] == pytest.approx(40.0)
    assert res.estimate("referral", "cac")["estimate"] == pytest.approx(25.0)
    assert res.estimate("referral", "ltv_cac")["estimate"] == pytest.approx(1.6)
    assert res.estimate("all", "ltv")["estimate"] == pytest.approx(590 / 6)
    curves = res.curves[res.curves["cohort"] == "all"]
    assert np.allclose(curves["cum_margin"], curves["cum_realised"])


def test_payback_month_and_discounting_by_hand(hand):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ltv_cac(hand, horizon_months=6, margin=0.5, discount_rate=0.10, n_boot=0, observation_end="2025-06-01",
                      include_first_purchase=False)
    # kos_content (c1): repeat of 200 in month 5 (150 days after 2024-01-03), margin 100 ≥ CAC 50
    assert res.estimate("kos_content", "payback_month")["estimate"] == 5
    assert res.estimate("kos_content", "ltv")["estimate"] == pytest.approx(100 * 1.1 ** (-5 / 12))
    # paid_ads (c3): 50 of margin in month 1 never reaches 180
    assert res.estimate("paid_ads", "payback_month")["estimate"] == math.inf
    assert res.summary().set_index("channel").loc["paid ads"].iloc[-2].startswith("> 6")
    assert res.summary(lang="zh").columns[0] == "获客渠道"


@pytest.fixture(scope="module")
def small_result():
    sc = dataclasses.replace(kr.PRESETS["sample"], customers=2_400, stores_per_region=4, regions=("east",),
                             region_rollout={})
    ds = kr.simulate(sc, seed=3).dataset()
    return ds, ltv_cac(ds, n_boot=12, seed=1)


def test_ltv_cac_result_is_consistent(small_result):
    ds, res = small_result
    t = res.table
    assert set(t["measure"]) == {"ltv", "cac", "ltv_cac", "payback_month", "payback_month_repeat"}
    pb = t[t["measure"] == "payback_month"].set_index(["channel", "cohort"])["estimate"]
    pb_repeat = t[t["measure"] == "payback_month_repeat"].set_index(["channel", "cohort"])["estimate"]
    assert (pb <= pb_repeat).all()  # the first purchase can only bring payback forward
    assert list(t.columns) == ["channel", "cohort", "measure", "estimate", "std_error", "conf_low", "conf_high",
                               "n_customers"]
    pooled = t[t["cohort"] == "all"].pivot(index="channel", columns="measure", values="estimate")
    np.testing.assert_allclose(pooled["ltv_cac"], pooled["ltv"] / pooled["cac"])
    cust = res.customers.groupby("channel")[["ltv", "cac"]].mean()
    np.testing.assert_allclose(pooled.loc[cust.index, "ltv"], cust["ltv"])
    cac = acquisition_costs(ds).table.set_index("channel")["estimate"]
    np.testing.assert_allclose(pooled.loc[cac.index, "cac"], cac)
    last = res.curves[(res.curves["month"] == res.horizon_months) & (res.curves["cohort"] == "all")]
    np.testing.assert_allclose(last.set_index("channel")["cum_margin"], pooled["ltv"].loc[last["channel"]])
    lt = t[t["measure"] == "ltv"]
    assert (lt["conf_low"] <= lt["estimate"] + 1e-9).all() and (lt["estimate"] <= lt["conf_high"] + 1e-9).all()
    assert res.estimate("all", "ltv")["n_customers"] == 2_400


def test_ltv_cac_reports_text_headlines_and_plots(small_result):
    _, res = small_result
    assert res.conclusion("referral").startswith("A customer acquired through referral costs ¥")
    assert "转介绍" in res.conclusion("referral", lang="zh")
    heads = res.headlines()
    assert {h["name"] for h in heads} >= {"ltv_cac_all", "ltv_cac_referral", "payback_month_referral"}
    assert all(set(h) == {"name", "label", "estimate", "conf_low", "conf_high", "unit"} for h in heads)
    assert res.plot().get_xlabel() == "months since acquisition"
    assert list(res.model_summary(lang="zh").columns[:3]) == ["模型", "指标", "估计值"]
    assert res.plot(by="cohort", channel="paid_ads").get_legend() is not None
    assert res.plot_alive().get_xlabel().startswith("P(alive)")
    assert "LTV/CAC" in res._repr_html_()
    with pytest.raises(KosParameterError, match="channel='tv' is not in the results"):
        res.plot(by="cohort", channel="tv")


def test_linearised_bootstrap_agrees_with_the_exact_one(small_result):
    ds, res = small_result
    exact = ltv_cac(ds, n_boot=12, seed=1, bootstrap="exact")
    a = res.table.set_index(["channel", "cohort", "measure"])
    b = exact.table.set_index(["channel", "cohort", "measure"])
    sel = a.index.get_level_values("measure") == "ltv"
    np.testing.assert_allclose(a.loc[sel, "estimate"], b.loc[sel, "estimate"])
    # the linearisation error is second order in the refit's parameter change: about 0.5 % of
    # an interval bound on this small sample, far below the bootstrap's own Monte Carlo error
    np.testing.assert_allclose(a.loc[sel, ["conf_low", "conf_high"]], b.loc[sel, ["conf_low", "conf_high"]],
                               rtol=1e-2)


def test_ltv_cac_refuses_bad_options(small_result):
    ds, _ = small_result
    with pytest.raises(KosParameterError, match="horizon_months=0 must be a whole number"):
        ltv_cac(ds, horizon_months=0)
    with pytest.raises(KosParameterError, match="margin=2 must lie in"):
        ltv_cac(ds, margin=2)
    with pytest.raises(KosParameterError, match="bootstrap='fast' is not allowed"):
        ltv_cac(ds, bootstrap="fast")


def test_customers_acquired_after_the_observation_end_are_left_out():
    tables = hand_tables()
    late = tables["customers"].iloc[[2]].assign(customer_id="c7", acquired_at=pd.Timestamp("2024-05-01 10:00"))
    late_order = tables["orders"].iloc[[4]].assign(order_id="o99", customer_id="c7",
                                                   ordered_at=pd.Timestamp("2024-05-01 10:00"))
    tables["customers"] = pd.concat([tables["customers"], late], ignore_index=True)
    tables["orders"] = pd.concat([tables["orders"], late_order], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ltv_cac(kr.open_dataset(tables), horizon_months=3, n_boot=0, observation_end="2024-04-20")
    assert res.estimate("all", "cac")["n_customers"] == 6  # c7 comes after the end
    assert res.observation_end == pd.Timestamp("2024-04-20")
