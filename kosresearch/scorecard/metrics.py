"""Weekly KOS metrics in three layers (process, relationship, growth and sales), in DuckDB SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from kosresearch.errors import KosParameterError
from kosresearch.scorecard._sql import (
    business_minutes_sql,
    customer_quarter_tiers_sql,
    no_reply_list_cte,
    no_reply_sql,
    parse_business_hours,
)

__all__ = ["kos_weekly_metrics", "NO_REPLY_TEXTS", "SENTIMENT_CUTOFF", "METRICS", "MetricInfo", "metric_info"]

#: customer messages that need no reply (compared after removing white space,
#: punctuation and emoji, case-insensitively); emoji- or punctuation-only
#: messages need no reply either. Extend with ``no_reply=NO_REPLY_TEXTS + (...)``.
NO_REPLY_TEXTS: tuple[str, ...] = (
    "谢谢", "谢谢你", "谢谢亲", "谢啦", "多谢", "感谢", "感谢感谢",
    "好的", "好", "好滴", "好哒", "好嘞", "好的谢谢", "好的收到", "好的好的", "好哒谢谢",
    "收到", "收到谢谢", "收到啦", "嗯", "嗯嗯", "哦", "哦哦", "知道了", "明白", "明白了", "了解",
    "ok", "okay", "ok谢谢", "thanks", "thx", "拜拜", "再见", "晚安",
)

#: a customer message counts as positive when ``sentiment >= SENTIMENT_CUTOFF``
#: and as negative when ``sentiment <= -SENTIMENT_CUTOFF`` (scores in -1..1)
SENTIMENT_CUTOFF = 0.2


@dataclass(frozen=True)
class MetricInfo:
    """What a weekly metric measures and how it enters the scorecard.

    Attributes
    ----------
    name : str
        Column of :func:`kos_weekly_metrics` (for shares: the share's name;
        the weekly table holds its numerator and denominator columns).
    layer : str
        ``process``, ``relationship`` or ``growth``.
    label_en, label_zh : str
        Display labels.
    higher_is_better : bool
        Direction used when scoring.
    kind : str
        ``share`` (numerator / denominator summed over weeks), ``rate``
        (numerator summed / denominator summed, not a probability), ``mean``
        (mean of weekly values, weighted by ``denominator`` when given),
        ``median`` (median of weekly values weighted by ``denominator``: weekly
        medians of a few messages are noisy and skewed, their weighted median
        is not) or ``total`` (sum over weeks, reported per week).
    numerator, denominator : str or None
        Columns of the weekly table.
    """

    name: str
    layer: str
    label_en: str
    label_zh: str
    higher_is_better: bool
    kind: str
    numerator: str | None = None
    denominator: str | None = None


def _metrics(reply_minutes: Sequence[int]) -> tuple[MetricInfo, ...]:
    replies = tuple(
        MetricInfo(f"replied_within_{m}min_share", "process", f"replied within {m} min", f"{m}分钟内回复率", True,
                   "share", f"replied_within_{m}min", "reply_needed")
        for m in reply_minutes
    )
    return (
        MetricInfo("sla_share", "process", "first effective contact within SLA", "SLA内首次有效互动率", True,
                   "share", "sla_met", "sla_customers"),
        MetricInfo("posts_per_week", "process", "posts per week", "每周发帖数", True, "total", "posts", None),
        MetricInfo("response_minutes_median", "process", "median response time (business min)", "回复时长中位数(营业分钟)",
                   False, "median", "response_minutes_median", "replied"),
        MetricInfo("response_minutes_p90", "process", "90th pct response time (business min)", "回复时长90分位(营业分钟)",
                   False, "median", "response_minutes_p90", "replied"),
        *replies,
        MetricInfo("interactions_per_post", "relationship", "interactions per post", "篇均互动数", True, "rate",
                   "interactions", "posts"),
        MetricInfo("group_active_speakers", "relationship", "group daily active speakers", "社群日均发言人数", True,
                   "mean", "group_active_speakers", None),
        MetricInfo("new_member_speak_share", "relationship", "new members speaking within 7 days", "新成员7天内发言率",
                   True, "share", "new_members_spoke_7d", "new_members"),
        MetricInfo("positive_share", "relationship", "positive customer messages", "客户正面消息占比", True, "share",
                   "sentiment_positive", "sentiment_messages"),
        MetricInfo("negative_share", "relationship", "negative customer messages", "客户负面消息占比", False, "share",
                   "sentiment_negative", "sentiment_messages"),
        MetricInfo("leads_per_week", "growth", "public-domain leads per week", "每周公域线索", True, "total", "leads", None),
        MetricInfo("private_adds_per_week", "growth", "private-domain adds per week", "每周私域新增", True, "total",
                   "private_adds", None),
        MetricInfo("active_private_customers", "growth", "active private customers per week", "每周私域活跃客户", True,
                   "mean", "active_private_customers", None),
        MetricInfo("sales_per_week", "growth", "sales per week (CNY)", "每周销售额(元)", True, "total", "sales", None),
        MetricInfo("repeat_sales_per_week", "growth", "repeat sales per week (CNY)", "每周复购销售额(元)", True, "total",
                   "repeat_sales", None),
        MetricInfo("sales_vs_expected", "growth", "customer sales vs mix-expected", "客户销售额/结构预期", True, "rate",
                   "book_sales", "expected_sales"),
    )


#: the metrics of the default ``reply_minutes=(1, 5, 30)``, by name
METRICS: dict[str, MetricInfo] = {m.name: m for m in _metrics((1, 5, 30))}


def metric_info(metrics: pd.DataFrame) -> dict[str, MetricInfo]:
    """The :class:`MetricInfo` of every metric available in a weekly table (reply thresholds read from it)."""
    minutes = sorted(
        int(c[len("replied_within_"):-len("min")])
        for c in metrics.columns
        if c.startswith("replied_within_") and c.endswith("min") and c[len("replied_within_"):-len("min")].isdigit()
    )
    return {m.name: m for m in _metrics(minutes)}


def _check_reply_minutes(reply_minutes) -> tuple[int, ...]:
    try:
        values = tuple(reply_minutes)
    except TypeError:
        values = ()
    ok = bool(values) and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)
    if not ok or len(set(values)) != len(values):
        raise KosParameterError(
            f"reply_minutes={reply_minutes!r} must be distinct whole numbers of minutes greater than 0, e.g. (1, 5, 30)"
        )
    return tuple(sorted(values))


def _check_no_reply(no_reply) -> list[str]:
    if isinstance(no_reply, str) or not isinstance(no_reply, Iterable):
        raise KosParameterError(f"no_reply={no_reply!r} must be a list of texts, e.g. ('谢谢', '好的')")
    values = list(no_reply)
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise KosParameterError(f"no_reply must hold texts only; got {bad[0]!r}")
    return values


def kos_weekly_metrics(
    dataset,
    *,
    sla_hours: float = 24,
    reply_minutes: Sequence[int] = (1, 5, 30),
    business_hours: tuple[str, str] = ("09:00", "21:00"),
    no_reply: Iterable[str] = NO_REPLY_TEXTS,
) -> pd.DataFrame:
    """Process, relationship and growth / sales metrics per KOS and week.

    One row per KOS and calendar week (weeks start on Monday), from the week
    the KOS joined (or the first week of the data) to the last week of the
    data; weeks without activity hold zero counts and missing rates. Computed
    in one DuckDB query over the dataset.

    Parameters
    ----------
    dataset : kosresearch.Dataset
        Needs ``kos``, ``customers`` and ``orders``; ``messages``, ``content``,
        ``groups`` and ``group_members`` feed their metrics when present (the
        columns are missing values otherwise).
    sla_hours : float, default 24
        Deadline, in business hours after acquisition, for the first effective
        interaction. A customer whose deadline lies after the end of the data
        is left out of the SLA share (not yet decided).
    reply_minutes : sequence of int, default (1, 5, 30)
        Business-minute thresholds of the "replied within" shares.
    business_hours : (str, str), default ("09:00", "21:00")
        Opening and closing time, every day of the week (retail works
        weekends). Response times and the SLA clock count only these hours.
    no_reply : iterable of str, default :data:`NO_REPLY_TEXTS`
        Customer messages that need no reply (thanks, acknowledgements),
        compared after removing white space, punctuation and emoji,
        case-insensitively. Emoji- or punctuation-only messages need no reply
        whatever the list.

    Returns
    -------
    pandas.DataFrame
        Keys ``region, kos_id, kos_name, store_id, week`` (date of the Monday)
        and, by layer (names of the shares and rates the scorecard builds from
        them in :data:`METRICS`):

        process
            ``private_adds`` new customers bound to the KOS (acquired this
            week); ``sla_customers`` those whose SLA deadline lies inside the
            data, ``sla_met`` those given a first effective interaction within
            the deadline (``<=``), ``sla_share``; ``posts``; ``reply_needed``
            customer messages that opened a wait for a reply (the first message
            needing a reply since the KOS last wrote), ``replied`` those
            answered, ``no_reply_messages`` customer messages excused by the
            no-reply rule; ``response_minutes_median`` and
            ``response_minutes_p90`` business minutes to the reply (answered
            waits); ``replied_within_<m>min`` counts and
            ``replied_within_<m>min_share`` (of all waits: unanswered ones count
            as not answered in time);
        relationship
            ``interactions`` (likes + comments + saves + shares of the week's
            posts) and ``interactions_per_post``; ``group_active_speakers``
            mean daily number of distinct customers speaking in the KOS's
            groups (missing before the KOS has a group); ``new_members`` who
            joined a group this week at least 7 days before the data end,
            ``new_members_spoke_7d`` those who spoke within 7 days,
            ``new_member_speak_share``; ``sentiment_messages`` customer
            messages with a sentiment score, ``sentiment_positive`` /
            ``sentiment_negative`` (score at least :data:`SENTIMENT_CUTOFF`
            above / below 0), ``positive_share``, ``negative_share``;
        growth and sales
            ``leads`` (public-domain leads of the week's posts);
            ``active_private_customers`` distinct customers who wrote to the
            KOS privately; ``orders``, ``sales`` (CNY, orders credited to the
            KOS), ``repeat_sales`` (orders other than the customer's first);
            ``book_customers`` customers bound to the KOS, ``book_sales`` their
            sales (whoever is credited) and ``expected_sales`` what they would
            spend at the region's weekly average of customers of the same
            acquisition channel and tier (indirect standardisation; see Notes).

    Raises
    ------
    KosParameterError
        A bad ``sla_hours``, ``reply_minutes``, ``business_hours`` or
        ``no_reply``.
    KosDataError
        The dataset lacks ``kos``, ``customers`` or ``orders``.

    See Also
    --------
    scorecard : per-KOS composite with rank intervals, built from this table.
    best_practices : KOS credibly above the pool on a share metric.

    Notes
    -----
    *Business time.* With opening minute :math:`o` and a business day of
    :math:`L` minutes, a timestamp on day :math:`d` at minute :math:`m` maps to
    :math:`B(t) = dL + \\min(\\max(m - o, 0), L)`; the business time between two
    timestamps is :math:`B(t_2) - B(t_1)`, so nights count zero and a question
    sent at 23:00 and answered at 09:05 waited 5 minutes.

    *Response time.* In each private thread (KOS, customer) the messages are
    ordered in time; the first customer message needing a reply after a KOS
    message opens a wait and the next KOS message closes it. Later customer
    messages of the same wait are not counted again (they would make slow
    replies look fast).

    *First effective interaction.* The first customer message in the thread
    after the KOS's first message at or after acquisition (a KOS message
    answered by the customer). The SLA is met when it comes within
    ``sla_hours`` business hours of acquisition, the deadline included.

    *Customer mix.* Customers are grouped by acquisition channel and an
    observable tier proxy per quarter (``new`` in their first 90 days,
    otherwise ``core`` / ``potential`` / ``mass``: top 10 %, next 30 % and the
    rest of the region's customers by spend in the 365 days before the
    quarter). ``expected_sales`` is the sum over the KOS's customers of the
    region's mean weekly spend per customer of their group, the indirect
    standardisation of epidemiology (Breslow & Day 1987, *Statistical Methods
    in Cancer Research II*, ch. 2), so ``book_sales / expected_sales`` above 1
    means the KOS's customers spend more than similar customers elsewhere in
    the region.

    Examples
    --------
    >>> import kosresearch as kr
    >>> ds = kr.open_dataset("data_samples", regions=["east"])
    >>> weekly = kr.kos_weekly_metrics(ds)
    >>> weekly[["kos_id", "week", "sla_share", "response_minutes_median"]].dropna().shape[1]
    4
    """
    if isinstance(sla_hours, bool) or not isinstance(sla_hours, (int, float)) or not sla_hours > 0:
        raise KosParameterError(f"sla_hours={sla_hours!r} must be a number of business hours greater than 0, e.g. 24")
    minutes = _check_reply_minutes(reply_minutes)
    open_min, span_min = parse_business_hours(business_hours)
    no_reply_list = _check_no_reply(no_reply)
    dataset.require("kos", "customers", "orders")

    has = {name: dataset.has(name) for name in ("messages", "content", "groups", "group_members")}
    has_groups = has["groups"] and has["group_members"]
    start, end = _data_window(dataset, has)
    params = {
        "data_start": start,
        "data_end": end,
        "open_min": open_min,
        "span_min": span_min,
        "sla_min": float(sla_hours) * 60.0,
        "no_reply": no_reply_list,
        "sent_cut": SENTIMENT_CUTOFF,
    }
    query = _query(minutes, has_messages=has["messages"], has_content=has["content"], has_groups=has_groups)
    out = dataset.sql(query, {k: v for k, v in params.items() if f"${k}" in query})
    return _finish(out, minutes)


def _data_window(dataset, has: dict[str, bool]) -> tuple[pd.Timestamp, pd.Timestamp]:
    parts = ["SELECT min(acquired_at) AS lo, max(acquired_at) AS hi FROM customers",
             "SELECT min(ordered_at), max(ordered_at) FROM orders"]
    if has["messages"]:
        parts.append("SELECT min(ts), max(ts) FROM messages")
    if has["content"]:
        parts.append("SELECT min(posted_at), max(posted_at) FROM content")
    row = dataset.sql(f"SELECT min(lo) AS lo, max(hi) AS hi FROM ({' UNION ALL '.join(parts)})")
    lo, hi = row["lo"].iloc[0], row["hi"].iloc[0]
    if pd.isna(lo):
        lo = hi = pd.Timestamp("2000-01-03")
    return pd.Timestamp(lo).to_pydatetime(), pd.Timestamp(hi).to_pydatetime()


def _query(minutes: tuple[int, ...], *, has_messages: bool, has_content: bool, has_groups: bool) -> str:
    bm = business_minutes_sql
    within = ",\n".join(
        f"count(*) FILTER (WHERE minutes <= {m}) AS replied_within_{m}min" for m in minutes
    )
    ctes = [
        """win_weeks AS (
            SELECT CAST(w AS DATE) AS week
            FROM generate_series(CAST(date_trunc('week', $data_start) AS TIMESTAMP),
                                 CAST($data_end AS TIMESTAMP), INTERVAL 7 DAY) t(w)
        )""",
        """grid AS (
            SELECT k.region, k.kos_id, k.name AS kos_name, k.store_id, w.week
            FROM kos k JOIN win_weeks w ON w.week >= CAST(date_trunc('week', k.joined_at) AS DATE)
        )""",
        """bound AS (SELECT customer_id, kos_id, acquired_at FROM customers WHERE kos_id IS NOT NULL)""",
    ]
    joins: list[str] = []
    cols: list[str] = []

    # ---- process: SLA (needs messages to observe the interaction) ------------------------------
    if has_messages:
        ctes += [
            f"""no_reply_texts AS ({no_reply_list_cte()})""",
            """pm AS (
                SELECT message_id, kos_id, customer_id, ts, sender, text
                FROM messages WHERE channel = 'private' AND customer_id IS NOT NULL
            )""",
            """first_kos AS (
                SELECT b.customer_id, b.kos_id, b.acquired_at, min(m.ts) AS kos_at
                FROM bound b LEFT JOIN pm m
                  ON m.customer_id = b.customer_id AND m.kos_id = b.kos_id AND m.sender = 'kos'
                 AND m.ts >= b.acquired_at
                GROUP BY ALL
            )""",
            """first_eff AS (
                SELECT f.customer_id, f.kos_id, f.acquired_at, min(m.ts) AS effective_at
                FROM first_kos f LEFT JOIN pm m
                  ON m.customer_id = f.customer_id AND m.kos_id = f.kos_id AND m.sender = 'customer'
                 AND m.ts > f.kos_at
                GROUP BY ALL
            )""",
            f"""sla AS (
                SELECT kos_id, CAST(date_trunc('week', acquired_at) AS DATE) AS week,
                       count(*) FILTER (WHERE evaluable) AS sla_customers,
                       count(*) FILTER (WHERE evaluable AND met) AS sla_met
                FROM (
                    SELECT kos_id, acquired_at,
                           {bm('$data_end')} - {bm('acquired_at')} >= $sla_min AS evaluable,
                           {bm('effective_at')} - {bm('acquired_at')} <= $sla_min AS met
                    FROM first_eff
                )
                GROUP BY ALL
            )""",
            f"""thread AS (
                SELECT kos_id, customer_id, ts, sender,
                       sender = 'customer' AND NOT {no_reply_sql('text')} AS needs_reply,
                       sender = 'customer' AND {no_reply_sql('text')} AS excused,
                       sum(CASE WHEN sender = 'kos' THEN 1 ELSE 0 END) OVER (
                           PARTITION BY kos_id, customer_id ORDER BY ts, sender = 'kos', message_id
                           ROWS UNBOUNDED PRECEDING) AS seg
                FROM pm
            )""",
            """waits AS (
                SELECT kos_id, customer_id, seg, min(ts) AS asked_at
                FROM thread WHERE needs_reply GROUP BY ALL
            )""",
            """kos_turns AS (
                SELECT kos_id, customer_id, seg, min(ts) AS replied_at
                FROM thread WHERE sender = 'kos' GROUP BY ALL
            )""",
            f"""resp AS (
                SELECT kos_id, CAST(date_trunc('week', asked_at) AS DATE) AS week,
                       count(*) AS reply_needed, count(minutes) AS replied,
                       quantile_cont(minutes, 0.5) AS response_minutes_median,
                       quantile_cont(minutes, 0.9) AS response_minutes_p90,
                       {within}
                FROM (
                    SELECT w.kos_id, w.asked_at, {bm('r.replied_at')} - {bm('w.asked_at')} AS minutes
                    FROM waits w LEFT JOIN kos_turns r
                      ON r.kos_id = w.kos_id AND r.customer_id = w.customer_id AND r.seg = w.seg + 1
                )
                GROUP BY ALL
            )""",
            """excused AS (
                SELECT kos_id, CAST(date_trunc('week', ts) AS DATE) AS week, count(*) AS no_reply_messages
                FROM thread WHERE excused GROUP BY ALL
            )""",
            """sent AS (
                SELECT kos_id, CAST(date_trunc('week', ts) AS DATE) AS week,
                       count(sentiment) AS sentiment_messages,
                       count(*) FILTER (WHERE sentiment >= $sent_cut) AS sentiment_positive,
                       count(*) FILTER (WHERE sentiment <= -$sent_cut) AS sentiment_negative
                FROM messages WHERE sender = 'customer' GROUP BY ALL
            )""",
            """active AS (
                SELECT kos_id, CAST(date_trunc('week', ts) AS DATE) AS week,
                       count(DISTINCT customer_id) AS active_private_customers
                FROM pm WHERE sender = 'customer' GROUP BY ALL
            )""",
        ]
        joins += ["sla", "resp", "excused", "sent", "active"]
        cols += ["sla.sla_customers", "sla.sla_met", "resp.reply_needed", "resp.replied",
                 "excused.no_reply_messages",
                 *[f"resp.replied_within_{m}min" for m in minutes],
                 "sent.sentiment_messages", "sent.sentiment_positive", "sent.sentiment_negative",
                 "active.active_private_customers"]
        nullable = ["resp.response_minutes_median", "resp.response_minutes_p90"]
    else:
        nullable = []
    ctes.append(
        """adds AS (
            SELECT kos_id, CAST(date_trunc('week', acquired_at) AS DATE) AS week, count(*) AS private_adds
            FROM bound GROUP BY ALL
        )"""
    )
    joins.append("adds")
    cols.append("adds.private_adds")

    # ---- content ------------------------------------------------------------------------------
    if has_content:
        ctes.append(
            """posts AS (
                SELECT kos_id, CAST(date_trunc('week', posted_at) AS DATE) AS week, count(*) AS posts,
                       sum(likes + comments + saves + shares) AS interactions, sum(leads) AS leads
                FROM content GROUP BY ALL
            )"""
        )
        joins.append("posts")
        cols += ["posts.posts", "posts.interactions", "posts.leads"]

    # ---- groups -------------------------------------------------------------------------------
    group_active = "CAST(NULL AS DOUBLE) AS group_active_speakers"
    if has_groups:
        speakers = (
            """gspeak AS (
                SELECT kos_id, week, count(*) / 7.0 AS speaker_days
                FROM (
                    SELECT DISTINCT kos_id, CAST(date_trunc('week', ts) AS DATE) AS week,
                           CAST(ts AS DATE) AS day, customer_id
                    FROM messages
                    WHERE channel = 'group' AND sender = 'customer' AND customer_id IS NOT NULL
                )
                GROUP BY ALL
            )"""
            if has_messages
            else """gspeak AS (SELECT NULL::VARCHAR AS kos_id, NULL::DATE AS week, NULL::DOUBLE AS speaker_days
                              WHERE false)"""
        )
        ctes += [
            """kos_groups AS (SELECT kos_id, min(created_at) AS first_group_at FROM groups GROUP BY ALL)""",
            speakers,
            """members AS (
                SELECT g.kos_id, CAST(date_trunc('week', gm.joined_at) AS DATE) AS week,
                       count(*) FILTER (WHERE gm.joined_at + INTERVAL 7 DAY <= $data_end) AS new_members,
                       count(*) FILTER (WHERE gm.joined_at + INTERVAL 7 DAY <= $data_end
                                          AND gm.first_spoke_at <= gm.joined_at + INTERVAL 7 DAY) AS new_members_spoke_7d
                FROM group_members gm JOIN groups g USING (group_id)
                GROUP BY ALL
            )""",
        ]
        joins += ["gspeak", "members"]
        cols += ["members.new_members", "members.new_members_spoke_7d"]
        group_active = (
            "CASE WHEN kg.first_group_at < g.week + INTERVAL 7 DAY THEN coalesce(gspeak.speaker_days, 0) END "
            "AS group_active_speakers"
        )

    # ---- sales and the customer mix -------------------------------------------------------------
    ctes += [
        """sales AS (
            SELECT kos_id, week, count(*) AS orders, sum(amount) AS sales,
                   coalesce(sum(amount) FILTER (WHERE rn > 1), 0) AS repeat_sales
            FROM (
                SELECT kos_id, amount, CAST(date_trunc('week', ordered_at) AS DATE) AS week,
                       row_number() OVER (PARTITION BY customer_id ORDER BY ordered_at, order_id) AS rn
                FROM orders
            )
            WHERE kos_id IS NOT NULL
            GROUP BY ALL
        )""",
        f"""cqt AS ({customer_quarter_tiers_sql()})""",
        """entries AS (
            SELECT region, kos_id, acquisition_channel, tier, quarter, wk, count(*) AS n
            FROM (
                SELECT *, greatest(CAST(date_trunc('week', acquired_at) AS DATE),
                                   CAST(date_trunc('week', quarter + INTERVAL 6 DAY) AS DATE)) AS wk
                FROM cqt
            )
            GROUP BY ALL
        )""",
        """book AS (
            SELECT e.region, e.kos_id, e.acquisition_channel, e.tier, w.week, e.n_book
            FROM (
                SELECT *, sum(n) OVER (PARTITION BY region, kos_id, acquisition_channel, tier, quarter
                                       ORDER BY wk ROWS UNBOUNDED PRECEDING) AS n_book,
                       lead(wk) OVER (PARTITION BY region, kos_id, acquisition_channel, tier, quarter
                                      ORDER BY wk) AS next_wk
                FROM entries
            ) e
            JOIN win_weeks w
              ON w.week >= e.wk AND (e.next_wk IS NULL OR w.week < e.next_wk)
             AND CAST(date_trunc('quarter', w.week) AS DATE) = e.quarter
        )""",
        """seg_sales AS (
            SELECT t.region, t.kos_id, t.acquisition_channel, t.tier, o.week, sum(o.amount) AS amount
            FROM (
                SELECT customer_id, amount, CAST(date_trunc('week', ordered_at) AS DATE) AS week FROM orders
            ) o
            JOIN cqt t ON t.customer_id = o.customer_id AND t.quarter = CAST(date_trunc('quarter', o.week) AS DATE)
            GROUP BY ALL
        )""",
        """pool AS (
            SELECT b.region, b.acquisition_channel, b.tier, b.week,
                   sum(b.n_book) AS n_pool, sum(coalesce(s.amount, 0)) AS sales_pool
            FROM book b LEFT JOIN seg_sales s
              ON s.region = b.region AND s.kos_id IS NOT DISTINCT FROM b.kos_id
             AND s.acquisition_channel = b.acquisition_channel AND s.tier = b.tier AND s.week = b.week
            GROUP BY ALL
        )""",
        """mix AS (
            SELECT b.kos_id, b.week, sum(b.n_book) AS book_customers,
                   sum(coalesce(s.amount, 0)) AS book_sales,
                   sum(b.n_book * p.sales_pool / p.n_pool) AS expected_sales
            FROM book b
            JOIN pool p ON p.region = b.region AND p.acquisition_channel = b.acquisition_channel
                        AND p.tier = b.tier AND p.week = b.week
            LEFT JOIN seg_sales s
              ON s.region = b.region AND s.kos_id = b.kos_id AND s.acquisition_channel = b.acquisition_channel
             AND s.tier = b.tier AND s.week = b.week
            WHERE b.kos_id IS NOT NULL
            GROUP BY ALL
        )""",
    ]
    joins += ["sales", "mix"]
    cols += ["sales.orders", "sales.sales", "sales.repeat_sales", "mix.book_customers", "mix.book_sales",
             "mix.expected_sales"]

    join_sql = "\n".join(f"LEFT JOIN {j} ON {j}.kos_id = g.kos_id AND {j}.week = g.week" for j in joins)
    if has_groups:
        join_sql += "\nLEFT JOIN kos_groups kg ON kg.kos_id = g.kos_id"
    count_sql = ",\n".join(f"coalesce({c}, 0) AS {c.split('.')[1]}" for c in cols)
    extra = ",\n".join([*nullable, group_active]) if nullable else group_active
    return (
        "WITH " + ",\n".join(ctes) + f"""
        SELECT g.region, g.kos_id, g.kos_name, g.store_id, g.week,
               {count_sql},
               {extra}
        FROM grid g
        {join_sql}
        ORDER BY g.region, g.kos_id, g.week
        """
    )


_COUNT_COLUMNS = (
    "private_adds", "sla_customers", "sla_met", "posts", "reply_needed", "replied", "no_reply_messages",
    "interactions", "new_members", "new_members_spoke_7d", "sentiment_messages", "sentiment_positive",
    "sentiment_negative", "leads", "active_private_customers", "orders", "book_customers",
)
_MONEY_COLUMNS = ("sales", "repeat_sales", "book_sales", "expected_sales")


def _finish(out: pd.DataFrame, minutes: tuple[int, ...]) -> pd.DataFrame:
    """Fill the columns of absent tables, compute the weekly shares, fix dtypes and column order."""
    out = out.copy()
    within = [f"replied_within_{m}min" for m in minutes]
    for col in (*_COUNT_COLUMNS, *within):
        if col not in out.columns:
            out[col] = pd.NA
        out[col] = pd.array(out[col], dtype="Int64")
    for col in (*_MONEY_COLUMNS, "response_minutes_median", "response_minutes_p90", "group_active_speakers"):
        if col not in out.columns:
            out[col] = float("nan")
        out[col] = out[col].astype("float64")
    out["week"] = pd.to_datetime(out["week"]).astype("datetime64[s]")

    def ratio(num: str, den: str) -> pd.Series:
        n = out[num].astype("float64")
        d = out[den].astype("float64")
        return (n / d).where(d > 0)

    out["sla_share"] = ratio("sla_met", "sla_customers")
    for m, col in zip(minutes, within):
        out[f"{col}_share"] = ratio(col, "reply_needed")
    out["interactions_per_post"] = ratio("interactions", "posts")
    out["new_member_speak_share"] = ratio("new_members_spoke_7d", "new_members")
    out["positive_share"] = ratio("sentiment_positive", "sentiment_messages")
    out["negative_share"] = ratio("sentiment_negative", "sentiment_messages")
    keys = ["region", "kos_id", "kos_name", "store_id", "week"]
    process = ["private_adds", "sla_customers", "sla_met", "sla_share", "posts", "reply_needed", "replied",
               "no_reply_messages", "response_minutes_median", "response_minutes_p90",
               *[c for col in within for c in (col, f"{col}_share")]]
    relationship = ["interactions", "interactions_per_post", "group_active_speakers", "new_members",
                    "new_members_spoke_7d", "new_member_speak_share", "sentiment_messages", "sentiment_positive",
                    "sentiment_negative", "positive_share", "negative_share"]
    growth = ["leads", "active_private_customers", "orders", "sales", "repeat_sales", "book_customers",
              "book_sales", "expected_sales"]
    out = out[keys + process + relationship + growth]
    return out.reset_index(drop=True)
