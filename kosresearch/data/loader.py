"""Open a source as a validated :class:`Dataset` backed by DuckDB views.

The loader never copies data into pandas: each contract table becomes a DuckDB
VIEW that reads the source files, casts every column to its contract type and
keeps only the requested regions. Partition folders of other regions are left
out of the view's file list, so they are never opened.

Layers inside the connection::

    _kos_raw.<table>   the table as stored (Parquet / CSV text / DuckDB / DataFrame)
    main.<table>       typed and normalised to the contract, region-filtered

Queries (``Dataset.sql``) see the ``main`` views under the table names.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kosresearch.data._problems import Problem
from kosresearch.data._source import (
    FRAME_PREFIX,
    SourcePlan,
    TableSource,
    plan_source,
    quote_ident,
    sql_string,
)
from kosresearch.data.contract import TABLE_NAMES, TABLES, Column, Table, get_table
from kosresearch.errors import KosDataError, KosParameterError

__all__ = ["Dataset", "open_dataset"]

RAW_SCHEMA = "_kos_raw"

_INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)
_FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE", "REAL"})

#: a time of day followed by a UTC offset, ``Z`` or ``UTC``: the text is zone-aware
AWARE_PATTERN = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*([zZ]|[+-][0-9]{2}(:?[0-9]{2})?|UTC)\s*$"

_KIND_WORDS = {
    "id": "an identifier (text)",
    "string": "text",
    "float": "a number",
    "int": "a whole number",
    "timestamp": "a timestamp",
    "date": "a date",
}
_ACCEPTED_TYPES = {
    "id": "VARCHAR or an integer type",
    "string": "VARCHAR",
    "float": "DOUBLE, another numeric type or numeric text",
    "int": "BIGINT, another integer type or whole-number text",
    "timestamp": "TIMESTAMP, TIMESTAMP WITH TIME ZONE, DATE or ISO 8601 text",
    "date": "DATE, TIMESTAMP or ISO 8601 text",
}


def type_category(duckdb_type: str) -> str:
    """Classify a DuckDB type name: text, integer, float, timestamp, timestamptz, date, null or other."""
    name = duckdb_type.upper().strip()
    if name == "VARCHAR" or name.startswith("VARCHAR(") or name.startswith("ENUM("):
        return "text"
    if name in _INTEGER_TYPES:
        return "integer"
    if name in _FLOAT_TYPES or name.startswith("DECIMAL"):
        return "float"
    if name == "TIMESTAMP WITH TIME ZONE":
        return "timestamptz"
    if name.startswith("TIMESTAMP"):
        return "timestamp"
    if name == "DATE":
        return "date"
    if name in ('"NULL"', "NULL"):
        return "null"
    return "other"


def _text_timestamp_sql(text: str, tz: str) -> str:
    return (
        f"CASE WHEN regexp_matches({text}, {sql_string(AWARE_PATTERN)}) "
        f"THEN timezone({sql_string(tz)}, TRY_CAST({text} AS TIMESTAMPTZ)) "
        f"ELSE TRY_CAST({text} AS TIMESTAMP) END"
    )


def typed_sql(column: Column, ref: str, category: str, *, tz: str, blank_free: bool = False) -> str | None:
    """SQL casting the raw column ``ref`` of ``category`` to the contract type.

    Values that cannot be cast become NULL (the validator reports them);
    None means the stored type cannot hold this kind of value at all.
    ``blank_free``: the stored text is known to hold no blank value.
    """
    kind = column.kind
    target = column.duckdb_type
    if category == "null":
        return f"CAST(NULL AS {target})"
    text = f"CAST({ref} AS VARCHAR)"  # a no-op for VARCHAR, needed for ENUM and numbers
    if kind in ("id", "string"):
        if category == "text":
            return presence_sql(ref, category, blank_free=blank_free)  # blank text reads as NULL
        return text if category == "integer" else None
    if kind == "float":
        if category in ("integer", "float"):
            return f"NULLIF(CAST({ref} AS DOUBLE), 'NaN'::DOUBLE)"
        if category == "text":
            return f"NULLIF(TRY_CAST({text} AS DOUBLE), 'NaN'::DOUBLE)"
        return None
    if kind == "int":
        if category == "integer":
            return f"TRY_CAST({ref} AS BIGINT)"
        if category == "float":
            return f"CASE WHEN {ref} = trunc({ref}) THEN TRY_CAST({ref} AS BIGINT) END"
        if category == "text":
            return (
                f"CASE WHEN TRY_CAST({text} AS DOUBLE) = TRY_CAST({text} AS BIGINT) THEN TRY_CAST({text} AS BIGINT) END"
            )
        return None
    if kind == "timestamp":
        if category in ("timestamp", "date"):
            return f"CAST({ref} AS TIMESTAMP)"
        if category == "timestamptz":
            return f"timezone({sql_string(tz)}, {ref})"
        if category == "text":
            return _text_timestamp_sql(text, tz)
        return None
    if kind == "date":
        if category == "date":
            return ref
        if category == "timestamp":
            return f"CAST({ref} AS DATE)"
        if category == "timestamptz":
            return f"CAST(timezone({sql_string(tz)}, {ref}) AS DATE)"
        if category == "text":
            return f"CAST({_text_timestamp_sql(text, tz)} AS DATE)"
        return None
    raise KeyError(f"unknown column kind {kind!r}")  # pragma: no cover - contract is fixed


def presence_sql(ref: str, category: str, *, blank_free: bool = False) -> str:
    """SQL that is NULL when the stored value is missing (NULL, blank text or NaN).

    ``blank_free``: the stored text is known to hold no blank value (from
    Parquet statistics), so it is read as it is, without a test per row.
    """
    if category == "text":
        text = f"CAST({ref} AS VARCHAR)"  # a no-op for VARCHAR, needed for ENUM
        if blank_free:
            return text
        # blank text is missing; trim() only runs on the rare values that start with a space
        return f"CASE WHEN {text} = '' OR (starts_with({text}, ' ') AND trim({text}) = '') THEN NULL ELSE {text} END"
    if category == "float":
        return f"NULLIF(CAST({ref} AS DOUBLE), 'NaN'::DOUBLE)"
    if category == "timestamptz":
        return f"CAST({ref} AS VARCHAR)"
    return ref


@dataclass(frozen=True)
class ColumnBinding:
    """How one contract column is read from the raw relation.

    ``raw_name`` is None when the source lacks the column; ``typed`` is the
    SQL of the contract-typed value (``CAST(NULL AS ...)`` when the column is
    missing or its stored type cannot hold the contract kind).
    """

    column: Column
    raw_name: str | None
    raw_type: str | None
    category: str | None
    typed: str
    presence: str | None
    wrong_type: bool

    @property
    def accepted_types(self) -> str:
        return _ACCEPTED_TYPES[self.column.kind]

    @property
    def kind_words(self) -> str:
        return _KIND_WORDS[self.column.kind]


@dataclass(frozen=True)
class TableBinding:
    """One present table: its raw relation and how each column is typed."""

    table: Table
    source: TableSource
    raw_view: str | None
    columns: tuple[ColumnBinding, ...]
    region_filter: str
    source_columns: tuple[str, ...]

    def binding(self, name: str) -> ColumnBinding:
        for col in self.columns:
            if col.column.name == name:
                return col
        raise KeyError(name)

    def usable(self, name: str) -> bool:
        """True when column ``name`` is present and of a castable type."""
        col = self.binding(name)
        return col.raw_name is not None and not col.wrong_type


def _raw_view_name(table: str) -> str:
    return f"{RAW_SCHEMA}.{quote_ident(table)}"


def _bind_table(
    connection: Any, table: Table, source: TableSource, *, regions: tuple[str, ...] | None, tz: str
) -> TableBinding:
    """Create the raw view of ``table`` and work out how to type each column.

    Raises ``duckdb.Error`` when the source cannot be read.
    """
    if source.relation is None:
        columns = tuple(
            ColumnBinding(c, None, None, None, f"CAST(NULL AS {c.duckdb_type})", None, False) for c in table.columns
        )
        return TableBinding(table, source, None, columns, "FALSE", ())
    raw_view = _raw_view_name(table.name)
    relation = source.relation
    if source.format == "csv" and len(source.files) == 1:
        relation = _pinned_csv(connection, source.files[0]) or relation
    connection.execute(f"CREATE VIEW {raw_view} AS SELECT * FROM {relation}")
    described = connection.execute(f"DESCRIBE {raw_view}").fetchall()
    stored = {row[0].lower(): (row[0], row[1]) for row in described}
    blank_free = _blank_free_text(connection, source.files) if source.format == "parquet" else frozenset()
    columns = []
    for column in table.columns:
        if column.name.lower() not in stored:
            typed = f"CAST(NULL AS {column.duckdb_type})"
            columns.append(ColumnBinding(column, None, None, None, typed, None, False))
            continue
        raw_name, raw_type = stored[column.name.lower()]
        category = type_category(raw_type)
        ref = quote_ident(raw_name)
        clean = raw_name in blank_free
        typed = typed_sql(column, ref, category, tz=tz, blank_free=clean)
        wrong = typed is None
        if typed is None:
            typed = f"CAST(NULL AS {column.duckdb_type})"
        presence = presence_sql(ref, category, blank_free=clean)
        columns.append(ColumnBinding(column, raw_name, raw_type, category, typed, presence, wrong))
    region = next(c for c in columns if c.column.name == "region")
    if regions is None:
        region_filter = "TRUE"
    elif region.raw_name is None:
        region_filter = "FALSE"
    else:
        ref = quote_ident(region.raw_name)
        if region.category != "text" or (region.raw_type or "").upper() != "VARCHAR":
            ref = f"CAST({ref} AS VARCHAR)"
        region_filter = f"{ref} IN ({', '.join(sql_string(r) for r in regions)})"
    return TableBinding(table, source, raw_view, tuple(columns), region_filter, tuple(r[0] for r in described))


def _blank_free_text(connection: Any, files: Sequence[Path]) -> frozenset[str]:
    """Text columns of Parquet ``files`` whose statistics prove that no value is blank.

    A column qualifies when, in every row group, the smallest value is at
    least ``'!'`` (so no value is empty or starts with a space) or every
    value is NULL. Row groups without statistics disqualify the column. The
    views then read it without testing each value for blankness (~15 % of
    the feature query's time on the benchmark).
    """
    if not files:
        return frozenset()
    rows = connection.execute(
        "SELECT path_in_schema, bool_and(coalesce(stats_min_value >= '!', stats_null_count = num_values, false)) "
        "FROM parquet_metadata(?) WHERE type = 'BYTE_ARRAY' GROUP BY path_in_schema",
        [[str(p) for p in files]],
    ).fetchall()
    return frozenset(name for name, ok in rows if ok)


def _pinned_csv(connection: Any, path: Path) -> str | None:
    """``read_csv`` of ``path`` with its dialect and header fixed, or None to let DuckDB sniff.

    Every query over a view re-binds it; with the dialect and columns fixed,
    DuckDB does not sniff the file again for each validation query. The
    column names are taken from the file's first line (the sniffer may pick
    another line when rows have different widths, which hides the real error).
    """
    import csv
    import gzip

    import duckdb

    try:
        row = connection.execute(
            "SELECT Delimiter, Quote, Escape FROM sniff_csv(?, all_varchar=true, header=true)", [str(path)]
        ).fetchone()
    except duckdb.Error:
        return None
    delimiter, quote, escape = (None if v in ("", "(empty)") else v for v in row)
    if delimiter is None or len(delimiter) != 1:
        return None
    # RFC 4180 quoting unless the sniffer saw another quote character
    quote = quote or '"'
    escape = escape or quote
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle, delimiter=delimiter, quotechar=quote), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if not header or any(not name for name in header) or len({n.lower() for n in header}) != len(header):
        return None
    names = ", ".join(f"{sql_string(name)}: 'VARCHAR'" for name in header)
    return (
        f"read_csv({sql_string(str(path))}, auto_detect=false, header=true, delim={sql_string(delimiter)}, "
        f"quote={sql_string(quote)}, escape={sql_string(escape)}, columns={{{names}}})"
    )


def _create_typed_view(connection: Any, binding: TableBinding) -> None:
    select = ",\n  ".join(f"{c.typed} AS {quote_ident(c.column.name)}" for c in binding.columns)
    name = quote_ident(binding.table.name)
    if binding.raw_view is None:
        connection.execute(f"CREATE VIEW main.{name} AS SELECT\n  {select}\nLIMIT 0")
    else:
        connection.execute(
            f"CREATE VIEW main.{name} AS SELECT\n  {select}\nFROM {binding.raw_view}\nWHERE {binding.region_filter}"
        )


def _check_tz(tz: Any) -> str:
    if not isinstance(tz, str) or not tz.strip():
        raise KosParameterError(f"tz={tz!r} must be an IANA time zone name such as 'Asia/Shanghai'")
    return tz


def _check_regions(regions: Any) -> tuple[str, ...] | None:
    if regions is None:
        return None
    if isinstance(regions, (str, bytes)) or not isinstance(regions, Iterable):
        raise KosParameterError(
            f"regions={regions!r} must be None (all regions) or a list of region slugs such as ['east']"
        )
    values = list(regions)
    bad = [r for r in values if not isinstance(r, str) or not r.strip()]
    if bad or not values:
        raise KosParameterError(
            f"regions={values!r} must be a non-empty list of non-empty region slugs such as ['east', 'south']"
        )
    return tuple(dict.fromkeys(values))


def _connect(tz: str) -> tuple[Any, str]:
    import duckdb

    # Spill files go to a private folder under the system temp dir, never to the
    # working directory (DuckDB's default ``.tmp``) or next to the source.
    temp_dir = os.path.join(tempfile.gettempdir(), f"kosresearch-duckdb-{uuid.uuid4().hex}")
    connection = duckdb.connect(":memory:", config={"temp_directory": temp_dir})
    # no progress bar: it would print on stderr into notebooks, reports and logs. Inside a Jupyter
    # kernel without ipywidgets DuckDB refuses to change the setting (and draws no bar anyway).
    try:
        connection.execute("SET enable_progress_bar = false")
    except duckdb.Error:
        pass
    try:
        # DuckDB's ICU time zones are the ones the views convert with
        connection.execute(f"SET TimeZone = {sql_string(tz)}")
    except duckdb.Error:
        _release(connection, temp_dir)
        raise KosParameterError(
            f"tz={tz!r} is not a known IANA time zone; expected a name such as 'Asia/Shanghai' or 'UTC'"
        ) from None
    connection.execute("SET parquet_metadata_cache = true")
    # text leaves as Arrow large_string, which pandas' string dtype wraps without copying
    connection.execute("SET arrow_large_buffer_size = true")
    connection.execute(f"CREATE SCHEMA {RAW_SCHEMA}")
    return connection, temp_dir


def _release(connection: Any, temp_dir: str) -> None:
    try:
        connection.close()
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)


class Dataset:
    """A validated KOS dataset: one typed DuckDB view per table of the source.

    Build it with :func:`open_dataset`. Views are named as the contract tables
    and are already filtered to the requested regions, so
    ``ds.sql("SELECT region, sum(amount) FROM orders GROUP BY 1")`` only reads
    those regions. Results come back as pandas DataFrames; the data stay in
    the source files.

    Attributes
    ----------
    source : pathlib.Path or None
        The folder or DuckDB file opened; None for an in-memory mapping.
    tz : str
        Time zone of the business-local wall-clock timestamps.
    tables : tuple of str
        Present tables, in contract order.
    vocabularies : Mapping[str, tuple of str]
        Controlled vocabularies in force (contract plus ``contract.yml``).
    input_files : list of pathlib.Path
        Files read (data files, ``contract.yml``, or the DuckDB file), for the
        content hashes of a run manifest.
    connection : duckdb.DuckDBPyConnection
        The in-process connection holding the views, for advanced use.
    """

    def __init__(
        self,
        *,
        connection: Any,
        plan: SourcePlan,
        bindings: Mapping[str, TableBinding],
        broken: Sequence[Problem],
        tz: str,
        regions: tuple[str, ...] | None,
        temp_dir: str,
    ) -> None:
        self._connection = connection
        self._plan = plan
        self._bindings = dict(bindings)
        self._broken = tuple(broken)
        self._requested_regions = regions
        self._finalizer = weakref.finalize(self, _release, connection, temp_dir)
        self.tz = tz
        self._cache: dict[str, Any] = {}

    # ------------------------------------------------------------------ basics

    @property
    def source(self) -> Path | None:
        return self._plan.path

    @property
    def connection(self) -> Any:
        if not self._finalizer.alive:
            raise ValueError("this Dataset is closed; open the source again with open_dataset(...)")
        return self._connection

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(name for name in TABLE_NAMES if name in self._bindings)

    @property
    def vocabularies(self) -> Mapping[str, tuple[str, ...]]:
        return dict(self._plan.vocabularies)

    @property
    def input_files(self) -> list[Path]:
        return list(self._plan.input_files)

    @property
    def requested_regions(self) -> tuple[str, ...] | None:
        """The ``regions`` argument given to :func:`open_dataset` (None: all)."""
        return self._requested_regions

    def close(self) -> None:
        """Close the DuckDB connection; the Dataset cannot be queried afterwards."""
        self._finalizer()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __getstate__(self) -> Any:
        raise TypeError(
            "a Dataset holds a DuckDB connection and cannot be pickled; pass the source "
            "path to the worker and call open_dataset(...) there"
        )

    def __repr__(self) -> str:
        where = str(self.source) if self.source is not None else "<in-memory mapping>"
        regions = "all" if self._requested_regions is None else list(self._requested_regions)
        state = "" if self._finalizer.alive else ", closed"
        return f"Dataset(source={where!r}, regions={regions}, tables={list(self.tables)}{state})"

    # ------------------------------------------------------------------ tables

    def has(self, name: str) -> bool:
        """Return True when the source has table ``name`` (a contract table name)."""
        self._contract_table(name)
        return name in self._bindings

    def require(self, *names: str) -> None:
        """Raise unless every table of ``names`` is present.

        Raises
        ------
        KosDataError
            ``this analysis needs table 'feedback', which the source does not
            have``, naming every missing table and the tables present.
        """
        missing = [name for name in names if not self.has(name)]
        if not missing:
            return
        listed = ", ".join(repr(n) for n in missing)
        noun = "table" if len(missing) == 1 else "tables"
        problems = [
            Problem.build(
                table=n,
                column=None,
                check="missing_table",
                n_bad=0,
                text="this analysis needs the table, which the source does not have",
            )
            for n in missing
        ]
        raise KosDataError(
            f"this analysis needs {noun} {listed}, which the source does not have (source: {self._source_label()}; "
            f"tables present: {', '.join(self.tables)})",
            problems,
        )

    def table(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Return table ``name`` (region-filtered, contract types) as a DataFrame.

        Parameters
        ----------
        name : str
            A contract table name, e.g. ``"orders"``.
        columns : sequence of str, optional
            Columns to return, in this order; all contract columns by default.

        Raises
        ------
        KosDataError
            The table is not a contract table or not in the source, or a
            column is unknown.
        """
        table = self._contract_table(name)
        if name not in self._bindings:
            raise KosDataError(
                f"name={name!r}: table {name!r} is not in the source {self._source_label()}; "
                f"tables present: {', '.join(self.tables)}",
                [Problem.build(table=name, column=None, check="missing_table", n_bad=0, text="not in the source")],
            )
        if columns is None:
            selected = list(table.column_names)
        else:
            if isinstance(columns, str):
                raise KosParameterError(f"columns={columns!r} must be a list of column names, e.g. [{columns!r}]")
            selected = list(columns)
            unknown = [c for c in selected if c not in table.column_names]
            if unknown:
                raise KosDataError(
                    f"columns={unknown!r} are not columns of table {name!r}; its columns are {list(table.column_names)}"
                )
        listed = ", ".join(quote_ident(c) for c in selected)
        return self.connection.execute(f"SELECT {listed} FROM main.{quote_ident(name)}").df()

    def sql(self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run a DuckDB SQL ``query`` over the table views and return a DataFrame.

        ``params`` fills ``?`` (sequence) or ``$name`` (mapping) placeholders.
        """
        return arrow_to_pandas(self.sql_arrow(query, params))

    def sql_arrow(self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        """Run ``query`` as :meth:`sql` does and return the result as a ``pyarrow.Table``.

        For results assembled from several queries before they become one
        DataFrame (each part converted on its own would be copied again).
        """
        import warnings

        import duckdb

        statements = duckdb.extract_statements(query)
        if len(statements) == 1 and statements[0].type == duckdb.StatementType.SELECT:
            # A relation streams its rows into Arrow; an execute() result copies them once more
            # (2-5 % of the feature query, paired runs). A relation is refused while an earlier
            # execute() result on the connection is unfinished; execute() below discards that one.
            try:
                return self.connection.sql(query, params=params).to_arrow_table()
            except duckdb.ResourceInUseException:
                pass
        cursor = self.connection.execute(query) if params is None else self.connection.execute(query, params)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
            return cursor.to_arrow_table()

    def partitioned_by_region(self, *names: str) -> bool:
        """True when every file of tables ``names`` lies in a ``region=...`` folder.

        A query filtered to one region then opens only that region's files,
        so running a heavy aggregation region by region reads the data once.
        False for single files, DuckDB databases and in-memory frames, where
        each region's query would scan every row.
        """
        # DuckDB refuses a table whose files mix region folders with others, so one suffices
        return all(n in self._bindings and bool(self._bindings[n].source.partition_regions) for n in names)

    def counts_rows_cheaply(self, *names: str) -> bool:
        """True when ``count(*)`` of tables ``names`` reads no values.

        Parquet files keep their row counts in their metadata, and DuckDB
        tables and in-memory frames know theirs; CSV files must be parsed.
        """
        return all(n in self._bindings and self._bindings[n].source.format != "csv" for n in names)

    # ------------------------------------------------------------------ summaries

    @property
    def regions(self) -> tuple[str, ...]:
        """Sorted region slugs that have rows (after the region filter)."""
        if "regions" not in self._cache:
            parts = [f"SELECT DISTINCT region FROM main.{quote_ident(n)}" for n in self.tables]
            found: set[str] = set()
            if parts:
                rows = self.connection.execute(" UNION ".join(parts)).fetchall()
                found = {r[0] for r in rows if r[0] is not None}
            self._cache["regions"] = tuple(sorted(found))
        return self._cache["regions"]

    @property
    def row_counts(self) -> pd.DataFrame:
        """Rows per present table: columns ``table``, ``rows``."""
        if "row_counts" not in self._cache:
            counts = [
                (n, self.connection.execute(f"SELECT count(*) FROM main.{quote_ident(n)}").fetchone()[0])
                for n in self.tables
            ]
            frame = pd.DataFrame(counts, columns=["table", "rows"]).astype({"rows": "int64"})
            self._cache["row_counts"] = frame
        return self._cache["row_counts"].copy()

    @property
    def coverage(self) -> pd.DataFrame:
        """Rows and time span per present table.

        Columns ``table``, ``rows``, ``time_column``, ``first``, ``last``
        (``first``/``last`` are NaT for a table without a time column or rows).
        """
        if "coverage" not in self._cache:
            parts = []
            for n in self.tables:
                time_col = get_table(n).time_column
                if time_col is None:
                    parts.append(
                        f"SELECT {sql_string(n)} AS tbl, count(*) AS rows, NULL::VARCHAR AS time_column, "
                        f"NULL::TIMESTAMP AS first, NULL::TIMESTAMP AS last FROM main.{quote_ident(n)}"
                    )
                else:
                    ref = quote_ident(time_col)
                    parts.append(
                        f"SELECT {sql_string(n)}, count(*), {sql_string(time_col)}, "
                        f"CAST(min({ref}) AS TIMESTAMP), CAST(max({ref}) AS TIMESTAMP) FROM main.{quote_ident(n)}"
                    )
            columns = ["table", "rows", "time_column", "first", "last"]
            if parts:
                frame = self.connection.execute(" UNION ALL ".join(parts)).df()
                frame.columns = columns
                order = {n: i for i, n in enumerate(TABLE_NAMES)}
                frame = frame.sort_values("table", key=lambda s: s.map(order)).reset_index(drop=True)
            else:
                frame = pd.DataFrame(columns=columns)
            frame["first"] = pd.to_datetime(frame["first"])
            frame["last"] = pd.to_datetime(frame["last"])
            self._cache["coverage"] = frame
        return self._cache["coverage"].copy()

    @property
    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Span of the activity: earliest and latest time over the event tables (NaT when empty).

        Store opening and advisor joining dates describe entities, not activity,
        and are left out (a store opened in 2015 does not make the data start
        in 2015); ``.coverage`` has the span of every table.
        """
        coverage = self.coverage
        events = coverage[~coverage["table"].isin(["stores", "kos"])]
        if events["first"].notna().any():
            coverage = events
        first, last = coverage["first"].min(), coverage["last"].max()
        return (pd.Timestamp(first), pd.Timestamp(last))

    @property
    def validation(self) -> pd.DataFrame:
        """The validation report (empty when the source is clean).

        Columns ``table``, ``column``, ``check``, ``n_bad``, ``examples``,
        ``message``. Computed on first access when the dataset was opened
        with ``validate=False``.
        """
        if "validation" not in self._cache:
            from kosresearch.data.validate import validate_dataset

            self._cache["validation"] = validate_dataset(self)
        return self._cache["validation"].copy()

    # ------------------------------------------------------------------ helpers

    def _contract_table(self, name: str) -> Table:
        try:
            return get_table(name)
        except KeyError:
            raise KosDataError(
                f"name={name!r} is not a table of the data contract; tables: {list(TABLE_NAMES)}"
            ) from None

    def _source_label(self) -> str:
        return f"'{self.source}'" if self.source is not None else "<in-memory mapping>"

    def _structural_problems(self) -> list[Problem]:
        """Problems found before reading any value: missing, ambiguous or unreadable tables."""
        return [*self._plan.problems, *self._broken]

    def _source_regions(self) -> tuple[str, ...]:
        """Region slugs anywhere in the source, ignoring the region filter."""
        found: set[str] = set()
        parts = []
        for binding in self._bindings.values():
            found.update(binding.source.partition_regions)
            region = binding.binding("region")
            if binding.raw_view is not None and region.raw_name is not None:
                parts.append(f"SELECT DISTINCT CAST({quote_ident(region.raw_name)} AS VARCHAR) FROM {binding.raw_view}")
        if parts:
            rows = self.connection.execute(" UNION ".join(parts)).fetchall()
            found.update(r[0] for r in rows if r[0] is not None and r[0].strip())
        return tuple(sorted(found))


def open_dataset(
    source: str | os.PathLike[str] | Mapping[str, pd.DataFrame],
    *,
    regions: Iterable[str] | None = None,
    validate: bool = True,
    tz: str = "Asia/Shanghai",
) -> Dataset:
    """Open a KOS data source as a :class:`Dataset` of typed DuckDB views.

    Parameters
    ----------
    source : path or Mapping[str, pandas.DataFrame]
        One of: a folder with one Parquet or CSV file per table
        (``orders.parquet``, ``orders.csv``); a folder with one folder per
        table, partitioned by region (``orders/region=east/*.parquet``); a
        DuckDB database file (``.duckdb`` / ``.db``) holding the tables; or a
        mapping ``{table_name: DataFrame}``. A folder may hold
        ``contract.yml`` extending the vocabularies.
    regions : iterable of str, optional
        Region slugs to keep; None keeps all. Partition folders of other
        regions are never read.
    validate : bool, default True
        Check the source against the data contract and refuse it with one
        :class:`~kosresearch.errors.KosDataError` listing every problem.
        With False the views trust the source: missing columns and values
        that cannot be cast read as NULL, and nothing is scanned on open.
    tz : str, default "Asia/Shanghai"
        Business time zone. Zone-aware timestamps are converted to its wall
        clock; naive ones are taken as already local.

    Returns
    -------
    Dataset

    Raises
    ------
    KosDataError
        The source breaks the contract (only the structural problems when
        ``validate=False``: a missing source, unreadable or ambiguous files,
        an invalid ``contract.yml``). ``.problems`` holds every problem as a
        :class:`~kosresearch.data.validate.Problem`.
    KosParameterError
        ``regions`` or ``tz`` is not valid.

    See Also
    --------
    kosresearch.data.validate.validation_report : the problems as a table, without raising.

    Examples
    --------
    >>> import pandas as pd
    >>> from kosresearch.data.loader import open_dataset
    >>> tables = {
    ...     "stores": pd.DataFrame({"store_id": ["s1"], "region": ["east"], "city": ["上海"],
    ...                             "opened_at": ["2020-01-01"], "program_start": [None]}),
    ...     "kos": pd.DataFrame({"kos_id": ["k1"], "store_id": ["s1"], "region": ["east"],
    ...                          "joined_at": ["2021-01-01"]}),
    ...     "customers": pd.DataFrame({"customer_id": ["c1"], "region": ["east"], "store_id": ["s1"],
    ...                                "kos_id": ["k1"], "acquired_at": ["2024-01-01T00:00:00Z"],
    ...                                "acquisition_channel": ["referral"], "acquisition_cost": [30.0],
    ...                                "referrer_id": [None]}),
    ...     "orders": pd.DataFrame({"order_id": ["o1"], "customer_id": ["c1"], "region": ["east"],
    ...                             "store_id": ["s1"], "kos_id": ["k1"],
    ...                             "ordered_at": ["2024-01-02 10:00"], "amount": [199.0],
    ...                             "promo_code": [None]}),
    ... }
    >>> with open_dataset(tables) as ds:
    ...     print(ds.regions, ds.tables)
    ...     print(ds.table("customers", ["customer_id", "acquired_at"]))
    ('east',) ('stores', 'kos', 'customers', 'orders')
      customer_id         acquired_at
    0          c1 2024-01-01 08:00:00
    """
    if not isinstance(validate, bool):
        raise KosParameterError(f"validate={validate!r} must be True or False")
    dataset = open_unvalidated(source, regions=regions, tz=tz)
    from kosresearch.data.validate import collect_problems, format_problems

    if validate:
        problems = collect_problems(dataset)
        if problems:
            dataset.close()
            raise KosDataError(format_problems(problems, source=dataset._source_label()), problems)
        dataset._cache["validation"] = _empty_report()
        return dataset
    fatal = [p for p in dataset._structural_problems() if p.check != "missing_table"]
    if fatal:
        dataset.close()
        raise KosDataError(format_problems(fatal, source=dataset._source_label()), fatal)
    return dataset


def open_unvalidated(
    source: str | os.PathLike[str] | Mapping[str, pd.DataFrame],
    *,
    regions: Iterable[str] | None,
    tz: str,
) -> Dataset:
    """Build the views of ``source`` without checking any value.

    Tables that cannot be read are left out and recorded (see
    ``Dataset._structural_problems``). Raises only for argument errors and
    for problems of the whole source (missing path, invalid ``contract.yml``).
    """
    tz = _check_tz(tz)
    wanted = _check_regions(regions)
    import duckdb

    connection, temp_dir = _connect(tz)
    try:
        plan = plan_source(source, regions=wanted, connection=connection)
        for name, frame in plan.frames.items():
            connection.register(FRAME_PREFIX + name, _as_arrow(frame))
        bindings: dict[str, TableBinding] = {}
        broken: list[Problem] = []
        for table in TABLES:
            if table.name not in plan.tables:
                continue
            try:
                binding = _bind_table(connection, table, plan.tables[table.name], regions=wanted, tz=tz)
                _create_typed_view(connection, binding)
            except duckdb.Error as exc:
                broken.append(_unreadable(table, plan.tables[table.name], exc))
                continue
            bindings[table.name] = binding
        return Dataset(
            connection=connection,
            plan=plan,
            bindings=bindings,
            broken=broken,
            tz=tz,
            regions=wanted,
            temp_dir=temp_dir,
        )
    except BaseException:
        _release(connection, temp_dir)
        raise


def _as_arrow(frame: pd.DataFrame) -> Any:
    """The frame as an Arrow table (cheaper for DuckDB to scan), or itself if Arrow refuses it."""
    import pyarrow as pa

    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, TypeError):
        return frame


