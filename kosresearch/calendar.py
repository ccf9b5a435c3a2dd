"""Chinese retail calendar: Spring Festival by lunar date and the named shopping festivals.

Used by the simulator to plant seasonality and by the descriptive comparisons
to align periods (Spring Festival moves by up to a month between years, so a
same-period-last-year comparison must align it by lunar date).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kosresearch.errors import KosParameterError

__all__ = ["LUNAR_NEW_YEAR", "LUNAR_EVENTS", "lunar_new_year", "retail_events", "retail_intensity", "EVENT_LABELS"]

#: Gregorian date of the first day of the lunar year (春节), 2015-2035.
#: Source: Hong Kong Observatory Gregorian-lunar calendar conversion tables.
LUNAR_NEW_YEAR: dict[int, dt.date] = {
    2015: dt.date(2015, 2, 19),
    2016: dt.date(2016, 2, 8),
    2017: dt.date(2017, 1, 28),
    2018: dt.date(2018, 2, 16),
    2019: dt.date(2019, 2, 5),
    2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12),
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
    2031: dt.date(2031, 1, 23),
    2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31),
    2034: dt.date(2034, 2, 19),
    2035: dt.date(2035, 2, 8),
}

EVENT_LABELS: dict[str, dict[str, str]] = {
    "pre_cny": {"zh": "年货节", "en": "Pre-Spring-Festival shopping"},
    "cny": {"zh": "春节", "en": "Spring Festival"},
    "womens_day": {"zh": "三八节", "en": "3.8 Women's Day"},
    "618": {"zh": "618", "en": "618"},
    "double11": {"zh": "双11", "en": "Double 11"},
    "double12": {"zh": "双12", "en": "Double 12"},
}


#: the windows of :func:`retail_events` that follow the lunar calendar (the others have fixed Gregorian dates)
LUNAR_EVENTS: frozenset[str] = frozenset({"pre_cny", "cny"})


def lunar_new_year(year: int) -> dt.date:
    """Return the Gregorian date of Spring Festival (春节) in ``year``."""
    try:
        return LUNAR_NEW_YEAR[year]
    except KeyError:
        raise KosParameterError(
            f"year={year!r} is outside the retail calendar; known years are "
            f"{min(LUNAR_NEW_YEAR)}-{max(LUNAR_NEW_YEAR)}"
        ) from None


def retail_events(year: int) -> dict[str, tuple[dt.date, dt.date]]:
    """Return the shopping-festival windows of ``year`` as inclusive (first, last) dates.

    ``pre_cny`` is the three weeks before Spring Festival, ``cny`` the
    festival week itself; ``womens_day`` is 1-8 March, ``618`` 1-18 June,
    ``double11`` 20 October - 11 November (pre-sales included), ``double12``
    6-12 December.
    """
    cny = lunar_new_year(year)
    return {
        "pre_cny": (cny - dt.timedelta(days=21), cny - dt.timedelta(days=1)),
        "cny": (cny, cny + dt.timedelta(days=6)),
        "womens_day": (dt.date(year, 3, 1), dt.date(year, 3, 8)),
        "618": (dt.date(year, 6, 1), dt.date(year, 6, 18)),
        "double11": (dt.date(year, 10, 20), dt.date(year, 11, 11)),
        "double12": (dt.date(year, 12, 6), dt.date(year, 12, 12)),
    }


#: multiplicative lift of shopping intensity inside each window
_LIFT = {"pre_cny": 1.45, "cny": 0.45, "womens_day": 1.25, "618": 1.6, "double11": 1.9, "double12": 1.2}


def retail_intensity(dates: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Relative daily shopping intensity (1.0 = an ordinary day) for each date.

    The week after Spring Festival is at 0.75; days of overlapping windows
    multiply. This is the seasonal shape the simulator plants; it is a
    stylised pattern, not an estimate for any brand.
    """
    days = pd.DatetimeIndex(dates).normalize()
    out = np.ones(len(days))
    for year in range(days.min().year - 1, days.max().year + 2):
        if year not in LUNAR_NEW_YEAR:
            continue
        for name, (first, last) in retail_events(year).items():
            inside = (days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))
            out[inside] *= _LIFT[name]
        cny = pd.Timestamp(lunar_new_year(year))
        after = (days > cny + pd.Timedelta(days=6)) & (days <= cny + pd.Timedelta(days=13))
        out[after] *= 0.75
    return out
