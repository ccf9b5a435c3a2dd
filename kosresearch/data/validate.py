"""Check a source against the data contract, in DuckDB SQL.

Every check runs as SQL over the dataset's views, so validating a few hundred
thousand rows takes well under a second per table and nothing is copied into
pandas:

1. one aggregate pass per table counts, for every column, the values that
   cannot be cast, NULLs, empty regions, values outside a vocabulary or the
   ``minimum``/``maximum`` of the contract, and naive/zone-aware text
   timestamps; a second pass, only over tables with problems, fetches up to
   5 distinct example values per failed check;
2. one ``GROUP BY`` per table over hashes of the primary key finds
   candidate duplicates, which are then compared exactly;
3. one join per foreign key finds orphan references and references to a row
   of another region.

The passes of all tables are sent to DuckDB as one ``UNION ALL`` query (if it
fails, they run one by one so that an unreadable file is blamed on its table).

All problems are collected; :func:`kosresearch.open_dataset` raises them as
one :class:`~kosresearch.errors.KosDataError`, and :func:`validation_report`
returns them as a table without raising.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from kosresearch.data._problems import REPORT_COLUMNS, Problem, problems_frame
from kosresearch.data._source import quote_ident, sql_string
from kosresearch.data.contract import TABLE_NAMES, ForeignKey
from kosresearch.errors import KosDataError

if TYPE_CHECKING:  # pragma: no cover
    from kosresearch.data.loader import ColumnBinding, Dataset, TableBinding

__all__ = [
    "CHECKS",
    "Problem",
    "REPORT_COLUMNS",
    "collect_problems",
    "format_problems",
    "validate_dataset",
    "validation_report",
]

#: Every check, in the order problems are listed for a column.
CHECKS: tuple[str, ...] = (
    "missing_source",
    "bad_configuration",
    "missing_table",
    "ambiguous_table",
    "unreadable",
    "missing_column",
    "wrong_type",
    "unparseable_timestamp",
    "mixed_timezones",
    "empty_region",
    "null_value",
    "unknown_value",
    "below_minimum",
    "above_maximum",
    "duplicate_key",
    "orphan_key",
    "region_mismatch",
    "region_not_found",
)


def validation_report(
    source: Any,
    *,
    regions: Iterable[str] | None = None,
    tz: str = "Asia/Shanghai",
) -> pd.DataFrame:
    """Return every problem of ``source`` as a table, without raising on bad data.

    Parameters
    ----------
    source : path or Mapping[str, pandas.DataFrame]
        Anything :func:`kosresearch.open_dataset` accepts.
    regions : iterable of str, optional
        Region slugs to check; None checks all.
    tz : str, default "Asia/Shanghai"
        Business time zone.

    Returns
    -------
    pandas.DataFrame
        One row per problem, columns ``table``, ``column``, ``check``,
        ``n_bad``, ``examples`` (list of up to 5 values) and ``message``;
        empty when the source is clean.

    Raises
    ------
    KosParameterError
        ``regions`` or ``tz`` is not valid (bad arguments, not bad data).

    Examples
    --------
    >>> import pandas as pd
    >>> from kosresearch.data.validate import validation_report
    >>> stores = pd.DataFrame({"store_id": ["s1", "s1"], "region": ["east", "east"],
    ...                        "city": ["上海", "上海"], "opened_at": ["2020-01-01", "2020-01-01"]})
    >>> report = validation_report({"stores": stores})
    >>> report[["table", "column", "check", "n_bad"]]
           table         column           check  n_bad
    0     stores       store_id   duplicate_key      2
    1     stores  program_start  missing_column      2
    2        kos            NaN   missing_table      0
    3  customers            NaN   missing_table      0
    4     orders            NaN   missing_table      0
    >>> print(report["message"].iloc[0])
    stores.store_id: 1 primary-key value appears more than once (2 rows); the key must be unique (examples: 's1')
    """
    from kosresearch.data.loader import open_unvalidated

    try:
        dataset = open_unvalidated(source, regions=regions, tz=tz)
    except KosDataError as exc:
        return problems_frame(exc.problems)
    with dataset:
        return problems_frame(collect_problems(dataset))


def validate_dataset(dataset: Dataset) -> pd.DataFrame:
    """Return the validation report of an open dataset (empty when clean).

    Parameters
    ----------
    dataset : Dataset
        Typically opened with ``validate=False``.

    Returns
    -------
    pandas.DataFrame
        Columns ``table``, ``column``, ``check``, ``n_bad``, ``examples``,
        ``message``.
    """
    return problems_frame(collect_problems(dataset))


def format_problems(problems: Sequence[Problem], *, source: str) -> str:
    """Return the message of the error refusing ``source``: one line per problem."""
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"source {source} breaks the data contract ({len(problems)} {noun}); nothing was loaded:"]
    lines += [f"  - {p.message}" for p in problems]
    lines.append("See docs/using-your-own-data.md for what each check means and how to fix it.")
    return "\n".join(lines)


def collect_problems(dataset: Dataset) -> list[Problem]:
    """Run every check over ``dataset`` and return all problems found.

    Parameters
    ----------
    dataset : Dataset
        An open dataset (``validate=False`` is the usual way to get one that
        may hold bad data).

    Returns
    -------
    list of Problem
        Sorted by table (contract order), column (contract order) and check.
    """
    connection = dataset.connection
    bindings: dict[str, TableBinding] = {n: dataset._bindings[n] for n in dataset.tables}
    problems: list[Problem] = list(dataset._structural_problems())
    jobs: list[_Job] = []
    for binding in bindings.values():
        jobs += _column_jobs(binding, dataset.vocabularies)
        jobs += _duplicate_key_jobs(binding)
    for binding in bindings.values():
        for fk in binding.table.foreign_keys:
            if fk.table in bindings:
                jobs += _foreign_key_jobs(binding, fk, bindings[fk.table])
    results = _run_jobs(connection, jobs)
    broken: dict[str, Problem] = {}
    for job in jobs:
        result = results[job.key]
        if isinstance(result, Exception):
            if job.table not in broken and not any(t in broken for t in job.depends_on):
                broken[job.table] = _unreadable(bindings[job.table], result)
            continue
        try:
            problems += job.finish(connection, result)
        except _duckdb_error() as exc:
            broken.setdefault(job.table, _unreadable(bindings[job.table], exc))
    for binding in bindings.values():
        if binding.table.name not in broken:
            try:
                problems += _mixed_parquet_timezones(connection, binding)
            except _duckdb_error() as exc:
                broken[binding.table.name] = _unreadable(binding, exc)
    problems += broken.values()
    problems += _missing_regions(dataset)
    return sorted(problems, key=_sort_key)


def _duckdb_error() -> type[Exception]:
    import duckdb

    return duckdb.Error


def _unreadable(binding: TableBinding, exc: Exception) -> Problem:
    from kosresearch.data.loader import error_detail

    detail = error_detail(exc)
    name = binding.table.name
    return Problem.build(
        table=name,
        column=None,
        check="unreadable",
        n_bad=0,
        text=f"{binding.source.label or name} cannot be read: {detail}",
    )


@dataclass(frozen=True)
class _Job:
    """One aggregate query returning a list of counts, and what to make of them.

    ``sql`` returns one row with one ``BIGINT[]`` column. ``finish`` turns the
    counts into problems; it may run a second query for example values, which
    only happens when something is wrong.
    """

    key: str
    table: str
    sql: str
    finish: Callable[[Any, list[int]], list[Problem]]
    depends_on: tuple[str, ...] = ()


def _run_jobs(connection: Any, jobs: Sequence[_Job]) -> dict[str, list[int] | Exception]:
    """Run all jobs as one UNION ALL query; if that fails, run them one by one."""
    duckdb_error = _duckdb_error()
    if not jobs:
        return {}
    union = " UNION ALL ".join(f"SELECT {i} AS job, * FROM ({job.sql})" for i, job in enumerate(jobs))
    try:
        rows = connection.execute(union).fetchall()
        return {jobs[i].key: list(values) for i, values in rows}
    except duckdb_error:
        pass
    results: dict[str, list[int] | Exception] = {}
    for job in jobs:
        try:
            results[job.key] = list(connection.execute(job.sql).fetchone()[0])
        except duckdb_error as exc:
            results[job.key] = exc
    return results


def _sort_key(problem: Problem) -> tuple[int, int, int]:
    table_rank = TABLE_NAMES.index(problem.table) if problem.table in TABLE_NAMES else len(TABLE_NAMES)
    column_rank = -1
    if problem.table in TABLE_NAMES and problem.column is not None:
        from kosresearch.data.contract import get_table

        names = get_table(problem.table).column_names
        first = problem.column.split(",")[0].strip()
        column_rank = names.index(first) if first in names else len(names)
    check_rank = CHECKS.index(problem.check) if problem.check in CHECKS else len(CHECKS)
    return (table_rank, column_rank, check_rank)


# --------------------------------------------------------------------------- column checks


@dataclass(frozen=True)
class _Check:
    """A row-level check on one column: rows where ``condition`` holds are bad."""

    column: str
    check: str
    condition: str
    example: str | None
    describe: Callable[[int], str]
    examples_label: str = "examples"


def _pick(n: int, singular: str, plural: str) -> str:
    return singular if n == 1 else plural


def _rows(n: int) -> str:
    return f"{n} row{'' if n == 1 else 's'}"


def _are(n: int) -> str:
    return f"{_rows(n)} {'is' if n == 1 else 'are'}"


def _have(n: int) -> str:
    return f"{_rows(n)} {'has' if n == 1 else 'have'}"


def _key_example(binding: TableBinding, aliases: Mapping[str, str], column: str) -> tuple[str | None, str]:
    """SQL naming a bad row by its primary key, and the label for the message."""
    key = binding.table.primary_key
    if column in key or not all(binding.usable(k) for k in key):
        return None, "examples"
    if len(key) == 1:
        return aliases[key[0]], f"examples of {key[0]}"
    parts = ", ".join(f"CAST({aliases[k]} AS VARCHAR)" for k in key)
    return f"[{parts}]", f"examples of ({', '.join(key)})"


def _checks_for(
    binding: TableBinding,
    col: ColumnBinding,
    raw: str,
    typed: str,
    aliases: Mapping[str, str],
    vocabularies: Mapping[str, tuple[str, ...]],
) -> list[_Check]:
    column = col.column
    name = column.name
    if col.wrong_type:
        raw_type = col.raw_type
        words, accepted = col.kind_words, col.accepted_types
        return [
            _Check(
                name,
                "wrong_type",
                f"{raw} IS NOT NULL",
                f"CAST({raw} AS VARCHAR)",
                lambda n: f"{_have(n)} stored type {raw_type}, which cannot be read as {words}; store it as {accepted}",
            )
        ]
    checks: list[_Check] = []
    if column.kind in ("float", "int", "timestamp", "date") and col.category != "null":
        # values of a castable type that still do not cast (text 'abc', 3.5 for a count)
        bad = f"{raw} IS NOT NULL AND {typed} IS NULL"
        example = raw if col.category in ("text", "float", "integer") else f"CAST({raw} AS VARCHAR)"
        if column.kind == "float":
            checks.append(
                _Check(
                    name,
                    "wrong_type",
                    bad,
                    example,
                    lambda n: f"{_rows(n)} {_pick(n, 'is not a number', 'are not numbers')}",
                )
            )
        elif column.kind == "int":
            checks.append(
                _Check(
                    name,
                    "wrong_type",
                    bad,
                    example,
                    lambda n: f"{_rows(n)} {_pick(n, 'is not a whole number', 'are not whole numbers')}",
                )
            )
        else:
            what = (
                "a date; expected ISO 8601 such as '2024-03-01'"
                if column.kind == "date"
                else "a timestamp; expected ISO 8601 such as '2024-03-01 14:30:00' or '2024-03-01T06:30:00Z'"
            )
            checks.append(
                _Check(name, "unparseable_timestamp", bad, example, lambda n: f"{_rows(n)} cannot be parsed as {what}")
            )
    key_sql, key_label = _key_example(binding, aliases, name)
    if name == "region":
        checks.append(
            _Check(
                name,
                "empty_region",
                f"{raw} IS NULL",
                key_sql,
                lambda n: f"{_have(n)} an empty or NULL region; every row needs a region slug such as 'east'",
                key_label,
            )
        )
    elif not column.nullable:
        checks.append(
            _Check(
                name,
                "null_value",
                f"{raw} IS NULL",
                key_sql,
                lambda n: f"{_are(n)} NULL or empty, which the column does not allow",
                key_label,
            )
        )
    if column.vocabulary is not None:
        allowed = vocabularies[column.vocabulary]
        listed = ", ".join(sql_string(v) for v in allowed)
        vocab = column.vocabulary
        checks.append(
            _Check(
                name,
                "unknown_value",
                f"{typed} NOT IN ({listed})",
                typed,
                lambda n: (
                    f"{_have(n)} a value outside vocabulary '{vocab}' (allowed: {', '.join(allowed)}; "
                    f"extend it in contract.yml)"
                ),
            )
        )
    if column.minimum is not None:
        low = column.minimum
        text = (lambda n: f"{_are(n)} negative") if low == 0 else (lambda n: f"{_are(n)} below the minimum {low:g}")
        checks.append(_Check(name, "below_minimum", f"{typed} < {low!r}", typed, text))
    if column.maximum is not None:
        high = column.maximum
        checks.append(
            _Check(
                name, "above_maximum", f"{typed} > {high!r}", typed, lambda n: f"{_are(n)} above the maximum {high:g}"
            )
        )
    return checks


def _column_jobs(binding: TableBinding, vocabularies: Mapping[str, tuple[str, ...]]) -> list[_Job]:
    """One pass over the raw table counting every column-level problem."""
    table = binding.table
    if binding.raw_view is None:
        return []
    select, aliases, raw_aliases = [], {}, {}
    for i, col in enumerate(binding.columns):
        aliases[col.column.name] = f"t{i}"
        select.append(f"{col.typed} AS t{i}")
        if col.presence is not None:
            raw_aliases[col.column.name] = f"r{i}"
            select.append(f"{col.presence} AS r{i}")
    subquery = f"SELECT {', '.join(select)} FROM {binding.raw_view} WHERE {binding.region_filter}"

    checks: list[_Check] = []
    mixed: list[tuple[str, str, str]] = []  # (column, aware condition, naive condition)
    for col in binding.columns:
        name = col.column.name
        if name not in raw_aliases:
            continue
        raw, typed = raw_aliases[name], aliases[name]
        checks += _checks_for(binding, col, raw, typed, aliases, vocabularies)
        if col.column.kind in ("timestamp", "date") and col.category == "text":
            from kosresearch.data.loader import AWARE_PATTERN

            aware = f"regexp_matches({raw}, {sql_string(AWARE_PATTERN)})"
            mixed.append((name, f"{raw} IS NOT NULL AND {aware}", f"{raw} IS NOT NULL AND NOT {aware}"))

    counts = ["count(*)"] + [f"count(*) FILTER (WHERE {c.condition})" for c in checks]
    for _, aware, naive in mixed:
        counts += [f"count(*) FILTER (WHERE {aware})", f"count(*) FILTER (WHERE {naive})"]
    sql = f"SELECT [{', '.join(counts)}] FROM ({subquery})"

    def finish(connection: Any, row: list[int]) -> list[Problem]:
        return _column_problems(connection, binding, subquery, checks, mixed, raw_aliases, row)

    return [_Job(f"columns:{table.name}", table.name, sql, finish)]


def _column_problems(
    connection: Any,
    binding: TableBinding,
    subquery: str,
    checks: Sequence[_Check],
    mixed: Sequence[tuple[str, str, str]],
    raw_aliases: Mapping[str, str],
    row: list[int],
) -> list[Problem]:
    table = binding.table
    n_rows, values = row[0], list(row[1:])
    check_counts = values[: len(checks)]
    mixed_counts = values[len(checks) :]

    failing: list[tuple[_Check, int]] = [(c, n) for c, n in zip(checks, check_counts) if n]
    mixed_failing = []
    for i, (name, aware, naive) in enumerate(mixed):
        n_aware, n_naive = mixed_counts[2 * i], mixed_counts[2 * i + 1]
        if n_aware and n_naive:
            mixed_failing.append((name, aware, naive, n_aware, n_naive))

    problems = [
        Problem.build(
            table=table.name,
            column=col.column.name,
            check="missing_column",
            n_bad=n_rows,
            text=f"required column is missing (source columns: {', '.join(binding.source_columns)})",
        )
        for col in binding.columns
        if col.raw_name is None and not col.column.optional
    ]
    if not failing and not mixed_failing:
        return problems

    examples_sql = []
    for check, _ in failing:
        examples_sql.append(
            "NULL" if check.example is None else f"min(DISTINCT {check.example}, 5) FILTER (WHERE {check.condition})"
        )
    for name, aware, naive, n_aware, n_naive in mixed_failing:
        minority = aware if n_aware <= n_naive else naive
        examples_sql.append(f"min(DISTINCT {raw_aliases[name]}, 5) FILTER (WHERE {minority})")
    examples = connection.execute(f"SELECT {', '.join(examples_sql)} FROM ({subquery})").fetchone()

    for (check, n_bad), found in zip(failing, examples[: len(failing)]):
        problems.append(
            Problem.build(
                table=table.name,
                column=check.column,
                check=check.check,
                n_bad=n_bad,
                text=check.describe(n_bad),
                examples=_as_examples(found),
                examples_label=check.examples_label,
            )
        )
    for (name, _, _, n_aware, n_naive), found in zip(mixed_failing, examples[len(failing) :]):
        minority = "zone-aware" if n_aware <= n_naive else "naive"
        problems.append(
            Problem.build(
                table=table.name,
                column=name,
                check="mixed_timezones",
                n_bad=min(n_aware, n_naive),
                text=(
                    f"mixes zone-aware and naive timestamps: {_rows(n_aware)} carry a UTC offset or 'Z' and "
                    f"{_rows(n_naive)} do not; write the whole column one way (examples are the {minority} ones)"
                ),
                examples=_as_examples(found),
            )
        )
    return problems


def _as_examples(found: Any) -> tuple[Any, ...]:
    if not found:
        return ()
    return tuple(tuple(v) if isinstance(v, list) else v for v in found)


def _mixed_parquet_timezones(connection: Any, binding: TableBinding) -> list[Problem]:
    """Parquet files of one table that store a timestamp column both naive and zone-aware."""
    source = binding.source
    if source.format != "parquet" or len(source.files) < 2:
        return []
    columns = [c for c in binding.columns if c.column.kind in ("timestamp", "date") and c.category == "timestamptz"]
    if not columns:
        return []
    files = "[" + ", ".join(sql_string(str(p)) for p in source.files) + "]"
    names = ", ".join(sql_string(c.raw_name) for c in columns if c.raw_name)
    rows = connection.execute(
        f"""
        SELECT s.name, s.file_name, coalesce(s.logical_type, '') LIKE '%isAdjustedToUTC=1%' AS aware, m.num_rows
        FROM parquet_schema({files}) AS s
        JOIN parquet_file_metadata({files}) AS m USING (file_name)
        WHERE s.name IN ({names})
        ORDER BY s.file_name
        """
    ).fetchall()
    base = os.path.commonpath([str(p.parent) for p in source.files])
    problems = []
    for col in columns:
        found = [(file, aware, n) for name, file, aware, n in rows if name == col.raw_name]
        aware_files = [(f, n) for f, a, n in found if a]
        naive_files = [(f, n) for f, a, n in found if not a]
        if not aware_files or not naive_files:
            continue
        minority, kind = (
            (aware_files, "zone-aware (TIMESTAMP WITH TIME ZONE)")
            if len(aware_files) <= len(naive_files)
            else (naive_files, "naive (TIMESTAMP)")
        )
        n_rows = sum(n for _, n in minority)
        problems.append(
            Problem.build(
                table=binding.table.name,
                column=col.column.name,
                check="mixed_timezones",
                n_bad=n_rows,
                text=(
                    f"Parquet files mix zone-aware and naive timestamps: {len(aware_files)} file(s) store "
                    f"TIMESTAMP WITH TIME ZONE and {len(naive_files)} store TIMESTAMP; the {len(minority)} "
                    f"{kind} file(s) hold {_rows(n_rows)}; write every file the same way"
                ),
                examples=[os.path.relpath(f, base) for f, _ in minority],
                examples_label="files",
            )
        )
    return problems


# --------------------------------------------------------------------------- keys


def _duplicate_key_jobs(binding: TableBinding) -> list[_Job]:
    """Count primary-key values that appear more than once.

    The pass groups 64-bit hashes of the key rather than the key itself
    (about twice as fast on tens of millions of text ids, and lighter on
    memory); only when two rows share a hash are the keys compared exactly.
    """
    key = binding.table.primary_key
    if binding.raw_view is None or not all(binding.usable(k) for k in key):
        return []
    name = binding.table.name
    view = f"main.{quote_ident(name)}"
    cols = ", ".join(quote_ident(k) for k in key)
    not_null = " AND ".join(f"{quote_ident(k)} IS NOT NULL" for k in key)
    shared_hashes = f"SELECT hash({cols}) AS h FROM {view} WHERE {not_null} GROUP BY h HAVING count(*) > 1"
    sql = f"SELECT [count(*)] FROM ({shared_hashes})"

    def finish(connection: Any, counts: list[int]) -> list[Problem]:
        if not counts[0]:
            return []
        groups = (
            f"SELECT {cols}, count(*) AS n FROM {view} WHERE {not_null} AND hash({cols}) IN ({shared_hashes}) "
            "GROUP BY ALL HAVING count(*) > 1"
        )
        if len(key) == 1:
            example = quote_ident(key[0])
        else:
            example = "[" + ", ".join(f"CAST({quote_ident(k)} AS VARCHAR)" for k in key) + "]"
        n_keys, n_rows, found = connection.execute(
            f"SELECT count(*), coalesce(sum(n), 0), min({example}, 5) FROM ({groups})"
        ).fetchone()
        if not n_keys:  # rows only shared a hash
            return []
        return [
            Problem.build(
                table=name,
                column=", ".join(key),
                check="duplicate_key",
                n_bad=n_rows,
                text=(
                    f"{n_keys} primary-key value{'' if n_keys == 1 else 's'} "
                    f"{_pick(n_keys, 'appears', 'appear')} more than once ({_rows(n_rows)}); the key must be unique"
                ),
                examples=_as_examples(found),
                where=f"{name}.({', '.join(key)})" if len(key) > 1 else None,
            )
        ]

    return [_Job(f"duplicates:{name}", name, sql, finish)]


def _foreign_key_jobs(child: TableBinding, fk: ForeignKey, parent: TableBinding) -> list[_Job]:
    """Count references to a missing parent row and to a parent row of another region."""
    if child.raw_view is None or not child.usable(fk.column) or not parent.usable(fk.ref_column):
        return []
    col, ref = quote_ident(fk.column), quote_ident(fk.ref_column)
    when = f" AND ({fk.when})" if fk.when else ""
    child_rows = f"SELECT {col} AS v, region FROM main.{quote_ident(child.table.name)} WHERE {col} IS NOT NULL{when}"
    parent_keys = (
        f"SELECT {ref} AS k, min(region) AS region FROM main.{quote_ident(parent.table.name)} "
        f"WHERE {ref} IS NOT NULL GROUP BY {ref}"
    )
    joined = f"FROM ({child_rows}) AS c LEFT JOIN ({parent_keys}) AS p ON c.v = p.k"
    orphan = "p.k IS NULL"
    elsewhere = "p.k IS NOT NULL AND c.region <> p.region"
    sql = f"SELECT [count(*) FILTER (WHERE {orphan}), count(*) FILTER (WHERE {elsewhere})] {joined}"
    target = f"{fk.table}.{fk.ref_column}"
    condition = f" (rows where {fk.when})" if fk.when else ""
    name = child.table.name

    def finish(connection: Any, counts: list[int]) -> list[Problem]:
        n_orphan, n_elsewhere = counts
        if not n_orphan and not n_elsewhere:
            return []
        ex_orphan, ex_elsewhere = connection.execute(
            f"SELECT min(DISTINCT c.v, 5) FILTER (WHERE {orphan}), "
            f"min(DISTINCT c.v || ' (in ' || p.region || ')', 5) FILTER (WHERE {elsewhere}) {joined}"
        ).fetchone()
        problems = []
        if n_orphan:
            problems.append(
                Problem.build(
                    table=name,
                    column=fk.column,
                    check="orphan_key",
                    n_bad=n_orphan,
                    text=(
                        f"{_rows(n_orphan)}{condition} {_pick(n_orphan, 'references', 'reference')} "
                        f"a {target} that does not exist"
                    ),
                    examples=_as_examples(ex_orphan),
                )
            )
        if n_elsewhere:
            problems.append(
                Problem.build(
                    table=name,
                    column=fk.column,
                    check="region_mismatch",
                    n_bad=n_elsewhere,
                    text=(
                        f"{_rows(n_elsewhere)}{condition} {_pick(n_elsewhere, 'references', 'reference')} "
                        f"a {target} of another region; a row may only reference rows of its own region"
                    ),
                    examples=_as_examples(ex_elsewhere),
                )
            )
        return problems

    key = f"fk:{name}.{fk.column}->{target}:{fk.when or ''}"
    return [_Job(key, name, sql, finish, depends_on=(parent.table.name,))]


# --------------------------------------------------------------------------- regions


def _missing_regions(dataset: Dataset) -> list[Problem]:
    wanted = dataset.requested_regions
    if wanted is None:
        return []
    present = set(dataset.regions)
    missing = [r for r in wanted if r not in present]
    if not missing:
        return []
    available = dataset._source_regions()
    listed = ", ".join(repr(r) for r in available) or "none"
    return [
        Problem.build(
            table=None,
            column="region",
            check="region_not_found",
            n_bad=0,
            text=f"requested region {r!r} has no rows in any table; regions present in the source: {listed}",
            where="regions",
        )
        for r in missing
    ]
