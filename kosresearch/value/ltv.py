"""Lifetime value against acquisition cost, by acquisition channel and cohort, with bootstrap intervals."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes
from kosresearch._validation import check_choice, check_conf_level, check_positive
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.value import _btyd, _labels
from kosresearch.value.cac import CohortFreq, _COHORT_SQL, channel_order, cohort_sql
from kosresearch.value.clv import BetaGeo, GammaGamma, ModelIdentificationWarning, _gg_expected
from kosresearch.value.rfm import _NS_PER_DAY, _summarise

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from kosresearch.data.loader import Dataset

__all__ = ["ltv_cac", "LtvCacResult"]

MONTH_DAYS = 365.25 / 12.0
MEASURES = ("ltv", "cac", "ltv_cac", "payback_month", "payback_month_repeat")

def channel_label(channel: str, lang: str = "en") -> str:
    """Display name of an acquisition channel in ``lang`` (``en`` or ``zh``)."""
    return _labels.channel_label(channel, lang)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, repr=False)
class LtvCacResult(Result):
    """LTV, CAC, LTV/CAC and payback month by acquisition channel and cohort.

    Attributes
    ----------
    table : DataFrame
        Long table, one row per ``channel`` × ``cohort`` × ``measure``
        (``cohort == "all"`` pools a channel's cohorts; ``channel == "all"``
        pools channels): ``estimate``, ``std_error`` (bootstrap standard
        deviation), ``conf_low``, ``conf_high`` (bootstrap percentile
        interval, inverted-CDF rule), ``n_customers``. Measures: ``ltv`` (discounted margin per
        customer over the horizon from acquisition, CNY), ``cac`` (mean
        acquisition cost, CNY), ``ltv_cac`` (their ratio), ``payback_month``
        (first month after acquisition in which the mean discounted
        cumulative margin reaches CAC; ``inf`` when not within the horizon),
        ``payback_month_repeat`` (the same on the margin of repeat purchases
        only, leaving out the first purchase).
    curves : DataFrame
        Mean discounted cumulative margin per customer by ``channel``,
        ``cohort`` and ``month`` (0 = first purchase): ``cum_margin`` with
        ``conf_low``/``conf_high``, ``cum_realised`` (the part already
        observed), ``cac``.
    models : DataFrame
        BG/NBD and Gamma-Gamma parameters of the full-data fit: ``model``,
        ``term``, ``estimate``, ``std_error``, ``conf_low``, ``conf_high``.
    customers : DataFrame
        Per customer: ``customer_id, channel, cohort, cac, frequency, recency, T,
        monetary_value, p_alive, ltv, ltv_realised`` (for plots; not for display).
    bg, gg : BetaGeo, GammaGamma
        The fitted models (weeks).
    horizon_months, discount_rate, margin, n_boot : as given
    observation_end : Timestamp
    conf_level : float
    """

    curves: pd.DataFrame
    models: pd.DataFrame
    customers: pd.DataFrame
    bg: Any
    gg: Any
    horizon_months: int
    discount_rate: float
    margin: float
    n_boot: int
    observation_end: pd.Timestamp

    _display_names = {**Result._display_names, "channel": "channel", "cohort": "cohort", "n_customers": "customers"}

    def estimate(self, channel: str = "all", measure: str = "ltv_cac", cohort: str = "all") -> pd.Series:
        """The table row of one measure (``estimate, conf_low, conf_high, ...``) as a Series."""
        check_choice("measure", measure, MEASURES)
        t = self.table
        row = t[(t["channel"] == channel) & (t["cohort"] == cohort) & (t["measure"] == measure)]
        if row.empty:
            raise KosParameterError(
                f"channel={channel!r}, cohort={cohort!r} is not in the table; channels: "
                f"{sorted(t['channel'].unique())}"
            )
        return row.iloc[0]

    def summary(self, *, digits: int = 0, cohorts: bool = False, lang: str = "en") -> pd.DataFrame:
        """Wide display table in ``lang``: one row per channel (and cohort with ``cohorts=True``), intervals in brackets."""
        t = self.table if cohorts else self.table[self.table["cohort"] == "all"]
        pct = f"{self.conf_level:.0%}"
        beyond = f"> {self.horizon_months}"

        def fmt(row, d):
            est, lo, hi = row["estimate"], row["conf_low"], row["conf_high"]
            if row["measure"].startswith("payback"):
                show = lambda v: beyond if v == np.inf else ("–" if not np.isfinite(v) else f"{v:.0f}")  # noqa: E731
                return f"{show(est)} [{show(lo)}, {show(hi)}]"
            if not np.isfinite(est):
                return "–"
            return f"{est:,.{d}f} [{lo:,.{d}f}, {hi:,.{d}f}]"

        out = t[["channel", "cohort", "n_customers"]].drop_duplicates(["channel", "cohort"]).set_index(
            ["channel", "cohort"])
        for m in MEASURES:
            rows = t[t["measure"] == m].set_index(["channel", "cohort"])
            d = 2 if m == "ltv_cac" else digits
            out[f"{_labels.label(m, lang, _labels.MEASURES)} ({pct} CI)"] = rows.apply(lambda r: fmt(r, d), axis=1)
        out = out.reset_index()
        out = out if cohorts else out.drop(columns="cohort")
        return _labels.display(out, lang)

    def model_summary(self, *, digits: int = 3, lang: str = "en") -> pd.DataFrame:
        """BG/NBD (weeks) and Gamma-Gamma parameters with intervals, in ``lang``."""
        t = self.models.copy()
        num = t.select_dtypes("number").columns
        t[num] = t[num].round(digits)
        return _labels.display(t, lang, ci=f"{self.conf_level:.0%}")

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, border=0, classes="kos-table")

    def __repr__(self) -> str:
        return f"<LtvCacResult: horizon {self.horizon_months} months, conf_level={self.conf_level}>\n" + \
            self.summary().to_string(index=False)

    def plot(self, *, ax: "Axes | None" = None, by: Literal["channel", "cohort"] = "channel",
             channel: str | None = None, lang: str = "en") -> "Axes":
        """Cumulative discounted margin per customer against CAC.

        ``by="channel"``: one curve per channel (cohorts pooled) with its
        bootstrap band, its CAC as a dashed line and the payback month marked.
        ``by="cohort"``: the cohorts of one ``channel`` (default ``referral`` if
        present), coloured from oldest to newest.
        """
        import matplotlib as mpl

        check_choice("by", by, ("channel", "cohort"))
        _labels.lang_index(lang)
        ax = new_axes(ax)
        c = self.curves
        if by == "channel":
            groups = [(ch, g) for ch, g in c[c["cohort"] == "all"].groupby("channel", sort=False) if ch != "all"]
            colors = [f"C{i % 10}" for i in range(len(groups))]
        else:
            channels = [ch for ch in c["channel"].unique() if ch != "all"]
            channel = channel or ("referral" if "referral" in channels else channels[0])
            if channel not in channels:
                raise KosParameterError(f"channel={channel!r} is not in the results; choose one of {channels}")
            groups = [(co, g) for co, g in c[(c["channel"] == channel) & (c["cohort"] != "all")].groupby("cohort")]
            cmap = mpl.colormaps["viridis"]
            colors = [cmap(i / max(len(groups) - 1, 1)) for i in range(len(groups))]
        for (name, g), color in zip(groups, colors):
            shown = _labels.channel_label(str(name), lang) if by == "channel" else str(name)
            ax.plot(g["month"], g["cum_margin"], color=color, label=shown)
            if by == "channel":
                ax.fill_between(g["month"], g["conf_low"], g["conf_high"], color=color, alpha=0.15, linewidth=0)
                ax.axhline(float(g["cac"].iloc[0]), color=color, linestyle="--", linewidth=0.8)
                pb = self.estimate(str(name), "payback_month")["estimate"]
                if np.isfinite(pb):
                    ax.plot([pb], [g.loc[g["month"] == pb, "cum_margin"].iloc[0]], "o", color=color)
        ax.set_xlabel(_labels.plot_label("months_since", lang))
        ax.set_ylabel(_labels.plot_label("cum_margin", lang))
        ax.legend(fontsize="small", ncol=2)
        return ax

    def plot_alive(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Distribution (ECDF) of the probability of being active, by acquisition channel, among purchasers."""
        _labels.lang_index(lang)
        ax = new_axes(ax)
        cust = self.customers.dropna(subset=["p_alive"])
        order = [ch for ch in self.table["channel"].unique() if ch != "all"]
        for ch in order:
            g = cust[cust["channel"] == ch]
            if len(g):
                ax.ecdf(g["p_alive"], label=_labels.channel_label(ch, lang))
        ax.set_xlabel(_labels.plot_label("p_alive", lang))
        ax.set_ylabel(_labels.plot_label("share_customers", lang))
        ax.legend(fontsize="small")
        return ax

    def conclusion(self, channel: str = "referral", *, lang: Literal["en", "zh"] = "en") -> str:
        """A plain-language sentence with the channel's CAC, LTV, LTV/CAC and payback month."""
        _labels.lang_index(lang)
        cac = self.estimate(channel, "cac")
        ltv = self.estimate(channel, "ltv")
        ratio = self.estimate(channel, "ltv_cac")
        pb = self.estimate(channel, "payback_month")["estimate"]
        name = channel_label(channel, lang)
        years = self.horizon_months / 12
        pct = f"{self.conf_level:.0%}"
        if lang == "zh":
            if pb == 0:
                pay = "首单毛利即已收回获客成本"
            else:
                pay = f"第 {pb:.0f} 个月收回获客成本" if np.isfinite(pb) else f"{self.horizon_months} 个月内收不回获客成本"
            return (f"通过{name}获得的客户，平均获客成本 ¥{cac['estimate']:,.0f}，"
                    f"{self.horizon_months} 个月（{years:g} 年）内带来毛利 ¥{ltv['estimate']:,.0f}"
                    f"（{pct} 置信区间 ¥{ltv['conf_low']:,.0f}–¥{ltv['conf_high']:,.0f}），"
                    f"LTV/CAC 为 {ratio['estimate']:,.1f}，{pay}。")
        if pb == 0:
            pay = "the margin of the first purchase already pays back the acquisition cost"
        else:
            pay = (f"payback in month {pb:.0f}" if np.isfinite(pb)
                   else f"no payback within {self.horizon_months} months")
        return (f"A customer acquired through {name} costs ¥{cac['estimate']:,.0f} and returns "
                f"¥{ltv['estimate']:,.0f} of margin over {years:g} years ({pct} CI ¥{ltv['conf_low']:,.0f}–"
                f"¥{ltv['conf_high']:,.0f}), LTV/CAC {ratio['estimate']:,.1f}, {pay}.")

    def headlines(self, *, lang: Literal["en", "zh"] = "en", channels: tuple[str, ...] = ("all", "referral", "paid_ads")
                  ) -> list[dict]:
        """Headline figures (dicts for ``kosresearch.report.publish_headlines``): LTV/CAC and payback by channel."""
        _labels.lang_index(lang)
        out = []
        present = set(self.table["channel"])
        for ch in channels:
            if ch not in present:
                continue
            r = self.estimate(ch, "ltv_cac")
            lab = channel_label(ch, lang)
            out.append({"name": f"ltv_cac_{ch}", "label": f"LTV/CAC · {lab}", "estimate": r["estimate"],
                        "conf_low": r["conf_low"], "conf_high": r["conf_high"], "unit": ""})
            if ch != "all":
                p = self.estimate(ch, "payback_month")
                label = f"回本月份 · {lab}" if lang == "zh" else f"payback month · {lab}"
                out.append({"name": f"payback_month_{ch}", "label": label,
                            "estimate": p["estimate"] if np.isfinite(p["estimate"]) else None,
                            "conf_low": p["conf_low"] if np.isfinite(p["conf_low"]) else None,
                            "conf_high": p["conf_high"] if np.isfinite(p["conf_high"]) else None,
                            "unit": "月" if lang == "zh" else "months"})
        return out


