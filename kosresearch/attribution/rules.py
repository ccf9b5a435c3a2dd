"""Credit rules of current practice: promo codes, exclusive links and the bound advisor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes
from kosresearch._validation import check_positive, require_columns
from kosresearch.errors import KosParameterError
from kosresearch.report.text import check_lang, t

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["credit_orders", "CreditResult", "CREDIT_RULES"]

CREDIT_RULES = ("promo_code", "exclusive_link", "bound_kos")

#: Chinese names of the rules (and of ``none``) on the figure's axis
_RULE_LABELS_ZH = {"promo_code": "促销码", "exclusive_link": "专属链接", "bound_kos": "绑定顾问", "none": "未归因"}

_CREDIT_SQL = """
WITH o AS (
    SELECT CAST(order_id AS VARCHAR) AS order_id, CAST(customer_id AS VARCHAR) AS customer_id,
           CAST(ordered_at AS TIMESTAMP) AS ordered_at, CAST(amount AS DOUBLE) AS amount,
           CAST(kos_id AS VARCHAR) AS kos_id, nullif(trim(CAST(promo_code AS VARCHAR)), '') AS promo_code
    FROM _kos_orders
),
pc AS (
    SELECT CAST(promo_code AS VARCHAR) AS promo_code, CAST(owner_type AS VARCHAR) AS owner_type,
           CAST(owner_id AS VARCHAR) AS owner_id, CAST(content_id AS VARCHAR) AS content_id
    FROM _kos_codes
),
link_touch AS (
    -- the latest touch with a linked post inside the lookback window before each order
    SELECT o.order_id, arg_max(pc.owner_id, t.ts) AS link_owner, arg_max(pc.owner_type, t.ts) AS link_owner_type
    FROM o
    JOIN _kos_tp t ON CAST(t.customer_id AS VARCHAR) = o.customer_id
         AND CAST(t.ts AS TIMESTAMP) <= o.ordered_at
         AND epoch(o.ordered_at) - epoch(CAST(t.ts AS TIMESTAMP)) <= $lookback_s
    JOIN pc ON pc.content_id = CAST(t.content_id AS VARCHAR)
    GROUP BY o.order_id
)
SELECT o.order_id, o.amount,
       pc.owner_type AS code_owner_type, pc.owner_id AS code_owner, pc.content_id IS NOT NULL AS code_is_link,
       o.promo_code IS NOT NULL AND pc.promo_code IS NULL AS unknown_code,
       lt.link_owner_type, lt.link_owner, o.kos_id
FROM o
LEFT JOIN pc ON pc.promo_code = o.promo_code
LEFT JOIN link_touch lt ON lt.order_id = o.order_id
"""


@dataclass(frozen=True, repr=False)
class CreditResult(Result):
    """Orders credited by rules.

    Attributes
    ----------
    table : DataFrame
        One row per order: ``order_id, amount, owner_type`` (kos / koc /
        none), ``owner_id``, ``rule`` (the rule that credited it, or ``none``).
    conf_level : float
        Unused (rules are bookkeeping, not estimates); kept for the shared base.
    coverage : DataFrame
        Per rule (and ``none``): ``rule, orders, order_share, sales, sales_share``.
    by_owner : DataFrame
        Per credited owner: ``owner_type, owner_id, rule, orders, sales``.
    unknown_codes : int
        Orders whose promo code is not in ``promo_codes`` (left uncredited by that rule).
    """

    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_owner: pd.DataFrame = field(default_factory=pd.DataFrame)
    unknown_codes: int = 0

    def summary(self, *, digits: int = 3) -> pd.DataFrame:
        """The coverage table (share of orders and sales credited by each rule)."""
        return self.coverage.round(digits)

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, border=0, classes="kos-table")

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Share of orders and of sales credited by each rule; ``lang`` (``"zh"`` or ``"en"``) sets the labels."""
        zh = check_lang(lang) == "zh"
        ax = new_axes(ax, figsize=(6.0, 3.0))
        c = self.coverage
        y = np.arange(len(c))
        ax.barh(y - 0.2, c["order_share"], 0.4, label=t("订单", "orders", lang))
        ax.barh(y + 0.2, c["sales_share"], 0.4, label=t("销售额", "sales", lang))
        ax.set_yticks(y, [_RULE_LABELS_ZH.get(r, r) for r in c["rule"]] if zh else c["rule"])
        ax.set_xlabel(t("规则归因占比", "share credited", lang))
        ax.legend(fontsize="small")
        return ax


