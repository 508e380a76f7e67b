"""The report's figures, computed from the history's records. Pure: the clock (`today`) and the
time zone are passed in, nothing is read from disk here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from coach.history.store import HoldRecord, SessionRecord, UnlockRecord
from coach.progress.schedule import counted_starts, day_stats, local_day
from coach.routine.model import Routine


@dataclass(frozen=True)
class HoldPoint:
    session_id: int
    when: datetime          # local time of the hold
    day: date
    set_no: int
    held_s: float
    target_s: float         # the goal that session had for the set
    ended_by: str           # target | done | cant_hold | stop


@dataclass(frozen=True)
class ExerciseReport:
    exercise: str
    title: str
    hold_s: float           # the routine's full hold
    sets: int
    holds: tuple[HoldPoint, ...]        # real attempts (not stopped partial holds), oldest first
    stopped: int                        # holds cut short by stop, left out of the figures

    @property
    def cant_hold(self) -> tuple[HoldPoint, ...]:
        return tuple(h for h in self.holds if h.ended_by == "cant_hold")

    @property
    def best_s(self) -> float:
        return max((h.held_s for h in self.holds), default=0.0)

    @property
    def full_holds(self) -> int:
        return sum(1 for h in self.holds if h.held_s >= self.hold_s - 0.05)


@dataclass(frozen=True)
class UnlockEvent:
    exercise: str
    title: str
    state: str              # offered | unlocked | locked
    day: date
    why: str


@dataclass(frozen=True)
class FeelPoint:
    """How one session felt: the answers to "how did that feel?" and "any pain?" (None: no answer)."""

    when: datetime          # local time the session started
    effort: str | None      # easy | okay | hard
    pain: bool | None


@dataclass(frozen=True)
class ReportData:
    user: str
    routine: str
    routine_title: str
    per_day_min: int
    per_day_max: int
    first_day: date
    today: date
    sessions_per_day: tuple[tuple[date, int], ...]      # every day from first_day to today
    streak_days: int
    longest_streak_days: int
    missed_days: tuple[date, ...]
    sessions: int
    exercises: tuple[ExerciseReport, ...]
    unlocks: tuple[UnlockEvent, ...]
    feelings: tuple[FeelPoint, ...] = ()        # sessions with an answer, oldest first

    def effort_count(self, effort: str) -> int:
        return sum(1 for f in self.feelings if f.effort == effort)

    @property
    def pain_count(self) -> int:
        return sum(1 for f in self.feelings if f.pain)

    @property
    def days(self) -> int:
        return len(self.sessions_per_day)

    @property
    def days_in_range(self) -> int:
        return sum(1 for _, n in self.sessions_per_day if self.per_day_min <= n <= self.per_day_max)


def build_report(routine: Routine, user: str, sessions: Iterable[SessionRecord],
                 holds: Iterable[HoldRecord], unlocks: Iterable[UnlockRecord], today: date,
                 tz: tzinfo | None = None) -> ReportData | None:
    """The figures for `user`'s history with `routine`; None when there is nothing recorded."""
    mine = [s for s in sessions if s.user == user and s.routine == routine.name]
    starts = counted_starts(mine)
    if not starts:
        return None
    per_day = Counter(local_day(s, tz) for s in starts)
    first = min(per_day)
    last = max(today, max(per_day))
    days = tuple((first + timedelta(days=i), per_day[first + timedelta(days=i)])
                 for i in range((last - first).days + 1))
    stats = day_stats(starts, today, tz, routine.sessions_per_day_min, window_days=len(days))
    longest = run = 0
    for _, count in days:
        run = run + 1 if count >= routine.sessions_per_day_min else 0
        longest = max(longest, run)
    my_holds = [h for h in holds if h.user == user and h.routine == routine.name]
    exercises = []
    for exercise in routine.exercises:
        if not exercise.is_hold:
            continue
        of_it = [h for h in my_holds if h.exercise == exercise.id]
        if not of_it:
            continue
        points = sorted((_point(h, tz) for h in of_it if h.ended_by != "stop"),
                        key=lambda p: (p.when, p.set_no))
        exercises.append(ExerciseReport(exercise.id, exercise.title, exercise.hold_s, exercise.sets,
                                        tuple(points), sum(1 for h in of_it if h.ended_by == "stop")))
    events = []
    for u in unlocks:
        if u.user == user and u.routine == routine.name:
            ex = routine.exercise(u.exercise)
            events.append(UnlockEvent(u.exercise, ex.title if ex else u.exercise, u.state,
                                      local_day(u.changed_at, tz), u.why))
    feelings = tuple(sorted((FeelPoint(_local(s.started_at, tz), s.effort, s.pain) for s in mine
                             if s.effort is not None or s.pain is not None), key=lambda f: f.when))
    return ReportData(user=user, routine=routine.name, routine_title=routine.title,
                      per_day_min=routine.sessions_per_day_min, per_day_max=routine.sessions_per_day_max,
                      first_day=first, today=today, sessions_per_day=days, streak_days=stats.streak_days,
                      longest_streak_days=longest, missed_days=stats.missed_days, sessions=len(starts),
                      exercises=tuple(exercises), unlocks=tuple(events), feelings=feelings)


def _local(when: str, tz: tzinfo | None) -> datetime:
    moment = datetime.fromisoformat(when)
    return moment.astimezone(tz) if tz is not None else moment


def _point(h: HoldRecord, tz: tzinfo | None) -> HoldPoint:
    when = datetime.fromisoformat(h.started_at)
    local = when.astimezone(tz) if tz is not None else when
    return HoldPoint(h.session_id, local, local.date(), h.set, h.held_s, h.target_s, h.ended_by)
