"""A tiny common harness for ``benchmarks/bench_*.py`` (run them all with ``make bench``).

A benchmark script times its candidate and a baseline (for example plain pandas)
in the same run with :func:`measure`, prints :func:`comparison_table` and saves
its numbers with :func:`write_results`::

    from _harness import measure, peak_rss_mib, comparison_table, write_results

    fast = measure(lambda: my_sql_query(), repeat=5)
    slow = measure(lambda: my_pandas_query(), repeat=5)
    print(comparison_table([("feature query", fast, slow)]))
    write_results("bench_features", {"duckdb": fast.as_dict(), "pandas": slow.as_dict()})

``KOS_BENCH_REPEAT`` overrides the number of repetitions of every benchmark.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Measurement:
    """Wall-clock seconds of repeated runs of one function."""

    median: float
    min: float
    max: float
    runs: tuple[float, ...]

    def as_dict(self) -> dict:
        return asdict(self)


def repeat_count(default: int) -> int:
    """Repetitions: ``KOS_BENCH_REPEAT`` if set, else ``default``."""
    return max(1, int(os.environ.get("KOS_BENCH_REPEAT", default)))


def measure(fn: Callable[[], object], *, repeat: int = 5, warmup: int = 0) -> Measurement:
    """Time ``fn()`` ``repeat`` times (after ``warmup`` untimed calls); return median, min, max."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return Measurement(statistics.median(runs), min(runs), max(runs), tuple(runs))


def peak_rss_mib(*, children: bool = False) -> float:
    """Peak resident memory so far, in MiB, of this process (or of its finished children)."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    peak = resource.getrusage(who).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)  # KiB on Linux, bytes on macOS


def comparison_table(rows: Sequence[tuple[str, Measurement, Measurement | None]], *, baseline_name: str = "baseline") -> str:
    """Format ``(name, candidate, baseline)`` rows: medians, ranges and the speed-up ratio."""
    header = f"{'benchmark':<34} {'median s':>9} {'min–max s':>15} {baseline_name + ' s':>14} {'ratio':>7}"
    lines = [header, "-" * len(header)]
    for name, cand, base in rows:
        spread = f"{cand.min:.2f}–{cand.max:.2f}"
        if base is None:
            lines.append(f"{name:<34} {cand.median:>9.2f} {spread:>15} {'':>14} {'':>7}")
        else:
            lines.append(
                f"{name:<34} {cand.median:>9.2f} {spread:>15} {base.median:>14.2f} {base.median / cand.median:>6.1f}×"
            )
    return "\n".join(lines)


def write_results(name: str, payload: dict) -> Path:
    """Write ``benchmarks/results/<name>.json`` with the payload plus machine information."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {
        "benchmark": name,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cores": os.cpu_count()},
        **payload,
    }
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
