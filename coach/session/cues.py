"""Schedules of spoken cues for a hold and a rest, computed up front from the timing settings.

A cue is due at a point of *phase time* (hold or rest seconds, which stop while paused), so the
count can never drift: nothing here depends on how long speech takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from coach.routine.model import CueTiming, goal_below
from coach.vocab import CueKind

MIN_GAP_S = 2.0     # a lesser cue closer than this to a more important one is left out

# Which cue wins when two spoken cues fall close together (higher wins).
_PRIORITY = {"count": 8, "goal": 7.5, "warn": 7, "rest_min": 6, "halfway": 5, "every": 4, "form": 3}
FORM_QUIET_END_S = 10.0     # no form cue in a hold's last seconds: that is for counting down
FORM_GAP_S = 10.0           # form cues this far apart when no elapsed-time calls set the rhythm


@dataclass(frozen=True)
class Cue:
    at_s: float                 # phase time
    kind: CueKind
    line: str = ""              # voice-pack line, for kind SAY
    values: dict[str, object] = field(default_factory=dict)
    tag: str = ""               # what the cue is for, which decides who wins a clash

    @property
    def spoken(self) -> bool:
        return self.kind in (CueKind.SAY, CueKind.REST_MIN)


def hold_cues(target_s: float, timing: CueTiming, goal_s: float | None = None,
              form: tuple[str, ...] = (), form_from: int = 0) -> list[Cue]:
    """Elapsed-time calls, halfway, today's goal, time left, the final count, the end of the hold,
    and the exercise's `form` cues in the gaps (when `timing.form` allows them)."""
    cues: list[Cue] = form_cues(target_s, timing, form, form_from) if timing.form is not False else []
    if (goal_s := goal_below(goal_s, target_s)) is not None:
        cues.append(Cue(goal_s, CueKind.SAY, "goal_reached", {"goal_s": _int(goal_s)}, "goal"))
    every = timing.every_s or 0
    if every > 0:
        for k in range(1, int(target_s // every) + 1):
            at = k * every
            if at < target_s:
                cues.append(Cue(at, CueKind.SAY, "hold_every", {"elapsed_s": _int(at)}, "every"))
    if timing.halfway and target_s >= 10:
        cues.append(Cue(target_s / 2, CueKind.SAY, "hold_halfway", tag="halfway"))
    warn = timing.warn_left_s or 0
    if 0 < warn < target_s:
        cues.append(Cue(target_s - warn, CueKind.SAY, "hold_left", {"left_s": _int(warn)}, "warn"))
    for n in range(min(timing.countdown_from or 0, math.ceil(target_s) - 1), 0, -1):
        cues.append(Cue(target_s - n, CueKind.SAY, "count", {"n": n}, "count"))
    cues.append(Cue(target_s, CueKind.HOLD_END))
    return _thin(cues)


def form_cues(target_s: float, timing: CueTiming, lines: tuple[str, ...], first: int = 0) -> list[Cue]:
    """Form cues ("squeeze the glutes") halfway between the elapsed-time calls, so they never
    land on a number, and never in the last seconds of the hold (the warning and the countdown).
    They take turns, starting at `lines[first]` (pass the set number so each set opens differently)."""
    if not lines:
        return []
    gap = timing.every_s or FORM_GAP_S
    quiet = max(FORM_QUIET_END_S, timing.warn_left_s or 0, timing.countdown_from or 0)
    cues = []
    at = gap / 2
    k = 0
    while at <= target_s - quiet + 1e-9:
        text = lines[(first + k) % len(lines)]
        cues.append(Cue(at, CueKind.SAY, "form_cue", {"text": text}, "form"))
        k += 1
        at += gap
    return cues


def rest_cues(min_s: float, max_s: float, timing: CueTiming) -> list[Cue]:
    """Rest left every so often, a warning before the end, the minimum reached, the end."""
    cues: list[Cue] = []
    every = timing.rest_every_s or 0
    if every > 0:
        left = math.floor((max_s - 1e-9) / every) * every
        while left > 0:
            cues.append(Cue(max_s - left, CueKind.SAY, "rest_left", {"left_s": _int(left)}, "every"))
            left -= every
    warn = timing.rest_warn_left_s or 0
    if 0 < warn < max_s:
        cues.append(Cue(max_s - warn, CueKind.SAY, "rest_left", {"left_s": _int(warn)}, "warn"))
    if 0 < min_s < max_s:
        cues.append(Cue(min_s, CueKind.REST_MIN, tag="rest_min"))
    cues.append(Cue(max_s, CueKind.REST_END))
    return _thin(cues)


def _thin(cues: list[Cue]) -> list[Cue]:
    """Sort by time; drop lesser spoken cues crowding a more important one (counts never clash)."""
    kept: list[Cue] = []
    for cue in sorted(cues, key=lambda c: -_PRIORITY.get(c.tag, 9)):
        if cue.at_s <= 0:
            continue
        clash = cue.spoken and any(
            k.spoken and abs(k.at_s - cue.at_s) < MIN_GAP_S and not (k.tag == cue.tag == "count")
            for k in kept)
        if not clash:
            kept.append(cue)
    return sorted(kept, key=lambda c: c.at_s)


def _int(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 1)
