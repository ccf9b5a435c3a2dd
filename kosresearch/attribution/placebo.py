"""Refutation of roll-out estimates (placebos, pre-trends, short pre-periods) and the programme-effect summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes
from kosresearch._validation import check_conf_level
from kosresearch.attribution.did import AggteResult, AttGtResult, _att_gt_arrays, _prepare_panel, att_gt
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.report.text import check_lang, t

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["pretrend_test", "refute_att_gt", "programme_effect", "RefutationResult", "ProgrammeEffect"]


def pretrend_test(result: AttGtResult, *, bins: int = 4) -> dict[str, float]:
    """Joint Wald test that the pre-treatment event-time effects are zero, on binned event times.

    The full pre-test over every pre-treatment ATT(g, t)
    (``AttGtResult.pretest_p_value``, as in R ``did``) has dozens of degrees
    of freedom with weekly data: its covariance is singular when there are
    fewer units than cells, and it over-rejects when there are not many more.
    Here the pre-treatment event times of the dynamic aggregation are averaged
    within ``bins`` consecutive blocks and the ``bins``-vector is tested with
    its influence-function covariance. Returns ``statistic, df, p_value,
    method`` (NaN when there is no pre-period).
    """
    from scipy.stats import chi2

    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise KosParameterError(f"bins={bins!r} must be a whole number >= 1")
    dyn, infs = _dynamic_pre(result)
    if dyn.size == 0:
        return {"statistic": float("nan"), "df": 0.0, "p_value": float("nan"), "method": "none"}
    k = int(min(bins, dyn.size))
    blocks = np.array_split(np.arange(dyn.size), k)
    est = np.array([dyn[b].mean() for b in blocks])
    F = np.column_stack([infs[:, b].mean(axis=1) for b in blocks])
    n = F.shape[0]
    V = F.T @ F / n
    if np.linalg.cond(V) > 1e12:
        return {"statistic": float("nan"), "df": float(k), "p_value": float("nan"), "method": "binned (singular)"}
    w = float(n * est @ np.linalg.solve(V, est))
    return {"statistic": w, "df": float(k), "p_value": float(chi2.sf(w, k)), "method": f"{k} bins of pre-treatment event times"}


def _dynamic_pre(result: AttGtResult) -> tuple[np.ndarray, np.ndarray]:
    """Pre-treatment dynamic estimates (event time < -anticipation) and their influence functions."""
    t = result.table
    att = t["estimate"].to_numpy(dtype=float)
    e_all = (t["time"] - t["group"]).to_numpy()
    grp = t["group"].to_numpy()
    G = result.unit_groups
    glist = np.unique(grp)
    pg_g = np.array([np.mean(G == g) for g in glist])
    pg = pg_g[np.searchsorted(glist, grp)]
    lim = -int(result.settings.get("anticipation", 0))
    est, infs = [], []
    for e in np.unique(e_all[e_all < lim]):
        keep = np.flatnonzero((e_all == e) & np.isfinite(t["std_error"].to_numpy()))
        if keep.size == 0:
            continue
        w = pg[keep] / pg[keep].sum()
        est.append(float(np.sum(att[keep] * w)))
        infs.append(result.influence[:, keep] @ w)
    if not est:
        return np.zeros(0), np.zeros((result.influence.shape[0], 0))
    return np.array(est), np.column_stack(infs)


@dataclass(frozen=True, repr=False)
class RefutationResult(Result):
    """Refutation checks of a roll-out estimate.

    Attributes
    ----------
    table : DataFrame
        One row per check: ``check, estimate, std_error, conf_low, conf_high,
        p_value, concern`` (True when the check casts doubt on the estimate)
        and ``detail`` (plain-language reading).
    conf_level : float
    placebo_distribution : ndarray
        Simple ATTs of the in-space placebos (permuted treatment assignment).
    real_estimate : float
        The simple ATT of the real assignment.
    """

    placebo_distribution: np.ndarray = field(default_factory=lambda: np.zeros(0))
    real_estimate: float = float("nan")

    _display_names = {**Result._display_names, "check": "check", "concern": "concern", "detail": "detail"}

    @property
    def any_concern(self) -> bool:
        return bool(self.table["concern"].fillna(False).any())

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Histogram of in-space placebo estimates with the real estimate marked; ``lang`` (``"zh"`` or ``"en"``) sets the labels."""
        check_lang(lang)
        ax = new_axes(ax)
        if self.placebo_distribution.size:
            ax.hist(self.placebo_distribution, bins=30, color="#999999", label=t("安慰剂分配", "placebo assignments", lang))
        ax.axvline(self.real_estimate, color="#C44E52", lw=2, label=t("真实分配", "real assignment", lang))
        ax.set_xlabel(t("简单平均处理效应 ATT", "simple ATT", lang))
        ax.set_ylabel(t("安慰剂次数", "placebo runs", lang))
        ax.legend(fontsize="small")
        return ax


