"""A hand-made KOS dataset whose weekly metrics can be worked out by hand.

Business hours 09:00-21:00 every day. 2024-03-02 is a Saturday, 2024-03-03 a
Sunday; weeks start on Mondays 2024-02-26 and 2024-03-04.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

Tables = dict[str, pd.DataFrame]


def s(*values) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def ts(*values) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[us]")


def tiny_tables() -> Tables:
    """Two KOS in one store; k1 serves c1-c3, k2 serves c4."""
    messages = [
        # (id, kos, customer, ts, channel, group, sender, sentiment, text)
        ("m01", "k1", "c1", "2024-03-02 20:50:00", "private", None, "customer", 0.5, "这个有货吗？"),
        ("m02", "k1", "c1", "2024-03-02 20:55:00", "private", None, "customer", None, "在吗"),
        ("m03", "k1", "c1", "2024-03-03 09:10:00", "private", None, "kos", None, "有的"),
        ("m04", "k1", "c1", "2024-03-03 23:00:00", "private", None, "customer", -0.5, "怎么用？"),
        ("m05", "k1", "c1", "2024-03-04 09:05:00", "private", None, "kos", None, "早晚各一次"),
        ("m06", "k1", "c1", "2024-03-05 03:00:00", "private", None, "customer", 0.1, "还有活动吗"),
        ("m07", "k1", "c1", "2024-03-05 08:30:00", "private", None, "kos", None, "有的，周六"),
        ("m08", "k1", "c1", "2024-03-05 10:00:00", "private", None, "customer", None, "谢谢！"),
        ("m09", "k1", "c1", "2024-03-05 10:01:00", "private", None, "customer", None, "👍"),
        ("m10", "k1", "c1", "2024-03-05 12:00:00", "private", None, "customer", None, None),
        # SLA: c2 and c3 acquired Mon 2024-03-04 10:00; 24 business hours later is Wed 10:00
        ("m11", "k1", "c2", "2024-03-05 10:00:00", "private", None, "kos", None, "您好"),
        ("m12", "k1", "c2", "2024-03-06 10:00:00", "private", None, "customer", None, "你好"),
        ("m13", "k1", "c3", "2024-03-05 10:00:00", "private", None, "kos", None, "您好"),
        ("m14", "k1", "c3", "2024-03-06 10:00:01", "private", None, "customer", None, "你好"),
        # one group message of c1
        ("m15", "k1", "c1", "2024-03-04 12:00:00", "group", "g1", "customer", None, "打卡"),
    ]
    m = pd.DataFrame(messages, columns=["message_id", "kos_id", "customer_id", "ts", "channel", "group_id", "sender",
                                        "sentiment", "text"])
    return {
        "stores": pd.DataFrame({"store_id": s("s1"), "region": s("east"), "city": s("上海"),
                                "opened_at": ts("2020-01-01"), "program_start": ts("2023-01-02")}),
        "kos": pd.DataFrame({"kos_id": s("k1", "k2"), "store_id": s("s1", "s1"), "region": s("east", "east"),
                             "joined_at": ts("2024-01-01", "2024-01-01"), "name": s("小王", "小李")}),
        "customers": pd.DataFrame({
            "customer_id": s("c1", "c2", "c3", "c4"), "region": s(*["east"] * 4), "store_id": s(*["s1"] * 4),
            "kos_id": s("k1", "k1", "k1", "k2"),
            "acquired_at": ts("2024-02-26 10:00:00", "2024-03-04 10:00:00", "2024-03-04 10:00:00", "2024-03-06 15:00:00"),
            "acquisition_channel": s("walk_in", "walk_in", "paid_ads", "walk_in"),
            "acquisition_cost": [5.0, 5.0, 100.0, 5.0], "referrer_id": s(None, None, None, None),
        }),
        "orders": pd.DataFrame({
            "order_id": s("o1", "o2", "o3", "o4", "o5"), "customer_id": s("c1", "c2", "c3", "c4", "c1"),
            "region": s(*["east"] * 5), "store_id": s(*["s1"] * 5), "kos_id": s("k1", "k1", "k1", "k2", "k1"),
            "ordered_at": ts("2024-02-26 10:00:00", "2024-03-04 10:00:00", "2024-03-04 10:00:00",
                             "2024-03-06 15:00:00", "2024-03-05 11:00:00"),
            "amount": [100.0, 50.0, 70.0, 30.0, 200.0], "promo_code": s(None, None, None, None, None),
        }),
        "content": pd.DataFrame({
            "content_id": s("p1"), "kos_id": s("k1"), "region": s("east"), "posted_at": ts("2024-02-28 12:00:00"),
            "platform": s("xiaohongshu"), "format": s("short_video"), "topic": s("usage_tips"),
            "impressions": np.array([1000]), "likes": np.array([10]), "comments": np.array([2]),
            "saves": np.array([3]), "shares": np.array([1]), "leads": np.array([2]),
        }),
        "messages": m.assign(region="east", ts=pd.to_datetime(m["ts"]).astype("datetime64[us]"),
                             **{c: m[c].astype("str").where(m[c].notna(), None)
                                for c in ("message_id", "kos_id", "customer_id", "channel", "group_id", "sender", "text")}),
        "groups": pd.DataFrame({"group_id": s("g1"), "kos_id": s("k1"), "region": s("east"),
                                "created_at": ts("2024-02-20 10:00:00")}),
        "group_members": pd.DataFrame({
            "group_id": s("g1", "g1"), "customer_id": s("c1", "c2"), "region": s("east", "east"),
            "joined_at": ts("2024-02-26 10:00:00", "2024-03-04 12:00:00"),
            "first_spoke_at": ts("2024-03-04 10:00:00", "2024-03-05 10:00:00"),
        }),
    }


WEEKLY_COUNTS = (
    "private_adds", "sla_customers", "sla_met", "posts", "reply_needed", "replied", "no_reply_messages",
    "replied_within_1min", "replied_within_5min", "replied_within_30min", "interactions", "new_members",
    "new_members_spoke_7d", "sentiment_messages", "sentiment_positive", "sentiment_negative", "leads",
    "active_private_customers", "orders", "book_customers",
)
WEEKLY_FLOATS = ("response_minutes_median", "response_minutes_p90", "group_active_speakers", "sales",
                 "repeat_sales", "book_sales", "expected_sales")


def weekly_frame(kos: dict[str, dict[str, float]], *, weeks: int = 4, region: str = "east",
                 start: str = "2024-01-01") -> pd.DataFrame:
    """A weekly metrics table: every KOS gets the same values in every week (``kos[id][column]``).

    Unnamed columns are 10 (counts: trials 10, successes 5), so metrics are defined everywhere.
    """
    rows = []
    for k, values in kos.items():
        for w in range(weeks):
            row = {"region": region, "kos_id": k, "kos_name": f"name-{k}", "store_id": "s1",
                   "week": pd.Timestamp(start) + pd.Timedelta(weeks=w)}
            for c in WEEKLY_COUNTS:
                row[c] = 10
            for c in ("sla_met", "replied_within_1min", "replied_within_5min", "replied_within_30min",
                      "new_members_spoke_7d", "sentiment_positive", "sentiment_negative"):
                row[c] = 5
            for c in WEEKLY_FLOATS:
                row[c] = 10.0
            row.update(values)
            rows.append(row)
    return pd.DataFrame(rows)


def tiny_feedback(tables: Tables | None = None) -> Tables:
    """``tiny_tables()`` plus three feedback items (f2 without a recorded category, f3 with a phone number)."""
    tables = tiny_tables() if tables is None else tables
    tables["feedback"] = pd.DataFrame({
        "feedback_id": s("f1", "f2", "f3"), "customer_id": s("c1", "c2", "c4"), "kos_id": s("k1", "k1", "k2"),
        "region": s("east", "east", "east"),
        "created_at": ts("2024-03-04 10:00:00", "2024-03-04 12:00:00", "2024-03-06 15:30:00"),
        "text": s("快递还没到，帮我催一下", "建议出个小瓶装，方便出差带", "超喜欢，导购很耐心，我的电话13812345678"),
        "category": s("service", None, "praise"),
        "resolved_at": ts("2024-03-04 20:00:00", "2024-03-05 12:00:00", None),
        "loop_closed_at": ts("2024-03-05 10:00:00", None, None),
    })
    return tables
