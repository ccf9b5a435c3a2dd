"""BetaGeo / GammaGamma fitter behaviour, CLV discounting and the holdout check."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from kosresearch.errors import KosDataError, KosParameterError, NotFittedError
from kosresearch.value import (
    BetaGeo,
    GammaGamma,
    ModelIdentificationWarning,
    customer_lifetime_value,
    holdout_check,
)
from kosresearch.value import _btyd


def simulate_rfm(n: int, seed: int, *, r=0.8, alpha=8.0, a=0.8, b=6.0, p=6.0, q=3.5, gamma=250.0,
                 weeks=156.0) -> pd.DataFrame:
    """RFM rows drawn exactly from BG/NBD + Gamma-Gamma (continuous time, staggered first purchases)."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(0, weeks, n)
    lam = rng.gamma(r, 1 / alpha, n)
    drop = rng.beta(a, b, n)
    N = rng.poisson(lam * T)
    x = np.minimum(N, rng.geometric(drop))
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(N - x + 1, 1)), 0.0)
    nu = rng.gamma(q, 1 / gamma, n)
    zbar = np.where(x > 0, rng.gamma(p * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1))), 0.0)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T, "monetary_value": zbar})


@pytest.fixture(scope="module")
def rfm() -> pd.DataFrame:
    return simulate_rfm(3_000, seed=7)


@pytest.fixture(scope="module")
def fitted(rfm):
    return BetaGeo().fit(rfm), GammaGamma().fit(rfm)


@pytest.mark.parametrize("method, args", [
    ("expected_purchases", (1.0,)),
    ("conditional_expected_purchases", (1.0, 1, 1.0, 2.0)),
    ("probability_alive", (1, 1.0, 2.0)),
    ("probability_of_purchases", (1.0, 0)),
    ("summary", ()),
])
def test_methods_before_fit_raise_not_fitted(method, args):
    with pytest.raises(NotFittedError, match=f"BetaGeo instance is not fitted yet; call fit\\(rfm\\) before {method}"):
        getattr(BetaGeo(), method)(*args)


def test_gamma_gamma_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError, match="GammaGamma instance is not fitted yet"):
        GammaGamma().conditional_expected_value(1, 10.0)


def test_init_only_stores_and_fit_returns_self_with_fitted_attributes(rfm):
    bg = BetaGeo(penalizer=0.0, conf_level=0.9)
    assert vars(bg) == {"penalizer": 0.0, "conf_level": 0.9}
    assert bg.fit(rfm) is bg
    assert set(bg.params_) == {"r", "alpha", "a", "b"}
    assert list(bg.params_table_.columns) == ["term", "estimate", "std_error", "conf_low", "conf_high"]
    assert bg.n_customers_ == 3000 and bg.converged_
    assert bg.covariance_.shape == (4, 4)
    assert "CI low (90%)" in bg.summary().columns


def test_scalars_in_give_floats_and_arrays_or_series_in_give_arrays(fitted, rfm):
    bg, gg = fitted
    assert isinstance(bg.expected_purchases(52), float)
    assert isinstance(bg.probability_alive(2, 10.0, 30.0), float)
    assert isinstance(bg.conditional_expected_purchases(10, 2, 10.0, 30.0), float)
    assert isinstance(bg.probability_of_purchases(52, 3), float)
    assert isinstance(gg.conditional_expected_value(2, 500.0), float)
    out = bg.conditional_expected_purchases(10, rfm["frequency"], rfm["recency"], rfm["T"])
    assert isinstance(out, np.ndarray) and out.shape == (3000,)
    assert bg.expected_purchases([1.0, 2.0]).shape == (2,)
    assert bg.probability_of_purchases(52, np.arange(5)).shape == (5,)
    assert isinstance(gg.conditional_expected_value(rfm["frequency"], rfm["monetary_value"]), np.ndarray)


def test_predictions_agree_with_the_closed_forms(fitted):
    bg, gg = fitted
    r, al, a, b = (bg.params_[k] for k in ("r", "alpha", "a", "b"))
    assert bg.expected_purchases(26) == pytest.approx(float(_btyd.bg_expected(26, r, al, a, b)))
    p, q, g = gg.params_["p"], gg.params_["q"], gg.params_["gamma"]
    assert gg.conditional_expected_value(3, 400.0) == pytest.approx(p * (g + 3 * 400.0) / (3 * p + q - 1))
    assert gg.conditional_expected_value(0, 123.0) == pytest.approx(p * g / (q - 1)) == pytest.approx(
        gg.population_mean_)


