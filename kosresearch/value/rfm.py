"""Recency-frequency-monetary summaries of order histories, as the BTYD models read them.

A customer's first purchase starts the clock: ``frequency`` counts the
*repeat* purchase occasions, ``recency`` is the time of the last one since the
first purchase, ``T`` the time from the first purchase to the end of
observation, and ``monetary_value`` the mean value of the repeat purchases
(Fader, Hardie & Lee 2005a, b; Fader & Hardie 2013).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from kosresearch._validation import check_choice, require_columns
from kosresearch.errors import KosDataError, KosParameterError

__all__ = ["rfm_summary", "calibration_holdout", "TIME_UNIT_DAYS", "TimeUnit"]

TimeUnit = Literal["D", "W", "M"]
#: length of each time unit in days (a month is a twelfth of a Julian year)
TIME_UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0}

_NS_PER_DAY = 86_400 * 10**9


def _check_time_unit(time_unit: str, name: str = "time_unit") -> float:
    check_choice(name, time_unit, TIME_UNIT_DAYS)
    return TIME_UNIT_DAYS[time_unit]


def _as_timestamp(value, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise KosParameterError(f"{name}={value!r} is not a date or timestamp, e.g. '2025-12-29'") from None
    if ts is pd.NaT:
        raise KosParameterError(f"{name}={value!r} is not a date or timestamp, e.g. '2025-12-29'")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts


def _ns(ts: pd.Timestamp) -> int:
    return int(ts.value)


def _occasions(
    orders: pd.DataFrame,
    *,
    customer_col: str,
    time_col: str,
    value_col: str,
    merge_same_day: bool,
) -> pd.DataFrame:
    """Purchase occasions ``customer, t_ns, value`` (one per customer-day, or per customer-timestamp).

    Validates the columns; never mutates ``orders``.
    """
    require_columns(orders, {"customer_col": customer_col, "time_col": time_col, "value_col": value_col},
                    numeric=["value_col"], name="orders")
    cust = orders[customer_col]
    times = orders[time_col]
    if not pd.api.types.is_datetime64_any_dtype(times):
        converted = pd.to_datetime(times, errors="coerce")
        bad = times[converted.isna() & times.notna()]
        if len(bad):
            raise KosDataError(
                f"time_col={time_col!r} must hold timestamps; {len(bad)} values are not "
                f"(first bad value: {bad.iloc[0]!r} at row {bad.index[0]!r})"
            )
        times = converted
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_localize(None)
    values = orders[value_col].astype(float)
    for label, series, col in (("customer_col", cust, customer_col), ("time_col", times, time_col),
                               ("value_col", values, value_col)):
        missing = series.isna()
        if missing.any():
            raise KosDataError(
                f"{label}={col!r} has {int(missing.sum())} missing values (first at row {series.index[missing][0]!r}); "
                "every order needs a customer, a time and a value"
            )
    negative = values < 0
    if negative.any():
        raise KosDataError(
            f"value_col={value_col!r} has {int(negative.sum())} negative values (first: {values[negative].iloc[0]!r} "
            f"at row {values.index[negative][0]!r}); net out returns before summarising"
        )
    t_ns = times.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if merge_same_day:
        t_ns = (t_ns // _NS_PER_DAY) * _NS_PER_DAY
    frame = pd.DataFrame({"customer": cust.to_numpy(), "t_ns": t_ns, "value": values.to_numpy()})
    return frame.groupby(["customer", "t_ns"], sort=True, as_index=False, observed=True)["value"].sum()


def _summarise(occ: pd.DataFrame, *, end_ns: int, unit_days: float) -> pd.DataFrame:
    """Per-customer RFM from sorted occasions ``customer, t_ns, value`` before ``end_ns``."""
    occ = occ[occ["t_ns"] < end_ns]
    cust = occ["customer"].to_numpy()
    t = occ["t_ns"].to_numpy()
    v = occ["value"].to_numpy(dtype=float)
    if cust.size == 0:
        return pd.DataFrame({"customer": pd.Series([], dtype=object), "frequency": np.zeros(0, np.int64),
                             "recency": np.zeros(0), "T": np.zeros(0), "monetary_value": np.zeros(0),
                             "first_purchase_at": pd.to_datetime(np.zeros(0, np.int64)), "first_value": np.zeros(0)})
    new = np.r_[True, cust[1:] != cust[:-1]]
    start = np.flatnonzero(new)
    last = np.r_[start[1:] - 1, cust.size - 1]
    count = last - start + 1
    total = np.add.reduceat(v, start)
    unit_ns = unit_days * _NS_PER_DAY
    freq = count - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(freq > 0, (total - v[start]) / np.maximum(freq, 1), 0.0)
    return pd.DataFrame({
        "customer": cust[start],
        "frequency": freq.astype(np.int64),
        "recency": (t[last] - t[start]) / unit_ns,
        "T": (end_ns - t[start]) / unit_ns,
        "monetary_value": monetary,
        "first_purchase_at": pd.to_datetime(t[start]),
        "first_value": v[start],
    })


def _default_end(occ: pd.DataFrame) -> pd.Timestamp:
    """Midnight after the day of the latest occasion."""
    if occ.empty:
        raise KosDataError("orders has no rows; nothing to summarise")
    last = int(occ["t_ns"].max())
    return pd.Timestamp((last // _NS_PER_DAY + 1) * _NS_PER_DAY)


def rfm_summary(
    orders: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    time_col: str = "ordered_at",
    value_col: str = "amount",
    observation_end=None,
    time_unit: TimeUnit = "W",
    merge_same_day: bool = True,
) -> pd.DataFrame:
    """Per-customer frequency, recency, age and mean repeat value, as in the BTYD literature.

    Parameters
    ----------
    orders : DataFrame
        One row per order (the ``orders`` table of the data contract, or any
        frame with a customer, a timestamp and a value column).
    customer_col, time_col, value_col : str
        Columns holding the customer id, the order time and the order value.
    observation_end : date-like, optional
        End of observation (exclusive). Orders at or after it are ignored.
        Default: midnight after the day of the latest order.
    time_unit : {"D", "W", "M"}
        Unit of ``recency`` and ``T``: days, weeks, or months of 365.25/12 days.
    merge_same_day : bool
        If True (default, the BTYD convention of Fader & Hardie), orders of one
        customer on the same calendar day are one purchase occasion (values
        summed) and times are whole days. If False, every distinct order time
        is an occasion and times are exact.

    Returns
    -------
    DataFrame
        One row per customer with a first purchase before ``observation_end``,
        sorted by customer, with columns:

        - ``<customer_col>``: the customer id;
        - ``frequency``: number of repeat purchase occasions (int);
        - ``recency``: time of the last purchase since the first, in ``time_unit``
          (0 without repeat purchases);
        - ``T``: time from the first purchase to ``observation_end``;
        - ``monetary_value``: mean value of the repeat occasions (0 without
          repeat purchases, as in the BTYD packages; the first purchase is
          left out because its value follows other rules);
        - ``first_purchase_at``: time of the first purchase (midnight of its
          day when ``merge_same_day``);
        - ``first_value``: value of the first purchase occasion.

        ``attrs`` records ``time_unit`` and ``observation_end`` (ISO text, so
        the frame stays serialisable).

    Raises
    ------
    KosDataError
        A column is missing, not numeric / not timestamps, has missing or
        negative values, or no order lies before ``observation_end``.
    KosParameterError
        ``time_unit`` or ``observation_end`` is not valid.

    See Also
    --------
    calibration_holdout : the same summary split into calibration and holdout periods.
    BetaGeo, GammaGamma : the models fitted on this summary.

    Notes
    -----
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your
    customers" the easy way: An alternative to the Pareto/NBD model.
    *Marketing Science* 24(2), 275-284. Fader, P. S. & Hardie, B. G. S.
    (2013). The Gamma-Gamma model of monetary value.
    http://brucehardie.com/notes/025/.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "ordered_at": pd.to_datetime(["2025-01-06 10:00", "2025-01-20 18:00", "2025-02-03 09:00", "2025-01-13 12:00"]),
    ...     "amount": [100.0, 50.0, 70.0, 30.0]})
    >>> rfm_summary(orders, observation_end="2025-03-03")[["customer_id", "frequency", "recency", "T", "monetary_value"]]
      customer_id  frequency  recency    T  monetary_value
    0           a          2      4.0  8.0            60.0
    1           b          0      0.0  7.0             0.0
    """
    unit_days = _check_time_unit(time_unit)
    occ = _occasions(orders, customer_col=customer_col, time_col=time_col, value_col=value_col,
                     merge_same_day=merge_same_day)
    end = _default_end(occ) if observation_end is None else _as_timestamp(observation_end, "observation_end")
    out = _summarise(occ, end_ns=_ns(end), unit_days=unit_days)
    if out.empty:
        raise KosDataError(f"no order lies before observation_end={str(end)!r}; nothing to summarise")
    out = out.rename(columns={"customer": customer_col})
    out.attrs.update({"time_unit": time_unit, "observation_end": end.isoformat()})
    return out


def calibration_holdout(
    orders: pd.DataFrame,
    *,
    calibration_end,
    observation_end=None,
    customer_col: str = "customer_id",
    time_col: str = "ordered_at",
    value_col: str = "amount",
    time_unit: TimeUnit = "W",
    merge_same_day: bool = True,
) -> pd.DataFrame:
    """RFM summary of a calibration period and the repeat purchases of the following holdout period.

    Parameters
    ----------
    orders : DataFrame
        One row per order.
    calibration_end : date-like
        End of the calibration period (exclusive) and start of the holdout.
    observation_end : date-like, optional
        End of the holdout (exclusive); default midnight after the latest order.
    customer_col, time_col, value_col, time_unit, merge_same_day
        As in :func:`rfm_summary`.

    Returns
    -------
    DataFrame
        The :func:`rfm_summary` columns of the calibration period (customers
        whose first purchase precedes ``calibration_end``), plus

        - ``frequency_holdout``: purchase occasions in the holdout;
        - ``monetary_value_holdout``: their mean value (0 if none);
        - ``duration_holdout``: length of the holdout in ``time_unit``.

    Raises
    ------
    KosParameterError
        ``calibration_end`` does not precede ``observation_end``.
    KosDataError
        As in :func:`rfm_summary`.

    See Also
    --------
    holdout_check : fits BG/NBD on the calibration period and compares predictions with the holdout.
    """
    unit_days = _check_time_unit(time_unit)
    cal_end = _as_timestamp(calibration_end, "calibration_end")
    occ = _occasions(orders, customer_col=customer_col, time_col=time_col, value_col=value_col,
                     merge_same_day=merge_same_day)
    end = _default_end(occ) if observation_end is None else _as_timestamp(observation_end, "observation_end")
    if not cal_end < end:
        raise KosParameterError(
            f"calibration_end={str(cal_end)!r} must precede observation_end={str(end)!r}"
        )
    cal = _summarise(occ, end_ns=_ns(cal_end), unit_days=unit_days)
    if cal.empty:
        raise KosDataError(f"no order lies before calibration_end={str(cal_end)!r}; nothing to calibrate on")
    hold = occ[(occ["t_ns"] >= _ns(cal_end)) & (occ["t_ns"] < _ns(end))]
    agg = hold.groupby("customer", sort=False)["value"].agg(["size", "mean"])
    cal["frequency_holdout"] = cal["customer"].map(agg["size"]).fillna(0).astype(np.int64).to_numpy()
    cal["monetary_value_holdout"] = cal["customer"].map(agg["mean"]).fillna(0.0).to_numpy()
    cal["duration_holdout"] = (end - cal_end) / pd.Timedelta(days=unit_days)
    cal = cal.rename(columns={"customer": customer_col})
    cal.attrs.update({"time_unit": time_unit, "calibration_end": cal_end.isoformat(),
                      "observation_end": end.isoformat()})
    return cal
