"""Difference-in-differences: the 2x2 regression and Callaway & Sant'Anna (2021) for staggered roll-outs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from kosresearch._results import Result, critical_value, new_axes
from kosresearch._validation import check_choice, check_conf_level, check_panel_unique, require_columns
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.report.text import check_lang, label, t

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["did_2x2", "att_gt", "DidResult", "AttGtResult", "AggteResult"]

ControlGroup = Literal["never_treated", "not_yet_treated"]
EstMethod = Literal["dr", "ipw", "reg"]
BasePeriod = Literal["varying", "universal"]
AggKind = Literal["simple", "dynamic", "group", "calendar"]

_TINY_SE = np.sqrt(np.finfo(float).eps) * 10  # R did: se below this is reported as NA


# =========================================================================== 2x2


@dataclass(frozen=True, repr=False)
class DidResult(Result):
    """OLS difference-in-differences.

    Attributes
    ----------
    table : DataFrame
        ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``;
        the effect is the row ``term == "did"``.
    conf_level : float
    vcov : str
        ``"classical"``, ``"HC1"`` or ``"cluster"``.
    n_obs : int
    n_clusters : int or None
    """

    vcov: str = "HC1"
    n_obs: int = 0
    n_clusters: int | None = None

    @property
    def estimate(self) -> float:
        return float(self.table.loc[self.table["term"] == "did", "estimate"].iloc[0])

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """The DiD estimate with its interval; ``lang`` (``"zh"`` or ``"en"``) sets the labels."""
        check_lang(lang)
        ax = new_axes(ax, figsize=(5.0, 3.0))
        row = self.table[self.table["term"] == "did"].iloc[0]
        ax.errorbar([row["estimate"]], [0], xerr=[[row["estimate"] - row["conf_low"]], [row["conf_high"] - row["estimate"]]],
                    fmt="o", capsize=4)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks([])
        pct = f"{self.conf_level:.0%}"
        ax.set_xlabel(t(f"双重差分估计值（{pct} 置信区间）", f"DiD estimate ({pct} CI)", lang))
        return ax


def did_2x2(
    data: pd.DataFrame,
    *,
    outcome_col: str,
    treated_col: str,
    post_col: str,
    covariates: Sequence[str] | None = None,
    vcov: Literal["classical", "HC1"] = "HC1",
    cluster_col: str | None = None,
    conf_level: float = 0.95,
) -> DidResult:
    """Two-group, two-period difference-in-differences by OLS.

    Parameters
    ----------
    data : DataFrame
        One row per unit and period.
    outcome_col : str
        Numeric outcome.
    treated_col, post_col : str
        0/1 (or boolean) indicators of the treated group and the post period.
    covariates : sequence of str, optional
        Numeric control variables added linearly.
    vcov : {"classical", "HC1"}, default "HC1"
        Variance estimator; ignored (cluster-robust) when ``cluster_col`` is given.
    cluster_col : str, optional
        Cluster identifier for cluster-robust standard errors (e.g. the store).
    conf_level : float, default 0.95

    Returns
    -------
    DidResult
        ``.table`` with rows ``intercept, treated, post, did`` (+ covariates);
        columns ``term, estimate, std_error, statistic, p_value, conf_low,
        conf_high``.

    Raises
    ------
    KosDataError
        Missing or non-numeric columns, indicators not 0/1, an empty cell of
        the 2x2 design, missing values.
    KosParameterError
        Unknown ``vcov``, bad ``conf_level``.

    See Also
    --------
    att_gt : staggered adoption (many cohorts and periods).

    Notes
    -----
    ``y = b0 + b1 treated + b2 post + b3 treated×post (+ X g) + e``; without
    covariates ``b3 = (ȳ_T,post - ȳ_T,pre) - (ȳ_C,post - ȳ_C,pre)``.
    Classical and HC1 inference use Student t with the residual degrees of
    freedom; the cluster-robust variance (statsmodels, with small-sample
    correction) uses t with ``G - 1`` degrees of freedom.
    """
    import statsmodels.api as sm

    check_conf_level(conf_level)
    check_choice("vcov", vcov, ("classical", "HC1"))
    covariates = list(covariates or [])
    cols = {"outcome_col": outcome_col, "treated_col": treated_col, "post_col": post_col, "cluster_col": cluster_col}
    cols.update({f"covariates[{i}]": c for i, c in enumerate(covariates)})
    require_columns(data, cols, numeric=["outcome_col", *[f"covariates[{i}]" for i in range(len(covariates))]])
    keep = [outcome_col, treated_col, post_col, *covariates] + ([cluster_col] if cluster_col else [])
    df = data[list(dict.fromkeys(keep))].copy()
    na = df.isna().any(axis=1)
    if na.any():
        raise KosDataError(f"data has {int(na.sum())} rows with missing values in {keep} (first at row {df.index[na][0]!r})")
    for arg, col in (("treated_col", treated_col), ("post_col", post_col)):
        vals = pd.unique(df[col])
        ok = set(pd.Series(vals).astype(float).tolist()) <= {0.0, 1.0} if pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]) else False
        if not ok:
            raise KosDataError(f"{arg}={col!r} must hold 0/1 indicators; found values {list(vals)[:5]}")
        df[col] = df[col].astype(float)
    cells = df.groupby([treated_col, post_col]).size()
    if len(cells) < 4:
        raise KosDataError(
            f"the 2x2 design needs rows in all four cells of ({treated_col}, {post_col}); found {cells.to_dict()}"
        )
    X = pd.DataFrame({"intercept": 1.0, "treated": df[treated_col], "post": df[post_col],
                      "did": df[treated_col] * df[post_col]}, index=df.index)
    for c in covariates:
        X[c] = df[c].astype(float)
    y = df[outcome_col].astype(float)
    model = sm.OLS(y, X)
    if cluster_col is not None:
        groups = pd.factorize(df[cluster_col])[0]
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
        kind, n_cl = "cluster", int(groups.max() + 1)
    else:
        fit = model.fit(cov_type="nonrobust" if vcov == "classical" else "HC1", use_t=True)
        kind, n_cl = vcov, None
    ci = fit.conf_int(alpha=1 - conf_level)
    table = pd.DataFrame({
        "term": list(X.columns), "estimate": fit.params.to_numpy(), "std_error": fit.bse.to_numpy(),
        "statistic": fit.tvalues.to_numpy(), "p_value": fit.pvalues.to_numpy(),
        "conf_low": ci.iloc[:, 0].to_numpy(), "conf_high": ci.iloc[:, 1].to_numpy(),
    })
    return DidResult(table=table, conf_level=conf_level, vcov=kind, n_obs=int(len(df)), n_clusters=n_cl)


# =========================================================================== 2x2 estimators on one (g, t) cell


def _logit(X: np.ndarray, D: np.ndarray, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression by Newton-Raphson; returns fitted probabilities and ``(X'WX)^-1``."""
    beta = np.zeros(X.shape[1])
    p1 = D.mean()
    beta[0] = np.log(p1 / (1 - p1)) if np.allclose(X[:, 0], 1.0) else 0.0
    for _ in range(max_iter):
        eta = X @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        W = p * (1 - p)
        H = X.T @ (X * W[:, None])
        step = np.linalg.solve(H, X.T @ (D - p))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-11:
            break
    p = 1.0 / (1.0 + np.exp(-(X @ beta)))
    W = p * (1 - p)
    return p, np.linalg.inv(X.T @ (X * W[:, None]))


