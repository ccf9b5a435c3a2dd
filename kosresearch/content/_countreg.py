"""Log-link count regressions with an exposure offset: Poisson and NB2, fitted on covariate patterns.

The engine behind :func:`kosresearch.content.rate_ratios` and friends. It is
written for large post tables (a million rows, a few dozen coefficients):

* Rows are mapped to their **covariate pattern** (the unique combination of
  term values). The design matrix is built once per pattern (``P × k``), not
  per row, so gradients and Hessians are ``bincount`` sums over rows followed
  by small ``P × k`` products.
* **Poisson** is collapsible: ``(Σy, Σexposure)`` per pattern are sufficient,
  so the fit runs on the patterns only; the row-level constant
  ``Σ y log E − Σ log y!`` restores the full log-likelihood.
* **NB2** (``Var = μ + αμ²``) is not collapsible; it is fitted on the rows by
  Newton-Raphson on ``(β, log α)`` jointly with the analytic observed Hessian.
  The terms ``lgamma(y + 1/α) − lgamma(1/α)`` and their derivatives depend on
  ``y`` only, so they are evaluated once per distinct count value.
* Cluster-robust scores are summed per (cluster, pattern) cell.

Standard errors follow statsmodels' conventions so that results can be
checked against it: model-based ones are the inverse observed information
(for NB2 the ``β`` block of the inverse joint Hessian of ``(β, α)``, as
``statsmodels.discrete.NegativeBinomial``); cluster-robust ones are the
sandwich ``H⁻¹ (Σ_g s_g s_gᵀ) H⁻¹`` times ``G/(G−1) · (N−1)/(N−K)``
(``statsmodels.stats.sandwich_covariance.cov_cluster`` with
``use_correction=True``; ``K`` counts ``α`` for NB2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kosresearch.errors import KosDataError

__all__ = ["Design", "CountFit", "build_design", "fit_count_model", "overdispersion_test", "design_from_matrix"]

_MAX_ITER = 200
_LOG_ALPHA_MIN = np.log(1e-8)
_LOG_ALPHA_MAX = np.log(1e4)


# --------------------------------------------------------------------------- design


@dataclass(frozen=True)
class TermInfo:
    """How one term enters the design."""

    name: str
    kind: str  # "categorical" | "continuous"
    levels: tuple = ()
    reference: Any = None


@dataclass(frozen=True)
class Design:
    """Rows mapped onto covariate patterns.

    Attributes
    ----------
    pattern : ndarray of int64, shape (n,)
        Pattern index of every row.
    X : ndarray, shape (P, k)
        Design row of every pattern; column 0 is the intercept.
    names : list of str
        Coefficient names (``"(Intercept)"``, ``"format[short_video]"``, ``"price"``).
    coef_terms : list of tuple
        ``(term, level)`` of every coefficient (``(None, None)`` for the
        intercept, ``(term, None)`` for a continuous term).
    terms : list of TermInfo
    """

    pattern: np.ndarray
    X: np.ndarray
    names: list[str]
    coef_terms: list[tuple]
    terms: list[TermInfo]

    @property
    def n_obs(self) -> int:
        return int(self.pattern.size)

    @property
    def k(self) -> int:
        return int(self.X.shape[1])


def _sorted_levels(values) -> list:
    uniq = list(values)
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def is_continuous(series: pd.Series) -> bool:
    """Numeric, non-boolean columns enter as continuous terms."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def build_design(data: pd.DataFrame, terms: list[str], reference: dict | None = None) -> Design:
    """Map the rows of ``data`` to covariate patterns of ``terms``.

    Categorical terms are dummy-coded against ``reference[term]`` (default:
    the first level in sorted order); continuous terms enter as they are.
    """
    reference = dict(reference or {})
    n = len(data)
    codes, dims, infos, uniques = [], [], [], []
    for term in terms:
        col = data[term]
        if is_continuous(col):
            values = col.to_numpy(dtype=float, na_value=np.nan)
            if not np.isfinite(values).all():
                raise KosDataError(
                    f"term {term!r} has {int((~np.isfinite(values)).sum())} missing or infinite values; "
                    "fill or drop them before fitting"
                )
            c, u = pd.factorize(values, sort=False)
            codes.append(c.astype(np.int64))
            dims.append(max(len(u), 1))
            uniques.append(np.asarray(u, dtype=float))
            infos.append(TermInfo(term, "continuous"))
        else:
            c, u = pd.factorize(col, sort=False, use_na_sentinel=True)
            if (c < 0).any():
                raise KosDataError(
                    f"term {term!r} has {int((c < 0).sum())} missing values; fill or drop them before fitting"
                )
            u = list(u)
            levels = _sorted_levels(u) if u else []
            ref = reference.get(term, levels[0] if levels else None)
            order = np.empty(len(u), dtype=np.int64)
            pos = {lvl: i for i, lvl in enumerate(levels)}
            for i, lvl in enumerate(u):
                order[i] = pos[lvl]
            codes.append(order[c] if len(u) else np.zeros(n, np.int64))
            dims.append(max(len(levels), 1))
            uniques.append(levels)
            infos.append(TermInfo(term, "categorical", tuple(levels), ref))
    if not terms:
        pattern = np.zeros(n, dtype=np.int64)
        combos = np.zeros((1, 0), dtype=np.int64)
    elif float(np.prod([float(d) for d in dims])) < 2.0**62:
        flat = np.ravel_multi_index(tuple(codes), tuple(dims)) if n else np.zeros(0, dtype=np.int64)
        pattern, uniq = pd.factorize(flat, sort=False)
        combos = np.column_stack(np.unravel_index(np.asarray(uniq, dtype=np.int64), tuple(dims))) if len(uniq) else np.zeros((0, len(terms)), np.int64)
    else:  # pragma: no cover - astronomically many combinations
        frame = pd.DataFrame(np.column_stack(codes))
        pattern = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
        first = pd.Series(np.arange(n)).groupby(pattern).first().to_numpy()
        combos = np.column_stack(codes)[first]
    pattern = np.asarray(pattern, dtype=np.int64)
    P = combos.shape[0] if terms else 1
    cols = [np.ones(P)]
    names = ["(Intercept)"]
    coef_terms: list[tuple] = [(None, None)]
    for j, info in enumerate(infos):
        if info.kind == "continuous":
            cols.append(uniques[j][combos[:, j]])
            names.append(info.name)
            coef_terms.append((info.name, None))
        else:
            for li, level in enumerate(info.levels):
                if level == info.reference:
                    continue
                cols.append((combos[:, j] == li).astype(float))
                names.append(f"{info.name}[{level}]")
                coef_terms.append((info.name, level))
    X = np.column_stack(cols)
    return Design(pattern, X, names, coef_terms, infos)


