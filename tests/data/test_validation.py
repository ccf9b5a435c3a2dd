"""Every class of bad input is refused with a message naming table and column."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from kosresearch.data.loader import open_dataset
from kosresearch.data.validate import CHECKS, REPORT_COLUMNS, Problem, validate_dataset, validation_report
from kosresearch.errors import KosDataError
from tests.data.helpers import write_csv, write_duckdb, write_parquet, write_partitioned


def _refused(source, match: str, **kwargs) -> KosDataError:
    with pytest.raises(KosDataError, match=match) as info:
        open_dataset(source, **kwargs)
    return info.value


def _csv_with(tables, tmp_path, table: str, column: str, values: list[str | None]):
    """Write the tables as CSV, with ``table.column`` replaced by raw text ``values``."""
    source = write_csv(tables, tmp_path / "src")
    frame = pd.read_csv(source / f"{table}.csv", dtype=str, keep_default_na=False)
    frame[column] = values
    frame.to_csv(source / f"{table}.csv", index=False)
    return source


def _only(error: KosDataError) -> Problem:
    assert len(error.problems) == 1, error.problems
    return error.problems[0]


# --------------------------------------------------------------------------- missing things


def test_a_missing_required_table_file_is_refused(tables, tmp_path):
    source = write_parquet(tables, tmp_path / "src")
    (source / "orders.parquet").unlink()
    error = _refused(source, r"orders: required table is missing: expected orders\.parquet, orders\.csv")
    problem = _only(error)
    assert (problem.table, problem.column, problem.check) == ("orders", None, "missing_table")
    assert "found: content.parquet, customers.parquet" in problem.message


def test_a_missing_required_table_is_named_for_a_mapping_and_a_duckdb_file(tables, tmp_path):
    without = {n: f for n, f in tables.items() if n != "kos"}
    _refused(without, r"kos: required table is missing: expected a key 'kos' in the mapping")
    db = write_duckdb(without, tmp_path / "kos.duckdb")
    _refused(db, r"kos: required table is missing: expected a table kos in database")


def test_a_missing_column_is_refused(tables, tmp_path):
    tables["orders"] = tables["orders"].drop(columns="amount")
    source = write_parquet(tables, tmp_path / "src")
    error = _refused(source, r"orders\.amount: required column is missing \(source columns: order_id, customer_id")
    problem = _only(error)
    assert (problem.check, problem.n_bad) == ("missing_column", 3)


def test_a_missing_column_of_a_partitioned_table_is_refused(tables, tmp_path):
    tables["customers"] = tables["customers"].drop(columns="acquisition_channel")
    _refused(write_partitioned(tables, tmp_path / "src"), r"customers\.acquisition_channel: required column is missing")


def test_an_empty_table_folder_is_refused(tables, tmp_path):
    source = write_partitioned(tables, tmp_path / "src")
    for path in (source / "kos").rglob("*.parquet"):
        path.unlink()
    _refused(source, r"kos: folder '.*kos' holds no \.parquet or \.csv file")


def test_two_files_for_one_table_are_refused(tables, tmp_path):
    source = write_parquet(tables, tmp_path / "src")
    tables["orders"].to_csv(source / "orders.csv", index=False)
    _refused(source, r"orders: found more than one source for the table \(orders\.parquet, orders\.csv\)")


def test_an_unreadable_file_is_refused(tables, tmp_path):
    source = write_parquet(tables, tmp_path / "src")
    (source / "content.parquet").write_bytes(b"PAR1 this is not parquet")
    error = _refused(source, r"content: content\.parquet cannot be read")
    assert _only(error).check == "unreadable"


def test_a_csv_row_with_too_many_fields_is_refused_naming_the_line(tables, tmp_path):
    source = write_csv(tables, tmp_path / "src")
    path = source / "orders.csv"
    path.write_text(path.read_text(encoding="utf-8") + "o4,c1,east,s1,,2024-01-01,5.0,,EXTRA\n", encoding="utf-8")
    error = _refused(source, r"orders: orders\.csv cannot be read: .*CSV Error on Line: 5; Original Line: o4,c1")
    assert _only(error).check == "unreadable"


# --------------------------------------------------------------------------- wrong types


def test_text_that_is_not_a_number_is_refused(tables, tmp_path):
    source = _csv_with(tables, tmp_path, "orders", "amount", ["199.0", "abc", "12,5"])
    error = _refused(source, r"orders\.amount: 2 rows are not numbers \(examples: '12,5', 'abc'\)")
    assert _only(error).check == "wrong_type"


def test_a_count_that_is_not_a_whole_number_is_refused(tables, tmp_path):
    source = _csv_with(tables, tmp_path, "content", "likes", ["50", "3.5"])
    _refused(source, r"content\.likes: 1 row is not a whole number \(examples: '3\.5'\)")


def test_a_fractional_float_count_in_parquet_is_refused(tables, tmp_path):
    tables["content"]["shares"] = [3.0, 0.5]
    _refused(
        write_parquet(tables, tmp_path / "src"), r"content\.shares: 1 row is not a whole number \(examples: 0\.5\)"
    )


def test_a_parquet_column_of_a_type_that_cannot_be_cast_is_refused(tables, tmp_path):
    tables["orders"]["ordered_at"] = [True, False, True]
    tables["orders"]["amount"] = pd.to_datetime(["2024-01-01"] * 3)
    source = write_parquet(tables, tmp_path / "src")
    error = _refused(
        source, r"orders\.ordered_at: 3 rows have stored type BOOLEAN, which cannot be read as a timestamp"
    )
    checks = {(p.column, p.check) for p in error.problems}
    assert checks == {("ordered_at", "wrong_type"), ("amount", "wrong_type")}
    assert "orders.amount: 3 rows have stored type TIMESTAMP" in str(error)


def test_float_ids_are_refused_because_they_lose_their_text(tables):
    tables["orders"]["store_id"] = [1.0, 1.0, 2.0]
    _refused(tables, r"orders\.store_id: 3 rows have stored type DOUBLE, which cannot be read as an identifier")


def test_integer_ids_are_read_as_text(tables):
    tables["strategy_changes"]["change_id"] = np.array([10, 11])
    with open_dataset(tables) as ds:
        assert ds.table("strategy_changes", ["change_id"])["change_id"].tolist() == ["10", "11"]


# --------------------------------------------------------------------------- timestamps


def test_an_unparseable_timestamp_is_refused(tables, tmp_path):
    source = _csv_with(
        tables, tmp_path, "orders", "ordered_at", ["2024-01-02 10:00:00", "yesterday", "2024-13-45 10:00"]
    )
    error = _refused(
        source,
        r"orders\.ordered_at: 2 rows cannot be parsed as a timestamp; expected ISO 8601 .*"
        r"\(examples: '2024-13-45 10:00', 'yesterday'\)",
    )
    assert _only(error).check == "unparseable_timestamp"


def test_an_unparseable_date_is_refused(tables, tmp_path):
    source = _csv_with(tables, tmp_path, "stores", "opened_at", ["2020-01-01", "01/02/2021 maybe"])
    _refused(source, r"stores\.opened_at: 1 row cannot be parsed as a date")


def test_mixed_naive_and_aware_text_timestamps_are_refused(tables, tmp_path):
    source = _csv_with(
        tables, tmp_path, "orders", "ordered_at", ["2024-01-02T02:00:00Z", "2024-01-06 18:30:00", "2024-02-03 11:00:00"]
    )
    error = _refused(
        source,
        r"orders\.ordered_at: mixes zone-aware and naive timestamps: 1 row carry a UTC offset or 'Z' and 2 rows do not"
        r".*\(examples: '2024-01-02T02:00:00Z'\)",
    )
    problem = _only(error)
    assert (problem.check, problem.n_bad) == ("mixed_timezones", 1)


def test_mixed_naive_and_aware_timestamps_in_a_dataframe_are_refused(tables):
    tables["messages"]["ts"] = pd.Series(
        [
            pd.Timestamp("2024-01-01 11:00"),
            pd.Timestamp("2024-01-02 00:00", tz="UTC"),
            pd.Timestamp("2024-02-01 10:00"),
        ],
        dtype=object,
    )
    _refused(tables, r"messages\.ts: mixes zone-aware and naive timestamps")


def test_parquet_files_mixing_timestamp_and_timestamptz_are_refused(tables, tmp_path):
    source = write_partitioned(tables, tmp_path / "src")
    west = tables["orders"][tables["orders"]["region"] == "west"].drop(columns="region")
    west = west.assign(ordered_at=west["ordered_at"].dt.tz_localize("Asia/Shanghai"))
    west.to_parquet(source / "orders" / "region=west" / "part-0.parquet", index=False)
    error = _refused(
        source,
        r"orders\.ordered_at: Parquet files mix zone-aware and naive timestamps: 1 file\(s\) store TIMESTAMP WITH "
        r"TIME ZONE and 1 store TIMESTAMP.*\(files: 'region=west/part-0\.parquet'\)",
    )
    assert _only(error).check == "mixed_timezones"


# --------------------------------------------------------------------------- values


def test_an_unknown_vocabulary_value_is_refused(tables):
    tables["content"]["topic"] = pd.Series(["memes", "promotion"], dtype="str")
    tables["customers"]["acquisition_channel"] = pd.Series(["tv", "referral", "radio"], dtype="str")
    error = _refused(
        tables,
        r"content\.topic: 1 row has a value outside vocabulary 'topic' \(allowed: usage_tips, promotion, "
        r"product_review, lifestyle, behind_the_scenes; extend it in contract\.yml\) \(examples: 'memes'\)",
    )
    assert "customers.acquisition_channel: 2 rows have a value outside vocabulary 'acquisition_channel'" in str(error)
    assert {p.check for p in error.problems} == {"unknown_value"}


def test_negative_amounts_are_refused_with_examples(tables):
    tables["orders"]["amount"] = [-5.0, -12.5, -1.0]
    error = _refused(tables, re.escape("orders.amount: 3 rows are negative (examples: -12.5, -5.0, -1.0)"))
    problem = _only(error)
    assert (problem.table, problem.column, problem.check, problem.n_bad) == ("orders", "amount", "below_minimum", 3)
    assert problem.examples == (-12.5, -5.0, -1.0)


def test_negative_counts_and_costs_are_refused(tables):
    tables["content"]["likes"] = np.array([-1, 10])
    tables["customers"]["acquisition_cost"] = [50.0, -0.5, 80.0]
    error = _refused(tables, r"content\.likes: 1 row is negative \(examples: -1\)")
    assert "customers.acquisition_cost: 1 row is negative (examples: -0.5)" in str(error)


def test_a_sentiment_outside_minus_one_to_one_is_refused(tables):
    tables["messages"]["sentiment"] = [1.5, np.nan, -3.0]
    error = _refused(tables, r"messages\.sentiment: 1 row is above the maximum 1 \(examples: 1\.5\)")
    assert "messages.sentiment: 1 row is below the minimum -1 (examples: -3.0)" in str(error)


def test_null_in_a_non_nullable_column_is_refused(tables):
    tables["orders"]["customer_id"] = pd.Series(["c1", None, ""], dtype="str")
    error = _refused(
        tables,
        r"orders\.customer_id: 2 rows are NULL or empty, which the column does not allow "
        r"\(examples of order_id: 'o2', 'o3'\)",
    )
    assert _only(error).check == "null_value"


def test_blank_text_reads_as_null(tables, tmp_path):
    source = _csv_with(tables, tmp_path, "orders", "kos_id", ["k1", "   ", ""])
    with open_dataset(source) as ds:
        assert ds.table("orders", ["kos_id"])["kos_id"].isna().tolist() == [False, True, True]


@pytest.mark.parametrize(
    ("values", "statistics", "tested"),
    [
        (["k1", "   ", ""], True, True),  # blanks: every value is tested
        (["k1", " k2", None], True, True),  # a leading space: tested, kept
        (["k1", "k2", None], True, False),  # statistics prove no blank: read as stored
        (["k1", "k2", None], False, True),  # no statistics: tested
    ],
)
def test_blank_text_in_parquet_reads_as_null_and_only_proven_clean_text_skips_the_test(
    tables, tmp_path, values, statistics, tested
):
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = write_parquet(tables, tmp_path / "src")
    tables["orders"]["kos_id"] = pd.Series(values, dtype="str")
    pq.write_table(pa.Table.from_pandas(tables["orders"], preserve_index=False), source / "orders.parquet",
                   write_statistics=statistics)
    with open_dataset(source, validate=False) as ds:
        got = ds.table("orders", ["kos_id"])["kos_id"]
        view = ds.connection.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'orders'").fetchone()[0]
    assert [None if pd.isna(v) else v for v in got] == [v if v is not None and v.strip() else None for v in values]
    assert ("starts_with(CAST(kos_id AS VARCHAR)" in view) is tested


def test_null_in_a_nullable_column_is_accepted(tables):
    tables["orders"]["kos_id"] = pd.Series([None, None, None], dtype="str")
    with open_dataset(tables) as ds:
        assert ds.table("orders", ["kos_id"])["kos_id"].isna().all()


def test_an_empty_or_null_region_is_refused(tables):
    tables["orders"]["region"] = pd.Series(["east", "", None], dtype="str")
    error = _refused(
        tables,
        r"orders\.region: 2 rows have an empty or NULL region; every row needs a region slug such as 'east' "
        r"\(examples of order_id: 'o2', 'o3'\)",
    )
    assert [p.check for p in error.problems] == ["empty_region"]


def test_a_blank_region_in_csv_is_refused(tables, tmp_path):
    source = _csv_with(tables, tmp_path, "kos", "region", ["east", "  "])
    _refused(source, r"kos\.region: 1 row has an empty or NULL region")


# --------------------------------------------------------------------------- keys


def test_a_duplicate_primary_key_is_refused(tables):
    tables["orders"]["order_id"] = pd.Series(["o1", "o1", "o3"], dtype="str")
    error = _refused(
        tables,
        r"orders\.order_id: 1 primary-key value appears more than once \(2 rows\); the key must be unique "
        r"\(examples: 'o1'\)",
    )
    problem = _only(error)
    assert (problem.check, problem.n_bad) == ("duplicate_key", 2)


def test_a_duplicate_composite_primary_key_is_refused(tables):
    extra = tables["tier_events"].iloc[[0]]
    tables["tier_events"] = pd.concat([tables["tier_events"], extra, extra], ignore_index=True)
    tables["group_members"] = pd.concat([tables["group_members"], tables["group_members"].iloc[[2]]])
    error = _refused(
        tables,
        r"tier_events\.\(customer_id, ts, event\): 1 primary-key value appears more than once \(3 rows\).*"
        r"\(examples: \(c1, 2024-01-15 00:00:00, promotion_invite\)\)",
    )
    assert "group_members.(group_id, customer_id): 1 primary-key value appears more than once (2 rows)" in str(error)
    assert {p.column for p in error.problems} == {"customer_id, ts, event", "group_id, customer_id"}


def test_an_order_of_an_unknown_customer_is_refused(tables):
    tables["orders"]["customer_id"] = pd.Series(["c1", "c99", "c98"], dtype="str")
    error = _refused(
        tables,
        r"orders\.customer_id: 2 rows reference a customers\.customer_id that does not exist "
        r"\(examples: 'c98', 'c99'\)",
    )
    problem = _only(error)
    assert (problem.check, problem.n_bad) == ("orphan_key", 2)


def test_orphans_of_conditional_foreign_keys_are_refused(tables):
    # P2 is a KOC code: its owner must be a customer; k1 is a KOS id
    tables["promo_codes"]["owner_id"] = pd.Series(["k1", "k1", "c3"], dtype="str")
    error = _refused(
        tables,
        r"promo_codes\.owner_id: 1 row \(rows where owner_type = 'koc'\) references a customers\.customer_id "
        r"that does not exist \(examples: 'k1'\)",
    )
    assert "rows where owner_type = 'kos'" in str(error)  # c3 is not a KOS
    assert [p.check for p in error.problems] == ["orphan_key", "orphan_key"]


def test_a_self_reference_to_an_unknown_referrer_is_refused(tables):
    tables["customers"]["referrer_id"] = pd.Series([None, "c404", None], dtype="str")
    _refused(tables, r"customers\.referrer_id: 1 row references a customers\.customer_id that does not exist")


def test_a_reference_to_a_row_of_another_region_is_refused(tables):
    tables["orders"]["store_id"] = pd.Series(["s1", "s2", "s2"], dtype="str")
    error = _refused(
        tables,
        r"orders\.store_id: 1 row references a stores\.store_id of another region; a row may only reference "
        r"rows of its own region \(examples: 's2 \(in west\)'\)",
    )
    assert _only(error).check == "region_mismatch"


def test_foreign_keys_to_an_absent_optional_table_are_not_checked(tables):
    subset = {n: tables[n] for n in ("stores", "kos", "customers", "orders")}
    with open_dataset(subset) as ds:  # orders.promo_code points to promo_codes, which is absent
        assert ds.validation.empty


# --------------------------------------------------------------------------- regions


@pytest.mark.parametrize("kind", ["mapping", "partitioned"])
def test_a_requested_region_with_no_rows_is_refused_listing_the_regions_present(kind, tables, tmp_path):
    source = tables if kind == "mapping" else write_partitioned(tables, tmp_path / "src")
    error = _refused(
        source,
        r"regions: requested region 'north' has no rows in any table; regions present in the source: 'east', 'west'",
        regions=["east", "north"],
    )
    problem = _only(error)
    assert (problem.table, problem.column, problem.check) == (None, "region", "region_not_found")


# --------------------------------------------------------------------------- all at once


def test_several_problems_are_all_listed_in_one_error(tables, tmp_path):
    tables["orders"]["amount"] = [-5.0, 10.0, -1.0]
    tables["orders"]["customer_id"] = pd.Series(["c1", "c99", "c3"], dtype="str")
    tables["content"]["topic"] = pd.Series(["memes", "promotion"], dtype="str")
    tables["kos"] = tables["kos"].drop(columns="joined_at")
    tables["stores"]["store_id"] = pd.Series(["s1", "s1"], dtype="str")
    tables["messages"]["sentiment"] = [2.0, np.nan, 0.0]
    del tables["customers"]
    source = write_parquet(tables, tmp_path / "src")
    error = _refused(source, "breaks the data contract")
    message = str(error)
    expected = [
        "stores.store_id: 1 primary-key value appears more than once (2 rows)",
        "kos.store_id: 1 row references a stores.store_id that does not exist (examples: 's2')",
        "kos.joined_at: required column is missing",
        "customers: required table is missing",
        "orders.store_id: 1 row references a stores.store_id that does not exist (examples: 's2')",
        "orders.amount: 2 rows are negative (examples: -5.0, -1.0)",
        "content.topic: 1 row has a value outside vocabulary 'topic'",
        "messages.sentiment: 1 row is above the maximum 1 (examples: 2.0)",
        "strategy_changes.store_id: 1 row references a stores.store_id that does not exist",
    ]
    lines = message.splitlines()
    assert lines[0] == f"source '{source.resolve()}' breaks the data contract (9 problems); nothing was loaded:"
    assert len(lines) == 1 + len(expected) + 1
    for line, start in zip(lines[1:], expected):
        assert line.startswith(f"  - {start}"), (line, start)
    assert [p.check for p in error.problems] == [
        "duplicate_key",
        "orphan_key",
        "missing_column",
        "missing_table",
        "orphan_key",
        "below_minimum",
        "unknown_value",
        "above_maximum",
        "orphan_key",
    ]
    assert all(isinstance(p, Problem) for p in error.problems)
    assert all(p.check in CHECKS for p in error.problems)


def test_at_most_five_distinct_examples_are_shown(tables):
    tables["orders"] = pd.concat([tables["orders"]] * 4, ignore_index=True)
    tables["orders"]["order_id"] = pd.Series([f"o{i}" for i in range(12)], dtype="str")
    tables["orders"]["amount"] = [-float(i % 7) - 1 for i in range(12)]
    error = _refused(tables, r"orders\.amount: 12 rows are negative \(examples: -7\.0, -6\.0, -5\.0, -4\.0, -3\.0\)")
    assert len(_only(error).examples) == 5


# --------------------------------------------------------------------------- the report


def test_validation_report_returns_problems_without_raising(tables, tmp_path):
    tables["orders"]["amount"] = [-5.0, 10.0, 1.0]
    source = write_parquet(tables, tmp_path / "src")
    report = validation_report(source)
    assert report.columns.tolist() == list(REPORT_COLUMNS)
    assert report[["table", "column", "check", "n_bad"]].values.tolist() == [["orders", "amount", "below_minimum", 1]]
    assert report["examples"].tolist() == [[-5.0]]
    assert report["message"].item() == "orders.amount: 1 row is negative (examples: -5.0)"


def test_validation_report_of_a_clean_source_is_empty(tables):
    report = validation_report(tables)
    assert report.empty
    assert report.columns.tolist() == list(REPORT_COLUMNS)


def test_validation_report_covers_problems_of_the_whole_source(tmp_path):
    report = validation_report(tmp_path / "nowhere")
    assert report["check"].tolist() == ["missing_source"]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "contract.yml").write_text("vocabularies:\n  colour: [red]\n")
    assert validation_report(tmp_path / "src")["check"].tolist() == ["bad_configuration"]


def test_validation_report_lists_unreadable_tables_with_the_other_problems(tables, tmp_path):
    tables["orders"]["amount"] = [-5.0, 10.0, 1.0]
    source = write_parquet(tables, tmp_path / "src")
    (source / "content.parquet").write_bytes(b"garbage")
    report = validation_report(source)
    assert report["check"].tolist() == ["below_minimum", "unreadable"]


def test_validation_report_honours_the_region_filter(tables):
    tables["orders"]["amount"] = [10.0, 20.0, -1.0]  # the bad order is in the west
    assert validation_report(tables, regions=["east"]).empty
    assert validation_report(tables, regions=["west"])["check"].tolist() == ["below_minimum"]


def test_validate_dataset_on_an_open_dataset(tables):
    tables["orders"]["amount"] = [10.0, 20.0, -1.0]
    with open_dataset(tables, validate=False) as ds:
        report = validate_dataset(ds)
    assert report["message"].tolist() == ["orders.amount: 1 row is negative (examples: -1.0)"]
