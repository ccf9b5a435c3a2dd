"""Coverage of ``causal_impact``'s intervals over simulated series with a known effect (not a timing benchmark).

Each replicate is a local-level series regressed on two random-walk control
series (the model ``causal_impact`` fits, so misspecification plays no part)::

    x1, x2  = 50 + cumsum N(0, 1), 30 + cumsum N(0, 1)
    level_t = level_{t-1} + N(0, 0.5²)
    y_t     = 100 + level_t + 0.8 x1_t + 0.5 x2_t + N(0, 1)  (+ shift after the intervention)

for ``n_pre`` in {60, 100}, ``n_post`` in {12, 30}, and a true level shift of
0 or 3 from the first post period. For every cell it records the share of
replicates whose 95 % interval covers the true *average* effect and the true
*cumulative* effect, the mean interval width, and how often ``p_value < 0.05``
(the false-positive rate without a shift, the power with one). ``p_value`` is a
one-sided tail probability, so a calibrated model gives about 5 % below 0.025
and about 10 % below 0.05; both are printed.

It runs two variants of the estimator: ``propagated`` (as shipped: parameter
draws from the asymptotic normal of the MLE) and ``plug-in`` (the same code
with ``_PARAM_DRAWS = 0``: paths simulated from the MLE alone, the estimator
before parameter uncertainty was propagated).

Settings (environment): ``KOS_COVERAGE_REPS`` replicates per cell (default
200), ``KOS_COVERAGE_SIMS`` simulated paths per fit (default 400),
``KOS_COVERAGE_WORKERS`` processes (default 2), ``KOS_COVERAGE_VARIANTS``
(default ``plug-in,propagated``).

Run: ``python benchmarks/coverage_its.py``; results in
``benchmarks/results/coverage_its.json``.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import write_results  # noqa: E402

N_PRE = (60, 100)
N_POST = (12, 30)
SHIFTS = (0.0, 3.0)
BETA = (0.8, 0.5)
SD_LEVEL, SD_NOISE = 0.5, 1.0
VARIANT_DRAWS = {"plug-in": 0, "propagated": None}  # None: the module default


def simulate_series(n_pre: int, n_post: int, shift: float, rng: np.random.Generator) -> pd.DataFrame:
    """One replicate: local level + two random-walk controls, ``shift`` added from period ``n_pre``."""
    n = n_pre + n_post
    x1 = 50 + np.cumsum(rng.normal(0, 1, n))
    x2 = 30 + np.cumsum(rng.normal(0, 1, n))
    level = np.cumsum(rng.normal(0, SD_LEVEL, n))
    y = 100 + level + BETA[0] * x1 + BETA[1] * x2 + rng.normal(0, SD_NOISE, n)
    y[n_pre:] += shift
    return pd.DataFrame({"t": np.arange(n), "y": y, "x1": x1, "x2": x2})


def one(task: tuple) -> dict:
    from kosresearch.attribution import causal_impact, its

    variant, n_pre, n_post, shift, rep, n_sims = task
    draws = VARIANT_DRAWS[variant]
    default = getattr(its, "_PARAM_DRAWS", None)
    if draws is not None:
        its._PARAM_DRAWS = draws
    try:
        cell = N_PRE.index(n_pre) * 100 + N_POST.index(n_post) * 10 + SHIFTS.index(shift)
        data = simulate_series(n_pre, n_post, shift, np.random.default_rng([20261122, cell, rep]))
        start = time.perf_counter()
        r = causal_impact(data, y_col="y", time_col="t", intervention_start=n_pre, control_cols=["x1", "x2"],
                          n_sims=n_sims, seed=rep)
        seconds = time.perf_counter() - start
    finally:
        if draws is not None:
            its._PARAM_DRAWS = default
    s = r.summary(digits=12)
    avg, cum = s.loc["average"], s.loc["cumulative"]
    return {"variant": variant, "n_pre": n_pre, "n_post": n_post, "shift": shift, "rep": rep,
            "avg_covers": bool(avg["effect_low"] <= shift <= avg["effect_high"]),
            "cum_covers": bool(cum["effect_low"] <= shift * n_post <= cum["effect_high"]),
            "avg_width": float(avg["effect_high"] - avg["effect_low"]),
            "cum_width": float(cum["effect_high"] - cum["effect_low"]),
            "avg_excludes_0": bool(not avg["effect_low"] <= 0 <= avg["effect_high"]),
            "p_value": float(r.p_value), "seconds": seconds}


def _init_worker() -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    g = runs.groupby(["variant", "n_pre", "n_post", "shift"])
    return pd.DataFrame({
        "reps": g.size(),
        "avg_coverage": g["avg_covers"].mean(),
        "cum_coverage": g["cum_covers"].mean(),
        "avg_width": g["avg_width"].mean(),
        "p_lt_05": g["p_value"].apply(lambda p: float((p < 0.05).mean())),
        "p_lt_025": g["p_value"].apply(lambda p: float((p < 0.025).mean())),
        "excl_0": g["avg_excludes_0"].mean(),
        "sec_per_fit": g["seconds"].median(),
    }).reset_index()


def main() -> int:
    reps = int(os.environ.get("KOS_COVERAGE_REPS", 200))
    n_sims = int(os.environ.get("KOS_COVERAGE_SIMS", 400))
    workers = min(2, int(os.environ.get("KOS_COVERAGE_WORKERS", 2)))
    variants = [v.strip() for v in os.environ.get("KOS_COVERAGE_VARIANTS", "plug-in,propagated").split(",")]
    unknown = set(variants) - set(VARIANT_DRAWS)
    if unknown:
        raise SystemExit(f"KOS_COVERAGE_VARIANTS: unknown {sorted(unknown)}; choose from {sorted(VARIANT_DRAWS)}")
    tasks = [(v, a, b, c, rep, n_sims) for v, a, b, c in itertools.product(variants, N_PRE, N_POST, SHIFTS)
             for rep in range(reps)]
    start = time.perf_counter()
    rows = []
    with get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
        for i, row in enumerate(pool.imap_unordered(one, tasks, chunksize=8), 1):
            rows.append(row)
            if i % 200 == 0:
                print(f"{i}/{len(tasks)} fits ({time.perf_counter() - start:.0f} s)", flush=True)
    runs = pd.DataFrame(rows).sort_values(["variant", "n_pre", "n_post", "shift", "rep"], ignore_index=True)
    table = summarise(runs)
    pooled = summarise(runs.assign(n_pre=0, n_post=0, shift=runs["shift"] > 0))
    print(f"\n95 % intervals, {reps} replicates per cell, n_sims={n_sims}; "
          "p_lt_05 / p_lt_025 / excl_0 are false-positive rates where shift = 0 and power where shift = 3")
    with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
        print("\npooled over n_pre and n_post (shift = True: the shift-3 cells)")
        print(pooled.drop(columns=["n_pre", "n_post", "avg_width"]).to_string(index=False))
    elapsed = time.perf_counter() - start
    path = write_results("coverage_its", {
        "settings": {"reps_per_cell": reps, "n_sims": n_sims, "workers": workers, "n_pre": N_PRE, "n_post": N_POST,
                     "shifts": SHIFTS, "beta": BETA, "sd_level": SD_LEVEL, "sd_noise": SD_NOISE, "conf_level": 0.95},
        "summary": table.to_dict(orient="records"), "seconds": elapsed, "runs": runs.to_dict(orient="records"),
    })
    print(f"wrote {path} in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
