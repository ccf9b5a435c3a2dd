"""Fixtures of the content tests: the committed sample dataset and its planted truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kosresearch as kr
from kosresearch.content import content_posts

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data_samples"


@pytest.fixture(scope="session")
def sample():
    with kr.open_dataset(SAMPLE) as ds:
        yield ds


@pytest.fixture(scope="session")
def truth():
    return json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def posts(sample):
    return content_posts(sample)
