"""Argument checks shared by every public function: fail early and name the culprit.

Messages give the argument, the value, what was expected and what was found,
e.g. ``outcome_col='revenue' is not a column of data. Available: [...]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from kosresearch.errors import KosDataError, KosParameterError

__all__ = ["require_columns", "check_choice", "check_conf_level", "check_positive", "check_panel_unique", "check_instant"]


def require_columns(
    data: pd.DataFrame,
    columns: Mapping[str, str | None],
    *,
    numeric: Iterable[str] = (),
    name: str = "data",
) -> None:
    """Check that each ``{argument: column}`` names a column of ``data``.

    ``numeric`` lists the arguments whose column must be numeric. ``None``
    values (optional arguments not given) are skipped.
    """
    if not isinstance(data, pd.DataFrame):
        raise KosParameterError(f"{name} must be a pandas DataFrame; got {type(data).__name__}")
    available = list(data.columns)
    for arg, col in columns.items():
        if col is None:
            continue
        if col not in data.columns:
            shown = available if len(available) <= 20 else available[:20] + ["..."]
            raise KosDataError(f"{arg}={col!r} is not a column of {name}. Available: {shown}")
    for arg in numeric:
        col = columns.get(arg)
        if col is None:
            continue
        series = data[col]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            coerced = pd.to_numeric(series, errors="coerce")
            bad = series[coerced.isna() & series.notna()]
            example = f" (first bad value: {bad.iloc[0]!r} at row {bad.index[0]!r})" if len(bad) else ""
            raise KosDataError(f"{arg}={col!r} must be numeric; got dtype {series.dtype}{example}")


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> None:
    """Refuse ``value`` unless it is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise KosParameterError(f"{name}={value!r} is not allowed; choose one of {allowed}")


def check_conf_level(conf_level: float) -> None:
    """``conf_level`` must lie strictly between 0 and 1 (e.g. 0.95)."""
    try:
        ok = 0.0 < float(conf_level) < 1.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise KosParameterError(f"conf_level={conf_level!r} must be a number strictly between 0 and 1, e.g. 0.95")


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    """Refuse a non-positive (or negative, with ``allow_zero``) number."""
    try:
        ok = float(value) >= 0 if allow_zero else float(value) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        bound = "at least 0" if allow_zero else "greater than 0"
        raise KosParameterError(f"{name}={value!r} must be a number {bound}")


def check_panel_unique(data: pd.DataFrame, keys: list[str], *, name: str = "data") -> None:
    """Refuse duplicate rows of ``keys`` (e.g. two rows for one store and week)."""
    dup = data.duplicated(keys, keep=False)
    if dup.any():
        examples = data.loc[dup, keys].drop_duplicates().head(5).to_dict("records")
        raise KosDataError(
            f"{name} has {int(dup.sum())} rows that repeat the key {keys}; each key must appear once "
            f"(examples: {examples})"
        )


def check_instant(name: str, value: Any) -> pd.Timestamp | None:
    """``value`` as a business-local Timestamp (None stays None).

    Raises
    ------
    KosParameterError
        ``value`` is not a date or time, or carries a time zone.
    """
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise KosParameterError(f"{name}={value!r} is not a date or period, e.g. '2024-01'") from None
    if ts.tzinfo is not None:
        raise KosParameterError(f"{name}={value!r} must be a business-local time without a time zone")
    return ts
