"""Customer acquisition cost by channel and cohort, and the economics of referrals.

Both functions read a :class:`kosresearch.Dataset` and aggregate in DuckDB.
``customers.acquisition_cost`` is the cost attributed to acquiring each
customer; for customers acquired by ``referral`` it is the referral reward
paid, so referral rewards are part of CAC like any other acquisition spend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from kosresearch._results import Result, critical_value, new_axes
from kosresearch._validation import check_choice, check_conf_level
from kosresearch.errors import KosDataError
from kosresearch.value import _labels

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from kosresearch.data.loader import Dataset

__all__ = ["acquisition_costs", "referral_economics", "AcquisitionCostResult", "ReferralResult", "CohortFreq"]

CohortFreq = Literal["M", "Q", "Y"]

_COHORT_SQL = {
    "M": "strftime({col}, '%Y-%m')",
    "Q": "CAST(year({col}) AS VARCHAR) || 'Q' || CAST(quarter({col}) AS VARCHAR)",
    "Y": "CAST(year({col}) AS VARCHAR)",
}


def cohort_sql(column: str, cohort_freq: str) -> str:
    """SQL expression of the cohort label (``2024-03``, ``2024Q1`` or ``2024``) of a timestamp column."""
    check_choice("cohort_freq", cohort_freq, _COHORT_SQL)
    return _COHORT_SQL[cohort_freq].format(col=column)


def channel_order(dataset: "Dataset", present) -> list[str]:
    """Channels in vocabulary order, then any others alphabetically."""
    vocab = list(dataset.vocabularies.get("acquisition_channel", ()))
    present = [str(c) for c in present]
    return [c for c in vocab if c in present] + sorted(c for c in present if c not in vocab)


def _t_interval(mean, sd, n, conf_level):
    from scipy import stats

    mean, sd, n = (np.asarray(v, dtype=float) for v in (mean, sd, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.where(n > 1, sd / np.sqrt(n), np.nan)
        q = stats.t.ppf(0.5 + conf_level / 2.0, np.maximum(n - 1, 1))
    return se, mean - q * se, mean + q * se


# --------------------------------------------------------------------------- CAC


@dataclass(frozen=True, repr=False)
class AcquisitionCostResult(Result):
    """CAC by acquisition channel (``table``) and by channel and cohort (``by_cohort``).

    Attributes
    ----------
    table : DataFrame
        One row per channel plus ``all`` (blended CAC): ``channel``,
        ``n_customers``, ``share`` (of new customers), ``total_cost``,
        ``estimate`` (mean cost per acquired customer), ``std_error``,
        ``conf_low``, ``conf_high`` (Student t interval of the mean).
    by_cohort : DataFrame
        The same columns plus ``cohort``, one row per channel and cohort.
    conf_level : float
        Level of the intervals.
    cohort_freq : str
        ``M``, ``Q`` or ``Y``.
    """

    by_cohort: pd.DataFrame
    cohort_freq: str

    def summary(self, *, digits: int = 2, lang: str = "en", cohorts: bool = False) -> pd.DataFrame:
        """Display table in ``lang`` (``zh``/``en``): by channel, or by channel and cohort with ``cohorts=True``."""
        t = (self.by_cohort if cohorts else self.table).drop(columns="std_error").rename(columns={"estimate": "cac"})
        num = t.select_dtypes("number").columns
        t[num] = t[num].round(digits)
        return _labels.display(t, lang, ci=f"{self.conf_level:.0%}")

    def plot(self, *, ax: "Axes | None" = None, by: Literal["channel", "cohort"] = "channel",
             lang: str = "en") -> "Axes":
        """CAC with intervals by channel (``by="channel"``), or CAC over cohorts, one line per channel."""
        check_choice("by", by, ("channel", "cohort"))
        _labels.lang_index(lang)
        ax = new_axes(ax)
        if by == "channel":
            t = self.table.iloc[::-1]
            pos = np.arange(len(t))
            ax.errorbar(t["estimate"], pos, xerr=[t["estimate"] - t["conf_low"], t["conf_high"] - t["estimate"]],
                        fmt="o", capsize=3)
            ax.set_yticks(pos, [_labels.channel_label(c, lang) for c in t["channel"]])
            ax.set_xlabel(f"{_labels.plot_label('cac_axis', lang)} ({self.conf_level:.0%} CI)")
            ax.set_xlim(left=0)
            return ax
        for channel, g in self.by_cohort.groupby("channel", sort=False):
            ax.plot(g["cohort"], g["estimate"], marker=".", label=_labels.channel_label(channel, lang))
        ax.set_ylabel(_labels.plot_label("cac_axis", lang))
        ax.set_xlabel(_labels.plot_label("cohort_axis", lang))
        ticks = sorted(self.by_cohort["cohort"].unique())
        step = max(1, len(ticks) // 12)
        ax.set_xticks(ticks[::step])
        ax.tick_params(axis="x", rotation=45)
        ax.legend(fontsize="small")
        return ax


def acquisition_costs(
    dataset: "Dataset",
    *,
    cohort_freq: CohortFreq = "M",
    conf_level: float = 0.95,
) -> AcquisitionCostResult:
    """CAC: mean acquisition cost per new customer, by channel and by channel × acquisition cohort.

    Parameters
    ----------
    dataset : Dataset
        Needs the ``customers`` table.
    cohort_freq : {"M", "Q", "Y"}, default "M"
        Cohort length: month of acquisition (``2024-03``), quarter (``2024Q1``) or year.
    conf_level : float, default 0.95
        Level of the intervals.

    Returns
    -------
    AcquisitionCostResult
        ``table`` by channel (and ``all``), ``by_cohort`` by channel and cohort.

    Raises
    ------
    KosDataError
        The dataset has no ``customers`` table or no customers.

    See Also
    --------
    referral_economics : referral chains and the value of referred customers.
    ltv_cac : CAC against lifetime value.

    Notes
    -----
    CAC of a group is ``Σ acquisition_cost / number of customers acquired``,
    with the Student t interval of a mean. For ``referral`` customers the
    cost is the referral reward, so rewards count as acquisition spend.
    Costs not attributed to individual customers (brand campaigns, advisor
    salaries) are not in the data contract and not in CAC.

    Examples
    --------
    >>> import dataclasses, kosresearch as kr
    >>> sim = kr.simulate(dataclasses.replace(kr.PRESETS["sample"], customers=2_000, stores_per_region=4), seed=1)
    >>> cac = acquisition_costs(sim.dataset())
    >>> list(cac.table["channel"])[:3]
    ['paid_ads', 'kos_content', 'koc_content']
    """
    check_conf_level(conf_level)
    check_choice("cohort_freq", cohort_freq, _COHORT_SQL)
    dataset.require("customers")
    cohort = cohort_sql("acquired_at", cohort_freq)
    q = f"""
        SELECT acquisition_channel AS channel, {cohort} AS cohort, count(*) AS n_customers,
               sum(acquisition_cost) AS total_cost, avg(acquisition_cost) AS estimate,
               stddev_samp(acquisition_cost) AS sd
        FROM customers GROUP BY GROUPING SETS ((acquisition_channel, {cohort}), (acquisition_channel), ())
    """
    raw = dataset.sql(q)
    if raw.empty or raw["n_customers"].max() == 0 or raw["n_customers"].isna().all():
        raise KosDataError("customers has no rows; CAC needs acquired customers")
    channels = channel_order(dataset, raw["channel"].dropna().unique())
    total = float(raw.loc[raw["channel"].isna() & raw["cohort"].isna(), "n_customers"].iloc[0])

    def finish(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame["share"] = frame["n_customers"] / total
        se, lo, hi = _t_interval(frame["estimate"], frame["sd"], frame["n_customers"], conf_level)
        frame["std_error"], frame["conf_low"], frame["conf_high"] = se, lo, hi
        frame["n_customers"] = frame["n_customers"].astype(np.int64)
        return frame

    by_channel = raw[raw["cohort"].isna()].copy()
    by_channel["channel"] = by_channel["channel"].fillna("all")
    by_channel["_o"] = by_channel["channel"].map({c: i for i, c in enumerate(channels + ["all"])})
    table = finish(by_channel.sort_values("_o"))[
        ["channel", "n_customers", "share", "total_cost", "estimate", "std_error", "conf_low", "conf_high"]]
    cells = raw[raw["cohort"].notna() & raw["channel"].notna()].copy()
    cells["_o"] = cells["channel"].map({c: i for i, c in enumerate(channels)})
    by_cohort = finish(cells.sort_values(["_o", "cohort"]))[
        ["channel", "cohort", "n_customers", "share", "total_cost", "estimate", "std_error", "conf_low", "conf_high"]]
    return AcquisitionCostResult(table=table.reset_index(drop=True), conf_level=conf_level,
                                 by_cohort=by_cohort.reset_index(drop=True), cohort_freq=cohort_freq)


# --------------------------------------------------------------------------- referrals


@dataclass(frozen=True, repr=False)
class ReferralResult(Result):
    """Referral chains, referral rate, K-factor and the value of referred customers.

    Attributes
    ----------
    table : DataFrame
        Headline measures, one row each: ``term``, ``estimate``, ``std_error``,
        ``conf_low``, ``conf_high``, ``n`` (customers behind the estimate).
        Terms: ``referral_rate`` (share of new customers acquired by
        referral), ``k_factor`` (customers referred within the window per
        customer), ``referrer_share`` (customers who referred at least one
        within the window), ``referrals_per_referrer``, ``reward_per_referral``
        (mean referral CAC), ``revenue_referred`` and ``revenue_other``
        (revenue per customer in the window after acquisition),
        ``revenue_difference`` (referred minus other, Welch interval),
        ``revenue_referrers`` (window revenue of customers who referred someone).
    by_channel : DataFrame
        Value of customers by acquisition channel: ``channel``,
        ``n_customers`` (with a full window), ``revenue`` and its ``conf_low``,
        ``conf_high``, ``repeat_orders`` (orders after the first, in the
        window), ``cac``, ``referrals`` (customers they referred in the window).
    chains : DataFrame
        ``generation`` (0: not referred; 1: referred by a non-referred
        customer; 2: referred by a generation-1 customer, ...), ``n_customers``, ``share``.
    referrals_distribution : DataFrame
        ``referrals`` (``0`` … ``"5+"``, in the window), ``n_customers``, ``share``
        among customers with a full window.
    window_months : int
        Length of the window after acquisition.
    conf_level : float
        Level of the intervals.
    """

    by_channel: pd.DataFrame
    chains: pd.DataFrame
    referrals_distribution: pd.DataFrame
    window_months: int

    def summary(self, *, digits: int = 3, lang: str = "en") -> pd.DataFrame:
        """The headline measures in ``lang`` (``zh``/``en``), rounded."""
        t = self.table.copy()
        num = t.select_dtypes("number").columns
        t[num] = t[num].round(digits)
        return _labels.display(t, lang, ci=f"{self.conf_level:.0%}")

    def channel_summary(self, *, digits: int = 1, lang: str = "en") -> pd.DataFrame:
        """Value of customers by acquisition channel in ``lang``, rounded."""
        t = self.by_channel.copy()
        num = t.select_dtypes("number").columns
        t[num] = t[num].round(digits)
        return _labels.display(t, lang, ci=f"{self.conf_level:.0%}")

    def plot(self, *, ax: "Axes | None" = None, kind: Literal["value", "referrals"] = "value",
             lang: str = "en") -> "Axes":
        """Window revenue per customer by channel (``value``) or the distribution of referrals (``referrals``)."""
        check_choice("kind", kind, ("value", "referrals"))
        _labels.lang_index(lang)
        ax = new_axes(ax)
        if kind == "value":
            t = self.by_channel.iloc[::-1]
            pos = np.arange(len(t))
            colors = ["C3" if c == "referral" else "C0" for c in t["channel"]]
            ax.barh(pos, t["revenue"], color=colors, alpha=0.8)
            ax.errorbar(t["revenue"], pos, xerr=[t["revenue"] - t["conf_low"], t["conf_high"] - t["revenue"]],
                        fmt="none", ecolor="k", capsize=3)
            ax.set_yticks(pos, [_labels.channel_label(c, lang) for c in t["channel"]])
            ax.set_xlabel(_labels.plot_label("revenue_window", lang, m=self.window_months))
            return ax
        d = self.referrals_distribution
        ax.bar(d["referrals"].astype(str), d["share"])
        ax.set_xlabel(_labels.plot_label("referrals_window", lang, m=self.window_months))
        ax.set_ylabel(_labels.plot_label("share_customers", lang))
        return ax


def referral_economics(
    dataset: "Dataset",
    *,
    window_months: int = 12,
    observation_end=None,
    conf_level: float = 0.95,
) -> ReferralResult:
    """Referral chains, referral rate, K-factor, and the value of referred customers against others.

    Parameters
    ----------
    dataset : Dataset
        Needs the ``customers`` and ``orders`` tables.
    window_months : int, default 12
        Window after each customer's acquisition in which referrals made and
        revenue are counted, so that customers acquired at different times
        are compared over the same exposure. Only customers acquired at least
        one window before ``observation_end`` enter window-based measures.
    observation_end : date-like, optional
        End of observation; default midnight after the latest order.
    conf_level : float, default 0.95
        Level of the intervals.

    Returns
    -------
    ReferralResult

    Raises
    ------
    KosDataError
        Missing tables, or no customer with a full window.

    See Also
    --------
    acquisition_costs, ltv_cac

    Notes
    -----
    The K-factor (viral coefficient) is the mean number of new customers a
    customer brings in by referral within the window after his own
    acquisition (``k_factor``); a value below 1 means referrals amplify
    but do not by themselves sustain growth. ``referral_rate`` is the share
    of all new customers (acquired before ``observation_end``) acquired by
    referral (``referrer_id`` not null).
    Chains follow ``referrer_id`` back to a customer who was not referred.
    Proportions have normal (Wald) intervals, means Student t intervals, and
    the difference of means a Welch interval. Values are revenue (order
    amounts), not margin.
    """
    from scipy import stats

    check_conf_level(conf_level)
    if not isinstance(window_months, (int, np.integer)) or window_months < 1:
        raise KosDataError(f"window_months={window_months!r} must be a whole number of months, at least 1")
    dataset.require("customers", "orders")
    if observation_end is None:
        end = dataset.sql("SELECT CAST(max(ordered_at) AS DATE) + INTERVAL 1 DAY AS e FROM orders")["e"].iloc[0]
        end = pd.Timestamp(end)
    else:
        end = pd.Timestamp(observation_end)
    months = int(window_months)
    cust = dataset.sql(
        f"""
        WITH c AS (SELECT customer_id, acquired_at, acquisition_channel AS channel, acquisition_cost,
                          referrer_id, acquired_at + INTERVAL {months} MONTH AS window_end FROM customers
              WHERE acquired_at < $end),
        o AS (SELECT c.customer_id, count(*) AS n_orders, sum(o.amount) AS revenue
              FROM c JOIN orders o ON o.customer_id = c.customer_id
              WHERE o.ordered_at >= c.acquired_at AND o.ordered_at < c.window_end GROUP BY 1),
        r AS (SELECT c.referrer_id AS customer_id, count(*) AS referrals_window
              FROM c JOIN c AS p ON p.customer_id = c.referrer_id
              WHERE c.acquired_at < p.window_end GROUP BY 1),
        ra AS (SELECT referrer_id AS customer_id, count(*) AS referrals_all FROM c
               WHERE referrer_id IS NOT NULL GROUP BY 1)
        SELECT c.customer_id, c.channel, c.acquisition_cost, c.referrer_id,
               c.window_end <= $end AS full_window,
               coalesce(o.n_orders, 0) AS n_orders, coalesce(o.revenue, 0.0) AS revenue,
               coalesce(r.referrals_window, 0) AS referrals_window,
               coalesce(ra.referrals_all, 0) AS referrals_all
        FROM c LEFT JOIN o USING (customer_id) LEFT JOIN r USING (customer_id) LEFT JOIN ra USING (customer_id)
        ORDER BY c.acquired_at, c.customer_id
        """,
        {"end": end.to_pydatetime()},
    )
    if cust.empty:
        raise KosDataError("customers has no rows; referral economics needs customers")
    z = critical_value(conf_level)
    referred = cust["referrer_id"].notna().to_numpy()
    full = cust["full_window"].fillna(False).to_numpy(dtype=bool)
    if not full.any():
        raise KosDataError(
            f"no customer was acquired at least window_months={months} before the end of observation "
            f"({end.date()}); shorten window_months"
        )
    rows = []

    def prop(term, k, n):
        p = k / n
        se = math.sqrt(p * (1 - p) / n) if n > 0 else np.nan
        rows.append((term, p, se, p - z * se, p + z * se, int(n)))

    def mean(term, values):
        values = np.asarray(values, dtype=float)
        n = values.size
        if n == 0:
            rows.append((term, np.nan, np.nan, np.nan, np.nan, 0))
            return
        m = values.mean()
        se = values.std(ddof=1) / math.sqrt(n) if n > 1 else np.nan
        q = stats.t.ppf(0.5 + conf_level / 2, max(n - 1, 1))
        rows.append((term, m, se, m - q * se, m + q * se, n))

    prop("referral_rate", int(referred.sum()), len(cust))
    rw = cust["referrals_window"].to_numpy(dtype=float)
    mean("k_factor", rw[full])
    prop("referrer_share", int((rw[full] > 0).sum()), int(full.sum()))
    mean("referrals_per_referrer", rw[full & (rw > 0)])
    mean("reward_per_referral", cust.loc[referred, "acquisition_cost"])
    rev = cust["revenue"].to_numpy(dtype=float)
    a, b = rev[full & referred], rev[full & ~referred]
    mean("revenue_referred", a)
    mean("revenue_other", b)
    if a.size > 1 and b.size > 1:
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        diff, se = a.mean() - b.mean(), math.sqrt(va + vb)
        dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
        q = stats.t.ppf(0.5 + conf_level / 2, dof)
        rows.append(("revenue_difference", diff, se, diff - q * se, diff + q * se, int(a.size + b.size)))
    else:
        rows.append(("revenue_difference", np.nan, np.nan, np.nan, np.nan, int(a.size + b.size)))
    mean("revenue_referrers", rev[full & (rw > 0)])
    table = pd.DataFrame(rows, columns=["term", "estimate", "std_error", "conf_low", "conf_high", "n"])

    # value by channel (customers with a full window)
    f = cust[full]
    channels = channel_order(dataset, f["channel"].unique())
    vals = []
    for ch in channels:
        g = f[f["channel"] == ch]
        n = len(g)
        m = g["revenue"].mean()
        se = g["revenue"].std(ddof=1) / math.sqrt(n) if n > 1 else np.nan
        q = stats.t.ppf(0.5 + conf_level / 2, max(n - 1, 1))
        vals.append((ch, n, m, m - q * se, m + q * se, (g["n_orders"] - 1).clip(lower=0).mean(),
                     g["acquisition_cost"].mean(), g["referrals_window"].mean()))
    by_channel = pd.DataFrame(vals, columns=["channel", "n_customers", "revenue", "conf_low", "conf_high",
                                             "repeat_orders", "cac", "referrals"])

    # chains: generation of every customer (referrers are acquired earlier, so depth is bounded)
    ids = cust["customer_id"].to_numpy()
    pos = pd.Series(np.arange(len(ids)), index=ids)
    parent = cust["referrer_id"].map(pos).to_numpy(dtype=float)
    parent = np.where(np.isnan(parent), -1, parent).astype(np.int64)
    gen = np.zeros(len(ids), np.int64)
    has = parent >= 0
    for _ in range(len(ids)):
        new = np.where(has, gen[np.where(has, parent, 0)] + 1, 0)
        if np.array_equal(new, gen):
            break
        gen = new
    counts = np.bincount(gen)
    chains = pd.DataFrame({"generation": np.arange(counts.size), "n_customers": counts,
                           "share": counts / counts.sum()})
    chains = chains[chains["n_customers"] > 0].reset_index(drop=True)

    k = np.minimum(rw[full], 5).astype(int)
    dist = np.bincount(k, minlength=6)
    referrals_distribution = pd.DataFrame({"referrals": ["0", "1", "2", "3", "4", "5+"], "n_customers": dist,
                                           "share": dist / dist.sum()})
    return ReferralResult(table=table, conf_level=conf_level, by_channel=by_channel, chains=chains,
                          referrals_distribution=referrals_distribution, window_months=months)
