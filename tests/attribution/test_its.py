"""Structural time-series counterfactuals on a series with a known level shift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosresearch.attribution import causal_impact, intervention_effect, its
from kosresearch.errors import KosDataError, KosParameterError
from tests.attribution._figures import assert_labels_in_chinese, assert_refuses_unknown_lang


@pytest.fixture(scope="module")
def shifted() -> pd.DataFrame:
    """120 weeks; y follows a control series plus noise and jumps by +10 from week 80."""
    rng = np.random.default_rng(1)
    n = 120
    x = 50 + np.cumsum(rng.normal(0, 1, n))
    y = 100 + 0.8 * (x - 50) + rng.normal(0, 1, n)
    y[80:] += 10
    return pd.DataFrame({"week": pd.date_range("2024-01-01", periods=n, freq="W-MON"), "y": y, "x": x})


@pytest.fixture(scope="module")
def impact(shifted):
    return causal_impact(shifted, y_col="y", time_col="week", intervention_start=shifted["week"][80], control_cols=["x"],
                         n_sims=500)


def test_causal_impact_recovers_a_known_level_shift(impact):
    s = impact.summary()
    avg = s.loc["average"]
    assert avg["effect_low"] <= 10 <= avg["effect_high"]
    assert avg["effect"] == pytest.approx(10, abs=1.0)
    assert s.loc["cumulative", "effect"] == pytest.approx(40 * avg["effect"], rel=1e-3)
    assert avg["relative_low"] < avg["relative_effect"] < avg["relative_high"]
    assert impact.p_value < 0.01
    assert list(s.columns) == ["actual", "predicted", "pred_low", "pred_high", "effect", "effect_low", "effect_high",
                               "relative_effect", "relative_low", "relative_high"]


def test_causal_impact_reports_a_quiet_in_time_placebo_and_a_long_pre_period(impact):
    assert impact.placebo["effect_low"] <= 0 <= impact.placebo["effect_high"]
    assert not impact.short_pre_period
    post = impact.table[impact.table["period"] == "post"]
    assert post["cum_effect"].iloc[-1] == pytest.approx(impact.summary().loc["cumulative", "effect"], rel=1e-3)
    assert "statistically significant" in impact.report(lang="en")
    assert "显著" in impact.report(lang="zh")


def test_causal_impact_finds_nothing_without_a_shift(shifted):
    flat = shifted.assign(y=shifted["y"] - 10 * (np.arange(len(shifted)) >= 80))
    r = causal_impact(flat, y_col="y", time_col="week", intervention_start=shifted["week"][80], control_cols=["x"], n_sims=300)
    a = r.summary().loc["average"]
    assert a["effect_low"] <= 0 <= a["effect_high"]


def test_causal_impact_widens_the_interval_for_an_uncertain_coefficient_on_a_drifting_control(monkeypatch):
    """40 pre-periods, 60 post-periods, a control drifting by +0.5 a period: the coefficient's error grows with the drift."""
    rng = np.random.default_rng(2)
    n = 100
    x = 50 + np.cumsum(rng.normal(0.5, 1, n))
    y = 10 + 0.8 * x + np.cumsum(rng.normal(0, 0.3, n)) + rng.normal(0, 1, n)
    data = pd.DataFrame({"t": np.arange(n), "y": y, "x": x})

    def width() -> float:
        a = causal_impact(data, y_col="y", time_col="t", intervention_start=40, control_cols=["x"], n_sims=300,
                          seed=3).summary(digits=12).loc["average"]
        return float(a["effect_high"] - a["effect_low"])

    propagated = width()
    assert width() == propagated  # same seed, same parameter draws and paths
    monkeypatch.setattr(its, "_PARAM_DRAWS", 0)  # paths from the MLE alone
    assert propagated > 2 * width()


def test_intervention_effect_estimates_the_level_shift_with_an_interval(shifted):
    r = intervention_effect(shifted, y_col="y", time_col="week", intervention_start=shifted["week"][80], control_cols=["x"])
    row = r.table.set_index("term").loc["intervention"]
    assert row["conf_low"] <= 10 <= row["conf_high"]
    assert r.table.set_index("term").loc["x", "estimate"] == pytest.approx(0.8, abs=0.1)
    logged = intervention_effect(shifted, y_col="y", time_col="week", intervention_start=shifted["week"][80],
                                 control_cols=["x"], log=True)
    assert logged.effect == pytest.approx(np.log(110 / 100), abs=0.03)


