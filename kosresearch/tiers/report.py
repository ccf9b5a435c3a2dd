"""Report helpers of the tier-migration notebook: display tables, bilingual figures, headlines and the conclusion.

Everything the notebook ``02_tier_migration`` shows that is not a plain call of
an analysis function lives here, so the notebook stays free of logic and the
text is tested.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kosresearch.report.headlines import Headline
from kosresearch.report.text import check_lang, md_text, pretty, t
from kosresearch.tiers.scoring import TIER_LABELS, TierAssignment

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from pandas.io.formats.style import Styler

    from kosresearch.tiers.effort import EffortResult
    from kosresearch.tiers.promotion import PromotionResult
    from kosresearch.tiers.stars import RisingStarsResult
    from kosresearch.tiers.transitions import AbsorptionResult, ComparisonResult, TransitionResult

__all__ = [
    "complete_periods",
    "show",
    "translate",
    "promotion_table",
    "tier_digest",
    "tier_headlines",
    "tier_narrative",
]

#: column -> (zh, en) display names of the tier tables
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "period": ("期间", "period"),
    "tier": ("层级", "tier"),
    "customers": ("客户数", "customers"),
    "share": ("占比", "share"),
    "spend": ("消费额 (元)", "spend (CNY)"),
    "value_share": ("价值占比", "share of value"),
    "mean_score": ("平均价值分", "mean score"),
    "component": ("维度", "component"),
    "weight": ("权重", "weight"),
    "mean score": ("平均得分", "mean score"),
    "mean contribution": ("平均贡献", "mean contribution"),
    "share of score": ("贡献占比", "share of score"),
    "from_state": ("起始层级", "from"),
    "to_state": ("目标层级", "to"),
    "state": ("层级", "tier"),
    "count": ("迁移次数", "transitions"),
    "probability": ("概率", "probability"),
    "measure": ("指标", "measure"),
    "estimate": ("估计值", "estimate"),
    "std_error": ("标准误", "std. error"),
    "statistic": ("统计量", "statistic"),
    "p_value": ("p 值", "p-value"),
    "conf_low": ("区间下限", "lower bound"),
    "conf_high": ("区间上限", "upper bound"),
    "df": ("自由度", "df"),
    "test": ("检验", "test"),
    "n_transitions": ("迁移数", "transitions"),
    "n_samples": ("样本组数", "samples"),
    "term": ("估计方法", "estimate"),
    "n_treated": ("受邀客户", "invited"),
    "n_control": ("对照客户", "controls"),
    "covariate": ("协变量", "covariate"),
    "mean_treated": ("受邀均值", "mean, invited"),
    "mean_control_before": ("对照均值 (调整前)", "mean, controls (before)"),
    "mean_control_after": ("对照均值 (调整后)", "mean, controls (after)"),
    "smd_before": ("标准化差 (调整前)", "SMD before"),
    "smd_after": ("标准化差 (调整后)", "SMD after"),
    "customer": ("客户 (化名)", "customer (pseudonym)"),
    "probability_up": ("升层概率", "probability of moving up"),
    "value_score": ("价值分", "value score"),
    "gap_to_next_tier": ("距上一层级差距", "gap to next tier"),
    "reasons": ("原因", "reasons"),
    "kos_id": ("KOS", "KOS"),
    "customer_months": ("客户月数", "customer-months"),
    "outreach": ("主动触达数", "outreach messages"),
    "top_customer_share": ("核心+潜力 客户占比", "core+potential: share of customers"),
    "top_outreach_share": ("核心+潜力 触达占比", "core+potential: share of outreach"),
    "top_value_share": ("核心+潜力 价值占比", "core+potential: share of value"),
    "focus_ratio": ("聚焦倍数", "focus ratio"),
    "spreads_evenly": ("平均用力", "spreads evenly"),
    "possibly_even": ("可能平均用力", "possibly even"),
    "kind": ("类型", "kind"),
}

_TIER_COLUMNS = ("tier", "from_state", "to_state", "state")

#: values of other display columns -> (zh, en)
VALUE_LABELS: dict[str, tuple[str, str]] = {
    "spend": ("消费", "spend"),
    "repurchase": ("复购潜力", "repurchase potential"),
    "influence": ("影响力", "influence"),
    "engagement": ("互动", "engagement"),
    "stationary": ("平稳分布", "stationary"),
    "quasi-stationary": ("准平稳分布 (未流失客户)", "quasi-stationary (not churned)"),
    "naive": ("naive (直接比较)", "naive (direct comparison)"),
    "ipw": ("逆概率加权 (IPW)", "inverse-probability weighting (IPW)"),
    "matching": ("倾向得分匹配", "propensity-score matching"),
    "placebo": ("安慰剂", "placebo"),
    "placebo (ipw)": ("安慰剂 (IPW)", "placebo (IPW)"),
    "placebo (matching)": ("安慰剂 (匹配)", "placebo (matching)"),
    "expected_steps": ("期望期数", "expected periods"),
    "(all)": ("(合计)", "(all)"),
    "just below the next tier's cutoff": ("紧贴上一层级门槛", "just below the next tier's cutoff"),
}
_VALUE_COLUMNS = ("component", "kind", "term", "measure", "from_state")
_REASON_WORDS_ZH = {"spend": "消费", "repurchase": "复购潜力", "influence": "影响力", "engagement": "互动",
                    "high": "较高的", "score": "得分", "just below the next tier's cutoff": "紧贴上一层级门槛"}

#: English phrases of the tier figures -> Chinese
_PHRASES_ZH: dict[str, str] = {
    "transition probabilities": "层级迁移概率",
    "intervals": "区间",
    "bands": "区间带",
    "to": "迁入层级",
    "from": "起始层级",
    "tier mix over time": "各层级客户占比变化",
    "share of spend": "消费占比",
    "share": "占比",
    "projected mix": "层级结构预测",
    "periods ahead": "向后期数",
    "dashed": "虚线",
    "quasi-stationary mix": "准平稳结构",
    "stationary mix": "平稳结构",
    "time to absorption": "距流失的期望时间",
    "expected periods to absorption": "距流失的期望期数",
    "staying probability by": "保持原层级的概率，按",
    "kos_served": "是否有 KOS 服务",
    "acquisition_channel": "获客渠道",
    "after (ipw)": "调整后 (IPW)",
    "after (matching)": "调整后 (匹配)",
    "probability of staying": "保持原层级概率",
    "difference of matrices": "迁移矩阵差异",
    "covariate balance, invited vs not invited": "协变量平衡：受邀 vs 未受邀",
    "|standardised mean difference|": "|标准化均值差|",
    "before": "调整前",
    "after": "调整后",
    "overlap of propensity scores": "倾向得分重叠",
    "logit propensity score": "倾向得分 (logit)",
    "density": "密度",
    "not invited": "未受邀",
    "invited": "受邀",
    "effort vs value per KOS (dashed: effort follows value)": "各 KOS 的投入与价值 (虚线：投入随价值)",
    "core + potential: share of the KOS's customer value": "核心+潜力层：占该 KOS 客户价值的比例",
    "core + potential: share of the KOS's outreach": "核心+潜力层：占该 KOS 主动触达的比例",
    "spreads evenly": "平均用力",
    "focused": "聚焦",
    "tier flows": "层级流动",
    "value score components": "价值分构成",
    "weight": "权重",
    "share of the average score": "占平均分的比例",
    "what rose among the": "上升的维度：",
    "rising stars": "位潜力之星",
    "mean change of the component score": "维度得分平均变化",
}


#: whole labels (legend entries, tick labels) -> Chinese
_EXACT_ZH: dict[str, str] = {
    "to": "迁入层级",
    "from": "起始层级",
    "share": "占比",
    "True": "是",
    "False": "否",
    "before": "调整前",
    "spend": "消费",
    "repurchase": "复购潜力",
    "influence": "影响力",
    "engagement": "互动",
    "weight": "权重",
    "focused": "聚焦",
    "invited": "受邀",
    "not invited": "未受邀",
    "assigned": "评分层级",
    "reference": "参照层级",
}


def complete_periods(features: pd.DataFrame) -> pd.DataFrame:
    """Drop the periods that the data window covers only partly (``period_complete`` false).

    A partial last month has fewer orders and messages, so its customers
    would look less valuable and more churned than they are.
    """
    if "period_complete" not in features.columns:
        return features.copy()
    return features[features["period_complete"].astype(bool)].reset_index(drop=True)


def tier_name(tier: str, lang: str) -> str:
    """Display name of a tier in ``lang``."""
    check_lang(lang)
    pair = TIER_LABELS.get(str(tier))
    return str(tier) if pair is None else (pair[0] if lang == "zh" else pair[1])


def show(data: pd.DataFrame, lang: str, *, precision: int = 3) -> "Styler":
    """A result table for display: tier names and column headers in ``lang``, values escaped."""
    check_lang(lang)
    out = data.copy()
    i = 0 if lang == "zh" else 1
    for col in _TIER_COLUMNS:
        if col in out.columns:
            out[col] = out[col].map(lambda v: tier_name(v, lang) if isinstance(v, str) else v)
    for col in _VALUE_COLUMNS:
        if col in out.columns:
            out[col] = out[col].map(lambda v: VALUE_LABELS[v][i] if isinstance(v, str) and v in VALUE_LABELS else v)
    if "reasons" in out.columns and lang == "zh":
        out["reasons"] = out["reasons"].map(_reason_zh)
    out = out.rename(columns={c: COLUMN_LABELS[c][i] for c in out.columns if c in COLUMN_LABELS})
    return pretty(out, lang=lang, precision=precision, translate_tables=False)


def _reason_zh(text: str) -> str:
    for en in sorted(_REASON_WORDS_ZH, key=len, reverse=True):
        text = text.replace(en, _REASON_WORDS_ZH[en])
    return text


def translate(ax: "Axes", lang: str) -> "Axes":
    """Put a tier figure's title, axis labels, tick labels and legend into ``lang`` (English figures are left as drawn)."""
    check_lang(lang)
    if lang == "en":
        return ax

    def tr(text: str) -> str:
        if text in TIER_LABELS:
            return TIER_LABELS[text][0]
        if text in _EXACT_ZH:
            return _EXACT_ZH[text]
        head, sep, rest = text.partition(": ")
        if sep and head in TIER_LABELS:
            return f"{TIER_LABELS[head][0]}: {tr(rest)}"
        for en in sorted(_PHRASES_ZH, key=len, reverse=True):
            if en in text and len(en) > 3:
                text = text.replace(en, _PHRASES_ZH[en])
        return text

    ax.set_title(tr(ax.get_title()))
    ax.set_xlabel(tr(ax.get_xlabel()))
    ax.set_ylabel(tr(ax.get_ylabel()))
    for axis in (ax.xaxis, ax.yaxis):
        labels = [x.get_text() for x in axis.get_ticklabels()]
        new_labels = [tr(x) for x in labels]
        if new_labels != labels:
            axis.set_ticks(axis.get_ticklocs(), new_labels)
    for txt in ax.texts:
        first, _, rest = txt.get_text().partition("\n")
        if first in TIER_LABELS or first == "new":
            txt.set_text(("新客户" if first == "new" else TIER_LABELS[first][0]) + ("\n" + rest if rest else ""))
    legend = ax.get_legend()
    if legend is not None:
        for txt in legend.get_texts():
            txt.set_text(tr(txt.get_text()))
    return ax