def refute_att_gt(
    data: pd.DataFrame,
    *,
    outcome_col: str,
    unit_col: str,
    time_col: str,
    group_col: str,
    control_group: str = "never_treated",
    covariates: Sequence[str] | None = None,
    est_method: str = "dr",
    anticipation: int = 0,
    placebo_fractions: Sequence[float] = (1 / 3, 1 / 2, 2 / 3),
    n_permutations: int = 199,
    min_pre_periods: int = 8,
    conf_level: float = 0.95,
    seed: int = 0,
) -> RefutationResult:
    """Placebo and pre-trend checks of a staggered roll-out estimate.

    Parameters
    ----------
    data, outcome_col, unit_col, time_col, group_col, control_group, covariates, est_method, anticipation
        As in :func:`att_gt`.
    placebo_fractions : sequence of float, default (1/3, 1/2, 2/3)
        In-time placebos: fake adoption dates at these fractions of the
        window before the first real adoption.
    n_permutations : int, default 199
        In-space placebos: random re-assignments of the cohorts to units.
    min_pre_periods : int, default 8
        Guard: a cohort with fewer pre-treatment periods is flagged.
    conf_level : float, default 0.95
    seed : int, default 0

    Returns
    -------
    RefutationResult
        Rows ``in_time_placebo@<period>``, ``in_space_placebo``,
        ``pre_trend``, ``pre_period_guard``.

    Notes
    -----
    In-time placebo: only the periods before anyone is treated are kept and
    every treated unit pretends to adopt at the fake date; the simple ATT
    should be zero. In-space placebo (Abadie, Diamond & Hainmueller 2010,
    applied to the roll-out): cohort labels are permuted across units,
    keeping cohort sizes; the real estimate's permutation p-value is
    ``(1 + #{|placebo| >= |real|}) / (n + 1)``. The in-time placebos are
    judged at ``(1 - conf_level) / len(placebo_fractions)`` (Bonferroni), so
    that several fake dates do not raise a false alarm more often than one
    would. Pre-trend: the Wald pre-test
    on binned pre-treatment event times
    (:func:`pretrend_test`). A check that casts doubt sets ``concern``.
    """
    check_conf_level(conf_level)
    if not isinstance(n_permutations, (int, np.integer)) or n_permutations < 0:
        raise KosParameterError(f"n_permutations={n_permutations!r} must be a whole number >= 0")
    for f in placebo_fractions:
        if not 0 < float(f) < 1:
            raise KosParameterError(f"placebo_fractions={tuple(placebo_fractions)!r} must lie strictly between 0 and 1")
    units, periods, Y, Xs, G = _prepare_panel(data, outcome_col, unit_col, time_col, group_col, covariates)
    settings = {"outcome_col": outcome_col, "unit_col": unit_col, "time_col": time_col, "group_col": group_col,
                "control_group": control_group, "covariates": list(covariates or []), "est_method": est_method,
                "anticipation": int(anticipation), "base_period": "varying", "n_boot": 0, "seed": int(seed)}
    alpha = 1 - conf_level
    rows: list[dict[str, Any]] = []
    real = _att_gt_arrays(units, periods, Y, Xs, G, settings=settings, conf_level=conf_level)
    real_simple = real.aggregate("simple").overall.iloc[0]
    # in-time placebos
    treated = G > 0
    first = G[treated].min() - anticipation if treated.any() else periods.max()
    pre_mask = periods < first
    pre_periods = periods[pre_mask]
    for f in placebo_fractions:
        if pre_periods.size < 4:
            rows.append({"check": f"in_time_placebo@{f:.2f}", "concern": np.nan,
                         "detail": f"only {pre_periods.size} periods before the first adoption: no in-time placebo"})
            continue
        idx = int(np.clip(round(f * (pre_periods.size - 1)), 1, pre_periods.size - 1))
        fake = pre_periods[idx]
        Gp = np.where(treated, fake, 0.0)
        sub = Xs[:, :, pre_mask] if Xs is not None else None
        st = {**settings, "control_group": "never_treated" if (~treated).any() else "not_yet_treated", "anticipation": 0}
        try:
            r = _att_gt_arrays(units, pre_periods, Y[:, pre_mask], sub, Gp, settings=st, conf_level=conf_level, pretest=False)
            o = r.aggregate("simple").overall.iloc[0]
        except KosDataError as exc:
            rows.append({"check": f"in_time_placebo@{fake}", "concern": np.nan, "detail": str(exc)})
            continue
        concern = bool(o["p_value"] < alpha / len(placebo_fractions))
        rows.append({"check": f"in_time_placebo@{fake}", **{k: o[k] for k in ("estimate", "std_error", "conf_low", "conf_high", "p_value")},
                     "concern": concern,
                     "detail": (f"fake adoption at period {fake}: effect {o['estimate']:.4g} "
                                + ("differs from 0 at the Bonferroni-adjusted level (a warning sign)" if concern
                                   else "is compatible with 0 at the Bonferroni-adjusted level (as it should be)"))})
    # in-space placebos
    rng = np.random.default_rng(seed)
    dist = np.full(n_permutations, np.nan)
    for b in range(n_permutations):
        Gp = rng.permutation(G)
        try:
            r = _att_gt_arrays(units, periods, Y, Xs, Gp, settings=settings, conf_level=conf_level, pretest=False)
            dist[b] = r.aggregate("simple").overall["estimate"].iloc[0]
        except (KosDataError, np.linalg.LinAlgError):
            continue
    ok = np.isfinite(dist)
    if ok.sum():
        p_perm = float((1 + np.sum(np.abs(dist[ok]) >= abs(real_simple["estimate"]))) / (ok.sum() + 1))
        share_below = float(np.mean(dist[ok] < real_simple["estimate"]))
        concern = bool(p_perm > alpha)
        rows.append({"check": "in_space_placebo", "estimate": real_simple["estimate"], "std_error": float(np.std(dist[ok], ddof=1)),
                     "conf_low": float(np.quantile(dist[ok], alpha / 2)), "conf_high": float(np.quantile(dist[ok], 1 - alpha / 2)),
                     "p_value": p_perm, "concern": concern,
                     "detail": (f"the real estimate lies above {share_below:.0%} of {int(ok.sum())} placebo assignments "
                                f"(permutation p = {p_perm:.3f}); interval columns: middle {conf_level:.0%} of placebos")})
    # pre-trend
    pt = pretrend_test(real)
    rows.append({"check": "pre_trend", "estimate": pt["statistic"], "p_value": pt["p_value"],
                 "concern": bool(pt["p_value"] < alpha) if np.isfinite(pt["p_value"]) else np.nan,
                 "detail": (f"Wald test of zero pre-treatment effects ({pt['method']}, df = {pt['df']:.0f})"
                            + (f"; the full test over all {real.pretest_df} pre-treatment ATT(g,t) gives p = {real.pretest_p_value:.3f}"
                               if np.isfinite(real.pretest_p_value) else ""))})
    # short pre-period guard
    pp = real.pre_periods
    shortest = int(pp["pre_periods"].min()) if len(pp) else 0
    short = pp[pp["pre_periods"] < min_pre_periods]
    rows.append({"check": "pre_period_guard", "estimate": float(shortest), "concern": bool(len(short)),
                 "detail": (f"every cohort has at least {min_pre_periods} pre-treatment periods (shortest {shortest})" if not len(short)
                            else f"cohorts {short['group'].tolist()} have fewer than {min_pre_periods} pre-treatment periods")})
    table = pd.DataFrame(rows, columns=["check", "estimate", "std_error", "conf_low", "conf_high", "p_value", "concern", "detail"])
    return RefutationResult(table=table, conf_level=conf_level, placebo_distribution=dist[ok],
                            real_estimate=float(real_simple["estimate"]))


