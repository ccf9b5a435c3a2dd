"""Headline figures: the few named numbers a notebook publishes for the index page.

A notebook calls :func:`publish_headlines` once, in a cell tagged
``headlines``. That displays ONE output whose ``application/json`` part the
report runner reads back with :func:`read_headlines`; its ``text/html`` part
shows the same figures in the report.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from kosresearch.errors import KosParameterError

__all__ = [
    "Headline",
    "HEADLINES_TAG",
    "publish_headlines",
    "headlines_output",
    "read_headlines",
    "format_number",
    "format_headline",
]

#: Tag of the notebook cell that publishes the headlines.
HEADLINES_TAG = "headlines"
_MARKER = "kosresearch.headlines"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Headline:
    """One headline figure.

    Attributes
    ----------
    name : str
        Machine name, an ASCII snake_case slug (``programme_att``).
    label : str
        Display label in the report language.
    estimate : float or None
        The number; ``None`` when it cannot be computed.
    conf_low, conf_high : float or None
        Interval bounds; ``None`` for exact counts.
    unit : str
        Unit, e.g. ``"CNY"`` or ``""``.
    """

    name: str
    label: str
    estimate: float | None
    conf_low: float | None = None
    conf_high: float | None = None
    unit: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise KosParameterError(
                f"name={self.name!r} is not a headline name; expected a snake_case ASCII slug"
            )
        if not isinstance(self.label, str):
            raise KosParameterError(f"label={self.label!r} must be a string")
        if not isinstance(self.unit, str):
            raise KosParameterError(f"unit={self.unit!r} must be a string")
        for field in ("estimate", "conf_low", "conf_high"):
            object.__setattr__(self, field, _number(field, getattr(self, field)))

    @classmethod
    def from_mapping(cls, item: Mapping[str, Any]) -> Headline:
        """Build a headline from a dict with the attribute names as keys."""
        unknown = set(item) - {"name", "label", "estimate", "conf_low", "conf_high", "unit"}
        if unknown:
            raise KosParameterError(
                f"headline keys {sorted(unknown)} are not allowed; allowed: "
                "['name', 'label', 'estimate', 'conf_low', 'conf_high', 'unit']"
            )
        try:
            return cls(**item)
        except TypeError as exc:
            raise KosParameterError(f"headline {dict(item)!r} is incomplete: {exc}") from None


def _number(field: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise KosParameterError(f"{field}={value!r} must be a number or None")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise KosParameterError(f"{field}={value!r} must be a number or None") from None
    return number if math.isfinite(number) else None


def _decimals(value: float) -> int:
    magnitude = abs(value)
    if magnitude >= 100:
        return 0
    if magnitude >= 1 or magnitude == 0:
        return 2
    return min(2 - math.floor(math.log10(magnitude)), 12)  # three significant digits


def format_number(value: float | None, *, decimals: int | None = None) -> str:
    """Format a number for display: thousands separators and sensible decimals.

    Whole numbers print without decimals; others with 0 decimals from 100 on,
    2 from 1 on and three significant digits below 1, unless ``decimals`` is given.

    Examples
    --------
    >>> format_number(1234567.891), format_number(12.0), format_number(0.01234), format_number(None)
    ('1,234,568', '12', '0.0123', '–')
    """
    if value is None or not math.isfinite(value):
        return "–"
    if decimals is None:
        decimals = 0 if float(value).is_integer() else _decimals(value)
    return f"{value:,.{decimals}f}"


def format_headline(item: Headline | Mapping[str, Any]) -> str:
    """Format ``estimate [conf_low, conf_high] unit``, bounds with the estimate's decimals.

    Examples
    --------
    >>> format_headline({"name": "aov", "label": "AOV", "estimate": 12.5, "conf_low": 10, "conf_high": 15, "unit": "CNY"})
    '12.50 [10.00, 15.00] CNY'
    """
    h = item if isinstance(item, Headline) else Headline.from_mapping(item)
    if h.conf_low is None and h.conf_high is None:
        text = format_number(h.estimate)
    else:
        decimals = _decimals(h.estimate) if h.estimate is not None and math.isfinite(h.estimate) else 2
        low, high = format_number(h.conf_low, decimals=decimals), format_number(h.conf_high, decimals=decimals)
        text = f"{format_number(h.estimate, decimals=decimals)} [{low}, {high}]"
    return f"{text} {h.unit}" if h.unit else text


def _as_headlines(items: Iterable[Headline | Mapping[str, Any]]) -> list[Headline]:
    out = [i if isinstance(i, Headline) else Headline.from_mapping(i) for i in items]
    names = [h.name for h in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise KosParameterError(f"headline names must be unique; repeated: {dupes}")
    return out


def _html_table(headlines: list[Headline]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(h.label)}</td><td>{html.escape(format_headline(h))}</td></tr>" for h in headlines
    )
    return f'<table class="kos-headlines">{rows}</table>'


def headlines_output(items: Iterable[Headline | Mapping[str, Any]]) -> dict[str, Any]:
    """Return the MIME bundle :func:`publish_headlines` displays.

    Parameters
    ----------
    items : iterable of Headline or dict
        The headline figures.

    Returns
    -------
    dict
        ``{"application/json": ..., "text/html": ..., "text/plain": ...}``.

    Examples
    --------
    >>> print(headlines_output([{"name": "total_sales", "label": "Sales", "estimate": 1234.5, "unit": "CNY"}])["text/plain"])
    total_sales: 1,234 CNY
    """
    headlines = _as_headlines(items)
    payload = {_MARKER: 1, "items": [asdict(h) for h in headlines]}
    plain = "\n".join(f"{h.name}: {format_headline(h)}" for h in headlines)
    return {"application/json": payload, "text/html": _html_table(headlines), "text/plain": plain}


def publish_headlines(items: Iterable[Headline | Mapping[str, Any]]) -> None:
    """Publish a notebook's headline figures for the report index.

    Call it once, in a cell tagged ``headlines``. It displays one output whose
    JSON part the runner collects into ``reports/index.html`` and
    ``reports/manifest.json`` (``headlines[region][notebook]``).

    Parameters
    ----------
    items : iterable of Headline or dict
        Each with ``name``, ``label``, ``estimate`` and optionally
        ``conf_low``, ``conf_high``, ``unit``.

    Raises
    ------
    KosParameterError
        If an item has a bad name, a non-numeric estimate or unknown keys.

    See Also
    --------
    headlines_output : the MIME bundle displayed.

    Examples
    --------
    In a notebook cell tagged ``headlines``:

    >>> publish_headlines([{"name": "total_sales", "label": "Sales", "estimate": 1234.5, "unit": "CNY"}])  # doctest: +SKIP
    """
    from IPython.display import display

    display(headlines_output(items), raw=True)


def read_headlines(nb: Any) -> list[dict[str, Any]]:
    """Read the published headlines back from an executed notebook.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook.

    Returns
    -------
    list of dict
        The headline items (empty if the notebook published none).
    """
    items: list[dict[str, Any]] = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code" or HEADLINES_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get("application/json")
            if isinstance(payload, Mapping) and payload.get(_MARKER) == 1:
                items.extend(asdict(Headline.from_mapping(i)) for i in payload.get("items", []))
    return items