def test_weights_give_the_same_fit_as_repeated_rows(rfm):
    small = rfm.iloc[:400].round(2)
    doubled = pd.concat([small, small], ignore_index=True)
    bg_rep = BetaGeo().fit(doubled)
    bg_w = BetaGeo().fit(small.assign(w=2.0), weights_col="w")
    for key in bg_rep.params_:
        assert bg_w.params_[key] == pytest.approx(bg_rep.params_[key], rel=1e-6)
    np.testing.assert_allclose(bg_w.params_table_["std_error"], bg_rep.params_table_["std_error"], rtol=1e-5)


def test_fit_ignores_input_order_and_does_not_mutate_it(rfm):
    before = rfm.copy()
    a = BetaGeo().fit(rfm)
    b = BetaGeo().fit(rfm.sample(frac=1.0, random_state=1))
    pd.testing.assert_frame_equal(rfm, before)
    for key in a.params_:
        assert a.params_[key] == pytest.approx(b.params_[key], rel=1e-7)


def test_a_small_regional_sample_converges_with_a_warning():
    tiny = simulate_rfm(25, seed=3)
    with pytest.warns(ModelIdentificationWarning, match="only 25 customers"):
        bg = BetaGeo().fit(tiny)
    assert all(math.isfinite(v) for v in bg.params_.values())


def test_no_drop_out_in_the_data_is_reported_not_failed():
    # everybody buys steadily until the end: b runs to its bound
    n = 300
    rng = np.random.default_rng(2)
    T = rng.uniform(30, 60, n)
    x = rng.poisson(0.3 * T)
    data = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, T - 0.01, 0.0), "T": T})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bg = BetaGeo().fit(data)
    assert all(math.isfinite(v) for v in bg.params_.values())
    assert not bg.converged_
    assert any("reached its" in str(w.message) for w in caught)


def test_no_repeat_buyer_is_refused():
    data = pd.DataFrame({"frequency": [0, 0, 0], "recency": [0.0, 0.0, 0.0], "T": [5.0, 6.0, 7.0]})
    with pytest.raises(KosDataError, match="none of the 3 customers has a repeat purchase"):
        BetaGeo().fit(data)


@pytest.mark.parametrize("row, match", [
    ({"frequency": 1, "recency": 9.0, "T": 5.0}, "recency_col='recency' exceeds T_col='T' in 1 rows"),
    ({"frequency": 0, "recency": 2.0, "T": 5.0}, "recency_col='recency' is positive in 1 rows without repeat"),
    ({"frequency": 1.5, "recency": 2.0, "T": 5.0}, "frequency_col='frequency' has 1 non-integer values"),
    ({"frequency": -1, "recency": 0.0, "T": 5.0}, "frequency_col='frequency' has 1 missing, infinite or negative"),
    ({"frequency": 1, "recency": 2.0, "T": np.nan}, "T_col='T' has 1 missing, infinite or negative"),
])
def test_invalid_rfm_rows_are_refused_with_the_column_named(rfm, row, match):
    bad = pd.concat([rfm.iloc[:50], pd.DataFrame([row])], ignore_index=True)
    with pytest.raises(KosDataError, match=match):
        BetaGeo().fit(bad)


def test_missing_columns_and_bad_options_are_refused(rfm):
    with pytest.raises(KosDataError, match="recency_col='t_x' is not a column of rfm"):
        BetaGeo().fit(rfm, recency_col="t_x")
    with pytest.raises(KosParameterError, match="penalizer=-1 must be a number at least 0"):
        BetaGeo(penalizer=-1).fit(rfm)
    with pytest.raises(KosParameterError, match="conf_level=2 must be a number strictly between 0 and 1"):
        GammaGamma(conf_level=2).fit(rfm)
    with pytest.raises(KosParameterError, match="t must be finite and non-negative"):
        BetaGeo().fit(rfm).expected_purchases(-1)


def test_penalizer_shrinks_the_parameters(rfm):
    plain = BetaGeo().fit(rfm)
    shrunk = BetaGeo(penalizer=0.01).fit(rfm)
    assert sum(v * v for v in shrunk.params_.values()) < sum(v * v for v in plain.params_.values())


def test_gamma_gamma_uses_repeat_buyers_and_reports_independence(rfm):
    gg = GammaGamma().fit(rfm)
    assert gg.n_customers_ == int((rfm["frequency"] > 0).sum())
    ind = gg.independence_.set_index("term")
    assert set(ind.index) == {"spearman_rho", "pearson_r"}
    assert abs(ind.loc["spearman_rho", "estimate"]) < 0.1  # simulated independently
    assert ind.loc["spearman_rho", "conf_low"] < ind.loc["spearman_rho", "estimate"] < ind.loc["spearman_rho",
                                                                                                  "conf_high"]


