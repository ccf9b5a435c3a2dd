"""Find the tables of a source and describe how DuckDB reads each one.

Private helper of :mod:`kosresearch.data.loader`. Nothing here reads a data
value: it lists files, reads ``contract.yml`` and writes the SQL that reads
each table as it is stored (the *raw relation*), before any type is
normalised. Files of regions that were not requested are left out of that SQL,
so DuckDB never opens them.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from kosresearch.data._problems import Problem
from kosresearch.data.contract import TABLES, VOCABULARIES, Table
from kosresearch.errors import KosDataError, KosParameterError

__all__ = ["SourcePlan", "TableSource", "plan_source", "sql_string", "quote_ident"]

CONFIG_FILE = "contract.yml"
DB_SUFFIXES = (".duckdb", ".db")
_FORMATS: dict[str, tuple[str, ...]] = {"parquet": (".parquet",), "csv": (".csv", ".csv.gz")}
#: name of the attached database of a DuckDB-file source
SOURCE_DB = "_kos_source"
FRAME_PREFIX = "_kos_frame_"

SourceKind = Literal["folder", "duckdb", "mapping"]
TableFormat = Literal["parquet", "csv", "duckdb", "frame"]


def sql_string(value: str) -> str:
    """Quote ``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """Quote ``name`` as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class TableSource:
    """Where one table is stored and the SQL that reads it as stored.

    ``relation`` is None when the table is present in the source but every
    file of it belongs to a region that was not requested.
    """

    name: str
    format: TableFormat
    relation: str | None
    files: tuple[Path, ...] = ()
    #: region slugs named in partition paths (``region=east``), all files
    partition_regions: tuple[str, ...] = ()
    #: what the table was found as, for messages (``orders.csv``, ``orders/``)
    label: str = ""


@dataclass
class SourcePlan:
    """Everything known about a source before any data value is read."""

    kind: SourceKind
    path: Path | None
    tables: dict[str, TableSource]
    problems: list[Problem]
    vocabularies: Mapping[str, tuple[str, ...]]
    input_files: list[Path]
    #: entries found in the source (file names or mapping keys), for messages
    found: tuple[str, ...]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)


def plan_source(source: Any, *, regions: tuple[str, ...] | None, connection: Any) -> SourcePlan:
    """Describe ``source`` for the loader.

    Raises
    ------
    KosParameterError
        ``source`` is neither a path nor a mapping of DataFrames.
    KosDataError
        The source does not exist, is not a folder / DuckDB file, or its
        ``contract.yml`` is invalid. Per-table problems (a missing or
        ambiguous table) are returned in ``SourcePlan.problems`` instead.
    """
    if isinstance(source, Mapping):
        return _plan_mapping(source)
    if not isinstance(source, (str, Path)) and not hasattr(source, "__fspath__"):
        raise KosParameterError(
            f"source={source!r} must be a folder, a DuckDB file path or a mapping "
            f"{{table_name: DataFrame}}; got {type(source).__name__}"
        )
    path = Path(source).expanduser().resolve()
    if not path.exists():
        raise _fatal("missing_source", f"source '{path}' does not exist")
    if path.is_dir():
        return _plan_folder(path, regions=regions)
    if path.suffix.lower() in DB_SUFFIXES:
        return _plan_duckdb(path, connection=connection)
    raise _fatal(
        "missing_source",
        f"source '{path}' is a file but not a DuckDB database (.duckdb/.db); give the "
        "folder that holds one Parquet or CSV file (or folder) per table",
    )


def _fatal(check: str, text: str) -> KosDataError:
    problem = Problem.build(table=None, column=None, check=check, n_bad=0, text=text)
    return KosDataError(problem.message, [problem])


# --------------------------------------------------------------------------- folders


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("_")


def _format_of(name: str) -> str | None:
    lower = name.lower()
    for fmt, suffixes in _FORMATS.items():
        if any(lower.endswith(s) for s in suffixes):
            return fmt
    return None


def _partition_region(path: Path, base: Path) -> str | None:
    for part in path.relative_to(base).parts[:-1]:
        key, sep, value = part.partition("=")
        if sep and key == "region":
            return value
    return None


def _plan_folder(path: Path, *, regions: tuple[str, ...] | None) -> SourcePlan:
    entries = sorted(p.name for p in path.iterdir() if not _is_hidden(p.name))
    vocabularies = dict(VOCABULARIES)
    input_files: list[Path] = []
    config = path / CONFIG_FILE
    if config.is_file():
        vocabularies = read_config(config)
        input_files.append(config)
    tables: dict[str, TableSource] = {}
    problems: list[Problem] = []
    for table in TABLES:
        candidates = [
            path / f"{table.name}{suffix}"
            for suffixes in _FORMATS.values()
            for suffix in suffixes
            if (path / f"{table.name}{suffix}").is_file()
        ]
        if (path / table.name).is_dir():
            candidates.append(path / table.name)
        if not candidates:
            if table.required:
                expected = f"{table.name}.parquet, {table.name}.csv or a folder {table.name}/ in '{path}'"
                problems.append(_missing_table(table, expected, entries))
            continue
        if len(candidates) > 1:
            names = ", ".join(c.name + ("/" if c.is_dir() else "") for c in candidates)
            problems.append(
                Problem.build(
                    table=table.name,
                    column=None,
                    check="ambiguous_table",
                    n_bad=0,
                    text=f"found more than one source for the table ({names}); keep exactly one",
                )
            )
            continue
        found = candidates[0]
        if found.is_file():
            fmt = _format_of(found.name)
            tables[table.name] = _file_table(table.name, fmt, (found,), label=found.name)
            input_files.append(found)
            continue
        source, problem = _folder_table(table, found, regions=regions)
        if problem is not None:
            problems.append(problem)
        if source is not None:
            tables[table.name] = source
            input_files.extend(source.files)
    return SourcePlan(
        kind="folder",
        path=path,
        tables=tables,
        problems=problems,
        vocabularies=vocabularies,
        input_files=input_files,
        found=tuple(entries),
    )


def _missing_table(table: Table, expected: str, found: Iterable[str]) -> Problem:
    listed = ", ".join(found) or "nothing"
    return Problem.build(
        table=table.name,
        column=None,
        check="missing_table",
        n_bad=0,
        text=f"required table is missing: expected {expected} (found: {listed})",
    )


def _folder_table(
    table: Table, folder: Path, *, regions: tuple[str, ...] | None
) -> tuple[TableSource | None, Problem | None]:
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and _format_of(p.name) is not None
        and not any(_is_hidden(part) for part in p.relative_to(folder).parts)
    )
    formats = sorted({_format_of(p.name) for p in files})
    label = f"{table.name}/"
    if not files:
        problem = Problem.build(
            table=table.name,
            column=None,
            check="missing_table",
            n_bad=0,
            text=f"folder '{folder}' holds no .parquet or .csv file",
        )
        return None, problem
    if len(formats) > 1:
        problem = Problem.build(
            table=table.name,
            column=None,
            check="ambiguous_table",
            n_bad=0,
            text=f"folder '{folder}' mixes Parquet and CSV files; use one format per table",
        )
        return None, problem
    file_regions = {p: _partition_region(p, folder) for p in files}
    present = tuple(sorted({r for r in file_regions.values() if r is not None}))
    if regions is not None:
        files = [p for p in files if file_regions[p] is None or file_regions[p] in regions]
    source = _file_table(table.name, formats[0], tuple(files), label=label, partition_regions=present, partitioned=True)
    return source, None


def _file_table(
    name: str,
    fmt: str | None,
    files: tuple[Path, ...],
    *,
    label: str,
    partition_regions: tuple[str, ...] = (),
    partitioned: bool = False,
) -> TableSource:
    if not files:
        return TableSource(name, fmt, None, (), partition_regions, label)  # type: ignore[arg-type]
    listed = "[" + ", ".join(sql_string(str(p)) for p in files) + "]"
    hive = "true" if partitioned else "false"
    options = f"hive_partitioning={hive}, union_by_name=true, hive_types_autocast=false"
    if fmt == "parquet":
        relation = f"read_parquet({listed}, {options})"
    else:
        relation = f"read_csv({listed}, {options}, all_varchar=true, header=true)"
    return TableSource(name, fmt, relation, files, partition_regions, label)  # type: ignore[arg-type]


def read_config(path: Path) -> dict[str, tuple[str, ...]]:
    """Read ``contract.yml`` and return the contract vocabularies it extends.

    The file holds ``vocabularies: {name: [extra value, ...]}``; the values
    are added to the contract's vocabulary ``name``.
    """
    import yaml

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _fatal("bad_configuration", f"{path.name} ('{path}') is not valid YAML: {exc}") from None
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise _fatal(
            "bad_configuration", f"{path.name} must hold a mapping with key 'vocabularies'; got {type(config).__name__}"
        )
    unknown = sorted(set(config) - {"vocabularies"})
    if unknown:
        raise _fatal(
            "bad_configuration", f"{path.name}: unknown keys {unknown}; the only key allowed is 'vocabularies'"
        )
    extra = config.get("vocabularies") or {}
    if not isinstance(extra, dict):
        raise _fatal("bad_configuration", f"{path.name}: 'vocabularies' must map a vocabulary name to a list of values")
    vocabularies = dict(VOCABULARIES)
    for name, values in extra.items():
        if name not in VOCABULARIES:
            raise _fatal(
                "bad_configuration",
                f"{path.name}: vocabularies.{name} is not a contract vocabulary; known: {sorted(VOCABULARIES)}",
            )
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise _fatal(
                "bad_configuration",
                f"{path.name}: vocabularies.{name} must be a list of non-empty strings; got {values!r}",
            )
        vocabularies[name] = tuple(dict.fromkeys([*VOCABULARIES[name], *values]))
    return vocabularies


# --------------------------------------------------------------------------- DuckDB files


def _plan_duckdb(path: Path, *, connection: Any) -> SourcePlan:
    import duckdb

    try:
        connection.execute(f"ATTACH {sql_string(str(path))} AS {SOURCE_DB} (READ_ONLY)")
    except duckdb.Error as exc:
        raise _fatal(
            "unreadable", f"source '{path}' cannot be opened as a DuckDB database: {_first_line(exc)}"
        ) from None
    rows = connection.execute(
        f"""
        SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = '{SOURCE_DB}'
        UNION ALL
        SELECT schema_name, view_name FROM duckdb_views()
        WHERE database_name = '{SOURCE_DB}' AND NOT internal
        """
    ).fetchall()
    by_name: dict[str, list[tuple[str, str]]] = {}
    for schema, name in rows:
        by_name.setdefault(name.lower(), []).append((schema, name))
    tables: dict[str, TableSource] = {}
    problems: list[Problem] = []
    found = tuple(sorted(name for _, name in rows))
    for table in TABLES:
        matches = by_name.get(table.name, [])
        if len(matches) > 1:
            matches = [m for m in matches if m[0] == "main"] or matches
        if not matches:
            if table.required:
                problems.append(_missing_table(table, f"a table {table.name} in database '{path}'", found))
            continue
        if len(matches) > 1:
            listed = ", ".join(f"{s}.{n}" for s, n in matches)
            problems.append(
                Problem.build(
                    table=table.name,
                    column=None,
                    check="ambiguous_table",
                    n_bad=0,
                    text=f"found in several schemas ({listed}); keep it in schema main only",
                )
            )
            continue
        schema, name = matches[0]
        relation = f"{SOURCE_DB}.{quote_ident(schema)}.{quote_ident(name)}"
        tables[table.name] = TableSource(table.name, "duckdb", relation, (), (), f"table {name}")
    return SourcePlan(
        kind="duckdb",
        path=path,
        tables=tables,
        problems=problems,
        vocabularies=dict(VOCABULARIES),
        input_files=[path],
        found=found,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- mappings


def _plan_mapping(source: Mapping[Any, Any]) -> SourcePlan:
    for key, value in source.items():
        if not isinstance(key, str) or not isinstance(value, pd.DataFrame):
            raise KosParameterError(
                f"source must map table names (str) to pandas DataFrames; key {key!r} holds {type(value).__name__}"
            )
    found = tuple(sorted(source))
    tables: dict[str, TableSource] = {}
    frames: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for table in TABLES:
        if table.name not in source:
            if table.required:
                problems.append(_missing_table(table, f"a key {table.name!r} in the mapping", found))
            continue
        frames[table.name] = _frame_for_duckdb(source[table.name], table)
        relation = quote_ident(FRAME_PREFIX + table.name)
        tables[table.name] = TableSource(table.name, "frame", relation, (), (), f"{table.name} DataFrame")
    return SourcePlan(
        kind="mapping",
        path=None,
        tables=tables,
        problems=problems,
        vocabularies=dict(VOCABULARIES),
        input_files=[],
        found=found,
        frames=frames,
    )


def _iso_or_none(value: Any) -> str | None:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (_dt.datetime, _dt.date)):  # includes pd.Timestamp
        return value.isoformat()
    return str(value)


def _frame_for_duckdb(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Return a shallow copy of ``frame`` that DuckDB reads without guessing.

    Object columns of timestamps are turned into ISO 8601 text, so that a
    column mixing naive and zone-aware values is seen (and refused) by the
    same text check as a CSV file, instead of being silently unified.
    """
    out = frame.copy(deep=False)
    for column in table.columns:
        if column.kind not in ("timestamp", "date") or column.name not in frame.columns:
            continue
        values = frame[column.name]
        if values.dtype == object:
            out[column.name] = values.map(_iso_or_none).astype(object)
    return out
