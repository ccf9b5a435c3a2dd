"""Feedback-loop and scorecard benchmarks: interval coverage of the loop-closure hazard ratio, and speed.

1. Coverage: 95 % intervals of ``loop_closure_effect`` (landmark Cox model, the
   headline, and the baseline-covariate sensitivity) against the planted hazard
   ratio 1.6 over ``KOS_BENCH_REPS`` (default 20) simulations of the sample
   scenario with different seeds; target 90-99 % (20 replicates cannot resolve
   more). Also the mean estimate.
2. Speed of ``kos_weekly_metrics`` (one DuckDB query) and ``scorecard`` (monthly,
   200 bootstrap replicates) on the sample scenario (4 regions, ~180 KOS,
   156 weeks).

Results go to ``benchmarks/results/bench_feedback.json``.
"""

from __future__ import annotations

import os

import numpy as np
from _harness import measure, peak_rss_mib, write_results

import kosresearch as kr
from kosresearch.feedback import loop_closure_effect
from kosresearch.scorecard import kos_weekly_metrics, scorecard


def coverage(n_rep: int) -> dict:
    planted = kr.PRESETS["sample"].closure_hazard_ratio
    rows = {"hazard_ratio": [], "hazard_ratio_from_feedback": []}
    for seed in range(100, 100 + n_rep):
        sim = kr.simulate("sample", seed=seed)
        table = loop_closure_effect(sim.dataset(validate=False)).table.set_index("term")
        for term in rows:
            r = table.loc[term]
            rows[term].append((r["estimate"], r["conf_low"] < planted < r["conf_high"]))
    return {
        term: {"coverage": float(np.mean([c for _, c in v])), "mean_estimate": float(np.mean([e for e, _ in v])),
               "replicates": len(v), "planted": planted}
        for term, v in rows.items()
    }


def main() -> None:
    n_rep = int(os.environ.get("KOS_BENCH_REPS", "20"))
    results = {"coverage": coverage(n_rep)}
    print(results["coverage"])
    ds = kr.simulate("sample", seed=1).dataset(validate=False)
    weekly = kos_weekly_metrics(ds)
    weekly_time = measure(lambda: kos_weekly_metrics(ds), repeat=3)
    card_time = measure(lambda: scorecard(weekly, period="M"), repeat=3)
    results["speed"] = {"kos_weekly_metrics": weekly_time.as_dict(), "scorecard_monthly": card_time.as_dict(),
                        "weekly_rows": int(len(weekly)), "peak_rss_mib": peak_rss_mib()}
    print(results["speed"])
    write_results("bench_feedback", results)


if __name__ == "__main__":
    main()
