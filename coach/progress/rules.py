"""Reading a routine's `progress:` block: how targets grow and what unlocks an advanced step.

The rules live in the routine file, next to the exercises they talk about, so a physiotherapist
can change "three good days" to "five" without touching code. A routine without the block keeps
its fixed targets and unlocks nothing (`NO_PROGRESS`).

    progress:
      target: {from: best_recent, sessions: 3, step_s: 5}
      unlock:                       # one mapping, or a list of them
        exercise: band_bridge
        when: {exercise: bridge, every_set_at_least_s: 60, sessions: 3, different_days: true}
"""

from __future__ import annotations

from collections.abc import Sequence

from yaml.nodes import MappingNode

# The rules themselves are plain values of the routine model (no YAML there); this module reads them.
from coach.routine.model import NO_PROGRESS, Exercise, ProgressRules, TargetRule, UnlockRule
from coach.suggest import did_you_mean
from coach.yamlfile import Fields

__all__ = ["NO_PROGRESS", "TARGET_SOURCES", "ProgressRules", "TargetRule", "UnlockRule", "read_progress"]

TARGET_SOURCES = ("best_recent", "routine")
_PROGRESS_KEYS = ("target", "unlock")
_TARGET_KEYS = ("from", "sessions", "step_s")
_UNLOCK_KEYS = ("exercise", "when")
_WHEN_KEYS = ("exercise", "every_set_at_least_s", "sessions", "different_days")




def read_progress(f: Fields, exercises: Sequence[Exercise] = ()) -> ProgressRules:
    """Read the `progress` mapping. With the routine's `exercises`, also check that the names exist:
    the unlocked one must be `advanced: true`, the one that earns it a hold exercise."""
    f.only(_PROGRESS_KEYS)
    target = f.read("target", _read_target) or TargetRule()
    unlocks: list[UnlockRule] = []
    if f.is_mapping("unlock"):
        unlocks.append(_read_unlock(f.section("unlock"), exercises))
    elif f.has("unlock"):
        for where, node in f.items("unlock", max_items=20):
            if not isinstance(node, MappingNode):
                f.fail("each entry must be a mapping with `exercise` and `when`", node, where.split(".")[-1])
            unlocks.append(_read_unlock(f.sub(where, node), exercises))
    seen: set[str] = set()
    for rule in unlocks:
        if rule.exercise in seen:
            f.fail_at("unlock", f"`{rule.exercise}` has two unlock rules; keep one")
        seen.add(rule.exercise)
    return ProgressRules(target=target, unlocks=tuple(unlocks))


def _read_target(f: Fields) -> TargetRule:
    f.only(_TARGET_KEYS)
    source = f.choice("from", TARGET_SOURCES, "best_recent")
    sessions = f.integer("sessions", 3, minimum=1, maximum=100)
    step_s = f.number("step_s", 5.0, positive=False, maximum=600)
    return TargetRule(source=source, sessions=sessions, step_s=step_s)


def _read_unlock(f: Fields, exercises: Sequence[Exercise]) -> UnlockRule:
    f.only(_UNLOCK_KEYS)
    exercise = f.text("exercise", max_len=40)
    when = f.section("when")
    when.only(_WHEN_KEYS)
    after = when.text("exercise", max_len=40)
    at_least_s = when.number("every_set_at_least_s", maximum=3600)
    sessions = when.integer("sessions", 3, minimum=1, maximum=100)
    different_days = when.flag("different_days", True)
    if exercises:
        by_id = {e.id: e for e in exercises}
        ids = tuple(by_id)
        if exercise not in by_id:
            f.fail_at("exercise", f"no exercise `{exercise}` in this routine{_hint(exercise, ids)}")
        if not by_id[exercise].advanced:
            f.fail_at("exercise", f"`{exercise}` is not `advanced: true`, so there is nothing to unlock")
        if after not in by_id:
            when.fail_at("exercise", f"no exercise `{after}` in this routine{_hint(after, ids)}")
        if not by_id[after].is_hold:
            when.fail_at("exercise", f"`{after}` is a setup step; unlocks are earned with a hold exercise")
        if after == exercise:
            when.fail_at("exercise", "an exercise cannot unlock itself")
    return UnlockRule(exercise=exercise, after=after, every_set_at_least_s=at_least_s, sessions=sessions,
                      different_days=different_days)


def _hint(word: str, options: tuple[str, ...]) -> str:
    return did_you_mean(word, options) or f" (exercises: {', '.join(options)})"
