"""Customer journeys: the aggregated path table and the rule-based (heuristic) attribution models."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kosresearch._validation import check_positive, require_columns
from kosresearch.attribution._paths import PathTable, parse_paths
from kosresearch.errors import KosParameterError

__all__ = ["build_journeys", "heuristic_attribution", "HEURISTIC_MODELS"]

HEURISTIC_MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based")

_JOURNEY_SQL = """
WITH tp AS (
    SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(ts AS TIMESTAMP) AS ts,
           trim(CAST(channel AS VARCHAR)) AS channel, row_number() OVER () AS tp_row
    FROM _kos_tp
    WHERE channel IS NOT NULL AND ts IS NOT NULL AND customer_id IS NOT NULL
),
o AS (
    SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(ordered_at AS TIMESTAMP) AS o_ts,
           CAST(amount AS DOUBLE) AS amount, row_number() OVER (ORDER BY customer_id, ordered_at) AS o_row
    FROM _kos_orders
    WHERE ordered_at IS NOT NULL AND customer_id IS NOT NULL
),
-- each touch meets the customer's first order at or after it
matched AS (
    SELECT tp.customer_id, tp.ts, tp.channel, tp.tp_row, o.o_row, o.o_ts, o.amount
    FROM tp ASOF LEFT JOIN o ON tp.customer_id = o.customer_id AND tp.ts <= o.o_ts
),
flagged AS (
    SELECT *,
           (o_row IS NOT NULL AND epoch(o_ts) - epoch(ts) <= $lookback_s) AS converts
    FROM matched
),
-- unconverted touches: a new null journey starts after a silence longer than the lookback
-- or when an order lies between two touches
nulls_seq AS (
    SELECT *,
           CASE WHEN lag(ts) OVER w IS NULL
                  OR epoch(ts) - epoch(lag(ts) OVER w) > $lookback_s
                  OR coalesce(lag(o_row) OVER w, -1) <> coalesce(o_row, -1)
                THEN 1 ELSE 0 END AS new_journey
    FROM flagged
    WHERE NOT converts
    WINDOW w AS (PARTITION BY customer_id ORDER BY ts, tp_row)
),
null_journeys AS (
    SELECT customer_id,
           sum(new_journey) OVER (PARTITION BY customer_id ORDER BY ts, tp_row
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS j,
           ts, tp_row, channel
    FROM nulls_seq
),
paths AS (
    SELECT string_agg(channel, $sep ORDER BY ts, tp_row) AS path, 1 AS conversions,
           max(amount) AS value, 0 AS nulls
    FROM flagged WHERE converts
    GROUP BY o_row
    UNION ALL
    SELECT string_agg(channel, $sep ORDER BY ts, tp_row) AS path, 0 AS conversions,
           0.0 AS value, 1 AS nulls
    FROM null_journeys
    GROUP BY customer_id, j
)
SELECT path, CAST(sum(conversions) AS BIGINT) AS conversions, sum(value) AS value,
       CAST(sum(nulls) AS BIGINT) AS nulls
FROM paths
GROUP BY path
ORDER BY conversions DESC, nulls DESC, path
"""


def build_journeys(touchpoints: pd.DataFrame, orders: pd.DataFrame, *, lookback_days: float = 30) -> pd.DataFrame:
    """Aggregate touchpoints into the conventional path table of multi-touch attribution.

    Parameters
    ----------
    touchpoints : DataFrame
        ``customer_id, ts, channel`` (the contract's ``touchpoints`` table;
        other columns are ignored).
    orders : DataFrame
        ``customer_id, ordered_at, amount`` (the contract's ``orders`` table).
    lookback_days : float, default 30
        A touch belongs to a conversion when the customer's next order follows
        it within this many days.

    Returns
    -------
    DataFrame
        One row per distinct path: ``path`` (channels in time order joined by
        ``>``), ``conversions`` (journeys of this path ending in an order),
        ``value`` (their order amounts, CNY) and ``nulls`` (journeys of this
        path without an order).

    Raises
    ------
    KosDataError
        A required column is missing.
    KosParameterError
        ``lookback_days`` is not positive.

    See Also
    --------
    heuristic_attribution, markov_attribution, shapley_attribution

    Notes
    -----
    Built in DuckDB. Each touch is matched (ASOF join) to the customer's first
    order at or after it; touches within ``lookback_days`` of that order form
    its converting journey, so each touch is credited to at most one order
    and an order's journey never reaches back past the previous order.
    Unconverted touches form null journeys: a customer's unconverted touches
    in time order, split where the silence between two touches exceeds
    ``lookback_days`` or where an order lies between them. Orders without
    touches in their window are not journeys. Null journeys whose last touch
    lies within ``lookback_days`` of the end of the data may still convert
    later (right censoring); with a long window this is a small share.
    """
    import duckdb

    check_positive("lookback_days", lookback_days)
    require_columns(touchpoints, {"customer_id": "customer_id", "ts": "ts", "channel": "channel"}, name="touchpoints")
    require_columns(orders, {"customer_id": "customer_id", "ordered_at": "ordered_at", "amount": "amount"},
                    numeric=["amount"], name="orders")
    con = duckdb.connect()
    try:
        con.register("_kos_tp", touchpoints[["customer_id", "ts", "channel"]])
        con.register("_kos_orders", orders[["customer_id", "ordered_at", "amount"]])
        out = con.execute(_JOURNEY_SQL, {"lookback_s": float(lookback_days) * 86400.0, "sep": ">"}).df()
    finally:
        con.close()
    out["conversions"] = out["conversions"].astype("int64")
    out["nulls"] = out["nulls"].astype("int64")
    out["value"] = out["value"].astype(float)
    return out.reset_index(drop=True)


def _credit_matrices(pt: PathTable, *, half_life: float, position_weights: tuple[float, float, float]) -> dict[str, np.ndarray]:
    """Per model, the touch weights (summing to 1 within each path)."""
    L = pt.lengths
    pos = pt.position
    Lt = np.repeat(L, L)
    first = pos == 0
    last = pos == Lt - 1
    w: dict[str, np.ndarray] = {}
    w["first_touch"] = first.astype(float)
    w["last_touch"] = last.astype(float)
    w["linear"] = 1.0 / Lt
    decay = np.power(0.5, (Lt - 1 - pos) / half_life)
    w["time_decay"] = decay / np.repeat(np.bincount(pt.path_of_touch, decay, minlength=pt.n_paths), L)
    a, b, c = position_weights
    pb = np.where(first, a, np.where(last, c, 0.0))
    mid = ~first & ~last
    n_mid = np.maximum(Lt - 2, 1)
    pb = np.where(mid, b / n_mid, pb)
    pb = pb / np.repeat(np.bincount(pt.path_of_touch, pb, minlength=pt.n_paths), L)
    w["position_based"] = pb
    return w


def heuristic_credit(pt: PathTable, weights: dict[str, np.ndarray], conversions: np.ndarray) -> dict[str, np.ndarray]:
    """Conversions credited to each channel by each model, for per-path ``conversions``."""
    conv_t = np.repeat(conversions, pt.lengths)
    k = len(pt.channels)
    return {m: np.bincount(pt.codes, wt * conv_t, minlength=k) for m, wt in weights.items()}


def heuristic_attribution(
    journeys: pd.DataFrame,
    *,
    path_col: str = "path",
    conversions_col: str = "conversions",
    value_col: str | None = None,
    sep: str = ">",
    half_life: float = 7,
    position_weights: tuple[float, float, float] = (0.4, 0.2, 0.4),
) -> pd.DataFrame:
    """Credit conversions to channels by the five rule-based attribution models.

    Parameters
    ----------
    journeys : DataFrame
        Aggregated path table (see :func:`build_journeys`).
    path_col, conversions_col : str
        Columns holding the path (channels joined by ``sep``) and its conversions.
    value_col : str, optional
        Column of conversion value; when given, value is credited too.
    sep : str, default ">"
        Separator of channels in a path; channel names are stripped of
        surrounding spaces.
    half_life : float, default 7
        Time-decay half life, in touches before the conversion (an aggregated
        path table carries no timestamps): a touch ``k`` steps before the
        last one weighs ``0.5 ** (k / half_life)``.
    position_weights : tuple of 3 floats, default (0.4, 0.2, 0.4)
        Position-based (U-shaped) shares of the first touch, of all middle
        touches together, and of the last touch. Paths of one touch give it
        everything; paths of two split first/last in proportion.

    Returns
    -------
    DataFrame
        One row per channel: ``channel, first_touch, last_touch, linear,
        time_decay, position_based`` (conversions credited); with
        ``value_col`` also ``first_touch_value`` ... ``position_based_value``.
        Each model's column sums to the total conversions.

    Raises
    ------
    KosDataError
        A column is missing or holds negative / non-numeric counts.
    KosParameterError
        ``half_life`` not positive, ``position_weights`` not three
        non-negative numbers with a positive sum.

    See Also
    --------
    markov_attribution, shapley_attribution, compare_attribution

    Notes
    -----
    Linear splits each conversion equally over all touches of its path,
    repeated touches counted (a path ``a > a > b`` gives ``a`` two thirds).
    These rules are conventions, not estimates of causal contribution; the
    data-driven models (Markov removal effects, Anderl et al. 2016; Shapley
    values, Zhao et al. 2018) are compared with them in
    :func:`compare_attribution`.

    Examples
    --------
    >>> import pandas as pd
    >>> j = pd.DataFrame({"path": ["a", "a > b"], "conversions": [1, 1]})
    >>> heuristic_attribution(j)[["channel", "first_touch", "last_touch", "linear"]]
      channel  first_touch  last_touch  linear
    0       a          2.0         1.0     1.5
    1       b          0.0         1.0     0.5
    """
    check_positive("half_life", half_life)
    _check_position_weights(position_weights)
    pt = parse_paths(journeys, path_col=path_col, conversions_col=conversions_col, nulls_col=None,
                     value_col=value_col, sep=sep)
    weights = _credit_matrices(pt, half_life=float(half_life), position_weights=tuple(map(float, position_weights)))
    credit = heuristic_credit(pt, weights, pt.conversions)
    out = pd.DataFrame({"channel": pt.channels, **credit})
    if value_col is not None:
        vcredit = heuristic_credit(pt, weights, pt.value)
        for m in HEURISTIC_MODELS:
            out[f"{m}_value"] = vcredit[m]
    return out


def _check_position_weights(position_weights) -> None:
    try:
        pw = [float(x) for x in position_weights]
    except (TypeError, ValueError):
        pw = []
    if len(pw) != 3 or min(pw) < 0 or sum(pw) <= 0:
        raise KosParameterError(
            f"position_weights={position_weights!r} must be three non-negative numbers "
            "(first, middle, last) with a positive sum, e.g. (0.4, 0.2, 0.4)"
        )
