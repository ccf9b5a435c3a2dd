"""Checks shared by the attribution figure tests: the ``lang="zh"`` figure has Chinese labels where English ones were."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pytest

from kosresearch.errors import KosParameterError

_HAN = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[A-Za-z]{2,}")


def _texts(ax, ticks: str) -> dict[str, list[str]]:
    legend = ax.get_legend()
    parts = {
        "title": [ax.get_title()],
        "xlabel": [ax.get_xlabel()],
        "ylabel": [ax.get_ylabel()],
        "legend": [x.get_text() for x in legend.get_texts()] if legend is not None else [],
    }
    if "x" in ticks:
        parts["xticks"] = [x.get_text() for x in ax.get_xticklabels()]
    if "y" in ticks:
        parts["yticks"] = [x.get_text() for x in ax.get_yticklabels()]
    return parts


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def assert_labels_in_chinese(draw: Callable, *, keep: Iterable[str] = (), ticks: str = "") -> dict[str, list[str]]:
    """Draw the figure with ``lang="en"`` and ``lang="zh"`` and compare their texts part by part.

    Every title, axis label and legend entry (and the tick labels of the axes
    named in ``ticks``) that the English figure has must, in the Chinese
    figure, contain Chinese characters and none of the English words, except
    the words in ``keep`` (proper names and notation such as ``Shapley``,
    ``ATT``, or column names from the data). Returns the Chinese texts.
    """
    import matplotlib.pyplot as plt

    en_ax, zh_ax = draw("en"), draw("zh")
    en, zh = _texts(en_ax, ticks), _texts(zh_ax, ticks)
    plt.close(en_ax.figure)
    plt.close(zh_ax.figure)
    keep = {k.lower() for k in keep}
    for part, en_texts in en.items():
        assert len(zh[part]) == len(en_texts), (part, en_texts, zh[part])
        for en_text, zh_text in zip(en_texts, zh[part]):
            if not en_text:
                assert not zh_text, (part, zh_text)
                continue
            assert _HAN.search(zh_text), f"{part} is not in Chinese: {zh_text!r} (English: {en_text!r})"
            left = (_words(en_text) & _words(zh_text)) - keep
            assert not left, f"{part} {zh_text!r} keeps English words {sorted(left)} of {en_text!r}"
    assert any(t for texts in en.values() for t in texts), "the figure has no labels to compare"
    return zh


def assert_refuses_unknown_lang(*plots: Callable) -> None:
    """Each ``plot(lang=...)`` method raises the package's parameter error for an unsupported language."""
    for plot in plots:
        with pytest.raises(KosParameterError, match=r"lang='fr' is not supported; allowed: \['zh', 'en'\]"):
            plot(lang="fr")
