"""Sessions per day, streaks and missed days, counted in the user's local days.

A day is a calendar day in the time zone passed in (a `zoneinfo.ZoneInfo`), not 24 hours: a
session at 23:59 and one at 00:01 fall on two days, and a daylight-saving day of 23 or 25 hours
is still one day. With `tz=None` each time keeps the offset it was recorded with, which was the
local offset then; that needs no zone name, and is right unless the user moved zones. Never pass
`datetime.now().astimezone().tzinfo`: it is today's fixed offset, an hour off across a DST change.
`today` is passed in, so nothing here reads the clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from coach.history.store import SessionRecord


@dataclass(frozen=True)
class DayStats:
    sessions_today: int
    done_today: bool                # today already has the routine's minimum number of sessions
    streak_days: int                # days in a row with the minimum, to today (yesterday while today is open)
    missed_days: tuple[date, ...]   # days below the minimum since the first session; `window_days` at most
    last_session_day: date | None


def local_day(moment: datetime | str, tz: tzinfo | None) -> date:
    """The calendar day of `moment` (aware, or ISO 8601 text with an offset) in `tz` (None: its own)."""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if when.tzinfo is None:
        raise ValueError(f"{when.isoformat()} has no UTC offset, so its local day is unknown")
    return (when.astimezone(tz) if tz is not None else when).date()


def counted_starts(sessions: Iterable[SessionRecord]) -> list[datetime]:
    """Start times of the sessions that count: those with at least one hold recorded."""
    return [datetime.fromisoformat(s.started_at) for s in sessions if s.holds > 0]


def day_stats(session_starts: Iterable[datetime], today: date, tz: tzinfo | None, per_day_min: int = 1,
              window_days: int = 7) -> DayStats:
    """Today's count, the streak and the missed days, from one user's session start times."""
    per_day = Counter(local_day(start, tz) for start in session_starts)
    past = sorted(day for day in per_day if day <= today)
    if not past:
        return DayStats(0, False, 0, (), None)

    def met(day: date) -> bool:
        return per_day[day] >= per_day_min

    day = today if met(today) else today - timedelta(days=1)
    streak = 0
    while met(day):
        streak += 1
        day -= timedelta(days=1)
    start = max(past[0], today - timedelta(days=window_days))
    missed = tuple(start + timedelta(days=i) for i in range((today - start).days)
                   if not met(start + timedelta(days=i)))
    return DayStats(sessions_today=per_day[today], done_today=met(today), streak_days=streak,
                    missed_days=missed, last_session_day=past[-1])
