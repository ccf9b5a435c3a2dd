"""Masking of personal data in free text (feedback, messages) before it is shown anywhere.

Reports quote customers' words (praise stories, product suggestions); those
words sometimes carry a phone number, an ID-card number or an e-mail address.
:func:`mask_personal_data` replaces each with a bracketed placeholder so that
the quote stays readable and the person cannot be reached or identified
through it. It errs on the side of masking: any long run of digits is masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, overload

import pandas as pd

__all__ = ["mask_personal_data", "PERSONAL_DATA_TOKENS"]

_D = "[0-9０-９]"  # ASCII and full-width digits
_NOT_D_BEFORE = "(?<![0-9０-９])"
_NOT_D_AFTER = "(?![0-9０-９])"
_SEP = r"[ \-－‐—.·]?"

#: placeholder of each kind of personal data, in the order the patterns are applied
PERSONAL_DATA_TOKENS: dict[str, str] = {
    "email": "[邮箱]",
    "wechat": "[微信号]",
    "qq": "[QQ号]",
    "id_card": "[身份证号]",
    "bank_card": "[银行卡号]",
    "mobile": "[手机号]",
    "landline": "[电话]",
    "long_number": "[号码]",
}

#: (kind, pattern); a pattern's named group ``keep`` (a label such as 微信) is kept in front of the placeholder
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[A-Za-z0-9._%+\-]+\s?[@＠]\s?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")),
    # a WeChat / QQ handle announced as such: 微信号 abc_123, vx：kos2024, QQ 12345678
    ("wechat", re.compile(
        r"(?i)(?P<keep>(?:微信号|微信|vx|wx|v信|weixin|wechat)[\s:：是为]*)[A-Za-z][-_A-Za-z0-9]{5,19}(?![-_A-Za-z0-9])"
    )),
    ("qq", re.compile(r"(?i)(?P<keep>qq[\s:：号是为]*)[1-9][0-9]{4,11}(?![0-9])")),
    # 18-character resident ID (17 digits + digit or X) and the old 15-digit one, also with separators
    ("id_card", re.compile(
        _NOT_D_BEFORE + f"{_D}{{6}}{_SEP}{_D}{{8}}{_SEP}{_D}{{3}}[0-9０-９XxＸｘ]" + r"(?![0-9０-９A-Za-z])"
        + "|" + _NOT_D_BEFORE + f"{_D}{{15}}" + _NOT_D_AFTER
    )),
    # bank cards: 16-19 digits, often in groups of four
    ("bank_card", re.compile(_NOT_D_BEFORE + f"{_D}{{4}}(?:{_SEP}{_D}{{4}}){{3}}(?:{_SEP}{_D}{{1,3}})?" + _NOT_D_AFTER)),
    # mainland mobile: optional +86 / 0086, then 1[3-9]x xxxx xxxx with optional separators
    ("mobile", re.compile(
        r"(?:" + _NOT_D_BEFORE + r"(?:\+|＋|00)?(?:86|８６)[\s\-－]?|" + _NOT_D_BEFORE + ")"
        + f"[1１][3-9３-９]{_D}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}" + _NOT_D_AFTER
    )),
    # landline: 0xx(x)-xxxxxxx(x), area code optionally in brackets
    ("landline", re.compile(
        r"[(（]?" + _NOT_D_BEFORE + f"[0０]{_D}{{2,3}}[)）]?{_SEP}{_D}{{7,8}}" + _NOT_D_AFTER
    )),
    # anything else that looks like an account or document number
    ("long_number", re.compile(_NOT_D_BEFORE + f"{_D}{{9,}}" + _NOT_D_AFTER)),
)


def _mask_one(text: str) -> str:
    for kind, pattern in _PATTERNS:
        token = PERSONAL_DATA_TOKENS[kind]
        if "keep" in pattern.groupindex:
            text = pattern.sub(lambda m, token=token: m.group("keep") + token, text)
        else:
            text = pattern.sub(token, text)
    return text


@overload
def mask_personal_data(text: str) -> str: ...
@overload
def mask_personal_data(text: pd.Series) -> pd.Series: ...
@overload
def mask_personal_data(text: Iterable[Any]) -> list[Any]: ...


def mask_personal_data(text):
    """Replace phone numbers, ID-card numbers and similar personal data in text by placeholders.

    Parameters
    ----------
    text : str, pandas.Series or iterable of str
        Free text. Missing values (None, NaN) are returned unchanged.

    Returns
    -------
    str, pandas.Series or list
        The same kind of object (a Series keeps its index; the input is not
        modified), with

        - e-mail addresses -> ``[邮箱]``;
        - WeChat IDs and QQ numbers announced as such (``微信号 abc123``,
          ``QQ 12345678``) -> ``[微信号]``, ``[QQ号]``;
        - resident ID-card numbers (18 characters, the last a digit or X; or
          the old 15 digits) -> ``[身份证号]``;
        - bank-card numbers (16-19 digits, grouped or not) -> ``[银行卡号]``;
        - mainland mobile numbers (``13812345678``, ``+86 138-1234-5678``,
          full-width digits) -> ``[手机号]``;
        - landlines (``021-12345678``, ``(0755)8765432``) -> ``[电话]``;
        - any other run of 9 or more digits -> ``[号码]``.

    Raises
    ------
    TypeError
        ``text`` is neither text, a Series nor an iterable.

    Notes
    -----
    Patterns follow the formats of GB 11643-1999 (citizen ID number) and the
    mainland numbering plan; they are deliberately loose (an ID number's
    birth date and check digit are not verified), because a missed number is
    worse than a masked order number. Masking is no substitute for keeping
    raw text out of reports: apply it wherever customer text is displayed.

    Examples
    --------
    >>> mask_personal_data("包装破了，我的电话13812345678，身份证号11010519491231002X")
    '包装破了，我的电话[手机号]，身份证号[身份证号]'
    >>> mask_personal_data("加我微信 kos_2024 或发邮件 a.b@example.com")
    '加我微信 [微信号] 或发邮件 [邮箱]'
    """
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return text
    if isinstance(text, str):
        return _mask_one(text)
    if isinstance(text, pd.Series):
        return text.map(lambda v: _mask_one(v) if isinstance(v, str) else v)
    if isinstance(text, Iterable):
        return [_mask_one(v) if isinstance(v, str) else v for v in text]
    raise TypeError(f"text must be a str, a pandas Series or an iterable of str; got {type(text).__name__}")
