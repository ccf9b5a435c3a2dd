"""Per-customer-month features over a 50 M-event, large-style dataset.

Data: the simulator's ``large`` preset scaled to about 50 M rows (12 regions,
1.75 M customers), written once as Parquet partitioned by region under
``benchmarks/.data/`` (git-ignored; about 0.6 GB) and reused.

The feature query is :func:`kosresearch.customer_month_activity` (orders,
spend, messages to and from advisors, group messages, touchpoints and
feedback per customer and month with activity; one DuckDB pass over the
Parquet views of ``open_dataset``). It runs two ways:

- by region, a fresh dataset per region (how batch reports read data; one
  region's result in memory at a time);
- all at once, one dataset over every region and the whole ~17 M-row result
  in pandas (inside, the query runs one region partition at a time).

Baseline: the same aggregates in plain pandas (read the needed columns with
pyarrow, stack, ``groupby`` customer and month), the same two ways. Shown for
scale, with no target: :func:`kosresearch.customer_features`, the dense
cumulative customer × month panel of the tier analysis, by region.

Targets (issue 2): the feature query ≤ 10 s and ≤ 3 GiB peak, at least 4×
faster than pandas. Each measurement runs in a fresh process so that peak
memory is its own; the libraries both sides use are imported before the clock
starts (:func:`import_libraries`), as the other benchmarks do by importing at
module level and as a notebook kernel or batch worker has them loaded: about
0.5–1 s of imports per process is not query time. Opening the dataset is timed.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
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
    wanted = json.loads(json.dumps(scenario().to_dict()))
    if not (truth.exists() and json.loads(truth.read_text(encoding="utf-8"))["scenario"] == wanted):
        print(f"generating the 50 M-event dataset into {DATA} (once) ...", flush=True)
        kr.simulate_to_disk(scenario(), DATA, seed=SEED, progress=True)
    return sum(pads.dataset(p, format="parquet", partitioning="hive").count_rows()
               for p in DATA.iterdir() if p.is_dir())


def regions() -> list[str]:
    return sorted(p.name.split("=", 1)[1] for p in (DATA / "stores").iterdir() if p.name.startswith("region="))


def _rows_by_region(query) -> int:
    """Rows of ``query(dataset)`` summed over a fresh dataset per region (how batch reports read data)."""
    import kosresearch as kr

    rows = 0
    for region in regions():
        with kr.open_dataset(DATA, regions=[region], validate=False) as ds:
            rows += len(query(ds))
    return rows


def run_activity_duckdb() -> int:
    """The feature query region by region, each result in pandas."""
    import kosresearch as kr

    return _rows_by_region(kr.customer_month_activity)


def run_activity_duckdb_whole() -> int:
    """The feature query over all regions at once, the whole result in pandas."""
    import kosresearch as kr

    with kr.open_dataset(DATA, validate=False) as ds:
        return len(kr.customer_month_activity(ds))


def run_features_duckdb() -> int:
    """The full dense panel of ``customer_features``, region by region, into pandas."""
    import kosresearch as kr

    return _rows_by_region(kr.customer_features)


def _pandas_activity(read) -> "object":
    """The feature query in plain pandas over frames returned by ``read(table, columns)``."""
    import pandas as pd

    parts = []
    o = read("orders", ["customer_id", "ordered_at", "amount"])
    parts.append(pd.DataFrame({"customer_id": o["customer_id"], "period_start": o["ordered_at"].dt.to_period("M"),
                               "orders": 1, "spend": o["amount"]}))
    m = read("messages", ["customer_id", "ts", "channel", "sender"]).dropna(subset=["customer_id"])
    private, group, customer = m["channel"] == "private", m["channel"] == "group", m["sender"] == "customer"
    parts.append(pd.DataFrame({"customer_id": m["customer_id"], "period_start": m["ts"].dt.to_period("M"),
                               "messages_to_kos": (private & customer).astype(int),
                               "kos_messages": (private & ~customer).astype(int),
                               "group_messages": (group & customer).astype(int)}))
    t = read("touchpoints", ["customer_id", "ts"])
    parts.append(pd.DataFrame({"customer_id": t["customer_id"], "period_start": t["ts"].dt.to_period("M"),
                               "touchpoints": 1}))
    f = read("feedback", ["customer_id", "created_at"])
    parts.append(pd.DataFrame({"customer_id": f["customer_id"], "period_start": f["created_at"].dt.to_period("M"),
                               "feedback": 1}))
    stacked = pd.concat(parts, ignore_index=True).fillna(0)
    return stacked.groupby(["customer_id", "period_start"], observed=True).sum()


def run_activity_pandas() -> int:
    """Baseline: the same aggregates in plain pandas, region by region."""
    import pyarrow.parquet as pq

    rows = 0
    for region in regions():
        rows += len(_pandas_activity(
            lambda table, cols: pq.read_table(DATA / table / f"region={region}", columns=cols).to_pandas()))
    return rows


def run_activity_pandas_whole() -> int:
    """Baseline: the same aggregates in plain pandas over all regions at once."""
    import pyarrow.dataset as pads

    def read(table, cols):
        return pads.dataset(DATA / table, format="parquet", partitioning="hive").to_table(columns=cols).to_pandas()

    return len(_pandas_activity(read))


def import_libraries() -> None:
    """Import what the DuckDB and pandas sides use, so that neither side's clock counts imports."""
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.dataset  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import kosresearch.data.features  # noqa: F401
    import kosresearch.data.loader  # noqa: F401


