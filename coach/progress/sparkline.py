"""A one-line chart of held times for `coach history`: ▁ at `lo` (or below), █ at `hi` (or above)."""

from __future__ import annotations

import math
from collections.abc import Iterable

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Iterable[float | None], lo: float = 0.0, hi: float | None = None) -> str:
    """One character per value; None (a set not done) is a space. `hi` defaults to the largest value,
    but pass the target so that a full bar means "made it", whatever the other days were."""
    values = list(values)
    if hi is None:
        hi = max((v for v in values if v is not None), default=lo)
    out = []
    for value in values:
        if value is None or math.isnan(value):
            out.append(" ")
        elif value >= hi:
            out.append(BARS[-1])                # only a value that reached `hi` gets the full bar
        elif value <= lo:
            out.append(BARS[0])
        else:
            share = (value - lo) / (hi - lo)
            out.append(BARS[min(len(BARS) - 2, int(share * (len(BARS) - 1)))])
    return "".join(out)
