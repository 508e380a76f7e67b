"""Progress between sessions: targets from your recent holds, feedback against last time, streaks,
unlocking the advanced step, and history as a sparkline or a chart. Pure functions over holds;
the session core and the CLI call them (matplotlib is imported only inside `draw_chart`)."""

from coach.progress.chart import ChartUnavailableError, draw_chart
from coach.progress.memory import (
                                   LastTime,
                                   SessionHolds,
                                   VoiceLine,
                                   best_s,
                                   by_session,
                                   feedback,
                                   last_time,
                                   opening,
                                   targets,
)
from coach.progress.rules import NO_PROGRESS, ProgressRules, TargetRule, UnlockRule, read_progress
from coach.progress.schedule import DayStats, counted_starts, day_stats, local_day
from coach.progress.sparkline import sparkline
from coach.progress.unlock import UnlockStatus, evaluate, is_unlocked, offer_due, offer_line, status_line

__all__ = ["NO_PROGRESS", "ChartUnavailableError", "DayStats", "LastTime", "ProgressRules", "SessionHolds",
           "TargetRule", "UnlockRule", "UnlockStatus", "VoiceLine", "best_s", "by_session", "counted_starts",
           "day_stats", "draw_chart", "evaluate", "feedback", "is_unlocked", "last_time", "local_day",
           "offer_due", "offer_line", "opening", "read_progress", "sparkline", "status_line", "targets"]
