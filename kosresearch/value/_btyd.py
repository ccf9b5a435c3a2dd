"""Likelihoods, gradients and closed-form expressions of BG/NBD and Gamma-Gamma.

Private numerical core of :mod:`kosresearch.value.clv`. Everything here works
on plain numpy arrays; validation happens in the public fitters.

BG/NBD (Fader, Hardie & Lee 2005a)
    ``λ ~ Gamma(r, α)`` (rate ``α``), ``p ~ Beta(a, b)``; while alive a customer
    buys as a Poisson process with rate ``λ``; after each repeat purchase he
    drops out with probability ``p``. Data per customer: ``x`` repeat
    purchases, time ``t_x`` of the last one and age ``T`` (both since the
    first purchase).

Gamma-Gamma (Fader, Hardie & Lee 2005b; Fader & Hardie 2013)
    Transaction values ``z ~ Gamma(p, ν)``, ``ν ~ Gamma(q, γ)``; the data are
    the number ``x`` of repeat transactions and their mean ``z̄``.

The BG/NBD log-likelihood is evaluated on *collapsed* data: identical
``(x, t_x, T)`` rows are merged into one weighted row, terms that depend on
``x`` only are summed per distinct ``x``, and logarithms of ``α + T`` and
``α + t_x`` are computed per distinct time value and gathered. The gradient is
analytic. Optimisation runs on log-parameters with bounds, so it always
terminates, from moment-based starting values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

#: natural-scale bounds of every parameter during optimisation
PARAM_LOWER = 1e-4
PARAM_UPPER = 1e5
LOG_BOUNDS = (float(np.log(PARAM_LOWER)), float(np.log(PARAM_UPPER)))

BG_TERMS = ("r", "alpha", "a", "b")
GG_TERMS = ("p", "q", "gamma")


# --------------------------------------------------------------------------- collapsing


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hash-based ``(codes, uniques)`` of a float array (no sorting)."""
    codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=float)


