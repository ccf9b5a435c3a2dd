"""Where the project's own files are: resolved from the package, never from the cwd.

Notebooks run with a different working directory under JupyterLab (the
notebook's folder), papermill (the caller's) and nbval (the notebook file's),
so every default path is anchored on this file's location instead.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["project_root", "sample_data_dir", "notebooks_dir"]


def project_root() -> Path:
    """Return the root of the kosresearch source checkout.

    The root is the folder that holds the ``kosresearch`` package, which is
    the repository root for the usual editable install (``pip install -e .``).

    Returns
    -------
    pathlib.Path
        Absolute path of the project root.
    """
    return Path(__file__).resolve().parent.parent


def sample_data_dir() -> Path:
    """Return the project's sample data folder, ``<project root>/data_samples``.

    Returns
    -------
    pathlib.Path
        Absolute path; the folder exists only in a source checkout.
    """
    return project_root() / "data_samples"


def notebooks_dir() -> Path:
    """Return the project's report notebook folder, ``<project root>/notebooks``.

    Returns
    -------
    pathlib.Path
        Absolute path; the folder exists only in a source checkout.
    """
    return project_root() / "notebooks"
