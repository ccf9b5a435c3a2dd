"""Helpers of notebook 01 (attribution causality): the data each section needs, headlines and the conclusion.

Everything that would otherwise be logic in the notebook lives here, so a test
can reach it: which stores form the comparison group, the region-level series,
the calendar window to compare, and the plain-language conclusion built from
the results.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kosresearch.attribution.compare import DESCRIPTIVE_NOTE, PeriodComparison
from kosresearch.attribution.its import CausalImpactResult
from kosresearch.attribution.mta import MarkovResult
from kosresearch.attribution.panel import store_week_panel
from kosresearch.attribution.placebo import ProgrammeEffect
from kosresearch.attribution.rules import CreditResult
from kosresearch.calendar import retail_events
from kosresearch.errors import KosDataError
from kosresearch.report.text import check_lang

__all__ = [
    "open_all_regions",
    "programme_panel",
    "dropped_stores",
    "region_series",
    "daily_sales",
    "latest_window",
    "attribution_headlines",
    "attribution_conclusion",
    "attribution_digest",
]


def open_all_regions(data: str = ""):
    """Open every region of the data source (comparison stores may sit in other regions)."""
    from kosresearch.data.loader import open_dataset
    from kosresearch.data.sources import resolve_source

    return open_dataset(resolve_source(data or None))


def _store_regions(dataset_all) -> pd.DataFrame:
    return dataset_all.sql("SELECT store_id, region FROM stores")


def programme_panel(dataset_all, region: str, *, outcome: str = "sales") -> pd.DataFrame:
    """Store × week panel of ``region``'s stores plus the never-treated stores of every region.

    A region that launches all at once has no untreated store of its own, and
    a region with a few never-treated stores gives very wide intervals; the
    comparison group is therefore every never-treated store of the data
    (assumption: their sales would have moved in parallel). ``attrs`` as in
    :func:`store_week_panel`, plus ``region`` and ``comparison``.
    """
    panel = store_week_panel(dataset_all, outcome=outcome)
    regions = _store_regions(dataset_all).set_index("store_id")["region"]
    if region not in set(regions):
        raise KosDataError(f"region={region!r} has no stores in the data; regions: {sorted(set(regions))}")
    keep = (panel["store_id"].map(regions) == region) | (panel["group"] == 0)
    out = panel[keep].reset_index(drop=True)
    out.attrs.update(panel.attrs)
    out.attrs.update({"region": region, "comparison": "never-treated stores of all regions"})
    if (out.loc[out["store_id"].map(regions) == region, "group"] == 0).all():
        raise KosDataError(f"no store of region={region!r} adopts the programme inside the window")
    return out


def dropped_stores(panel: pd.DataFrame) -> pd.DataFrame:
    """The stores a panel left out and why: ``store_id, reason``."""
    return pd.DataFrame(panel.attrs.get("dropped_stores", []), columns=["store_id", "reason"])


def region_series(dataset_all, region: str) -> pd.DataFrame:
    """Weekly sales of ``region``'s adopting stores and of the never-treated stores (mean per store).

    Returns ``week, week_start, treated_sales, control_sales``; ``attrs``:
    ``intervention_start`` (first programme week of the region, a date) and
    ``n_treated_stores, n_control_stores``.
    """
    panel = programme_panel(dataset_all, region)
    regions = _store_regions(dataset_all).set_index("store_id")["region"]
    own = panel["store_id"].map(regions) == region
    treated = panel[own & (panel["group"] > 0)]
    control = panel[panel["group"] == 0]
    t = treated.groupby(["week", "week_start"], as_index=False)["sales"].sum().rename(columns={"sales": "treated_sales"})
    c = control.groupby("week", as_index=False)["sales"].mean().rename(columns={"sales": "control_sales"})
    out = t.merge(c, on="week")
    out["week_start"] = pd.to_datetime(out["week_start"])
    start_week = int(treated["group"].min())
    out.attrs.update({"intervention_start": out.loc[out["week"] == start_week, "week_start"].iloc[0],
                      "n_treated_stores": int(treated["store_id"].nunique()),
                      "n_control_stores": int(control["store_id"].nunique())})
    return out


def daily_sales(dataset) -> pd.DataFrame:
    """Daily sales of the dataset's orders: ``day, sales, orders`` (DuckDB)."""
    return dataset.sql(
        "SELECT CAST(date_trunc('day', ordered_at) AS DATE) AS day, sum(amount) AS sales, count(*) AS orders "
        "FROM orders GROUP BY 1 ORDER BY 1"
    ).assign(day=lambda d: pd.to_datetime(d["day"]))


def latest_window(daily: pd.DataFrame, event: str = "cny", *, time_col: str = "day") -> str:
    """``"<event> <year>"`` of the latest year whose window, and last year's, lie inside the data."""
    first, last = pd.to_datetime(daily[time_col]).min().date(), pd.to_datetime(daily[time_col]).max().date()
    for year in range(last.year, first.year, -1):
        try:
            now, before = retail_events(year)[event], retail_events(year - 1)[event]
        except Exception:  # noqa: BLE001 - years outside the calendar
            continue
        if before[0] >= first and now[1] <= last:
            return f"{event} {year}"
    raise KosDataError(f"the data ({first} to {last}) do not hold two consecutive {event!r} windows")


