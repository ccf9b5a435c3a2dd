"""Planted truth recovered from simulated data: BG/NBD, Gamma-Gamma and CAC by channel.

The simulator plants BG/NBD repeat purchases in continuous time (weeks) and
Gamma-Gamma repeat values; ``Scenario.base_only()`` switches off the layers
that add orders on top, so the models hold exactly. Repeat purchases of one
customer may fall on the same day there, so these tests summarise with exact
times (``merge_same_day=False``); merging same-day purchases, the BTYD
default for real data, undercounts heavy buyers of a continuous-time process.

Intervals are at the 99 % level: with seven model parameters and six
channels checked on one seed, a 95 % level would fail somewhere one run in
three even when everything is right. Coverage over repeated simulations is
in ``benchmarks/bench_value.py --coverage``.
"""

from __future__ import annotations

import numpy as np
import pytest

import kosresearch as kr
from kosresearch.value import BetaGeo, GammaGamma, acquisition_costs, rfm_summary

LEVEL = 0.99


@pytest.fixture(scope="module")
def base_only():
    return kr.simulate(kr.PRESETS["sample"].base_only(), seed=5)


@pytest.fixture(scope="module")
def rfm(base_only):
    end = base_only.truth["scenario"]["weeks"]
    observation_end = np.datetime64(base_only.truth["week_index_start"]) + np.timedelta64(7 * end, "D")
    return rfm_summary(base_only.tables["orders"], observation_end=observation_end, merge_same_day=False)


def _covers(table, truth):
    t = table.set_index("term")
    return {k: (t.loc[k, "conf_low"], truth[k], t.loc[k, "conf_high"]) for k in truth
            if not t.loc[k, "conf_low"] <= truth[k] <= t.loc[k, "conf_high"]}


def test_observation_window_is_the_planted_one(base_only, rfm):
    assert rfm.attrs["observation_end"] == "2025-12-29T00:00:00"
    assert len(rfm) == base_only.truth["scenario"]["customers"]


def test_planted_bgnbd_parameters_fall_within_their_intervals(base_only, rfm):
    bg = BetaGeo(conf_level=LEVEL).fit(rfm)
    truth = {k: base_only.truth["bgnbd"][k] for k in ("r", "alpha", "a", "b")}
    assert bg.converged_
    assert _covers(bg.params_table_, truth) == {}


def test_planted_gamma_gamma_parameters_fall_within_their_intervals(base_only, rfm):
    gg = GammaGamma(conf_level=LEVEL).fit(rfm)
    truth = {k: base_only.truth["gamma_gamma"][k] for k in ("p", "q", "gamma")}
    assert _covers(gg.params_table_, truth) == {}
    # the planted values are independent of frequency
    rho = gg.independence_.set_index("term").loc["pearson_r"]
    assert rho["conf_low"] <= 0.0 <= rho["conf_high"]


def test_planted_cac_by_channel_including_referral_rewards_is_recovered(base_only):
    cac = acquisition_costs(base_only.dataset(), conf_level=LEVEL).table.set_index("channel")
    truth = base_only.truth["cac"]
    assert set(truth) <= set(cac.index)
    for channel, mean in truth.items():
        row = cac.loc[channel]
        assert row["conf_low"] <= mean <= row["conf_high"], (channel, row["estimate"], mean)
    assert cac.loc["all", "n_customers"] == base_only.truth["scenario"]["customers"]
