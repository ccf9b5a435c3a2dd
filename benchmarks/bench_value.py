"""BG/NBD fitting speed on 1 M customers, against a plain scipy fit of the same likelihood.

Target (issue 7): ``BetaGeo().fit`` on 1,000,000 customers in at most 0.45 s.

* Data: 1 M customers drawn exactly from BG/NBD (r=0.8, α=8, a=0.8, b=6, weeks)
  with first purchases spread over 156 weeks and times in whole days (as
  ``rfm_summary`` produces them), so identical rows are as frequent as in
  real daily data.
* Candidate: the public ``kosresearch.value.BetaGeo().fit(rfm)`` (validation,
  collapsing of identical rows, Newton with the analytic gradient and
  Hessian, standard errors).
* Baseline: a plain scipy implementation of the same log-likelihood on the
  uncollapsed rows, minimised by L-BFGS-B with a finite-difference gradient.
* Both run in this process; medians over several runs, their ratio, the
  agreement of the estimates and the peak RSS are reported.

``OPENBLAS_NUM_THREADS=1`` is set before numpy is imported (unless already
set): on a busy 2-core machine OpenBLAS threads make scipy's L-BFGS-B (the
baseline) erratic and many times slower; the candidate does not call BLAS on
large arrays. Timings depend on the load of the machine; the load average is
recorded with the results.

``python benchmarks/bench_value.py --coverage [N]`` also simulates N (default
40) datasets with ``kosresearch.simulate`` (base-only scenario, 8,000
customers) and reports the coverage of the 95 % intervals of the planted
BG/NBD, Gamma-Gamma and CAC values.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import optimize, special  # noqa: E402

from kosresearch.value import BetaGeo  # noqa: E402

HERE = Path(__file__).resolve().parent
TARGET_S = 0.45
PLANTED = {"r": 0.8, "alpha": 8.0, "a": 0.8, "b": 6.0}


def simulate_rfm(n: int, seed: int = 0, weeks: int = 156) -> pd.DataFrame:
    """RFM rows of ``n`` customers drawn from BG/NBD, times in whole days expressed in weeks."""
    rng = np.random.default_rng(seed)
    days = 7 * weeks
    T_days = days - rng.integers(0, days, n)
    lam = rng.gamma(PLANTED["r"], 1.0 / PLANTED["alpha"], n) / 7.0  # per day
    p = rng.beta(PLANTED["a"], PLANTED["b"], n)
    N = rng.poisson(lam * T_days)
    x = np.minimum(N, rng.geometric(p))
    # the x-th of N uniform purchase times on (0, T): a Beta(x, N - x + 1) fraction of T
    last = rng.beta(np.maximum(x, 1), np.maximum(N - x + 1, 1)) * T_days
    t_x = np.where(x > 0, np.minimum(np.floor(last), T_days - 1), 0)
    return pd.DataFrame({"frequency": x, "recency": t_x / 7.0, "T": T_days / 7.0})


def plain_scipy_fit(rfm: pd.DataFrame) -> dict:
    """The same likelihood, written directly: no collapsing, numerical gradient, L-BFGS-B."""
    x = rfm["frequency"].to_numpy(float)
    t_x = rfm["recency"].to_numpy(float)
    T = rfm["T"].to_numpy(float)
    pos = x > 0

    def negll(theta):
        r, alpha, a, b = np.exp(theta)
        ln_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        ln_a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
        ln_a3 = -(r + x) * np.log(alpha + T)
        ln_a4 = np.full(x.shape, -np.inf)
        ln_a4[pos] = np.log(a) - np.log(b + x[pos] - 1) - (r + x[pos]) * np.log(alpha + t_x[pos])
        return -np.sum(ln_a1 + ln_a2 + np.logaddexp(ln_a3, ln_a4)) / x.size

    res = optimize.minimize(negll, np.zeros(4), method="L-BFGS-B", bounds=[(-9.2, 11.5)] * 4)
    return dict(zip(("r", "alpha", "a", "b"), np.exp(res.x))) | {"nit": int(res.nit), "nfev": int(res.nfev)}


def measure(fn, repeat: int, warmup: int = 0) -> dict:
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return {"median": statistics.median(runs), "min": min(runs), "max": max(runs), "runs": runs}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def speed(n: int = 1_000_000, repeat: int = 7, baseline_repeat: int = 3) -> dict:
    rfm = simulate_rfm(n)
    print(f"{n:,} customers, {int((rfm['frequency'] > 0).sum()):,} repeat buyers, "
          f"{len(rfm.drop_duplicates()):,} distinct (x, t_x, T) rows")
    fast = measure(lambda: BetaGeo().fit(rfm), repeat=repeat, warmup=1)
    bg = BetaGeo().fit(rfm)
    rss_fast = peak_rss_mib()
    slow = measure(lambda: plain_scipy_fit(rfm), repeat=baseline_repeat)
    base = plain_scipy_fit(rfm)
    agree = {k: abs(bg.params_[k] / base[k] - 1) for k in PLANTED}
    print(f"{'':22}{'median s':>10}{'min s':>9}{'max s':>9}")
    print(f"{'BetaGeo().fit':22}{fast['median']:>10.3f}{fast['min']:>9.3f}{fast['max']:>9.3f}")
    print(f"{'plain scipy':22}{slow['median']:>10.3f}{slow['min']:>9.3f}{slow['max']:>9.3f}")
    print(f"ratio (median plain / median BetaGeo): {slow['median'] / fast['median']:.1f}x")
    print(f"target {TARGET_S} s: {'met' if fast['median'] <= TARGET_S else 'NOT met'} (median {fast['median']:.3f} s)")
    print(f"estimates: {({k: round(v, 4) for k, v in bg.params_.items()})}, planted {PLANTED}; "
          f"largest relative difference to the plain fit {max(agree.values()):.1e} "
          f"(plain: {base['nit']} iterations, {base['nfev']} evaluations)")
    print(f"peak RSS after the candidate runs: {rss_fast:.0f} MiB; after the baseline: {peak_rss_mib():.0f} MiB")
    return {"n_customers": n, "betageo": fast, "plain_scipy": slow, "ratio": slow["median"] / fast["median"],
            "target_s": TARGET_S, "target_met": fast["median"] <= TARGET_S, "params": bg.params_,
            "plain_params": {k: base[k] for k in PLANTED}, "max_rel_diff": max(agree.values()),
            "peak_rss_mib_candidate": rss_fast, "peak_rss_mib_total": peak_rss_mib()}


def coverage(n_sim: int = 40, customers: int = 8_000, level: float = 0.95) -> dict:
    """Share of simulations whose ``level`` intervals cover the planted values."""
    import dataclasses

    import kosresearch as kr
    from kosresearch.value import GammaGamma, acquisition_costs, rfm_summary

    sc = dataclasses.replace(kr.PRESETS["sample"].base_only(), customers=customers, stores_per_region=8)
    hits: dict[str, list[bool]] = {}
    t0 = time.perf_counter()
    for seed in range(n_sim):
        sim = kr.simulate(sc, seed=1000 + seed)
        end = pd.Timestamp(sim.truth["week_index_start"]) + pd.Timedelta(weeks=sc.weeks)
        rfm = rfm_summary(sim.tables["orders"], observation_end=end, merge_same_day=False)
        tables = {"BG/NBD": (BetaGeo(conf_level=level).fit(rfm).params_table_, sim.truth["bgnbd"]),
                  "Gamma-Gamma": (GammaGamma(conf_level=level).fit(rfm).params_table_, sim.truth["gamma_gamma"])}
        for model, (table, truth) in tables.items():
            for _, row in table.iterrows():
                hits.setdefault(f"{model} {row['term']}", []).append(
                    bool(row["conf_low"] <= truth[row["term"]] <= row["conf_high"]))
        cac = acquisition_costs(sim.dataset(), conf_level=level).table.set_index("channel")
        for channel, mean in sim.truth["cac"].items():
            hits.setdefault(f"CAC {channel}", []).append(
                bool(cac.loc[channel, "conf_low"] <= mean <= cac.loc[channel, "conf_high"]))
    out = {k: float(np.mean(v)) for k, v in hits.items()}
    se = np.sqrt(level * (1 - level) / n_sim)
    print(f"\ncoverage of {level:.0%} intervals over {n_sim} simulations of {customers:,} customers "
          f"({time.perf_counter() - t0:.0f} s; Monte Carlo s.e. {se:.3f})")
    for k, v in out.items():
        print(f"  {k:<24} {v:.3f}")
    return {"n_sim": n_sim, "customers": customers, "level": level, "coverage": out}


def main(argv: list[str]) -> int:
    results = {"machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
               "loadavg": os.getloadavg(), "speed": speed()}
    if "--coverage" in argv:
        i = argv.index("--coverage")
        n_sim = int(argv[i + 1]) if len(argv) > i + 1 and argv[i + 1].isdigit() else 40
        results["coverage"] = coverage(n_sim)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_value.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
