"""Effect sizes, multiple-testing adjustment and power for content comparisons.

* :func:`adjust_pvalues` — Bonferroni, Holm, Hochberg, Benjamini–Hochberg and
  Benjamini–Yekutieli adjusted p-values, in input order.
* :func:`effect_size` — Cohen's d, Hedges' g and Glass's Δ with exact
  noncentral-t confidence intervals; :func:`cohens_h` for two proportions.
* :func:`min_detectable_rate_ratio` and :func:`posts_needed` — Wald-test power
  for a rate ratio of negative-binomial counts with exposure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes
from kosresearch._validation import check_choice, check_conf_level, check_positive, require_columns
from kosresearch.content import _text as tx
from kosresearch.errors import KosDataError, KosParameterError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "adjust_pvalues",
    "effect_size",
    "EffectSizeResult",
    "cohens_h",
    "min_detectable_rate_ratio",
    "posts_needed",
]

AdjustMethod = Literal["bonferroni", "holm", "hochberg", "fdr_bh", "fdr_by"]
EffectKind = Literal["cohens_d", "hedges_g", "glass_delta"]
ADJUST_METHODS = ("bonferroni", "holm", "hochberg", "fdr_bh", "fdr_by")
EFFECT_KINDS = ("cohens_d", "hedges_g", "glass_delta")


# --------------------------------------------------------------------------- multiple testing


def adjust_pvalues(p_values, *, method: AdjustMethod = "holm"):
    """Adjust p-values for multiple comparisons.

    Parameters
    ----------
    p_values : array-like or pandas.Series
        Unadjusted p-values in ``[0, 1]``; missing values (NaN) stay missing
        and do not count as tests.
    method : {"bonferroni", "holm", "hochberg", "fdr_bh", "fdr_by"}, default "holm"
        Family-wise error control (``bonferroni``, ``holm``, ``hochberg``) or
        false-discovery-rate control (``fdr_bh``, ``fdr_by``).

    Returns
    -------
    numpy.ndarray or pandas.Series
        Adjusted p-values in input order (a Series with the same index when
        a Series is given), capped at 1.

    Raises
    ------
    KosParameterError
        Unknown ``method``, or p-values outside ``[0, 1]``.

    See Also
    --------
    statsmodels.stats.multitest.multipletests : the same adjustments (used as a cross-check in the tests).

    Notes
    -----
    With ``m`` tests and ordered p-values ``p(1) ≤ … ≤ p(m)``:

    * Bonferroni: ``min(1, m p)``.
    * Holm (1979), step-down: ``p̃(i) = max_{j ≤ i} min(1, (m − j + 1) p(j))``.
    * Hochberg (1988), step-up: ``p̃(i) = min_{j ≥ i} min(1, (m − j + 1) p(j))``
      (valid under independence or positive dependence).
    * Benjamini & Hochberg (1995): ``p̃(i) = min_{j ≥ i} min(1, m p(j) / j)``.
    * Benjamini & Yekutieli (2001): BH times ``c(m) = Σ_{k=1}^{m} 1/k``,
      valid under any dependence.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], method="holm")
    array([0.03, 0.06, 0.06])
    >>> adjust_pvalues([0.01, 0.04, 0.03], method="fdr_bh")
    array([0.03, 0.04, 0.04])
    """
    check_choice("method", method, ADJUST_METHODS)
    index = p_values.index if isinstance(p_values, pd.Series) else None
    p = np.asarray(p_values, dtype=float).reshape(-1)
    ok = ~np.isnan(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        bad = p[ok][(p[ok] < 0) | (p[ok] > 1)][0]
        raise KosParameterError(f"p_values must lie between 0 and 1; got {float(bad)!r}")
    out = np.full(p.shape, np.nan)
    q = p[ok]
    m = q.size
    if m:
        order = np.argsort(q, kind="mergesort")
        s = q[order]
        rank = np.arange(1, m + 1, dtype=float)
        if method == "bonferroni":
            adj = np.minimum(1.0, m * s)
        elif method == "holm":
            adj = np.minimum(1.0, np.maximum.accumulate((m - rank + 1) * s))
        elif method == "hochberg":
            adj = np.minimum(1.0, np.minimum.accumulate(((m - rank + 1) * s)[::-1])[::-1])
        else:
            c = float(np.sum(1.0 / rank)) if method == "fdr_by" else 1.0
            adj = np.minimum(1.0, np.minimum.accumulate((c * m * s / rank)[::-1])[::-1])
        res = np.empty(m)
        res[order] = adj
        out[ok] = res
    if index is not None:
        return pd.Series(out, index=index, name=getattr(p_values, "name", None))
    return out


# --------------------------------------------------------------------------- effect sizes


def _hedges_j(df: float) -> float:
    """Exact small-sample correction ``J(ν) = Γ(ν/2) / (√(ν/2) Γ((ν−1)/2))`` (Hedges 1981)."""
    from scipy.special import gammaln

    return float(np.exp(gammaln(df / 2.0) - 0.5 * np.log(df / 2.0) - gammaln((df - 1.0) / 2.0)))


def _nct_ncp_interval(t_obs: float, df: float, conf_level: float) -> tuple[float, float]:
    """Invert the noncentral t: ncp bounds with ``P(T ≤ t_obs | ncp) = 1 − a/2`` and ``a/2``."""
    from scipy import optimize, stats

    a = 1.0 - conf_level

    def cdf(ncp: float) -> float:
        value = float(stats.nct.cdf(t_obs, df, ncp))
        if not math.isfinite(value):  # far tails: the limit
            value = 0.0 if ncp > t_obs else 1.0
        return value

    def solve(target: float) -> float:
        f = lambda ncp: cdf(ncp) - target  # noqa: E731 - decreasing in ncp
        step = 1.0 + 0.25 * abs(t_obs)
        lo, hi = t_obs - step, t_obs + step
        while f(lo) < 0:
            lo -= step
        while f(hi) > 0:
            hi += step
        return float(optimize.brentq(f, lo, hi, xtol=1e-12, maxiter=500))

    return solve(1.0 - a / 2.0), solve(a / 2.0)


def _magnitude(d: float, lang: str) -> str:
    size = abs(d)
    words = (
        ("可忽略", "negligible") if size < 0.2 else
        ("小", "small") if size < 0.5 else
        ("中等", "medium") if size < 0.8 else
        ("大", "large")
    )
    return words[0] if lang == "zh" else words[1]


_KIND_NAMES = {
    "cohens_d": ("Cohen's d", "Cohen's d"),
    "hedges_g": ("Hedges' g", "Hedges' g"),
    "glass_delta": ("Glass's Δ", "Glass's Δ"),
}


@dataclass(frozen=True)
class EffectSizeResult(Result):
    """A standardised mean difference with its noncentral-t interval.

    Attributes
    ----------
    table : DataFrame
        One row: ``kind, group1, group2, estimate, std_error, conf_low,
        conf_high, p_value, n1, n2, mean1, mean2, sd1, sd2``.
    conf_level : float
    kind : str
        ``"cohens_d"``, ``"hedges_g"`` or ``"glass_delta"``.
    value_col, group_col : str
        The columns compared.
    """

    kind: str = "hedges_g"
    value_col: str = ""
    group_col: str = ""

    _display_names = {**Result._display_names, "group1": "group 1", "group2": "group 2"}

    def interpret(self, *, lang: str = "en") -> list[str]:
        """One sentence (zh or en) built from the estimate and its interval."""
        tx.check_lang(lang)
        row = self.table.iloc[0]
        g1 = tx.level_label(self.group_col, row["group1"], lang)
        g2 = tx.level_label(self.group_col, row["group2"], lang)
        value = tx.value_label(self.value_col, lang)
        name = _KIND_NAMES[self.kind][0 if lang == "zh" else 1]
        est, lo, hi = float(row["estimate"]), float(row["conf_low"]), float(row["conf_high"])
        ci = f"{tx.ci_words(self.conf_level, lang)} {lo:.2f} 至 {hi:.2f}" if lang == "zh" else (
            f"{tx.ci_words(self.conf_level, lang)} {lo:.2f} to {hi:.2f}")
        covers = lo <= 0 <= hi
        if lang == "zh":
            direction = "高" if est > 0 else "低"
            text = (f"{g1}的平均{value}比{g2}{direction} {abs(est):.2f} 个标准差（{name}，{ci}），"
                    f"按 Cohen (1988) 的标准属于{_magnitude(est, lang)}效应")
            text += "；区间包含 0，差异不显著。" if covers else "。"
            return [text]
        direction = "higher" if est > 0 else "lower"
        text = (f"The mean {value} of {g1} is {abs(est):.2f} standard deviations {direction} than that of {g2} "
                f"({name}, {ci}), a {_magnitude(est, lang)} effect by Cohen's (1988) benchmarks")
        text += "; the interval includes 0, so no difference is shown." if covers else "."
        return [text]

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """The estimate and interval against Cohen's 0.2 / 0.5 / 0.8 benchmarks."""
        tx.check_lang(lang)
        ax = new_axes(ax, figsize=(6.0, 1.8))
        row = self.table.iloc[0]
        est, lo, hi = float(row["estimate"]), float(row["conf_low"]), float(row["conf_high"])
        for b in (0.2, 0.5, 0.8):
            for s in (-1, 1):
                ax.axvline(s * b, color="0.85", lw=0.8, zorder=0)
        ax.axvline(0.0, color="0.5", lw=1.0)
        ax.errorbar([est], [0], xerr=[[est - lo], [hi - est]], fmt="o", color="C0", capsize=4)
        ax.set_yticks([])
        lim = max(1.0, abs(lo), abs(hi)) * 1.15
        ax.set_xlim(-lim, lim)
        name = _KIND_NAMES[self.kind][0 if lang == "zh" else 1]
        ax.set_xlabel(f"{name} ({tx.ci_words(self.conf_level, lang)})")
        return ax


