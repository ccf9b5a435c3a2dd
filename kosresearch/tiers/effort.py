"""Effort vs value: does each KOS spend their messages where the value is?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes, normal_interval
from kosresearch._validation import check_choice, check_conf_level, check_positive, require_columns
from kosresearch.errors import KosDataError
from kosresearch.tiers._periods import period_ordinals
from kosresearch.tiers.features import PERIODS
from kosresearch.tiers.scoring import TierAssignment
from kosresearch.tiers.transitions import TIER_STATES

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from kosresearch.data.loader import Dataset

__all__ = ["EffortResult", "effort_allocation"]

_TOP = ("core", "potential")


@dataclass(frozen=True)
class EffortResult(Result):
    """KOS effort and customer value per tier, per KOS.

    Attributes
    ----------
    table : DataFrame
        One row per KOS and tier (the customer's tier in the previous
        period): ``kos_id, tier, customer_months, kos_messages, outreach,
        spend, customer_share, message_share, outreach_share, value_share``
        (shares within the KOS).
    conf_level : float
        Level of the focus-ratio intervals.
    by_kos : DataFrame
        One row per KOS: ``kos_id, customers, customer_months, outreach,
        top_customer_share, top_outreach_share, top_value_share,
        focus_ratio, conf_low, conf_high, spreads_evenly, possibly_even``
        (top = core + potential; ``spreads_evenly``: the whole interval of
        the focus ratio lies below ``focus_threshold``; ``possibly_even``:
        the estimate does).
    overall : DataFrame
        The programme-wide shares per tier: ``tier, customer_months,
        kos_messages, outreach, spend, customer_share, message_share,
        outreach_share, value_share``.
    focus_threshold : float
        Focus ratio below which a KOS is flagged.
    """

    by_kos: pd.DataFrame = field(default_factory=pd.DataFrame)
    overall: pd.DataFrame = field(default_factory=pd.DataFrame)
    focus_threshold: float = 2.0

    def summary(self, *, digits: int = 3) -> pd.DataFrame:
        """One row per KOS, flagged KOS first, rounded for display."""
        out = self.by_kos.sort_values(["spreads_evenly", "possibly_even", "focus_ratio"],
                                      ascending=[False, False, True]).copy()
        num = out.select_dtypes("number").columns
        out[num] = out[num].round(digits)
        return out.reset_index(drop=True)

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":
        """Per KOS: the top tiers' share of outreach against their share of value and of customers."""
        ax = new_axes(ax, figsize=(6.0, 5.0))
        b = self.by_kos
        flag = b["spreads_evenly"].to_numpy(dtype=bool)
        ax.scatter(b.loc[~flag, "top_value_share"], b.loc[~flag, "top_outreach_share"], s=18, color="#4C72B0",
                   label="focused")
        ax.scatter(b.loc[flag, "top_value_share"], b.loc[flag, "top_outreach_share"], s=24, color="#C44E52",
                   marker="x", label="spreads evenly")
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("core + potential: share of the KOS's customer value")
        ax.set_ylabel("core + potential: share of the KOS's outreach")
        ax.set_title("effort vs value per KOS (dashed: effort follows value)")
        ax.legend(fontsize=8)
        return ax