def _wols(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted OLS coefficients among ``w > 0`` and fitted values for everyone."""
    XtX = X.T @ (X * w[:, None])
    beta = np.linalg.solve(XtX, X.T @ (w * y))
    return beta, X @ beta


def _cell_estimate(dy: np.ndarray, D: np.ndarray, X: np.ndarray, method: str) -> tuple[float, np.ndarray]:
    """ATT and its influence function (sample of treated + comparison units) for one 2x2 panel comparison.

    Panel estimators of Sant'Anna & Zhao (2020) as the R ``DRDID`` package
    computes them: ``dr`` is ``drdid_panel`` (locally efficient doubly robust,
    logit propensity score, OLS outcome regression on the comparison units),
    ``ipw`` the standardised (Hajek) IPW estimator, ``reg`` the outcome
    regression estimator of Heckman, Ichimura & Todd (1997).
    """
    n = dy.size
    D = D.astype(float)
    if method in ("dr", "ipw"):
        ps, vcov_ps = _logit(X, D)
        ps = np.minimum(ps, 1 - 1e-6)
        trim = np.where(D == 1, ps < 1.01, ps < 0.995).astype(float)
        w_treat = trim * D
        w_cont = trim * ps * (1 - D) / (1 - ps)
        asy_ps = ((D - ps)[:, None] * X) @ (vcov_ps * n)
    if method in ("dr", "reg"):
        w_ols = 1 - D
        beta, out = _wols(X, dy, w_ols)
        XpX_inv = np.linalg.inv(X.T @ (X * w_ols[:, None]) / n)
        asy_ols = (w_ols * (dy - out))[:, None] * X @ XpX_inv
    if method == "dr":
        att_t = w_treat * (dy - out)
        att_c = w_cont * (dy - out)
        eta_t = att_t.mean() / w_treat.mean()
        eta_c = att_c.mean() / w_cont.mean()
        inf_t = (att_t - w_treat * eta_t - asy_ols @ (w_treat[:, None] * X).mean(axis=0)) / w_treat.mean()
        m2 = (w_cont * (dy - out - eta_c))[:, None] * X
        inf_c = (att_c - w_cont * eta_c + asy_ps @ m2.mean(axis=0) - asy_ols @ (w_cont[:, None] * X).mean(axis=0)) / w_cont.mean()
        return float(eta_t - eta_c), inf_t - inf_c
    if method == "ipw":
        att_t = w_treat * dy
        att_c = w_cont * dy
        eta_t = att_t.mean() / w_treat.mean()
        eta_c = att_c.mean() / w_cont.mean()
        inf_t = (att_t - w_treat * eta_t) / w_treat.mean()
        m2 = (w_cont * (dy - eta_c))[:, None] * X
        inf_c = (att_c - w_cont * eta_c + asy_ps @ m2.mean(axis=0)) / w_cont.mean()
        return float(eta_t - eta_c), inf_t - inf_c
    # reg
    w_treat = D
    att_t = w_treat * dy
    att_c = w_treat * out
    eta_t = att_t.mean() / w_treat.mean()
    eta_c = att_c.mean() / w_treat.mean()
    inf_t = (att_t - w_treat * eta_t) / w_treat.mean()
    inf_c = (att_c - w_treat * eta_c + asy_ols @ (w_treat[:, None] * X).mean(axis=0)) / w_treat.mean()
    return float(eta_t - eta_c), inf_t - inf_c


# =========================================================================== results


def _multiplier_bootstrap(inf: np.ndarray, n_boot: int, seed: int, conf_level: float):
    """Rademacher multiplier bootstrap of influence functions (clustered by unit, one row per unit).

    Returns the bootstrap standard errors (IQR-based, as R ``did``) and the
    sup-t critical value for a uniform band over the columns.
    """
    n, k = inf.shape
    rng = np.random.default_rng(seed)
    finite = np.isfinite(inf).all(axis=0)
    F = np.where(np.isfinite(inf), inf, 0.0)
    bres = np.empty((n_boot, k))
    chunk = max(1, int(2e7 // max(n, 1)))
    for s in range(0, n_boot, chunk):
        m = min(chunk, n_boot - s)
        V = rng.choice(np.array([-1.0, 1.0]), size=(m, n))
        bres[s:s + m] = np.sqrt(n) * (V @ F) / n
    q75, q25 = np.quantile(bres, [0.75, 0.25], axis=0, method="inverted_cdf")
    from scipy.stats import norm

    sigma = (q75 - q25) / (norm.ppf(0.75) - norm.ppf(0.25))
    ok = finite & (sigma > _TINY_SE)
    sigma = np.where(ok, sigma, np.nan)
    if ok.any():
        bt = np.nanmax(np.abs(bres[:, ok] / sigma[ok]), axis=1)
        crit = float(np.quantile(bt, conf_level, method="inverted_cdf"))
    else:
        crit = float("nan")
    return sigma / np.sqrt(n), crit


def _se_from_inf(inf: np.ndarray) -> np.ndarray:
    n = inf.shape[0]
    se = np.sqrt(np.sum(inf**2, axis=0)) / n
    return np.where(se > _TINY_SE, se, np.nan)


@dataclass(frozen=True, repr=False)
class AggteResult(Result):
    """An aggregation of group-time average treatment effects (R ``did::aggte``).

    Attributes
    ----------
    table : DataFrame
        One row per event time (``event_time``), group (``group``) or period
        (``time``), with ``estimate, std_error, statistic, p_value, conf_low,
        conf_high``; for ``dynamic`` with a bootstrap also ``band_low,
        band_high`` (uniform band). Empty for ``simple``.
    conf_level : float
    kind : str
        ``simple``, ``dynamic``, ``group`` or ``calendar``.
    overall : DataFrame
        One row: ``estimate, std_error, statistic, p_value, conf_low, conf_high``.
    influence : ndarray
        Influence function of the overall estimate (one value per unit).
    uniform_critical_value : float or None
    balance_e : int or None
    """

    kind: str = "simple"
    overall: pd.DataFrame = field(default_factory=pd.DataFrame)
    influence: np.ndarray = field(default_factory=lambda: np.zeros(0))
    uniform_critical_value: float | None = None
    balance_e: int | None = None
    outcome_col: str = ""

    _display_names = {**Result._display_names, "event_time": "event time", "group": "group", "time": "period",
                      "band_low": "band low", "band_high": "band high"}

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Estimates by event time, group or period with their intervals; ``lang`` (``"zh"`` or ``"en"``) sets the labels."""
        check_lang(lang)
        ax = new_axes(ax)
        pct = f"{self.conf_level:.0%}"
        if self.kind == "simple" or self.table.empty:
            o = self.overall.iloc[0]
            ax.errorbar([0], [o["estimate"]], yerr=[[o["estimate"] - o["conf_low"]], [o["conf_high"] - o["estimate"]]],
                        fmt="o", capsize=4)
            ax.set_xticks([])
        else:
            key = {"dynamic": "event_time", "group": "group", "calendar": "time"}[self.kind]
            tab = self.table
            x = tab[key].to_numpy(dtype=float)
            if "band_low" in tab:
                ax.fill_between(x, tab["band_low"], tab["band_high"], color="#4C72B0", alpha=0.15, step=None,
                                label=t(f"{pct} 一致置信带", f"uniform {pct} band", lang))
            ax.errorbar(x, tab["estimate"], yerr=[tab["estimate"] - tab["conf_low"], tab["conf_high"] - tab["estimate"]],
                        fmt="o", ms=3, capsize=2, color="#4C72B0", label=t(f"逐点 {pct} 置信区间", f"pointwise {pct} CI", lang))
            if self.kind == "dynamic":
                ax.axvline(-0.5, color="grey", ls="--", lw=0.8)
                ax.set_xlabel(t("项目开始后的周数（事件时间）", "weeks since programme start (event time)", lang))
            else:
                ax.set_xlabel(t({"group": "组别（开始时期）", "time": "时期"}[key], key, lang))
            ax.legend(fontsize="small")
        ax.axhline(0, color="grey", lw=0.8)
        if self.outcome_col:
            ax.set_ylabel(t(f"效应：{label(self.outcome_col, lang='zh')}", f"effect on {self.outcome_col}", lang))
        else:
            ax.set_ylabel(t("效应", "effect", lang))
        return ax


@dataclass(frozen=True, repr=False)
class AttGtResult(Result):
    """Group-time average treatment effects ATT(g, t) (Callaway & Sant'Anna 2021).

    Attributes
    ----------
    table : DataFrame
        ``group, time, event_time, estimate, std_error, statistic, p_value,
        conf_low, conf_high, post`` (+ ``boot_std_error, band_low,
        band_high`` with a bootstrap).
    conf_level : float
    influence : ndarray
        ``n_units × n_cells`` influence functions (``att - ATT ≈ mean``).
    unit_groups : ndarray
        Group of each unit, in the row order of ``influence`` (0 = comparison only).
    units : ndarray
        Unit identifiers in the same order.
    periods : ndarray
        The sorted time periods used.
    pretest_p_value, pretest_statistic : float
        Wald test that all pre-treatment ATT(g, t) are zero (NaN without pre-periods).
    pretest_df : int
    pre_periods : DataFrame
        Per group: ``group, n_units, pre_periods`` (periods before ``g - anticipation``).
    dropped_units : DataFrame
        Units left out (already treated in the first period), with the reason.
    uniform_critical_value : float or None
        Sup-t critical value from the multiplier bootstrap.
    """

    influence: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    unit_groups: np.ndarray = field(default_factory=lambda: np.zeros(0))
    units: np.ndarray = field(default_factory=lambda: np.zeros(0))
    periods: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pretest_p_value: float = float("nan")
    pretest_statistic: float = float("nan")
    pretest_df: int = 0
    pre_periods: pd.DataFrame = field(default_factory=pd.DataFrame)
    dropped_units: pd.DataFrame = field(default_factory=pd.DataFrame)
    uniform_critical_value: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    _display_names = {**Result._display_names, "group": "group", "time": "period", "event_time": "event time",
                      "post": "post", "boot_std_error": "boot. s.e.", "band_low": "band low", "band_high": "band high"}

    @property
    def n_units(self) -> int:
        return int(self.influence.shape[0])

    def aggregate(self, kind: AggKind, *, balance_e: int | None = None) -> AggteResult:
        """Aggregate ATT(g, t) as R ``did::aggte`` does.

        Parameters
        ----------
        kind : {"simple", "dynamic", "group", "calendar"}
            ``simple``: post-treatment ATT(g, t) weighted by group size (the
            average effect per treated unit-period); ``dynamic``: by event time
            ``e = t - g`` (event study), overall = mean over ``e >= 0``;
            ``group``: per cohort, overall weighted by cohort size;
            ``calendar``: per period, overall = mean over periods.
        balance_e : int, optional
            ``dynamic`` only: keep the groups observed for at least
            ``balance_e`` periods after treatment and event times up to
            ``balance_e`` (a balanced event study).

        Returns
        -------
        AggteResult
            ``.overall`` (one row) and ``.table`` (one row per event time / group / period).

        Notes
        -----
        Weights are estimated group shares, so the standard errors add the
        influence function of the weights (the ``wif`` term of R ``did``);
        they are analytic, clustered by unit. With a bootstrap in
        :func:`att_gt`, the dynamic table also carries a uniform band.
        """
        check_choice("kind", kind, ("simple", "dynamic", "group", "calendar"))
        if balance_e is not None:
            if kind != "dynamic":
                raise KosParameterError(f"balance_e={balance_e!r} only applies to kind='dynamic', not kind={kind!r}")
            if not isinstance(balance_e, (int, np.integer)) or isinstance(balance_e, bool) or balance_e < 0:
                raise KosParameterError(f"balance_e={balance_e!r} must be a whole number >= 0")
        t = self.table
        att = t["estimate"].to_numpy(dtype=float)
        grp = t["group"].to_numpy()
        tim = t["time"].to_numpy()
        inf = self.influence
        G = self.unit_groups
        glist = np.unique(grp)
        pg_g = np.array([np.mean(G == g) for g in glist])
        pg = pg_g[np.searchsorted(glist, grp)]
        ok = np.isfinite(att)
        att0 = np.where(ok, att, 0.0)

        def wif(keep: np.ndarray, pgk: np.ndarray, gk: np.ndarray) -> np.ndarray:
            ind = (G[:, None] == gk[None, :]).astype(float) - pgk[None, :]
            s = pgk.sum()
            return ind / s - np.outer(ind.sum(axis=1), pgk / s**2)

        def combine(keep: np.ndarray, weights: np.ndarray, with_wif: bool) -> tuple[float, np.ndarray]:
            est = float(np.sum(att0[keep] * weights))
            f = inf[:, keep] @ weights
            if with_wif:
                f = f + wif(keep, pg[keep], grp[keep]) @ att0[keep]
            return est, f

        rows: list[dict[str, Any]] = []
        infs: list[np.ndarray] = []
        post = (grp <= tim) & ok
        if kind == "simple":
            keep = np.flatnonzero(post)
            if keep.size == 0:
                raise KosDataError("there are no post-treatment ATT(g, t) to aggregate")
            est, f = combine(keep, pg[keep] / pg[keep].sum(), True)
            overall_est, overall_inf = est, f
        elif kind == "dynamic":
            e_all = tim - grp
            include = np.ones(len(att), bool)
            eseq = np.unique(e_all)
            if balance_e is not None:
                include = (tim.max() - grp) >= balance_e
                eseq = np.unique(e_all[include])
                eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - tim.max() + self.periods.min())]
            for e in eseq:
                keep = np.flatnonzero((e_all == e) & include & ok)
                if keep.size == 0:
                    continue
                est, f = combine(keep, pg[keep] / pg[keep].sum(), True)
                rows.append({"event_time": int(e), "estimate": est})
                infs.append(f)
            es = np.array([r["event_time"] for r in rows])
            pos = np.flatnonzero(es >= 0)
            if pos.size == 0:
                raise KosDataError("there are no event times >= 0 to aggregate")
            overall_est = float(np.mean([rows[i]["estimate"] for i in pos]))
            overall_inf = np.mean([infs[i] for i in pos], axis=0)
        elif kind == "group":
            gvals = []
            for g in glist:
                keep = np.flatnonzero((grp == g) & post)
                if keep.size == 0:
                    continue
                est, f = combine(keep, np.full(keep.size, 1.0 / keep.size), False)
                rows.append({"group": g, "estimate": est})
                infs.append(f)
                gvals.append(g)
            gk = np.array(gvals)
            pgk = pg_g[np.searchsorted(glist, gk)]
            a = np.array([r["estimate"] for r in rows])
            w = pgk / pgk.sum()
            overall_est = float(np.sum(a * w))
            ind = (G[:, None] == gk[None, :]).astype(float) - pgk[None, :]
            s = pgk.sum()
            wf = ind / s - np.outer(ind.sum(axis=1), pgk / s**2)
            overall_inf = np.column_stack(infs) @ w + wf @ a
        else:  # calendar
            for tt in np.unique(tim[tim >= grp.min()]):
                keep = np.flatnonzero((tim == tt) & post)
                if keep.size == 0:
                    continue
                est, f = combine(keep, pg[keep] / pg[keep].sum(), True)
                rows.append({"time": tt, "estimate": est})
                infs.append(f)
            overall_est = float(np.mean([r["estimate"] for r in rows]))
            overall_inf = np.mean(infs, axis=0)
        c = critical_value(self.conf_level)
        overall_se = float(_se_from_inf(overall_inf[:, None])[0])
        overall = _wald_frame([overall_est], [overall_se], c)
        table = pd.DataFrame(rows)
        crit_u = None
        if rows:
            F = np.column_stack(infs)
            se = _se_from_inf(F)
            table = pd.concat([table, _wald_frame(table["estimate"].to_numpy(), se, c).drop(columns="estimate")], axis=1)
            n_boot = int(self.settings.get("n_boot", 0))
            if kind == "dynamic" and n_boot > 0:
                bse, crit_u = _multiplier_bootstrap(F, n_boot, int(self.settings.get("seed", 0)) + 1, self.conf_level)
                table["band_low"] = table["estimate"] - crit_u * bse
                table["band_high"] = table["estimate"] + crit_u * bse
        return AggteResult(table=table, conf_level=self.conf_level, kind=kind, overall=overall, influence=overall_inf,
                           uniform_critical_value=crit_u, balance_e=balance_e,
                           outcome_col=str(self.settings.get("outcome_col", "")))

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """ATT(g, t) by period, one series per group, with pointwise intervals; ``lang`` (``"zh"`` or ``"en"``) sets the labels."""
        check_lang(lang)
        ax = new_axes(ax)
        for g, sub in self.table.groupby("group"):
            ax.errorbar(sub["time"], sub["estimate"], yerr=[sub["estimate"] - sub["conf_low"], sub["conf_high"] - sub["estimate"]],
                        fmt="o-", ms=2, lw=0.8, capsize=0, label=t(f"组 {g}", f"group {g}", lang))
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel(t("时期", "period", lang))
        ax.set_ylabel(t("组-时期平均处理效应 ATT(g, t)", "ATT(g, t)", lang))
        ax.legend(fontsize="small")
        return ax


