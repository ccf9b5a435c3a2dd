"""Helpers of the report tests: a tiny partitioned data folder and throwaway notebooks.

The runner tests do not depend on the real notebooks or the sample data: they
run small notebooks written here, which succeed, fail for one region, or
display hostile strings read from the data.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HOSTILE = "<script>alert(1)</script>"

PARAMETERS = 'region: str = "east"  # region code\ndata: str = ""  # data folder\nlang: str = "zh"  # language'


def _notebook(*cells, title: str | None = None) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}), *cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    if title:
        nb.metadata["kosresearch"] = {"title": {"zh": title, "en": title}}
    return nb


def ok_notebook() -> nbformat.NotebookNode:
    """Reads the stores of its region, shows the (hostile) city name, publishes headlines."""
    return _notebook(
        new_markdown_cell("# Tiny report"),
        new_code_cell(
            "import glob, os\n"
            "import pandas as pd\n"
            "from IPython.display import Markdown, display\n"
            "import kosresearch.report as kr\n"
            "stores = pd.read_parquet(glob.glob(os.path.join(data, 'stores', 'region=' + region, '*.parquet'))[0])\n"
            "city = stores['city'].iloc[0]\n"
            "print('data is', repr(data))"
        ),
        new_code_cell("display(Markdown('City: ' + kr.md_text(city)))\ndisplay(stores)"),
        new_code_cell(
            "kr.publish_headlines([\n"
            "    {'name': 'stores', 'label': city, 'estimate': float(len(stores)), 'unit': ''},\n"
            "    {'name': 'mean_value', 'label': 'Mean value', 'estimate': 12.5, 'conf_low': 10.0,"
            " 'conf_high': 15.0, 'unit': 'CNY'},\n"
            "])",
            metadata={"tags": ["headlines"]},
        ),
        title="Tiny report",
    )


def failing_notebook(*, fail_region: str = "south") -> nbformat.NotebookNode:
    """Succeeds except for one region, where a cell raises ValueError."""
    return _notebook(
        new_code_cell("print('started')"),
        new_code_cell(f"if region == {fail_region!r}:\n    raise ValueError('boom in ' + region)\nprint('fine')"),
    )


def write_notebook(path: Path, nb: nbformat.NotebookNode) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def write_partitioned_data(root: Path, regions=("east", "south")) -> Path:
    """``root/stores/region=<r>/part-0.parquet`` with a hostile city name."""
    for i, region in enumerate(regions):
        folder = root / "stores" / f"region={region}"
        folder.mkdir(parents=True, exist_ok=True)
        frame = pd.DataFrame({"store_id": [f"S{i}0", f"S{i}1"], "city": [HOSTILE, "上海"]})
        frame.to_parquet(folder / "part-0.parquet", index=False)
    return root