def effort_allocation(
    dataset: "Dataset",
    tiers: pd.DataFrame | TierAssignment,
    *,
    period: str = "M",
    focus_threshold: float = 2.0,
    id_col: str = "customer_id",
    period_col: str = "period",
    tier_col: str = "tier",
    conf_level: float = 0.95,
) -> EffortResult:
    """Share of each KOS's messages per tier against the tier's share of value, flagging even spreaders.

    Parameters
    ----------
    dataset : kosresearch.Dataset
        Needs ``messages`` and ``customers`` (and ``orders`` when ``tiers``
        has no ``monetary`` column).
    tiers : DataFrame or TierAssignment
        Tier per customer and period (:func:`assign_tiers`).
    period : {"M", "Q", "W"}, default "M"
        The period of ``tiers`` (how message timestamps are grouped).
    focus_threshold : float, default 2.0
        A KOS whose outreach per customer in the top tiers (core +
        potential) is less than ``focus_threshold`` times the outreach per
        mass customer spreads effort evenly: flagged (``spreads_evenly``)
        when the whole interval of that ratio lies below the threshold,
        marked ``possibly_even`` when only the estimate does (small KOS).
    id_col, period_col, tier_col : str
        Columns of ``tiers``.
    conf_level : float, default 0.95
        Level of the focus-ratio intervals.

    Returns
    -------
    EffortResult
        ``.table`` (KOS × tier), ``.by_kos`` (focus ratio with interval and
        the flag), ``.overall``.

    Raises
    ------
    KosDataError
        Missing tables or columns.

    Notes
    -----
    Effort is the private messages a KOS sent to a customer bound to them;
    *outreach* counts those the KOS started (no message from the customer
    in the previous 24 hours), the part of effort the KOS chooses rather
    than answers. Value is the customer's spend. Both are attributed to the
    customer's tier at the end of the *previous* period, the tier the KOS
    knew when deciding where to write (using the same period's tier would
    let replies to outreach raise the engagement score and so the tier).
    Churned customers count in their own tier.

    Focus ratio: ``(O_top / N_top) / (O_mass / N_mass)`` with outreach ``O``
    and customer-months ``N``; its interval is a Wald interval on the log
    scale with the quasi-Poisson variance
    ``phi (1 / O_top + 1 / O_mass)``, ``phi`` the Pearson dispersion of the
    KOS's customer-month counts (at least 1).
    """
    check_choice("period", period, list(PERIODS))
    check_positive("focus_threshold", focus_threshold)
    check_conf_level(conf_level)
    dataset.require("messages", "customers")
    if isinstance(tiers, TierAssignment):
        id_col, period_col = tiers.id_col, tiers.period_col
        data = tiers.table
    else:
        data = tiers
    require_columns(data, {"id_col": id_col, "period_col": period_col, "tier_col": tier_col}, name="tiers")
    t = data[[id_col, period_col, tier_col] + (["monetary"] if "monetary" in data.columns else [])].copy()
    t[id_col] = t[id_col].astype(str)
    t[period_col] = t[period_col].astype(str)
    unit, _, label = PERIODS[period]
    msgs = dataset.sql(f"""
        WITH pm AS (
            SELECT kos_id, customer_id, ts, sender,
                   max(CASE WHEN sender = 'customer' THEN ts END) OVER (
                       PARTITION BY kos_id, customer_id ORDER BY ts
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS last_customer
            FROM messages WHERE channel = 'private' AND customer_id IS NOT NULL
        ), k AS (
            SELECT pm.kos_id, pm.customer_id, CAST(date_trunc('{unit}', pm.ts) AS TIMESTAMP) AS p,
                   count(*) AS kos_messages,
                   count(*) FILTER (WHERE last_customer IS NULL OR pm.ts - last_customer > INTERVAL 24 HOUR) AS outreach
            FROM pm JOIN customers c ON c.customer_id = pm.customer_id AND c.kos_id = pm.kos_id
            WHERE sender = 'kos' GROUP BY ALL
        )
        SELECT kos_id, customer_id, {label} AS period, kos_messages, outreach FROM k
    """).rename(columns={"customer_id": id_col, "period": period_col})
    cust = dataset.sql("SELECT customer_id, kos_id FROM customers WHERE kos_id IS NOT NULL").rename(
        columns={"customer_id": id_col})
    if "monetary" not in t.columns:
        dataset.require("orders")
        spend = dataset.sql(f"""
            SELECT customer_id, {label} AS period, sum(amount) AS monetary
            FROM (SELECT customer_id, amount, CAST(date_trunc('{unit}', ordered_at) AS TIMESTAMP) AS p FROM orders)
            GROUP BY ALL
        """).rename(columns={"customer_id": id_col, "period": period_col})
        t = t.merge(spend, on=[id_col, period_col], how="left")
    t["monetary"] = t["monetary"].astype(float).fillna(0.0)
    # the tier each customer held at the end of the previous period
    t["_ord"] = period_ordinals(t[period_col], col=period_col)
    t = t.sort_values([id_col, "_ord"], kind="stable").reset_index(drop=True)
    same = np.r_[False, (t[id_col].to_numpy()[1:] == t[id_col].to_numpy()[:-1])
                 & (t["_ord"].to_numpy()[1:] - t["_ord"].to_numpy()[:-1] == 1)]
    prev = np.r_[[None], t[tier_col].astype(object).to_numpy()[:-1]]
    t["tier_prev"] = np.where(same, prev, None)
    t = t[t["tier_prev"].notna()]
    t = t.merge(cust, on=id_col, how="inner")
    msgs[id_col] = msgs[id_col].astype(str)
    msgs[period_col] = msgs[period_col].astype(str)
    t = t.merge(msgs[[id_col, period_col, "kos_messages", "outreach"]], on=[id_col, period_col], how="left")
    t[["kos_messages", "outreach"]] = t[["kos_messages", "outreach"]].fillna(0).astype(float)
    if not len(t):
        raise KosDataError("no customer bound to a KOS has two consecutive periods in tiers; nothing to compare")
    t["tier"] = t["tier_prev"].astype(str)
    agg = t.groupby(["kos_id", "tier"]).agg(customer_months=("outreach", "size"), kos_messages=("kos_messages", "sum"),
                                            outreach=("outreach", "sum"), spend=("monetary", "sum")).reset_index()
    table = _shares(agg, ["kos_id"])
    overall = _shares(agg.groupby("tier", as_index=False)[["customer_months", "kos_messages", "outreach", "spend"]]
                      .sum(), [])
    by_kos = _by_kos(t, agg, id_col, focus_threshold, conf_level)
    return EffortResult(table=table, conf_level=conf_level, by_kos=by_kos, overall=overall,
                        focus_threshold=float(focus_threshold))