def attribution_headlines(effect: ProgrammeEffect, impact: CausalImpactResult, markov: MarkovResult,
                          credit: CreditResult, *, lang: str) -> list:
    """Headline figures for the index page: programme effect per store-week, region uplift, top channel, credited share."""
    from kosresearch.report.headlines import Headline
    from kosresearch.report.text import t

    check_lang(lang)
    e = effect.table.iloc[0]
    a = impact.summary().loc["average"]
    top = markov.table.sort_values("removal_effect", ascending=False).iloc[0]
    cov = credit.coverage.set_index("rule")
    credited = float(1 - cov.loc["none", "sales_share"]) if "none" in cov.index else 1.0
    return [
        Headline("programme_att_store_week", t("KOS 项目效应（每店每周）", "KOS programme effect per store-week", lang),
                 float(e["estimate"]), float(e["conf_low"]), float(e["conf_high"]), "CNY"),
        Headline("region_relative_uplift", t("区域销售相对提升", "Region sales uplift vs counterfactual", lang),
                 float(a["relative_effect"]), float(a["relative_low"]), float(a["relative_high"]), ""),
        Headline("top_channel_removal_effect",
                 t(f"去除效应最大的渠道：{top['channel']}", f"Largest removal effect: {top['channel']}", lang),
                 float(top["removal_effect"]), _opt(top.get("conf_low")), _opt(top.get("conf_high")), ""),
        Headline("sales_share_credited_by_rules", t("规则归因覆盖的销售占比", "Sales share credited by rules", lang),
                 credited, None, None, ""),
    ]


def _opt(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def attribution_conclusion(credit: CreditResult, markov: MarkovResult, effect: ProgrammeEffect,
                           impact: CausalImpactResult, yoy: PeriodComparison, *, region: str, lang: str) -> str:
    """The conclusion paragraph (Markdown), every number taken from the results."""
    from kosresearch.report.text import md_text

    check_lang(lang)
    e = effect.table.iloc[0]
    pct = f"{effect.conf_level:.0%}"
    a = impact.summary().loc["average"]
    top = markov.table.sort_values("removal_effect", ascending=False).iloc[0]
    cov = credit.coverage.set_index("rule")
    none_share = float(cov.loc["none", "sales_share"]) if "none" in cov.index else 0.0
    concern = effect.refutation.any_concern if effect.refutation is not None else None
    reg = md_text(region)
    ch = md_text(str(top["channel"]))
    pl = impact.placebo
    its_placebo_fails = bool(pl) and (pl["effect_low"] > 0 or pl["effect_high"] < 0)
    if lang == "zh":
        parts = [
            f"**结论（{reg}）。** 分阶段上线的双重差分估计 KOS 项目使每个门店每周平均增加销售 ¥{e['estimate']:,.0f}"
            f"（{pct} 置信区间 ¥{e['conf_low']:,.0f} 至 ¥{e['conf_high']:,.0f}）；",
            "安慰剂与预趋势检验" + ("提示需要谨慎解读。" if concern else "未发现问题。") if concern is not None else "",
            f"区域层面的反事实分析显示，上线后销售比反事实高 {a['relative_effect']:+.1%}"
            f"（{pct} 区间 {a['relative_low']:+.1%} 至 {a['relative_high']:+.1%}，尾部概率 p = {impact.p_value:.3f}）"
            + ("，但其时间安慰剂检验在干预前也发现了效应，该数字需谨慎对待。" if its_placebo_fails else "。"),
            f"多触点归因中，去除效应最大的渠道是 {ch}（{top['removal_effect']:.2f}）。",
            f"促销码、专属链接与绑定顾问规则之外仍有 {none_share:.0%} 的销售无法归属。",
            f"同期对比（{md_text(yoy.table['label'].iloc[1])} 对 {md_text(yoy.table['label'].iloc[0])}）变化 {yoy.relative_change:+.1%}，"
            + DESCRIPTIVE_NOTE["zh"],
        ]
        return "".join(parts)
    parts = [
        f"**Conclusion ({reg}).** Staggered difference-in-differences estimates that the KOS programme added "
        f"¥{e['estimate']:,.0f} of sales per store-week on average ({pct} CI ¥{e['conf_low']:,.0f} to ¥{e['conf_high']:,.0f}); ",
        ("the placebo and pre-trend checks " + ("raise a concern, so read it with care. " if concern else "raise no concern. "))
        if concern is not None else "",
        f"At region level, sales after the launch ran {a['relative_effect']:+.1%} above the counterfactual "
        f"({pct} interval {a['relative_low']:+.1%} to {a['relative_high']:+.1%}; tail probability p = {impact.p_value:.3f})"
        + ("; its in-time placebo also finds an effect before the launch, so this number needs care. "
           if its_placebo_fails else ". "),
        f"Among touchpoint channels, {ch} has the largest Markov removal effect ({top['removal_effect']:.2f}). ",
        f"Promo codes, exclusive links and bound advisors leave {none_share:.0%} of sales uncredited. ",
        f"The same-period comparison ({md_text(yoy.table['label'].iloc[1])} vs {md_text(yoy.table['label'].iloc[0])}) "
        f"changed by {yoy.relative_change:+.1%}. " + DESCRIPTIVE_NOTE["en"],
    ]
    return "".join(parts)


def attribution_digest(effect: ProgrammeEffect, markov: MarkovResult) -> str:
    """A few rounded, deterministic numbers for the notebook's regression check (nbval)."""
    e = effect.table.iloc[0]
    top = markov.table.sort_values("removal_effect", ascending=False).iloc[0]
    return (f"att_per_store_week={e['estimate']:.0f} ci=[{e['conf_low']:.0f}, {e['conf_high']:.0f}] "
            f"top_channel={top['channel']} removal_effect={top['removal_effect']:.3f}")
