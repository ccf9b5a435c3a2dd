"""Helpers of notebook 03 (content effects): inputs, display tables, headlines and the conclusion.

Everything that would otherwise be logic in the notebook lives here, so a test
can reach it: which posts enter the models, the reference levels, display
versions of the result tables (translated headers, rounded numbers), the
power summary, the headline figures and the plain-language conclusion built
from the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kosresearch._validation import check_choice
from kosresearch.content import _text as tx
from kosresearch.content.benchmark import KosBenchmark
from kosresearch.content.effects import EffectSizeResult, cohens_h, posts_needed
from kosresearch.content.rates import (
    PairwiseRateRatios,
    RateRatioContrast,
    RateRatioResult,
    content_posts,
)
from kosresearch.content.strategy import StrategyChangeResult, strategy_change_effect
from kosresearch.errors import KosDataError

__all__ = [
    "TERMS",
    "PREFERRED_REFERENCE",
    "region_posts",
    "reference_levels",
    "rate_col",
    "engagement_display",
    "rate_ratio_display",
    "pairwise_display",
    "power_display",
    "benchmark_display",
    "bullets",
    "model_note",
    "power_summary",
    "strategy_change",
    "strategy_display",
    "strategy_text",
    "plot_strategy",
    "top_vs_pool_text",
    "top_vs_pool_h",
    "content_headlines",
    "content_conclusion",
    "content_digest",
]

#: content dimensions compared in the report
TERMS: tuple[str, ...] = ("format", "topic", "platform")
#: reference levels when present (a promotion image-text post on WeChat Moments: the usual baseline)
PREFERRED_REFERENCE: Mapping[str, str] = {"format": "image_text", "topic": "promotion", "platform": "wechat_moments"}

_COLS: Mapping[str, tuple[str, str]] = {
    "format": ("形式", "format"),
    "topic": ("主题", "topic"),
    "platform": ("平台", "platform"),
    "term": ("维度", "dimension"),
    "level": ("水平", "level"),
    "reference": ("对照", "compared with"),
    "rate_ratio": ("比率", "rate ratio"),
    "conf_low": ("区间下限", "CI low"),
    "conf_high": ("区间上限", "CI high"),
    "p_value": ("p 值", "p-value"),
    "p_holm": ("Holm 校正 p", "p (Holm)"),
    "p_fdr_bh": ("BH 校正 p", "p (BH)"),
    "posts": ("发帖数", "posts"),
    "kos": ("KOS 数", "advisors"),
    "impressions": ("曝光", "impressions"),
    "interactions": ("互动", "interactions"),
    "leads": ("线索", "leads"),
    "interaction_rate": ("互动率（每千次曝光）", "interactions per 1k impressions"),
    "lead_rate": ("线索率（每千次曝光）", "leads per 1k impressions"),
    "interval": ("区间", "interval"),
    "reference_posts": ("对照发帖数", "reference posts"),
    "design_effect": ("设计效应", "design effect"),
    "min_detectable_increase": ("可检出的最小提升", "smallest detectable increase"),
    "min_detectable_decrease": ("可检出的最小下降", "smallest detectable decrease"),
    "significant": ("显著", "significant"),
    "kos_id": ("KOS", "advisor"),
    "successes": ("7 天内发言", "spoke within 7 days"),
    "trials": ("新成员", "new members"),
    "raw_rate": ("原始比例", "raw rate"),
    "estimate": ("收缩估计", "shrunk estimate"),
    "above_pool": ("明显高于整体", "credibly above pool"),
    "rank": ("排名", "rank"),
    "n_changes": ("调整者", "changers"),
    "n_control_kos": ("对照 KOS", "comparison advisors"),
    "n_posts": ("帖子数", "posts"),
}

_TERMS_OUT = {
    "strategy_change": ("策略调整效应", "strategy-change effect"),
    "pre_trend_placebo": ("调整前安慰剂", "pre-trend placebo"),
}


def _rename(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    i = 0 if tx.check_lang(lang) == "zh" else 1
    return df.rename(columns={c: v[i] for c, v in _COLS.items() if c in df.columns})


def _level_name(term: str, level: Any, lang: str) -> str:
    entry = tx.LEVEL_LABELS.get(term, {}).get(str(level))
    if entry is None:
        return str(level)
    return entry[2] if lang == "zh" else entry[1]


# --------------------------------------------------------------------------- inputs


def region_posts(dataset, *, min_posts: int = 30) -> pd.DataFrame:
    """Posts of the dataset with interaction counts, without formats / topics / platforms under ``min_posts`` posts.

    Rare levels give very wide intervals (or none at all when they have no
    event); they are left out of every model of the report. Posts are counted
    on all posts of the dataset, before any level is dropped.
    ``attrs["dropped"]`` lists the dropped levels as ``{term: [levels]}``.
    """
    posts = content_posts(dataset)
    posts = posts[posts["impressions"] > 0]
    dropped: dict[str, list[str]] = {}
    keep = np.ones(len(posts), bool)
    for term in TERMS:
        counts = posts[term].value_counts()
        rare = sorted(str(v) for v in counts.index[counts < min_posts])
        if rare:
            dropped[term] = rare
            keep &= ~posts[term].isin(rare).to_numpy()
    out = posts[keep].reset_index(drop=True)
    if out.empty:
        raise KosDataError(f"no posts left after dropping levels with fewer than min_posts={min_posts} posts")
    out.attrs["dropped"] = dropped
    return out


def reference_levels(posts: pd.DataFrame) -> dict[str, str]:
    """The preferred reference level of each term when it is present, else the term's most common level."""
    out = {}
    for term in TERMS:
        levels = set(posts[term].unique())
        pref = PREFERRED_REFERENCE[term]
        out[term] = pref if pref in levels else str(posts[term].value_counts().index[0])
    return out


