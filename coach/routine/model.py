"""What a routine is, once parsed. Frozen: a session never changes the routine it runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MIN_CUE_EVERY_S = 1.0       # a repeating cue (every_s, rest_every_s) is 0 (never) or at least this
MAX_CUES_PER_HOLD = 600     # repeating cues in one hold or one rest (an hour at one every 6 s)


@dataclass(frozen=True)
class CueTiming:
    """When spoken cues fall (seconds of hold or rest time). None = not set at this level.

    Levels, later ones winning: `coach.defaults`, the voice pack, the routine, the exercise.
    """

    every_s: float | None = None          # "twenty seconds" every this many seconds; 0 = never
    halfway: bool | None = None           # "halfway" at target/2
    warn_left_s: float | None = None      # "ten seconds left"; 0 = never
    countdown_from: int | None = None     # "five, four, ... one" before the end; 0 = never
    get_set_s: int | None = None          # "three, two, one, lift" before the hold; 0 = at once
    rest_every_s: float | None = None     # during rest, the time left every this often; 0 = never
    rest_warn_left_s: float | None = None  # "ten seconds of rest left"; 0 = never
    form: bool | None = None              # the exercise's form cues during a hold; false = never

    def over(self, base: CueTiming) -> CueTiming:
        """These settings where set, `base` elsewhere."""
        return CueTiming(**{f: (getattr(self, f) if getattr(self, f) is not None else getattr(base, f))
                            for f in self.__dataclass_fields__})


def default_cues() -> CueTiming:
    from coach import defaults as d

    return CueTiming(every_s=d.CUE_EVERY_S, halfway=d.CUE_HALFWAY, warn_left_s=d.CUE_WARN_LEFT_S,
                     countdown_from=d.CUE_COUNTDOWN_FROM, get_set_s=d.GET_SET_S,
                     rest_every_s=d.REST_EVERY_S, rest_warn_left_s=d.REST_WARN_LEFT_S, form=d.CUE_FORM)


# Along a hold's path, one name per quantity (routine file -> plan -> session -> history row):
#   target_s  the routine's hold (`hold_s` in the file and on `Exercise`): the most a set lasts
#   goal_s    today's personal goal for a set, from the history: only when below target_s
#   held_s    what the person held: within 0..target_s, to the millisecond
# `goal_below` and `held_within` are the one place that caps and rounds them.
HELD_DECIMALS = 3


def goal_below(goal_s: float | None, target_s: float) -> float | None:
    """Today's goal when it is a real one (above 0, below the target); None: the target is the goal."""
    return goal_s if goal_s is not None and 0 < goal_s < target_s else None


def held_within(held_s: float, target_s: float) -> float:
    """Held time as it is recorded: never below 0 or above the target, rounded to the millisecond."""
    return round(min(max(held_s, 0.0), target_s), HELD_DECIMALS)


@dataclass(frozen=True)
class RestRange:
    """Rest between sets: `ready` is accepted after `min_s`; at `max_s` the coach prompts and waits."""

    min_s: float
    max_s: float


@dataclass(frozen=True)
class Exercise:
    """One step of a routine.

    kind "setup": narration only, then wait for `ready` (getting into position).
    kind "hold": `sets` holds of `hold_s` seconds, with rests between them.
    """

    id: str
    title: str
    kind: str                       # "setup" | "hold"
    say: tuple[str, ...]            # instructions, spoken before the first set
    hold_s: float = 0.0
    sets: int = 0
    rest: RestRange | None = None
    advanced: bool = False          # left out unless unlocked (or --include-advanced)
    short_hold: tuple[str, ...] = ()   # said after a hold that ended before its target
    cues: CueTiming | None = None   # None: the routine's timing
    form_cues: tuple[str, ...] = ()    # said during a hold between the counts ("keep your hips level")

    @property
    def is_hold(self) -> bool:
        return self.kind == "hold"


@dataclass(frozen=True)
class TargetRule:
    """Each set's target: `routine` = the exercise's hold_s; `best_recent` = the best hold of that set
    in the last `sessions` sessions plus `step_s`, never above hold_s (hold_s the first time)."""

    source: str = "best_recent"     # "best_recent" | "routine"
    sessions: int = 3
    step_s: float = 5.0


@dataclass(frozen=True)
class UnlockRule:
    """`exercise` (an advanced one) is offered once every set of `after` held at least
    `every_set_at_least_s` in `sessions` sessions (on as many different local days if `different_days`)."""

    exercise: str
    after: str
    every_set_at_least_s: float
    sessions: int = 3
    different_days: bool = True


@dataclass(frozen=True)
class ProgressRules:
    target: TargetRule = TargetRule()
    unlocks: tuple[UnlockRule, ...] = ()

    def unlock_for(self, exercise: str) -> UnlockRule | None:
        return next((u for u in self.unlocks if u.exercise == exercise), None)


NO_PROGRESS = ProgressRules(target=TargetRule(source="routine"))


@dataclass(frozen=True)
class Routine:
    name: str                       # what `coach run NAME` takes: the file name without .yaml
    title: str
    summary: str                    # the line `coach routines` shows
    exercises: tuple[Exercise, ...]
    cues: CueTiming
    sessions_per_day_min: int
    sessions_per_day_max: int
    intro: tuple[str, ...]          # spoken once at the start
    outro: tuple[str, ...]          # spoken at the end of a finished session
    source: Path
    progress: ProgressRules = NO_PROGRESS   # targets from history, unlocking advanced steps
    # After the last set: "How did that feel?" and "Any pain?". A routine file asks unless it says
    # `ask_effort: false` (coach.defaults.ASK_EFFORT); a Routine built in code asks only when told.
    ask_effort: bool = False

    def exercise(self, exercise_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)

    def without_advanced(self) -> Routine:
        from dataclasses import replace

        return replace(self, exercises=tuple(e for e in self.exercises if not e.advanced))

    def cues_for(self, exercise: Exercise, base: CueTiming) -> CueTiming:
        """The exercise's timing over the routine's over `base` (defaults with the voice's)."""
        timing = self.cues.over(base)
        return exercise.cues.over(timing) if exercise.cues else timing

    @property
    def total_sets(self) -> int:
        return sum(e.sets for e in self.exercises if e.is_hold)
