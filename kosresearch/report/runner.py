"""Batch runner: execute every (notebook, region) job with papermill and render HTML reports.

``kosresearch run`` is a thin wrapper around :func:`run_reports`. The runner

1. checks every parameter before any job starts (regions against the data
   source, notebooks against ``notebooks/``, language, number of jobs);
2. executes each job with papermill in a pool of worker processes (each
   worker imports papermill once; kernels talk over IPC sockets, so parallel
   kernel start-ups cannot race for TCP ports);
3. renders each executed notebook to one self-contained HTML file, replacing
   the previous report only when the job succeeded (temporary file + rename);
4. collects each notebook's published headline figures and writes
   ``index.html`` and ``manifest.json``, both atomically.
"""

from __future__ import annotations

import ast
import multiprocessing
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from kosresearch.data.contract import region_label
from kosresearch.data.sources import REGION_PATTERN, resolve_source, source_regions
from kosresearch.errors import KosParameterError
from kosresearch.paths import notebooks_dir as default_notebooks_dir
from kosresearch.report._files import atomic_replace, atomic_write_text, temp_path_beside
from kosresearch.report.manifest import MANIFEST_VERSION, environment, file_sha256, input_hashes, write_manifest
from kosresearch.report.index import render_index
from kosresearch.report.text import check_lang

__all__ = [
    "NOTEBOOK_PATTERN",
    "REQUIRED_PARAMETERS",
    "ReportJob",
    "JobResult",
    "RunSummary",
    "list_notebooks",
    "notebook_parameters",
    "select_regions",
    "select_notebooks",
    "run_reports",
]

#: Report notebooks are ``notebooks/NN_name.ipynb``.
NOTEBOOK_PATTERN = re.compile(r"^(?P<number>\d{2})_(?P<name>[a-z0-9][a-z0-9_]*)\.ipynb$")

#: Parameters every report notebook declares in its ``parameters`` cell.
REQUIRED_PARAMETERS: tuple[str, ...] = ("region", "data", "lang")

JobStatus = Literal["ok", "failed"]


@dataclass(frozen=True)
class ReportJob:
    """One (notebook, region) job, as sent to a worker process.

    Attributes
    ----------
    notebook : str
        Notebook name, the file stem (``00_data_health``).
    region : str
        Region code.
    path : pathlib.Path
        The notebook source file.
    out_dir : pathlib.Path
        Report root; outputs go to ``out_dir/region/notebook.{ipynb,html}``.
    parameters : Mapping[str, str]
        Papermill parameters (checked string values).
    title : str
        HTML page title.
    lang : str
        Report language.
    show_code : bool
        Keep code cells in the HTML.
    cell_timeout : int or None
        Seconds a cell may run.
    start_timeout : int
        Seconds a kernel may take to start.
    """

    notebook: str
    region: str
    path: Path
    out_dir: Path
    parameters: Mapping[str, str]
    title: str
    lang: str
    show_code: bool = False
    cell_timeout: int | None = 1800
    start_timeout: int = 120

    @property
    def key(self) -> str:
        return f"{self.region}/{self.notebook}"


@dataclass(frozen=True)
class JobResult:
    """What happened to one job.

    Attributes
    ----------
    notebook, region : str
        The job.
    status : {"ok", "failed"}
        Outcome.
    seconds : float
        Wall-clock time in the worker, including rendering.
    attempts : int
        Executions tried (a kernel that fails to start is retried once).
    html : str or None
        Report path relative to the output folder, if one exists (for a
        failed job: the previous good report, if any).
    failed_html : str or None
        Rendering of the partially executed notebook of a failed job.
    ename, evalue : str or None
        Error name and message (the failing cell's, for a cell error).
    exec_count : int or None
        Execution count of the failing cell, when known.
    headlines : tuple of dict
        Headline figures published by the notebook.
    """

    notebook: str
    region: str
    status: JobStatus
    seconds: float
    attempts: int = 1
    html: str | None = None
    failed_html: str | None = None
    ename: str | None = None
    evalue: str | None = None
    exec_count: int | None = None
    headlines: tuple[dict[str, Any], ...] = field(default=())

    @property
    def key(self) -> str:
        return f"{self.region}/{self.notebook}"

    def describe_failure(self) -> str:
        """One line naming the job, the failing cell and its error."""
        where = f" at cell In [{self.exec_count}]" if self.exec_count is not None else ""
        see = f" (see {self.failed_html})" if self.failed_html else ""
        return f"FAILED {self.key}{where}: {self.ename}: {self.evalue}{see}"


