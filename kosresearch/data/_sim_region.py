"""Generation of one region of the simulated dataset (see :mod:`kosresearch.data.simulate`).

Times are floats in days since the window start (midnight of the first
Monday); everything is vectorised over customers, orders and events, with
loops only over months or a handful of categories.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import special

from kosresearch.calendar import retail_intensity
from kosresearch.data import _sim_text as text
from kosresearch.data.contract import TABLES, VOCABULARIES

TIERS = ("core", "potential", "mass", "churned")
_TIER_INIT = (0.08, 0.30, 0.62, 0.0)
_TIER_VALUE = np.array([2.0, 1.0, 0.0, -0.5])

_CAC_MEAN = {"paid_ads": 180.0, "kos_content": 25.0, "koc_content": 45.0, "referral": 30.0, "walk_in": 5.0, "other": 60.0}
_CAC_SHAPE = {"paid_ads": 4.0, "kos_content": 2.0, "koc_content": 3.0, "referral": 50.0, "walk_in": 1.0, "other": 2.0}
_CHANNEL_MIX_PRE = {"paid_ads": 0.35, "kos_content": 0.0, "koc_content": 0.0, "referral": 0.15, "walk_in": 0.40, "other": 0.10}
_CHANNEL_MIX_POST = {"paid_ads": 0.25, "kos_content": 0.25, "koc_content": 0.08, "referral": 0.17, "walk_in": 0.20, "other": 0.05}

_CONTENT_MIX = {
    "platform": {"xiaohongshu": 0.35, "douyin": 0.30, "wechat_moments": 0.20, "wechat_channels": 0.15},
    "format": {"short_video": 0.35, "image_text": 0.35, "live": 0.10, "article": 0.20},
    "topic": {"usage_tips": 0.25, "promotion": 0.30, "product_review": 0.20, "lifestyle": 0.15, "behind_the_scenes": 0.10},
}
_IMPRESSION_LOGMEAN = {"xiaohongshu": 7.5, "douyin": 8.0, "wechat_moments": 5.5, "wechat_channels": 6.5}
_CONTENT_TRUTH: dict[str, Any] = {
    "exposure": "impressions",
    "reference": {"format": "image_text", "topic": "promotion", "platform": "wechat_moments"},
    "interactions": {
        "format": {"short_video": 2.5, "live": 1.8, "article": 0.6},
        "topic": {"usage_tips": 2.0, "product_review": 1.5, "lifestyle": 1.2, "behind_the_scenes": 1.1},
        "platform": {"xiaohongshu": 1.6, "douyin": 1.3, "wechat_channels": 0.9},
    },
    "leads": {
        "format": {"short_video": 1.8, "live": 2.5, "article": 0.8},
        "topic": {"usage_tips": 1.3, "product_review": 1.5, "lifestyle": 0.6, "behind_the_scenes": 0.7},
        "platform": {"xiaohongshu": 1.4, "douyin": 0.9, "wechat_channels": 1.2},
    },
    "base_rate": {"interactions": 0.02, "leads": 0.0015},
    "nb_alpha": {"interactions": 0.6, "leads": 0.8},
    "kos_sd": {"interactions": 0.35, "leads": 0.3},
    "interactions_definition": "likes + comments + saves + shares",
    "howto_video_vs_promo_image": 5.0,
}
_FEEDBACK_TENURE_LOGHR = -0.15
_FEEDBACK_BASE_90D = 0.32  # 90-day repurchase probability, not closed, tenure 1 year


@dataclass
class RegionResult:
    tables: dict[str, pa.Table]
    truth: dict[str, Any]
    truth_tiers: pa.Table
    truth_feedback: pa.Table


# --------------------------------------------------------------------------- small helpers

_SHOP_HOURS = np.array([0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 1, 1.5, 2.5, 3, 3.5, 3, 3, 3, 3.2, 3.5, 4, 4.5, 5, 4.5, 3, 1])
_MSG_HOURS = np.array([0.5, 0.2, 0.1, 0.05, 0.05, 0.1, 0.4, 1.2, 2.5, 3, 3, 3.2, 3.5, 3, 2.8, 2.8, 3, 3.2, 3.5, 4, 4.5, 4.5, 3.5, 1.5])


def _tod(rng: np.random.Generator, n: int, hours: np.ndarray) -> np.ndarray:
    """Time of day (fraction of a day) drawn from an hourly profile."""
    h = rng.choice(24, size=n, p=hours / hours.sum())
    return (h + rng.random(n)) / 24.0


def _choice(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    keys = list(mix)
    p = np.array([mix[k] for k in keys], dtype=float)
    return rng.choice(len(keys), size=n, p=p / p.sum())


def _nb(rng: np.random.Generator, mean: np.ndarray, alpha: float) -> np.ndarray:
    """Negative binomial (NB2: var = μ + αμ²) as a gamma-Poisson mixture."""
    lam = rng.gamma(1.0 / alpha, alpha * mean)
    return rng.poisson(lam)


def _business_add(t: np.ndarray, minutes: np.ndarray, open_min: float = 540.0, close_min: float = 1260.0) -> np.ndarray:
    """Wall time reached after ``minutes`` of business time (09:00-21:00 every day) from ``t`` (days)."""
    d0 = np.floor(t)
    tod = (t - d0) * 1440.0
    after = tod >= close_min
    d0 = np.where(after, d0 + 1, d0)
    start = np.where(after, open_min, np.clip(tod, open_min, close_min))
    left_today = close_min - start
    span = close_min - open_min
    same_day = minutes <= left_today
    r = minutes - left_today
    full = np.ceil(np.maximum(r, 1e-9) / span)
    last = r - (full - 1) * span
    other = d0 + full + (open_min + last) / 1440.0
    return np.where(same_day, d0 + (start + minutes) / 1440.0, other)


def _segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner index and rank within owner for a flat array built from ``counts`` per owner."""
    owner = np.repeat(np.arange(len(counts)), counts)
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(owner.size) - offsets[owner]
    return owner, rank


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    s = pc.utf8_lpad(pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), s, "")


def _take_str(values: pa.Array, idx: np.ndarray) -> pa.Array:
    """``values[idx]`` as a dictionary-encoded string array, ``idx < 0`` as null.

    Dictionary encoding makes references to other tables' IDs zero-copy; the
    Parquet files store them dictionary-encoded and read back as plain text.
    """
    idx = np.asarray(idx)
    mask = idx < 0
    indices = pa.array(np.where(mask, 0, idx).astype(np.int32), pa.int32(), mask=mask if mask.any() else None)
    return pa.DictionaryArray.from_arrays(indices, values)


def _bank(strings: tuple[str, ...] | np.ndarray, idx: np.ndarray) -> pa.Array:
    """Strings of a text bank by index (``-1`` = null)."""
    return _take_str(pa.array(list(strings), pa.string()), idx)


def _const(value: str, n: int) -> pa.Array:
    """A column holding ``value`` ``n`` times."""
    return _take_str(pa.array([value], pa.string()), np.zeros(n, np.int32))


# --------------------------------------------------------------------------- the window


