"""The closed vocabularies of coach, as enums, in one home: the session core, the runner, the
store, export/import, the event log and the display all import from here. No I/O.

Every member *is* its string (`State.HOLDING == "holding"`, `f"{State.HOLDING}"` is "holding",
`SessionStatus.ENDED == "ended"`), so event logs, the database and the voice packs keep the words
they always had and files written before these enums existed still read; a bare string still
compares equal, which lets the edges move over one at a time.
"""

from __future__ import annotations

from enum import Enum


class Word(str, Enum):
    """A str-valued enum whose str() and format() are the bare value (as StrEnum in 3.11+)."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(str(self), spec)


class State(Word):
    """Where a session is. See `coach.session.core` for what each state means."""

    IDLE = "idle"                       # before Start
    ASKING = "asking"                   # waiting for an answer (yes or no; easy, okay or hard)
    SETUP = "setup"                     # instructions being read out
    WAITING_READY = "waiting_ready"     # waiting for `ready`
    GET_SET = "get_set"                 # "set 2 of 5 ... three, two, one"
    HOLDING = "holding"
    RESTING = "resting"
    PAUSED = "paused"
    FINISHED = "finished"


class CommandId(Word):
    """Everything the user can ask for, by voice or by key, in the order `help` lists them."""

    READY = "ready"
    DONE = "done"
    CANT_HOLD = "cant_hold"
    PAUSE = "pause"
    RESUME = "resume"
    SKIP = "skip"
    NEXT = "next"           # a synonym of skip
    REPEAT = "repeat"
    STOP = "stop"
    YES = "yes"
    NO = "no"
    START = "start"         # "start my exercises": heard by `coach serve` between sessions
    HOW_LONG = "how_long"
    HELP = "help"
    EASY = "easy"           # how did that feel? (asked once, after the last set)
    OKAY = "okay"
    HARD = "hard"

    @classmethod
    def parse(cls, word: str) -> CommandId | None:
        """The command called `word`, or None for a word that names none."""
        try:
            return cls(word)
        except ValueError:
            return None


class CueKind(Word):
    """What a scheduled cue does when its moment comes."""

    SAY = "say"                     # speak a voice-pack line
    HOLD_START = "hold_start"       # the get-set count is over: the hold begins
    HOLD_END = "hold_end"           # the hold reached its target: "time's up" is said now
    HOLD_CLOSE = "hold_close"       # the grace after the target is over: the full hold is recorded
    REST_MIN = "rest_min"           # the minimum rest is over: `ready` now starts the next set
    REST_END = "rest_end"           # the longest rest is over: prompt for the next set
    ASK_TIMEOUT = "ask_timeout"     # no answer to a yes/no question


class SayKind(Word):
    """How a `Say` is spoken: a time-critical cue cuts in; narration queues."""

    CUE = "cue"
    NARRATION = "narration"


class Question(Word):
    """What an answer in the asking state answers (yes or no; for EFFORT, easy, okay or hard)."""

    UNLOCK = "unlock"       # shall we add the unlocked advanced exercise?
    RESUME = "resume"       # carry on with today's unfinished session?
    EFFORT = "effort"       # after the last set: how did that feel, easy, okay or hard?
    PAIN = "pain"           # after the effort question: any pain? (yes or no)


class Effort(Word):
    """The answer to "how did that feel?", as the history stores it (NULL: not answered)."""

    EASY = "easy"
    OKAY = "okay"
    HARD = "hard"


class Earcon(Word):
    """The short generated tones the coach can play (`coach.speech.earcons` renders them)."""

    TICK = "tick"               # an elapsed-time mark during a hold
    COUNT = "count"             # one step of a countdown (5-4-3-2-1, or 3-2-1 before a hold)
    COUNT_LAST = "count_last"   # the last step ("1")
    HOLD_START = "hold_start"   # the hold begins: a rising pair
    HOLD_END = "hold_end"       # the hold is over: a falling pair
    ACK = "ack"                 # a spoken command was acted on
    SORRY = "sorry"             # speech was heard but matched no command: a questioning glide


class Feedback(Word):
    """How the coach answers a spoken command it acted on, or speech it did not understand."""

    TONE = "tone"
    WORD = "word"
    NONE = "none"


class SessionStatus(Word):
    """A session row's `status` in the history."""

    RUNNING = "running"             # started and not closed (a crash leaves this)
    FINISHED = "finished"           # every exercise done
    STOPPED = "stopped"             # the user said stop (finished holds are kept)
    INTERRUPTED = "interrupted"     # Ctrl-C / SIGINT
    ENDED = "ended"                 # the microphone file (--mic) ran out
    ABANDONED = "abandoned"         # declined at the resume question, or left idle until timed out


RESUMABLE_STATUSES = (SessionStatus.RUNNING, SessionStatus.INTERRUPTED)


class EndedBy(Word):
    """What ended a hold."""

    TARGET = "target"               # the target time was reached
    DONE = "done"                   # the user said done
    CANT_HOLD = "cant_hold"         # the user said can't hold
    STOP = "stop"                   # the session was stopped mid-hold


class InputMode(Word):
    """A session row's `input`: how the user was heard."""

    KEYS = "keys"
    VOICE = "voice"                 # a live microphone
    REPLAY = "replay"               # a recording (--mic): stamped from its own start, not the clock


class UnlockState(Word):
    """An advanced exercise's state for a user."""

    OFFERED = "offered"
    UNLOCKED = "unlocked"
    LOCKED = "locked"


def values(enum: type[Enum]) -> tuple[str, ...]:
    """The stored texts of an enum, in declaration order."""
    return tuple(str(member.value) for member in enum)
