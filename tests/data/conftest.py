"""Fixtures of the data tests."""

from __future__ import annotations

import pytest

from tests.data.helpers import Tables, make_tables


@pytest.fixture
def tables() -> Tables:
    """A fresh copy of the clean two-region dataset (east, west)."""
    return make_tables()
