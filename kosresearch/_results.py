"""Shared pieces of result objects: tidy estimate tables, intervals, HTML display.

Every analysis returns either a plain tidy DataFrame or a small frozen
dataclass deriving from :class:`Result`: ``.table`` (machine columns,
snake_case, one row per estimate), ``.summary()`` (a DataFrame with display
rounding; it returns, it never prints) and ``.plot(*, ax=None)`` (draws on the
given Axes, or a new figure, and returns the Axes).

Machine column names are stable across the package: ``estimate``,
``std_error``, ``statistic``, ``p_value``, ``conf_low``, ``conf_high``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from kosresearch._validation import check_conf_level

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["Result", "critical_value", "normal_interval", "wilson_interval", "tidy_estimates", "new_axes"]

ESTIMATE_COLUMNS = ("term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")


def critical_value(conf_level: float, *, df: float | None = None) -> float:
    """Two-sided critical value of the normal (or Student t with ``df``) distribution."""
    from scipy import stats

    check_conf_level(conf_level)
    q = 0.5 + conf_level / 2.0
    return float(stats.norm.ppf(q) if df is None else stats.t.ppf(q, df))


def normal_interval(estimate, std_error, conf_level: float = 0.95, *, df: float | None = None):
    """``(conf_low, conf_high)`` of a normal (or t) interval, vectorised."""
    c = critical_value(conf_level, df=df)
    est = np.asarray(estimate, dtype=float)
    se = np.asarray(std_error, dtype=float)
    return est - c * se, est + c * se


def wilson_interval(successes, trials, conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """``(conf_low, conf_high)`` of the Wilson score interval of a proportion, vectorised (NaN where ``trials`` is 0)."""
    z = critical_value(conf_level)
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return np.where(n > 0, centre - half, np.nan), np.where(n > 0, centre + half, np.nan)


def tidy_estimates(
    terms,
    estimate,
    std_error,
    *,
    conf_level: float = 0.95,
    df: float | None = None,
    null: float = 0.0,
) -> pd.DataFrame:
    """A tidy table of Wald estimates: term, estimate, std_error, statistic, p_value, conf_low, conf_high.

    ``df=None`` uses the normal distribution, otherwise Student t with ``df``
    degrees of freedom; ``statistic = (estimate - null) / std_error``.
    """
    from scipy import stats

    est = np.asarray(estimate, dtype=float)
    se = np.asarray(std_error, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = (est - null) / se
    dist = stats.norm if df is None else stats.t(df)
    p = 2.0 * dist.sf(np.abs(stat))
    lo, hi = normal_interval(est, se, conf_level, df=df)
    return pd.DataFrame(
        {"term": list(terms), "estimate": est, "std_error": se, "statistic": stat, "p_value": p,
         "conf_low": lo, "conf_high": hi}
    )


def new_axes(ax: "Axes | None" = None, *, figsize: tuple[float, float] = (7.0, 4.0)) -> "Axes":
    """Return ``ax`` or the Axes of a new figure (never the pyplot current Axes)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


@dataclass(frozen=True)
class Result:
    """Base of result objects.

    Attributes
    ----------
    table : DataFrame
        Tidy machine-readable results, one row per estimate.
    conf_level : float
        Confidence level of the intervals in ``table``.
    """

    table: pd.DataFrame
    conf_level: float

    #: display names of ``table`` columns used by :meth:`summary` (subclasses extend)
    _display_names = {
        "term": "term",
        "estimate": "estimate",
        "std_error": "std. error",
        "statistic": "statistic",
        "p_value": "p-value",
        "conf_low": "CI low",
        "conf_high": "CI high",
    }

    def summary(self, *, digits: int = 3) -> pd.DataFrame:
        """The table rounded for display, with the confidence level in the interval headers."""
        out = self.table.copy()
        numeric = out.select_dtypes("number").columns
        out[numeric] = out[numeric].round(digits)
        pct = f"{self.conf_level:.0%}"
        names = {k: v for k, v in self._display_names.items() if k in out.columns}
        names = {k: (f"{v} ({pct})" if k in ("conf_low", "conf_high") else v) for k, v in names.items()}
        return out.rename(columns=names)

    def plot(self, *, ax: "Axes | None" = None) -> "Axes":  # pragma: no cover - overridden
        raise NotImplementedError(f"{type(self).__name__} has no plot")

    def _repr_html_(self) -> str:
        # DataFrame.to_html escapes cell text, so data-derived strings are safe;
        # customer IDs are pseudonymised wherever they appear
        from kosresearch.report.text import mask_customer_ids

        return mask_customer_ids(self.summary()).to_html(index=False, border=0, classes="kos-table")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self.table)} rows, conf_level={self.conf_level}>\n{self.summary().to_string(index=False)}"


Alternative = Literal["two-sided", "greater", "less"]
