"""Hand-made inputs of the tier tests: a tiny dataset and panels built from transition counts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.data.helpers import _s, _ts, make_tables


def tiny_tables() -> dict[str, pd.DataFrame]:
    """The clean two-region dataset of the data tests, with c1's code used by c2 and a second order of c1.

    c1 (east, KOS k1) joins 2024-01-01 10:00, buys 199 on 01-02 and 50 on 02-02 12:00, refers c2 (joins
    01-05, buys 100.5 on 01-06 with c1's KOC code P2), gets one KOS message (01-01), browses once on
    xiaohongshu (01-01 09:00) and gives feedback on 01-10 10:00. The data end on 2024-02-04 (the day after
    the last order, c3's on 02-03), so 2024-02 is a partial period of 3 days.
    """
    t = make_tables()
    t["orders"] = pd.DataFrame({
        "order_id": _s("o1", "o2", "o3", "o4"),
        "customer_id": _s("c1", "c2", "c3", "c1"),
        "region": _s("east", "east", "west", "east"),
        "store_id": _s("s1", "s1", "s2", "s1"),
        "kos_id": _s("k1", None, "k2", "k1"),
        "ordered_at": _ts("2024-01-02 10:00:00", "2024-01-06 18:30:00", "2024-02-03 11:00:00", "2024-02-02 12:00:00"),
        "amount": [199.0, 100.5, 300.0, 50.0],
        "promo_code": _s("P1", "P2", None, None),
    })
    return t


def panel_from_counts(counts: np.ndarray, states: list[str]) -> pd.DataFrame:
    """A panel whose one-step transition counts are exactly ``counts``: one id per transition, two periods each."""
    rows = []
    n = 0
    for i, a in enumerate(states):
        for j, b in enumerate(states):
            for _ in range(int(counts[i, j])):
                rows.append((f"id{n}", 1, a))
                rows.append((f"id{n}", 2, b))
                n += 1
    return pd.DataFrame(rows, columns=["id", "t", "state"])


def simulate_chain(P: np.ndarray, states: list[str], *, n_ids: int, n_periods: int, seed: int,
                   start: np.ndarray | None = None) -> pd.DataFrame:
    """Walks of the chain ``P``: ``n_ids`` ids observed for ``n_periods`` periods each."""
    rng = np.random.default_rng(seed)
    k = len(states)
    p0 = np.full(k, 1.0 / k) if start is None else start
    s = rng.choice(k, size=n_ids, p=p0)
    cum = np.cumsum(P, axis=1)
    out = np.empty((n_ids, n_periods), dtype=int)
    for t in range(n_periods):
        out[:, t] = s
        s = np.minimum((rng.random(n_ids)[:, None] > cum[s]).sum(axis=1), k - 1)
    ids = np.repeat([f"id{i}" for i in range(n_ids)], n_periods)
    per = np.tile(np.arange(1, n_periods + 1), n_ids)
    return pd.DataFrame({"id": ids, "t": per, "s": np.array(states)[out.ravel()]})
