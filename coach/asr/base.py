"""The recognizer interface shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Word:
    """One word of a decoded segment and where the decoder aligned it (stream seconds)."""

    text: str
    t_start: float
    t_end: float


@dataclass(frozen=True)
class Heard:
    """One speech segment the recognizer decided on: a command, or (`command == ""`) none.

    Times are seconds of stream time: samples fed since the recognizer was created, divided by
    the sample rate. `t_start` is when the utterance began (a hold ended by "done" is measured to
    here), `t_end` when it ended.

    A segment that matched no command phrase is reported too, with `command=""`: `phrase` is
    whatever was decoded (may be ""), `confidence` the backend's score for it (0..1, or 0) and
    `reason` why it is not a command ("not a phrase", "too long", "too long for phrase", "low
    confidence", ...). Segments rejected as too long to be a command, without decoding, are
    reported the same way with `phrase=""`. The listener logs them as `ignored` and may answer
    "Sorry?". Only `command != ""` ever acts.

    `words` (pocketsphinx and fused) is the decoded word sequence with its alignment: the listener
    uses it to find the user's phrase inside a segment the coach's residual echo ran into.
    """

    command: str        # command id: "ready", "done", "cant_hold", ...; "" = speech that is no command
    phrase: str         # the words that were heard, e.g. "i can't"
    t_start: float
    t_end: float
    confidence: float   # 0..1
    reason: str = ""    # "" for a command; why not, for `command == ""`
    by: str = ""        # which part of a combined engine heard it alone ("neural"); "" otherwise
    words: tuple[Word, ...] = ()    # the decoder's word alignment, when the backend has one

    @property
    def is_command(self) -> bool:
        return self.command != ""


class Recognizer(Protocol):
    """PCM in, heard commands out. Implementations keep their own sample counter.

    `phrases` maps command id -> list of phrases (from the voice pack). A backend must not report a
    command for audio that is not one of the phrases: ordinary speech goes to a garbage path.

    `feed()` and `flush()` return one `Heard` per speech segment that ended: a command, or, for a
    segment that matched no phrase (or was too long to be one), a `Heard` with `command=""` and
    the segment's times. Callers that only act on commands filter on `heard.command`.
    """

    name: str           # "pocketsphinx", "neural", "fused" or "vosk"
    model: str          # which model, for the start-up line ("bundled en-us", a path)
    rate_hz: int        # always 16000 here

    def feed(self, pcm: bytes) -> list[Heard]:
        """Accept 16-bit mono little-endian PCM; return commands whose utterance ended in it."""
        ...

    def flush(self) -> list[Heard]:
        """End of stream: finish any utterance in progress."""
        ...

    # Optional: `hearing_since_s` (float | None), stream seconds where speech the backend is still
    # hearing began. The session waits for its verdict before closing a hold as full.

    def reset(self) -> None:
        """Forget the utterance in progress. The sample clock keeps going.

        The listener no longer calls this when the coach stops speaking (that discarded a "ready"
        begun over the end of a prompt); it is still used after a gap in the audio.
        """
        ...