def credit_orders(
    orders: pd.DataFrame,
    promo_codes: pd.DataFrame,
    touchpoints: pd.DataFrame | None = None,
    *,
    lookback_days: float = 30,
    rules: Sequence[str] = CREDIT_RULES,
) -> CreditResult:
    """Credit each order to a KOS, a KOC or nobody by the rules of current practice.

    Parameters
    ----------
    orders : DataFrame
        ``order_id, customer_id, ordered_at, amount, kos_id, promo_code``.
    promo_codes : DataFrame
        ``promo_code, owner_type (kos/koc), owner_id, content_id`` (a code with
        a ``content_id`` is an exclusive link of that post).
    touchpoints : DataFrame, optional
        ``customer_id, ts, content_id``; when given, an order without a code
        whose customer touched a linked post within ``lookback_days`` is
        credited to that link's owner by ``exclusive_link``.
    lookback_days : float, default 30
    rules : sequence of str, default ("promo_code", "exclusive_link", "bound_kos")
        Rules in priority order; the first that applies credits the order.

    Returns
    -------
    CreditResult
        ``.table`` per order, ``.coverage`` per rule, ``.by_owner`` per KOS / KOC.

    Raises
    ------
    KosDataError
        Missing columns.
    KosParameterError
        Unknown or repeated rules, non-positive ``lookback_days``.

    Notes
    -----
    ``promo_code``: the order carries a code that is not an exclusive link;
    ``exclusive_link``: it carries a link code, or (with touchpoints) its
    customer's latest touch with a linked post precedes it within the
    lookback; ``bound_kos``: the order has an advisor (``kos_id``). These are
    bookkeeping rules, not causal estimates: an order credited to a code
    might have happened without it; the causal sections estimate that.
    """
    import duckdb

    rules = list(rules)
    bad = [r for r in rules if r not in CREDIT_RULES]
    if bad or len(set(rules)) != len(rules) or not rules:
        raise KosParameterError(f"rules={tuple(rules)!r} must be distinct names from {list(CREDIT_RULES)}")
    check_positive("lookback_days", lookback_days)
    require_columns(orders, {c: c for c in ("order_id", "customer_id", "ordered_at", "amount", "kos_id", "promo_code")},
                    numeric=["amount"], name="orders")
    require_columns(promo_codes, {c: c for c in ("promo_code", "owner_type", "owner_id", "content_id")}, name="promo_codes")
    if touchpoints is not None:
        require_columns(touchpoints, {c: c for c in ("customer_id", "ts", "content_id")}, name="touchpoints")
        tp = touchpoints[["customer_id", "ts", "content_id"]]
        tp = tp[tp["content_id"].notna()]
    else:
        tp = pd.DataFrame({"customer_id": pd.Series(dtype=str), "ts": pd.Series(dtype="datetime64[us]"),
                           "content_id": pd.Series(dtype=str)})
    con = duckdb.connect()
    try:
        con.register("_kos_orders", orders[["order_id", "customer_id", "ordered_at", "amount", "kos_id", "promo_code"]])
        con.register("_kos_codes", promo_codes[["promo_code", "owner_type", "owner_id", "content_id"]])
        con.register("_kos_tp", tp)
        m = con.execute(_CREDIT_SQL, {"lookback_s": float(lookback_days) * 86400.0}).df()
    finally:
        con.close()
    n = len(m)
    owner_type = np.full(n, "none", dtype=object)
    owner_id = np.full(n, None, dtype=object)
    rule = np.full(n, "none", dtype=object)
    todo = np.ones(n, bool)
    has_code = m["code_owner"].notna().to_numpy()
    is_link = m["code_is_link"].fillna(False).to_numpy(dtype=bool)
    for r in rules:
        if r == "promo_code":
            hit = todo & has_code & ~is_link
            src_t, src_o = m["code_owner_type"], m["code_owner"]
        elif r == "exclusive_link":
            by_code = todo & has_code & is_link
            owner_type[by_code] = m["code_owner_type"].to_numpy()[by_code]
            owner_id[by_code] = m["code_owner"].to_numpy()[by_code]
            rule[by_code] = r
            todo &= ~by_code
            hit = todo & m["link_owner"].notna().to_numpy() & ~has_code
            src_t, src_o = m["link_owner_type"], m["link_owner"]
        else:
            hit = todo & m["kos_id"].notna().to_numpy()
            src_t, src_o = pd.Series("kos", index=m.index), m["kos_id"]
        owner_type[hit] = src_t.to_numpy()[hit]
        owner_id[hit] = src_o.to_numpy()[hit]
        rule[hit] = r
        todo &= ~hit
    table = pd.DataFrame({"order_id": m["order_id"], "amount": m["amount"], "owner_type": owner_type,
                          "owner_id": owner_id, "rule": rule})
    table = table.set_index("order_id").reindex(orders["order_id"].astype(str)).reset_index()
    total_o, total_s = len(table), float(table["amount"].sum())
    cov = table.groupby("rule", sort=False).agg(orders=("order_id", "size"), sales=("amount", "sum"))
    cov = cov.reindex([*rules, "none"], fill_value=0).reset_index()
    cov["order_share"] = cov["orders"] / max(total_o, 1)
    cov["sales_share"] = cov["sales"] / total_s if total_s > 0 else 0.0
    cov = cov[["rule", "orders", "order_share", "sales", "sales_share"]]
    credited = table[table["rule"] != "none"]
    by_owner = (credited.groupby(["owner_type", "owner_id", "rule"], as_index=False)
                .agg(orders=("order_id", "size"), sales=("amount", "sum"))
                .sort_values(["owner_type", "sales"], ascending=[True, False], ignore_index=True))
    return CreditResult(table=table, conf_level=0.95, coverage=cov, by_owner=by_owner,
                        unknown_codes=int(m["unknown_code"].sum()))
