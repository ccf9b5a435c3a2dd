"""SQL fragments shared by the scorecard and feedback analyses (DuckDB dialect).

Kept as small string builders so that every query stays one set-based
statement; values always travel as named parameters (``$open_min`` ...),
never pasted into the SQL text.
"""

from __future__ import annotations

import re

from kosresearch.errors import KosParameterError

#: characters dropped before comparing a message with the no-reply list:
#: white space, punctuation, symbols (emoji are symbols) and emoji joiners /
#: variation selectors. A message that is empty after this (and was not empty
#: before) is emoji / punctuation only and needs no reply.
NORMALISE_PATTERN = r"[\s\p{P}\p{S}\x{FE0E}\x{FE0F}\x{200D}]+"


def normalised_text_sql(ref: str) -> str:
    """SQL: ``ref`` lower-cased, with white space, punctuation and emoji removed."""
    return f"regexp_replace(lower({ref}), '{NORMALISE_PATTERN}', '', 'g')"


def no_reply_list_cte(list_param: str = "$no_reply") -> str:
    """SQL CTE body: the no-reply texts of a list parameter, normalised, one per row (column ``t``)."""
    return (
        f"SELECT DISTINCT {normalised_text_sql('x')} AS t "
        f"FROM (SELECT unnest(CAST({list_param} AS VARCHAR[])) AS x)"
    )


def no_reply_sql(ref: str, cte: str = "no_reply_texts") -> str:
    """SQL boolean: the text ``ref`` needs no reply.

    True when the text is emoji / punctuation only, or equals (after
    normalisation) a text of the CTE ``cte`` built by :func:`no_reply_list_cte`.
    NULL or blank texts are treated as needing a reply: their content is
    unknown (an image, a voice message), so they are not excused.
    """
    norm = normalised_text_sql(ref)
    return f"(coalesce(trim({ref}), '') <> '' AND ({norm} = '' OR {norm} IN (SELECT t FROM {cte})))"


def business_minutes_sql(ref: str) -> str:
    """SQL: business minutes elapsed from 2000-01-01 00:00 up to timestamp ``ref``.

    Business hours are ``[$open_min, $open_min + $span_min)`` minutes after
    midnight, every day of the week (retail works weekends). The difference of
    two such values is the business time between two timestamps: nights count
    zero, a message sent at 23:00 starts its clock at the next opening.
    """
    day = f"date_diff('day', DATE '2000-01-01', CAST({ref} AS DATE))"
    minute_of_day = f"((epoch({ref}) - epoch(date_trunc('day', {ref}))) / 60.0)"
    return f"({day} * $span_min + least(greatest({minute_of_day} - $open_min, 0), $span_min))"


_HHMM = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


def parse_business_hours(business_hours) -> tuple[float, float]:
    """``("09:00", "21:00")`` -> ``(540.0, 720.0)``: opening minute and length of the business day."""
    try:
        start, end = business_hours
    except (TypeError, ValueError):
        raise KosParameterError(
            f"business_hours={business_hours!r} must be a pair of 'HH:MM' strings, e.g. ('09:00', '21:00')"
        ) from None
    minutes = []
    for value in (start, end):
        m = _HHMM.match(str(value).strip()) if isinstance(value, str) else None
        if m is None or (int(m.group(1)) == 24 and m.group(2) != "00"):
            raise KosParameterError(
                f"business_hours={business_hours!r}: {value!r} is not a time of day 'HH:MM' (00:00 to 24:00)"
            )
        minutes.append(int(m.group(1)) * 60 + int(m.group(2)))
    if minutes[1] <= minutes[0]:
        raise KosParameterError(
            f"business_hours={business_hours!r} must close after it opens on the same day "
            "(hours across midnight are not supported)"
        )
    return float(minutes[0]), float(minutes[1] - minutes[0])


TIER_PROXY_SHARES = {"core": 0.10, "potential": 0.30}
"""Shares of tenured customers (by trailing 12-month spend, within region and quarter) in the top tiers."""


def customer_quarter_tiers_sql(end_param: str = "$data_end") -> str:
    """SQL CTE body: one row per customer and quarter with an observable tier proxy.

    Columns ``customer_id, region, kos_id, acquisition_channel, acquired_at,
    quarter, tier``. ``quarter`` is the first day of the calendar quarter of
    a week's Monday (weeks belong to the quarter of their Monday), from the
    customer's first week to the end of the data. ``tier`` is ``new`` for
    customers acquired less than 90 days before the quarter starts (or during
    it), otherwise ``core`` / ``potential`` / ``mass`` by the rank of their
    spend in the 365 days before the quarter within region and quarter (top
    10 %, next 30 %, rest). The data contract has no observed tier; this
    proxy stands in for the value score of the tiers analysis.
    """
    core = TIER_PROXY_SHARES["core"]
    pot = core + TIER_PROXY_SHARES["potential"]
    return f"""
    SELECT customer_id, region, kos_id, acquisition_channel, acquired_at, quarter,
           CASE WHEN is_new THEN 'new'
                WHEN spend_rank <= {core} THEN 'core'
                WHEN spend_rank <= {pot} THEN 'potential'
                ELSE 'mass' END AS tier
    FROM (
        SELECT cq.*, 
               CASE WHEN is_new THEN NULL ELSE
                 cume_dist() OVER (PARTITION BY region, quarter, is_new ORDER BY spend DESC) END AS spend_rank
        FROM (
            SELECT c.customer_id, c.region, c.kos_id, c.acquisition_channel, c.acquired_at, q.quarter,
                   c.acquired_at > q.quarter - INTERVAL 90 DAY AS is_new,
                   coalesce(sum(o.amount), 0) AS spend
            FROM customers c
            JOIN (
                SELECT DISTINCT CAST(date_trunc('quarter', w) AS DATE) AS quarter
                FROM generate_series(CAST(date_trunc('week', $data_start) AS TIMESTAMP),
                                     CAST({end_param} AS TIMESTAMP), INTERVAL 7 DAY) t(w)
            ) q ON q.quarter >= CAST(date_trunc('quarter', date_trunc('week', c.acquired_at)) AS DATE)
            LEFT JOIN orders o
              ON o.customer_id = c.customer_id
             AND o.ordered_at >= q.quarter - INTERVAL 365 DAY AND o.ordered_at < q.quarter
            GROUP BY ALL
        ) cq
    )
    """