def rate_col(metric: str) -> str:
    """``"interactions"`` → ``"interaction_rate"``, ``"leads"`` → ``"lead_rate"``."""
    check_choice("metric", metric, ("interactions", "leads"))
    return "interaction_rate" if metric == "interactions" else "lead_rate"


# --------------------------------------------------------------------------- display tables


def engagement_display(result, *, lang: str) -> pd.DataFrame:
    """One row per group: posts, advisors, impressions, counts and both rates per 1,000 impressions with intervals."""
    t = result.table
    by = list(result.by)
    rows = []
    for key, g in t.groupby(by, sort=False) if by else [((), t)]:
        key = key if isinstance(key, tuple) else (key,)
        ir = g[g["metric"] == "interaction_rate"].iloc[0]
        lr = g[g["metric"] == "lead_rate"].iloc[0]
        row = {b: _level_name(b, k, lang) for b, k in zip(by, key)}
        row.update({
            "posts": int(ir["posts"]), "kos": int(ir["kos"]), "impressions": int(ir["impressions"]),
            "interactions": int(ir["count"]), "interaction_rate": round(1000 * ir["estimate"], 2),
            "interval": f"{1000 * ir['conf_low']:.2f}–{1000 * ir['conf_high']:.2f}",
            "leads": int(lr["count"]), "lead_rate": round(1000 * lr["estimate"], 3),
            "lead_interval": f"{1000 * lr['conf_low']:.3f}–{1000 * lr['conf_high']:.3f}",
        })
        rows.append(row)
    out = _rename(pd.DataFrame(rows), lang)
    i = 0 if lang == "zh" else 1
    return out.rename(columns={"lead_interval": ("线索率区间", "lead-rate interval")[i]})


def rate_ratio_display(result: RateRatioResult | PairwiseRateRatios, *, lang: str) -> pd.DataFrame:
    """Dimension, level, compared-with, rate ratio, interval and p-values, with translated labels."""
    t = result.table
    out = pd.DataFrame({
        "term": [(_COLS.get(x, (x, x))[0 if lang == "zh" else 1]) for x in t["term"]],
        "level": [_level_name(a, b, lang) for a, b in zip(t["term"], t["level"])],
        "reference": [_level_name(a, b, lang) for a, b in zip(t["term"], t["reference"])],
        "rate_ratio": t["rate_ratio"].round(2),
        "interval": [f"{tx.fmt_ci(a, b)}" for a, b in zip(t["conf_low"], t["conf_high"])],
        "p_value": t["p_value"].map(_p),
        "p_holm": t["p_holm"].map(_p),
        "p_fdr_bh": t["p_fdr_bh"].map(_p),
        "posts": t["posts"].astype(int),
    })
    return _rename(out, lang)


def pairwise_display(result: PairwiseRateRatios, *, lang: str) -> pd.DataFrame:
    """The pairwise table for display."""
    return rate_ratio_display(result, lang=lang)