def _empty_report() -> pd.DataFrame:
    from kosresearch.data._problems import problems_frame

    return problems_frame([])


def error_detail(exc: BaseException) -> str:
    """The informative first lines of a DuckDB error, on one line."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    keep = lines[:1] + [line for line in lines[1:4] if line.startswith(("Original Line", "Expected Number"))]
    return "; ".join(keep) or type(exc).__name__


def _unreadable(table: Table, source: TableSource, exc: BaseException) -> Problem:
    detail = error_detail(exc)
    return Problem.build(
        table=table.name,
        column=None,
        check="unreadable",
        n_bad=0,
        text=f"{source.label or table.name} cannot be read: {detail}",
    )


def arrow_to_pandas(table) -> pd.DataFrame:
    """Convert a query result to pandas through Arrow (much faster than ``.df()`` for text).

    Text becomes pandas' string dtype, timestamps and dates ``datetime64[us]``;
    DECIMAL columns (exact sums) become float64, as ``DuckDB.df()`` gives.
    """
    import pyarrow as pa

    for i, field in enumerate(table.schema):
        target = None
        if pa.types.is_decimal(field.type):
            target = pa.float64()
        elif pa.types.is_date(field.type):
            target = pa.timestamp("us")
        if target is not None:
            table = table.set_column(i, pa.field(field.name, target), table.column(i).cast(target))
    return table.to_pandas()
