"""From the history to a `SessionPlan`: last time, today's targets, the streak, unlock offers."""

from __future__ import annotations

from datetime import date, tzinfo

from coach.history.store import Store
from coach.progress.memory import VoiceLine, best_s, goals, last_time, opening
from coach.progress.schedule import counted_starts, day_stats
from coach.progress.unlock import is_unlocked, offer_due, offer_line
from coach.routine.model import Routine
from coach.session.plan import ExercisePlan, ResumePoint, SessionPlan, UnlockOffer

STREAK_WORTH_SAYING_DAYS = 2


def build_plan(store: Store, routine: Routine, user: str, today: date, tz: tzinfo | None,
               include_advanced: bool = False) -> SessionPlan:
    holds = store.holds(routine=routine.name, user=user)
    exercises = {}
    for exercise in routine.exercises:
        if not exercise.is_hold:
            continue
        last = last_time(holds, exercise.id)
        goals_s = goals(holds, exercise.id, exercise.sets, exercise.hold_s, routine.progress.target)
        exercises[exercise.id] = ExercisePlan(goals_s=goals_s, last=last, best_s=best_s(holds, exercise.id),
                                              opening=opening(last, goals_s, exercise.hold_s))
    enabled = {e.id for e in routine.exercises if e.advanced and include_advanced}
    offer = None
    for rule in routine.progress.unlocks:
        state = store.unlock_state(user, routine.name, rule.exercise)
        if is_unlocked(state):
            enabled.add(rule.exercise)
            continue
        earning = routine.exercise(rule.after)
        target = routine.exercise(rule.exercise)
        if offer is None and earning is not None and target is not None and rule.exercise not in enabled:
            status = offer_due(state, holds, rule, earning.sets, earning.title, tz)
            if status is not None:
                offer = UnlockOffer(rule.exercise, offer_line(target.title, status))
    greeting: tuple[VoiceLine, ...] = ()
    stats = day_stats(counted_starts(store.sessions(user=user, routine=routine.name)), today, tz,
                      routine.sessions_per_day_min)
    if stats.streak_days >= STREAK_WORTH_SAYING_DAYS and stats.sessions_today == 0:
        greeting = (VoiceLine("streak", {"days": stats.streak_days + 1}),)
    return SessionPlan(exercises=exercises, greeting=greeting, enabled=frozenset(enabled), offer=offer)


RESUMABLE = ("running", "interrupted")     # a crash leaves "running"; Ctrl-C "interrupted"


def find_resume(store: Store, routine: Routine, user: str, today: date, tz: tzinfo | None,
                ask: bool, enabled: frozenset[str] = frozenset()) -> tuple[int, ResumePoint] | None:
    """Today's latest unfinished session with at least one hold, and where to carry on."""
    from coach.progress.schedule import local_day

    sessions = [s for s in store.sessions(user=user, routine=routine.name)
                if s.status in RESUMABLE and s.holds > 0 and local_day(s.started_at, tz) == today]
    if not sessions:
        return None
    last = sessions[-1]
    holds = [h for h in store.holds(routine=routine.name, user=user) if h.session_id == last.id]
    done = {(h.exercise, h.set) for h in holds}
    enabled = enabled | {h.exercise for h in holds}
    order = [e for e in routine.exercises if e.is_hold and (not e.advanced or e.id in enabled)]
    positions = [(e.id, k) for e in order for k in range(1, e.sets + 1)]
    reached = [i for i, position in enumerate(positions) if position in done]
    if not reached or reached[-1] + 1 >= len(positions):
        return None                                 # nothing recorded that we know, or all done
    exercise, set_no = positions[reached[-1] + 1]
    return last.id, ResumePoint(exercise, set_no, len(done), len(positions), ask)
