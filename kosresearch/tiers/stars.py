"""Rising stars: potential and mass customers most likely to move up a tier next period."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes, tidy_estimates
from kosresearch._validation import check_conf_level, require_columns
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.tiers.scoring import TierAssignment, ValueScores, _sorted_view

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["RisingStarsResult", "rising_stars"]

_COMPONENTS = ("spend", "repurchase", "influence", "engagement")
_LEVEL = {"mass": 0, "potential": 1, "core": 2}
_ROSE = 0.05  # a component "rose" when its percentile score gained at least this much
_NEAR = 0.05  # "just below the cutoff": within this many percentile points


@dataclass(frozen=True)
class RisingStarsResult(Result):
    """The customers most likely to move up, with the reasons.

    Attributes
    ----------
    table : DataFrame
        ``customer_id, period, tier, probability_up, value_score,
        gap_to_next_tier`` (percentile points to the next tier's cutoff, for
        quantile tiers), per component ``c``: ``c_score`` and ``c_change``
        (change of the component score over the lookback), and ``reasons``.
        Raw customer IDs: display :meth:`summary`, which pseudonymises them.
    conf_level : float
        Level of the coefficient intervals.
    coefficients : DataFrame
        Tidy coefficients of the logistic model of moving up.
    base_rates : DataFrame
        ``tier, customer_periods, moved_up, rate``: how often customers of
        each tier moved up in the training periods.
    auc : float
        Out-of-time AUC: the model fitted without the last labelled period,
        scored on it.
    period : str
        The period the stars are taken from.
    """

    coefficients: pd.DataFrame = field(default_factory=pd.DataFrame)
    base_rates: pd.DataFrame = field(default_factory=pd.DataFrame)
    auc: float = float("nan")
    period: object = None

    def summary(self, *, digits: int = 3, salt: str | None = None) -> pd.DataFrame:
        """The stars for display: customer IDs replaced by pseudonyms, numbers rounded.

        ``salt`` keys the pseudonyms (HMAC-SHA256,
        :func:`kosresearch.report.pseudonymise`); by default the machine's
        secret salt (:func:`kosresearch.report.text.default_salt`), so a
        customer has the same pseudonym in every report of this machine.
        """
        from kosresearch.report.text import pseudonymise

        out = self.table.copy()
        out.insert(0, "customer", pseudonymise(out["customer_id"].astype(str), salt).to_numpy())
        out = out.drop(columns=["customer_id"])
        keep = ["customer", "tier", "probability_up", "value_score", "gap_to_next_tier", "reasons"]
        out = out[keep]
        num = out.select_dtypes("number").columns
        out[num] = out[num].round(digits)
        return out

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, border=0, classes="kos-table")

    def __repr__(self) -> str:
        return f"<RisingStarsResult: {len(self.table)} customers, period {self.period}, AUC {self.auc:.2f}>"

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":
        """Mean change of each component among the stars, next to the model's coefficients."""
        ax = new_axes(ax, figsize=(6.0, 3.5))
        comps = [c for c in _COMPONENTS if f"{c}_change" in self.table]
        mean_change = [float(self.table[f"{c}_change"].mean()) for c in comps]
        x = np.arange(len(comps))
        ax.bar(x, mean_change, color="#DD8452")
        ax.axhline(0, color="grey", linewidth=1)
        ax.set_xticks(x, comps)
        ax.set_ylabel("mean change of the component score")
        ax.set_title(f"what rose among the {len(self.table)} rising stars (AUC {self.auc:.2f})")
        return ax


