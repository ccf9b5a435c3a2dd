"""Classification of Chinese customer feedback into service / product / praise, and its evaluation."""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from kosresearch._results import Result, new_axes, wilson_interval
from kosresearch._validation import check_choice, check_conf_level
from kosresearch.errors import KosDataError, KosParameterError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "CATEGORIES",
    "Lexicon",
    "load_lexicon",
    "classify_feedback",
    "evaluate_classifier",
    "ClassifierEvaluation",
    "load_evaluation_set",
    "load_training_data",
    "held_out_evaluation",
    "category_agreement",
]

CATEGORIES: tuple[str, ...] = ("service", "product", "praise")
"""Feedback categories: an issue to solve now / a suggestion or defect to route / a success story."""

CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "service": ("服务问题", "service issue"),
    "product": ("产品建议", "product suggestion"),
    "praise": ("表扬", "praise"),
}

Model = Literal["lexicon", "learned"]
_MODELS = ("lexicon", "learned")
#: the labelled files the ``learned`` model is trained on (never the evaluation set)
TRAINING_FILES: tuple[str, ...] = ("dev_set.csv", "dev_set_v1eval.csv", "dev_set_v2eval.csv", "dev_set_v3eval.csv")
#: L2 penalty of the ``learned`` model (fixed before evaluation set 3 was written; unchanged since)
LEARNED_PENALTY = 1.0
_PUNCT = re.compile(r"^[\s,，.。!！?？;；:：、~～…—\-()（）\[\]【】「」“”\"'‘’/|]+$")
_CLAUSE_END = re.compile(r"[,，.。!！?？;；~～…\n]")
_VS = re.compile("[\ufe0e\ufe0f\u200d]")


# --------------------------------------------------------------------------- lexicon


@dataclass(frozen=True)
class Lexicon:
    """A feedback lexicon (see ``kosresearch/feedback/data/lexicon.yml`` for the format).

    Attributes
    ----------
    terms : Mapping[str, tuple[str, float]]
        Term -> (``service`` / ``product`` / ``praise`` / ``complaint`` /
        ``defect``, weight).
    negators : frozenset of str
        Words that turn a following praise term into a complaint.
    service_context : frozenset of str
        Words that route complaints to ``service`` (otherwise ``product``).
    prior : Mapping[str, float]
        Prior share of each category.
    question_weight : float
        Added to ``service`` for a question.
    contrast : frozenset of str
        Contrast words (但是, 不过 ...): the clause after them carries the point.
    contrast_boost, contrast_discount : float
        Factor on non-praise terms after, and on praise terms before, the last contrast word.
    substring_weight : float
        Fraction of its weight a term of two or more characters counts with
        when it occurs in the text but segmentation cut it apart.
    patterns : tuple of (compiled pattern, str, float)
        Regular expression, term class and weight.
    induced : Mapping[str, tuple[str, float]]
        Induced term -> (``service`` / ``product`` / ``praise``, weight):
        terms estimated from the labelled development data
        (``lexicon_induced.yml``, see :mod:`kosresearch.feedback.induce`),
        matched as plain substrings of the text after personal data is
        masked, longest first and without overlap.
    """

    terms: Mapping[str, tuple[str, float]]
    negators: frozenset[str]
    service_context: frozenset[str]
    prior: Mapping[str, float]
    question_weight: float
    contrast: frozenset[str] = frozenset()
    contrast_boost: float = 1.0
    contrast_discount: float = 1.0
    substring_weight: float = 0.0
    patterns: tuple[tuple[re.Pattern, str, float], ...] = ()
    induced: Mapping[str, tuple[str, float]] = field(default_factory=dict)

    @property
    def max_tokens(self) -> int:
        return 3

    @functools.cached_property
    def induced_max_len(self) -> int:
        return max((len(t) for t in self.induced), default=0)


_DEFAULT_LEXICON = "lexicon.yml"
#: classes of lexicon terms: the three categories, complaints (routed to service or product by context)
#: and defects (product, or praise when negated)
_TERM_CLASSES = (*CATEGORIES, "complaint", "defect")


