"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_text", "atomic_replace", "temp_path_beside"]


def temp_path_beside(path: Path, *, suffix: str) -> Path:
    """Return a fresh hidden temporary file name in ``path``'s folder.

    The file is created empty (so the name is reserved); it lives on the same
    file system as ``path``, which makes :func:`os.replace` atomic.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    return Path(name)


def atomic_replace(tmp: Path, path: Path) -> None:
    """Move the finished temporary file ``tmp`` over ``path`` (atomic on POSIX)."""
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    tmp = temp_path_beside(path, suffix=path.suffix)
    try:
        tmp.write_text(text, encoding="utf-8")
        atomic_replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
