"""Data health of one region: coverage, validation, missingness and monthly KPIs.

The logic of ``notebooks/00_data_health.ipynb``. Every function takes an open
:class:`~kosresearch.data.loader.Dataset` (usually one region, from
:func:`kosresearch.load_region`) and returns a tidy DataFrame; aggregation
runs as SQL in DuckDB, pandas only holds the small results.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kosresearch.data._source import quote_ident
from kosresearch.data.contract import TABLES, region_label
from kosresearch.report.headlines import Headline, format_number
from kosresearch.report.text import check_lang, label, md_text, pretty, t, table_label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from kosresearch.data.loader import Dataset

__all__ = [
    "KPI_COLUMNS",
    "table_coverage",
    "validation_summary",
    "missingness",
    "monthly_kpis",
    "format_kpis",
    "health_headlines",
    "health_digest",
    "health_narrative",
    "plot_monthly_kpis",
    "plot_missingness",
]

#: Monthly KPI columns of :func:`monthly_kpis`, in display order.
KPI_COLUMNS: tuple[str, ...] = ("sales", "orders", "new_customers", "active_kos", "posts", "messages")


def table_coverage(ds: Dataset) -> pd.DataFrame:
    """Rows and time span of every contract table.

    Parameters
    ----------
    ds : Dataset
        An open dataset.

    Returns
    -------
    pandas.DataFrame
        One row per contract table, in contract order, with columns
        ``table``, ``present`` (bool), ``rows`` (0 when absent),
        ``time_column`` (None for a table without one), ``first`` and
        ``last`` (NaT when absent, empty or untimed).
    """
    coverage = ds.coverage.set_index("table")
    rows = []
    for table in TABLES:
        present = table.name in coverage.index
        rows.append(
            {
                "table": table.name,
                "present": present,
                "rows": int(coverage.at[table.name, "rows"]) if present else 0,
                "time_column": table.time_column,
                "first": coverage.at[table.name, "first"] if present else pd.NaT,
                "last": coverage.at[table.name, "last"] if present else pd.NaT,
            }
        )
    out = pd.DataFrame(rows)
    out["first"] = pd.to_datetime(out["first"])
    out["last"] = pd.to_datetime(out["last"])
    return out


def validation_summary(ds: Dataset) -> pd.DataFrame:
    """Problems the contract validation found, without example values.

    Example values are left out because they may be raw customer IDs; use
    ``kosresearch validate`` to see them.

    Parameters
    ----------
    ds : Dataset
        An open dataset.

    Returns
    -------
    pandas.DataFrame
        Columns ``table``, ``column``, ``check``, ``n_bad``; empty when the
        data are clean.
    """
    report = ds.validation
    return report.loc[:, ["table", "column", "check", "n_bad"]].reset_index(drop=True)


def missingness(ds: Dataset) -> pd.DataFrame:
    """Missing values per column of every present table.

    Parameters
    ----------
    ds : Dataset
        An open dataset.

    Returns
    -------
    pandas.DataFrame
        One row per (table, column), in contract order, with columns
        ``table``, ``column``, ``nullable`` (the contract allows nulls),
        ``n_rows``, ``n_missing`` and ``share_missing`` (NaN for an empty table).
    """
    rows = []
    for table in TABLES:
        if not ds.has(table.name):
            continue
        counts = ", ".join(f"count({quote_ident(c.name)}) AS {quote_ident(c.name)}" for c in table.columns)
        found = ds.sql(f"SELECT count(*) AS __n, {counts} FROM {quote_ident(table.name)}").iloc[0]
        n_rows = int(found["__n"])
        rows += [
            {
                "table": table.name,
                "column": col.name,
                "nullable": col.nullable,
                "n_rows": n_rows,
                "n_missing": n_rows - int(found[col.name]),
            }
            for col in table.columns
        ]
    out = pd.DataFrame(rows, columns=["table", "column", "nullable", "n_rows", "n_missing"])
    out["share_missing"] = (out["n_missing"] / out["n_rows"].where(out["n_rows"] > 0)).astype(float)
    return out


# Money is summed as DECIMAL: exact, so the result does not depend on the
# order in which DuckDB's threads add the rows (same inputs -> same numbers).
_EXACT_SUM = "CAST(sum(CAST(amount AS DECIMAL(38, 4))) AS DOUBLE)"

_KPI_SQL = {
    "orders": f"SELECT date_trunc('month', ordered_at) AS month, {_EXACT_SUM} AS sales, count(*) AS orders "
    "FROM orders GROUP BY 1",
    "customers": "SELECT date_trunc('month', acquired_at) AS month, count(*) AS new_customers "
    "FROM customers GROUP BY 1",
    "content": "SELECT date_trunc('month', posted_at) AS month, count(*) AS posts FROM content GROUP BY 1",
    "messages": "SELECT date_trunc('month', ts) AS month, count(*) AS messages FROM messages GROUP BY 1",
}

_ACTIVE_KOS_PARTS = {
    "orders": "SELECT ordered_at AS ts, kos_id FROM orders WHERE kos_id IS NOT NULL",
    "content": "SELECT posted_at AS ts, kos_id FROM content",
    "messages": "SELECT ts, kos_id FROM messages WHERE sender = 'kos'",
}


def _active_kos_source(ds: Dataset) -> str | None:
    parts = [sql for name, sql in _ACTIVE_KOS_PARTS.items() if ds.has(name)]
    return " UNION ALL ".join(parts) if parts else None


def monthly_kpis(ds: Dataset) -> pd.DataFrame:
    """Monthly sales, orders, new customers, active KOS, posts and messages.

    A KOS is *active* in a month when they are credited with an order,
    publish a post or send a message in it.

    Parameters
    ----------
    ds : Dataset
        An open dataset (optional tables ``content`` and ``messages`` may be
        absent; their KPIs are then missing).

    Returns
    -------
    pandas.DataFrame
        One row per calendar month from the first to the last month with any
        activity, with columns ``month`` (month start) and :data:`KPI_COLUMNS`.
        Counts are 0 in months without events of a present table, and
        ``<NA>`` for an absent table; ``sales`` is in CNY.
    """
    parts = [ds.sql(sql).set_index("month") for name, sql in _KPI_SQL.items() if ds.has(name)]
    active = _active_kos_source(ds)
    if active is not None:
        parts.append(
            ds.sql(
                f"SELECT date_trunc('month', ts) AS month, count(DISTINCT kos_id) AS active_kos "
                f"FROM ({active}) GROUP BY 1"
            ).set_index("month")
        )
    wide = pd.concat(parts, axis=1, sort=True) if parts else pd.DataFrame()
    if wide.empty:
        return pd.DataFrame({"month": pd.Series(dtype="datetime64[us]")} | {c: pd.Series(dtype="Int64") for c in KPI_COLUMNS})
    wide.index = pd.to_datetime(wide.index)
    months = pd.date_range(wide.index.min(), wide.index.max(), freq="MS", name="month")
    wide = wide.reindex(months)
    out = pd.DataFrame({"month": months})
    for col in KPI_COLUMNS:
        if col not in wide.columns:
            out[col] = pd.array([pd.NA] * len(months), dtype="Int64")
        elif col == "sales":
            out[col] = wide[col].fillna(0.0).astype(float).to_numpy()
        else:
            out[col] = wide[col].fillna(0).astype("int64").to_numpy()
    return out


def format_kpis(kpis: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """Return the monthly KPI table with ``YYYY-MM`` months, rounded sales and display headers."""
    out = kpis.copy()
    out["month"] = out["month"].dt.strftime("%Y-%m")
    out["sales"] = out["sales"].round(0)
    return pretty(out, lang=lang)


def health_headlines(ds: Dataset, *, lang: str, conf_level: float = 0.95) -> list[Headline]:
    """Headline figures of a region's data: sales, customers, active KOS, order value.

    Parameters
    ----------
    ds : Dataset
        An open dataset.
    lang : {"zh", "en"}
        Language of the labels.
    conf_level : float, default 0.95
        Level of the t-interval of the mean order value.

    Returns
    -------
    list of Headline
        ``total_sales`` (CNY), ``orders``, ``customers``, ``active_kos``
        (exact counts, no interval) and ``mean_order_value`` (CNY, with a
        t-interval over orders).
    """
    from scipy import stats

    check_lang(lang)
    o = ds.sql(
        f"SELECT {_EXACT_SUM} AS s, count(*) AS n, "
        "CAST(sum(CAST(amount AS DECIMAL(38, 4)) * CAST(amount AS DECIMAL(38, 4))) AS DOUBLE) AS ss FROM orders"
    ).iloc[0]
    n_customers = int(ds.sql("SELECT count(*) AS n FROM customers").iloc[0]["n"])
    active = _active_kos_source(ds)
    n_active = int(ds.sql(f"SELECT count(DISTINCT kos_id) AS n FROM ({active})").iloc[0]["n"]) if active else 0
    n = int(o["n"])
    total = float(o["s"]) if n else 0.0
    mean = total / n if n else math.nan
    half = math.nan
    if n > 1:
        variance = max(float(o["ss"]) - n * mean * mean, 0.0) / (n - 1)
        half = float(stats.t.ppf(0.5 + conf_level / 2, n - 1) * math.sqrt(variance / n))
    return [
        Headline("total_sales", t("销售额", "Total sales", lang), total, unit="CNY"),
        Headline("orders", t("订单数", "Orders", lang), n),
        Headline("customers", t("客户数", "Customers", lang), n_customers),
        Headline("active_kos", t("活跃 KOS 数", "Active KOS", lang), n_active),
        Headline(
            "mean_order_value",
            t("平均客单价", "Mean order value", lang),
            mean,
            conf_low=mean - half,
            conf_high=mean + half,
            unit="CNY",
        ),
    ]


def health_digest(coverage: pd.DataFrame, kpis: pd.DataFrame) -> str:
    """Deterministic text summary (row counts, months, total sales) for regression tests.

    Parameters
    ----------
    coverage : pandas.DataFrame
        Output of :func:`table_coverage`.
    kpis : pandas.DataFrame
        Output of :func:`monthly_kpis`.

    Returns
    -------
    str
        One ``name value`` line per table, then months and total sales.
    """
    lines = [f"{row.table} {row.rows}" for row in coverage.itertuples()]
    lines.append(f"months {len(kpis)}")
    lines.append(f"total_sales {kpis['sales'].sum():.2f}")
    return "\n".join(lines)


def health_narrative(
    coverage: pd.DataFrame,
    kpis: pd.DataFrame,
    validation: pd.DataFrame,
    *,
    region: str,
    lang: str,
) -> str:
    """A short Markdown paragraph describing a region's data health.

    Parameters
    ----------
    coverage, kpis, validation : pandas.DataFrame
        Outputs of :func:`table_coverage`, :func:`monthly_kpis` and
        :func:`validation_summary`.
    region : str
        Region code.
    lang : {"zh", "en"}
        Language.

    Returns
    -------
    str
        Markdown; every data-derived string is escaped with :func:`md_text`.
    """
    check_lang(lang)
    present = coverage[coverage["present"]]
    absent = [table_label(n, lang=lang) for n in coverage.loc[~coverage["present"], "table"]]
    name = md_text(region_label(region, lang))
    first = kpis["month"].min()
    last = kpis["month"].max()
    span = f"{first:%Y-%m} – {last:%Y-%m}" if len(kpis) else "–"
    total = format_number(float(kpis["sales"].sum())) if len(kpis) else "0"
    n_problems = len(validation)
    if lang == "zh":
        text = (
            f"**{name}** 区域共有 {len(present)} 张表、{format_number(float(present['rows'].sum()))} 行数据，"
            f"月度指标覆盖 {span}（{len(kpis)} 个月），累计销售额 {total} 元。"
        )
        text += f" 缺少的可选表：{md_text('、'.join(absent))}。" if absent else " 13 张表齐全。"
        text += " 数据通过了全部契约校验。" if n_problems == 0 else f" 契约校验发现 {n_problems} 类问题，见上表。"
    else:
        text = (
            f"Region **{name}** has {len(present)} tables with {format_number(float(present['rows'].sum()))} rows; "
            f"monthly KPIs cover {span} ({len(kpis)} months) with total sales of CNY {total}."
        )
        text += f" Optional tables absent: {md_text(', '.join(absent))}." if absent else " All 13 tables are present."
        text += (
            " The data pass every contract check."
            if n_problems == 0
            else f" Validation found {n_problems} kinds of problems, listed above."
        )
    return text


def _thousands(value: float, _pos: object) -> str:
    return f"{value:,.0f}"


def plot_monthly_kpis(kpis: pd.DataFrame, *, lang: str, axes: Any = None) -> np.ndarray:
    """Small multiples of the monthly KPIs, one panel per KPI.

    Parameters
    ----------
    kpis : pandas.DataFrame
        Output of :func:`monthly_kpis`.
    lang : {"zh", "en"}
        Language of the titles.
    axes : array of matplotlib Axes, optional
        At least ``len(KPI_COLUMNS)`` axes to draw on; a new 2×3 figure when None.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        The axes drawn on.
    """
    from matplotlib.dates import DateFormatter, MonthLocator, YearLocator
    from matplotlib.ticker import FuncFormatter

    check_lang(lang)
    if axes is None:
        import matplotlib.pyplot as plt

        # no layout engine: it doubles the drawing time, and notebooks save
        # figures with bbox_inches="tight" anyway
        fig, axes = plt.subplots(2, 3, figsize=(12, 6), sharex=True)
        fig.subplots_adjust(wspace=0.3, hspace=0.25)
    flat = np.asarray(axes).ravel()
    for ax, col in zip(flat, KPI_COLUMNS, strict=False):
        values = kpis[col].astype(float)
        ax.plot(kpis["month"], values, marker="o", markersize=3)
        ax.set_title(label(col, lang=lang))
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.xaxis.set_major_locator(YearLocator())
        ax.xaxis.set_major_formatter(DateFormatter("%Y"))
        ax.xaxis.set_minor_locator(MonthLocator(bymonth=(4, 7, 10)))
    return flat


def plot_missingness(miss: pd.DataFrame, *, lang: str, ax: Axes | None = None) -> Axes:
    """Horizontal bars of the share of missing values, for columns with any missing.

    Parameters
    ----------
    miss : pandas.DataFrame
        Output of :func:`missingness`.
    lang : {"zh", "en"}
        Language of the labels.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    check_lang(lang)
    some = miss[miss["n_missing"] > 0]
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 0.3 * max(len(some), 3) + 1))
    names = [f"{table_label(tb, lang=lang)}.{col}" for tb, col in zip(some["table"], some["column"], strict=True)]
    ax.barh(names, some["share_missing"])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(label("share_missing", lang=lang))
    ax.set_title(t("缺失值比例（仅含缺失的列）", "Share of missing values (columns with any)", lang))
    return ax
