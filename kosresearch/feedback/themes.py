"""Most frequent themes of product suggestions, with masked example excerpts; reusable praise stories."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.feedback.classify import Model, _default_lexicon, tokenize
from kosresearch.feedback.loop import feedback_categories
from kosresearch.privacy import mask_personal_data
from kosresearch.report.text import check_lang

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["product_themes", "ThemesResult", "praise_stories", "STOPWORDS"]

#: words too common in feedback to be a theme (function words, politeness, generic request words)
STOPWORDS: frozenset[str] = frozenset(
    """的 了 是 我 你 他 她 它 们 我们 你们 他们 自己 这 那 这个 那个 这款 那款 这种 一个 一款 一下 一点 有点 个 款 种
    也 都 就 还 很 太 更 最 再 又 才 吧 呢 吗 啊 呀 哦 嘛 哈 和 与 及 或 跟 在 有 没 没有 不 能 会 要 想 可以 能不能 可不可以
    希望 建议 觉得 感觉 比较 非常 特别 真的 真是 现在 以后 之前 时候 如果 但是 不过 就是 因为 所以 然后 还是 而且 或者
    东西 产品 问题 谢谢 请 麻烦 一些 多 少 大 小 好 比如 比如说 出 做 用 给 让 把 被 对 为 从 到 上 下 里 中 啊 哈哈 嗯""".split()
)
_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_CLAUSE = re.compile(r"[，。！？；,.!?;\n]")


def _excerpt(text: str, theme: str, width: int = 40) -> str:
    """The clause of ``text`` holding ``theme`` (masked, at most ``width`` characters)."""
    masked = mask_personal_data(text)
    for clause in _CLAUSE.split(masked):
        if theme in clause:
            clause = clause.strip()
            if len(clause) > width:
                at = clause.find(theme)
                lo = max(0, min(at - width // 3, len(clause) - width))
                clause = ("…" if lo > 0 else "") + clause[lo:lo + width] + ("…" if lo + width < len(clause) else "")
            return clause
    return masked[:width] + ("…" if len(masked) > width else "")


@dataclass(frozen=True)
class ThemesResult(Result):
    """Most frequent product-suggestion themes.

    Attributes
    ----------
    table : DataFrame
        ``theme`` (a word or a two-word phrase), ``kind`` (``word`` /
        ``phrase``), ``n_feedback`` (suggestions mentioning it), ``share`` (of
        all product suggestions), ``examples`` (up to 2 excerpts, personal data
        masked, separated by " | ").
    conf_level : float
        Unused (no intervals); kept for the common interface.
    n_suggestions : int
        Product suggestions analysed.
    """

    n_suggestions: int = 0

    def summary(self, *, digits: int = 3, lang: str = "en") -> pd.DataFrame:
        zh = check_lang(lang) == "zh"
        t = self.table
        return pd.DataFrame({
            ("主题" if zh else "theme"): t["theme"].to_numpy(),
            ("提及次数" if zh else "mentions"): t["n_feedback"].to_numpy(),
            ("占比" if zh else "share"): t["share"].round(digits).to_numpy(),
            ("示例（已脱敏）" if zh else "examples (masked)"): t["examples"].to_numpy(),
        })

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Horizontal bars of the themes' mention counts."""
        zh = check_lang(lang) == "zh"
        t = self.table.iloc[::-1]
        ax = new_axes(ax, figsize=(6.0, max(3.0, 0.28 * len(t) + 1.0)))
        ax.barh(np.arange(len(t)), t["n_feedback"], color="C0")
        ax.set_yticks(np.arange(len(t)), t["theme"].tolist())
        ax.set_xlabel("提及的产品建议数" if zh else "product suggestions mentioning it")
        ax.set_title(f"产品建议高频主题（共 {self.n_suggestions} 条）" if zh
                     else f"Top product-suggestion themes ({self.n_suggestions} suggestions)")
        return ax