def in_fresh_process(what: str) -> tuple[float, float, int]:
    """Run one measurement in a new interpreter, libraries imported first; return (seconds, peak RSS MiB, rows)."""
    code = (
        "import sys, time, resource; sys.path.insert(0, %r); import bench_features as b; b.import_libraries(); "
        "t = time.perf_counter(); n = %s; s = time.perf_counter() - t; "
        "print(s, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, n)"
    ) % (str(HERE), what)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, peak, rows = done.stdout.split()[-3:]
    return float(seconds), float(peak), int(rows)


def measure_interleaved(plan: dict[str, int]) -> dict[str, tuple[Measurement, float, int]]:
    """Run each measurement of ``plan`` ({call: repeats}) in turn, round after round.

    This machine's speed drifts by ±30 % within minutes; interleaving puts each
    side of a ratio in the same stretch of time, which back-to-back blocks do not.
    """
    runs: dict[str, list[tuple[float, float, int]]] = {what: [] for what in plan}
    for round_ in range(max(plan.values())):
        for what, repeat in plan.items():
            if round_ < repeat:
                runs[what].append(in_fresh_process(what))
    out = {}
    for what, done in runs.items():
        seconds = sorted(s for s, _, _ in done)
        median = Measurement(seconds[len(seconds) // 2], seconds[0], seconds[-1], tuple(seconds))
        out[what] = median, max(p for _, p, _ in done), done[-1][2]
    return out


def main() -> int:
    n_events = ensure_data()
    print(f"dataset: {n_events:,} rows in {DATA}")
    repeat = repeat_count(3)
    got = measure_interleaved({
        "b.run_activity_duckdb()": repeat,
        "b.run_activity_pandas()": max(1, repeat - 1),
        "b.run_activity_duckdb_whole()": repeat,
        "b.run_activity_pandas_whole()": 1,
    })
    act, act_peak, act_rows = got["b.run_activity_duckdb()"]
    base, base_peak, base_rows = got["b.run_activity_pandas()"]
    whole, whole_peak, whole_rows = got["b.run_activity_duckdb_whole()"]
    base_whole, base_whole_peak, _ = got["b.run_activity_pandas_whole()"]
    feat, feat_peak, feat_rows = measure_interleaved({"b.run_features_duckdb()": 1})["b.run_features_duckdb()"]
    print(comparison_table([("feature query, by region", act, base),
                            ("feature query, all at once", whole, base_whole),
                            ("customer_features, by region", feat, None)], baseline_name="pandas"))
    print(f"\npeak RSS (MiB): by region {act_peak:,.0f} (pandas {base_peak:,.0f}); all at once {whole_peak:,.0f} "
          f"(pandas {base_whole_peak:,.0f}); customer_features {feat_peak:,.0f}; target ≤ 3,072")
    print(f"rows: feature query {act_rows:,} (pandas {base_rows:,}), customer_features {feat_rows:,}")
    write_results("bench_features", {
        "events": n_events,
        "feature_query_by_region": {**act.as_dict(), "peak_rss_mib": act_peak, "rows": act_rows},
        "pandas_by_region": {**base.as_dict(), "peak_rss_mib": base_peak, "rows": base_rows},
        "feature_query_all_at_once": {**whole.as_dict(), "peak_rss_mib": whole_peak, "rows": whole_rows},
        "pandas_all_at_once": {**base_whole.as_dict(), "peak_rss_mib": base_whole_peak},
        "customer_features_by_region": {**feat.as_dict(), "peak_rss_mib": feat_peak, "rows": feat_rows},
        "ratio_by_region": base.median / act.median,
        "ratio_all_at_once": base_whole.median / whole.median,
        "targets": {"seconds": 10, "peak_gib": 3, "ratio": 4},
    })
    return 0 if act_rows == base_rows == whole_rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