def promotion_table(*results: "PromotionResult") -> pd.DataFrame:
    """One table of the naive and adjusted promotion estimates of several methods, with their placebos."""
    rows = []
    for k, res in enumerate(results):
        for _, r in res.table.iterrows():
            if r["term"] == "naive" and k > 0:
                continue
            term = f"placebo ({res.method})" if r["term"] == "placebo" else r["term"]
            rows.append({**r.to_dict(), "term": term})
    cols = ["term", "estimate", "std_error", "p_value", "conf_low", "conf_high", "n_treated", "n_control"]
    return pd.DataFrame(rows)[cols]


# --------------------------------------------------------------------------- numbers for the report


def _core_share(tiers: TierAssignment) -> tuple[str, float, int]:
    last = tiers.periods[-1]
    mix = tiers.mix(last)
    return last, float(mix["core"] / mix.sum()), int(mix.sum())


def _cell(tm: "TransitionResult", a: str, b: str) -> pd.Series:
    return tm.table.set_index(["from_state", "to_state"]).loc[(a, b)]


def _period_words(tiers: TierAssignment, lang: str) -> tuple[str, str]:
    """(unit, per-unit) words for the tier periods: months, quarters, weeks or plain periods."""
    label = str(tiers.periods[-1])
    if re.fullmatch(r"\d{4}-\d{2}", label):
        return ("个月", "每月") if lang == "zh" else ("months", "per month")
    if re.fullmatch(r"\d{4}-Q[1-4]", label):
        return ("个季度", "每季度") if lang == "zh" else ("quarters", "per quarter")
    if re.fullmatch(r"\d{4}-W\d{2}", label):
        return ("周", "每周") if lang == "zh" else ("weeks", "per week")
    return ("期", "每期") if lang == "zh" else ("periods", "per period")


