"""The Examples sections of the content modules run and print what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["kosresearch.content.rates", "kosresearch.content.effects", "kosresearch.content.benchmark",
           "kosresearch.content.strategy"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # examples must not depend on the working directory
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
