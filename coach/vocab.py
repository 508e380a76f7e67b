"""The closed vocabularies coach writes: a session's status, the session core's states, how a hold
ended, an unlock's state. One home, shared by the session core, the runner, the store and
export/import, so a value one part writes is a value every other part reads.

They are `str` enums: each member equals the text stored in the history and written to event
logs (`SessionStatus.ENDED == "ended"`), so files written before these enums existed still read.
No I/O here.
"""

from __future__ import annotations

from enum import Enum


class SessionStatus(str, Enum):
    """A session row's `status` in the history."""

    RUNNING = "running"             # started and not closed (a crash leaves this)
    FINISHED = "finished"           # every exercise done
    STOPPED = "stopped"             # the user said stop (finished holds are kept)
    INTERRUPTED = "interrupted"     # Ctrl-C / SIGINT
    ENDED = "ended"                 # the microphone file (--mic) ran out
    ABANDONED = "abandoned"         # the user declined to resume it

    def __str__(self) -> str:
        return self.value


RESUMABLE_STATUSES = (SessionStatus.RUNNING, SessionStatus.INTERRUPTED)


class EndedBy(str, Enum):
    """What ended a hold."""

    TARGET = "target"               # the target time was reached
    DONE = "done"                   # the user said done
    CANT_HOLD = "cant_hold"         # the user said can't hold
    STOP = "stop"                   # the session was stopped mid-hold

    def __str__(self) -> str:
        return self.value


class SessionState(str, Enum):
    """The session core's state (`Session.state`), as logged in `state` events."""

    IDLE = "idle"
    ASKING = "asking"
    SETUP = "setup"
    WAITING_READY = "waiting_ready"
    GET_SET = "get_set"
    HOLDING = "holding"
    RESTING = "resting"
    PAUSED = "paused"
    FINISHED = "finished"

    def __str__(self) -> str:
        return self.value


class InputMode(str, Enum):
    """A session row's `input`: how the user was heard."""

    KEYS = "keys"
    VOICE = "voice"                 # a live microphone
    REPLAY = "replay"               # a recording (--mic): stamped from its own start, not the clock

    def __str__(self) -> str:
        return self.value


class UnlockState(str, Enum):
    """An advanced exercise's state for a user."""

    OFFERED = "offered"
    UNLOCKED = "unlocked"
    LOCKED = "locked"

    def __str__(self) -> str:
        return self.value


def values(enum: type[Enum]) -> tuple[str, ...]:
    """The stored texts of an enum, in declaration order."""
    return tuple(str(member.value) for member in enum)
