"""Transition matrices: counting, intervals, segments, comparison tests and recovery of the planted chain."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.tiers.transitions import (
    SegmentedTransitions,
    TransitionResult,
    compare_transitions,
    transition_matrix,
)
from tests.tiers.helpers import simulate_chain

TIERS = ["core", "potential", "mass", "churned"]
P_A = np.array([[0.86, 0.10, 0.02, 0.02], [0.07, 0.80, 0.10, 0.03], [0.01, 0.05, 0.89, 0.05], [0, 0, 0, 1.0]])
P_B = np.array([[0.80, 0.14, 0.04, 0.02], [0.10, 0.74, 0.12, 0.04], [0.01, 0.05, 0.89, 0.05], [0, 0, 0, 1.0]])


def _tm(d, **kw):
    return transition_matrix(d, id_col="id", period_col="t", state_col="s", **kw)


@pytest.mark.filterwarnings("ignore:no transitions out of state")
def test_counts_only_pairs_exactly_one_period_apart_and_a_gap_breaks_the_chain():
    d = pd.DataFrame({"id": ["a", "a", "a", "a", "b", "b"], "t": [1, 2, 4, 5, 1, 3],
                      "s": ["x", "y", "x", "x", "x", "y"]})
    res = _tm(d)
    # a: 1->2 x->y, (2->4 gap), 4->5 x->x; b: 1->3 is a gap
    assert res.counts.loc["x", "y"] == 1 and res.counts.loc["x", "x"] == 1
    assert res.counts.to_numpy().sum() == 2
    assert res.n_ids == 1


@pytest.mark.filterwarnings("ignore:no transitions out of state")
def test_rows_in_any_order_and_period_labels_give_the_same_counts():
    d = pd.DataFrame({"id": ["a", "b", "a", "a", "b"], "t": ["2024-03", "2024-12", "2024-01", "2024-02", "2025-01"],
                      "s": ["core", "mass", "mass", "potential", "mass"]})
    res = _tm(d)
    assert res.states == ("core", "potential", "mass", "churned")
    assert res.counts.loc["mass", "potential"] == 1
    assert res.counts.loc["potential", "core"] == 1
    assert res.counts.loc["mass", "mass"] == 1  # 2024-12 -> 2025-01 crosses the year


def test_table_has_the_tidy_columns_and_probabilities_sum_to_one():
    d = simulate_chain(P_A, TIERS, n_ids=300, n_periods=6, seed=1)
    res = _tm(d)
    assert list(res.table.columns) == ["from_state", "to_state", "count", "probability", "conf_low", "conf_high"]
    assert len(res.table) == 16
    np.testing.assert_allclose(res.probabilities.sum(axis=1), 1.0)
    t = res.table
    assert ((t["conf_low"] <= t["probability"]) & (t["probability"] <= t["conf_high"])).all()


def test_interval_is_the_dirichlet_marginal_with_zero_and_one_at_the_boundaries():
    from scipy import stats

    d = pd.DataFrame({"id": list("aabbccdd"), "t": [1, 2] * 4, "s": ["x", "x", "x", "x", "x", "y", "y", "y"]})
    res = _tm(d, conf_level=0.9)
    t = res.table.set_index(["from_state", "to_state"])
    # row x: counts (2, 1); marginal Beta(2 + 1/2, 1 + 1/2) for x->x
    lo, hi = stats.beta.ppf([0.05, 0.95], 2.5, 1.5)
    assert t.loc[("x", "x"), "conf_low"] == pytest.approx(lo)
    assert t.loc[("x", "x"), "conf_high"] == pytest.approx(hi)
    # row y: count 1 of 1 to y, 0 to x
    assert t.loc[("y", "x"), "conf_low"] == 0.0
    assert t.loc[("y", "y"), "conf_high"] == 1.0


def test_a_state_never_left_from_gets_a_nan_row_and_a_warning():
    d = pd.DataFrame({"id": ["a", "a", "b"], "t": [1, 2, 1], "s": ["x", "y", "y"]})
    with pytest.warns(UserWarning, match=r"no transitions out of state\(s\) \['y'\]"):
        res = _tm(d)
    assert res.probabilities.loc["y"].isna().all()
    assert res.table.query("from_state == 'y'")[["conf_low", "conf_high"]].isna().all().all()
    with pytest.raises(KosDataError, match=r"no transitions were observed from state\(s\) \['y'\]"):
        res.n_step(2)


def test_states_fix_the_order_and_include_unseen_states():
    d = pd.DataFrame({"id": ["a", "a"], "t": [1, 2], "s": ["b", "a"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = _tm(d, states=["c", "b", "a"])
    assert list(res.probabilities.index) == ["c", "b", "a"]
    assert res.probabilities.loc["b", "a"] == 1.0


def test_bad_input_is_refused_with_a_message_naming_the_problem():
    d = pd.DataFrame({"id": ["a", "a"], "t": [1, 2], "s": ["x", "y"]})
    with pytest.raises(KosDataError, match="state_col='tier' is not a column of data"):
        transition_matrix(d, id_col="id", period_col="t", state_col="tier")
    with pytest.raises(KosDataError, match="repeat the key"):
        _tm(pd.DataFrame({"id": ["a", "a"], "t": [1, 1], "s": ["x", "y"]}))
    with pytest.raises(KosDataError, match=r"values not in states=\['x'\]: \['y'\]"):
        _tm(d, states=["x"])
    with pytest.raises(KosDataError, match="state_col='s' has 1 missing values"):
        _tm(pd.DataFrame({"id": ["a", "a"], "t": [1, 2], "s": ["x", None]}))
    with pytest.raises(KosDataError, match="period_col='t' has the value 'soon'"):
        _tm(pd.DataFrame({"id": ["a", "a"], "t": ["2024-01", "soon"], "s": ["x", "y"]}))
    with pytest.raises(KosParameterError, match="conf_level=1.5"):
        _tm(d, conf_level=1.5)
    with pytest.raises(KosParameterError, match="states='xy' must be a list"):
        _tm(d, states="xy")


def test_method_arguments_are_checked():
    res = _tm(simulate_chain(P_A, TIERS, n_ids=200, n_periods=4, seed=2))
    with pytest.raises(KosParameterError, match="n=-1"):
        res.n_step(-1)
    with pytest.raises(KosParameterError, match="steps=0"):
        res.project({"core": 1}, 0)
    with pytest.raises(KosParameterError, match=r"initial names states \['vip'\]"):
        res.project({"vip": 1}, 2)
    with pytest.raises(KosParameterError, match=r"absorbing=\('gone',\)"):
        res.absorption(absorbing=("gone",))


def test_by_gives_one_matrix_per_segment_with_the_segment_in_the_table():
    a = simulate_chain(P_A, TIERS, n_ids=400, n_periods=5, seed=3).assign(seg="A")
    b = simulate_chain(P_B, TIERS, n_ids=400, n_periods=5, seed=4).assign(seg="B", id=lambda x: x["id"] + "b")
    res = _tm(pd.concat([a, b]), by="seg")
    assert isinstance(res, SegmentedTransitions) and res.segments == ["A", "B"]
    assert isinstance(res["A"], TransitionResult) and res["A"].label == "A"
    assert list(res.table.columns[:3]) == ["seg", "from_state", "to_state"]
    np.testing.assert_array_equal(res["A"].counts, _tm(a).counts)
    with pytest.raises(KosParameterError, match="segment 'C' is not one of"):
        res["C"]


def test_same_chain_gives_a_large_p_value_with_nine_degrees_of_freedom():
    a = _tm(simulate_chain(P_A, TIERS, n_ids=3000, n_periods=8, seed=11))
    b = _tm(simulate_chain(P_A, TIERS, n_ids=3000, n_periods=8, seed=12))
    cmp = compare_transitions(a, b)
    # three transient rows with 4 destinations each: 3 x (2-1)(4-1); the absorbing row adds none
    assert cmp.df == 9
    assert cmp.p_value > 0.05
    assert list(cmp.table["from_state"]) == [*TIERS, "(all)"]
    assert cmp.table.loc[3, "df"] == 0


def test_different_chains_give_a_small_p_value_in_both_tests():
    a = _tm(simulate_chain(P_A, TIERS, n_ids=3000, n_periods=8, seed=13))
    b = _tm(simulate_chain(P_B, TIERS, n_ids=3000, n_periods=8, seed=14))
    for test in ("lr", "pearson"):
        cmp = compare_transitions(a, b, test=test)
        assert cmp.df == 9 and cmp.p_value < 1e-6
    assert compare_transitions(a, b).difference.loc["core", "core"] == pytest.approx(
        a.probabilities.loc["core", "core"] - b.probabilities.loc["core", "core"])


def test_lr_statistic_matches_a_two_by_two_hand_computation():
    """Row x: sample a goes x->x 3, x->y 1; sample b 1 and 3. Pooled 1/2 each, expected 2 in every cell:
    G2 = 2 * (3 ln 1.5 + 1 ln 0.5) * 2 and X2 = 4 * 1/2 = 2 ... each cell (3-2)^2/2 = 1/2."""
    a = pd.DataFrame({"id": [f"a{i}" for i in range(4) for _ in range(2)], "t": [1, 2] * 4,
                      "s": ["x", "x"] * 3 + ["x", "y"]})
    b = pd.DataFrame({"id": [f"b{i}" for i in range(4) for _ in range(2)], "t": [1, 2] * 4,
                      "s": ["x", "x"] + ["x", "y"] * 3})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ra, rb = _tm(a, states=["x", "y"]), _tm(b, states=["x", "y"])
    cmp = compare_transitions(ra, rb)
    assert cmp.statistic == pytest.approx(4 * (3 * np.log(1.5) + np.log(0.5)))
    assert cmp.df == 1
    assert compare_transitions(ra, rb, test="pearson").statistic == pytest.approx(2.0)


def test_segments_are_compared_all_at_once_with_k_minus_one_times_the_df():
    parts = [simulate_chain(P_A, TIERS, n_ids=800, n_periods=6, seed=20 + k).assign(seg=f"s{k}",
             id=lambda x, k=k: x["id"] + f"-{k}") for k in range(3)]
    cmp = compare_transitions(_tm(pd.concat(parts), by="seg"))
    assert cmp.df == 18 and cmp.table["n_samples"].iloc[-1] == 3
    with pytest.raises(KosParameterError, match="without b needs"):
        compare_transitions(_tm(parts[0]))
    with pytest.raises(KosParameterError, match="test='exact' is not allowed"):
        compare_transitions(_tm(parts[0]), _tm(parts[1]), test="exact")


def test_planted_tier_matrices_fall_inside_the_intervals_estimated_from_the_latent_tiers(truth, truth_tiers):
    """Every region: all 16 planted cells inside simultaneous 95 % intervals (Bonferroni over the 12 free
    cells); over the 48 free cells of the four regions, pointwise 95 % intervals cover at least 85 %."""
    tt = truth_tiers.assign(region=truth_tiers["customer_id"].str[1:3].map(
        {f"{i:02d}": r for i, r in enumerate(truth["regions"])}))
    seg = transition_matrix(tt, id_col="customer_id", period_col="period", state_col="tier", by="region",
                            conf_level=1 - 0.05 / 12)
    point = transition_matrix(tt, id_col="customer_id", period_col="period", state_col="tier", by="region")
    covered, cells = 0, 0
    for region in truth["regions"]:
        P = np.array(truth["tiers"]["transition_matrix"][region])
        for res, simultaneous in ((seg[region], True), (point[region], False)):
            lo = res.table["conf_low"].to_numpy().reshape(4, 4)
            hi = res.table["conf_high"].to_numpy().reshape(4, 4)
            inside = (lo <= P) & (P <= hi)
            if simultaneous:
                assert inside.all(), (region, np.argwhere(~inside))
            else:
                covered += int(inside[:3].sum())
                cells += 12
    assert covered / cells >= 0.85


def test_latent_chain_regions_differ_and_churn_is_absorbing(truth_tiers):
    res = transition_matrix(truth_tiers, id_col="customer_id", period_col="period", state_col="tier")
    assert res.probabilities.loc["churned", "churned"] == 1.0
    ab = res.absorption(n_draws=200)
    # planted east matrix: expected months to churn from core/potential/mass about 31/29/25
    assert (ab.expected_steps > 15).all() and (ab.expected_steps < 45).all()


def test_plots_draw_on_the_given_axes():
    import matplotlib.pyplot as plt

    res = _tm(simulate_chain(P_A, TIERS, n_ids=300, n_periods=5, seed=5))
    fig, ax = plt.subplots()
    assert res.plot(ax=ax) is ax
    assert res.project({"core": 10, "mass": 90}, 3, n_draws=50).plot(ax=ax) is ax
    assert res.absorption(n_draws=50).plot(ax=ax) is ax
    assert compare_transitions(res, res).plot(ax=ax) is ax
    plt.close("all")
