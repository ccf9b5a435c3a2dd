"""Induced terms of the feedback lexicon (version 3): weighted log-odds from the labelled development data.

Regenerate ``kosresearch/feedback/data/lexicon_induced.yml`` (deterministic)::

    python -m kosresearch.feedback.induce            # write the file
    python -m kosresearch.feedback.induce --cv       # the 10-fold cross-validation behind the settings

The hand-written terms of ``lexicon.yml`` stay as they are; the induced terms
are added to them (see ``classify_feedback``).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from kosresearch.errors import KosParameterError
from kosresearch.feedback.classify import (
    CATEGORIES,
    TRAINING_FILES,
    Lexicon,
    _load_lexicon,
    _mask_norm,
    _score,
    load_training_data,
    match_induced,
    tokenize,
)

__all__ = ["INDUCTION", "candidate_terms", "induce_terms", "cross_validate_induction", "induced_yaml"]

#: settings of the induced terms, chosen by 10-fold cross-validation on the development data
#: (``python -m kosresearch.feedback.induce --cv``; README.md in the data folder)
INDUCTION: dict[str, float] = {"prior_strength": 0.1, "min_count": 2, "z_min": 1.28, "scale": 0.5}
#: the settings compared by ``--cv``
CV_GRID: dict[str, list] = {"prior_strength": [0.03, 0.1, 1.0], "min_count": [2, 3, 5],
                            "z_min": [1.28, 1.64, 1.96, 2.58], "scale": [0.25, 0.5, 0.75, 1.0],
                            "prior": ["v2", "data"]}
#: the prior of lexicon version 2 (service, product, praise), compared in the cross-validation
V2_PRIOR = (0.45, 0.30, 0.25)
#: seed of the fold assignment of the cross-validation
CV_SEED = 20261122
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[\u4e00-\u9fff]+|[a-z]{2,}")


def _hand_lexicon() -> Lexicon:
    """The hand-written lexicon alone (no induced terms): the base the terms are induced for."""
    return _load_lexicon(None, with_induced=False)


def candidate_terms(text: str, lexicon: Lexicon | None = None) -> set[str]:
    """Candidate terms of one text: character 2-3-grams and jieba words of 2+ characters.

    Taken from the text after personal data is masked; n-grams of Chinese
    characters only, words of Chinese characters or of two or more Latin
    letters; terms of the hand-written lexicon are left out (they already
    carry a weight).
    """
    lex = lexicon or _hand_lexicon()
    compact = _mask_norm(text)
    grams = {compact[i:i + n] for n in (2, 3) for i in range(len(compact) - n + 1)}
    out = {g for g in grams if _CJK.fullmatch(g)}
    out |= {w for w in tokenize(compact, lex) if len(w) >= 2 and _WORD.fullmatch(w)}
    return {t for t in out if t not in lex.terms}


def induce_terms(
    texts: Iterable[str],
    labels: Iterable[str],
    *,
    prior_strength: float = INDUCTION["prior_strength"],
    min_count: int = int(INDUCTION["min_count"]),
    z_min: float = INDUCTION["z_min"],
    scale: float = INDUCTION["scale"],
    lexicon: Lexicon | None = None,
) -> pd.DataFrame:
    """Terms that mark one category, by the weighted log-odds ratio with an informative Dirichlet prior.

    Parameters
    ----------
    texts, labels : iterable of str
        Labelled feedback texts (labels in ``CATEGORIES``).
    prior_strength : float
        Prior pseudo-counts per observed count: term ``w`` gets
        :math:`\\alpha_w = \\text{prior\\_strength} \\cdot y_w`, its count over all texts.
    min_count : int
        Texts a term must occur in.
    z_min : float
        Smallest z-score kept.
    scale : float
        Weight = ``scale`` x log-odds ratio.
    lexicon : Lexicon, optional
        Hand-written lexicon (tokenizer and the terms left out); default the package's.

    Returns
    -------
    pandas.DataFrame
        The kept terms, one row each: ``term``, ``category`` (the category
        with the largest z), ``n_texts``, ``n_category`` (texts of that
        category holding it), ``log_odds``, ``std_error``, ``z``, ``weight``
        (rounded to 2 decimals); sorted by category, descending weight, term.

    Notes
    -----
    Monroe, Colaresi & Quinn (2008, *Political Analysis* 16(4), eq. 16-22),
    with text frequencies (a term counts once per text) as counts. For
    category :math:`i` against all others :math:`j`,

    .. math::
        \\delta_w = \\log\\frac{y_{iw}+\\alpha_w}{n_i+\\alpha_0-y_{iw}-\\alpha_w}
                  - \\log\\frac{y_{jw}+\\alpha_w}{n_j+\\alpha_0-y_{jw}-\\alpha_w},
        \\quad \\sigma^2_w \\approx \\frac{1}{y_{iw}+\\alpha_w} + \\frac{1}{y_{jw}+\\alpha_w},

    :math:`z_w = \\delta_w / \\sigma_w`, :math:`n` the summed counts and
    :math:`\\alpha_0 = \\sum_w \\alpha_w`.
    """
    lex = lexicon or _hand_lexicon()
    texts = list(texts)
    labels = list(labels)
    if len(texts) != len(labels):
        raise KosParameterError(f"texts and labels differ in length ({len(texts)} vs {len(labels)})")
    bad = sorted(set(labels) - set(CATEGORIES))
    if bad:
        raise KosParameterError(f"labels hold categories {bad} not in {list(CATEGORIES)}")
    counts = {c: Counter() for c in CATEGORIES}
    for text, label in zip(texts, labels):
        counts[label].update(candidate_terms(text, lex))
    return _statistic(counts, prior_strength=prior_strength, min_count=min_count, z_min=z_min, scale=scale)


def _folds(labels: Sequence[str], k: int, seed: int) -> np.ndarray:
    """Stratified fold numbers: within each category, a seeded permutation dealt round-robin."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(labels), dtype=int)
    labels = np.asarray(labels)
    for c in CATEGORIES:
        idx = np.flatnonzero(labels == c)
        fold[rng.permutation(idx)] = np.arange(len(idx)) % k
    return fold


