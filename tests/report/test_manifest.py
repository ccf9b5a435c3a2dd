"""Manifest helpers: content hashes, versions, git state, atomic writes."""

from __future__ import annotations

import hashlib
import json

from kosresearch.report.manifest import git_state, input_hashes, package_versions, write_manifest


def test_a_folder_source_is_hashed_file_by_file_with_posix_relative_names(tmp_path):
    (tmp_path / "orders" / "region=east").mkdir(parents=True)
    (tmp_path / "orders" / "region=east" / "part-0.parquet").write_bytes(b"abc")
    (tmp_path / "truth.json").write_text("{}")
    assert input_hashes(tmp_path) == {
        "orders/region=east/part-0.parquet": hashlib.sha256(b"abc").hexdigest(),
        "truth.json": hashlib.sha256(b"{}").hexdigest(),
    }


def test_a_file_source_is_hashed_by_name(tmp_path):
    db = tmp_path / "kos.duckdb"
    db.write_bytes(b"x" * 3_000_000)
    assert input_hashes(db) == {"kos.duckdb": hashlib.sha256(b"x" * 3_000_000).hexdigest()}


def test_package_versions_include_python_and_the_analysis_stack():
    versions = package_versions()
    assert versions["python"].startswith("3.")
    for name in ("kosresearch", "pandas", "numpy", "duckdb", "statsmodels", "papermill", "nbconvert"):
        assert versions[name]


def test_git_state_is_none_outside_a_repository(tmp_path):
    assert git_state(tmp_path) is None


def test_the_manifest_is_written_atomically_as_utf8_json(tmp_path):
    path = tmp_path / "manifest.json"
    write_manifest(path, {"region": "华东"})
    write_manifest(path, {"region": "华南"})
    assert json.loads(path.read_text(encoding="utf-8")) == {"region": "华南"}
    assert "华南" in path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
