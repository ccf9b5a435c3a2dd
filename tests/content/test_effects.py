"""Effect sizes, p-value adjustment and power: hand-worked and published values.

Noncentral-t reference numbers come from tests/reference/content_noncentral_t.py
(quadrature of the noncentral t definition, independent of scipy.stats.nct).
The mtcars values are those printed in the R package effectsize's
documentation (cohens_d(mpg ~ am, data = mtcars): -1.48 [-2.27, -0.67];
hedges_g: -1.44 [-2.21, -0.65]), to their two printed decimals.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from kosresearch.content import (
    adjust_pvalues,
    cohens_h,
    effect_size,
    min_detectable_rate_ratio,
    posts_needed,
    rate_ratios,
)
from kosresearch.errors import KosDataError, KosParameterError

# --------------------------------------------------------------------------- p-value adjustment

P = [0.01, 0.04, 0.03, 0.005]


@pytest.mark.parametrize(
    "method, expected",
    [
        # sorted: 0.005, 0.01, 0.03, 0.04 (m = 4)
        ("bonferroni", [0.04, 0.16, 0.12, 0.02]),
        # Holm: 4*.005=.02, 3*.01=.03, 2*.03=.06, 1*.04=.04 -> running max .02 .03 .06 .06
        ("holm", [0.03, 0.06, 0.06, 0.02]),
        # Hochberg: same products, running min from the top: .04 .04 .03 .02
        ("hochberg", [0.03, 0.04, 0.04, 0.02]),
        # BH: 4/1*.005=.02, 4/2*.01=.02, 4/3*.03=.04, 4/4*.04=.04 -> running min from top
        ("fdr_bh", [0.02, 0.04, 0.04, 0.02]),
        # BY: BH times c(4) = 1 + 1/2 + 1/3 + 1/4 = 25/12
        ("fdr_by", [0.02 * 25 / 12, 0.04 * 25 / 12, 0.04 * 25 / 12, 0.02 * 25 / 12]),
    ],
)
def test_adjusted_pvalues_match_hand_computation_and_statsmodels(method, expected):
    got = adjust_pvalues(P, method=method)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    sm_method = {"bonferroni": "bonferroni", "holm": "holm", "hochberg": "simes-hochberg",
                 "fdr_bh": "fdr_bh", "fdr_by": "fdr_by"}[method]
    np.testing.assert_allclose(got, multipletests(P, method=sm_method)[1], rtol=1e-12)


def test_adjustment_keeps_series_index_and_skips_missing_values():
    s = pd.Series([0.02, np.nan, 0.04], index=["a", "b", "c"], name="p")
    out = adjust_pvalues(s, method="bonferroni")
    assert list(out.index) == ["a", "b", "c"] and out.name == "p"
    assert out["a"] == pytest.approx(0.04) and np.isnan(out["b"]) and out["c"] == pytest.approx(0.08)
    assert adjust_pvalues([0.9, 0.8], method="bonferroni").max() == 1.0
    with pytest.raises(KosParameterError, match=r"method='sidak' is not allowed"):
        adjust_pvalues(P, method="sidak")
    with pytest.raises(KosParameterError, match=r"p_values must lie between 0 and 1; got 1.5"):
        adjust_pvalues([0.1, 1.5])


# --------------------------------------------------------------------------- effect sizes

TWO = pd.DataFrame({"g": list("aaaaabbbbb"), "v": [1, 2, 3, 4, 5, 3, 4, 5, 6, 7]})


def test_cohens_d_and_interval_match_hand_worked_values():
    r = effect_size(TWO, value_col="v", group_col="g", kind="cohens_d").table.iloc[0]
    # means 3 and 5, both SDs sqrt(2.5): d = -2/sqrt(2.5)
    assert r["estimate"] == pytest.approx(-2 / math.sqrt(2.5), rel=1e-12)
    # t = d / sqrt(1/5 + 1/5) = -2 on 8 df; ncp bounds -4.1348816163, 0.2331440492 (reference script)
    assert r["conf_low"] == pytest.approx(-4.1348816163 * math.sqrt(0.4), abs=1e-7)
    assert r["conf_high"] == pytest.approx(0.2331440492 * math.sqrt(0.4), abs=1e-7)
    assert r["p_value"] == pytest.approx(0.08051623795726249, rel=1e-9)  # t.test(a, b, var.equal=TRUE)
    assert (r["n1"], r["n2"], r["group1"], r["group2"]) == (5, 5, "a", "b")


def test_hedges_g_applies_the_exact_correction_to_estimate_and_interval():
    d = effect_size(TWO, value_col="v", group_col="g", kind="cohens_d").table.iloc[0]
    g = effect_size(TWO, value_col="v", group_col="g").table.iloc[0]
    J = math.gamma(4) / (math.sqrt(4) * math.gamma(3.5))  # J(8) = 6 / (2 * 3.32335...)
    assert J == pytest.approx(0.9027033337, abs=1e-10)
    assert g["kind"] == "hedges_g"
    for col in ("estimate", "conf_low", "conf_high"):
        assert g[col] == pytest.approx(J * d[col], rel=1e-12)


def test_glass_delta_standardises_by_the_control_group():
    df = pd.DataFrame({"g": ["t"] * 5 + ["c"] * 5, "v": [2, 4, 6, 8, 10, 3, 4, 5, 6, 7]})
    r = effect_size(df, value_col="v", group_col="g", groups=("t", "c"), kind="glass_delta").table.iloc[0]
    J4 = 1 / (math.sqrt(2) * math.gamma(1.5))
    assert r["estimate"] == pytest.approx(J4 * 1 / math.sqrt(2.5), rel=1e-12)
    assert r["conf_low"] == pytest.approx(-1.1240140357, abs=1e-7)
    assert r["conf_high"] == pytest.approx(2.0756459940, abs=1e-7)


MPG_AUTO = [21.4, 18.7, 18.1, 14.3, 24.4, 22.8, 19.2, 17.8, 16.4, 17.3, 15.2, 10.4, 10.4, 14.7, 21.5, 15.5,
            15.2, 13.3, 19.2]
MPG_MANUAL = [21.0, 21.0, 22.8, 32.4, 30.4, 33.9, 27.3, 26.0, 30.4, 15.8, 19.7, 15.0, 21.4]


@pytest.mark.parametrize("kind, expected", [("cohens_d", (-1.48, -2.27, -0.67)), ("hedges_g", (-1.44, -2.21, -0.65))])
def test_mtcars_effect_sizes_match_the_published_r_effectsize_output(kind, expected):
    df = pd.DataFrame({"am": [0] * 19 + [1] * 13, "mpg": MPG_AUTO + MPG_MANUAL})
    r = effect_size(df, value_col="mpg", group_col="am", kind=kind).table.iloc[0]
    assert (round(r["estimate"], 2), round(r["conf_low"], 2), round(r["conf_high"], 2)) == expected


def test_effect_size_sentence_and_plot():
    import matplotlib.pyplot as plt

    res = effect_size(TWO, value_col="v", group_col="g", kind="cohens_d")
    en = res.interpret(lang="en")[0]
    assert "1.26 standard deviations lower" in en and "(Cohen's d, 95 % CI -2.62 to 0.15)" in en
    assert "the interval includes 0" in en
    assert "低 1.26 个标准差" in res.interpret(lang="zh")[0]
    fig, ax = plt.subplots()
    assert res.plot(ax=ax) is ax
    plt.close(fig)


def test_effect_size_errors_name_the_problem():
    with pytest.raises(KosDataError, match=r"group_col='g' has 3 groups"):
        effect_size(pd.DataFrame({"g": list("abc") * 2, "v": range(6)}), value_col="v", group_col="g")
    with pytest.raises(KosDataError, match=r"group 'z' of group_col='g' has 0 rows"):
        effect_size(TWO, value_col="v", group_col="g", groups=("a", "z"))
    with pytest.raises(KosParameterError, match=r"kind='r' is not allowed"):
        effect_size(TWO, value_col="v", group_col="g", kind="r")
    with pytest.raises(KosDataError, match=r"value_col='v' has 1 missing or infinite values in group 'a'"):
        effect_size(TWO.assign(v=[np.nan] + list(range(9))), value_col="v", group_col="g")


def test_cohens_h_for_scalars_and_arrays():
    assert cohens_h(0.5, 0.1) == pytest.approx(2 * math.asin(math.sqrt(0.5)) - 2 * math.asin(math.sqrt(0.1)))
    assert isinstance(cohens_h(0.5, 0.1), float)
    out = cohens_h([0.5, 0.1], 0.1)
    assert isinstance(out, np.ndarray) and out[1] == 0.0
    with pytest.raises(KosParameterError, match=r"p1 must hold proportions between 0 and 1; got 1.2"):
        cohens_h(1.2, 0.1)


# --------------------------------------------------------------------------- power


def test_posts_needed_follows_the_zhu_lakkis_formula_by_hand():
    # mu0 = 0.02 * 1000 = 20, mu1 = 30, k = 0.6: V = (1/30 + .6) + (1/20 + .6) = 1.28333...
    z = 1.959963984540054 + 0.8416212335729143
    n = z**2 * (1 / 30 + 0.6 + 1 / 20 + 0.6) / math.log(1.5) ** 2
    assert posts_needed(1.5, baseline_rate=0.02, exposure=1000, dispersion=0.6) == math.ceil(n) == 62
    # allocation 2 (twice as many reference posts) needs fewer compared posts
    assert posts_needed(1.5, baseline_rate=0.02, exposure=1000, dispersion=0.6, allocation=2) < 62
    # minimum detectable ratio inverts it
    mdr = min_detectable_rate_ratio(n, baseline_rate=0.02, exposure=1000, dispersion=0.6)
    assert mdr == pytest.approx(1.5, rel=1e-9)
    dec = min_detectable_rate_ratio(200, baseline_rate=0.02, exposure=1000, dispersion=0.6, direction="decrease")
    assert 0.5 < dec < 1
    np.testing.assert_array_equal(
        posts_needed([1.5, 2.0], baseline_rate=0.02, exposure=1000, dispersion=0.6),
        [62, posts_needed(2.0, baseline_rate=0.02, exposure=1000, dispersion=0.6)])


def test_power_arguments_are_checked():
    with pytest.raises(KosParameterError, match=r"rate_ratio=1 must be positive and different from 1"):
        posts_needed(1, baseline_rate=0.02, exposure=1000, dispersion=0.6)
    with pytest.raises(KosParameterError, match=r"power=80 must be a number strictly between 0 and 1"):
        posts_needed(1.5, baseline_rate=0.02, exposure=1000, dispersion=0.6, power=80)
    with pytest.raises(KosParameterError, match=r"dispersion=-1 must be a number at least 0"):
        min_detectable_rate_ratio(50, baseline_rate=0.02, exposure=1000, dispersion=-1)


def test_posts_needed_gives_the_promised_power_in_simulation():
    # NB2 counts with constant exposure; n from posts_needed; the Wald test of rate_ratios
    # (negative binomial, model-based SE) must reject in ~80 % of 300 simulated studies
    # (binomial SE 2.3 %, tolerance 3 SE).
    rr, k, base, expo = 1.4, 0.6, 0.02, 500.0
    n = posts_needed(rr, baseline_rate=base, exposure=expo, dispersion=k)
    rng = np.random.default_rng(2026)
    g = np.repeat(["a", "b"], n)
    mu = np.where(g == "b", rr, 1.0) * base * expo
    hits = 0
    reps = 300
    for _ in range(reps):
        y = rng.poisson(rng.gamma(1 / k, k * mu))
        df = pd.DataFrame({"y": y, "g": g, "e": expo})
        t = rate_ratios(df, count_col="y", exposure_col="e", terms=["g"], family="negbin").table
        hits += bool(t["p_value"].iloc[0] < 0.05)
    assert abs(hits / reps - 0.8) < 3 * math.sqrt(0.8 * 0.2 / reps)
