"""Progress between sessions: targets from your recent holds, feedback against last time, streaks,
unlocking the advanced step, and history as a sparkline or a chart. Pure functions over holds;
the session core and the CLI call them (matplotlib is imported only inside `draw_chart`).

`memory` (what the session core needs) is imported at once; the other modules, which reach the
SQLite records or the YAML reader, only when one of their names is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from coach.progress.memory import (
    LastTime,
    SessionHolds,
    VoiceLine,
    best_s,
    by_session,
    feedback,
    goals,
    last_time,
    opening,
    targets,
)
from coach.progress.sparkline import sparkline  # eager: the function shares the module's name
from coach.routine.model import NO_PROGRESS, ProgressRules, TargetRule, UnlockRule

if TYPE_CHECKING:
    from coach.progress.chart import ChartUnavailableError, draw_chart
    from coach.progress.rules import read_progress
    from coach.progress.schedule import DayStats, counted_starts, day_stats, local_day
    from coach.progress.unlock import (
        UnlockStatus,
        evaluate,
        is_unlocked,
        offer_due,
        offer_line,
        status_line,
    )

_LAZY = {
    "ChartUnavailableError": "chart", "draw_chart": "chart", "read_progress": "rules",
    "DayStats": "schedule", "counted_starts": "schedule", "day_stats": "schedule",
    "local_day": "schedule", "UnlockStatus": "unlock",
    "evaluate": "unlock", "is_unlocked": "unlock", "offer_due": "unlock", "offer_line": "unlock",
    "status_line": "unlock",
}

__all__ = ["NO_PROGRESS", "ChartUnavailableError", "DayStats", "LastTime", "ProgressRules", "SessionHolds",
           "TargetRule", "UnlockRule", "UnlockStatus", "VoiceLine", "best_s", "by_session", "counted_starts",
           "day_stats", "draw_chart", "evaluate", "feedback", "goals", "is_unlocked", "last_time",
           "local_day", "offer_due", "offer_line", "opening", "read_progress", "sparkline", "status_line",
           "targets"]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"coach.progress.{module}"), name)