def test_counterfactual_functions_refuse_bad_input(shifted):
    with pytest.raises(KosDataError, match="intervention_start=.* is outside the series"):
        causal_impact(shifted, y_col="y", time_col="week", intervention_start=pd.Timestamp("2030-01-01"))
    with pytest.raises(KosDataError, match="y_col='sales' is not a column"):
        intervention_effect(shifted, y_col="sales", time_col="week", intervention_start=shifted["week"][80])
    with pytest.raises(KosParameterError, match="seasonal_period=1"):
        intervention_effect(shifted, y_col="y", time_col="week", intervention_start=shifted["week"][80], seasonal_period=1)
    with pytest.raises(KosDataError, match="log=True needs y_col='y' > 0"):
        intervention_effect(shifted.assign(y=-1.0), y_col="y", time_col="week", intervention_start=shifted["week"][80], log=True)
    with pytest.raises(KosDataError, match="repeats values"):
        causal_impact(pd.concat([shifted, shifted.iloc[:1]]), y_col="y", time_col="week", intervention_start=shifted["week"][80])


def test_counterfactual_figures_are_labelled_in_chinese(impact, shifted):
    zh = assert_labels_in_chinese(lambda lang: impact.plot(lang=lang))
    assert zh["title"] == ["实际与反事实"] and zh["legend"] == ["反事实 95% 区间", "反事实", "实际"]
    zh = assert_labels_in_chinese(lambda lang: impact.plot_cumulative(lang=lang))
    assert zh["title"] == ["累计效应"]
    r = intervention_effect(shifted, y_col="y", time_col="week", intervention_start=shifted["week"][80], control_cols=["x"])
    zh = assert_labels_in_chinese(lambda lang: r.plot(lang=lang))
    assert zh["title"][0].startswith("水平变化") and "95% 置信区间" in zh["title"][0]
    assert_refuses_unknown_lang(impact.plot, impact.plot_cumulative, r.plot)


def test_report_calls_an_effect_significant_only_when_its_interval_excludes_zero(impact):
    import dataclasses

    s = impact.summary()
    assert s.loc["cumulative", "effect_low"] > 0 and "excludes zero" in impact.report(lang="en")
    # a small one-sided tail probability with an interval that includes zero is not called significant
    wide = s.copy()
    wide.loc["cumulative", "effect_low"] = -1.0
    r = dataclasses.replace(impact, p_value=0.03, _summary=wide)
    assert "cannot be ruled out" in r.report(lang="en") and "significant" not in r.report(lang="en")
    assert "包含零" in r.report(lang="zh") and "显著" not in r.report(lang="zh")
    assert "finds no spurious effect" in impact.report(lang="en")


def test_report_warns_when_the_in_time_placebo_finds_an_effect(impact):
    import dataclasses

    failing = dataclasses.replace(impact, placebo={**impact.placebo, "effect_low": 1.0, "effect_high": 5.0,
                                                   "p_value": 0.004})
    assert "does not describe the pre-period well" in failing.report(lang="en")
    assert "需谨慎" in failing.report(lang="zh")


def test_conclusion_carries_the_counterfactual_placebo_warning(impact):
    import dataclasses
    from types import SimpleNamespace

    from kosresearch.attribution.notebook import attribution_conclusion

    effect = SimpleNamespace(table=pd.DataFrame({"estimate": [1200.0], "conf_low": [800.0], "conf_high": [1600.0]}),
                             conf_level=0.95, refutation=SimpleNamespace(any_concern=False))
    markov = SimpleNamespace(table=pd.DataFrame({"channel": ["kos_chat", "ads"], "removal_effect": [0.4, 0.2]}))
    credit = SimpleNamespace(coverage=pd.DataFrame({"rule": ["promo_code", "none"], "sales_share": [0.7, 0.3]}))
    yoy = SimpleNamespace(table=pd.DataFrame({"label": ["cny 2024", "cny 2025"]}), relative_change=0.05)
    failing = dataclasses.replace(impact, placebo={**impact.placebo, "effect_low": 1.0, "effect_high": 5.0})
    for result, warned in ((impact, False), (failing, True)):
        en = attribution_conclusion(credit, markov, effect, result, yoy, region="east", lang="en")
        zh = attribution_conclusion(credit, markov, effect, result, yoy, region="east", lang="zh")
        assert ("in-time placebo also finds an effect" in en) is warned
        assert ("时间安慰剂检验在干预前也发现了效应" in zh) is warned
        assert "¥1,200" in en and "30%" in en