def rising_stars(
    scores: pd.DataFrame | ValueScores,
    tiers: pd.DataFrame | TierAssignment,
    *,
    top: int = 50,
    period=None,
    lookback: int = 3,
    id_col: str = "customer_id",
    period_col: str = "period",
    conf_level: float = 0.95,
) -> RisingStarsResult:
    """Customers of the potential and mass tiers most likely to move up next period, with reasons.

    Parameters
    ----------
    scores : DataFrame or ValueScores
        Component scores per customer and period (:func:`value_scores`).
    tiers : DataFrame or TierAssignment
        Tier per customer and period (:func:`assign_tiers`).
    top : int, default 50
        Number of customers returned.
    period : optional
        Period the stars are picked from (default: the last one).
    lookback : int, default 3
        Periods over which a component's change is measured.
    id_col, period_col : str
        Customer and period columns.
    conf_level : float, default 0.95
        Level of the coefficient intervals.

    Returns
    -------
    RisingStarsResult
        ``.table`` (the stars, best first), ``.coefficients``,
        ``.base_rates``, ``.auc``; ``.summary()`` pseudonymises the IDs.

    Raises
    ------
    KosDataError
        Missing columns, or no move up in the history to learn from.
    KosParameterError
        ``top`` or ``lookback`` not a positive whole number, or an unknown period.

    Notes
    -----
    Model: a logistic regression, on every customer-period of the potential
    and mass tiers before ``period`` whose next period is known, of "the
    next period's tier is higher", on the component scores, their changes
    over ``lookback`` periods (the trajectory), the score's position and
    the current tier. The stars are the customers of ``period`` with the
    highest fitted probability. The reasons describe the trajectory: the
    (at most two) components whose percentile score rose by at least 0.05
    over the lookback, largest rise first; otherwise "just below the next
    tier's cutoff" (within 0.05) or the strongest component. The reasons
    are descriptive: given the current level, a recent rise can lower the
    fitted probability (regression to the mean), which the coefficients
    show. The AUC is out of time: the model is refitted without the last
    labelled period and scored on it.
    """
    check_conf_level(conf_level)
    for name, v in (("top", top), ("lookback", lookback)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise KosParameterError(f"{name}={v!r} must be a whole number, at least 1")
    s = scores.table if isinstance(scores, ValueScores) else scores
    t = tiers.table if isinstance(tiers, TierAssignment) else tiers
    require_columns(t, {"id_col": id_col, "period_col": period_col, "tier": "tier"}, name="tiers")
    comps = [c for c in _COMPONENTS if f"{c}_score" in s.columns and s[f"{c}_score"].notna().any()]
    if not comps:
        raise KosDataError("scores has no component score columns (spend_score, ...); pass value_scores(...)")
    require_columns(s, {"id_col": id_col, "period_col": period_col, "value_score": "value_score"}, name="scores")
    cols = [id_col, period_col, "value_score", *[f"{c}_score" for c in comps]]
    left = s[cols].copy()
    right = t[[id_col, period_col, "tier"] + (["score_position"] if "score_position" in t.columns else [])].copy()
    for fr in (left, right):
        fr[id_col] = fr[id_col].astype(str)
        fr[period_col] = fr[period_col].astype(str)
    d = left.merge(right, on=[id_col, period_col], how="inner")
    f = _sorted_view(d, id_col, period_col)
    for c in comps:
        sc = f[f"{c}_score"].astype(float).fillna(0.0)
        f[f"_{c}"] = sc
        # change over the lookback: score now minus score lookback periods ago (0 when no history)
        lagged = _lag(f, sc.to_numpy(), lookback)
        f[f"{c}_change"] = np.where(np.isnan(lagged), 0.0, sc.to_numpy() - lagged)
    cid, ordn = f["_cid"].to_numpy(), f["_ord"].to_numpy()
    lvl = f["tier"].map(_LEVEL).to_numpy(dtype=float)  # churned -> NaN
    nxt_same = np.r_[(cid[1:] == cid[:-1]) & (ordn[1:] - ordn[:-1] == 1), False]
    nxt_lvl = np.r_[lvl[1:], np.nan]
    candidate = np.isin(f["tier"].to_numpy(), ["potential", "mass"])
    labelled = candidate & nxt_same
    up = np.where(nxt_same, np.nan_to_num(nxt_lvl, nan=-1.0) > lvl, False)
    periods = sorted(pd.unique(ordn))
    if period is None:
        target = periods[-1]
        period_label = f.loc[f["_ord"] == target, period_col].iloc[0]
    else:
        hit = f.loc[f[period_col] == str(period), "_ord"]
        if not len(hit):
            raise KosParameterError(f"period={period!r} is not a period of the tiers")
        target, period_label = int(hit.iloc[0]), str(period)
    X = _design(f, comps)
    train = labelled & (ordn < target)
    if up[train].sum() == 0 or (~up[train]).sum() == 0:
        raise KosDataError("the history before the period has no customer moving up (or none staying); "
                           "the model cannot be fitted")
    fit = _logit(X[train], up[train])
    # out-of-time check on the last labelled period before the target
    last_lab = ordn[train].max()
    tr2, te2 = train & (ordn < last_lab), train & (ordn == last_lab)
    auc = float("nan")
    if up[tr2].any() and (~up[tr2]).any() and up[te2].any() and (~up[te2]).any():
        fit2 = _logit(X[tr2], up[tr2])
        auc = _auc(fit2.predict(X[te2]), up[te2])
    pick = candidate & (ordn == target)
    prob = np.asarray(fit.predict(X[pick]), dtype=float)
    cand = f.loc[pick].copy()
    cand["probability_up"] = prob
    cand = cand.sort_values("probability_up", ascending=False, kind="stable").head(int(top))
    params = fit.params
    cut = getattr(tiers, "cutoffs", None) if isinstance(tiers, TierAssignment) else None
    if cut and "score_position" in cand:
        nxt_cut = np.where(cand["tier"] == "mass", cut["potential"], cut["core"])
        cand["gap_to_next_tier"] = np.maximum(nxt_cut - cand["score_position"].astype(float), 0.0)
    else:
        cand["gap_to_next_tier"] = np.nan
    reasons = []
    for _, r in cand.iterrows():
        rose = sorted(((c, r[f"{c}_change"]) for c in comps if r[f"{c}_change"] >= _ROSE), key=lambda kv: -kv[1])
        if rose:
            reasons.append(", ".join(f"{c} +{v:.2f}" for c, v in rose[:2]))
        elif np.isfinite(r["gap_to_next_tier"]) and r["gap_to_next_tier"] <= _NEAR:
            reasons.append("just below the next tier's cutoff")
        else:
            best = max(comps, key=lambda c: r[f"{c}_score"])
            reasons.append(f"high {best} score ({r[f'{best}_score']:.2f})")
    cand["reasons"] = reasons
    out_cols = [id_col, period_col, "tier", "probability_up", "value_score", "gap_to_next_tier",
                *[x for c in comps for x in (f"{c}_score", f"{c}_change")], "reasons"]
    table = cand[out_cols].reset_index(drop=True)
    coef = tidy_estimates(params.index, params.to_numpy(), fit.bse.to_numpy(), conf_level=conf_level)
    br = pd.DataFrame({"tier": f.loc[train, "tier"].to_numpy(), "up": up[train]})
    base = br.groupby("tier").agg(customer_periods=("up", "size"), moved_up=("up", "sum")).reset_index()
    base["rate"] = base["moved_up"] / base["customer_periods"]
    return RisingStarsResult(table=table, conf_level=conf_level, coefficients=coef, base_rates=base, auc=auc,
                             period=period_label)


def _lag(f: pd.DataFrame, x: np.ndarray, k: int) -> np.ndarray:
    """Value of ``x`` exactly ``k`` periods earlier for the same id (NaN when absent)."""
    cid, ordn = f["_cid"].to_numpy(), f["_ord"].to_numpy()
    span = ordn.max() - ordn.min() + k + 1
    key = cid.astype(np.int64) * span + (ordn - ordn.min())
    pos = np.searchsorted(key, key - k)
    pos_c = np.clip(pos, 0, len(key) - 1)
    found = (pos < len(key)) & (key[pos_c] == key - k)
    return np.where(found, x[pos_c], np.nan)


def _design(f: pd.DataFrame, comps: list[str]) -> pd.DataFrame:
    X = pd.DataFrame(index=f.index)
    X["const"] = 1.0
    for c in comps:
        X[f"{c}_score"] = f[f"_{c}"]
        X[f"{c}_change"] = f[f"{c}_change"]
    if "score_position" in f:
        X["score_position"] = f["score_position"].astype(float).fillna(0.0)
    X["tier_potential"] = (f["tier"] == "potential").astype(float)
    return X


def _logit(X: pd.DataFrame, y: np.ndarray):
    import statsmodels.api as sm

    return sm.Logit(y.astype(float), X).fit(disp=0, maxiter=100)


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney form, ties counted half)."""
    from scipy.stats import rankdata

    score = np.asarray(score, dtype=float)
    y = np.asarray(y, dtype=bool)
    r = rankdata(score)
    n1, n0 = y.sum(), (~y).sum()
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
