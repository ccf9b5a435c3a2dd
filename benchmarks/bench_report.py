"""Time the full sample report: all notebooks × all regions of data_samples/ with 2 jobs.

Candidate: ``kosresearch run --jobs 2`` (a pool of 2 worker processes that each
import papermill once and execute jobs through its API).
Baseline: the same jobs run serially the naive way, one ``papermill`` CLI call
plus one ``jupyter nbconvert`` CLI call per (notebook, region).
Target: candidate median under 180 s on a 2-core machine.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from _harness import comparison_table, measure, peak_rss_mib, repeat_count, write_results

from kosresearch.data.sources import source_regions
from kosresearch.paths import notebooks_dir, sample_data_dir
from kosresearch.report.runner import list_notebooks, run_reports

TARGET_SECONDS = 180.0
BIN = Path(sys.executable).parent


def candidate() -> None:
    with tempfile.TemporaryDirectory() as out:
        summary = run_reports(out=out, jobs=2, progress=False)
        if not summary.ok:
            raise SystemExit("report failed: " + "; ".join(r.describe_failure() for r in summary.failures))


def baseline(notebooks: dict[str, Path], regions: list[str]) -> None:
    with tempfile.TemporaryDirectory() as out:
        for region in regions:
            for name, path in notebooks.items():
                executed = Path(out) / f"{region}-{name}.ipynb"
                subprocess.run(
                    [str(BIN / "papermill"), str(path), str(executed), "-k", "python3", "--language", "python",
                     "-p", "region", region, "-p", "lang", "zh", "--no-progress-bar"],
                    check=True, capture_output=True,
                )
                subprocess.run(
                    [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
                    check=True, capture_output=True,
                )


def main() -> int:
    if not (sample_data_dir() / "truth.json").exists():
        print("skipped: data_samples/truth.json is missing (run `make sample`)")
        return 0
    notebooks = list_notebooks(notebooks_dir())
    regions = source_regions(sample_data_dir())
    repeat = repeat_count(3)
    print(f"{len(notebooks)} notebooks × {len(regions)} regions = {len(notebooks) * len(regions)} jobs, {repeat} runs each")
    cand = measure(candidate, repeat=repeat)
    base = measure(lambda: baseline(notebooks, regions), repeat=repeat)
    rows = [(f"kosresearch run --jobs 2 ({len(notebooks)}×{len(regions)})", cand, base)]
    print(comparison_table(rows, baseline_name="serial CLI"))
    verdict = "PASS" if cand.median < TARGET_SECONDS else "FAIL"
    print(f"target: median < {TARGET_SECONDS:.0f} s → {verdict}")
    print(f"peak RSS: runner {peak_rss_mib():.0f} MiB, largest child (worker/kernel) {peak_rss_mib(children=True):.0f} MiB")
    path = write_results(
        "bench_report",
        {
            "jobs": len(notebooks) * len(regions),
            "notebooks": list(notebooks),
            "regions": regions,
            "candidate": cand.as_dict(),
            "baseline_serial_cli": base.as_dict(),
            "ratio": base.median / cand.median,
            "target_seconds": TARGET_SECONDS,
            "passed": cand.median < TARGET_SECONDS,
            "peak_rss_mib": {"self": peak_rss_mib(), "children": peak_rss_mib(children=True)},
        },
    )
    print(f"wrote {path}")
    return 0 if cand.median < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
