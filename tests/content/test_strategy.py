"""Strategy-change verification: stacked difference-in-differences of post rates."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from kosresearch.content import strategy_change_effect
from kosresearch.errors import KosDataError, KosParameterError


def _exact_posts():
    """Posts whose counts equal their expected values, so Poisson PML recovers the ratios exactly.

    Everyone's rate is ×1.2 from 2024-03-01 (a calendar shift); changers k1, k2 change on that day
    and get ×1.5 on top. Impressions 1000, base rate 0.05 (50 interactions), topic "tips" doubles it.
    """
    rows = []
    change = pd.Timestamp("2024-03-01 10:00")
    for k in ("k1", "k2", "k3", "k4", "k5"):
        for day in range(-60, 60, 3):
            t = change + pd.Timedelta(days=day, hours=2)
            topic = "tips" if (day // 3) % 2 else "promo"
            mu = 50.0 * (2.0 if topic == "tips" else 1.0) * (1.2 if t >= change else 1.0)
            if k in ("k1", "k2") and t >= change:
                mu *= 1.5
            rows.append({"content_id": f"{k}{day}", "kos_id": k, "posted_at": t, "impressions": 1000,
                         "likes": int(round(mu)), "comments": 0, "saves": 0, "shares": 0, "leads": 5,
                         "topic": topic})
    content = pd.DataFrame(rows)
    changes = pd.DataFrame({"change_id": ["z1", "z2"], "kos_id": ["k1", "k2"], "effective_at": [change, change],
                            "description": ["more how-to videos"] * 2})
    return content, changes


def test_exact_counts_give_exactly_the_planted_ratio_and_a_flat_placebo():
    content, changes = _exact_posts()
    before = (content.copy(), changes.copy())
    r = strategy_change_effect(content, changes)
    pd.testing.assert_frame_equal(content, before[0])
    pd.testing.assert_frame_equal(changes, before[1])
    t = r.table.set_index("term")
    assert t.loc["strategy_change", "estimate"] == pytest.approx(1.5, rel=1e-9)
    assert t.loc["pre_trend_placebo", "estimate"] == pytest.approx(1.0, abs=1e-9)
    assert t.loc["strategy_change", "n_changes"] == 2 and t.loc["strategy_change", "n_control_kos"] == 3
    es = r.event_study.set_index("rel_week")["estimate"]
    assert es.loc[-1] == 1.0
    np.testing.assert_allclose(es.loc[[0, 1, 2, 3]], 1.5, rtol=1e-8)
    np.testing.assert_allclose(es.loc[[-4, -3, -2]], 1.0, atol=1e-8)
    assert r.adjusted_for == ("topic",)
    leads = strategy_change_effect(content, changes, outcome="lead_rate").table
    assert leads.loc[0, "estimate"] == pytest.approx(1.0, abs=1e-9)


@pytest.fixture(scope="module")
def sample_effect(sample):
    return strategy_change_effect(sample.table("content"), sample.table("strategy_changes"))


def test_planted_strategy_effect_is_recovered_with_a_clean_pre_trend(sample_effect, truth):
    t = sample_effect.table.set_index("term")
    planted = truth["strategy_change"]["rate_ratio"]
    assert t.loc["strategy_change", "conf_low"] < planted < t.loc["strategy_change", "conf_high"]
    assert t.loc["strategy_change", "p_value"] < 0.01
    assert t.loc["pre_trend_placebo", "conf_low"] < 1.0 < t.loc["pre_trend_placebo", "conf_high"]
    assert t.loc["strategy_change", "n_changes"] >= 30


def test_leads_are_untouched_by_strategy_changes_a_negative_control(sample):
    # the simulator multiplies only the interaction rate after a change
    t = strategy_change_effect(sample.table("content"), sample.table("strategy_changes"), outcome="lead_rate").table
    effect = t.set_index("term").loc["strategy_change"]
    assert effect["conf_low"] < 1.0 < effect["conf_high"]


def test_strategy_sentences_and_event_study_plot(sample_effect):
    import matplotlib.pyplot as plt

    en = sample_effect.interpret(lang="en")
    assert en[0].startswith("In the 28 days after a strategy change, the interaction rate of the ")
    assert "no divergence before the change" in en[1]
    assert sample_effect.interpret(lang="zh")[0].startswith("策略调整后 28 天内")
    fig, ax = plt.subplots()
    assert sample_effect.plot(ax=ax) is ax
    plt.close(fig)
    assert list(sample_effect.event_study["rel_week"]) == list(range(-4, 4))


def test_strategy_errors_name_the_problem():
    content, changes = _exact_posts()
    with pytest.raises(KosParameterError, match=r"outcome='sales' is not allowed"):
        strategy_change_effect(content, changes, outcome="sales")
    with pytest.raises(KosDataError, match=r"kos_id='kos_id' is not a column of strategy_changes"):
        strategy_change_effect(content, changes.drop(columns="kos_id"))
    with pytest.raises(KosDataError, match=r"no change with an advisor"):
        strategy_change_effect(content, changes.assign(kos_id=None))
    everyone = pd.DataFrame({"kos_id": ["k1", "k2", "k3", "k4", "k5"],
                             "effective_at": [pd.Timestamp("2024-03-01")] * 5})
    with pytest.raises(KosDataError, match=r"there is no comparison group"):
        strategy_change_effect(content, everyone)
    with pytest.raises(KosParameterError, match=r"window_days=0 must be a number greater than 0"):
        strategy_change_effect(content, changes, window_days=0)


def test_one_step_cluster_jackknife_matches_refitting_without_each_cluster():
    from kosresearch.content.strategy import _poisson_fe

    rng = np.random.default_rng(3)
    n, G = 1500, 40
    cl = rng.integers(0, G, n)
    unit = cl * 2 + rng.integers(0, 2, n)  # units nested in clusters, as (stack, advisor) in advisors
    X = np.column_stack([rng.random(n) < 0.5, rng.normal(size=n)]).astype(float)
    logE = np.log(rng.integers(50, 500, n).astype(float))
    mu = np.exp(logE - 3 + 0.4 * X[:, 0] + 0.2 * X[:, 1] + rng.normal(0, 0.3, G)[cl])
    y = rng.poisson(rng.gamma(1 / 0.6, 0.6 * mu)).astype(float)
    w = 1 / (1 + 0.6 * np.exp(logE - 3))
    fit = _poisson_fe(y, logE, X, ["a", "b"], unit, cl, weights=w, keep_first=1, vcov="cv3")
    refits = np.array([
        _poisson_fe(y[cl != g], logE[cl != g], X[cl != g], ["a", "b"], unit[cl != g], cl[cl != g], weights=w[cl != g],
                    keep_first=1).params
        for g in range(G)
    ])
    D = refits - refits.mean(axis=0)
    exact = (G - 1) / G * D.T @ D
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), np.sqrt(np.diag(exact)), rtol=0.02)
