"""Report helpers of notebook 04 (KOS scorecard): headline figures, digest and narrative.

Every data-derived string that reaches Markdown goes through
:func:`kosresearch.report.md_text`; KOS names may be shown, customer IDs never
reach these texts.
"""

from __future__ import annotations

import math

import pandas as pd

from kosresearch.report.headlines import Headline
from kosresearch.report.text import check_lang, md_text, t
from kosresearch.scorecard.leaders import BestPracticesResult, LeaderProfileResult, TeamTrendsResult
from kosresearch.scorecard.scorecard import ScorecardResult

__all__ = ["scorecard_headlines", "scorecard_digest", "scorecard_narrative", "rank_note"]


def _latest(trends: TeamTrendsResult, metric: str) -> pd.Series | None:
    rows = trends.latest()
    rows = rows[rows["metric"] == metric]
    return None if rows.empty else rows.iloc[0]


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _name(row: pd.Series) -> str:
    return str(row["kos_name"]) if isinstance(row.get("kos_name"), str) and row["kos_name"] else str(row["kos_id"])


def scorecard_headlines(card: ScorecardResult, trends: TeamTrendsResult, best: BestPracticesResult, *,
                        lang: str) -> list[Headline]:
    """The scorecard's headline figures for the index page."""
    check_lang(lang)
    sla = _latest(trends, "sla_share")
    fast = _latest(trends, "replied_within_5min_share")
    latest = card.latest()
    could_be_first = int((latest["rank_low"] <= 1).sum())
    return [
        Headline("kos_scored", t("参与评分的 KOS", "KOS scored", lang), float(latest["composite"].notna().sum())),
        Headline("sla_share", t("SLA 内首次有效互动率", "First effective contact within SLA", lang),
                 _num(sla["estimate"]) if sla is not None else None,
                 _num(sla["conf_low"]) if sla is not None else None,
                 _num(sla["conf_high"]) if sla is not None else None, unit="share"),
        Headline("replied_within_5min", t("5 分钟内回复率", "Replied within 5 business minutes", lang),
                 _num(fast["estimate"]) if fast is not None else None,
                 _num(fast["conf_low"]) if fast is not None else None,
                 _num(fast["conf_high"]) if fast is not None else None, unit="share"),
        Headline("kos_could_rank_first", t("可能排名第一的 KOS 数", "KOS whose rank interval includes 1", lang),
                 float(could_be_first)),
        Headline("kos_credibly_better_group_conversion",
                 t("社群转化可信领先的 KOS 数", "KOS credibly above the pool on group conversion", lang),
                 float(len(best.leaders))),
    ]


def scorecard_digest(card: ScorecardResult, best: BestPracticesResult) -> str:
    """A short, stable text of the key numbers (compared by nbval)."""
    latest = card.latest()
    return (
        f"periods={card.table['period'].nunique()} kos_last_period={int(latest['composite'].notna().sum())} "
        f"could_rank_first={int((latest['rank_low'] <= 1).sum())} "
        f"credibly_better_{best.metric.name}={len(best.leaders)}"
    )


def rank_note(card: ScorecardResult, *, lang: str) -> str:
    """One paragraph on how many KOS the data can actually tell apart in the last period."""
    check_lang(lang)
    latest = card.latest().dropna(subset=["rank"])
    n = len(latest)
    if n == 0:
        return t("本期没有可评分的 KOS。", "No KOS could be scored in the last period.", lang)
    top = latest.iloc[0]
    tied = int((latest["rank_low"] <= 1).sum())
    width = float((latest["rank_high"] - latest["rank_low"]).median())
    period = md_text(top["period"])
    if lang == "zh":
        return (f"{period} 期共 {n} 位 KOS。综合得分最高的是 **{md_text(_name(top))}**（{top['composite']:.1f} 分），"
                f"但有 {tied} 位 KOS 的排名区间包含第 1 名：它们之间的差距在本期数据下分不出先后，应视为并列。"
                f"排名区间宽度的中位数为 {width:.0f} 位。")
    return (f"{n} KOS in {period}. The highest composite is **{md_text(_name(top))}** ({top['composite']:.1f}), "
            f"but {tied} KOS have a rank interval that includes 1: with this period's data they cannot be told "
            f"apart and should be read as tied. The median rank interval spans {width:.0f} places.")


def scorecard_narrative(card: ScorecardResult, best: BestPracticesResult, profile: LeaderProfileResult,
                        trends: TeamTrendsResult, *, region: str, lang: str) -> str:
    """The closing interpretation of notebook 04, built from the results."""
    check_lang(lang)
    sla = _latest(trends, "sla_share")
    leaders = best.leaders
    names = "、".join(md_text(_name(r)) for _, r in leaders.head(5).iterrows()) if len(leaders) else ""
    sig = profile.table[profile.table["p_adjusted"] < 1 - profile.conf_level] if len(profile.table) else profile.table
    label_col = "label_zh" if lang == "zh" else "label_en"
    separating = ", ".join(md_text(x) for x in sig[label_col].head(3)) if len(sig) else ""
    region_s = md_text(region)
    sla_txt = f"{sla['estimate']:.0%}" if sla is not None and pd.notna(sla["estimate"]) else "–"
    if lang == "zh":
        parts = [f"**{region_s} 区小结。** 最近一期团队的 SLA 内首次有效互动率为 {sla_txt}。"]
        parts.append(f"在{md_text(best.metric.label_zh)}上可信地优于团队的 KOS：{names}。" if names
                     else f"没有 KOS 在{md_text(best.metric.label_zh)}上可信地优于团队：差异不超过抽样波动。")
        parts.append(f"按客户结构调整后的销售领先者，与其他 KOS 差别最明显的指标：{separating}（描述性，非因果）。"
                     if separating else "按客户结构调整后的销售领先者，在过程与关系指标上与其他 KOS 没有显著差别（Holm 校正后）。")
        parts.append("排名附带区间；区间重叠的 KOS 应视为并列，不宜据此奖惩。")
        return "".join(parts)
    parts = [f"**Summary for {region_s}.** In the last period {sla_txt} of new customers had a first effective "
             f"interaction within the SLA. "]
    parts.append(f"Credibly above the pool on {md_text(best.metric.label_en)}: {names}. " if names
                 else f"No KOS is credibly above the pool on {md_text(best.metric.label_en)}: the differences are "
                      f"within sampling noise. ")
    parts.append(f"The metrics that most separate the mix-adjusted sales leaders from the others: {separating} "
                 f"(descriptive, not causal). " if separating else
                 "Mix-adjusted sales leaders do not differ significantly from the others on process or relationship "
                 "metrics (Holm-adjusted). ")
    parts.append("Ranks come with intervals; KOS whose intervals overlap are ties and should not be rewarded or "
                 "penalised on their order.")
    return "".join(parts)
