"""Customer-feedback loop: classification, funnel, loop-closure effect, product themes."""

from kosresearch.feedback.classify import (
    CATEGORIES,
    ClassifierEvaluation,
    category_agreement,
    classify_feedback,
    evaluate_classifier,
    held_out_evaluation,
    load_evaluation_set,
    load_lexicon,
)
from kosresearch.feedback.loop import (
    FeedbackFunnelResult,
    LoopClosureResult,
    feedback_categories,
    feedback_funnel,
    loop_closure_effect,
)
from kosresearch.feedback.themes import ThemesResult, praise_stories, product_themes

__all__ = [
    "CATEGORIES",
    "ClassifierEvaluation",
    "FeedbackFunnelResult",
    "LoopClosureResult",
    "category_agreement",
    "classify_feedback",
    "evaluate_classifier",
    "feedback_categories",
    "feedback_funnel",
    "held_out_evaluation",
    "load_evaluation_set",
    "load_lexicon",
    "loop_closure_effect",
    "praise_stories",
    "product_themes",
    "ThemesResult",
]
