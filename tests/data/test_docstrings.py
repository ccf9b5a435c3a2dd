"""The Examples sections of the data modules run and print what they show."""

from __future__ import annotations

import doctest

import pytest

import kosresearch.data._problems
import kosresearch.data.loader
import kosresearch.data.validate


@pytest.mark.parametrize(
    "module",
    [kosresearch.data.loader, kosresearch.data.validate, kosresearch.data._problems],
    ids=lambda m: m.__name__,
)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
