"""The per-customer-period activity query (customer_month_activity)."""

from __future__ import annotations

import pandas as pd
import pytest

from kosresearch import customer_month_activity, open_dataset
from kosresearch.data.features import ACTIVITY_COLUMNS
from kosresearch.errors import KosParameterError
from kosresearch.paths import sample_data_dir
from tests.data.helpers import make_tables, write_csv, write_parquet


def _rows(df: pd.DataFrame) -> list[tuple]:
    cols = ["customer_id", "period_start", "orders", "spend", "messages_to_kos", "kos_messages", "group_messages",
            "touchpoints", "feedback"]
    out = df[cols].sort_values(["customer_id", "period_start"])
    out["period_start"] = out["period_start"].dt.strftime("%Y-%m")
    return [tuple(r) for r in out.itertuples(index=False)]


def test_activity_of_a_hand_made_dataset_is_counted_by_customer_and_month():
    with open_dataset(make_tables()) as ds:
        got = customer_month_activity(ds)
    # c1: order 199 + kos message + touchpoint + feedback in January; c2: one order;
    # c3: January touchpoint, February order 300 + message to the advisor + feedback.
    # The advisor's group post has no customer and is not customer activity.
    assert _rows(got) == [
        ("c1", "2024-01", 1, 199.0, 0, 1, 0, 1, 1),
        ("c2", "2024-01", 1, 100.5, 0, 0, 0, 0, 0),
        ("c3", "2024-01", 0, 0.0, 0, 0, 0, 1, 0),
        ("c3", "2024-02", 1, 300.0, 1, 0, 0, 0, 1),
    ]
    assert set(got["region"]) == {"east", "west"}
    assert list(got.columns) == list(ACTIVITY_COLUMNS)
    assert got.dtypes[list(ACTIVITY_COLUMNS)[3:]].map(str).tolist() == ["int32", "float64"] + ["int32"] * 5


def test_period_window_and_weeks():
    with open_dataset(make_tables()) as ds:
        feb = customer_month_activity(ds, start="2024-02-01", end="2024-03-01")
        weeks = customer_month_activity(ds, period="W")
    assert _rows(feb) == [("c3", "2024-02", 1, 300.0, 1, 0, 0, 0, 1)]
    assert (weeks["period_start"].dt.day_of_week == 0).all()  # ISO weeks start on Monday
    assert weeks["orders"].sum() == 3


def test_optional_tables_may_be_absent():
    tables = {k: v for k, v in make_tables().items() if k not in ("messages", "touchpoints", "feedback",
                                                                      "groups", "group_members")}
    with open_dataset(tables) as ds:
        got = customer_month_activity(ds)
    assert got["orders"].sum() == 3 and (got[["messages_to_kos", "touchpoints", "feedback"]] == 0).all().all()


def test_bad_arguments_are_refused():
    with open_dataset(make_tables()) as ds:
        with pytest.raises(KosParameterError, match=r"period='D' is not allowed; choose one of \['M', 'W', 'Q'\]"):
            customer_month_activity(ds, period="D")
        with pytest.raises(KosParameterError, match="start='2024-03-01' must be before end='2024-02-01'"):
            customer_month_activity(ds, start="2024-03-01", end="2024-02-01")
        with pytest.raises(KosParameterError, match=r"start='soon' is not a date or period, e.g. '2024-01'"):
            customer_month_activity(ds, start="soon")
        with pytest.raises(KosParameterError, match=r"end='2024-02-01T00:00\+08:00' must be a business-local time"):
            customer_month_activity(ds, end="2024-02-01T00:00+08:00")