def design_from_matrix(X: np.ndarray, names: list[str]) -> Design:
    """A design with one pattern per row (for small, arbitrary matrices)."""
    X = np.asarray(X, dtype=float)
    return Design(np.arange(X.shape[0], dtype=np.int64), X, list(names), [(n, None) for n in names], [])


# --------------------------------------------------------------------------- fit result


@dataclass
class CountFit:
    """A fitted Poisson / NB2 model (log link, offset log exposure).

    ``params`` and ``cov`` are on the log scale; ``cov`` is model-based or
    cluster-robust as requested. ``alpha`` is 0 for Poisson.
    """

    family: str
    params: np.ndarray
    cov: np.ndarray
    names: list[str]
    alpha: float
    alpha_std_error: float
    log_likelihood: float
    n_obs: int
    n_clusters: int | None
    converged: bool
    n_iter: int
    cov_model: np.ndarray = field(repr=False, default=None)

    @property
    def std_errors(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))


# --------------------------------------------------------------------------- Poisson


def _poisson_patterns(Y: np.ndarray, E: np.ndarray, X: np.ndarray, beta0: np.ndarray | None = None):
    """Newton-Raphson for a Poisson GLM on collapsed patterns (Y, E sums)."""
    logE = np.log(E)
    k = X.shape[1]
    beta = np.zeros(k) if beta0 is None else beta0.copy()
    if beta0 is None:
        beta[0] = np.log(max(Y.sum(), 1e-10) / E.sum())

    def ll(b):
        eta = logE + X @ b
        return float(np.sum(Y * eta - np.exp(eta)))

    cur = ll(beta)
    converged = False
    it = 0
    for it in range(1, _MAX_ITER + 1):
        mu = np.exp(logE + X @ beta)
        grad = X.T @ (Y - mu)
        H = X.T @ (mu[:, None] * X)
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
        t = 1.0
        while True:
            new = beta + t * step
            val = ll(new)
            if val >= cur - 1e-12 * abs(cur) or t < 1e-8:
                break
            t /= 2.0
        beta, prev, cur = new, cur, val
        if np.max(np.abs(t * step)) < 1e-10 or abs(cur - prev) < 1e-13 * max(abs(cur), 1.0):
            converged = np.max(np.abs(t * step)) < 1e-6
            break
    mu = np.exp(logE + X @ beta)
    H = X.T @ (mu[:, None] * X)
    return beta, H, cur, converged, it