@dataclass(frozen=True)
class RunSummary:
    """Result of :func:`run_reports`.

    Attributes
    ----------
    results : tuple of JobResult
        One per job, in job order (regions, then notebooks).
    out_dir : pathlib.Path
        Report root.
    index_path, manifest_path : pathlib.Path
        The written index page and manifest.
    seconds : float
        Wall-clock time of the whole run.
    """

    results: tuple[JobResult, ...]
    out_dir: Path
    index_path: Path
    manifest_path: Path
    seconds: float

    @property
    def failures(self) -> tuple[JobResult, ...]:
        return tuple(r for r in self.results if r.status != "ok")

    @property
    def ok(self) -> bool:
        return not self.failures


# --------------------------------------------------------------------------- parameters


def list_notebooks(folder: Path | None = None) -> dict[str, Path]:
    """Return the report notebooks of ``folder`` as ``{name: path}``, sorted by name.

    Only files named ``NN_name.ipynb`` are report notebooks.
    """
    folder = default_notebooks_dir() if folder is None else Path(folder)
    if not folder.is_dir():
        raise KosParameterError(f"notebooks_dir={str(folder)!r} is not a folder")
    return {p.stem: p for p in sorted(folder.iterdir()) if NOTEBOOK_PATTERN.match(p.name)}


def _split_choice(value: str | Sequence[str], *, argument: str) -> list[str] | None:
    """Parse ``"all"`` (→ None) or a comma-separated list / sequence of names."""
    items = value.split(",") if isinstance(value, str) else list(value)
    items = [str(i).strip() for i in items if str(i).strip()]
    if not items:
        raise KosParameterError(f"{argument}={value!r} is empty; give 'all' or a comma-separated list")
    if items == ["all"]:
        return None
    return list(dict.fromkeys(items))


def select_regions(requested: str | Sequence[str], available: Sequence[str]) -> list[str]:
    """Check requested regions against the data source's regions.

    Parameters
    ----------
    requested : str or sequence of str
        ``"all"``, ``"east,south"`` or ``["east", "south"]``.
    available : sequence of str
        Regions of the data source.

    Returns
    -------
    list of str
        Selected regions, in request order (``"all"``: sorted).

    Raises
    ------
    KosParameterError
        If a region is unknown; the message lists the valid ones.
    """
    chosen = _split_choice(requested, argument="regions")
    if not available:
        raise KosParameterError("the data source has no regions (no rows in table stores)")
    if chosen is None:
        return sorted(available)
    unknown = [r for r in chosen if r not in available]
    if unknown:
        raise KosParameterError(
            f"regions={','.join(chosen)!r}: unknown region(s) {unknown}; valid regions: {sorted(available)} or 'all'"
        )
    return chosen


def select_notebooks(requested: str | Sequence[str], available: Mapping[str, Path]) -> dict[str, Path]:
    """Check requested notebook names; ``data_health`` matches ``00_data_health``.

    Raises
    ------
    KosParameterError
        If a notebook is unknown; the message lists the valid ones.
    """
    chosen = _split_choice(requested, argument="notebooks")
    if not available:
        raise KosParameterError("there are no report notebooks (files named NN_name.ipynb)")
    if chosen is None:
        return dict(available)
    short = {NOTEBOOK_PATTERN.match(f"{stem}.ipynb")["name"]: stem for stem in available}
    out: dict[str, Path] = {}
    unknown = []
    for name in chosen:
        stem = name.removesuffix(".ipynb")
        stem = stem if stem in available else short.get(stem, "")
        if stem:
            out[stem] = available[stem]
        else:
            unknown.append(name)
    if unknown:
        raise KosParameterError(
            f"notebooks={','.join(chosen)!r}: unknown notebook(s) {unknown}; valid notebooks: {list(available)} or 'all'"
        )
    return out