def _distinct_rows(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes of distinct ``(x, t_x, T)`` rows and their number."""
    xc, xu = _codes(x)
    tc, tu = _codes(T)
    rc, ru = _codes(t_x)
    n_t, n_r = tu.size, ru.size
    if xu.size * n_t * n_r >= 2**62:  # pragma: no cover - astronomically many distinct values
        key = pd.MultiIndex.from_arrays([xc, tc, rc])
        codes, uniq = pd.factorize(key)
        return codes.astype(np.int64), len(uniq)
    codes, uniq = pd.factorize((xc * n_t + tc) * n_r + rc, sort=False)
    return codes.astype(np.int64), len(uniq)


@dataclass(frozen=True)
class BGData:
    """BG/NBD data prepared for fast likelihood evaluation.

    Customers without repeat purchases enter only through ``(α/(α+T))^r``, so
    they are merged by ``T`` (``T0``, ``w0``). Repeat buyers are rows
    ``x, t_x, T, w`` (``xi`` the integer frequency); identical rows are merged
    into weights when that shrinks the data (judged on a sample, so data of
    nearly all-distinct rows, e.g. daily times over years, skip the merging
    cost). ``w_x`` is the total weight of each frequency ``0..max``.
    """

    w_x: np.ndarray
    T0: np.ndarray
    w0: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    w: np.ndarray
    xi: np.ndarray
    n: float
    n_repeat: float

    @classmethod
    def build(cls, x, t_x, T, weights=None, *, collapse: bool | None = None) -> "BGData":
        """Prepare ``x`` (whole numbers), ``t_x``, ``T`` and optional ``weights``.

        ``collapse``: merge identical repeat-buyer rows (True), never (False),
        or when a sample of rows shows enough duplicates (None).
        """
        x = np.asarray(x, dtype=float)
        t_x = np.asarray(t_x, dtype=float)
        T = np.asarray(T, dtype=float)
        if weights is not None:
            w = np.asarray(weights, dtype=float)
            keep = w > 0
            if not keep.all():
                x, t_x, T, w = x[keep], t_x[keep], T[keep], w[keep]
        xi_all = x.astype(np.int64)
        w_x = (np.bincount(xi_all) if weights is None else np.bincount(xi_all, weights=w)) if x.size else np.zeros(1)
        w_x = w_x.astype(float)
        zero = xi_all == 0
        T0_code, T0 = _codes(T[zero])
        w0 = np.bincount(T0_code, weights=None if weights is None else w[zero], minlength=T0.size).astype(float)
        pos = ~zero
        xp, txp, Tp = x[pos], t_x[pos], T[pos]
        wp = np.ones(xp.size) if weights is None else w[pos]
        if collapse is None:
            collapse = False
            if xp.size > 2_000:
                step = max(1, xp.size // 20_000)
                _, k = _distinct_rows(xp[::step], txp[::step], Tp[::step])
                collapse = k < 0.5 * xp[::step].size
        if collapse and xp.size:
            codes, k = _distinct_rows(xp, txp, Tp)
            first = np.full(k, xp.size, np.int64)
            np.minimum.at(first, codes, np.arange(xp.size))
            wp = np.bincount(codes, weights=wp, minlength=k)
            xp, txp, Tp = xp[first], txp[first], Tp[first]
        return cls(w_x, T0, w0, xp, txp, Tp, wp, xp.astype(np.int64), float(w_x.sum()), float(wp.sum()))

    @property
    def n_rows(self) -> int:
        """Rows evaluated per likelihood call."""
        return int(self.x.size + self.T0.size)

    def pilot(self, size: int = 20_000) -> "BGData":
        """A strided subsample of the repeat-buyer rows (no-repeat ages kept, reweighted) for starting values."""
        if self.x.size <= 2 * size:
            return self
        step = self.x.size // size
        sl = slice(0, None, step)
        w = self.w[sl]
        frac = w.sum() / self.n_repeat
        w0 = self.w0 * frac
        xi = self.xi[sl]
        w_x = np.bincount(xi, weights=w, minlength=self.w_x.size)
        w_x[0] = w0.sum()
        return BGData(w_x, self.T0, w0, self.x[sl], self.t_x[sl], self.T[sl], w, xi, float(w_x.sum()), float(w.sum()))


# --------------------------------------------------------------------------- BG/NBD likelihood


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    """Dot product without BLAS: OpenBLAS threads make ``u @ v`` erratic (and often far slower) on busy cores."""
    return float(np.einsum("i,i->", u, v))


_CHUNK = 32_768  # rows per block: temporaries stay in cache


def _repeat_sums(d: BGData, r: float, al: float, c4x: np.ndarray, qx: np.ndarray, order: int) -> np.ndarray:
    """Weighted sums over repeat-buyer rows needed by the likelihood, gradient and Hessian.

    Rows are processed in blocks through preallocated buffers (``out=``), so
    the ~40 elementwise passes run in cache without allocations (numpy's
    transcendental loops are several times slower writing to fresh arrays).
    Returns ``S`` with (order 0) ``Σw·δ, Σw·log1p(e^-δ)``, (order 1)
    ``Σws, Σws·D, Σws·rx·E, Σws·q`` and (order 2) ``Σwv·D², Σwv·D·rx·E,
    Σws·E, Σwv·D, Σwv·D·q, Σwv·(rx·E)², Σws·rx·E·(1/(α+t_x)+1/(α+T)), Σwv·rx·E,
    Σwv·rx·E·q, Σwv, Σwv·q, Σ(wv+ws)·q²``, where ``D = log((α+T)/(α+t_x))``,
    ``E = 1/(α+T) - 1/(α+t_x)``, ``rx = r+x``, ``s = σ(δ)``, ``ws = w s``,
    ``wv = w s (1-s)``; then the terms in ``α+T`` alone: ``Σw·rx·log(α+T)``
    (order 0), ``Σw·log(α+T), Σw·rx/(α+T)`` (order 1), ``Σw/(α+T),
    Σw·rx/(α+T)²`` (order 2).
    """
    ein = np.einsum
    S = np.zeros(23)
    size = min(_CHUNK, d.x.size)
    buf = np.empty((12, size))
    for lo in range(0, d.x.size, _CHUNK):
        hi = min(lo + _CHUNK, d.x.size)
        m = hi - lo
        w, x, T, t_x, xi = d.w[lo:hi], d.x[lo:hi], d.T[lo:hi], d.t_x[lo:hi], d.xi[lo:hi]
        aT, atx, D, rx, dd, e, tmp, s, ws, E, q, rxE = (b[:m] for b in buf)
        np.add(T, al, out=aT)
        np.add(t_x, al, out=atx)
        np.divide(aT, atx, out=D)
        np.log(D, out=D)
        np.add(x, r, out=rx)
        np.multiply(rx, D, out=dd)
        np.take(c4x, xi, out=tmp)
        dd += tmp
        np.negative(dd, out=e)
        with np.errstate(over="ignore"):
            np.exp(e, out=e)
        np.log1p(e, out=tmp)
        S[0] += ein("i,i->", w, dd)
        S[1] += ein("i,i->", w, tmp)
        wrx = s  # buffer for w·(r+x), free until order 1
        np.multiply(w, rx, out=wrx)
        np.log(aT, out=tmp)
        S[18] += ein("i,i->", wrx, tmp)
        if order < 1:
            continue
        S[19] += ein("i,i->", w, tmp)
        np.divide(1.0, aT, out=tmp)
        S[20] += ein("i,i->", wrx, tmp)
        if order >= 2:
            S[21] += ein("i,i->", w, tmp)
            tmp *= tmp
            S[22] += ein("i,i->", wrx, tmp)
        e += 1.0
        np.divide(1.0, e, out=s)
        np.multiply(w, s, out=ws)
        np.divide(1.0, aT, out=aT)      # 1/(α+T)
        np.divide(1.0, atx, out=atx)    # 1/(α+t_x)
        np.subtract(aT, atx, out=E)
        np.take(qx, xi, out=q)
        np.multiply(rx, E, out=rxE)
        S[2] += ws.sum()
        S[3] += ein("i,i->", ws, D)
        S[4] += ein("i,i->", ws, rxE)
        S[5] += ein("i,i->", ws, q)
        if order < 2:
            continue
        wv, wvD = dd, e  # reuse buffers
        np.multiply(ws, s, out=tmp)
        np.subtract(ws, tmp, out=wv)
        np.multiply(wv, D, out=wvD)
        S[6] += ein("i,i->", wvD, D)
        S[7] += ein("i,i->", wvD, rxE)
        S[8] += ein("i,i->", ws, E)
        S[9] += wvD.sum()
        S[10] += ein("i,i->", wvD, q)
        wvrxE = D  # D no longer needed
        np.multiply(wv, rxE, out=wvrxE)
        S[11] += ein("i,i->", wvrxE, rxE)
        atx += aT
        np.multiply(rxE, atx, out=tmp)
        S[12] += ein("i,i->", ws, tmp)
        S[13] += wvrxE.sum()
        S[14] += ein("i,i->", wvrxE, q)
        S[15] += wv.sum()
        S[16] += ein("i,i->", wv, q)
        np.add(ws, wv, out=tmp)
        tmp *= q
        S[17] += ein("i,i->", tmp, q)
    return S


def bg_loglik(theta: np.ndarray, d: BGData, order: int = 1):
    """Log-likelihood at log-parameters ``theta`` and, up to ``order``, its gradient and Hessian in ``theta``.

    Fader, Hardie & Lee (2005a), eq. (6)::

        L = Γ(r+x) α^r / Γ(r) · B(a, b+x) / B(a, b)
            · [ (α+T)^-(r+x) + 1{x>0} a / (b+x-1) · (α+t_x)^-(r+x) ]

    For repeat buyers ``log[...] = -(r+x) log(α+T) + softplus(δ)`` with
    ``δ = log a - log(b+x-1) + (r+x) log((α+T)/(α+t_x))``; since ``t_x <= T``,
    ``δ`` is bounded below, so ``softplus(δ) = δ + log1p(exp(-δ))`` and
    ``σ(δ) = 1/(1+exp(-δ))`` are stable with one exponential per row. The
    gradient and Hessian follow by the chain rule through ``δ``. Returns
    ``(ll, grad, hess)`` (``None`` beyond ``order``).
    """
    r, al, a, b = np.exp(theta)
    n = d.n
    xs = np.arange(d.w_x.size, dtype=float)
    W = d.w_x
    ll = _dot(W, special.gammaln(r + xs) + special.gammaln(b + xs) - special.gammaln(a + b + xs))
    ll += n * (r * np.log(al) - special.gammaln(r) + special.gammaln(a + b) - special.gammaln(b))
    aT0 = al + d.T0
    lT0 = np.log(aT0)
    ll -= r * _dot(d.w0, lT0)
    have = d.x.size > 0
    if have:
        with np.errstate(divide="ignore", invalid="ignore"):
            qx = 1.0 / (b + xs - 1.0)
            c4x = np.log(a) + np.log(qx)
        qx[0] = 0.0
        c4x[0] = 0.0
        S = _repeat_sums(d, r, al, c4x, qx, order)
        ll += S[0] + S[1] - S[18]
    if order < 1:
        return ll, None, None
    dig = special.digamma
    g = np.empty(4)
    g[0] = _dot(W, dig(r + xs)) - n * dig(r) + n * np.log(al) - _dot(d.w0, lT0)
    g[1] = n * r / al - r * _dot(d.w0, 1.0 / aT0)
    g[2] = n * dig(a + b) - _dot(W, dig(a + b + xs))
    g[3] = n * (dig(a + b) - dig(b)) + _dot(W, dig(b + xs) - dig(a + b + xs))
    if have:
        g[0] += S[3] - S[19]
        g[1] += S[4] - S[20]
        g[2] += S[2] / a
        g[3] -= S[5]
    p = np.array([r, al, a, b])
    g_th = g * p
    if order < 2:
        return ll, g_th, None
    tri = _trigamma
    H = np.zeros((4, 4))
    H[0, 0] = _dot(W, tri(r + xs)) - n * tri(r)
    H[0, 1] = n / al - _dot(d.w0, 1.0 / aT0)
    H[1, 1] = -n * r / al**2 + r * _dot(d.w0, (1.0 / aT0) ** 2)
    t_ab = n * tri(a + b) - _dot(W, tri(a + b + xs))
    H[2, 2] = t_ab
    H[2, 3] = t_ab
    H[3, 3] = t_ab - n * tri(b) + _dot(W, tri(b + xs))
    if have:
        H[0, 0] += S[6]
        H[0, 1] += S[7] + S[8] - S[21]
        H[0, 2] += S[9] / a
        H[0, 3] -= S[10]
        # d/dα of rx (s E - iT) = rx [v rx E² + s (itx² - iT²) + iT²], itx² - iT² = -E (itx + iT)
        H[1, 1] += S[11] - S[12] + S[22]
        H[1, 2] += S[13] / a
        H[1, 3] -= S[14]
        H[2, 2] += (S[15] - S[2]) / a**2
        H[2, 3] -= S[16] / a
        H[3, 3] += S[17]
    H = np.triu(H) + np.triu(H, 1).T
    H_th = H * np.outer(p, p) + np.diag(g_th)
    return ll, g_th, H_th


def bg_loglik_rows(x, t_x, T, r, alpha, a, b) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (uncollapsed; for checks and small data)."""
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    ln_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    ln_a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
    ln_a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_a4 = np.where(x > 0, np.log(a) - np.log(b + x - 1.0) - (r + x) * np.log(alpha + t_x), -np.inf)
    return ln_a1 + ln_a2 + np.logaddexp(ln_a3, ln_a4)


def bg_start(d: BGData) -> np.ndarray:
    """Moment-based starting log-parameters.

    ``r/α`` and ``r/α²`` match the mean and the extra-Poisson variance of the
    purchase rates ``x/T`` (death ignored); ``(a, b)`` is the best point of a
    small grid at those ``(r, α)``.
    """
    ok0 = (d.w0 > 0) & (d.T0 > 0)
    okp = d.T > 0
    rate = np.concatenate([np.zeros(int(ok0.sum())), d.x[okp] / d.T[okp]])
    w = np.concatenate([d.w0[ok0], d.w[okp]])
    iT = np.concatenate([1.0 / d.T0[ok0], 1.0 / d.T[okp]])
    if w.sum() <= 0:
        m, v = 0.1, 0.01
    else:
        m = float(np.average(rate, weights=w))
        var = float(np.average((rate - m) ** 2, weights=w)) - m * float(np.average(iT, weights=w))
        v = var if var > 1e-12 else m * m
    m = max(m, 1e-6)
    r0 = float(np.clip(m * m / v, 0.05, 50.0))
    al0 = float(np.clip(r0 / m, 1e-3, 1e4))
    best, best_ll = None, -np.inf
    for a0 in (0.5, 1.0, 2.0):
        for b0 in (1.5, 4.0, 10.0, 30.0):
            th = np.log([r0, al0, a0, b0])
            ll = bg_loglik(th, d, order=0)[0]
            if np.isfinite(ll) and ll > best_ll:
                best, best_ll = th, ll
    return best if best is not None else np.log([r0, al0, 1.0, 3.0])


# --------------------------------------------------------------------------- Gamma-Gamma likelihood


def _trigamma(v):
    """Trigamma ψ₁(v) = ζ(2, v) (the ufunc, without the Python overhead of ``polygamma``)."""
    return special.zeta(2.0, v)


def gg_loglik(theta: np.ndarray, x: np.ndarray, zbar: np.ndarray, w: np.ndarray, order: int = 1):
    """Log-likelihood of mean spends ``zbar`` over ``x`` repeat transactions, with gradient and Hessian in ``theta``.

    Fader & Hardie (2013), eq. (4), with the Jacobian terms kept::

        f(z̄ | p, q, γ, x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q x^(px) z̄^(px-1) / (γ + x z̄)^(px+q)

    Gamma-function terms are evaluated once per distinct ``x`` (whole numbers).
    """
    p, q, g = np.exp(theta)
    xi = x.astype(np.int64)
    xs = np.arange(xi.max() + 1, dtype=float)
    Wx = np.bincount(xi, weights=w, minlength=xs.size)
    pxs = p * xs
    gz = g + x * zbar
    lgz = np.log(gz)
    lz = np.log(zbar)
    with np.errstate(divide="ignore"):
        lxs = np.log(xs)
    lxs[0] = 0.0
    with np.errstate(invalid="ignore"):
        glx = special.gammaln(pxs + q) - special.gammaln(pxs)
    glx[0] = 0.0
    px = p * x
    wpxq = w * (px + q)
    ll = (_dot(Wx, glx + pxs * lxs) + float(Wx.sum()) * (q * np.log(g) - special.gammaln(q))
          + _dot(w * (px - 1.0), lz) - _dot(wpxq, lgz))
    if order < 1:
        return ll, None, None
    with np.errstate(invalid="ignore"):
        dpq = special.digamma(pxs + q)
        dp = special.digamma(pxs)
    dpq[0] = dp[0] = 0.0
    n = float(Wx.sum())
    wx = w * x
    grad = np.array([
        _dot(Wx * xs, dpq - dp + lxs) + _dot(wx, lz - lgz),
        _dot(Wx, dpq) - n * special.digamma(q) + n * np.log(g) - _dot(w, lgz),
        n * q / g - float(np.sum(wpxq / gz)),
    ])
    par = np.array([p, q, g])
    g_th = grad * par
    if order < 2:
        return ll, g_th, None
    with np.errstate(invalid="ignore"):
        tpq = _trigamma(pxs + q)
        tp = _trigamma(pxs)
    tpq[0] = tp[0] = 0.0
    igz = 1.0 / gz
    H = np.empty((3, 3))
    H[0, 0] = _dot(Wx * xs * xs, tpq - tp)
    H[0, 1] = H[1, 0] = _dot(Wx * xs, tpq)
    H[0, 2] = H[2, 0] = -_dot(wx, igz)
    H[1, 1] = _dot(Wx, tpq) - n * _trigamma(q)
    H[1, 2] = H[2, 1] = n / g - _dot(w, igz)
    H[2, 2] = -n * q / g**2 + _dot(wpxq, igz * igz)
    return ll, g_th, H * np.outer(par, par) + np.diag(g_th)


def gg_loglik_rows(x, zbar, p, q, gamma) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood (for checks)."""
    x = np.asarray(x, dtype=float)
    zbar = np.asarray(zbar, dtype=float)
    return (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q) + q * np.log(gamma)
            + p * x * np.log(x) + (p * x - 1.0) * np.log(zbar) - (p * x + q) * np.log(gamma + x * zbar))


def gg_start(x: np.ndarray, zbar: np.ndarray, w: np.ndarray) -> list[np.ndarray]:
    """Starting log-parameters: the mean spend matched at a few shapes."""
    m = float(np.average(zbar, weights=w))
    return [np.log([p0, q0, m * (q0 - 1.0) / p0]) for p0, q0 in ((1.0, 2.0), (4.0, 4.0), (10.0, 10.0))]


# --------------------------------------------------------------------------- optimisation


@dataclass(frozen=True)
class Fit:
    theta: np.ndarray
    loglik: float
    success: bool
    message: str
    n_iter: int
    at_bound: tuple[bool, ...]
    cov_theta: np.ndarray


def maximise(fun, starts: list[np.ndarray], *, n: float, penalizer: float, tol: float = 1e-10,
             step_tol: float = 1e-3, max_iter: int = 200) -> Fit:
    """Maximise ``fun(theta, order) -> (loglik, grad, hess)`` over bounded log-parameters by Newton's method.

    The objective is ``f = -loglik / n + penalizer · Σ exp(theta)²`` (the
    ``lifetimes`` convention: an L2 penalty on the natural-scale parameters,
    per customer). From the best start (by ``f``), damped Newton steps
    (Levenberg-Marquardt damping when the Hessian is not positive definite,
    step capped at 2 in log units) with Armijo backtracking are projected on
    the box of ``LOG_BOUNDS``; coordinates at a bound with the gradient
    pointing out are held fixed. It stops when the gradient is below ``tol``
    or when an undamped Newton step is below ``step_tol`` (log units): that
    last step is taken, and since Newton converges quadratically the result
    is then within about ``step_tol²`` of the maximum, far inside any
    standard error; the Hessian of that last evaluation gives the covariance. The covariance of ``theta`` is the inverse of
    the analytic observed information ``n · ∇²f`` at the end.

    Only numpy is used on the small matrices: scipy's L-BFGS-B calls BLAS
    in a way that is very slow when OpenBLAS threads compete for busy cores.
    """
    lo, hi = LOG_BOUNDS
    eps = 1e-9

    def objective(th, order):
        ll, g, H = fun(th, order)
        par = np.exp(th)
        f = -ll / n + penalizer * float(par @ par)
        if not np.isfinite(f):
            return np.inf, None, None
        gr = None if g is None else -g / n + penalizer * 2.0 * par * par
        Hf = None if H is None else -H / n + penalizer * np.diag(4.0 * par * par)
        return f, gr, Hf

    starts = [np.clip(np.asarray(s, dtype=float), lo, hi) for s in starts]
    if len(starts) > 1:
        th = starts[int(np.argmin([objective(s, 0)[0] for s in starts]))]
    else:
        th = starts[0]
    f, g, H = objective(th, 2)
    if not np.isfinite(f):
        raise FloatingPointError("the log-likelihood is not finite at the starting values")
    success, message, it = False, "maximum number of iterations reached", 0
    k = th.size
    for it in range(1, max_iter + 1):
        at_lo = (th <= lo + eps) & (g > 0)
        at_hi = (th >= hi - eps) & (g < 0)
        free = ~(at_lo | at_hi)
        gf = g[free]
        if not free.any() or np.max(np.abs(gf)) < tol:
            success, message = True, "gradient below tolerance"
            break
        Hf = H[np.ix_(free, free)]
        lam = 0.0
        scale = max(1.0, float(np.max(np.abs(np.diag(Hf)))))
        for _ in range(60):
            try:
                np.linalg.cholesky(Hf + lam * np.eye(Hf.shape[0]))
                break
            except np.linalg.LinAlgError:
                lam = max(2.0 * lam, 1e-8 * scale)
        step = np.zeros(k)
        step[free] = -np.linalg.solve(Hf + lam * np.eye(Hf.shape[0]), gf)
        big = np.max(np.abs(step))
        if big > 2.0:
            step *= 2.0 / big
        if lam == 0.0 and np.max(np.abs(step)) < step_tol:  # quadratic convergence: take the step, keep H
            th_new = np.clip(th + step, lo, hi)
            f_new = objective(th_new, 0)[0]
            if np.isfinite(f_new) and f_new <= f + 1e-12 * max(1.0, abs(f)):
                th, f = th_new, f_new
            success, message = True, "Newton step below tolerance"
            break
        slope = float(g @ step)
        if slope >= 0:  # not a descent direction (numerical trouble): steepest descent
            step = np.zeros(k)
            step[free] = -gf
            slope = float(g @ step)
        t = 1.0
        accepted = False
        order = 2
        while t > 1e-10:
            th_new = np.clip(th + t * step, lo, hi)
            f_new, g_new, H_new = objective(th_new, order)
            if np.isfinite(f_new) and f_new <= f + 1e-4 * t * slope:
                accepted = True
                break
            t *= 0.5
            order = 0
        if not accepted:
            success = np.max(np.abs(gf)) < 1e-6
            message = "no further decrease" + ("" if success else " (gradient not small)")
            break
        if order == 0:
            f_new, g_new, H_new = objective(th_new, 2)
        done = abs(f - f_new) <= 1e-15 * max(1.0, abs(f)) and np.max(np.abs(th_new - th)) < 1e-10
        th, f, g, H = th_new, f_new, g_new, H_new
        if done:
            success, message = True, "no further change"
            break
    at_bound = tuple(bool(v) for v in _at_bound(th))
    cov = _inverse(H * n)
    par = np.exp(th)
    ll = -(f - penalizer * float(par @ par)) * n
    return Fit(th, float(ll), bool(success), message, it, at_bound, cov)


def _at_bound(theta: np.ndarray) -> np.ndarray:
    lo, hi = LOG_BOUNDS
    return (theta <= lo + 1e-3) | (theta >= hi - 1e-3)


def _inverse(H: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive-definite matrix, NaN if it is not."""
    k = H.shape[0]
    H = 0.5 * (H + H.T)
    try:
        eig = np.linalg.eigvalsh(H)
        if not np.all(np.isfinite(eig)) or eig.min() <= 0:
            return np.full((k, k), np.nan)
        return np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return np.full((k, k), np.nan)


# --------------------------------------------------------------------------- closed forms


def _bracket(a: float, c, s, z):
    """``c/(a-1) · [1 - (1-z)^(a-1) · 2F1(s, a-1; c; z)]``, continuous through ``a = 1``.

    The Euler-transformed hypergeometric form of FHL (2005a) eqs. (9)-(10):
    ``(1-z)^r' 2F1(r', b'; c; z) = (1-z)^(a-1) 2F1(c-r', c-b'; c; z)``
    with ``c - b' = a - 1``; its small second parameter keeps the series short.
    """
    def value(aa):
        return c / (aa - 1.0) * (1.0 - (1.0 - z) ** (aa - 1.0) * special.hyp2f1(s + (aa - a), aa - 1.0, c + (aa - a), z))

    if abs(a - 1.0) < 1e-6:
        return 0.5 * (value(1.0 + 1e-6) + value(1.0 - 1e-6))
    return value(a)


def bg_expected(t, r, alpha, a, b):
    """Unconditional E[X(t)] (FHL 2005a, eq. 9)."""
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    c = a + b - 1.0
    return _bracket(a, c, c - r, z)


def bg_log_odds_dead(x, t_x, T, r, alpha, a, b):
    """``log[a/(b+x-1) · ((α+T)/(α+t_x))^(r+x)]`` for ``x > 0``, ``-inf`` for ``x = 0``."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(a) - np.log(b + x - 1.0) + (r + x) * (np.log(alpha + np.asarray(T, float)) - np.log(alpha + np.asarray(t_x, float)))
    return np.where(x > 0, out, -np.inf)


def bg_p_alive(x, t_x, T, r, alpha, a, b):
    """P(alive | x, t_x, T) (FHL 2005b / Fader, Hardie & Lee 2008 note, eq. 1)."""
    return special.expit(-bg_log_odds_dead(x, t_x, T, r, alpha, a, b))


def bg_conditional_expected(t, x, t_x, T, r, alpha, a, b):
    """E[Y(t) | x, t_x, T]: expected purchases in ``(T, T+t]`` (FHL 2005a, eq. 10)."""
    t = np.asarray(t, dtype=float)
    x = np.asarray(x, dtype=float)
    T = np.asarray(T, dtype=float)
    z = t / (alpha + T + t)
    c = a + b + x - 1.0
    return bg_p_alive(x, t_x, T, r, alpha, a, b) * _bracket(a, c, a + b - 1.0 - r, z)


def bg_probability(t, n, r, alpha, a, b):
    """P(X(t) = n) (FHL 2005a, eq. 8)."""
    from scipy import stats

    t = np.asarray(t, dtype=float)
    n = np.asarray(n, dtype=float)
    p = alpha / (alpha + t)
    lbab = special.betaln(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        term1 = np.exp(special.betaln(a, b + n) - lbab + stats.nbinom.logpmf(n, r, p))
        term2 = np.where(n > 0, np.exp(special.betaln(a + 1.0, np.maximum(b + n - 1.0, 1e-300)) - lbab)
                         * stats.nbinom.sf(n - 1.0, r, p), 0.0)
    return term1 + term2
