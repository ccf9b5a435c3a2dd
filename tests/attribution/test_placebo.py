"""Refutation checks and the programme-effect summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosresearch.attribution import att_gt, pretrend_test, programme_effect, refute_att_gt
from kosresearch.errors import KosParameterError
from tests.attribution._figures import assert_labels_in_chinese, assert_refuses_unknown_lang


def _panel(effect: float, *, trend_gap: float = 0.0, seed: int = 0, n: int = 90, T: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 15, 20], size=n, p=[0.4, 0.3, 0.3])
    unit = np.repeat(np.arange(n), T)
    t = np.tile(np.arange(1, T + 1), n)
    gu = g[unit]
    y = rng.normal(0, 1, n)[unit] + 0.1 * t + rng.normal(0, 1, n * T)
    y = y + effect * ((gu > 0) & (t >= gu)) + trend_gap * (gu > 0) * t
    return pd.DataFrame({"store_id": unit, "week": t, "group": gu, "sales": y})


def test_refutation_passes_a_clean_design_and_ranks_the_real_effect_first():
    d = _panel(3.0)
    r = refute_att_gt(d, outcome_col="sales", unit_col="store_id", time_col="week", group_col="group", n_permutations=99)
    t = r.table.set_index("check")
    assert not r.any_concern
    assert t.loc["in_space_placebo", "p_value"] == pytest.approx(0.01)
    assert r.placebo_distribution.size == 99
    assert {"pre_trend", "pre_period_guard"} <= set(t.index)
    assert sum(c.startswith("in_time_placebo@") for c in t.index) == 3


def test_refutation_flags_diverging_pre_trends_and_a_short_pre_period():
    d = _panel(0.0, trend_gap=0.3, seed=1)
    r = refute_att_gt(d, outcome_col="sales", unit_col="store_id", time_col="week", group_col="group",
                      n_permutations=0, min_pre_periods=16)
    t = r.table.set_index("check")
    assert bool(t.loc["pre_trend", "concern"])
    assert any(bool(t.loc[c, "concern"]) for c in t.index if c.startswith("in_time_placebo@"))
    assert bool(t.loc["pre_period_guard", "concern"])  # cohort 15 has 14 pre-periods


def test_binned_pretrend_test_works_when_the_full_pretest_is_singular():
    d = _panel(0.0, seed=2, n=12, T=30)  # 12 units, dozens of pre-period cells: singular
    res = att_gt(d, outcome_col="sales", unit_col="store_id", time_col="week", group_col="group")
    assert np.isnan(res.pretest_p_value)
    out = pretrend_test(res, bins=3)
    assert out["df"] == 3 and 0 <= out["p_value"] <= 1
    with pytest.raises(KosParameterError, match="bins=0"):
        pretrend_test(res, bins=0)


def test_programme_effect_reports_the_headline_with_checks():
    pe = programme_effect(_panel(3.0, seed=3), n_boot=199, n_permutations=49)
    row = pe.table.iloc[0]
    assert row["term"] == "att_per_unit_period" and row["conf_low"] <= 3.0 <= row["conf_high"]
    assert pe.refutation is not None and "band_low" in pe.dynamic.table
    assert "¥" in pe.report(lang="en") and "门店" in pe.report(lang="zh")
    ax = pe.plot()
    assert ax.get_xlabel().startswith("weeks since")


def test_programme_and_placebo_figures_are_labelled_in_chinese():
    pe = programme_effect(_panel(3.0, seed=3), n_boot=49, n_permutations=19)
    zh = assert_labels_in_chinese(lambda lang: pe.plot(lang=lang))
    assert zh["title"] == [f"各事件时间的项目效应；总体效应 {pe.estimate:,.0f}（每单位每期）"]
    assert zh["ylabel"] == ["效应：销售额 (元)"]
    zh = assert_labels_in_chinese(lambda lang: pe.refutation.plot(lang=lang), keep=["ATT"])
    assert zh["legend"] == ["安慰剂分配", "真实分配"]
    assert_refuses_unknown_lang(pe.plot, pe.refutation.plot)