def cross_validate_induction(
    data: pd.DataFrame,
    *,
    grid: dict[str, Sequence] | None = None,
    folds: int = 10,
    seed: int = CV_SEED,
) -> pd.DataFrame:
    """Cross-validated accuracy of the lexicon with terms induced on the other folds, per setting.

    Parameters
    ----------
    data : pandas.DataFrame
        ``text``, ``label`` and ``source`` (as :func:`load_training_data`).
    grid : dict, optional
        Lists of ``prior_strength``, ``min_count``, ``z_min``, ``scale`` and
        ``prior`` (``"v2"``: the prior of lexicon version 2, :data:`V2_PRIOR`;
        ``"data"``: the category shares of the training folds); default the
        single setting of :data:`INDUCTION` with the data prior.
    folds : int, default 10
    seed : int, default :data:`CV_SEED`

    Returns
    -------
    pandas.DataFrame
        One row per setting and one for the hand-written lexicon alone with
        the v2 prior, i.e. lexicon version 2 (``setting`` = ``"hand-written only"``): the settings,
        ``accuracy`` over all texts, one ``accuracy:<source>`` column per
        source file, ``no_term`` (share of texts where no term, pattern or
        question fired) and ``n_terms`` (mean terms induced per fold).
    """
    grid = grid or {**{k: [v] for k, v in INDUCTION.items()}, "prior": ["data"]}
    lex = _hand_lexicon()
    texts = list(data["text"])
    labels = np.asarray(data["label"])
    sources = np.asarray(data["source"])
    fold = _folds(labels, folds, seed)
    hand = np.array([[_score(t, lex)[0][c] for c in CATEGORIES] for t in texts])
    hand_fired = np.array([bool(_score(t, lex)[1]) for t in texts])
    compact = [_mask_norm(t) for t in texts]
    cands = [candidate_terms(t, lex) for t in texts]
    log_prior_v2 = np.log(V2_PRIOR)
    y = np.array([CATEGORIES.index(c) for c in labels])

    def summarise(pred: np.ndarray, fired: np.ndarray) -> dict:
        out = {"accuracy": float(np.mean(pred == y))}
        for src in dict.fromkeys(sources):
            out[f"accuracy:{src}"] = float(np.mean(pred[sources == src] == y[sources == src]))
        out["no_term"] = float(np.mean(~fired))
        return out

    rows = [{"setting": "hand-written only", **summarise((hand + log_prior_v2).argmax(axis=1), hand_fired),
             "n_terms": 0.0}]
    keys = ["prior_strength", "min_count", "z_min", "scale", "prior"]
    # counts per fold once; the settings only change the statistic
    fold_counts = []
    for f in range(folds):
        train = np.flatnonzero(fold != f)
        counts = {c: Counter() for c in CATEGORIES}
        for i in train:
            counts[labels[i]].update(cands[i])
        fold_counts.append(counts)
    for values in itertools.product(*(grid[k] for k in keys)):
        setting = dict(zip(keys, values))
        pred = np.empty(len(texts), dtype=int)
        fired = hand_fired.copy()
        n_terms = []
        for f in range(folds):
            train = np.flatnonzero(fold != f)
            test = np.flatnonzero(fold == f)
            table = _statistic(fold_counts[f], **{k: setting[k] for k in ("prior_strength", "min_count", "z_min", "scale")})
            n_terms.append(len(table))
            induced = {t: (c, w) for t, c, w in zip(table["term"], table["category"], table["weight"])}
            flex = dataclasses.replace(lex, induced=induced)
            if setting["prior"] == "data":
                share = pd.Series(labels[train]).value_counts(normalize=True)
                log_prior = np.log([share[c] for c in CATEGORIES])
            else:
                log_prior = log_prior_v2
            for i in test:
                s = hand[i].copy()
                for term in dict.fromkeys(match_induced(compact[i], flex)):
                    cat, w = induced[term]
                    s[CATEGORIES.index(cat)] += w
                    fired[i] = True
                pred[i] = int(np.argmax(log_prior + s))
        rows.append({"setting": ", ".join(f"{k}={v}" for k, v in setting.items()), **setting,
                     **summarise(pred, fired), "n_terms": float(np.mean(n_terms))})
    return pd.DataFrame(rows)