def effect_size(
    data: pd.DataFrame,
    *,
    value_col: str,
    group_col: str,
    groups: tuple | list | None = None,
    kind: EffectKind = "hedges_g",
    conf_level: float = 0.95,
) -> EffectSizeResult:
    """Standardised mean difference between two groups, with a noncentral-t interval.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation (e.g. per post); not modified.
    value_col : str
        Numeric outcome (e.g. ``"interaction_rate"`` per post).
    group_col : str
        Column naming each row's group.
    groups : pair, optional
        ``(first, second)`` levels of ``group_col`` to compare; default: the
        two levels of ``group_col`` in sorted order (it must have exactly two).
        The second group is the control (the one ``glass_delta`` standardises by).
    kind : {"hedges_g", "cohens_d", "glass_delta"}, default "hedges_g"
    conf_level : float, default 0.95

    Returns
    -------
    EffectSizeResult
        ``.table`` has one row: ``kind``, ``group1``, ``group2``,
        ``estimate`` (mean(first) − mean(second) over the standardiser),
        ``std_error`` (large-sample approximation, Hedges & Olkin 1985
        eq. 5.3.5), ``conf_low``, ``conf_high``, ``p_value`` (the t test
        matching the interval), ``n1``, ``n2``, ``mean1``, ``mean2``,
        ``sd1``, ``sd2``. ``.interpret(lang=)`` gives the sentence.

    Raises
    ------
    KosDataError
        Missing column, non-numeric or missing values, a group absent or with
        fewer than 2 rows, no variation.
    KosParameterError
        Unknown ``kind``, bad ``conf_level`` or ``groups``.

    See Also
    --------
    cohens_h : effect size of two proportions.

    Notes
    -----
    With means ``m1, m2``, SDs ``s1, s2`` and sizes ``n1, n2``:

    * ``cohens_d``: ``d = (m1 − m2) / s_p``, ``s_p² = ((n1−1)s1² + (n2−1)s2²)/(n1+n2−2)``.
    * ``hedges_g``: ``g = J(ν) d`` with the exact correction
      ``J(ν) = Γ(ν/2) / (√(ν/2) Γ((ν−1)/2))``, ``ν = n1 + n2 − 2``
      (Hedges 1981; Hedges & Olkin 1985, ch. 5).
    * ``glass_delta``: ``Δ = J(n2 − 1) (m1 − m2) / s2`` (Glass, McGaw & Smith
      1981), standardised by the control group's SD.

    Intervals invert the noncentral t distribution (Steiger & Fouladi 1997;
    Cumming & Finch 2001; Kelley 2007): with ``t = d / c``, the noncentrality
    bounds ``λ_L, λ_U`` solve ``P(T_ν(λ) ≤ t) = 1 − a/2`` and ``a/2``; the
    interval is ``[c λ_L, c λ_U]``, times ``J`` for the corrected estimators.
    For d and g, ``c = √(1/n1 + 1/n2)`` and ``ν = n1 + n2 − 2`` (exact under
    normality with equal variances). For Glass's Δ, ``ν = n2 − 1`` and
    ``c = √(1/n2 + s1²/(s2² n1))``: exact under normality when the variance
    ratio is known, here with its estimate plugged in. The p-value is that
    of ``t`` on ``ν`` degrees of freedom, so the interval excludes 0 exactly
    when ``p < 1 − conf_level``.

    References: Hedges, L. V. & Olkin, I. (1985) *Statistical Methods for
    Meta-Analysis*; Steiger, J. H. & Fouladi, R. T. (1997) Noncentrality
    interval estimation; Cumming, G. & Finch, S. (2001) *Educ. Psychol.
    Meas.* 61, 532–574; Kelley, K. (2007) *J. Stat. Softw.* 20(8).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"g": list("aaaaabbbbb"), "v": [1, 2, 3, 4, 5, 3, 4, 5, 6, 7]})
    >>> r = effect_size(df, value_col="v", group_col="g", kind="cohens_d")
    >>> round(float(r.table.loc[0, "estimate"]), 4)
    -1.2649
    """
    from scipy import stats

    check_choice("kind", kind, EFFECT_KINDS)
    check_conf_level(conf_level)
    require_columns(data, {"value_col": value_col, "group_col": group_col}, numeric=["value_col"])
    grp = data[group_col]
    if groups is None:
        levels = [v for v in pd.unique(grp.dropna())]
        try:
            levels = sorted(levels)
        except TypeError:
            levels = sorted(levels, key=str)
        if len(levels) != 2:
            raise KosDataError(
                f"group_col={group_col!r} has {len(levels)} groups {levels[:10]}; pass groups=(first, second) "
                "to choose two"
            )
        groups = tuple(levels)
    else:
        if isinstance(groups, str) or len(groups) != 2:
            raise KosParameterError(f"groups={groups!r} must be a pair (first, second) of levels of {group_col!r}")
        groups = tuple(groups)
        if groups[0] == groups[1]:
            raise KosParameterError(f"groups={groups!r} names the same group twice")
    samples = []
    for g in groups:
        values = data.loc[grp == g, value_col].to_numpy(dtype=float, na_value=np.nan)
        if values.size < 2:
            raise KosDataError(
                f"group {g!r} of group_col={group_col!r} has {values.size} rows; an effect size needs at least 2 per group"
            )
        if not np.isfinite(values).all():
            raise KosDataError(
                f"value_col={value_col!r} has {int((~np.isfinite(values)).sum())} missing or infinite values in group {g!r}"
            )
        samples.append(values)
    x1, x2 = samples
    n1, n2 = x1.size, x2.size
    m1, m2 = float(x1.mean()), float(x2.mean())
    s1, s2 = float(x1.std(ddof=1)), float(x2.std(ddof=1))
    if kind == "glass_delta":
        if s2 == 0:
            raise KosDataError(f"value_col={value_col!r} does not vary in the control group {groups[1]!r}; Glass's Δ is undefined")
        df = n2 - 1.0
        raw = (m1 - m2) / s2
        c = math.sqrt(1.0 / n2 + (s1 * s1) / (s2 * s2 * n1))
        J = _hedges_j(df) if df > 1 else float("nan")
        se_raw = math.sqrt(c * c + raw * raw / (2.0 * df))
    else:
        df = n1 + n2 - 2.0
        sp = math.sqrt(((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / df)
        if sp == 0:
            raise KosDataError(f"value_col={value_col!r} does not vary within the groups; the effect size is undefined")
        raw = (m1 - m2) / sp
        c = math.sqrt(1.0 / n1 + 1.0 / n2)
        J = _hedges_j(df) if kind == "hedges_g" else 1.0
        se_raw = math.sqrt(c * c + raw * raw / (2.0 * (n1 + n2)))
    t_obs = raw / c
    lam_lo, lam_hi = _nct_ncp_interval(t_obs, df, conf_level)
    scale = J if kind != "cohens_d" else 1.0
    table = pd.DataFrame(
        {
            "kind": [kind],
            "group1": [groups[0]],
            "group2": [groups[1]],
            "estimate": [scale * raw],
            "std_error": [abs(scale) * se_raw],
            "conf_low": [scale * c * lam_lo],
            "conf_high": [scale * c * lam_hi],
            "p_value": [float(2.0 * stats.t.sf(abs(t_obs), df))],
            "n1": [n1],
            "n2": [n2],
            "mean1": [m1],
            "mean2": [m2],
            "sd1": [s1],
            "sd2": [s2],
        }
    )
    return EffectSizeResult(table, conf_level, kind=kind, value_col=value_col, group_col=group_col)


def cohens_h(p1, p2):
    """Cohen's h for two proportions: ``2 asin √p1 − 2 asin √p2``.

    Parameters
    ----------
    p1, p2 : float or array-like
        Proportions in ``[0, 1]`` (broadcast together).

    Returns
    -------
    float or numpy.ndarray
        A float for scalar input, an array otherwise.

    Raises
    ------
    KosParameterError
        A proportion outside ``[0, 1]`` or missing.

    Notes
    -----
    The arcsine transformation stabilises the variance of a proportion, so
    equal ``h`` means equally detectable differences anywhere in ``[0, 1]``;
    Cohen (1988, ch. 6) calls 0.2, 0.5 and 0.8 small, medium and large.

    Examples
    --------
    >>> round(cohens_h(0.5, 0.1), 4)
    0.9273
    """
    a = np.asarray(p1, dtype=float)
    b = np.asarray(p2, dtype=float)
    for name, v in (("p1", a), ("p2", b)):
        bad = ~np.isfinite(v) | (v < 0) | (v > 1)
        if np.any(bad):
            raise KosParameterError(f"{name} must hold proportions between 0 and 1; got {float(v[bad].reshape(-1)[0])!r}")
    h = 2.0 * np.arcsin(np.sqrt(a)) - 2.0 * np.arcsin(np.sqrt(b))
    if np.ndim(h) == 0:
        return float(h)
    return h


# --------------------------------------------------------------------------- power


def _z(conf_level: float, power: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(0.5 + conf_level / 2.0) + stats.norm.ppf(power))


def _check_power_args(baseline_rate, exposure, dispersion, power, conf_level, design_effect) -> None:
    check_positive("baseline_rate", baseline_rate)
    check_positive("exposure", exposure)
    check_positive("dispersion", dispersion, allow_zero=True)
    check_conf_level(conf_level)
    try:
        ok = 0.0 < float(power) < 1.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise KosParameterError(f"power={power!r} must be a number strictly between 0 and 1, e.g. 0.8")
    try:
        ok = float(design_effect) >= 1.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise KosParameterError(f"design_effect={design_effect!r} must be a number of at least 1")


def _var_unit(rr: float, mu0: float, dispersion: float, allocation: float) -> float:
    """``n1 · Var(log RR̂)``: ``(1/(μ0 RR) + k) + (1/μ0 + k) / allocation``."""
    return (1.0 / (mu0 * rr) + dispersion) + (1.0 / mu0 + dispersion) / allocation


def posts_needed(
    rate_ratio,
    *,
    baseline_rate: float,
    exposure: float,
    dispersion: float,
    allocation: float = 1.0,
    power: float = 0.8,
    conf_level: float = 0.95,
    design_effect: float = 1.0,
):
    """Posts needed in the compared group to detect ``rate_ratio`` with a two-sided Wald test.

    Parameters
    ----------
    rate_ratio : float or array-like
        The rate ratio to detect (compared group over reference), ≠ 1.
    baseline_rate : float
        Events per unit of exposure in the reference group (e.g. interactions
        per impression).
    exposure : float
        Mean exposure per post (e.g. impressions).
    dispersion : float
        NB2 dispersion ``k`` (``Var = μ + kμ²``); 0 for Poisson counts. The
        ``alpha`` of :func:`rate_ratios` is this quantity.
    allocation : float, default 1
        Reference posts per compared post (``n0 = allocation · n1``).
    power : float, default 0.8
    conf_level : float, default 0.95
        The test's level is ``1 − conf_level``.
    design_effect : float, default 1
        Variance inflation for clustering (e.g. posts nested in advisors);
        multiplies the variance.

    Returns
    -------
    int or numpy.ndarray
        Posts in the compared group (rounded up); the reference group needs
        ``ceil(allocation · n1)``.

    Raises
    ------
    KosParameterError
        Non-positive rate, exposure or allocation, ``rate_ratio`` of 1, power
        or conf_level outside (0, 1), design effect below 1.

    See Also
    --------
    min_detectable_rate_ratio : the inverse question.

    Notes
    -----
    Per post, ``Y ~ NB2(μ, k)`` with ``μ0 = baseline_rate · exposure`` in the
    reference group and ``μ1 = RR · μ0`` in the compared one. The variance of
    the log of a group's mean rate over ``n`` posts is ``(1/μ + k)/n``, so

    ``Var(log RR̂) = (1/μ1 + k)/n1 + (1/μ0 + k)/n0``

    and a two-sided Wald test at level ``a`` has power ``1 − β`` when

    ``n1 = (z_{1−a/2} + z_{1−β})² · D · [(1/μ1 + k) + (1/μ0 + k)/allocation] / (log RR)²``

    with design effect ``D`` — Zhu & Lakkis (2014), *Statistics in Medicine*
    33, 376–387, their variance evaluated at the alternative (method 1);
    Signorini (1991), *Biometrika* 78, 187–190 for the Poisson case ``k = 0``.
    Exposure varying between posts is summarised by its mean (a slight
    under-statement of the variance when exposures differ a lot).

    Examples
    --------
    >>> posts_needed(1.5, baseline_rate=0.02, exposure=1000, dispersion=0.6)
    62
    """
    _check_power_args(baseline_rate, exposure, dispersion, power, conf_level, design_effect)
    check_positive("allocation", allocation)
    rr = np.asarray(rate_ratio, dtype=float)
    if np.any(~np.isfinite(rr) | (rr <= 0) | (rr == 1)):
        raise KosParameterError(f"rate_ratio={rate_ratio!r} must be positive and different from 1")
    mu0 = float(baseline_rate) * float(exposure)
    z = _z(conf_level, power)
    v = (1.0 / (mu0 * rr) + dispersion) + (1.0 / mu0 + dispersion) / float(allocation)
    n = np.ceil(z * z * float(design_effect) * v / np.log(rr) ** 2 - 1e-9).astype(int)
    if n.ndim == 0:
        return int(n)
    return n


def min_detectable_rate_ratio(
    n_posts,
    *,
    baseline_rate: float,
    exposure: float,
    dispersion: float,
    n_reference=None,
    power: float = 0.8,
    conf_level: float = 0.95,
    design_effect: float = 1.0,
    direction: Literal["increase", "decrease"] = "increase",
):
    """Smallest rate ratio a two-sided Wald test detects with ``power``, given the posts at hand.

    Parameters
    ----------
    n_posts : float or array-like
        Posts in the compared group.
    baseline_rate, exposure, dispersion, power, conf_level, design_effect
        As in :func:`posts_needed`.
    n_reference : float or array-like, optional
        Posts in the reference group (default: as many as ``n_posts``).
    direction : {"increase", "decrease"}, default "increase"
        Solve for a ratio above 1 or below 1.

    Returns
    -------
    float or numpy.ndarray
        The minimum detectable rate ratio (``> 1`` for increases, ``< 1`` for
        decreases); ``inf`` (or 0) when no ratio can be detected because
        overdispersion alone leaves too much variance.

    Raises
    ------
    KosParameterError
        Non-positive counts or rates, bad power / conf_level / direction.

    Notes
    -----
    Solves ``|log RR| = (z_{1−a/2} + z_{1−β}) √(D [(1/(μ0 RR) + k)/n1 + (1/μ0 + k)/n0])``
    for ``RR`` (the formula of :func:`posts_needed`; Zhu & Lakkis 2014). The
    right side depends on ``RR`` through ``1/μ1``, so the equation is solved
    numerically (Brent's method).

    Examples
    --------
    >>> round(min_detectable_rate_ratio(62, baseline_rate=0.02, exposure=1000, dispersion=0.6), 3)
    1.496
    """
    from scipy import optimize

    _check_power_args(baseline_rate, exposure, dispersion, power, conf_level, design_effect)
    check_choice("direction", direction, ("increase", "decrease"))
    n1 = np.asarray(n_posts, dtype=float)
    n0 = n1 if n_reference is None else np.asarray(n_reference, dtype=float)
    if np.any(~np.isfinite(n1) | (n1 <= 0)) or np.any(~np.isfinite(n0) | (n0 <= 0)):
        raise KosParameterError(f"n_posts={n_posts!r} and n_reference={n_reference!r} must be positive")
    n1, n0 = np.broadcast_arrays(n1, n0)
    mu0 = float(baseline_rate) * float(exposure)
    z = _z(conf_level, power)
    k = float(dispersion)
    D = float(design_effect)
    sign = 1.0 if direction == "increase" else -1.0
    out = np.empty(n1.shape)
    grid = np.linspace(1e-9, 12.0, 4001)  # log RR from ~0 to 12 (RR up to ~1.6e5)
    for idx in np.ndindex(n1.shape):
        a, b = float(n1[idx]), float(n0[idx])

        def f(x):  # x = |log RR|; root where the effect equals its detectable size
            rr = np.exp(sign * x)
            return x - z * np.sqrt(D * ((1.0 / (mu0 * rr) + k) / a + (1.0 / mu0 + k) / b))

        values = f(grid)
        up = np.flatnonzero((values[:-1] < 0) & (values[1:] >= 0))
        if up.size == 0:
            out[idx] = math.inf if sign > 0 else 0.0
            continue
        j = int(up[0])
        x = optimize.brentq(lambda v: float(f(v)), grid[j], grid[j + 1], xtol=1e-13)
        out[idx] = math.exp(sign * x)
    if out.ndim == 0:
        return float(out)
    return out
