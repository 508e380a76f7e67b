"""`coach enroll` from the microphone: ask for each command a few times and keep each take as a WAV.

The microphone is any `Microphone` (the live one, or a WAV file for tests and replays). The noise
floor is learned from a moment of quiet first; then for each take the prompt is shown and the next
stretch of speech the energy segmenter cuts (the same one the recognizers use) is the take. A
stretch too long to be the command is said so and asked again; nothing heard within `timeout_s`
skips the take. The takes are ordinary WAV files named the way `coach enroll --from` reads them
(`ready_1.wav`, `cant_hold_2.wav`), created 0600, so the adaptation can be run again from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coach.asr.enroll import max_speech_s
from coach.asr.segmenter import EnergySegmenter, SpeechSegment
from coach.audio.chunk import AudioChunk, Microphone
from coach.audio.wav import write_wav
from coach.defaults import RATE_HZ
from coach.paths import ensure_private_dir

QUIET_FIRST_S = 0.6         # learn the room's noise floor before the first prompt
TAKE_TIMEOUT_S = 8.0        # nothing said this long after a prompt: skip the take
RETRIES = 2                 # a take that was too long is asked again this many times


@dataclass(frozen=True)
class Take:
    command: str
    number: int
    path: Path | None           # None: skipped (nothing heard, or too long every time)
    note: str = ""


def record_takes(mic: Microphone, commands: Sequence[str], phrases: Mapping[str, list[str]],
                 folder: Path, takes: int, show: Callable[[str], None],
                 timeout_s: float = TAKE_TIMEOUT_S) -> list[Take]:
    """Ask for each command `takes` times; returns every take (saved or skipped), in order."""
    ensure_private_dir(folder)
    chunks = iter(mic)
    segmenter = EnergySegmenter()
    show("quiet for a moment, please")
    if not _skip(chunks, segmenter, QUIET_FIRST_S):
        return []
    out: list[Take] = []
    for command in commands:
        phrase = phrases[command][0]
        limit_s = max_speech_s(list(phrases[command]))
        for number in range(1, takes + 1):
            take = _one_take(chunks, segmenter, command, phrase, number, takes, limit_s, folder, show,
                             timeout_s)
            out.append(take)
            if take.note == "the microphone ended":
                return out
    return out


def _one_take(chunks: Iterator[AudioChunk], segmenter: EnergySegmenter, command: str, phrase: str,
              number: int, takes: int, limit_s: float, folder: Path, show: Callable[[str], None],
              timeout_s: float) -> Take:
    said_s = 0.0
    for attempt in range(RETRIES + 1):
        show(f"say \u201c{phrase}\u201d ({number} of {takes})" if attempt == 0
             else f"that was {said_s:.1f} s, too long: say just \u201c{phrase}\u201d ({number} of {takes})")
        segment, why = _next_segment(chunks, segmenter, timeout_s)
        if segment is None:
            if why == "ended":
                return Take(command, number, None, "the microphone ended")
            show(f"heard nothing: skipping \u201c{phrase}\u201d {number}")
            return Take(command, number, None, "heard nothing")
        said_s = segment.t_end - segment.t_start
        if segment.too_long or said_s > limit_s:
            continue
        path = folder / f"{command}_{number}.wav"
        write_wav(path, segment.pcm, RATE_HZ)
        return Take(command, number, path)
    return Take(command, number, None, "too long every time")


def _skip(chunks: Iterator[AudioChunk], segmenter: EnergySegmenter, seconds: float) -> bool:
    """Feed `seconds` of audio to the segmenter (its floor), discarding what it cuts."""
    fed = 0.0
    for chunk in chunks:
        samples = np.frombuffer(chunk.pcm, dtype="<i2")
        segmenter.feed(samples)
        fed += len(samples) / RATE_HZ
        if fed >= seconds:
            return True
    return False


def _next_segment(chunks: Iterator[AudioChunk], segmenter: EnergySegmenter,
                  timeout_s: float) -> tuple[SpeechSegment | None, str]:
    """The next stretch of speech that begins within `timeout_s` (and the room audio after it)."""
    waited = 0.0
    for chunk in chunks:
        samples = np.frombuffer(chunk.pcm, dtype="<i2")
        waited += len(samples) / RATE_HZ
        found = segmenter.feed(samples)
        if found:
            return found[0], ""
        if waited >= timeout_s and not segmenter.in_speech:
            return None, "timeout"
    found = segmenter.flush()
    return (found[0], "") if found else (None, "ended")
