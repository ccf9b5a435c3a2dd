"""The balanced store × week panel of a KOS programme roll-out, built in DuckDB."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kosresearch._validation import check_choice
from kosresearch.errors import KosDataError, KosParameterError

__all__ = ["store_week_panel", "PANEL_OUTCOMES"]

PANEL_OUTCOMES = ("sales", "orders", "new_customers")
#: a store with no order in this many final weeks of the window is taken as closed
CLOSED_AFTER_WEEKS = 8

_PANEL_SQL = """
WITH bounds AS (
    SELECT date_trunc('week', min(ordered_at)) AS w0, max(ordered_at) AS hi FROM orders
),
win AS (
    SELECT w0, CAST(floor((epoch(hi) - epoch(w0)) / 604800) AS BIGINT) + 1 AS n_weeks FROM bounds
),
st AS (
    SELECT s.store_id, s.opened_at, s.program_start,
           CASE WHEN s.program_start IS NULL THEN 0
                ELSE CAST(floor((epoch(CAST(s.program_start AS TIMESTAMP)) - epoch(win.w0)) / 604800) AS BIGINT) + 1
           END AS g_raw
    FROM stores s, win
),
o AS (
    SELECT store_id, CAST(floor((epoch(ordered_at) - epoch(win.w0)) / 604800) AS BIGINT) + 1 AS week,
           count(*) AS orders, sum(amount) AS sales
    FROM orders, win GROUP BY ALL
),
c AS (
    SELECT store_id, CAST(floor((epoch(acquired_at) - epoch(win.w0)) / 604800) AS BIGINT) + 1 AS week,
           count(*) AS new_customers
    FROM customers, win GROUP BY ALL
),
last_order AS (SELECT store_id, max(week) AS last_week FROM o GROUP BY store_id)
SELECT st.store_id, CAST(st.opened_at AS DATE) AS opened_at, CAST(st.program_start AS DATE) AS program_start,
       st.g_raw, coalesce(l.last_week, 0) AS last_week, win.n_weeks, CAST(win.w0 AS DATE) AS w0
FROM st CROSS JOIN win LEFT JOIN last_order l USING (store_id)
ORDER BY st.store_id
"""

_CELLS_SQL = """
WITH bounds AS (SELECT date_trunc('week', min(ordered_at)) AS w0 FROM orders),
o AS (
    SELECT store_id, CAST(floor((epoch(ordered_at) - epoch(b.w0)) / 604800) AS BIGINT) + 1 AS week,
           count(*) AS orders, sum(amount) AS sales
    FROM orders, bounds b GROUP BY ALL
),
c AS (
    SELECT store_id, CAST(floor((epoch(acquired_at) - epoch(b.w0)) / 604800) AS BIGINT) + 1 AS week,
           count(*) AS new_customers
    FROM customers, bounds b GROUP BY ALL
)
SELECT coalesce(o.store_id, c.store_id) AS store_id, coalesce(o.week, c.week) AS week,
       coalesce(o.sales, 0.0) AS sales, coalesce(o.orders, 0) AS orders, coalesce(c.new_customers, 0) AS new_customers
FROM o FULL OUTER JOIN c ON o.store_id = c.store_id AND o.week = c.week
"""


def store_week_panel(dataset: Any, *, outcome: str = "sales") -> pd.DataFrame:
    """The balanced store × week panel that the roll-out analysis needs.

    Parameters
    ----------
    dataset : kosresearch.Dataset
        Needs the tables ``stores``, ``orders`` and ``customers``.
    outcome : {"sales", "orders", "new_customers"}, default "sales"
        The outcome the analysis will use; recorded in ``panel.attrs["outcome"]``
        (all three are in the panel).

    Returns
    -------
    DataFrame
        One row per kept store and week: ``store_id, week`` (integer index
        from 1, week 1 = the Monday-starting week of the first order),
        ``week_start`` (date), ``sales`` (sum of order amounts, CNY),
        ``orders``, ``new_customers`` (customers acquired at the store that
        week), ``group`` (week index of the store's first programme week, 0 =
        never treated within the window). ``attrs``: ``outcome``,
        ``dropped_stores`` (list of ``{store_id, reason}``), ``weeks``,
        ``week_index_start``.

    Raises
    ------
    KosDataError
        A required table is missing, or no store is left.
    KosParameterError
        Unknown ``outcome``.

    See Also
    --------
    att_gt, programme_effect

    Notes
    -----
    Built in DuckDB SQL over the dataset's views. Weeks with no orders are
    genuine zeros for an open store. Stores that open inside the window
    (``opened_at`` after the first week starts), that appear closed (no
    order in the last 8 weeks of the window) or whose programme starts in
    the first week (no pre-period) are dropped and listed in
    ``attrs["dropped_stores"]``, never padded. A programme start after the
    window counts as never treated.
    """
    check_choice("outcome", outcome, PANEL_OUTCOMES)
    if not all(hasattr(dataset, a) for a in ("sql", "require")):
        raise KosParameterError(f"dataset must be a kosresearch.Dataset (open_dataset(...)); got {type(dataset).__name__}")
    dataset.require("stores", "orders", "customers")
    stores = dataset.sql(_PANEL_SQL)
    if stores.empty or stores["n_weeks"].isna().all():
        raise KosDataError("orders is empty: there is no window to build a store-week panel on")
    n_weeks = int(stores["n_weeks"].iloc[0])
    w0 = pd.Timestamp(stores["w0"].iloc[0])
    opened = pd.to_datetime(stores["opened_at"])
    reasons = pd.Series("", index=stores.index)
    reasons[opened > w0] = "opens inside the window"
    closed = (stores["last_week"] <= n_weeks - CLOSED_AFTER_WEEKS) & (reasons == "")
    reasons[closed] = f"no orders in the last {CLOSED_AFTER_WEEKS} weeks of the window (closed?)"
    early = (stores["g_raw"] != 0) & (stores["g_raw"] <= 1) & (reasons == "")
    reasons[early] = "programme starts in or before the first week (no pre-period)"
    dropped = pd.DataFrame({"store_id": stores.loc[reasons != "", "store_id"].to_numpy(),
                            "reason": reasons[reasons != ""].to_numpy()})
    kept = stores[reasons == ""]
    if kept.empty:
        raise KosDataError(f"no store is left for the panel; dropped: {dropped.to_dict('records')[:5]}")
    group = kept["g_raw"].where(kept["g_raw"] <= n_weeks, 0).astype("int64")
    cells = dataset.sql(_CELLS_SQL)
    weeks = pd.DataFrame({"week": range(1, n_weeks + 1)})
    grid = kept[["store_id"]].assign(group=group.to_numpy()).merge(weeks, how="cross")
    panel = grid.merge(cells, on=["store_id", "week"], how="left")
    panel["sales"] = panel["sales"].fillna(0.0).astype(float)
    panel["orders"] = panel["orders"].fillna(0).astype("int64")
    panel["new_customers"] = panel["new_customers"].fillna(0).astype("int64")
    panel["week_start"] = (w0 + pd.to_timedelta(7 * (panel["week"] - 1), unit="D")).dt.date
    panel = panel[["store_id", "week", "week_start", "sales", "orders", "new_customers", "group"]]
    panel = panel.sort_values(["store_id", "week"], ignore_index=True)
    panel.attrs.update({"outcome": outcome, "dropped_stores": dropped.to_dict("records"), "weeks": n_weeks,
                        "week_index_start": str(w0.date())})
    return panel
