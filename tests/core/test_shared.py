"""Shared result, validation and shrinkage helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, gammaln

from kosresearch._results import Result, normal_interval, tidy_estimates
from kosresearch._shrinkage import fit_beta_prior, funnel_limits, posterior_summary
from kosresearch._validation import check_choice, check_conf_level, check_panel_unique, require_columns
from kosresearch.errors import KosDataError, KosParameterError


def test_tidy_estimates_match_hand_computed_wald_values():
    t = tidy_estimates(["x"], [1.96], [1.0], conf_level=0.95)
    assert t.loc[0, "statistic"] == pytest.approx(1.96)
    assert t.loc[0, "p_value"] == pytest.approx(0.05, abs=1e-4)
    assert t.loc[0, "conf_low"] == pytest.approx(1.96 - 1.959964, abs=1e-5)
    lo, hi = normal_interval(0.0, 1.0, 0.95, df=10)
    assert hi == pytest.approx(2.228139, abs=1e-6)  # t(10) 97.5% quantile


def test_summary_rounds_and_labels_the_interval_level_without_touching_table():
    r = Result(tidy_estimates(["a"], [1.23456], [0.1]), conf_level=0.9)
    s = r.summary()
    assert "CI low (90%)" in s.columns and s.loc[0, "estimate"] == 1.235
    assert r.table.loc[0, "estimate"] == 1.23456
    assert "<td>a</td>" in r._repr_html_()


def test_html_display_escapes_data_strings():
    r = Result(pd.DataFrame({"term": ["<script>alert(1)</script>"], "estimate": [1.0]}), conf_level=0.95)
    html = r._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_require_columns_names_argument_value_and_bad_example():
    df = pd.DataFrame({"rev": ["1", "n/a"], "store": ["a", "b"]})
    with pytest.raises(KosDataError, match=r"outcome_col='revenue' is not a column of data\. Available: \['rev', 'store'\]"):
        require_columns(df, {"outcome_col": "revenue"})
    with pytest.raises(KosDataError, match=r"outcome_col='rev' must be numeric; got dtype .* \(first bad value: 'n/a' at row 1\)"):
        require_columns(df, {"outcome_col": "rev"}, numeric=["outcome_col"])


def test_parameter_checks_list_allowed_values():
    with pytest.raises(KosParameterError, match=r"method='x' is not allowed; choose one of \['a', 'b'\]"):
        check_choice("method", "x", ["a", "b"])
    with pytest.raises(KosParameterError, match="conf_level=95"):
        check_conf_level(95)
    with pytest.raises(KosDataError, match=r"2 rows that repeat the key \['u', 't'\]"):
        check_panel_unique(pd.DataFrame({"u": [1, 1], "t": [2, 2]}), ["u", "t"])


def test_beta_prior_maximises_the_beta_binomial_likelihood():
    rng = np.random.default_rng(3)
    n = rng.integers(5, 400, 300)
    p = rng.beta(4, 36, 300)
    s = rng.binomial(n, p)
    prior = fit_beta_prior(s, n)
    assert prior.mean == pytest.approx(0.1, abs=0.015)
    assert 15 < prior.alpha + prior.beta < 100

    def ll(a, b):
        return np.sum(gammaln(n + 1) - gammaln(s + 1) - gammaln(n - s + 1) + betaln(s + a, n - s + b) - betaln(a, b))

    assert prior.log_likelihood == pytest.approx(ll(prior.alpha, prior.beta))
    for da, db in [(1.05, 1), (0.95, 1), (1, 1.05), (1, 0.95)]:
        assert ll(prior.alpha * da, prior.beta * db) <= prior.log_likelihood + 1e-6


def test_small_samples_are_shrunk_more_than_large_ones():
    prior = fit_beta_prior([3, 400, 10, 12, 8], [4, 1000, 100, 100, 100])
    post = posterior_summary([3, 400], [4, 1000], prior)
    assert post["estimate"][0] < 0.75 and abs(post["estimate"][1] - 0.4) < 0.01
    assert post["conf_high"][0] - post["conf_low"][0] > post["conf_high"][1] - post["conf_low"][1]
    lo, hi = funnel_limits(0.1, [10, 1000])
    assert hi[0] > hi[1] > 0.1 > lo[1] >= lo[0]
