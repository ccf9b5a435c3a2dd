"""The kosresearch data contract (v1), as code.

Every table, column, type, nullability rule, key and controlled vocabulary of
``DESIGN.md`` lives here and nowhere else: the loader validates against it,
the simulator writes to it and ``docs/data-contract.md`` is generated from it
(``python -m kosresearch.data.contract > docs/data-contract.md``; a test fails
when the two drift apart).

Logical column kinds
--------------------
``id``
    identifier, stored as text (``VARCHAR``); never a number, so that leading
    zeros survive.
``string``
    free text or a label (``VARCHAR``).
``float``
    a real number (``DOUBLE``); money is CNY.
``int``
    a count (``BIGINT``).
``timestamp``
    business-local wall-clock time (``TIMESTAMP`` without zone). Zone-aware
    input is converted to the dataset's time zone; a column mixing naive and
    aware values is refused.
``date``
    a calendar date (``DATE``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Mapping

__all__ = [
    "CONTRACT_VERSION",
    "Column",
    "ForeignKey",
    "Table",
    "TABLES",
    "TABLE_NAMES",
    "REQUIRED_TABLES",
    "VOCABULARIES",
    "REGION_LABELS",
    "region_label",
    "get_table",
    "render_markdown",
]

CONTRACT_VERSION = "1"

ColumnKind = Literal["id", "string", "float", "int", "timestamp", "date"]

DUCKDB_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "id": "VARCHAR",
        "string": "VARCHAR",
        "float": "DOUBLE",
        "int": "BIGINT",
        "timestamp": "TIMESTAMP",
        "date": "DATE",
    }
)

#: Controlled vocabularies, validated on load. Extend them through the
#: dataset's configuration rather than by editing this mapping.
VOCABULARIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "acquisition_channel": (
            "paid_ads",
            "kos_content",
            "koc_content",
            "referral",
            "walk_in",
            "other",
        ),
        "touchpoint_channel": (
            "paid_ad",
            "xiaohongshu",
            "douyin",
            "wechat_private",
            "wechat_group",
            "live_stream",
            "koc_post",
            "store_visit",
        ),
        "platform": ("xiaohongshu", "douyin", "wechat_moments", "wechat_channels"),
        "format": ("short_video", "image_text", "live", "article"),
        "topic": (
            "usage_tips",
            "promotion",
            "product_review",
            "lifestyle",
            "behind_the_scenes",
        ),
        "owner_type": ("kos", "koc"),
        "message_channel": ("private", "group"),
        "sender": ("kos", "customer"),
        "feedback_category": ("service", "product", "praise"),
        "tier_event": ("promotion_invite", "demotion"),
    }
)

#: Chinese display labels of the region slugs used by the sample data. Region
#: codes themselves are ASCII slugs so that they are safe as report
#: parameters and file names.
REGION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "east": "华东",
        "south": "华南",
        "north": "华北",
        "west": "西部",
        "central": "华中",
        "northeast": "东北",
        "southwest": "西南",
        "northwest": "西北",
    }
)


def region_label(region: str, lang: str = "zh") -> str:
    """Return the display label of a region slug (the slug itself in English)."""
    if lang == "zh":
        return REGION_LABELS.get(region, region)
    return region


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this table must appear in ``table.column``.

    ``when`` optionally restricts the check to rows matching a SQL condition
    on this table (used for polymorphic owners such as promo codes).
    """

    column: str
    table: str
    ref_column: str
    when: str | None = None


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    kind: ColumnKind
    nullable: bool = False
    vocabulary: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""
    #: the column may be missing from a source; it then reads as NULL
    optional: bool = False

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.kind]


