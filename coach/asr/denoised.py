"""A recognizer that hears the microphone through the noise suppressor (`--noise-suppression N`).

The listener's echo judgements still see the microphone as it is; only what the recognizer
decodes (and its speech segmenter sees) is cleaned.
"""

from __future__ import annotations

from collections.abc import Callable

from coach.asr.base import Heard, Recognizer
from coach.audio.denoise import NoiseSuppressor
from coach.errors import NoiseSuppressorError


class DenoisedRecognizer:
    """`recognizer`, fed through `suppressor`. Everything else (its name, model, `hearing_since_s`,
    a shared clock) is the inner recognizer's."""

    def __init__(self, recognizer: Recognizer, suppressor: NoiseSuppressor) -> None:
        self.inner = recognizer
        self.suppressor = suppressor

    def feed(self, pcm: bytes) -> list[Heard]:
        return self.inner.feed(self.suppressor.process(pcm))

    def flush(self) -> list[Heard]:
        return self.inner.flush()

    def reset(self) -> None:
        self.inner.reset()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def with_noise_suppression(recognizer: Recognizer, level: int, info: Callable[[str], None],
                           warn: Callable[[str], None]) -> Recognizer:
    """`recognizer` behind the suppressor at `level` (said through `info`); level 0, or no library
    (`warn`ed), leave it as it is."""
    if level == 0:
        return recognizer
    try:
        suppressor = NoiseSuppressor(level)
    except NoiseSuppressorError as err:
        warn(str(err))
        return recognizer
    info(f"cleaning steady noise from the microphone first (noise suppression level {level})")
    return DenoisedRecognizer(recognizer, suppressor)   # type: ignore[return-value]
