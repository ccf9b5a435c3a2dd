"""Induced lexicon terms (version 3): reproducible from the development files, counted as documented."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import yaml

from kosresearch.errors import KosParameterError
from kosresearch.feedback import classify_feedback, load_lexicon
from kosresearch.feedback.classify import TRAINING_FILES, load_training_data
from kosresearch.feedback.induce import INDUCTION, _statistic, induce_terms, induced_yaml


def test_the_committed_induced_terms_are_what_the_script_produces_from_the_development_files():
    from importlib import resources

    data = load_training_data()
    table = induce_terms(data["text"], data["label"])
    expected = induced_yaml(table, settings=INDUCTION, files=TRAINING_FILES, n_texts=len(data))
    committed = resources.files("kosresearch.feedback").joinpath("data", "lexicon_induced.yml").read_text(
        encoding="utf-8")
    assert committed == expected
    loaded = load_lexicon().induced
    assert len(loaded) == len(table) and yaml.safe_load(committed)["settings"] == INDUCTION


def test_the_log_odds_statistic_matches_the_formula_worked_by_hand():
    # "a" in 4 service texts and 1 praise text, "b" in 2 product texts, "c" in 1 text of each category
    counts = {"service": Counter({"a": 4, "c": 1}), "product": Counter({"b": 2, "c": 1}),
              "praise": Counter({"a": 1, "c": 1})}
    out = _statistic(counts, prior_strength=0.5, min_count=1, z_min=-np.inf, scale=1.0).set_index("term")
    # alpha = 0.5 x (5, 2, 3) -> alpha0 = 5; n = (5, 3, 2) over 10 counts
    a, a0 = 2.5, 5.0
    delta = np.log((4 + a) / (5 + a0 - 4 - a)) - np.log((1 + a) / (5 + a0 - 1 - a))
    se = np.sqrt(1 / (4 + a) + 1 / (1 + a))
    assert out.loc["a", "category"] == "service"
    assert out.loc["a", "log_odds"] == pytest.approx(delta) and out.loc["a", "z"] == pytest.approx(delta / se)
    assert out.loc["b", "category"] == "product" and out.loc["a", "weight"] == round(delta, 2)
    kept = _statistic(counts, prior_strength=0.5, min_count=2, z_min=0.5, scale=1.0)
    assert "c" not in set(kept["term"])


def test_induced_terms_are_listed_with_a_star_and_an_extension_can_remove_them():
    lex = load_lexicon()
    term, (cat, weight) = next((t, v) for t, v in lex.induced.items() if v[0] == "praise" and len(t) == 3)
    out = classify_feedback([f"{term}"])
    assert f"{term}*" in out["matched"].iloc[0]
    assert out[f"score_{cat}"].iloc[0] >= weight
    removed = classify_feedback([f"{term}"], lexicon={"induced_terms": {cat: {term: 0}}})
    assert f"{term}*" not in removed["matched"].iloc[0]


@pytest.mark.parametrize(
    ("lexicon", "match"),
    [
        ({"induced_terms": {"refund": {"退款": 1}}}, "induced_terms category 'refund' is unknown"),
        ({"induced_terms": {"service": {"退款": "x"}}}, "induced term weight of '退款'"),
    ],
)
def test_bad_induced_term_extensions_are_refused(lexicon, match):
    with pytest.raises(KosParameterError, match=match):
        load_lexicon(lexicon)


def test_induction_refuses_unequal_or_unknown_labels():
    with pytest.raises(KosParameterError, match="differ in length"):
        induce_terms(["好"], [])
    with pytest.raises(KosParameterError, match="categories \\['refund'\\]"):
        induce_terms(["好"], ["refund"])
