"""Where the timeline's sound goes: a WAV file (`--speaker OUT.wav`), a live device, or nowhere."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from coach.audio.wav import open_wav_writer
from coach.defaults import RATE_HZ
from coach.speech.timeline import SpeechTimeline


class Speaker(Protocol):
    def advance(self, t: float) -> None:
        """Session time has reached `t`: everything before it is final."""

    def finish(self, t: float) -> None:
        """The session ended at `t`; let the last words play out, then close."""


class SilentSpeaker:
    """Text only (no speech engine, or `--quiet`)."""

    def advance(self, t: float) -> None:
        pass

    def finish(self, t: float) -> None:
        pass


class WavSpeaker:
    """Renders the coach's voice into a WAV file, each line at the session time it would be heard.

    Written as the session goes (everything before the current time is final), so a long session
    needs no memory for its audio and a crash leaves a playable file up to that point.
    """

    def __init__(self, path: Path, timeline: SpeechTimeline) -> None:
        self.path = path
        self._timeline = timeline
        self._written = 0
        self._wav = open_wav_writer(path, "speaker file")

    def advance(self, t: float) -> None:
        upto = int(round(t * RATE_HZ))
        if upto > self._written:
            samples = self._timeline.render(self._written, upto - self._written)
            self._wav.writeframes(samples.astype("<i2").tobytes())
            self._written = upto

    def finish(self, t: float) -> None:
        self.advance(max(t, self._timeline.busy_until()))
        self._wav.close()


RESYNC_S = 0.15     # re-align the live output when it is off the session clock by more than this


class LiveSpeaker:
    """Plays the timeline through a sound device; its clock is aligned with the session's."""

    def __init__(self, timeline: SpeechTimeline, device: str | int | None, start_t: float = 0.0) -> None:
        from coach.audio.live import LiveSpeaker as DeviceOutput

        self._timeline = timeline
        self._offset = -(1 << 40)     # set on the first advance()
        self._output = DeviceOutput(self._fill, device=device, rate_hz=RATE_HZ)

    def wait_started(self, timeout_s: float = 3.0) -> None:
        """Block until the device really plays (some wake up seconds late), so the first words
        of a session are not lost to re-alignment."""
        import time

        deadline = time.monotonic() + timeout_s
        while self._output.position_s() < 0.1 and time.monotonic() < deadline:
            time.sleep(0.02)

    def _fill(self, start_sample: int, out: np.ndarray) -> None:
        out[:] = self._timeline.render(self._offset + start_sample, len(out))

    def advance(self, t: float) -> None:
        """Keep the device aligned with the session clock (it starts late, and clocks drift)."""
        wanted = int(round(t * RATE_HZ)) - int(round(self._output.position_s() * RATE_HZ))
        if abs(wanted - self._offset) > RESYNC_S * RATE_HZ:
            self._offset = wanted

    def finish(self, t: float) -> None:
        import time

        remaining = self._timeline.busy_until() - t
        if remaining > 0:
            time.sleep(min(remaining, 30.0))
        self._output.close()


def play_samples(samples: np.ndarray, device: str | int | None = None) -> None:
    """Play one utterance through the output device and wait for it (`coach say`)."""
    import time

    timeline = SpeechTimeline()
    timeline.add("", samples, 0.3, "cue")          # a short lead-in: devices start late
    speaker = LiveSpeaker(timeline, device)
    speaker.advance(0.0)
    time.sleep(timeline.busy_until() + 0.3)
    speaker.finish(timeline.busy_until())
