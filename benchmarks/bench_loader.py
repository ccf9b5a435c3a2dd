"""Benchmark: open and validate a synthetic dataset (default 20 k customers, ~400 k rows).

Run ``python benchmarks/bench_loader.py [--customers N] [--repeat K] [--format parquet|csv|partitioned]``.
It writes the synthetic source to a temporary folder, times

- ``open_dataset(..., validate=False)`` (builds the views; should be near-instant),
- the validation (``validation_report``: every check, in DuckDB SQL),
- ``open_dataset(...)`` with validation,
- a plain-pandas baseline reading every table (``pd.read_parquet`` / ``read_csv``),

and prints the median of ``--repeat`` runs. The data are made with numpy from
``np.random.default_rng(seed)``; they are internally consistent (every foreign
key holds, references stay inside their region), so validation finds nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kosresearch.data.contract import VOCABULARIES
from kosresearch.data.loader import open_dataset
from kosresearch.data.validate import validation_report

REGIONS = np.array(["east", "south", "north", "west"])


def _ids(prefix: str, n: int) -> np.ndarray:
    return np.char.add(prefix, np.arange(n).astype(str))


def _times(rng: np.random.Generator, n: int, start: str = "2023-01-01", days: int = 540) -> np.ndarray:
    seconds = rng.integers(0, days * 86_400, n)
    return np.datetime64(start, "s") + seconds.astype("timedelta64[s]")


def _pick(rng: np.random.Generator, values: tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(values)[rng.integers(0, len(values), n)]


def synthetic_tables(n_customers: int = 20_000, *, seed: int = 0) -> dict[str, pd.DataFrame]:
    """All 13 contract tables, consistent, about 20 rows per customer."""
    rng = np.random.default_rng(seed)
    n_stores, n_kos = max(4, n_customers // 500), max(8, n_customers // 125)
    store_region = REGIONS[np.arange(n_stores) % len(REGIONS)]
    stores = pd.DataFrame(
        {
            "store_id": _ids("s", n_stores),
            "region": store_region,
            "city": _pick(rng, ("上海", "广州", "北京", "成都"), n_stores),
            "opened_at": _times(rng, n_stores, "2015-01-01", 2000).astype("datetime64[D]"),
            "program_start": np.where(rng.random(n_stores) < 0.7, np.datetime64("2023-06-01"), np.datetime64("NaT")),
        }
    )
    kos_store = rng.integers(0, n_stores, n_kos)
    kos = pd.DataFrame(
        {
            "kos_id": _ids("k", n_kos),
            "store_id": stores["store_id"].to_numpy()[kos_store],
            "region": store_region[kos_store],
            "joined_at": _times(rng, n_kos, "2020-01-01", 1000).astype("datetime64[D]"),
        }
    )
    cust_kos = rng.integers(0, n_kos, n_customers)
    customer_ids = _ids("c", n_customers)
    cust_region = kos["region"].to_numpy()[cust_kos]
    referred = rng.random(n_customers) < 0.1
    referrer = np.where(np.arange(n_customers) > 0, rng.integers(0, np.maximum(np.arange(n_customers), 1)), 0)
    same_region = cust_region[referrer] == cust_region
    customers = pd.DataFrame(
        {
            "customer_id": customer_ids,
            "region": cust_region,
            "store_id": kos["store_id"].to_numpy()[cust_kos],
            "kos_id": kos["kos_id"].to_numpy()[cust_kos],
            "acquired_at": _times(rng, n_customers),
            "acquisition_channel": _pick(rng, VOCABULARIES["acquisition_channel"], n_customers),
            "acquisition_cost": rng.gamma(2.0, 40.0, n_customers),
            "referrer_id": pd.Series(np.where(referred & same_region, customer_ids[referrer], None), dtype="str"),
        }
    )

    def per_customer(n: int) -> np.ndarray:
        return rng.integers(0, n_customers, n)

    n_orders = 6 * n_customers
    oc = per_customer(n_orders)
    n_content = n_customers // 4
    ck = rng.integers(0, n_kos, n_content)
    content_ids = _ids("p", n_content)
    content = pd.DataFrame(
        {
            "content_id": content_ids,
            "kos_id": kos["kos_id"].to_numpy()[ck],
            "region": kos["region"].to_numpy()[ck],
            "posted_at": _times(rng, n_content),
            "platform": _pick(rng, VOCABULARIES["platform"], n_content),
            "format": _pick(rng, VOCABULARIES["format"], n_content),
            "topic": _pick(rng, VOCABULARIES["topic"], n_content),
            **{
                c: rng.poisson(lam, n_content)
                for c, lam in [
                    ("impressions", 800),
                    ("likes", 40),
                    ("comments", 5),
                    ("saves", 8),
                    ("shares", 3),
                    ("leads", 1),
                ]
            },
        }
    )
    n_codes = n_kos
    promo_codes = pd.DataFrame(
        {
            "promo_code": _ids("P", n_codes),
            "region": kos["region"].to_numpy(),
            "owner_type": "kos",
            "owner_id": kos["kos_id"].to_numpy(),
            "content_id": pd.Series([None] * n_codes, dtype="str"),
        }
    )
    kos_code = dict(zip(kos["kos_id"], promo_codes["promo_code"]))
    order_kos = customers["kos_id"].to_numpy()[oc]
    orders = pd.DataFrame(
        {
            "order_id": _ids("o", n_orders),
            "customer_id": customer_ids[oc],
            "region": cust_region[oc],
            "store_id": customers["store_id"].to_numpy()[oc],
            "kos_id": order_kos,
            "ordered_at": _times(rng, n_orders),
            "amount": rng.gamma(2.0, 150.0, n_orders).round(2),
            "promo_code": pd.Series(
                np.where(rng.random(n_orders) < 0.2, pd.Series(order_kos).map(kos_code).to_numpy(), None), dtype="str"
            ),
        }
    )
    n_touch = 5 * n_customers
    tc = per_customer(n_touch)
    touchpoints = pd.DataFrame(
        {
            "touchpoint_id": _ids("t", n_touch),
            "customer_id": customer_ids[tc],
            "region": cust_region[tc],
            "ts": _times(rng, n_touch),
            "channel": _pick(rng, VOCABULARIES["touchpoint_channel"], n_touch),
            "kos_id": customers["kos_id"].to_numpy()[tc],
            "content_id": pd.Series([None] * n_touch, dtype="str"),
        }
    )
    n_groups = max(4, n_kos * 2)
    gk = np.arange(n_groups) % n_kos
    groups = pd.DataFrame(
        {
            "group_id": _ids("g", n_groups),
            "kos_id": kos["kos_id"].to_numpy()[gk],
            "region": kos["region"].to_numpy()[gk],
            "created_at": _times(rng, n_groups, "2022-01-01", 300),
        }
    )
    # each customer joins the first group of their KOS
    group_of_kos = pd.Series(groups["group_id"].to_numpy()[:n_kos], index=kos["kos_id"])
    group_members = pd.DataFrame(
        {
            "group_id": group_of_kos.loc[customers["kos_id"]].to_numpy(),
            "customer_id": customer_ids,
            "region": cust_region,
            "joined_at": customers["acquired_at"].to_numpy(),
            "first_spoke_at": np.where(
                rng.random(n_customers) < 0.3, customers["acquired_at"].to_numpy(), np.datetime64("NaT")
            ),
        }
    )
    n_msg = 6 * n_customers
    mc = per_customer(n_msg)
    messages = pd.DataFrame(
        {
            "message_id": _ids("m", n_msg),
            "region": cust_region[mc],
            "kos_id": customers["kos_id"].to_numpy()[mc],
            "customer_id": customer_ids[mc],
            "ts": _times(rng, n_msg),
            "channel": "private",
            "group_id": pd.Series([None] * n_msg, dtype="str"),
            "sender": _pick(rng, ("kos", "customer"), n_msg),
            "sentiment": rng.uniform(-1, 1, n_msg).round(3),
            "text": "您好",
        }
    )
    n_fb = n_customers // 4
    fc = per_customer(n_fb)
    created = _times(rng, n_fb)
    feedback = pd.DataFrame(
        {
            "feedback_id": _ids("f", n_fb),
            "customer_id": customer_ids[fc],
            "kos_id": customers["kos_id"].to_numpy()[fc],
            "region": cust_region[fc],
            "created_at": created,
            "text": "物流太慢",
            "category": _pick(rng, VOCABULARIES["feedback_category"], n_fb),
            "resolved_at": created + np.timedelta64(1, "D"),
            "loop_closed_at": created + np.timedelta64(2, "D"),
        }
    )
    n_tier = n_customers // 2
    tc2 = rng.choice(n_customers, n_tier, replace=False)
    tier_events = pd.DataFrame(
        {
            "customer_id": customer_ids[tc2],
            "kos_id": customers["kos_id"].to_numpy()[tc2],
            "region": cust_region[tc2],
            "ts": _times(rng, n_tier),
            "event": _pick(rng, VOCABULARIES["tier_event"], n_tier),
        }
    )
    n_sc = 50
    sk = rng.integers(0, n_kos, n_sc)
    strategy_changes = pd.DataFrame(
        {
            "change_id": _ids("sc", n_sc),
            "region": kos["region"].to_numpy()[sk],
            "kos_id": kos["kos_id"].to_numpy()[sk],
            "store_id": pd.Series([None] * n_sc, dtype="str"),
            "effective_at": _times(rng, n_sc),
            "description": "more how-to videos",
        }
    )
    return {
        "stores": stores,
        "kos": kos,
        "customers": customers,
        "orders": orders,
        "promo_codes": promo_codes,
        "touchpoints": touchpoints,
        "content": content,
        "messages": messages,
        "groups": groups,
        "group_members": group_members,
        "feedback": feedback,
        "tier_events": tier_events,
        "strategy_changes": strategy_changes,
    }


def write_source(tables: dict[str, pd.DataFrame], folder: Path, fmt: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "parquet":
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        elif fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False)
        else:
            for region, part in frame.groupby("region"):
                (folder / name / f"region={region}").mkdir(parents=True, exist_ok=True)
                part.drop(columns="region").to_parquet(folder / name / f"region={region}" / "part-0.parquet")
    return folder


def _median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", choices=["parquet", "csv", "partitioned"], default="partitioned")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    tables = synthetic_tables(args.customers, seed=args.seed)
    n_rows = sum(len(f) for f in tables.values())
    with tempfile.TemporaryDirectory(prefix="kos-bench-") as tmp:
        source = write_source(tables, Path(tmp) / "src", args.format)

        def lazy_open() -> None:
            open_dataset(source, validate=False).close()

        def report() -> None:
            found = validation_report(source)
            if not found.empty:
                raise SystemExit(f"synthetic data should be clean:\n{found['message'].str.cat(sep=chr(10))}")

        def full_open() -> None:
            open_dataset(source).close()

        def pandas_read() -> None:
            for name in tables:
                if args.format == "csv":
                    pd.read_csv(source / f"{name}.csv")
                elif args.format == "parquet":
                    pd.read_parquet(source / f"{name}.parquet")
                else:
                    pd.read_parquet(source / name)

        results = {
            "open_dataset(validate=False)": _median_seconds(lazy_open, args.repeat),
            "validation_report": _median_seconds(report, args.repeat),
            "open_dataset(validate=True)": _median_seconds(full_open, args.repeat),
            "pandas: read every table": _median_seconds(pandas_read, args.repeat),
        }
    print(f"{args.customers} customers, {n_rows} rows, {args.format}; median of {args.repeat} runs")
    for label, seconds in results.items():
        print(f"  {label:<32} {seconds:8.3f} s")
    ratio = results["open_dataset(validate=True)"] / results["pandas: read every table"]
    print(f"  open + every check / pandas read: {ratio:.1f}x")


if __name__ == "__main__":
    main()