def _wald_frame(est, se, c: float) -> pd.DataFrame:
    from scipy.stats import norm

    est = np.asarray(est, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    return pd.DataFrame({"estimate": est, "std_error": se, "statistic": stat, "p_value": 2 * norm.sf(np.abs(stat)),
                         "conf_low": est - c * se, "conf_high": est + c * se})


# =========================================================================== att_gt


def _prepare_panel(data, outcome_col, unit_col, time_col, group_col, covariates):
    cov = list(covariates or [])
    cols = {"outcome_col": outcome_col, "unit_col": unit_col, "time_col": time_col, "group_col": group_col}
    cols.update({f"covariates[{i}]": c for i, c in enumerate(cov)})
    require_columns(data, cols, numeric=["outcome_col", "time_col", "group_col", *[f"covariates[{i}]" for i in range(len(cov))]])
    df = data[list(dict.fromkeys([unit_col, time_col, group_col, outcome_col, *cov]))]
    na = df.isna().any(axis=1)
    if na.any():
        i = df.index[na][0]
        bad = [c for c in df.columns if pd.isna(df.loc[i, c])]
        raise KosDataError(f"data has {int(na.sum())} rows with missing values (first: row {i!r}, columns {bad})")
    check_panel_unique(df, [unit_col, time_col])
    g_per_unit = df.groupby(unit_col, sort=True)[group_col].agg(["min", "max"])
    varying = g_per_unit[g_per_unit["min"] != g_per_unit["max"]]
    if len(varying):
        raise KosDataError(
            f"group_col={group_col!r} must be constant within each unit; {len(varying)} units change it "
            f"(e.g. {varying.index[:3].tolist()})"
        )
    if (df[group_col] < 0).any():
        raise KosDataError(f"group_col={group_col!r} must be 0 (never treated) or the first treated period; found negative values")
    units = g_per_unit.index.to_numpy()
    periods = np.sort(df[time_col].unique())
    counts = df.groupby(unit_col, sort=True)[time_col].size()
    unbalanced = counts[counts != periods.size]
    if len(unbalanced):
        raise KosDataError(
            f"the panel is not balanced: {len(unbalanced)} of {len(units)} units are not observed in all "
            f"{periods.size} periods (e.g. {unbalanced.index[:3].tolist()} with {unbalanced.iloc[:3].tolist()} periods); "
            "drop or complete them first (store_week_panel() does this and reports what it drops)"
        )
    ui = pd.Index(units).get_indexer(df[unit_col])
    ti = np.searchsorted(periods, df[time_col].to_numpy())
    Y = np.empty((units.size, periods.size))
    Y[ui, ti] = df[outcome_col].to_numpy(dtype=float)
    Xs = None
    if cov:
        Xs = np.empty((len(cov), units.size, periods.size))
        for k, c in enumerate(cov):
            Xs[k][ui, ti] = df[c].to_numpy(dtype=float)
    G = g_per_unit["min"].to_numpy(dtype=float)
    return units, periods, Y, Xs, G


def att_gt(
    data: pd.DataFrame,
    *,
    outcome_col: str,
    unit_col: str,
    time_col: str,
    group_col: str,
    control_group: ControlGroup = "never_treated",
    covariates: Sequence[str] | None = None,
    est_method: EstMethod = "dr",
    anticipation: int = 0,
    base_period: BasePeriod = "varying",
    conf_level: float = 0.95,
    n_boot: int = 0,
    seed: int = 0,
) -> AttGtResult:
    """Group-time average treatment effects for a staggered roll-out (Callaway & Sant'Anna 2021).

    Parameters
    ----------
    data : DataFrame
        Balanced long panel, one row per unit and period.
    outcome_col : str
        Numeric outcome (e.g. weekly sales).
    unit_col : str
        Unit identifier (e.g. ``store_id``); standard errors are clustered by it.
    time_col : str
        Numeric period (e.g. week index 1, 2, ...).
    group_col : str
        First treated period of the unit, 0 for never treated.
    control_group : {"never_treated", "not_yet_treated"}, default "never_treated"
    covariates : sequence of str, optional
        Numeric covariates, taken at the earlier period of each comparison
        (the base period for post-treatment cells).
    est_method : {"dr", "ipw", "reg"}, default "dr"
        Doubly robust (Sant'Anna & Zhao 2020, R ``did`` default), inverse
        probability weighting, or outcome regression.
    anticipation : int, default 0
        Periods before ``g`` in which units may already react.
    base_period : {"varying", "universal"}, default "varying"
        Pre-treatment cells compare ``t`` with ``t - 1`` (varying) or every
        cell with ``g - anticipation - 1`` (universal; that cell is reported as 0).
    conf_level : float, default 0.95
    n_boot : int, default 0
        Multiplier-bootstrap replicates for uniform bands (0 = analytic only).
    seed : int, default 0

    Returns
    -------
    AttGtResult
        ``.table``: ``group, time, event_time, estimate, std_error, statistic,
        p_value, conf_low, conf_high, post`` (+ ``boot_std_error, band_low,
        band_high``); ``.pretest_p_value``; ``.aggregate(kind)``.

    Raises
    ------
    KosDataError
        Missing / non-numeric columns, missing values, duplicate unit-period
        rows, a unit whose group changes, an unbalanced panel, no comparison units.
    KosParameterError
        Unknown option, negative ``anticipation``, bad ``n_boot``.

    See Also
    --------
    did_2x2, store_week_panel, refute_att_gt

    Notes
    -----
    ``ATT(g, t) = E[Y_t - Y_{b} | G = g] - E[Y_t - Y_{b} | C]`` with the
    comparison ``C`` the never-treated units, or the units not yet treated
    by ``max(t, b) + anticipation``, and ``b`` the base period
    (Callaway & Sant'Anna 2021, Journal of Econometrics 225(2)). With
    covariates the 2x2 comparisons use the panel estimators of Sant'Anna &
    Zhao (2020, Journal of Econometrics 219(1)) as the R ``DRDID`` package
    computes them (logit propensity score trimmed at 0.995 for comparison
    units). Standard errors come from the influence functions: ``se =
    sqrt(Σ_i ψ_i²) / n`` with one ψ per unit, i.e. clustered by unit; the
    multiplier bootstrap (Rademacher weights, IQR-based scale, sup-t critical
    value) gives uniform bands. The pre-test is the Wald statistic
    ``n a' V^{-1} a`` of the pre-treatment cells. Units treated in the first
    period (no pre-period) are dropped and listed in ``dropped_units``; units
    first treated after the last period count as never treated. The
    definitions follow R ``did`` 2.x so that estimates agree with it.
    """
    check_choice("control_group", control_group, ("never_treated", "not_yet_treated"))
    check_choice("est_method", est_method, ("dr", "ipw", "reg"))
    check_choice("base_period", base_period, ("varying", "universal"))
    check_conf_level(conf_level)
    if not isinstance(anticipation, (int, np.integer)) or isinstance(anticipation, bool) or anticipation < 0:
        raise KosParameterError(f"anticipation={anticipation!r} must be a whole number of periods >= 0")
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 0 or n_boot == 1:
        raise KosParameterError(f"n_boot={n_boot!r} must be 0 (analytic only) or a whole number >= 2, e.g. 999")
    units, periods, Y, Xs, G = _prepare_panel(data, outcome_col, unit_col, time_col, group_col, covariates)
    settings = {"outcome_col": outcome_col, "unit_col": unit_col, "time_col": time_col, "group_col": group_col,
                "control_group": control_group, "covariates": list(covariates or []), "est_method": est_method,
                "anticipation": int(anticipation), "base_period": base_period, "n_boot": int(n_boot), "seed": int(seed)}
    return _att_gt_arrays(units, periods, Y, Xs, G, settings=settings, conf_level=conf_level)


def _att_gt_arrays(units, periods, Y, Xs, G, *, settings: dict[str, Any], conf_level: float,
                   pretest: bool = True) -> AttGtResult:
    """ATT(g, t) on a prepared balanced panel: ``Y`` is units × periods, ``G`` the group of each unit."""
    group_col = settings["group_col"]
    control_group = settings["control_group"]
    est_method = settings["est_method"]
    anticipation = settings["anticipation"]
    base_period = settings["base_period"]
    n_boot = settings["n_boot"]
    seed = settings["seed"]
    G = np.where(G > periods.max() + anticipation, 0.0, G)
    first_treated = (G > 0) & (G <= periods.min() + anticipation)
    dropped = pd.DataFrame({"unit": units[first_treated], "group": G[first_treated],
                            "reason": "treated in the first period (no pre-treatment period)"})
    keep = ~first_treated
    units, Y, G = units[keep], Y[keep], G[keep]
    if Xs is not None:
        Xs = Xs[:, keep]
    glist = np.unique(G[G > 0])
    if glist.size == 0:
        raise KosDataError(f"group_col={group_col!r} has no treated units (every value is 0 or before the first period)")
    has_never = bool((G == 0).any())
    tmask = np.ones(periods.size, bool)
    if not has_never:
        if control_group == "never_treated":
            raise KosDataError(
                f"group_col={group_col!r} has no never-treated units (value 0); use control_group='not_yet_treated'"
            )
        last = glist.max()
        tmask = periods < last - anticipation
        glist = glist[glist < last]
        if glist.size == 0 or tmask.sum() < 2:
            raise KosDataError("with no never-treated units there must be at least two cohorts and two periods before the last cohort")
    tl = periods[tmask]
    Yt = Y[:, tmask]
    n = units.size
    T = tl.size
    cells: list[tuple[float, int, int]] = []  # (g, ti, pret) ; pret=-1 marks the universal reference cell
    for g in glist:
        pre_idx = np.flatnonzero(tl + anticipation < g)
        if pre_idx.size == 0:
            continue
        base = int(pre_idx[-1])
        t_range = range(T) if base_period == "universal" else range(1, T)
        for ti in t_range:
            if g <= tl[ti]:
                cells.append((g, ti, base))
            elif base_period == "universal":
                cells.append((g, ti, -1 if ti == base else base))
            else:
                cells.append((g, ti, ti - 1))
    K = len(cells)
    att = np.full(K, np.nan)
    INF = np.zeros((n, K))
    cg = np.array([c[0] for c in cells])
    cti = np.array([c[1] for c in cells])
    cpre = np.array([c[2] for c in cells])
    ref = cpre < 0
    att[ref] = 0.0
    calc = np.flatnonzero(~ref)
    pre_col = cpre[calc]
    post_col = cti[calc]
    dY = Yt[:, post_col] - Yt[:, pre_col]  # n x m
    treat = G[:, None] == cg[calc][None, :]
    if control_group == "never_treated":
        ctrl = np.broadcast_to((G == 0)[:, None], treat.shape)
    else:
        later = np.maximum(tl[post_col], tl[pre_col]) + anticipation
        ctrl = (G[:, None] == 0) | ((G[:, None] > later[None, :]) & (G[:, None] != cg[calc][None, :]))
    n1 = treat.sum(axis=0).astype(float)
    n0 = ctrl.sum(axis=0).astype(float)
    usable = (n1 > 0) & (n0 > 0)
    if Xs is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            mu1 = np.where(treat, dY, 0.0).sum(axis=0) / n1
            mu0 = np.where(ctrl, dY, 0.0).sum(axis=0) / n0
            inf = n * (np.where(treat, dY - mu1, 0.0) / n1 - np.where(ctrl, dY - mu0, 0.0) / n0)
        att[calc] = np.where(usable, mu1 - mu0, np.nan)
        INF[:, calc] = np.where(usable[None, :], inf, 0.0)
    else:
        for j, k in enumerate(calc):
            if not usable[j]:
                continue
            sub = treat[:, j] | ctrl[:, j]
            early = min(post_col[j], pre_col[j])
            col = int(np.flatnonzero(tmask)[early])
            X = np.column_stack([np.ones(int(sub.sum())), *[x[sub, col] for x in Xs]])
            try:
                a, f = _cell_estimate(dY[sub, j], treat[sub, j], X, est_method)
            except np.linalg.LinAlgError:
                continue
            att[k] = a
            INF[sub, k] = f * n / sub.sum()
    INF[:, ~np.isfinite(att)] = 0.0
    se = _se_from_inf(INF)
    se[ref] = np.nan
    c = critical_value(conf_level)
    table = pd.DataFrame({"group": cg.astype(int) if np.allclose(cg, np.round(cg)) else cg,
                          "time": tl[cti], "event_time": tl[cti] - cg})
    table = pd.concat([table, _wald_frame(att, se, c)], axis=1)
    table["post"] = cg <= tl[cti]
    # pre-test of parallel trends
    pre = np.flatnonzero((cg > tl[cti]) & np.isfinite(se))
    p_pre, w_stat, q = float("nan"), float("nan"), 0
    if pre.size and pretest and pre.size < n:
        from scipy.stats import chi2

        V = INF[:, pre].T @ INF[:, pre] / n
        a = att[pre]
        if np.linalg.cond(V) < 1 / np.finfo(float).eps:
            w_stat = float(n * a @ np.linalg.solve(V, a))
            q = int(pre.size)
            p_pre = float(chi2.sf(w_stat, q))
    crit_u = None
    if n_boot > 0:
        bse, crit_u = _multiplier_bootstrap(INF, n_boot, seed, conf_level)
        bse[ref] = np.nan
        table["boot_std_error"] = bse
        table["band_low"] = att - crit_u * bse
        table["band_high"] = att + crit_u * bse
    pre_periods = pd.DataFrame({
        "group": glist, "n_units": [int((G == g).sum()) for g in glist],
        "pre_periods": [int(np.sum(tl + anticipation < g)) for g in glist],
    })
    return AttGtResult(table=table, conf_level=conf_level, influence=INF, unit_groups=G, units=units, periods=tl,
                       pretest_p_value=p_pre, pretest_statistic=w_stat, pretest_df=q, pre_periods=pre_periods,
                       dropped_units=dropped, uniform_critical_value=crit_u, settings=settings)
