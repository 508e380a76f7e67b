"""When to say "time for your exercises": once per reminder time, and not when today is done.

Pure: the caller passes the wall-clock time and today's session count, so replays and tests
control the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from coach.timeofday import parse_times

__all__ = ["GRACE", "Reminders", "parse_times"]

GRACE = timedelta(minutes=30)   # a reminder missed by more than this (coach was busy or off) is skipped


@dataclass
class Reminders:
    times: tuple[time, ...]                         # sorted, local wall-clock times
    _considered: set[tuple[date, time]] = field(default_factory=set)

    def due(self, now: datetime, sessions_today: int | Callable[[], int], per_day_max: int) -> time | None:
        """The reminder to speak now, or None. Each reminder time is considered once a day.
        `sessions_today` may be a callable (a history query): it is called only then."""
        today = now.date()
        passed = [(k, at) for k, at in enumerate(self.times)
                  if datetime.combine(today, at, now.tzinfo) <= now]
        if not passed:
            return None
        index, latest = passed[-1]
        if (today, latest) in self._considered:
            return None
        self._considered = {seen for seen in self._considered if seen[0] == today}   # months of serve
        self._considered.add((today, latest))
        if now - datetime.combine(today, latest, now.tzinfo) > GRACE:
            return None
        if callable(sessions_today):
            sessions_today = sessions_today()
        # The k-th reminder of the day is for the (k+1)-th session: none if that many are done.
        if sessions_today > index or sessions_today >= per_day_max:
            return None
        return latest
