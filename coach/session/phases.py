"""The timed stretches of a session, each with its own typed data.

Every phase has a clock that can be paused (`elapsed`, `time_of`) and the cues still to come on
it. What else it knows depends on its kind: a hold knows its target, a rest its range, a question
what it asks. `total_s` is what a live display shows as the end of the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from coach.session.cues import Cue
from coach.vocab import Question, State


@dataclass
class PhaseClock:
    """A timed stretch whose clock can be paused. Times are session seconds."""

    state: ClassVar[State]
    started_t: float                    # when the clock last (re)started
    cues: list[Cue]                     # still to come, by phase time
    accum_s: float = 0.0                # elapsed before `started_t`
    running: bool = True

    def elapsed(self, t: float) -> float:
        return self.accum_s + (t - self.started_t if self.running else 0.0)

    def time_of(self, at_s: float) -> float:
        """The session time at which the phase clock reads `at_s` (while it runs)."""
        return self.started_t + (at_s - self.accum_s)

    @property
    def total_s(self) -> float:
        return 0.0


@dataclass(kw_only=True)
class AskingPhase(PhaseClock):
    """Waiting for an answer; its only cue is the timeout, which counts from the end of the
    question's speech (`spoken`: that end was heard; before it, the clock may wait for it)."""

    state: ClassVar[State] = State.ASKING
    about: Question
    question: str = ""                  # the question as said (`repeat` and its end are matched on it)
    spoken: bool = False


@dataclass(kw_only=True)
class GetSetPhase(PhaseClock):
    """"Set 2 of 5 ... three, two, one": `count_s` from the set's announcement to the hold."""

    state: ClassVar[State] = State.GET_SET
    count_s: float

    @property
    def total_s(self) -> float:
        return self.count_s


@dataclass(kw_only=True)
class HoldPhase(PhaseClock):
    """A hold of up to `target_s` seconds that began at `began_t` (session time)."""

    state: ClassVar[State] = State.HOLDING
    target_s: float
    began_t: float
    reached_t: float | None = None      # when the target was reached (the grace before it is recorded)
    times_up_held: bool = False         # its "Well held" waits: the user was saying something then

    @property
    def total_s(self) -> float:
        return self.target_s


@dataclass(kw_only=True)
class RestPhase(PhaseClock):
    """A rest between sets: `ready` is accepted after `min_s`; at `max_s` the coach prompts."""

    state: ClassVar[State] = State.RESTING
    min_s: float
    max_s: float

    @property
    def total_s(self) -> float:
        return self.max_s


Phase = AskingPhase | GetSetPhase | HoldPhase | RestPhase
