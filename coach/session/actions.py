"""What a session asks the outside world to do. The runner carries these out."""

from __future__ import annotations

from dataclasses import dataclass

from coach.vocab import SayKind, State


@dataclass(frozen=True)
class Say:
    """Speak `text`.

    kind CUE: time-critical (a count, "ten seconds to go"): heard at `t`, cutting off whatever
    is still playing and dropping queued narration; never delayed.
    kind NARRATION: instructions and answers: queued after what is playing.
    `line` names the voice-pack line (or "routine" for the routine's own words).
    """

    text: str
    t: float
    kind: SayKind = SayKind.NARRATION
    line: str = ""


@dataclass(frozen=True)
class Tone:
    """Play a short generated tone (`coach.speech.earcons.Earcon` value) at `t`, like a cue:
    heard exactly then, cutting off narration that is still playing."""

    name: str
    t: float
    line: str = ""          # the cue it stands in for ("count", "hold_every", ...), for the log


@dataclass(frozen=True)
class Hush:
    """Drop narration that has become pointless (the user said ready mid-instructions)."""

    t: float


@dataclass(frozen=True)
class StateChanged:
    state: State
    t: float


@dataclass(frozen=True)
class HoldStarted:
    exercise: str
    set: int
    target_s: float
    t: float
    goal_s: float | None = None     # today's personal goal, when below target_s


@dataclass(frozen=True)
class UnlockAnswered:
    """The user said yes (unlock) or no (keep it locked) to adding an advanced exercise."""

    exercise: str
    unlocked: bool
    t: float


@dataclass(frozen=True)
class HoldEnded:
    """A hold is over: store it at once. `held_s` excludes paused time."""

    exercise: str
    set: int
    target_s: float
    held_s: float
    ended_by: str       # "target", "done", "cant_hold" or "stop"
    t: float            # when the hold ended (for done/cant_hold: when the user began to speak)
    started_t: float    # when the hold started


@dataclass(frozen=True)
class RestStarted:
    rest_s: float       # the longest rest; at this point the coach prompts for the next set
    min_s: float        # `ready` is accepted from here on
    t: float


@dataclass(frozen=True)
class RestEnded:
    t: float


@dataclass(frozen=True)
class SessionEnded:
    sets_done: int
    stopped: bool       # True when the user said stop before the end (or never answered)
    t: float
    abandoned: bool = False     # no answer for the idle time (`coach serve`): given up


@dataclass(frozen=True)
class ResumeAnswered:
    """Carry on with today's unfinished session (True), or start afresh (False)."""

    resume: bool
    t: float


@dataclass(frozen=True)
class EffortAnswered:
    """The answer to "how did that feel?" after the last set: a `coach.vocab.Effort` value."""

    effort: str
    t: float


@dataclass(frozen=True)
class PainAnswered:
    """The answer to "any pain?" after the last set."""

    pain: bool
    t: float


Action = (Say | Tone | Hush | StateChanged | HoldStarted | HoldEnded | RestStarted | RestEnded | SessionEnded
          | UnlockAnswered | ResumeAnswered | EffortAnswered | PainAnswered)