def notebook_parameters(path: Path) -> list[str] | None:
    """Return the names assigned in a notebook's ``parameters`` cell (None if it has none).

    Parameters
    ----------
    path : pathlib.Path
        A notebook file.

    Returns
    -------
    list of str or None
        Parameter names in order, or None when no code cell is tagged ``parameters``.

    Raises
    ------
    KosParameterError
        If the parameters cell is not valid Python.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            try:
                tree = ast.parse(cell.source)
            except SyntaxError as exc:
                raise KosParameterError(f"notebook {path.name!r}: its parameters cell is not valid Python: {exc}") from None
            names: list[str] = []
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
                names += [t.id for t in targets if isinstance(t, ast.Name)]
            return names
    return None


def _check_declared_parameters(notebooks: Mapping[str, Path]) -> None:
    for name, path in notebooks.items():
        declared = notebook_parameters(path)
        if declared is None:
            raise KosParameterError(
                f"notebook {name!r} has no cell tagged 'parameters'; every report notebook declares "
                f"{list(REQUIRED_PARAMETERS)} there"
            )
        missing = [p for p in REQUIRED_PARAMETERS if p not in declared]
        if missing:
            raise KosParameterError(
                f"notebook {name!r} does not declare parameter(s) {missing} in its 'parameters' cell; "
                f"every report notebook declares {list(REQUIRED_PARAMETERS)}"
            )


def _check_jobs(jobs: int | None) -> int:
    if jobs is None:
        return os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise KosParameterError(f"jobs={jobs!r} must be an integer >= 1")
    return jobs


def _check_text_parameter(name: str, value: str) -> str:
    if not isinstance(value, str) or any(ord(ch) < 32 for ch in value):
        raise KosParameterError(f"{name}={value!r} must be a string without control characters")
    return value


def _notebook_title(path: Path, lang: str) -> str:
    import nbformat

    meta = nbformat.read(path, as_version=4).metadata.get("kosresearch", {}).get("title", {})
    title = meta.get(lang) if isinstance(meta, Mapping) else None
    return str(title) if title else path.stem


# --------------------------------------------------------------------------- worker side


@lru_cache(maxsize=1)
def _ipc_kernel_manager() -> type:
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        """Kernel manager on IPC (Unix socket) transport: no TCP ports to collide.

        Each kernel gets its own socket path prefix. jupyter_client's default
        prefix is ``kernel-ipc`` in the working directory, which two worker
        processes would share (and then sign each other's messages wrongly).
        """

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = os.path.join(tempfile.gettempdir(), f"kos-ipc-{os.getpid()}-{uuid.uuid4().hex[:12]}")

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client sends SIGINT before every shutdown request; an idle kernel that
            # catches it logs "KeyboardInterrupt caught in kernel" as an ERROR on the worker's
            # stderr after a good run. A kernel that ignores the shutdown request is still
            # terminated, then killed, within shutdown_wait_time.
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

    return IPCKernelManager


def _init_worker() -> None:
    """Prepare a worker process: deterministic kernels, papermill imported once."""
    os.environ["PYTHONHASHSEED"] = "0"
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    import nbformat  # noqa: F401
    import papermill  # noqa: F401

    _ipc_kernel_manager()


def _is_transient(exc: BaseException) -> bool:
    """Kernel start-up failures worth one retry (port races, slow start)."""
    try:
        import zmq

        if isinstance(exc, zmq.ZMQError):
            return True
    except ImportError:  # pragma: no cover
        pass
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "didn't respond" in text or "died before replying" in text or "Address already in use" in text
    )


def _describe(exc: BaseException) -> tuple[str, str, int | None]:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return exc.ename, exc.evalue, exc.exec_count
    lines = str(exc).strip().splitlines()
    return type(exc).__name__, lines[-1] if lines else "", None


def _execute(job: ReportJob, output: Path) -> None:
    import papermill as pm

    pm.execute_notebook(
        str(job.path),
        str(output),
        parameters=dict(job.parameters),
        kernel_name="python3",
        language="python",
        progress_bar=False,
        log_output=False,
        start_timeout=job.start_timeout,
        execution_timeout=job.cell_timeout,
        kernel_manager_class=_ipc_kernel_manager(),
    )


def run_job(job: ReportJob) -> JobResult:
    """Execute and render one job; never raises for a notebook failure.

    On success the executed notebook and its HTML replace
    ``out_dir/region/notebook.{ipynb,html}`` atomically and stale
    ``.failed.*`` files are removed. On failure the previous report is left
    untouched and the partial notebook goes to ``notebook.failed.{ipynb,html}``
    (rendered with code, so the failing cell is visible).

    Parameters
    ----------
    job : ReportJob
        The job.

    Returns
    -------
    JobResult
        Status, timing, error and headline figures.
    """
    from kosresearch.report.headlines import read_headlines
    from kosresearch.report.render import render_html

    import nbformat

    start = time.perf_counter()
    region_dir = job.out_dir / job.region
    final_nb = region_dir / f"{job.notebook}.ipynb"
    final_html = region_dir / f"{job.notebook}.html"
    failed_nb = region_dir / f"{job.notebook}.failed.ipynb"
    failed_html = region_dir / f"{job.notebook}.failed.html"
    tmp_nb = temp_path_beside(final_nb, suffix=".ipynb")
    attempts = 0
    try:
        while True:
            attempts += 1
            try:
                _execute(job, tmp_nb)
                break
            except Exception as exc:
                if attempts < 2 and _is_transient(exc):
                    continue
                raise
        nb = nbformat.read(tmp_nb, as_version=4)
        headlines = tuple(read_headlines(nb))
        page = render_html(nb, title=job.title, lang=job.lang, show_code=job.show_code)
        atomic_write_text(final_html, page)
        atomic_replace(tmp_nb, final_nb)
        failed_nb.unlink(missing_ok=True)
        failed_html.unlink(missing_ok=True)
        return JobResult(
            notebook=job.notebook,
            region=job.region,
            status="ok",
            seconds=time.perf_counter() - start,
            attempts=attempts,
            html=final_html.relative_to(job.out_dir).as_posix(),
            headlines=headlines,
        )
    except Exception as exc:  # a failed job is reported, never raised
        ename, evalue, exec_count = _describe(exc)
        rendered = None
        try:
            if tmp_nb.stat().st_size > 0:
                partial = nbformat.read(tmp_nb, as_version=4)
                page = render_html(partial, title=f"FAILED {job.title}", lang=job.lang, show_code=True)
                atomic_write_text(failed_html, page)
                atomic_replace(tmp_nb, failed_nb)
                rendered = failed_html.relative_to(job.out_dir).as_posix()
        except Exception:  # noqa: BLE001 - diagnosis output is best effort
            rendered = None
        return JobResult(
            notebook=job.notebook,
            region=job.region,
            status="failed",
            seconds=time.perf_counter() - start,
            attempts=attempts,
            html=final_html.relative_to(job.out_dir).as_posix() if final_html.exists() else None,
            failed_html=rendered,
            ename=ename,
            evalue=evalue,
            exec_count=exec_count,
        )
    finally:
        tmp_nb.unlink(missing_ok=True)


# --------------------------------------------------------------------------- main side


def _run_pool(jobs: list[ReportJob], *, workers: int, progress: bool) -> list[JobResult]:
    from tqdm import tqdm

    results: dict[str, JobResult] = {}
    bar = tqdm(total=len(jobs), desc="reports", unit="job", file=sys.stderr, disable=not progress, dynamic_ncols=True)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker) as pool:
        futures: dict[Future[JobResult], ReportJob] = {pool.submit(run_job, job): job for job in jobs}
        try:
            for future in as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # the worker process itself died
                    result = JobResult(
                        notebook=job.notebook,
                        region=job.region,
                        status="failed",
                        seconds=0.0,
                        ename=type(exc).__name__,
                        evalue=str(exc),
                    )
                results[job.key] = result
                bar.set_postfix_str(f"{job.key} {result.status}", refresh=False)
                bar.update(1)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            bar.close()
    return [results[job.key] for job in jobs]


def run_reports(
    *,
    data: str | Path | None = None,
    regions: str | Sequence[str] = "all",
    notebooks: str | Sequence[str] = "all",
    out: str | Path = "reports",
    jobs: int | None = None,
    lang: str = "zh",
    show_code: bool = False,
    notebooks_dir: str | Path | None = None,
    progress: bool = True,
    cell_timeout: int | None = 1800,
    start_timeout: int = 120,
) -> RunSummary:
    """Run every selected notebook for every selected region and build the index.

    Parameters
    ----------
    data : str, pathlib.Path or None, default None
        Data source; ``None`` or ``""`` means the project's ``data_samples/``.
    regions : str or sequence of str, default "all"
        ``"all"`` or region codes (``"east,south"``).
    notebooks : str or sequence of str, default "all"
        ``"all"`` or notebook names, with or without the ``NN_`` prefix.
    out : str or pathlib.Path, default "reports"
        Output folder.
    jobs : int or None, default None
        Worker processes; ``None`` means the number of cores.
    lang : {"zh", "en"}, default "zh"
        Report language.
    show_code : bool, default False
        Keep code (and parameter) cells in the HTML reports.
    notebooks_dir : str, pathlib.Path or None, default None
        Folder of the report notebooks; ``None`` means the project's ``notebooks/``.
    progress : bool, default True
        Show a progress bar on stderr.
    cell_timeout : int or None, default 1800
        Seconds a single cell may run (``None``: no limit).
    start_timeout : int, default 120
        Seconds a kernel may take to start.

    Returns
    -------
    RunSummary
        Per-job results and the paths of the index and manifest.

    Raises
    ------
    KosParameterError
        Before any job starts, if a region, notebook, language or job count is
        not allowed, or a notebook lacks the required parameters.
    """
    lang = check_lang(lang)
    workers = _check_jobs(jobs)
    source = resolve_source(data)
    chosen_regions = select_regions(regions, source_regions(source))
    nb_folder = default_notebooks_dir() if notebooks_dir is None else Path(notebooks_dir).resolve()
    chosen_notebooks = select_notebooks(notebooks, list_notebooks(nb_folder))
    _check_declared_parameters(chosen_notebooks)
    data_parameter = "" if data is None or str(data) == "" else _check_text_parameter("data", str(source))
    for region in chosen_regions:
        if not REGION_PATTERN.match(region):  # pragma: no cover - source_regions already refuses
            raise KosParameterError(f"region={region!r} is not an ASCII slug")

    started_at = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    out_dir = Path(out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    titles = {name: _notebook_title(path, lang) for name, path in chosen_notebooks.items()}
    job_list = [
        ReportJob(
            notebook=name,
            region=region,
            path=path,
            out_dir=out_dir,
            parameters={"region": region, "data": data_parameter, "lang": lang},
            title=f"{titles[name]} · {region_label(region, lang)}",
            lang=lang,
            show_code=bool(show_code),
            cell_timeout=cell_timeout,
            start_timeout=start_timeout,
        )
        for region in chosen_regions
        for name, path in chosen_notebooks.items()
    ]
    inputs = {
        "source": str(source),
        "files": input_hashes(source),
        "notebooks": {name: file_sha256(path) for name, path in chosen_notebooks.items()},
    }
    results = _run_pool(job_list, workers=min(workers, len(job_list)), progress=progress)
    seconds = time.perf_counter() - t0

    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "started_at": started_at.isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "parameters": {
            "data": data_parameter,
            "regions": chosen_regions,
            "notebooks": list(chosen_notebooks),
            "lang": lang,
            "show_code": bool(show_code),
            "jobs": workers,
            "cell_timeout": cell_timeout,
        },
        "inputs": inputs,
        "environment": environment(),
        "jobs": [
            {k: v for k, v in asdict(r).items() if k != "headlines"} | {"seconds": round(r.seconds, 3)}
            for r in results
        ],
        "headlines": {
            region: {r.notebook: list(r.headlines) for r in results if r.region == region and r.status == "ok"}
            for region in chosen_regions
        },
    }
    manifest_path = out_dir / "manifest.json"
    index_path = out_dir / "index.html"
    write_manifest(manifest_path, manifest)
    atomic_write_text(
        index_path,
        render_index(results, regions=chosen_regions, titles=titles, lang=lang, manifest=manifest),
    )
    return RunSummary(
        results=tuple(results),
        out_dir=out_dir,
        index_path=index_path,
        manifest_path=manifest_path,
        seconds=seconds,
    )
