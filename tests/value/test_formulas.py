"""Known answers for the BG/NBD and Gamma-Gamma likelihoods and closed forms.

Each closed form is checked against a value worked out by hand or against a
direct numerical integration over the latent rates with scipy, on customers
small enough to follow by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from kosresearch.value import _btyd

R, ALPHA, A, B = 0.8, 8.0, 0.8, 6.0
P, Q, GAMMA = 6.0, 3.5, 250.0


def _beta_mixture(f, a, b):
    """E_p[f(p)] for p ~ Beta(a, b), by quadrature with the algebraic weight p^(a-1) (1-p)^(b-1)."""
    value, _ = integrate.quad(f, 0, 1, weight="alg", wvar=(a - 1, b - 1), epsabs=1e-14, epsrel=1e-11, limit=200)
    return value / special.beta(a, b)


def _individual_likelihood(x, t_x, T, r, alpha, a, b):
    """Mix L(λ, p | x, t_x, T) of FHL (2005a) eq. (3) over λ ~ Gamma(r, α), then numerically over p ~ Beta(a, b).

    Over λ: ∫ λ^x e^(-λ s) g(λ) dλ = Γ(r+x) α^r / (Γ(r) (α+s)^(r+x)).
    """
    K = lambda s: math.exp(special.gammaln(r + x) - special.gammaln(r) + r * math.log(alpha)  # noqa: E731
                           - (r + x) * math.log(alpha + s))
    alive, dead = K(T), (K(t_x) if x > 0 else 0.0)
    return _beta_mixture(lambda p: (1 - p) ** x * alive + (p * (1 - p) ** (x - 1) * dead if x > 0 else 0.0), a, b)


@pytest.mark.parametrize("x, t_x, T", [(0, 0.0, 20.0), (1, 5.0, 20.0), (3, 18.5, 30.0)])
def test_bgnbd_likelihood_equals_the_integral_over_lambda_and_p(x, t_x, T):
    ll = _btyd.bg_loglik_rows([x], [t_x], [T], R, ALPHA, A, B)[0]
    assert math.exp(ll) == pytest.approx(_individual_likelihood(x, t_x, T, R, ALPHA, A, B), rel=1e-6)


def test_bgnbd_likelihood_without_repeat_purchases_is_the_nbd_zero_term_by_hand():
    # x = 0: L = (α / (α + T))^r = (8/28)^0.8
    assert math.exp(_btyd.bg_loglik_rows([0], [0.0], [20.0], R, ALPHA, A, B)[0]) == pytest.approx((8 / 28) ** 0.8)


def test_bgnbd_likelihood_of_one_repeat_purchase_by_hand():
    # x = 1: L = r α^r · b/(a+b) · [(α+T)^-(r+1) + a/b · (α+t_x)^-(r+1)]
    t_x, T = 5.0, 20.0
    by_hand = R * ALPHA**R * B / (A + B) * ((ALPHA + T) ** -(R + 1) + A / B * (ALPHA + t_x) ** -(R + 1))
    assert math.exp(_btyd.bg_loglik_rows([1], [t_x], [T], R, ALPHA, A, B)[0]) == pytest.approx(by_hand, rel=1e-12)


def _data(seed=3, n=400):
    rng = np.random.default_rng(seed)
    T = rng.integers(7, 300, n) / 7.0
    x = rng.poisson(2.0, n).astype(float)
    t_x = np.where(x > 0, np.floor(rng.uniform(0, 1, n) * T * 7) / 7.0, 0.0)
    x[:20], t_x[:20], T[:20] = 2.0, 3.0, 10.0  # duplicates, so collapsing has work to do
    return x, t_x, T


@pytest.mark.parametrize("collapse", [True, False])
def test_collapsed_likelihood_gradient_and_hessian_match_direct_sums_and_finite_differences(collapse):
    x, t_x, T = _data()
    w = np.random.default_rng(0).integers(1, 4, x.size).astype(float)
    d = _btyd.BGData.build(x, t_x, T, w, collapse=collapse)
    theta = np.log([0.7, 5.0, 1.3, 3.0])
    ll, g, H = _btyd.bg_loglik(theta, d, order=2)
    assert ll == pytest.approx(float(w @ _btyd.bg_loglik_rows(x, t_x, T, *np.exp(theta))), rel=1e-12)
    num_g = optimize.approx_fprime(theta, lambda th: _btyd.bg_loglik(th, d, 0)[0], 1e-7)
    num_H = np.array([optimize.approx_fprime(theta, lambda th: _btyd.bg_loglik(th, d, 1)[1][j], 1e-7)
                      for j in range(4)])
    np.testing.assert_allclose(g, num_g, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(H, num_H, rtol=1e-5, atol=1e-3)
    if collapse:
        assert d.x.size < (x > 0).sum()


def test_gamma_gamma_likelihood_equals_the_integral_over_nu():
    x, zbar = 3.0, 420.0

    def integrand(nu):
        # z̄ | ν ~ Gamma(p x, rate ν x); ν ~ Gamma(q, rate γ)
        return stats.gamma.pdf(zbar, P * x, scale=1 / (nu * x)) * stats.gamma.pdf(nu, Q, scale=1 / GAMMA)

    value, _ = integrate.quad(integrand, 0, 0.2, epsabs=1e-16, limit=200, points=[0.005, 0.01, 0.02])
    assert math.exp(_btyd.gg_loglik_rows([x], [zbar], P, Q, GAMMA)[0]) == pytest.approx(value, rel=1e-7)


def test_gamma_gamma_gradient_and_hessian_match_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.integers(1, 9, 300).astype(float)
    z = rng.gamma(5, 100, 300)
    w = np.ones(300)
    theta = np.log([4.0, 3.0, 200.0])
    ll, g, H = _btyd.gg_loglik(theta, x, z, w, order=2)
    assert ll == pytest.approx(_btyd.gg_loglik_rows(x, z, *np.exp(theta)).sum(), rel=1e-12)
    num_g = optimize.approx_fprime(theta, lambda th: _btyd.gg_loglik(th, x, z, w, 0)[0], 1e-7)
    num_H = np.array([optimize.approx_fprime(theta, lambda th: _btyd.gg_loglik(th, x, z, w, 1)[1][j], 1e-7)
                      for j in range(3)])
    np.testing.assert_allclose(g, num_g, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(H, num_H, rtol=1e-5, atol=1e-3)


def _death_weighted(p, t, scale, shape):
    """(1 - (scale/(scale + p t))^shape) / p, with its limit shape·t/scale at p = 0."""
    if p < 1e-12:
        return shape * t / scale
    return -math.expm1(-shape * math.log1p(p * t / scale)) / p


def _expected_by_integration(t, r, alpha, a, b):
    """E[X(t)] = E_p[(1 - (α/(α+p t))^r) / p] (FHL eq. 7 mixed over λ, then numerically over p)."""
    return _beta_mixture(lambda p: _death_weighted(p, t, alpha, r), a, b)


@pytest.mark.parametrize("t", [1.0, 26.0, 52.0, 156.0])
@pytest.mark.parametrize("a", [0.8, 1.0, 2.5])
def test_expected_purchases_match_the_integral_including_a_equal_one(t, a):
    assert _btyd.bg_expected(t, R, ALPHA, a, B) == pytest.approx(_expected_by_integration(t, R, ALPHA, a, B),
                                                                 rel=1e-7)


@pytest.mark.parametrize("x, t_x, T, t", [(0, 0.0, 10.0, 52.0), (2, 9.0, 10.0, 52.0), (7, 20.0, 80.0, 26.0),
                                          (40, 150.0, 152.0, 104.0)])
def test_conditional_expected_purchases_match_the_posterior_integral(x, t_x, T, t):
    # alive: λ ~ Gamma(r+x, α+T), p ~ Beta(a, b+x); E[Y(t)] = P(alive) · E_p[(1 - ((α+T)/(α+T+p t))^(r+x)) / p]
    p_alive = _btyd.bg_p_alive(x, t_x, T, R, ALPHA, A, B)
    expected = p_alive * _beta_mixture(lambda p: _death_weighted(p, t, ALPHA + T, R + x), A, B + x)
    assert _btyd.bg_conditional_expected(t, x, t_x, T, R, ALPHA, A, B) == pytest.approx(expected, rel=1e-6)


def test_probability_alive_by_hand():
    # x = 2, t_x = 9, T = 10: 1 / (1 + a/(b+1) · ((α+10)/(α+9))^(r+2))
    by_hand = 1 / (1 + A / (B + 1) * ((ALPHA + 10) / (ALPHA + 9)) ** (R + 2))
    assert float(_btyd.bg_p_alive(2, 9.0, 10.0, R, ALPHA, A, B)) == pytest.approx(by_hand, rel=1e-12)
    assert float(_btyd.bg_p_alive(0, 0.0, 50.0, R, ALPHA, A, B)) == 1.0


def test_probability_of_purchases_matches_the_integral_and_sums_to_one():
    t = 30.0
    n = np.arange(0, 400)
    pr = _btyd.bg_probability(t, n, R, ALPHA, A, B)
    assert pr.sum() == pytest.approx(1.0, abs=1e-9)
    assert (n * pr).sum() == pytest.approx(float(_btyd.bg_expected(t, R, ALPHA, A, B)), rel=1e-8)
    nb = stats.nbinom(R, ALPHA / (ALPHA + t))  # λ mixed out: counts of a live customer are NBD
    for k in (0, 1, 3):
        # FHL (2005a) eq. (8) before mixing over p: (1-p)^k P(N=k) + p (1-p)^(k-1) P(N>=k)
        f = lambda p, k=k: (1 - p) ** k * nb.pmf(k) + (p * (1 - p) ** (k - 1) * nb.sf(k - 1) if k > 0 else 0.0)  # noqa: E731
        assert pr[k] == pytest.approx(_beta_mixture(f, A, B), rel=1e-8)


def test_hypergeometric_form_matches_the_textbook_form_of_eq_9():
    t = np.array([5.0, 40.0])
    z = t / (ALPHA + t)
    textbook = (A + B - 1) / (A - 1) * (1 - (ALPHA / (ALPHA + t)) ** R * special.hyp2f1(R, B, A + B - 1, z))
    np.testing.assert_allclose(_btyd.bg_expected(t, R, ALPHA, A, B), textbook, rtol=1e-10)
