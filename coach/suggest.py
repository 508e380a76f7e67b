"""Did-you-mean: the one helper every "unknown name" message uses (fields, choices, exercises,
models). Pure, no I/O."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

MAX_WORD_LEN = 200      # difflib is quadratic: a pasted paragraph is cut to this before matching
CUTOFF = 0.6            # how alike a suggestion must be (difflib's ratio)


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option most like `word`, or None when none is close."""
    found = difflib.get_close_matches(word[:MAX_WORD_LEN], list(options), n=1, cutoff=CUTOFF)
    return found[0] if found else None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """" (did you mean `x`?)" to append to a message, or "" when nothing is close."""
    close = closest(word, options)
    return f" (did you mean `{close}`?)" if close else ""