def power_display(detectable: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """Minimum detectable rate ratios per level, for display."""
    d = detectable
    out = pd.DataFrame({
        "term": [(_COLS.get(x, (x, x))[0 if lang == "zh" else 1]) for x in d["term"]],
        "level": [_level_name(a, b, lang) for a, b in zip(d["term"], d["level"])],
        "reference": [_level_name(a, b, lang) for a, b in zip(d["term"], d["reference"])],
        "posts": d["posts"], "reference_posts": d["reference_posts"], "design_effect": d["design_effect"].round(2),
        "min_detectable_increase": d["min_detectable_increase"].map(lambda v: f"{tx.fmt_ratio(v)}×"),
        "min_detectable_decrease": d["min_detectable_decrease"].map(lambda v: f"{tx.fmt_ratio(v)}×"),
        "significant": d["significant"],
    })
    return _rename(out, lang)


def strategy_display(result: StrategyChangeResult | None, *, lang: str) -> pd.DataFrame:
    """The effect and placebo rows for display (no rows when there is no usable change)."""
    if result is None:
        return _rename(pd.DataFrame(columns=["term", "rate_ratio", "interval", "p_value", "n_changes",
                                             "n_control_kos", "n_posts"]), lang)
    t = result.table
    i = 0 if lang == "zh" else 1
    out = pd.DataFrame({
        "term": [_TERMS_OUT[x][i] for x in t["term"]],
        "rate_ratio": t["estimate"].round(2),
        "interval": [tx.fmt_ci(a, b) for a, b in zip(t["conf_low"], t["conf_high"])],
        "p_value": t["p_value"].map(_p),
        "n_changes": t["n_changes"], "n_control_kos": t["n_control_kos"], "n_posts": t["n_posts"],
    })
    return _rename(out, lang)


def benchmark_display(result: KosBenchmark, *, lang: str, top: int = 15) -> pd.DataFrame:
    """The top units: raw and shrunk rates with posterior intervals and the flag."""
    t = result.table.head(top)
    out = pd.DataFrame({
        "rank": t["rank"], "kos_id": t[result.unit_col], "successes": t["successes"], "trials": t["trials"],
        "raw_rate": t["raw_rate"].map(lambda v: tx.fmt_pct(v)), "estimate": t["estimate"].map(lambda v: tx.fmt_pct(v)),
        "interval": [f"{tx.fmt_pct(a)}–{tx.fmt_pct(b)}" for a, b in zip(t["conf_low"], t["conf_high"])],
        "above_pool": t["above_pool"],
    })
    return _rename(out, lang)


def _md(text: str) -> str:
    from kosresearch.report.text import md_text

    return md_text(text)


def _p(p: float) -> str:
    if not np.isfinite(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


# --------------------------------------------------------------------------- text


def bullets(sentences: list[str]) -> str:
    """Sentences as a Markdown list, each escaped with ``md_text`` (they may quote data strings such as IDs)."""
    from kosresearch.report.text import md_text

    return "\n".join(f"- {md_text(s)}" for s in sentences)


def model_note(result: RateRatioResult, posts: pd.DataFrame, *, lang: str) -> str:
    """How the rate ratios were estimated: family, dispersion, clusters, standard errors, dropped levels."""
    tx.check_lang(lang)
    dropped = posts.attrs.get("dropped", {})
    fam = {"negbin": ("负二项（NB2）", "negative binomial (NB2)"), "poisson": ("泊松", "Poisson")}[result.family]
    od = result.overdispersion_test
    if lang == "zh":
        text = (f"模型：{fam[0]}回归，以曝光量为暴露量（offset），过度离散参数 α = {result.alpha:.2f}"
                f"（Cameron–Trivedi 检验 {tx.fmt_p(od.get('p_value', float('nan')))}）；"
                f"标准误按 {result.n_clusters} 位 KOS 聚类稳健（三明治估计，小样本校正 G/(G−1)·(N−1)/(N−K)），"
                f"p 值在全部 {len(result.table)} 个比较上做 Holm 与 BH 校正。")
        if dropped:
            text += " 发帖过少而未纳入的水平：" + "；".join(f"{k}: {', '.join(v)}" for k, v in dropped.items()) + "。"
        return _md(text)
    text = (f"Model: {fam[1]} regression with impressions as exposure (offset), dispersion α = {result.alpha:.2f} "
            f"(Cameron–Trivedi test {tx.fmt_p(od.get('p_value', float('nan')))}); standard errors cluster-robust by "
            f"{result.n_clusters} advisors (sandwich, small-sample factor G/(G−1)·(N−1)/(N−K)); p-values adjusted over "
            f"all {len(result.table)} comparisons by Holm and Benjamini–Hochberg.")
    if dropped:
        text += " Levels left out for too few posts: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in dropped.items()) + "."
    return _md(text)


def power_summary(result: RateRatioResult, *, power: float = 0.8, lang: str = "en") -> str:
    """What the data can and cannot show: non-significant rows with their detectable effects, posts for 1.2×."""
    tx.check_lang(lang)
    de = result.detectable_effects(power=power)
    pct = f"{100 * power:.0f}%"
    lines = []
    for _, r in de[~de["significant"]].iterrows():
        a = tx.level_label(r["term"], r["level"], lang)
        b = tx.level_label(r["term"], r["reference"], lang)
        up, down = tx.fmt_ratio(r["min_detectable_increase"]), tx.fmt_ratio(r["min_detectable_decrease"])
        if lang == "zh":
            lines.append(f"{a}与{b}的差异不显著：以现有 {int(r['posts'])} 与 {int(r['reference_posts'])} 篇帖子，"
                         f"只有高于 {up} 倍或低于 {down} 倍的差异才能以 {pct} 的把握被发现。")
        else:
            lines.append(f"{a[0].upper()}{a[1:]} vs {b}: not significant; with {int(r['posts'])} and "
                         f"{int(r['reference_posts'])} posts, only effects above {up}× (or below {down}×) could be seen "
                         f"with {pct} power.")
    if not lines:
        lines.append("所有比较均显著。" if lang == "zh" else "Every comparison is significant.")
    # posts needed per group for a 1.2x effect at the average rate and exposure
    st = result.level_stats
    if len(st):
        first = st[st["term"] == st["term"].iloc[0]]  # each term's levels partition all posts
        base = float(first["count"].sum() / first["exposure"].sum())
        expo = float(first["exposure"].sum() / first["posts"].sum())
        deff = float(de["design_effect"].median()) if len(de) else 1.0
        n12 = posts_needed(1.2, baseline_rate=base, exposure=expo, dispersion=result.alpha, power=power,
                           conf_level=result.conf_level, design_effect=max(deff, 1.0))
        if lang == "zh":
            lines.append(f"要以 {pct} 的把握发现 1.2 倍的差异，每组约需 {n12:,} 篇帖子（按平均{tx.metric_label(result.count_col, lang)}与曝光，"
                         f"α = {result.alpha:.2f}，设计效应 {deff:.2f}）。")
        else:
            lines.append(f"To detect a 1.2× difference with {pct} power, each group needs about {n12:,} posts "
                         f"(at the average {tx.metric_label(result.count_col, lang)} and exposure, α = {result.alpha:.2f}, "
                         f"design effect {deff:.2f}).")
    return bullets(lines)


def strategy_change(content: pd.DataFrame, strategy_changes: pd.DataFrame, *, outcome: str,
                    window_days: float = 28) -> StrategyChangeResult | None:
    """:func:`strategy_change_effect`, or None when the region has no usable change (the notebook says so)."""
    try:
        return strategy_change_effect(content, strategy_changes, outcome=outcome, window_days=window_days)
    except KosDataError:
        return None


def strategy_text(result: StrategyChangeResult | None, *, lang: str) -> str:
    """The strategy sentences as Markdown, or a note that the region has no usable change."""
    if result is None:
        return _md("本区域没有可验证的策略调整。" if tx.check_lang(lang) == "zh"
                   else "No strategy change in this region can be verified.")
    return bullets(result.interpret(lang=lang))


def plot_strategy(result: StrategyChangeResult | None, *, lang: str):
    """The event-study plot, or nothing when there is no usable change."""
    return None if result is None else result.plot(lang=lang)


def top_vs_pool_text(result: KosBenchmark, *, lang: str) -> str:
    """One sentence with Cohen's h of the top advisor's shrunk rate against the pool mean."""
    h = top_vs_pool_h(result)
    top = result.table.iloc[0]
    if tx.check_lang(lang) == "zh":
        text = (f"排名第一的 KOS（{top[result.unit_col]}，收缩后 {tx.fmt_pct(top['estimate'])}）与整体均值 "
                f"{tx.fmt_pct(result.prior.mean)} 相比的 Cohen's h = {h:.2f}。")
    else:
        text = (f"Cohen's h of the top advisor ({top[result.unit_col]}, shrunk {tx.fmt_pct(top['estimate'])}) against the "
                f"pool mean {tx.fmt_pct(result.prior.mean)}: {h:.2f}.")
    return _md(text)


def top_vs_pool_h(result: KosBenchmark) -> float:
    """Cohen's h of the best advisor's shrunk rate against the pool mean."""
    top = result.table.iloc[0]
    return cohens_h(float(top["estimate"]), result.prior.mean)


# --------------------------------------------------------------------------- headlines, conclusion, digest


def content_headlines(rr: RateRatioResult, contrast: RateRatioContrast, strategy: StrategyChangeResult | None,
                      bench: KosBenchmark, *, lang: str) -> list[dict]:
    """Headline figures: the best-vs-baseline content ratio, the strategy effect, advisors above the pool."""
    tx.check_lang(lang)
    c = contrast.table.iloc[0]
    metric = tx.metric_label(rr.count_col, lang)
    a = tx.describe_pattern(contrast.levels, lang)
    b = tx.describe_pattern(contrast.against, lang)
    out = [{
        "name": "content_best_vs_baseline",
        "label": f"{a} / {b}：{metric}之比" if lang == "zh" else f"{metric} ratio, {a} vs {b}",
        "estimate": float(c["rate_ratio"]), "conf_low": float(c["conf_low"]), "conf_high": float(c["conf_high"]),
        "unit": "×",
    }]
    if strategy is not None:
        e = strategy.table.iloc[0]
        out.append({
            "name": "strategy_change_effect",
            "label": "策略调整后的{}之比".format(tx.metric_label(strategy.outcome, lang)) if lang == "zh"
            else f"{tx.metric_label(strategy.outcome, lang)} ratio after a strategy change",
            "estimate": float(e["estimate"]), "conf_low": float(e["conf_low"]), "conf_high": float(e["conf_high"]),
            "unit": "×",
        })
    out.append({
        "name": "kos_above_pool",
        "label": "新成员激活率明显高于整体的 KOS" if lang == "zh" else "advisors credibly above the pool (new-member activation)",
        "estimate": float(bench.table["above_pool"].sum()), "unit": "",
    })
    return out


def content_conclusion(rr: RateRatioResult, contrast: RateRatioContrast, pairwise: PairwiseRateRatios,
                       effect: EffectSizeResult, strategy: StrategyChangeResult | None, bench: KosBenchmark, *,
                       region: str, lang: str) -> str:
    """The plain-language conclusion of the report, built from the results."""
    tx.check_lang(lang)
    t = rr.table
    sig = t[t["p_holm"] < 1 - rr.conf_level]
    best = t.loc[t["rate_ratio"].idxmax()]
    parts = []
    if lang == "zh":
        parts.append(f"## 结论（{_md(region)}）")
        first = (f"{len(sig)}/{len(t)} 个内容维度比较在 Holm 校正后显著；效果最大的是"
                 f"{tx.level_label(best['term'], best['level'], lang)}（相对{tx.level_label(best['term'], best['reference'], lang)}"
                 f" {tx.fmt_ratio(best['rate_ratio'])} 倍）。")
        none = "本区域没有可验证的策略调整。"
    else:
        parts.append(f"## Conclusion ({_md(region)})")
        first = (f"{len(sig)} of {len(t)} content comparisons are significant after Holm adjustment; the largest is "
                 f"{tx.level_label(best['term'], best['level'], lang)} ({tx.fmt_ratio(best['rate_ratio'])}× "
                 f"{tx.level_label(best['term'], best['reference'], lang)}).")
        none = "No strategy change in this region could be verified."
    sentences = [first, contrast.interpret(lang=lang)[0], effect.interpret(lang=lang)[0],
                 strategy.interpret(lang=lang)[0] if strategy is not None else none, bench.interpret(lang=lang)[0]]
    parts.append(bullets(sentences))
    return "\n".join(parts)


def content_digest(rr: RateRatioResult, bench: KosBenchmark) -> str:
    """A short, stable text digest of the main results (checked by nbval on the golden notebook)."""
    t = rr.table
    lines = [f"family={rr.family} n_obs={rr.n_obs} clusters={rr.n_clusters} alpha={rr.alpha:.3f}"]
    for _, r in t.iterrows():
        lines.append(f"{r['term']}:{r['level']} rr={r['rate_ratio']:.3f} [{r['conf_low']:.3f}, {r['conf_high']:.3f}]")
    lines.append(f"benchmark units={len(bench.table)} above_pool={int(bench.table['above_pool'].sum())} "
                 f"pool={bench.prior.mean:.4f}")
    return "\n".join(lines)
