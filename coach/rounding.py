"""How a number of seconds is rounded to be said: one home for the session core (which may not
import the voice package) and for the voice pack, the report and the CLI."""

from __future__ import annotations

import math


def half_up(value: float) -> int:
    """A number as spoken: rounded half up (2.5 -> 3, 41.5 -> 42), never banker's rounding, and
    from the tenths that are printed (42.46 is shown as 42.5, so it is said as 43)."""
    return int(math.floor(round(float(value), 1) + 0.5))
