"""Promotion-invitation effect: recovery of the planted 90-day spend effect, naive bias, placebo, diagnostics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.tiers.promotion import _ipw_att, promotion_effect


@pytest.fixture(scope="module")
def invites(sample_dataset) -> pd.DataFrame:
    return sample_dataset.table("tier_events")


@pytest.fixture(scope="module")
def ipw(sample_features, invites):
    return promotion_effect(sample_features, invites, method="ipw")


@pytest.fixture(scope="module")
def matching(sample_features, invites):
    return promotion_effect(sample_features, invites, method="matching")


def _row(res, term):
    return res.table.set_index("term").loc[term]


@pytest.mark.parametrize("method", ["ipw", "matching"])
def test_adjusted_estimate_recovers_the_planted_spend_effect(method, ipw, matching, truth):
    res = ipw if method == "ipw" else matching
    planted = truth["promotion"]["spend_effect_90d"]
    r = _row(res, method)
    assert r["conf_low"] <= planted <= r["conf_high"]
    assert r["std_error"] < 150
    assert r["n_treated"] > 800


def test_naive_comparison_misses_the_planted_effect_because_invitations_were_targeted(ipw, truth):
    planted = truth["promotion"]["spend_effect_90d"]
    naive = _row(ipw, "naive")
    assert naive["conf_low"] > planted
    assert naive["estimate"] > 1.5 * _row(ipw, "ipw")["estimate"]


@pytest.mark.parametrize("method", ["ipw", "matching"])
def test_placebo_on_spend_before_the_invitation_is_near_zero(method, ipw, matching):
    r = _row(ipw if method == "ipw" else matching, "placebo")
    assert r["conf_low"] <= 0 <= r["conf_high"]


def test_weighting_balances_the_pre_invitation_features(ipw, matching):
    b = ipw.balance.set_index("covariate")
    assert b.loc["log_spend_prev_3", "smd_before"] > 0.5  # invited are recent big spenders
    assert (ipw.balance["smd_after"].abs() < 0.05).all()
    assert (matching.balance["smd_after"].abs() < 0.1).all()


def test_overlap_diagnostics_report_the_score_distribution(ipw, matching):
    o = ipw.overlap.set_index("group")
    assert o.loc["invited", "median"] > o.loc["not_invited", "median"]
    assert o.loc["share_treated_above_control_max", "n"] < 0.01
    assert o.loc["control_effective_n", "n"] > 1000
    assert matching.overlap.set_index("group").loc["treated_unmatched", "n"] < 10
    p = ipw.propensity
    assert p["treated"].sum() == _row(ipw, "ipw")["n_treated"]
    np.testing.assert_allclose(p.loc[p["treated"], "weight"], 1.0)


def test_propensity_model_finds_the_planted_selection_on_spend_and_messages(ipw):
    coef = ipw.propensity_model.set_index("term")
    # planted: 0.9 log1p(spend_3m / 100) + 0.5 log1p(messages last month) + 0.3 [orders >= 2].
    # Two coefficients are checked, so a 95 % interval would miss one of them in ~10 % of
    # samples by chance alone; 3.5 standard errors keep the false-alarm rate below 0.1 %.
    for term, planted in (("log_spend_prev_3", 0.9), ("log_messages_prev_1", 0.5)):
        assert abs(coef.loc[term, "estimate"] - planted) <= 3.5 * coef.loc[term, "std_error"], term


def test_invitations_do_not_move_the_latent_tier(sample_features, invites, truth_tiers):
    """Nothing in the simulator makes an invitation change the latent tier: the effect on reaching core is 0."""
    res = promotion_effect(sample_features, invites, outcome="core_next_3m", tiers=truth_tiers)
    r = _row(res, "ipw")
    assert r["conf_low"] <= 0 <= r["conf_high"]
    assert _row(res, "naive")["conf_low"] > 0  # the invited were more often core anyway


def test_ipw_sandwich_standard_error_is_close_to_a_cluster_bootstrap():
    """Small simulated study with a known propensity: the analytic SE is within 25 % of a bootstrap over clusters."""
    import statsmodels.api as sm

    rng = np.random.default_rng(7)
    n = 3000
    x = rng.normal(size=n)
    X = np.column_stack([np.ones(n), x])
    T = rng.random(n) < 1 / (1 + np.exp(-(-1.5 + x)))
    y = 2.0 * x + 1.0 * T + rng.normal(size=n)
    cid = np.arange(n)

    def est(idx):
        e = np.asarray(sm.Logit(T[idx].astype(float), X[idx]).fit(disp=0).predict(X[idx]))
        return _ipw_att(y[idx], T[idx], e, X[idx], cid[idx])

    tau, se, _ = est(np.arange(n))
    boots = [est(rng.integers(0, n, n))[0] for _ in range(150)]
    assert tau == pytest.approx(1.0, abs=4 * se)
    assert se == pytest.approx(np.std(boots, ddof=1), rel=0.25)


def test_bad_arguments_are_refused(sample_features, invites):
    with pytest.raises(KosParameterError, match="outcome='spend_next_6m' is not allowed"):
        promotion_effect(sample_features, invites, outcome="spend_next_6m")
    with pytest.raises(KosParameterError, match="method='doubly_robust' is not allowed"):
        promotion_effect(sample_features, invites, method="doubly_robust")
    with pytest.raises(KosParameterError, match="n_neighbors=0"):
        promotion_effect(sample_features, invites, n_neighbors=0)
    with pytest.raises(KosDataError, match="outcome='core_next_3m' needs tiers"):
        promotion_effect(sample_features, invites, outcome="core_next_3m")
    with pytest.raises(KosDataError, match="'ts' is not a column of tier_events"):
        promotion_effect(sample_features, invites.drop(columns="ts"))
    with pytest.raises(KosDataError, match="no promotion invitation falls in a period"):
        promotion_effect(sample_features, invites[invites["event"] == "demotion"])


def test_plots_draw_on_the_given_axes(ipw):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert ipw.plot(ax=ax) is ax
    assert ipw.plot_overlap(ax=ax) is ax
    plt.close("all")
