"""Bilingual (zh / en) words and number formats for the content results' sentences.

Every effect the content package reports comes with a one-sentence
interpretation built from its numbers; this module holds the vocabulary
(format, topic, platform levels; outcome names) and the number formats, so
the sentences read the same everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from kosresearch.report.text import check_lang

__all__ = [
    "LEVEL_LABELS",
    "METRIC_LABELS",
    "check_lang",
    "level_label",
    "metric_label",
    "value_label",
    "describe_pattern",
    "fmt_ratio",
    "fmt_ci",
    "fmt_p",
    "fmt_pct",
    "ci_words",
]

LANGS = ("zh", "en")

#: level -> (zh noun, en plural noun, zh modifier, en modifier) for the contract vocabularies
LEVEL_LABELS: Mapping[str, Mapping[str, tuple[str, str, str, str]]] = {
    "format": {
        "short_video": ("短视频", "short videos", "短视频", "short videos"),
        "image_text": ("图文", "image-text posts", "图文", "image-text posts"),
        "live": ("直播", "live streams", "直播", "live streams"),
        "article": ("长文", "articles", "长文", "articles"),
    },
    "topic": {
        "usage_tips": ("使用技巧类内容", "how-to (usage tips) posts", "使用技巧类", "how-to"),
        "promotion": ("促销类内容", "promotion posts", "促销类", "promotion"),
        "product_review": ("测评类内容", "product reviews", "测评类", "product-review"),
        "lifestyle": ("生活方式类内容", "lifestyle posts", "生活方式类", "lifestyle"),
        "behind_the_scenes": ("幕后花絮类内容", "behind-the-scenes posts", "幕后花絮类", "behind-the-scenes"),
    },
    "platform": {
        "xiaohongshu": ("小红书内容", "Xiaohongshu posts", "小红书", "on Xiaohongshu"),
        "douyin": ("抖音内容", "Douyin posts", "抖音", "on Douyin"),
        "wechat_moments": ("朋友圈内容", "WeChat Moments posts", "朋友圈", "on WeChat Moments"),
        "wechat_channels": ("视频号内容", "WeChat Channels posts", "视频号", "on WeChat Channels"),
    },
}

#: count column -> (zh rate name, en rate name)
METRIC_LABELS: Mapping[str, tuple[str, str]] = {
    "interactions": ("互动率", "interaction rate"),
    "leads": ("线索率", "lead rate"),
    "likes": ("点赞率", "like rate"),
    "comments": ("评论率", "comment rate"),
    "saves": ("收藏率", "save rate"),
    "shares": ("转发率", "share rate"),
    "interaction_rate": ("互动率", "interaction rate"),
    "lead_rate": ("线索率", "lead rate"),
}


def level_label(term: str, level: Any, lang: str) -> str:
    """Noun for posts at ``level`` of ``term`` (``"short videos"``, ``"短视频"``)."""
    check_lang(lang)
    entry = LEVEL_LABELS.get(term, {}).get(str(level))
    if entry is None:
        return f"{term} = {level} 的内容" if lang == "zh" else f"posts with {term} = {level}"
    return entry[0] if lang == "zh" else entry[1]


def metric_label(count_col: str, lang: str) -> str:
    """Name of the rate of ``count_col`` (``"interaction rate"``, ``"互动率"``)."""
    check_lang(lang)
    entry = METRIC_LABELS.get(count_col)
    if entry is None:
        return f"{count_col} 率" if lang == "zh" else f"{count_col} rate"
    return entry[0] if lang == "zh" else entry[1]


def value_label(col: str, lang: str) -> str:
    """Name of a per-row value column: a known rate name, else the column name itself."""
    check_lang(lang)
    entry = METRIC_LABELS.get(col)
    if entry is None:
        return col
    return entry[0] if lang == "zh" else entry[1]


def describe_pattern(levels: Mapping[str, Any], lang: str) -> str:
    """Describe posts by several term levels: ``{"format": "short_video", "topic": "usage_tips"}``
    gives ``"how-to short videos"`` / ``"使用技巧类短视频"``."""
    check_lang(lang)
    known = {t: str(v) for t, v in levels.items() if str(v) in LEVEL_LABELS.get(t, {})}
    other = {t: v for t, v in levels.items() if t not in known}
    if len(levels) == 1:
        ((t, v),) = levels.items()
        return level_label(t, v, lang)
    idx_mod = 2 if lang == "zh" else 3
    topic = LEVEL_LABELS["topic"][known["topic"]][idx_mod] if "topic" in known else ""
    platform = LEVEL_LABELS["platform"][known["platform"]][idx_mod] if "platform" in known else ""
    if "format" in known:
        noun = LEVEL_LABELS["format"][known["format"]][0 if lang == "zh" else 1]
    else:
        noun = "内容" if lang == "zh" else "posts"
    extra = ", ".join(f"{t} = {v}" for t, v in other.items())
    if lang == "zh":
        text = f"{platform}{topic}{noun}"
        return f"{text}（{extra}）" if extra else text
    text = " ".join(w for w in (topic, noun, platform) if w)
    return f"{text} ({extra})" if extra else text


def fmt_ratio(x: float) -> str:
    """A rate ratio with two significant decimals below 10 (``2.41``), one above (``12.3``)."""
    if x is None or not math.isfinite(x):
        return "–"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_ci(lo: float, hi: float) -> str:
    return f"{fmt_ratio(lo)}–{fmt_ratio(hi)}"


def fmt_pct(x: float, digits: int = 0) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{100 * x:.{digits}f}%"


def fmt_p(p: float) -> str:
    if p is None or not math.isfinite(p):
        return "p = –"
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


def ci_words(conf_level: float, lang: str) -> str:
    """``"95 % CI"`` / ``"95% 置信区间"``."""
    pct = f"{100 * conf_level:g}"
    return f"{pct}% 置信区间" if lang == "zh" else f"{pct} % CI"
