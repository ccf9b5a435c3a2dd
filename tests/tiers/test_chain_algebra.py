"""Known-answer tests of the chain algebra on small textbook chains.

Numbers are from, and re-derived by hand as in, Grinstead & Snell (1997),
*Introduction to Probability*, ch. 11 (AMS, free edition):

* the Land of Oz weather chain (Example 11.1; states rain, nice, snow) with
  ``P = [[1/2, 1/4, 1/4], [1/2, 0, 1/2], [1/4, 1/4, 1/2]]``: fixed vector
  ``w = (2/5, 1/5, 2/5)`` (section 11.3), mean first passage matrix
  ``[[0, 4, 10/3], [8/3, 0, 8/3], [10/3, 4, 0]]`` and mean recurrence times
  ``r = 1/w = (5/2, 5, 5/2)`` (section 11.5);
* the drunkard's walk on 0..4 with absorbing ends and p = 1/2 (section 11.2):
  ``N = [[3/2, 1, 1/2], [1, 2, 1], [1/2, 1, 3/2]]``, expected steps to
  absorption ``t = (3, 4, 3)``, absorption probabilities
  ``B = [[3/4, 1/4], [1/2, 1/2], [1/4, 3/4]]``.

The by-hand derivations are in the test docstrings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosresearch import _markov
from kosresearch.errors import KosDataError
from kosresearch.tiers.transitions import transition_matrix
from tests.tiers.helpers import panel_from_counts

OZ_STATES = ["R", "N", "S"]
OZ = np.array([[0.5, 0.25, 0.25], [0.5, 0.0, 0.5], [0.25, 0.25, 0.5]])
WALK_STATES = ["0", "1", "2", "3", "4"]


def _walk() -> np.ndarray:
    P = np.zeros((5, 5))
    P[0, 0] = P[4, 4] = 1.0
    for i in (1, 2, 3):
        P[i, i - 1] = P[i, i + 1] = 0.5
    return P


@pytest.fixture(scope="module")
def oz():
    """The Land of Oz chain estimated from counts exactly 16 × P (row totals 16)."""
    return transition_matrix(panel_from_counts(OZ * 16, OZ_STATES), id_col="id", period_col="t", state_col="state",
                             states=OZ_STATES)


@pytest.fixture(scope="module")
def walk():
    """The drunkard's walk estimated from counts exactly 4 × P."""
    return transition_matrix(panel_from_counts(_walk() * 4, WALK_STATES), id_col="id", period_col="t",
                             state_col="state", states=WALK_STATES)


def test_counts_proportional_to_the_matrix_give_the_matrix_back(oz):
    np.testing.assert_allclose(oz.probabilities.to_numpy(), OZ)
    assert oz.counts.loc["N", "N"] == 0


def test_two_step_probabilities_of_the_land_of_oz(oz):
    """P²[R] = (1/2·1/2 + 1/4·1/2 + 1/4·1/4, 1/2·1/4 + 1/4·1/4, 1/2·1/4 + 1/4·1/2 + 1/4·1/2) = (7/16, 3/16, 6/16)."""
    P2 = oz.n_step(2)
    np.testing.assert_allclose(P2.loc["R"], [7 / 16, 3 / 16, 6 / 16])
    np.testing.assert_allclose(P2.loc["N"], [6 / 16, 4 / 16, 6 / 16])
    np.testing.assert_allclose(P2.loc["S"], [6 / 16, 3 / 16, 7 / 16])
    np.testing.assert_allclose(oz.n_step(0).to_numpy(), np.eye(3))


def test_many_steps_converge_to_the_stationary_distribution(oz):
    """Every row of P^n tends to w (the chain is regular)."""
    np.testing.assert_allclose(oz.n_step(60).to_numpy(), np.tile([0.4, 0.2, 0.4], (3, 1)), atol=1e-12)


def test_stationary_distribution_of_the_land_of_oz(oz):
    """w P = w: w_N = w_R/4 + w_S/4 and by symmetry w_R = w_S, so w = (2/5, 1/5, 2/5)."""
    w = oz.stationary()
    assert list(w.index) == OZ_STATES
    np.testing.assert_allclose(w.to_numpy(), [0.4, 0.2, 0.4])


def test_mean_first_passage_times_and_mean_recurrence_times_of_the_land_of_oz(oz):
    """To N: every step from R or S hits N w.p. 1/4, so m_RN = m_SN = 4.
    To R: m_NR = 1 + m_SR/2 and m_SR = 1 + m_NR/4 + m_SR/2 give m_NR = 8/3, m_SR = 10/3 (S symmetric).
    Diagonal: r_i = 1/w_i = (5/2, 5, 5/2) (Kac)."""
    M = oz.mean_first_passage()
    expected = np.array([[5 / 2, 4, 10 / 3], [8 / 3, 5, 8 / 3], [10 / 3, 4, 5 / 2]])
    np.testing.assert_allclose(M.to_numpy(), expected)
    np.testing.assert_allclose(np.diag(M), 1 / oz.stationary().to_numpy())


