"""Resolving a data source, listing its regions cheaply, opening one region."""

from __future__ import annotations

import pandas as pd
import pytest

from kosresearch.data.sources import load_region, resolve_source, source_regions
from kosresearch.errors import KosParameterError
from kosresearch.paths import project_root, sample_data_dir


def _partitioned(root, regions):
    for region in regions:
        folder = root / "stores" / f"region={region}"
        folder.mkdir(parents=True)
        pd.DataFrame({"store_id": ["S1"]}).to_parquet(folder / "part-0.parquet")
    return root


def test_the_default_source_is_data_samples_found_from_the_package_not_the_cwd(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert sample_data_dir() == project_root() / "data_samples"
    assert project_root() == (project_root() / "kosresearch").parent
    if sample_data_dir().exists():
        assert resolve_source("") == sample_data_dir()
        assert resolve_source(None) == sample_data_dir()


def test_a_missing_source_is_refused_with_its_path(tmp_path):
    with pytest.raises(KosParameterError, match=r"data='.*nope' does not exist"):
        resolve_source(tmp_path / "nope")


def test_regions_are_read_from_the_stores_partition_folders(tmp_path):
    root = _partitioned(tmp_path / "data", ["west", "east"])
    (root / "stores" / "README.txt").write_text("not a partition")
    assert source_regions(root) == ["east", "west"]


def test_region_codes_must_be_ascii_slugs(tmp_path):
    root = _partitioned(tmp_path / "data", ["east", "华东"])
    with pytest.raises(KosParameterError, match=r"region codes that are not ASCII slugs: \['华东'\]"):
        source_regions(root)


@pytest.mark.parametrize("region", ["East", "east;rm", "", "../x", 3])
def test_load_region_refuses_a_region_that_is_not_a_slug(region):
    with pytest.raises(KosParameterError, match="is not a region code"):
        load_region(region)