class _Window:
    def __init__(self, start: str, weeks: int) -> None:
        self.start = pd.Timestamp(start)
        self.n_days = weeks * 7
        self.weeks = weeks
        first = self.start.replace(day=1)
        edges = pd.date_range(first, self.start + pd.Timedelta(days=self.n_days), freq="MS")
        if edges[-1] < self.start + pd.Timedelta(days=self.n_days):
            edges = edges.append(pd.DatetimeIndex([edges[-1] + pd.offsets.MonthBegin(1)]))
        lo = np.maximum(0, (edges[:-1] - self.start).days.to_numpy())
        hi = np.minimum(self.n_days, (edges[1:] - self.start).days.to_numpy())
        keep = hi > lo
        self.month_lo = lo[keep].astype(float)
        self.month_hi = hi[keep].astype(float)
        self.month_label = np.array([d.strftime("%Y-%m") for d in edges[:-1][keep]])
        self.n_months = len(self.month_lo)
        days = self.start + pd.to_timedelta(np.arange(self.n_days), unit="D")
        self.intensity = retail_intensity(days)
        self.start_us = self.start.value // 1000
        self.epoch_day = (self.start - pd.Timestamp("1970-01-01")).days

    def month_of(self, t: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.month_hi, t, side="right"), 0, self.n_months - 1)

    def ts(self, t: np.ndarray) -> pa.Array:
        us = self.start_us + np.round(np.asarray(t, dtype=float) * 86400.0).astype(np.int64) * 1_000_000
        return pa.array(us, pa.timestamp("us"))

    def ts_nullable(self, t: np.ndarray) -> pa.Array:
        t = np.asarray(t, dtype=float)
        mask = np.isnan(t)
        us = self.start_us + np.round(np.where(mask, 0, t) * 86400.0).astype(np.int64) * 1_000_000
        return pa.array(us, pa.timestamp("us"), mask=mask)

    def date(self, day: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
        d = (self.epoch_day + np.floor(np.asarray(day, dtype=float))).astype(np.int32)
        return pa.array(d, pa.date32(), mask=mask)


_TYPES = {"id": pa.string(), "string": pa.string(), "float": pa.float64(), "int": pa.int64(),
          "timestamp": pa.timestamp("us"), "date": pa.date32()}


def _table(name: str, columns: dict[str, Any]) -> pa.Table:
    """Build a contract table; text columns may stay dictionary-encoded."""
    spec = next(t for t in TABLES if t.name == name)
    arrays, fields = [], []
    for col in spec.columns:
        value = columns[col.name]
        arr = value if isinstance(value, (pa.Array, pa.ChunkedArray)) else pa.array(value)
        if not (pa.types.is_dictionary(arr.type) and col.kind in ("id", "string")):
            arr = arr.cast(_TYPES[col.kind])
        arrays.append(arr)
        fields.append(pa.field(col.name, arr.type, nullable=col.nullable))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


# --------------------------------------------------------------------------- the generator


def _simulate_region(sc, ri: int, region: str, seed: int) -> RegionResult:  # noqa: C901 - a linear recipe
    rng = np.random.default_rng(np.random.SeedSequence([seed, ri]))
    win = _Window(sc.start, sc.weeks)
    n_days = win.n_days
    r_, alpha_, a_, b_ = sc.bgnbd
    gp, gq, gg = sc.gamma_gamma

    # ---- stores -----------------------------------------------------------------
    n_s = sc.stores_per_region
    store_num = np.arange(n_s)
    store_ids = _ids(f"S{ri:02d}", store_num, 3)
    cities = text.CITIES.get(region, text.OTHER_CITIES)
    store_city = np.array(cities)[rng.integers(0, len(cities), n_s)]
    store_size = rng.lognormal(0.0, 0.35, n_s)
    opened_day = -rng.integers(200, 3000, n_s).astype(float)
    non_rollout = [r for r in sc.regions if r not in sc.region_rollout]
    late = np.zeros(n_s, bool)
    if non_rollout and region == non_rollout[-1] and sc.late_opening_stores > 0:
        k = min(sc.late_opening_stores, max(n_s - 2, 0))
        late[n_s - k:] = True
        opened_day[late] = 7 * 29 + rng.integers(0, 7, k)
    cohort = np.full(n_s, -1)
    eligible = np.flatnonzero(~late)
    if region in sc.region_rollout:
        cohort[eligible] = sc.region_rollout[region]
    else:
        n_never = int(round(sc.never_treated_share * len(eligible)))
        cats = [-1] * n_never + [sc.cohort_weeks[i % len(sc.cohort_weeks)] for i in range(len(eligible) - n_never)]
        cohort[eligible] = rng.permutation(np.array(cats))
    treated = cohort > 0
    prog_day = np.where(treated, 7.0 * (cohort - 1), np.inf)

    # ---- KOS ---------------------------------------------------------------------
    n_k_store = 1 + rng.poisson(max(sc.kos_per_store - 1.0, 0.0), n_s)
    kos_store = np.repeat(store_num, n_k_store)
    n_k = kos_store.size
    _, kos_rank = _segments(n_k_store)
    joined_day = np.where(rng.random(n_k) < 0.8, -rng.integers(30, 1100, n_k), rng.integers(0, 7 * 120, n_k)).astype(float)
    joined_day[kos_rank == 0] = -rng.integers(30, 1100, int((kos_rank == 0).sum()))
    joined_day = np.maximum(joined_day, opened_day[kos_store])
    order_k = np.lexsort((joined_day, kos_store))  # KOS sorted by store, then joining
    kos_store, joined_day, kos_rank = kos_store[order_k], joined_day[order_k], kos_rank[order_k]
    kos_ids = _ids(f"K{ri:02d}", np.arange(n_k), 5)
    kos_names = text.person_names(rng, n_k)
    star = rng.random(n_k) < 0.12
    skill = np.where(star, rng.beta(20, 20, n_k), rng.beta(4, 36, n_k))
    resp_median = np.exp(rng.normal(np.log(15.0), 0.7, n_k))
    first_contact_h = np.exp(rng.normal(np.log(8.0), 0.8, n_k))
    even = rng.random(n_k) < 0.3
    u_int = rng.normal(0, _CONTENT_TRUTH["kos_sd"]["interactions"], n_k)
    u_lead = 0.6 * u_int + rng.normal(0, 0.22, n_k)
    post_rate = rng.gamma(2.0, 0.75, n_k)
    sent_mu = rng.normal(0.25, 0.12, n_k)
    closure_prop = rng.beta(3, 2, n_k)
    store_kos_start = np.concatenate(([0], np.cumsum(n_k_store)[:-1]))

    # ---- customers: acquisition ---------------------------------------------------
    n_regions = len(sc.regions)
    n_c = sc.customers // n_regions + (1 if ri < sc.customers % n_regions else 0)
    open_frac = (n_days - np.clip(opened_day, 0, n_days)) / n_days
    w_store = store_size * open_frac
    c_store = rng.choice(n_s, size=n_c, p=w_store / w_store.sum())
    days = np.arange(n_days)
    intensity = win.intensity * (1.0 + 1.5 * np.exp(-days / 140.0))
    cdf = np.cumsum(intensity) / intensity.sum()
    lo_cdf = np.where(opened_day > 0, cdf[np.clip(opened_day.astype(int) - 1, 0, n_days - 1)], 0.0)[c_store]
    u = lo_cdf + rng.random(n_c) * (1.0 - lo_cdf)
    acq_daynum = np.minimum(np.searchsorted(cdf, u), n_days - 1)
    acq_tod = _tod(rng, n_c, _SHOP_HOURS)
    acq = acq_daynum + acq_tod
    order_c = np.argsort(acq, kind="stable")
    c_store, acq, acq_daynum, acq_tod = c_store[order_c], acq[order_c], acq_daynum[order_c], acq_tod[order_c]
    cust_ids = _ids(f"C{ri:02d}", np.arange(n_c), 7)
    acq_month = win.month_of(acq)

    # ---- latent tiers ----------------------------------------------------------------
    P_tier = _tier_matrix(region, rng)
    M = win.n_months
    states = np.full((n_c, M), -1, dtype=np.int8)
    cum = np.cumsum(P_tier, axis=1)
    init = rng.choice(4, size=n_c, p=np.array(_TIER_INIT) / sum(_TIER_INIT))
    for m in range(M):
        start_here = acq_month == m
        states[start_here, m] = init[start_here]
        cont = acq_month < m
        if cont.any():
            prev = states[cont, m - 1]
            uu = rng.random(int(cont.sum()))
            states[cont, m] = (uu[:, None] > cum[prev]).sum(axis=1).clip(0, 3)
    m_idx = np.arange(M)[None, :]
    vals = np.where(states >= 0, _TIER_VALUE[np.clip(states, 0, 3)], np.nan)
    window12 = (m_idx >= acq_month[:, None]) & (m_idx < acq_month[:, None] + 12)
    with np.errstate(invalid="ignore"):
        raw = np.nanmean(np.where(window12, vals, np.nan), axis=1)
    # Rank-matched normal scores of the tier path within each acquisition month:
    # i.i.d. N(0, 1) draws of the cell, sorted, given out in the order of the
    # customers' tier scores. Each customer's score is then exactly N(0, 1) given
    # the acquisition month (exchangeability), so λ below is exactly Gamma(r, α)
    # whatever the cell size, while following the tier path.
    key = np.lexsort((raw + rng.random(n_c) * 1e-6, acq_month))
    draws = rng.standard_normal(n_c)
    zs = np.empty(n_c)
    zs[key] = draws[np.lexsort((draws, acq_month[key]))]
    rho_l, rho_v = sc.copula_rho
    lam = special.gammaincinv(r_, special.ndtr(rho_l * zs + np.sqrt(1 - rho_l**2) * rng.standard_normal(n_c))) / alpha_
    nu = special.gammaincinv(gq, special.ndtr(-rho_v * zs + np.sqrt(1 - rho_v**2) * rng.standard_normal(n_c))) / gg
    p_drop = rng.beta(a_, b_, n_c)
    churn_month = np.where((states == 3).any(axis=1), np.argmax(states == 3, axis=1), M)
    rel_end = np.minimum(np.where(churn_month < M, win.month_lo[np.clip(churn_month, 0, M - 1)], n_days), n_days)
    rel_end = np.maximum(rel_end, acq)

    # ---- acquisition channel, cost, referrers, KOS binding ---------------------------
    post = acq >= prog_day[c_store]
    ch_keys = list(_CAC_MEAN)
    channel = np.where(post, _choice(rng, _CHANNEL_MIX_POST, n_c), _choice(rng, _CHANNEL_MIX_PRE, n_c))
    referrer = np.full(n_c, -1)
    ref_code = ch_keys.index("referral")
    tier_w = np.array([6.0, 2.5, 1.0, 0.0])
    for m in range(M):
        who = np.flatnonzero((channel == ref_code) & (acq_month == m))
        if who.size == 0:
            continue
        cand = np.flatnonzero(acq < win.month_lo[m])
        w = tier_w[np.clip(states[cand, m], 0, 3)] if cand.size else np.zeros(0)
        if cand.size == 0 or w.sum() <= 0:
            channel[who] = ch_keys.index("walk_in")
            continue
        referrer[who] = rng.choice(cand, size=who.size, p=w / w.sum())
    cost = np.zeros(n_c)
    for k, key in enumerate(ch_keys):
        sel = channel == k
        cost[sel] = rng.gamma(_CAC_SHAPE[key], _CAC_MEAN[key] / _CAC_SHAPE[key], int(sel.sum()))
    cost = np.round(cost, 2)
    must_bind = np.isin(channel, [ch_keys.index("kos_content"), ch_keys.index("referral")])
    want_bind = must_bind | (rng.random(n_c) < sc.kos_bound_share)
    # eligible KOS of the customer's store: joined on or before the acquisition day
    c_kos = np.full(n_c, -1)
    for s in range(n_s):
        idx = np.flatnonzero((c_store == s) & want_bind)
        if idx.size == 0:
            continue
        kj = joined_day[store_kos_start[s]: store_kos_start[s] + n_k_store[s]]
        n_el = np.searchsorted(kj, acq[idx], side="right")
        ok = n_el > 0
        pick = np.floor(rng.random(idx.size) * np.maximum(n_el, 1)).astype(int)
        c_kos[idx[ok]] = store_kos_start[s] + pick[ok]
    bound = c_kos >= 0
    giver = bound & (rng.random(n_c) < sc.feedback_share)

    # ---- base orders: BG/NBD repeat purchases + Gamma-Gamma values ----------------
    T_w = (n_days - acq) / 7.0
    N = rng.poisson(lam * T_w)
    Mdrop = rng.geometric(np.clip(p_drop, 1e-12, 1.0))
    n_rep = np.minimum(N, Mdrop)
    owner, rank = _segments(N)
    uu = rng.random(owner.size)
    srt = np.lexsort((uu, owner))
    uu = uu[srt]
    keep = rank < n_rep[owner]
    rep_c = owner[keep]
    rep_t = acq[rep_c] + 7.0 * uu[keep] * T_w[rep_c]
    rep_day = np.floor(rep_t)
    tod = _tod(rng, rep_c.size, _SHOP_HOURS)
    same = rep_day == acq_daynum[rep_c]
    tod = np.where(same & (tod <= acq_tod[rep_c]), acq_tod[rep_c] + rng.random(rep_c.size) * (1 - acq_tod[rep_c]), tod)
    rep_t = np.minimum(rep_day + tod, n_days - 1e-6)
    rep_amt = rng.gamma(gp, 1.0 / nu[rep_c])
    first_amt = rng.gamma(4.0, 650.0 * np.sqrt(win.intensity[acq_daynum]) / 4.0)
    o_c = [np.arange(n_c), rep_c]
    o_t = [acq, rep_t]
    o_amt = [first_amt, rep_amt]
    o_kind = [np.zeros(n_c, np.int8), np.ones(rep_c.size, np.int8)]

    # ---- feedback and the repurchase it is followed by -----------------------------
    fb_c = np.flatnonzero(giver)
    fb_lo = acq[fb_c] + 7.0
    fb_hi = np.minimum(rel_end[fb_c], n_days - 1.0)
    ok = fb_hi > fb_lo
    fb_c, fb_lo, fb_hi = fb_c[ok], fb_lo[ok], fb_hi[ok]
    n_fb = fb_c.size
    fb_t = fb_lo + rng.random(n_fb) * (fb_hi - fb_lo)
    fb_t = np.floor(fb_t) + _tod(rng, n_fb, _MSG_HOURS)
    fb_t = np.clip(fb_t, fb_lo, n_days - 1e-3)
    fb_cat = rng.choice(3, size=n_fb, p=[0.45, 0.30, 0.25])  # service, product, praise
    fb_kos = c_kos[fb_c]
    res_p = np.array([0.92, 0.75, 0.60])[fb_cat]
    res_h = np.exp(rng.normal(np.log(np.array([20.0, 72.0, 6.0])[fb_cat]), 0.7))
    fb_res = np.where(rng.random(n_fb) < res_p, fb_t + res_h / 24.0, np.nan)
    close_p = closure_prop[fb_kos] * np.array([0.85, 0.90, 0.50])[fb_cat]
    closed = rng.random(n_fb) < close_p
    fb_close = np.where(closed, np.fmax(fb_res, fb_t) + rng.uniform(0.5, 7.0, n_fb), np.nan)
    late_close = fb_close >= n_days
    closed &= ~late_close
    fb_close[late_close] = np.nan
    fb_res[fb_res >= n_days] = np.nan
    # drop base repeat orders inside each feedback window, then draw the PH repurchase
    if n_fb:
        win_lo = np.full(n_c, np.inf)
        win_lo[fb_c] = fb_t
        inside = (rep_t > win_lo[rep_c]) & (rep_t <= win_lo[rep_c] + 90.0)
        o_c[1], o_t[1], o_amt[1], o_kind[1] = rep_c[~inside], rep_t[~inside], rep_amt[~inside], o_kind[1][~inside]
        tenure_y = (fb_t - acq[fb_c]) / 365.25
        h0 = -np.log(1.0 - _FEEDBACK_BASE_90D) / 90.0
        rate = h0 * np.exp(_FEEDBACK_TENURE_LOGHR * (tenure_y - 1.0)) * np.where(closed, sc.closure_hazard_ratio, 1.0)
        T_rep = rng.exponential(1.0 / rate)
        hit = (T_rep <= 90.0) & (fb_t + T_rep < n_days)
        o_c.append(fb_c[hit])
        o_t.append(fb_t[hit] + T_rep[hit])
        o_amt.append(rng.gamma(gp, 1.0 / nu[fb_c[hit]]))
        o_kind.append(np.full(int(hit.sum()), 2, np.int8))

    # ---- programme layer: extra sales in treated stores -----------------------------
    from kosresearch.data.simulate import _cohort_multipliers, _ramp

    mult = _cohort_multipliers(sc)
    mu_extra = 450.0
    pool_ok = ~giver
    for s in np.flatnonzero(treated):
        if sc.att_max <= 0:
            break
        g = int(cohort[s])
        w = np.arange(g, sc.weeks + 1)
        tau = sc.att_max * mult[g] * _ramp(sc, w - g)
        k = rng.poisson(tau / mu_extra)
        if k.sum() == 0:
            continue
        wk = np.repeat(w, k)
        t = 7.0 * (wk - 1) + rng.random(wk.size) * 7.0
        t = np.floor(t) + _tod(rng, wk.size, _SHOP_HOURS)
        pool = np.flatnonzero((c_store == s) & pool_ok)
        n_av = np.searchsorted(acq[pool], t, side="left")
        ok = n_av > 0
        pick = pool[np.floor(rng.random(wk.size) * np.maximum(n_av, 1)).astype(int)]
        o_c.append(pick[ok])
        o_t.append(t[ok])
        o_amt.append(rng.gamma(3.0, mu_extra / 3.0, int(ok.sum())))
        o_kind.append(np.full(int(ok.sum()), 3, np.int8))

    # ---- content and strategy changes -------------------------------------------------
    kos_treated = treated[kos_store]
    post_start = np.maximum(prog_day[kos_store], np.maximum(joined_day, 0.0))
    active_w = np.where(kos_treated, np.maximum(n_days - post_start, 0.0) / 7.0, 0.0)
    n_posts = rng.poisson(post_rate * active_w)
    p_kos, _ = _segments(n_posts)
    p_t = post_start[p_kos] + rng.random(p_kos.size) * (n_days - post_start[p_kos])
    p_t = np.minimum(np.floor(p_t) + _tod(rng, p_kos.size, _MSG_HOURS), n_days - 1e-3)
    p_t = np.maximum(p_t, post_start[p_kos])
    srt = np.argsort(p_t, kind="stable")
    p_kos, p_t = p_kos[srt], p_t[srt]
    n_p = p_kos.size
    p_plat = _choice(rng, _CONTENT_MIX["platform"], n_p)
    p_fmt = _choice(rng, _CONTENT_MIX["format"], n_p)
    p_top = _choice(rng, _CONTENT_MIX["topic"], n_p)
    plat_keys = list(_CONTENT_MIX["platform"])
    fmt_keys = list(_CONTENT_MIX["format"])
    top_keys = list(_CONTENT_MIX["topic"])
    imp_mu = np.array([_IMPRESSION_LOGMEAN[k] for k in plat_keys])[p_plat]
    impressions = np.round(np.exp(rng.normal(imp_mu, 0.9))).astype(np.int64) + 20
    strat_kos = kos_treated & (active_w > 20) & (rng.random(n_k) < sc.strategy_share)
    strat_day = np.full(n_k, np.inf)
    sk = np.flatnonzero(strat_kos)
    strat_day[sk] = post_start[sk] + 56 + rng.random(sk.size) * np.maximum(n_days - post_start[sk] - 112, 1.0)
    strat_day[sk] = np.floor(strat_day[sk]) + 10.0 / 24.0
    after = p_t >= strat_day[p_kos]

    def rr(outcome: str) -> np.ndarray:
        tr = _CONTENT_TRUTH[outcome]
        f = np.array([tr["format"].get(k, 1.0) for k in fmt_keys])[p_fmt]
        tp = np.array([tr["topic"].get(k, 1.0) for k in top_keys])[p_top]
        pl = np.array([tr["platform"].get(k, 1.0) for k in plat_keys])[p_plat]
        return f * tp * pl

    mu_int = impressions * _CONTENT_TRUTH["base_rate"]["interactions"] * rr("interactions") * np.exp(u_int[p_kos])
    mu_int = mu_int * np.where(after, sc.strategy_rate_ratio, 1.0)
    interactions = _nb(rng, mu_int, _CONTENT_TRUTH["nb_alpha"]["interactions"])
    split = rng.multinomial(interactions, [0.6, 0.12, 0.18, 0.10]) if n_p else np.zeros((0, 4), np.int64)
    mu_lead = impressions * _CONTENT_TRUTH["base_rate"]["leads"] * rr("leads") * np.exp(u_lead[p_kos])
    leads = _nb(rng, mu_lead, _CONTENT_TRUTH["nb_alpha"]["leads"])
    content_ids = _ids(f"P{ri:02d}", np.arange(n_p), 7)

    # ---- messages -------------------------------------------------------------------------
    msgs = _Messages()
    bc = np.flatnonzero(bound)
    # first contact after acquisition (SLA): KOS writes, the customer may answer
    fc_k = c_kos[bc]
    fc_t = _business_add(acq[bc], rng.exponential(first_contact_h[fc_k] * 60.0))
    ok = fc_t < n_days
    msgs.add(fc_k[ok], bc[ok], fc_t[ok], sender=0, text=rng.integers(0, len(text.KOS_OUTREACH), int(ok.sum())), bank="outreach")
    ans = ok & (rng.random(bc.size) < 0.75)
    ans_t = fc_t + rng.exponential(1.0 / 24.0, bc.size)
    ans &= ans_t < n_days
    # the answer to the first contact is an acknowledgement that needs no reply
    msgs.add(fc_k[ans], bc[ans], ans_t[ans], sender=1, text=rng.integers(0, len(text.NO_REPLY), int(ans.sum())), bank="noreply",
             sentiment=_sentiment(rng, sent_mu[fc_k[ans]], states[bc[ans], win.month_of(ans_t[ans])]))
    # customer-initiated conversations, by latent tier and month
    cm_c, cm_m = np.nonzero((states[bc] >= 0) & (states[bc] < 3))
    cm_c = bc[cm_c]
    lo = np.maximum(win.month_lo[cm_m], acq[cm_c])
    hi = win.month_hi[cm_m]
    frac = np.clip((hi - lo) / (win.month_hi[cm_m] - win.month_lo[cm_m]), 0, 1)
    tier_here = states[cm_c, cm_m]
    n_conv = rng.poisson(np.array([1.0, 0.45, 0.12])[tier_here] * frac)
    own, _ = _segments(n_conv)
    cv_c = cm_c[own]
    cv_t = np.floor(lo[own] + rng.random(own.size) * (hi[own] - lo[own])) + _tod(rng, own.size, _MSG_HOURS)
    cv_t = np.clip(cv_t, lo[own], hi[own] - 1e-4)
    cv_k = c_kos[cv_c]
    cv_tier = tier_here[own]
    noreply = rng.random(own.size) < 0.15
    msgs.add(cv_k[noreply], cv_c[noreply], cv_t[noreply], sender=1, text=rng.integers(0, len(text.NO_REPLY), int(noreply.sum())),
             bank="noreply", sentiment=np.round(rng.uniform(0.3, 0.9, int(noreply.sum())), 2))
    q = ~noreply
    msgs.add(cv_k[q], cv_c[q], cv_t[q], sender=1, text=rng.integers(0, len(text.CUSTOMER_QUESTIONS), int(q.sum())), bank="question",
             sentiment=_sentiment(rng, sent_mu[cv_k[q]], cv_tier[q]))
    rep_min = np.exp(rng.normal(np.log(resp_median[cv_k[q]]), 0.9))
    rt = _business_add(cv_t[q], rep_min)
    okr = rt < n_days
    msgs.add(cv_k[q][okr], cv_c[q][okr], rt[okr], sender=0, text=rng.integers(0, len(text.KOS_REPLIES), int(okr.sum())), bank="reply")
    fol = okr & (rng.random(okr.size) < 0.4)
    fol_t = rt + rng.exponential(10.0 / 1440.0, rt.size)
    fol &= fol_t < n_days
    msgs.add(cv_k[q][fol], cv_c[q][fol], fol_t[fol], sender=1, text=rng.integers(0, len(text.NO_REPLY), int(fol.sum())),
             bank="noreply", sentiment=np.round(rng.uniform(0.3, 0.9, int(fol.sum())), 2))
    # KOS outreach: focused advisors weight by tier, even ones do not
    w_focus = np.array([1.2, 0.6, 0.12])
    w_even = np.array([0.35, 0.35, 0.35])
    k_of = c_kos[cm_c]
    rate_out = np.where(even[k_of], w_even[tier_here], w_focus[tier_here]) * frac
    n_out = rng.poisson(rate_out)
    own, _ = _segments(n_out)
    ot_c = cm_c[own]
    ot_t = np.floor(lo[own] + rng.random(own.size) * (hi[own] - lo[own])) + rng.uniform(9.5 / 24, 20.5 / 24, own.size)
    ot_t = np.clip(ot_t, lo[own], hi[own] - 1e-4)
    msgs.add(c_kos[ot_c], ot_c, ot_t, sender=0, text=rng.integers(0, len(text.KOS_OUTREACH), own.size), bank="outreach")
    rp = rng.random(own.size) < np.array([0.4, 0.25, 0.1])[tier_here[own]]
    rp_t = ot_t + rng.exponential(2.0 / 24.0, own.size)
    rp &= rp_t < n_days
    msgs.add(c_kos[ot_c[rp]], ot_c[rp], rp_t[rp], sender=1, text=rng.integers(0, len(text.NO_REPLY), int(rp.sum())), bank="noreply",
             sentiment=_sentiment(rng, sent_mu[c_kos[ot_c[rp]]], tier_here[own][rp]))

    # ---- groups, members, group messages ------------------------------------------------
    n_groups_k = np.where(kos_treated & (post_start < n_days - 30), 1 + (rng.random(n_k) < 0.3), 0)
    g_kos, g_rank = _segments(n_groups_k)
    g_created = post_start[g_kos] + rng.uniform(0, 21, g_kos.size) + rng.uniform(10 / 24, 20 / 24, g_kos.size)
    n_g = g_kos.size
    group_ids = _ids(f"G{ri:02d}", np.arange(n_g), 5)
    first_group = np.full(n_k, -1)
    first_group[g_kos[g_rank == 0]] = np.flatnonzero(g_rank == 0)
    has_two = np.zeros(n_k, bool)
    has_two[g_kos[g_rank == 1]] = True
    mem_c = bc[(first_group[c_kos[bc]] >= 0) & (rng.random(bc.size) < 0.55)]
    mk = c_kos[mem_c]
    mem_g = first_group[mk] + (has_two[mk] & (rng.random(mem_c.size) < 0.5)).astype(int)
    mem_join = np.maximum(g_created[mem_g], acq[mem_c]) + rng.exponential(20.0, mem_c.size)
    okm = mem_join < n_days
    mem_c, mem_g, mem_join, mk = mem_c[okm], mem_g[okm], mem_join[okm], mk[okm]
    r_sp = rng.random(mem_c.size)
    speak_t = np.where(
        r_sp < skill[mk], mem_join + rng.random(mem_c.size) * 6.99,
        np.where(rng.random(mem_c.size) < 0.25, mem_join + 7.0 + rng.exponential(30.0, mem_c.size), np.nan),
    )
    speak_t[speak_t >= n_days] = np.nan
    spoke = ~np.isnan(speak_t)
    msgs.add(mk[spoke], mem_c[spoke], speak_t[spoke], sender=1, text=rng.integers(0, len(text.CUSTOMER_GROUP), int(spoke.sum())),
             bank="group_customer", group=mem_g[spoke],
             sentiment=_sentiment(rng, sent_mu[mk[spoke]], states[mem_c[spoke], win.month_of(speak_t[spoke])]))
    # later group messages of members who have spoken
    sp_idx = np.flatnonzero(spoke)
    gm_rows, gm_m = np.nonzero(states[mem_c[sp_idx]][:, :] >= 0)
    gm_i = sp_idx[gm_rows]
    glo = np.maximum(win.month_lo[gm_m], speak_t[gm_i] + 1e-3)
    ghi = win.month_hi[gm_m]
    valid = (ghi > glo) & (states[mem_c[gm_i], gm_m] < 3)
    gm_i, gm_m, glo, ghi = gm_i[valid], gm_m[valid], glo[valid], ghi[valid]
    n_gm = rng.poisson(np.array([2.0, 0.8, 0.25])[states[mem_c[gm_i], gm_m]] * (ghi - glo) / 30.0)
    own, _ = _segments(n_gm)
    gt = glo[own] + rng.random(own.size) * (ghi[own] - glo[own])
    gi = gm_i[own]
    msgs.add(mk[gi], mem_c[gi], gt, sender=1, text=rng.integers(0, len(text.CUSTOMER_GROUP), own.size), bank="group_customer",
             group=mem_g[gi], sentiment=_sentiment(rng, sent_mu[mk[gi]], states[mem_c[gi], gm_m[own]]))
    # KOS posts in their groups
    n_gp = rng.poisson(1.5 * np.maximum(n_days - g_created, 0) / 7.0)
    own, _ = _segments(n_gp)
    gp_t = g_created[own] + rng.random(own.size) * (n_days - g_created[own])
    gp_t = np.floor(gp_t) + rng.uniform(9 / 24, 21 / 24, own.size)
    gp_t = np.clip(gp_t, g_created[own], n_days - 1e-4)
    msgs.add(g_kos[own], np.full(own.size, -1), gp_t, sender=0, text=rng.integers(0, len(text.GROUP_POSTS), own.size), bank="group_post",
             group=own)

    # ---- promotion invitations (selection on observables) and their extra spend ------------
    orders_c = np.concatenate(o_c)
    orders_t = np.concatenate(o_t)
    orders_amt = np.concatenate(o_amt)
    inv_c = np.zeros(0, int)
    inv_t = np.zeros(0)
    if sc.promotion_effect is not None:
        om = win.month_of(orders_t)
        spend_cm = np.bincount(orders_c * M + om, weights=orders_amt, minlength=n_c * M).reshape(n_c, M)
        cnt_cm = np.bincount(orders_c * M + om, minlength=n_c * M).reshape(n_c, M)
        mc, mt = msgs.customer_private()
        msg_cm = np.bincount(mc * M + win.month_of(mt), minlength=n_c * M).reshape(n_c, M)
        cs = np.cumsum(np.pad(spend_cm, ((0, 0), (1, 0))), axis=1)
        cc = np.cumsum(np.pad(cnt_cm, ((0, 0), (1, 0))), axis=1)
        elig_base = bound
        rows_c, rows_m = np.nonzero(elig_base[:, None] & (np.arange(M)[None, :] >= acq_month[:, None] + 3))
        s3 = cs[rows_c, rows_m] - cs[rows_c, rows_m - 3]
        n3 = cc[rows_c, rows_m] - cc[rows_c, rows_m - 3]
        m1 = msg_cm[rows_c, rows_m - 1]
        lin = 0.9 * np.log1p(s3 / 100.0) + 0.5 * np.log1p(m1) + 0.3 * (n3 >= 2)
        beta0 = _calibrate_intercept(lin, target=0.006)
        p_inv = 1.0 / (1.0 + np.exp(-(beta0 + lin)))
        draw = rng.random(p_inv.size) < p_inv
        invited = np.zeros(n_c, bool)
        chosen = []
        for m in range(M):
            sel = np.flatnonzero(draw & (rows_m == m))
            sel = sel[~invited[rows_c[sel]]]
            invited[rows_c[sel]] = True
            chosen.append(sel)
        chosen = np.concatenate(chosen) if chosen else np.zeros(0, int)
        inv_c = rows_c[chosen]
        im = rows_m[chosen]
        inv_t = np.floor(win.month_lo[im] + rng.random(inv_c.size) * (win.month_hi[im] - win.month_lo[im])) + rng.uniform(10 / 24, 20 / 24, inv_c.size)
        inv_t = np.clip(inv_t, win.month_lo[im], win.month_hi[im] - 1e-3)
        if sc.promotion_effect > 0 and inv_c.size:
            mu_p = 400.0
            k = rng.poisson(sc.promotion_effect / mu_p, inv_c.size)
            own, _ = _segments(k)
            pt = inv_t[own] + rng.random(own.size) * 90.0
            okp = pt < n_days
            o_c.append(inv_c[own][okp])
            o_t.append(pt[okp])
            o_amt.append(rng.gamma(3.0, mu_p / 3.0, int(okp.sum())))
            o_kind.append(np.full(int(okp.sum()), 4, np.int8))
    # demotions recorded by advisors
    dm_c, dm_m = np.nonzero((states[:, 1:] > states[:, :-1]) & (states[:, :-1] >= 0) & (states[:, 1:] <= 2))
    dm_m = dm_m + 1
    keepd = bound[dm_c] & (rng.random(dm_c.size) < 0.35)
    dm_c, dm_m = dm_c[keepd], dm_m[keepd]
    dm_t = win.month_lo[dm_m] + rng.random(dm_c.size) * (win.month_hi[dm_m] - win.month_lo[dm_m])
    dm_t = np.clip(np.floor(dm_t) + 0.5, win.month_lo[dm_m], win.month_hi[dm_m] - 1e-3)

    # ---- all orders, sorted ------------------------------------------------------------
    orders_c = np.concatenate(o_c)
    orders_t = np.concatenate(o_t)
    orders_amt = np.round(np.concatenate(o_amt), 2)
    orders_kind = np.concatenate(o_kind)
    srt = np.lexsort((orders_kind, orders_t, orders_c))
    orders_c, orders_t, orders_amt, orders_kind = orders_c[srt], orders_t[srt], orders_amt[srt], orders_kind[srt]
    n_o = orders_c.size
    o_kos = c_kos[orders_c].copy()
    prog_orders = orders_kind == 3
    if prog_orders.any():
        unb = prog_orders & (o_kos < 0)
        # an advisor of the store who had joined by the order's time (advisors are sorted
        # by joining within their store, and the first joined before the window)
        idx = np.flatnonzero(unb)
        s_of = c_store[orders_c[idx]]
        n_joined = np.ones(idx.size, int)
        for s in np.unique(s_of):
            at = s_of == s
            kj = joined_day[store_kos_start[s]: store_kos_start[s] + n_k_store[s]]
            n_joined[at] = np.maximum(np.searchsorted(kj, orders_t[idx[at]], side="right"), 1)
        o_kos[idx] = store_kos_start[s_of] + np.floor(rng.random(idx.size) * n_joined).astype(int)

    # ---- journeys -------------------------------------------------------------------------
    prev_t = np.where(np.r_[False, orders_c[1:] == orders_c[:-1]], np.r_[-np.inf, orders_t[:-1]], -np.inf)
    conv_orders = np.flatnonzero(
        (orders_kind == 0)
        | ((orders_kind == 1) & (orders_t - prev_t > sc.journey_gap_days) & (rng.random(n_o) < sc.journey_conversion_share))
    )
    tp = _journeys(rng, sc, win, conv_orders, orders_c, orders_t, acq, states)

    # ---- promo codes and their use -------------------------------------------------------------
    kos_has_code = kos_treated
    link_post = np.flatnonzero(np.isin(p_plat, [plat_keys.index("xiaohongshu"), plat_keys.index("douyin")]) & (rng.random(n_p) < 0.3))
    n_ref = np.bincount(referrer[referrer >= 0], minlength=n_c)
    koc = np.flatnonzero(n_ref >= 2)
    promo = np.full(n_o, -1)  # index into the promo table built below
    code_kos = np.flatnonzero(kos_has_code)
    kos_code_idx = np.full(n_k, -1)
    kos_code_idx[code_kos] = np.arange(code_kos.size)
    link_base = code_kos.size
    post_link_idx = np.full(n_p, -1)
    post_link_idx[link_post] = link_base + np.arange(link_post.size)
    koc_base = link_base + link_post.size
    use_kos = (o_kos >= 0) & (kos_code_idx[np.clip(o_kos, 0, None)] >= 0) & (
        (prog_orders & (rng.random(n_o) < 0.4))
        | ((orders_kind == 1) & (orders_t >= prog_day[c_store[orders_c]]) & (rng.random(n_o) < 0.08))
    )
    promo[use_kos] = kos_code_idx[o_kos[use_kos]]
    # journeys that touched a KOC post or a post with an exclusive link
    if tp["n"]:
        conv_tp = tp["order"] >= 0
        koc_touch = conv_tp & (tp["channel"] == JOURNEY_INDEX["koc_post"])
        if koc.size:
            o_koc = np.unique(tp["order"][koc_touch])
            o_koc = o_koc[(promo[o_koc] < 0) & (rng.random(o_koc.size) < 0.5)]
            promo[o_koc] = koc_base + rng.integers(0, koc.size, o_koc.size)
    # touchpoint KOS and content
    tp_kos = np.full(tp["n"], -1)
    tp_content = np.full(tp["n"], -1)
    if tp["n"]:
        cust = tp["customer"]
        kos_channels = np.isin(tp["channel"], [JOURNEY_INDEX[c] for c in ("wechat_private", "wechat_group", "live_stream", "store_visit")])
        own_k = c_kos[cust]
        fallback = store_kos_start[c_store[cust]]
        tp_kos = np.where(kos_channels, np.where(own_k >= 0, own_k, fallback), -1)
        for plat in ("xiaohongshu", "douyin"):
            sel = np.flatnonzero(tp["channel"] == JOURNEY_INDEX[plat])
            posts = np.flatnonzero(p_plat == plat_keys.index(plat))
            if sel.size == 0 or posts.size == 0:
                continue
            pts = p_t[posts]
            hi_i = np.searchsorted(pts, tp["t"][sel], side="left")
            lo_i = np.searchsorted(pts, tp["t"][sel] - 60.0, side="left")
            has = hi_i > lo_i
            pick = lo_i + np.floor(rng.random(sel.size) * np.maximum(hi_i - lo_i, 1)).astype(int)
            tp_content[sel[has]] = posts[np.minimum(pick[has], posts.size - 1)]
        # exclusive links: orders whose journey touched a linked post
        linked = (tp_content >= 0) & (tp["order"] >= 0)
        linked &= post_link_idx[np.clip(tp_content, 0, None)] >= 0
        lo_ord = tp["order"][linked]
        lk = post_link_idx[tp_content[linked]]
        take = (promo[lo_ord] < 0) & (rng.random(lo_ord.size) < 0.5)
        promo[lo_ord[take]] = lk[take]

    # ---- assemble tables -----------------------------------------------------------------
    R = lambda n: _const(region, n)  # noqa: E731
    tables: dict[str, pa.Table] = {}
    tables["stores"] = _table("stores", {
        "store_id": store_ids, "region": R(n_s), "city": pa.array(store_city.tolist(), pa.string()),
        "opened_at": win.date(opened_day), "program_start": win.date(np.where(treated, prog_day, 0.0), mask=~treated),
    })
    tables["kos"] = _table("kos", {
        "kos_id": kos_ids, "store_id": _take_str(store_ids, kos_store), "region": R(n_k),
        "joined_at": win.date(joined_day), "name": pa.array(kos_names.tolist(), pa.string()),
    })
    tables["customers"] = _table("customers", {
        "customer_id": cust_ids, "region": R(n_c), "store_id": _take_str(store_ids, c_store),
        "kos_id": _take_str(kos_ids, c_kos), "acquired_at": win.ts(acq),
        "acquisition_channel": _bank(tuple(ch_keys), channel), "acquisition_cost": pa.array(cost),
        "referrer_id": _take_str(cust_ids, referrer),
    })
    # promo code table
    pc_codes = np.concatenate([
        np.array(["KS" + s[1:] for s in kos_ids.take(pa.array(code_kos)).to_pylist()], dtype=object),
        np.array(["LK" + s[1:] for s in content_ids.take(pa.array(link_post)).to_pylist()], dtype=object),
        np.array(["KC" + s[1:] for s in cust_ids.take(pa.array(koc)).to_pylist()], dtype=object),
    ]).astype(str)
    pc_owner_type = np.array(["kos"] * (code_kos.size + link_post.size) + ["koc"] * koc.size)
    pc_owner = pa.concat_arrays([
        kos_ids.take(pa.array(code_kos)), kos_ids.take(pa.array(p_kos[link_post])), cust_ids.take(pa.array(koc)),
    ]) if pc_codes.size else pa.array([], pa.string())
    pc_content = np.concatenate([np.full(code_kos.size, -1), link_post, np.full(koc.size, -1)]).astype(int)
    n_pc = pc_codes.size
    tables["promo_codes"] = _table("promo_codes", {
        "promo_code": pa.array(pc_codes.tolist(), pa.string()), "region": R(n_pc),
        "owner_type": pa.array(pc_owner_type.tolist(), pa.string()), "owner_id": pc_owner,
        "content_id": _take_str(content_ids, pc_content),
    })
    codes_arr = pa.array(pc_codes.tolist(), pa.string())
    ord_srt = np.argsort(orders_t, kind="stable")
    order_num = np.empty(n_o, np.int64)
    order_num[ord_srt] = np.arange(n_o)
    tables["orders"] = _table("orders", {
        "order_id": _ids(f"O{ri:02d}", order_num, 9), "customer_id": _take_str(cust_ids, orders_c), "region": R(n_o),
        "store_id": _take_str(store_ids, c_store[orders_c]), "kos_id": _take_str(kos_ids, o_kos),
        "ordered_at": win.ts(orders_t), "amount": pa.array(orders_amt), "promo_code": _take_str(codes_arr, promo),
    })
    tables["touchpoints"] = _table("touchpoints", {
        "touchpoint_id": _ids(f"T{ri:02d}", np.arange(tp["n"]), 9), "customer_id": _take_str(cust_ids, tp["customer"]),
        "region": R(tp["n"]), "ts": win.ts(tp["t"]), "channel": _bank(JOURNEY_CHANNELS_T, tp["channel"]),
        "kos_id": _take_str(kos_ids, tp_kos), "content_id": _take_str(content_ids, tp_content),
    })
    tables["content"] = _table("content", {
        "content_id": content_ids, "kos_id": _take_str(kos_ids, p_kos), "region": R(n_p), "posted_at": win.ts(p_t),
        "platform": _bank(tuple(plat_keys), p_plat), "format": _bank(tuple(fmt_keys), p_fmt), "topic": _bank(tuple(top_keys), p_top),
        "impressions": pa.array(impressions), "likes": pa.array(split[:, 0]), "comments": pa.array(split[:, 1]),
        "saves": pa.array(split[:, 2]), "shares": pa.array(split[:, 3]), "leads": pa.array(leads.astype(np.int64)),
    })
    tables["messages"] = msgs.table(ri, region, win, kos_ids, cust_ids, group_ids)
    tables["groups"] = _table("groups", {
        "group_id": group_ids, "kos_id": _take_str(kos_ids, g_kos), "region": R(n_g), "created_at": win.ts(g_created),
    })
    tables["group_members"] = _table("group_members", {
        "group_id": _take_str(group_ids, mem_g), "customer_id": _take_str(cust_ids, mem_c), "region": R(mem_c.size),
        "joined_at": win.ts(mem_join), "first_spoke_at": win.ts_nullable(speak_t),
    })
    fb_texts, fb_true = _feedback_texts(rng, fb_cat)
    tagged = rng.random(n_fb) < 0.65
    cat_names = ("service", "product", "praise")
    fb_ids = _ids(f"F{ri:02d}", np.arange(n_fb), 6)
    tables["feedback"] = _table("feedback", {
        "feedback_id": fb_ids, "customer_id": _take_str(cust_ids, fb_c), "kos_id": _take_str(kos_ids, fb_kos),
        "region": R(n_fb), "created_at": win.ts(fb_t), "text": pa.array(fb_texts, pa.string()),
        "category": _bank(cat_names, np.where(tagged, fb_cat, -1)), "resolved_at": win.ts_nullable(fb_res),
        "loop_closed_at": win.ts_nullable(fb_close),
    })
    te_c = np.concatenate([inv_c, dm_c])
    te_t = np.concatenate([inv_t, dm_t])
    te_e = np.concatenate([np.zeros(inv_c.size, int), np.ones(dm_c.size, int)])
    tables["tier_events"] = _table("tier_events", {
        "customer_id": _take_str(cust_ids, te_c), "kos_id": _take_str(kos_ids, c_kos[te_c]), "region": R(te_c.size),
        "ts": win.ts(te_t), "event": _bank(("promotion_invite", "demotion"), te_e),
    })
    descs = np.array(text.STRATEGY_CHANGES)[rng.integers(0, len(text.STRATEGY_CHANGES), sk.size)]
    tables["strategy_changes"] = _table("strategy_changes", {
        "change_id": _ids(f"Z{ri:02d}", np.arange(sk.size), 4), "region": R(sk.size), "kos_id": _take_str(kos_ids, sk),
        "store_id": _take_str(store_ids, kos_store[sk]), "effective_at": win.ts(strat_day[sk]),
        "description": pa.array(descs.tolist(), pa.string()),
    })

    # ---- truth of this region ----------------------------------------------------------------
    tt_c, tt_m = np.nonzero(states >= 0)
    truth_tiers = pa.table({
        "customer_id": _take_str(cust_ids, tt_c),
        "period": _bank(tuple(win.month_label), tt_m),
        "tier": _bank(TIERS, states[tt_c, tt_m].astype(int)),
    })
    truth_feedback = pa.table({"feedback_id": fb_ids, "category": _bank(cat_names, fb_cat), "text_has_personal_data": pa.array(fb_true)})
    kid = kos_ids.to_pylist()
    sids = store_ids.to_pylist()
    truth = {
        "region": region,
        "store_cohort": {sids[s]: (int(cohort[s]) if treated[s] else None) for s in range(n_s)},
        "late_opening_stores": [sids[s] for s in np.flatnonzero(late)],
        "tier_matrix": P_tier.round(12).tolist(),
        "kos_skill": {kid[k]: float(skill[k]) for k in range(n_k)},
        "kos_response": {kid[k]: float(resp_median[k]) for k in range(n_k)},
        "kos_first_contact": {kid[k]: float(first_contact_h[k]) for k in range(n_k)},
        "kos_even": [kid[k] for k in np.flatnonzero(even)],
        "n_invites": int(inv_c.size),
        "n_feedback": int(n_fb),
    }
    return RegionResult(tables, truth, truth_tiers, truth_feedback)


JOURNEY_CHANNELS_T = tuple(VOCABULARIES["touchpoint_channel"])
JOURNEY_INDEX = {c: i for i, c in enumerate(JOURNEY_CHANNELS_T)}


def _tier_matrix(region: str, rng: np.random.Generator) -> np.ndarray:
    from kosresearch.data.simulate import _BASE_TIER_MATRIX, _REGION_TIER_MATRICES

    if region in _REGION_TIER_MATRICES:
        P = np.array(_REGION_TIER_MATRICES[region], dtype=float)
    else:
        P = _BASE_TIER_MATRIX.copy()
        for i in range(3):
            P[i] = rng.dirichlet(_BASE_TIER_MATRIX[i] * 400 + 1e-9)
        P[3] = [0, 0, 0, 1]
    return P / P.sum(axis=1, keepdims=True)


def _sentiment(rng: np.random.Generator, mu: np.ndarray, tier: np.ndarray) -> np.ndarray:
    shift = np.array([0.15, 0.05, -0.05, -0.2])[np.clip(tier, 0, 3)]
    return np.round(np.clip(rng.normal(mu + shift, 0.3), -1, 1), 2)


def _calibrate_intercept(lin: np.ndarray, *, target: float) -> float:
    """Intercept that makes the mean logistic probability equal ``target``."""
    if lin.size == 0:
        return 0.0
    lo, hi = -30.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(mid + lin)))) > target:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def _feedback_texts(rng: np.random.Generator, cat: np.ndarray) -> tuple[list[str], np.ndarray]:
    names = ("service", "product", "praise")
    out = []
    personal = rng.random(cat.size) < 0.04
    for i, c in enumerate(cat):
        bank = text.FEEDBACK[names[c]]
        s = bank[rng.integers(0, len(bank))]
        if personal[i]:
            if rng.random() < 0.7:
                s += f"，我的电话{text.phone_number(rng)}"
            else:
                digits = "".join(map(str, rng.integers(0, 10, 17)))
                s += f"，身份证号{digits}{'X' if rng.random() < 0.1 else rng.integers(0, 10)}"
        out.append(s)
    return out, personal