def _shares(agg: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = agg.copy()
    for src, dst in (("customer_months", "customer_share"), ("kos_messages", "message_share"),
                     ("outreach", "outreach_share"), ("spend", "value_share")):
        tot = out.groupby(keys)[src].transform("sum") if keys else out[src].sum()
        out[dst] = out[src] / (tot.where(tot > 0) if keys else (tot if tot > 0 else np.nan))
    rank = {s: i for i, s in enumerate(TIER_STATES)}
    return out.sort_values([*keys, "tier"], key=lambda s: s.map(rank) if s.name == "tier" else s).reset_index(drop=True)


def _by_kos(t: pd.DataFrame, agg: pd.DataFrame, id_col: str, threshold: float, conf_level: float) -> pd.DataFrame:
    top = t["tier"].isin(_TOP).to_numpy()
    mass = (t["tier"] == "mass").to_numpy()
    d = pd.DataFrame({"kos_id": t["kos_id"].to_numpy(), "o": t["outreach"].to_numpy(), "top": top, "mass": mass,
                      "cust": t[id_col].to_numpy()})
    g = d.groupby("kos_id")
    o_top = (d["o"] * d["top"]).groupby(d["kos_id"]).sum()
    n_top = g["top"].sum()
    o_mass = (d["o"] * d["mass"]).groupby(d["kos_id"]).sum()
    n_mass = g["mass"].sum()
    # Pearson dispersion of customer-month outreach around the two group rates
    rate_top = (o_top / n_top.where(n_top > 0)).reindex(d["kos_id"]).to_numpy()
    rate_mass = (o_mass / n_mass.where(n_mass > 0)).reindex(d["kos_id"]).to_numpy()
    mu = np.where(d["top"], rate_top, np.where(d["mass"], rate_mass, np.nan))
    ok = np.isfinite(mu) & (mu > 0)
    pr = pd.Series(np.where(ok, (d["o"] - mu) ** 2 / np.where(ok, mu, 1.0), 0.0)).groupby(d["kos_id"]).sum()
    dof = pd.Series(ok.astype(float)).groupby(d["kos_id"]).sum() - 2
    phi = (pr / dof.where(dof > 0)).clip(lower=1.0).fillna(1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (o_top / n_top) / (o_mass / n_mass)
        se = np.sqrt(phi * (1.0 / o_top + 1.0 / o_mass))
        lo, hi = normal_interval(np.log(ratio), se, conf_level)
    a = agg.pivot_table(index="kos_id", columns="tier", values=["customer_months", "outreach", "spend"],
                        aggfunc="sum", fill_value=0)

    def share(kind):
        tot = a[kind].sum(axis=1)
        part = a[kind].reindex(columns=list(_TOP), fill_value=0).sum(axis=1)
        return part / tot.where(tot > 0)

    out = pd.DataFrame({
        "customers": d.groupby("kos_id")["cust"].nunique(),
        "customer_months": a["customer_months"].sum(axis=1),
        "outreach": a["outreach"].sum(axis=1),
        "top_customer_share": share("customer_months"),
        "top_outreach_share": share("outreach"),
        "top_value_share": share("spend"),
        "focus_ratio": ratio,
        "conf_low": np.exp(lo),
        "conf_high": np.exp(hi),
    })
    out["spreads_evenly"] = (out["conf_high"] < threshold).fillna(False).astype(bool)
    out["possibly_even"] = (out["focus_ratio"] < threshold).fillna(False).astype(bool)
    return out.reset_index().rename(columns={"index": "kos_id"})