def product_themes(dataset, *, top: int = 20, model: Model = "learned", min_count: int = 2) -> ThemesResult:
    """The most frequent themes (words and two-word phrases) of product suggestions, with masked examples.

    Parameters
    ----------
    dataset : kosresearch.Dataset
        Needs ``feedback``.
    top : int, default 20
        Themes returned.
    model : {"learned", "lexicon"}, default "learned"
        Classifier for items without a recorded category.
    min_count : int, default 2
        A theme must appear in at least this many suggestions.

    Returns
    -------
    ThemesResult
        ``.table`` (theme, kind, n_feedback, share, examples), ``.summary(lang=)``,
        ``.plot(ax=, lang=)``.

    Raises
    ------
    KosParameterError
        ``top`` or ``min_count`` below 1.
    KosDataError
        No product suggestion in the data.

    Notes
    -----
    Texts are masked (:func:`kosresearch.mask_personal_data`) before anything
    else, segmented with the feedback tokenizer (jieba plus the lexicon),
    and stripped of :data:`STOPWORDS`. Each word, and each pair of adjacent
    content words within a clause, is counted once per suggestion (document
    frequency). A word is dropped in favour of a phrase containing it when
    the phrase covers at least 80 % of its mentions, and a theme that shares
    a word and 90 % of its suggestions with a more frequent one is left out,
    so one suggestion pattern is not listed three times. Examples are the clauses holding the theme,
    truncated to 40 characters.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise KosParameterError(f"top={top!r} must be a whole number of at least 1")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise KosParameterError(f"min_count={min_count!r} must be a whole number of at least 1")
    fb = feedback_categories(dataset, model=model)
    texts = fb.loc[fb["category"] == "product", "text"].dropna().tolist()
    if not texts:
        raise KosDataError("the feedback has no product suggestion (recorded or classified) to find themes in")
    lex = _default_lexicon()
    docs_of: dict[str, set[int]] = {}
    parts_of: dict[str, tuple[str, ...]] = {}
    for i, text in enumerate(texts):
        masked = mask_personal_data(text)
        for clause in _CLAUSE.split(masked):
            toks = tokenize(clause, lex)
            content = [t not in STOPWORDS and len(t) >= 2 and bool(_WORD.search(t)) and "[" not in t for t in toks]
            for t, ok in zip(toks, content):
                if ok:
                    docs_of.setdefault(t, set()).add(i)
                    parts_of[t] = (t,)
            # phrases: two adjacent content words, as they stand in the text
            for j in range(len(toks) - 1):
                if content[j] and content[j + 1]:
                    ph = toks[j] + toks[j + 1]
                    docs_of.setdefault(ph, set()).add(i)
                    parts_of[ph] = (toks[j], toks[j + 1])
    phrases = {k for k, v in parts_of.items() if len(v) == 2 and len(docs_of[k]) >= min_count}
    candidates = []
    for theme, docs in docs_of.items():
        c = len(docs)
        if c < min_count:
            continue
        if len(parts_of[theme]) == 1:
            covered = max((len(docs_of[p]) for p in phrases if theme in parts_of[p]), default=0)
            if covered >= 0.8 * c:
                continue
        candidates.append((theme, c, "phrase" if len(parts_of[theme]) == 2 else "word"))
    candidates.sort(key=lambda x: (-x[1], x[2] == "word", x[0]))
    chosen: list[tuple[str, int, str]] = []
    for theme, c, kind in candidates:
        # skip near-duplicates: sharing a word with a chosen theme and 90 % of its suggestions
        dup = any(set(parts_of[theme]) & set(parts_of[o]) and len(docs_of[theme] & docs_of[o]) >= 0.9 * c
                  for o, _, _ in chosen)
        if not dup:
            chosen.append((theme, c, kind))
        if len(chosen) == top:
            break
    rows = []
    for theme, c, kind in chosen:
        excerpts = list(dict.fromkeys(_excerpt(texts[i], theme) for i in sorted(docs_of[theme])))
        excerpts = sorted(excerpts, key=len)[:2]
        rows.append({"theme": theme, "kind": kind, "n_feedback": c, "share": c / len(texts),
                     "examples": " | ".join(excerpts)})
    table = pd.DataFrame(rows, columns=["theme", "kind", "n_feedback", "share", "examples"])
    return ThemesResult(table=table, conf_level=0.95, n_suggestions=len(texts))


def praise_stories(dataset, *, top: int = 10, model: Model = "learned", min_confidence: float = 0.8) -> pd.DataFrame:
    """Praise that can be reused as a success story: masked text with its region, KOS and date.

    Parameters
    ----------
    dataset : kosresearch.Dataset
        Needs ``feedback`` (and ``kos`` for names).
    top : int, default 10
        Stories returned (the longest, most specific first).
    model : {"learned", "lexicon"}, default "learned"
    min_confidence : float, default 0.8
        Classified (not recorded) praise needs at least this confidence.

    Returns
    -------
    pandas.DataFrame
        ``region, kos_id, kos_name, created_at, story`` (personal data masked;
        never the customer ID), ``loop_closed`` (the customer was told their
        words were shared / acted on).
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise KosParameterError(f"top={top!r} must be a whole number of at least 1")
    fb = feedback_categories(dataset, model=model)
    keep = (fb["category"] == "praise") & ((fb["category_source"] == "recorded") | (fb["confidence"] >= min_confidence))
    p = fb[keep].copy()
    p["story"] = mask_personal_data(p["text"])
    p["length"] = p["story"].str.len()
    p = p.sort_values(["length", "created_at"], ascending=[False, False]).drop_duplicates("story").head(top)
    names = dataset.sql("SELECT kos_id, name AS kos_name FROM kos") if dataset.has("kos") else pd.DataFrame(
        {"kos_id": [], "kos_name": []})
    p = p.merge(names, on="kos_id", how="left")
    p["loop_closed"] = p["loop_closed_at"].notna()
    return p[["region", "kos_id", "kos_name", "created_at", "story", "loop_closed"]].reset_index(drop=True)
