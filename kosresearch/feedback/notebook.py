"""Report helpers of notebook 05 (feedback loop): headline figures, digest and narrative.

Customer text shown anywhere is masked (:func:`kosresearch.mask_personal_data`)
by the result objects; strings reaching Markdown go through ``md_text``.
"""

from __future__ import annotations

import math

from kosresearch.feedback.classify import ClassifierEvaluation
from kosresearch.feedback.loop import FeedbackFunnelResult, LoopClosureResult
from kosresearch.feedback.themes import ThemesResult
from kosresearch.report.headlines import Headline
from kosresearch.report.text import check_lang, md_text, t

__all__ = ["feedback_headlines", "feedback_digest", "feedback_narrative", "closure_note"]


def _pooled(funnel: FeedbackFunnelResult) -> tuple[int, int, float, float, float]:
    from kosresearch._results import wilson_interval

    all_rows = funnel.table[funnel.table["category"] == "all"]
    n = int(all_rows["n_feedback"].sum())
    k = int(all_rows["n_closed"].sum())
    lo, hi = wilson_interval(k, n, funnel.conf_level)
    return n, k, k / n if n else math.nan, float(lo), float(hi)


def feedback_headlines(funnel: FeedbackFunnelResult, effect: LoopClosureResult | None,
                       quality: ClassifierEvaluation, *, lang: str) -> list[Headline]:
    """The feedback loop's headline figures for the index page."""
    check_lang(lang)
    n, _, rate, lo, hi = _pooled(funnel)
    acc = quality.table.set_index("term").loc["accuracy"]
    out = [
        Headline("feedback_items", t("反馈条数", "Feedback items", lang), float(n)),
        Headline("loop_closure_rate", t("闭环率", "Loop-closure rate", lang), rate, lo, hi, unit="share"),
        Headline("classifier_accuracy", t("分类器准确率（留出集）", "Classifier accuracy (held-out set)", lang),
                 float(acc["estimate"]), float(acc["conf_low"]), float(acc["conf_high"]), unit="share"),
    ]
    if effect is not None:
        hr = effect.hazard_ratio
        out.append(Headline("closure_repurchase_hazard_ratio",
                            t("闭环与复购的风险比", "Repurchase hazard ratio, closed vs not", lang),
                            float(hr["estimate"]), float(hr["conf_low"]), float(hr["conf_high"])))
    else:
        out.append(Headline("closure_repurchase_hazard_ratio",
                            t("闭环与复购的风险比", "Repurchase hazard ratio, closed vs not", lang), None))
    return out


def feedback_digest(funnel: FeedbackFunnelResult, effect: LoopClosureResult | None, themes: ThemesResult) -> str:
    """A short, stable text of the key numbers (compared by nbval)."""
    n, k, _, _, _ = _pooled(funnel)
    hr = "n/a" if effect is None else f"{effect.hazard_ratio['estimate']:.2f}"
    return f"feedback={n} closed={k} hazard_ratio={hr} product_suggestions={themes.n_suggestions}"


def closure_note(effect: LoopClosureResult | None, *, lang: str) -> str:
    """The interpretation of the loop-closure effect, with its caveat."""
    check_lang(lang)
    if effect is None:
        return t("数据不足以估计闭环与复购的关系。", "Too little data to estimate how loop closure relates to repurchase.", lang)
    hr = effect.hazard_ratio
    tb = effect.table.set_index("term")
    c, nc = tb.loc["repurchase_closed", "estimate"], tb.loc["repurchase_not_closed", "estimate"]
    days = int(effect.horizon_days)
    if lang == "zh":
        return (f"在反馈后第 {effect.landmark_days:.0f} 天已闭环的客户，{days} 天内复购的比例为 {c:.0%}，未闭环的为 {nc:.0%}；"
                f"调整在网时长、客户层级和反馈类别后，复购风险比为 {hr['estimate']:.2f}"
                f"（{effect.conf_level:.0%} 区间 {hr['conf_low']:.2f}–{hr['conf_high']:.2f}）。"
                "这是关联而非因果：哪些反馈被闭环并非随机分配，积极的客户可能更容易被闭环。")
    return (f"Customers whose loop was closed by day {effect.landmark_days:.0f} repurchased within {days} days "
            f"{c:.0%} of the time, against {nc:.0%} for the others; adjusted for tenure, tier and category the "
            f"repurchase hazard ratio is {hr['estimate']:.2f} ({effect.conf_level:.0%} interval "
            f"{hr['conf_low']:.2f}–{hr['conf_high']:.2f}). This is an association, not an effect: which loops get "
            "closed is not randomised, and engaged customers may be easier to close loops with.")


def feedback_narrative(funnel: FeedbackFunnelResult, effect: LoopClosureResult | None, themes: ThemesResult,
                       quality: ClassifierEvaluation, *, region: str, lang: str) -> str:
    """The closing interpretation of notebook 05, built from the results."""
    check_lang(lang)
    n, k, rate, lo, hi = _pooled(funnel)
    top = ", ".join(md_text(x) for x in themes.table["theme"].head(3)) if len(themes.table) else "–"
    region_s = md_text(region)
    acc = quality.accuracy
    if lang == "zh":
        text = (f"**{region_s} 区小结。** 共 {n} 条反馈，闭环率 {rate:.0%}（{lo:.0%}–{hi:.0%}）。"
                f"产品建议最常提到：{top}。缺少类别的反馈由分类器补全（留出集准确率 {acc:.0%}），已记录的类别保持不变。")
    else:
        text = (f"**Summary for {region_s}.** {n} feedback items, {rate:.0%} of loops closed ({lo:.0%}–{hi:.0%}). "
                f"Product suggestions mention most often: {top}. Items without a category were classified "
                f"(held-out accuracy {acc:.0%}); recorded categories were kept.")
    return text + " " + closure_note(effect, lang=lang)
