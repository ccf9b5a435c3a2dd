"""The count-model engine against statsmodels' own fits on the same data.

Reference: statsmodels ``GLM(..., family=Poisson(), exposure=...)`` and
``NegativeBinomial(..., exposure=..., loglike_method="nb2")``, model-based and
``cov_type="cluster"`` covariances, and their ``llf`` (full log-likelihood).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from kosresearch.content import rate_ratios
from kosresearch.content._countreg import build_design, fit_count_model, overdispersion_test


def _data(n=2500, alpha=0.6, seed=1):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "format": rng.choice(["article", "image_text", "live", "short_video"], n),
        "topic": rng.choice(["promotion", "usage_tips", "lifestyle"], n),
        "hour": rng.integers(8, 23, n).astype(float),
        "impressions": rng.integers(50, 5000, n).astype(float),
        "kos_id": rng.integers(0, 60, n).astype(str),
    })
    u = rng.normal(0, 0.3, 60)
    lin = np.log(0.02) + df["format"].map({"article": -0.5, "image_text": 0.0, "live": 0.6, "short_video": 0.9})
    lin = lin + 0.7 * (df["topic"] == "usage_tips") + 0.02 * (df["hour"] - 15) + u[df["kos_id"].astype(int)]
    mu = df["impressions"] * np.exp(lin)
    lam = rng.gamma(1 / alpha, alpha * mu) if alpha > 0 else mu
    df["y"] = rng.poisson(lam)
    return df


def _statsmodels(df, terms, family, cluster):
    d = build_design(df, terms, {"format": "image_text", "topic": "promotion"})
    X = d.X[d.pattern]
    if family == "poisson":
        m = sm.GLM(df["y"].to_numpy(), X, family=sm.families.Poisson(), exposure=df["impressions"].to_numpy())
        r = m.fit() if cluster is None else m.fit(cov_type="cluster", cov_kwds={"groups": cluster})
        return d, r.params, r.bse, r.llf, None, None
    m = sm.NegativeBinomial(df["y"].to_numpy(), X, exposure=df["impressions"].to_numpy(), loglike_method="nb2")
    kw = {} if cluster is None else {"cov_type": "cluster", "cov_kwds": {"groups": cluster}}
    r = m.fit(disp=0, method="newton", maxiter=200, **kw)
    return d, r.params[:-1], r.bse[:-1], r.llf, r.params[-1], r.bse[-1]


@pytest.mark.parametrize("family", ["poisson", "negbin"])
@pytest.mark.parametrize("clustered", [False, True], ids=["model", "cluster"])
def test_fit_matches_statsmodels_coefficients_standard_errors_and_loglikelihood(family, clustered):
    df = _data()
    terms = ["format", "topic", "hour"]
    cluster = pd.factorize(df["kos_id"])[0] if clustered else None
    d, params, bse, llf, alpha, alpha_se = _statsmodels(df, terms, family, cluster)
    fit, _ = fit_count_model(df["y"].to_numpy(float), df["impressions"].to_numpy(float), d, family=family,
                             cluster=cluster)
    np.testing.assert_allclose(fit.params, params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(fit.std_errors, bse, rtol=1e-6)
    assert fit.log_likelihood == pytest.approx(llf, rel=1e-10)
    if family == "negbin":
        assert fit.alpha == pytest.approx(alpha, rel=1e-6)
        assert fit.alpha_std_error == pytest.approx(alpha_se, rel=1e-5)


def test_public_rate_ratios_are_exponentiated_statsmodels_coefficients_with_wald_intervals():
    df = _data(seed=4)
    rr = rate_ratios(df, count_col="y", exposure_col="impressions", terms=["format", "topic", "hour"],
                     reference={"format": "image_text", "topic": "promotion"}, cluster_col="kos_id", family="negbin")
    d, params, bse, llf, alpha, _ = _statsmodels(df, ["format", "topic", "hour"], "negbin",
                                                 pd.factorize(df["kos_id"])[0])
    assert rr.log_likelihood == pytest.approx(llf, rel=1e-10)
    assert rr.alpha == pytest.approx(alpha, rel=1e-6)
    np.testing.assert_allclose(rr.table["rate_ratio"], np.exp(params[1:]), rtol=1e-7)
    np.testing.assert_allclose(rr.table["std_error"], bse[1:], rtol=1e-6)
    np.testing.assert_allclose(rr.table["conf_low"], np.exp(params[1:] - 1.959963984540054 * bse[1:]), rtol=1e-6)
    hour = rr.table[rr.table["term"] == "hour"].iloc[0]
    assert hour["level"] == "" and hour["reference"] == ""
    assert rr.n_clusters == 60 and rr.se_type == "cluster"


def test_poisson_on_collapsed_patterns_equals_the_row_level_fit():
    # the Poisson fit uses pattern sums; a design with one pattern per row must give the same answer
    df = _data(alpha=0.0, seed=2)
    d = build_design(df, ["format", "topic"])
    fit, _ = fit_count_model(df["y"].to_numpy(float), df["impressions"].to_numpy(float), d, family="poisson")
    assert d.X.shape[0] == 12  # 4 formats x 3 topics
    r = sm.GLM(df["y"].to_numpy(), d.X[d.pattern], family=sm.families.Poisson(),
               exposure=df["impressions"].to_numpy()).fit()
    np.testing.assert_allclose(fit.params, r.params, rtol=1e-8)
    assert fit.log_likelihood == pytest.approx(r.llf, rel=1e-12)


def test_auto_family_picks_poisson_for_poisson_counts_and_negbin_for_overdispersed_ones():
    pois = _data(alpha=0.0, seed=3).assign(kos_id="one")  # no advisor effect either
    pois["y"] = np.random.default_rng(9).poisson(
        pois["impressions"] * 0.02 * np.exp(0.5 * (pois["format"] == "live")))
    r = rate_ratios(pois, count_col="y", exposure_col="impressions", terms=["format"])
    assert r.family == "poisson" and r.alpha == 0.0
    assert r.overdispersion_test["p_value"] > 0.05
    nb = rate_ratios(_data(seed=3), count_col="y", exposure_col="impressions", terms=["format"])
    assert nb.family == "negbin" and nb.alpha > 0.3
    assert nb.overdispersion_test["p_value"] < 1e-6


def test_overdispersion_test_is_the_cameron_trivedi_auxiliary_regression():
    y = np.array([0.0, 3, 1, 8, 2, 0, 5, 1])
    mu = np.array([1.0, 2, 1.5, 3, 2, 1, 2.5, 1.2])
    z = ((y - mu) ** 2 - y) / mu
    fit = sm.OLS(z, mu).fit()
    stat, p = overdispersion_test(y, mu)
    assert stat == pytest.approx(fit.tvalues[0], rel=1e-10)
    assert p == pytest.approx(1 - __import__("scipy").stats.norm.cdf(fit.tvalues[0]), rel=1e-10)


def test_negbin_dispersion_is_recovered_by_maximum_likelihood():
    rng = np.random.default_rng(12)
    n = 20_000
    mu = rng.uniform(2, 40, n)
    y = rng.poisson(rng.gamma(1 / 0.6, 0.6 * mu))
    df = pd.DataFrame({"y": y, "e": mu, "g": "a"})
    df.loc[: n // 2, "g"] = "b"
    r = rate_ratios(df, count_col="y", exposure_col="e", terms=["g"], family="negbin")
    assert abs(r.alpha - 0.6) < 4 * r.alpha_std_error
    assert abs(np.log(r.table["rate_ratio"].iloc[0])) < 4 * r.table["std_error"].iloc[0]
