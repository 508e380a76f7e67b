"""The session clock: audio chunks from a microphone (live or WAV), or ticks of a real-time clock.

Session time is the microphone's sample count, so a WAV file replays deterministically and as
fast as the recognizer runs. With no microphone (keyboard only), or after a live microphone is
lost, a real-time clock on absolute deadlines takes over, from the same session time; a lost
microphone is reopened every few seconds and, once back, drives the clock again.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from coach.audio.chunk import AudioChunk, Microphone
from coach.audio.echo import DcBlock, EchoCanceller, dc_blocked
from coach.audio.room import Room
from coach.audio.wav import open_wav_writer
from coach.defaults import CHUNK_S, RATE_HZ
from coach.errors import AudioDeviceError
from coach.runner.display import Display
from coach.runner.eventlog import EventLog
from coach.speech.timeline import SpeechTimeline

REOPEN_EVERY_S = 3.0    # after losing the microphone, try to reopen it this often


class RealtimeClock:
    """Session seconds on the monotonic clock, ticking on absolute deadlines (never drifting)."""

    def __init__(self, tick_s: float = CHUNK_S, start_t: float = 0.0) -> None:
        self.tick_s = tick_s
        self._t0 = time.monotonic() - start_t
        self._start_t = start_t

    def now(self) -> float:
        return time.monotonic() - self._t0

    def at(self, monotonic_s: float) -> float:
        return monotonic_s - self._t0

    def ticks(self) -> Iterator[float]:
        k = 1
        while True:
            due = self._t0 + self._start_t + k * self.tick_s
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:               # fell behind (a slow step): skip the missed ticks, keep the grid
                k += int(-delay // self.tick_s)
            k += 1
            yield self.now()


class TimeSource:
    """Yields (session time, chunk or None). Ends only when a WAV file ends.

    With a `room` (file mode, `--echo-gain`), the coach's own voice comes back into each chunk
    through the simulated room; with a `canceller`, the echo of what the timeline played at the
    chunk's samples is then removed, and the cleaned chunk is what is yielded. `keep_echo` writes
    the microphone before (`*-mic.wav`) and after (`*-clean.wav`) cancellation, for measurement,
    and `keep_heard` what the recognizer was given after the listener's echo gate (`*-heard.wav`).
    """

    def __init__(self, mic: Microphone | None, display: Display, log: EventLog,
                 timeline: SpeechTimeline | None = None, room: Room | None = None,
                 canceller: EchoCanceller | None = None,
                 reopen_mic: Callable[[], Microphone] | None = None,
                 announce: Callable[[str, float], None] | None = None,
                 keep_audio: Path | None = None, keep_echo: Path | None = None) -> None:
        self.mic = mic
        self._announce = announce
        self._keep: wave.Wave_write | None = None
        if keep_audio is not None:          # only when asked: coach stores no audio by default
            self._keep = open_wav_writer(keep_audio, "microphone recording")
        self._keep_echo: tuple[wave.Wave_write, ...] | None = None
        if keep_echo is not None:
            self._keep_echo = tuple(
                open_wav_writer(keep_echo.with_name(f"{keep_echo.name}-{part}.wav"), "echo")
                for part in ("mic", "clean", "heard"))
        self._display = display
        self._log = log
        self._timeline = timeline
        self.room = room
        self.canceller = canceller
        self._dc = DcBlock() if canceller is None else None    # speexdsp notches DC itself
        self._reopen = reopen_mic
        self.clock: RealtimeClock | None = None

    @property
    def listening(self) -> bool:
        """Whether a microphone (not the clock) drives time right now."""
        return self.clock is None and self.mic is not None

    def key_time(self, monotonic_s: float, now_t: float) -> float:
        """Session time of a key press: exact on the clock, the current chunk's end with a microphone."""
        at = self.clock.at(monotonic_s) if self.clock is not None else now_t
        return min(max(at, 0.0), now_t)

    def __iter__(self) -> Iterator[tuple[float, AudioChunk | None]]:
        if self.mic is None:
            self.clock = RealtimeClock()
            for t in self.clock.ticks():
                yield t, None
            return
        mic: Microphone | None = self.mic
        offset_s = 0.0
        last_t = 0.0
        while mic is not None:
            try:
                for chunk in mic:
                    if self._keep is not None:
                        self._keep.writeframes(chunk.pcm)
                    chunk = self._with_echo(AudioChunk(chunk.pcm, chunk.t_start + offset_s))
                    last_t = chunk.t_end
                    self.clock = None
                    yield chunk.t_end, chunk
                return                                  # end of the file
            except AudioDeviceError as err:
                if not mic.live:
                    raise
                mic.close()
                self._display.warn(f"{err}; carrying on from the keyboard until it is back (h for keys)")
                self._log.write(last_t, "device_lost", reason=str(err))
                if self._announce is not None:
                    self._announce("mic_lost", last_t)
                mic = None
            self.clock = RealtimeClock(start_t=last_t)
            next_try = last_t + REOPEN_EVERY_S
            for t in self.clock.ticks():
                yield t, None
                if self._reopen is not None and t >= next_try:
                    next_try = t + REOPEN_EVERY_S
                    try:
                        mic = self._reopen()
                    except AudioDeviceError:
                        continue
                    offset_s = self.clock.now()
                    if self.canceller is not None:      # another device: another delay, another room
                        self.canceller.reset(int(round(offset_s * RATE_HZ)))
                    self._display.info("the microphone is back: listening again")
                    self._log.write(t, "device_back")
                    if self._announce is not None:
                        self._announce("mic_back", t)
                    self.mic = mic
                    break

    def close(self) -> None:
        if self.mic is not None:
            self.mic.close()
        if self._keep is not None:
            self._keep.close()
            self._keep = None
        if self._keep_echo is not None:
            mic_w, _, heard_w = self._keep_echo
            missing = mic_w.getnframes() - heard_w.getnframes()
            if missing > 0:         # audio the recognizer never got (the session ended first): silence
                heard_w.writeframes(bytes(2 * missing))
            for out in self._keep_echo:
                out.close()
            self._keep_echo = None

    def keep_heard(self, pcm: bytes) -> None:
        """With `keep_echo`: append what the recognizer heard (after the echo gate) to *-heard.wav."""
        if self._keep_echo is not None:
            self._keep_echo[2].writeframes(pcm)

    def _with_echo(self, chunk: AudioChunk) -> AudioChunk:
        """The room sends the coach's own voice back into the microphone; the canceller removes it."""
        if self._timeline is None or (self.room is None and self.canceller is None):
            return dc_blocked(self._dc, chunk) if self._dc is not None else chunk
        start = int(round(chunk.t_start * RATE_HZ))
        played = self._timeline.render(start, chunk.n_samples)
        mic = np.frombuffer(chunk.pcm, dtype="<i2")
        if self.room is not None:
            echo = self.room.process(played)
            mic = np.clip(mic.astype(np.float32) + echo, -32768, 32767).astype("<i2")
        if self.canceller is not None:
            out = self.canceller.process(mic, played)
        else:
            assert self._dc is not None
            out = self._dc.pcm16(mic)
        if self._keep_echo is not None:
            self._keep_echo[0].writeframes(mic.astype("<i2").tobytes())
            self._keep_echo[1].writeframes(out.astype("<i2").tobytes())
        return AudioChunk(out.astype("<i2").tobytes(), chunk.t_start)
