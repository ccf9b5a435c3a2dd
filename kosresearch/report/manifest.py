"""The run manifest: what went in (content hashes, parameters, versions), what came out."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from kosresearch.paths import project_root
from kosresearch.report._files import atomic_write_text

__all__ = [
    "MANIFEST_VERSION",
    "TRACKED_PACKAGES",
    "file_sha256",
    "input_hashes",
    "package_versions",
    "git_state",
    "environment",
    "write_manifest",
]

MANIFEST_VERSION = 1

#: Distributions whose versions every manifest records.
TRACKED_PACKAGES: tuple[str, ...] = (
    "kosresearch",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "duckdb",
    "pyarrow",
    "matplotlib",
    "seaborn",
    "mplfonts",
    "papermill",
    "nbclient",
    "nbconvert",
    "nbformat",
    "ipykernel",
    "jupyter_client",
)


def file_sha256(path: Path, *, chunk_size: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def input_hashes(source: Path) -> dict[str, str]:
    """Hash every file of a data source.

    Parameters
    ----------
    source : pathlib.Path
        A data file, or a folder: then every file under it, recursively.

    Returns
    -------
    dict
        ``{path relative to source (POSIX): sha256}`` in sorted order; a
        single-file source is keyed by its file name.
    """
    if source.is_file():
        return {source.name: file_sha256(source)}
    files = sorted(p for p in source.rglob("*") if p.is_file())
    return {p.relative_to(source).as_posix(): file_sha256(p) for p in files}


def package_versions() -> dict[str, str | None]:
    """Return the installed versions of :data:`TRACKED_PACKAGES` and Python."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state(root: Path | None = None) -> dict[str, Any] | None:
    """Return ``{"commit": sha, "dirty": bool}`` of the project checkout, or None without git."""
    root = project_root() if root is None else root

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest`` as indented UTF-8 JSON, atomically."""
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False, allow_nan=False)
    atomic_write_text(path, text + "\n")


def environment() -> dict[str, Any]:
    """Return the environment block of a manifest (interpreter, platform, packages, git)."""
    return {
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "packages": package_versions(),
        "git": git_state(),
    }