@dataclass(frozen=True)
class Table:
    """One contract table: its columns, keys and whether it must be present."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    required: bool
    description: str
    foreign_keys: tuple[ForeignKey, ...] = field(default=())
    time_column: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")


def _region() -> Column:
    return Column("region", "id", description="region slug, e.g. `east`")


def _count(name: str, description: str) -> Column:
    return Column(name, "int", minimum=0, description=description)


TABLES: tuple[Table, ...] = (
    Table(
        "stores",
        (
            Column("store_id", "id"),
            _region(),
            Column("city", "string"),
            Column("opened_at", "date", description="date the store opened"),
            Column(
                "program_start",
                "date",
                nullable=True,
                description="KOS programme start date; null = never",
            ),
        ),
        primary_key=("store_id",),
        required=True,
        description="Physical stores; the unit of the programme roll-out.",
        time_column="opened_at",
    ),
    Table(
        "kos",
        (
            Column("kos_id", "id"),
            Column("store_id", "id"),
            _region(),
            Column("joined_at", "date", description="date the advisor joined"),
            Column("name", "string", nullable=True, optional=True, description="display name (shown in reports)"),
        ),
        primary_key=("kos_id",),
        required=True,
        description="Frontline sales advisors (KOS).",
        foreign_keys=(ForeignKey("store_id", "stores", "store_id"),),
        time_column="joined_at",
    ),
    Table(
        "customers",
        (
            Column("customer_id", "id"),
            _region(),
            Column("store_id", "id"),
            Column("kos_id", "id", nullable=True, description="the advisor the customer is bound to"),
            Column("acquired_at", "timestamp", description="first purchase / acquisition time"),
            Column("acquisition_channel", "string", vocabulary="acquisition_channel"),
            Column("acquisition_cost", "float", minimum=0, description="CNY, including referral rewards"),
            Column("referrer_id", "id", nullable=True, description="customer who referred this one"),
        ),
        primary_key=("customer_id",),
        required=True,
        description="Acquired customers.",
        foreign_keys=(
            ForeignKey("store_id", "stores", "store_id"),
            ForeignKey("kos_id", "kos", "kos_id"),
            ForeignKey("referrer_id", "customers", "customer_id"),
        ),
        time_column="acquired_at",
    ),
    Table(
        "orders",
        (
            Column("order_id", "id"),
            Column("customer_id", "id"),
            _region(),
            Column("store_id", "id"),
            Column("kos_id", "id", nullable=True),
            Column("ordered_at", "timestamp"),
            Column("amount", "float", minimum=0, description="CNY"),
            Column("promo_code", "id", nullable=True),
        ),
        primary_key=("order_id",),
        required=True,
        description="Orders (sales).",
        foreign_keys=(
            ForeignKey("customer_id", "customers", "customer_id"),
            ForeignKey("store_id", "stores", "store_id"),
            ForeignKey("kos_id", "kos", "kos_id"),
            ForeignKey("promo_code", "promo_codes", "promo_code"),
        ),
        time_column="ordered_at",
    ),
    Table(
        "promo_codes",
        (
            Column("promo_code", "id"),
            _region(),
            Column("owner_type", "string", vocabulary="owner_type"),
            Column("owner_id", "id", description="kos_id (owner_type kos) or customer_id (koc)"),
            Column("content_id", "id", nullable=True, description="exclusive link of a post"),
        ),
        primary_key=("promo_code",),
        required=False,
        description="Promo codes and exclusive links owned by a KOS or a KOC.",
        foreign_keys=(
            ForeignKey("owner_id", "kos", "kos_id", when="owner_type = 'kos'"),
            ForeignKey("owner_id", "customers", "customer_id", when="owner_type = 'koc'"),
            ForeignKey("content_id", "content", "content_id"),
        ),
    ),
    Table(
        "touchpoints",
        (
            Column("touchpoint_id", "id"),
            Column("customer_id", "id"),
            _region(),
            Column("ts", "timestamp"),
            Column("channel", "string", vocabulary="touchpoint_channel"),
            Column("kos_id", "id", nullable=True),
            Column("content_id", "id", nullable=True),
        ),
        primary_key=("touchpoint_id",),
        required=False,
        description="Marketing and relationship touchpoints of customers' journeys.",
        foreign_keys=(
            ForeignKey("customer_id", "customers", "customer_id"),
            ForeignKey("kos_id", "kos", "kos_id"),
            ForeignKey("content_id", "content", "content_id"),
        ),
        time_column="ts",
    ),
    Table(
        "content",
        (
            Column("content_id", "id"),
            Column("kos_id", "id"),
            _region(),
            Column("posted_at", "timestamp"),
            Column("platform", "string", vocabulary="platform"),
            Column("format", "string", vocabulary="format"),
            Column("topic", "string", vocabulary="topic"),
            _count("impressions", "times the post was shown"),
            _count("likes", "likes"),
            _count("comments", "comments"),
            _count("saves", "saves / favourites"),
            _count("shares", "shares"),
            _count("leads", "leads (enquiries, WeChat adds) attributed to the post"),
        ),
        primary_key=("content_id",),
        required=False,
        description="Posts published by KOS on social platforms.",
        foreign_keys=(ForeignKey("kos_id", "kos", "kos_id"),),
        time_column="posted_at",
    ),
    Table(
        "messages",
        (
            Column("message_id", "id"),
            _region(),
            Column("kos_id", "id"),
            Column("customer_id", "id", nullable=True, description="null for a KOS message to a whole group"),
            Column("ts", "timestamp"),
            Column("channel", "string", vocabulary="message_channel"),
            Column("group_id", "id", nullable=True),
            Column("sender", "string", vocabulary="sender"),
            Column("sentiment", "float", nullable=True, minimum=-1, maximum=1),
            Column("text", "string", nullable=True),
        ),
        primary_key=("message_id",),
        required=False,
        description="WeChat private and group messages between KOS and customers.",
        foreign_keys=(
            ForeignKey("kos_id", "kos", "kos_id"),
            ForeignKey("customer_id", "customers", "customer_id"),
            ForeignKey("group_id", "groups", "group_id"),
        ),
        time_column="ts",
    ),
    Table(
        "groups",
        (
            Column("group_id", "id"),
            Column("kos_id", "id"),
            _region(),
            Column("created_at", "timestamp"),
        ),
        primary_key=("group_id",),
        required=False,
        description="WeChat customer groups run by a KOS.",
        foreign_keys=(ForeignKey("kos_id", "kos", "kos_id"),),
        time_column="created_at",
    ),
    Table(
        "group_members",
        (
            Column("group_id", "id"),
            Column("customer_id", "id"),
            _region(),
            Column("joined_at", "timestamp"),
            Column("first_spoke_at", "timestamp", nullable=True),
        ),
        primary_key=("group_id", "customer_id"),
        required=False,
        description="Customers' membership of groups.",
        foreign_keys=(
            ForeignKey("group_id", "groups", "group_id"),
            ForeignKey("customer_id", "customers", "customer_id"),
        ),
        time_column="joined_at",
    ),
    Table(
        "feedback",
        (
            Column("feedback_id", "id"),
            Column("customer_id", "id"),
            Column("kos_id", "id"),
            _region(),
            Column("created_at", "timestamp"),
            Column("text", "string"),
            Column("category", "string", nullable=True, vocabulary="feedback_category"),
            Column("resolved_at", "timestamp", nullable=True),
            Column("loop_closed_at", "timestamp", nullable=True),
        ),
        primary_key=("feedback_id",),
        required=False,
        description="Customer feedback collected by KOS.",
        foreign_keys=(
            ForeignKey("customer_id", "customers", "customer_id"),
            ForeignKey("kos_id", "kos", "kos_id"),
        ),
        time_column="created_at",
    ),
    Table(
        "tier_events",
        (
            Column("customer_id", "id"),
            Column("kos_id", "id"),
            _region(),
            Column("ts", "timestamp"),
            Column("event", "string", vocabulary="tier_event"),
        ),
        primary_key=("customer_id", "ts", "event"),
        required=False,
        description="Tier promotion invitations (晋级) and demotions.",
        foreign_keys=(
            ForeignKey("customer_id", "customers", "customer_id"),
            ForeignKey("kos_id", "kos", "kos_id"),
        ),
        time_column="ts",
    ),
    Table(
        "strategy_changes",
        (
            Column("change_id", "id"),
            _region(),
            Column("kos_id", "id", nullable=True),
            Column("store_id", "id", nullable=True),
            Column("effective_at", "timestamp"),
            Column("description", "string"),
        ),
        primary_key=("change_id",),
        required=False,
        description="Changes of content or service strategy, by a KOS or a store.",
        foreign_keys=(
            ForeignKey("kos_id", "kos", "kos_id"),
            ForeignKey("store_id", "stores", "store_id"),
        ),
        time_column="effective_at",
    ),
)

TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in TABLES)
REQUIRED_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES if t.required)
_BY_NAME = {t.name: t for t in TABLES}


def get_table(name: str) -> Table:
    """Return the contract of table ``name``; the error lists the known tables."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; the contract has {list(TABLE_NAMES)}") from None


