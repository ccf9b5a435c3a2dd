"""Attribution benchmarks: interval coverage of att_gt, and speed of Markov attribution and att_gt.

1. Coverage: 95 % intervals of ``att_gt`` (every ATT(g, t) and the simple
   aggregation) over 400 small staggered panels simulated directly with numpy
   (a true effect per cohort and event time); target 93-97 %.
2. ``markov_attribution`` (exact, first order) on 1,000,000 journeys drawn
   from the planted channel chain, one row per journey; target <= 0.25 s.
   Baseline: a plain pandas/numpy implementation (groupby on paths, a Python
   loop over the unique paths to count transitions, one dense solve per
   channel).
3. ``att_gt`` with analytic standard errors on 2,000 stores × 104 weeks with 5
   cohorts (plus never-treated stores); target <= 1.3 s. Baseline: a plain
   pandas implementation looping over the (g, t) cells with boolean masks.

Timings are medians of several runs (``KOS_BENCH_REPEAT`` overrides); peak RSS
of the process is reported. Results go to ``benchmarks/results/bench_attribution.json``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _harness import comparison_table, measure, peak_rss_mib, repeat_count, write_results

from kosresearch.attribution import att_gt, markov_attribution
from kosresearch.data.simulate import planted_channel_matrix

MARKOV_TARGET = 0.25
ATT_GT_TARGET = 1.3


# ----------------------------------------------------------------------------- coverage


def coverage(n_rep: int = 400, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    n, T = 300, 8
    cohorts = np.array([0, 4, 6])
    hit_cells = n_cells = hit_simple = 0
    for _ in range(n_rep):
        g = rng.choice(cohorts, size=n, p=[0.4, 0.3, 0.3])
        unit_fe = rng.normal(0, 1, n)
        time_fe = rng.normal(0, 1, T)
        e = np.arange(1, T + 1)[None, :] - g[:, None]
        tau = np.where((g[:, None] > 0) & (e >= 0), 1.0 + 0.5 * e, 0.0)
        # heteroskedastic, serially correlated errors
        eps = rng.normal(0, 1, (n, T)) + 0.5 * rng.normal(0, 1, (n, 1))
        y = unit_fe[:, None] + time_fe[None, :] + tau + eps * (1 + 0.5 * (g[:, None] > 0))
        d = pd.DataFrame({"u": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
                          "g": np.repeat(g, T), "y": y.ravel()})
        r = att_gt(d, outcome_col="y", unit_col="u", time_col="t", group_col="g")
        tab = r.table
        true = np.where(tab["time"] >= tab["group"], 1.0 + 0.5 * (tab["time"] - tab["group"]), 0.0)
        hit_cells += int(((tab["conf_low"] <= true) & (true <= tab["conf_high"])).sum())
        n_cells += len(tab)
        # simple ATT truth: average of tau over treated post unit-periods, in expectation
        post = tab[tab["post"]]
        sizes = np.full(len(post), 0.3)  # population cohort shares (the estimand; the SE accounts for their estimation)
        truth_simple = float(np.sum(sizes * (1.0 + 0.5 * (post["time"] - post["group"]))) / sizes.sum())
        o = r.aggregate("simple").overall.iloc[0]
        hit_simple += int(o["conf_low"] <= truth_simple <= o["conf_high"])
    return {"replicates": n_rep, "cell_coverage": hit_cells / n_cells, "simple_coverage": hit_simple / n_rep,
            "target": [0.93, 0.97]}


# ----------------------------------------------------------------------------- Markov


def journeys_from_chain(n: int, seed: int = 2) -> pd.DataFrame:
    states, P = planted_channel_matrix()
    rng = np.random.default_rng(seed)
    cum = np.cumsum(P, axis=1)
    k = len(states) - 3
    conv_s = k + 1
    state = np.zeros(n, int)
    steps = []
    alive = np.ones(n, bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        nxt = (rng.random(idx.size)[:, None] > cum[state[idx]]).sum(axis=1)
        col = np.full(n, -1)
        col[idx] = np.where(nxt <= k, nxt - 1, -1)
        steps.append(col)
        state[idx] = nxt
        alive[idx[nxt > k]] = False
    steps = np.column_stack(steps)
    names = np.array(states[1:k + 1] + [""], dtype=object)
    paths = pd.Series([">".join(names[r][r >= 0]) for r in steps[: min(n, 200_000)]])
    # reuse the first 200k distinct draws cyclically: same distribution of paths, faster set-up
    reps = int(np.ceil(n / len(paths)))
    paths = pd.concat([paths] * reps, ignore_index=True)[:n]
    conv = np.tile((state == conv_s)[: min(n, 200_000)], reps)[:n].astype(np.int64)
    return pd.DataFrame({"path": paths.to_numpy(), "conversions": conv, "nulls": 1 - conv})


def markov_baseline(j: pd.DataFrame) -> np.ndarray:
    """Plain pandas/numpy: group paths, count transitions in a Python loop, dense solves."""
    agg = j.groupby("path")[["conversions", "nulls"]].sum()
    chans = sorted({c for p in agg.index for c in p.split(">")})
    idx = {c: i + 1 for i, c in enumerate(chans)}
    n = len(chans) + 3
    conv_s, null_s = n - 2, n - 1
    C = np.zeros((n, n))
    for p, (c, nl) in zip(agg.index, agg.to_numpy()):
        seq = [0] + [idx[x] for x in p.split(">")]
        for a, b in zip(seq[:-1], seq[1:]):
            C[a, b] += c + nl
        C[seq[-1], conv_s] += c
        C[seq[-1], null_s] += nl
    C[conv_s, conv_s] = C[null_s, null_s] = 1
    P = C / C.sum(axis=1, keepdims=True)
    tr = [i for i in range(n) if i not in (conv_s, null_s)]

    def pconv(M):
        Q = M[np.ix_(tr, tr)]
        R = M[np.ix_(tr, [conv_s])]
        return np.linalg.solve(np.eye(len(tr)) - Q, R)[0, 0]

    base = pconv(P)
    out = []
    for c in range(1, len(chans) + 1):
        M = P.copy()
        M[:, null_s] += M[:, c]
        M[:, c] = 0
        M[c, :] = 0
        M[c, null_s] = 1
        out.append(1 - pconv(M) / base)
    return np.array(out)


# ----------------------------------------------------------------------------- att_gt


def store_panel(n_stores: int = 2000, weeks: int = 104, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cohorts = np.array([0, 30, 45, 60, 75, 90])
    g = rng.choice(cohorts, size=n_stores, p=[0.25, 0.15, 0.15, 0.15, 0.15, 0.15])
    t = np.arange(1, weeks + 1)
    y = (rng.lognormal(10, 0.3, n_stores)[:, None] * (1 + 0.2 * np.sin(t / 8))[None, :]
         + 2500 * ((g[:, None] > 0) & (t[None, :] >= g[:, None])) + rng.normal(0, 3000, (n_stores, weeks)))
    return pd.DataFrame({"store_id": np.repeat(np.arange(n_stores), weeks), "week": np.tile(t, n_stores),
                         "group": np.repeat(g, weeks), "sales": y.ravel()})


def att_gt_baseline(d: pd.DataFrame) -> pd.DataFrame:
    """Plain pandas: per (g, t) cell, difference of mean changes and influence-function SE."""
    wide = d.pivot(index="store_id", columns="week", values="sales")
    g = d.groupby("store_id")["group"].first().reindex(wide.index)
    n = len(wide)
    rows = []
    weeks = list(wide.columns)
    for gg in sorted(g[g > 0].unique()):
        for i, t in enumerate(weeks[1:], start=1):
            base = weeks[i - 1] if t < gg else gg - 1
            dy = wide[t] - wide[base]
            tr, co = dy[g == gg], dy[g == 0]
            att = tr.mean() - co.mean()
            inf = pd.concat([(tr - tr.mean()) * n / len(tr), -(co - co.mean()) * n / len(co)])
            rows.append({"group": gg, "time": t, "estimate": att, "std_error": np.sqrt((inf**2).sum()) / n})
    return pd.DataFrame(rows)


def main() -> None:
    rep = repeat_count(5)
    cov = coverage()
    print(f"coverage over {cov['replicates']} replicates: ATT(g,t) cells {cov['cell_coverage']:.3f}, "
          f"simple ATT {cov['simple_coverage']:.3f} (target 0.93-0.97)")

    j = journeys_from_chain(1_000_000)
    ours = markov_attribution(j).table["removal_effect"].to_numpy()
    np.testing.assert_allclose(ours, markov_baseline(j), rtol=1e-10)
    m_fast = measure(lambda: markov_attribution(j), repeat=rep, warmup=1)
    m_base = measure(lambda: markov_baseline(j), repeat=max(1, rep // 2))

    # 12 channels x 10,000 distinct paths (the "well under a second"), orders 1 and 3
    rng = np.random.default_rng(4)
    chans = [f"ch{i:02d}" for i in range(12)]
    uniq = set()
    while len(uniq) < 10_000:
        uniq.add(">".join(rng.choice(chans, size=rng.integers(1, 7))))
    wide = pd.DataFrame({"path": sorted(uniq), "conversions": rng.integers(0, 50, 10_000), "nulls": rng.integers(0, 80, 10_000)})
    w1 = measure(lambda: markov_attribution(wide), repeat=rep, warmup=1)
    w3 = measure(lambda: markov_attribution(wide, order=3), repeat=rep, warmup=1)

    d = store_panel()
    ours = att_gt(d, outcome_col="sales", unit_col="store_id", time_col="week", group_col="group").table
    base = att_gt_baseline(d)
    post = ours.merge(base, on=["group", "time"], suffixes=("", "_base"))
    np.testing.assert_allclose(post["estimate"], post["estimate_base"], rtol=1e-9)
    np.testing.assert_allclose(post["std_error"], post["std_error_base"], rtol=1e-9)
    a_fast = measure(lambda: att_gt(d, outcome_col="sales", unit_col="store_id", time_col="week", group_col="group"),
                     repeat=rep, warmup=1)
    a_base = measure(lambda: att_gt_baseline(d), repeat=max(1, rep // 2))

    print(comparison_table([("markov_attribution, 1M journeys", m_fast, m_base),
                            ("markov 12 ch x 10k paths, order 1", w1, None),
                            ("markov 12 ch x 10k paths, order 3", w3, None),
                            ("att_gt 2000 stores x 104 weeks", a_fast, a_base)], baseline_name="plain pandas"))
    rss = peak_rss_mib()
    print(f"peak RSS {rss:.0f} MiB")
    ok = (m_fast.median <= MARKOV_TARGET, a_fast.median <= ATT_GT_TARGET,
          0.93 <= cov["cell_coverage"] <= 0.97, 0.93 <= cov["simple_coverage"] <= 0.97)
    print("targets met:", dict(zip(("markov<=0.25s", "att_gt<=1.3s", "cell coverage", "simple coverage"), ok)))
    write_results("bench_attribution", {
        "coverage": cov,
        "markov_1m": {"ours": m_fast.as_dict(), "baseline": m_base.as_dict(), "target_s": MARKOV_TARGET},
        "markov_12ch_10k_paths": {"order1": w1.as_dict(), "order3": w3.as_dict()},
        "att_gt_2000x104": {"ours": a_fast.as_dict(), "baseline": a_base.as_dict(), "target_s": ATT_GT_TARGET},
        "peak_rss_mib": rss,
        "targets_met": dict(zip(("markov", "att_gt", "cell_coverage", "simple_coverage"), ok)),
    })


if __name__ == "__main__":
    main()
