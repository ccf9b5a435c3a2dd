"""Descriptive period comparisons on the Chinese retail calendar (not causal estimates)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from kosresearch._results import Result, new_axes
from kosresearch._validation import check_choice, require_columns
from kosresearch.calendar import EVENT_LABELS, LUNAR_EVENTS, LUNAR_NEW_YEAR, lunar_new_year, retail_events
from kosresearch.errors import KosDataError, KosParameterError
from kosresearch.report.text import check_lang, t

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["compare_periods", "PeriodComparison", "DESCRIPTIVE_NOTE"]

DESCRIPTIVE_NOTE = {
    "en": "Descriptive comparison, not a causal estimate: the periods differ in more than the programme.",
    "zh": "描述性对比，并非因果估计：两个时期之间的差异不只来自项目本身。",
}

#: Chinese names of the two periods in the figure's legend
_PERIOD_NAMES_ZH = {"before": "对比期", "after": "关注期"}

_ALIASES = {"38": "womens_day", "3.8": "womens_day", "三八": "womens_day", "三八节": "womens_day",
            "双11": "double11", "双十一": "double11", "11.11": "double11", "双12": "double12", "12.12": "double12",
            "春节": "cny", "spring_festival": "cny", "lny": "cny", "年货节": "pre_cny"}


def _parse_period(spec: Any, name: str) -> tuple[dt.date, dt.date, str, str | None, int | None]:
    """``(first, last, label, event, year)`` of a period given as ``(start, end)`` or ``"<event> <year>"``."""
    if isinstance(spec, str):
        parts = spec.replace(":", " ").split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise KosParameterError(
                f"{name}={spec!r} must be a (start, end) pair of dates or '<event> <year>', e.g. 'cny 2025' or '618 2024'; "
                f"events: {sorted(EVENT_LABELS)}"
            )
        event = _ALIASES.get(parts[0].lower(), parts[0].lower())
        year = int(parts[1])
        windows = retail_events(year)
        if event not in windows:
            raise KosParameterError(f"{name}={spec!r}: unknown event {parts[0]!r}; choose one of {sorted(windows)}")
        first, last = windows[event]
        return first, last, f"{EVENT_LABELS[event]['en']} {year}", event, year
    try:
        start, end = spec
        first, last = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    except (TypeError, ValueError):
        raise KosParameterError(f"{name}={spec!r} must be a (start, end) pair of dates or '<event> <year>'") from None
    if last < first:
        raise KosParameterError(f"{name}={spec!r} ends before it starts")
    return first, last, f"{first} to {last}", None, None


def _label_zh(first: dt.date, last: dt.date, event: str | None, year: int | None) -> str:
    """Chinese label of a period: the event name and year, or the date range."""
    return f"{EVENT_LABELS[event]['zh']} {year}" if event is not None else f"{first} 至 {last}"


def _shift_back(first: dt.date, last: dt.date, align: str) -> tuple[dt.date, dt.date]:
    if align == "calendar":
        days = dt.timedelta(days=364)  # 52 weeks: same weekdays
        return first - days, last - days
    # the Spring Festival nearest to the period anchors it; last year's festival places the copy
    anchor = min((lunar_new_year(y) for y in (first.year - 1, first.year, first.year + 1) if y in LUNAR_NEW_YEAR),
                 key=lambda d: abs((first - d).days))
    prev = lunar_new_year(anchor.year - 1)
    return prev + (first - anchor), prev + (last - anchor)


@dataclass(frozen=True, repr=False)
class PeriodComparison(Result):
    """A descriptive before / after (or year-on-year) comparison.

    Attributes
    ----------
    table : DataFrame
        Rows ``before`` and ``after``: ``period, label, first, last, n_obs,
        total, mean`` (mean per row of data inside the period).
    conf_level : float
        Unused (descriptive); kept for the shared base.
    change : float
        ``after.total - before.total``.
    relative_change : float
        ``change / before.total``.
    align : str
        How the two periods were matched: ``"lunar"`` or ``"calendar"`` when
        the earlier period is the later one shifted back a year that way,
        ``"event"`` when both are the same named retail event (``"lunar"`` for the
        Spring Festival windows, which follow the lunar calendar), ``"given"``
        when ``before`` was given.
    kind : str
        Always ``"descriptive"``.
    note : dict
        The descriptive-not-causal label in ``zh`` and ``en``.
    series : DataFrame
        ``period, offset (days from the period start), value`` for the plot.
    labels_zh : dict
        The Chinese ``label`` of each period (``before``, ``after``), for ``plot(lang="zh")``.
    """

    change: float = float("nan")
    relative_change: float = float("nan")
    align: str = "lunar"
    kind: str = "descriptive"
    note: dict[str, str] = field(default_factory=lambda: dict(DESCRIPTIVE_NOTE))
    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    labels_zh: dict[str, str] = field(default_factory=dict)

    def summary(self, *, digits: int = 3) -> pd.DataFrame:
        out = self.table.copy()
        out.loc[len(out)] = {"period": "change", "label": "after - before (descriptive, not causal)",
                             "total": self.change, "mean": self.table["mean"].iloc[1] - self.table["mean"].iloc[0]}
        num = out.select_dtypes("number").columns
        out[num] = out[num].round(digits)
        return out

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """The measure of both periods by day from each period's start; ``lang`` (``"zh"`` or ``"en"``) sets the labels."""
        zh = check_lang(lang) == "zh"
        ax = new_axes(ax)
        for (period, sub), colour in zip(self.series.groupby("period", sort=False), ("#999999", "#4C72B0")):
            label = self.table.set_index("period").loc[period, "label"]
            if zh:
                text = f"{_PERIOD_NAMES_ZH.get(period, period)}：{self.labels_zh.get(period, label)}"
            else:
                text = f"{period}: {label}"
            ax.plot(sub["offset"], sub["value"], marker="o", ms=3, color=colour, label=text)
        zh_how, en_how = {"lunar": ("（按农历对齐）", " (aligned by lunar date)"),
                          "event": ("（按节庆名称对齐）", " (aligned by event)")}.get(self.align, ("", ""))
        ax.set_xlabel(t("距时期开始的天数" + zh_how, "days from the start of the period" + en_how, lang))
        ax.legend(fontsize="small")
        ax.set_title(t("描述性对比（非因果）", "Descriptive comparison (not causal)", lang))
        return ax


