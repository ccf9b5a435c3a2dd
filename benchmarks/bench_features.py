"""Per-customer-month features over a 50 M-event, large-style dataset.

Data: the simulator's ``large`` preset scaled to about 50 M rows (12 regions,
1.75 M customers), written once as Parquet partitioned by region under
``benchmarks/.data/`` (git-ignored; about 0.6 GB) and reused.

Candidates (DuckDB over the Parquet views of ``open_dataset``, memory capped
at 2 GB so that DuckDB spills instead of growing):

1. ``activity``: the per-customer-month activity aggregates (orders, spend,
   messages to and from the advisor, group messages, touchpoints) of every
   customer-month with activity, returned to pandas.
2. ``customer_features``: the full dense panel of
   :func:`kosresearch.customer_features` (every customer in every month since
   acquisition, 31 columns), streamed to Parquet with ``COPY`` because its
   ~30 M rows do not belong in pandas.

Baseline: plain pandas computing (1): read the needed columns of the raw
tables with pyarrow, then ``groupby`` customer and month.

Targets (issue 2): the feature query ≤ 10 s and ≤ 3 GiB peak, at least 4×
faster than pandas. Each measurement runs in a fresh process so that peak
memory is its own.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import Measurement, comparison_table, repeat_count, write_results

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "large50"
SEED = 7


def scenario():
    import kosresearch as kr
    from kosresearch.data.simulate import _preset_regions

    return dataclasses.replace(kr.PRESETS["large"], name="large50", customers=1_750_000,
                               regions=_preset_regions(12))


def ensure_data() -> int:
    import pyarrow.dataset as pads

    import kosresearch as kr

    truth = DATA / "truth.json"
    wanted = scenario().to_dict()
    if not (truth.exists() and json.loads(truth.read_text(encoding="utf-8"))["scenario"] == wanted):
        print(f"generating the 50 M-event dataset into {DATA} (once) ...", flush=True)
        kr.simulate_to_disk(scenario(), DATA, seed=SEED, progress=True)
    return sum(pads.dataset(p, format="parquet", partitioning="hive").count_rows()
               for p in DATA.iterdir() if p.is_dir())


ACTIVITY_SQL = """
WITH o AS (
    SELECT customer_id, date_trunc('month', ordered_at) AS month, count(*) AS orders, sum(amount) AS spend
    FROM orders GROUP BY ALL
), m AS (
    SELECT customer_id, date_trunc('month', ts) AS month,
           count(*) FILTER (WHERE channel = 'private' AND sender = 'customer') AS messages_to_kos,
           count(*) FILTER (WHERE channel = 'private' AND sender = 'kos') AS kos_messages,
           count(*) FILTER (WHERE channel = 'group' AND sender = 'customer') AS group_messages
    FROM messages WHERE customer_id IS NOT NULL GROUP BY ALL
), t AS (
    SELECT customer_id, date_trunc('month', ts) AS month, count(*) AS touchpoints FROM touchpoints GROUP BY ALL
)
SELECT customer_id, month,
       coalesce(o.orders, 0) AS orders, coalesce(o.spend, 0) AS spend,
       coalesce(m.messages_to_kos, 0) AS messages_to_kos, coalesce(m.kos_messages, 0) AS kos_messages,
       coalesce(m.group_messages, 0) AS group_messages, coalesce(t.touchpoints, 0) AS touchpoints
