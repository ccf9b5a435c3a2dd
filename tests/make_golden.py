"""Regenerate the nbval golden notebooks: ``make golden`` (all), or
``python tests/make_golden.py 01_attribution_causality`` (the ones named).

Each report notebook is executed by papermill with its default parameters on
``data_samples/`` (working directory ``tests/golden``, as under nbval), then
slimmed for git: image data and papermill's timing metadata are removed (nbval
never compares images). ``make test`` re-runs the golden notebooks with
``pytest --nbval-lax`` and compares the cells marked ``# NBVAL_CHECK_OUTPUT``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import papermill as pm

from kosresearch.paths import notebooks_dir, sample_data_dir
from kosresearch.report.runner import list_notebooks

GOLDEN = Path(__file__).resolve().parent / "golden"
_DROP_MIME = ("image/png", "image/jpeg", "image/svg+xml")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


def slim(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop image data and run-specific metadata from an executed notebook."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            for mime in _DROP_MIME:
                output.get("data", {}).pop(mime, None)
            # object reprs carry memory addresses that change on every run (git churn only;
            # nbval ignores them anyway)
            plain = output.get("data", {}).get("text/plain")
            if isinstance(plain, str):
                output["data"]["text/plain"] = _ADDRESS.sub(">", plain)
    return nb


def main(selected: list[str]) -> int:
    """Regenerate every golden notebook, or only those named in ``selected`` (file stems)."""
    if not (sample_data_dir() / "truth.json").exists():
        print(f"no sample data at {sample_data_dir()}; run `make sample` first", file=sys.stderr)
        return 1
    GOLDEN.mkdir(exist_ok=True)
    names = list_notebooks(notebooks_dir())
    unknown = sorted(set(selected) - set(names))
    if unknown:
        print(f"unknown notebooks {unknown}; choose from {sorted(names)}", file=sys.stderr)
        return 2
    for stale in GOLDEN.glob("*.ipynb"):
        if stale.stem not in names:
            stale.unlink()
    for name, path in names.items():
        if selected and name not in selected:
            continue
        target = GOLDEN / path.name
        nb = pm.execute_notebook(
            str(path), None, kernel_name="python3", language="python", cwd=str(GOLDEN), progress_bar=False
        )
        nbformat.write(slim(nb), target)
        print(f"wrote {target.relative_to(GOLDEN.parent.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
