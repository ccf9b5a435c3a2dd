"""Per-KOS composite scorecard with layer scores, customer-mix adjustment and bootstrap rank intervals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes
from kosresearch._validation import check_conf_level, require_columns
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.report.text import check_lang
from kosresearch.scorecard._aggregate import (
    Grouper,
    aggregate,
    block_ranks,
    block_scores,
    period_labels,
    row_quantiles,
)
from kosresearch.scorecard.metrics import MetricInfo, metric_info

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["scorecard", "ScorecardResult", "DEFAULT_WEIGHTS", "LAYERS"]

#: layers of the scorecard with their display labels (zh, en)
LAYERS: dict[str, tuple[str, str]] = {
    "process": ("过程", "process"),
    "relationship": ("关系", "relationship"),
    "growth": ("增长与销售", "growth & sales"),
}

#: Default metric weights (they sum to 1: process 0.35, relationship 0.25,
#: growth and sales 0.40). Process metrics are what a KOS controls directly;
#: sales enter only through ``sales_vs_expected`` (customer sales relative to
#: what customers of the same acquisition channel and tier spend in the
#: region), so a KOS is not rewarded for having been given high-intent
#: customers. Raw sales, repeat-sales and the 1- / 30-minute reply shares are
#: shown with weight 0.
DEFAULT_WEIGHTS: dict[str, float] = {
    "sla_share": 0.12,
    "response_minutes_median": 0.08,
    "replied_within_5min_share": 0.08,
    "posts_per_week": 0.07,
    "interactions_per_post": 0.07,
    "new_member_speak_share": 0.07,
    "group_active_speakers": 0.05,
    "positive_share": 0.03,
    "negative_share": 0.03,
    "sales_vs_expected": 0.15,
    "private_adds_per_week": 0.08,
    "leads_per_week": 0.07,
    "active_private_customers": 0.05,
    "repeat_sales_per_week": 0.05,
}

_KEYS = ["region", "kos_id", "kos_name", "store_id", "week"]


@dataclass(frozen=True)
class ScorecardResult(Result):
    """Per-KOS scorecard: metric values, percentile scores, layer scores, composite and rank intervals.

    Attributes
    ----------
    table : DataFrame
        One row per region, KOS and period: ``region, kos_id, kos_name,
        store_id, period, n_weeks``; every metric of :attr:`metrics` (period
        value) and its percentile score ``score_<metric>`` (0-100 within
        region and period, 100 = best); ``score_process``,
        ``score_relationship``, ``score_growth``; ``composite`` (weighted mean
        of the available metric scores) with ``conf_low, conf_high``
        (bootstrap over weeks); ``weight_covered`` (share of the weights with
        a value); ``rank`` (1 = best composite in region and period, ties
        share a rank), ``rank_low, rank_high`` (bootstrap interval), ``n_kos``;
        ``sales_vs_expected_low, sales_vs_expected_high`` (bootstrap interval
        of the mix-adjusted sales ratio).
    conf_level : float
        Level of the bootstrap intervals.
    period : str or None
        ``"W"``, ``"M"``, ``"Q"``, ``"Y"`` or None (the whole window).
    weights : dict
        Metric weights used (normalised to sum 1).
    metrics : dict
        :class:`~kosresearch.scorecard.metrics.MetricInfo` of every metric shown.
    n_boot : int
        Bootstrap replicates.
    """

    period: str | None = None
    weights: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, MetricInfo] = field(default_factory=dict)
    n_boot: int = 0

    def latest(self) -> pd.DataFrame:
        """Rows of the last period, best rank first."""
        last = self.table["period"].max()
        return self.table[self.table["period"] == last].sort_values(["region", "rank", "kos_id"])

    def summary(self, *, digits: int = 1, lang: str = "en") -> pd.DataFrame:
        """The last period as a display table: KOS, rank with interval, composite, layer scores, key metrics."""
        zh = check_lang(lang) == "zh"
        rows = self.latest()
        name = rows["kos_name"].where(rows["kos_name"].notna(), rows["kos_id"])
        rank = [
            f"{int(r)} ({int(lo)}–{int(hi)})" if pd.notna(r) else "–"
            for r, lo, hi in zip(rows["rank"], rows["rank_low"], rows["rank_high"])
        ]
        composite = [
            f"{c:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})" if pd.notna(c) else "–"
            for c, lo, hi in zip(rows["composite"], rows["conf_low"], rows["conf_high"])
        ]
        pct = f"{self.conf_level:.0%}"
        out = pd.DataFrame({
            ("区域" if zh else "region"): rows["region"].to_numpy(),
            ("KOS" if zh else "KOS"): name.to_numpy(),
            (f"排名 ({pct} 区间)" if zh else f"rank ({pct} interval)"): rank,
            (f"综合得分 ({pct} 区间)" if zh else f"composite ({pct} interval)"): composite,
        })
        for layer, (lz, le) in LAYERS.items():
            out[(f"{lz}得分" if zh else f"{le} score")] = rows[f"score_{layer}"].round(digits).to_numpy()
        for m in ("sla_share", "response_minutes_median", "new_member_speak_share", "sales_vs_expected"):
            if m in self.metrics:
                info = self.metrics[m]
                out[info.label_zh if zh else info.label_en] = rows[m].round(2).to_numpy()
        return out.reset_index(drop=True)

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Rank of each KOS in the last period with its bootstrap interval (overlapping intervals are ties)."""
        zh = check_lang(lang) == "zh"
        rows = self.latest().dropna(subset=["rank"]).sort_values(["rank", "kos_id"], ascending=[False, True])
        ax = new_axes(ax, figsize=(7.0, max(3.0, 0.22 * len(rows) + 1.0)))
        y = np.arange(len(rows))
        name = rows["kos_name"].where(rows["kos_name"].notna(), rows["kos_id"])
        multi = rows["region"].nunique() > 1
        labels = [f"{n} ({r})" if multi else str(n) for n, r in zip(name, rows["region"])]
        ax.hlines(y, rows["rank_low"], rows["rank_high"], color="0.6", linewidth=2)
        ax.plot(rows["rank"], y, "o", color="C0")
        ax.set_yticks(y, labels)
        ax.invert_xaxis()
        ax.set_xlabel(f"排名（{self.conf_level:.0%} 区间，1 = 最佳）" if zh
                      else f"rank ({self.conf_level:.0%} interval, 1 = best)")
        period = rows["period"].iloc[0] if len(rows) else ""
        ax.set_title(f"KOS 综合排名 · {period}" if zh else f"KOS composite rank · {period}")
        return ax


