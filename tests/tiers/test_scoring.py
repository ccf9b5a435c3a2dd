"""Value scores, tiers (quantile, fixed, hysteresis, churn), agreement and flows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.tiers.scoring import (
    DEFAULT_WEIGHTS,
    assign_tiers,
    tier_agreement,
    tier_flows,
    value_scores,
)
from kosresearch.tiers.transitions import transition_matrix


def _features(n_periods: int = 2) -> pd.DataFrame:
    """Four customers; in every period customer i spends 10 i, sends i messages and has repurchase score i."""
    rows = []
    for p in range(1, n_periods + 1):
        for i in range(4):
            rows.append({"customer_id": f"c{i}", "period": f"2024-{p:02d}", "monetary": 10.0 * i,
                         "frequency": i, "referred_spend": 0.0, "referrals": 0, "koc_code_orders": 0,
                         "messages_to_kos": i, "group_messages": 0, "content_interactions": 0,
                         "expected_purchases": float(i)})
    return pd.DataFrame(rows)


def test_components_are_percentile_ranks_within_the_period_and_the_score_their_weighted_mean():
    f = _features()
    vs = value_scores(f, window=1, repurchase="expected_purchases")
    t = vs.table[vs.table["period"] == "2024-01"].set_index("customer_id")
    np.testing.assert_allclose(t["spend_score"], [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(t["repurchase_score"], [0.25, 0.5, 0.75, 1.0])
    # influence is 0 for everyone: tied, mean rank 2.5 of 4
    np.testing.assert_allclose(t["influence_score"], 0.625)
    expected = 0.2 * t["spend_score"] + 0.2 * t["repurchase_score"] + 0.2 * 0.625 + 0.4 * t["engagement_score"]
    np.testing.assert_allclose(t["value_score"], expected)
    assert list(vs.weights["component"]) == ["spend", "repurchase", "influence", "engagement"]
    np.testing.assert_allclose(vs.weights["weight"], list(DEFAULT_WEIGHTS.values()))
    np.testing.assert_allclose(vs.weights["mean_contribution"].sum(), vs.table["value_score"].mean())


def test_window_sums_the_current_and_previous_periods():
    vs = value_scores(_features(3), window=2, repurchase="expected_purchases")
    t = vs.table.set_index(["customer_id", "period"])
    assert t.loc[("c3", "2024-01"), "spend_raw"] == 30.0
    assert t.loc[("c3", "2024-02"), "spend_raw"] == 60.0
    assert t.loc[("c3", "2024-03"), "spend_raw"] == 60.0


def test_weights_override_defaults_and_are_rescaled_and_zero_drops_a_component():
    vs = value_scores(_features(), weights={"engagement": 0, "spend": 0.6}, repurchase="expected_purchases")
    w = vs.weights.set_index("component")["weight"]
    assert w["engagement"] == 0 and w["spend"] == pytest.approx(0.6 / 1.0)
    assert vs.table["engagement_score"].isna().all()


def test_a_plugged_in_repurchase_model_is_called_with_the_features():
    seen = {}

    def model(features):
        seen["n"] = len(features)
        return -features["frequency"].to_numpy(dtype=float)  # reverse the ranking

    vs = value_scores(_features(), repurchase=model)
    t = vs.table[vs.table["period"] == "2024-01"].set_index("customer_id")
    assert seen["n"] == 8 and t.loc["c0", "repurchase_score"] == 1.0
    assert vs.repurchase_model.empty
    with pytest.raises(KosDataError, match=r"returned shape \(2,\)"):
        value_scores(_features(), repurchase=lambda f: np.zeros(2))


def test_value_score_arguments_are_checked():
    f = _features()
    with pytest.raises(KosParameterError, match=r"weights names unknown components \['loyalty'\]"):
        value_scores(f, weights={"loyalty": 1})
    with pytest.raises(KosParameterError, match=r"weights\['spend'\]=-1 must be a number >= 0"):
        value_scores(f, weights={"spend": -1})
    with pytest.raises(KosParameterError, match="leave every component at 0"):
        value_scores(f, weights={"spend": 0, "repurchase": 0, "influence": 0, "engagement": 0})
    with pytest.raises(KosParameterError, match="window=0"):
        value_scores(f, window=0)
    with pytest.raises(KosDataError, match="'monetary' is not a column of features"):
        value_scores(f.drop(columns="monetary"), repurchase="expected_purchases")
    with pytest.raises(KosDataError, match="features has 16 rows that repeat the key"):
        value_scores(pd.concat([f, f]), repurchase="expected_purchases")


def test_built_in_repurchase_model_ranks_frequent_recent_buyers_higher(sample_scores):
    coef = sample_scores.repurchase_model.set_index("term")["estimate"]
    assert coef["log_orders_window"] > 0 and coef["log_recency_days"] < 0
    t = sample_scores.table
    assert t["repurchase_probability"].between(0, 1).all()


def test_quantile_tiers_cut_the_period_ranks_at_the_cutoffs():
    s = pd.DataFrame({"customer_id": [f"c{i}" for i in range(10)], "period": "2024-01",
                      "value_score": np.linspace(0.1, 1.0, 10), "days_since_active": 0.0})
    t = assign_tiers(s).table
    assert list(t["tier"]) == ["mass"] * 5 + ["potential"] * 3 + ["core"] * 2
    assert list(t["tier_zh"][-2:]) == ["核心价值层"] * 2 and t["tier_en"].iloc[0] == "mass interaction"


def test_inactive_customers_are_churned_and_left_out_of_the_ranking():
    s = pd.DataFrame({"customer_id": [f"c{i}" for i in range(11)], "period": "2024-01",
                      "value_score": [0.99, *np.linspace(0.1, 1.0, 10)],
                      "days_since_active": [400.0] + [0.0] * 10})
    t = assign_tiers(s, churn_after=180).table
    assert t["tier"].iloc[0] == "churned" and np.isnan(t["score_position"].iloc[0])
    assert list(t["tier"].iloc[1:]) == ["mass"] * 5 + ["potential"] * 3 + ["core"] * 2
    assert (assign_tiers(s, churn_after=None).table["tier"] != "churned").all()


@pytest.mark.parametrize(("h", "expected"), [
    (0.0, ["potential", "mass", "mass", "potential", "potential", "core", "core", "potential", "mass"]),
    (0.05, ["potential", "potential", "mass", "mass", "potential", "potential", "core", "core", "mass"]),
])
def test_hysteresis_needs_a_margin_before_moving_up_or_down(h, expected):
    scores = [0.62, 0.58, 0.54, 0.63, 0.66, 0.93, 0.96, 0.86, 0.50]
    s = pd.DataFrame({"customer_id": "c", "period": [f"2024-{m:02d}" for m in range(1, 10)], "value_score": scores})
    t = assign_tiers(s, method="fixed", hysteresis=h, churn_after=None).table
    assert list(t["tier"]) == expected


def test_hysteresis_is_reset_by_a_gap_in_the_periods():
    s = pd.DataFrame({"customer_id": "c", "period": ["2024-01", "2024-03"], "value_score": [0.62, 0.58]})
    t = assign_tiers(s, method="fixed", hysteresis=0.05, churn_after=None).table
    assert list(t["tier"]) == ["potential", "mass"]


def test_tier_arguments_are_checked():
    s = pd.DataFrame({"customer_id": ["a"], "period": ["2024-01"], "value_score": [0.5], "days_since_active": [1.0]})
    with pytest.raises(KosParameterError, match="must satisfy 0 <= potential < core <= 1"):
        assign_tiers(s, cutoffs={"core": 0.5, "potential": 0.6})
    with pytest.raises(KosParameterError, match="must give exactly 'core' and 'potential'"):
        assign_tiers(s, cutoffs={"core": 0.9})
    with pytest.raises(KosParameterError, match="method='kmeans' is not allowed"):
        assign_tiers(s, method="kmeans")
    with pytest.raises(KosParameterError, match="hysteresis=-0.1"):
        assign_tiers(s, hysteresis=-0.1)
    with pytest.raises(KosDataError, match="inactive_col='days_since_active' is not a column of scores"):
        assign_tiers(s.drop(columns="days_since_active"))
    with pytest.raises(KosDataError, match="score_col='value_score' has 1 missing values"):
        assign_tiers(s.assign(value_score=np.nan))


def test_sizes_and_mix_count_customers_per_tier():
    s = pd.DataFrame({"customer_id": [f"c{i}" for i in range(10)] * 2,
                      "period": ["2024-01"] * 10 + ["2024-02"] * 10,
                      "value_score": np.r_[np.linspace(0.1, 1.0, 10), np.linspace(1.0, 0.1, 10)],
                      "monetary": [10.0] * 20, "days_since_active": 0.0})
    ta = assign_tiers(s)
    sz = ta.sizes
    assert list(sz.columns) == ["period", "tier", "customers", "share", "spend", "value_share", "mean_score"]
    assert sz.query("period == '2024-02' and tier == 'core'")["customers"].item() == 2
    assert ta.mix().to_dict() == {"core": 2, "potential": 3, "mass": 5, "churned": 0}
    assert ta.periods == ["2024-01", "2024-02"]
    np.testing.assert_allclose(sz.groupby("period")["value_share"].sum(), 1.0)


def test_agreement_matches_cohens_kappa_worked_by_hand():
    """Reference (c, c, p, m), assigned (c, p, p, m): p_o = 3/4; marginals (1/2, 1/4, 1/4) and (1/4, 1/2, 1/4)
    give p_e = 1/8 + 1/8 + 1/16 = 5/16, kappa = (3/4 - 5/16) / (11/16) = 7/11."""
    ref = pd.DataFrame({"customer_id": list("abcd"), "period": "2024-01", "tier": ["core", "core", "potential", "mass"]})
    got = ref.assign(tier=["core", "potential", "potential", "mass"])
    ag = tier_agreement(got, ref)
    est = ag.table.set_index("term")["estimate"]
    assert est["accuracy"] == pytest.approx(0.75)
    assert est["chance_agreement"] == pytest.approx(5 / 16)
    assert est["kappa"] == pytest.approx(7 / 11)
    assert ag.confusion.loc["core", "potential"] == 1 and ag.n == 4


def test_scoring_tiers_agree_with_the_latent_tiers_well_above_chance(sample_tiers, truth_tiers):
    ag = tier_agreement(sample_tiers, truth_tiers)
    t = ag.table.set_index("term")
    assert t.loc["kappa", "conf_low"] > 0.15
    assert t.loc["accuracy", "estimate"] > t.loc["chance_agreement", "estimate"] + 0.08
    assert t.loc["weighted_kappa", "estimate"] > 0.2
    # each latent tier is most often assigned to itself or its neighbour, and core is assigned core
    # far more often than mass customers are
    rates = ag.confusion.div(ag.confusion.sum(axis=1), axis=0)
    assert rates.loc["core", "core"] > 2.5 * rates.loc["mass", "core"]
    with_churn = tier_agreement(sample_tiers, truth_tiers, states=("core", "potential", "mass", "churned"))
    assert with_churn.table.set_index("term").loc["kappa", "estimate"] > 0.15


def test_more_engagement_weight_agrees_more_with_the_relationship_tiers(sample_features, sample_tiers, truth_tiers):
    eng = assign_tiers(value_scores(sample_features, weights={"engagement": 1, "spend": 0, "repurchase": 0,
                                                               "influence": 0}))
    k_default = tier_agreement(sample_tiers, truth_tiers).table.set_index("term").loc["kappa", "estimate"]
    k_eng = tier_agreement(eng, truth_tiers).table.set_index("term").loc["kappa", "estimate"]
    assert k_eng > k_default


def test_hysteresis_makes_the_estimated_tiers_stickier(sample_scores):
    east = sample_scores.table[sample_scores.table["region"] == "east"]

    def stay(h):
        ta = assign_tiers(east, hysteresis=h)
        tm = transition_matrix(ta.table, id_col="customer_id", period_col="period", state_col="tier")
        return np.diag(tm.probabilities.to_numpy())[:3]

    assert (stay(0.05) > stay(0.0)).all()


def test_flows_count_customers_between_two_periods():
    t = pd.DataFrame({"customer_id": ["a", "b", "a", "b", "c"], "period": ["2024-01"] * 2 + ["2024-02"] * 3,
                      "tier": ["core", "mass", "potential", "mass", "core"]})
    fl = tier_flows(t, start="2024-01", end="2024-02")
    got = {(r.from_tier, r.to_tier): r.customers for r in fl.table.itertuples()}
    assert got == {("new", "core"): 1, ("core", "potential"): 1, ("mass", "mass"): 1}
    assert tier_flows(t).start == "2024-01"
    with pytest.raises(KosParameterError, match="start='2023-12' is not a period of the tiers"):
        tier_flows(t, start="2023-12")


def test_result_plots_draw_on_the_given_axes(sample_scores, sample_tiers, truth_tiers):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert sample_scores.plot(ax=ax) is ax
    assert sample_tiers.plot(ax=ax) is ax
    assert tier_flows(sample_tiers).plot(ax=ax) is ax
    assert tier_agreement(sample_tiers, truth_tiers).plot(ax=ax) is ax
    plt.close("all")


class _StubBetaGeo:
    """Records the BTYD summary it is asked about; returns frequency + 1 as 'expected purchases'."""

    def __init__(self):
        self.calls = []

    def conditional_expected_purchases(self, t, frequency, recency, T):
        self.calls.append((t, np.asarray(frequency), np.asarray(recency), np.asarray(T)))
        return np.asarray(frequency) + 1.0


def test_bgnbd_adapter_feeds_the_btyd_summary_as_of_each_period_end():
    from kosresearch.tiers.scoring import bgnbd_repurchase

    f = pd.DataFrame({"customer_id": ["a", "a", "b"], "period": ["2024-01", "2024-02", "2024-02"],
                      "orders_to_date": [1, 3, 0], "recency_days": [14.0, 7.0, np.nan],
                      "first_order_days": [14.0, 42.0, np.nan]})
    stub = _StubBetaGeo()
    out = bgnbd_repurchase(stub, horizon_days=28, time_unit="W")(f)
    t, x, rec, T = stub.calls[0]
    assert t == 4.0
    np.testing.assert_allclose(x, [0, 2])
    np.testing.assert_allclose(T, [2, 6])
    np.testing.assert_allclose(rec, [0, 5])
    np.testing.assert_allclose(out, [1.0, 3.0, 0.0])
    with pytest.raises(KosParameterError, match="has no conditional_expected_purchases"):
        bgnbd_repurchase(object())
    with pytest.raises(KosParameterError, match="time_unit='Y' is not allowed"):
        bgnbd_repurchase(stub, time_unit="Y")
