"""Reports: papermill batch runner, HTML rendering, index page, figure theme, text helpers.

Names are imported lazily so that importing this package stays cheap (the
theme pulls in matplotlib and seaborn only when used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY: dict[str, str] = {
    "Headline": "kosresearch.report.headlines",
    "publish_headlines": "kosresearch.report.headlines",
    "read_headlines": "kosresearch.report.headlines",
    "set_theme": "kosresearch.report.theme",
    "resolve_cjk_font": "kosresearch.report.theme",
    "render_html": "kosresearch.report.render",
    "run_reports": "kosresearch.report.runner",
    "RunSummary": "kosresearch.report.runner",
    "JobResult": "kosresearch.report.runner",
    "md_text": "kosresearch.report.text",
    "t": "kosresearch.report.text",
    "label": "kosresearch.report.text",
    "pretty": "kosresearch.report.text",
    "pseudonymise": "kosresearch.report.text",
    "load_region": "kosresearch.data.sources",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'kosresearch.report' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from kosresearch.data.sources import load_region
    from kosresearch.report.headlines import Headline, publish_headlines, read_headlines
    from kosresearch.report.render import render_html
    from kosresearch.report.runner import JobResult, RunSummary, run_reports
    from kosresearch.report.text import label, md_text, pretty, pseudonymise, t
    from kosresearch.report.theme import resolve_cjk_font, set_theme
