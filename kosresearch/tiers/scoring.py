"""Value scores, tiers, tier agreement and tier flows.

A customer's value score in a period is a weighted mean of four component
scores, each a percentile rank within the period, so components measured in
CNY, probabilities and counts are put on one 0-1 scale and a score of 0.9
always means "ahead of 90 % of this period's customers on this mix".
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes, tidy_estimates
from kosresearch._validation import check_choice, check_conf_level, check_panel_unique, check_positive, require_columns
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.report.text import check_lang
from kosresearch.tiers._periods import period_ordinals
from kosresearch.tiers.transitions import TIER_COLORS, TIER_STATES

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "TIER_LABELS",
    "ValueScores",
    "TierAssignment",
    "AgreementResult",
    "FlowResult",
    "value_scores",
    "assign_tiers",
    "tier_agreement",
    "tier_flows",
    "logistic_repurchase",
    "bgnbd_repurchase",
]

#: component -> (what it measures, feature columns summed over the window)
COMPONENTS: dict[str, str] = {
    "spend": "spend over the last `window` periods (CNY)",
    "repurchase": "probability of at least one order next period (logistic model, or a plugged-in purchase model)",
    "influence": "log(1 + spend of referred customers) + referrals + orders with the customer's own KOC code, "
    "over the window",
    "engagement": "messages to the KOS + group messages + content interactions, over the window",
}

#: default component weights (see ``value_scores`` Notes for the reasoning)
DEFAULT_WEIGHTS: dict[str, float] = {"spend": 0.20, "repurchase": 0.20, "influence": 0.20, "engagement": 0.40}

#: tier -> (zh, en) display labels
TIER_LABELS: dict[str, tuple[str, str]] = {
    "core": ("核心价值层", "core value"),
    "potential": ("潜力增长层", "potential growth"),
    "mass": ("大众互动层", "mass interaction"),
    "churned": ("已流失", "churned"),
}

_CHURNED = -1

RepurchaseModel = Callable[[pd.DataFrame], Any]


# --------------------------------------------------------------------------- value scores


@dataclass(frozen=True)
class ValueScores(Result):
    """Component scores and the weighted value score per customer and period.

    Attributes
    ----------
    table : DataFrame
        The input features plus, per component ``c``: ``c_raw`` (the
        measure) and ``c_score`` (its percentile rank within the period,
        0-1); ``repurchase_probability``; ``value_score`` (the weighted
        mean of the component scores, 0-1).
    conf_level : float
        Level of the repurchase model's coefficient intervals.
    weights : DataFrame
        ``component, weight, mean_score, mean_contribution,
        share_of_score, definition``: what each component contributed to
        the average value score.
    repurchase_model : DataFrame
        Tidy coefficients of the built-in logistic repurchase model (empty
        when a model was plugged in).
    window : int
        Periods summed by the components.
    """

    weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    repurchase_model: pd.DataFrame = field(default_factory=pd.DataFrame)
    window: int = 3

    _display_names = {"component": "component", "weight": "weight", "mean_score": "mean score",
                      "mean_contribution": "mean contribution", "share_of_score": "share of score"}

    def summary(self, *, digits: int = 3) -> pd.DataFrame:
        """The component weights and contributions (the per-customer table is ``.table``)."""
        out = self.weights.drop(columns=["definition"]).copy()
        num = out.select_dtypes("number").columns
        out[num] = out[num].round(digits)
        return out.rename(columns=self._display_names)

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, border=0, classes="kos-table")

    def __repr__(self) -> str:
        return f"<ValueScores: {len(self.table)} customer-periods, window={self.window}>\n{self.summary().to_string(index=False)}"

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":
        """Weight and share of the average score of each component."""
        ax = new_axes(ax, figsize=(6.0, 3.5))
        w = self.weights
        x = np.arange(len(w))
        ax.bar(x - 0.2, w["weight"], width=0.4, label="weight", color="#8DA0CB")
        ax.bar(x + 0.2, w["share_of_score"], width=0.4, label="share of the average score", color="#4C72B0")
        ax.set_xticks(x, w["component"])
        ax.set_ylabel("share")
        ax.set_title("value score components")
        ax.legend(fontsize=8)
        return ax


def logistic_repurchase(features: pd.DataFrame, *, id_col: str = "customer_id", period_col: str = "period",
                        window: int = 3, conf_level: float = 0.95) -> tuple[np.ndarray, pd.DataFrame]:
    """Built-in repurchase model: P(at least one order next period) from purchase and engagement history.

    A logistic regression of ``frequency(t+1) > 0`` on ``log1p`` of recency
    (days since the last order), orders in the window, orders to date,
    tenure (days) and messages to the KOS in the window, fitted on every
    customer-period whose next period is in the data (and is a full
    period), then predicted for every row.

    Returns
    -------
    probabilities : ndarray
        One per row of ``features``, in its order.
    coefficients : DataFrame
        Tidy table of the fitted coefficients.
    """
    import statsmodels.api as sm

    f = _sorted_view(features, id_col, period_col)
    X = _repurchase_design(f, id_col, window)
    cid = f["_cid"].to_numpy()
    ordn = f["_ord"].to_numpy()
    ok = np.r_[(cid[1:] == cid[:-1]) & (ordn[1:] - ordn[:-1] == 1), False]
    nxt_freq = pd.Series(np.r_[f["frequency"].to_numpy(dtype=float)[1:], np.nan], index=f.index)
    ok &= nxt_freq.notna().to_numpy()
    if "period_complete" in f:
        ok &= np.r_[f["period_complete"].to_numpy(dtype=bool)[1:], False]
    y = (nxt_freq[ok] > 0).astype(float)
    if y.nunique() < 2:
        raise KosDataError("the repurchase model needs customer-periods followed by both a purchase and no purchase")
    fit = sm.GLM(y, X[ok], family=sm.families.Binomial()).fit()
    prob = np.asarray(fit.predict(X), dtype=float)
    out = np.empty(len(f))
    out[f["_row"].to_numpy()] = prob
    coef = tidy_estimates(fit.params.index, fit.params.to_numpy(), fit.bse.to_numpy(), conf_level=conf_level)
    return out, coef


_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0}


def bgnbd_repurchase(model, *, horizon_days: float = 30.0, time_unit: str = "W") -> RepurchaseModel:
    """Repurchase component from a fitted BG/NBD model: expected purchases in the next ``horizon_days``.

    Parameters
    ----------
    model : object
        A fitted purchase-process model with
        ``conditional_expected_purchases(t, frequency, recency, T)``, e.g.
        ``kosresearch.value.BetaGeo().fit(rfm_summary(orders))``.
    horizon_days : float, default 30
        Horizon of the expected purchases (one month by default).
    time_unit : {"D", "W", "M"}, default "W"
        Time unit the model was fitted in (that of its RFM summary).

    Returns
    -------
    callable
        ``f(features) -> ndarray`` for ``value_scores(features, repurchase=f)``.

    Notes
    -----
    The BTYD summary of each customer as of each period end comes from the
    feature panel: ``frequency = orders_to_date - 1`` (repeat orders; orders
    on one day are not merged here), ``T = first_order_days`` and
    ``recency = first_order_days - recency_days``, both in ``time_unit``.
    Customer-periods before the first order get 0.
    """
    check_choice("time_unit", time_unit, list(_UNIT_DAYS))
    check_positive("horizon_days", horizon_days)
    if not callable(getattr(model, "conditional_expected_purchases", None)):
        raise KosParameterError(
            f"model={type(model).__name__} has no conditional_expected_purchases(t, frequency, recency, T); "
            "pass a fitted BG/NBD model such as kosresearch.value.BetaGeo"
        )
    unit = _UNIT_DAYS[time_unit]

    def repurchase(features: pd.DataFrame) -> np.ndarray:
        require_columns(features, {c: c for c in ("orders_to_date", "recency_days", "first_order_days")},
                        numeric=["orders_to_date", "recency_days", "first_order_days"], name="features")
        T = features["first_order_days"].to_numpy(dtype=float) / unit
        rec = T - features["recency_days"].to_numpy(dtype=float) / unit
        x = np.maximum(features["orders_to_date"].to_numpy(dtype=float) - 1.0, 0.0)
        ok = np.isfinite(T) & np.isfinite(rec) & (T > 0)
        out = np.zeros(len(features))
        if ok.any():
            out[ok] = np.asarray(model.conditional_expected_purchases(
                horizon_days / unit, x[ok], np.clip(rec[ok], 0.0, T[ok]), T[ok]), dtype=float)
        return out

    return repurchase


def value_scores(
    features: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    window: int = 3,
    repurchase: RepurchaseModel | str | None = None,
    id_col: str = "customer_id",
    period_col: str = "period",
    conf_level: float = 0.95,
) -> ValueScores:
    """Multi-dimensional value score: spend, repurchase potential, influence and engagement.

    Parameters
    ----------
    features : DataFrame
        The panel of :func:`customer_features` (one row per customer and period).
    weights : mapping of component -> weight, optional
        Overrides of :data:`DEFAULT_WEIGHTS` (components ``spend``,
        ``repurchase``, ``influence``, ``engagement``); missing components
        keep their default, weights are rescaled to sum to 1, a weight of 0
        drops a component.
    window : int, default 3
        Periods (the current one and the ``window - 1`` before it) summed by
        the spend, influence and engagement measures.
    repurchase : callable, str or None, default None
        The purchase-process model behind the repurchase component. ``None``:
        the built-in logistic model (:func:`logistic_repurchase`). A string:
        a column of ``features`` that already holds expected purchases (e.g.
        BG/NBD). A callable: ``f(features) -> array`` of expected purchases
        or probabilities, one per row in the order of ``features``. Only the
        ranking matters.
    id_col, period_col : str
        Customer and period columns.
    conf_level : float, default 0.95
        Level of the repurchase model's coefficient intervals.

    Returns
    -------
    ValueScores
        ``.table`` (features plus ``*_raw``, ``*_score``,
        ``repurchase_probability``, ``value_score``), ``.weights``,
        ``.repurchase_model``.

    Raises
    ------
    KosDataError
        Missing feature columns or duplicate customer-periods.
    KosParameterError
        Unknown components, negative or all-zero weights, a bad window.

    See Also
    --------
    customer_features, assign_tiers

    Notes
    -----
    Component ``c`` of customer ``i`` in period ``t`` is the percentile rank
    ``s_c = rank(x_c) / n_t`` of its measure among the ``n_t`` customers of
    period ``t`` (ties share their mean rank); the value score is
    ``sum_c w_c s_c`` with ``sum_c w_c = 1``.

    Default weights: engagement 0.40, spend 0.20, repurchase 0.20,
    influence 0.20. Engagement weighs most because it is the component
    that responds within a period to a change in the relationship, and it is
    what a KOS can act on; spend and repurchase both measure purchase value
    and are correlated, so together (0.40) they balance engagement; influence
    (referrals and their spend, the referral economics of the programme) is
    rare and gets the remaining 0.20. On the simulator, where the latent tier
    is a relationship state, agreement with the latent tiers rises with the
    engagement weight (``tests/tiers``); a brand that wants a purely
    commercial map sets ``weights={"engagement": 0}``.

    The repurchase component is pluggable: ``repurchase=bgnbd_repurchase(
    BetaGeo().fit(rfm))`` ranks customers by their BG/NBD expected purchases
    in the next month (Fader, Hardie & Lee 2005) instead of the logistic
    model.
    """
    check_conf_level(conf_level)
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise KosParameterError(f"window={window!r} must be a whole number of periods, at least 1")
    w = _weights(weights)
    need = {"id_col": id_col, "period_col": period_col}
    require_columns(features, need, name="features")
    per_comp = {
        "spend": ["monetary"],
        "repurchase": ["frequency", "recency_days", "orders_to_date", "tenure_days"] if repurchase is None else [],
        "influence": ["referred_spend", "referrals", "koc_code_orders"],
        "engagement": ["messages_to_kos", "group_messages", "content_interactions"],
    }
    cols = sorted({c for comp, cs in per_comp.items() if w.get(comp, 0) > 0 for c in cs})
    require_columns(features, {c: c for c in cols}, numeric=cols, name="features")
    check_panel_unique(features, [id_col, period_col], name="features")
    f = _sorted_view(features, id_col, period_col)
    raw = pd.DataFrame(index=f.index)
    raw["spend"] = _trail(f, id_col, "monetary", window) if w["spend"] > 0 else np.nan
    raw["influence"] = (
        np.log1p(_trail(f, id_col, "referred_spend", window).clip(lower=0))
        + _trail(f, id_col, "referrals", window)
        + _trail(f, id_col, "koc_code_orders", window)
    ) if w["influence"] > 0 else np.nan
    raw["engagement"] = (
        _trail(f, id_col, "messages_to_kos", window)
        + _trail(f, id_col, "group_messages", window)
        + _trail(f, id_col, "content_interactions", window)
    ) if w["engagement"] > 0 else np.nan
    coef = pd.DataFrame()
    if w["repurchase"] > 0:
        if repurchase is None:
            prob, coef = logistic_repurchase(features, id_col=id_col, period_col=period_col, window=window,
                                             conf_level=conf_level)
            rep = prob[f["_row"].to_numpy()]
        elif isinstance(repurchase, str):
            require_columns(features, {"repurchase": repurchase}, numeric=["repurchase"], name="features")
            rep = features[repurchase].to_numpy(dtype=float)[f["_row"].to_numpy()]
        elif callable(repurchase):
            vals = np.asarray(repurchase(features.copy()), dtype=float)
            if vals.shape != (len(features),):
                raise KosDataError(
                    f"repurchase model returned shape {vals.shape}; expected one value per row of features ({len(features)},)"
                )
            rep = vals[f["_row"].to_numpy()]
        else:
            raise KosParameterError(f"repurchase={repurchase!r} must be None, a column name or a callable")
        raw["repurchase"] = rep
    else:
        raw["repurchase"] = np.nan
    # missing optional tables give missing measures: drop such a component with a warning
    for comp in list(w):
        if w[comp] > 0 and raw[comp].isna().all():
            warnings.warn(f"component {comp!r} has no data (its source table is missing); it is left out and the "
                          "other weights rescaled", UserWarning, stacklevel=2)
            w[comp] = 0.0
    total = sum(w.values())
    if total <= 0:
        raise KosDataError("no component of the value score has data")
    w = {k: v / total for k, v in w.items()}
    scores = raw.fillna({c: 0.0 for c in raw.columns if w[c] > 0}).groupby(f["_ord"].to_numpy()).rank(pct=True)
    value = sum(w[c] * scores[c] for c in w if w[c] > 0)
    out = f.drop(columns=["_ord", "_row", "_cid"]).copy()
    for c in ("spend", "repurchase", "influence", "engagement"):
        out[f"{c}_raw"] = raw[c].to_numpy()
        out[f"{c}_score"] = scores[c].to_numpy() if w[c] > 0 else np.nan
    out["repurchase_probability"] = raw["repurchase"].to_numpy() if repurchase is None else np.nan
    out["value_score"] = np.asarray(value, dtype=float)
    out = out.reset_index(drop=True)
    mean_value = float(out["value_score"].mean())
    rows = []
    for c in ("spend", "repurchase", "influence", "engagement"):
        ms = float(out[f"{c}_score"].mean()) if w[c] > 0 else 0.0
        rows.append({"component": c, "weight": w[c], "mean_score": ms, "mean_contribution": w[c] * ms,
                     "share_of_score": (w[c] * ms / mean_value) if mean_value > 0 else np.nan,
                     "definition": COMPONENTS[c]})
    return ValueScores(table=out, conf_level=conf_level, weights=pd.DataFrame(rows), repurchase_model=coef,
                       window=int(window))


def _weights(weights) -> dict[str, float]:
    w = dict(DEFAULT_WEIGHTS)
    if weights is None:
        return w
    if not isinstance(weights, Mapping):
        raise KosParameterError(f"weights={weights!r} must be a mapping of component -> weight, e.g. {DEFAULT_WEIGHTS}")
    unknown = [k for k in weights if k not in w]
    if unknown:
        raise KosParameterError(f"weights names unknown components {unknown}; components: {list(COMPONENTS)}")
    for k, v in weights.items():
        try:
            ok = float(v) >= 0 and np.isfinite(float(v))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise KosParameterError(f"weights[{k!r}]={v!r} must be a number >= 0")
        w[k] = float(v)
    if sum(w.values()) <= 0:
        raise KosParameterError(f"weights={dict(weights)!r} leave every component at 0")
    return w


def _sorted_view(features: pd.DataFrame, id_col: str, period_col: str) -> pd.DataFrame:
    """A copy sorted by id and period, with ``_row`` (position in the input), ``_ord`` (period index) and ``_cid``."""
    f = features.copy()
    f["_row"] = np.arange(len(f))
    f["_ord"] = period_ordinals(f[period_col], col=period_col)
    f["_cid"] = pd.factorize(f[id_col])[0]
    return f.sort_values(["_cid", "_ord"], kind="stable").reset_index(drop=True)


def _trail(f: pd.DataFrame, id_col: str, col: str, window: int) -> pd.Series:
    """Sum of ``col`` over the periods ``(t - window, t]`` of the same id (gaps allowed), vectorised.

    ``f`` is sorted by ``_cid`` then ``_ord``; with the key ``_cid * B + _ord``
    the rows of one id inside the window are exactly the keys in
    ``(key - window, key]``, so the sum is a difference of one global cumulative sum.
    """
    x = f[col].astype(float).fillna(0.0).to_numpy()
    ordn = f["_ord"].to_numpy(dtype=np.int64)
    base = ordn.min() if len(ordn) else 0
    span = (ordn.max() - base + window + 1) if len(ordn) else 1
    key = f["_cid"].to_numpy(dtype=np.int64) * span + (ordn - base)
    cs = np.concatenate(([0.0], np.cumsum(x)))
    k = np.searchsorted(key, key - window + 1, side="left")
    return pd.Series(cs[np.arange(len(x)) + 1] - cs[k], index=f.index)


def _repurchase_design(f: pd.DataFrame, id_col: str, window: int) -> pd.DataFrame:
    import statsmodels.api as sm

    tenure = f["tenure_days"].astype(float).clip(lower=0)
    rec = f["recency_days"].astype(float).fillna(tenure).clip(lower=0)
    has_msgs = "messages_to_kos" in f and f["messages_to_kos"].notna().any()
    msgs = _trail(f, id_col, "messages_to_kos", window) if has_msgs else pd.Series(0.0, index=f.index)
    X = pd.DataFrame({
        "log_recency_days": np.log1p(rec),
        "log_orders_window": np.log1p(_trail(f, id_col, "frequency", window)),
        "log_orders_to_date": np.log1p(f["orders_to_date"].astype(float).clip(lower=0)),
        "log_tenure_days": np.log1p(tenure),
    }, index=f.index)
    if has_msgs:
        X["log_messages_window"] = np.log1p(msgs.clip(lower=0))
    return sm.add_constant(X, has_constant="add")


# --------------------------------------------------------------------------- tiers


@dataclass(frozen=True)
class TierAssignment(Result):
    """Tier of every customer in every period.

    Attributes
    ----------
    table : DataFrame
        The input rows plus ``score_position`` (the score's percentile within
        the period among active customers, for ``method="quantile"``; the
        score itself for ``"fixed"``), ``tier`` (core / potential / mass /
        churned), ``tier_zh`` and ``tier_en``.
    conf_level : float
        Unused (kept for the common interface).
    id_col, period_col, score_col : str
        Column names used.
    method : str
        ``"quantile"`` or ``"fixed"``.
    cutoffs : dict
        Lower bounds of core and potential.
    hysteresis : float
        Margin used before moving.
    churn_after : float or None
        Days of inactivity after which a customer counts as churned.
    """

    id_col: str = "customer_id"
    period_col: str = "period"
    score_col: str = "value_score"
    method: str = "quantile"
    cutoffs: dict = field(default_factory=dict)
    hysteresis: float = 0.0
    churn_after: float | None = None

    @property
    def sizes(self) -> pd.DataFrame:
        """Customers, share, spend and value share per period and tier.

        Columns ``period, tier, customers, share, spend, value_share,
        mean_score`` (``spend`` and ``value_share`` need a ``monetary``
        column).
        """
        t = self.table
        g = t.groupby([self.period_col, "tier"], observed=True, sort=False)
        out = g.size().rename("customers").reset_index()
        out["mean_score"] = g[self.score_col].mean().to_numpy()
        if "monetary" in t:
            out["spend"] = g["monetary"].sum().to_numpy()
        else:
            out["spend"] = np.nan
        tot = out.groupby(self.period_col)["customers"].transform("sum")
        out["share"] = out["customers"] / tot
        sp = out.groupby(self.period_col)["spend"].transform("sum")
        out["value_share"] = out["spend"] / sp.where(sp > 0)
        out["_o"] = period_ordinals(out[self.period_col], col=self.period_col)
        out["_t"] = out["tier"].map({s: i for i, s in enumerate(TIER_STATES)})
        out = out.sort_values(["_o", "_t"]).drop(columns=["_o", "_t"]).reset_index(drop=True)
        return out[[self.period_col, "tier", "customers", "share", "spend", "value_share", "mean_score"]]

    @property
    def periods(self) -> list:
        """Periods in order."""
        p = self.table[self.period_col].drop_duplicates()
        return list(p.iloc[np.argsort(period_ordinals(p, col=self.period_col), kind="stable")])

    def mix(self, period=None) -> pd.Series:
        """Customers per tier in ``period`` (default: the last complete period), indexed by tier."""
        if period is None:
            period = self.periods[-1]
            if "period_complete" in self.table.columns:
                done = self.table.loc[self.table["period_complete"].astype(bool), self.period_col]
                complete = [p for p in self.periods if p in set(done)]
                period = complete[-1] if complete else period
        t = self.table[self.table[self.period_col] == period]
        if not len(t):
            raise KosParameterError(f"period={period!r} is not a period of the tiers; periods: {self.periods[:3]}...")
        return t["tier"].value_counts().reindex(list(TIER_STATES), fill_value=0).rename("customers")

    def summary(self, *, digits: int = 3) -> pd.DataFrame:
        """Tier sizes in the last period."""
        s = self.sizes
        out = s[s[self.period_col] == self.periods[-1]].copy()
        num = out.select_dtypes("number").columns
        out[num] = out[num].round(digits)
        return out

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, border=0, classes="kos-table")

    def __repr__(self) -> str:
        return f"<TierAssignment: {len(self.table)} customer-periods>\n{self.summary().to_string(index=False)}"

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":
        """Share of customers per tier over time (stacked), with each tier's share of spend as lines."""
        ax = new_axes(ax, figsize=(8.0, 4.0))
        s = self.sizes
        wide = s.pivot(index=self.period_col, columns="tier", values="share").reindex(self.periods)
        wide = wide.reindex(columns=[c for c in TIER_STATES if c in wide.columns]).fillna(0.0)
        x = np.arange(len(wide))
        colors = TIER_COLORS
        ax.stackplot(x, wide.T.to_numpy(), labels=list(wide.columns), colors=[colors[c] for c in wide.columns],
                     alpha=0.8)
        if s["value_share"].notna().any():
            val = s.pivot(index=self.period_col, columns="tier", values="value_share").reindex(self.periods)
            for c in ("core", "potential"):
                if c in val:
                    ax.plot(x, val[c].to_numpy(), color=colors[c], linestyle="--", linewidth=1.5,
                            label=f"{c}: share of spend")
        step = max(1, len(x) // 12)
        ax.set_xticks(x[::step], [str(p) for p in wide.index[::step]], rotation=45, ha="right")
        ax.set_ylim(0, 1)
        ax.set_ylabel("share")
        ax.set_title("tier mix over time")
        ax.legend(fontsize=7, loc="upper left", ncol=2)
        return ax


def assign_tiers(
    scores: pd.DataFrame | ValueScores,
    *,
    score_col: str = "value_score",
    period_col: str = "period",
    method: Literal["quantile", "fixed"] = "quantile",
    cutoffs: Mapping[str, float] = {"core": 0.90, "potential": 0.60},  # noqa: B006 - never mutated
    hysteresis: float = 0.0,
    id_col: str = "customer_id",
    churn_after: float | None = 180.0,
    inactive_col: str = "days_since_active",
) -> TierAssignment:
    """Assign every customer-period to core / potential / mass, or churned when inactive too long.

    Parameters
    ----------
    scores : DataFrame or ValueScores
        One row per customer and period with a score (``value_scores(...)``).
    score_col, period_col, id_col : str
        Score, period and customer columns.
    method : {"quantile", "fixed"}, default "quantile"
        ``"quantile"``: cutoffs are quantiles of the score within each period
        among active customers (core = top 10 % by default); ``"fixed"``:
        cutoffs are score values.
    cutoffs : mapping, default {"core": 0.90, "potential": 0.60}
        Lower bounds of the core and potential tiers.
    hysteresis : float, default 0.0
        Margin (in cutoff units) a customer must clear before moving: up
        only when the position exceeds the upper tier's cutoff by
        ``hysteresis``, down only when it falls below the current tier's
        cutoff by ``hysteresis``. It keeps tiers from flickering around a
        cutoff. The first period of a customer, and a return from churned,
        use the plain cutoffs.
    churn_after : float or None, default 180
        Days without any activity (``inactive_col``) after which a customer
        counts as churned in that period; ``None`` disables churn.
    inactive_col : str, default "days_since_active"
        Column with days since the last activity (from :func:`customer_features`).

    Returns
    -------
    TierAssignment
        ``.table`` (input plus ``score_position``, ``tier``, ``tier_zh``,
        ``tier_en``), ``.sizes``, ``.mix()``, ``.plot()``.

    Raises
    ------
    KosDataError
        Missing or non-numeric columns, duplicate customer-periods.
    KosParameterError
        Unknown method, cutoffs not ordered ``0 <= potential < core``
        (``<= 1`` for quantiles), negative hysteresis or churn window.

    See Also
    --------
    value_scores, transition_matrix, tier_flows

    Notes
    -----
    Quantile tiers are relative: the core tier is always the top
    ``1 - cutoffs["core"]`` of active customers, so tier sizes are stable
    and movements are changes of rank. Fixed cutoffs let the tier sizes
    move with the whole base. Churned is not absorbing here: a customer who
    becomes active again gets a tier again. With hysteresis ``h``, a
    customer previously at level ``l`` gets the highest level ``k`` whose
    cutoff ``c_k`` satisfies ``x >= c_k + h`` if ``k > l`` and
    ``x >= c_k - h`` if ``k <= l``.
    """
    data = scores.table if isinstance(scores, ValueScores) else scores
    check_choice("method", method, ["quantile", "fixed"])
    c_core, c_pot = _cutoffs(cutoffs, method)
    check_positive("hysteresis", hysteresis, allow_zero=True)
    if churn_after is not None:
        check_positive("churn_after", churn_after, allow_zero=True)
    cols = {"score_col": score_col, "period_col": period_col, "id_col": id_col}
    numeric = ["score_col"]
    if churn_after is not None:
        cols["inactive_col"] = inactive_col
        numeric.append("inactive_col")
    require_columns(data, cols, numeric=numeric, name="scores")
    check_panel_unique(data, [id_col, period_col], name="scores")
    out = data.copy()
    ordn = period_ordinals(out[period_col], col=period_col)
    churned = np.zeros(len(out), bool)
    if churn_after is not None:
        churned = (out[inactive_col].astype(float) >= float(churn_after)).to_numpy()
    score = out[score_col].astype(float).to_numpy()
    if np.isnan(score[~churned]).any():
        bad = np.flatnonzero(np.isnan(score) & ~churned)
        raise KosDataError(f"score_col={score_col!r} has {bad.size} missing values among active customers "
                           f"(first at row {out.index[bad[0]]!r})")
    if method == "quantile":
        pos = pd.Series(np.where(churned, np.nan, score)).groupby(ordn).rank(pct=True).to_numpy()
    else:
        pos = np.where(churned, np.nan, score)
    cust = pd.factorize(out[id_col])[0]
    level = np.full(len(out), _CHURNED, dtype=np.int64)
    last_level = np.full(cust.max() + 1 if len(cust) else 0, _CHURNED - 1, dtype=np.int64)
    last_ord = np.full(last_level.size, np.iinfo(np.int64).min // 2, dtype=np.int64)
    order = np.argsort(ordn, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(ordn[order]) != 0, True])
    h = float(hysteresis)
    for a, b in zip(bounds[:-1], bounds[1:]):
        rows = order[a:b]
        c = cust[rows]
        p = ordn[rows[0]]
        prev = np.where(last_ord[c] == p - 1, last_level[c], _CHURNED - 1)
        x = pos[rows]
        has_prev = prev >= 0
        up_core = np.where(has_prev & (prev < 2), c_core + h, np.where(has_prev, c_core - h, c_core))
        up_pot = np.where(has_prev & (prev < 1), c_pot + h, np.where(has_prev, c_pot - h, c_pot))
        lv = np.where(x >= up_core, 2, np.where(x >= up_pot, 1, 0))
        lv = np.where(churned[rows], _CHURNED, lv)
        level[rows] = lv
        last_level[c] = lv
        last_ord[c] = p
    names = np.array(["churned", "mass", "potential", "core"], dtype=object)
    tier = names[level + 1]
    out["score_position"] = pos
    out["tier"] = tier
    out["tier_zh"] = [TIER_LABELS[t][0] for t in tier]
    out["tier_en"] = [TIER_LABELS[t][1] for t in tier]
    return TierAssignment(
        table=out.reset_index(drop=True), conf_level=0.95, id_col=id_col, period_col=period_col, score_col=score_col,
        method=method, cutoffs={"core": c_core, "potential": c_pot}, hysteresis=h, churn_after=churn_after,
    )


def _cutoffs(cutoffs, method: str) -> tuple[float, float]:
    if not isinstance(cutoffs, Mapping) or set(cutoffs) != {"core", "potential"}:
        raise KosParameterError(f"cutoffs={cutoffs!r} must give exactly 'core' and 'potential', e.g. "
                                "{'core': 0.90, 'potential': 0.60}")
    try:
        c_core, c_pot = float(cutoffs["core"]), float(cutoffs["potential"])
    except (TypeError, ValueError):
        raise KosParameterError(f"cutoffs={cutoffs!r} must hold numbers") from None
    hi = 1.0 if method == "quantile" else np.inf
    if not (0.0 <= c_pot < c_core <= hi):
        bound = " <= 1" if method == "quantile" else ""
        raise KosParameterError(f"cutoffs={dict(cutoffs)!r} must satisfy 0 <= potential < core{bound}")
    return c_core, c_pot


def tier_label(tier: str, lang: str = "zh") -> str:
    """Display label of a tier in ``lang`` (``"zh"`` or ``"en"``)."""
    check_lang(lang)
    return TIER_LABELS.get(tier, (tier, tier))[0 if lang == "zh" else 1]


# --------------------------------------------------------------------------- agreement


@dataclass(frozen=True)
class AgreementResult(Result):
    """Agreement of assigned tiers with reference tiers.

    Attributes
    ----------
    table : DataFrame
        ``term`` (accuracy, chance_agreement, kappa, weighted_kappa),
        ``estimate, std_error, conf_low, conf_high``.
    conf_level : float
        Level of the intervals.
    confusion : DataFrame
        Counts, rows = reference tier, columns = assigned tier.
    n : int
        Customer-periods compared.
    """

    confusion: pd.DataFrame = field(default_factory=pd.DataFrame)
    n: int = 0

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":
        """Confusion table as a heatmap of row shares."""
        ax = new_axes(ax, figsize=(5.5, 4.5))
        C = self.confusion.to_numpy(dtype=float)
        R = C / np.maximum(C.sum(axis=1, keepdims=True), 1)
        ax.imshow(R, cmap="Blues", vmin=0, vmax=1)
        for i in range(C.shape[0]):
            for j in range(C.shape[1]):
                ax.text(j, i, f"{R[i, j]:.2f}\n({int(C[i, j])})", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(C.shape[1]), list(self.confusion.columns))
        ax.set_yticks(range(C.shape[0]), list(self.confusion.index))
        ax.grid(False)
        ax.set_xlabel("assigned")
        ax.set_ylabel("reference")
        k = self.table.set_index("term")["estimate"]
        ax.set_title(f"agreement: accuracy {k['accuracy']:.2f}, kappa {k['kappa']:.2f}")
        return ax


def tier_agreement(
    assigned: pd.DataFrame | TierAssignment,
    reference: pd.DataFrame,
    *,
    id_col: str = "customer_id",
    period_col: str = "period",
    tier_col: str = "tier",
    reference_col: str = "tier",
    states: tuple[str, ...] | None = None,
    conf_level: float = 0.95,
) -> AgreementResult:
    """Accuracy, Cohen's kappa, linearly weighted kappa and the confusion table of two tier assignments.

    Rows are matched on (id, period); only rows present in both and whose
    tiers are both in ``states`` (default: core, potential, mass) count.

    Notes
    -----
    ``kappa = (p_o - p_e) / (1 - p_e)`` (Cohen 1960) with observed agreement
    ``p_o`` and chance agreement ``p_e = sum_k p_k. p_.k``; the weighted
    kappa uses linear weights ``1 - |i - j| / (K - 1)`` over the ordered
    tiers (Cohen 1968). Standard errors are the large-sample approximation
    ``sqrt(p_o (1 - p_o) / (n (1 - p_e)^2))``, which treats customer-periods
    as independent (repeated periods of one customer make it optimistic).
    """
    check_conf_level(conf_level)
    a = assigned.table if isinstance(assigned, TierAssignment) else assigned
    require_columns(a, {"id_col": id_col, "period_col": period_col, "tier_col": tier_col}, name="assigned")
    require_columns(reference, {"id_col": id_col, "period_col": period_col, "reference_col": reference_col},
                    name="reference")
    st = tuple(states) if states is not None else ("core", "potential", "mass")
    left = a[[id_col, period_col, tier_col]].astype({id_col: str, period_col: str, tier_col: str})
    right = reference[[id_col, period_col, reference_col]].astype({id_col: str, period_col: str, reference_col: str})
    right = right.rename(columns={reference_col: "_ref"})
    m = left.merge(right, on=[id_col, period_col], how="inner")
    m = m[m[tier_col].isin(st) & m["_ref"].isin(st)]
    if not len(m):
        raise KosDataError("assigned and reference tiers share no (id, period) rows with tiers in states")
    C = pd.crosstab(pd.Categorical(m["_ref"], categories=list(st)), pd.Categorical(m[tier_col], categories=list(st)),
                    dropna=False).to_numpy(dtype=float)
    n = C.sum()
    P = C / n
    po = np.trace(P)
    pe = float(P.sum(axis=1) @ P.sum(axis=0))
    k = len(st)
    W = 1.0 - np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / max(k - 1, 1)
    pow_ = float((W * P).sum())
    pew = float((W * np.outer(P.sum(axis=1), P.sum(axis=0))).sum())
    kappa = (po - pe) / (1 - pe)
    wkappa = (pow_ - pew) / (1 - pew)
    se_acc = np.sqrt(po * (1 - po) / n)
    se_k = np.sqrt(po * (1 - po) / (n * (1 - pe) ** 2))
    se_w = np.sqrt(pow_ * (1 - pow_) / (n * (1 - pew) ** 2))
    tab = tidy_estimates(["accuracy", "chance_agreement", "kappa", "weighted_kappa"],
                         [po, pe, kappa, wkappa], [se_acc, np.nan, se_k, se_w], conf_level=conf_level)
    tab = tab[["term", "estimate", "std_error", "conf_low", "conf_high"]]
    conf = pd.DataFrame(C.astype(np.int64), index=pd.Index(list(st), name="reference"),
                        columns=pd.Index(list(st), name="assigned"))
    return AgreementResult(table=tab, conf_level=conf_level, confusion=conf, n=int(n))


# --------------------------------------------------------------------------- flows


@dataclass(frozen=True)
class FlowResult(Result):
    """Customers moving between tiers from one period to another (for an alluvial figure).

    Attributes
    ----------
    table : DataFrame
        ``from_tier, to_tier, customers, share_of_from`` (``from_tier`` is
        ``"new"`` for customers first seen in the later period).
    conf_level : float
        Unused (common interface).
    start, end : str
        The two periods.
    """

    start: Any = None
    end: Any = None

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":
        """Alluvial (Sankey) figure: stacked tiers at both periods joined by bands sized by customers."""
        from matplotlib.patches import PathPatch, Rectangle
        from matplotlib.path import Path

        ax = new_axes(ax, figsize=(7.0, 5.0))
        order = ["new", *TIER_STATES]
        t = self.table[self.table["customers"] > 0]
        left = [s for s in order if s in set(t["from_tier"])]
        right = [s for s in order if s in set(t["to_tier"])]
        total = float(t["customers"].sum())
        gap = 0.02
        colors = TIER_COLORS

        def stack(names, sizes):
            pos, y = {}, 0.0
            for s in names:
                h = sizes.get(s, 0.0) / total
                pos[s] = [y, y + h]
                y += h + gap
            return pos

        lsz = t.groupby("from_tier")["customers"].sum().to_dict()
        rsz = t.groupby("to_tier")["customers"].sum().to_dict()
        lpos, rpos = stack(left, lsz), stack(right, rsz)
        x0, x1, w = 0.0, 1.0, 0.06
        for s, (a, b) in lpos.items():
            ax.add_patch(Rectangle((x0 - w, a), w, b - a, color=colors[s]))
            ax.text(x0 - w - 0.01, (a + b) / 2, f"{s}\n{int(lsz[s]):,}", ha="right", va="center", fontsize=8)
        for s, (a, b) in rpos.items():
            ax.add_patch(Rectangle((x1, a), w, b - a, color=colors[s]))
            ax.text(x1 + w + 0.01, (a + b) / 2, f"{s}\n{int(rsz[s]):,}", ha="left", va="center", fontsize=8)
        lcur = {s: p[0] for s, p in lpos.items()}
        rcur = {s: p[0] for s, p in rpos.items()}
        for f_ in left:
            for t_ in right:
                n = t[(t["from_tier"] == f_) & (t["to_tier"] == t_)]["customers"].sum()
                if n <= 0:
                    continue
                h = n / total
                ya, yb = lcur[f_], rcur[t_]
                lcur[f_] += h
                rcur[t_] += h
                xm = (x0 + x1) / 2
                verts = [(x0, ya), (xm, ya), (xm, yb), (x1, yb), (x1, yb + h), (xm, yb + h), (xm, ya + h),
                         (x0, ya + h), (x0, ya)]
                codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4, Path.CURVE4,
                         Path.CURVE4, Path.CLOSEPOLY]
                ax.add_patch(PathPatch(Path(verts, codes), facecolor=colors[f_], alpha=0.35, edgecolor="none"))
        ax.set_xlim(-0.35, 1.35)
        ax.set_ylim(-0.02, 1.0 + gap * max(len(left), len(right)))
        ax.invert_yaxis()
        ax.axis("off")
        ax.set_title(f"tier flows {self.start} → {self.end}")
        return ax


