"""Simulator throughput: generated rows per second, and the medium / large presets on disk.

Candidate: the vectorised simulator (``kosresearch.simulate`` in memory, and
``simulate_to_disk`` with one worker process per core).
Baseline: the straightforward way to write the same purchase process, one
customer at a time in Python appending order rows to a pandas DataFrame; it
generates the BG/NBD + Gamma-Gamma orders of the same customers.

Targets (issue 2): at least 1 M generated rows per second; ``medium`` (about
10 M rows) in under a minute; ``large`` (about 100 M rows) written in chunks
with peak memory under 8 GiB. The large run takes several minutes and about
1.5 GB of disk: it runs only with ``KOS_BENCH_LARGE=1``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pads
from _harness import comparison_table, measure, peak_rss_mib, repeat_count, write_results

import kosresearch as kr


def rows_of(sim) -> int:
    return sum(len(df) for df in sim.tables.values())


def rows_on_disk(path: Path) -> int:
    return sum(pads.dataset(p, format="parquet", partitioning="hive").count_rows()
               for p in path.iterdir() if p.is_dir())


def naive_orders(n_customers: int, *, seed: int = 0, weeks: int = 156) -> pd.DataFrame:
    """Baseline: BG/NBD + Gamma-Gamma orders one customer at a time, rows appended in Python."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = 0.8, 8.0, 0.8, 6.0
    p, q, gamma = 6.0, 3.5, 250.0
    start = pd.Timestamp("2023-01-02")
    rows = []
    for i in range(n_customers):
        acquired = rng.uniform(0, weeks)
        lam = rng.gamma(r, 1 / alpha)
        drop = rng.beta(a, b)
        nu = rng.gamma(q, 1 / gamma)
        t = acquired
        rows.append({"order_id": f"O{len(rows):09d}", "customer_id": f"C{i:07d}",
                     "ordered_at": start + pd.Timedelta(weeks=t), "amount": round(rng.gamma(4, 650 / 4), 2)})
        while True:
            t += rng.exponential(1 / lam) if lam > 0 else np.inf
            if t >= weeks:
                break
            rows.append({"order_id": f"O{len(rows):09d}", "customer_id": f"C{i:07d}",
                         "ordered_at": start + pd.Timedelta(weeks=t), "amount": round(rng.gamma(p, 1 / nu), 2)})
            if rng.random() < drop:
                break
    return pd.DataFrame(rows)


def main() -> int:
    repeat = repeat_count(3)
    results = {}

    # in-memory generation of the sample preset (all 13 tables)
    n_sample = rows_of(kr.simulate("sample", seed=1))
    sample = measure(lambda: kr.simulate("sample", seed=1), repeat=repeat)
    results["sample_in_memory"] = {**sample.as_dict(), "rows": n_sample, "rows_per_s": n_sample / sample.median}

    # the same purchase process the naive way, on the sample's 20,000 customers: orders only
    n_naive = len(naive_orders(20_000))
    naive = measure(lambda: naive_orders(20_000), repeat=max(1, repeat - 1))
    results["naive_orders_baseline"] = {**naive.as_dict(), "rows": n_naive, "rows_per_s": n_naive / naive.median}

    # medium preset to disk, one worker per core
    jobs = len(os.sched_getaffinity(0))
    tmp = Path(tempfile.mkdtemp(prefix="kos-bench-sim-"))
    try:
        medium = measure(lambda: kr.simulate_to_disk("medium", tmp / "medium", seed=1, jobs=jobs, progress=False),
                         repeat=max(1, repeat - 1))
        n_medium = rows_on_disk(tmp / "medium")
        results["medium_to_disk"] = {**medium.as_dict(), "rows": n_medium, "rows_per_s": n_medium / medium.median,
                                     "jobs": jobs, "target_s": 60.0}
        shutil.rmtree(tmp / "medium", ignore_errors=True)
        if os.environ.get("KOS_BENCH_LARGE") == "1":
            start = time.perf_counter()
            kr.simulate_to_disk("large", tmp / "large", seed=1, jobs=jobs, progress=True)
            took = time.perf_counter() - start
            n_large = rows_on_disk(tmp / "large")
            results["large_to_disk"] = {"seconds": took, "rows": n_large, "rows_per_s": n_large / took,
                                        "peak_rss_mib_workers": peak_rss_mib(children=True), "target_peak_gib": 8}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(comparison_table([("sample, 13 tables, in memory", sample, None),
                            ("medium to disk", medium, None),
                            ("naive orders (baseline, 20k cust.)", naive, None)]))
    print()
    for name, rec in results.items():
        print(f"{name:<26} {rec['rows']:>12,} rows  {rec['rows_per_s']:>12,.0f} rows/s")
    ratio = results["sample_in_memory"]["rows_per_s"] / results["naive_orders_baseline"]["rows_per_s"]
    print(f"\nthroughput ratio, vectorised simulator (all tables) vs naive per-customer orders: {ratio:.0f}×")
    print(f"medium: {results['medium_to_disk']['median']:.1f} s (target < 60 s); "
          f"peak RSS of this process {peak_rss_mib():.0f} MiB, of workers {peak_rss_mib(children=True):.0f} MiB")
    if "large_to_disk" in results:
        rec = results["large_to_disk"]
        print(f"large: {rec['rows']:,} rows in {rec['seconds']:.0f} s, worker peak RSS "
              f"{rec['peak_rss_mib_workers'] / 1024:.2f} GiB (target < 8 GiB)")
    results["ratio_vs_naive"] = ratio
    write_results("bench_simulate", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