def test_gamma_gamma_refuses_negative_values_and_too_few_repeat_buyers(rfm):
    with pytest.raises(KosDataError, match="monetary_col='monetary_value' has 1 missing, infinite or negative"):
        GammaGamma().fit(rfm.assign(monetary_value=lambda d: d["monetary_value"].where(d.index != 3, -5.0)))
    with pytest.raises(KosDataError, match="at least two repeat buyers"):
        GammaGamma().fit(rfm[rfm["frequency"] == 0].head(5).pipe(
            lambda d: pd.concat([d, rfm[rfm["frequency"] > 0].head(1)])))


def test_clv_follows_the_stated_discounting_convention(fitted, rfm):
    bg, gg = fitted
    rows = rfm.iloc[:5]
    clv = customer_lifetime_value(bg, gg, rows, horizon=3, discount_rate=0.12, time_unit="M", margin=0.4,
                                  model_time_unit="W")
    # by hand: monthly increments of E[Y(t) | history] (t in weeks), × E[Z | history] × margin, discounted
    # at the end of each month by 1.12^(-k/12)
    month_weeks = 365.25 / 12 / 7
    ez = gg.conditional_expected_value(rows["frequency"], rows["monetary_value"])
    cum = [bg.conditional_expected_purchases(k * month_weeks, rows["frequency"], rows["recency"], rows["T"])
           for k in (0, 1, 2, 3)]
    by_hand = sum((cum[k] - cum[k - 1]) * 1.12 ** (-k / 12) for k in (1, 2, 3)) * ez * 0.4
    np.testing.assert_allclose(clv.to_numpy(), by_hand, rtol=1e-10)
    assert clv.index.equals(rows.index) and clv.name == "clv"
    undiscounted = customer_lifetime_value(bg, gg, rows, horizon=3, discount_rate=0.0, time_unit="M",
                                           model_time_unit="W")
    np.testing.assert_allclose(undiscounted.to_numpy(), cum[3] * ez, rtol=1e-10)


def test_clv_converts_between_model_and_horizon_units(fitted, rfm):
    bg, gg = fitted
    rows = rfm.iloc[:3]
    weekly = customer_lifetime_value(bg, gg, rows, horizon=52, discount_rate=0.0, time_unit="W", model_time_unit="W")
    daily = customer_lifetime_value(bg, gg, rows, horizon=364, discount_rate=0.0, time_unit="D", model_time_unit="W")
    np.testing.assert_allclose(weekly, daily, rtol=1e-10)
    with pytest.warns(UserWarning, match="assuming weeks"):
        assumed = customer_lifetime_value(bg, gg, rows, horizon=52, discount_rate=0.0, time_unit="W")
    np.testing.assert_allclose(assumed, weekly)


def test_clv_reads_the_time_unit_recorded_by_rfm_summary(rfm):
    daily = rfm.iloc[:500].assign(recency=lambda d: d["recency"] * 7, T=lambda d: d["T"] * 7)
    daily.attrs["time_unit"] = "D"
    bg_d, gg_d = BetaGeo().fit(daily), GammaGamma().fit(daily)
    assert bg_d.time_unit_ == "D"
    weekly = rfm.iloc[:500].copy()
    weekly.attrs["time_unit"] = "W"
    bg_w, gg_w = BetaGeo().fit(weekly), GammaGamma().fit(weekly)
    assert bg_d.params_["alpha"] == pytest.approx(7 * bg_w.params_["alpha"], rel=1e-5)
    np.testing.assert_allclose(
        customer_lifetime_value(bg_d, gg_d, daily.iloc[:4], horizon=6, discount_rate=0.1),
        customer_lifetime_value(bg_w, gg_w, weekly.iloc[:4], horizon=6, discount_rate=0.1), rtol=1e-5)


def test_clv_refuses_a_margin_above_one(fitted, rfm):
    bg, gg = fitted
    with pytest.raises(KosParameterError, match="margin=1.5 must lie in"):
        customer_lifetime_value(bg, gg, rfm, horizon=12, discount_rate=0.1, margin=1.5)


def test_holdout_check_compares_predicted_and_actual_purchases():
    import kosresearch as kr

    import dataclasses

    sc = dataclasses.replace(kr.PRESETS["sample"].base_only(), customers=3_000, stores_per_region=4, regions=("east",),
                             region_rollout={})
    orders = kr.simulate(sc, seed=4).tables["orders"]
    res = holdout_check(orders, holdout_weeks=52)
    t = res.table.set_index("term")
    assert list(t.index[:2]) == ["0", "1"] and t.index[-1] == "all"
    assert res.calibration_end == res.observation_end - pd.Timedelta(weeks=52)
    # an exact BG/NBD population: the prediction lies within the interval of the actual mean
    assert t.loc["all", "conf_low"] <= t.loc["all", "predicted"] <= t.loc["all", "conf_high"]
    import matplotlib

    matplotlib.use("Agg")
    ax = res.plot()
    assert ax.get_xlabel() == "repeat purchases in calibration"