# --------------------------------------------------------------------------- NB2


class _NB2:
    """Row-level NB2 log-likelihood with derivatives aggregated by pattern."""

    def __init__(self, y: np.ndarray, logE: np.ndarray, pattern: np.ndarray, X: np.ndarray) -> None:
        self.y = y
        self.logE = logE
        self.pattern = pattern
        self.X = X
        self.P = X.shape[0]
        self.uy, self.y_inv, self.y_cnt = np.unique(y, return_inverse=True, return_counts=True)
        from scipy.special import gammaln

        self.lgam_y1 = float(np.sum(self.y_cnt * gammaln(self.uy + 1.0)))

    def mu(self, beta: np.ndarray) -> np.ndarray:
        return np.exp(self.logE + (self.X @ beta)[self.pattern])

    def loglik(self, beta: np.ndarray, a: float) -> float:
        from scipy.special import gammaln

        alpha = np.exp(a)
        r = 1.0 / alpha
        mu = self.mu(beta)
        am = alpha * mu
        l1p = np.log1p(am)
        const = float(np.sum(self.y_cnt * (gammaln(self.uy + r) - gammaln(r)))) - self.lgam_y1
        return const + float(np.sum(-r * l1p + self.y * (np.log(am) - l1p)))

    def derivatives(self, beta: np.ndarray, a: float):
        """Log-likelihood, gradient and observed Hessian in ``(β, a = log α)``, plus row pieces."""
        from scipy.special import gammaln, polygamma, psi

        y, X, P = self.y, self.X, self.P
        alpha = np.exp(a)
        r = 1.0 / alpha
        mu = self.mu(beta)
        am = alpha * mu
        d = 1.0 + am
        l1p = np.log1p(am)
        resid = y - mu
        s_eta = resid / d  # dl/deta
        w_eta = mu * (1.0 + alpha * y) / d**2  # -d2l/deta2
        D1 = psi(self.uy + r) - psi(r)
        D2 = polygamma(1, self.uy + r) - polygamma(1, r)
        # dl/dr per row without the digamma part, and its sum with it
        dldr_rows = -l1p - alpha * resid / d
        dldr = float(np.sum(self.y_cnt * D1)) + float(dldr_rows.sum())
        d2ldr2 = float(np.sum(self.y_cnt * D2)) + float(np.sum(alpha * am / d + alpha**2 * resid / d**2))
        s_a_rows = -r * (D1[self.y_inv] + dldr_rows)  # dl/da per row
        g_a = -r * dldr
        h_aa = r * r * d2ldr2 + r * dldr
        h_eta_a = -alpha * resid * mu / d**2
        sb = np.bincount(self.pattern, weights=s_eta, minlength=P)
        wb = np.bincount(self.pattern, weights=w_eta, minlength=P)
        cb = np.bincount(self.pattern, weights=h_eta_a, minlength=P)
        k = X.shape[1]
        grad = np.empty(k + 1)
        grad[:k] = X.T @ sb
        grad[k] = g_a
        H = np.empty((k + 1, k + 1))
        H[:k, :k] = -(X.T @ (wb[:, None] * X))
        H[:k, k] = H[k, :k] = X.T @ cb
        H[k, k] = h_aa
        const = float(np.sum(self.y_cnt * (gammaln(self.uy + r) - gammaln(r)))) - self.lgam_y1
        ll = const + float(np.sum(-r * l1p + y * (np.log(am) - l1p)))
        return ll, grad, H, s_eta, s_a_rows


