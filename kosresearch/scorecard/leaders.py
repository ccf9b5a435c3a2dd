"""Who does better than the pool, and what the leaders do differently; team trends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kosresearch import _shrinkage
from kosresearch._results import Result, new_axes, wilson_interval
from kosresearch._validation import check_conf_level, require_columns
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.report.text import check_lang
from kosresearch.scorecard._aggregate import Grouper, aggregate, period_labels
from kosresearch.scorecard.metrics import MetricInfo, metric_info

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "best_practices",
    "BestPracticesResult",
    "leader_profile",
    "LeaderProfileResult",
    "team_trends",
    "TeamTrendsResult",
]

_KEYS = ["region", "kos_id", "kos_name", "store_id", "week"]

#: display labels (zh, en) of the share denominators
_DENOMINATORS = {
    "sla_customers": ("新客户数", "new customers"),
    "reply_needed": ("需回复的客户消息数", "customer messages needing a reply"),
    "new_members": ("新入群成员数", "new group members"),
    "sentiment_messages": ("有情感得分的客户消息数", "customer messages with a sentiment score"),
}


def _validated(metrics: pd.DataFrame, since) -> tuple[pd.DataFrame, dict[str, MetricInfo]]:
    require_columns(metrics, {k: k for k in _KEYS}, name="metrics")
    data = metrics
    if since is not None:
        try:
            start = pd.Timestamp(since)
        except (TypeError, ValueError):
            raise KosParameterError(f"since={since!r} must be a date, e.g. '2025-01-01'") from None
        data = metrics[pd.to_datetime(metrics["week"]) >= start]
    if len(data) == 0:
        raise KosDataError("metrics has no rows" + (f" from since={since!r} on" if since is not None else ""))
    return data.reset_index(drop=True), metric_info(metrics)


def _per_kos(data: pd.DataFrame, info: dict[str, MetricInfo]) -> pd.DataFrame:
    """Whole-window value of every metric per region and KOS (point estimates)."""
    cells = data[["region", "kos_id"]]
    codes, uniques = pd.MultiIndex.from_frame(cells).factorize()
    codes = np.asarray(codes)
    out = pd.DataFrame(list(uniques), columns=["region", "kos_id"])
    first = data.groupby(codes, sort=True)[["kos_name", "store_id"]].first().reset_index(drop=True)
    out.insert(2, "kos_name", first["kos_name"].to_numpy())
    out.insert(3, "store_id", first["store_id"].to_numpy())
    out["n_weeks"] = np.bincount(codes, minlength=len(out))
    grouper = Grouper(codes, len(out))
    ones = np.ones((len(data), 1))
    for name, m in info.items():
        out[name] = aggregate(data, m, grouper, ones)[:, 0]
        for col in (m.numerator, m.denominator):
            if col and m.kind == "share" and col not in out.columns:
                out[col] = grouper.sum(pd.to_numeric(data[col], errors="coerce").fillna(0).to_numpy()[:, None])[:, 0]
    return out


# --------------------------------------------------------------------------- best practices


@dataclass(frozen=True)
class BestPracticesResult(Result):
    """KOS credibly better than their region's pool on one share metric.

    Attributes
    ----------
    table : DataFrame
        One row per KOS with any trials: ``region, kos_id, kos_name,
        store_id, successes, trials, rate`` (raw share), ``estimate``
        (empirical-Bayes posterior mean), ``conf_low, conf_high`` (equal-tailed
        posterior interval), ``pool_rate`` (the region prior's mean),
        ``prob_better`` (posterior probability of being better than the pool
        mean), ``credibly_better`` (the whole interval is on the better side of
        the pool mean), ``prior_alpha, prior_beta``, then the KOS's
        whole-window value of every other metric ("their numbers"). Sorted by
        region and ``estimate`` (best first).
    conf_level : float
    metric : MetricInfo
        The metric judged.
    """

    metric: MetricInfo | None = None

    @property
    def leaders(self) -> pd.DataFrame:
        """Only the KOS credibly better than the pool."""
        return self.table[self.table["credibly_better"]]

    def summary(self, *, digits: int = 3, lang: str = "en") -> pd.DataFrame:
        """The credibly better KOS with their numbers, for display."""
        zh = check_lang(lang) == "zh"
        rows = self.leaders
        name = rows["kos_name"].where(rows["kos_name"].notna(), rows["kos_id"])
        pct = f"{self.conf_level:.0%}"
        label = self.metric.label_zh if zh else self.metric.label_en
        return pd.DataFrame({
            ("区域" if zh else "region"): rows["region"].to_numpy(),
            "KOS": name.to_numpy(),
            (f"{label}（原始）" if zh else f"{label} (raw)"): rows["rate"].round(digits).to_numpy(),
            ("样本数" if zh else "trials"): rows["trials"].astype(int).to_numpy(),
            (f"{label}（收缩后）" if zh else f"{label} (shrunk)"): rows["estimate"].round(digits).to_numpy(),
            (f"区间 ({pct})" if zh else f"interval ({pct})"): [
                f"{lo:.{digits}f}–{hi:.{digits}f}" for lo, hi in zip(rows["conf_low"], rows["conf_high"])
            ],
            ("团队均值" if zh else "pool mean"): rows["pool_rate"].round(digits).to_numpy(),
            ("优于团队的概率" if zh else "P(better than pool)"): rows["prob_better"].round(digits).to_numpy(),
        })

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Funnel plot: raw share against trials with binomial control limits around the pool mean."""
        zh = check_lang(lang) == "zh"
        ax = new_axes(ax)
        t = self.table
        pool = float(np.average(t["pool_rate"], weights=t["trials"])) if len(t) else np.nan
        n = (np.unique(np.linspace(max(1.0, float(t["trials"].min())), float(t["trials"].max()), 200).round())
             if len(t) else np.array([1.0]))
        lo95, hi95 = _shrinkage.funnel_limits(pool, n, conf_level=0.95)
        lo998, hi998 = _shrinkage.funnel_limits(pool, n, conf_level=0.998)
        ax.plot(n, lo95, "--", color="0.5", linewidth=1, label="95 %")
        ax.plot(n, hi95, "--", color="0.5", linewidth=1)
        ax.plot(n, lo998, ":", color="0.3", linewidth=1, label="99.8 %")
        ax.plot(n, hi998, ":", color="0.3", linewidth=1)
        ax.axhline(pool, color="0.3", linewidth=1)
        lead = t["credibly_better"]
        ax.scatter(t.loc[~lead, "trials"], t.loc[~lead, "rate"], s=18, color="C0", alpha=0.7,
                   label="其他 KOS" if zh else "other KOS")
        ax.scatter(t.loc[lead, "trials"], t.loc[lead, "rate"], s=30, color="C3",
                   label="可信地优于团队" if zh else "credibly better than pool")
        for _, row in t[lead].iterrows():
            name = row["kos_name"] if isinstance(row["kos_name"], str) else row["kos_id"]
            ax.annotate(name, (row["trials"], row["rate"]), fontsize=8, xytext=(3, 3), textcoords="offset points")
        label = self.metric.label_zh if zh else self.metric.label_en
        den = _DENOMINATORS.get(self.metric.denominator, (self.metric.denominator, self.metric.denominator))
        ax.set_xlabel(den[0] if zh else den[1])
        ax.set_ylabel(label)
        ax.set_title(f"漏斗图：{label}" if zh else f"Funnel plot: {label}")
        ax.legend(fontsize=8)
        return ax


def best_practices(
    metrics: pd.DataFrame,
    *,
    metric: str,
    conf_level: float = 0.95,
    since: str | None = None,
    min_trials: int = 1,
) -> BestPracticesResult:
    """KOS credibly better than their region's pool on a share metric, with their numbers.

    Each KOS's share over the window is shrunk towards the region's pool by
    an empirical-Bayes beta-binomial model (the shrinkage module shared with
    ``kos_benchmark``), so that a KOS with 3 of 4 does not outrank one with
    300 of 500. A KOS is *credibly better* when its whole posterior interval
    lies on the better side of the pool mean.

    Parameters
    ----------
    metrics : DataFrame
        The weekly table of :func:`kos_weekly_metrics` (not modified).
    metric : str
        A share metric: ``sla_share``, ``replied_within_<m>min_share``,
        ``new_member_speak_share``, ``positive_share`` or ``negative_share``
        (for the last, lower is better).
    conf_level : float, default 0.95
        Level of the posterior intervals.
    since : str, optional
        Use only weeks from this date on (e.g. the last quarter).
    min_trials : int, default 1
        KOS with fewer trials are left out of the prior fit and the table.

    Returns
    -------
    BestPracticesResult
        ``.table`` (every KOS), ``.leaders`` (the credibly better ones),
        ``.summary(lang=)``, ``.plot(ax=, lang=)`` (funnel plot).

    Raises
    ------
    KosParameterError
        ``metric`` is not a share metric of the table; bad ``conf_level`` or
        ``min_trials``.
    KosDataError
        ``metrics`` lacks columns or has no rows (from ``since`` on).

    See Also
    --------
    scorecard : the composite ranking.
    leader_profile : which metrics separate the sales leaders.

    Notes
    -----
    With successes :math:`s_k` of :math:`n_k` trials per KOS, the prior
    :math:`\\mathrm{Beta}(\\alpha, \\beta)` is fitted per region by maximising
    the beta-binomial marginal likelihood and each KOS's posterior is
    :math:`\\mathrm{Beta}(\\alpha + s_k, \\beta + n_k - s_k)` (Efron 2010,
    *Large-Scale Inference*, ch. 1; Robinson 2017). When rates vary no more
    than binomial noise allows, the prior is concentrated and nobody is
    flagged: that is the intended answer. The funnel plot draws exact binomial
    limits around the pool mean (Spiegelhalter 2005, *Statistics in Medicine*
    24:1185-1202).

    Examples
    --------
    >>> import kosresearch as kr
    >>> ds = kr.open_dataset("data_samples", regions=["east"])
    >>> best = kr.best_practices(kr.kos_weekly_metrics(ds), metric="new_member_speak_share")
    >>> bool((best.leaders["conf_low"] > best.leaders["pool_rate"]).all())
    True
    """
    check_conf_level(conf_level)
    if isinstance(min_trials, bool) or not isinstance(min_trials, int) or min_trials < 1:
        raise KosParameterError(f"min_trials={min_trials!r} must be a whole number of at least 1")
    data, info = _validated(metrics, since)
    shares = [k for k, v in info.items() if v.kind == "share"]
    if metric not in shares:
        raise KosParameterError(f"metric={metric!r} is not a share metric of metrics; choose one of {shares}")
    m = info[metric]
    per = _per_kos(data, info)
    s = per[m.numerator].to_numpy(float)
    n = per[m.denominator].to_numpy(float)
    keep = n >= min_trials
    per, s, n = per[keep].reset_index(drop=True), s[keep], n[keep]
    tail = (1 - conf_level) / 2
    cols = {k: np.full(len(per), np.nan) for k in ("estimate", "conf_low", "conf_high", "pool_rate", "prob_better",
                                                   "prior_alpha", "prior_beta")}
    for region in per["region"].unique():
        idx = np.flatnonzero(per["region"].to_numpy() == region)
        prior = _shrinkage.fit_beta_prior(s[idx], n[idx])
        post = _shrinkage.posterior_summary(s[idx], n[idx], prior, conf_level=conf_level)
        cols["estimate"][idx] = post["estimate"]
        cols["conf_low"][idx] = post["conf_low"]
        cols["conf_high"][idx] = post["conf_high"]
        cols["pool_rate"][idx] = prior.mean
        cols["prob_better"][idx] = post["prob_above"] if m.higher_is_better else 1 - post["prob_above"]
        cols["prior_alpha"][idx] = prior.alpha
        cols["prior_beta"][idx] = prior.beta
    table = per[["region", "kos_id", "kos_name", "store_id"]].copy()
    table["successes"] = s
    table["trials"] = n
    table["rate"] = s / n
    for k, v in cols.items():
        table[k] = v
    table["credibly_better"] = table["prob_better"] > 1 - tail
    table.insert(table.columns.get_loc("prior_alpha"), "credibly_better", table.pop("credibly_better"))
    numbers = per.drop(columns=["region", "kos_id", "kos_name", "store_id"])
    numbers = numbers.drop(columns=[c for c in numbers.columns if c in table.columns or c == metric])
    table = pd.concat([table, numbers], axis=1)
    table = table.sort_values(["region", "estimate"], ascending=[True, not m.higher_is_better]).reset_index(drop=True)
    return BestPracticesResult(table=table, conf_level=conf_level, metric=m)


# --------------------------------------------------------------------------- leader profile


@dataclass(frozen=True)
class LeaderProfileResult(Result):
    """How the leaders on an outcome differ from the other KOS on each process / relationship metric.

    Attributes
    ----------
    table : DataFrame
        One row per metric: ``metric, layer, label_en, label_zh,
        leaders_median, others_median, n_leaders, n_others``, ``estimate``
        (rank-biserial correlation: P(leader > other) - P(leader < other),
        from -1 to 1, signed so that positive means leaders do *better*),
        ``conf_low, conf_high`` (bootstrap over KOS), ``p_value``
        (Mann-Whitney U, two-sided), ``p_adjusted`` (Holm over the metrics).
        Sorted by ``|estimate|``.
    conf_level : float
    outcome : str
        Metric that defines the leaders.
    top : float
        Share of KOS (per region) counted as leaders.
    """

    outcome: str = ""
    top: float = 0.25

    def summary(self, *, digits: int = 2, lang: str = "en") -> pd.DataFrame:
        zh = check_lang(lang) == "zh"
        t = self.table
        pct = f"{self.conf_level:.0%}"
        return pd.DataFrame({
            ("指标" if zh else "metric"): (t["label_zh"] if zh else t["label_en"]).to_numpy(),
            ("领先者中位数" if zh else "leaders (median)"): t["leaders_median"].round(digits).to_numpy(),
            ("其他中位数" if zh else "others (median)"): t["others_median"].round(digits).to_numpy(),
            (f"效应量 ({pct} 区间)" if zh else f"effect size ({pct} interval)"): [
                f"{e:+.{digits}f} ({lo:+.{digits}f}, {hi:+.{digits}f})"
                for e, lo, hi in zip(t["estimate"], t["conf_low"], t["conf_high"])
            ],
            ("校正后 p 值" if zh else "Holm p-value"): t["p_adjusted"].round(3).to_numpy(),
        })

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Effect sizes with intervals, one line per metric."""
        zh = check_lang(lang) == "zh"
        t = self.table.iloc[::-1]
        ax = new_axes(ax, figsize=(7.0, max(3.0, 0.35 * len(t) + 1.0)))
        y = np.arange(len(t))
        ax.hlines(y, t["conf_low"], t["conf_high"], color="0.6", linewidth=2)
        colors = np.where(t["p_adjusted"] < 1 - self.conf_level, "C3", "C0")
        ax.scatter(t["estimate"], y, color=colors, zorder=3)
        ax.axvline(0, color="0.3", linewidth=1)
        ax.set_yticks(y, (t["label_zh"] if zh else t["label_en"]).tolist())
        ax.set_xlim(-1.05, 1.05)
        ax.set_xlabel("效应量（秩二列相关，>0 表示领先者更好）" if zh
                      else "effect size (rank-biserial; > 0: leaders do better)")
        ax.set_title(f"领先者的不同之处（前 {self.top:.0%}）" if zh else f"What the leaders do differently (top {self.top:.0%})")
        return ax


def leader_profile(
    metrics: pd.DataFrame,
    *,
    outcome: str = "sales_vs_expected",
    top: float = 0.25,
    conf_level: float = 0.95,
    since: str | None = None,
    n_boot: int = 500,
    seed: int = 0,
) -> LeaderProfileResult:
    """Which process and relationship metrics separate the leaders on an outcome from the other KOS.

    Leaders are the top ``top`` share of KOS of each region on ``outcome``
    over the window (by default customer sales relative to their mix-expected
    sales, so that leaders are not simply those given the best customers).
    Every metric of the *other* layers is compared between leaders and the
    rest.

    Parameters
    ----------
    metrics : DataFrame
        The weekly table of :func:`kos_weekly_metrics`.
    outcome : str, default "sales_vs_expected"
        Metric that defines the leaders.
    top : float, default 0.25
        Share of KOS per region counted as leaders (0 < top < 1).
    conf_level : float, default 0.95
    since : str, optional
        Use only weeks from this date on.
    n_boot : int, default 500
        Bootstrap replicates (KOS resampled within leaders and others).
    seed : int, default 0

    Returns
    -------
    LeaderProfileResult

    Raises
    ------
    KosParameterError
        Unknown ``outcome``, bad ``top``, ``conf_level`` or ``n_boot``.
    KosDataError
        Fewer than 2 leaders or 2 others with an outcome.

    Notes
    -----
    The effect size is the rank-biserial correlation
    :math:`r = 2U / (n_1 n_2) - 1` of the Mann-Whitney statistic (Kerby 2014,
    *Comprehensive Psychology* 3:11), invariant to the metrics' scales and
    robust to their long tails; p-values are Holm-adjusted over the metrics
    (Holm 1979). The comparison is descriptive: it says what leaders'
    numbers look like, not that adopting a practice causes sales.
    """
    check_conf_level(conf_level)
    if isinstance(top, bool) or not isinstance(top, (int, float)) or not 0 < top < 1:
        raise KosParameterError(f"top={top!r} must be a share strictly between 0 and 1, e.g. 0.25")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 50:
        raise KosParameterError(f"n_boot={n_boot!r} must be a whole number of at least 50")
    data, info = _validated(metrics, since)
    if outcome not in info:
        raise KosParameterError(f"outcome={outcome!r} is not a metric of metrics; choose one of {sorted(info)}")
    per = _per_kos(data, info).dropna(subset=[outcome])
    pct = per.groupby("region")[outcome].rank(pct=True, method="average")
    leader = (pct > 1 - top).to_numpy()
    if leader.sum() < 2 or (~leader).sum() < 2:
        raise KosDataError(
            f"leader_profile needs at least 2 leaders and 2 other KOS with {outcome!r}; "
            f"got {int(leader.sum())} and {int((~leader).sum())}"
        )
    from scipy import stats

    rng = np.random.default_rng(seed)
    rows = []
    outcome_layer = info[outcome].layer
    for name, m in info.items():
        if m.layer == outcome_layer:
            continue
        x = per.loc[leader, name].dropna().to_numpy()
        y = per.loc[~leader, name].dropna().to_numpy()
        if x.size < 2 or y.size < 2:
            continue
        sign = 1.0 if m.higher_is_better else -1.0
        u = stats.mannwhitneyu(x, y, alternative="two-sided")
        r = sign * (2.0 * u.statistic / (x.size * y.size) - 1.0)
        bx = x[rng.integers(0, x.size, (n_boot, x.size))]
        by = y[rng.integers(0, y.size, (n_boot, y.size))]
        gt = (bx[:, :, None] > by[:, None, :]).mean(axis=(1, 2))
        lt = (bx[:, :, None] < by[:, None, :]).mean(axis=(1, 2))
        boot = sign * (gt - lt)
        tail = (1 - conf_level) / 2
        rows.append({
            "metric": name, "layer": m.layer, "label_en": m.label_en, "label_zh": m.label_zh,
            "leaders_median": float(np.median(x)), "others_median": float(np.median(y)),
            "n_leaders": int(x.size), "n_others": int(y.size), "estimate": float(r),
            "conf_low": float(np.quantile(boot, tail)), "conf_high": float(np.quantile(boot, 1 - tail)),
            "p_value": float(u.pvalue),
        })
    table = pd.DataFrame(rows)
    if len(table):
        from statsmodels.stats.multitest import multipletests

        table["p_adjusted"] = multipletests(table["p_value"], method="holm")[1]
        table = table.reindex(table["estimate"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    return LeaderProfileResult(table=table, conf_level=conf_level, outcome=outcome, top=float(top))


# --------------------------------------------------------------------------- team trends


@dataclass(frozen=True)
class TeamTrendsResult(Result):
    """Pooled team value of every metric per region and period.

    Attributes
    ----------
    table : DataFrame
        Long format: ``region, period, metric, layer, label_en, label_zh,
        estimate, conf_low, conf_high`` (Wilson interval for shares, missing
        otherwise), ``n`` (the share's denominator, or KOS-weeks), ``n_kos``.
    conf_level : float
    period : str or None
    """

    period: str | None = "M"

    def latest(self) -> pd.DataFrame:
        """The last period next to the one before, per metric: ``estimate``, ``previous``, ``change``."""
        periods = sorted(self.table["period"].unique())
        last = self.table[self.table["period"] == periods[-1]]
        keys = ["region", "metric"]
        out = last[[*keys, "layer", "label_en", "label_zh", "estimate", "conf_low", "conf_high", "n_kos"]].copy()
        if len(periods) > 1:
            prev = self.table[self.table["period"] == periods[-2]].set_index(keys)["estimate"]
            out["previous"] = prev.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy()
        else:
            out["previous"] = np.nan
        out["change"] = out["estimate"] - out["previous"]
        return out.reset_index(drop=True)

    def summary(self, *, digits: int = 3, lang: str = "en") -> pd.DataFrame:
        zh = check_lang(lang) == "zh"
        t = self.latest()
        return pd.DataFrame({
            ("区域" if zh else "region"): t["region"].to_numpy(),
            ("指标" if zh else "metric"): (t["label_zh"] if zh else t["label_en"]).to_numpy(),
            ("本期" if zh else "this period"): t["estimate"].round(digits).to_numpy(),
            ("上期" if zh else "previous"): t["previous"].round(digits).to_numpy(),
            ("变化" if zh else "change"): t["change"].round(digits).to_numpy(),
            ("KOS 数" if zh else "KOS"): t["n_kos"].to_numpy(),
        })

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """The team's process and relationship shares over time (one line per metric, intervals shaded)."""
        zh = check_lang(lang) == "zh"
        ax = new_axes(ax, figsize=(8.0, 4.0))
        shares = ["sla_share", "replied_within_5min_share", "new_member_speak_share", "positive_share"]
        t = self.table[self.table["metric"].isin(shares)]
        for i, (metric, g) in enumerate(t.groupby("metric", sort=False)):
            g = g.groupby("period", as_index=False).agg(
                estimate=("estimate", "mean"), conf_low=("conf_low", "mean"), conf_high=("conf_high", "mean"))
            x = _period_start(g["period"], self.period)
            lab = t.loc[t["metric"] == metric, "label_zh" if zh else "label_en"].iloc[0]
            ax.plot(x, g["estimate"], color=f"C{i}", label=lab)
            ax.fill_between(x, g["conf_low"], g["conf_high"], color=f"C{i}", alpha=0.15, linewidth=0)
        ax.set_ylim(0, 1)
        ax.set_ylabel("占比" if zh else "share")
        ax.set_title("团队过程与关系指标趋势" if zh else "Team process and relationship shares over time")
        ax.legend(fontsize=8)
        return ax


def _period_start(labels: pd.Series, period: str | None):
    """First day of each period label made by ``period_labels`` (positions for the single period ``all``)."""
    if period is None:
        return np.arange(len(labels))
    if period == "W":
        return pd.to_datetime(labels.str.split("/").str[0])
    return pd.PeriodIndex([pd.Period(v, freq=period) for v in labels]).to_timestamp()


def team_trends(metrics: pd.DataFrame, *, period: str | None = "M", conf_level: float = 0.95) -> TeamTrendsResult:
    """The whole team's value of every metric per region and period, pooled over KOS and weeks.

    Parameters
    ----------
    metrics : DataFrame
        The weekly table of :func:`kos_weekly_metrics`.
    period : {"M", "Q", "Y", "W", None}, default "M"
    conf_level : float, default 0.95
        Level of the Wilson intervals of the shares.

    Returns
    -------
    TeamTrendsResult
        ``.table`` (long: one row per region, period and metric),
        ``.latest()``, ``.summary(lang=)``, ``.plot(ax=, lang=)``.

    Notes
    -----
    Shares pool numerators and denominators over all KOS-weeks (Wilson 1927
    intervals, *JASA* 22:209-212, treating trials as independent); totals are
    per KOS-week; medians are weighted medians of the weekly values.
    """
    check_conf_level(conf_level)
    data, info = _validated(metrics, None)
    labels = period_labels(data["week"], period)
    cells = pd.DataFrame({"region": data["region"], "period": labels})
    codes, uniques = pd.MultiIndex.from_frame(cells).factorize()
    codes = np.asarray(codes)
    keys = pd.DataFrame(list(uniques), columns=["region", "period"])
    grouper = Grouper(codes, len(keys))
    ones = np.ones((len(data), 1))
    n_kos = data.groupby(codes, sort=True)["kos_id"].nunique().to_numpy()
    frames = []
    for name, m in info.items():
        est = aggregate(data, m, grouper, ones)[:, 0]
        f = keys.copy()
        f["metric"], f["layer"], f["label_en"], f["label_zh"] = name, m.layer, m.label_en, m.label_zh
        f["estimate"] = est
        if m.kind == "share":
            s = grouper.sum(pd.to_numeric(data[m.numerator], errors="coerce").fillna(0).to_numpy()[:, None])[:, 0]
            n = grouper.sum(pd.to_numeric(data[m.denominator], errors="coerce").fillna(0).to_numpy()[:, None])[:, 0]
            f["conf_low"], f["conf_high"] = wilson_interval(s, n, conf_level)
            f["n"] = n
        else:
            f["conf_low"] = f["conf_high"] = np.nan
            f["n"] = np.bincount(codes, minlength=len(keys)).astype(float)
        f["n_kos"] = n_kos
        frames.append(f)
    table = pd.concat(frames, ignore_index=True).sort_values(["region", "metric", "period"]).reset_index(drop=True)
    return TeamTrendsResult(table=table, conf_level=conf_level, period=period)
