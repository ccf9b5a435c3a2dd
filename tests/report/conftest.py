"""Fixtures of the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.report.tiny_reports import failing_notebook, ok_notebook, write_notebook, write_partitioned_data


@pytest.fixture
def tiny_project(tmp_path: Path) -> dict[str, Path]:
    """A data folder with regions east/south and notebooks 00_ok (succeeds) and 01_bad (fails for south)."""
    data = write_partitioned_data(tmp_path / "data")
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks / "00_ok.ipynb", ok_notebook())
    write_notebook(notebooks / "01_bad.ipynb", failing_notebook())
    return {"data": data, "notebooks": notebooks, "out": tmp_path / "reports"}
