"""The feedback loop: funnel from receipt to closure per region / KOS, and what closing the loop does to repurchase."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes, tidy_estimates, wilson_interval
from kosresearch._validation import check_choice, check_conf_level, check_positive
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.feedback.classify import CATEGORIES, CATEGORY_LABELS, Model, classify_feedback
from kosresearch.report.text import check_lang
from kosresearch.scorecard._sql import customer_quarter_tiers_sql

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "feedback_categories",
    "feedback_funnel",
    "FeedbackFunnelResult",
    "loop_closure_effect",
    "LoopClosureResult",
]

By = Literal["kos", "region"]


def feedback_categories(dataset, *, model: Model = "learned") -> pd.DataFrame:
    """Every feedback item with its category: the recorded one where present, else the classifier's.

    Parameters
    ----------
    dataset : kosresearch.Dataset
        Needs ``feedback``.
    model : {"learned", "lexicon"}, default "learned"
        Classifier for items without a recorded category (see
        :func:`classify_feedback`).

    Returns
    -------
    pandas.DataFrame
        ``feedback_id, region, kos_id, customer_id, created_at, resolved_at,
        loop_closed_at, text, category`` (final), ``category_source``
        (``recorded`` / ``classified``), ``confidence`` (classifier confidence;
        missing for recorded categories). Recorded categories are never
        overwritten. Contains customer IDs and raw text: for analysis, not
        for display.
    """
    dataset.require("feedback")
    fb = dataset.sql(
        "SELECT feedback_id, region, kos_id, customer_id, created_at, resolved_at, loop_closed_at, text, category "
        "FROM feedback ORDER BY feedback_id"
    )
    missing = fb["category"].isna()
    fb["category_source"] = np.where(missing, "classified", "recorded")
    fb["confidence"] = np.nan
    if missing.any():
        pred = classify_feedback(fb.loc[missing, "text"], model=model)
        fb.loc[missing, "category"] = pred["category"].to_numpy()
        fb.loc[missing, "confidence"] = pred["confidence"].to_numpy()
    return fb


# --------------------------------------------------------------------------- funnel


@dataclass(frozen=True)
class FeedbackFunnelResult(Result):
    """Feedback funnel per group and category.

    Attributes
    ----------
    table : DataFrame
        One row per group (``region`` and, with ``by="kos"``, ``kos_id,
        kos_name``) and ``category`` (``service``, ``product``, ``praise`` and
        ``all``): ``n_feedback``, ``n_classified`` (category from the
        classifier), ``n_responded``, ``response_share``,
        ``hours_to_first_response`` (median over responded items),
        ``n_resolved``, ``resolved_share``, ``hours_to_resolution`` (median),
        ``n_routed`` / ``routed_share`` (product suggestions only: resolved, i.e.
        forwarded), ``n_closed``, ``estimate`` (loop-closure rate) with
        ``conf_low, conf_high`` (Wilson), ``hours_to_closure`` (median).
    conf_level : float
    by : str
    volume : DataFrame
        ``region, month, category, n_feedback``: volume by category over time.
    """

    by: str = "kos"
    volume: pd.DataFrame = field(default_factory=pd.DataFrame)

    def stages(self) -> pd.DataFrame:
        """Items reaching each stage per region and category: received, responded, resolved, closed."""
        t = self.table
        g = t.groupby(["region", "category"], sort=False)[["n_feedback", "n_responded", "n_resolved", "n_closed"]].sum()
        return g.reset_index().rename(columns={"n_feedback": "received", "n_responded": "responded",
                                               "n_resolved": "resolved", "n_closed": "closed"})

    def summary(self, *, digits: int = 2, lang: str = "en") -> pd.DataFrame:
        """All categories together, per group: volume, response, resolution, closure rate with interval."""
        zh = check_lang(lang) == "zh"
        t = self.table[self.table["category"] == "all"].sort_values("estimate", ascending=False)
        pct = f"{self.conf_level:.0%}"
        out = pd.DataFrame({("区域" if zh else "region"): t["region"].to_numpy()})
        if self.by == "kos":
            out["KOS"] = t["kos_name"].where(t["kos_name"].notna(), t["kos_id"]).to_numpy()
        out[("反馈数" if zh else "feedback")] = t["n_feedback"].to_numpy()
        out[("首次响应(小时, 中位数)" if zh else "hours to first response (median)")] = (
            t["hours_to_first_response"].round(1).to_numpy())
        out[("解决率" if zh else "resolved")] = t["resolved_share"].round(digits).to_numpy()
        out[("产品建议转交率" if zh else "product suggestions routed")] = _routed_for(self.table, t, self.by).round(digits)
        out[(f"闭环率 ({pct} 区间)" if zh else f"loop closure ({pct} interval)")] = [
            f"{e:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})" for e, lo, hi in
            zip(t["estimate"], t["conf_low"], t["conf_high"])
        ]
        out[("闭环用时(小时, 中位数)" if zh else "hours to closure (median)")] = t["hours_to_closure"].round(1).to_numpy()
        return out.reset_index(drop=True)

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Funnel plot of loop-closure rates (all categories) against volume, with limits around the pool."""
        from kosresearch import _shrinkage

        zh = check_lang(lang) == "zh"
        ax = new_axes(ax)
        t = self.table[(self.table["category"] == "all") & (self.table["n_feedback"] > 0)]
        if len(t) == 0:
            return ax
        p0 = t["n_closed"].sum() / t["n_feedback"].sum()
        n = np.unique(np.linspace(1, t["n_feedback"].max(), 200).round())
        for level, style in ((0.95, "--"), (0.998, ":")):
            lo, hi = _shrinkage.funnel_limits(p0, n, conf_level=level)
            ax.plot(n, lo, style, color="0.4", linewidth=1, label=f"{level:.1%}".replace(".0%", " %"))
            ax.plot(n, hi, style, color="0.4", linewidth=1)
        ax.axhline(p0, color="0.3", linewidth=1)
        ax.scatter(t["n_feedback"], t["estimate"], s=20, color="C0", alpha=0.8)
        if self.by == "kos":
            lo, hi = _shrinkage.funnel_limits(p0, t["n_feedback"].to_numpy(), conf_level=0.998)
            out = t[(t["estimate"] < lo) | (t["estimate"] > hi)]
            for _, r in out.iterrows():
                name = r["kos_name"] if isinstance(r["kos_name"], str) else r["kos_id"]
                ax.annotate(name, (r["n_feedback"], r["estimate"]), fontsize=8, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel("反馈数" if zh else "feedback items")
        ax.set_ylabel("闭环率" if zh else "loop-closure rate")
        ax.set_title("各 KOS 闭环率漏斗图" if zh else "Loop-closure rate per KOS (funnel plot)")
        ax.legend(fontsize=8)
        return ax

    def plot_volume(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Monthly feedback volume by category (stacked areas)."""
        zh = check_lang(lang) == "zh"
        ax = new_axes(ax, figsize=(8.0, 3.5))
        v = self.volume.groupby(["month", "category"])["n_feedback"].sum().unstack("category").fillna(0)
        v = v.reindex(columns=[c for c in CATEGORIES if c in v.columns])
        x = pd.to_datetime(v.index)
        ax.stackplot(x, v.T.to_numpy(), labels=[CATEGORY_LABELS[c][0 if zh else 1] for c in v.columns], alpha=0.8)
        ax.set_ylabel("反馈数" if zh else "feedback items")
        ax.set_title("每月反馈量（按类别）" if zh else "Feedback per month by category")
        ax.legend(fontsize=8, loc="upper left")
        return ax

    def plot_stages(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Funnel stages (received, responded, resolved, closed) per category, as grouped bars."""
        zh = check_lang(lang) == "zh"
        ax = new_axes(ax)
        s = self.stages()
        s = s[s["category"] != "all"].groupby("category")[["received", "responded", "resolved", "closed"]].sum()
        s = s.reindex([c for c in CATEGORIES if c in s.index])
        names = ["收到", "已响应", "已解决", "已闭环"] if zh else ["received", "responded", "resolved", "closed"]
        width = 0.8 / max(len(s), 1)
        for i, (cat, row) in enumerate(s.iterrows()):
            ax.bar(np.arange(4) + i * width, row.to_numpy(), width=width, label=CATEGORY_LABELS[cat][0 if zh else 1])
        ax.set_xticks(np.arange(4) + width * (len(s) - 1) / 2, names)
        ax.set_ylabel("反馈数" if zh else "feedback items")
        ax.set_title("反馈处理漏斗" if zh else "Feedback funnel")
        ax.legend(fontsize=8)
        return ax


def _routed_for(table: pd.DataFrame, rows: pd.DataFrame, by: str) -> np.ndarray:
    keys = ["region", "kos_id"] if by == "kos" else ["region"]
    prod = table[table["category"] == "product"].set_index(keys)["routed_share"]
    idx = pd.MultiIndex.from_frame(rows[keys]) if len(keys) > 1 else pd.Index(rows["region"])
    return prod.reindex(idx).to_numpy(dtype=float)


def feedback_funnel(
    dataset,
    *,
    by: By = "kos",
    model: Model = "learned",
    conf_level: float = 0.95,
) -> FeedbackFunnelResult:
    """Feedback from receipt to loop closure, per region or KOS and category.

    Parameters
    ----------
    dataset : kosresearch.Dataset
        Needs ``feedback``; ``messages`` (for the first response) and ``kos``
        (names) are used when present.
    by : {"kos", "region"}, default "kos"
        Group per KOS (within region) or per region.
    model : {"learned", "lexicon"}, default "learned"
        Classifier for items without a recorded category.
    conf_level : float, default 0.95
        Level of the Wilson intervals of the closure rates.

    Returns
    -------
    FeedbackFunnelResult
        ``.table`` (see the class), ``.volume`` (monthly volume by category),
        ``.stages()``, ``.summary(lang=)``, ``.plot(ax=, lang=)`` (funnel plot of
        closure rates), ``.plot_volume()``, ``.plot_stages()``.

    Raises
    ------
    KosDataError
        The dataset has no ``feedback`` table or it is empty.
    KosParameterError
        Bad ``by``, ``model`` or ``conf_level``.

    Notes
    -----
    The data contract has no first-response or routing column, so two
    stages are derived and should be read as such:

    * *first response* is the earliest of the KOS's first private message to
      the customer at or after the feedback, its resolution and its closure;
    * a *product suggestion is routed* when it is marked resolved (the SCRM
      closes a suggestion on the KOS side when it is forwarded).

    *Loop closure* is ``loop_closed_at`` being set: the customer was told
    what their feedback changed. Times are wall-clock hours (customers wait
    at night too); medians are over items that reached the stage, so read
    them with the stage's share. Closure rates carry Wilson (1927) intervals;
    the funnel plot draws exact binomial limits around the pooled rate
    (Spiegelhalter 2005).
    """
    check_choice("by", by, ("kos", "region"))
    check_conf_level(conf_level)
    fb = feedback_categories(dataset, model=model)
    if len(fb) == 0:
        raise KosDataError("table 'feedback' has no rows; there is no feedback loop to describe")
    if dataset.has("messages"):
        first = dataset.sql(
            """
            SELECT f.feedback_id, min(m.ts) AS first_message_at
            FROM feedback f JOIN messages m
              ON m.customer_id = f.customer_id AND m.kos_id = f.kos_id AND m.sender = 'kos'
             AND m.channel = 'private' AND m.ts >= f.created_at
            GROUP BY ALL
            """
        )
        fb = fb.merge(first, on="feedback_id", how="left")
    else:
        fb["first_message_at"] = pd.NaT
    fb["first_response_at"] = fb[["first_message_at", "resolved_at", "loop_closed_at"]].min(axis=1)
    hours = lambda col: (fb[col] - fb["created_at"]).dt.total_seconds() / 3600.0  # noqa: E731
    fb["h_response"] = hours("first_response_at")
    fb["h_resolution"] = hours("resolved_at")
    fb["h_closure"] = hours("loop_closed_at")
    fb["responded"] = fb["first_response_at"].notna()
    fb["resolved"] = fb["resolved_at"].notna()
    fb["closed"] = fb["loop_closed_at"].notna()
    fb["classified"] = fb["category_source"] == "classified"
    keys = ["region", "kos_id"] if by == "kos" else ["region"]
    both = pd.concat([fb, fb.assign(category="all")], ignore_index=True)
    g = both.groupby([*keys, "category"], sort=True)
    table = g.agg(
        n_feedback=("feedback_id", "size"),
        n_classified=("classified", "sum"),
        n_responded=("responded", "sum"),
        hours_to_first_response=("h_response", "median"),
        n_resolved=("resolved", "sum"),
        hours_to_resolution=("h_resolution", "median"),
        n_closed=("closed", "sum"),
        hours_to_closure=("h_closure", "median"),
    ).reset_index()
    table["response_share"] = table["n_responded"] / table["n_feedback"]
    table["resolved_share"] = table["n_resolved"] / table["n_feedback"]
    is_product = table["category"] == "product"
    table["n_routed"] = np.where(is_product, table["n_resolved"], np.nan)
    table["routed_share"] = np.where(is_product, table["resolved_share"], np.nan)
    table["estimate"] = table["n_closed"] / table["n_feedback"]
    table["conf_low"], table["conf_high"] = wilson_interval(table["n_closed"], table["n_feedback"], conf_level)
    if by == "kos":
        names = dataset.sql("SELECT kos_id, name AS kos_name FROM kos")
        table = table.merge(names, on="kos_id", how="left")
    cols = [*keys, *(["kos_name"] if by == "kos" else []), "category", "n_feedback", "n_classified",
            "n_responded", "response_share", "hours_to_first_response", "n_resolved", "resolved_share",
            "hours_to_resolution", "n_routed", "routed_share", "n_closed", "estimate", "conf_low", "conf_high",
            "hours_to_closure"]
    order = {c: i for i, c in enumerate([*CATEGORIES, "all"])}
    table = table[cols].sort_values([*keys, "category"], key=lambda s: s.map(order) if s.name == "category" else s)
    volume = (
        fb.assign(month=fb["created_at"].dt.to_period("M").dt.to_timestamp())
        .groupby(["region", "month", "category"], sort=True).size().rename("n_feedback").reset_index()
    )
    return FeedbackFunnelResult(table=table.reset_index(drop=True), conf_level=conf_level, by=by, volume=volume)


# --------------------------------------------------------------------------- loop-closure effect


@dataclass(frozen=True)
class LoopClosureResult(Result):
    """Association of loop closure with repurchase after feedback.

    Attributes
    ----------
    table : DataFrame
        Tidy estimates (``term, estimate, std_error, statistic, p_value,
        conf_low, conf_high``): ``hazard_ratio`` (Cox, adjusted for tenure,
        tier and category; the headline), ``hazard_ratio_unadjusted``,
        ``hazard_ratio_from_feedback`` (sensitivity: clock from the feedback,
        closure as a baseline covariate), ``repurchase_closed``,
        ``repurchase_not_closed`` (Kaplan-Meier probability of a repurchase by
        the horizon) and ``repurchase_difference``. Hazard-ratio rows are on
        the ratio scale (interval exponentiated; ``std_error`` and
        ``statistic`` of the log hazard ratio).
    conf_level : float
    curves : DataFrame
        Kaplan-Meier curves: ``group`` (closed / not_closed), ``days`` (since
        the feedback), ``repurchased`` (1 - S), ``conf_low``, ``conf_high``,
        ``at_risk``.
    model_table : DataFrame
        All Cox coefficients (log scale) of the adjusted model.
    n_obs, n_events : int
    horizon_days, landmark_days : float
    """

    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    model_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_obs: int = 0
    n_events: int = 0
    horizon_days: float = 90.0
    landmark_days: float = 14.0

    _display_names = {**Result._display_names}

    @property
    def hazard_ratio(self) -> pd.Series:
        return self.table.set_index("term").loc["hazard_ratio"]

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Kaplan-Meier cumulative repurchase after feedback, closed vs not closed, with pointwise intervals."""
        zh = check_lang(lang) == "zh"
        ax = new_axes(ax)
        names = {"closed": ("已闭环", "loop closed"), "not_closed": ("未闭环", "not closed")}
        for i, (grp, c) in enumerate(self.curves.groupby("group", sort=True)):
            ax.step(c["days"], c["repurchased"], where="post", color=f"C{i}", label=names[grp][0 if zh else 1])
            ax.fill_between(c["days"], c["conf_low"], c["conf_high"], step="post", color=f"C{i}", alpha=0.15,
                            linewidth=0)
        if self.landmark_days > 0:
            ax.axvline(self.landmark_days, color="0.5", linestyle=":", linewidth=1)
        hr = self.hazard_ratio
        ax.set_xlabel("反馈后天数" if zh else "days after feedback")
        ax.set_ylabel("累计复购比例" if zh else "share repurchased")
        ax.set_title(
            (f"闭环与复购：风险比 {hr['estimate']:.2f}（{hr['conf_low']:.2f}–{hr['conf_high']:.2f}）" if zh else
             f"Loop closure and repurchase: HR {hr['estimate']:.2f} ({hr['conf_low']:.2f}–{hr['conf_high']:.2f})")
        )
        ax.legend(fontsize=8)
        return ax


def _km(time: np.ndarray, event: np.ndarray, conf_level: float, *, offset: float) -> pd.DataFrame:
    """Kaplan-Meier estimate of 1 - S(t) with Greenwood log-log intervals, shifted by ``offset`` days."""
    from scipy import stats

    z = stats.norm.ppf(0.5 + conf_level / 2)
    order = np.argsort(time, kind="stable")
    t, e = time[order], event[order]
    uniq = np.unique(t[e == 1])
    n_at = (t.size - np.searchsorted(t, uniq, side="left")).astype(float)
    d = np.bincount(np.searchsorted(uniq, t[e == 1]), minlength=uniq.size).astype(float)
    s = np.cumprod(1 - d / n_at)
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.cumsum(d / (n_at * (n_at - d)))
        se_ll = np.sqrt(gw) / np.abs(np.log(s))
        lo = s ** np.exp(z * se_ll)
        hi = s ** np.exp(-z * se_ll)
    lo = np.where(np.isfinite(lo), lo, s)
    hi = np.where(np.isfinite(hi), hi, s)
    days = np.r_[0.0, uniq] + offset
    return pd.DataFrame({"days": days, "repurchased": 1 - np.r_[1.0, s], "conf_low": 1 - np.r_[1.0, hi],
                         "conf_high": 1 - np.r_[1.0, lo], "at_risk": np.r_[len(t), n_at],
                         "se": np.r_[0.0, s * np.sqrt(gw)]})


def loop_closure_effect(
    dataset,
    *,
    horizon_days: float = 90,
    landmark_days: float = 14,
    model: Model = "learned",
    conf_level: float = 0.95,
) -> LoopClosureResult:
    """Repurchase after feedback when the loop was closed vs not: Kaplan-Meier curves and a Cox model.

    Parameters
    ----------
    dataset : kosresearch.Dataset
        Needs ``feedback``, ``customers`` and ``orders``.
    horizon_days : float, default 90
        Follow-up after the feedback; later repurchases are censored.
    landmark_days : float, default 14
        Landmark: a feedback counts as *closed* when the loop was closed
        within this many days, and repurchase is followed from then on
        (customers who repurchased earlier are left out). ``0`` treats
        eventual closure as known at the feedback (see Notes).
    model : {"learned", "lexicon"}, default "learned"
        Classifier for items without a recorded category (category is an
        adjuster).
    conf_level : float, default 0.95

    Returns
    -------
    LoopClosureResult
        ``.table`` (hazard ratios and repurchase probabilities),
        ``.curves``, ``.model_table``, ``.plot(ax=, lang=)``.

    Raises
    ------
    KosDataError
        Missing tables, or fewer than 10 repurchases or an empty group after
        the landmark.
    KosParameterError
        ``landmark_days`` not below ``horizon_days``, or a bad number.

    Notes
    -----
    The outcome is the time from the landmark to the customer's next order,
    censored at ``horizon_days`` after the feedback or at the end of the data.
    The Cox (1972) proportional-hazards model (statsmodels ``PHReg``, Efron
    ties, robust standard errors clustered by customer) has closure as the
    exposure and adjusts for tenure (years since acquisition) and an
    observable tier proxy (core / potential / mass / new by the customer's
    spend in the year before the quarter; see ``kos_weekly_metrics``) and the
    feedback category; standard errors are clustered by customer when a
    customer gave several items. Kaplan-Meier (1958) curves with Greenwood log-log
    intervals give the cumulative repurchase per group.

    *Why a landmark.* Closure happens days after the feedback; coding it as a
    baseline covariate credits the closed group with repurchases made before
    anyone told the customer anything (immortal-time / look-ahead bias). The
    landmark analysis (Anderson, Cain & Gelber 1983, *J Clin Oncol*
    1:710-719) fixes the exposure at the landmark and follows everyone from
    there. ``hazard_ratio_from_feedback`` reports the baseline-covariate
    version for comparison.

    *Associational.* Which KOS close loops, and for whom, is not randomised:
    customers whose loops get closed may differ in ways the adjusters miss
    (engaged customers give feedback that is easier to close). Read the
    hazard ratio as "customers whose loops were closed repurchased this much
    faster, other things shown equal", not as the effect of closing a loop;
    a causal claim needs randomised closure or a credible instrument.
    """
    for name, value in (("horizon_days", horizon_days), ("landmark_days", landmark_days)):
        check_positive(name, value, allow_zero=name == "landmark_days")
    if landmark_days >= horizon_days:
        raise KosParameterError(
            f"landmark_days={landmark_days!r} must be below horizon_days={horizon_days!r}"
        )
    check_conf_level(conf_level)
    dataset.require("feedback", "customers", "orders")
    cats = feedback_categories(dataset, model=model)[["feedback_id", "category"]]
    span = dataset.sql("SELECT min(ordered_at) AS lo, max(ordered_at) AS hi FROM orders")
    start, end = span["lo"].iloc[0], span["hi"].iloc[0]
    rows = dataset.sql(
        f"""
        WITH cqt AS ({customer_quarter_tiers_sql()}),
        fb AS (
            SELECT f.feedback_id, f.customer_id, f.created_at, f.loop_closed_at, c.acquired_at,
                   f.created_at + to_microseconds(CAST($landmark * 86400e6 AS BIGINT)) AS t0
            FROM feedback f JOIN customers c USING (customer_id)
        ),
        nxt AS (
            SELECT fb.feedback_id,
                   min(o.ordered_at) FILTER (WHERE o.ordered_at > fb.created_at) AS first_after,
                   min(o.ordered_at) FILTER (WHERE o.ordered_at > fb.t0) AS next_order
            FROM fb LEFT JOIN orders o ON o.customer_id = fb.customer_id AND o.ordered_at > fb.created_at
            GROUP BY ALL
        )
        SELECT fb.feedback_id, fb.customer_id, fb.created_at, fb.t0, fb.loop_closed_at, fb.acquired_at,
               nxt.first_after, nxt.next_order, coalesce(t.tier, 'new') AS tier
        FROM fb JOIN nxt USING (feedback_id)
        LEFT JOIN cqt t ON t.customer_id = fb.customer_id
                       AND t.quarter = CAST(date_trunc('quarter', date_trunc('week', fb.created_at)) AS DATE)
        """,
        {"landmark": float(landmark_days), "data_start": pd.Timestamp(start).to_pydatetime(),
         "data_end": pd.Timestamp(end).to_pydatetime()},
    )
    d = rows.merge(cats, on="feedback_id", how="left")
    end = pd.Timestamp(end)
    day = pd.Timedelta(days=1)
    # eligible: still at risk at the landmark, and the landmark inside the data
    eligible = (d["t0"] <= end) & ~(d["first_after"].notna() & (d["first_after"] <= d["t0"]))
    d = d[eligible].copy()
    # closed by the landmark; with no landmark, closed at any time within the horizon (baseline covariate)
    closed_until = d["t0"] if landmark_days > 0 else d["created_at"] + horizon_days * day
    closed_by = d["loop_closed_at"].notna() & (d["loop_closed_at"] <= closed_until)
    d["closed"] = closed_by.astype(float)
    follow = float(horizon_days - landmark_days)
    stop = np.minimum(follow, ((end - d["t0"]) / day).to_numpy())
    gap = ((d["next_order"] - d["t0"]) / day).to_numpy()
    d["event"] = (~np.isnan(gap) & (gap <= stop)).astype(float)
    d["time"] = np.where(d["event"] == 1, gap, stop)
    d = d[d["time"] > 0]
    d["tenure_years"] = ((d["created_at"] - d["acquired_at"]) / day).to_numpy() / 365.25
    n_events = int(d["event"].sum())
    if n_events < 10 or d["closed"].sum() == 0 or (1 - d["closed"]).sum() == 0:
        raise KosDataError(
            f"loop_closure_effect needs both closed and not-closed feedback and at least 10 repurchases after "
            f"the landmark; got {int(d['closed'].sum())} closed, {int((1 - d['closed']).sum())} not closed, "
            f"{n_events} repurchases"
        )
    table, model_table = _cox_rows(d, conf_level)
    # sensitivity: clock from the feedback, eventual closure (within the horizon) as baseline covariate
    base = rows.merge(cats, on="feedback_id", how="left")
    base = base[base["created_at"] <= end].copy()
    base["closed"] = (base["loop_closed_at"].notna()
                      & (base["loop_closed_at"] <= base["created_at"] + horizon_days * day)).astype(float)
    stop0 = np.minimum(float(horizon_days), ((end - base["created_at"]) / day).to_numpy())
    gap0 = ((base["first_after"] - base["created_at"]) / day).to_numpy()
    base["event"] = (~np.isnan(gap0) & (gap0 <= stop0)).astype(float)
    base["time"] = np.where(base["event"] == 1, gap0, stop0)
    base = base[base["time"] > 0]
    base["tenure_years"] = ((base["created_at"] - base["acquired_at"]) / day).to_numpy() / 365.25
    sens, _ = _cox_rows(base, conf_level, adjusted_only=True)
    sens["term"] = "hazard_ratio_from_feedback"
    # Kaplan-Meier per group
    curves = []
    km_rows = []
    for grp, flag in (("closed", 1.0), ("not_closed", 0.0)):
        sub = d[d["closed"] == flag]
        c = _km(sub["time"].to_numpy(), sub["event"].to_numpy(), conf_level, offset=float(landmark_days))
        curves.append(c.assign(group=grp))
        last = c[c["days"] <= horizon_days].iloc[-1]
        km_rows.append((f"repurchase_{grp}", last["repurchased"], last["se"]))
    diff = km_rows[0][1] - km_rows[1][1]
    se_diff = float(np.hypot(km_rows[0][2], km_rows[1][2]))
    km = tidy_estimates([r[0] for r in km_rows] + ["repurchase_difference"],
                        [r[1] for r in km_rows] + [diff], [r[2] for r in km_rows] + [se_diff],
                        conf_level=conf_level)
    km.loc[km["term"] != "repurchase_difference", ["statistic", "p_value"]] = np.nan
    table = pd.concat([table, sens, km], ignore_index=True)
    curves = pd.concat(curves, ignore_index=True)[["group", "days", "repurchased", "conf_low", "conf_high", "at_risk"]]
    return LoopClosureResult(table=table, conf_level=conf_level, curves=curves, model_table=model_table,
                             n_obs=int(len(d)), n_events=n_events, horizon_days=float(horizon_days),
                             landmark_days=float(landmark_days))


def _cox_rows(d: pd.DataFrame, conf_level: float, *, adjusted_only: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Adjusted (and unadjusted) Cox hazard ratios of ``closed``; robust SEs clustered by customer."""
    from statsmodels.duration.hazard_regression import PHReg

    tiers = pd.get_dummies(pd.Categorical(d["tier"], ["mass", "potential", "core", "new"]), prefix="tier",
                           drop_first=True, dtype=float)
    cats = pd.get_dummies(pd.Categorical(d["category"].fillna("service"), list(CATEGORIES)), prefix="category",
                          drop_first=True, dtype=float)
    X = pd.concat([d[["closed", "tenure_years"]].reset_index(drop=True), tiers, cats], axis=1)
    X = X.loc[:, X.std() > 0] if len(X) > 1 else X
    if "closed" not in X.columns:
        X.insert(0, "closed", d["closed"].to_numpy())
    groups = pd.factorize(d["customer_id"])[0]
    # robust (sandwich) errors clustered by customer when a customer gave several items; statsmodels can
    # return NaN there, in which case the model-based errors are kept
    repeated = len(np.unique(groups)) < len(groups)

    def _fit(exog):
        model = PHReg(d["time"].to_numpy(), exog, status=d["event"].to_numpy(), ties="efron")
        res = model.fit(groups=groups) if repeated else model.fit()
        if repeated and not np.all(np.isfinite(res.bse)):
            res = model.fit()
        return res

    fit = _fit(X.to_numpy(float))
    est = np.asarray(fit.params)
    se = np.asarray(fit.bse)
    model_table = tidy_estimates(list(X.columns), est, se, conf_level=conf_level)
    rows = [_ratio_row("hazard_ratio", est[0], se[0], conf_level)]
    if not adjusted_only:
        fit0 = _fit(d[["closed"]].to_numpy(float))
        rows.append(_ratio_row("hazard_ratio_unadjusted", float(fit0.params[0]), float(fit0.bse[0]), conf_level))
    return pd.concat(rows, ignore_index=True), model_table


def _ratio_row(term: str, log_est: float, se: float, conf_level: float) -> pd.DataFrame:
    row = tidy_estimates([term], [log_est], [se], conf_level=conf_level)
    for col in ("estimate", "conf_low", "conf_high"):
        row[col] = np.exp(row[col])
    return row