def _read_yaml(source: Any) -> dict:
    import yaml

    if isinstance(source, Mapping):
        return dict(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise KosParameterError(f"lexicon={str(source)!r} is not a file; pass a YAML file or a mapping")
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        if not isinstance(data, Mapping):
            raise KosParameterError(f"lexicon={str(source)!r} must hold a YAML mapping (see lexicon.yml)")
        return dict(data)
    raise KosParameterError(f"lexicon={source!r} must be None, a YAML file path or a mapping")


def _default_yaml(name: str = _DEFAULT_LEXICON) -> dict:
    import yaml

    text = resources.files("kosresearch.feedback").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _check_weight(what: str, term: Any, weight: Any) -> None:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
        raise KosParameterError(f"lexicon {what} weight of {term!r} must be a number of at least 0; got {weight!r}")


def _norm(term: str) -> str:
    return _VS.sub("", str(term)).strip().lower()


def load_lexicon(lexicon: Any = None) -> Lexicon:
    """The package lexicon, with ``lexicon`` (a YAML path or mapping of the same shape) merged over it.

    A term given again takes the new weight (and category); weight 0 removes
    it. ``negators`` and ``service_context`` given are added to the
    defaults; ``prior`` and ``question_weight`` replace them. Induced terms
    (version 3) come from the file the package lexicon names under
    ``induced_file``; an extension may add, reweight or remove them under
    ``induced_terms`` (same shape as ``terms``, categories ``service`` /
    ``product`` / ``praise`` only).

    Raises
    ------
    KosParameterError
        The extension is not a mapping / file, names an unknown category or
        has a negative or non-numeric weight.
    """
    return _load_lexicon(lexicon, with_induced=True)


def _load_lexicon(lexicon: Any, *, with_induced: bool) -> Lexicon:
    """:func:`load_lexicon`; ``with_induced=False`` leaves out the induced file (to induce it anew)."""
    base = _default_yaml()
    terms: dict[str, tuple[str, float]] = {}
    induced: dict[str, tuple[str, float]] = {}
    layers = [base] if lexicon is None else [base, _read_yaml(lexicon)]
    if with_induced and base.get("induced_file"):
        base = {**base, "induced_terms": _default_yaml(base["induced_file"])["terms"]}
        layers[0] = base
    negators: set[str] = set()
    context: set[str] = set()
    contrast: set[str] = set()
    patterns: dict[str, tuple[re.Pattern, str, float]] = {}
    prior = dict(base["prior"])
    numbers = {k: float(base[k]) for k in ("question_weight", "contrast_boost", "contrast_discount", "substring_weight")}
    for layer in layers:
        for cat, entries in (layer.get("terms") or {}).items():
            if cat not in _TERM_CLASSES:
                raise KosParameterError(f"lexicon terms category {cat!r} is unknown; use one of {list(_TERM_CLASSES)}")
            for term, weight in (entries or {}).items():
                _check_weight("term", term, weight)
                key = _norm(term)
                if weight == 0:
                    terms.pop(key, None)
                else:
                    terms[key] = (cat, float(weight))
        for cat, entries in (layer.get("induced_terms") or {}).items():
            if cat not in CATEGORIES:
                raise KosParameterError(f"lexicon induced_terms category {cat!r} is unknown; use one of {list(CATEGORIES)}")
            for term, weight in (entries or {}).items():
                _check_weight("induced term", term, weight)
                key = _norm(term)
                if weight == 0:
                    induced.pop(key, None)
                elif key:
                    induced[key] = (cat, float(weight))
        negators |= {_norm(x) for x in layer.get("negators") or ()}
        context |= {_norm(x) for x in layer.get("service_context") or ()}
        contrast |= {_norm(x) for x in layer.get("contrast") or ()}
        for entry in layer.get("patterns") or ():
            try:
                text, cat, weight = entry["pattern"], entry["category"], entry["weight"]
                compiled = re.compile(text)
            except (KeyError, TypeError, re.error) as exc:
                raise KosParameterError(
                    f"lexicon pattern {entry!r} must be a mapping with a valid regular expression 'pattern', "
                    f"a 'category' and a 'weight' ({exc})"
                ) from None
            if cat not in _TERM_CLASSES:
                raise KosParameterError(f"lexicon pattern category {cat!r} is unknown; use one of {list(_TERM_CLASSES)}")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
                raise KosParameterError(f"lexicon pattern weight of {text!r} must be a number of at least 0")
            if weight == 0:
                patterns.pop(text, None)
            else:
                patterns[text] = (compiled, cat, float(weight))
        if layer is not base:
            if "prior" in layer:
                prior = dict(layer["prior"])
            for key in numbers:
                if key in layer:
                    value = layer[key]
                    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                        raise KosParameterError(f"lexicon {key}={value!r} must be a number of at least 0")
                    numbers[key] = float(value)
    if set(prior) != set(CATEGORIES) or any(float(v) <= 0 for v in prior.values()):
        raise KosParameterError(f"lexicon prior={prior!r} must give each of {list(CATEGORIES)} a share above 0")
    total = sum(float(v) for v in prior.values())
    return Lexicon(
        terms=terms,
        negators=frozenset(negators),
        service_context=frozenset(context),
        prior={k: float(v) / total for k, v in prior.items()},
        question_weight=numbers["question_weight"],
        contrast=frozenset(contrast),
        contrast_boost=numbers["contrast_boost"],
        contrast_discount=numbers["contrast_discount"],
        substring_weight=numbers["substring_weight"],
        patterns=tuple(patterns.values()),
        induced=induced,
    )


@functools.lru_cache(maxsize=4)
def _tokenizer(words: tuple[str, ...]):
    """A private jieba tokenizer that cuts every lexicon term as one word (the global one is left alone)."""
    import jieba

    logger = jieba.default_logger
    level = logger.level
    logger.setLevel(logging.WARNING)  # jieba logs its dictionary loading at DEBUG to stderr
    try:
        tok = jieba.Tokenizer()
        tok.initialize()
        for w in words:
            if w.strip():
                tok.add_word(w)
    finally:
        logger.setLevel(level)
    return tok


@functools.lru_cache(maxsize=4)
def _default_lexicon() -> Lexicon:
    return load_lexicon(None)


def tokenize(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Segment ``text`` with the lexicon-aware jieba tokenizer (lower-cased, emoji joiners removed)."""
    lex = lexicon or _default_lexicon()
    tok = _tokenizer(tuple(sorted(lex.terms)))
    return [t for t in tok.lcut(_norm_text(text), HMM=False) if t.strip()]


def _norm_text(text: str) -> str:
    return _VS.sub("", text).lower()


_NEGATOR_CHARS = ("不", "没", "别", "未", "无")


def _score(text: str, lex: Lexicon) -> tuple[dict[str, float], list[str]]:
    """Category scores of one text and the lexicon terms that produced them."""
    tokens = tokenize(text, lex)
    n = len(tokens)
    contrast_at = max((i for i, t in enumerate(tokens) if t in lex.contrast), default=-1)
    # 1. token matches, longest first, within clauses
    hits: list[tuple[str, int, bool]] = []  # (term, token position, negated)
    i = 0
    clause_start = 0
    while i < n:
        if _PUNCT.match(tokens[i]):
            clause_start = i + 1
            i += 1
            continue
        for k in range(min(lex.max_tokens, n - i), 0, -1):
            span = tokens[i:i + k]
            if any(_PUNCT.match(t) for t in span):
                continue
            cand = "".join(span)
            if cand in lex.terms:
                before = tokens[max(clause_start, i - 2):i]
                negated = lex.terms[cand][0] in ("praise", "defect") and any(b in lex.negators for b in before)
                hits.append((cand, i, negated))
                i += k
                break
        else:
            i += 1
    scores = dict.fromkeys(CATEGORIES, 0.0)
    matched: list[str] = []
    seen: set[str] = set()
    complaint = 0.0

    def add(term: str, cat: str, weight: float, negated: bool, after_contrast: bool | None) -> None:
        nonlocal complaint
        if negated:  # 不好用 -> complaint, 不油腻 -> praise
            cat = "complaint" if cat == "praise" else "praise"
        positive = cat == "praise"
        if after_contrast is not None and contrast_at >= 0:
            if after_contrast and not positive:
                weight *= lex.contrast_boost
            elif not after_contrast and positive:
                weight *= lex.contrast_discount
        if cat == "complaint":
            complaint += weight
        else:
            scores["product" if cat == "defect" else cat] += weight
        matched.append(f"{term}(-)" if negated else term)

    for term, pos, negated in hits:
        if term in seen:
            continue
        seen.add(term)
        add(term, lex.terms[term][0], lex.terms[term][1], negated, pos > contrast_at)
    # 2. terms that segmentation cut apart, at a fraction of their weight
    norm = _norm_text(text)
    if lex.substring_weight > 0:
        for term, (cat, weight) in lex.terms.items():
            if cat == "complaint" or len(term) < 2 or term in seen or term not in norm:
                continue
            if any(term in s for s in seen):
                continue
            seen.add(term)
            at = norm.find(term)
            negated = cat in ("praise", "defect") and any(ch in norm[max(0, at - 2):at] for ch in _NEGATOR_CHARS)
            add(term, cat, weight * lex.substring_weight, negated, None)
    # 3. patterns
    for compiled, cat, weight in lex.patterns:
        m = compiled.search(norm)
        if m is not None:
            add(f"/{m.group(0)}/", cat, weight, False, None)
    if complaint:
        to = "service" if any(w in norm for w in lex.service_context) else "product"
        scores[to] += complaint
    # 4. induced terms, on the masked text, longest first without overlap
    for term in dict.fromkeys(match_induced(_mask_norm(text), lex)):  # once per text, as induced
        cat, weight = lex.induced[term]
        scores[cat] += weight
        matched.append(f"{term}*")
    clauses = [c.strip() for c in _CLAUSE_END.split(norm)]
    if "?" in norm or "？" in norm or any(c.endswith(("吗", "呢")) for c in clauses if c):
        scores["service"] += lex.question_weight
        matched.append("?")
    return scores, matched


def _mask_norm(text: str) -> str:
    """The text as induced terms are matched in: personal data masked, normalised, whitespace removed."""
    from kosresearch.privacy import mask_personal_data

    return re.sub(r"\s+", "", _norm_text(mask_personal_data(text)))


def match_induced(compact: str, lex: Lexicon) -> list[str]:
    """Induced terms found in ``compact`` (see :func:`_mask_norm`): left to right, longest first, no overlap."""
    found: list[str] = []
    if not lex.induced:
        return found
    i, n, longest = 0, len(compact), lex.induced_max_len
    while i < n:
        for k in range(min(longest, n - i), 0, -1):
            cand = compact[i:i + k]
            if cand in lex.induced:
                found.append(cand)
                i += k
                break
        else:
            i += 1
    return found


# --------------------------------------------------------------------------- learned model


def _features(text: str, lex: Lexicon) -> set[str]:
    """Binary features of a text: character 1-3-grams and jieba words, after masking personal data."""
    from kosresearch.privacy import mask_personal_data

    masked = mask_personal_data(text)
    compact = re.sub(r"\s+", "", _norm_text(masked))
    feats = {f"c:{compact[i:i + n]}" for n in (1, 2, 3) for i in range(len(compact) - n + 1)}
    feats |= {f"w:{t}" for t in tokenize(masked, lex)}
    return feats


@dataclass(frozen=True)
class _LearnedModel:
    vocab: Mapping[str, int]
    weights: np.ndarray  # (features, categories)
    intercept: np.ndarray  # (categories,)
    n_train: int

    def design(self, feats: list[set[str]]):
        from scipy import sparse

        rows, cols = [], []
        for r, f in enumerate(feats):
            for k in f:
                j = self.vocab.get(k)
                if j is not None:
                    rows.append(r)
                    cols.append(j)
        return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(feats), len(self.vocab)))


def fit_learned_model(texts: Iterable[str], labels: Iterable[str], *, penalty: float = LEARNED_PENALTY,
                      min_count: int = 2) -> _LearnedModel:
    """Fit the L2-penalised multinomial logistic regression of the ``learned`` model.

    Features are binary character 1-3-grams and jieba words seen in at least
    ``min_count`` training texts; intercepts are not penalised. Fitted by
    L-BFGS (deterministic: zero start).
    """
    from scipy import optimize, sparse

    lex = _default_lexicon()
    texts = list(texts)
    y = np.array([CATEGORIES.index(c) for c in labels])
    feats = [_features(t, lex) for t in texts]
    counts: dict[str, int] = {}
    for f in feats:
        for k in f:
            counts[k] = counts.get(k, 0) + 1
    vocab = {k: i for i, k in enumerate(sorted(k for k, c in counts.items() if c >= min_count))}
    model = _LearnedModel(vocab, np.zeros((len(vocab), len(CATEGORIES))), np.zeros(len(CATEGORIES)), len(texts))
    X = model.design(feats)
    n, p = X.shape
    K = len(CATEGORIES)
    Y = np.eye(K)[y]
    XT = sparse.csr_matrix(X.T)

    def loss(w: np.ndarray):
        W = w[: p * K].reshape(p, K)
        b = w[p * K:]
        Z = X @ W + b
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        value = -np.sum(Y * np.log(P + 1e-300)) + penalty * np.sum(W * W)
        G = XT @ (P - Y) + 2 * penalty * W
        return value, np.concatenate([np.asarray(G).ravel(), (P - Y).sum(axis=0)])

    res = optimize.minimize(loss, np.zeros(p * K + K), jac=True, method="L-BFGS-B",
                            options={"maxiter": 2000, "gtol": 1e-6})
    return _LearnedModel(vocab, res.x[: p * K].reshape(p, K), res.x[p * K:], len(texts))


def load_training_data() -> pd.DataFrame:
    """The labelled texts the ``learned`` model is trained on (``TRAINING_FILES``): ``id, text, label, source``."""
    frames = []
    for name in TRAINING_FILES:
        path = resources.files("kosresearch.feedback").joinpath("data", name)
        with path.open(encoding="utf-8") as fh:
            frame = pd.read_csv(fh, dtype="str", keep_default_na=False)
        frames.append(frame[["id", "text", "label"]].assign(source=name))
    return pd.concat(frames, ignore_index=True)


@functools.lru_cache(maxsize=1)
def _learned_model() -> _LearnedModel:
    data = load_training_data()
    return fit_learned_model(data["text"], data["label"])


def _predict_learned(texts: list[str]) -> tuple[np.ndarray, list[str]]:
    model = _learned_model()
    lex = _default_lexicon()
    feats = [_features(t, lex) for t in texts]
    X = model.design(feats)
    Z = np.asarray(X @ model.weights) + model.intercept
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    k = P.argmax(axis=1)
    # the words that pushed most towards the chosen category (never digits: the text was masked)
    inv = {j: f for f, j in model.vocab.items()}
    why = []
    for r in range(len(texts)):
        cols = X.indices[X.indptr[r]:X.indptr[r + 1]]
        contrib = model.weights[cols, k[r]] - model.weights[cols].mean(axis=1)
        top = [inv[c][2:] for c in cols[np.argsort(-contrib)]
               if inv[c].startswith("w:") and re.search(r"[\w\u4e00-\u9fff]", inv[c][2:]) and "[" not in inv[c]][:3]
        why.append("、".join(top))
    return P, why


def classify_feedback(
    texts: Iterable[str] | pd.Series | str,
    *,
    model: Model = "lexicon",
    lexicon: Any = None,
) -> pd.DataFrame:
    """Classify Chinese feedback texts as ``service``, ``product`` or ``praise``, with a confidence.

    Parameters
    ----------
    texts : iterable of str, pandas.Series or str
        Feedback texts. Missing or empty texts get no category.
    model : {"lexicon", "learned"}, default "lexicon"
        Classifier. ``lexicon``: jieba segmentation plus the weighted, documented
        lexicon ``kosresearch/feedback/data/lexicon.yml`` (transparent,
        extendable with ``lexicon=``). ``learned``: an L2-penalised multinomial
        logistic regression over jieba words and character 1-3-grams, trained
        (on first use, a few seconds) on the 1,136 labelled development texts
        shipped with the package (see Notes).
    lexicon : str, path or mapping, optional
        Extension merged over the package lexicon (same YAML shape; see
        :func:`load_lexicon`), e.g. a brand's product words.

    Returns
    -------
    pandas.DataFrame
        One row per text, in input order (a Series input keeps its index):
        ``category``, ``confidence`` (probability of the chosen category
        under the model, between 1/3 and 1), ``score_service``,
        ``score_product``, ``score_praise`` (summed term weights) and
        ``matched`` (the lexicon terms found, ``(-)`` marking negated
        praise or defects, ``*`` induced terms; for ``learned``, the three words that pushed most
        towards the category, from the text after personal data is masked).
        For ``learned`` the scores are the three class probabilities.

    Raises
    ------
    KosParameterError
        Unknown ``model`` or a bad ``lexicon``.

    See Also
    --------
    evaluate_classifier : accuracy, per-class precision / recall, confusion matrix.
    load_evaluation_set : the labelled evaluation set written for the project.

    Notes
    -----
    The categories follow the routing of a KOS feedback loop: ``service``
    needs action for this customer now (delivery, returns, how-to,
    appointments, complaints about staff), ``product`` goes to the brand
    (defects, suggestions, assortment), ``praise`` is a success story. The
    text is segmented by jieba (Sun 2012-, https://github.com/fxsjy/jieba)
    with the lexicon's terms added to its dictionary; terms are matched
    longest-first and a praise word after a negator (不, 没 ...) counts as a
    complaint, routed to service when the text names staff, delivery or
    installation and to product otherwise. Version 3 adds about 1,100
    induced terms (``lexicon_induced.yml``: character 2-3-grams and words
    that mark a category in the labelled development data by the weighted
    log-odds ratio of Monroe, Colaresi & Quinn 2008; see
    :mod:`kosresearch.feedback.induce`), matched on the masked text. Scores
    become probabilities :math:`p_c \\propto \\pi_c e^{s_c}` with the
    lexicon's prior :math:`\\pi` (the category shares of the development
    data); a text without any term gets the prior's most common category
    with low confidence. The confidence is a heuristic
    score, not a calibrated probability: check it against the evaluation
    set.

    The ``learned`` model is a multinomial logistic regression (penalty
    :data:`LEARNED_PENALTY`) on binary features; see
    :func:`fit_learned_model`. Accuracy of both models on the project's
    held-out evaluation set, and the history of earlier evaluation sets, are
    in ``kosresearch/feedback/data/README.md``.

    Examples
    --------
    >>> from kosresearch.feedback import classify_feedback
    >>> classify_feedback(["快递三天了还没到，能帮忙催一下吗", "建议出个小容量旅行装", "导购超级耐心，点赞"])["category"].tolist()
    ['service', 'product', 'praise']
    """
    check_choice("model", model, _MODELS)
    if model == "learned" and lexicon is not None:
        raise KosParameterError("lexicon= extends the lexicon model only; the learned model does not use it")
    lex = _default_lexicon() if lexicon is None else load_lexicon(lexicon)
    if isinstance(texts, str):
        texts = [texts]
    index = texts.index if isinstance(texts, pd.Series) else None
    values = list(texts)
    if model == "learned":
        ok = [i for i, t in enumerate(values) if isinstance(t, str) and t.strip()]
        P, why = _predict_learned([values[i] for i in ok]) if ok else (np.zeros((0, 3)), [])
        out = pd.DataFrame({"category": pd.Series([None] * len(values), dtype="object"),
                            "confidence": np.nan, "score_service": np.nan, "score_product": np.nan,
                            "score_praise": np.nan, "matched": ""})
        if ok:
            out.loc[ok, "category"] = [CATEGORIES[j] for j in P.argmax(axis=1)]
            out.loc[ok, "confidence"] = P.max(axis=1)
            for j, c in enumerate(CATEGORIES):
                out.loc[ok, f"score_{c}"] = P[:, j]
            out.loc[ok, "matched"] = why
        if index is not None:
            out.index = index
        return out
    rows = []
    prior = np.array([lex.prior[c] for c in CATEGORIES])
    for text in values:
        if not isinstance(text, str) or not text.strip():
            rows.append((None, np.nan, np.nan, np.nan, np.nan, ""))
            continue
        scores, matched = _score(text, lex)
        s = np.array([scores[c] for c in CATEGORIES])
        logp = np.log(prior) + s
        p = np.exp(logp - logp.max())
        p /= p.sum()
        k = int(np.argmax(p))
        rows.append((CATEGORIES[k], float(p[k]), *s.tolist(), "、".join(matched)))
    out = pd.DataFrame(rows, columns=["category", "confidence", "score_service", "score_product", "score_praise",
                                      "matched"])
    if index is not None:
        out.index = index
    return out


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class ClassifierEvaluation(Result):
    """Agreement of predicted with reference categories.

    Attributes
    ----------
    table : DataFrame
        ``term`` (``accuracy``, ``kappa``, then ``precision:<class>``,
        ``recall:<class>``, ``f1:<class>``), ``estimate``, ``conf_low``,
        ``conf_high`` (Wilson intervals for proportions, a normal interval for
        kappa, none for F1), ``n`` (items the proportion is over).
    conf_level : float
    confusion : DataFrame
        Counts, reference categories in rows, predicted in columns.
    """

    confusion: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def accuracy(self) -> float:
        return float(self.table.loc[self.table["term"] == "accuracy", "estimate"].iloc[0])

    def per_class(self) -> pd.DataFrame:
        """Precision, recall, F1 and support per class in wide form."""
        t = self.table[self.table["term"].str.contains(":")].copy()
        t[["measure", "category"]] = t["term"].str.split(":", expand=True)
        wide = t.pivot(index="category", columns="measure", values="estimate")
        support = self.confusion.sum(axis=1).rename("support")
        return wide.join(support).reindex([c for c in self.confusion.index])[["precision", "recall", "f1", "support"]]

    def plot(self, *, ax: "Axes | None" = None, lang: str = "en") -> "Axes":
        """Confusion matrix as a heat map (row-normalised colours, counts written in the cells)."""
        if lang not in ("zh", "en"):
            raise KosParameterError(f"lang={lang!r} is not supported; allowed: ['zh', 'en']")
        zh = lang == "zh"
        ax = new_axes(ax, figsize=(4.8, 4.0))
        counts = self.confusion.to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            share = counts / counts.sum(axis=1, keepdims=True)
        ax.imshow(np.nan_to_num(share), cmap="Blues", vmin=0, vmax=1)
        names = [CATEGORY_LABELS.get(c, (c, c))[0 if zh else 1] for c in self.confusion.columns]
        rows = [CATEGORY_LABELS.get(c, (c, c))[0 if zh else 1] for c in self.confusion.index]
        ax.set_xticks(range(len(names)), names)
        ax.set_yticks(range(len(rows)), rows)
        for i in range(counts.shape[0]):
            for j in range(counts.shape[1]):
                ax.text(j, i, str(counts[i, j]), ha="center", va="center",
                        color="white" if share[i, j] > 0.6 else "black")
        ax.set_xlabel("预测" if zh else "predicted")
        ax.set_ylabel("参考标签" if zh else "reference")
        ax.set_title(f"{'准确率' if zh else 'accuracy'} {self.accuracy:.1%}")
        ax.grid(False)
        return ax


def evaluate_classifier(
    reference: Iterable[str],
    predicted: Iterable[str],
    *,
    categories: Iterable[str] = CATEGORIES,
    conf_level: float = 0.95,
) -> ClassifierEvaluation:
    """Accuracy, Cohen's kappa, per-class precision / recall / F1 and the confusion matrix.

    Parameters
    ----------
    reference, predicted : iterable of str
        Reference (human) and predicted categories, aligned. Pairs with a
        missing value on either side are left out.
    categories : iterable of str, default ``CATEGORIES``
    conf_level : float, default 0.95

    Returns
    -------
    ClassifierEvaluation

    Raises
    ------
    KosDataError
        The inputs differ in length, hold a category not in ``categories`` or
        have no complete pair.

    Notes
    -----
    Proportions carry Wilson (1927) score intervals; Cohen's (1960) kappa
    carries its large-sample normal interval (Fleiss, Cohen & Everitt 1969).
    """
    check_conf_level(conf_level)
    cats = list(categories)
    ref = pd.Series(list(reference), dtype="object")
    pred = pd.Series(list(predicted), dtype="object")
    if len(ref) != len(pred):
        raise KosDataError(f"reference and predicted differ in length ({len(ref)} vs {len(pred)})")
    ok = ref.notna() & pred.notna()
    ref, pred = ref[ok], pred[ok]
    if len(ref) == 0:
        raise KosDataError("reference and predicted have no complete pair to compare")
    for name, s in (("reference", ref), ("predicted", pred)):
        bad = sorted(set(s) - set(cats))
        if bad:
            raise KosDataError(f"{name} holds categories {bad} not in categories={cats}")
    conf = pd.crosstab(pd.Categorical(ref, cats), pd.Categorical(pred, cats), dropna=False)
    conf.index = pd.Index(cats, name="reference")
    conf.columns = pd.Index(cats, name="predicted")
    c = conf.to_numpy()
    n = c.sum()
    correct = np.trace(c)
    rows = []
    lo, hi = wilson_interval(correct, n, conf_level)
    rows.append(("accuracy", correct / n, float(lo), float(hi), n))
    po = correct / n
    pe = float((c.sum(axis=0) * c.sum(axis=1)).sum()) / n**2
    kappa = (po - pe) / (1 - pe) if pe < 1 else np.nan
    se = np.sqrt(po * (1 - po) / (n * (1 - pe) ** 2)) if pe < 1 else np.nan
    from kosresearch._results import normal_interval

    klo, khi = normal_interval(kappa, se, conf_level)
    rows.append(("kappa", kappa, float(klo), float(khi), n))
    for i, cat in enumerate(cats):
        tp = c[i, i]
        pp = c[:, i].sum()
        ap = c[i, :].sum()
        plo, phi = wilson_interval(tp, pp, conf_level)
        rlo, rhi = wilson_interval(tp, ap, conf_level)
        prec = tp / pp if pp else np.nan
        rec = tp / ap if ap else np.nan
        f1 = 2 * prec * rec / (prec + rec) if pp and ap and (prec + rec) > 0 else np.nan
        rows.append((f"precision:{cat}", prec, float(plo), float(phi), pp))
        rows.append((f"recall:{cat}", rec, float(rlo), float(rhi), ap))
        rows.append((f"f1:{cat}", f1, np.nan, np.nan, ap))
    table = pd.DataFrame(rows, columns=["term", "estimate", "conf_low", "conf_high", "n"])
    table["n"] = table["n"].astype(int)
    return ClassifierEvaluation(table=table, conf_level=conf_level, confusion=conf)


def load_evaluation_set() -> pd.DataFrame:
    """The labelled evaluation set written for the project (never used to tune the lexicon).

    Returns
    -------
    pandas.DataFrame
        ``id, text, label, domain, note``; how it was written and labelled is
        in ``kosresearch/feedback/data/README.md``.
    """
    path = resources.files("kosresearch.feedback").joinpath("data", "evaluation_set.csv")
    with path.open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype="str", keep_default_na=False).replace({"note": {"": None}})


def held_out_evaluation(*, model: Model = "learned", conf_level: float = 0.95) -> ClassifierEvaluation:
    """Accuracy, per-class precision / recall and confusion matrix of ``model`` on the held-out evaluation set.

    The set (:func:`load_evaluation_set`) was written for the project after
    both models were frozen; see ``kosresearch/feedback/data/README.md``.
    """
    check_choice("model", model, _MODELS)
    ev = load_evaluation_set()
    pred = classify_feedback(ev["text"], model=model)
    return evaluate_classifier(ev["label"], pred["category"], conf_level=conf_level)


def load_development_set() -> pd.DataFrame:
    """The labelled development set the lexicon was tuned on (``id, text, label, domain``)."""
    path = resources.files("kosresearch.feedback").joinpath("data", "dev_set.csv")
    with path.open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype="str", keep_default_na=False)


def category_agreement(dataset, *, model: Model = "lexicon", lexicon: Any = None,
                       conf_level: float = 0.95) -> ClassifierEvaluation:
    """Agreement of the classifier with the ``category`` already recorded in the feedback table.

    Where the data carry a category it is kept (never overwritten); this
    measures how far the classifier can be trusted for the rows without one.

    Parameters
    ----------
    dataset : kosresearch.Dataset
        Needs ``feedback``.
    model, lexicon
        As in :func:`classify_feedback`.
    conf_level : float, default 0.95

    Returns
    -------
    ClassifierEvaluation
        Reference = recorded category, predicted = classifier.

    Raises
    ------
    KosDataError
        No feedback row has a recorded category.
    """
    dataset.require("feedback")
    rows = dataset.sql("SELECT text, category FROM feedback WHERE category IS NOT NULL AND text IS NOT NULL")
    if len(rows) == 0:
        raise KosDataError("table 'feedback' has no row with a recorded category; there is nothing to agree with")
    pred = classify_feedback(rows["text"], model=model, lexicon=lexicon)
    return evaluate_classifier(rows["category"], pred["category"], conf_level=conf_level)
