"""Escaping, bilingual labels, display tables and pseudonyms."""

from __future__ import annotations

import doctest

import pandas as pd
import pytest
from IPython.display import Markdown

import kosresearch.report.headlines
import kosresearch.report.text
from kosresearch.errors import KosParameterError
from kosresearch.report.text import label, md_text, pretty, pseudonymise, t, table_label

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "**bold** _it_ `code`"]


@pytest.mark.parametrize("module", [kosresearch.report.text, kosresearch.report.headlines])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("name", HOSTILE)
def test_md_text_leaves_no_live_markup_in_rendered_markdown(name):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    rendered = markdown2html_mistune(f"Customer: {md_text(name)}")
    assert "<script" not in rendered
    assert "<img" not in rendered
    assert "href=" not in rendered
    assert "<strong>" not in rendered and "<code>" not in rendered
    assert "alert(1)" in rendered or "bold" in rendered


def test_md_text_keeps_chinese_and_quotes_and_flattens_newlines():
    assert md_text('王 "小明" 的\n反馈') == '王 "小明" 的 反馈'
    assert isinstance(Markdown(md_text("华东")).data, str)


def test_t_and_labels_pick_the_language():
    assert t("销售额", "sales", "zh") == "销售额"
    assert t("销售额", "sales", "en") == "sales"
    assert label("new_customers", lang="zh") == "新客户数"
    assert label("not_a_label", lang="en") == "not_a_label"
    assert table_label("orders", lang="zh") == "订单"
    assert table_label("orders", lang="en") == "orders"


def test_an_unknown_language_is_refused():
    with pytest.raises(KosParameterError, match=r"lang='fr' is not supported; allowed: \['zh', 'en'\]"):
        t("a", "b", "fr")


def test_pretty_translates_headers_and_escapes_every_value():
    frame = pd.DataFrame(
        {
            "table": ["orders", "kos"],
            "rows": [12345, 2],
            "share_missing": [0.1234, None],
            "first": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "present": [True, False],
            "<b>col</b>": ["<script>alert(1)</script>", "x"],
        }
    )
    html = pretty(frame, lang="zh").to_html()
    assert "<th" in html and ">行数</th>" in html and ">订单</td>" in html
    assert ">12,345</td>" in html and ">12.3%</td>" in html and ">2024-01-01</td>" in html and ">是</td>" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>col</b>" not in html and "&lt;b&gt;col&lt;/b&gt;" in html
    assert list(frame.columns)[0] == "table", "the input is not changed"


def test_pseudonyms_are_stable_short_and_do_not_contain_the_id():
    ids = pd.Series(["C000123", "C000124", None, "C000123"])
    out = pseudonymise(ids, "a-secret-salt")
    assert out[0] == out[3] != out[1]
    assert pd.isna(out[2])
    assert all(len(v) == 12 and v.startswith("C-") and "000123" not in v for v in out.dropna())
    assert pseudonymise("C000123", "a-secret-salt") == out[0]
    assert pseudonymise(["C000123"], "a-secret-salt") == [out[0]]
    assert pseudonymise("C000123", "another-salt") != out[0]


def test_pseudonymise_refuses_a_short_salt_and_a_bad_length():
    with pytest.raises(KosParameterError, match="salt must be a string of at least 8 characters"):
        pseudonymise("C1", "short")
    with pytest.raises(KosParameterError, match="length=3 must be an integer between 6 and 64"):
        pseudonymise("C1", "long-enough-salt", length=3)


def test_displayed_tables_pseudonymise_customer_ids_and_koc_owners(monkeypatch):
    import pandas as pd

    from kosresearch._results import Result
    from kosresearch.report.text import mask_customer_ids, pretty

    monkeypatch.setenv("KOS_PSEUDONYM_SALT", "a-secret-salt")
    df = pd.DataFrame({"owner_type": ["kos", "koc"], "owner_id": ["K0001", "C000000123"],
                       "customer_id": ["C000000001", None], "sales": [1.0, 2.0]})
    masked = mask_customer_ids(df)
    assert masked["owner_id"].tolist()[0] == "K0001"
    assert masked["owner_id"].tolist()[1] == pseudonymise("C000000123", "a-secret-salt")
    assert masked["customer_id"].tolist()[0] == pseudonymise("C000000001", "a-secret-salt")
    assert df["customer_id"].tolist()[0] == "C000000001"  # input untouched
    html = pretty(df, lang="en").to_html()
    assert "C000000123" not in html and "C000000001" not in html and "K0001" in html
    html = Result(df, conf_level=0.95)._repr_html_()
    assert "C000000123" not in html and "C000000001" not in html


def test_default_salt_is_secret_stable_and_outside_the_repository(monkeypatch, tmp_path):
    from kosresearch.report.text import default_salt

    monkeypatch.delenv("KOS_PSEUDONYM_SALT", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    first = default_salt()
    assert len(first) >= 16 and default_salt() == first
    assert (tmp_path / "kosresearch" / "pseudonym-salt").read_text(encoding="utf-8").strip() == first
