"""Aggregation of weekly KOS rows to periods, for point estimates and bootstrap replicates at once.

Every function takes ``W``, a ``(rows, B)`` matrix of week weights (ones for
the point estimate, Poisson(1) draws for the bootstrap), and returns a
``(groups, B)`` matrix, so that B replicates cost a few sparse matrix
products instead of a Python loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kosresearch.errors import KosParameterError
from kosresearch.scorecard.metrics import MetricInfo

PERIODS = ("W", "M", "Q", "Y", None)


def period_labels(weeks: pd.Series, period: str | None) -> pd.Series:
    """Label of the period each week (by its Monday) belongs to: ``2025-03``, ``2025Q1``, ``2025`` or ``all``."""
    if period not in PERIODS:
        raise KosParameterError(f"period={period!r} is not allowed; choose one of {list(PERIODS)}")
    if period is None:
        return pd.Series("all", index=weeks.index, dtype="str")
    return pd.Series(pd.to_datetime(weeks).dt.to_period(period).astype(str), index=weeks.index, dtype="str")


class Grouper:
    """Rows of a weekly table grouped into (region, KOS, period) cells."""

    def __init__(self, codes: np.ndarray, n_groups: int) -> None:
        from scipy import sparse

        self.codes = codes
        self.n_groups = n_groups
        n = codes.size
        self.G = sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_groups, n))

    def sum(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.G @ X)

    def weighted_median(self, values: np.ndarray, w: np.ndarray, W: np.ndarray) -> np.ndarray:
        """Weighted median of ``values`` (NaN ignored) per group, weights ``w * W`` (lower weighted median)."""
        ok = ~np.isnan(values) & (w > 0)
        idx = np.flatnonzero(ok)
        out = np.full((self.n_groups, W.shape[1]), np.nan)
        if idx.size == 0:
            return out
        order = idx[np.lexsort((values[idx], self.codes[idx]))]
        codes = self.codes[order]
        vals = values[order]
        weights = W[order] * w[order, None]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        groups = codes[starts]
        cum = np.cumsum(weights, axis=0)
        before = np.vstack([np.zeros((1, W.shape[1])), cum])[starts]  # cumulative weight before each group
        total = np.add.reduceat(weights, starts, axis=0)
        within = cum - np.repeat(before, np.diff(np.r_[starts, codes.size]), axis=0)
        half = np.repeat(total / 2.0, np.diff(np.r_[starts, codes.size]), axis=0)
        below = np.add.reduceat((within < half).astype(np.int64), starts, axis=0)
        size = np.diff(np.r_[starts, codes.size])
        pos = np.minimum(below, size[:, None] - 1) + starts[:, None]
        med = vals[pos]
        med[total <= 0] = np.nan
        out[groups] = med
        return out


def _column(metrics: pd.DataFrame, name: str | None) -> np.ndarray | None:
    if name is None:
        return None
    return pd.to_numeric(metrics[name], errors="coerce").astype("float64").to_numpy()


def aggregate(metrics: pd.DataFrame, info: MetricInfo, grouper: Grouper, W: np.ndarray) -> np.ndarray:
    """Period value of one metric per group and replicate (``(groups, B)``)."""
    num = _column(metrics, info.numerator)
    den = _column(metrics, info.denominator)
    if info.kind in ("share", "rate"):
        n = grouper.sum(np.nan_to_num(num)[:, None] * W)
        d = grouper.sum(np.nan_to_num(den)[:, None] * W)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(d > 0, n / d, np.nan)
        has = grouper.sum((~np.isnan(den)).astype(float)[:, None]) > 0
        return np.where(has, out, np.nan)
    if info.kind == "total":
        seen = ~np.isnan(num)
        n = grouper.sum(np.nan_to_num(num)[:, None] * W)
        weeks = grouper.sum(seen.astype(float)[:, None] * W)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(weeks > 0, n / weeks, np.nan)
    if info.kind == "mean":
        seen = ~np.isnan(num)
        w = np.where(seen, 1.0 if den is None else np.nan_to_num(den), 0.0)
        n = grouper.sum((np.nan_to_num(num) * w)[:, None] * W)
        d = grouper.sum(w[:, None] * W)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(d > 0, n / d, np.nan)
    if info.kind == "median":
        w = np.ones_like(num) if den is None else np.nan_to_num(den)
        return grouper.weighted_median(num, w, W)
    raise ValueError(f"unknown metric kind {info.kind!r}")  # pragma: no cover - programming error


def _block_rank(values: np.ndarray, blocks: np.ndarray, *, method: str, ascending: bool) -> tuple[np.ndarray, np.ndarray]:
    """Ranks of each column's values within blocks (NaN stays NaN) and the count of values per block.

    Vectorised over columns: the values are mapped to ``block + u`` with
    ``u`` in [0, 0.5] increasing (or decreasing) in the value, ranked once per
    column, and shifted by the number of values in earlier blocks.
    """
    from scipy.stats import rankdata

    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    blocks = np.asarray(blocks)
    with np.errstate(invalid="ignore"):
        lo = np.nanmin(np.where(np.isnan(v), np.inf, v), axis=0)
        hi = np.nanmax(np.where(np.isnan(v), -np.inf, v), axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        u = 0.5 * (v - lo) / span
    if not ascending:
        u = 0.5 - u
    key = blocks[:, None] + u
    ranks = rankdata(key, method=method, axis=0, nan_policy="omit")
    n_blocks = int(blocks.max()) + 1 if blocks.size else 0
    known = ~np.isnan(v)
    counts = np.zeros((n_blocks, v.shape[1]))
    np.add.at(counts, blocks, known.astype(float))
    before = np.cumsum(counts, axis=0) - counts
    return ranks - before[blocks], counts[blocks]


def block_scores(values: np.ndarray, blocks: np.ndarray, *, higher_is_better: bool) -> np.ndarray:
    """Percentile score 0-100 of each group within its block (region x period), per replicate column.

    ``score = 100 (rank - 0.5) / n`` with average ranks among the block's
    non-missing values, reversed when lower is better; a block of one scores 50.
    """
    rank, count = _block_rank(values, blocks, method="average", ascending=higher_is_better)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * (rank - 0.5) / count


def block_ranks(values: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """Rank (1 = highest value) within each block per column; ties share the best rank."""
    return _block_rank(values, blocks, method="min", ascending=False)[0]


def row_quantiles(x: np.ndarray, qs: tuple[float, ...], *, min_valid: int = 1) -> list[np.ndarray]:
    """Quantiles (linear interpolation, NaN ignored) of every row of ``x``; NaN where fewer than ``min_valid`` values."""
    srt = np.sort(x, axis=1)  # NaN sort last
    n = (~np.isnan(x)).sum(axis=1)
    rows = np.arange(x.shape[0])
    out = []
    for q in qs:
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        frac = pos - lo
        val = srt[rows, lo] * (1 - frac) + srt[rows, hi] * frac
        out.append(np.where(n >= max(min_valid, 1), val, np.nan))
    return out
