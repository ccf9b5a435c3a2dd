"""Product-suggestion themes and praise stories: counts, masking, errors."""

from __future__ import annotations

import pandas as pd
import pytest

import kosresearch as kr
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.feedback import praise_stories, product_themes
from tests.scorecard.helpers import s, tiny_feedback, ts


def _with_suggestions(texts: list[str], category: str = "product"):
    tables = tiny_feedback()
    n = len(texts)
    extra = pd.DataFrame({
        "feedback_id": s(*[f"x{i}" for i in range(n)]), "customer_id": s(*["c1"] * n), "kos_id": s(*["k1"] * n),
        "region": s(*["east"] * n), "created_at": ts(*["2024-03-05 10:00:00"] * n), "text": s(*texts),
        "category": s(*[category] * n), "resolved_at": ts(*[None] * n), "loop_closed_at": ts(*[None] * n),
    })
    tables["feedback"] = pd.concat([tables["feedback"], extra], ignore_index=True)
    return kr.open_dataset(tables)


SUGGESTIONS = [
    "希望出个旅行装，出差带着方便",
    "旅行装能不能再小一点",
    "建议出旅行装，电话13812345678",
    "瓶盖太难拧开了",
    "瓶盖设计不好，总是漏",
]


def test_themes_are_counted_once_per_suggestion_with_masked_examples():
    themes = product_themes(_with_suggestions(SUGGESTIONS), top=5).table.set_index("theme")
    assert themes.loc["旅行装", "n_feedback"] == 3
    assert themes.loc["瓶盖", "n_feedback"] == 2
    assert themes.loc["旅行装", "share"] == pytest.approx(3 / 6)  # 5 added + the tiny set's f2
    examples = " ".join(themes["examples"])
    assert "13812345678" not in examples


def test_a_phrase_replaces_the_words_it_always_goes_with():
    texts = ["泵头容易坏", "泵头容易坏，换了两次", "这个泵头容易坏"]
    themes = product_themes(_with_suggestions(texts), top=5).table
    assert "泵头容易坏" in set(themes["theme"]) and "泵头" not in set(themes["theme"])


def test_min_count_drops_rare_words():
    themes = product_themes(_with_suggestions(SUGGESTIONS), min_count=3).table
    assert list(themes["theme"]) == ["旅行装"]


def test_themes_refuse_bad_arguments_and_data_without_suggestions():
    ds = _with_suggestions(SUGGESTIONS)
    with pytest.raises(KosParameterError, match="top=0"):
        product_themes(ds, top=0)
    with pytest.raises(KosParameterError, match="min_count=0"):
        product_themes(ds, min_count=0)
    tables = tiny_feedback()
    tables["feedback"] = tables["feedback"].iloc[[0, 2]]
    with pytest.raises(KosDataError, match="no product suggestion"):
        product_themes(kr.open_dataset(tables))


def test_praise_stories_are_masked_and_carry_no_customer_id():
    stories = praise_stories(kr.open_dataset(tiny_feedback()))
    assert list(stories["story"]) == ["超喜欢，导购很耐心，我的电话[手机号]"]
    assert "customer_id" not in stories.columns and stories["kos_name"].iloc[0] == "小李"
