"""Shared parsing of aggregated path tables (``path, conversions, nulls[, value]``).

Paths are collapsed to unique channel sequences once; every estimator then
works on integer-coded arrays, so a table of a million journeys costs the
time of its few thousand distinct paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kosresearch._validation import require_columns
from kosresearch.errors import KosDataError, KosParameterError


@dataclass(frozen=True)
class PathTable:
    """Unique paths, integer coded.

    Attributes
    ----------
    channels : list of str
        Channel names (stripped), sorted.
    codes : ndarray of int
        Channel code of every touch, paths concatenated.
    offsets : ndarray of int
        ``codes[offsets[p]:offsets[p + 1]]`` are the touches of path ``p``.
    conversions, nulls, value : ndarray of float
        Totals per unique path (``value`` zeros when not given).
    """

    channels: list[str]
    codes: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    value: np.ndarray

    @property
    def n_paths(self) -> int:
        return len(self.conversions)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def path_of_touch(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_paths), self.lengths)

    @property
    def position(self) -> np.ndarray:
        """0-based position of each touch inside its path."""
        return np.arange(self.codes.size) - np.repeat(self.offsets[:-1], self.lengths)


def parse_paths(
    journeys: pd.DataFrame,
    *,
    path_col: str,
    conversions_col: str,
    nulls_col: str | None,
    value_col: str | None,
    sep: str,
) -> PathTable:
    """Validate an aggregated path table and collapse it to unique, integer-coded paths."""
    if not isinstance(sep, str) or not sep:
        raise KosParameterError(f"sep={sep!r} must be a non-empty string such as '>'")
    cols = {"path_col": path_col, "conversions_col": conversions_col, "nulls_col": nulls_col, "value_col": value_col}
    require_columns(journeys, cols, numeric=["conversions_col", "nulls_col", "value_col"], name="journeys")
    if len(journeys) == 0:
        raise KosDataError("journeys has no rows; build it with build_journeys(touchpoints, orders)")
    paths = journeys[path_col]
    if paths.isna().any():
        bad = journeys.index[paths.isna()][:3].tolist()
        raise KosDataError(f"path_col={path_col!r} has {int(paths.isna().sum())} missing paths (rows {bad})")
    conv = journeys[conversions_col].to_numpy(dtype=float)
    nul = journeys[nulls_col].to_numpy(dtype=float) if nulls_col is not None else np.zeros(len(journeys))
    val = journeys[value_col].to_numpy(dtype=float) if value_col is not None else np.zeros(len(journeys))
    for arg, col, arr in (("conversions_col", conversions_col, conv), ("nulls_col", nulls_col, nul), ("value_col", value_col, val)):
        bad = ~np.isfinite(arr) | (arr < 0)
        if col is not None and bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise KosDataError(
                f"{arg}={col!r} must hold finite non-negative numbers; {int(bad.sum())} rows do not "
                f"(first: {arr[i]!r} at row {journeys.index[i]!r})"
            )
    # collapse identical path strings first (cheap hashing), then normalise the few unique ones
    codes_raw, uniq = pd.factorize(paths.astype(str), sort=False)
    n_u = len(uniq)
    conv_u = np.bincount(codes_raw, conv, minlength=n_u)
    nul_u = np.bincount(codes_raw, nul, minlength=n_u)
    val_u = np.bincount(codes_raw, val, minlength=n_u)
    split = [tuple(c.strip() for c in p.split(sep)) for p in uniq]
    for p, touches in zip(uniq, split):
        if any(c == "" for c in touches):
            raise KosDataError(
                f"path_col={path_col!r} has a path with an empty channel: {p!r} (separator sep={sep!r})"
            )
    # the same path may be spelled with different spaces: merge after stripping
    keys, inverse = np.unique(np.array([sep.join(t) for t in split], dtype=object), return_inverse=True)
    n_k = len(keys)
    conv_k = np.bincount(inverse, conv_u, minlength=n_k)
    nul_k = np.bincount(inverse, nul_u, minlength=n_k)
    val_k = np.bincount(inverse, val_u, minlength=n_k)
    first = np.full(n_k, -1)
    first[inverse[::-1]] = np.arange(n_u)[::-1]
    touches = [split[i] for i in first]
    channels = sorted({c for t in touches for c in t})
    index = {c: i for i, c in enumerate(channels)}
    lengths = np.fromiter((len(t) for t in touches), dtype=np.int64, count=n_k)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    codes = np.fromiter((index[c] for t in touches for c in t), dtype=np.int64, count=int(offsets[-1]))
    keep = (conv_k + nul_k) > 0
    if not keep.any():
        raise KosDataError(f"journeys has no conversions and no nulls (columns {conversions_col!r}, {nulls_col!r})")
    if not keep.all():
        sel = np.flatnonzero(keep)
        codes = np.concatenate([codes[offsets[p]:offsets[p + 1]] for p in sel])
        lengths = lengths[sel]
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        conv_k, nul_k, val_k = conv_k[sel], nul_k[sel], val_k[sel]
        used = np.unique(codes)
        remap = np.full(len(channels), -1)
        remap[used] = np.arange(used.size)
        channels = [channels[i] for i in used]
        codes = remap[codes]
    return PathTable(channels, codes, offsets, conv_k, nul_k, val_k)


def bootstrap_counts(pt: PathTable, rng: np.random.Generator, n_boot: int):
    """Yield ``(conversions, nulls)`` per unique path for each bootstrap replicate over journeys.

    Journeys (conversions and nulls alike) are resampled with replacement:
    the counts of the ``2 × n_paths`` cells are multinomial with the observed
    total. Non-integer counts (weighted tables) are rounded for the draw.
    """
    cells = np.concatenate([pt.conversions, pt.nulls])
    total = int(round(cells.sum()))
    probs = cells / cells.sum()
    n = pt.n_paths
    for _ in range(n_boot):
        draw = rng.multinomial(total, probs).astype(float)
        yield draw[:n], draw[n:]
