"""What happens to a session. Every event carries `t`: session seconds from the caller's clock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Start:
    """The session begins."""

    t: float


@dataclass(frozen=True)
class Tick:
    """Time has passed up to `t`. Timers due by then fire, each stamped with its own due time.

    `hearing_since`: the recognizer is, at `t`, in the middle of speech that began then (session
    seconds) and has not decided what it was; None when it is not (or cannot tell)."""

    t: float
    hearing_since: float | None = None


@dataclass(frozen=True)
class NarrationDone:
    """The narrator finished everything queued: a set-up step may now prompt for `ready`."""

    t: float


@dataclass(frozen=True)
class Command:
    """The user asked for something.

    `t` is when the command became known (key press, or recognition finished); `t_start` is when
    the user began to say it: a hold ended by "done" is measured to `t_start`.
    """

    command: str
    t: float
    t_start: float | None = None
    phrase: str = ""
    source: str = "keys"        # "keys" or "voice"

    @property
    def began(self) -> float:
        return self.t if self.t_start is None else min(self.t_start, self.t)


@dataclass(frozen=True)
class Misheard:
    """The user said something short that matched no command (from `t_start`; known at `t`).

    In a waiting state the session answers "Sorry?" and asks again. Elsewhere it stays quiet,
    unless the coach fell silent for it (`cut_off`: the user talked over its narration, and it
    came to nothing): then "Sorry?" too, outside a hold, and the runner says the cut line again
    after the same pause."""

    t: float
    t_start: float
    cut_off: bool = False


@dataclass(frozen=True)
class SpeechEnded:
    """The line `text` stopped being heard at `t` (the audio sample clock): it finished, or was cut.

    The runner sends one for every spoken line; a question's timeout counts from the end of its speech."""

    t: float
    text: str


Event = Start | Tick | NarrationDone | Command | Misheard | SpeechEnded