def render_markdown() -> str:
    """Render the contract as the Markdown of ``docs/data-contract.md``."""
    lines = [
        f"# Data contract v{CONTRACT_VERSION}",
        "",
        "<!-- generated by `python -m kosresearch.data.contract`; do not edit by hand -->",
        "",
        "Every table has a `region` column. IDs are text. Money is CNY. Timestamps are",
        "business-local wall-clock time (default `Asia/Shanghai`): zone-aware input is",
        "converted, a column mixing naive and aware values is refused.",
        "",
        "A source is a folder with one Parquet or CSV file per table (`orders.parquet`),",
        "a folder per table partitioned by region (`orders/region=east/*.parquet`), or a",
        "DuckDB database file holding these tables.",
        "",
        f"Required tables: {', '.join(f'`{n}`' for n in REQUIRED_TABLES)}. The others are",
        "optional; an analysis that needs one says which.",
        "",
    ]
    for table in TABLES:
        lines += [f"## `{table.name}`{'' if table.required else ' (optional)'}", "", table.description, ""]
        lines += [f"Primary key: {', '.join(f'`{c}`' for c in table.primary_key)}", ""]
        lines += ["| column | type | nullable | rule | description |", "|---|---|---|---|---|"]
        for col in table.columns:
            rules = []
            if col.vocabulary:
                rules.append(f"vocabulary `{col.vocabulary}`")
            if col.minimum is not None:
                rules.append(f"≥ {col.minimum:g}")
            if col.maximum is not None:
                rules.append(f"≤ {col.maximum:g}")
            for fk in table.foreign_keys:
                if fk.column == col.name:
                    cond = f" when {fk.when}" if fk.when else ""
                    rules.append(f"→ `{fk.table}.{fk.ref_column}`{cond}")
            if col.optional:
                rules.append("may be absent")
            lines.append(
                f"| `{col.name}` | {col.kind} | {'yes' if col.nullable else 'no'} | "
                f"{'; '.join(rules)} | {col.description} |"
            )
        lines.append("")
    lines += ["## Vocabularies", ""]
    for name, values in VOCABULARIES.items():
        lines.append(f"- `{name}`: {', '.join(f'`{v}`' for v in values)}")
    lines += ["", "## Region labels", ""]
    lines += [f"- `{slug}`: {label}" for slug, label in REGION_LABELS.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - exercised through the docs test
    print(render_markdown(), end="")
