"""Small pure helpers for spoken wording: numbers, plurals, lists and mid-sentence titles.

The words themselves (`second`, `and`) come from the voice pack, so these helpers stay language
neutral: they only decide *which* word and *where* it goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coach.rounding import half_up


@dataclass(frozen=True)
class Units:
    """The voice pack's words for units and lists."""

    second: str = "second"
    seconds: str = "seconds"
    and_word: str = "and"
    space: str = " "            # between the number and the unit ("42 seconds"; Korean "42초": "")


def plural(count: int, one: str, many: str) -> str:
    """`1 second`, `0 seconds`, `5 sets`."""
    return f"{count} {one if count == 1 else many}"


def count_of(value: float, one: str, many: str) -> str:
    """A `{name:one|many}` count: `1 minute`, `5 minutes`; a fraction keeps its tenths and the
    plural (`0.5 minutes`), so half a minute is never said as "1 minute"."""
    tenths = round(float(value), 1)
    if tenths != int(tenths):
        return f"{tenths:g} {many}"
    return plural(half_up(value), one, many)


def spoken_list(items: Sequence[object], and_word: str = "and") -> str:
    """`42`, `42 and 38`, `42, 38 and 35`: the last two joined by `and_word`, no serial comma."""
    words = [str(i) for i in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {and_word} {words[-1]}"


def seconds(value: float | Sequence[float], units: Units = Units()) -> str:
    """Seconds with their unit, rounded half up: `1 second`, `42 seconds`, `42, 38 and 35 seconds`."""
    if isinstance(value, (int, float)):
        whole = half_up(value)
        return f"{whole}{units.space}{units.second if whole == 1 else units.seconds}"
    wholes = [half_up(v) for v in value]
    unit = units.second if len(wholes) == 1 and wholes[0] == 1 else units.seconds
    return f"{spoken_list(wholes, units.and_word)}{units.space}{unit}"


def mid_sentence(title: str) -> str:
    """A title as it reads inside a sentence: `Glute bridge` -> `glute bridge` (`ASR check` stays)."""
    if len(title) >= 2 and title[0].isupper() and not title[1].isupper():
        return title[0].lower() + title[1:]
    return title
