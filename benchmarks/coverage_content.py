"""Coverage of the content estimators' intervals over repeated simulations (not a timing benchmark).

For ``KOS_COVERAGE_SEEDS`` simulated datasets of the ``sample`` scenario
(default 12; seeds 1000, 1001, …), it records:

* the z-scores ``(log RR̂ − log RR) / se`` of the 20 planted format / topic /
  platform rate ratios (interactions and leads, NB2, cluster-robust by advisor)
  and the share of 95 % intervals that cover;
* the strategy-change effect on interactions (planted 1.5), on leads (planted 1:
  a negative control) and the pre-trend placebo (planted 1), over all regions;
* precision and recall of the "credibly above the pool" flag for the planted
  star advisors (skill from Beta(20, 20) vs Beta(4, 36)).

Run: ``python benchmarks/coverage_content.py``; results in
``benchmarks/results/coverage_content.json``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def one(seed: int) -> dict:
    import kosresearch as kr
    from kosresearch.content import content_posts, group_activation, kos_benchmark, rate_ratios, strategy_change_effect

    sim = kr.simulate("sample", seed=seed)
    truth = sim.truth
    posts = content_posts(sim.tables["content"])
    out: dict = {"seed": seed, "rr": []}
    for count in ("interactions", "leads"):
        rr = rate_ratios(posts, count_col=count, exposure_col="impressions", terms=["format", "topic", "platform"],
                         reference=truth["content"]["reference"], cluster_col="kos_id")
        for r in rr.table.itertuples():
            planted = truth["content"][count][r.term][r.level]
            out["rr"].append({"count": count, "term": r.term, "level": r.level,
                              "z": float((np.log(r.rate_ratio) - np.log(planted)) / r.std_error),
                              "covers": bool(r.conf_low <= planted <= r.conf_high)})
    for outcome, planted in (("interaction_rate", truth["strategy_change"]["rate_ratio"]), ("lead_rate", 1.0)):
        t = strategy_change_effect(sim.tables["content"], sim.tables["strategy_changes"], outcome=outcome).table
        t = t.set_index("term")
        for term, value in (("strategy_change", planted), ("pre_trend_placebo", 1.0)):
            row = t.loc[term]
            out[f"{outcome}:{term}"] = {"estimate": float(row["estimate"]),
                                        "covers": bool(row["conf_low"] <= value <= row["conf_high"]),
                                        "z": float((np.log(row["estimate"]) - np.log(value)) / row["std_error"])}
    ds = sim.dataset(validate=False)
    b = kos_benchmark(group_activation(ds), successes_col="spoke", trials_col="eligible", unit_col="kos_id")
    star = b.table["kos_id"].map(lambda k: truth["kos_skill"][k] > 0.3)
    flag = b.table["above_pool"]
    out["stars"] = {"stars": int(star.sum()), "flagged": int(flag.sum()), "true_flags": int((flag & star).sum())}
    return out


def main() -> int:
    n = int(os.environ.get("KOS_COVERAGE_SEEDS", 12))
    start = time.perf_counter()
    runs = []
    for seed in range(1000, 1000 + n):
        runs.append(one(seed))
        print(f"seed {seed} done ({time.perf_counter() - start:.0f} s)", flush=True)
    rr = pd.DataFrame([dict(r, seed=x["seed"]) for x in runs for r in x["rr"]])
    summary = {"seeds": n, "rate_ratios": {}}
    for count, g in rr.groupby("count"):
        summary["rate_ratios"][count] = {"coverage_95": float(g["covers"].mean()), "z_mean": float(g["z"].mean()),
                                        "z_sd": float(g["z"].std()), "n": int(len(g))}
    for key in ("interaction_rate:strategy_change", "interaction_rate:pre_trend_placebo", "lead_rate:strategy_change",
                "lead_rate:pre_trend_placebo"):
        z = np.array([x[key]["z"] for x in runs])
        summary[key] = {"coverage_95": float(np.mean([x[key]["covers"] for x in runs])), "z_mean": float(z.mean()),
                        "z_sd": float(z.std(ddof=1)), "median_estimate": float(np.median([x[key]["estimate"] for x in runs]))}
    tp = sum(x["stars"]["true_flags"] for x in runs)
    summary["stars"] = {"precision": tp / max(sum(x["stars"]["flagged"] for x in runs), 1),
                        "recall": tp / sum(x["stars"]["stars"] for x in runs)}
    print(json.dumps(summary, indent=1))
    (HERE / "results").mkdir(exist_ok=True)
    path = HERE / "results" / "coverage_content.json"
    path.write_text(json.dumps({"summary": summary, "runs": runs}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
