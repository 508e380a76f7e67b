"""`coach status`, `coach chart`, `coach lock` / `unlock`: one user's progress on one routine."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from coach import defaults
from coach.api.history import has_history, open_store
from coach.errors import UsageError
from coach.vocab import UnlockState
from coach.voice.wording import plural

__all__ = ["UnlockState", "chart", "set_unlock", "status_lines"]


def status_lines(data_dir: Path, routine_name: str, user: str, today: date) -> list[str]:
    """Sessions today against the routine's sessions a day, the streak, missed days, and each
    advanced exercise's unlock status."""
    from coach.progress.feel import feel_text
    from coach.progress.schedule import counted_starts, day_stats
    from coach.progress.unlock import evaluate, status_line
    from coach.routine.loader import load_routine_named

    routine = load_routine_named(routine_name, data_dir)
    if not has_history(data_dir):
        return [f"{routine.title}: no sessions yet for {user}; `coach run` starts one"]
    with open_store(data_dir, write=False) as store:
        holds = store.holds(routine=routine.name, user=user)
        sessions = store.sessions(user=user, routine=routine.name)
        stats = day_stats(counted_starts(sessions), today, None, routine.sessions_per_day_min)
        low, high = routine.sessions_per_day_min, routine.sessions_per_day_max
        per_day = f"{low}" if low == high else f"{low}-{high}"
        missed = ", ".join(d.isoformat() for d in stats.missed_days) or "none"
        lines = [f"{routine.title} for {user}",
                 f"  today:   {plural(stats.sessions_today, 'session', 'sessions')} of {per_day} a day"
                 + ("  (done for today)" if stats.done_today else ""),
                 f"  streak:  {plural(stats.streak_days, 'day', 'days')} in a row",
                 f"  missed:  {missed}  (last 7 days)"]
        answered = [s for s in sessions if feel_text(s.effort, s.pain)]
        if answered:
            last = answered[-1]
            lines.append(f"  last answer: {feel_text(last.effort, last.pain)}  "
                         f"(the session of {datetime.fromisoformat(last.started_at):%a %d %b %H:%M})")
        for rule in routine.progress.unlocks:
            earning, target = routine.exercise(rule.after), routine.exercise(rule.exercise)
            if earning is None or target is None:
                continue
            state = store.unlock_state(user, routine.name, rule.exercise)
            status = evaluate(holds, rule, earning.sets, earning.title)
            lines.append("  " + status_line(target.title, state, status))
    return lines


def set_unlock(data_dir: Path, routine_name: str, user: str, exercise_id: str, state: UnlockState,
               at: datetime) -> str:
    """Lock or unlock an advanced exercise by hand; returns the line that says what was done."""
    from coach.routine.loader import load_routine_named

    routine = load_routine_named(routine_name, data_dir)
    exercise = routine.exercise(exercise_id)
    if exercise is None or not exercise.advanced:
        advanced = [e.id for e in routine.exercises if e.advanced]
        raise UsageError(f"`{exercise_id}` is not an advanced exercise of `{routine.name}` "
                         f"(advanced: {', '.join(advanced) or 'none'})")
    with open_store(data_dir) as store:
        store.record_unlock(user, routine.name, exercise.id, state.value, at, "set by hand")
    return f"{exercise.title}: {state} for {user}"


def last_routine(data_dir: Path, user: str) -> str | None:
    """The routine `user` last ran with at least one hold recorded; None before the first."""
    if not has_history(data_dir):
        return None
    with open_store(data_dir) as store:
        sessions = [s for s in store.sessions(user=user) if s.holds > 0]
    return sessions[-1].routine if sessions else None


def routine_to_show(data_dir: Path, user: str, asked: str | None, default: str) -> str:
    """The routine to chart or report on: the one asked for (command line, environment, config
    file), else the one this user last ran (so a user of their own routine gets their own chart),
    else `default`."""
    if asked is not None:
        return asked
    return last_routine(data_dir, user) or default


def chart(data_dir: Path, routine_name: str, user: str, exercise_id: str | None, out: Path) -> Path:
    """Draw held time per set over the days for one exercise (default: the first hold exercise),
    with the full hold as the target line and, while they are below it, today's goals per set."""
    from coach.progress.chart import draw_chart
    from coach.progress.memory import goals
    from coach.routine.loader import load_routine_named

    routine = load_routine_named(routine_name, data_dir)
    exercise = routine.exercise(exercise_id) if exercise_id else next(
        (e for e in routine.exercises if e.is_hold), None)
    if exercise is None:
        raise UsageError(f"routine `{routine.name}` has no exercise `{exercise_id}`")
    with open_store(data_dir, write=False) as store:
        holds = store.holds(routine=routine.name, user=user)
        sessions = store.sessions(user=user, routine=routine.name)
    title = f"{exercise.title}: seconds held per set" + ("" if user == defaults.USER else f" ({user})")
    goals_s = goals(holds, exercise.id, exercise.sets, exercise.hold_s, routine.progress.target)
    draw_chart(holds, exercise.id, out, title, goal_s=exercise.hold_s,
               goals_s=goals_s if any(g < exercise.hold_s for g in goals_s) else (), sessions=sessions)
    return out
