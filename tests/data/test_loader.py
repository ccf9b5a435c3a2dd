"""open_dataset and Dataset: every source kind, types, region pushdown, the Dataset API."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import kosresearch
from kosresearch.data.contract import TABLE_NAMES, TABLES, get_table
from kosresearch.data.loader import Dataset, open_dataset
from kosresearch.errors import KosDataError, KosParameterError
from tests.data.helpers import (
    WRITERS,
    make_tables,
    snapshot,
    write_csv,
    write_duckdb,
    write_parquet,
    write_partitioned,
)

REQUIRED = ("stores", "kos", "customers", "orders")


def _read_all(ds: Dataset) -> dict[str, pd.DataFrame]:
    out = {}
    for name in ds.tables:
        key = list(get_table(name).primary_key)
        out[name] = ds.table(name).sort_values(key).reset_index(drop=True)
    return out


@pytest.fixture
def reference(tables):
    with open_dataset(tables) as ds:
        return _read_all(ds)


# --------------------------------------------------------------------------- source kinds


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_every_source_kind_reads_back_the_same_tables(kind, tables, reference, tmp_path):
    source = WRITERS[kind](tables, tmp_path)
    with open_dataset(source) as ds:
        assert ds.tables == TABLE_NAMES
        assert ds.regions == ("east", "west")
        assert ds.validation.empty
        frames = _read_all(ds)
    assert frames.keys() == reference.keys()
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, reference[name], obj=f"{kind}:{name}")


def test_views_have_the_contract_duckdb_types(tables):
    with open_dataset(tables) as ds:
        for table in TABLES:
            described = ds.sql(f'DESCRIBE "{table.name}"')
            got = dict(zip(described["column_name"], described["column_type"]))
            assert got == {c.name: c.duckdb_type for c in table.columns}, table.name


def test_reading_back_gives_pandas_types_for_ids_numbers_and_times(tables):
    with open_dataset(tables) as ds:
        orders = ds.table("orders")
        content = ds.table("content")
        stores = ds.table("stores")
    assert orders["order_id"].tolist() == ["o1", "o2", "o3"]
    assert orders["amount"].dtype == "float64"
    assert content["likes"].dtype == "int64"
    assert pd.api.types.is_datetime64_any_dtype(orders["ordered_at"])
    assert orders["ordered_at"].dt.tz is None
    assert stores["opened_at"].tolist() == [pd.Timestamp("2020-01-01"), pd.Timestamp("2021-03-01")]


def test_csv_ids_keep_leading_zeros(tables, tmp_path):
    tables["stores"]["store_id"] = pd.Series(["007", "008"], dtype="str")
    tables["kos"]["store_id"] = pd.Series(["007", "008"], dtype="str")
    tables["customers"]["store_id"] = pd.Series(["007", "007", "008"], dtype="str")
    tables["orders"]["store_id"] = pd.Series(["007", "007", "008"], dtype="str")
    tables["strategy_changes"]["store_id"] = pd.Series([None, "008"], dtype="str")
    source = write_csv(tables, tmp_path / "src")
    with open_dataset(source) as ds:
        assert ds.table("stores", ["store_id"])["store_id"].tolist() == ["007", "008"]


def test_optional_tables_may_be_absent(tables, tmp_path):
    source = write_parquet({n: tables[n] for n in REQUIRED}, tmp_path / "src")
    with open_dataset(source) as ds:
        assert ds.tables == REQUIRED
        assert ds.has("orders")
        assert not ds.has("feedback")
        ds.require("orders", "customers")
        with pytest.raises(KosDataError, match="this analysis needs table 'feedback', which the source does not have"):
            ds.require("orders", "feedback")
        with pytest.raises(KosDataError, match="needs tables 'feedback', 'messages'"):
            ds.require("feedback", "messages")
        with pytest.raises(KosDataError, match="table 'feedback' is not in the source.*tables present: stores, kos"):
            ds.table("feedback")


def test_optional_column_absent_reads_as_null(tables, tmp_path):
    tables["kos"] = tables["kos"].drop(columns="name")
    source = write_csv(tables, tmp_path / "src")
    with open_dataset(source) as ds:
        names = ds.table("kos", ["kos_id", "name"])
    assert names["name"].isna().all()
    assert names["kos_id"].tolist() == ["k1", "k2"]


def test_extra_source_columns_are_left_out_of_the_views(tables):
    tables["orders"] = tables["orders"].assign(channel_note="x")
    with open_dataset(tables) as ds:
        assert list(ds.table("orders").columns) == list(get_table("orders").column_names)


def test_tables_with_upper_case_column_names_are_matched(tables, tmp_path):
    tables["orders"] = tables["orders"].rename(columns={"amount": "Amount"})
    with open_dataset(write_csv(tables, tmp_path / "src")) as ds:
        assert ds.table("orders", ["amount"])["amount"].tolist() == [199.0, 100.5, 300.0]


def test_a_partitioned_csv_source_is_read_like_parquet(tables, reference, tmp_path):
    for name, frame in tables.items():
        for region, part in frame.groupby("region"):
            target = tmp_path / "src" / name / f"region={region}"
            target.mkdir(parents=True)
            part.drop(columns="region").to_csv(target / "part.csv", index=False)
    with open_dataset(tmp_path / "src") as ds:
        frames = _read_all(ds)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, reference[name], obj=name)


# --------------------------------------------------------------------------- regions


@pytest.mark.parametrize("kind", ["parquet", "csv", "partitioned", "duckdb", "mapping"])
def test_region_filter_returns_only_the_requested_region(kind, tables, tmp_path):
    source = WRITERS[kind](tables, tmp_path)
    with open_dataset(source, regions=["east"]) as ds:
        assert ds.regions == ("east",)
        orders = ds.table("orders")
        assert orders["order_id"].tolist() == ["o1", "o2"]
        assert set(orders["region"]) == {"east"}
        assert ds.sql("SELECT count(*) AS n FROM customers")["n"].item() == 2
        counts = ds.row_counts.set_index("table")["rows"]
        assert counts["stores"] == 1 and counts["messages"] == 2


def test_partitions_of_other_regions_are_never_read(tables, tmp_path):
    source = write_partitioned(tables, tmp_path / "src")
    # a west partition that is not Parquet at all: reading it would fail
    (source / "orders" / "region=west" / "part-0.parquet").write_bytes(b"not a parquet file")
    with open_dataset(source, regions=["east"]) as ds:
        assert ds.table("orders")["order_id"].tolist() == ["o1", "o2"]
        read = [p.relative_to(source).as_posix() for p in ds.input_files]
    assert "orders/region=east/part-0.parquet" in read
    assert not any("region=west" in p for p in read)
    with pytest.raises(KosDataError, match="orders: orders/ cannot be read"):
        open_dataset(source)


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_only_region_folders_count_as_partitioned_by_region(kind, tables, tmp_path):
    with open_dataset(WRITERS[kind](tables, tmp_path)) as ds:
        assert ds.partitioned_by_region("orders", "messages") is kind.startswith("partitioned")
        assert not ds.partitioned_by_region("orders", "no_such_table")


def test_folders_keyed_by_something_else_are_not_partitioned_by_region(tables, tmp_path):
    source = write_partitioned(tables, tmp_path / "src")
    for folder in (source / "orders").iterdir():
        folder.rename(folder.with_name(folder.name.replace("region=", "shard=")))
    with open_dataset(source, validate=False) as ds:
        assert ds.partitioned_by_region("messages") and not ds.partitioned_by_region("orders")


def test_region_filter_is_in_the_view_sql(tables, tmp_path):
    source = write_parquet(tables, tmp_path / "src")
    with open_dataset(source, regions=["west"]) as ds:
        sql = ds.connection.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'orders'").fetchone()[0]
        plan = ds.sql("EXPLAIN SELECT * FROM orders")["explain_value"].str.cat()
    assert "IN ('west')" in sql
    assert "west" in plan  # the filter reaches the Parquet scan


def test_region_present_only_in_some_tables_is_still_a_region(tables, tmp_path):
    with open_dataset(tables, regions=["west"]) as ds:
        assert ds.regions == ("west",)
        assert ds.table("groups")["group_id"].tolist() == ["g2"]


# --------------------------------------------------------------------------- time zones


def test_zone_aware_text_is_converted_to_local_wall_time(tables, tmp_path):
    source = write_csv(tables, tmp_path / "src")
    orders = pd.read_csv(source / "orders.csv", dtype=str)
    orders["ordered_at"] = ["2024-01-01T00:00:00Z", "2024-01-06T18:30:00+08:00", "2024-02-03T03:00:00+00:00"]
    orders.to_csv(source / "orders.csv", index=False)
    with open_dataset(source) as ds:
        got = ds.table("orders", ["ordered_at"])["ordered_at"].tolist()
    assert got == [
        pd.Timestamp("2024-01-01 08:00:00"),
        pd.Timestamp("2024-01-06 18:30:00"),
        pd.Timestamp("2024-02-03 11:00:00"),
    ]


def test_zone_aware_parquet_timestamps_are_converted_to_local_wall_time(tables, tmp_path):
    tables["orders"]["ordered_at"] = pd.to_datetime(["2024-01-01T00:00:00Z"] * 3, utc=True)
    source = write_parquet(tables, tmp_path / "src")
    with open_dataset(source) as ds:
        got = ds.table("orders", ["ordered_at"])["ordered_at"].tolist()
    assert got == [pd.Timestamp("2024-01-01 08:00:00")] * 3


def test_another_business_time_zone_can_be_chosen(tables):
    tables["orders"]["ordered_at"] = pd.to_datetime(["2024-01-01T00:00:00Z"] * 3, utc=True)
    with open_dataset(tables, tz="Europe/Berlin") as ds:
        assert ds.tz == "Europe/Berlin"
        got = ds.table("orders", ["ordered_at"])["ordered_at"].tolist()
    assert got == [pd.Timestamp("2024-01-01 01:00:00")] * 3


def test_naive_timestamps_are_kept_as_local_time(tables):
    with open_dataset(tables, tz="America/New_York") as ds:
        got = ds.table("orders", ["ordered_at"])["ordered_at"].iloc[0]
    assert got == pd.Timestamp("2024-01-02 10:00:00")


# --------------------------------------------------------------------------- configuration


def test_contract_yml_extends_a_vocabulary(tables, tmp_path):
    tables["content"]["topic"] = pd.Series(["usage_tips", "unboxing"], dtype="str")
    source = write_parquet(tables, tmp_path / "src")
    with pytest.raises(KosDataError, match="content.topic: 1 row has a value outside vocabulary 'topic'"):
        open_dataset(source)
    (source / "contract.yml").write_text("vocabularies:\n  topic: [unboxing, 开箱]\n", encoding="utf-8")
    with open_dataset(source) as ds:
        assert "unboxing" in ds.vocabularies["topic"]
        assert ds.vocabularies["topic"][:2] == ("usage_tips", "promotion")
        assert source / "contract.yml" in ds.input_files
        assert ds.table("content", ["topic"])["topic"].tolist() == ["usage_tips", "unboxing"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("vocabularies:\n  topics: [x]\n", "vocabularies.topics is not a contract vocabulary"),
        ("vocabularies:\n  topic: x\n", "vocabularies.topic must be a list of non-empty strings"),
        ("vocab: {}\n", "unknown keys \\['vocab'\\]"),
        ("vocabularies: [\n", "not valid YAML"),
    ],
)
def test_an_invalid_contract_yml_is_refused(text, match, tables, tmp_path):
    source = write_parquet(tables, tmp_path / "src")
    (source / "contract.yml").write_text(text, encoding="utf-8")
    with pytest.raises(KosDataError, match=match):
        open_dataset(source)


# --------------------------------------------------------------------------- Dataset API


def test_table_selects_columns_in_the_order_given(tables):
    with open_dataset(tables) as ds:
        frame = ds.table("orders", columns=["amount", "order_id"])
    assert list(frame.columns) == ["amount", "order_id"]


def test_table_names_unknown_tables_and_columns(tables):
    with open_dataset(tables) as ds:
        with pytest.raises(KosDataError, match="name='order' is not a table of the data contract"):
            ds.table("order")
        with pytest.raises(KosDataError, match=r"columns=\['total'\] are not columns of table 'orders'"):
            ds.table("orders", ["order_id", "total"])
        with pytest.raises(KosParameterError, match="columns='amount' must be a list"):
            ds.table("orders", "amount")
        with pytest.raises(KosDataError, match="name='feedbak' is not a table"):
            ds.has("feedbak")


def test_sql_runs_over_the_views_with_parameters(tables):
    with open_dataset(tables) as ds:
        positional = ds.sql("SELECT order_id FROM orders WHERE amount > ? ORDER BY 1", [150])
        named = ds.sql("SELECT count(*) AS n FROM orders WHERE region = $r", {"r": "east"})
        joined = ds.sql(
            "SELECT c.acquisition_channel, sum(o.amount) AS sales FROM orders o "
            "JOIN customers c USING (customer_id) GROUP BY 1 ORDER BY 1"
        )
    assert positional["order_id"].tolist() == ["o1", "o3"]
    assert named["n"].item() == 2
    assert joined["sales"].tolist() == [199.0, 300.0, 100.5]


def test_sql_after_an_unfinished_result_and_for_statements_that_are_not_queries(tables):
    with open_dataset(tables) as ds:
        pending = ds.connection.execute("SELECT * FROM range(100000)")
        assert pending.fetchone() == (0,)  # left unfinished: a DuckDB relation would be refused now
        after = ds.sql("SELECT count(*) AS n FROM orders")
        created = ds.sql("CREATE TABLE scratch AS SELECT order_id FROM orders")
        last = ds.sql("SELECT 1 AS a; SELECT count(*) AS n FROM scratch")
    assert after["n"].item() == 3
    assert created["Count"].item() == 3
    assert last.columns.tolist() == ["n"] and last["n"].item() == 3


def test_summaries_row_counts_date_range_and_coverage(tables):
    with open_dataset(tables) as ds:
        counts = ds.row_counts
        assert counts.columns.tolist() == ["table", "rows"]
        assert counts["table"].tolist() == list(TABLE_NAMES)
        assert dict(zip(counts["table"], counts["rows"]))["orders"] == 3
        # activity span: store openings (2020) and advisor joinings are left out
        assert ds.date_range == (pd.Timestamp("2023-11-01 10:00:00"), pd.Timestamp("2024-03-01"))
        coverage = ds.coverage.set_index("table")
    assert coverage.loc["orders", "time_column"] == "ordered_at"
    assert coverage.loc["orders", "first"] == pd.Timestamp("2024-01-02 10:00:00")
    assert coverage.loc["orders", "last"] == pd.Timestamp("2024-02-03 11:00:00")
    assert pd.isna(coverage.loc["promo_codes", "first"])


def test_source_input_files_and_repr(tables, tmp_path):
    parquet = write_parquet(tables, tmp_path / "pq")
    with open_dataset(parquet) as ds:
        assert ds.source == parquet.resolve()
        assert sorted(p.name for p in ds.input_files) == sorted(f"{n}.parquet" for n in TABLE_NAMES)
        assert "regions=all" in repr(ds)
    db = write_duckdb(tables, tmp_path / "x.duckdb")
    with open_dataset(db) as ds:
        assert ds.input_files == [db.resolve()]
    with open_dataset(tables, regions=["east"]) as ds:
        assert ds.source is None
        assert ds.input_files == []
        assert "regions=['east']" in repr(ds)


def test_close_and_context_manager(tables):
    ds = open_dataset(tables)
    assert isinstance(ds.connection, duckdb.DuckDBPyConnection)
    ds.close()
    ds.close()  # closing twice is harmless
    with pytest.raises(ValueError, match="this Dataset is closed"):
        ds.table("orders")
    with open_dataset(tables) as ds2:
        pass
    assert "closed" in repr(ds2)


def test_a_dataset_is_not_picklable_and_says_why(tables):
    with open_dataset(tables) as ds:
        with pytest.raises(TypeError, match="call open_dataset"):
            pickle.dumps(ds)


def test_open_dataset_is_exported_by_the_package():
    assert kosresearch.open_dataset is open_dataset
    assert kosresearch.Dataset is Dataset


def test_validate_false_defers_the_checks_to_validation(tables):
    tables["orders"].loc[0, "amount"] = -1.0
    with open_dataset(tables, validate=False) as ds:
        report = ds.validation
    assert report["check"].tolist() == ["below_minimum"]
    assert report["n_bad"].tolist() == [1]


def test_validate_false_reads_missing_columns_as_null(tables):
    tables["orders"] = tables["orders"].drop(columns="amount")
    with open_dataset(tables, validate=False) as ds:
        assert ds.table("orders", ["amount"])["amount"].isna().all()


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tz": "Mars/Olympus"}, "tz='Mars/Olympus' is not a known IANA time zone"),
        ({"tz": ""}, "tz='' must be an IANA time zone name"),
        ({"regions": "east"}, "regions='east' must be None"),
        ({"regions": []}, r"regions=\[\] must be a non-empty list"),
        ({"regions": ["east", ""]}, "must be a non-empty list of non-empty region slugs"),
        ({"validate": "yes"}, "validate='yes' must be True or False"),
    ],
)
def test_bad_arguments_are_refused_with_the_argument_named(kwargs, match, tables):
    with pytest.raises(KosParameterError, match=match):
        open_dataset(tables, **kwargs)


def test_a_source_of_the_wrong_kind_is_refused(tmp_path):
    with pytest.raises(KosParameterError, match="source=42 must be a folder"):
        open_dataset(42)
    with pytest.raises(KosParameterError, match="key 'orders' holds list"):
        open_dataset({"orders": [1, 2]})
    (tmp_path / "orders.parquet").write_bytes(b"x")
    with pytest.raises(KosDataError, match="is a file but not a DuckDB database"):
        open_dataset(tmp_path / "orders.parquet")
    with pytest.raises(KosDataError, match="does not exist"):
        open_dataset(tmp_path / "nowhere")


# --------------------------------------------------------------------------- nothing is written


@pytest.mark.parametrize("kind", ["parquet", "csv", "partitioned"])
def test_nothing_is_written_into_the_source_folder(kind, tables, tmp_path, monkeypatch):
    source = WRITERS[kind](tables, tmp_path)
    monkeypatch.chdir(source)
    before = snapshot(source)
    with open_dataset(source) as ds:
        _read_all(ds)
        assert ds.validation.empty
    bad = make_tables()
    bad["orders"].loc[0, "amount"] = -5.0
    WRITERS[kind](bad, tmp_path / "bad")
    bad_source = tmp_path / "bad" / "src"
    bad_before = snapshot(bad_source)
    with pytest.raises(KosDataError):
        open_dataset(bad_source)
    assert snapshot(source) == before
    assert snapshot(bad_source) == bad_before
    assert not (source / ".tmp").exists()


def test_a_duckdb_source_file_is_opened_read_only(tables, tmp_path):
    db = write_duckdb(tables, tmp_path / "db" / "kos.duckdb")
    before = snapshot(db.parent)
    with open_dataset(db) as ds:
        with pytest.raises(duckdb.Error):
            ds.sql('DELETE FROM _kos_source.main."orders"')
    assert snapshot(db.parent) == before


def test_input_dataframes_are_not_modified(tables):
    before = {n: f.copy() for n, f in tables.items()}
    tables["orders"]["ordered_at"] = pd.Series(
        [pd.Timestamp("2024-01-02 10:00"), pd.Timestamp("2024-01-06 18:30"), pd.Timestamp("2024-02-03 11:00")],
        dtype=object,
    )
    before["orders"]["ordered_at"] = tables["orders"]["ordered_at"].copy()
    with open_dataset(tables) as ds:
        assert ds.table("orders", ["ordered_at"])["ordered_at"].iloc[1] == pd.Timestamp("2024-01-06 18:30")
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, before[name])


def test_the_working_directory_gets_no_spill_folder(tables, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_dataset(tables) as ds:
        temp = ds.connection.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert not Path(temp).is_relative_to(tmp_path)
    assert os.listdir(tmp_path) == []


def test_categorical_columns_are_read_as_text(tables):
    tables["content"]["topic"] = tables["content"]["topic"].astype("category")
    tables["orders"]["region"] = tables["orders"]["region"].astype("category")
    with open_dataset(tables, regions=["east"]) as ds:
        assert ds.table("content", ["topic"])["topic"].tolist() == ["usage_tips"]
        assert ds.table("orders", ["region"])["region"].tolist() == ["east", "east"]
    bad = make_tables()
    bad["content"]["topic"] = pd.Series(["memes", "promotion"], dtype="category")
    with pytest.raises(KosDataError, match="content.topic: 1 row has a value outside vocabulary 'topic'"):
        open_dataset(bad)
