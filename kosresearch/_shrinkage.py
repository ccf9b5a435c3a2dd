"""Empirical-Bayes beta-binomial shrinkage of per-unit rates.

Used wherever units (advisors, stores) are ranked on a rate from samples of
very different sizes: a unit with 3 of 4 should not outrank one with 400 of
1,000. The prior ``Beta(α, β)`` is fitted by maximising the marginal
(beta-binomial) likelihood over all units (Efron 2010, *Large-Scale
Inference*, ch. 1; Robinson 2017, *Introduction to Empirical Bayes*); each
unit's posterior is ``Beta(α + s, β + n - s)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BetaPrior", "fit_beta_prior", "posterior_summary", "funnel_limits"]


@dataclass(frozen=True)
class BetaPrior:
    """Fitted prior of the unit rates.

    Attributes
    ----------
    alpha, beta : float
        Shape parameters; ``alpha / (alpha + beta)`` is the pool mean and
        ``alpha + beta`` the prior's weight in pseudo-trials.
    log_likelihood : float
        Maximised beta-binomial log-likelihood (binomial coefficients included).
    """

    alpha: float
    beta: float
    log_likelihood: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


def _loglik(log_params: np.ndarray, s: np.ndarray, n: np.ndarray) -> float:
    from scipy.special import betaln, gammaln

    a, b = np.exp(log_params)
    comb = gammaln(n + 1) - gammaln(s + 1) - gammaln(n - s + 1)
    return float(np.sum(comb + betaln(s + a, n - s + b) - betaln(a, b)))


def fit_beta_prior(successes, trials) -> BetaPrior:
    """Fit ``Beta(α, β)`` to unit rates by marginal maximum likelihood.

    Units with zero trials carry no information and are ignored. When the
    rates vary no more than binomial noise allows, the fitted prior is very
    concentrated (large ``α + β``): every unit is shrunk to the pool mean.
    """
    from scipy.optimize import minimize

    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    if s.shape != n.shape:
        raise ValueError(f"successes and trials differ in length ({s.size} vs {n.size})")
    if np.any(s < 0) or np.any(s > n):
        raise ValueError("successes must lie between 0 and trials for every unit")
    keep = n > 0
    s, n = s[keep], n[keep]
    if s.size == 0:
        raise ValueError("no unit has any trials; a prior cannot be fitted")
    p = np.clip(s.sum() / n.sum(), 1e-6, 1 - 1e-6)
    # method-of-moments start, bounded away from degenerate values
    rates = s / n
    var = max(np.var(rates) - np.mean(p * (1 - p) / n), 1e-6)
    k0 = np.clip(p * (1 - p) / var - 1, 0.5, 1e5)
    x0 = np.log([p * k0, (1 - p) * k0])
    res = minimize(lambda x: -_loglik(x, s, n), x0, method="L-BFGS-B", bounds=[(-10, 15), (-10, 15)])
    a, b = np.exp(res.x)
    return BetaPrior(float(a), float(b), -float(res.fun))


def posterior_summary(successes, trials, prior: BetaPrior, *, conf_level: float = 0.95):
    """Posterior mean, equal-tailed interval and P(rate > pool mean) of each unit.

    Returns a dict of arrays: ``estimate``, ``conf_low``, ``conf_high``,
    ``prob_above`` (posterior probability that the unit's rate exceeds the
    prior mean).
    """
    from scipy import stats

    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    a = prior.alpha + s
    b = prior.beta + n - s
    tail = (1 - conf_level) / 2
    return {
        "estimate": a / (a + b),
        "conf_low": stats.beta.ppf(tail, a, b),
        "conf_high": stats.beta.ppf(1 - tail, a, b),
        "prob_above": stats.beta.sf(prior.mean, a, b),
    }


def funnel_limits(p0: float, trials, *, conf_level: float = 0.95):
    """Binomial control limits around a pooled rate ``p0`` for a funnel plot (exact quantiles / n)."""
    from scipy import stats

    n = np.asarray(trials, dtype=float)
    tail = (1 - conf_level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = stats.binom.ppf(tail, n, p0) / n
        hi = stats.binom.ppf(1 - tail, n, p0) / n
    return lo, hi