def _fit_nb2(model: _NB2, beta0: np.ndarray, a0: float):
    beta, a = beta0.copy(), float(np.clip(a0, _LOG_ALPHA_MIN, _LOG_ALPHA_MAX))
    k = beta.size
    ll, grad, H, *_ = model.derivatives(beta, a)
    converged = False
    it = 0
    for it in range(1, _MAX_ITER + 1):
        neg = -H
        try:
            np.linalg.cholesky(neg)
            step = np.linalg.solve(neg, grad)
        except np.linalg.LinAlgError:
            # not concave here: expected-information step for β, safeguarded Newton/gradient for log α
            Hb = neg[:k, :k]
            step = np.empty(k + 1)
            step[:k] = np.linalg.lstsq(Hb, grad[:k], rcond=None)[0]
            haa = neg[k, k]
            step[k] = grad[k] / haa if haa > 0 else np.sign(grad[k]) * 0.5
        t = 1.0
        while True:
            nb = beta + t * step[:k]
            na = float(np.clip(a + t * step[k], _LOG_ALPHA_MIN, _LOG_ALPHA_MAX))
            val = model.loglik(nb, na)
            if np.isfinite(val) and val >= ll - 1e-12 * abs(ll):
                break
            t /= 2.0
            if t < 1e-10:
                nb, na, val = beta, a, ll
                break
        moved = np.max(np.abs(np.append(nb - beta, na - a)))
        beta, a, prev = nb, na, ll
        ll, grad, H, *_ = model.derivatives(beta, a)
        if a <= _LOG_ALPHA_MIN + 1e-9 and grad[k] < 0:
            # dispersion at its lower bound: the fit is Poisson in the limit
            converged = np.max(np.abs(grad[:k])) < 1e-4 * max(1.0, abs(ll))
            break
        if moved < 1e-9 or (abs(ll - prev) < 1e-12 * max(abs(ll), 1.0) and moved < 1e-6):
            converged = True
            break
    return beta, a, ll, grad, H, converged, it


# --------------------------------------------------------------------------- covariance


def _cluster_scores(pattern: np.ndarray, cluster: np.ndarray, G: int, X: np.ndarray, row_scores: np.ndarray) -> np.ndarray:
    """``Σ_{i in g} x_{p(i)} s_i`` for every cluster ``g`` via (cluster, pattern) cells."""
    P = X.shape[0]
    cell = cluster.astype(np.int64) * P + pattern
    cell_id, cells = pd.factorize(cell, sort=False)
    cells = np.asarray(cells, dtype=np.int64)
    s = np.bincount(cell_id, weights=row_scores, minlength=cells.size)
    cell_cluster = cells // P
    cell_pattern = cells % P
    out = np.empty((G, X.shape[1]))
    for j in range(X.shape[1]):
        out[:, j] = np.bincount(cell_cluster, weights=X[cell_pattern, j] * s, minlength=G)
    return out


def _sandwich(bread: np.ndarray, scores: np.ndarray, n_obs: int) -> np.ndarray:
    G, K = scores.shape
    meat = scores.T @ scores
    cov = bread @ meat @ bread
    return cov * (G / (G - 1.0)) * ((n_obs - 1.0) / (n_obs - K))


