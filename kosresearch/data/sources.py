"""Resolve a data source and list its regions cheaply; open one region.

These helpers sit in front of :func:`kosresearch.open_dataset`: notebooks call
:func:`load_region`, the report runner calls :func:`resolve_source` and
:func:`source_regions` to check parameters before any job starts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from kosresearch.errors import KosParameterError
from kosresearch.paths import sample_data_dir

if TYPE_CHECKING:  # pragma: no cover
    from kosresearch.data.loader import Dataset

__all__ = ["REGION_PATTERN", "resolve_source", "source_regions", "load_region"]

#: Region codes are ASCII slugs, so they are safe as report parameters and
#: file names (Chinese display labels come from ``contract.REGION_LABELS``).
REGION_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def resolve_source(data: str | Path | None = None) -> Path:
    """Return the absolute path of a data source.

    Parameters
    ----------
    data : str, pathlib.Path or None, default None
        A folder (one file per table, or one folder per table partitioned by
        region) or a DuckDB database file. ``None`` or ``""`` means the
        project's ``data_samples/``, located from the package, not the cwd.

    Returns
    -------
    pathlib.Path
        The resolved, existing path.

    Raises
    ------
    KosParameterError
        If the path does not exist.
    """
    if data is None or str(data) == "":
        path = sample_data_dir()
        if not path.exists():
            raise KosParameterError(
                f"data='' means the project's sample data, but {str(path)!r} does not exist; "
                "run `make sample` or pass a data source explicitly"
            )
        return path
    path = Path(data).expanduser().resolve()
    if not path.exists():
        raise KosParameterError(
            f"data={str(data)!r} does not exist; expected a folder of tables or a DuckDB file"
        )
    return path


def source_regions(source: str | Path | None = None) -> list[str]:
    """List the regions of a data source without validating it.

    For a folder partitioned by region (``stores/region=east/...``) the region
    names are read from the ``stores`` partition folders, which costs no I/O
    beyond a directory listing. Any other source is opened through the loader
    with ``validate=False`` and asked for its regions.

    Parameters
    ----------
    source : str, pathlib.Path or None, default None
        A data source as accepted by :func:`resolve_source`.

    Returns
    -------
    list of str
        Sorted region codes.

    Raises
    ------
    KosParameterError
        If the source does not exist or has a region that is not an ASCII slug.
    """
    path = resolve_source(source)
    regions: set[str] = set()
    stores = path / "stores"
    if path.is_dir() and stores.is_dir():
        regions = {
            p.name.split("=", 1)[1]
            for p in stores.iterdir()
            if p.is_dir() and p.name.startswith("region=")
        }
    if not regions:
        from kosresearch.data.loader import open_dataset

        with open_dataset(path, validate=False) as dataset:
            regions = set(dataset.regions)
    bad = sorted(r for r in regions if not REGION_PATTERN.match(r))
    if bad:
        raise KosParameterError(
            f"data={str(path)!r} has region codes that are not ASCII slugs: {bad}; "
            "region codes must match [a-z][a-z0-9_]* (labels such as 华东 belong in REGION_LABELS)"
        )
    return sorted(regions)


def load_region(region: str, data: str | Path | None = None, *, validate: bool = True) -> Dataset:
    """Open the data of one region.

    Parameters
    ----------
    region : str
        Region code, e.g. ``"east"``.
    data : str, pathlib.Path or None, default None
        Data source; ``None`` or ``""`` means the project's ``data_samples/``.
    validate : bool, default True
        Validate the data against the contract while loading.

    Returns
    -------
    Dataset
        The loader's Dataset restricted to ``region``.

    Raises
    ------
    KosParameterError
        If ``region`` is not an ASCII slug or the source does not exist.
    KosDataError
        If the data break the contract (raised by the loader).

    See Also
    --------
    kosresearch.open_dataset : open several regions or other sources.
    """
    if not isinstance(region, str) or not REGION_PATTERN.match(region):
        raise KosParameterError(
            f"region={region!r} is not a region code; expected an ASCII slug such as 'east'"
        )
    from kosresearch.data.loader import open_dataset

    return open_dataset(resolve_source(data), regions=[region], validate=validate)