def tier_flows(
    tiers: pd.DataFrame | TierAssignment,
    *,
    start=None,
    end=None,
    id_col: str = "customer_id",
    period_col: str = "period",
    tier_col: str = "tier",
) -> FlowResult:
    """Count customers by their tier in ``start`` and in ``end`` (default: 12 periods before the last, and the last).

    Customers with a row in ``end`` but not in ``start`` are counted as
    coming from ``"new"``; customers in ``start`` without a row in ``end``
    are dropped (a dense panel keeps every customer to the end).
    """
    if isinstance(tiers, TierAssignment):
        id_col, period_col = tiers.id_col, tiers.period_col
        data = tiers.table
    else:
        data = tiers
    require_columns(data, {"id_col": id_col, "period_col": period_col, "tier_col": tier_col}, name="tiers")
    per = data[period_col].drop_duplicates()
    ordered = list(per.iloc[np.argsort(period_ordinals(per, col=period_col), kind="stable")])
    if end is None:
        end = ordered[-1]
    if start is None:
        k = ordered.index(end) if end in ordered else len(ordered) - 1
        start = ordered[max(0, k - 12)]
    for name, v in (("start", start), ("end", end)):
        if v not in ordered:
            raise KosParameterError(f"{name}={v!r} is not a period of the tiers (first {ordered[0]!r}, last {ordered[-1]!r})")
    a = data.loc[data[period_col] == start, [id_col, tier_col]].rename(columns={tier_col: "from_tier"})
    b = data.loc[data[period_col] == end, [id_col, tier_col]].rename(columns={tier_col: "to_tier"})
    m = b.merge(a, on=id_col, how="left")
    m["from_tier"] = m["from_tier"].fillna("new")
    out = m.groupby(["from_tier", "to_tier"]).size().rename("customers").reset_index()
    out["share_of_from"] = out["customers"] / out.groupby("from_tier")["customers"].transform("sum")
    rank = {s: i for i, s in enumerate(["new", *TIER_STATES])}
    out = out.sort_values(["from_tier", "to_tier"], key=lambda s: s.map(rank)).reset_index(drop=True)
    return FlowResult(table=out, conf_level=0.95, start=start, end=end)