def test_mean_first_passage_agrees_with_the_kemeny_snell_fundamental_matrix_formula():
    """M = (I - Z + E Z_dg) D with Z = (I - P + W)^-1 (Kemeny & Snell 1976, thm 4.4.7), on a random ergodic chain."""
    rng = np.random.default_rng(3)
    P = rng.dirichlet(np.ones(5), size=5)
    w = _markov.stationary_distribution(P)
    Z = np.linalg.inv(np.eye(5) - P + np.tile(w, (5, 1)))
    M_ks = (np.eye(5) - Z + np.ones((5, 5)) @ np.diag(np.diag(Z))) @ np.diag(1 / w)
    M = _markov.mean_first_passage(P)
    off = ~np.eye(5, dtype=bool)
    np.testing.assert_allclose(M[off], M_ks[off])
    np.testing.assert_allclose(np.diag(M), 1 / w)


def test_absorption_probabilities_and_expected_steps_of_the_drunkards_walk(walk):
    """t_i = 1 + (t_{i-1} + t_{i+1})/2 with t_0 = t_4 = 0 gives t = (3, 4, 3);
    b_i = (b_{i-1} + b_{i+1})/2 with b_0 = 1, b_4 = 0 gives P(absorbed at 0) = (3/4, 1/2, 1/4)."""
    ab = walk.absorption(absorbing=("0", "4"), n_draws=200)
    np.testing.assert_allclose(ab.expected_steps.to_numpy(), [3.0, 4.0, 3.0])
    np.testing.assert_allclose(ab.probabilities.to_numpy(), [[0.75, 0.25], [0.5, 0.5], [0.25, 0.75]])
    assert list(ab.probabilities.index) == ["1", "2", "3"]
    assert list(ab.probabilities.columns) == ["0", "4"]
    steps = ab.table[ab.table["measure"] == "expected_steps"]
    assert (steps["conf_low"] <= steps["estimate"]).all() and (steps["estimate"] <= steps["conf_high"]).all()


def test_fundamental_matrix_of_the_drunkards_walk():
    N = _markov.fundamental_matrix(_walk(), [1, 2, 3])
    np.testing.assert_allclose(N, [[1.5, 1.0, 0.5], [1.0, 2.0, 1.0], [0.5, 1.0, 1.5]])
    np.testing.assert_allclose(_markov.absorption_times(_walk(), [1, 2, 3]), N.sum(axis=1))


def test_first_passage_is_infinite_where_the_target_may_never_be_reached(walk):
    """From 1 the walk reaches 0 only w.p. 3/4, so m_10 = inf; 0 is absorbing, so it returns in 1 step."""
    M = walk.mean_first_passage()
    assert np.isinf(M.loc["1", "0"]) and np.isinf(M.loc["0", "4"])
    assert M.loc["0", "0"] == 1.0
    assert np.isinf(M.loc["2", "2"])  # may be absorbed before returning


def test_stationary_refuses_a_reducible_chain_and_points_to_absorption(walk):
    with pytest.raises(KosDataError, match="not irreducible.*quasi_stationary"):
        walk.stationary()


def test_quasi_stationary_distribution_of_a_two_state_transient_block():
    """Q = [[0.5, 0.3], [0.2, 0.6]] (rest to the absorbing state): the Perron root solves
    (0.5 - l)(0.6 - l) = 0.06, l = 0.8; the left eigenvector v Q = 0.8 v gives v_1 = 2/3 v_2,
    so the mix is (2/5, 3/5)."""
    P = np.array([[0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.0, 0.0, 1.0]])
    C = np.round(P * 10).astype(int)
    res = transition_matrix(panel_from_counts(C, ["a", "b", "x"]), id_col="id", period_col="t", state_col="state",
                            states=["a", "b", "x"])
    q = res.quasi_stationary(absorbing=("x",))
    np.testing.assert_allclose(q.to_numpy(), [0.4, 0.6])


def test_projection_starts_at_the_initial_mix_and_follows_the_n_step_matrix(oz):
    pr = oz.project({"R": 30, "N": 10, "S": 60}, 3, n_draws=300)
    t = pr.table
    np.testing.assert_allclose(t[t["step"] == 0]["share"], [0.3, 0.1, 0.6])
    x3 = np.array([0.3, 0.1, 0.6]) @ np.linalg.matrix_power(OZ, 3)
    np.testing.assert_allclose(t[t["step"] == 3]["share"], x3)
    np.testing.assert_allclose(t[t["step"] == 3]["expected_count"], 100 * x3)
    assert np.allclose(t.groupby("step")["share"].sum(), 1.0)
    assert pr.limit_kind == "stationary"
    np.testing.assert_allclose(pr.limit.to_numpy(), [0.4, 0.2, 0.4])


def test_projection_of_an_absorbing_chain_uses_the_quasi_stationary_mix(walk):
    pr = walk.project(pd.Series({"2": 1.0}), 2, n_draws=100)
    t = pr.table.set_index(["step", "state"])["share"]
    assert t[(1, "1")] == pytest.approx(0.5) and t[(2, "0")] == pytest.approx(0.25)
    assert pr.limit_kind == "quasi-stationary"
    assert set(pr.limit.index) == {"1", "2", "3"}
