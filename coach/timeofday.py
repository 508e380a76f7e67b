"""Times of day as people write them for reminders: "7:30" or "07:30", 24-hour, minutes always
two digits ("7:5" is refused: 7:05 or 7:50?). One rule for the config file and `--reminder`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time

_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def parse_time(text: str) -> str | None:
    """"7:30" or "07:30" -> "07:30"; None for anything that is not a 24-hour time of day."""
    match = _TIME.fullmatch(text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return f"{int(match[1]):02d}:{match[2]}"


def parse_times(values: Iterable[str]) -> tuple[time, ...]:
    """"08:00" -> time(8, 0); sorted, without duplicates. Raises ValueError with the bad value."""
    out = set()
    for value in values:
        text = parse_time(value)
        if text is None:
            raise ValueError(f"`{value}` is not a time like 08:00")
        hours, minutes = text.split(":")
        out.add(time(int(hours), int(minutes)))
    return tuple(sorted(out))
