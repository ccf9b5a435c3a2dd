"""Render an executed notebook to one self-contained, offline HTML file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from kosresearch.report.text import check_lang

__all__ = ["TEMPLATES_DIR", "HIDDEN_CELL_TAGS", "render_html"]

#: Folder of the nbconvert templates shipped with the package.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: Cells dropped from reports unless code is shown.
HIDDEN_CELL_TAGS: frozenset[str] = frozenset({"parameters", "injected-parameters", "remove_cell"})


@lru_cache(maxsize=8)
def _exporter(show_code: bool, lang: str, slim: bool) -> Any:
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="kos_report_slim" if slim else "kos_report",
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        extra_template_paths=[str(TEMPLATES_DIR)],
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        embed_images=True,
        language_code=lang,
    )
    if not show_code:
        exporter.register_preprocessor(
            TagRemovePreprocessor(remove_cell_tags=set(HIDDEN_CELL_TAGS), enabled=True), enabled=True
        )
    return exporter


def render_html(nb: Any, *, title: str, lang: str = "zh", show_code: bool = False, slim: bool = True) -> str:
    """Render an executed notebook as a self-contained offline HTML page.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (not modified).
    title : str
        Page title; the template HTML-escapes it.
    lang : {"zh", "en"}, default "zh"
        Page language (``<html lang=...>``), so browsers pick Chinese glyph forms.
    show_code : bool, default False
        Show code cells, including the parameters cells. By default only
        outputs and markdown are shown and the ``parameters``,
        ``injected-parameters`` and ``remove_cell`` cells are dropped.
    slim : bool, default True
        Use the slim stylesheet (about 30 KiB per page instead of 270 KiB).

    Returns
    -------
    str
        The HTML document. Figures are inline PNG data URIs; nothing is loaded
        from the network.
    """
    check_lang(lang)
    body, _ = _exporter(bool(show_code), lang, bool(slim)).from_notebook_node(
        nb, resources={"metadata": {"name": title}}
    )
    return body
