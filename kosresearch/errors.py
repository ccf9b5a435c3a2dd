"""Exceptions raised by kosresearch.

All of them subclass :class:`ValueError`, so callers that already catch
``ValueError`` keep working.
"""

from __future__ import annotations

__all__ = ["KosDataError", "KosParameterError", "NotFittedError"]


class KosDataError(ValueError):
    """Input data break the data contract or an analysis' requirements.

    The message names the table, the column, how many rows are bad and a few
    example values. ``problems`` holds one entry per problem found, so a
    caller can show all of them, not only the first.
    """

    def __init__(self, message: str, problems: list | tuple = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class KosParameterError(ValueError):
    """An argument or report parameter has a value that is not allowed.

    The message names the argument, the value given and the values allowed.
    """


class NotFittedError(ValueError):
    """A fitter's method was called before ``fit``."""
