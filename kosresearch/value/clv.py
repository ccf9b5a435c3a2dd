"""Customer lifetime value: BG/NBD purchase counts, Gamma-Gamma spend, discounted CLV, holdout check.

``BetaGeo`` and ``GammaGamma`` follow the scikit-learn conventions:
``__init__`` only stores options, ``fit`` validates the data, sets the
fitted attributes (ending in ``_``) and returns ``self``; prediction
methods called before ``fit`` raise :class:`~kosresearch.errors.NotFittedError`.
Prediction methods take scalars (and return a float) or arrays / Series
(and return a numpy array), broadcast against each other.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kosresearch._results import Result, critical_value, new_axes
from kosresearch._validation import check_conf_level, check_positive, require_columns
from kosresearch.errors import KosDataError, KosParameterError, NotFittedError
from kosresearch.value import _btyd
from kosresearch.value.rfm import TIME_UNIT_DAYS, TimeUnit, _check_time_unit, calibration_holdout

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "BetaGeo",
    "GammaGamma",
    "customer_lifetime_value",
    "holdout_check",
    "HoldoutResult",
    "ModelIdentificationWarning",
]


class ModelIdentificationWarning(UserWarning):
    """The data barely identify a model: few customers, a parameter at its bound, or a singular information matrix."""


# --------------------------------------------------------------------------- helpers


def _scalar_or_array(*args):
    """``(arrays, scalar_in)``: float arrays broadcast together, and whether every input was a scalar."""
    scalar = all(np.ndim(a) == 0 and not isinstance(a, (pd.Series, np.ndarray, list, tuple)) for a in args)
    arrays = [np.asarray(a.to_numpy() if isinstance(a, pd.Series) else a, dtype=float) for a in args]
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError as exc:
        raise KosParameterError(f"argument shapes do not broadcast together: {[np.shape(a) for a in arrays]}") from exc
    return arrays, scalar


def _out(value, scalar: bool):
    value = np.asarray(value, dtype=float)
    return float(value) if scalar else value


def _check_nonnegative(name: str, value: np.ndarray) -> None:
    bad = ~np.isfinite(value) | (value < 0)
    if bad.any():
        example = value[bad].ravel()[0]
        raise KosParameterError(f"{name} must be finite and non-negative; got {int(bad.sum())} bad values (e.g. {example!r})")


def _params_table(terms, theta: np.ndarray, cov_theta: np.ndarray, conf_level: float) -> pd.DataFrame:
    """Estimates with delta-method standard errors and intervals from the log scale."""
    est = np.exp(theta)
    with np.errstate(invalid="ignore"):
        se_log = np.sqrt(np.diag(cov_theta))
    z = critical_value(conf_level)
    return pd.DataFrame({
        "term": list(terms),
        "estimate": est,
        "std_error": est * se_log,
        "conf_low": np.exp(theta - z * se_log),
        "conf_high": np.exp(theta + z * se_log),
    })


def _fit_warnings(model: str, terms, fit: _btyd.Fit) -> None:
    for term, hit in zip(terms, fit.at_bound):
        if hit:
            value = math.exp(fit.theta[list(terms).index(term)])
            side = "upper" if value > 1 else "lower"
            warnings.warn(
                f"{model}: {term} reached its {side} bound ({value:.3g}); the data do not identify it "
                f"(e.g. too few repeat purchases, or no sign of drop-out). Interpret the fit with care.",
                ModelIdentificationWarning, stacklevel=3,
            )
    if not np.all(np.isfinite(fit.cov_theta)):
        warnings.warn(
            f"{model}: the observed information is singular at the estimate; standard errors are not available.",
            ModelIdentificationWarning, stacklevel=3,
        )
    if not fit.success:
        warnings.warn(f"{model}: the optimiser stopped early ({fit.message}); estimates may be imprecise.",
                      ModelIdentificationWarning, stacklevel=3)


def _weights(rfm: pd.DataFrame, weights_col: str | None) -> np.ndarray:
    if weights_col is None:
        return np.ones(len(rfm))
    w = rfm[weights_col].to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise KosDataError(f"weights_col={weights_col!r} must be finite and non-negative; {int(bad.sum())} rows are not")
    return w


# --------------------------------------------------------------------------- BG/NBD


class BetaGeo:
    """BG/NBD model of repeat purchase counts (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

    While "alive" a customer makes repeat purchases as a Poisson process
    with rate ``λ ~ Gamma(r, α)``; after each repeat purchase he becomes
    inactive with probability ``p ~ Beta(a, b)``. Time is in the unit of the
    RFM summary it is fitted on (weeks by default).

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the natural-scale parameters, added to the mean
        negative log-likelihood per customer (the ``lifetimes`` convention).
        Standard errors then describe the penalised fit.
    conf_level : float, default 0.95
        Confidence level of the intervals in ``params_table_``.

    Attributes
    ----------
    params_ : dict
        Maximum-likelihood estimates, keys ``r, alpha, a, b``.
    params_table_ : DataFrame
        ``term, estimate, std_error, conf_low, conf_high``. Standard errors
        come from the observed information (numerically differentiated
        analytic gradient) by the delta method; intervals are Wald intervals on
        the log scale, transformed back (they stay positive).
    covariance_ : ndarray of shape (4, 4)
        Covariance of the estimates (natural scale, delta method).
    log_likelihood_ : float
        Log-likelihood at the estimate.
    n_customers_ : float
        Customers fitted (sum of weights).
    n_repeat_buyers_ : float
        Customers with at least one repeat purchase.
    converged_ : bool
        The optimiser met its tolerance and no parameter sits at a bound.
    n_iter_ : int
        Optimiser iterations.
    time_unit_ : str or None
        Time unit of the RFM summary (from its ``attrs``), if recorded.

    See Also
    --------
    rfm_summary : builds the input.
    GammaGamma : the spend model that complements it.
    customer_lifetime_value : combines both.

    Notes
    -----
    The likelihood of a customer with ``x`` repeat purchases, the last at
    ``t_x``, observed for ``T`` is (Fader, Hardie & Lee 2005, eq. 6)

    .. math:: L = \\frac{B(a, b+x)}{B(a,b)} \\frac{\\Gamma(r+x)\\alpha^r}{\\Gamma(r)}
              \\left[(\\alpha+T)^{-(r+x)} + 1_{x>0} \\frac{a}{b+x-1} (\\alpha+t_x)^{-(r+x)}\\right].

    Identical ``(x, t_x, T)`` rows are merged into weights and the analytic
    gradient is used with bounded L-BFGS-B on log-parameters, started from
    moment estimates, so small regional samples do not fail to converge; a
    :class:`ModelIdentificationWarning` says when a parameter is not
    identified. Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting
    your customers" the easy way: an alternative to the Pareto/NBD model.
    *Marketing Science* 24(2), 275-284.

    Examples
    --------
    >>> import dataclasses, kosresearch as kr
    >>> scenario = dataclasses.replace(kr.PRESETS["sample"].base_only(), customers=4_000, stores_per_region=4)
    >>> orders = kr.simulate(scenario, seed=1).tables["orders"]
    >>> rfm = kr.rfm_summary(orders, merge_same_day=False)
    >>> bg = BetaGeo().fit(rfm)
    >>> {k: round(v, 2) for k, v in bg.params_.items()}  # planted: r 0.8, alpha 8, a 0.8, b 6
    {'r': 0.8, 'alpha': 7.96, 'a': 0.85, 'b': 6.6}
    >>> round(bg.conditional_expected_purchases(52, frequency=3, recency=20.0, T=60.0), 3)
    0.654
    """

    _terms = _btyd.BG_TERMS

    def __init__(self, penalizer: float = 0.0, *, conf_level: float = 0.95) -> None:
        self.penalizer = penalizer
        self.conf_level = conf_level

    def __repr__(self) -> str:
        return f"BetaGeo(penalizer={self.penalizer!r}, conf_level={self.conf_level!r})"

    # ---------------------------------------------------------------- fitting

    def fit(
        self,
        rfm: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
        weights_col: str | None = None,
    ) -> "BetaGeo":
        """Fit by maximum likelihood on an RFM summary.

        Parameters
        ----------
        rfm : DataFrame
            One row per customer (or per distinct history with ``weights_col``).
        frequency_col, recency_col, T_col : str
            Repeat purchases, time of the last since the first, and age.
        weights_col : str, optional
            Number of customers each row stands for.

        Returns
        -------
        BetaGeo
            ``self``, fitted.

        Raises
        ------
        KosDataError
            Missing or non-numeric columns, negative or non-integer
            frequencies, recency outside ``[0, T]``, recency > 0 without
            repeat purchases, or no repeat buyer at all (the model is then
            not identified).
        KosParameterError
            ``penalizer`` negative or ``conf_level`` outside (0, 1).
        """
        check_positive("penalizer", self.penalizer, allow_zero=True)
        check_conf_level(self.conf_level)
        cols = {"frequency_col": frequency_col, "recency_col": recency_col, "T_col": T_col, "weights_col": weights_col}
        require_columns(rfm, cols, numeric=list(cols), name="rfm")
        x = rfm[frequency_col].to_numpy(dtype=float)
        t_x = rfm[recency_col].to_numpy(dtype=float)
        T = rfm[T_col].to_numpy(dtype=float)
        _validate_rfm(x, t_x, T, frequency_col, recency_col, T_col)
        data = _btyd.BGData.build(x, t_x, T, _weights(rfm, weights_col))
        self._fit_data(data)
        self.time_unit_ = rfm.attrs.get("time_unit")
        return self

    def _fit_data(self, data: _btyd.BGData, *, start: np.ndarray | None = None, warn: bool = True) -> "BetaGeo":
        if data.n <= 0:
            raise KosDataError("rfm has no customers (all weights are zero)")
        if data.n_repeat <= 0:
            raise KosDataError(
                f"none of the {data.n:.0f} customers has a repeat purchase (frequency > 0); "
                "BG/NBD cannot be identified without repeat buyers"
            )
        if warn and (data.n < 30 or data.n_repeat < 10):
            warnings.warn(
                f"BetaGeo: only {data.n:.0f} customers ({data.n_repeat:.0f} repeat buyers); estimates will be very "
                "uncertain", ModelIdentificationWarning, stacklevel=3,
            )
        pen = float(self.penalizer)
        if start is None:
            pilot = data.pilot()
            first = _btyd.bg_start(pilot)
            if pilot is not data:  # large data: a quick fit on a subsample gives the Newton start
                first = _btyd.maximise(lambda th, o: _btyd.bg_loglik(th, pilot, o), [first], n=pilot.n,
                                       penalizer=pen, tol=1e-7).theta
            starts = [first]
        else:
            starts = [np.asarray(start, float)]
        fit = _btyd.maximise(lambda th, o: _btyd.bg_loglik(th, data, o), starts, n=data.n, penalizer=pen)
        if warn:
            _fit_warnings("BetaGeo", self._terms, fit)
        self._theta = fit.theta
        self.params_ = dict(zip(self._terms, map(float, np.exp(fit.theta))))
        self.params_table_ = _params_table(self._terms, fit.theta, fit.cov_theta, float(self.conf_level))
        jac = np.diag(np.exp(fit.theta))
        self.covariance_ = jac @ fit.cov_theta @ jac
        self.log_likelihood_ = fit.loglik
        self.n_customers_ = data.n
        self.n_repeat_buyers_ = data.n_repeat
        self.converged_ = bool(fit.success and not any(fit.at_bound))
        self.n_iter_ = fit.n_iter
        if not hasattr(self, "time_unit_"):
            self.time_unit_ = None
        return self

    def _check_fitted(self, method: str) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"This BetaGeo instance is not fitted yet; call fit(rfm) before {method}()."
            )
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def summary(self, *, digits: int = 3) -> pd.DataFrame:
        """The parameter table rounded for display, with the confidence level in the interval headers."""
        self._check_fitted("summary")
        return _summary_table(self.params_table_, self.conf_level, digits)

    # ---------------------------------------------------------------- predictions

    def expected_purchases(self, t):
        """Expected repeat purchases in ``(0, t]`` of a new customer, E[X(t)] (FHL 2005, eq. 9).

        Parameters
        ----------
        t : float or array-like
            Length of the period in the model's time unit.

        Returns
        -------
        float or ndarray
        """
        r, al, a, b = self._check_fitted("expected_purchases")
        (tt,), scalar = _scalar_or_array(t)
        _check_nonnegative("t", tt)
        return _out(_btyd.bg_expected(tt, r, al, a, b), scalar)

    def conditional_expected_purchases(self, t, frequency, recency, T):
        """Expected repeat purchases in the next ``t`` given the history (FHL 2005, eq. 10).

        Parameters
        ----------
        t : float or array-like
            Length of the future period.
        frequency, recency, T : float or array-like
            The customer's repeat purchases, time of the last one and age.

        Returns
        -------
        float or ndarray
            E[Y(t) | x, t_x, T], broadcast over the inputs.
        """
        r, al, a, b = self._check_fitted("conditional_expected_purchases")
        (tt, x, t_x, TT), scalar = _scalar_or_array(t, frequency, recency, T)
        for name, v in (("t", tt), ("frequency", x), ("recency", t_x), ("T", TT)):
            _check_nonnegative(name, v)
        return _out(_btyd.bg_conditional_expected(tt, x, t_x, TT, r, al, a, b), scalar)

    def probability_alive(self, frequency, recency, T):
        """Probability that a customer with this history is still active.

        ``P(alive) = 1 / (1 + 1{x>0} · a/(b+x-1) · ((α+T)/(α+t_x))^(r+x))``
        (Fader, Hardie & Lee 2008, "Computing P(alive) using the BG/NBD model",
        http://brucehardie.com/notes/021/).
        """
        r, al, a, b = self._check_fitted("probability_alive")
        (x, t_x, TT), scalar = _scalar_or_array(frequency, recency, T)
        for name, v in (("frequency", x), ("recency", t_x), ("T", TT)):
            _check_nonnegative(name, v)
        return _out(_btyd.bg_p_alive(x, t_x, TT, r, al, a, b), scalar)

    def probability_of_purchases(self, t, n):
        """Probability that a new customer makes exactly ``n`` repeat purchases in ``(0, t]`` (FHL 2005, eq. 8)."""
        r, al, a, b = self._check_fitted("probability_of_purchases")
        (tt, nn), scalar = _scalar_or_array(t, n)
        _check_nonnegative("t", tt)
        _check_nonnegative("n", nn)
        if np.any(nn != np.round(nn)):
            raise KosParameterError("n must hold whole numbers of purchases")
        return _out(_btyd.bg_probability(tt, nn, r, al, a, b), scalar)


def _validate_rfm(x, t_x, T, frequency_col: str, recency_col: str, T_col: str) -> None:
    problems = []
    for name, col, v in (("frequency_col", frequency_col, x), ("recency_col", recency_col, t_x), ("T_col", T_col, T)):
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            problems.append(f"{name}={col!r} has {int(bad.sum())} missing, infinite or negative values "
                            f"(first: {v[bad][0]!r})")
    nonint = np.isfinite(x) & (x != np.round(x))
    if nonint.any():
        problems.append(f"frequency_col={frequency_col!r} has {int(nonint.sum())} non-integer values (first: {x[nonint][0]!r})")
    tol = 1e-9 * np.maximum(1.0, np.abs(T))
    late = t_x > T + tol
    if late.any():
        problems.append(f"recency_col={recency_col!r} exceeds T_col={T_col!r} in {int(late.sum())} rows "
                        f"(first: recency {t_x[late][0]!r} > T {T[late][0]!r})")
    orphan = (x == 0) & (t_x > tol)
    if orphan.any():
        problems.append(f"recency_col={recency_col!r} is positive in {int(orphan.sum())} rows without repeat purchases "
                        f"(frequency 0); recency must be 0 there")
    if problems:
        raise KosDataError("rfm is not a valid RFM summary: " + "; ".join(problems), problems)


def _summary_table(table: pd.DataFrame, conf_level: float, digits: int) -> pd.DataFrame:
    out = table.copy()
    num = out.select_dtypes("number").columns
    out[num] = out[num].round(digits)
    pct = f"{conf_level:.0%}"
    return out.rename(columns={"std_error": "std. error", "conf_low": f"CI low ({pct})", "conf_high": f"CI high ({pct})"})


# --------------------------------------------------------------------------- Gamma-Gamma


class GammaGamma:
    """Gamma-Gamma model of the mean value of repeat purchases (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

    Each transaction value is ``Gamma(p, ν)`` with a customer-specific rate
    ``ν ~ Gamma(q, γ)``, independent of purchase frequency. Fitted on
    customers with at least one repeat purchase.

    Parameters
    ----------
    penalizer : float, default 0
        L2 penalty on the natural-scale parameters (see :class:`BetaGeo`).
    conf_level : float, default 0.95
        Confidence level of the intervals in ``params_table_`` and ``independence_``.

    Attributes
    ----------
    params_ : dict
        Estimates, keys ``p, q, gamma``.
    params_table_ : DataFrame
        ``term, estimate, std_error, conf_low, conf_high`` (as in :class:`BetaGeo`).
    covariance_ : ndarray of shape (3, 3)
        Covariance of the estimates (natural scale).
    log_likelihood_ : float
        Log-likelihood at the estimate (densities of the mean values).
    n_customers_ : float
        Repeat buyers fitted.
    converged_ : bool
        The optimiser met its tolerance and no parameter sits at a bound.
    population_mean_ : float
        Mean transaction value of the population, ``p γ / (q - 1)`` (infinite if ``q <= 1``).
    independence_ : DataFrame
        Check of the model's assumption that spend does not depend on
        frequency, among repeat buyers: ``term`` (``spearman_rho``,
        ``pearson_r``), ``estimate``, ``conf_low``, ``conf_high`` (Fisher z),
        ``p_value``, ``n``. Correlations far from 0 mean CLV mixes up
        frequent and big spenders.

    Notes
    -----
    With ``x`` repeat transactions of mean ``z̄`` the likelihood is
    (Fader & Hardie 2013, eq. 4)

    .. math:: f(\\bar z) = \\frac{\\Gamma(px+q)}{\\Gamma(px)\\Gamma(q)}
              \\frac{\\gamma^q x^{px} \\bar z^{px-1}}{(\\gamma + x \\bar z)^{px+q}},

    and the expected value of a customer's future transactions is
    ``E[Z | x, z̄] = p (γ + x z̄) / (p x + q - 1)``. Fader, P. S., Hardie,
    B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves for
    customer base analysis. *Journal of Marketing Research* 42(4), 415-430.
    Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary
    value. http://brucehardie.com/notes/025/.
    """

    _terms = _btyd.GG_TERMS

    def __init__(self, penalizer: float = 0.0, *, conf_level: float = 0.95) -> None:
        self.penalizer = penalizer
        self.conf_level = conf_level

    def __repr__(self) -> str:
        return f"GammaGamma(penalizer={self.penalizer!r}, conf_level={self.conf_level!r})"

    def fit(
        self,
        rfm: pd.DataFrame,
        *,
        frequency_col: str = "frequency",
        monetary_col: str = "monetary_value",
        weights_col: str | None = None,
    ) -> "GammaGamma":
        """Fit by maximum likelihood on the repeat buyers of an RFM summary.

        Parameters
        ----------
        rfm : DataFrame
            One row per customer; rows with frequency 0 are ignored.
        frequency_col, monetary_col : str
            Repeat purchases and their mean value.
        weights_col : str, optional
            Number of customers each row stands for.

        Returns
        -------
        GammaGamma
            ``self``, fitted.

        Raises
        ------
        KosDataError
            Missing or non-numeric columns, negative values, or fewer than
            two repeat buyers with a positive mean value.
        """
        check_positive("penalizer", self.penalizer, allow_zero=True)
        check_conf_level(self.conf_level)
        cols = {"frequency_col": frequency_col, "monetary_col": monetary_col, "weights_col": weights_col}
        require_columns(rfm, cols, numeric=list(cols), name="rfm")
        x = rfm[frequency_col].to_numpy(dtype=float)
        m = rfm[monetary_col].to_numpy(dtype=float)
        w = _weights(rfm, weights_col)
        for name, col, v in (("frequency_col", frequency_col, x), ("monetary_col", monetary_col, m)):
            bad = ~np.isfinite(v) | (v < 0)
            if bad.any():
                raise KosDataError(f"{name}={col!r} has {int(bad.sum())} missing, infinite or negative values "
                                   f"(first: {v[bad][0]!r})")
        rep = (x > 0) & (w > 0)
        zero = rep & (m <= 0)
        if zero.any():
            warnings.warn(f"GammaGamma: {int(zero.sum())} repeat buyers with mean value 0 are left out",
                          ModelIdentificationWarning, stacklevel=2)
        use = rep & (m > 0)
        self._fit_arrays(x[use], m[use], w[use])
        return self

    def _fit_arrays(self, x, m, w, *, start: np.ndarray | None = None, warn: bool = True) -> "GammaGamma":
        if np.count_nonzero(w) < 2 or w.sum() < 2:
            raise KosDataError(
                f"GammaGamma needs at least two repeat buyers with a positive mean value; found {w.sum():.0f}"
            )
        starts = _btyd.gg_start(x, m, w) if start is None else [np.asarray(start, float)]
        fit = _btyd.maximise(lambda th, o: _btyd.gg_loglik(th, x, m, w, o), starts, n=float(w.sum()),
                             penalizer=float(self.penalizer))
        if warn:
            _fit_warnings("GammaGamma", self._terms, fit)
        self._theta = fit.theta
        p, q, g = map(float, np.exp(fit.theta))
        self.params_ = {"p": p, "q": q, "gamma": g}
        self.params_table_ = _params_table(self._terms, fit.theta, fit.cov_theta, float(self.conf_level))
        jac = np.diag(np.exp(fit.theta))
        self.covariance_ = jac @ fit.cov_theta @ jac
        self.log_likelihood_ = fit.loglik
        self.n_customers_ = float(w.sum())
        self.converged_ = bool(fit.success and not any(fit.at_bound))
        self.population_mean_ = p * g / (q - 1.0) if q > 1 else math.inf
        if warn and q <= 1:
            warnings.warn(f"GammaGamma: q = {q:.3g} <= 1, so the population mean spend is infinite; "
                          "values of customers without repeat purchases are not defined", ModelIdentificationWarning,
                          stacklevel=3)
        if warn:
            self.independence_ = _independence(x, m, w, float(self.conf_level))
        return self

    def _check_fitted(self, method: str) -> tuple[float, float, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"This GammaGamma instance is not fitted yet; call fit(rfm) before {method}().")
        return self.params_["p"], self.params_["q"], self.params_["gamma"]

    def summary(self, *, digits: int = 3) -> pd.DataFrame:
        """The parameter table rounded for display."""
        self._check_fitted("summary")
        return _summary_table(self.params_table_, self.conf_level, digits)

    def conditional_expected_value(self, frequency, monetary_value):
        """Expected value of a customer's future transactions, ``p (γ + x z̄) / (p x + q - 1)``.

        Customers without repeat purchases (``frequency`` 0) get the population
        mean ``p γ / (q - 1)``, whatever their ``monetary_value``.

        Returns
        -------
        float or ndarray
        """
        p, q, g = self._check_fitted("conditional_expected_value")
        (x, m), scalar = _scalar_or_array(frequency, monetary_value)
        _check_nonnegative("frequency", x)
        _check_nonnegative("monetary_value", m)
        return _out(_gg_expected(x, m, p, q, g), scalar)


def _gg_expected(x, m, p, q, g):
    xm = np.where(x > 0, x * m, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        den = p * x + q - 1.0
        return np.where(den > 0, p * (g + xm) / den, np.inf)


def _independence(x: np.ndarray, m: np.ndarray, w: np.ndarray, conf_level: float) -> pd.DataFrame:
    """Spearman and Pearson correlation of frequency and mean value (Fisher-z intervals)."""
    from scipy import stats

    xr = np.repeat(x, np.round(w).astype(int)) if not np.all(w == 1) else x
    mr = np.repeat(m, np.round(w).astype(int)) if not np.all(w == 1) else m
    n = xr.size
    z = critical_value(conf_level)
    rows = []
    for term, fn, se_factor in (("spearman_rho", stats.spearmanr, 1.06), ("pearson_r", stats.pearsonr, 1.0)):
        if n < 4 or np.all(xr == xr[0]) or np.all(mr == mr[0]):
            rows.append((term, np.nan, np.nan, np.nan, np.nan, n))
            continue
        res = fn(xr, mr)
        est, pv = float(res[0]), float(res[1])
        fz = np.arctanh(np.clip(est, -0.999999, 0.999999))
        se = se_factor / math.sqrt(n - 3)
        rows.append((term, est, math.tanh(fz - z * se), math.tanh(fz + z * se), pv, n))
    return pd.DataFrame(rows, columns=["term", "estimate", "conf_low", "conf_high", "p_value", "n"])


# --------------------------------------------------------------------------- CLV


def _model_unit(bg: BetaGeo, given: str | None) -> str:
    if given is not None:
        _check_time_unit(given, "model_time_unit")
        return given
    unit = getattr(bg, "time_unit_", None)
    if unit is None:
        warnings.warn(
            "customer_lifetime_value: the time unit of the fitted model is not recorded (the RFM frame did not "
            "come from rfm_summary); assuming weeks. Pass model_time_unit= to say otherwise.",
            UserWarning, stacklevel=3,
        )
        return "W"
    return unit


def customer_lifetime_value(
    bg: BetaGeo,
    gg: GammaGamma,
    rfm: pd.DataFrame,
    *,
    horizon: float,
    discount_rate: float,
    time_unit: TimeUnit = "M",
    margin: float = 1.0,
    model_time_unit: TimeUnit | None = None,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    monetary_col: str = "monetary_value",
) -> pd.Series:
    """Discounted expected value of each customer's future repeat purchases over a horizon.

    Parameters
    ----------
    bg : BetaGeo
        Fitted purchase-count model.
    gg : GammaGamma
        Fitted spend model.
    rfm : DataFrame
        Customers to value (RFM summary as in :func:`rfm_summary`).
    horizon : float
        Length of the future period, in ``time_unit`` (e.g. 36 months).
    discount_rate : float
        Annual discount rate (0.10 = 10 % a year); 0 for undiscounted values.
    time_unit : {"D", "W", "M"}
        Unit of ``horizon`` and length of the discounting period.
    margin : float, default 1
        Share of revenue kept as margin; 1 gives revenue.
    model_time_unit : {"D", "W", "M"}, optional
        Time unit of ``bg`` (and of ``rfm``'s recency and T). Default: the
        unit recorded when ``bg`` was fitted on an :func:`rfm_summary` frame;
        weeks, with a warning, if none was recorded.
    frequency_col, recency_col, T_col, monetary_col : str
        Columns of ``rfm``.

    Returns
    -------
    Series
        ``clv`` per row of ``rfm`` (same index), in the currency of the values.

    Raises
    ------
    NotFittedError
        ``bg`` or ``gg`` is not fitted.
    KosParameterError
        ``horizon`` not positive, ``discount_rate`` negative, ``margin`` outside (0, 1].

    See Also
    --------
    ltv_cac : value from acquisition, realised plus expected, against CAC.

    Notes
    -----
    Discounting convention (the discrete-period convention of the
    ``lifetimes`` package, with an annual rate): the horizon is cut into
    periods of one ``time_unit``, ``k = 1..K`` (the last one possibly
    shorter). The expected number of purchases in period ``k`` comes from
    the continuous-time BG/NBD, ``E[Y(t_k) | x, t_x, T] - E[Y(t_{k-1}) | ...]``,
    it is multiplied by the Gamma-Gamma expected value ``E[Z | x, z̄]`` and
    the margin, and discounted to today as a cash flow at the end of the
    period, ``(1 + discount_rate)^(-t_k / year)``:

    .. math:: CLV = m \\, E[Z|x,\\bar z] \\sum_{k=1}^{K}
              \\frac{E[Y(t_k)|\\cdot] - E[Y(t_{k-1})|\\cdot]}{(1+d)^{t_k/\\text{year}}}.

    Multiplying expected counts by expected values relies on the
    independence of spend and frequency assumed by Gamma-Gamma (see
    ``GammaGamma.independence_``). Fader, Hardie & Lee (2005), "RFM and CLV",
    *Journal of Marketing Research* 42(4), 415-430, use the continuous-time
    analogue (discounted expected transactions).
    """
    bg._check_fitted("customer_lifetime_value")
    gg._check_fitted("customer_lifetime_value")
    period_days = _check_time_unit(time_unit)
    check_positive("horizon", horizon)
    check_positive("discount_rate", discount_rate, allow_zero=True)
    check_positive("margin", margin)
    if margin > 1:
        raise KosParameterError(f"margin={margin!r} must lie in (0, 1]; it is the share of revenue kept")
    cols = {"frequency_col": frequency_col, "recency_col": recency_col, "T_col": T_col, "monetary_col": monetary_col}
    require_columns(rfm, cols, numeric=list(cols), name="rfm")
    x = rfm[frequency_col].to_numpy(dtype=float)
    t_x = rfm[recency_col].to_numpy(dtype=float)
    T = rfm[T_col].to_numpy(dtype=float)
    m = rfm[monetary_col].to_numpy(dtype=float)
    _validate_rfm(x, t_x, T, frequency_col, recency_col, T_col)
    model_days = TIME_UNIT_DAYS[_model_unit(bg, model_time_unit)]
    k = np.arange(1, int(math.ceil(horizon)) + 1, dtype=float)
    ends = np.minimum(k, horizon)  # in time_unit
    t_model = ends * period_days / model_days
    disc = (1.0 + discount_rate) ** (-ends * period_days / 365.25)
    r, al, a, b = (bg.params_[key] for key in _btyd.BG_TERMS)
    value = np.empty(x.size)
    step = max(1, 2_000_000 // max(k.size, 1))
    for lo in range(0, x.size, step):
        sl = slice(lo, lo + step)
        cum = _btyd.bg_conditional_expected(t_model[None, :], x[sl, None], t_x[sl, None], T[sl, None], r, al, a, b)
        inc = np.diff(np.concatenate([np.zeros((cum.shape[0], 1)), cum], axis=1), axis=1)
        value[sl] = inc @ disc
    ez = _gg_expected(x, m, gg.params_["p"], gg.params_["q"], gg.params_["gamma"])
    return pd.Series(margin * ez * value, index=rfm.index, name="clv")


# --------------------------------------------------------------------------- holdout check


@dataclass(frozen=True, repr=False)
class HoldoutResult(Result):
    """Predicted against actual repeat purchases in a holdout period.

    Attributes
    ----------
    table : DataFrame
        One row per calibration-period frequency (``0, 1, ..., "7+"``) and a
        row ``all``: ``term``, ``n_customers``, ``actual`` (mean holdout
        purchases per customer), ``predicted`` (mean of the BG/NBD
        conditional expectation), ``std_error``, ``conf_low``, ``conf_high``
        (normal interval of ``actual``), ``ratio`` (predicted / actual).
    conf_level : float
        Level of the intervals.
    model : BetaGeo
        The model fitted on the calibration period.
    data : DataFrame
        :func:`calibration_holdout` output with column ``predicted``.
    calibration_end, observation_end : Timestamp
        The split and the end of the holdout.
    """

    model: Any
    data: pd.DataFrame
    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp

    def summary(self, *, digits: int = 3, lang: str = "en") -> pd.DataFrame:
        """The table in ``lang`` (``zh``/``en``), rounded; ``term`` is the calibration-period frequency."""
        from kosresearch.value import _labels

        t = self.table.copy()
        num = t.select_dtypes("number").columns
        t[num] = t[num].round(digits)
        out = _labels.display(t.drop(columns="std_error"), lang, ci=f"{self.conf_level:.0%}")
        first = "校准期复购次数" if lang == "zh" else "repeat purchases (calibration)"
        return out.rename(columns={out.columns[0]: first})

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Mean holdout purchases by calibration frequency: actual (with intervals) and predicted."""
        from kosresearch.value import _labels

        _labels.lang_index(lang)
        ax = new_axes(ax)
        t = self.table[self.table["term"] != "all"]
        pos = np.arange(len(t))
        ax.errorbar(pos, t["actual"], yerr=[t["actual"] - t["conf_low"], t["conf_high"] - t["actual"]],
                    fmt="o-", capsize=3, label=_labels.plot_label("actual", lang))
        ax.plot(pos, t["predicted"], "s--", label="BG/NBD")
        ax.set_xticks(pos, t["term"].astype(str))
        ax.set_xlabel(_labels.plot_label("calibration", lang))
        ax.set_ylabel(_labels.plot_label("holdout", lang))
        ax.legend()
        return ax


def holdout_check(
    orders: pd.DataFrame,
    *,
    calibration_end=None,
    observation_end=None,
    holdout_weeks: float = 52,
    customer_col: str = "customer_id",
    time_col: str = "ordered_at",
    value_col: str = "amount",
    time_unit: TimeUnit = "W",
    penalizer: float = 0.0,
    max_frequency: int = 7,
    conf_level: float = 0.95,
) -> HoldoutResult:
    """Fit BG/NBD on a calibration period and compare its predictions with the holdout period.

    Parameters
    ----------
    orders : DataFrame
        One row per order.
    calibration_end : date-like, optional
        Split date; default ``observation_end - holdout_weeks``.
    observation_end : date-like, optional
        End of the holdout; default midnight after the latest order.
    holdout_weeks : float, default 52
        Holdout length when ``calibration_end`` is not given.
    customer_col, time_col, value_col, time_unit
        As in :func:`rfm_summary`.
    penalizer : float
        Passed to :class:`BetaGeo`.
    max_frequency : int, default 7
        Calibration frequencies from this value on are pooled (``"7+"``).
    conf_level : float
        Level of the intervals of the actual means.

    Returns
    -------
    HoldoutResult

    See Also
    --------
    calibration_holdout

    Notes
    -----
    The classic check of Fader, Hardie & Lee (2005, Figure 4): customers are
    grouped by their number of calibration-period repeat purchases, and the
    average number of holdout purchases is compared with the average
    conditional expectation ``E[Y(t) | x, t_x, T]``.
    """
    check_conf_level(conf_level)
    check_positive("holdout_weeks", holdout_weeks)
    if not isinstance(max_frequency, (int, np.integer)) or max_frequency < 1:
        raise KosParameterError(f"max_frequency={max_frequency!r} must be a whole number of at least 1")
    if calibration_end is None:
        from kosresearch.value.rfm import _default_end, _occasions, _as_timestamp

        if observation_end is None:
            occ = _occasions(orders, customer_col=customer_col, time_col=time_col, value_col=value_col,
                             merge_same_day=True)
            observation_end = _default_end(occ)
        calibration_end = _as_timestamp(observation_end, "observation_end") - pd.Timedelta(weeks=holdout_weeks)
    data = calibration_holdout(orders, calibration_end=calibration_end, observation_end=observation_end,
                               customer_col=customer_col, time_col=time_col, value_col=value_col,
                               time_unit=time_unit)
    bg = BetaGeo(penalizer=penalizer, conf_level=conf_level).fit(data)
    data = data.assign(predicted=bg.conditional_expected_purchases(
        data["duration_holdout"], data["frequency"], data["recency"], data["T"]))
    bucket = np.minimum(data["frequency"].to_numpy(), max_frequency)
    labels = [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"]
    z = critical_value(conf_level)
    rows = []
    for i, lab in enumerate(labels + ["all"]):
        sel = bucket == i if lab != "all" else np.ones(len(data), bool)
        if not sel.any():
            continue
        act = data["frequency_holdout"].to_numpy(dtype=float)[sel]
        pred = data["predicted"].to_numpy()[sel]
        se = act.std(ddof=1) / math.sqrt(act.size) if act.size > 1 else np.nan
        mean = act.mean()
        rows.append((lab, int(sel.sum()), mean, pred.mean(), se, mean - z * se, mean + z * se,
                     pred.mean() / mean if mean > 0 else np.nan))
    table = pd.DataFrame(rows, columns=["term", "n_customers", "actual", "predicted", "std_error", "conf_low",
                                        "conf_high", "ratio"])
    return HoldoutResult(table=table, conf_level=conf_level, model=bg, data=data,
                         calibration_end=pd.Timestamp(data.attrs["calibration_end"]),
                         observation_end=pd.Timestamp(data.attrs["observation_end"]))