# --------------------------------------------------------------------------- computation


@dataclass
class _Customers:
    """Arrays of every customer, purchasers first aligned to the RFM rows."""

    ids: np.ndarray
    channel: np.ndarray
    cohort: np.ndarray
    cac: np.ndarray
    buyer: np.ndarray          # index into rfm rows, -1 without purchases
    x: np.ndarray              # per rfm row, weeks
    t_x: np.ndarray
    T: np.ndarray
    m: np.ndarray
    first_value: np.ndarray
    realised: np.ndarray       # (n_rfm, H) repeat revenue per month since acquisition
    u_code: np.ndarray         # rfm row -> distinct (x, t_x, T)
    u_x: np.ndarray
    u_tx: np.ndarray
    u_T: np.ndarray


def _load(dataset: "Dataset", *, cohort_freq: str, end, merge_same_day: bool, horizon: int):
    dataset.require("customers", "orders")
    t_expr = "date_trunc('day', ordered_at)" if merge_same_day else "ordered_at"
    occ = dataset.sql(
        f"SELECT customer_id AS customer, epoch_ns({t_expr}) AS t_ns, sum(amount) AS value FROM orders "
        "GROUP BY 1, 2 ORDER BY 1, 2")
    if occ.empty:
        raise KosDataError("orders has no rows; LTV/CAC needs purchases")
    occ["t_ns"] = occ["t_ns"].astype(np.int64)
    if end is None:
        last = int(occ["t_ns"].max())
        end = pd.Timestamp((last // _NS_PER_DAY + 1) * _NS_PER_DAY)
    else:
        end = pd.Timestamp(end)
    end_ns = int(end.value)
    occ = occ[occ["t_ns"] < end_ns]
    cohort = cohort_sql("acquired_at", cohort_freq)
    cust = dataset.sql(
        f"SELECT customer_id, acquisition_channel AS channel, acquisition_cost AS cac, {cohort} AS cohort "
        "FROM customers WHERE acquired_at < $end ORDER BY customer_id", {"end": end.to_pydatetime()})
    if cust.empty:
        raise KosDataError(f"no customer was acquired before observation_end={str(end)!r}; LTV/CAC needs customers")
    rfm = _summarise(occ, end_ns=end_ns, unit_days=7.0)
    # realised repeat revenue by month since the first purchase
    row = pd.Series(np.arange(len(rfm)), index=rfm["customer"])
    oi = row.reindex(occ["customer"]).to_numpy()
    first_ns = rfm["first_purchase_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    delta_days = (occ["t_ns"].to_numpy() - first_ns[oi]) / _NS_PER_DAY
    month = np.floor(delta_days / MONTH_DAYS).astype(np.int64) + 1
    keep = (delta_days > 0) & (month <= horizon)
    realised = np.bincount(oi[keep] * horizon + (month[keep] - 1), weights=occ["value"].to_numpy()[keep],
                           minlength=len(rfm) * horizon).reshape(len(rfm), horizon)
    x = rfm["frequency"].to_numpy(dtype=float)
    t_x = rfm["recency"].to_numpy()
    T = rfm["T"].to_numpy()
    key = pd.MultiIndex.from_arrays([x, t_x, T])
    u_code, uniq = pd.factorize(key)
    u = np.asarray(uniq.to_list(), dtype=float).reshape(-1, 3)
    buyer = pd.Index(rfm["customer"]).get_indexer(cust["customer_id"]).astype(np.int64)
    orphan = pd.Index(cust["customer_id"]).get_indexer(rfm["customer"]) < 0
    if orphan.any():
        raise KosDataError(f"orders name {int(orphan.sum())} customers missing from customers "
                           f"(e.g. {rfm['customer'].to_numpy()[orphan][0]!r})")
    c = _Customers(
        ids=cust["customer_id"].to_numpy(), channel=cust["channel"].astype(str).to_numpy(),
        cohort=cust["cohort"].astype(str).to_numpy(), cac=cust["cac"].to_numpy(dtype=float), buyer=buyer,
        x=x, t_x=t_x, T=T, m=rfm["monetary_value"].to_numpy(), first_value=rfm["first_value"].to_numpy(),
        realised=realised, u_code=u_code.astype(np.int64), u_x=u[:, 0], u_tx=u[:, 1], u_T=u[:, 2],
    )
    return c, rfm, end


def _expected_monthly(c: _Customers, params: dict, horizon: int) -> np.ndarray:
    """Expected repeat purchases per month since acquisition, per distinct history (after the observation end)."""
    r, al, a, b = (params[k] for k in _btyd.BG_TERMS)
    n_u = c.u_x.size
    age_days = c.u_T * 7.0
    ends = np.arange(1, horizon + 1) * MONTH_DAYS
    tau = np.maximum(ends[None, :] - age_days[:, None], 0.0) / 7.0  # weeks after the observation end
    cum = np.zeros((n_u, horizon))
    pos = tau > 0
    if pos.any():
        ii, jj = np.nonzero(pos)
        cum[ii, jj] = _btyd.bg_conditional_expected(tau[ii, jj], c.u_x[ii], c.u_tx[ii], c.u_T[ii], r, al, a, b)
    return np.diff(np.concatenate([np.zeros((n_u, 1)), cum], axis=1), axis=1)


def _cashflows(c: _Customers, exp_u: np.ndarray, ez: np.ndarray, *, margin: float, disc: np.ndarray,
               include_first: bool):
    """Per purchaser: discounted margin by month since acquisition (n_rfm, H+1), total and realised.

    Month 0 is the first purchase; cumulative curves are ``cumsum`` of these.
    """
    first = c.first_value if include_first else np.zeros_like(c.first_value)
    realised = np.concatenate([first[:, None], c.realised], axis=1) * (margin * disc)
    total = realised.copy()
    total[:, 1:] += exp_u[c.u_code] * ez[:, None] * (margin * disc[1:])
    return total, realised


def _bg_jacobian(c: _Customers, params: dict, base: np.ndarray, horizon: int, h: float = 1e-4) -> np.ndarray:
    """Forward-difference derivatives of the expected monthly purchases in the log-parameters, (4, n_u, H)."""
    out = np.empty((4,) + base.shape)
    for j, key in enumerate(_btyd.BG_TERMS):
        shifted = dict(params)
        shifted[key] = params[key] * math.exp(h)
        out[j] = (_expected_monthly(c, shifted, horizon) - base) / h
    return out


def _group_index(channel: np.ndarray, cohort: np.ndarray, channels: list[str]):
    """Groups at three levels (channel × cohort, channel, all) as a sparse membership matrix (groups × customers)."""
    from scipy import sparse

    n = channel.size
    cell = pd.MultiIndex.from_arrays([channel, cohort])
    present = set(cell)
    lv1 = [(ch, co) for ch in channels for co in sorted(set(cohort)) if (ch, co) in present]
    keys = lv1 + [(ch, "all") for ch in channels] + [("all", "all")]
    idx = {k: i for i, k in enumerate(keys)}
    rows = np.concatenate([
        np.fromiter((idx[k] for k in cell), np.int64, n),
        np.fromiter((idx[(ch, "all")] for ch in channel), np.int64, n),
        np.full(n, idx[("all", "all")], np.int64),
    ])
    cols = np.tile(np.arange(n), 3)
    A = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(len(keys), n))
    return keys, A


def _group_means(A, w: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Weighted means of ``values`` (n,) or (n, k) per group of the membership matrix ``A``."""
    wsum = A @ w
    s = A @ (values * (w[:, None] if values.ndim == 2 else w))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.asarray(s).T / np.where(wsum > 0, wsum, np.nan)).T


def _payback(curves: np.ndarray, cac: np.ndarray) -> np.ndarray:
    """First month whose cumulative margin reaches CAC (``inf`` if none)."""
    reached = curves >= cac[..., None]
    first = np.argmax(reached, axis=-1).astype(float)
    first[~reached.any(axis=-1)] = np.inf
    first[np.isnan(cac)] = np.nan
    return first


def ltv_cac(
    dataset: "Dataset",
    *,
    horizon_months: int = 36,
    discount_rate: float = 0.10,
    margin: float = 0.35,
    cohort_freq: CohortFreq = "Q",
    n_boot: int = 200,
    conf_level: float = 0.95,
    seed: int = 0,
    observation_end=None,
    penalizer: float = 0.0,
    include_first_purchase: bool = True,
    merge_same_day: bool = True,
    bootstrap: Literal["linearised", "exact"] = "linearised",
) -> LtvCacResult:
    """LTV from BG/NBD and Gamma-Gamma, CAC, LTV/CAC and payback month per acquisition channel × cohort.

    Parameters
    ----------
    dataset : Dataset
        Needs ``customers`` and ``orders``. Usually one region (``load_region``).
    horizon_months : int, default 36
        Months after acquisition over which value is counted.
    discount_rate : float, default 0.10
        Annual discount rate; cash flows of month ``k`` after acquisition are
        discounted by ``(1 + discount_rate)^(-k/12)``.
    margin : float, default 0.35
        Gross margin share of revenue (an assumption to set per brand).
    cohort_freq : {"M", "Q", "Y"}, default "Q"
        Acquisition cohorts; quarters keep cells large enough for stable LTV.
    n_boot : int, default 200
        Bootstrap replicates (0 for point estimates only).
    conf_level : float, default 0.95
        Level of the percentile intervals.
    seed : int, default 0
        Seed of the bootstrap.
    observation_end : date-like, optional
        End of observation; default midnight after the latest order.
    penalizer : float, default 0
        Passed to both models.
    include_first_purchase : bool, default True
        Count the margin of the first (acquisition) purchase in LTV.
    merge_same_day : bool, default True
        Purchase occasions as in :func:`rfm_summary`.
    bootstrap : {"linearised", "exact"}, default "linearised"
        How each replicate recomputes customers' expected purchases after
        refitting BG/NBD: exactly (slow: hypergeometric functions for every
        customer and month), or by a first-order expansion in the BG/NBD
        log-parameters around the full-sample fit (exact in the customer
        weights, the Gamma-Gamma values and the realised margin; accurate
        because replicate estimates stay within a few standard errors).

    Returns
    -------
    LtvCacResult

    Raises
    ------
    KosDataError
        Missing tables, no purchases, no repeat buyers (the models are not identified).
    KosParameterError
        Invalid options.

    See Also
    --------
    acquisition_costs, referral_economics, customer_lifetime_value

    Notes
    -----
    LTV of a customer is the discounted margin from his acquisition to
    ``horizon_months`` later: the realised margin of the months already
    observed plus, for the months after ``observation_end``, the BG/NBD
    conditional expectation of purchases in each month times the
    Gamma-Gamma conditional expected value (the convention of
    :func:`customer_lifetime_value`, with months counted from acquisition so
    that all cohorts are valued over the same horizon). Old cohorts are
    mostly observed, recent ones mostly forecast. Both models are fitted once
    on all customers of ``dataset`` (time in weeks), so channel differences in
    forecasts come from customers' own histories; the prior is pooled.

    CAC is the mean ``acquisition_cost`` (the referral reward for referred
    customers). LTV/CAC is the ratio of the group means; payback month the
    first month ``k`` (0 = acquisition) in which the mean discounted
    cumulative margin reaches CAC.

    Intervals come from a nonparametric bootstrap over customers: customers
    are resampled with replacement, both models refitted (warm-started) on
    the resample, and every measure recomputed (see ``bootstrap``); the
    percentile interval and the standard deviation of the replicates are
    reported. Customers without any order count with CAC and zero value.
    """
    check_conf_level(conf_level)
    check_choice("cohort_freq", cohort_freq, _COHORT_SQL)
    if not isinstance(horizon_months, (int, np.integer)) or horizon_months < 1:
        raise KosParameterError(f"horizon_months={horizon_months!r} must be a whole number of months, at least 1")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise KosParameterError(f"n_boot={n_boot!r} must be a whole number, at least 0")
    check_positive("discount_rate", discount_rate, allow_zero=True)
    check_choice("bootstrap", bootstrap, ("linearised", "exact"))
    check_positive("margin", margin)
    if margin > 1:
        raise KosParameterError(f"margin={margin!r} must lie in (0, 1]; it is the share of revenue kept")
    H = int(horizon_months)
    c, rfm, end = _load(dataset, cohort_freq=cohort_freq, end=observation_end, merge_same_day=merge_same_day,
                        horizon=H)
    rfm_w = rfm.rename(columns={"customer": "customer_id"})
    rfm_w.attrs["time_unit"] = "W"
    bg = BetaGeo(penalizer=penalizer, conf_level=conf_level).fit(rfm_w)
    gg = GammaGamma(penalizer=penalizer, conf_level=conf_level).fit(rfm_w)
    disc = (1.0 + discount_rate) ** (-np.arange(H + 1) / 12.0)

    channels = channel_order(dataset, np.unique(c.channel))
    keys, A = _group_index(c.channel, c.cohort, channels)
    G = len(keys)
    n = c.ids.size
    is_buyer = c.buyer >= 0
    bidx = c.buyer[is_buyer]

    exp_u0 = _expected_monthly(c, bg.params_, H)
    th_bg = np.log([bg.params_[k] for k in _btyd.BG_TERMS])
    th_gg = np.log([gg.params_[k] for k in _btyd.GG_TERMS])
    jac = _bg_jacobian(c, bg.params_, exp_u0, H) if (n_boot and bootstrap == "linearised") else None

    def evaluate(exp_u, ggp, w_cust):
        """Group curves (G, H+1) and CAC (G,) at these model values and customer weights."""
        ez = _gg_expected(c.x, c.m, ggp["p"], ggp["q"], ggp["gamma"])
        flow, real = _cashflows(c, exp_u, ez, margin=margin, disc=disc, include_first=include_first_purchase)
        full = np.zeros((n, H + 1))
        full[is_buyer] = flow[bidx]
        curve = np.cumsum(_group_means(A, w_cust, full), axis=1)  # cumulate after averaging (linear)
        return full, real, curve, _group_means(A, w_cust, c.cac)

    full, real, curve, cac = evaluate(exp_u0, gg.params_, np.ones(n))
    ltv = curve[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = ltv / cac
    payback = _payback(curve, cac)
    payback_repeat = _payback(curve - curve[:, :1], cac)
    real_full = np.zeros((n, H + 1))
    real_full[is_buyer] = real[bidx]
    curve_real = np.cumsum(_group_means(A, np.ones(n), real_full), axis=1)
    n_cust = np.asarray(A.sum(axis=1)).ravel().astype(np.int64)

    # ---- bootstrap over customers
    rng = np.random.default_rng(seed)
    boot = {k: np.full((n_boot, G), np.nan) for k in MEASURES}
    boot_curve = np.full((n_boot, G, H + 1), np.nan)
    rep = c.x > 0
    failed = 0
    for i in range(n_boot):
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        wb = np.zeros(c.x.size)
        wb[bidx] = w[is_buyer]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bgb = BetaGeo(penalizer=penalizer)._fit_data(_btyd.BGData.build(c.x, c.t_x, c.T, wb), start=th_bg,
                                                             warn=False)
                use = rep & (wb > 0) & (c.m > 0)
                ggb = GammaGamma(penalizer=penalizer)._fit_arrays(c.x[use], c.m[use], wb[use], start=th_gg,
                                                                   warn=False)
        except (KosDataError, ValueError, FloatingPointError, np.linalg.LinAlgError):
            failed += 1
            continue
        if jac is None:
            exp_u = _expected_monthly(c, bgb.params_, H)
        else:
            delta = np.log([bgb.params_[k] for k in _btyd.BG_TERMS]) - th_bg
            exp_u = exp_u0.copy()
            for j in range(4):  # not tensordot: BLAS threads stall on busy cores
                exp_u += delta[j] * jac[j]
        _, _, cb, cacb = evaluate(exp_u, ggb.params_, w)
        boot_curve[i] = cb
        boot["ltv"][i] = cb[:, -1]
        boot["cac"][i] = cacb
        with np.errstate(divide="ignore", invalid="ignore"):
            boot["ltv_cac"][i] = cb[:, -1] / cacb
        boot["payback_month"][i] = _payback(cb, cacb)
        boot["payback_month_repeat"][i] = _payback(cb - cb[:, :1], cacb)
    if failed:
        warnings.warn(f"ltv_cac: {failed} of {n_boot} bootstrap replicates could not be fitted and were dropped",
                      ModelIdentificationWarning, stacklevel=2)

    alpha = (1.0 - conf_level) / 2.0
    point = {"ltv": ltv, "cac": cac, "ltv_cac": ratio, "payback_month": payback,
             "payback_month_repeat": payback_repeat}
    ok = ~np.isnan(boot["ltv"][:, 0]) if n_boot else np.zeros(0, bool)
    rows = []
    for m in MEASURES:
        v = boot[m][ok]
        if v.shape[0] >= 2:
            lo, hi = _quantiles(v, alpha)
            with warnings.catch_warnings(), np.errstate(invalid="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                sd = np.nanstd(np.where(np.isfinite(v), v, np.nan), axis=0, ddof=1)
        else:
            lo = hi = sd = np.full(G, np.nan)
        for g, (ch, co) in enumerate(keys):
            rows.append((ch, co, m, float(point[m][g]), float(sd[g]), float(lo[g]), float(hi[g]), int(n_cust[g])))
    table = pd.DataFrame(rows, columns=["channel", "cohort", "measure", "estimate", "std_error", "conf_low",
                                        "conf_high", "n_customers"])
    table = _order_table(table, channels)

    months = np.arange(H + 1)
    if ok.sum() >= 2:
        c_lo, c_hi = _quantiles(boot_curve[ok], alpha)
    else:
        c_lo = c_hi = np.full_like(curve, np.nan)
    curves = pd.DataFrame({
        "channel": np.repeat([k[0] for k in keys], H + 1),
        "cohort": np.repeat([k[1] for k in keys], H + 1),
        "month": np.tile(months, G),
        "cum_margin": curve.ravel(),
        "conf_low": c_lo.ravel(),
        "conf_high": c_hi.ravel(),
        "cum_realised": curve_real.ravel(),
        "cac": np.repeat(cac, H + 1),
    })
    models = pd.concat([bg.params_table_.assign(model="BG/NBD (weeks)"), gg.params_table_.assign(model="Gamma-Gamma")],
                       ignore_index=True)[["model", "term", "estimate", "std_error", "conf_low", "conf_high"]]
    p_alive = np.full(n, np.nan)
    p_alive[is_buyer] = bg.probability_alive(c.x[bidx], c.t_x[bidx], c.T[bidx])
    customers = pd.DataFrame({
        "customer_id": c.ids, "channel": c.channel, "cohort": c.cohort, "cac": c.cac,
        "frequency": _take(c.x, c.buyer), "recency": _take(c.t_x, c.buyer), "T": _take(c.T, c.buyer),
        "monetary_value": _take(c.m, c.buyer), "p_alive": p_alive,
        "ltv": full.sum(axis=1), "ltv_realised": real_full.sum(axis=1),
    })
    return LtvCacResult(table=table, conf_level=conf_level, curves=curves, models=models, customers=customers,
                        bg=bg, gg=gg, horizon_months=H, discount_rate=float(discount_rate), margin=float(margin),
                        n_boot=int(n_boot), observation_end=end)


def _quantiles(v: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0; NaN (group absent from a replicate) ignored, ``inf`` kept.

    Uses the ``inverted_cdf`` rule (an observed replicate value, no
    interpolation), so infinite payback months stay infinite.
    """
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if np.isnan(v).any():
            q = np.nanquantile(v, [alpha, 1 - alpha], axis=0, method="inverted_cdf")
        else:
            q = np.quantile(v, [alpha, 1 - alpha], axis=0, method="inverted_cdf")
    return q[0], q[1]


def _take(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    out = np.full(idx.size, np.nan)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def _order_table(table: pd.DataFrame, channels: list[str]) -> pd.DataFrame:
    """Rows by channel (vocabulary order, ``all`` last), pooled cohort first, then cohorts; measures in order."""
    ch_rank = {c: i for i, c in enumerate(channels + ["all"])}
    t = table.assign(_c=table["channel"].map(ch_rank), _p=(table["cohort"] != "all").astype(int),
                     _m=table["measure"].map({m: i for i, m in enumerate(MEASURES)}))
    return t.sort_values(["_c", "_p", "cohort", "_m"]).drop(columns=["_c", "_p", "_m"]).reset_index(drop=True)
