"""Shared fixtures of the tier tests: the committed sample, its planted truth and the tier pipeline on it."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

import kosresearch as kr
from kosresearch.tiers.scoring import assign_tiers, value_scores

matplotlib.use("Agg")

SAMPLE = Path(__file__).resolve().parents[2] / "data_samples"


@pytest.fixture(scope="session")
def sample_dataset():
    ds = kr.open_dataset(SAMPLE)
    yield ds
    ds.close()


@pytest.fixture(scope="session")
def truth() -> dict:
    return json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def truth_tiers() -> pd.DataFrame:
    tt = pd.read_parquet(SAMPLE / "truth_tiers.parquet")
    return tt.astype({"customer_id": str, "period": str, "tier": str})


@pytest.fixture(scope="session")
def sample_features(sample_dataset) -> pd.DataFrame:
    return kr.customer_features(sample_dataset)


@pytest.fixture(scope="session")
def sample_scores(sample_features):
    return value_scores(sample_features)


@pytest.fixture(scope="session")
def sample_tiers(sample_scores):
    return assign_tiers(sample_scores)


@pytest.fixture(autouse=True)
def _pseudonym_salt(monkeypatch):
    """A fixed salt, so that no test writes the machine's salt file under the home folder."""
    monkeypatch.setenv("KOS_PSEUDONYM_SALT", "tiers-test-salt")
