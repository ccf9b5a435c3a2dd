"""The report index page: regions × notebooks with status, run time, headline figures and links."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kosresearch.data.contract import region_label
from kosresearch.report.headlines import format_headline
from kosresearch.report.text import t

if TYPE_CHECKING:  # pragma: no cover
    from kosresearch.report.runner import JobResult

__all__ = ["render_index"]

_INDEX_CSS = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif;
  margin: 0; color: #1f2328; font-size: 14px; line-height: 1.5; }
main { max-width: 1280px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.7em; margin: 0 0 0.3em; }
.meta { color: #57606a; margin: 0 0 1.2em; }
.meta code { font-size: 0.95em; }
table.grid { border-collapse: collapse; width: 100%; }
table.grid th, table.grid td { border: 1px solid #d0d7de; padding: 8px 10px; vertical-align: top; text-align: left; }
table.grid th { background: #f6f8fa; }
.ok { color: #1a7f37; font-weight: bold; }
.failed { color: #cf222e; font-weight: bold; }
.time { color: #57606a; }
.error { color: #cf222e; font-family: ui-monospace, monospace; font-size: 0.9em; white-space: pre-wrap; }
ul.headlines { margin: 0.3em 0 0; padding-left: 1.1em; }
ul.headlines li { font-variant-numeric: tabular-nums; }
"""


def _headline_line(item: Mapping[str, Any]) -> str:
    return html.escape(f"{item.get('label') or item.get('name', '')}: {format_headline(item)}")


def _index_cell(result: JobResult | None, lang: str) -> str:
    e = html.escape
    if result is None:
        return "<td>–</td>"
    parts = []
    status = t("成功", "ok", lang) if result.status == "ok" else t("失败", "failed", lang)
    parts.append(f'<span class="{e(result.status)}">{e(status)}</span> <span class="time">{result.seconds:.1f} s</span>')
    if result.status == "ok" and result.html:
        parts.append(f'<a href="{e(result.html)}">{e(t("查看报告", "open report", lang))}</a>')
    if result.status != "ok":
        where = f"In [{result.exec_count}] " if result.exec_count is not None else ""
        parts.append(f'<div class="error">{e(where + (result.ename or "") + ": " + (result.evalue or ""))}</div>')
        if result.failed_html:
            parts.append(f'<a href="{e(result.failed_html)}">{e(t("失败详情", "failure details", lang))}</a>')
        if result.html:
            parts.append(f'<a href="{e(result.html)}">{e(t("上次成功的报告", "previous good report", lang))}</a>')
    if result.headlines:
        items = "".join(f"<li>{_headline_line(h)}</li>" for h in result.headlines)
        parts.append(f'<ul class="headlines">{items}</ul>')
    return "<td>" + "".join(f"<div>{p}</div>" for p in parts) + "</td>"


def render_index(
    results: Sequence[JobResult],
    *,
    regions: Sequence[str],
    titles: Mapping[str, str],
    lang: str,
    manifest: Mapping[str, Any],
) -> str:
    """Render the index page: regions × notebooks with status, time, headlines and links.

    Every value that reaches the page is HTML-escaped.

    Parameters
    ----------
    results : sequence of JobResult
        The run's job results.
    regions : sequence of str
        Row order.
    titles : mapping of str to str
        Column order and display titles of the notebooks.
    lang : {"zh", "en"}
        Page language.
    manifest : mapping
        The run manifest (for the run information line).

    Returns
    -------
    str
        A self-contained HTML page.
    """
    e = html.escape
    by_key = {(r.region, r.notebook): r for r in results}
    n_failed = sum(r.status != "ok" for r in results)
    git = manifest.get("environment", {}).get("git") or {}
    commit = (git.get("commit") or "")[:12] + (" (dirty)" if git.get("dirty") else "")
    head = "".join(f"<th>{e(titles[name])}<br><code>{e(name)}</code></th>" for name in titles)
    rows = []
    for region in regions:
        cells = "".join(_index_cell(by_key.get((region, name)), lang) for name in titles)
        rows.append(f"<tr><th>{e(region_label(region, lang))}<br><code>{e(region)}</code></th>{cells}</tr>")
    meta = [
        f"{e(t('运行时间', 'run at', lang))}: {e(str(manifest.get('started_at', '')))}",
        f"{e(t('耗时', 'took', lang))}: {float(manifest.get('seconds', 0.0)):.1f} s",
        f"{e(t('数据', 'data', lang))}: <code>{e(str(manifest.get('inputs', {}).get('source', '')))}</code>",
        f"{e(t('代码版本', 'commit', lang))}: <code>{e(commit or '–')}</code>",
        f"{e(t('作业', 'jobs', lang))}: {len(results) - n_failed} {e(t('成功', 'ok', lang))}, "
        f"{n_failed} {e(t('失败', 'failed', lang))}",
        '<a href="manifest.json">manifest.json</a>',
    ]
    title = t("KOS 研究报告", "KOS research reports", lang)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{e(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n"
        f"<title>{e(title)}</title>\n<style>{_INDEX_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{e(title)}</h1>\n<p class=\"meta\">{' · '.join(meta)}</p>\n"
        f'<table class="grid">\n<thead><tr><th>{e(t("区域", "region", lang))}</th>{head}</tr></thead>\n'
        f"<tbody>\n{chr(10).join(rows)}\n</tbody>\n</table>\n</main>\n</body>\n</html>\n"
    )
