"""Engagement rates, rate ratios, pairwise and two-way tables."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kosresearch.content import (
    content_posts,
    cross_rate_ratios,
    engagement_table,
    pairwise_rate_ratios,
    rate_ratios,
)
from kosresearch.errors import KosDataError, KosParameterError

TERMS = ["format", "topic", "platform"]


# --------------------------------------------------------------------------- planted truth


@pytest.fixture(scope="module")
def fits(posts, truth):
    ref = truth["content"]["reference"]
    return {
        count: rate_ratios(posts, count_col=count, exposure_col="impressions", terms=TERMS, reference=ref,
                           cluster_col="kos_id")
        for count in ("interactions", "leads")
    }


def _planted(table, truth, count):
    planted = np.array([truth["content"][count][r.term][r.level] for r in table.itertuples()])
    z = (np.log(table["rate_ratio"]) - np.log(planted)) / table["std_error"]
    inside = (table["conf_low"] <= planted) & (planted <= table["conf_high"])
    return planted, z.to_numpy(), inside.to_numpy()


def test_planted_format_topic_platform_rate_ratios_are_recovered_for_interactions_and_leads(fits, truth):
    # 20 planted ratios: each must lie inside its 99.9 % interval (|z| < 3.29; a false alarm
    # somewhere has probability ~2 %), and at most 3 of the 20 may miss their 95 % interval
    # (P(≥ 4 misses) ≈ 1.6 % when the intervals are right). Coverage over many simulations:
    # benchmarks/coverage_content.py.
    misses = 0
    for count, rr in fits.items():
        assert rr.family == "negbin" and rr.converged
        assert len(rr.table) == 10
        planted, z, inside = _planted(rr.table, truth, count)
        assert np.all(np.abs(z) < stats.norm.ppf(1 - 0.0005)), (count, rr.table.assign(z=z))
        misses += int((~inside).sum())
    assert misses <= 3


def test_howto_short_video_over_promotion_image_is_about_five_times(fits, truth):
    c = fits["interactions"].contrast({"format": "short_video", "topic": "usage_tips"})
    row = c.table.iloc[0]
    assert row["conf_low"] < truth["content"]["howto_video_vs_promo_image"] < row["conf_high"]
    en = c.interpret(lang="en")[0]
    zh = c.interpret(lang="zh")[0]
    assert en.startswith("How-to short videos get ") and "the interaction rate of promotion image-text posts" in en
    assert f"{row['rate_ratio']:.2f}×" in en and "95 % CI" in en
    assert zh.startswith("使用技巧类短视频的互动率是促销类图文的") and "95% 置信区间" in zh


def test_dispersion_absorbs_the_advisor_effect_and_cluster_errors_exceed_model_errors(fits, truth):
    rr = fits["interactions"]
    # planted NB alpha 0.6 plus the advisor random effect (sd 0.35) → a larger marginal alpha
    assert truth["content"]["nb_alpha"]["interactions"] < rr.alpha < 1.2
    se_model = np.sqrt(np.diag(rr.cov_model.to_numpy()))[1:]
    assert np.all(rr.table["std_error"].to_numpy() >= 0.9 * se_model)


def test_every_row_gets_a_sentence_in_both_languages(fits):
    rr = fits["interactions"]
    en, zh = rr.interpret(lang="en"), rr.interpret(lang="zh")
    assert len(en) == len(zh) == len(rr.table)
    sv = rr.table.index[rr.table["level"] == "short_video"][0]
    r = rr.table.loc[sv]
    assert en[sv] == (f"Short videos get {r['rate_ratio']:.2f}× the interaction rate of image-text posts "
                      f"(95 % CI {r['conf_low']:.2f}–{r['conf_high']:.2f}; Holm-adjusted p < 0.001).")
    assert zh[sv].startswith("短视频的互动率是图文的 ")
    with pytest.raises(KosParameterError, match="lang='fr'"):
        rr.interpret(lang="fr")


def test_detectable_effects_use_the_fitted_dispersion_and_design_effect(fits):
    de = fits["leads"].detectable_effects()
    assert len(de) == 10 and de["significant"].all()
    assert (de["min_detectable_increase"] > 1).all() and (de["min_detectable_decrease"] < 1).all()
    assert (de["design_effect"] >= 1).all()


def test_holm_and_bh_columns_adjust_over_all_rows(fits):
    from statsmodels.stats.multitest import multipletests

    t = fits["leads"].table
    np.testing.assert_allclose(t["p_holm"], multipletests(t["p_value"], method="holm")[1], rtol=1e-12)
    np.testing.assert_allclose(t["p_fdr_bh"], multipletests(t["p_value"], method="fdr_bh")[1], rtol=1e-12)


def test_forest_plot_draws_on_the_given_axes(fits):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert fits["interactions"].plot(ax=ax, lang="zh") is ax
    assert len(ax.get_yticklabels()) == 10
    plt.close(fig)


# --------------------------------------------------------------------------- engagement table


def _tiny():
    return pd.DataFrame({
        "content_id": [f"P{i}" for i in range(6)],
        "kos_id": ["a", "a", "b", "b", "c", "c"],
        "format": ["live", "live", "live", "video", "video", "video"],
        "impressions": [100, 300, 200, 100, 100, 200],
        "likes": [5, 10, 8, 2, 3, 1], "comments": [1, 0, 2, 0, 0, 1], "saves": [0, 2, 0, 1, 1, 0],
        "shares": [0, 0, 0, 0, 0, 1], "leads": [1, 0, 2, 0, 0, 1],
    })


def test_engagement_rates_and_cluster_intervals_match_hand_computation():
    df = _tiny()
    before = df.copy()
    et = engagement_table(df, by=["format"])
    pd.testing.assert_frame_equal(df, before)
    live = et.table[(et.table["format"] == "live") & (et.table["metric"] == "interaction_rate")].iloc[0]
    # live: advisor a 18 interactions / 400 impressions, advisor b 10 / 200
    assert live["posts"] == 3 and live["kos"] == 2 and live["count"] == 28 and live["impressions"] == 600
    R = 28 / 600
    var = 2 / 1 * ((18 - R * 400) ** 2 + (10 - R * 200) ** 2) / 600**2
    assert live["estimate"] == pytest.approx(R)
    assert live["std_error"] == pytest.approx(np.sqrt(var))
    z = stats.norm.ppf(0.975)
    assert live["conf_low"] == pytest.approx(R * np.exp(-z * np.sqrt(var) / R))
    # one advisor only (c posts all videos with leads 1): exact Poisson interval
    lead = et.table[(et.table["format"] == "video") & (et.table["metric"] == "lead_rate")].iloc[0]
    assert lead["kos"] == 2  # b and c
    s = et.summary()
    assert list(s["format"]) == ["live", "video"] and "interactions per 1k impr." in s.columns


def test_engagement_garwood_interval_when_one_advisor_or_no_events():
    df = _tiny()
    df["kos_id"] = "a"
    et = engagement_table(df, by=())
    lead = et.table[et.table["metric"] == "lead_rate"].iloc[0]
    y, e = 4, 1000
    assert lead["conf_low"] == pytest.approx(stats.chi2.ppf(0.025, 2 * y) / 2 / e)
    assert lead["conf_high"] == pytest.approx(stats.chi2.ppf(0.975, 2 * y + 2) / 2 / e)


def test_engagement_from_a_dataset_equals_the_frame_version(sample):
    a = engagement_table(sample, by=["format", "platform"])
    b = engagement_table(sample.table("content"), by=["format", "platform"])
    pd.testing.assert_frame_equal(a.table, b.table, check_dtype=False)


def test_content_posts_adds_interactions_and_rates(sample):
    posts = content_posts(sample.table("content").head(50))
    row = posts.iloc[0]
    assert row["interactions"] == row["likes"] + row["comments"] + row["saves"] + row["shares"]
    assert row["interaction_rate"] == pytest.approx(row["interactions"] / row["impressions"])


# --------------------------------------------------------------------------- pairwise and two-way


def test_pairwise_ratios_equal_the_model_contrasts(posts):
    east = posts[posts["region"] == "east"]
    pw = pairwise_rate_ratios(east, count_col="leads", exposure_col="impressions", factor_col="format",
                              cluster_col="kos_id", terms=["topic"])
    assert len(pw.table) == 6 and (pw.table["rate_ratio"] >= 1).all()
    model = pw.model
    for r in pw.table.itertuples():
        c = model.contrast({"format": r.level}, against={"format": r.reference}).table.iloc[0]
        assert r.rate_ratio == pytest.approx(c["rate_ratio"], rel=1e-10)
        assert r.std_error == pytest.approx(c["std_error"], rel=1e-10)
    assert (pw.table["p_holm"] >= pw.table["p_value"]).all()
    assert len(pw.interpret(lang="zh")) == 6


def test_cross_table_has_unit_reference_cell_and_no_planted_interaction(posts):
    cr = cross_rate_ratios(posts, count_col="interactions", exposure_col="impressions", row_col="format",
                           col_col="topic", cluster_col="kos_id",
                           reference={"format": "image_text", "topic": "promotion"})
    t = cr.table
    assert len(t) == 20 and t["estimable"].all()
    ref = t[(t["format"] == "image_text") & (t["topic"] == "promotion")].iloc[0]
    assert ref["rate_ratio"] == 1.0 and np.isnan(ref["conf_low"])
    assert cr.interaction_test["df"] == 12
    assert cr.interaction_test["p_value"] > 0.01  # the simulator plants no format x topic interaction
    best = t.loc[t["rate_ratio"].idxmax()]
    assert (best["format"], best["topic"]) == ("short_video", "usage_tips")
    assert best["conf_low"] < 5.0 < best["conf_high"]
    assert cr.interpret(lang="en")[0].startswith("How-to short videos get ")


def test_cross_table_marks_cells_without_events_as_not_estimable():
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"f": rng.choice(["a", "b"], n), "t": rng.choice(["x", "y"], n),
                       "e": 100.0, "g": rng.integers(0, 20, n)})
    df["y"] = rng.poisson(2.0, n)
    df.loc[(df["f"] == "b") & (df["t"] == "y"), "y"] = 0
    cr = cross_rate_ratios(df, count_col="y", exposure_col="e", row_col="f", col_col="t")
    cell = cr.table[(cr.table["f"] == "b") & (cr.table["t"] == "y")].iloc[0]
    assert not cell["estimable"] and np.isnan(cell["rate_ratio"])
    assert cr.interaction_test["df"] == 0


# --------------------------------------------------------------------------- errors


def test_errors_name_the_argument_and_the_bad_value():
    df = _tiny().assign(interactions=lambda d: d["likes"])
    with pytest.raises(KosDataError, match=r"count_col='clicks' is not a column of data"):
        rate_ratios(df, count_col="clicks", terms=["format"])
    with pytest.raises(KosParameterError, match=r"terms='format' must be a list of column names"):
        rate_ratios(df, count_col="likes", terms="format")
    with pytest.raises(KosParameterError, match=r"family='zip' is not allowed"):
        rate_ratios(df, count_col="likes", terms=["format"], family="zip")
    with pytest.raises(KosParameterError, match=r"reference\['format'\]='image' is not a level of 'format'"):
        rate_ratios(df, count_col="likes", terms=["format"], reference={"format": "image"})
    bad = df.assign(likes=[1, -2, 0, 0, 0, 0])
    with pytest.raises(KosDataError, match=r"count_col='likes' must hold non-negative whole numbers; 1 rows"):
        rate_ratios(bad, count_col="likes", terms=["format"])
    with pytest.raises(KosDataError, match=r"exposure_col='impressions' must be positive; 1 rows"):
        rate_ratios(df.assign(impressions=[0, 1, 1, 1, 1, 1]), count_col="likes", exposure_col="impressions",
                    terms=["format"])
    with pytest.raises(KosDataError, match=r"term 'format': level\(s\) \['video'\] have no shares"):
        rate_ratios(df.assign(shares=[1, 0, 0, 0, 0, 0]), count_col="shares", terms=["format"])
    with pytest.raises(KosDataError, match=r"term 'format' has 1 missing values"):
        rate_ratios(df.assign(format=["live", None, "live", "video", "video", "video"]), count_col="likes",
                    terms=["format"])
    with pytest.raises(KosDataError, match=r"the terms are collinear"):
        rate_ratios(df.assign(copy=df["format"]), count_col="likes", terms=["format", "copy"])
    with pytest.raises(KosDataError, match=r"factor_col='fmt' is not a column of data"):
        pairwise_rate_ratios(df, count_col="likes", exposure_col=None, factor_col="fmt")
