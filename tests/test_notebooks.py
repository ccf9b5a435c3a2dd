"""Report notebooks: thin, parameterised, stripped, and running on data_samples/.

The execution tests need the sample data (``data_samples/truth.json``) and the
loader; they are skipped with a reason when those are missing.
"""

from __future__ import annotations

import json
import re

import nbformat
import papermill as pm
import pytest

from kosresearch.paths import notebooks_dir, sample_data_dir
from kosresearch.report.headlines import read_headlines
from kosresearch.report.runner import REQUIRED_PARAMETERS, list_notebooks, notebook_parameters, run_reports

NOTEBOOKS = list_notebooks(notebooks_dir())
GOLDEN = notebooks_dir().parent / "tests" / "golden"
HAS_SAMPLE = (sample_data_dir() / "truth.json").exists()
needs_sample = pytest.mark.skipif(
    not HAS_SAMPLE, reason="data_samples/truth.json is missing: run `make sample` (the simulator) first"
)

#: the same check as the project's pre-stop hook: logic that belongs in kosresearch/
LOGIC = re.compile(r"\.groupby\(|\.merge\(|\.pivot_table\(|^\s*def |^\s*class |\bfor .* in .*:\s*$|^\s*while ", re.M)


def test_there_are_report_notebooks():
    assert "00_data_health" in NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_notebook_declares_the_report_parameters_in_a_parameters_cell(name):
    path = NOTEBOOKS[name]
    assert notebook_parameters(path) is not None, "no cell tagged 'parameters'"
    inspected = pm.inspect_notebook(str(path))  # papermill must parse every line (comments included)
    for parameter in REQUIRED_PARAMETERS:
        assert inspected[parameter]["inferred_type_name"] == "str", parameter
    assert inspected["data"]["default"] == '""', "data defaults to the project's data_samples/"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_notebook_holds_no_logic(name):
    nb = nbformat.read(NOTEBOOKS[name], as_version=4)
    thick = [c.source for c in nb.cells if c.cell_type == "code" and LOGIC.search(c.source)]
    assert not thick, f"move this logic into kosresearch/: {thick}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_notebook_is_committed_stripped_with_the_python3_kernel(name):
    nb = nbformat.read(NOTEBOOKS[name], as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    tagged = [c for c in nb.cells if "headlines" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "one cell tagged 'headlines' publishes the headline figures"


@pytest.mark.notebook
@needs_sample
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_notebook_runs_with_its_defaults_from_any_working_directory(name, tmp_path):
    pytest.importorskip("kosresearch.data.loader", reason="needs the DuckDB loader")
    nb = pm.execute_notebook(
        str(NOTEBOOKS[name]), str(tmp_path / f"{name}.ipynb"), kernel_name="python3", language="python",
        cwd=str(tmp_path), progress_bar=False,
    )
    headlines = read_headlines(nb)
    assert headlines, "the notebook publishes headline figures"
    assert all(h["estimate"] is not None for h in headlines)


@pytest.mark.notebook
@needs_sample
def test_the_runner_renders_every_notebook_for_a_region_in_english(tmp_path):
    pytest.importorskip("kosresearch.data.loader", reason="needs the DuckDB loader")
    summary = run_reports(regions="south", out=tmp_path, jobs=2, lang="en", progress=False)
    assert summary.ok, [r.describe_failure() for r in summary.failures]
    manifest = json.loads(summary.manifest_path.read_text(encoding="utf-8"))
    assert set(manifest["headlines"]["south"]) == set(NOTEBOOKS)
    assert "truth.json" in manifest["inputs"]["files"]
    from kosresearch import open_dataset

    with open_dataset(sample_data_dir(), regions=["south"], validate=False) as ds:
        customer_ids = set(ds.table("customers", columns=["customer_id"])["customer_id"])
    for name in NOTEBOOKS:
        page = (tmp_path / "south" / f"{name}.html").read_text(encoding="utf-8")
        assert '<html lang="en">' in page and "data:image/png;base64," in page
        assert "Traceback" not in page
        shown = set(re.findall(r"C\d{9}", page)) & customer_ids
        assert not shown, f"{name} shows raw customer IDs: {sorted(shown)[:5]}"


@needs_sample
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_notebook_has_a_golden_copy_for_nbval(name):
    golden = GOLDEN / f"{name}.ipynb"
    assert golden.exists(), f"{golden} is missing: run `make golden` and commit tests/golden/"
    nb = nbformat.read(golden, as_version=4)
    checked = [c for c in nb.cells if c.cell_type == "code" and "# NBVAL_CHECK_OUTPUT" in c.source]
    assert checked and all(c.outputs for c in checked), "golden cells marked NBVAL_CHECK_OUTPUT have outputs"
