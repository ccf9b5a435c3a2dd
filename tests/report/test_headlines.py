"""Headline figures: validation, the published output, reading them back."""

from __future__ import annotations

import math

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from kosresearch.errors import KosParameterError
from kosresearch.report.headlines import Headline, format_headline, headlines_output, read_headlines


def test_a_headline_keeps_numbers_as_floats_and_non_finite_as_none():
    h = Headline("att", "ATT", 12, conf_low=math.nan, conf_high=math.inf)
    assert (h.estimate, h.conf_low, h.conf_high) == (12.0, None, None)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"name": "Bad Name", "label": "x", "estimate": 1}, r"name='Bad Name' is not a headline name"),
        ({"name": "x", "label": "x", "estimate": "many"}, r"estimate='many' must be a number or None"),
        ({"name": "x", "label": "x", "estimate": True}, r"estimate=True must be a number or None"),
        ({"name": "x", "label": "x", "estimate": 1, "colour": "red"}, r"headline keys \['colour'\] are not allowed"),
        ({"name": "x", "estimate": 1}, r"is incomplete"),
    ],
)
def test_bad_headlines_are_refused_naming_the_field(item, message):
    with pytest.raises(KosParameterError, match=message):
        headlines_output([item])


def test_headline_names_must_be_unique():
    with pytest.raises(KosParameterError, match=r"repeated: \['x'\]"):
        headlines_output([{"name": "x", "label": "a", "estimate": 1}, {"name": "x", "label": "b", "estimate": 2}])


def test_the_output_has_json_for_the_runner_and_escaped_html_for_readers():
    bundle = headlines_output([{"name": "x", "label": "<b>", "estimate": 1234.5, "conf_low": 1000, "conf_high": 1500, "unit": "CNY"}])
    assert bundle["application/json"]["items"][0]["conf_low"] == 1000.0
    assert "&lt;b&gt;" in bundle["text/html"] and "<b>" not in bundle["text/html"]
    assert bundle["text/plain"] == "x: 1,234 [1,000, 1,500] CNY"


def test_format_headline_uses_the_estimates_decimals_for_the_interval():
    assert format_headline(Headline("a", "a", 0.0512, 0.04, 0.061)) == "0.0512 [0.0400, 0.0610]"
    assert format_headline(Headline("a", "a", 5000.0)) == "5,000"


def test_headlines_are_read_back_from_the_tagged_cell_only(tmp_path):
    bundle = headlines_output([{"name": "x", "label": "X", "estimate": 3}])
    tagged = new_code_cell("publish", metadata={"tags": ["headlines"]},
                           outputs=[new_output("display_data", data=bundle)])
    untagged = new_code_cell("other", outputs=[new_output("display_data", data=bundle)])
    path = tmp_path / "nb.ipynb"
    nbformat.write(new_notebook(cells=[untagged, tagged]), path)
    items = read_headlines(nbformat.read(path, as_version=4))
    assert items == [{"name": "x", "label": "X", "estimate": 3.0, "conf_low": None, "conf_high": None, "unit": ""}]
