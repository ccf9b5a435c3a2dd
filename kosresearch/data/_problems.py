"""One problem found in a source, and how problems are shown.

Private: the public names are re-exported by :mod:`kosresearch.data.validate`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["Problem", "REPORT_COLUMNS", "format_examples", "problems_frame"]

#: Columns of the validation report, in order.
REPORT_COLUMNS: tuple[str, ...] = ("table", "column", "check", "n_bad", "examples", "message")

#: At most this many example values are shown per problem.
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Problem:
    """One way in which a source breaks the data contract.

    Attributes
    ----------
    table : str or None
        Contract table concerned; None for a problem of the whole source
        (for example a requested region that has no rows).
    column : str or None
        Column concerned (``"customer_id, ts, event"`` for a composite key);
        None for a problem of a whole table.
    check : str
        Name of the check that failed, e.g. ``"below_minimum"`` or
        ``"orphan_key"`` (see ``docs/using-your-own-data.md``).
    n_bad : int
        Number of rows that fail the check (for ``duplicate_key``: rows that
        share a key with another row; for a missing table: 0).
    examples : tuple
        Up to 5 offending values (or keys of offending rows), smallest first.
    message : str
        One line naming table, column, the number of bad rows, what was
        expected and the examples, e.g.
        ``orders.amount: 3 rows are negative (examples: -12.5, -5.0, -1.0)``.
    """

    table: str | None
    column: str | None
    check: str
    n_bad: int
    examples: tuple[Any, ...]
    message: str

    @classmethod
    def build(
        cls,
        *,
        table: str | None,
        column: str | None,
        check: str,
        n_bad: int,
        text: str,
        examples: Iterable[Any] = (),
        examples_label: str = "examples",
        where: str | None = None,
    ) -> Problem:
        """Build a problem whose message is ``"<where>: <text> (examples: ...)"``.

        ``where`` defaults to ``table.column`` (or ``table``, or ``"source"``).
        """
        shown = tuple(examples)[:MAX_EXAMPLES]
        if where is None:
            where = "source" if table is None else table if column is None else f"{table}.{column}"
        message = f"{where}: {text}"
        if shown:
            message += f" ({examples_label}: {format_examples(shown)})"
        return cls(table, column, check, int(n_bad), shown, message)


def _format_value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (_dt.datetime, _dt.date, pd.Timestamp)):
        return str(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return repr(value) if isinstance(value, float) else str(value)


def format_examples(values: Iterable[Any]) -> str:
    """Format example values for a message: strings quoted, numbers plain."""
    return ", ".join(_format_value(v) for v in values)


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Return problems as the tidy validation report (empty frame when none)."""
    rows = [
        {
            "table": p.table,
            "column": p.column,
            "check": p.check,
            "n_bad": p.n_bad,
            "examples": list(p.examples),
            "message": p.message,
        }
        for p in problems
    ]
    frame = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    return frame.astype({"n_bad": "int64"})
