"""Command line: ``kosresearch run | simulate | validate`` (also ``python -m kosresearch``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kosresearch import __version__
from kosresearch.errors import KosDataError, KosParameterError

__all__ = ["main", "build_parser"]

_PRESETS = ("sample", "medium", "large")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--jobs={text!r} must be an integer >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--jobs={text!r} must be an integer >= 1")
    return value


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        default="",
        metavar="SRC",
        help="data source: a folder of tables (one file per table, or one folder per table "
        "partitioned by region) or a DuckDB file; default: the project's data_samples/",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``kosresearch`` command."""
    parser = argparse.ArgumentParser(
        prog="kosresearch",
        description="Research reports for Key Opinion Sales (KOS) programmes.",
    )
    parser.add_argument("--version", action="version", version=f"kosresearch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,simulate,validate}")

    run = sub.add_parser(
        "run",
        help="run the report notebooks for each region and write HTML reports",
        description="Execute every selected notebook for every selected region with papermill, "
        "render one self-contained HTML report per (region, notebook) and write "
        "OUT/index.html and OUT/manifest.json. Exits 1 if any job failed.",
    )
    _add_data(run)
    run.add_argument("--regions", default="all", help="'all' or comma-separated region codes, e.g. east,south")
    run.add_argument(
        "--notebooks", default="all", help="'all' or comma-separated notebook names, e.g. 00_data_health or data_health"
    )
    run.add_argument("--out", default="reports", help="output folder (default: reports)")
    run.add_argument(
        "--jobs", type=_positive_int, default=None, metavar="N", help="parallel worker processes (default: number of cores)"
    )
    run.add_argument("--lang", default="zh", choices=("zh", "en"), help="report language (default: zh)")
    run.add_argument("--show-code", action="store_true", help="keep code cells in the HTML reports")
    run.add_argument("--notebooks-dir", default=None, metavar="DIR", help="folder of NN_name.ipynb notebooks (default: the project's notebooks/)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    sim = sub.add_parser(
        "simulate",
        help="generate a dataset with planted truth",
        description="Generate a complete dataset from a preset scenario and write it as Parquet "
        "partitioned by region, plus truth.json.",
    )
    sim.add_argument("--preset", default="sample", choices=_PRESETS, help="scenario size (default: sample)")
    sim.add_argument("--out", required=True, metavar="DIR", help="output folder")
    sim.add_argument("--seed", required=True, type=int, metavar="N", help="random seed (same seed → same data)")

    val = sub.add_parser(
        "validate",
        help="validate a data source against the data contract",
        description="Check a data source against the data contract and print every problem found "
        "(table, column, number of bad rows, examples).",
    )
    _add_data(val)
    val.add_argument("--regions", default="all", help="'all' or comma-separated region codes")
    return parser


def _regions_arg(text: str) -> list[str] | None:
    items = [r.strip() for r in text.split(",") if r.strip()]
    return None if items in ([], ["all"]) else items


def _cmd_run(args: argparse.Namespace) -> int:
    from kosresearch.report.runner import run_reports

    summary = run_reports(
        data=args.data,
        regions=args.regions,
        notebooks=args.notebooks,
        out=args.out,
        jobs=args.jobs,
        lang=args.lang,
        show_code=args.show_code,
        notebooks_dir=args.notebooks_dir,
        progress=not args.no_progress,
    )
    n_ok = len(summary.results) - len(summary.failures)
    print(f"{n_ok}/{len(summary.results)} reports ok in {summary.seconds:.1f} s → {summary.index_path}")
    for failure in summary.failures:
        print(failure.describe_failure(), file=sys.stderr)
    return 0 if summary.ok else 1


def _cmd_simulate(args: argparse.Namespace) -> int:
    from kosresearch.data.simulate import simulate_to_disk

    simulate_to_disk(args.preset, args.out, seed=args.seed)
    print(f"wrote preset {args.preset!r} (seed {args.seed}) to {os.path.abspath(args.out)}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from kosresearch.data.sources import resolve_source
    from kosresearch.data.validate import validation_report

    source = resolve_source(args.data)
    report = validation_report(source, regions=_regions_arg(args.regions))
    if len(report) == 0:
        print(f"{source}: no problems found")
        return 0
    print(f"{source}: {len(report)} problem(s)")
    for message in report["message"]:
        print(f"- {message}")
    return 1


_COMMANDS = {"run": _cmd_run, "simulate": _cmd_simulate, "validate": _cmd_validate}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kosresearch`` command line; return the exit code.

    Exit codes: 0 success, 1 a report job failed or the data have problems,
    2 bad arguments.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except KosParameterError as exc:
        parser.exit(2, f"kosresearch {args.command}: error: {exc}\n")
    except KosDataError as exc:
        print(f"kosresearch {args.command}: data refused: {exc}", file=sys.stderr)
        return 1
    return 0  # pragma: no cover
