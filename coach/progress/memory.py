"""What the coach remembers between sessions: last time's holds, this time's targets, and how a
hold compares. Pure functions over one user's `HoldRecord`s (filter by user before calling).

Spoken results are returned as `VoiceLine(key, values)`, never as English: the voice pack owns the
wording, so a Korean pack can say the same thing its own way. Seconds in `values` are whole
numbers, as they are spoken; lists of them are tuples (the pack joins them with its own "and").

A hold ended by `stop` (the session was stopped mid-hold) is not a real attempt: it never counts
as "last time", a best or a target.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from coach.rounding import half_up
from coach.routine.model import TargetRule

if TYPE_CHECKING:   # only the type: the session core imports this module and must not load sqlite3
    from coach.history.store import HoldRecord

SAME_WITHIN_S = 1       # holds that round to the same whole second are "the same"


@dataclass(frozen=True)
class VoiceLine:
    """A line for the voice pack: `key` names the wording, `values` fill its placeholders."""

    key: str
    values: Mapping[str, int | str | tuple[int, ...]]


@dataclass(frozen=True)
class SessionHolds:
    """One session's holds of one exercise, in set order."""

    session_id: int
    started_at: datetime            # the first of these holds, with its offset
    sets: tuple[int, ...]
    held_s: tuple[float, ...]
    target_s: tuple[float, ...]

    def held_for(self, set_no: int) -> float | None:
        return self.held_s[self.sets.index(set_no)] if set_no in self.sets else None


@dataclass(frozen=True)
class LastTime:
    """The most recent session with the exercise, and the best hold ever (before this session)."""

    session: SessionHolds
    best_ever_s: float

    def held_for(self, set_no: int) -> float | None:
        return self.session.held_for(set_no)


def by_session(holds: Iterable[HoldRecord], exercise: str) -> list[SessionHolds]:
    """The exercise's holds grouped per session, oldest session first (by real time, whatever the offset)."""
    groups: dict[int, list[HoldRecord]] = {}
    for hold in holds:
        if hold.exercise == exercise:
            groups.setdefault(hold.session_id, []).append(hold)
    out = []
    for session_id, group in groups.items():
        group.sort(key=lambda h: h.set)
        out.append(SessionHolds(
            session_id=session_id,
            started_at=min(datetime.fromisoformat(h.started_at) for h in group),
            sets=tuple(h.set for h in group),
            held_s=tuple(h.held_s for h in group),
            target_s=tuple(h.target_s for h in group)))
    out.sort(key=lambda s: (s.started_at, s.session_id))
    return out


def attempts(holds: Iterable[HoldRecord]) -> list[HoldRecord]:
    """The holds that were real attempts: not the partial hold cut short by `stop`."""
    return [h for h in holds if h.ended_by != "stop"]


def best_s(holds: Iterable[HoldRecord], exercise: str) -> float | None:
    """The longest hold of the exercise, or None before the first one."""
    return max((h.held_s for h in attempts(holds) if h.exercise == exercise), default=None)


def last_time(holds: Iterable[HoldRecord], exercise: str) -> LastTime | None:
    """Pass the holds from before this session; None when the exercise was never done."""
    holds = attempts(holds)
    sessions = by_session(holds, exercise)
    best = best_s(holds, exercise)
    if not sessions or best is None:
        return None
    return LastTime(session=sessions[-1], best_ever_s=best)


def goals(holds: Iterable[HoldRecord], exercise: str, sets: int, target_s: float,
          rule: TargetRule) -> tuple[float, ...]:
    """Each set's goal for today in whole seconds, at most the routine's `target_s` (its `hold_s`):
    see `TargetRule`. A set never done before aims for the target."""
    if rule.source == "routine":
        return (target_s,) * sets
    recent = by_session(attempts(holds), exercise)[-rule.sessions:]
    out = []
    for set_no in range(1, sets + 1):
        held = [h for s in recent if (h := s.held_for(set_no)) is not None]
        if not held:
            out.append(target_s)
            continue
        out.append(min(target_s, max(1.0, float(_whole(max(held) + rule.step_s)))))
    return tuple(out)


targets = goals     # the name the progress tests and older callers use


def feedback(held_s: float, set_no: int, last: LastTime | None, best_before_s: float | None) -> VoiceLine:
    """One short line after a hold, against the same set last time.

    `best_before_s` is the best hold before this one, this session's earlier sets included (start
    from `last.best_ever_s` and raise it after each hold), so a second record in a session counts.
    Keys: first_time, personal_best, better_than_last, same_as_last, below_last.
    """
    held = _whole(held_s)
    if last is None or best_before_s is None:       # the first session: nothing to measure against
        return VoiceLine("first_time", {"held_s": held})
    if held >= _whole(best_before_s) + SAME_WITHIN_S:
        return VoiceLine("personal_best", {"held_s": held, "previous_best_s": _whole(best_before_s),
                                           "diff_s": held - _whole(best_before_s)})
    last_s = last.held_for(set_no) if last is not None else None
    if last_s is None:
        return VoiceLine("first_time", {"held_s": held})
    diff = held - _whole(last_s)
    values = {"held_s": held, "last_s": _whole(last_s), "diff_s": abs(diff)}
    if diff >= SAME_WITHIN_S:
        return VoiceLine("better_than_last", values)
    if diff <= -SAME_WITHIN_S:
        return VoiceLine("below_last", values)
    return VoiceLine("same_as_last", values)


def opening(last: LastTime | None, goals_s: tuple[float, ...], target_s: float) -> tuple[VoiceLine, ...]:
    """What to say before an exercise: how last time went, then today's goals (nothing the first
    time, when every goal is simply the routine's target). The voice lines call them targets."""
    if last is None:
        return ()
    held = [_whole(s) for s in last.session.held_s]
    lines = [VoiceLine("last_time", {"held_list": tuple(held), "sets": len(held),
                                     "best_s": _whole(last.best_ever_s)})]
    whole = [_whole(t) for t in goals_s]
    if whole and all(t == whole[0] for t in whole):
        key = "target_full" if goals_s[0] >= target_s else "target_all"
        lines.append(VoiceLine(key, {"target_s": whole[0], "sets": len(whole)}))
    elif whole:
        lines.append(VoiceLine("targets", {"target_list": tuple(whole), "sets": len(whole)}))
    return tuple(lines)


def _whole(seconds: float) -> int:
    """Seconds as spoken: rounded half up (41.5 -> 42), never banker's rounding."""
    return half_up(seconds)
