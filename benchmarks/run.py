"""Run every ``benchmarks/bench_*.py`` in its own process (``make bench``).

Each benchmark runs in a fresh interpreter so that its peak memory and timings
are its own. Exits non-zero if any benchmark fails.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    selected = set(argv)
    scripts = sorted(p for p in HERE.glob("bench_*.py") if not selected or p.stem in selected)
    failed = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(script)], cwd=HERE, check=False)
        print(f"--- {script.stem}: exit {done.returncode} in {time.perf_counter() - start:.1f} s", flush=True)
        if done.returncode:
            failed.append(script.stem)
    print(f"\n{len(scripts) - len(failed)}/{len(scripts)} benchmarks ran; results in {HERE / 'results'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
