"""Text helpers for reports: escaping, bilingual labels, pseudonyms.

Every data-derived string that reaches a report goes through :func:`md_text`
(for ``Markdown(...)``) or :func:`html.escape` (for ``HTML(...)``); customer
IDs go through :func:`pseudonymise`.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal, overload

from kosresearch.errors import KosParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from pandas.io.formats.style import Styler

__all__ = [
    "LANGS",
    "Lang",
    "LABELS",
    "TABLE_LABELS",
    "check_lang",
    "md_text",
    "t",
    "label",
    "table_label",
    "pretty",
    "pseudonymise",
]

Lang = Literal["zh", "en"]
LANGS: tuple[str, ...] = ("zh", "en")

_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")

#: Display labels of machine column names and common report words, as
#: ``key: (zh, en)``. Notebooks and index pages use them through :func:`label`
#: and :func:`pretty`; add entries here rather than in notebooks.
LABELS: Mapping[str, tuple[str, str]] = {
    # generic
    "table": ("表", "table"),
    "column": ("列", "column"),
    "check": ("检查", "check"),
    "n_bad": ("问题行数", "bad rows"),
    "present": ("存在", "present"),
    "nullable": ("允许为空", "nullable"),
    "rows": ("行数", "rows"),
    "time_column": ("时间列", "time column"),
    "first": ("最早", "first"),
    "last": ("最晚", "last"),
    "n_rows": ("行数", "rows"),
    "n_missing": ("缺失数", "missing"),
    "share_missing": ("缺失比例", "share missing"),
    "month": ("月份", "month"),
    "region": ("区域", "region"),
    "estimate": ("估计值", "estimate"),
    "conf_low": ("区间下限", "lower bound"),
    "conf_high": ("区间上限", "upper bound"),
    "unit": ("单位", "unit"),
    "status": ("状态", "status"),
    "seconds": ("耗时 (秒)", "run time (s)"),
    # monthly KPIs
    "sales": ("销售额 (元)", "sales (CNY)"),
    "orders": ("订单数", "orders"),
    "new_customers": ("新客户数", "new customers"),
    "active_kos": ("活跃 KOS 数", "active KOS"),
    "posts": ("发帖数", "posts"),
    "messages": ("消息数", "messages"),
}


#: Display labels of the contract tables, as ``table: (zh, en)``.
TABLE_LABELS: Mapping[str, tuple[str, str]] = {
    "stores": ("门店", "stores"),
    "kos": ("KOS 导购", "KOS"),
    "customers": ("客户", "customers"),
    "orders": ("订单", "orders"),
    "promo_codes": ("推广码", "promo codes"),
    "touchpoints": ("触点", "touchpoints"),
    "content": ("内容", "content"),
    "messages": ("消息", "messages"),
    "groups": ("社群", "groups"),
    "group_members": ("社群成员", "group members"),
    "feedback": ("反馈", "feedback"),
    "tier_events": ("分层事件", "tier events"),
    "strategy_changes": ("策略调整", "strategy changes"),
}


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if it is a supported report language.

    Raises
    ------
    KosParameterError
        If ``lang`` is not ``"zh"`` or ``"en"``.
    """
    if lang not in LANGS:
        raise KosParameterError(f"lang={lang!r} is not supported; allowed: {list(LANGS)}")
    return lang  # type: ignore[return-value]


def md_text(s: object) -> str:
    """Make a data string safe to put inside ``IPython.display.Markdown``.

    The string is HTML-escaped (``<``, ``>``, ``&``), then every Markdown
    special character is backslash-escaped, so a customer name such as
    ``<img src=x onerror=alert(1)>`` or ``[x](javascript:alert(1))`` shows
    as literal text instead of becoming markup. Line breaks become spaces.

    Parameters
    ----------
    s : object
        The value to show; ``str(s)`` is escaped.

    Returns
    -------
    str
        Escaped text.

    Examples
    --------
    >>> md_text("[x](javascript:alert(1))")
    '\\\\[x\\\\]\\\\(javascript:alert\\\\(1\\\\)\\\\)'
    >>> md_text("华东 *VIP*")
    '华东 \\\\*VIP\\\\*'
    """
    text = html.escape(str(s), quote=False)
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    # escape markdown specials, but not the '&...;' entities html.escape made
    return _MD_SPECIALS.sub(r"\\\1", text)


def t(zh: str, en: str, lang: str) -> str:
    """Pick the Chinese or English text for ``lang``.

    Examples
    --------
    >>> t("销售额", "sales", "en")
    'sales'
    """
    return zh if check_lang(lang) == "zh" else en


def _lookup(catalogue: Mapping[str, tuple[str, str]], key: str, lang: str) -> str:
    zh, en = catalogue.get(key, (key, key))
    return t(zh, en, lang)


def label(key: str, *, lang: str) -> str:
    """Return the display label of ``key`` from :data:`LABELS` (``key`` itself if absent)."""
    return _lookup(LABELS, key, lang)


def table_label(name: str, *, lang: str) -> str:
    """Return the display label of a contract table name (the name itself if unknown)."""
    return _lookup(TABLE_LABELS, name, lang)


