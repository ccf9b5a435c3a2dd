"""Time ``rate_ratios`` on 1 M posts with 20 factor levels, against plain statsmodels on the raw rows.

Data: 1,000,000 posts, 5,000 advisors (clusters), factors format (4 levels),
topic (5), platform (4) and weekday (7) — 20 levels, 16 rate ratios —
impressions as exposure, NB2 counts (α = 0.6) with an advisor effect.

Candidates (each in a fresh process, so that its peak memory is its own):

* ``rate_ratios(..., family="poisson", cluster_col="kos_id")`` — fitted on the
  collapsed covariate patterns;
* ``rate_ratios(..., family="negbin", cluster_col="kos_id")`` — NB2 on the rows
  with derivatives summed per pattern;
* ``rate_ratios(..., family="auto", cluster_col="kos_id")`` — the default path
  (Poisson fit, overdispersion test, then NB2).

Baseline: ``statsmodels`` GLM Poisson on the raw rows (dummy matrix built with
pandas, ``exposure=``), model-based errors — the plain way, and the cheapest
statsmodels fit of this model.

Target: every candidate median ≤ 8 s and peak RSS ≤ 2 GiB.
Run: ``python benchmarks/bench_content.py`` (``KOS_BENCH_REPEAT`` sets the runs).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_POSTS = 1_000_000
N_KOS = 5_000
TARGET_SECONDS = 8.0
TARGET_MIB = 2048.0
CASES = ("data_only", "poisson", "negbin", "auto", "statsmodels_glm")


def make_posts(n: int = N_POSTS, seed: int = 7):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    levels = {
        "format": (["short_video", "image_text", "live", "article"], [0.9, 0.0, 0.6, -0.5]),
        "topic": (["usage_tips", "promotion", "product_review", "lifestyle", "behind_the_scenes"],
                  [0.7, 0.0, 0.4, 0.2, 0.1]),
        "platform": (["xiaohongshu", "douyin", "wechat_moments", "wechat_channels"], [0.5, 0.25, 0.0, -0.1]),
        "weekday": (["mon", "tue", "wed", "thu", "fri", "sat", "sun"], [0.0, 0.02, 0.0, -0.03, 0.05, 0.1, 0.08]),
    }
    data = {}
    lin = np.full(n, np.log(0.02))
    for name, (labels, effects) in levels.items():
        code = rng.integers(0, len(labels), n)
        data[name] = pd.Categorical.from_codes(code, labels).astype(str)
        lin += np.asarray(effects)[code]
    kos = rng.integers(0, N_KOS, n)
    lin += rng.normal(0, 0.35, N_KOS)[kos]
    impressions = np.round(np.exp(rng.normal(7.0, 0.9, n))) + 20
    mu = impressions * np.exp(lin)
    data["interactions"] = rng.poisson(rng.gamma(1 / 0.6, 0.6 * mu))
    data["impressions"] = impressions
    data["kos_id"] = np.char.add("K", kos.astype(str))
    return pd.DataFrame(data)


def run_case(case: str) -> dict:
    """Build the data, time one call of ``case``; report seconds and peak RSS (MiB) of this process."""
    posts = make_posts()
    terms = ["format", "topic", "platform", "weekday"]
    ref = {"format": "image_text", "topic": "promotion", "platform": "wechat_moments", "weekday": "mon"}
    # imports happen once per session; keep them out of the timed call
    import scipy.optimize  # noqa: F401
    import scipy.special  # noqa: F401
    import scipy.stats  # noqa: F401
    import statsmodels.api as sm

    from kosresearch.content import rate_ratios

    start = time.perf_counter()
    info: dict = {}
    if case in ("poisson", "negbin", "auto"):
        r = rate_ratios(posts, count_col="interactions", exposure_col="impressions", terms=terms, reference=ref,
                        cluster_col="kos_id", family=case)
        info = {"family": r.family, "alpha": r.alpha, "rows": len(r.table)}
    elif case == "statsmodels_glm":
        import numpy as np
        import pandas as pd

        X = pd.get_dummies(posts[terms], drop_first=False, dtype=float)
        X = X.drop(columns=[f"{t}_{lv}" for t, lv in ref.items()])
        X.insert(0, "const", 1.0)
        res = sm.GLM(posts["interactions"].to_numpy(), X.to_numpy(), family=sm.families.Poisson(),
                     exposure=posts["impressions"].to_numpy()).fit()
        info = {"rows": int(np.size(res.params)) - 1}
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"case": case, "seconds": seconds, "peak_rss_mib": peak, **info}


def _in_child(case: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--case", case], check=True, capture_output=True, text=True,
                         cwd=HERE)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    repeat = max(1, int(os.environ.get("KOS_BENCH_REPEAT", 3)))
    print(f"rate_ratios on {N_POSTS:,} posts, 20 levels, {N_KOS:,} clusters; {repeat} runs per case, fresh process each")
    results: dict[str, list[dict]] = {}
    for case in CASES:
        runs = 1 if case in ("data_only", "statsmodels_glm") and repeat > 1 else repeat
        if case == "statsmodels_glm":
            runs = min(repeat, 2)
        results[case] = [_in_child(case) for _ in range(runs)]
    summary = {}
    for case, runs in results.items():
        secs = [r["seconds"] for r in runs]
        summary[case] = {
            "median_s": statistics.median(secs), "min_s": min(secs), "max_s": max(secs), "runs_s": secs,
            "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
            **{k: v for k, v in runs[0].items() if k not in ("case", "seconds", "peak_rss_mib")},
        }
    base = summary["statsmodels_glm"]["median_s"]
    data_mib = summary["data_only"]["peak_rss_mib"]
    print(f"{'case':<18} {'median s':>9} {'min–max s':>13} {'peak RSS MiB':>13} {'above data':>11} {'sm GLM / case':>14}")
    ok = True
    for case in CASES[1:]:
        s = summary[case]
        ratio = base / s["median_s"]
        s["speedup_vs_statsmodels_glm"] = ratio
        print(f"{case:<18} {s['median_s']:>9.2f} {s['min_s']:>6.2f}–{s['max_s']:<6.2f} {s['peak_rss_mib']:>13.0f} "
              f"{s['peak_rss_mib'] - data_mib:>11.0f} {ratio:>13.1f}×")
        if case != "statsmodels_glm":
            ok &= s["median_s"] <= TARGET_SECONDS and s["peak_rss_mib"] <= TARGET_MIB
    print(f"data only: peak RSS {data_mib:.0f} MiB")
    print(f"target: median ≤ {TARGET_SECONDS:.0f} s and peak ≤ {TARGET_MIB:.0f} MiB for every candidate → "
          f"{'PASS' if ok else 'FAIL'}")
    _write(summary, ok)
    return 0 if ok else 1


def _write(summary: dict, ok: bool) -> None:
    try:
        from _harness import write_results  # the shared harness, when present
    except ImportError:  # pragma: no cover - self-contained fallback
        import platform
        from datetime import datetime, timezone

        def write_results(name: str, payload: dict) -> Path:
            folder = HERE / "results"
            folder.mkdir(exist_ok=True)
            path = folder / f"{name}.json"
            record = {"benchmark": name, "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      "machine": {"python": platform.python_version(), "platform": platform.platform(),
                                  "cores": os.cpu_count()}, **payload}
            path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
            return path

    path = write_results("bench_content", {"posts": N_POSTS, "clusters": N_KOS, "levels": 20, "cases": summary,
                                           "target_seconds": TARGET_SECONDS, "target_peak_mib": TARGET_MIB,
                                           "passed": ok})
    print(f"wrote {path}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        print(json.dumps(run_case(sys.argv[2])))
        raise SystemExit(0)
    raise SystemExit(main())
