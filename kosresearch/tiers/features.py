"""Customer × period features for value scores and tiers, computed in DuckDB SQL.

One query builds a dense panel (every customer in every period from the
acquisition period to the end of the data), aggregates each event table once
by customer and period, joins the aggregates onto the panel and derives the
cumulative columns with window functions. Nothing loops over customers in
Python, so the same code runs on the sample and on a 50-million-event source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pandas as pd

from kosresearch._validation import check_choice, check_instant
from kosresearch.errors import KosParameterError

if TYPE_CHECKING:  # pragma: no cover
    from kosresearch.data.loader import Dataset

__all__ = ["customer_features", "FEATURE_COLUMNS", "PERIODS"]

Period = Literal["M", "Q", "W"]

#: period code -> (DuckDB date_trunc unit, step interval, label expression of ``p``)
PERIODS: dict[str, tuple[str, str, str]] = {
    "M": ("month", "INTERVAL 1 MONTH", "strftime(p, '%Y-%m')"),
    "Q": ("quarter", "INTERVAL 3 MONTH", "CAST(year(p) AS VARCHAR) || '-Q' || CAST(quarter(p) AS VARCHAR)"),
    "W": ("week", "INTERVAL 7 DAY", "strftime(p, '%G-W%V')"),
}

#: feature columns, in output order, with their meaning (also in the docstring)
FEATURE_COLUMNS: dict[str, str] = {
    "customer_id": "customer",
    "region": "region",
    "store_id": "store the customer belongs to",
    "kos_id": "advisor the customer is bound to (missing: not KOS-served)",
    "kos_served": "the customer is bound to an advisor",
    "acquisition_channel": "acquisition channel",
    "period": "period label ('2024-03', '2024-Q1', '2024-W09')",
    "period_start": "first instant of the period",
    "period_days": "days of the period inside the data window (the last period may be partial)",
    "period_complete": "the whole period lies inside the data window",
    "tenure_days": "days from acquisition to the end of the period",
    "monetary": "spend in the period (CNY)",
    "frequency": "orders in the period",
    "first_purchase": "the customer's first order falls in the period",
    "repeat_purchase": "at least one order in the period that is not the customer's first",
    "repeat_buyer": "two or more orders up to the end of the period",
    "orders_to_date": "orders up to the end of the period",
    "spend_to_date": "spend up to the end of the period (CNY)",
    "recency_days": "days from the last order to the end of the period (missing before the first order)",
    "first_order_days": "days from the first order to the end of the period (missing before the first order)",
    "referrals": "customers acquired in the period whose referrer is this customer",
    "referred_spend": "spend in the period of all customers this customer referred (CNY)",
    "koc_code_orders": "orders in the period that used this customer's own (KOC) promo code",
    "content_interactions": "touchpoints on content channels (xiaohongshu, douyin, koc_post, live_stream)",
    "touchpoints": "all touchpoints in the period",
    "messages_to_kos": "private messages the customer sent to the KOS",
    "kos_messages": "private messages the KOS sent to the customer",
    "group_messages": "messages the customer posted in KOS groups",
    "feedback_given": "feedback items the customer gave in the period",
    "feedback_to_date": "feedback items up to the end of the period",
    "days_since_active": "days from the last activity (acquisition, order, message, group message, touchpoint, "
    "feedback) to the end of the period",
}

_CONTENT_CHANNELS = ("xiaohongshu", "douyin", "koc_post", "live_stream")


def customer_features(
    dataset: "Dataset",
    *,
    period: Period = "M",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """One row per customer × period with spend, repurchase, influence and engagement features.

    Parameters
    ----------
    dataset : kosresearch.Dataset
        An opened dataset; needs ``customers`` and ``orders``. ``messages``,
        ``touchpoints``, ``feedback`` and ``promo_codes`` are used when
        present (their columns are missing values otherwise).
    period : {"M", "Q", "W"}, default "M"
        Calendar month, quarter or ISO week (weeks start on Monday).
    start, end : str or Timestamp, optional
        First and last period to return (any instant inside them, e.g.
        ``"2024-01"``). Events after the end of ``end``'s period are ignored,
        so features never look past ``end``; cumulative columns still count
        everything before ``start``.

    Returns
    -------
    DataFrame
        Sorted by region, customer and period. Columns: customer_id, region,
        store_id, kos_id, kos_served, acquisition_channel, period, period_start,
        period_days, period_complete, tenure_days, monetary, frequency, first_purchase,
        repeat_purchase, repeat_buyer, orders_to_date, spend_to_date,
        recency_days, first_order_days, referrals, referred_spend, koc_code_orders,
        content_interactions, touchpoints, messages_to_kos, kos_messages,
        group_messages, feedback_given, feedback_to_date, days_since_active
        (meanings in :data:`FEATURE_COLUMNS`). Text columns have pandas'
        default text dtype (``str`` under pandas 3, object under pandas 2),
        with missing values as NA.

    Raises
    ------
    KosParameterError
        ``period`` is not one of the codes, or ``start`` lies after ``end``.
    KosDataError
        The dataset has no ``customers`` or ``orders`` table.

    See Also
    --------
    value_scores : component scores and the weighted value score from these features.

    Notes
    -----
    The panel is dense: a customer has a row in every period from the period
    of ``acquired_at`` to the last period of the data (or ``end``), with
    zero counts when nothing happened, so a quiet period is visible as such.
    Whether a quiet customer counts as churned is decided later, by
    :func:`assign_tiers` from ``days_since_active``. The data end is the day
    after the latest timestamp of orders, messages, touchpoints and customers;
    ``period_days`` shows how much of the last period it covers.

    Examples
    --------
    >>> import kosresearch as kr
    >>> ds = kr.open_dataset("data_samples", regions=["east"])
    >>> f = kr.customer_features(ds, start="2024-01", end="2024-03")
    >>> f["period"].unique().tolist()
    ['2024-01', '2024-02', '2024-03']
    """
    check_choice("period", period, list(PERIODS))
    dataset.require("customers", "orders")
    start_ts = check_instant("start", start)
    end_ts = check_instant("end", end)
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise KosParameterError(f"start={start!r} lies after end={end!r}; give start <= end")
    query = _features_sql(
        period,
        has_messages=dataset.has("messages"),
        has_touchpoints=dataset.has("touchpoints"),
        has_feedback=dataset.has("feedback"),
        has_promo=dataset.has("promo_codes"),
    )
    out = dataset.sql(query, {"start": start_ts, "end": end_ts})
    for col in ("kos_served", "period_complete", "first_purchase", "repeat_purchase", "repeat_buyer"):
        out[col] = out[col].astype(bool)
    return out


def _features_sql(period: str, *, has_messages: bool, has_touchpoints: bool, has_feedback: bool, has_promo: bool) -> str:
    unit, step, label = PERIODS[period]
    trunc = lambda col: f"CAST(date_trunc('{unit}', {col}) AS TIMESTAMP)"  # noqa: E731
    content = ", ".join(f"'{c}'" for c in _CONTENT_CHANNELS)
    ends = ["SELECT max(ordered_at) AS ts FROM orders", "SELECT max(acquired_at) FROM customers"]
    if has_messages:
        ends.append("SELECT max(ts) FROM messages")
    if has_touchpoints:
        ends.append("SELECT max(ts) FROM touchpoints")
    ctes = [
        f"""bounds AS (
            SELECT CAST(date_trunc('day', max(ts)) + INTERVAL 1 DAY AS TIMESTAMP) AS data_end
            FROM ({' UNION ALL '.join(ends)})
        )""",
        f"""lim AS (
            SELECT CASE WHEN CAST($end AS TIMESTAMP) IS NULL THEN data_end
                        ELSE least(data_end, {trunc('CAST($end AS TIMESTAMP)')} + {step}) END AS t_end,
                   {trunc('CAST($start AS TIMESTAMP)')} AS p_from
            FROM bounds
        )""",
        f"""cust AS (
            SELECT c.customer_id, c.region, c.store_id, c.kos_id, c.acquisition_channel, c.acquired_at,
                   {trunc('c.acquired_at')} AS p0
            FROM customers c, lim WHERE c.acquired_at < lim.t_end
        )""",
        f"""grid AS (
            SELECT cust.*, unnest(generate_series(p0, {trunc('lim.t_end - INTERVAL 1 MICROSECOND')}, {step})) AS p
            FROM cust, lim
        )""",
        """first_order AS (
            SELECT customer_id, min(ordered_at) AS t_first FROM orders, lim WHERE ordered_at < t_end GROUP BY 1
        )""",
        f"""ord AS (
            SELECT o.customer_id, {trunc('o.ordered_at')} AS p, sum(o.amount) AS monetary, count(*) AS frequency,
                   max(o.ordered_at) AS t_last_order,
                   count(*) FILTER (WHERE o.ordered_at = f.t_first) AS n_first
            FROM orders o JOIN first_order f USING (customer_id), lim
            WHERE o.ordered_at < lim.t_end GROUP BY ALL
        )""",
        f"""ref AS (
            SELECT referrer_id AS customer_id, {trunc('acquired_at')} AS p, count(*) AS referrals
            FROM customers, lim WHERE referrer_id IS NOT NULL AND acquired_at < t_end GROUP BY ALL
        )""",
        f"""ref_spend AS (
            SELECT c.referrer_id AS customer_id, {trunc('o.ordered_at')} AS p, sum(o.amount) AS referred_spend
            FROM orders o JOIN customers c USING (customer_id), lim
            WHERE c.referrer_id IS NOT NULL AND o.ordered_at < lim.t_end GROUP BY ALL
        )""",
    ]
    joins = ["LEFT JOIN ord USING (customer_id, p)", "LEFT JOIN ref USING (customer_id, p)",
             "LEFT JOIN ref_spend USING (customer_id, p)"]
    if has_promo:
        ctes.append(f"""koc AS (
            SELECT pc.owner_id AS customer_id, {trunc('o.ordered_at')} AS p, count(*) AS koc_code_orders
            FROM orders o JOIN promo_codes pc ON o.promo_code = pc.promo_code, lim
            WHERE pc.owner_type = 'koc' AND o.ordered_at < lim.t_end GROUP BY ALL
        )""")
        joins.append("LEFT JOIN koc USING (customer_id, p)")
        koc_col = "coalesce(koc.koc_code_orders, 0)"
    else:
        koc_col = "CAST(NULL AS BIGINT)"
    if has_messages:
        ctes.append(f"""msg AS (
            SELECT customer_id, {trunc('ts')} AS p,
                   count(*) FILTER (WHERE channel = 'private' AND sender = 'customer') AS messages_to_kos,
                   count(*) FILTER (WHERE channel = 'private' AND sender = 'kos') AS kos_messages,
                   count(*) FILTER (WHERE channel = 'group' AND sender = 'customer') AS group_messages,
                   max(ts) FILTER (WHERE sender = 'customer') AS t_last_msg
            FROM messages, lim WHERE customer_id IS NOT NULL AND ts < t_end GROUP BY ALL
        )""")
        joins.append("LEFT JOIN msg USING (customer_id, p)")
        msg_cols = ("coalesce(msg.messages_to_kos, 0)", "coalesce(msg.kos_messages, 0)", "coalesce(msg.group_messages, 0)")
        msg_last = "msg.t_last_msg"
    else:
        msg_cols = ("CAST(NULL AS BIGINT)",) * 3
        msg_last = "CAST(NULL AS TIMESTAMP)"
    if has_touchpoints:
        ctes.append(f"""tp AS (
            SELECT customer_id, {trunc('ts')} AS p, count(*) AS touchpoints,
                   count(*) FILTER (WHERE channel IN ({content})) AS content_interactions, max(ts) AS t_last_tp
            FROM touchpoints, lim WHERE ts < t_end GROUP BY ALL
        )""")
        joins.append("LEFT JOIN tp USING (customer_id, p)")
        tp_cols = ("coalesce(tp.content_interactions, 0)", "coalesce(tp.touchpoints, 0)")
        tp_last = "tp.t_last_tp"
    else:
        tp_cols = ("CAST(NULL AS BIGINT)",) * 2
        tp_last = "CAST(NULL AS TIMESTAMP)"
    if has_feedback:
        ctes.append(f"""fb AS (
            SELECT customer_id, {trunc('created_at')} AS p, count(*) AS feedback_given, max(created_at) AS t_last_fb
            FROM feedback, lim WHERE created_at < t_end GROUP BY ALL
        )""")
        joins.append("LEFT JOIN fb USING (customer_id, p)")
        fb_col = "coalesce(fb.feedback_given, 0)"
        fb_last = "fb.t_last_fb"
    else:
        fb_col = "CAST(NULL AS BIGINT)"
        fb_last = "CAST(NULL AS TIMESTAMP)"
    ctes.append(f"""panel AS (
        SELECT g.customer_id, g.region, g.store_id, g.kos_id, g.acquisition_channel, g.acquired_at, g.p,
               least(g.p + {step}, lim.t_end) AS p_end,
               coalesce(ord.monetary, 0.0) AS monetary, coalesce(ord.frequency, 0) AS frequency,
               coalesce(ord.n_first, 0) AS n_first, ord.t_last_order,
               coalesce(ref.referrals, 0) AS referrals, coalesce(ref_spend.referred_spend, 0.0) AS referred_spend,
               {koc_col} AS koc_code_orders, {tp_cols[0]} AS content_interactions, {tp_cols[1]} AS touchpoints,
               {msg_cols[0]} AS messages_to_kos, {msg_cols[1]} AS kos_messages, {msg_cols[2]} AS group_messages,
               {fb_col} AS feedback_given, fo.t_first,
               greatest(g.acquired_at, ord.t_last_order, {msg_last}, {tp_last}, {fb_last}) AS t_active
        FROM grid g {' '.join(joins)} LEFT JOIN first_order fo ON fo.customer_id = g.customer_id, lim
    )""")
    ctes.append("""cum AS (
        SELECT *,
               sum(frequency) OVER w AS orders_to_date,
               sum(monetary) OVER w AS spend_to_date,
               max(t_last_order) OVER w AS t_order_to_date,
               max(t_active) OVER w AS t_active_to_date,
               sum(feedback_given) OVER w AS feedback_to_date
        FROM panel
        WINDOW w AS (PARTITION BY customer_id ORDER BY p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )""")
    days = lambda a, b: f"(epoch({a}) - epoch({b})) / 86400.0"  # noqa: E731
    return f"""
    WITH {', '.join(ctes)}
    SELECT customer_id, region, store_id, kos_id, kos_id IS NOT NULL AS kos_served, acquisition_channel,
           {label} AS period, p AS period_start,
           {days('p_end', 'p')} AS period_days,
           p_end = p + {step} AS period_complete,
           {days('p_end', 'acquired_at')} AS tenure_days,
           monetary, frequency,
           n_first > 0 AS first_purchase,
           frequency - n_first > 0 AS repeat_purchase,
           orders_to_date >= 2 AS repeat_buyer,
           CAST(orders_to_date AS BIGINT) AS orders_to_date, spend_to_date,
           {days('p_end', 't_order_to_date')} AS recency_days,
           CASE WHEN t_first < p_end THEN {days('p_end', 't_first')} END AS first_order_days,
           referrals, referred_spend, koc_code_orders, content_interactions, touchpoints,
           messages_to_kos, kos_messages, group_messages, feedback_given,
           CAST(feedback_to_date AS BIGINT) AS feedback_to_date,
           {days('p_end', 't_active_to_date')} AS days_since_active
    FROM cum, lim
    WHERE lim.p_from IS NULL OR p >= lim.p_from
    ORDER BY region, customer_id, p
    """