def tier_digest(tiers: TierAssignment, tm: "TransitionResult", promotion: "PromotionResult") -> str:
    """Deterministic rounded numbers of the report, one per line (for the nbval golden check)."""
    last, core_share, n = _core_share(tiers)
    stay = _cell(tm, "core", "core")
    p = promotion.table.set_index("term")
    lines = [
        f"periods: {tiers.periods[0]}..{last} ({len(tiers.periods)})",
        f"customers in {last}: {n}",
        f"core share in {last}: {core_share:.3f}",
        f"P(core -> core): {stay['probability']:.3f} [{stay['conf_low']:.3f}, {stay['conf_high']:.3f}]",
        f"promotion naive: {p.loc['naive', 'estimate']:.0f}",
        f"promotion {promotion.method}: {p.loc[promotion.method, 'estimate']:.0f}",
    ]
    return "\n".join(lines)


def tier_headlines(
    tiers: TierAssignment,
    tm: "TransitionResult",
    absorption: "AbsorptionResult",
    promotion: "PromotionResult",
    effort: "EffortResult",
    *,
    lang: str,
) -> list[Headline]:
    """Headline figures of the tier report for the index page.

    ``core_share`` (last period, %), ``core_retention`` (P(core -> core) in
    %, with its interval), ``periods_to_churn_core`` (expected periods from core to
    churned, with interval), ``promotion_effect`` (adjusted extra spend per
    invitation, CNY, with interval) and ``kos_even_effort`` (KOS flagged as
    spreading effort evenly).
    """
    check_lang(lang)
    _, core_share, _ = _core_share(tiers)
    stay = _cell(tm, "core", "core")
    steps = absorption.table[(absorption.table["measure"] == "expected_steps")
                             & (absorption.table["from_state"] == "core")]
    p = promotion.table.set_index("term").loc[promotion.method]
    out = [
        Headline("core_share", t("核心价值层占比", "Core tier share", lang), 100.0 * core_share, unit="%"),
        Headline("core_retention", t("核心客户次期留在核心层的概率", "P(core stays core next period)", lang),
                 100.0 * float(stay["probability"]), 100.0 * float(stay["conf_low"]),
                 100.0 * float(stay["conf_high"]), unit="%"),
    ]
    if len(steps):
        s = steps.iloc[0]
        out.append(Headline("periods_to_churn_core", t("核心客户距流失的期望期数", "Expected periods from core to churned", lang),
                            float(s["estimate"]), float(s["conf_low"]), float(s["conf_high"])))
    out.append(Headline("promotion_effect", t("晋级邀请带来的额外消费", "Extra spend per promotion invitation", lang),
                        float(p["estimate"]), float(p["conf_low"]), float(p["conf_high"]), unit="CNY"))
    out.append(Headline("kos_even_effort", t("平均用力的 KOS 数", "KOS spreading effort evenly", lang),
                        float(effort.by_kos["spreads_evenly"].sum())))
    return out


