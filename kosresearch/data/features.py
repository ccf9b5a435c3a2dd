"""The per-customer-period activity query: the sparse core of every customer feature.

:func:`customer_month_activity` aggregates the event tables (orders,
messages, touchpoints, feedback) to one row per customer and period *with
activity*, in a single DuckDB pass. It is the out-of-core building block for
large sources: 50 M events reduce to a few million rows that pandas can hold.
:func:`kosresearch.customer_features` builds the dense, cumulative panel that
the tier analysis needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pandas as pd

from kosresearch._validation import check_choice
from kosresearch.data._source import sql_string
from kosresearch.errors import KosParameterError

if TYPE_CHECKING:  # pragma: no cover
    from kosresearch.data.loader import Dataset

__all__ = ["customer_month_activity", "ACTIVITY_COLUMNS"]

#: output columns and their meaning
ACTIVITY_COLUMNS: dict[str, str] = {
    "customer_id": "customer",
    "region": "region",
    "period_start": "first instant of the period",
    "orders": "orders in the period",
    "spend": "order amounts in the period (CNY)",
    "messages_to_kos": "private messages the customer sent to an advisor",
    "kos_messages": "private messages advisors sent to the customer",
    "group_messages": "messages the customer posted in advisor groups",
    "touchpoints": "touchpoints of the customer's journeys",
    "feedback": "feedback items the customer gave",
}

_UNITS = {"M": "month", "W": "week", "Q": "quarter"}


def customer_month_activity(
    dataset: "Dataset",
    *,
    period: Literal["M", "W", "Q"] = "M",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Activity per customer and period, for periods with at least one event.

    Parameters
    ----------
    dataset : kosresearch.Dataset
        Needs ``orders``; ``messages``, ``touchpoints`` and ``feedback`` are
        counted when present (zero otherwise).
    period : {"M", "W", "Q"}, default "M"
        Calendar month, ISO week (Monday start) or quarter.
    start, end : str or Timestamp, optional
        Keep events with ``start <= time < end``.

    Returns
    -------
    DataFrame
        Columns of :data:`ACTIVITY_COLUMNS`, one row per customer and period
        with any activity, in no particular order (sorting millions of rows
        costs more than the aggregation; sort the part you look at).

    Raises
    ------
    KosParameterError
        Unknown ``period``, or ``start`` not before ``end``.
    KosDataError
        The dataset has no ``orders`` table.

    See Also
    --------
    kosresearch.customer_features : the dense customer × period panel with cumulative features.

    Notes
    -----
    The events of all tables are stacked and aggregated by (customer,
    region, period) in one hash aggregation, which DuckDB parallelises and
    spills to disk when memory is short. With one region requested, the
    region is a constant rather than a grouping key.
    Group messages are those with ``channel = 'group'``; advisor posts to a
    whole group (no customer) are not customer activity and are left out.

    Examples
    --------
    >>> import kosresearch as kr
    >>> ds = kr.open_dataset("data_samples", regions=["east"], validate=False)
    >>> a = kr.customer_month_activity(ds, start="2024-01-01", end="2024-02-01")
    >>> sorted(a["period_start"].dt.strftime("%Y-%m").unique())
    ['2024-01']
    """
    check_choice("period", period, list(_UNITS))
    dataset.require("orders")
    lo = None if start is None else pd.Timestamp(start)
    hi = None if end is None else pd.Timestamp(end)
    if lo is not None and hi is not None and not lo < hi:
        raise KosParameterError(f"start={start!r} must be before end={end!r}")
    unit = _UNITS[period]

    def when(col: str) -> str:
        conds = ([f"{col} >= $lo"] if lo is not None else []) + ([f"{col} < $hi"] if hi is not None else [])
        return " AND ".join(conds) or "TRUE"

    # One region requested: region is a constant, not a grouping key (hashing it costs ~15 %).
    one = dataset.requested_regions
    region = "region" if one is None or len(one) != 1 else sql_string(one[0])
    # Every event becomes one row (customer, region, period, kind, amount), stacked, and
    # one hash aggregation counts the kinds: measured ~20 % faster than aggregating each
    # table and joining or regrouping the partial results, whose string keys are hashed twice.
    kinds = {"orders": 0, "messages_to_kos": 1, "kos_messages": 2, "group_messages": 3, "touchpoints": 4,
             "feedback": 5}
    stacked = [f"SELECT customer_id, {region} AS region, date_trunc('{unit}', ordered_at) AS p, 0 AS k, amount "
               f"FROM orders WHERE {when('ordered_at')}"]
    if dataset.has("messages"):
        stacked.append(
            f"SELECT customer_id, {region}, date_trunc('{unit}', ts), CASE "
            "WHEN channel = 'private' AND sender = 'customer' THEN 1 WHEN channel = 'private' AND sender = 'kos' THEN 2 "
            "WHEN channel = 'group' AND sender = 'customer' THEN 3 ELSE -1 END, NULL "
            f"FROM messages WHERE customer_id IS NOT NULL AND {when('ts')}")
    if dataset.has("touchpoints"):
        stacked.append(f"SELECT customer_id, {region}, date_trunc('{unit}', ts), 4, NULL FROM touchpoints WHERE {when('ts')}")
    if dataset.has("feedback"):
        stacked.append(f"SELECT customer_id, {region}, date_trunc('{unit}', created_at), 5, NULL "
                       f"FROM feedback WHERE {when('created_at')}")
    totals = [f"count(*) FILTER (WHERE k = {k}) AS {c}" for c, k in kinds.items()]
    totals.insert(1, "coalesce(sum(amount), 0.0) AS spend")
    query = (f"SELECT customer_id, region, CAST(p AS TIMESTAMP) AS period_start, {', '.join(totals)} "
             f"FROM ({' UNION ALL '.join(stacked)}) GROUP BY customer_id, region, p")
    params = {k: v for k, v in (("lo", lo), ("hi", hi)) if v is not None}
    return dataset.sql(query, params or None)
