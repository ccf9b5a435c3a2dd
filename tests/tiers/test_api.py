"""The public names and signatures of issue 4 are product API: they must not drift."""

from __future__ import annotations

import inspect

import pytest

import kosresearch as kr
import kosresearch.tiers as tiers
from kosresearch.tiers import transitions


def _params(func):
    return {name: (p.kind, p.default) for name, p in inspect.signature(func).parameters.items()}


KW = inspect.Parameter.KEYWORD_ONLY
POS = inspect.Parameter.POSITIONAL_OR_KEYWORD
EMPTY = inspect.Parameter.empty


@pytest.mark.parametrize(("func", "expected"), [
    (kr.customer_features, {"dataset": (POS, EMPTY), "period": (KW, "M"), "start": (KW, None), "end": (KW, None)}),
    (kr.value_scores, {"features": (POS, EMPTY), "weights": (KW, None)}),
    (kr.assign_tiers, {"scores": (POS, EMPTY), "score_col": (KW, "value_score"), "period_col": (KW, "period"),
                       "method": (KW, "quantile"), "cutoffs": (KW, {"core": 0.90, "potential": 0.60}),
                       "hysteresis": (KW, 0.0)}),
    (kr.transition_matrix, {"data": (POS, EMPTY), "id_col": (KW, EMPTY), "period_col": (KW, EMPTY),
                            "state_col": (KW, EMPTY), "states": (KW, None), "by": (KW, None),
                            "conf_level": (KW, 0.95)}),
    (kr.compare_transitions, {"a": (POS, EMPTY), "b": (POS, None)}),
    (kr.promotion_effect, {"features": (POS, EMPTY), "tier_events": (POS, EMPTY), "outcome": (KW, "spend_next_3m"),
                           "method": (KW, "ipw")}),
    (kr.rising_stars, {"scores": (POS, EMPTY), "tiers": (POS, EMPTY), "top": (KW, 50)}),
    (kr.effort_allocation, {"dataset": (POS, EMPTY), "tiers": (POS, EMPTY)}),
])
def test_issue_signatures_are_kept_and_only_extended_by_keyword_arguments_with_defaults(func, expected):
    got = _params(func)
    names = list(got)
    assert names[: len(expected)] == list(expected)
    for name, (kind, default) in expected.items():
        assert got[name] == (kind, default), name
    for name in names[len(expected):]:
        assert got[name][0] == KW and got[name][1] is not EMPTY, name


def test_transition_result_has_the_chain_methods_of_the_issue():
    for name, params in {"n_step": ["n"], "stationary": [], "mean_first_passage": [],
                         "absorption": ["absorbing"], "project": ["initial", "steps"]}.items():
        sig = list(inspect.signature(getattr(transitions.TransitionResult, name)).parameters)[1:]
        assert sig[: len(params)] == params, name
    assert inspect.signature(transitions.TransitionResult.absorption).parameters["absorbing"].default == ("churned",)


def test_every_result_plot_is_keyword_only_with_an_ax_and_no_kwargs():
    results = [getattr(tiers, n) for n in tiers.__all__ if isinstance(getattr(tiers, n), type)]
    assert len(results) >= 10
    for cls in results:
        params = inspect.signature(cls.plot).parameters
        assert list(params)[:2] == ["self", "ax"], cls
        assert params["ax"].kind == KW and params["ax"].default is None, cls
        assert not any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values()), cls


def test_public_names_are_in_both_lazy_maps():
    for name in ("customer_features", "value_scores", "assign_tiers", "transition_matrix", "compare_transitions",
                 "promotion_effect", "rising_stars", "effort_allocation"):
        assert kr._LAZY[name].startswith("kosresearch.tiers.")
        assert name in tiers.__all__
        assert getattr(kr, name) is getattr(tiers, name)
