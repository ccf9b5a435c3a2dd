"""Report helpers of the tier notebook: bilingual tables and figures, headlines, digest and conclusion."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import kosresearch as kr
from kosresearch.errors import KosParameterError
from kosresearch.report.headlines import Headline
from kosresearch.tiers import report as tr
from tests.tiers.helpers import simulate_chain
from tests.tiers.test_transitions import P_A, TIERS


@pytest.fixture(scope="module")
def results(sample_dataset, sample_features, sample_tiers, sample_scores):
    east = sample_tiers.table["region"] == "east"
    tm = kr.transition_matrix(sample_tiers.table[east], id_col="customer_id", period_col="period", state_col="tier")
    served = kr.compare_transitions(kr.transition_matrix(sample_tiers.table[east], id_col="customer_id",
                                                         period_col="period", state_col="tier", by="kos_served"))
    promo = kr.promotion_effect(sample_features, sample_dataset.table("tier_events"))
    stars = kr.rising_stars(sample_scores, sample_tiers, top=5)
    effort = kr.effort_allocation(sample_dataset, sample_tiers)
    return {"tiers": sample_tiers, "tm": tm, "absorption": tm.absorption(n_draws=200), "served": served,
            "promotion": promo, "stars": stars, "effort": effort}


def test_complete_periods_drops_the_partial_last_month(sample_features):
    full = tr.complete_periods(sample_features)
    assert "2025-12" in set(sample_features["period"]) and "2025-12" not in set(full["period"])
    assert full["period_complete"].all()


def test_show_translates_tiers_values_and_headers():
    d = pd.DataFrame({"tier": ["core", "mass"], "component": ["spend", "engagement"], "share": [0.25, 0.75],
                      "reasons": ["engagement +0.10", "just below the next tier's cutoff"]})
    zh = tr.show(d, "zh").to_html()
    assert "核心价值层" in zh and "互动 +0.10" in zh and "紧贴上一层级门槛" in zh and "占比" in zh
    en = tr.show(d, "en").to_html()
    assert "core value" in en and "engagement" in en
    with pytest.raises(KosParameterError, match="lang='fr'"):
        tr.show(d, "fr")


def test_translate_puts_tier_figures_into_chinese_and_leaves_english_alone():
    res = kr.transition_matrix(simulate_chain(P_A, TIERS, n_ids=100, n_periods=4, seed=1), id_col="id",
                               period_col="t", state_col="s")
    ax = tr.translate(res.plot(), "zh")
    assert ax.get_title().startswith("层级迁移概率")
    assert [x.get_text() for x in ax.get_xticklabels()] == ["核心价值层", "潜力增长层", "大众互动层", "已流失"]
    assert ax.get_xlabel() == "迁入层级"
    ax2 = tr.translate(res.plot(), "en")
    assert ax2.get_title().startswith("transition probabilities")
    plt.close("all")


def test_promotion_table_keeps_one_naive_row_and_labels_each_placebo(sample_features, sample_dataset, results):
    match = kr.promotion_effect(sample_features, sample_dataset.table("tier_events"), method="matching")
    t = tr.promotion_table(results["promotion"], match)
    assert list(t["term"]) == ["naive", "ipw", "placebo (ipw)", "matching", "placebo (matching)"]


def test_headlines_are_valid_and_carry_the_results(results):
    hs = tr.tier_headlines(results["tiers"], results["tm"], results["absorption"], results["promotion"],
                           results["effort"], lang="en")
    assert all(isinstance(h, Headline) for h in hs)
    names = {h.name: h for h in hs}
    assert set(names) == {"core_share", "core_retention", "periods_to_churn_core", "promotion_effect",
                          "kos_even_effort"}
    p = results["promotion"].table.set_index("term").loc["ipw"]
    assert names["promotion_effect"].estimate == pytest.approx(p["estimate"])
    assert names["core_retention"].conf_low < names["core_retention"].estimate < names["core_retention"].conf_high


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_conclusion_quotes_the_numbers_of_the_results(results, lang):
    text = tr.tier_narrative(results["tiers"], results["tm"], results["absorption"], results["served"],
                             results["promotion"], results["stars"], results["effort"], region="east", lang=lang)
    p = results["promotion"].table.set_index("term")
    assert f"{p.loc['ipw', 'estimate']:,.0f}" in text and f"{p.loc['naive', 'estimate']:,.0f}" in text
    assert ("华东" if lang == "zh" else "east") in text
    assert ("个月" if lang == "zh" else "months") in text
    stay = results["tm"].table.set_index(["from_state", "to_state"]).loc[("core", "core"), "probability"]
    assert f"{100 * stay:.1f}%" in text


def test_digest_prints_rounded_numbers(results):
    d = tr.tier_digest(results["tiers"], results["tm"], results["promotion"])
    assert d.splitlines()[0].startswith("periods: 2023-01..")
    assert "promotion ipw:" in d
