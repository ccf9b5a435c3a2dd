"""Feedback funnel (known answers) and the loop-closure effect (planted hazard ratio recovered)."""

from __future__ import annotations

import numpy as np
import pytest

import kosresearch as kr
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.feedback import feedback_funnel, loop_closure_effect
from kosresearch.feedback.loop import _km
from tests.scorecard.helpers import tiny_feedback, tiny_tables


@pytest.fixture(scope="module")
def funnel():
    return feedback_funnel(kr.open_dataset(tiny_feedback()))


def _row(funnel, kos, category):
    t = funnel.table
    return t[(t["kos_id"] == kos) & (t["category"] == category)].iloc[0]


def test_first_response_is_the_earliest_of_message_resolution_and_closure(funnel):
    # f1: resolved after 10 h (before the KOS's next message); f2: KOS message after 22 h, resolved after 24 h
    row = _row(funnel, "k1", "all")
    assert (row["n_feedback"], row["n_responded"]) == (2, 2)
    assert row["hours_to_first_response"] == pytest.approx(16.0)
    assert row["hours_to_resolution"] == pytest.approx(17.0)


def test_closure_rate_and_time_with_an_interval(funnel):
    row = _row(funnel, "k1", "all")
    assert (row["n_closed"], row["estimate"]) == (1, 0.5)
    assert row["hours_to_closure"] == pytest.approx(24.0)
    assert 0 < row["conf_low"] < 0.5 < row["conf_high"] < 1
    assert _row(funnel, "k2", "all")["n_responded"] == 0


def test_a_product_suggestion_is_routed_when_resolved_and_its_category_is_classified(funnel):
    row = _row(funnel, "k1", "product")
    assert (row["n_feedback"], row["n_classified"], row["n_routed"], row["routed_share"]) == (1, 1, 1, 1.0)
    assert np.isnan(_row(funnel, "k1", "service")["routed_share"])
    assert funnel.table["kos_name"].notna().all()


def test_stages_volume_and_summary(funnel):
    stages = funnel.stages().set_index("category")
    assert stages.loc["all", ["received", "responded", "resolved", "closed"]].tolist() == [3, 2, 2, 1]
    assert funnel.volume["n_feedback"].sum() == 3
    summary = funnel.summary(lang="zh")
    assert len(summary) == 2 and "KOS" in summary.columns


def test_the_funnel_by_region_pools_the_kos():
    by_region = feedback_funnel(kr.open_dataset(tiny_feedback()), by="region").table
    row = by_region[by_region["category"] == "all"].iloc[0]
    assert (row["n_feedback"], row["n_closed"]) == (3, 1)
    assert "kos_id" not in by_region.columns


def test_the_funnel_needs_the_feedback_table_and_a_known_grouping():
    with pytest.raises(KosDataError, match="'feedback'"):
        feedback_funnel(kr.open_dataset(tiny_tables()))
    with pytest.raises(KosParameterError, match="by='store'"):
        feedback_funnel(kr.open_dataset(tiny_feedback()), by="store")


def test_kaplan_meier_matches_statsmodels():
    from statsmodels.duration.survfunc import SurvfuncRight

    rng = np.random.default_rng(0)
    time = np.round(rng.exponential(30, 200), 1)
    event = (rng.random(200) < 0.7).astype(float)
    ours = _km(time, event, 0.95, offset=0.0).iloc[1:]
    ref = SurvfuncRight(time, event)
    np.testing.assert_allclose(1 - ours["repurchased"].to_numpy(), ref.surv_prob)
    np.testing.assert_allclose(ours["se"].to_numpy(), ref.surv_prob_se, rtol=1e-6)
    np.testing.assert_allclose(ours["at_risk"].to_numpy(), ref.n_risk)


@pytest.fixture(scope="module")
def sample_sim():
    return kr.simulate("sample", seed=11)


@pytest.fixture(scope="module")
def effect(sample_sim):
    return loop_closure_effect(sample_sim.dataset(validate=False))


def test_the_planted_closure_hazard_ratio_lies_inside_the_interval(sample_sim, effect):
    planted = sample_sim.truth["feedback"]["closure_hazard_ratio"]
    hr = effect.hazard_ratio
    assert hr["conf_low"] < planted < hr["conf_high"]
    assert 1.0 < hr["conf_low"]


def test_the_baseline_covariate_version_also_covers_the_planted_ratio(sample_sim, effect):
    planted = sample_sim.truth["feedback"]["closure_hazard_ratio"]
    row = effect.table.set_index("term").loc["hazard_ratio_from_feedback"]
    assert row["conf_low"] < planted < row["conf_high"]


def test_closed_loops_repurchase_more_within_the_horizon(effect):
    t = effect.table.set_index("term")
    assert t.loc["repurchase_closed", "estimate"] > t.loc["repurchase_not_closed", "estimate"]
    assert t.loc["repurchase_difference", "conf_low"] > 0
    curves = effect.curves
    assert set(curves["group"]) == {"closed", "not_closed"}
    assert curves["days"].min() == effect.landmark_days and curves["days"].max() <= effect.horizon_days
    assert (curves.groupby("group")["repurchased"].apply(lambda s: s.is_monotonic_increasing)).all()


def test_the_model_adjusts_for_tenure_tier_and_category(effect):
    terms = set(effect.model_table["term"])
    assert {"closed", "tenure_years", "tier_core", "category_praise"} <= terms


def test_plot_shows_the_hazard_ratio():
    import matplotlib

    matplotlib.use("Agg")
    sim = kr.simulate(kr.Scenario(customers=8000, stores_per_region=8, regions=("east", "west"),
                                  region_rollout={"west": 70}), seed=3)
    res = loop_closure_effect(sim.dataset(validate=False), landmark_days=0)
    assert res.landmark_days == 0
    assert "HR" in res.plot().get_title()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon_days": 0}, "horizon_days=0"),
        ({"landmark_days": -1}, "landmark_days=-1"),
        ({"landmark_days": 90}, "landmark_days=90 must be below horizon_days=90"),
        ({"conf_level": 1.5}, "conf_level=1.5"),
    ],
)
def test_loop_closure_effect_refuses_bad_arguments(kwargs, match):
    with pytest.raises(KosParameterError, match=match):
        loop_closure_effect(kr.open_dataset(tiny_feedback()), **kwargs)


def test_too_little_data_is_refused_with_the_counts():
    with pytest.raises(KosDataError, match="at least 10 repurchases"):
        loop_closure_effect(kr.open_dataset(tiny_feedback()), landmark_days=0)