@dataclass(frozen=True, repr=False)
class ProgrammeEffect(Result):
    """The programme's effect from a staggered roll-out, with its event study and refutation checks.

    Attributes
    ----------
    table : DataFrame
        One row ``term = "att_per_unit_period"``: ``estimate, std_error,
        statistic, p_value, conf_low, conf_high`` (the simple aggregation:
        average effect per treated unit-period, e.g. CNY per store-week).
    conf_level : float
    att_gt : AttGtResult
    dynamic : AggteResult
        Event study (with a uniform band when bootstrapped).
    refutation : RefutationResult or None
    """

    att_gt: AttGtResult | None = None
    dynamic: AggteResult | None = None
    refutation: RefutationResult | None = None

    @property
    def estimate(self) -> float:
        return float(self.table["estimate"].iloc[0])

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Event-study figure with pointwise intervals and the uniform band; ``lang`` (``"zh"`` or ``"en"``) sets the labels."""
        check_lang(lang)
        ax = self.dynamic.plot(ax=ax, lang=lang)
        ax.set_title(t(f"各事件时间的项目效应；总体效应 {self.estimate:,.0f}（每单位每期）",
                       f"Programme effect by event time; overall {self.estimate:,.0f} per unit-period", lang))
        return ax

    def report(self, *, lang: str = "en", unit: str = "store-week", currency: str = "¥") -> str:
        """A plain-language paragraph with the estimate, its interval and the checks."""
        check_lang(lang)
        r = self.table.iloc[0]
        pct = f"{self.conf_level:.0%}"
        concern = self.refutation.any_concern if self.refutation is not None else None
        if lang == "zh":
            txt = (f"分阶段上线的双重差分（Callaway & Sant'Anna 2021）估计：KOS 项目使每个门店每周平均增加销售 "
                   f"{currency}{r['estimate']:,.0f}（{pct} 置信区间 {currency}{r['conf_low']:,.0f} 至 {currency}{r['conf_high']:,.0f}）。")
            if concern is not None:
                txt += "安慰剂与预趋势检验" + ("提示需谨慎解读。" if concern else "未发现问题。")
        else:
            txt = (f"Staggered difference-in-differences (Callaway & Sant'Anna 2021): the KOS programme added "
                   f"{currency}{r['estimate']:,.0f} per {unit} on average ({pct} CI {currency}{r['conf_low']:,.0f} "
                   f"to {currency}{r['conf_high']:,.0f}).")
            if concern is not None:
                txt += " Placebo and pre-trend checks " + ("raise a concern; read with care." if concern else "raise no concern.")
        return txt


def programme_effect(
    data: pd.DataFrame,
    *,
    outcome_col: str = "sales",
    unit_col: str = "store_id",
    time_col: str = "week",
    group_col: str = "group",
    control_group: str = "never_treated",
    covariates: Sequence[str] | None = None,
    est_method: str = "dr",
    anticipation: int = 0,
    conf_level: float = 0.95,
    n_boot: int = 999,
    refute: bool = True,
    n_permutations: int = 199,
    seed: int = 0,
) -> ProgrammeEffect:
    """Programme effect of a staggered roll-out: ATT(g, t), event study, headline effect and refutation (on by default).

    Parameters
    ----------
    data : DataFrame
        Balanced panel, e.g. from :func:`store_week_panel`.
    outcome_col, unit_col, time_col, group_col, control_group, covariates, est_method, anticipation, conf_level
        As in :func:`att_gt`.
    n_boot : int, default 999
        Multiplier bootstrap for the uniform band of the event study.
    refute : bool, default True
        Run :func:`refute_att_gt` (in-time and in-space placebos, pre-trend,
        short pre-period guard).
    n_permutations : int, default 199
    seed : int, default 0

    Returns
    -------
    ProgrammeEffect
        ``.table`` (headline: average effect per treated unit-period),
        ``.att_gt``, ``.dynamic``, ``.refutation``, ``.report(lang=...)``.

    Notes
    -----
    The headline is the ``simple`` aggregation of Callaway & Sant'Anna
    (2021): post-treatment ATT(g, t) weighted by cohort size, i.e. the
    average effect over treated unit-periods.
    """
    res = att_gt(data, outcome_col=outcome_col, unit_col=unit_col, time_col=time_col, group_col=group_col,
                 control_group=control_group, covariates=covariates, est_method=est_method, anticipation=anticipation,
                 conf_level=conf_level, n_boot=n_boot, seed=seed)
    simple = res.aggregate("simple")
    dynamic = res.aggregate("dynamic")
    table = pd.concat([pd.DataFrame({"term": ["att_per_unit_period"]}), simple.overall], axis=1)
    ref = None
    if refute:
        ref = refute_att_gt(data, outcome_col=outcome_col, unit_col=unit_col, time_col=time_col, group_col=group_col,
                            control_group=control_group, covariates=covariates, est_method=est_method,
                            anticipation=anticipation, n_permutations=n_permutations, conf_level=conf_level, seed=seed)
    return ProgrammeEffect(table=table, conf_level=conf_level, att_gt=res, dynamic=dynamic, refutation=ref)
