"""Causal effect of a promotion invitation (晋级邀请) on later spend and on reaching the core tier.

Design: a sequence of monthly "trials" (Hernán & Robins 2016, target-trial
emulation). In each period ``t`` the risk set is every eligible customer not
invited before; the treated are those invited in ``t``, the controls the rest
of the risk set. Treatment assignment is modelled by a logistic propensity
score on pre-invitation features only (periods before ``t``), and invited
customers are compared with weighted (IPW, ATT weights) or matched
non-invited ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes, tidy_estimates
from kosresearch._validation import check_choice, check_conf_level, check_positive, require_columns
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.tiers.scoring import TierAssignment, ValueScores, _sorted_view, _trail

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["PromotionResult", "promotion_effect", "OUTCOMES"]

#: outcome -> description
OUTCOMES: dict[str, str] = {
    "spend_next_3m": "spend (CNY) from the start of the invitation period to the end of the third period after it, "
    "a window that holds the 90 days after any invitation inside the period",
    "core_next_3m": "reaches the core tier in at least one of the three periods after the invitation period",
}

_PRE = 3  # pre-invitation periods used by the covariates
_POST = 3  # periods after the invitation period in the outcome window


@dataclass(frozen=True)
class PromotionResult(Result):
    """Effect of promotion invitations, with its balance and overlap diagnostics.

    Attributes
    ----------
    table : DataFrame
        One row per estimate: ``term`` (``naive``, the chosen method
        ``ipw`` / ``matching``, and ``placebo``: the same estimator on the
        outcome 4-6 periods before the invitation, which must be near 0),
        ``estimate, std_error, statistic, p_value, conf_low, conf_high,
        n_treated, n_control``.
    conf_level : float
        Level of the intervals.
    balance : DataFrame
        ``covariate, mean_treated, mean_control_before, mean_control_after,
        smd_before, smd_after``.
    overlap : DataFrame
        Propensity-score quantiles per group (``group, n, min, p05, median,
        p95, max``) and diagnostics rows (``share_treated_above_control_max``,
        ``control_effective_n`` for IPW, ``treated_unmatched`` for matching).
    propensity_model : DataFrame
        Tidy coefficients of the propensity model.
    propensity : DataFrame
        ``customer_id, period, treated, propensity, weight`` of the risk set
        (the weights the estimator used).
    outcome : str
        The outcome.
    method : str
        ``"ipw"`` or ``"matching"``.
    """

    balance: pd.DataFrame = field(default_factory=pd.DataFrame)
    overlap: pd.DataFrame = field(default_factory=pd.DataFrame)
    propensity_model: pd.DataFrame = field(default_factory=pd.DataFrame)
    propensity: pd.DataFrame = field(default_factory=pd.DataFrame)
    outcome: str = "spend_next_3m"
    method: str = "ipw"

    @property
    def estimate(self) -> float:
        """The adjusted estimate (row ``method``)."""
        return float(self.table.set_index("term").loc[self.method, "estimate"])

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":
        """Covariate balance: absolute standardised mean differences before and after adjustment (a Love plot)."""
        ax = new_axes(ax, figsize=(6.5, 0.45 * len(self.balance) + 1.5))
        b = self.balance.iloc[::-1]
        y = np.arange(len(b))
        ax.scatter(b["smd_before"].abs(), y, marker="o", color="#C44E52", label="before")
        ax.scatter(b["smd_after"].abs(), y, marker="s", color="#4C72B0", label=f"after ({self.method})")
        ax.axvline(0.1, color="grey", linestyle="--", linewidth=1)
        ax.set_yticks(y, b["covariate"])
        ax.set_xlabel("|standardised mean difference|")
        ax.set_title("covariate balance, invited vs not invited")
        ax.legend(fontsize=8)
        return ax

    def plot_overlap(self, *, ax: "Axes | None" = None) -> "Axes":
        """Distribution of the logit propensity score among invited and not invited."""
        ax = new_axes(ax, figsize=(6.5, 3.5))
        p = self.propensity
        lg = np.log(p["propensity"] / (1 - p["propensity"]))
        bins = np.linspace(lg.min(), lg.max(), 50)
        ax.hist(lg[~p["treated"]], bins=bins, density=True, alpha=0.5, label="not invited", color="#4C72B0")
        ax.hist(lg[p["treated"]], bins=bins, density=True, alpha=0.5, label="invited", color="#C44E52")
        ax.set_xlabel("logit propensity score")
        ax.set_ylabel("density")
        ax.set_title("overlap of propensity scores")
        ax.legend(fontsize=8)
        return ax


def promotion_effect(
    features: pd.DataFrame | ValueScores | TierAssignment,
    tier_events: pd.DataFrame,
    *,
    outcome: Literal["spend_next_3m", "core_next_3m"] = "spend_next_3m",
    method: Literal["ipw", "matching"] = "ipw",
    tiers: pd.DataFrame | TierAssignment | None = None,
    id_col: str = "customer_id",
    period_col: str = "period",
    n_neighbors: int = 5,
    caliper: float = 0.2,
    conf_level: float = 0.95,
) -> PromotionResult:
    """Effect of a promotion invitation on the invited (ATT), adjusted for how invitations were targeted.

    Parameters
    ----------
    features : DataFrame, ValueScores or TierAssignment
        The monthly panel of :func:`customer_features` (dense: every period
        from acquisition on), needs ``monetary``, ``frequency``,
        ``messages_to_kos``, ``period_start`` and ``period_complete``;
        ``group_messages``, ``spend_to_date``, ``kos_served``,
        ``feedback_to_date`` and ``region`` are used when present.
    tier_events : DataFrame
        ``customer_id, ts, event``; rows with ``event == "promotion_invite"``
        are invitations (a customer's first one counts).
    outcome : {"spend_next_3m", "core_next_3m"}, default "spend_next_3m"
        See :data:`OUTCOMES`. ``core_next_3m`` needs tiers (``tiers=`` or a
        ``tier`` column in ``features``).
    method : {"ipw", "matching"}, default "ipw"
        Inverse-probability weighting with ATT weights, or nearest-neighbour
        matching on the logit propensity score.
    tiers : DataFrame or TierAssignment, optional
        Tiers per customer and period (column ``tier``), for the core
        outcome and as a covariate (tier in the previous period).
    id_col, period_col : str
        Customer and period columns.
    n_neighbors : int, default 5
        Controls matched to each invited customer (with replacement).
    caliper : float, default 0.2
        Maximum distance of a match, in standard deviations of the logit
        propensity score (Austin 2011).
    conf_level : float, default 0.95
        Level of the intervals.

    Returns
    -------
    PromotionResult
        ``.table`` (rows ``naive``, ``ipw`` or ``matching``, ``placebo``),
        ``.balance``, ``.overlap``, ``.propensity_model``, ``.propensity``.

    Raises
    ------
    KosDataError
        Missing columns, no invitations with full follow-up, or a treated or
        control group left empty.
    KosParameterError
        Unknown outcome or method, bad ``n_neighbors`` / ``caliper``.

    See Also
    --------
    customer_features, assign_tiers

    Notes
    -----
    Estimand: the average effect of being invited in period ``t`` rather than
    not in ``t``, among the invited (ATT), on the outcome window of ``t``.

    Risk set of period ``t``: customers bound to a KOS (``kos_served``),
    with at least ``3`` earlier periods since acquisition, no feedback up to
    ``t - 1``, not invited before ``t``, and a complete outcome window
    (``t + 3`` is a full period of the data: later invitations have
    truncated follow-up and are left out). Invitations must have been
    targeted on what the KOS could see before ``t``; the propensity score
    is a logistic regression of "invited in ``t``" on log spend (in CNY
    hundreds) and orders in ``t-3..t-1`` (with indicators for one and for
    two or more orders), log messages to the KOS in ``t-1``, log group
    messages in ``t-3..t-1``, log spend to date before ``t``, log tenure,
    the tier in ``t-1`` (when tiers are given) and region.

    IPW: controls get weight ``e / (1 - e)``, the invited 1 (Hájek
    normalised); the ATT is the difference of weighted means. Its standard
    error is the M-estimation sandwich that stacks the logistic score and
    both weighted means (Lunceford & Davidian 2004, adapted to the ATT),
    clustered by customer, so it accounts for the estimated score.

    Matching: each invited customer gets its ``n_neighbors`` nearest controls
    on the logit score, with replacement, within the caliper; the variance is
    Abadie & Imbens' (2006) ATT estimator
    ``V = [sum_T (Y_i - Y0hat_i - tau)^2 + sum_C K_c (K_c - 1) / M^2 s2_c] / N1^2``
    with ``s2_c`` from each control's nearest other control; it ignores the
    estimation of the score (Abadie & Imbens 2016) and the repetition of a
    customer across periods.

    The naive row is the plain difference of means between the invited and
    the whole risk set (Welch standard error): invitations go to recent big
    spenders, who would spend more anyway, so it overstates the effect. The
    placebo row applies the chosen estimator to the same outcome measured
    before the invitation (spend in ``t-6..t-4``, or being core in one of
    ``t-6..t-4``), which an invitation in ``t`` cannot change; an estimate
    far from 0 signals selection on something the model misses.
    """
    check_choice("outcome", outcome, list(OUTCOMES))
    check_choice("method", method, ["ipw", "matching"])
    check_conf_level(conf_level)
    if not isinstance(n_neighbors, (int, np.integer)) or n_neighbors < 1:
        raise KosParameterError(f"n_neighbors={n_neighbors!r} must be a whole number, at least 1")
    check_positive("caliper", caliper)
    data = features.table if isinstance(features, (ValueScores, TierAssignment)) else features
    need = ["monetary", "frequency", "messages_to_kos"]
    require_columns(data, {"id_col": id_col, "period_col": period_col, "period_start": "period_start",
                           **{c: c for c in need}}, numeric=need, name="features")
    require_columns(tier_events, {"id_col": id_col, "ts": "ts", "event": "event"}, name="tier_events")
    f = _sorted_view(data, id_col, period_col)
    tier = _tier_column(f, data, tiers, id_col, period_col, needed=(outcome == "core_next_3m"))
    panel = _panel(f, tier_events, id_col, period_col, tier)
    risk = panel[panel["at_risk"]].reset_index(drop=True)
    n_t = int(risk["treated"].sum())
    if n_t == 0:
        raise KosDataError("no promotion invitation falls in a period with a complete outcome window and an "
                           "eligible customer; nothing to estimate")
    if n_t == len(risk):
        raise KosDataError("every customer of the risk set was invited; there is no comparison group")
    X, names = _design(risk)
    e, coef = _propensity(X, risk["treated"].to_numpy(), names, conf_level)
    y = risk["y_spend"].to_numpy(dtype=float) if outcome == "spend_next_3m" else risk["y_core"].to_numpy(dtype=float)
    placebo_y = risk["y_placebo" if outcome == "spend_next_3m" else "y_placebo_core"].to_numpy(dtype=float)
    T = risk["treated"].to_numpy(dtype=bool)
    cid = risk["_cid"].to_numpy()
    rows = [_naive(y, T, conf_level)]
    if method == "ipw":
        est, se, w = _ipw_att(y, T, e, X, cid)
        rows.append(_row("ipw", est, se, conf_level, int(T.sum()), int((~T).sum())))
        ok = ~np.isnan(placebo_y)
        pe, pse, _ = _ipw_att(placebo_y[ok], T[ok], e[ok], X[ok], cid[ok])
        rows.append(_row("placebo", pe, pse, conf_level, int(T[ok].sum()), int((~T[ok]).sum())))
        balance_w = w
        diag = [{"group": "control_effective_n", "n": float(w[~T].sum() ** 2 / (w[~T] ** 2).sum())}]
    else:
        lg = np.log(e / (1 - e))
        est, se, w, unmatched = _match_att(y, T, lg, n_neighbors, caliper)
        rows.append(_row("matching", est, se, conf_level, int(T.sum()) - unmatched, int((w[~T] > 0).sum())))
        ok = ~np.isnan(placebo_y)
        pe, pse, pw, pun = _match_att(placebo_y[ok], T[ok], lg[ok], n_neighbors, caliper)
        rows.append(_row("placebo", pe, pse, conf_level, int(T[ok].sum()) - pun, int((pw[~T[ok]] > 0).sum())))
        balance_w = w
        diag = [{"group": "treated_unmatched", "n": float(unmatched)}]
    table = pd.DataFrame(rows)
    balance = _balance(X, names, T, balance_w)
    overlap = _overlap(e, T, diag)
    prop = pd.DataFrame({id_col: risk[id_col].to_numpy(), period_col: risk[period_col].to_numpy(), "treated": T,
                         "propensity": e, "weight": balance_w})
    return PromotionResult(table=table, conf_level=conf_level, balance=balance, overlap=overlap,
                           propensity_model=coef, propensity=prop, outcome=outcome, method=method)


# --------------------------------------------------------------------------- panel


def _tier_column(f, data, tiers, id_col, period_col, *, needed: bool) -> np.ndarray | None:
    if tiers is None:
        if "tier" in data.columns:
            return f["tier"].astype(object).to_numpy()
        if needed:
            raise KosDataError("outcome='core_next_3m' needs tiers: pass tiers=assign_tiers(...) or a 'tier' column")
        return None
    t = tiers.table if isinstance(tiers, TierAssignment) else tiers
    require_columns(t, {"id_col": id_col, "period_col": period_col, "tier": "tier"}, name="tiers")
    key = t[[id_col, period_col, "tier"]].astype({id_col: str, period_col: str})
    m = f[[id_col, period_col]].astype({id_col: str, period_col: str}).merge(key, on=[id_col, period_col], how="left")
    return m["tier"].astype(object).to_numpy()


def _panel(f: pd.DataFrame, tier_events: pd.DataFrame, id_col: str, period_col: str, tier) -> pd.DataFrame:
    """Per customer-period: treatment, risk-set membership, covariates and outcomes (vectorised)."""
    n = len(f)
    cid = f["_cid"].to_numpy()
    ordn = f["_ord"].to_numpy()
    first = np.r_[True, cid[1:] != cid[:-1]]
    start_idx = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    k_since = ordn - ordn[start_idx]
    # invitations -> (customer, period index)
    inv = tier_events.loc[tier_events["event"] == "promotion_invite", [id_col, "ts"]].copy()
    inv[id_col] = inv[id_col].astype(str)
    inv = inv.groupby(id_col, as_index=False)["ts"].min()
    starts = f[["_ord", "period_start"]].drop_duplicates("_ord").sort_values("_ord")
    s_ts = pd.to_datetime(starts["period_start"]).to_numpy()
    pos = np.searchsorted(s_ts, pd.to_datetime(inv["ts"]).to_numpy(), side="right") - 1
    inv_ord = np.where(pos >= 0, starts["_ord"].to_numpy()[np.clip(pos, 0, None)], np.iinfo(np.int64).min)
    inv_map = pd.Series(inv_ord, index=inv[id_col].to_numpy())
    cust_inv = inv_map.reindex(f[id_col].astype(str).to_numpy()).to_numpy()
    has_inv = ~np.isnan(cust_inv)
    cust_inv = np.where(has_inv, cust_inv, np.inf)
    treated = has_inv & (cust_inv == ordn)
    before = ordn < cust_inv
    # window sums; _trail sums (t - w, t]
    spend = f["monetary"].astype(float).fillna(0).to_numpy()
    s4 = _trail(f, id_col, "monetary", _PRE + 1).to_numpy()
    o4 = _trail(f, id_col, "frequency", _PRE + 1).to_numpy()
    m2 = _trail(f, id_col, "messages_to_kos", 2).to_numpy()
    out = pd.DataFrame({id_col: f[id_col].to_numpy(), period_col: f[period_col].to_numpy(), "_cid": cid,
                        "_ord": ordn})
    out["spend_prev_3"] = s4 - spend
    out["orders_prev_3"] = o4 - f["frequency"].astype(float).fillna(0).to_numpy()
    out["messages_prev_1"] = m2 - f["messages_to_kos"].astype(float).fillna(0).to_numpy()
    if "group_messages" in f and f["group_messages"].notna().any():
        g4 = _trail(f, id_col, "group_messages", _PRE + 1).to_numpy()
        out["group_messages_prev_3"] = g4 - f["group_messages"].astype(float).fillna(0).to_numpy()
    if "spend_to_date" in f:
        out["spend_to_date_prev"] = f["spend_to_date"].astype(float).to_numpy() - spend
    out["tenure_periods"] = k_since.astype(float)
    if "region" in f:
        out["region"] = f["region"].astype(str).to_numpy()
    if tier is not None:
        prev_tier = np.r_[[None], tier[:-1]]
        prev_tier = np.where(first, None, prev_tier)
        out["tier_prev"] = prev_tier
    # outcomes: spend over t..t+3 (rows must be consecutive and t+3 complete)
    s_fwd = _shift(_trail(f, id_col, "monetary", _POST + 1).to_numpy(), -_POST, np.nan)
    same_fwd = _shift(cid, -_POST, -1) == cid
    cons_fwd = _shift(ordn, -_POST, np.iinfo(np.int64).min) == ordn + _POST
    complete = f["period_complete"].to_numpy(dtype=bool) if "period_complete" in f else np.ones(n, bool)
    full = same_fwd & cons_fwd & (_shift(complete.astype(np.int8), -_POST, 0) == 1)
    out["y_spend"] = np.where(full, s_fwd, np.nan)
    if tier is not None:
        core = np.array([t_ == "core" for t_ in tier], dtype=float)
        out["y_core"] = np.where(full, np.maximum.reduce([_shift(core, -k, 0.0) for k in range(1, _POST + 1)]), np.nan)
    else:
        out["y_core"] = np.nan
    # placebos: the outcome 4-6 periods before t, which an invitation in t cannot change
    s7 = _trail(f, id_col, "monetary", 2 * _PRE + 1).to_numpy()
    out["y_placebo"] = np.where(k_since >= 2 * _PRE, s7 - s4, np.nan)
    if tier is not None:
        lagged = np.maximum.reduce([_shift(core, k, np.nan) for k in range(_PRE + 1, 2 * _PRE + 1)])
        same_back = _shift(cid, 2 * _PRE, -1) == cid
        out["y_placebo_core"] = np.where((k_since >= 2 * _PRE) & same_back, lagged, np.nan)
    else:
        out["y_placebo_core"] = np.nan
    eligible = (k_since >= _PRE) & full & (before | treated)
    if "kos_served" in f:
        eligible &= f["kos_served"].astype(bool).to_numpy()
    elif "kos_id" in f:
        eligible &= f["kos_id"].notna().to_numpy()
    if "feedback_to_date" in f and "feedback_given" in f:
        fb_prev = f["feedback_to_date"].astype(float).to_numpy() - f["feedback_given"].astype(float).to_numpy()
        eligible &= fb_prev <= 0
    out["treated"] = treated
    out["at_risk"] = eligible
    return out


def _shift(x: np.ndarray, k: int, fill) -> np.ndarray:
    """``x`` moved by ``k`` rows (negative: look ahead), padded with ``fill``."""
    x = np.asarray(x)
    if k == 0:
        return x
    pad = np.full(abs(k), fill, dtype=np.result_type(x.dtype, np.asarray(fill).dtype))
    return np.concatenate([x[-k:], pad]) if k < 0 else np.concatenate([pad, x[:-k]])


def _design(risk: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    cols = {
        "log_spend_prev_3": np.log1p(risk["spend_prev_3"].clip(lower=0) / 100.0),
        "one_order_prev_3": (risk["orders_prev_3"] == 1).astype(float),
        "two_plus_orders_prev_3": (risk["orders_prev_3"] >= 2).astype(float),
        "log_messages_prev_1": np.log1p(risk["messages_prev_1"].clip(lower=0)),
        "log_tenure_periods": np.log1p(risk["tenure_periods"]),
    }
    if "group_messages_prev_3" in risk:
        cols["log_group_messages_prev_3"] = np.log1p(risk["group_messages_prev_3"].clip(lower=0))
    if "spend_to_date_prev" in risk:
        cols["log_spend_to_date_prev"] = np.log1p(risk["spend_to_date_prev"].clip(lower=0) / 100.0)
    X = pd.DataFrame(cols)
    if "tier_prev" in risk:
        for t_ in ("core", "potential", "churned"):
            v = (risk["tier_prev"] == t_).astype(float)
            if v.std() > 0:
                X[f"tier_prev_{t_}"] = v
    if "region" in risk and risk["region"].nunique() > 1:
        d = pd.get_dummies(risk["region"], prefix="region", drop_first=True, dtype=float)
        X = pd.concat([X, d], axis=1)
    X = X.loc[:, X.std() > 0]
    X.insert(0, "const", 1.0)
    return X.to_numpy(dtype=float), list(X.columns)


def _propensity(X, T, names, conf_level) -> tuple[np.ndarray, pd.DataFrame]:
    import statsmodels.api as sm

    fit = sm.Logit(T.astype(float), X).fit(disp=0, maxiter=100)
    e = np.clip(np.asarray(fit.predict(X), dtype=float), 1e-8, 1 - 1e-8)
    coef = tidy_estimates(names, np.asarray(fit.params), np.asarray(fit.bse), conf_level=conf_level)
    return e, coef


# --------------------------------------------------------------------------- estimators


def _row(term, est, se, conf_level, n_t, n_c) -> dict:
    t = tidy_estimates([term], [est], [se], conf_level=conf_level).iloc[0].to_dict()
    t.update(n_treated=n_t, n_control=n_c)
    return t


def _naive(y, T, conf_level) -> dict:
    y1, y0 = y[T], y[~T]
    est = y1.mean() - y0.mean()
    se = np.sqrt(y1.var(ddof=1) / len(y1) + y0.var(ddof=1) / len(y0))
    return _row("naive", est, se, conf_level, len(y1), len(y0))


def _ipw_att(y, T, e, X, cluster) -> tuple[float, float, np.ndarray]:
    """Hájek ATT with controls weighted by e/(1-e); sandwich SE stacking the logit score, clustered."""
    r = e / (1 - e)
    w = np.where(T, 1.0, r)
    mu1 = float(y[T].mean())
    mu0 = float((r[~T] * y[~T]).sum() / r[~T].sum())
    n, p = X.shape
    t = T.astype(float)
    # estimating functions, one row per observation: [score (p), psi_mu1, psi_mu0]
    psi = np.empty((n, p + 2))
    psi[:, :p] = (t - e)[:, None] * X
    psi[:, p] = t * (y - mu1)
    psi[:, p + 1] = (1 - t) * r * (y - mu0)
    # A = -sum d psi / d theta
    A = np.zeros((p + 2, p + 2))
    A[:p, :p] = (X * (e * (1 - e))[:, None]).T @ X
    A[p, p] = t.sum()
    A[p + 1, :p] = -(((1 - t) * r * (y - mu0))[:, None] * X).sum(axis=0)
    A[p + 1, p + 1] = ((1 - t) * r).sum()
    # cluster sums
    _, inv = np.unique(cluster, return_inverse=True)
    U = np.zeros((inv.max() + 1, p + 2))
    np.add.at(U, inv, psi)
    B = U.T @ U
    Ainv = np.linalg.inv(A)
    V = Ainv @ B @ Ainv.T
    g = np.zeros(p + 2)
    g[p], g[p + 1] = 1.0, -1.0
    se = float(np.sqrt(g @ V @ g))
    return mu1 - mu0, se, w


def _match_att(y, T, lg, k, caliper) -> tuple[float, float, np.ndarray, int]:
    """k-nearest-neighbour matching on the logit score with replacement, caliper in SDs; Abadie-Imbens variance."""
    sd = float(np.std(lg))
    cal = caliper * sd if sd > 0 else np.inf
    ci = np.flatnonzero(~T)
    ti = np.flatnonzero(T)
    order = np.argsort(lg[ci], kind="stable")
    cs = lg[ci][order]
    cidx = ci[order]
    n_c = cs.size
    k = min(k, n_c)
    pos = np.searchsorted(cs, lg[ti])
    # candidate window of 2k around the insertion point, keep the k closest
    offs = np.arange(-k, k)
    cand = np.clip(pos[:, None] + offs[None, :], 0, n_c - 1)
    dist = np.abs(cs[cand] - lg[ti][:, None])
    # duplicates from clipping: push them out
    dup = np.zeros_like(dist, dtype=bool)
    dup[:, 1:] = cand[:, 1:] == cand[:, :-1]
    dist[dup] = np.inf
    pick = np.argsort(dist, axis=1, kind="stable")[:, :k]
    nn = np.take_along_axis(cand, pick, axis=1)
    nd = np.take_along_axis(dist, pick, axis=1)
    matched = np.all(nd <= cal, axis=1)
    ti_m, nn_m = ti[matched], nn[matched]
    unmatched = int((~matched).sum())
    if ti_m.size == 0:
        raise KosDataError(f"no invited customer has {k} controls within the caliper ({caliper} SD); widen it")
    ctrl_rows = cidx[nn_m]  # (N1, k)
    y0hat = y[ctrl_rows].mean(axis=1)
    tau_i = y[ti_m] - y0hat
    tau = float(tau_i.mean())
    K = np.bincount(ctrl_rows.ravel(), minlength=len(y)).astype(float)
    # conditional variance of each used control from its nearest other control
    used = np.flatnonzero(K > 1)
    s2 = np.zeros(len(y))
    if used.size:
        rank_of = np.empty(len(y), dtype=np.int64)
        rank_of[cidx] = np.arange(n_c)
        rnk = rank_of[used]
        left = np.clip(rnk - 1, 0, n_c - 1)
        right = np.clip(rnk + 1, 0, n_c - 1)
        dl = np.where(rnk > 0, np.abs(cs[left] - cs[rnk]), np.inf)
        dr = np.where(rnk < n_c - 1, np.abs(cs[right] - cs[rnk]), np.inf)
        other = cidx[np.where(dl <= dr, left, right)]
        s2[used] = 0.5 * (y[used] - y[other]) ** 2
    n1 = ti_m.size
    var = (((tau_i - tau) ** 2).sum() + (K * (K - 1) / k**2 * s2).sum()) / n1**2
    w = np.zeros(len(y))
    w[ti_m] = 1.0
    w += K / k
    return tau, float(np.sqrt(var)), w, unmatched


# --------------------------------------------------------------------------- diagnostics


def _balance(X, names, T, w) -> pd.DataFrame:
    rows = []
    for j, name in enumerate(names):
        if name == "const":
            continue
        x = X[:, j]
        x1, x0 = x[T], x[~T]
        w0 = w[~T]
        m1, m0 = x1.mean(), x0.mean()
        m0w = float((w0 * x0).sum() / w0.sum()) if w0.sum() > 0 else np.nan
        w1 = w[T]
        m1w = float((w1 * x1).sum() / w1.sum()) if w1.sum() > 0 else np.nan
        sd = np.sqrt((x1.var(ddof=1) + x0.var(ddof=1)) / 2.0)
        sd = sd if sd > 0 else np.nan
        rows.append({"covariate": name, "mean_treated": m1, "mean_control_before": m0, "mean_control_after": m0w,
                     "smd_before": (m1 - m0) / sd, "smd_after": (m1w - m0w) / sd})
    return pd.DataFrame(rows)


def _overlap(e, T, diag) -> pd.DataFrame:
    rows = []
    for g, m in (("invited", T), ("not_invited", ~T)):
        q = np.quantile(e[m], [0, 0.05, 0.5, 0.95, 1])
        rows.append({"group": g, "n": float(m.sum()), "min": q[0], "p05": q[1], "median": q[2], "p95": q[3],
                     "max": q[4]})
    rows.append({"group": "share_treated_above_control_max", "n": float((e[T] > e[~T].max()).mean())})
    rows.extend(diag)
    return pd.DataFrame(rows)
