"""Bilingual display labels of the value-accounting tables (zh, en)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from kosresearch.report.text import check_lang

LANGS = ("zh", "en")

CHANNELS: Mapping[str, tuple[str, str]] = {
    "paid_ads": ("付费广告", "paid ads"),
    "kos_content": ("KOS 内容", "KOS content"),
    "koc_content": ("KOC 内容", "KOC content"),
    "referral": ("转介绍", "referral"),
    "walk_in": ("自然到店", "walk-in"),
    "other": ("其他", "other"),
    "all": ("全部渠道", "all channels"),
}

COLUMNS: Mapping[str, tuple[str, str]] = {
    "channel": ("获客渠道", "channel"),
    "cohort": ("获客批次", "cohort"),
    "n_customers": ("客户数", "customers"),
    "customers": ("客户数", "customers"),
    "share": ("占新客比例", "share of new customers"),
    "total_cost": ("获客总成本 (元)", "total cost (CNY)"),
    "cac": ("获客成本 CAC (元)", "CAC (CNY)"),
    "estimate": ("估计值", "estimate"),
    "std_error": ("标准误", "std. error"),
    "conf_low": ("区间下限", "CI low"),
    "conf_high": ("区间上限", "CI high"),
    "p_value": ("p 值", "p-value"),
    "n": ("样本量", "n"),
    "term": ("指标", "measure"),
    "model": ("模型", "model"),
    "revenue": ("窗口期收入 (元)", "revenue in window (CNY)"),
    "repeat_orders": ("窗口期复购单数", "repeat orders in window"),
    "referrals": ("人均推荐新客", "referrals per customer"),
    "generation": ("推荐代数", "generation"),
    "actual": ("实际复购次数", "actual repeat purchases"),
    "predicted": ("模型预测", "predicted"),
    "ratio": ("预测/实际", "predicted / actual"),
}

TERMS: Mapping[str, tuple[str, str]] = {
    "referral_rate": ("转介绍获客占比", "share of new customers acquired by referral"),
    "k_factor": ("K 因子（窗口期内人均带来新客）", "K-factor (new customers referred per customer in the window)"),
    "referrer_share": ("推荐过新客的客户占比", "share of customers who referred someone"),
    "referrals_per_referrer": ("推荐人人均推荐新客", "referrals per referrer"),
    "reward_per_referral": ("每位转介绍客户的奖励 (元)", "reward per referred customer (CNY)"),
    "revenue_referred": ("转介绍客户窗口期收入 (元)", "window revenue, referred customers (CNY)"),
    "revenue_other": ("其他客户窗口期收入 (元)", "window revenue, other customers (CNY)"),
    "revenue_difference": ("收入差（转介绍 - 其他）", "revenue difference (referred - other)"),
    "revenue_referrers": ("推荐人窗口期收入 (元)", "window revenue of referrers (CNY)"),
    "spearman_rho": ("Spearman 相关（复购次数 × 客单价）", "Spearman correlation (frequency × spend)"),
    "pearson_r": ("Pearson 相关（复购次数 × 客单价）", "Pearson correlation (frequency × spend)"),
    "all": ("合计", "all"),
}

MEASURES: Mapping[str, tuple[str, str]] = {
    "ltv": ("LTV (元)", "LTV (CNY)"),
    "cac": ("CAC (元)", "CAC (CNY)"),
    "ltv_cac": ("LTV/CAC", "LTV/CAC"),
    "payback_month": ("回本月份", "payback month"),
    "payback_month_repeat": ("仅复购回本月份", "payback month, repeat purchases only"),
}


def lang_index(lang: str) -> int:
    return LANGS.index(check_lang(lang))


def channel_label(channel: str, lang: str = "en") -> str:
    """Display name of an acquisition channel (vocabulary values outside the list are returned as they are)."""
    i = lang_index(lang)
    return CHANNELS[channel][i] if channel in CHANNELS else str(channel)


def label(key: str, lang: str, catalogue: Mapping[str, tuple[str, str]] = COLUMNS) -> str:
    i = lang_index(lang)
    return catalogue[key][i] if key in catalogue else key


def display(frame: pd.DataFrame, lang: str, *, ci: str | None = None) -> pd.DataFrame:
    """Translate channel / term values and column names; ``ci`` labels the interval columns (e.g. ``95%``)."""
    out = frame.copy()
    if "channel" in out:
        out["channel"] = out["channel"].map(lambda c: channel_label(c, lang))
    if "term" in out:
        out["term"] = out["term"].map(lambda k: label(k, lang, TERMS))
    names = {c: label(c, lang) for c in out.columns}
    if ci:
        for c in ("conf_low", "conf_high"):
            if c in names:
                names[c] = f"{names[c]} ({ci})"
    return out.rename(columns=names)


#: axis labels and legend entries of the value-accounting figures, ``key: (zh, en)``
PLOT: Mapping[str, tuple[str, str]] = {
    "cac_axis": ("每位新客获客成本 CAC (元)", "CAC, CNY per customer"),
    "cohort_axis": ("获客批次", "acquisition cohort"),
    "revenue_window": ("获客后前 {m} 个月人均收入 (元)", "revenue per customer in the first {m} months (CNY)"),
    "referrals_window": ("获客后前 {m} 个月推荐的新客数", "customers referred in the first {m} months"),
    "share_customers": ("客户占比", "share of customers"),
    "months_since": ("获客后月数", "months since acquisition"),
    "cum_margin": ("人均累计贴现毛利 (元)", "cumulative discounted margin per customer (CNY)"),
    "p_alive": ("观察期末仍活跃的概率 P(alive)", "P(alive) at the end of observation"),
    "actual": ("实际", "actual"),
    "calibration": ("校准期复购次数", "repeat purchases in calibration"),
    "holdout": ("留出期人均复购次数", "mean repeat purchases in holdout"),
}


def plot_label(key: str, lang: str, **fmt) -> str:
    return label(key, lang, PLOT).format(**fmt)
