"""Customer-feedback loop: classification, funnel, loop-closure effect, product themes."""

from kosresearch.feedback.classify import (
    CATEGORIES,
    ClassifierEvaluation,
    category_agreement,
    classify_feedback,
    evaluate_classifier,
    load_evaluation_set,
    load_lexicon,
)

__all__ = [
    "CATEGORIES",
    "ClassifierEvaluation",
    "category_agreement",
    "classify_feedback",
    "evaluate_classifier",
    "load_evaluation_set",
    "load_lexicon",
]