def pretty(data: pd.DataFrame, *, lang: str, precision: int = 2, translate_tables: bool = True) -> Styler:
    """Return a display version of a tidy table: translated headers, escaped values.

    Machine column names are replaced by their :data:`LABELS` display names,
    contract table names by :data:`TABLE_LABELS`, the index is hidden, numbers
    get thousands separators, ``share_*`` columns show as percentages,
    timestamps as ``YYYY-MM-DD HH:MM`` (dates without the time when all times
    are midnight), missing values as ``–``, and every value is HTML-escaped.

    Parameters
    ----------
    data : pandas.DataFrame
        A tidy result table with machine (snake_case) column names; not changed.
    lang : {"zh", "en"}
        Report language.
    precision : int, default 2
        Decimals of float columns.
    translate_tables : bool, default True
        Also translate the values of a ``table`` column.

    Returns
    -------
    pandas.io.formats.style.Styler
        Displays as an HTML table in notebooks and reports.
    """
    import pandas as pd
    from pandas.io.formats.style import Styler

    check_lang(lang)
    out = mask_customer_ids(data)
    if translate_tables and "table" in out.columns:
        out["table"] = out["table"].map(lambda v: table_label(str(v), lang=lang))
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            values = out[col]
            midnight = bool((values.dropna() == values.dropna().dt.normalize()).all())
            out[col] = values.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M")
        elif pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map({True: t("是", "yes", lang), False: t("否", "no", lang)})
    percent = [c for c in out.columns if str(c).startswith("share_")]
    out = out.rename(columns={c: label(str(c), lang=lang) for c in out.columns})
    styler = Styler(out, uuid="kos", cell_ids=False)
    styler = styler.format(precision=precision, thousands=",", na_rep="–", escape="html")
    styler = styler.format_index(escape="html", axis=1)
    if percent:
        styler = styler.format("{:.1%}", subset=[label(str(c), lang=lang) for c in percent], na_rep="–")
    return styler.hide(axis="index")


@overload
def pseudonymise(ids: str, salt: str | None = None, *, prefix: str = "C", length: int = 10) -> str: ...
@overload
def pseudonymise(ids: pd.Series, salt: str | None = None, *, prefix: str = "C", length: int = 10) -> pd.Series: ...
@overload
def pseudonymise(ids: Iterable[str], salt: str | None = None, *, prefix: str = "C", length: int = 10) -> list[str]: ...


def pseudonymise(ids, salt=None, *, prefix="C", length=10):
    """Replace customer IDs by stable, non-reversible short pseudonyms.

    Each ID maps to ``prefix + "-" + first length hex digits of
    HMAC-SHA256(salt, id)``. The same (id, salt) always gives the same
    pseudonym, so joins and counts across tables still work; without the
    salt the mapping cannot be recomputed, so keep the salt out of reports.

    Parameters
    ----------
    ids : str, pandas.Series or iterable of str
        Customer IDs; missing values (None/NaN) stay missing.
    salt : str, optional
        Secret key, at least 8 characters. Default: :func:`default_salt`.
    prefix : str, default "C"
        Printed before the hash.
    length : int, default 10
        Hex digits kept, between 6 and 64.

    Returns
    -------
    str, pandas.Series or list of str
        The same shape as ``ids``.

    Raises
    ------
    KosParameterError
        If ``salt`` is shorter than 8 characters or ``length`` is out of range.

    Examples
    --------
    >>> pseudonymise("C000123", "not-a-real-salt")
    'C-17dc0c2f02'
    """
    if salt is None:
        salt = default_salt()
    if not isinstance(salt, str) or len(salt) < 8:
        raise KosParameterError("salt must be a string of at least 8 characters; got a shorter one")
    if not isinstance(length, int) or not 6 <= length <= 64:
        raise KosParameterError(f"length={length!r} must be an integer between 6 and 64")
    import pandas as pd

    key = salt.encode("utf-8")

    def one(value: object) -> object:
        if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
            return value
        digest = hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{prefix}-{digest[:length]}"

    if isinstance(ids, str):
        return one(ids)
    if isinstance(ids, pd.Series):
        return ids.map(one, na_action="ignore")
    return [one(v) for v in ids]


#: columns that hold customer IDs wherever they appear in a displayed table
CUSTOMER_ID_COLUMNS: tuple[str, ...] = ("customer_id", "referrer_id", "koc_id")


def default_salt() -> str:
    """The secret salt used to pseudonymise customer IDs in reports.

    ``KOS_PSEUDONYM_SALT`` if set (use it to keep pseudonyms stable across
    machines); otherwise a random salt created once and kept in
    ``~/.config/kosresearch/pseudonym-salt`` (outside the repository and the
    reports), so the pseudonyms are stable on this machine and cannot be
    recomputed by a report's reader.
    """
    import os
    import secrets
    from pathlib import Path

    env = os.environ.get("KOS_PSEUDONYM_SALT")
    if env:
        return env
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kosresearch"
    path = base / "pseudonym-salt"
    try:
        value = path.read_text(encoding="utf-8").strip()
        if len(value) >= 8:
            return value
    except OSError:
        pass
    value = secrets.token_hex(16)
    try:
        base.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(value, encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return value  # unwritable home: pseudonyms are stable within this process only


def mask_customer_ids(data: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``data`` with customer IDs pseudonymised, for display.

    Pseudonymises the columns of :data:`CUSTOMER_ID_COLUMNS` and, where an
    ``owner_type`` column says ``koc``, the ``owner_id`` (a KOC is a
    customer). Advisor IDs and names are left as they are.
    """
    import pandas as pd

    out = data.copy()
    for col in CUSTOMER_ID_COLUMNS:
        if col in out.columns:
            out[col] = pseudonymise(out[col].astype("object"))
    if "owner_id" in out.columns and "owner_type" in out.columns:
        koc = (out["owner_type"] == "koc").fillna(False).to_numpy(dtype=bool)
        if koc.any():
            owner = out["owner_id"].astype("object")
            owner[koc] = pseudonymise(pd.Series(owner[koc]))
            out["owner_id"] = owner
    return out