def tier_narrative(
    tiers: TierAssignment,
    tm: "TransitionResult",
    absorption: "AbsorptionResult",
    served: "ComparisonResult",
    promotion: "PromotionResult",
    stars: "RisingStarsResult",
    effort: "EffortResult",
    *,
    region: str,
    lang: str,
) -> str:
    """The plain-language conclusion of the report; every number comes from the results passed in."""
    check_lang(lang)
    from kosresearch.data.contract import region_label

    name = md_text(region_label(region, lang))
    last, core_share, n = _core_share(tiers)
    sizes = tiers.sizes
    core_value = sizes[(sizes[tiers.period_col] == last) & (sizes["tier"] == "core")]["value_share"]
    core_value = float(core_value.iloc[0]) if len(core_value) else np.nan
    stay = _cell(tm, "core", "core")
    up = _cell(tm, "potential", "core")
    steps = absorption.expected_steps
    p = promotion.table.set_index("term")
    adj, naive = p.loc[promotion.method], p.loc["naive"]
    plac = p.loc["placebo"]
    n_even = int(effort.by_kos["spreads_evenly"].sum())
    n_poss = int(effort.by_kos["possibly_even"].sum())
    n_kos = len(effort.by_kos)
    significant = served.p_value < 0.05
    unit, per = _period_words(tiers, lang)
    method = VALUE_LABELS[promotion.method][0 if lang == "zh" else 1]
    pct = lambda x: f"{100 * x:.1f}%"  # noqa: E731
    sep = " 至 " if lang == "zh" else " to "
    ci = lambda r, f: f"{f(r['conf_low'])}{sep}{f(r['conf_high'])}"  # noqa: E731
    money = lambda x: f"{x:,.0f}"  # noqa: E731
    if lang == "zh":
        parts = [
            f"**{name}** 在 {md_text(last)} 共有 {n:,} 名客户，其中核心价值层占 {pct(core_share)}，"
            f"贡献了当期 {pct(core_value)} 的消费。",
            f"核心客户下一期仍留在核心层的概率为 {pct(stay['probability'])} (95% 区间 {ci(stay, pct)})；"
            f"潜力层客户{per}升入核心层的概率为 {pct(up['probability'])} (区间 {ci(up, pct)})。",
            f"按当前迁移规律，核心客户平均约 {steps.get('core', np.nan):.0f} {unit}后首次流失，"
            f"大众层客户约 {steps.get('mass', np.nan):.0f} {unit}。",
            ("有 KOS 服务与无 KOS 服务的客户迁移规律显著不同" if significant else
             "有 KOS 服务与无 KOS 服务的客户迁移规律没有显著差异")
            + f" (似然比检验 p = {served.p_value:.2g}，自由度 {served.df})。",
            f"晋级邀请使受邀客户在邀请后约 90 天内多消费 {money(adj['estimate'])} 元 "
            f"(区间 {ci(adj, money)} 元，方法：{md_text(method)})；"
            f"直接比较受邀与未受邀客户会得出 {money(naive['estimate'])} 元，因为邀请对象本就是近期高消费客户。"
            f"安慰剂检验 (邀请前 4–6 个月的消费) 为 {money(plac['estimate'])} 元 (区间 {ci(plac, money)})。",
            f"{n_kos} 名 KOS 中有 {n_even} 名明确平均用力 (另有 {n_poss - n_even} 名可能如此)，"
            "建议把他们的主动触达更多地转向核心和潜力层客户。",
            f"本期列出 {len(stars.table)} 位最可能升层的潜力之星 (模型样本外 AUC {stars.auc:.2f})。",
        ]
    else:
        parts = [
            f"**{name}** had {n:,} customers in {md_text(last)}; the core value tier holds {pct(core_share)} of them "
            f"and {pct(core_value)} of that period's spend.",
            f"A core customer stays core the next period with probability {pct(stay['probability'])} "
            f"(95% interval {ci(stay, pct)}); a potential-growth customer moves up to core with probability "
            f"{pct(up['probability'])} {per} ({ci(up, pct)}).",
            f"If movements keep their current pattern, a core customer first churns after about "
            f"{steps.get('core', np.nan):.0f} {unit} on average, a mass customer after about "
            f"{steps.get('mass', np.nan):.0f}.",
            ("KOS-served and unserved customers move between tiers differently" if significant else
             "KOS-served and unserved customers show no significant difference in how they move")
            + f" (likelihood-ratio test p = {served.p_value:.2g}, df = {served.df}).",
            f"A promotion invitation raises the invited customer's spend over the following ~90 days by "
            f"{money(adj['estimate'])} CNY ({ci(adj, money)} CNY, {md_text(method)}); a naive comparison "
            f"of invited and non-invited customers says {money(naive['estimate'])} CNY, because invitations went to "
            f"recent big spenders. The placebo on spend 4–6 months before the invitation is "
            f"{money(plac['estimate'])} CNY ({ci(plac, money)}).",
            f"{n_even} of {n_kos} KOS clearly spread their effort evenly ({n_poss - n_even} more possibly do); "
            "their outreach should shift towards core and potential-growth customers.",
            f"The report lists the {len(stars.table)} rising stars most likely to move up "
            f"(out-of-time AUC of the model {stars.auc:.2f}).",
        ]
    return "\n\n".join(parts)
