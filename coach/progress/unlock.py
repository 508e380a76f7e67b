"""When an advanced exercise is earned, and what the user decided about it.

`evaluate` applies a routine's `UnlockRule` to one user's holds. The decision is kept in the
store as a log of changes (`Store.record_unlock`): `offered` when the coach has asked, then
`unlocked` (yes) or `locked` (no, or locked again later). After a "no" the coach asks again only
once the rule is met a second time by holds after that answer, so it does not nag every session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from coach.history.store import HoldRecord, UnlockRecord
from coach.progress.memory import VoiceLine, by_session
from coach.routine.model import UnlockRule

TOLERANCE_S = 0.05      # a hold ended by its 60 s target may be recorded as 59.99x


@dataclass(frozen=True)
class UnlockStatus:
    met: bool
    why: str                                # one line for `coach status`
    qualifying_days: tuple[date, ...]       # local days with a session where every set made it
    qualifying_sessions: int


def evaluate(holds: Iterable[HoldRecord], rule: UnlockRule, sets: int, title: str | None = None,
             tz: tzinfo | None = None, since: datetime | None = None) -> UnlockStatus:
    """Is `rule` met by these holds (one user's)? A session qualifies when all `sets` sets of
    `rule.after` were held at least `rule.every_set_at_least_s`. Days are local in `tz` (default:
    the offset each hold was recorded with). Only sessions after `since` count, when given."""
    name = title or rule.after
    good = []
    for session in by_session(holds, rule.after):
        if since is not None and session.started_at <= since:
            continue
        held = [session.held_for(n) for n in range(1, sets + 1)]
        if all(h is not None and h >= rule.every_set_at_least_s - TOLERANCE_S for h in held):
            good.append(session.started_at.astimezone(tz) if tz is not None else session.started_at)
    days = tuple(sorted({when.date() for when in good}))
    count = len(days) if rule.different_days else len(good)
    met = count >= rule.sessions
    reached = f"every set of {name} reached {rule.every_set_at_least_s:g} s"
    if rule.different_days:
        need = f"{rule.sessions} different day{'s' if rule.sessions != 1 else ''}"
        if met:
            why = f"{reached} on {need}: {', '.join(d.isoformat() for d in days[:rule.sessions])}"
        else:
            listed = f" ({', '.join(d.isoformat() for d in days)})" if days else ""
            why = f"{reached} on {count} of {need} so far{listed}"
    else:
        need = f"{rule.sessions} session{'s' if rule.sessions != 1 else ''}"
        if met:
            why = f"{reached} in {need} (the last on {max(good).date().isoformat()})"
        else:
            why = f"{reached} in {count} of {need} so far"
    return UnlockStatus(met=met, why=why, qualifying_days=days, qualifying_sessions=len(good))


def is_unlocked(state: UnlockRecord | None) -> bool:
    return state is not None and state.state == "unlocked"


def offer_due(state: UnlockRecord | None, holds: Iterable[HoldRecord], rule: UnlockRule, sets: int,
              title: str | None = None, tz: tzinfo | None = None) -> UnlockStatus | None:
    """The status to announce when the coach should ask "shall we add it?" now, else None.

    Asked when the rule is met and the user has not answered yet (never offered, or offered and
    the session ended before an answer); after `locked`, only when met again by later holds.
    """
    if is_unlocked(state):
        return None
    locked = state is not None and state.state == "locked"
    since = datetime.fromisoformat(state.changed_at) if state is not None and locked else None
    status = evaluate(holds, rule, sets, title, tz, since)
    return status if status.met else None


def offer_line(exercise_title: str, status: UnlockStatus) -> VoiceLine:
    """The question at the start of a session; the user answers yes or no."""
    return VoiceLine("unlock_offer", {"exercise": exercise_title, "days": len(status.qualifying_days),
                                      "sessions": status.qualifying_sessions})


def status_line(exercise_title: str, state: UnlockRecord | None, status: UnlockStatus) -> str:
    """One line for `coach status`: the state, since when, and why."""
    if state is None:
        if status.met:
            return f"{exercise_title}: earned, to be offered at the next session — {status.why}"
        return f"{exercise_title}: not yet unlocked — {status.why}"
    day = state.changed_at[:10]
    because = f" — {state.why}" if state.why else ""
    if state.state == "unlocked":
        return f"{exercise_title}: unlocked on {day}{because}"
    if state.state == "offered":
        return f"{exercise_title}: offered on {day}, waiting for your yes or no{because}"
    return f"{exercise_title}: locked on {day}{because}"
