"""Reference values for the effect-size intervals in tests/content/test_effects.py.

Independent of ``scipy.stats.nct``: the noncentral t CDF is computed from its
definition T = (Z + λ) / sqrt(V/ν), Z ~ N(0, 1), V ~ χ²_ν, as

    P(T ≤ t) = ∫_0^∞ Φ(t·sqrt(v/ν) − λ) f_{χ²_ν}(v) dv

by adaptive quadrature, and inverted by bisection. Run with

    python tests/reference/content_noncentral_t.py

and paste the printed numbers into the tests (they were produced with
scipy 1.17 quadrature; agreement to ~1e-7 is expected).
"""

from __future__ import annotations

import math

from scipy import integrate, special, stats


def nct_cdf(t: float, df: float, ncp: float) -> float:
    f = lambda v: stats.norm.cdf(t * math.sqrt(v / df) - ncp) * stats.chi2.pdf(v, df)  # noqa: E731
    val, _ = integrate.quad(f, 0, math.inf, epsabs=1e-13, epsrel=1e-12, limit=500)
    return val


def invert(t: float, df: float, target: float) -> float:
    lo, hi = t - 20, t + 20
    for _ in range(200):
        mid = (lo + hi) / 2
        if nct_cdf(t, df, mid) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def hedges_j(df: float) -> float:
    return math.exp(special.gammaln(df / 2) - 0.5 * math.log(df / 2) - special.gammaln((df - 1) / 2))


def main() -> None:
    # case 1: a = [1..5], b = [3..7]: d = -2 / sqrt(2.5), t = d / sqrt(2/5) = -2, df = 8
    t, df, c = -2.0, 8.0, math.sqrt(0.4)
    lo, hi = invert(t, df, 0.975), invert(t, df, 0.025)
    print(f"case1 ncp bounds: {lo:.10f} {hi:.10f}")
    print(f"case1 d CI: {c * lo:.10f} {c * hi:.10f}; J(8) = {hedges_j(8):.10f}")
    # case 2: Glass's delta, a = [2, 4, 6, 8, 10] (sd sqrt(10)), b = [3..7] (sd sqrt(2.5)), n = 5 each
    s1, s2, n1, n2 = math.sqrt(10.0), math.sqrt(2.5), 5, 5
    raw = (6.0 - 5.0) / s2
    c2 = math.sqrt(1 / n2 + s1**2 / (s2**2 * n1))
    t2 = raw / c2
    lo2, hi2 = invert(t2, n2 - 1, 0.975), invert(t2, n2 - 1, 0.025)
    j = hedges_j(n2 - 1)
    print(f"case2 t = {t2:.10f}, J(4) = {j:.10f}, delta = {j * raw:.10f}")
    print(f"case2 CI: {j * c2 * lo2:.10f} {j * c2 * hi2:.10f}")


if __name__ == "__main__":
    main()
