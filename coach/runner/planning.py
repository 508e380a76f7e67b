"""From the history to a `SessionPlan`: last time, today's targets, the streak, unlock offers."""

from __future__ import annotations

from datetime import date, tzinfo

from coach.history.store import Store
from coach.progress.memory import VoiceLine, best_s, last_time, opening, targets
from coach.progress.schedule import counted_starts, day_stats
from coach.progress.unlock import is_unlocked, offer_due, offer_line
from coach.routine.model import Routine
from coach.session.plan import ExercisePlan, SessionPlan, UnlockOffer

STREAK_WORTH_SAYING_DAYS = 2


def build_plan(store: Store, routine: Routine, user: str, today: date, tz: tzinfo | None,
               include_advanced: bool = False) -> SessionPlan:
    holds = store.holds(routine=routine.name, user=user)
    exercises = {}
    for exercise in routine.exercises:
        if not exercise.is_hold:
            continue
        last = last_time(holds, exercise.id)
        goals = targets(holds, exercise.id, exercise.sets, exercise.hold_s, routine.progress.target)
        exercises[exercise.id] = ExercisePlan(goals_s=goals, opening=opening(last, goals, exercise.hold_s),
                                              last=last, best_s=best_s(holds, exercise.id))
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
