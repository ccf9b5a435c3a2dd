"""Difference-in-differences: a hand-computable 2x2, the R ``did`` reference on mpdta, planted-truth recovery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kosresearch.attribution import att_gt, did_2x2, store_week_panel
from kosresearch.errors import KosDataError, KosParameterError
from tests.attribution._figures import assert_labels_in_chinese, assert_refuses_unknown_lang
from tests.reference import did_mpdta as R

MPDTA = Path(__file__).resolve().parents[1] / "reference" / "mpdta.csv"


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(MPDTA)


def _mp(mpdta, **kw):
    return att_gt(mpdta, outcome_col="lemp", unit_col="countyreal", time_col="year", group_col="first_treat", **kw)


# ----------------------------------------------------------------------------- 2x2


def test_att_matches_two_by_two_means_by_hand():
    # treated: 10, 12 before; 20, 22 after (mean +10); control: 5, 7 before; 8, 10 after (mean +3) -> DiD 7
    d = pd.DataFrame({"y": [10, 12, 20, 22, 5, 7, 8, 10], "treated": [1, 1, 1, 1, 0, 0, 0, 0],
                      "post": [0, 0, 1, 1, 0, 0, 1, 1], "store": list("aabbccdd")})
    r = did_2x2(d, outcome_col="y", treated_col="treated", post_col="post", vcov="classical")
    row = r.table.set_index("term").loc["did"]
    assert row["estimate"] == pytest.approx(7.0)
    # classical OLS: residuals ±1 in every cell, s² = 8 / (8 - 4) = 2, var(did) = s² (1/2 + 1/2 + 1/2 + 1/2) = 4
    assert row["std_error"] == pytest.approx(2.0)
    rc = did_2x2(d, outcome_col="y", treated_col="treated", post_col="post", cluster_col="store")
    assert rc.vcov == "cluster" and rc.n_clusters == 4 and rc.estimate == pytest.approx(7.0)


def test_did_2x2_refuses_non_indicator_columns_and_empty_cells():
    d = pd.DataFrame({"y": [1.0, 2, 3, 4], "treated": [0, 2, 1, 0], "post": [0, 1, 1, 0]})
    with pytest.raises(KosDataError, match="treated_col='treated' must hold 0/1"):
        did_2x2(d, outcome_col="y", treated_col="treated", post_col="post")
    d["treated"] = [0, 0, 1, 1]
    d["post"] = [0, 1, 1, 1]
    with pytest.raises(KosDataError, match="all four cells"):
        did_2x2(d, outcome_col="y", treated_col="treated", post_col="post")
    with pytest.raises(KosParameterError, match="vcov='HC3'"):
        did_2x2(d, outcome_col="y", treated_col="treated", post_col="post", vcov="HC3")


# ----------------------------------------------------------------------------- R did reference (mpdta)


def test_att_gt_matches_r_did_on_mpdta_without_covariates(mpdta):
    r = _mp(mpdta)
    got = {(int(g), int(t)): a for g, t, a in r.table[["group", "time", "estimate"]].itertuples(index=False)}
    for key, ref in R.NO_COVARIATES_ATT_GT.items():
        assert got[key] == pytest.approx(ref, abs=1e-8)
    assert r.pretest_p_value == pytest.approx(R.NO_COVARIATES_PRETEST_P, abs=5e-6)


@pytest.mark.parametrize("kind", ["simple", "group", "calendar", "dynamic"])
def test_aggregations_match_r_aggte_estimates_and_analytic_standard_errors(mpdta, kind):
    est, se = R.NO_COVARIATES_AGGTE[kind]
    o = _mp(mpdta).aggregate(kind).overall.iloc[0]
    assert o["estimate"] == pytest.approx(est, abs=1e-9)  # 4 decimals required; 10 published
    assert o["std_error"] == pytest.approx(se, rel=1e-7)  # 0.1 % required


def test_doubly_robust_with_a_covariate_matches_r_did_on_mpdta(mpdta):
    r = _mp(mpdta, covariates=["lpop"], est_method="dr")
    got = {(int(g), int(t)): a for g, t, a in r.table[["group", "time", "estimate"]].itertuples(index=False)}
    for key, ref in R.LPOP_DR_ATT_GT.items():
        assert round(got[key], 4) == pytest.approx(ref, abs=1e-12)
    assert round(r.pretest_p_value, 5) == pytest.approx(R.LPOP_DR_PRETEST_P)
    dyn = r.aggregate("dynamic")
    assert dyn.table.set_index("event_time")["estimate"].round(4).to_dict() == pytest.approx(R.LPOP_DR_DYNAMIC, abs=1e-12)
    assert round(dyn.overall["estimate"].iloc[0], 4) == pytest.approx(R.LPOP_DR_DYNAMIC_OVERALL)


def test_estimators_coincide_without_covariates_and_universal_base_keeps_post_cells(mpdta):
    base = _mp(mpdta).table
    for method in ("ipw", "reg"):
        np.testing.assert_allclose(_mp(mpdta, est_method=method).table["estimate"], base["estimate"], atol=1e-12)
    uni = _mp(mpdta, base_period="universal").table
    post_v = base[base["post"]].set_index(["group", "time"])
    post_u = uni[uni["post"]].set_index(["group", "time"])
    np.testing.assert_allclose(post_u["estimate"], post_v["estimate"], atol=1e-12)
    ref = uni[uni["time"] == uni["group"] - 1]
    assert (ref["estimate"] == 0).all() and ref["std_error"].isna().all()


def test_influence_function_standard_errors_match_the_jackknife_with_covariates():
    """For DR, IPW and REG with a covariate the analytic (influence-function) SE agrees with a delete-one jackknife."""
    rng = np.random.default_rng(5)
    n, T = 240, 4
    x = rng.normal(size=n)
    g = np.where(rng.random(n) < 1 / (1 + np.exp(-x)), 3, 0)
    unit = np.repeat(np.arange(n), T)
    t = np.tile(np.arange(1, T + 1), n)
    y = 0.5 * x[unit] * t + rng.normal(size=n * T) + 1.0 * ((g[unit] > 0) & (t >= 3))
    d = pd.DataFrame({"u": unit, "t": t, "g": g[unit], "y": y, "x": x[unit]})
    for method in ("dr", "ipw", "reg"):
        r = att_gt(d, outcome_col="y", unit_col="u", time_col="t", group_col="g", covariates=["x"], est_method=method)
        row = r.table[(r.table["group"] == 3) & (r.table["time"] == 4)].iloc[0]
        loo = []
        for i in range(0, n, 3):  # every third unit keeps the test fast (a delete-one jackknife on a systematic subsample)
            sub = d[d["u"] != i]
            rr = att_gt(sub, outcome_col="y", unit_col="u", time_col="t", group_col="g", covariates=["x"], est_method=method)
            loo.append(rr.table[(rr.table["group"] == 3) & (rr.table["time"] == 4)]["estimate"].iloc[0])
        loo = np.array(loo)
        jk = np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2) * 3)
        assert row["std_error"] == pytest.approx(jk, rel=0.15), method


def test_anticipation_moves_the_base_period_back(mpdta):
    r = _mp(mpdta, anticipation=1)
    wide = mpdta.pivot(index="countyreal", columns="year", values="lemp")
    g = mpdta.groupby("countyreal")["first_treat"].first()
    dy = wide[2007] - wide[2004]  # group 2006 with one period of anticipation: base 2004
    manual = dy[g == 2006].mean() - dy[g == 0].mean()
    got = r.table[(r.table["group"] == 2006) & (r.table["time"] == 2007)]["estimate"].iloc[0]
    assert got == pytest.approx(manual, abs=1e-12)
    assert 2004 not in set(r.table["group"])  # treated (with anticipation) in the first period: dropped
    assert set(r.dropped_units["group"]) == {2004}


def test_not_yet_treated_comparison_uses_later_cohorts(mpdta):
    r = _mp(mpdta, control_group="not_yet_treated")
    wide = mpdta.pivot(index="countyreal", columns="year", values="lemp")
    g = mpdta.groupby("countyreal")["first_treat"].first()
    dy = wide[2004] - wide[2003]
    manual = dy[g == 2004].mean() - dy[(g == 0) | (g > 2004)].mean()
    got = r.table[(r.table["group"] == 2004) & (r.table["time"] == 2004)]["estimate"].iloc[0]
    assert got == pytest.approx(manual, abs=1e-12)


def test_multiplier_bootstrap_gives_standard_errors_near_the_analytic_ones_and_a_wider_band(mpdta):
    r = _mp(mpdta, n_boot=999, seed=3)
    t = r.table
    np.testing.assert_allclose(t["boot_std_error"], t["std_error"], rtol=0.15)
    assert r.uniform_critical_value > 1.96
    assert ((t["band_high"] - t["band_low"]) > (t["conf_high"] - t["conf_low"])).all()
    dyn = r.aggregate("dynamic")
    assert {"band_low", "band_high"} <= set(dyn.table.columns)


def test_att_gt_refuses_bad_panels_and_options(mpdta):
    with pytest.raises(KosDataError, match="not balanced"):
        _mp(mpdta.iloc[1:])
    with pytest.raises(KosDataError, match="repeat the key"):
        _mp(pd.concat([mpdta, mpdta.iloc[:1]]))
    bad = mpdta.copy()
    bad.loc[0, "first_treat"] = 2004
    with pytest.raises(KosDataError, match="constant within each unit"):
        _mp(bad)
    treated_only = mpdta[mpdta["first_treat"] > 0]
    with pytest.raises(KosDataError, match="no never-treated units"):
        _mp(treated_only)
    assert len(_mp(treated_only, control_group="not_yet_treated").table)  # works with not-yet-treated
    with pytest.raises(KosParameterError, match="est_method='ols'"):
        _mp(mpdta, est_method="ols")
    with pytest.raises(KosParameterError, match="anticipation=-1"):
        _mp(mpdta, anticipation=-1)
    with pytest.raises(KosDataError, match="outcome_col='sales' is not a column"):
        att_gt(mpdta, outcome_col="sales", unit_col="countyreal", time_col="year", group_col="first_treat")
    with pytest.raises(KosParameterError, match="balance_e=2"):
        _mp(mpdta).aggregate("group", balance_e=2)


def test_balanced_event_study_keeps_only_groups_seen_long_enough(mpdta):
    dyn = _mp(mpdta).aggregate("dynamic", balance_e=1)
    # only cohorts 2004 and 2006 are observed 1 period after adoption; event times up to 1
    assert dyn.table["event_time"].max() == 1
    e0 = _mp(mpdta).table
    e0 = e0[(e0["event_time"] == 0) & e0["group"].isin([2004, 2006])]
    sizes = mpdta.groupby("first_treat")["countyreal"].nunique()
    w = sizes[e0["group"]].to_numpy() / sizes[e0["group"]].sum()
    assert dyn.table.set_index("event_time").loc[0, "estimate"] == pytest.approx(float(e0["estimate"] @ w))


# ----------------------------------------------------------------------------- planted truth


@pytest.fixture(scope="module")
def rollout(rollout_sim):
    panel = store_week_panel(rollout_sim.dataset())
    res = att_gt(panel, outcome_col="sales", unit_col="store_id", time_col="week", group_col="group", n_boot=999, seed=7)
    return panel, res


def test_store_week_panel_is_balanced_and_drops_the_late_opening_store(rollout, rollout_sim):
    panel, _ = rollout
    truth = rollout_sim.truth["programme"]
    dropped = {d["store_id"] for d in panel.attrs["dropped_stores"]}
    assert dropped == set(truth["late_opening_stores"])
    assert panel.groupby("store_id").size().nunique() == 1
    assert panel["week"].max() == truth["weeks"]
    cohorts = panel.groupby("store_id")["group"].first()
    for g, stores in truth["cohorts"].items():
        assert set(cohorts[cohorts == int(g)].index) == set(stores)
    orders = rollout_sim.tables["orders"]
    assert panel["sales"].sum() == pytest.approx(orders.loc[~orders["store_id"].isin(dropped), "amount"].sum())


def test_overall_att_recovers_the_planted_programme_effect(rollout, rollout_sim):
    _, res = rollout
    o = res.aggregate("simple").overall.iloc[0]
    truth = rollout_sim.truth["programme"]["att_overall"]
    assert o["conf_low"] <= truth <= o["conf_high"]


def test_every_event_time_att_lies_within_its_interval(rollout, rollout_sim):
    """Event-time ATTs recover the planted ramp.

    With 97 event times we test the simultaneous statement: the uniform (sup-t) 95 % band from the
    multiplier bootstrap must cover the planted effect at every event time. Counting misses of the
    pointwise intervals against a Binomial(97, 0.05) tolerance would be wrong here: all event-time
    estimates share the same base periods and comparison stores, so their errors move together
    (in this replicate they sit about one standard error above the truth) and misses cluster.
    """
    _, res = rollout
    dyn = res.aggregate("dynamic").table
    dyn = dyn[dyn["event_time"] >= 0]
    truth = dyn["event_time"].astype(str).map(rollout_sim.truth["programme"]["att_by_event_week"])
    assert truth.notna().all() and len(dyn) == len(rollout_sim.truth["programme"]["att_by_event_week"])
    assert ((truth >= dyn["band_low"]) & (truth <= dyn["band_high"])).all()
    z = (dyn["estimate"] - truth) / dyn["std_error"]
    assert abs(z.mean()) < 2.0


# ----------------------------------------------------------------------------- figures in Chinese


def test_did_figures_label_estimates_intervals_and_event_time_in_chinese(mpdta):
    d = pd.DataFrame({"y": [10, 12, 20, 22, 5, 7, 8, 10], "treated": [1, 1, 1, 1, 0, 0, 0, 0],
                      "post": [0, 0, 1, 1, 0, 0, 1, 1]})
    two = did_2x2(d, outcome_col="y", treated_col="treated", post_col="post")
    zh = assert_labels_in_chinese(lambda lang: two.plot(lang=lang))
    assert zh["xlabel"] == ["双重差分估计值（95% 置信区间）"]
    r = _mp(mpdta, n_boot=99, seed=3)
    assert_labels_in_chinese(lambda lang: r.plot(lang=lang), keep=["ATT"])
    dyn = r.aggregate("dynamic")
    zh = assert_labels_in_chinese(lambda lang: dyn.plot(lang=lang), keep=["lemp"])
    assert zh["xlabel"] == ["项目开始后的周数（事件时间）"] and zh["ylabel"] == ["效应：lemp"]
    assert zh["legend"] == ["95% 一致置信带", "逐点 95% 置信区间"]
    for kind in ("group", "calendar", "simple"):
        agg = r.aggregate(kind)
        assert_labels_in_chinese(lambda lang: agg.plot(lang=lang), keep=["lemp"])
    assert_refuses_unknown_lang(two.plot, r.plot, dyn.plot)
