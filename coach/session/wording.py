"""What the session core needs of a voice pack, as a small interface.

`coach.voice.pack.VoicePack` (parsed from YAML) satisfies it; a test can pass any object with
these members. The core never imports the pack loader, so it never loads a YAML parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from coach.routine.model import CueTiming
from coach.vocab import Feedback


@dataclass(frozen=True)
class Earcons:
    """Which cues are short generated tones instead of words (a voice pack's `earcons:`).

    Tones leave the user room to speak, carry no words the recognizer could mistake for a
    command, and are the easiest sound to cancel. `acknowledge` / `not_understood`: how the coach
    answers a spoken command it acted on, and speech that matched no command.
    """

    countdown: bool = False             # 5-4-3-2-1 at the end of a hold, and 3-2-1 before it
    every: bool = False                 # the elapsed-time marks during a hold
    hold: bool = False                  # a tone as a hold starts and as it ends
    acknowledge: Feedback = Feedback.TONE
    not_understood: Feedback = Feedback.WORD


class Wording(Protocol):
    @property
    def cues(self) -> CueTiming:
        """The voice's cue timing, over the defaults and under the routine's."""
        ...

    def line(self, key: str, **values: object) -> str:
        """The line `key` (a voice-pack line id) with its {placeholders} filled in."""
        ...

    @property
    def earcons(self) -> Earcons:
        """Which cues are tones; how commands are acknowledged."""
        ...

    def command_word(self, command: str) -> str:
        """What to tell the user to say for `command`."""
        ...