def test_sample_region_matches_a_plain_pandas_computation():
    with open_dataset(sample_data_dir(), regions=["north"], validate=False) as ds:
        got = customer_month_activity(ds)
        orders = ds.table("orders", columns=["customer_id", "ordered_at", "amount"])
        msgs = ds.table("messages", columns=["customer_id", "ts", "channel", "sender"]).dropna(subset=["customer_id"])
    o = orders.assign(month=orders["ordered_at"].dt.to_period("M")).groupby(["customer_id", "month"])["amount"]
    m = msgs[(msgs["channel"] == "private") & (msgs["sender"] == "customer")]
    to_kos = m.assign(month=m["ts"].dt.to_period("M")).groupby(["customer_id", "month"]).size()
    g = got.assign(month=got["period_start"].dt.to_period("M")).set_index(["customer_id", "month"])
    pd.testing.assert_series_equal(g["orders"][g["orders"] > 0].sort_index(), o.size().sort_index().astype("int32"),
                                   check_names=False)
    pd.testing.assert_series_equal(g["spend"][g["orders"] > 0].sort_index(), o.sum().sort_index(), check_names=False)
    pd.testing.assert_series_equal(g["messages_to_kos"][g["messages_to_kos"] > 0].sort_index(),
                                   to_kos.sort_index().astype("int32"), check_names=False)
    assert not got.duplicated(["customer_id", "period_start"]).any()


def test_region_by_region_equals_all_regions_at_once():
    # one requested region takes the constant-region path; several group by region
    with open_dataset(sample_data_dir(), regions=["east", "west"], validate=False) as ds:
        both = customer_month_activity(ds, start="2024-01-01", end="2024-07-01")
    parts = []
    for region in ("east", "west"):
        with open_dataset(sample_data_dir(), regions=[region], validate=False) as ds:
            parts.append(customer_month_activity(ds, start="2024-01-01", end="2024-07-01"))
    one_by_one = pd.concat(parts, ignore_index=True)
    key = ["region", "customer_id", "period_start"]
    pd.testing.assert_frame_equal(both.sort_values(key).reset_index(drop=True),
                                  one_by_one.sort_values(key).reset_index(drop=True))
    assert set(both["region"]) == {"east", "west"} and len(both) > 1000


def test_region_partitioned_folders_and_unpartitioned_frames_give_the_same_activity():
    # region=... folders are aggregated one region at a time; in-memory frames in one query
    with open_dataset(sample_data_dir(), regions=["east", "south", "west"], validate=False) as ds:
        assert ds.partitioned_by_region("orders", "messages", "touchpoints", "feedback")
        by_region = customer_month_activity(ds, period="W", start="2024-03-01", end="2024-09-01")
        frames = {name: ds.table(name) for name in ds.tables}
    with open_dataset(frames, validate=False) as ds:
        assert not ds.partitioned_by_region("orders")
        at_once = customer_month_activity(ds, period="W", start="2024-03-01", end="2024-09-01")
    key = ["region", "customer_id", "period_start"]
    pd.testing.assert_frame_equal(by_region.sort_values(key).reset_index(drop=True),
                                  at_once.sort_values(key).reset_index(drop=True))
    assert set(by_region["region"]) == {"east", "south", "west"} and len(by_region) > 5000


def test_packed_counts_equal_exact_counts_on_the_sample():
    from kosresearch.data.features import _EVENT_TABLES, _GUARDED_BITS, _activity_sql, _field_widths, _row_counts

    tables, key = list(_EVENT_TABLES), ["region", "customer_id", "period_start"]
    with open_dataset(sample_data_dir(), validate=False) as ds:
        widths, guarded = _field_widths(_row_counts(ds, tables)[None])
        variants = {"widths of the row counts": dict(widths=widths),
                    "guarded": dict(widths=[_GUARDED_BITS] * 6, guarded=True), "exact": dict(widths=None)}
        got = {name: ds.sql(_activity_sql(tables, "week", None, None, **kw)).sort_values(key).reset_index(drop=True)
               for name, kw in variants.items()}
    # the sample's 342,229 messages need 19 bits for each of their three counts
    assert not guarded and widths[1:4] == [19, 19, 19] and sum(widths) <= 127
    assert got["guarded"].pop("events").max() >= 10
    pd.testing.assert_frame_equal(got["widths of the row counts"], got["exact"])
    pd.testing.assert_frame_equal(got["guarded"], got["exact"])
    assert (got["exact"][list(ACTIVITY_COLUMNS)[5:]].sum() > 0).all()


