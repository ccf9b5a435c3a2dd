"""HTML rendering: offline, self-contained, code and parameter cells hidden."""

from __future__ import annotations

import re

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from kosresearch.errors import KosParameterError
from kosresearch.report.render import render_html

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def _executed():
    return new_notebook(
        cells=[
            new_code_cell('region = "east"', metadata={"tags": ["parameters"]}),
            new_code_cell('region = "south"', metadata={"tags": ["injected-parameters"]}),
            new_markdown_cell("## Question"),
            new_code_cell("secret_logic = 1\nprint(secret_logic)", outputs=[new_output("stream", name="stdout", text="1\n")]),
            new_code_cell("plot()", outputs=[new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})]),
            new_code_cell("scratch = 2", metadata={"tags": ["remove_cell"]}, outputs=[new_output("stream", name="stdout", text="SCRATCH\n")]),
        ]
    )


def test_a_report_shows_outputs_but_no_code_or_parameters():
    page = render_html(_executed(), title="Report")
    text = re.sub(r"<[^>]+>", "", page)
    assert "secret_logic" not in text and "region" not in text and "SCRATCH" not in text
    assert "Question" in text and "1\n" in text
    assert f"data:image/png;base64,{PNG}" in page


def test_show_code_keeps_code_and_parameter_cells():
    text = re.sub(r"<[^>]+>", "", render_html(_executed(), title="Report", show_code=True))
    assert "secret_logic" in text and 'region = "south"' in text


def test_a_report_is_offline_with_no_external_loads_and_a_strict_csp():
    page = render_html(_executed(), title="Report")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "cdnjs" not in page and "require.js" not in page and "mathjax" not in page.lower()
    assert "Content-Security-Policy" in page
    assert len(page) < 40_000, "the slim template keeps a report small"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_language_and_escaped_title_are_set(lang):
    page = render_html(_executed(), title="华东 <b>", lang=lang)
    assert f'<html lang="{lang}">' in page
    assert "<title>华东 &lt;b&gt;</title>" in page


def test_an_unknown_language_is_refused():
    with pytest.raises(KosParameterError, match="lang='zh-CN' is not supported"):
        render_html(_executed(), title="x", lang="zh-CN")


def test_rendering_does_not_change_the_notebook():
    nb = _executed()
    before = nb.copy()
    render_html(nb, title="x")
    assert nb == before
