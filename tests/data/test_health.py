"""Data health of a region, on a dataset small enough to check by hand."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

loader = pytest.importorskip("kosresearch.data.loader", reason="needs the DuckDB loader (kosresearch.data.loader)")

from kosresearch.data import health  # noqa: E402


def _tables(*, with_content: bool = True) -> dict[str, pd.DataFrame]:
    tables = {
        "stores": pd.DataFrame({"store_id": ["s1"], "region": ["east"], "city": ["上海"],
                                "opened_at": ["2020-01-01"], "program_start": [None]}),
        "kos": pd.DataFrame({"kos_id": ["k1", "k2"], "store_id": ["s1", "s1"], "region": ["east", "east"],
                             "joined_at": ["2021-01-01", "2021-06-01"]}),
        "customers": pd.DataFrame({
            "customer_id": ["c1", "c2", "c3"], "region": ["east"] * 3, "store_id": ["s1"] * 3,
            "kos_id": ["k1", None, "k2"],
            "acquired_at": ["2024-01-05 10:00", "2024-01-20 11:00", "2024-03-02 09:00"],
            "acquisition_channel": ["referral", "paid_ads", "kos_content"],
            "acquisition_cost": [10.0, 50.0, 20.0], "referrer_id": [None, "c1", None]}),
        "orders": pd.DataFrame({
            "order_id": ["o1", "o2", "o3", "o4"], "customer_id": ["c1", "c2", "c1", "c3"], "region": ["east"] * 4,
            "store_id": ["s1"] * 4, "kos_id": ["k1", None, "k1", "k2"],
            "ordered_at": ["2024-01-05 10:00", "2024-01-21 12:00", "2024-03-01 08:00", "2024-03-02 09:30"],
            "amount": [100.0, 200.0, 300.0, 0.1], "promo_code": [None] * 4}),
        "messages": pd.DataFrame({
            "message_id": ["m1", "m2", "m3"], "region": ["east"] * 3, "kos_id": ["k2", "k2", "k1"],
            "customer_id": ["c3", "c3", "c1"], "ts": ["2024-01-02 09:00", "2024-01-02 09:05", "2024-02-10 10:00"],
            "channel": ["private"] * 3, "group_id": [None] * 3, "sender": ["kos", "customer", "customer"],
            "sentiment": [None, 0.5, None], "text": ["你好", "好的", "谢谢"]}),
    }
    if with_content:
        tables["content"] = pd.DataFrame({
            "content_id": ["p1"], "kos_id": ["k2"], "region": ["east"], "posted_at": ["2024-02-01 20:00"],
            "platform": ["douyin"], "format": ["short_video"], "topic": ["usage_tips"], "impressions": [100],
            "likes": [5], "comments": [1], "saves": [0], "shares": [0], "leads": [1]})
    return tables


@pytest.fixture
def ds():
    with loader.open_dataset(_tables()) as dataset:
        yield dataset


def test_monthly_kpis_match_the_hand_count(ds):
    kpis = health.monthly_kpis(ds)
    assert list(kpis["month"].dt.strftime("%Y-%m")) == ["2024-01", "2024-02", "2024-03"]
    assert list(kpis["sales"]) == [300.0, 0.0, 300.1]
    assert list(kpis["orders"]) == [2, 0, 2]
    assert list(kpis["new_customers"]) == [2, 0, 1]
    # Jan: k1 (order) + k2 (message sent by the KOS); Feb: k2 (post) - k1 only received a message
    assert list(kpis["active_kos"]) == [2, 1, 2]
    assert list(kpis["posts"]) == [0, 1, 0]
    assert list(kpis["messages"]) == [2, 1, 0]


def test_kpis_of_an_absent_optional_table_are_missing_not_zero():
    with loader.open_dataset(_tables(with_content=False)) as ds:
        kpis = health.monthly_kpis(ds)
    assert kpis["posts"].isna().all()
    assert list(kpis["active_kos"]) == [2, 0, 2]


def test_coverage_lists_every_contract_table_with_rows_and_time_span(ds):
    coverage = health.table_coverage(ds).set_index("table")
    assert len(coverage) == 13
    assert coverage.loc["orders", "rows"] == 4 and coverage.loc["orders", "present"]
    assert coverage.loc["orders", "first"] == pd.Timestamp("2024-01-05 10:00")
    assert coverage.loc["orders", "last"] == pd.Timestamp("2024-03-02 09:30")
    assert not coverage.loc["feedback", "present"] and coverage.loc["feedback", "rows"] == 0


def test_missingness_counts_nulls_per_column(ds):
    miss = health.missingness(ds).set_index(["table", "column"])
    assert miss.loc[("customers", "kos_id"), "n_missing"] == 1
    assert miss.loc[("customers", "kos_id"), "share_missing"] == pytest.approx(1 / 3)
    assert miss.loc[("orders", "promo_code"), "n_missing"] == 4
    assert miss.loc[("orders", "amount"), "n_missing"] == 0
    assert miss.loc[("customers", "kos_id"), "nullable"]


def test_validation_summary_has_no_example_values(ds):
    summary = health.validation_summary(ds)
    assert list(summary.columns) == ["table", "column", "check", "n_bad"]
    assert summary.empty


def test_headlines_are_exact_counts_and_a_t_interval_of_the_mean_order_value(ds):
    from scipy import stats

    heads = {h.name: h for h in health.health_headlines(ds, lang="en")}
    assert heads["total_sales"].estimate == pytest.approx(600.1)
    assert (heads["orders"].estimate, heads["customers"].estimate, heads["active_kos"].estimate) == (4, 3, 2)
    amounts = pd.Series([100.0, 200.0, 300.0, 0.1])
    half = stats.t.ppf(0.975, 3) * amounts.std() / math.sqrt(4)
    aov = heads["mean_order_value"]
    assert aov.estimate == pytest.approx(amounts.mean())
    assert (aov.conf_low, aov.conf_high) == pytest.approx((amounts.mean() - half, amounts.mean() + half))
    assert heads["total_sales"].label == "Total sales"


def test_the_digest_and_narrative_are_deterministic_text(ds):
    coverage, kpis = health.table_coverage(ds), health.monthly_kpis(ds)
    digest = health.health_digest(coverage, kpis)
    assert "orders 4" in digest.splitlines() and digest.endswith("months 3\ntotal_sales 600.10")
    zh = health.health_narrative(coverage, kpis, health.validation_summary(ds), region="east", lang="zh")
    en = health.health_narrative(coverage, kpis, health.validation_summary(ds), region="east", lang="en")
    assert "**华东**" in zh and "2024-01 – 2024-03" in zh and "反馈" in zh
    assert "Region **east**" in en and "feedback" in en


def test_plots_draw_one_panel_per_kpi_and_one_bar_per_incomplete_column(ds):
    axes = health.plot_monthly_kpis(health.monthly_kpis(ds), lang="zh")
    assert [ax.get_title() for ax in axes] == ["销售额 (元)", "订单数", "新客户数", "活跃 KOS 数", "发帖数", "消息数"]
    miss = health.missingness(ds)
    ax = health.plot_missingness(miss, lang="en")
    assert len(ax.patches) == int((miss["n_missing"] > 0).sum())
    plt.close("all")
