"""Turn a period column (labels, pandas Periods, integers, month starts) into consecutive integers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from kosresearch.errors import KosDataError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def period_ordinals(values: pd.Series, *, arg: str = "period_col", col: str = "period") -> np.ndarray:
    """Integer index of each period, so that consecutive periods differ by exactly 1.

    Accepts integers, pandas ``Period`` values, the labels of
    :func:`customer_features` (``"2024-03"``, ``"2024-Q1"``, ``"2024-W09"``)
    or other strings pandas reads as periods, and timestamps that are all
    first days of months (read as months).
    """
    s = pd.Series(values)
    if s.isna().any():
        bad = s[s.isna()]
        raise KosDataError(f"{arg}={col!r} has {len(bad)} missing values (first at row {bad.index[0]!r}); every row needs a period")
    if pd.api.types.is_integer_dtype(s):
        return s.to_numpy(dtype=np.int64)
    if isinstance(s.dtype, pd.PeriodDtype):
        return s.array.asi8.astype(np.int64)
    if pd.api.types.is_datetime64_any_dtype(s):
        ts = pd.DatetimeIndex(s)
        if not ((ts.day == 1) & (ts.normalize() == ts)).all():
            raise KosDataError(
                f"{arg}={col!r} holds timestamps that are not all first days of a month; give period labels "
                "('2024-03'), pandas Periods or integers so that 'one period apart' is well defined"
            )
        return (ts.year * 12 + ts.month - 1).to_numpy(dtype=np.int64)
    text = s.astype(str)
    uniq = pd.unique(text)
    mapping = {u: _one(u, arg, col) for u in uniq}
    kinds = {k for k, _ in mapping.values()}
    if len(kinds) > 1:
        raise KosDataError(f"{arg}={col!r} mixes period kinds {sorted(kinds)} (e.g. months and weeks)")
    return text.map({u: v for u, (_, v) in mapping.items()}).to_numpy(dtype=np.int64)


def _one(label: str, arg: str, col: str) -> tuple[str, int]:
    m = _MONTH.match(label)
    if m:
        return "M", int(m.group(1)) * 12 + int(m.group(2)) - 1
    m = _QUARTER.match(label)
    if m:
        return "Q", int(m.group(1)) * 4 + int(m.group(2)) - 1
    m = _WEEK.match(label)
    if m:
        monday = pd.Timestamp.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        return "W", int((monday - pd.Timestamp("1970-01-05")).days // 7)
    try:
        p = pd.Period(label)
    except (ValueError, TypeError):
        raise KosDataError(
            f"{arg}={col!r} has the value {label!r}, which is not a period label such as '2024-03', '2024-Q1' or '2024-W09'"
        ) from None
    return str(p.freqstr), int(p.ordinal)
