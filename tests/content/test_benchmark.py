"""Fair advisor benchmarking: shrinkage, funnel limits, flags; group activation counts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
from scipy import stats

import kosresearch as kr
from kosresearch._shrinkage import fit_beta_prior
from kosresearch.content import group_activation, kos_benchmark
from kosresearch.errors import KosDataError


def _pool():
    units = [f"u{i:02d}" for i in range(30)]
    s = [3, 4, 5, 6, 7] * 6  # 30 ordinary units, 50 trials each, 6-14 %
    df = pd.DataFrame({"kos_id": units, "spoke": s, "eligible": 50})
    extra = pd.DataFrame({"kos_id": ["lucky", "steady"], "spoke": [3, 400], "eligible": [4, 1000]})
    return pd.concat([df, extra], ignore_index=True)


def test_three_of_four_is_not_crowned_over_four_hundred_of_a_thousand():
    df = _pool()
    before = df.copy()
    b = kos_benchmark(df, successes_col="spoke", trials_col="eligible", unit_col="kos_id")
    pd.testing.assert_frame_equal(df, before)
    t = b.table.set_index("kos_id")
    assert t.loc["steady", "rank"] == 1 and t.loc["steady", "above_pool"]
    assert not t.loc["lucky", "above_pool"]
    assert t.loc["lucky", "raw_rate"] == 0.75 and t.loc["lucky", "estimate"] < t.loc["steady", "estimate"]
    # posterior is Beta(alpha + s, beta + n - s) of the marginal-likelihood prior
    prior = fit_beta_prior(df["spoke"], df["eligible"])
    a, bb = prior.alpha + 3, prior.beta + 1
    assert t.loc["lucky", "estimate"] == pytest.approx(a / (a + bb))
    assert t.loc["lucky", "conf_low"] == pytest.approx(stats.beta.ppf(0.025, a, bb))
    assert b.pooled_rate == pytest.approx(df["spoke"].sum() / df["eligible"].sum())
    assert t.loc["lucky", "p_value"] == pytest.approx(stats.binomtest(3, 4, b.pooled_rate).pvalue)
    assert list(b.flagged["kos_id"]) == ["steady"]


def test_benchmark_sentences_and_funnel_plot():
    import matplotlib.pyplot as plt

    b = kos_benchmark(_pool(), successes_col="spoke", trials_col="eligible", unit_col="kos_id")
    en = b.interpret(lang="en")
    assert en[0].startswith("Of 32 advisors, 1 are credibly above the pool rate of ")
    assert en[1].startswith("steady: 400 of 1000")
    assert b.interpret(lang="zh")[0].startswith("32 位导购中，1 位明显高于整体水平")
    fig, ax = plt.subplots()
    assert b.plot(ax=ax) is ax
    plt.close(fig)


def test_planted_star_advisors_are_flagged_with_few_false_flags(sample, truth):
    act = group_activation(sample)
    b = kos_benchmark(act, successes_col="spoke", trials_col="eligible", unit_col="kos_id")
    star = b.table["kos_id"].map(lambda k: truth["kos_skill"][k] > 0.3)  # Beta(20,20) vs Beta(4,36)
    flagged = b.table["above_pool"]
    tp = int((flagged & star).sum())
    precision = tp / max(int(flagged.sum()), 1)
    recall = tp / int(star.sum())
    assert precision >= 0.8 and recall >= 0.75, (precision, recall)


def test_group_activation_counts_members_who_speak_within_the_window():
    ts = pd.to_datetime
    groups = pd.DataFrame({"group_id": ["g1", "g2"], "kos_id": ["k1", "k2"], "region": ["east", "east"],
                           "created_at": ts(["2024-01-01", "2024-01-01"])})
    members = pd.DataFrame({
        "group_id": ["g1", "g1", "g1", "g1", "g2", "g2"],
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "region": "east",
        "joined_at": ts(["2024-01-02", "2024-01-02", "2024-01-02", "2024-01-28", "2024-01-05", "2024-01-05"]),
        # c1 within 7 days, c2 after 8 days, c3 never, c4 joined too late to be observed, c5 at 6.9 days
        "first_spoke_at": ts(["2024-01-03 00:00", "2024-01-10 00:00", None, "2024-01-29 00:00", "2024-01-11 21:00", None]),
    })
    ds = kr.open_dataset({"groups": groups, "group_members": members}, validate=False)
    out = group_activation(ds, as_of="2024-01-31")
    k1 = out.set_index("kos_id").loc["k1"]
    assert (k1["members"], k1["eligible"], k1["spoke"]) == (4, 3, 1)
    k2 = out.set_index("kos_id").loc["k2"]
    assert (k2["eligible"], k2["spoke"], k2["rate"]) == (2, 1, 0.5)


def test_benchmark_errors_name_the_bad_rows():
    df = _pool()
    with pytest.raises(KosDataError, match=r"successes_col='spoke' and trials_col='eligible' must be whole numbers"):
        kos_benchmark(df.assign(spoke=df["eligible"] + 1), successes_col="spoke", trials_col="eligible",
                      unit_col="kos_id")
    with pytest.raises(KosDataError, match=r"repeat the key \['kos_id'\]"):
        kos_benchmark(pd.concat([df, df.head(1)]), successes_col="spoke", trials_col="eligible", unit_col="kos_id")
    with pytest.raises(KosDataError, match=r"trials_col='eligible' is 0 for every unit"):
        kos_benchmark(df.assign(spoke=0, eligible=0), successes_col="spoke", trials_col="eligible",
                      unit_col="kos_id")
