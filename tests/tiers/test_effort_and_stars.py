"""Effort vs value per KOS (recovering the planted even-effort advisors) and rising stars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kosresearch as kr
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.tiers.stars import _auc
from tests.tiers.helpers import tiny_tables


@pytest.fixture(scope="module")
def effort(sample_dataset, sample_tiers):
    return kr.effort_allocation(sample_dataset, sample_tiers)


def test_effort_table_has_shares_per_kos_that_sum_to_one(effort):
    t = effort.table
    assert list(t.columns[:2]) == ["kos_id", "tier"]
    for col in ("customer_share", "message_share", "outreach_share", "value_share"):
        np.testing.assert_allclose(t.groupby("kos_id")[col].sum().dropna(), 1.0)
    o = effort.overall.set_index("tier")
    # programme-wide, the top tiers get more outreach than their share of customers
    assert o.loc[["core", "potential"], "outreach_share"].sum() > o.loc[["core", "potential"], "customer_share"].sum()


def test_flagged_kos_are_the_planted_even_spreaders(effort, truth):
    even = set(truth["kos_even_effort"])
    b = effort.by_kos.assign(truth_even=lambda d: d["kos_id"].isin(even))
    flagged = b[b["spreads_evenly"]]
    # confident flags are right, and catch a good part of the even spreaders
    assert flagged["truth_even"].mean() >= 0.9
    assert flagged["truth_even"].sum() >= 0.4 * len(even)
    # the point estimate alone finds most of them
    assert b.loc[b["truth_even"], "possibly_even"].mean() >= 0.8
    assert b.loc[b["truth_even"], "focus_ratio"].median() < b.loc[~b["truth_even"], "focus_ratio"].median()
    assert ((b["conf_low"] <= b["focus_ratio"]) & (b["focus_ratio"] <= b["conf_high"])).all()


def test_effort_needs_the_messages_table_and_checks_its_arguments(sample_tiers):
    t = tiny_tables()
    t.pop("messages")
    ds = kr.open_dataset(t)
    with pytest.raises(KosDataError, match="needs table 'messages'"):
        kr.effort_allocation(ds, sample_tiers)
    with pytest.raises(KosParameterError, match="focus_threshold=0"):
        kr.effort_allocation(ds, sample_tiers, focus_threshold=0)


def test_effort_summary_lists_flagged_kos_first_and_plot_draws(effort):
    import matplotlib.pyplot as plt

    s = effort.summary()
    assert s["spreads_evenly"].iloc[0]
    fig, ax = plt.subplots()
    assert effort.plot(ax=ax) is ax
    plt.close("all")


@pytest.fixture(scope="module")
def stars(sample_scores, sample_tiers):
    return kr.rising_stars(sample_scores, sample_tiers, top=200, period=sample_tiers.periods[-2])


def test_rising_stars_move_up_far_more_often_than_their_tiers_do(stars, sample_tiers):
    nxt = sample_tiers.table.loc[sample_tiers.table["period"] == sample_tiers.periods[-1], ["customer_id", "tier"]]
    m = stars.table.merge(nxt.rename(columns={"tier": "next"}), on="customer_id")
    level = {"churned": -1, "mass": 0, "potential": 1, "core": 2}
    moved = (m["next"].map(level) > m["tier"].map(level)).mean()
    base = stars.base_rates.set_index("tier")["rate"]
    assert moved > 2 * base.max()
    assert stars.auc > 0.65
    assert len(stars.table) == 200 and set(stars.table["tier"]) <= {"potential", "mass"}
    assert stars.table["probability_up"].is_monotonic_decreasing


def test_rising_stars_give_reasons_and_never_show_raw_ids(stars):
    assert stars.table["reasons"].str.len().gt(0).all()
    s = stars.summary(salt="a-test-salt-123")
    assert (stars.summary()["customer"] == stars.summary()["customer"]).all()  # the machine salt is stable
    assert "customer_id" not in s.columns
    assert not s["customer"].isin(stars.table["customer_id"]).any()
    assert s["customer"].str.match(r"^C-[0-9a-f]{10}$").all()
    assert (s["customer"] == stars.summary(salt="a-test-salt-123")["customer"]).all()
    assert "C0" not in stars._repr_html_()


def test_rising_star_arguments_are_checked(sample_scores, sample_tiers):
    with pytest.raises(KosParameterError, match="top=0"):
        kr.rising_stars(sample_scores, sample_tiers, top=0)
    with pytest.raises(KosParameterError, match="period='1999-01' is not a period"):
        kr.rising_stars(sample_scores, sample_tiers, period="1999-01")
    with pytest.raises(KosDataError, match="no component score columns"):
        kr.rising_stars(sample_tiers.table[["customer_id", "period", "value_score"]], sample_tiers)


def test_auc_matches_a_hand_count():
    """Scores (0.1, 0.4, 0.35, 0.8) with labels (0, 0, 1, 1): of the 4 positive-negative pairs 3 are ordered."""
    assert _auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True])) == pytest.approx(0.75)


def test_stars_plot_draws_on_the_given_axes(stars):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert stars.plot(ax=ax) is ax
    plt.close("all")
    assert isinstance(stars.coefficients, pd.DataFrame) and "engagement_change" in set(stars.coefficients["term"])
