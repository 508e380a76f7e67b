"""The recognizer interface shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Heard:
    """One command recognized in the audio stream.

    Times are seconds of stream time: samples fed since the recognizer was created, divided by
    the sample rate. `t_start` is when the utterance began (a hold ended by "done" is measured to
    here), `t_end` when it ended.
    """

    command: str        # command id: "ready", "done", "cant_hold", ...
    phrase: str         # the words that were heard, e.g. "i can't"
    t_start: float
    t_end: float
    confidence: float   # 0..1


class Recognizer(Protocol):
    """PCM in, heard commands out. Implementations keep their own sample counter.

    `phrases` maps command id -> list of phrases (from the voice pack). A backend must not report a
    command for audio that is not one of the phrases: ordinary speech goes to a garbage path.
    """

    name: str           # "pocketsphinx" or "vosk"
    model: str          # which model, for the start-up line ("bundled en-us", a path)
    rate_hz: int        # always 16000 here

    def feed(self, pcm: bytes) -> list[Heard]:
        """Accept 16-bit mono little-endian PCM; return commands whose utterance ended in it."""
        ...

    def flush(self) -> list[Heard]:
        """End of stream: finish any utterance in progress."""
        ...

    def reset(self) -> None:
        """Forget the utterance in progress (after the coach spoke). The sample clock keeps going."""
        ...