def test_a_field_as_wide_as_its_table_holds_every_row_of_one_customer():
    # 8 touchpoints, all of c3 in February: a 4-bit field; 3 bits would carry into feedback
    from kosresearch.data.features import _EVENT_TABLES, _field_widths, _row_counts

    tables = make_tables()
    many = tables["touchpoints"].iloc[[1] * 8].reset_index(drop=True)
    many["touchpoint_id"] = [f"x{i}" for i in range(8)]
    many["ts"] = pd.Timestamp("2024-02-10 12:00:00") + pd.to_timedelta(range(8), unit="s")
    tables["touchpoints"] = many
    with open_dataset(tables, validate=False) as ds:
        widths, guarded = _field_widths(_row_counts(ds, list(_EVENT_TABLES))[None])
        got = customer_month_activity(ds)
    assert widths[4] == 4 and not guarded
    feb = got[(got["customer_id"] == "c3") & (got["period_start"] == "2024-02-01")]
    assert feb[["orders", "touchpoints", "feedback", "messages_to_kos"]].values.tolist() == [[1, 8, 1, 1]]


def test_when_the_widths_do_not_fit_the_event_count_guards_and_the_exact_query_takes_over(monkeypatch):
    # Row counts too large for one HUGEINT (here: a 10-bit word) give every field _GUARDED_BITS
    # (here 3) and an event count; c3's 8 touchpoints in February would carry, so the exact query runs.
    from kosresearch.data import features

    monkeypatch.setattr(features, "_WORD_BITS", 10)
    monkeypatch.setattr(features, "_GUARDED_BITS", 3)
    tables = make_tables()
    many = tables["touchpoints"].iloc[[1] * 8].reset_index(drop=True)
    many["touchpoint_id"] = [f"x{i}" for i in range(8)]
    many["ts"] = pd.Timestamp("2024-02-10 12:00:00") + pd.to_timedelta(range(8), unit="s")
    tables["touchpoints"] = pd.concat([tables["touchpoints"], many], ignore_index=True)
    tables_used = list(features._EVENT_TABLES)
    with open_dataset(tables, validate=False) as ds:
        widths, guarded = features._field_widths(features._row_counts(ds, tables_used)[None])
        got = customer_month_activity(ds)
        carried = ds.sql(features._activity_sql(tables_used, "month", None, None, widths=widths, guarded=True))
    assert guarded and widths == [3] * 6
    feb = got[(got["customer_id"] == "c3") & (got["period_start"] == "2024-02-01")]
    assert feb[["orders", "touchpoints", "feedback", "messages_to_kos"]].values.tolist() == [[1, 8, 1, 1]]
    wrong = carried[(carried["customer_id"] == "c3") & (carried["period_start"] == "2024-02-01")]
    assert wrong[["touchpoints", "feedback", "events"]].values.tolist() == [[0, 2, 11]]  # packing alone


def test_csv_sources_are_not_counted_again_and_give_the_same_activity(tmp_path):
    # counting CSV rows would parse every file once more: the event count guards instead
    from kosresearch.data.features import _EVENT_TABLES, _field_widths, _row_counts

    tables, events = make_tables(), list(_EVENT_TABLES)
    with open_dataset(write_csv(tables, tmp_path / "csv")) as ds:
        assert not ds.counts_rows_cheaply("orders") and _field_widths(_row_counts(ds, events)[None])[1]
        from_csv = customer_month_activity(ds)
    with open_dataset(write_parquet(tables, tmp_path / "parquet")) as ds:
        assert ds.counts_rows_cheaply(*_EVENT_TABLES) and not _field_widths(_row_counts(ds, events)[None])[1]
        from_parquet = customer_month_activity(ds)
    assert _rows(from_csv) == _rows(from_parquet) and len(from_csv) == 4


def test_row_counts_by_region_add_up_to_each_table_and_name_every_region():
    from kosresearch.data.features import _EVENT_TABLES, _row_counts

    with open_dataset(sample_data_dir(), validate=False) as ds:
        by_region = _row_counts(ds, list(_EVENT_TABLES), by_region=True)
        whole = _row_counts(ds, list(_EVENT_TABLES))[None]
        rows = ds.row_counts.set_index("table")["rows"]
        assert sorted(by_region) == list(ds.regions) == ["east", "north", "south", "west"]
    for table in _EVENT_TABLES:
        assert sum(counts[table] for counts in by_region.values()) == whole[table] == rows[table] > 1_000
