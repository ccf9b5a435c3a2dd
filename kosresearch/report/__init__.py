"""Reports: papermill batch runner, HTML rendering, index page, figure theme, text helpers.

The modules import nothing heavy at load time (matplotlib, seaborn, pandas,
papermill and nbconvert are imported inside the functions that use them), so
importing this package stays cheap.
"""

from __future__ import annotations

from kosresearch.data.sources import load_region
from kosresearch.report.headlines import Headline, publish_headlines, read_headlines
from kosresearch.report.render import render_html
from kosresearch.report.runner import JobResult, RunSummary, run_reports
from kosresearch.report.text import label, mask_customer_ids, md_text, pretty, pseudonymise, t, table_label
from kosresearch.report.theme import resolve_cjk_font, set_theme

__all__ = [
    "Headline",
    "JobResult",
    "RunSummary",
    "label",
    "load_region",
    "md_text",
    "pretty",
    "pseudonymise",
    "mask_customer_ids",
    "publish_headlines",
    "read_headlines",
    "render_html",
    "resolve_cjk_font",
    "run_reports",
    "set_theme",
    "t",
    "table_label",
]
