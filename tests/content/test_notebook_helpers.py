"""Helpers of notebook 03: inputs, display tables, headlines, conclusion, escaping."""

from __future__ import annotations

import pandas as pd
import pytest

from kosresearch.content import kos_benchmark, rate_ratios
from kosresearch.content import notebook as nbh
from kosresearch.errors import KosParameterError


@pytest.fixture(scope="module")
def east(sample):
    import kosresearch as kr

    with kr.open_dataset(sample.source, regions=["east"]) as ds:
        posts = nbh.region_posts(ds, min_posts=30)
        yield ds, posts


def test_region_posts_drop_rare_levels_and_say_which(east):
    ds, _ = east
    posts = nbh.region_posts(ds, min_posts=1_000)
    assert set(posts.attrs["dropped"]) <= {"format", "topic", "platform"}
    assert "live" in posts.attrs["dropped"]["format"]
    full = ds.table("content")["format"].value_counts()  # counted on all posts, before any level is dropped
    assert (full[posts["format"].unique()] >= 1_000).all()
    assert not set(posts.attrs["dropped"]["format"]) & set(posts["format"])


def test_reference_levels_prefer_the_usual_baseline_and_fall_back_to_the_most_common():
    posts = pd.DataFrame({"format": ["live", "live", "article"], "topic": ["promotion"] * 3,
                          "platform": ["douyin", "douyin", "wechat_moments"]})
    assert nbh.reference_levels(posts) == {"format": "live", "topic": "promotion", "platform": "wechat_moments"}
    with pytest.raises(KosParameterError, match=r"metric='likes' is not allowed"):
        nbh.rate_col("likes")


def test_headlines_conclusion_and_digest_are_built_from_the_results(east):
    ds, posts = east
    from kosresearch import content as cnt

    ref = nbh.reference_levels(posts)
    rr = rate_ratios(posts, count_col="leads", exposure_col="impressions", terms=list(nbh.TERMS), reference=ref,
                     cluster_col="kos_id")
    contrast = rr.contrast({"format": "short_video", "topic": "usage_tips"})
    pairs = cnt.pairwise_rate_ratios(posts, count_col="leads", exposure_col="impressions", factor_col="format")
    effect = cnt.effect_size(posts, value_col="lead_rate", group_col="format", groups=("short_video", "image_text"))
    act = pd.DataFrame({"kos_id": ["<b>x</b>", "k2", "k3"], "spoke": [9, 1, 2], "eligible": [10, 20, 25]})
    bench = kos_benchmark(act, successes_col="spoke", trials_col="eligible", unit_col="kos_id")
    heads = nbh.content_headlines(rr, contrast, None, bench, lang="en")
    assert [h["name"] for h in heads] == ["content_best_vs_baseline", "kos_above_pool"]
    assert heads[0]["estimate"] == pytest.approx(contrast.table["rate_ratio"].iloc[0])
    text = nbh.content_conclusion(rr, contrast, pairs, effect, None, bench, region="east", lang="en")
    assert text.startswith("## Conclusion (east)") and "No strategy change in this region" in text
    # data-derived strings (an advisor ID with markup) are escaped in Markdown
    assert "<b>" not in nbh.bullets(bench.interpret(lang="en")) and "&lt;b&gt;" in nbh.bullets(bench.interpret(lang="en"))
    assert "<b>" not in nbh.top_vs_pool_text(bench, lang="zh")
    digest = nbh.content_digest(rr, bench)
    assert digest.splitlines()[0].startswith("family=negbin") and len(digest.splitlines()) == len(rr.table) + 2
    assert "Every comparison" in nbh.power_summary(rr, lang="en") or "not significant" in nbh.power_summary(rr, lang="en")
    shown = nbh.rate_ratio_display(rr, lang="zh")
    assert list(shown.columns[:4]) == ["维度", "水平", "对照", "比率"]


def test_strategy_helpers_handle_a_region_without_changes(east):
    ds, _ = east
    none = nbh.strategy_change(ds.table("content"), ds.table("strategy_changes").head(0), outcome="interaction_rate")
    assert none is None
    assert nbh.strategy_display(None, lang="en").empty
    assert nbh.plot_strategy(None, lang="en") is None
    assert "No strategy change" in nbh.strategy_text(None, lang="en")
