"""Credit rules and descriptive calendar comparisons."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kosresearch.attribution import compare_periods, credit_orders
from kosresearch.errors import KosDataError, KosParameterError
from tests.attribution._figures import assert_labels_in_chinese, assert_refuses_unknown_lang

T = pd.Timestamp


@pytest.fixture()
def shop():
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "ordered_at": [T("2024-05-10")] * 6,
        "amount": [100.0, 200.0, 300.0, 400.0, 500.0, 600.0],
        "kos_id": ["k1", "k1", None, "k2", None, None],
        "promo_code": ["KS1", "KC9", "LK5", None, None, "NOPE"],
    })
    codes = pd.DataFrame({"promo_code": ["KS1", "KC9", "LK5"], "owner_type": ["kos", "koc", "kos"],
                          "owner_id": ["k1", "c99", "k3"], "content_id": [None, None, "p5"]})
    touch = pd.DataFrame({"customer_id": ["c5", "c4"], "ts": [T("2024-05-01"), T("2024-05-02")], "content_id": ["p5", "p5"]})
    return orders, codes, touch


def test_credit_rules_apply_in_priority_order(shop):
    orders, codes, touch = shop
    c = credit_orders(orders, codes, touch)
    t = c.table.set_index("order_id")
    assert t.loc["o1", ["owner_type", "owner_id", "rule"]].tolist() == ["kos", "k1", "promo_code"]
    assert t.loc["o2", ["owner_type", "owner_id", "rule"]].tolist() == ["koc", "c99", "promo_code"]
    assert t.loc["o3", ["owner_type", "owner_id", "rule"]].tolist() == ["kos", "k3", "exclusive_link"]
    # o4 has a bound advisor but touched a linked post first: the link rule has priority
    assert t.loc["o4", ["owner_id", "rule"]].tolist() == ["k3", "exclusive_link"]
    assert t.loc["o5", ["owner_id", "rule"]].tolist() == ["k3", "exclusive_link"]
    assert t.loc["o6", "rule"] == "none" and c.unknown_codes == 1
    cov = c.coverage.set_index("rule")
    assert cov.loc["exclusive_link", "orders"] == 3
    assert cov["order_share"].sum() == pytest.approx(1.0) and cov["sales_share"].sum() == pytest.approx(1.0)
    only_kos = credit_orders(orders, codes, rules=("bound_kos",)).table.set_index("order_id")
    assert only_kos.loc["o4", "rule"] == "bound_kos" and only_kos.loc["o1", "rule"] == "bound_kos"


def test_credit_rules_refuse_unknown_rules_and_missing_columns(shop):
    orders, codes, _ = shop
    with pytest.raises(KosParameterError, match="rules=\\('coupon',\\)"):
        credit_orders(orders, codes, rules=("coupon",))
    with pytest.raises(KosDataError, match="owner_type='owner_type' is not a column of promo_codes"):
        credit_orders(orders, codes.drop(columns="owner_type"))


def _daily():
    days = pd.date_range("2023-01-01", "2025-12-31", freq="D")
    return pd.DataFrame({"day": days, "sales": np.arange(len(days), dtype=float)})


def test_spring_festival_is_compared_with_last_years_festival_by_lunar_date():
    d = _daily()
    c = compare_periods(d, value_col="sales", time_col="day", before=None, after="cny 2025")
    t = c.table.set_index("period")
    assert t.loc["after", "first"] == dt.date(2025, 1, 29)
    assert t.loc["before", "first"] == dt.date(2024, 2, 10)
    assert c.kind == "descriptive" and "not a causal" in c.note["en"] and "因果" in c.note["zh"]
    # a date range next to the festival keeps its distance to the festival
    r = compare_periods(d, value_col="sales", time_col="day", before=None, after=("2025-01-20", "2025-02-10"))
    assert r.table.set_index("period").loc["before", "first"] == dt.date(2024, 2, 1)  # 9 days before 10 Feb 2024
    cal = compare_periods(d, value_col="sales", time_col="day", before=None, after=("2025-01-20", "2025-02-10"), align="calendar")
    assert cal.table.set_index("period").loc["before", "first"] == dt.date(2024, 1, 22)  # 52 weeks back, a Monday again


def test_named_windows_are_aligned_by_name_and_totals_add_up():
    d = _daily()
    c = compare_periods(d, value_col="sales", time_col="day", before="双11 2023", after="double11 2024")
    t = c.table.set_index("period")
    assert t.loc["before", "n_obs"] == t.loc["after", "n_obs"] == 23
    assert c.change == pytest.approx(t.loc["after", "total"] - t.loc["before", "total"])
    assert c.summary()["period"].tolist() == ["before", "after", "change"]


def test_compare_periods_refuses_unknown_events_and_empty_periods():
    d = _daily()
    with pytest.raises(KosParameterError, match="unknown event 'black_friday'"):
        compare_periods(d, value_col="sales", time_col="day", before=None, after="black_friday 2024")
    with pytest.raises(KosDataError, match="before period .* has no rows"):
        compare_periods(d, value_col="sales", time_col="day", before=None, after="618 2023")
    with pytest.raises(KosParameterError, match="align='solar'"):
        compare_periods(d, value_col="sales", time_col="day", before=None, after="618 2024", align="solar")


# ----------------------------------------------------------------------------- figures in Chinese


def test_credit_figure_labels_rules_legend_and_axis_in_chinese(shop):
    orders, codes, touch = shop
    c = credit_orders(orders, codes, touch)
    zh = assert_labels_in_chinese(lambda lang: c.plot(lang=lang), ticks="y")
    assert zh["yticks"] == ["促销码", "专属链接", "绑定顾问", "未归因"]
    assert zh["xlabel"] == ["规则归因占比"]
    assert_refuses_unknown_lang(c.plot)


def test_period_figure_names_the_periods_and_the_lunar_alignment_in_chinese():
    d = _daily()
    c = compare_periods(d, value_col="sales", time_col="day", before=None, after="cny 2025")
    zh = assert_labels_in_chinese(lambda lang: c.plot(lang=lang))
    assert zh["legend"] == ["对比期：春节 2024", "关注期：春节 2025"]
    assert "按农历对齐" in zh["xlabel"][0] and zh["title"] == ["描述性对比（非因果）"]
    r = compare_periods(d, value_col="sales", time_col="day", before=None, after=("2025-01-20", "2025-02-10"))
    zh = assert_labels_in_chinese(lambda lang: r.plot(lang=lang))
    assert zh["legend"][0] == "对比期：2024-02-01 至 2024-02-22（去年同期，按农历对齐）"
    named = compare_periods(d, value_col="sales", time_col="day", before="双11 2023", after=("2024-11-01", "2024-11-20"))
    assert named.labels_zh == {"before": "双11 2023", "after": "2024-11-01 至 2024-11-20"}
    assert_refuses_unknown_lang(c.plot)


def test_period_figure_states_the_alignment_that_was_used():
    d = _daily()
    cases = {("cny 2025", None): ("lunar", "aligned by lunar date"),
             ("618 2024", None): ("event", "aligned by event"),
             (("2025-01-20", "2025-02-10"), None): ("lunar", "aligned by lunar date"),
             ("618 2024", "618 2023"): ("given", None)}
    for (after, before), (align, words) in cases.items():
        c = compare_periods(d, value_col="sales", time_col="day", before=before, after=after)
        xlabel = c.plot().get_xlabel()
        assert c.align == align
        assert (words in xlabel) if words else xlabel == "days from the start of the period"
    cal = compare_periods(d, value_col="sales", time_col="day", before=None, after=("2025-01-20", "2025-02-10"),
                          align="calendar")
    assert cal.align == "calendar" and cal.plot().get_xlabel() == "days from the start of the period"