def compare_periods(
    data: pd.DataFrame,
    *,
    value_col: str,
    time_col: str,
    before: Any,
    after: Any,
    align: Literal["lunar", "calendar"] = "lunar",
) -> PeriodComparison:
    """Compare a measure between two periods, aligned on the Chinese retail calendar. Descriptive, not causal.

    Parameters
    ----------
    data : DataFrame
        One row per period of observation (day or week), e.g. a region's sales.
    value_col : str
        Numeric measure, summed within each period.
    time_col : str
        Date of each row (a week is matched by its ``time_col`` date).
    before : (start, end), str or None
        The comparison period: dates, a named window ``"<event> <year>"``
        (``cny``, ``pre_cny``, ``womens_day``/``38``, ``618``,
        ``double11``/``双11``, ``double12``), or ``None`` for the same period
        one year before ``after``.
    after : (start, end) or str
        The period of interest.
    align : {"lunar", "calendar"}, default "lunar"
        How ``before=None`` finds last year's period: ``lunar`` keeps the
        distance to Spring Festival (春节 moves by up to a month), ``calendar``
        goes back 52 weeks (same weekdays). Named windows are always aligned
        by name (618 with 618, Spring Festival with Spring Festival).

    Returns
    -------
    PeriodComparison
        ``.table`` (before / after totals), ``.change``, ``.relative_change``,
        ``.note`` (descriptive label, zh / en), ``.plot()``.

    Raises
    ------
    KosDataError
        Missing columns, a period with no data.
    KosParameterError
        A period that cannot be parsed, an unknown ``align``.

    Notes
    -----
    A before/after or year-on-year difference mixes the programme with
    everything else that changed (trend, prices, competitors, the calendar
    itself); it is reported as description only. The causal questions are
    answered by :func:`programme_effect` and :func:`causal_impact`.
    """
    check_choice("align", align, ("lunar", "calendar"))
    require_columns(data, {"value_col": value_col, "time_col": time_col}, numeric=["value_col"])
    a_first, a_last, a_label, a_event, a_year = _parse_period(after, "after")
    labels_zh = {"after": _label_zh(a_first, a_last, a_event, a_year)}
    # naming a lunar-dated window (Spring Festival) aligns it by lunar date
    named = "lunar" if a_event in LUNAR_EVENTS else "event"
    matched = "given" if before is not None else (named if a_event is not None else align)
    if before is None:
        if a_event is not None:
            b_first, b_last = retail_events(a_year - 1)[a_event]
            b_label = f"{EVENT_LABELS[a_event]['en']} {a_year - 1}"
            labels_zh["before"] = _label_zh(b_first, b_last, a_event, a_year - 1)
        else:
            b_first, b_last = _shift_back(a_first, a_last, align)
            b_label = f"{b_first} to {b_last} (same period last year, {align} aligned)"
            how = "按农历对齐" if align == "lunar" else "按公历对齐"
            labels_zh["before"] = f"{_label_zh(b_first, b_last, None, None)}（去年同期，{how}）"
    else:
        b_first, b_last, b_label, b_event, b_year = _parse_period(before, "before")
        labels_zh["before"] = _label_zh(b_first, b_last, b_event, b_year)
    t = pd.to_datetime(data[time_col]).dt.normalize()
    v = data[value_col].astype(float)
    rows, series = [], []
    for period, first, last, label in (("before", b_first, b_last, b_label), ("after", a_first, a_last, a_label)):
        inside = (t >= pd.Timestamp(first)) & (t <= pd.Timestamp(last))
        if not inside.any():
            raise KosDataError(
                f"{period} period {first} to {last} has no rows in data ({time_col!r} runs from {t.min().date()} to {t.max().date()})"
            )
        rows.append({"period": period, "label": label, "first": first, "last": last, "n_obs": int(inside.sum()),
                     "total": float(v[inside].sum()), "mean": float(v[inside].mean())})
        series.append(pd.DataFrame({"period": period, "offset": (t[inside] - pd.Timestamp(first)).dt.days.to_numpy(),
                                    "value": v[inside].to_numpy()}))
    table = pd.DataFrame(rows)
    change = table["total"].iloc[1] - table["total"].iloc[0]
    rel = change / table["total"].iloc[0] if table["total"].iloc[0] != 0 else float("nan")
    return PeriodComparison(table=table, conf_level=0.95, change=float(change), relative_change=float(rel), align=matched,
                            series=pd.concat(series, ignore_index=True), labels_zh=labels_zh)
