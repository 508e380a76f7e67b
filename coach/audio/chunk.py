"""The unit of audio that flows through coach, and the microphone interface that yields it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from coach.defaults import RATE_HZ


@dataclass(frozen=True)
class AudioChunk:
    """16-bit mono little-endian PCM at `RATE_HZ`, stamped with session time.

    `t_start` counts samples since the stream opened: for a WAV file this is the file's own
    clock, so a replay is deterministic; for a live device it advances in real time.
    """

    pcm: bytes
    t_start: float

    @property
    def n_samples(self) -> int:
        return len(self.pcm) // 2

    @property
    def t_end(self) -> float:
        return self.t_start + self.n_samples / RATE_HZ


class Microphone(Protocol):
    """Yields chunks until the stream ends (end of file) or `close()` is called.

    `live` tells the runner whether time passes by itself (a device) or only as the file is read.
    A live microphone that loses its device raises `coach.errors.AudioDeviceError` from the iterator.
    """

    name: str
    live: bool

    def __iter__(self) -> Iterator[AudioChunk]: ...

    def close(self) -> None: ...
