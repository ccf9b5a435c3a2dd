"""The simulator: consistency of every table, determinism, and the truths it plants.

Statistical checks compare an estimate with the planted value using a
tolerance of four standard errors (a false alarm rate below 1e-4 per check),
so they fail only when the generator is wrong.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy.special import hyp2f1

import kosresearch as kr
from kosresearch._markov import conversion_probability, removal_effects
from kosresearch.data.contract import TABLES, VOCABULARIES
from kosresearch.data.simulate import JOURNEY_CHANNELS, planted_channel_matrix
from kosresearch.errors import KosParameterError

SMALL = dataclasses.replace(kr.PRESETS["sample"], customers=6_000, stores_per_region=6)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small():
    return kr.simulate(SMALL, seed=11)


@pytest.fixture(scope="module")
def sample():
    return kr.simulate("sample", seed=20261122)


@pytest.fixture(scope="module")
def base_only():
    return kr.simulate(kr.PRESETS["sample"].base_only(), seed=5)


# --------------------------------------------------------------------------- consistency


def test_every_contract_table_is_generated_with_contract_columns(small):
    assert sorted(small.tables) == sorted(t.name for t in TABLES)
    for table in TABLES:
        assert list(small.tables[table.name].columns) == list(table.column_names), table.name
        assert len(small.tables[table.name]) > 0, table.name


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_keys_nulls_vocabularies_and_bounds_hold(small, table):
    df = small.tables[table.name]
    assert not df.duplicated(list(table.primary_key)).any()
    for col in table.columns:
        if not col.nullable:
            assert df[col.name].notna().all(), col.name
        if col.vocabulary:
            assert set(df[col.name].dropna()) <= set(VOCABULARIES[col.vocabulary]), col.name
        if col.minimum is not None:
            assert (df[col.name].dropna() >= col.minimum).all(), col.name
        if col.maximum is not None:
            assert (df[col.name].dropna() <= col.maximum).all(), col.name
    assert set(df["region"]) <= set(SMALL.regions)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_foreign_keys_hold(small, table):
    df = small.tables[table.name]
    for fk in table.foreign_keys:
        rows = df if fk.when is None else df.query(fk.when.replace("=", "=="))
        values = rows[fk.column].dropna()
        orphans = values[~values.isin(small.tables[fk.table][fk.ref_column])]
        assert orphans.empty, f"{table.name}.{fk.column}: {orphans.head().tolist()}"


def test_timestamps_are_ordered_along_each_customer_story(small):
    t = small.tables
    cust = t["customers"].set_index("customer_id")
    orders = t["orders"]
    acquired = orders["customer_id"].map(cust["acquired_at"])
    assert (orders["ordered_at"] >= acquired).all()
    first = orders.groupby("customer_id")["ordered_at"].min()
    pd.testing.assert_series_equal(first, cust["acquired_at"].reindex(first.index), check_names=False)
    assert (orders["store_id"] == orders["customer_id"].map(cust["store_id"])).all()
    kos = t["kos"].set_index("kos_id")
    bound = cust[cust["kos_id"].notna()]
    assert (bound["kos_id"].map(kos["store_id"]) == bound["store_id"]).all()
    assert (pd.to_datetime(bound["kos_id"].map(kos["joined_at"])) <= bound["acquired_at"]).all()
    msgs = t["messages"].dropna(subset=["customer_id"])
    assert (msgs["ts"] >= msgs["customer_id"].map(cust["acquired_at"])).all()
    fb = t["feedback"]
    assert (fb["resolved_at"].isna() | (fb["resolved_at"] >= fb["created_at"])).all()
    assert (fb["loop_closed_at"].isna() | (fb["loop_closed_at"] >= fb["created_at"])).all()
    stores = t["stores"].set_index("store_id")
    posted_store = t["content"]["kos_id"].map(kos["store_id"])
    assert (t["content"]["posted_at"] >= pd.to_datetime(posted_store.map(stores["program_start"]))).all()


def test_first_spoke_at_is_the_first_group_message_of_the_member(small):
    t = small.tables
    members = t["group_members"].dropna(subset=["first_spoke_at"]).set_index(["group_id", "customer_id"])
    msgs = t["messages"]
    first_msg = msgs[(msgs["channel"] == "group") & (msgs["sender"] == "customer")].groupby(["group_id", "customer_id"])["ts"].min()
    assert len(first_msg) == len(members)
    gap = (first_msg.reindex(members.index) - members["first_spoke_at"]).abs().max()
    assert gap <= pd.Timedelta(seconds=1)
    assert (members["first_spoke_at"] >= members["joined_at"]).all()


def test_amounts_are_plausible_cny(small):
    amount = small.tables["orders"]["amount"]
    assert amount.min() > 0
    assert 300 < amount.median() < 1_000
    cost = small.tables["customers"].groupby("acquisition_channel")["acquisition_cost"].mean()
    assert cost["paid_ads"] > cost["referral"] > cost["walk_in"]


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_data_and_other_seed_does_not(small):
    again = kr.simulate(SMALL, seed=11)
    for name, df in small.tables.items():
        pd.testing.assert_frame_equal(df, again.tables[name], obj=name)
    assert again.truth == small.truth
    other = kr.simulate(SMALL, seed=12)
    assert not other.tables["orders"]["amount"].equals(small.tables["orders"]["amount"])


def test_disk_output_equals_in_memory_output(small, tmp_path):
    out = kr.simulate_to_disk(SMALL, tmp_path / "sim", seed=11, progress=False)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert truth == json.loads(json.dumps(small.truth))
    for name, df in small.tables.items():
        parts = []
        for region in SMALL.regions:
            part = pq.read_table(out / name / f"region={region}").to_pandas()
            part.insert(list(df.columns).index("region"), "region", region)
            parts.append(part)
        back = pd.concat(parts, ignore_index=True)
        for col in df.columns:
            left, right = df[col].reset_index(drop=True), back[col]
            if str(left.dtype).startswith("datetime"):
                right = pd.to_datetime(right).astype(left.dtype)
            elif left.dtype == "str":
                right = right.astype("str")
            pd.testing.assert_series_equal(left, right, check_names=False, obj=f"{name}.{col}")
    tiers = pq.read_table(out / "truth_tiers.parquet").to_pandas()
    assert len(tiers) == len(small.truth_tiers)


def test_unknown_preset_and_bad_scenarios_are_refused():
    with pytest.raises(KosParameterError, match="scenario='huge' is not a preset"):
        kr.simulate("huge", seed=1)
    with pytest.raises(KosParameterError, match="must be a Monday"):
        dataclasses.replace(SMALL, start="2023-01-03")
    with pytest.raises(KosParameterError, match="region_rollout names regions"):
        dataclasses.replace(SMALL, region_rollout={"mars": 70})
    with pytest.raises(KosParameterError, match="lower-case ASCII slug"):
        dataclasses.replace(SMALL, regions=("华东",))


def test_committed_sample_regenerates_identically(tmp_path):
    sample_dir = ROOT / "data_samples"
    if not (sample_dir / "truth.json").exists():
        pytest.skip("data_samples/ has not been generated yet (make sample)")
    truth = json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))
    fresh = kr.simulate_to_disk(truth["scenario"]["name"], tmp_path / "regen", seed=truth["seed"], progress=False)
    assert json.loads((fresh / "truth.json").read_text(encoding="utf-8")) == truth
    for table in TABLES:
        for region in truth["regions"]:
            rel = Path(table.name) / f"region={region}" / "part-0.parquet"
            assert pq.read_table(sample_dir / rel).equals(pq.read_table(fresh / rel)), str(rel)
    for rel in ("truth_tiers.parquet", "truth_feedback.parquet"):
        assert pq.read_table(sample_dir / rel).equals(pq.read_table(fresh / rel)), rel


# --------------------------------------------------------------------------- planted truths


def test_truth_has_the_keys_later_analyses_read(sample):
    truth = sample.truth
    for key in ("programme", "content", "tiers", "bgnbd", "gamma_gamma", "journeys", "kos_skill", "promotion",
                "feedback", "cac", "strategy_change"):
        assert key in truth, key
    prog = truth["programme"]
    assert set(prog) >= {"att_overall", "att_by_event_week", "cohorts", "week_index_start"}
    assert len(prog["cohorts"]) >= 3 and prog["never_treated"]
    assert set(truth["content"]["interactions"]) == {"format", "topic", "platform"}
    assert set(truth["tiers"]["transition_matrix"]) == set(truth["regions"])
    assert set(truth["bgnbd"]) >= {"r", "alpha", "a", "b", "time_unit"}
    assert set(truth["kos_skill"]) == set(sample.tables["kos"]["kos_id"])
    assert "closure_hazard_ratio" in truth["feedback"]
    assert set(truth["cac"]) == set(VOCABULARIES["acquisition_channel"])
    assert "rate_ratio" in truth["strategy_change"]
    assert list(sample.truth_tiers.columns) == ["customer_id", "period", "tier"]


def test_programme_truth_is_the_mean_over_treated_store_weeks(sample):
    prog = sample.truth["programme"]
    cells = [(g, v) for g, by_e in prog["att_by_cohort"].items() for v in by_e.values() for _ in prog["cohorts"][g]]
    assert prog["att_overall"] == pytest.approx(np.mean([v for _, v in cells]))
    stores = sample.tables["stores"].set_index("store_id")
    start = pd.Timestamp(prog["week_index_start"])
    for g, members in prog["cohorts"].items():
        starts = pd.to_datetime(stores.loc[members, "program_start"])
        assert ((starts - start).dt.days // 7 + 1 == int(g)).all()
    assert stores.loc[prog["never_treated"], "program_start"].isna().all()
    late = stores.loc[prog["late_opening_stores"], "opened_at"]
    assert (pd.to_datetime(late) > start).all()
    # ramp: effect grows over the first weeks then is flat
    e = {int(k): v for k, v in prog["att_by_cohort"][min(prog["att_by_cohort"], key=int)].items()}
    assert e[0] < e[3] < e[prog["ramp_weeks"] - 1] == e[prog["ramp_weeks"] + 5]


def test_programme_effect_shows_in_store_week_sales_of_a_large_simulation():
    sc = dataclasses.replace(kr.PRESETS["sample"], stores_per_region=30, customers=40_000, promotion_effect=None,
                             feedback_share=0.0)
    estimates = []
    for seed in range(2):
        sim = kr.simulate(sc, seed=seed)
        prog = sim.truth["programme"]
        orders = sim.tables["orders"]
        week = (orders["ordered_at"] - pd.Timestamp(prog["week_index_start"])).dt.days // 7 + 1
        panel = orders.assign(week=week).groupby(["store_id", "week"])["amount"].sum().unstack(fill_value=0)
        never = [s for s in prog["never_treated"] if s not in prog["late_opening_stores"]]
        # long differences against the mean of the 8 pre-weeks, cohort by cohort
        diffs = []
        for g, members in prog["cohorts"].items():
            g = int(g)
            pre = list(range(g - 8, g))
            for t in range(g + prog["ramp_weeks"], prog["weeks"] + 1):
                d = (panel.loc[members, t] - panel.loc[members, pre].mean(axis=1)).mean() - (
                    panel.loc[never, t] - panel.loc[never, pre].mean(axis=1)).mean()
                diffs.append((d, len(members), prog["att_by_cohort"][str(g)][str(t - g)]))
        d, w, truth = map(np.array, zip(*diffs))
        estimates.append((np.average(d, weights=w), np.average(truth, weights=w)))
    est, truth = np.mean(estimates, axis=0)
    assert est == pytest.approx(truth, rel=0.35)


def test_latent_tier_transitions_match_the_planted_matrix(sample):
    tiers = sample.truth_tiers.sort_values(["customer_id", "period"])
    tiers["next"] = tiers.groupby("customer_id")["tier"].shift(-1)
    region = tiers["customer_id"].map(sample.tables["customers"].set_index("customer_id")["region"])
    states = sample.truth["tiers"]["states"]
    for r, planted in sample.truth["tiers"]["transition_matrix"].items():
        pairs = tiers[(region == r) & tiers["next"].notna()]
        counts = pd.crosstab(pairs["tier"], pairs["next"]).reindex(index=states, columns=states, fill_value=0)
        n = counts.sum(axis=1).to_numpy()[:, None]
        p = np.asarray(planted)
        se = np.sqrt(p * (1 - p) / np.maximum(n, 1))
        assert (np.abs(counts.to_numpy() / n - p) <= 4 * se + 1e-12).all(), r


def test_repeat_purchases_follow_the_planted_bgnbd_process(base_only):
    """Mean repeat purchases in the first year against E[X(52)] of BG/NBD (Fader, Hardie & Lee 2005, eq. 9)."""
    r, alpha, a, b = (base_only.truth["bgnbd"][k] for k in ("r", "alpha", "a", "b"))
    t = 52.0
    expected = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    orders = base_only.tables["orders"]
    acquired = base_only.tables["customers"].set_index("customer_id")["acquired_at"]
    end = pd.Timestamp(base_only.truth["week_index_start"]) + pd.Timedelta(weeks=base_only.truth["programme"]["weeks"])
    eligible = acquired[acquired <= end - pd.Timedelta(weeks=t)]
    o = orders[orders["customer_id"].isin(eligible.index)]
    within = (o["ordered_at"] > o["customer_id"].map(eligible)) & (
        o["ordered_at"] <= o["customer_id"].map(eligible) + pd.Timedelta(weeks=t))
    x = o[within].groupby("customer_id").size().reindex(eligible.index, fill_value=0)
    assert abs(x.mean() - expected) <= 4 * x.std() / np.sqrt(len(x))


def test_repeat_order_values_follow_the_planted_gamma_gamma_mean(base_only):
    p, q, gamma = (base_only.truth["gamma_gamma"][k] for k in ("p", "q", "gamma"))
    orders = base_only.tables["orders"]
    first = orders.groupby("customer_id")["ordered_at"].transform("min")
    repeat = orders[orders["ordered_at"] > first]
    per_customer = repeat.groupby("customer_id")["amount"].mean()
    # E[z] = p γ / (q - 1); customer means are i.i.d. across customers
    assert abs(repeat["amount"].mean() - p * gamma / (q - 1)) <= 0.05 * p * gamma / (q - 1)
    assert per_customer.median() == pytest.approx(p * gamma / (q - 1), rel=0.25)


def test_content_rate_ratios_are_recovered_by_a_negative_binomial_glm(sample):
    import statsmodels.api as sm

    content = sample.tables["content"]
    y = content[["likes", "comments", "saves", "shares"]].sum(axis=1).to_numpy()
    ref = sample.truth["content"]["reference"]
    X = pd.get_dummies(content[["format", "topic", "platform"]]).astype(float)
    X = X.drop(columns=[f"{k}_{v}" for k, v in ref.items()])
    X.insert(0, "const", 1.0)
    fit = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=sample.truth["content"]["nb_alpha"]["interactions"]),
                 exposure=content["impressions"].to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(content["kos_id"])[0]})
    planted = sample.truth["content"]["interactions"]
    misses = 0
    for term, levels in planted.items():
        for level, rr in levels.items():
            est, se = fit.params[f"{term}_{level}"], fit.bse[f"{term}_{level}"]
            assert abs(est - np.log(rr)) <= 4 * se, (term, level)
            misses += abs(est - np.log(rr)) > 1.96 * se
    assert misses <= 3
    assert planted["format"]["short_video"] * planted["topic"]["usage_tips"] == pytest.approx(5.0)


def test_loop_closure_hazard_ratio_is_recovered_by_a_cox_model(sample):
    from statsmodels.duration.hazard_regression import PHReg

    t = sample.tables
    fb = t["feedback"]
    end = pd.Timestamp(sample.truth["week_index_start"]) + pd.Timedelta(weeks=sample.truth["programme"]["weeks"])
    after = fb[["feedback_id", "customer_id", "created_at"]].merge(t["orders"][["customer_id", "ordered_at"]], on="customer_id")
    nxt = after[after["ordered_at"] > after["created_at"]].groupby("feedback_id")["ordered_at"].min()
    days = (fb["feedback_id"].map(nxt) - fb["created_at"]).dt.total_seconds() / 86400
    limit = np.minimum(90.0, (end - fb["created_at"]).dt.total_seconds() / 86400)
    event = days.notna() & (days <= limit)
    fit = PHReg(np.where(event, days, limit), fb["loop_closed_at"].notna().astype(float).to_numpy()[:, None],
                status=event.astype(int).to_numpy()).fit()
    lo, hi = np.exp(fit.conf_int()[0])
    assert lo <= sample.truth["feedback"]["closure_hazard_ratio"] <= hi


def test_removal_effects_in_truth_are_exact_for_the_planted_chain(sample):
    states, P = planted_channel_matrix()
    assert np.allclose(P.sum(axis=1), 1)
    re = removal_effects(P, start=0, conversion=states.index("(conversion)"), null=states.index("(null)"),
                         channels=[states.index(c) for c in JOURNEY_CHANNELS])
    assert sample.truth["journeys"]["removal_effects"] == dict(zip(JOURNEY_CHANNELS, re.tolist()))


def test_touchpoint_walks_reproduce_the_planted_chain(sample):
    """Splitting touchpoints into journeys (at orders and at 30-day silences) gives back the planted chain."""
    t = sample.tables
    touch = t["touchpoints"][["customer_id", "ts", "channel"]].rename(columns={"ts": "t"}).assign(kind=0)
    orders = t["orders"][["customer_id", "ordered_at"]].rename(columns={"ordered_at": "t"}).assign(kind=1, channel="")
    ev = pd.concat([touch, orders]).sort_values(["customer_id", "t", "kind"], kind="stable")
    states, planted = planted_channel_matrix()
    index = {s: i for i, s in enumerate(states)}
    counts = np.zeros_like(planted)
    path: list[str] = []
    prev_c, prev_t = None, None

    def close(end: str) -> None:
        seq = ["(start)", *path, end]
        for a, b in zip(seq[:-1], seq[1:]):
            counts[index[a], index[b]] += 1

    for cust, when, channel, kind in ev[["customer_id", "t", "channel", "kind"]].itertuples(index=False):
        if path and (cust != prev_c or when - prev_t > pd.Timedelta(days=30)):
            close("(null)")
            path = []
        if kind == 1:
            if path:
                close("(conversion)")
            path = []
        else:
            path.append(channel)
        prev_c, prev_t = cust, when
    if path:
        close("(null)")
    n = counts.sum(axis=1, keepdims=True)
    est = np.divide(counts, n, out=np.zeros_like(counts), where=n > 0)
    transient = slice(0, len(states) - 2)
    se = np.sqrt(planted * (1 - planted) / np.maximum(n, 1))
    assert (np.abs(est - planted)[transient] <= 4 * se[transient] + 1e-12).all()
    conv = index["(conversion)"]
    assert conversion_probability(est + np.eye(len(states)) * (n == 0), start=0, conversion=conv, null=conv + 1) == \
        pytest.approx(sample.truth["journeys"]["conversion_probability"], abs=0.01)


def test_high_skill_advisors_convert_more_new_group_members_into_speakers(sample):
    t = sample.tables
    members = t["group_members"].merge(t["groups"][["group_id", "kos_id"]], on="group_id")
    spoke7 = (members["first_spoke_at"] - members["joined_at"]) < pd.Timedelta(days=7)
    rate = spoke7.groupby(members["kos_id"]).agg(["mean", "size"])
    rate = rate[rate["size"] >= 20]
    skill = pd.Series(sample.truth["kos_skill"]).reindex(rate.index)
    assert np.corrcoef(rate["mean"], skill)[0, 1] > 0.8


def test_absorbing_chain_algebra_matches_a_hand_worked_example():
    # paths: "a" x2 conversions, "b" x1, "a > b" x1 conversion, "a" x1 null
    # transitions: start->a 4, start->b 1; a->conv 2, a->b 1, a->null 1; b->conv 2
    states = ["(start)", "a", "b", "(conversion)", "(null)"]
    P = np.array([
        [0, 4 / 5, 1 / 5, 0, 0],
        [0, 0, 1 / 4, 2 / 4, 1 / 4],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 1],
    ])
    p = conversion_probability(P, start=0, conversion=3, null=4)
    # P(conv) = 4/5 * (1/2 + 1/4 * 1) + 1/5 * 1 = 0.8
    assert p == pytest.approx(0.8)
    # without a: only start->b->conv = 1/5 -> effect 1 - 0.2/0.8; without b: 4/5 * 1/2 = 0.4 -> 0.5
    assert removal_effects(P, start=0, conversion=3, null=4, channels=[1, 2]) == pytest.approx([0.75, 0.5])
    assert states[3] == "(conversion)"