def _statistic(counts: dict[str, Counter], *, prior_strength: float, min_count: int, z_min: float,
               scale: float) -> pd.DataFrame:
    """The kept terms of :func:`induce_terms` from per-category text counts of the candidates."""
    terms = sorted(set().union(*counts.values()))
    y = np.array([[counts[c][t] for c in CATEGORIES] for t in terms], dtype=float).reshape(-1, len(CATEGORIES))
    total = y.sum(axis=1)
    n = y.sum(axis=0)
    alpha = prior_strength * total
    alpha0 = alpha.sum()
    z = np.empty_like(y)
    delta = np.empty_like(y)
    se = np.empty_like(y)
    for k in range(len(CATEGORIES)):
        yi, yj = y[:, k], total - y[:, k]
        ni, nj = n[k], n.sum() - n[k]
        delta[:, k] = (np.log((yi + alpha) / (ni + alpha0 - yi - alpha))
                       - np.log((yj + alpha) / (nj + alpha0 - yj - alpha)))
        se[:, k] = np.sqrt(1 / (yi + alpha) + 1 / (yj + alpha))
        z[:, k] = delta[:, k] / se[:, k]
    best = z.argmax(axis=1)
    rows = np.arange(len(terms))
    table = pd.DataFrame({
        "term": terms,
        "category": [CATEGORIES[k] for k in best],
        "n_texts": total.astype(int),
        "n_category": y[rows, best].astype(int),
        "log_odds": delta[rows, best],
        "std_error": se[rows, best],
        "z": z[rows, best],
    })
    table = table[(table["n_texts"] >= min_count) & (table["z"] >= z_min)].copy()
    table["weight"] = (scale * table["log_odds"]).round(2)
    table = table[table["weight"] > 0]
    table["category"] = pd.Categorical(table["category"], CATEGORIES)
    table = table.sort_values(["category", "weight", "term"], ascending=[True, False, True], kind="mergesort")
    table["category"] = table["category"].astype(str)
    return table.reset_index(drop=True)


def induced_yaml(table: pd.DataFrame, *, settings: dict, files: Sequence[str], n_texts: int) -> str:
    """The text of ``lexicon_induced.yml`` for an :func:`induce_terms` table (deterministic)."""
    lines = [
        "# Induced terms of the feedback lexicon, version 3 (frozen). GENERATED: do not edit by hand;",
        "# regenerate with `python -m kosresearch.feedback.induce` (see kosresearch/feedback/induce.py).",
        "#",
        "# Each term marks one category by the weighted log-odds ratio with an informative Dirichlet prior",
        "# (Monroe, Colaresi & Quinn 2008, Political Analysis 16(4)) of its text frequency in that",
        "# category against the other two, over the labelled development files below. Candidates are",
        "# character 2-3-grams and jieba words of 2+ characters of the masked text, minus the",
        "# hand-written terms of lexicon.yml. Kept: in at least `min_count` texts and z >= `z_min`;",
        "# weight = `scale` x log-odds ratio (rounded to 2 decimals), chosen by 10-fold cross-validation",
        "# (README.md in this folder).",
        "#",
        "# How they count (classify_feedback, model='lexicon'): on top of the hand-written terms and",
        "# patterns, the text (personal data masked, whitespace removed) is scanned left to right and",
        "# the longest induced term starting at each position is taken (no overlaps); each term found",
        "# adds its weight to its category once; `matched` lists it with a trailing *.",
        "# A brand's extension can reweight or remove one: classify_feedback(..., lexicon={'induced_terms':",
        "# {'product': {'term': 0}}}).",
        "version: 3",
        "method: weighted log-odds ratio, informative Dirichlet prior (Monroe, Colaresi & Quinn 2008)",
        "settings:",
        *[f"  {k}: {v}" for k, v in settings.items()],
        "development_files:",
        *[f"- {f}" for f in files],
        f"development_texts: {n_texts}",
        "terms:",
    ]
    for cat in CATEGORIES:
        part = table[table["category"] == cat]
        lines.append(f"  {cat}:  # {len(part)} terms")
        lines += [f"    {t}: {w:.2f}" for t, w in zip(part["term"], part["weight"])]
    return "\n".join(lines) + "\n"


def _data_path(name: str) -> Path:
    return Path(str(resources.files("kosresearch.feedback").joinpath("data", name)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="print the cross-validation over the settings grid")
    parser.add_argument("--out", default=str(_data_path("lexicon_induced.yml")), help="YAML file to write")
    args = parser.parse_args(argv)
    data = load_training_data()
    if args.cv:
        grid = CV_GRID
        with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_rows", 200):
            print(cross_validate_induction(data, grid=grid).drop(columns="setting").round(3).to_string())
        return 0
    table = induce_terms(data["text"], data["label"])
    Path(args.out).write_text(
        induced_yaml(table, settings=INDUCTION, files=TRAINING_FILES, n_texts=len(data)), encoding="utf-8")
    print(f"wrote {len(table)} induced terms to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