FROM o FULL JOIN m USING (customer_id, month) FULL JOIN t USING (customer_id, month)
"""


def run_activity_duckdb() -> int:
    import kosresearch as kr

    with kr.open_dataset(DATA, validate=False) as ds:
        ds.connection.execute("SET memory_limit = '2GB'")
        return len(ds.sql(ACTIVITY_SQL))


def run_features_duckdb(out: str) -> int:
    import kosresearch as kr
    from kosresearch.tiers.features import _features_sql

    with kr.open_dataset(DATA, validate=False) as ds:
        ds.connection.execute("SET memory_limit = '2GB'")
        ds.connection.execute("SET preserve_insertion_order = false")
        query = _features_sql("M", has_messages=True, has_touchpoints=True, has_feedback=True, has_promo=True)
        query = query.replace("$start", "NULL").replace("$end", "NULL")
        ds.connection.execute(f"COPY ({query}) TO '{out}' (FORMAT parquet)")
        return ds.connection.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]


def run_activity_pandas() -> int:
    import pandas as pd
    import pyarrow.dataset as pads

    def read(table: str, columns: list[str]) -> pd.DataFrame:
        return pads.dataset(DATA / table, format="parquet", partitioning="hive").to_table(columns=columns).to_pandas()

    o = read("orders", ["customer_id", "ordered_at", "amount"])
    o["month"] = o["ordered_at"].dt.to_period("M")
    o = o.groupby(["customer_id", "month"], observed=True).agg(orders=("amount", "size"), spend=("amount", "sum"))
    m = read("messages", ["customer_id", "ts", "channel", "sender"]).dropna(subset=["customer_id"])
    m["month"] = m["ts"].dt.to_period("M")
    m["to_kos"] = (m["channel"] == "private") & (m["sender"] == "customer")
    m["from_kos"] = (m["channel"] == "private") & (m["sender"] == "kos")
    m["group"] = (m["channel"] == "group") & (m["sender"] == "customer")
    m = m.groupby(["customer_id", "month"], observed=True)[["to_kos", "from_kos", "group"]].sum()
    t = read("touchpoints", ["customer_id", "ts"])
    t["month"] = t["ts"].dt.to_period("M")
    t = t.groupby(["customer_id", "month"], observed=True).size().rename("touchpoints")
    out = o.join(m, how="outer").join(t, how="outer").fillna(0)
    return len(out)


def in_fresh_process(what: str) -> tuple[float, float, int]:
    """Run one measurement in a new interpreter; return (seconds, peak RSS MiB, rows)."""
    code = (
        "import sys, time, resource; sys.path.insert(0, %r); import bench_features as b; "
        "t = time.perf_counter(); n = %s; s = time.perf_counter() - t; "
        "print(s, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, n)"
    ) % (str(HERE), what)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, peak, rows = done.stdout.split()[-3:]
    return float(seconds), float(peak), int(rows)


def measure_fresh(what: str, repeat: int) -> tuple[Measurement, float, int]:
    runs, peaks, rows = [], [], 0
    for _ in range(repeat):
        s, p, rows = in_fresh_process(what)
        runs.append(s)
        peaks.append(p)
    runs.sort()
    return Measurement(runs[len(runs) // 2], runs[0], runs[-1], tuple(runs)), max(peaks), rows


def main() -> int:
    n_events = ensure_data()
    print(f"dataset: {n_events:,} rows in {DATA}")
    repeat = repeat_count(3)
    act, act_peak, act_rows = measure_fresh("b.run_activity_duckdb()", repeat)
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "features.parquet")
        feat, feat_peak, feat_rows = measure_fresh(f"b.run_features_duckdb({out!r})", repeat)
    base, base_peak, base_rows = measure_fresh("b.run_activity_pandas()", max(1, repeat - 1))
    print(comparison_table([("activity per customer-month (DuckDB)", act, base),
                            ("customer_features -> Parquet", feat, None),
                            ("activity (pandas baseline)", base, None)], baseline_name="pandas"))
    print(f"\npeak RSS: activity {act_peak:,.0f} MiB, customer_features {feat_peak:,.0f} MiB, "
          f"pandas {base_peak:,.0f} MiB (target ≤ 3,072 MiB)")
    print(f"rows: activity {act_rows:,} (pandas {base_rows:,}), customer_features {feat_rows:,}")
    write_results("bench_features", {
        "events": n_events,
        "activity_duckdb": {**act.as_dict(), "peak_rss_mib": act_peak, "rows": act_rows},
        "customer_features_to_parquet": {**feat.as_dict(), "peak_rss_mib": feat_peak, "rows": feat_rows},
        "activity_pandas": {**base.as_dict(), "peak_rss_mib": base_peak, "rows": base_rows},
        "ratio_activity": base.median / act.median,
        "targets": {"seconds": 10, "peak_gib": 3, "ratio": 4},
    })
    return 0 if act_rows == base_rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
