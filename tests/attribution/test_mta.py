"""Markov and Shapley attribution: hand-worked answers, exactness, planted-chain recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosresearch.attribution import build_journeys, compare_attribution, markov_attribution, shapley_attribution
from kosresearch.attribution import mta
from kosresearch.attribution._paths import parse_paths
from kosresearch.errors import KosDataError, KosParameterError
from tests.attribution._figures import assert_labels_in_chinese, assert_refuses_unknown_lang

HAND = pd.DataFrame({"path": ["a", "b", "a > b", "a"], "conversions": [2, 1, 1, 0], "nulls": [0, 0, 0, 1],
                     "value": [300.0, 100.0, 200.0, 0.0]})


def test_markov_removal_effects_match_the_hand_derivation():
    """start->a 4/5, start->b 1/5; a->conv 1/2, a->b 1/4, a->null 1/4; b->conv 1.

    P(conv) = 0.8 (0.5 + 0.25) + 0.2 = 0.8; without a: 0.2 (RE 0.75); without b: 0.4 (RE 0.5);
    4 conversions split 0.75 : 0.5.
    """
    m = markov_attribution(HAND, value_col="value")
    t = m.table.set_index("channel")
    assert m.conversion_probability == pytest.approx(0.8)
    assert t["removal_effect"].to_dict() == pytest.approx({"a": 0.75, "b": 0.5})
    assert t["conversions"].to_dict() == pytest.approx({"a": 2.4, "b": 1.6})
    assert t["value"].to_dict() == pytest.approx({"a": 360.0, "b": 240.0})


def test_higher_order_chains_on_this_example_give_the_same_answer():
    # every path here is at most two touches, so order 2 distinguishes only "b after a" from "b first",
    # and both still convert with certainty: same removal effects
    for order in (2, 3, 4):
        t = markov_attribution(HAND, order=order).table.set_index("channel")
        assert t["removal_effect"].to_dict() == pytest.approx({"a": 0.75, "b": 0.5})


def test_second_order_chain_differs_from_first_order_when_history_matters():
    # after "a > b" the customer always converts, after "b > b" never: only a 2nd-order chain sees it
    j = pd.DataFrame({"path": ["a > b", "b > b", "b"], "conversions": [10, 0, 5], "nulls": [0, 10, 5]})
    re1 = markov_attribution(j, order=1).table.set_index("channel")["removal_effect"]
    re2 = markov_attribution(j, order=2).table.set_index("channel")["removal_effect"]
    assert re2["a"] > re1["a"]


def test_sparse_and_dense_solvers_and_the_shared_chain_algebra_agree(journey_sim, monkeypatch):
    t = journey_sim.tables
    j = build_journeys(t["touchpoints"], t["orders"])
    pt = parse_paths(j, path_col="path", conversions_col="conversions", nulls_col="nulls", value_col=None, sep=">")
    p1, re1 = mta._order1_dense(pt, pt.conversions, pt.nulls)  # kosresearch._markov
    p2, re2 = mta._MarkovGraph(pt, 1).solve(pt.conversions, pt.nulls)  # dense numpy
    monkeypatch.setattr(mta, "_DENSE_MAX_STATES", 0)
    p3, re3 = mta._MarkovGraph(pt, 1).solve(pt.conversions, pt.nulls)  # sparse LU
    assert p1 == pytest.approx(p2, abs=1e-12) and p1 == pytest.approx(p3, abs=1e-12)
    np.testing.assert_allclose(re1, re2, atol=1e-12)
    np.testing.assert_allclose(re1, re3, atol=1e-12)
    sparse3 = markov_attribution(j, order=3).table  # threshold 0: sparse LU
    monkeypatch.setattr(mta, "_DENSE_MAX_STATES", 10_000)
    dense3 = markov_attribution(j, order=3).table
    np.testing.assert_allclose(sparse3["removal_effect"], dense3["removal_effect"], atol=1e-12)
    assert sparse3["conversions"].sum() == pytest.approx(j["conversions"].sum())


def test_markov_removal_effects_recover_the_planted_chain_within_bootstrap_intervals(journey_sim):
    """Exact removal effects of the planted chain lie in the 95 % bootstrap intervals.

    With 8 channels and 95 % intervals about 0.4 misses are expected; we allow at most 2
    (P(more than 2 misses) ≈ 0.6 % if the intervals are right) and require every channel within
    3.5 bootstrap standard errors.
    """
    t = journey_sim.tables
    j = build_journeys(t["touchpoints"], t["orders"], lookback_days=30)
    m = markov_attribution(j, n_boot=200, seed=1).table
    truth = m["channel"].map(journey_sim.truth["journeys"]["removal_effects"])
    outside = (truth < m["conf_low"]) | (truth > m["conf_high"])
    assert outside.sum() <= 2
    assert (np.abs(m["removal_effect"] - truth) < 3.5 * m["std_error"]).all()
    assert m["conversions_low"].le(m["conversions"]).all() and m["conversions_high"].ge(m["conversions"]).all()


def test_shapley_values_match_the_hand_derivation():
    """Rates: {a} 2/3, {b} 1, {a,b} 1; v(S) = sum of rates of subsets.

    phi_a = (2/3 + 5/3) / 2 = 7/6, phi_b = (1 + 2) / 2 = 3/2; conversions 4 in proportion.
    """
    s = shapley_attribution(HAND).table.set_index("channel")
    assert s["shapley_value"].to_dict() == pytest.approx({"a": 7 / 6, "b": 3 / 2})
    assert s["conversions"].to_dict() == pytest.approx({"a": 4 * 7 / 16, "b": 4 * 9 / 16})


def test_shapley_is_exact_against_brute_force_permutations():
    from itertools import permutations

    rng = np.random.default_rng(0)
    chans = list("abcde")
    paths = [">".join(rng.choice(chans, size=rng.integers(1, 4))) for _ in range(40)]
    j = pd.DataFrame({"path": paths, "conversions": rng.integers(0, 5, 40), "nulls": rng.integers(0, 5, 40)})
    pt = parse_paths(j, path_col="path", conversions_col="conversions", nulls_col="nulls", value_col=None, sep=">")
    rate, _ = mta._coalition_rates(pt, pt.conversions, pt.nulls)
    v = mta._zeta(rate, len(pt.channels))
    n = len(pt.channels)
    phi = np.zeros(n)
    perms = list(permutations(range(n)))
    for perm in perms:
        mask = 0
        for p in perm:
            phi[p] += v[mask | (1 << p)] - v[mask]
            mask |= 1 << p
    phi /= len(perms)
    s = shapley_attribution(j).table
    np.testing.assert_allclose(s["shapley_value"], phi, rtol=1e-12)


def test_shapley_refuses_more_than_fifteen_channels():
    j = pd.DataFrame({"path": [f"c{i}" for i in range(16)], "conversions": 1, "nulls": 1})
    with pytest.raises(KosParameterError, match="16 channels"):
        shapley_attribution(j)


def test_attribution_refuses_bad_arguments():
    with pytest.raises(KosParameterError, match="order=5"):
        markov_attribution(HAND, order=5)
    with pytest.raises(KosParameterError, match="n_boot=1"):
        markov_attribution(HAND, n_boot=1)
    with pytest.raises(KosParameterError, match="conf_level=95"):
        markov_attribution(HAND, conf_level=95)
    with pytest.raises(KosDataError, match="sums to 0"):
        markov_attribution(HAND.assign(conversions=0, nulls=1))
    with pytest.raises(KosDataError, match="nulls_col='missing' is not a column of journeys"):
        markov_attribution(HAND, nulls_col="missing")


def test_comparison_puts_every_method_side_by_side_with_intervals():
    c = compare_attribution(HAND, n_boot=50, seed=2)
    assert set(c.table["method"]) == {"first_touch", "last_touch", "linear", "time_decay", "position_based", "markov", "shapley"}
    for _, sub in c.table.groupby("method"):
        assert sub["conversions"].sum() == pytest.approx(4.0)
    assert (c.table["conf_low"] <= c.table["conf_high"]).all()
    assert c.wide().shape == (2, 7)
    ax = c.plot()
    assert ax.get_title().startswith("Attribution by method")


def test_comparison_legend_covers_no_bar():
    # every bar equally tall, up to the top of the axes: no room for a legend inside them
    channels = ["wechat_private", "xiaohongshu", "store_visit", "paid_ad", "douyin", "live_stream"]
    j = pd.DataFrame({"path": channels, "conversions": 50, "nulls": 50})
    ax = compare_attribution(j, n_boot=20, seed=1).plot(lang="zh")
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    bars = [p.get_window_extent() for p in ax.patches]
    assert len(bars) == 7 * len(channels)
    assert not [b for b in bars if b.height > 0 and legend.overlaps(b)]


def test_million_journeys_collapse_to_unique_paths():
    rng = np.random.default_rng(3)
    paths = np.array(["a", "a>b", "b>c", "c", "a>c>b"])
    idx = rng.integers(0, 5, 20_000)
    j = pd.DataFrame({"path": paths[idx], "conversions": rng.integers(0, 2, 20_000)})
    j["nulls"] = 1 - j["conversions"]
    agg = j.groupby("path", as_index=False)[["conversions", "nulls"]].sum()
    a = markov_attribution(j).table
    b = markov_attribution(agg).table
    np.testing.assert_allclose(a["removal_effect"], b["removal_effect"], rtol=1e-12)


def test_attribution_figures_label_axes_titles_and_methods_in_chinese():
    m = markov_attribution(HAND, n_boot=20, order=2)
    zh = assert_labels_in_chinese(lambda lang: m.plot(lang=lang))
    assert zh["title"] == ["马尔可夫去除效应（2 阶）"] and zh["xlabel"] == ["去除效应"]
    s = shapley_attribution(HAND)
    assert_labels_in_chinese(lambda lang: s.plot(lang=lang), keep=["Shapley"])
    c = compare_attribution(HAND, n_boot=20, seed=2)
    zh = assert_labels_in_chinese(lambda lang: c.plot(lang=lang), keep=["shapley"])
    assert zh["legend"] == ["首次触点", "末次触点", "线性", "时间衰减", "位置加权", "马尔可夫", "Shapley 值"]
    assert zh["title"] == ["各方法的归因结果（95% 自助法区间）"]
    assert_refuses_unknown_lang(m.plot, s.plot, c.plot)
