"""Narrative, digest and headline helpers of ``notebooks/06_value_accounting.ipynb``.

They turn result objects into text, so the notebook keeps no logic. Every
data-derived string goes through :func:`kosresearch.report.md_text`.
"""

from __future__ import annotations


import numpy as np

from kosresearch.value import _labels
from kosresearch.value.cac import AcquisitionCostResult, ReferralResult
from kosresearch.value.clv import HoldoutResult
from kosresearch.value.ltv import LtvCacResult

__all__ = ["value_conclusion", "value_digest", "value_headlines"]


def _md(s: object) -> str:
    from kosresearch.report.text import md_text

    return md_text(s)


def _money(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    return f"−¥{-v:,.0f}" if v < 0 else f"¥{v:,.0f}"


def _months(v: float, horizon: int, lang: str) -> str:
    if v == 0:
        return "首单即回本" if lang == "zh" else "at once (first purchase)"
    if not np.isfinite(v):
        return f"{horizon} 个月内未回本" if lang == "zh" else f"not within {horizon} months"
    return f"第 {v:.0f} 个月" if lang == "zh" else f"month {v:.0f}"


def _channel_sentence(value: LtvCacResult, channel: str, lang: str) -> str:
    cac = value.estimate(channel, "cac")["estimate"]
    ltv = value.estimate(channel, "ltv")
    ratio = value.estimate(channel, "ltv_cac")["estimate"]
    pb = value.estimate(channel, "payback_month")["estimate"]
    pbr = value.estimate(channel, "payback_month_repeat")["estimate"]
    name = _md(_labels.channel_label(channel, lang))
    years = value.horizon_months / 12
    pct = f"{value.conf_level:.0%}"
    if lang == "zh":
        return (f"通过**{name}**获得的客户，平均获客成本 {_money(cac)}，{value.horizon_months} 个月（{years:g} 年）内带来"
                f"毛利 {_money(ltv['estimate'])}（{pct} 置信区间 {_money(ltv['conf_low'])}–{_money(ltv['conf_high'])}），"
                f"LTV/CAC 为 {ratio:,.1f}；回本：{_months(pb, value.horizon_months, lang)}，"
                f"仅算复购：{_months(pbr, value.horizon_months, lang)}。")
    return (f"A customer acquired through **{name}** costs {_money(cac)} and returns {_money(ltv['estimate'])} of "
            f"margin over {years:g} years ({pct} CI {_money(ltv['conf_low'])}–{_money(ltv['conf_high'])}), "
            f"LTV/CAC {ratio:,.1f}; payback {_months(pb, value.horizon_months, lang)}, on repeat purchases alone "
            f"{_months(pbr, value.horizon_months, lang)}.")


def value_conclusion(
    cac: AcquisitionCostResult,
    referrals: ReferralResult,
    value: LtvCacResult,
    holdout: HoldoutResult,
    *,
    region: str,
    lang: str = "zh",
) -> str:
    """The plain-language conclusion of the value-accounting report (Markdown), with numbers from the results."""
    from kosresearch.data.contract import region_label

    _labels.lang_index(lang)
    channels = [c for c in ("referral", "paid_ads", "kos_content") if c in set(value.table["channel"])]
    ref = referrals.table.set_index("term")
    k = ref.loc["k_factor"]
    diff = ref.loc["revenue_difference"]
    all_h = holdout.table.set_index("term").loc["all"]
    significant = diff["conf_low"] > 0 or diff["conf_high"] < 0
    w = referrals.window_months
    lines = [("### 结论：" if lang == "zh" else "### Conclusion: ") + _md(region_label(region, lang))]
    lines += [f"- {_channel_sentence(value, c, lang)}" for c in channels]
    if lang == "zh":
        lines.append(
            f"- 转介绍带来 {ref.loc['referral_rate', 'estimate']:.0%} 的新客；K 因子为 {k['estimate']:.2f}"
            f"（每位客户在获客后 {w} 个月内平均带来 {k['estimate']:.2f} 位新客，"
            f"{'低于 1：转介绍放大增长，但不能单独维持增长' if k['conf_high'] < 1 else '接近或超过 1'}）。"
            f"转介绍客户前 {w} 个月收入比其他客户{'高' if diff['estimate'] > 0 else '低'} "
            f"{_money(abs(diff['estimate']))}（{value.conf_level:.0%} 置信区间 {_money(diff['conf_low'])}–"
            f"{_money(diff['conf_high'])}，{'差异显著' if significant else '差异不显著'}）。")
        lines.append(
            f"- 模型检验：以最后 {holdout.data['duration_holdout'].iloc[0]:.0f} 周为留出期，BG/NBD 预测人均复购 "
            f"{all_h['predicted']:.2f} 次，实际 {all_h['actual']:.2f} 次（预测/实际 {all_h['ratio']:.2f}）。"
            "BG/NBD 假定购买过程平稳；项目上线、晋级邀请等会随时间改变购买频率，近期批次的预测因此带有这一近似。")
        lines.append(
            f"- 假设：毛利率 {value.margin:.0%}，年贴现率 {value.discount_rate:.0%}，LTV 自获客起计 "
            f"{value.horizon_months} 个月（已发生部分按实际、未来部分按模型），区间为按客户自助法"
            f"（{value.n_boot} 次）。CAC 只包含记录在客户上的获客成本（转介绍为奖励金额）。")
    else:
        lines.append(
            f"- Referrals bring {ref.loc['referral_rate', 'estimate']:.0%} of new customers; the K-factor is "
            f"{k['estimate']:.2f} (each customer brings {k['estimate']:.2f} new customers in the {w} months after "
            f"acquisition{', below 1: referrals amplify growth but cannot sustain it alone' if k['conf_high'] < 1 else ''}"
            f"). Referred customers spend {_money(abs(diff['estimate']))} "
            f"{'more' if diff['estimate'] > 0 else 'less'} than others in their first {w} months "
            f"({value.conf_level:.0%} CI {_money(diff['conf_low'])} to {_money(diff['conf_high'])}, "
            f"{'a clear difference' if significant else 'not a clear difference'}).")
        lines.append(
            f"- Model check: holding out the last {holdout.data['duration_holdout'].iloc[0]:.0f} weeks, BG/NBD "
            f"predicts {all_h['predicted']:.2f} repeat purchases per customer against {all_h['actual']:.2f} observed "
            f"(ratio {all_h['ratio']:.2f}). BG/NBD assumes a stable purchase process; programme roll-outs and "
            "promotions change purchase rates over time, so forecasts of recent cohorts carry that approximation.")
        lines.append(
            f"- Assumptions: gross margin {value.margin:.0%}, annual discount rate {value.discount_rate:.0%}, LTV over "
            f"{value.horizon_months} months from acquisition (realised where observed, forecast after), intervals "
            f"from a bootstrap over customers ({value.n_boot} replicates). CAC holds only costs recorded per customer "
            "(for referrals, the reward).")
    return "\n".join(lines)


def value_headlines(value: LtvCacResult, referrals: ReferralResult, *, lang: str = "zh") -> list[dict]:
    """Headline figures: LTV/CAC and payback by channel, the referral K-factor and referral share."""
    out = value.headlines(lang=lang)
    ref = referrals.table.set_index("term")
    for term, unit in (("k_factor", ""), ("referral_rate", "")):
        row = ref.loc[term]
        out.append({"name": term, "label": _labels.label(term, lang, _labels.TERMS),
                    "estimate": float(row["estimate"]), "conf_low": float(row["conf_low"]),
                    "conf_high": float(row["conf_high"]), "unit": unit})
    return out


def value_digest(cac: AcquisitionCostResult, referrals: ReferralResult, value: LtvCacResult) -> str:
    """Deterministic numbers for the notebook regression check (rounded)."""
    c = cac.table.set_index("channel")["estimate"].round(2).to_dict()
    k = referrals.table.set_index("term")["estimate"]
    p = value.models.set_index("term")["estimate"].round(3).to_dict()
    ltv = value.table[(value.table["cohort"] == "all") & (value.table["measure"] == "ltv")]
    ltv = ltv.set_index("channel")["estimate"].round(0).to_dict()
    lines = [f"cac {c}", f"k_factor {k['k_factor']:.4f} referral_rate {k['referral_rate']:.4f}",
             f"params {p}", f"ltv {ltv}"]
    return "\n".join(lines)
