"""What the coach knows before a session starts: built from history by the runner, read by the core.

Keeping this a plain frozen value keeps the core pure: it never queries the store itself, and a
test can hand it any history it likes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coach.progress.memory import LastTime, VoiceLine


@dataclass(frozen=True)
class ExercisePlan:
    goals_s: tuple[float, ...] = ()         # per set: today's goal (at most the routine's target)
    opening: tuple[VoiceLine, ...] = ()     # said when the exercise starts ("Last time: ...")
    last: LastTime | None = None            # the last session's holds, for feedback
    best_s: float | None = None             # best hold ever, before today

    def goal_for(self, set_no: int) -> float | None:
        return self.goals_s[set_no - 1] if 0 < set_no <= len(self.goals_s) else None


@dataclass(frozen=True)
class UnlockOffer:
    exercise: str                           # the advanced exercise's id
    line: VoiceLine                         # "Shall we add the band bridge? Say yes or no."


@dataclass(frozen=True)
class ResumePoint:
    """Where an unfinished session of today stopped: carry on with `exercise`, set `set_no`."""

    exercise: str
    set_no: int
    sets_done: int          # holds already recorded in that session
    sets_total: int
    ask: bool = True        # ask first (yes/no); False: --resume decided already


@dataclass(frozen=True)
class SessionPlan:
    exercises: dict[str, ExercisePlan] = field(default_factory=dict)
    greeting: tuple[VoiceLine, ...] = ()    # e.g. the streak, said after the routine's intro
    enabled: frozenset[str] = frozenset()   # advanced exercises that are part of this session
    offer: UnlockOffer | None = None
    resume: ResumePoint | None = None

    def for_exercise(self, exercise_id: str) -> ExercisePlan:
        return self.exercises.get(exercise_id, ExercisePlan())


NO_PLAN = SessionPlan()