class _Messages:
    """Accumulates message columns from several generators, then builds the table."""

    _BANKS = {
        "question": text.CUSTOMER_QUESTIONS,
        "noreply": text.NO_REPLY,
        "reply": text.KOS_REPLIES,
        "outreach": text.KOS_OUTREACH,
        "group_post": text.GROUP_POSTS,
        "group_customer": text.CUSTOMER_GROUP,
    }

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []
        names = list(self._BANKS)
        self.offset = {}
        acc = 0
        self.all_texts: list[str] = []
        for n in names:
            self.offset[n] = acc
            acc += len(self._BANKS[n])
            self.all_texts += list(self._BANKS[n])

    def add(self, kos, customer, t, *, sender: int, text: np.ndarray, bank: str, group=None, sentiment=None) -> None:
        n = len(t)
        if n == 0:
            return
        self.parts.append({
            "kos": np.asarray(kos), "customer": np.asarray(customer), "t": np.asarray(t, float),
            "sender": np.full(n, sender, np.int8), "text": np.asarray(text) + self.offset[bank],
            "group": np.full(n, -1) if group is None else np.asarray(group),
            "sentiment": np.full(n, np.nan) if sentiment is None else np.asarray(sentiment, float),
        })

    def _cat(self, key: str) -> np.ndarray:
        return np.concatenate([p[key] for p in self.parts]) if self.parts else np.zeros(0)

    def customer_private(self) -> tuple[np.ndarray, np.ndarray]:
        c, g, s, t = self._cat("customer"), self._cat("group"), self._cat("sender"), self._cat("t")
        sel = (s == 1) & (g < 0) & (c >= 0)
        return c[sel].astype(int), t[sel]

    def table(self, ri: int, region: str, win: _Window, kos_ids, cust_ids, group_ids) -> pa.Table:
        t = self._cat("t")
        srt = np.argsort(t, kind="stable")
        kos = self._cat("kos").astype(int)[srt]
        cust = self._cat("customer").astype(int)[srt]
        group = self._cat("group").astype(int)[srt]
        sender = self._cat("sender").astype(int)[srt]
        txt = self._cat("text").astype(int)[srt]
        sent = self._cat("sentiment")[srt]
        t = t[srt]
        n = t.size
        return _table("messages", {
            "message_id": _ids(f"X{ri:02d}", np.arange(n), 9), "region": _const(region, n),
            "kos_id": _take_str(kos_ids, kos), "customer_id": _take_str(cust_ids, cust), "ts": win.ts(t),
            "channel": _bank(("private", "group"), (group >= 0).astype(int)), "group_id": _take_str(group_ids, group),
            "sender": _bank(("kos", "customer"), sender),
            "sentiment": pa.array(sent, pa.float64(), mask=np.isnan(sent)),
            "text": _bank(tuple(self.all_texts), txt),
        })