def _safe_inv(A: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(A)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(A)


# --------------------------------------------------------------------------- public entry points


def overdispersion_test(y: np.ndarray, mu: np.ndarray) -> tuple[float, float]:
    """Cameron & Trivedi (1990) regression test of Poisson against NB2.

    Regresses ``((y − μ)² − y) / μ`` on ``μ`` without intercept; the one-sided
    t statistic of the slope (which estimates α) tests ``α = 0`` against
    ``α > 0``. Returns ``(statistic, p_value)`` (normal reference).
    """
    from scipy import stats

    z = ((y - mu) ** 2 - y) / mu
    smm = float(np.sum(mu * mu))
    a_hat = float(np.sum(z * mu)) / smm
    resid = z - a_hat * mu
    n = y.size
    s2 = float(np.sum(resid**2)) / max(n - 1, 1)
    se = np.sqrt(s2 / smm)
    stat = a_hat / se if se > 0 else (np.inf if a_hat > 0 else 0.0)
    return float(stat), float(stats.norm.sf(stat))


def check_counts(y: np.ndarray, exposure: np.ndarray | None, *, count_col: str, exposure_col: str | None) -> None:
    """Counts non-negative integers, exposures positive and finite."""
    bad = ~np.isfinite(y) | (y < 0) | (y != np.round(y))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise KosDataError(
            f"count_col={count_col!r} must hold non-negative whole numbers; {int(bad.sum())} rows do not "
            f"(first bad value: {float(y[i])!r} at position {i})"
        )
    if exposure is not None:
        bad = ~np.isfinite(exposure) | (exposure <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise KosDataError(
                f"exposure_col={exposure_col!r} must be positive; {int(bad.sum())} rows are zero, negative or "
                f"missing (first bad value: {float(exposure[i])!r} at position {i})"
            )


def fit_count_model(
    y: np.ndarray,
    exposure: np.ndarray | None,
    design: Design,
    *,
    family: str,
    cluster: np.ndarray | None = None,
) -> tuple[CountFit, dict]:
    """Fit a Poisson or NB2 model on ``design`` with offset ``log(exposure)``.

    ``family`` is ``"poisson"``, ``"negbin"`` or ``"auto"`` (NB2 when the
    Cameron-Trivedi test rejects Poisson at the 5 % level). ``cluster``
    (integer codes ``0..G-1`` per row) requests cluster-robust covariance.

    Returns the fit and a dict with the overdispersion test
    (``statistic``, ``p_value``; computed after the Poisson fit).
    """
    from scipy.special import gammaln

    y = np.asarray(y, dtype=float)
    n = y.size
    E = np.ones(n) if exposure is None else np.asarray(exposure, dtype=float)
    X, pattern = design.X, design.pattern
    P, k = X.shape
    rank = np.linalg.matrix_rank(X) if P >= k else min(P, np.linalg.matrix_rank(X))
    if rank < k:
        raise KosDataError(
            f"the terms are collinear: {k} coefficients but the design has rank {rank}; "
            "drop a term that is determined by the others"
        )
    Yp = np.bincount(pattern, weights=y, minlength=P)
    Ep = np.bincount(pattern, weights=E, minlength=P)
    beta, Hp, llp, conv_p, it_p = _poisson_patterns(Yp, Ep, X)
    logE = np.log(E)
    pos = y > 0
    # the pattern fit used log(Σ exposure) as offset; restore the row-level terms
    pp = Yp > 0
    const = (float(np.sum(y[pos] * logE[pos])) - float(np.sum(Yp[pp] * np.log(Ep[pp])))
             - float(np.sum(gammaln(y + 1.0))))
    mu = np.exp(logE + (X @ beta)[pattern])
    od_stat, od_p = overdispersion_test(y, mu)
    test = {"statistic": od_stat, "p_value": od_p}
    if family == "auto":
        family = "negbin" if od_p < 0.05 else "poisson"
    G = None
    if cluster is not None:
        cluster = np.asarray(cluster, dtype=np.int64)
        G = int(cluster.max()) + 1 if cluster.size else 0
        if G < 2:
            raise KosDataError(f"cluster-robust standard errors need at least 2 clusters; the data have {G}")
    if family == "poisson":
        bread = _safe_inv(Hp)
        cov = bread
        if cluster is not None:
            scores = _cluster_scores(pattern, cluster, G, X, y - mu)
            cov = _sandwich(bread, scores, n)
        fit = CountFit("poisson", beta, cov, list(design.names), 0.0, 0.0, llp + const, n, G, conv_p, it_p, bread)
        return fit, test
    model = _NB2(y, logE, pattern, X)
    a0_val = float(np.sum((y - mu) ** 2 - y)) / float(np.sum(mu * mu))
    a0 = np.log(max(a0_val, 0.05))
    beta_nb, a, ll, grad, H, conv, it = _fit_nb2(model, beta, a0)
    ll, grad, H, s_eta, s_a = model.derivatives(beta_nb, a)
    bread = _safe_inv(-H)
    cov_full = bread
    if cluster is not None:
        sb = _cluster_scores(pattern, cluster, G, X, s_eta)
        sa = np.bincount(cluster, weights=s_a, minlength=G)
        cov_full = _sandwich(bread, np.column_stack([sb, sa]), n)
    alpha = float(np.exp(a))
    alpha_se = float(alpha * np.sqrt(max(cov_full[k, k], 0.0)))
    fit = CountFit(
        "negbin", beta_nb, cov_full[:k, :k], list(design.names), alpha, alpha_se, ll, n, G, conv, it, bread[:k, :k]
    )
    return fit, test