def _check_weights(weights: Mapping[str, float] | None, available: dict[str, MetricInfo]) -> dict[str, float]:
    if weights is None:
        chosen = {k: v for k, v in DEFAULT_WEIGHTS.items() if k in available}
    else:
        if not isinstance(weights, Mapping):
            raise KosParameterError(f"weights={weights!r} must be a mapping of metric name to weight, or None")
        unknown = [k for k in weights if k not in available]
        if unknown:
            raise KosParameterError(
                f"weights names {unknown} that are not scorecard metrics; available: {sorted(available)}"
            )
        chosen = {}
        for k, v in weights.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
                raise KosParameterError(f"weights[{k!r}]={v!r} must be a number of at least 0")
            chosen[k] = float(v)
    total = sum(chosen.values())
    if total <= 0:
        raise KosParameterError(f"weights={weights!r} must give at least one metric a weight greater than 0")
    return {k: v / total for k, v in chosen.items() if v > 0}


def scorecard(
    metrics: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    period: str | None = "M",
    conf_level: float = 0.95,
    n_boot: int = 200,
    seed: int = 0,
) -> ScorecardResult:
    """Composite KOS scorecard per period with layer scores and rank intervals.

    Each metric is aggregated over the weeks of the period (shares as pooled
    numerator over pooled denominator), scored as a percentile among the KOS
    of the same region and period (0-100, 100 = best, reversed where lower is
    better), averaged into layer scores and a weighted composite, and ranked.
    Intervals come from a bootstrap over weeks, so KOS whose rank intervals
    overlap are shown as ties rather than ordered by noise.

    Parameters
    ----------
    metrics : DataFrame
        The weekly table of :func:`kos_weekly_metrics` (not modified).
    weights : mapping of str to float, optional
        Metric weights, replacing :data:`DEFAULT_WEIGHTS` (metrics not named
        get weight 0; weights are normalised to sum 1). Use
        ``{**DEFAULT_WEIGHTS, "sla_share": 0.3}`` to change one.
    period : {"M", "Q", "Y", "W", None}, default "M"
        Scoring period (weeks belong to the period of their Monday); None
        scores the whole window.
    conf_level : float, default 0.95
        Level of the composite, rank and mix-ratio intervals.
    n_boot : int, default 200
        Bootstrap replicates.
    seed : int, default 0
        Seed of the bootstrap (``numpy.random.default_rng``).

    Returns
    -------
    ScorecardResult
        ``.table`` (one row per region, KOS and period; columns in
        :class:`ScorecardResult`), ``.summary(lang=)`` (the last period),
        ``.plot(ax=, lang=)`` (rank intervals).

    Raises
    ------
    KosDataError
        ``metrics`` lacks a key or metric column, or has no rows.
    KosParameterError
        Bad ``weights``, ``period``, ``conf_level`` or ``n_boot``.

    See Also
    --------
    kos_weekly_metrics : the weekly input.
    best_practices : KOS credibly above the pool on one share metric.

    Notes
    -----
    *Composite.* :math:`C_k = \\sum_m w_m s_{km} / \\sum_m w_m 1[s_{km}\\text{ known}]`
    over the metrics with a value for KOS :math:`k`, with percentile scores
    :math:`s_{km} = 100 (r_{km} - 0.5) / n_m` from average ranks
    :math:`r_{km}` among the :math:`n_m` KOS with a value. Percentiles make
    metrics on different scales comparable and are robust to the long tails of
    sales and response times; ``weight_covered`` shows how much of the
    weight a KOS's composite rests on (a KOS without groups is scored on the
    other metrics).

    *Customer mix.* ``sales_vs_expected`` is the KOS's customers' sales over
    their expected sales (indirect standardisation by acquisition channel and
    tier; see :func:`kos_weekly_metrics`), an observed / expected ratio like a
    standardised mortality ratio (Breslow & Day 1987).

    *Intervals.* Poisson bootstrap over weeks (Hanley & MacGibbon 2006,
    *Computer Methods and Programs in Biomedicine* 83:57-62): each KOS-week
    gets a Poisson(1) weight per replicate, the whole scoring is repeated,
    and percentile intervals of the composite and of the rank are reported
    (Goldstein & Spiegelhalter 1996, *JRSS A* 159:385-443, on league tables:
    rank intervals are wide, and overlapping intervals are ties). Weeks are
    treated as independent; with strong week-to-week dependence the
    intervals are too narrow. Short periods (a month has four or five weeks)
    give wide intervals by design.

    Examples
    --------
    >>> import kosresearch as kr
    >>> ds = kr.open_dataset("data_samples", regions=["east"])
    >>> card = kr.scorecard(kr.kos_weekly_metrics(ds), period="Q", n_boot=50)
    >>> {"composite", "rank", "rank_low", "rank_high"} <= set(card.table.columns)
    True
    """
    check_conf_level(conf_level)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 10:
        raise KosParameterError(f"n_boot={n_boot!r} must be a whole number of at least 10")
    require_columns(metrics, {k: k for k in _KEYS}, name="metrics")
    available = metric_info(metrics)
    needed = {c for m in available.values() for c in (m.numerator, m.denominator) if c}
    missing = sorted(c for c in needed if c not in metrics.columns)
    if missing:
        raise KosDataError(
            f"metrics lacks columns {missing}; pass the table returned by kos_weekly_metrics(dataset)"
        )
    if len(metrics) == 0:
        raise KosDataError("metrics has no rows; the dataset has no KOS weeks to score")
    w = _check_weights(weights, available)
    labels = period_labels(metrics["week"], period)

    data = metrics.reset_index(drop=True)
    cells = pd.DataFrame({"region": data["region"], "kos_id": data["kos_id"], "period": labels})
    codes, uniques = pd.MultiIndex.from_frame(cells).factorize()
    uniques = pd.DataFrame(list(uniques), columns=list(cells.columns))
    grouper = Grouper(np.asarray(codes), len(uniques))
    blocks = pd.MultiIndex.from_frame(uniques[["region", "period"]]).factorize()[0]
    codes = np.asarray(codes)

    rng = np.random.default_rng(seed)
    n = len(data)
    W = np.concatenate([np.ones((n, 1)), rng.poisson(1.0, size=(n, n_boot)).astype(float)], axis=1)
    values = {m: aggregate(data, info, grouper, W) for m, info in available.items()}
    scores = {m: block_scores(values[m], blocks, higher_is_better=available[m].higher_is_better) for m in w}

    def weighted(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        num = np.zeros_like(W[: len(uniques)])
        den = np.zeros_like(num)
        for m in names:
            s = scores[m]
            known = ~np.isnan(s)
            num += w[m] * np.where(known, s, 0.0)
            den += w[m] * known
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, np.nan), den

    composite, covered = weighted(list(w))
    ranks = block_ranks(composite, blocks)
    tail = (1.0 - conf_level) / 2.0

    def interval(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = row_quantiles(x[:, 1:], (tail, 1.0 - tail), min_valid=max(10, n_boot // 2))
        return lo, hi

    first = data.groupby(codes, sort=True)[["kos_name", "store_id"]].first().reset_index(drop=True)
    table = uniques.copy()
    table.insert(2, "kos_name", first["kos_name"].to_numpy())
    table.insert(3, "store_id", first["store_id"].to_numpy())
    table["n_weeks"] = np.bincount(codes, minlength=len(uniques))
    for m in available:
        table[m] = values[m][:, 0]
    for m in w:
        table[f"score_{m}"] = scores[m][:, 0]
    for layer in LAYERS:
        names = [m for m in w if available[m].layer == layer]
        table[f"score_{layer}"] = weighted(names)[0][:, 0] if names else np.nan
    table["composite"] = composite[:, 0]
    table["conf_low"], table["conf_high"] = interval(composite)
    table["weight_covered"] = covered[:, 0]
    table["rank"] = ranks[:, 0]
    lo, hi = interval(ranks)
    table["rank_low"] = np.floor(lo)
    table["rank_high"] = np.ceil(hi)
    table["n_kos"] = pd.Series(composite[:, 0]).notna().groupby(blocks).transform("sum").to_numpy()
    if "sales_vs_expected" in values:
        table["sales_vs_expected_low"], table["sales_vs_expected_high"] = interval(values["sales_vs_expected"])
    table = table.sort_values(["region", "period", "rank", "kos_id"], na_position="last").reset_index(drop=True)
    shown = {m: available[m] for m in available}
    return ScorecardResult(table=table, conf_level=conf_level, period=period, weights=w, metrics=shown,
                           n_boot=n_boot)