def _journeys(rng, sc, win: _Window, conv_orders, orders_c, orders_t, acq, states) -> dict[str, np.ndarray]:
    """Touchpoint walks of the planted channel chain, attached to orders (conversions) or quiet slots (nulls)."""
    from kosresearch.data.simulate import planted_channel_matrix

    names, P = planted_channel_matrix()
    n_ch = len(JOURNEY_CHANNELS_T)
    conv_state, null_state = n_ch + 1, n_ch + 2
    need = conv_orders.size
    empty = {"n": 0, "customer": np.zeros(0, int), "t": np.zeros(0), "channel": np.zeros(0, int), "order": np.zeros(0, int)}
    if need == 0:
        return empty
    cum = np.cumsum(P, axis=1)
    walks_ch, walks_len, walks_end = [], [], []
    got = 0
    while got < need:
        batch = int((need - got) / 0.35 * 1.2) + 200
        state = np.zeros(batch, int)
        steps = np.zeros((batch, 60), np.int16) - 1
        length = np.zeros(batch, int)
        alive = np.ones(batch, bool)
        for s in range(60):
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                break
            nxt = (rng.random(idx.size)[:, None] > cum[state[idx]]).sum(axis=1)
            nxt = np.minimum(nxt, P.shape[0] - 1)
            is_ch = (nxt >= 1) & (nxt <= n_ch)
            steps[idx[is_ch], s] = nxt[is_ch] - 1
            length[idx[is_ch]] += 1
            state[idx] = nxt
            alive[idx[~is_ch]] = False
        end = state
        conv = end == conv_state
        cpos = np.flatnonzero(conv)
        if got + cpos.size >= need:
            cut = cpos[need - got - 1] + 1
            steps, length, end = steps[:cut], length[:cut], end[:cut]
            got = need
        else:
            got += cpos.size
        walks_ch.append(steps)
        walks_len.append(length)
        walks_end.append(end)
    steps = np.concatenate(walks_ch)
    length = np.concatenate(walks_len)
    end = np.concatenate(walks_end)
    is_conv = end == conv_state
    conv_w = np.flatnonzero(is_conv)
    null_w = np.flatnonzero(end == null_state)
    # conversions: each converting walk ends shortly before its order
    perm = rng.permutation(need)
    w_order = np.full(len(end), -1)
    w_order[conv_w] = conv_orders[perm]
    anchor = np.full(len(end), np.nan)
    w_cust = np.full(len(end), -1)
    anchor[conv_w] = orders_t[w_order[conv_w]]
    w_cust[conv_w] = orders_c[w_order[conv_w]]
    # nulls: quiet 30-day slots, separated from every order by the gap
    gap = sc.journey_gap_days
    slot_len = 30.0
    n_days = win.n_days
    first = np.r_[True, orders_c[1:] != orders_c[:-1]]
    last = np.r_[orders_c[1:] != orders_c[:-1], True]
    # pre-acquisition intervals, between-order intervals, after-last intervals
    pre_c = orders_c[first]
    L = [np.zeros(pre_c.size)]
    U = [orders_t[first] - gap - slot_len]
    C = [pre_c]
    mid = ~last
    L.append(orders_t[mid] + gap)
    U.append(orders_t[np.flatnonzero(mid) + 1] - gap - slot_len)
    C.append(orders_c[mid])
    L.append(orders_t[last] + gap)
    U.append(np.full(int(last.sum()), n_days - gap))
    C.append(orders_c[last])
    L, U, C = np.concatenate(L), np.concatenate(U), np.concatenate(C)
    room = U - L - slot_len
    ok = room >= 0
    L, U, C = L[ok], U[ok], C[ok]
    cap = np.floor((U - L - slot_len) / (slot_len + gap)).astype(int) + 1
    own, rank = _segments(cap)
    s_start = L[own] + rank * (slot_len + gap)
    s_cust = C[own]
    if null_w.size > s_start.size:
        raise ValueError(f"the window has room for {s_start.size} null journeys but {null_w.size} are needed; lengthen the window")
    tier = states[s_cust, win.month_of(s_start)]
    w = np.array([3.0, 2.0, 1.0, 0.3])[np.clip(tier, 0, 3)]
    key = np.log(w) + rng.gumbel(size=w.size)
    pick = np.argpartition(-key, null_w.size - 1)[: null_w.size] if null_w.size else np.zeros(0, int)
    pick = rng.permutation(pick)
    w_cust[null_w] = s_cust[pick]
    slot0 = s_start[pick]
    # touch times inside each walk
    own, rank = _segments(length)
    n = own.size
    span = rng.uniform(1.0, 26.0, len(end)) * (length > 1)
    offs = rng.random(n)
    offs[rank == 0] = 0.0
    offs[rank == length[own] - 1] = 1.0
    o2 = np.lexsort((offs, own))
    offs = offs[o2]
    base_t = np.empty(len(end))
    lastgap = rng.uniform(0.01, 2.0, len(end))
    base_t[conv_w] = anchor[conv_w] - lastgap[conv_w] - span[conv_w]
    base_t[null_w] = slot0 + rng.uniform(0.0, 2.0, null_w.size)
    t = base_t[own] + offs * span[own]
    ch = steps[own, rank].astype(int)
    return {"n": n, "customer": w_cust[own], "t": t, "channel": ch, "order": w_order[own]}
