"""The batch runner: parameter checks, failure isolation, atomic replace, manifest, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from kosresearch.errors import KosParameterError
from kosresearch.report.runner import (
    list_notebooks,
    notebook_parameters,
    run_reports,
    select_notebooks,
    select_regions,
)

from tests.report.tiny_reports import HOSTILE, failing_notebook, ok_notebook, write_notebook, write_partitioned_data

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory):
    """One run of 2 notebooks × 2 regions; 01_bad fails for south."""
    root = tmp_path_factory.mktemp("run")
    data = write_partitioned_data(root / "data")
    notebooks = root / "notebooks"
    write_notebook(notebooks / "00_ok.ipynb", ok_notebook())
    write_notebook(notebooks / "01_bad.ipynb", failing_notebook())
    summary = run_reports(data=data, notebooks_dir=notebooks, out=root / "reports", jobs=2, progress=True)
    return summary


# ----------------------------------------------------------------- parameters, before any job


def test_unknown_region_is_refused_with_the_valid_regions_before_anything_is_written(tiny_project):
    with pytest.raises(KosParameterError, match=r"unknown region\(s\) \['mars'\]; valid regions: \['east', 'south'\]"):
        run_reports(data=tiny_project["data"], regions="east,mars", notebooks_dir=tiny_project["notebooks"],
                    out=tiny_project["out"])
    assert not tiny_project["out"].exists()


def test_unknown_notebook_is_refused_with_the_valid_notebooks(tiny_project):
    with pytest.raises(KosParameterError, match=r"unknown notebook\(s\) \['99_nope'\]; valid notebooks: \['00_ok', '01_bad'\]"):
        run_reports(data=tiny_project["data"], notebooks="ok,99_nope", notebooks_dir=tiny_project["notebooks"],
                    out=tiny_project["out"])
    assert not tiny_project["out"].exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lang": "fr"}, r"lang='fr' is not supported; allowed: \['zh', 'en'\]"),
        ({"jobs": 0}, r"jobs=0 must be an integer >= 1"),
        ({"jobs": 1.5}, r"jobs=1.5 must be an integer >= 1"),
        ({"regions": ""}, r"regions='' is empty"),
        ({"data": "/no/such/folder"}, r"data='/no/such/folder' does not exist"),
    ],
)
def test_bad_parameters_are_refused_with_argument_value_and_allowed_values(tiny_project, kwargs, message):
    args = {"data": tiny_project["data"], "notebooks_dir": tiny_project["notebooks"], "out": tiny_project["out"]}
    with pytest.raises(KosParameterError, match=message):
        run_reports(**(args | kwargs))
    assert not tiny_project["out"].exists()


def test_a_notebook_without_the_report_parameters_is_refused(tiny_project):
    nb = ok_notebook()
    nb.cells[0].source = 'region: str = "east"'
    write_notebook(tiny_project["notebooks"] / "02_partial.ipynb", nb)
    with pytest.raises(KosParameterError, match=r"'02_partial' does not declare parameter\(s\) \['data', 'lang'\]"):
        run_reports(data=tiny_project["data"], notebooks_dir=tiny_project["notebooks"], out=tiny_project["out"])


def test_a_notebook_without_a_parameters_cell_is_refused(tiny_project):
    nb = ok_notebook()
    nb.cells[0].metadata["tags"] = []
    write_notebook(tiny_project["notebooks"] / "02_untagged.ipynb", nb)
    assert notebook_parameters(tiny_project["notebooks"] / "02_untagged.ipynb") is None
    with pytest.raises(KosParameterError, match=r"'02_untagged' has no cell tagged 'parameters'"):
        run_reports(data=tiny_project["data"], notebooks_dir=tiny_project["notebooks"], out=tiny_project["out"])


def test_regions_and_notebooks_are_selected_by_list_or_all(tiny_project):
    assert select_regions("all", ["south", "east"]) == ["east", "south"]
    assert select_regions(" south , east,south", ["east", "south"]) == ["south", "east"]
    available = list_notebooks(tiny_project["notebooks"])
    assert list(available) == ["00_ok", "01_bad"]
    assert list(select_notebooks("bad,00_ok", available)) == ["01_bad", "00_ok"]
    assert list(select_notebooks(["01_bad.ipynb"], available)) == ["01_bad"]


def test_only_nn_name_files_are_report_notebooks(tmp_path):
    for name in ("00_a.ipynb", "1_b.ipynb", "scratch.ipynb", "01_c.py", "02_Upper.ipynb"):
        (tmp_path / name).write_text("{}")
    assert list(list_notebooks(tmp_path)) == ["00_a"]


# ----------------------------------------------------------------- one run, many checks


def test_a_failing_job_does_not_stop_the_others(first_run):
    status = {r.key: r.status for r in first_run.results}
    assert status == {"east/00_ok": "ok", "east/01_bad": "ok", "south/00_ok": "ok", "south/01_bad": "failed"}
    assert not first_run.ok
    for key in ("east/00_ok", "east/01_bad", "south/00_ok"):
        assert (first_run.out_dir / f"{key}.html").is_file()
        assert (first_run.out_dir / f"{key}.ipynb").is_file()


def test_a_failure_names_the_failing_cell_and_its_error(first_run):
    (failure,) = first_run.failures
    assert (failure.ename, failure.evalue) == ("ValueError", "boom in south")
    assert failure.exec_count == 4  # parameters, injected parameters, print, the raising cell
    assert failure.describe_failure() == (
        "FAILED south/01_bad at cell In [4]: ValueError: boom in south (see south/01_bad.failed.html)"
    )


def test_a_failed_job_leaves_a_diagnosis_page_and_no_report(first_run):
    out = first_run.out_dir / "south"
    assert not (out / "01_bad.html").exists()
    assert not (out / "01_bad.ipynb").exists()
    page = (out / "01_bad.failed.html").read_text(encoding="utf-8")
    assert "boom in south" in page
    text = re.sub(r"<[^>]+>", "", page)
    assert "raise ValueError(" in text  # rendered with code, so the failing cell is visible
    assert not list(first_run.out_dir.rglob(".*tmp*")), "temporary files must not be left behind"


def test_reports_hide_code_and_parameters_and_embed_everything(first_run):
    page = (first_run.out_dir / "east" / "00_ok.html").read_text(encoding="utf-8")
    assert "import kosresearch.report as kr" not in page
    assert 'region = "east"' not in page and 'region: str = "east"' not in page
    assert '<html lang="zh">' in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page), "no external loads"
    assert "<title>Tiny report · 华东</title>" in page


def test_hostile_data_strings_appear_as_text_in_reports_and_index(first_run):
    page = (first_run.out_dir / "east" / "00_ok.html").read_text(encoding="utf-8")
    index = first_run.index_path.read_text(encoding="utf-8")
    for html in (page, index):
        assert HOSTILE not in html
        assert "alert(1)" in html  # the text is there, escaped
    assert ESCAPED in index
    assert ESCAPED in page


def test_headlines_are_collected_for_each_successful_job(first_run):
    by_key = {r.key: r for r in first_run.results}
    assert by_key["east/00_ok"].headlines == (
        {"name": "stores", "label": HOSTILE, "estimate": 2.0, "conf_low": None, "conf_high": None, "unit": ""},
        {"name": "mean_value", "label": "Mean value", "estimate": 12.5, "conf_low": 10.0, "conf_high": 15.0, "unit": "CNY"},
    )
    assert by_key["east/01_bad"].headlines == ()


def test_manifest_records_inputs_parameters_versions_timings_and_headlines(first_run):
    manifest = json.loads(first_run.manifest_path.read_text(encoding="utf-8"))
    data = Path(manifest["inputs"]["source"])
    assert set(manifest["inputs"]["files"]) == {"stores/region=east/part-0.parquet", "stores/region=south/part-0.parquet"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in manifest["inputs"]["files"].values())
    assert set(manifest["inputs"]["notebooks"]) == {"00_ok", "01_bad"}
    assert manifest["parameters"] == {
        "data": str(data),
        "regions": ["east", "south"],
        "notebooks": ["00_ok", "01_bad"],
        "lang": "zh",
        "show_code": False,
        "jobs": 2,
        "cell_timeout": 1800,
    }
    packages = manifest["environment"]["packages"]
    for name in ("python", "kosresearch", "pandas", "numpy", "duckdb", "statsmodels", "papermill", "nbconvert"):
        assert packages[name], name
    assert "git" in manifest["environment"]
    jobs = {(j["region"], j["notebook"]): j for j in manifest["jobs"]}
    assert len(jobs) == 4
    assert jobs[("south", "01_bad")]["status"] == "failed"
    assert jobs[("south", "01_bad")]["ename"] == "ValueError"
    assert all(j["seconds"] > 0 for j in jobs.values())
    assert manifest["headlines"]["east"]["00_ok"][1]["conf_high"] == 15.0
    assert "01_bad" not in manifest["headlines"]["south"]


def test_index_lists_regions_by_notebooks_with_status_time_and_links(first_run):
    index = first_run.index_path.read_text(encoding="utf-8")
    assert '<a href="east/00_ok.html">' in index
    assert '<a href="south/01_bad.failed.html">' in index
    assert "ValueError: boom in south" in index
    assert "Mean value: 12.50 [10.00, 15.00] CNY" in index
    assert re.search(r"\d+\.\d s", index)
    assert index.count("<tr>") == 3  # header + 2 regions


def test_progress_bar_shows_jobs_done_out_of_total(tiny_project, capfd):
    run_reports(data=tiny_project["data"], regions="east", notebooks="ok", notebooks_dir=tiny_project["notebooks"],
                out=tiny_project["out"], jobs=1)
    err = capfd.readouterr().err
    assert "reports: 100%" in err
    assert "1/1" in err


# ----------------------------------------------------------------- atomic replace


def test_a_good_report_survives_a_later_failing_run(tiny_project):
    args = {"data": tiny_project["data"], "notebooks_dir": tiny_project["notebooks"], "out": tiny_project["out"],
            "regions": "east", "notebooks": "ok", "jobs": 1, "progress": False}
    assert run_reports(**args).ok
    good_html = (tiny_project["out"] / "east" / "00_ok.html").read_bytes()
    good_nb = (tiny_project["out"] / "east" / "00_ok.ipynb").read_bytes()

    write_notebook(tiny_project["notebooks"] / "00_ok.ipynb", failing_notebook(fail_region="east"))
    summary = run_reports(**args)

    assert not summary.ok
    assert (tiny_project["out"] / "east" / "00_ok.html").read_bytes() == good_html
    assert (tiny_project["out"] / "east" / "00_ok.ipynb").read_bytes() == good_nb
    assert (tiny_project["out"] / "east" / "00_ok.failed.html").is_file()
    (failure,) = summary.failures
    assert failure.html == "east/00_ok.html"  # the index links the previous good report
    assert "previous good report" in summary.index_path.read_text(encoding="utf-8") or "上次成功的报告" in (
        summary.index_path.read_text(encoding="utf-8")
    )

    write_notebook(tiny_project["notebooks"] / "00_ok.ipynb", ok_notebook())
    assert run_reports(**args).ok
    assert not (tiny_project["out"] / "east" / "00_ok.failed.html").exists(), "stale diagnosis pages are removed"
    assert not (tiny_project["out"] / "east" / "00_ok.failed.ipynb").exists()


# ----------------------------------------------------------------- parameters cannot inject code


def test_parameter_values_reach_the_notebook_as_plain_strings(tmp_path):
    data = write_partitioned_data(tmp_path / "da\"ta'; import os #")
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks / "00_ok.ipynb", ok_notebook())
    summary = run_reports(data=data, notebooks_dir=notebooks, out=tmp_path / "out", regions="east", lang="en",
                          show_code=True, jobs=1, progress=False)
    assert summary.ok
    nb = nbformat.read(tmp_path / "out" / "east" / "00_ok.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stdout")
    assert printed == f"data is {str(data)!r}\n"
    page = (tmp_path / "out" / "east" / "00_ok.html").read_text(encoding="utf-8")
    assert "import kosresearch.report as kr" in re.sub(r"<[^>]+>", "", page), "--show-code keeps the code"
    assert '<html lang="en">' in page


# ----------------------------------------------------------------- kernel start-up retry (no kernel needed)


def test_a_kernel_that_fails_to_start_is_retried_once(tmp_path, monkeypatch):
    import kosresearch.report.runner as runner

    calls = []

    def flaky_execute(job, output):
        calls.append(job.key)
        if len(calls) == 1:
            raise RuntimeError("Kernel didn't respond in 60 seconds")
        nbformat.write(ok_notebook(), output)

    monkeypatch.setattr(runner, "_execute", flaky_execute)
    job = runner.ReportJob(notebook="00_ok", region="east", path=tmp_path / "00_ok.ipynb", out_dir=tmp_path,
                           parameters={"region": "east", "data": "", "lang": "zh"}, title="t", lang="zh")
    result = runner.run_job(job)
    assert (result.status, result.attempts, calls) == ("ok", 2, ["east/00_ok", "east/00_ok"])
    assert (tmp_path / "east" / "00_ok.html").is_file()


def test_only_kernel_start_up_errors_count_as_transient():
    import zmq

    from kosresearch.report.runner import _is_transient

    assert _is_transient(zmq.ZMQError(98, "Address already in use"))
    assert _is_transient(RuntimeError("Kernel died before replying to kernel_info"))
    assert not _is_transient(RuntimeError("something else"))
    assert not _is_transient(ValueError("Kernel didn't respond"))


def test_kernels_are_interrupted_for_timeouts_but_not_at_shutdown():
    # jupyter_client sends SIGINT before each shutdown request, and an idle ipykernel then logs
    # "KeyboardInterrupt caught in kernel" as an ERROR after a good run
    import asyncio
    import signal

    from kosresearch.report.runner import _ipc_kernel_manager

    async def scenario() -> list[int]:
        km = _ipc_kernel_manager()(kernel_name="python3")
        sent: list[int] = []
        send = km._async_signal_kernel

        async def spy(signum: int) -> None:
            sent.append(signum)
            await send(signum)

        km._async_signal_kernel = spy
        await km.start_kernel()
        client = km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            await km.interrupt_kernel()  # an execution timeout still interrupts the kernel
            await asyncio.sleep(0.5)
            assert await km.is_alive()
        finally:
            client.stop_channels()
            await km.shutdown_kernel()
        assert not await km.is_alive()
        return sent

    assert asyncio.run(scenario()).count(signal.SIGINT) == 1
