"""What the session core needs of a voice pack, as a small interface.

`coach.voice.pack.VoicePack` (parsed from YAML) satisfies it; a test can pass any object with
these three members. The core never imports the pack loader, so it never loads a YAML parser.
"""

from __future__ import annotations

from typing import Protocol

from coach.routine.model import CueTiming


class Wording(Protocol):
    @property
    def cues(self) -> CueTiming:
        """The voice's cue timing, over the defaults and under the routine's."""
        ...

    def line(self, key: str, **values: object) -> str:
        """The line `key` (a voice-pack line id) with its {placeholders} filled in."""
        ...

    def command_word(self, command: str) -> str:
        """What to tell the user to say for `command`."""
        ...
