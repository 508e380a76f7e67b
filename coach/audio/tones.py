"""Take the coach's own tones back out of the microphone, knowing their frequencies.

An earcon is a few steady sine partials. After echo cancellation its residual is still mostly
those partials (the room rings on past the canceller's filter, and a loudspeaker adds harmonics a
linear filter cannot model): measured at room gain 1, a 90 ms count tone left 0.4 s of residual
at -42..-58 dBFS, nearly all of it at the tone's own frequency, and pocketsphinx decoded it as
"help" (the only self-triggers left in the turn-taking chains).

The coach knows which tone it played and when, so for every 10 ms block from a tone's start until
the room can no longer carry it (its end + the longest speaker-to-microphone delay + the echo
tail) this fits a sine and cosine at each partial and its harmonics to the block, with a level that
may rise or fall across it (least squares), and subtracts them. Speech over a tone loses only the
narrow bands at those frequencies; the tone leaves nothing a recognizer could take for a word
(20-29 dB of a tone's room echo removed, tests/test_tones.py). Blocks sit on the absolute sample
clock and each is fitted over the last 10 ms of raw audio up to its end, so a replay gives the
same samples every time. Pure numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

BLOCK_SAMPLES = 160                 # 10 ms at 16 kHz
HARMONICS = 3                       # each partial and its 2nd and 3rd harmonics (loudspeaker distortion)


@cache
def _projector(freqs_hz: tuple[float, ...], n: int, rate_hz: int) -> np.ndarray:
    """The (n x n) matrix that maps a block onto its fit at `freqs_hz`: a sine and a cosine each,
    with a level that may change linearly across the block (a note's attack and decay)."""
    t = np.arange(n) / rate_hz
    ramp = np.linspace(-1.0, 1.0, n)            # a level that rises or falls within the block
    basis = np.concatenate([np.stack([np.cos(2 * np.pi * f * t), np.sin(2 * np.pi * f * t),
                                      ramp * np.cos(2 * np.pi * f * t), ramp * np.sin(2 * np.pi * f * t)], 1)
                            for f in freqs_hz], axis=1)
    return basis @ np.linalg.pinv(basis)


@cache
def frequencies(partials_hz: tuple[float, ...], rate_hz: int) -> tuple[float, ...]:
    """The partials and their harmonics below Nyquist, each once (rounded to 1 Hz)."""
    out = sorted({round(p * k) for p in partials_hz for k in range(1, HARMONICS + 1)
                  if p * k < 0.45 * rate_hz})
    return tuple(float(f) for f in out)


class ToneRemover:
    """Streaming: feed the microphone in any chunk size, on the session's sample clock.

    Each 10 ms block (on the absolute clock) is fitted over the last BLOCK_SAMPLES raw samples up
    to its end, so a block split between two chunks is fitted as well as a whole one."""

    def __init__(self, rate_hz: int) -> None:
        self.rate_hz = rate_hz
        self._raw = np.zeros(0, np.float64)      # the last raw samples, ending at _raw_end
        self._raw_end = 0

    def remove(self, mic: np.ndarray, start_sample: int,
               freqs_of: Callable[[int], tuple[float, ...]]) -> np.ndarray:
        """`mic` (int16, first sample at `start_sample`) with the tones taken out.

        `freqs_of(block_start_sample)` gives the frequencies to take out of the 10 ms block that
        starts there (an empty tuple for none). Returns `mic` itself when no block had any."""
        raw = mic.astype(np.float64)
        if start_sample != self._raw_end:                       # a gap in the audio (or the start)
            self._raw = np.zeros(0, np.float64)
        history = np.concatenate((self._raw, raw))
        offset = len(history) - len(raw)                        # raw[0] in history
        self._raw = history[-BLOCK_SAMPLES:]
        self._raw_end = start_sample + len(raw)
        out: np.ndarray | None = None
        i = 0
        while i < len(raw):
            block_start = start_sample + i
            n = min(BLOCK_SAMPLES - block_start % BLOCK_SAMPLES, len(raw) - i)
            freqs = freqs_of(block_start - block_start % BLOCK_SAMPLES)
            if freqs:
                end = offset + i + n
                window = history[max(0, end - BLOCK_SAMPLES):end]
                if len(window) >= 4 * 4 * len(freqs):           # enough samples for a fit
                    if out is None:
                        out = raw.copy()
                    fit = _projector(freqs, len(window), self.rate_hz) @ window
                    out[i:i + n] = raw[i:i + n] - fit[-n:]
            i += n
        if out is None:
            return mic
        return np.clip(np.rint(out), -32768, 32767).astype(mic.dtype)
