"""Hand-made KOS tables (two regions, a few rows each) and writers for every source kind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

Tables = dict[str, pd.DataFrame]


def _s(*values: str | None) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def _ts(*values: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[us]")


def make_tables() -> Tables:
    """A complete, clean dataset: every FK holds, regions east (first) and west."""
    return {
        "stores": pd.DataFrame(
            {
                "store_id": _s("s1", "s2"),
                "region": _s("east", "west"),
                "city": _s("上海", "成都"),
                "opened_at": _ts("2020-01-01", "2021-03-01"),
                "program_start": _ts("2023-06-01", None),
            }
        ),
        "kos": pd.DataFrame(
            {
                "kos_id": _s("k1", "k2"),
                "store_id": _s("s1", "s2"),
                "region": _s("east", "west"),
                "joined_at": _ts("2021-01-01", "2022-02-01"),
                "name": _s("小王", "Li Na"),
            }
        ),
        "customers": pd.DataFrame(
            {
                "customer_id": _s("c1", "c2", "c3"),
                "region": _s("east", "east", "west"),
                "store_id": _s("s1", "s1", "s2"),
                "kos_id": _s("k1", None, "k2"),
                "acquired_at": _ts("2024-01-01 10:00:00", "2024-01-05 12:00:00", "2024-02-01 09:30:00"),
                "acquisition_channel": _s("kos_content", "referral", "paid_ads"),
                "acquisition_cost": [50.0, 20.0, 80.0],
                "referrer_id": _s(None, "c1", None),
            }
        ),
        "orders": pd.DataFrame(
            {
                "order_id": _s("o1", "o2", "o3"),
                "customer_id": _s("c1", "c2", "c3"),
                "region": _s("east", "east", "west"),
                "store_id": _s("s1", "s1", "s2"),
                "kos_id": _s("k1", None, "k2"),
                "ordered_at": _ts("2024-01-02 10:00:00", "2024-01-06 18:30:00", "2024-02-03 11:00:00"),
                "amount": [199.0, 100.5, 300.0],
                "promo_code": _s("P1", None, None),
            }
        ),
        "promo_codes": pd.DataFrame(
            {
                "promo_code": _s("P1", "P2", "P3"),
                "region": _s("east", "east", "west"),
                "owner_type": _s("kos", "koc", "kos"),
                "owner_id": _s("k1", "c1", "k2"),
                "content_id": _s("p1", None, None),
            }
        ),
        "touchpoints": pd.DataFrame(
            {
                "touchpoint_id": _s("t1", "t2"),
                "customer_id": _s("c1", "c3"),
                "region": _s("east", "west"),
                "ts": _ts("2024-01-01 09:00:00", "2024-01-31 20:00:00"),
                "channel": _s("xiaohongshu", "douyin"),
                "kos_id": _s("k1", None),
                "content_id": _s("p1", None),
            }
        ),
        "content": pd.DataFrame(
            {
                "content_id": _s("p1", "p2"),
                "kos_id": _s("k1", "k2"),
                "region": _s("east", "west"),
                "posted_at": _ts("2023-12-30 20:00:00", "2024-01-15 12:00:00"),
                "platform": _s("xiaohongshu", "douyin"),
                "format": _s("short_video", "image_text"),
                "topic": _s("usage_tips", "promotion"),
                "impressions": np.array([1000, 500], dtype="int64"),
                "likes": np.array([50, 10], dtype="int64"),
                "comments": np.array([5, 1], dtype="int64"),
                "saves": np.array([10, 0], dtype="int64"),
                "shares": np.array([3, 0], dtype="int64"),
                "leads": np.array([2, 0], dtype="int64"),
            }
        ),
        "messages": pd.DataFrame(
            {
                "message_id": _s("m1", "m2", "m3"),
                "region": _s("east", "east", "west"),
                "kos_id": _s("k1", "k1", "k2"),
                "customer_id": _s("c1", None, "c3"),
                "ts": _ts("2024-01-01 11:00:00", "2024-01-02 08:00:00", "2024-02-01 10:00:00"),
                "channel": _s("private", "group", "private"),
                "group_id": _s(None, "g1", None),
                "sender": _s("kos", "kos", "customer"),
                "sentiment": [0.5, np.nan, -0.2],
                "text": _s("你好，欢迎", "群公告：周末活动", "thanks"),
            }
        ),
        "groups": pd.DataFrame(
            {
                "group_id": _s("g1", "g2"),
                "kos_id": _s("k1", "k2"),
                "region": _s("east", "west"),
                "created_at": _ts("2023-11-01 10:00:00", "2023-12-01 10:00:00"),
            }
        ),
        "group_members": pd.DataFrame(
            {
                "group_id": _s("g1", "g1", "g2"),
                "customer_id": _s("c1", "c2", "c3"),
                "region": _s("east", "east", "west"),
                "joined_at": _ts("2023-11-02 10:00:00", "2024-01-06 19:00:00", "2024-02-01 12:00:00"),
                "first_spoke_at": _ts("2023-11-03 09:00:00", None, None),
            }
        ),
        "feedback": pd.DataFrame(
            {
                "feedback_id": _s("f1", "f2"),
                "customer_id": _s("c1", "c3"),
                "kos_id": _s("k1", "k2"),
                "region": _s("east", "west"),
                "created_at": _ts("2024-01-10 10:00:00", "2024-02-05 15:00:00"),
                "text": _s("包装破损，电话 13800000000", "很好"),
                "category": _s("service", "praise"),
                "resolved_at": _ts("2024-01-11 10:00:00", None),
                "loop_closed_at": _ts("2024-01-12 10:00:00", None),
            }
        ),
        "tier_events": pd.DataFrame(
            {
                "customer_id": _s("c1", "c1", "c3"),
                "kos_id": _s("k1", "k1", "k2"),
                "region": _s("east", "east", "west"),
                "ts": _ts("2024-01-15 00:00:00", "2024-03-01 00:00:00", "2024-02-10 00:00:00"),
                "event": _s("promotion_invite", "demotion", "promotion_invite"),
            }
        ),
        "strategy_changes": pd.DataFrame(
            {
                "change_id": _s("sc1", "sc2"),
                "region": _s("east", "west"),
                "kos_id": _s("k1", None),
                "store_id": _s(None, "s2"),
                "effective_at": _ts("2024-01-20 00:00:00", "2024-02-01 00:00:00"),
                "description": _s("more how-to videos", "store events"),
            }
        ),
    }


def write_parquet(tables: Tables, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def write_csv(tables: Tables, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def write_partitioned(tables: Tables, folder: Path, *, region_in_files: bool = False) -> Path:
    """One folder per table, one ``region=<slug>`` folder per region."""
    for name, frame in tables.items():
        for region, part in frame.groupby("region", sort=True):
            target = folder / name / f"region={region}"
            target.mkdir(parents=True, exist_ok=True)
            data = part if region_in_files else part.drop(columns="region")
            data.to_parquet(target / "part-0.parquet", index=False)
    return folder


def write_duckdb(tables: Tables, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
    return path


WRITERS: dict[str, Callable[[Tables, Path], object]] = {
    "parquet": lambda t, p: write_parquet(t, p / "src"),
    "csv": lambda t, p: write_csv(t, p / "src"),
    "partitioned": lambda t, p: write_partitioned(t, p / "src"),
    "partitioned_region_in_files": lambda t, p: write_partitioned(t, p / "src", region_in_files=True),
    "duckdb": lambda t, p: write_duckdb(t, p / "src.duckdb"),
    "mapping": lambda t, p: t,
}


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}
