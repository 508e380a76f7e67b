"""A simulated room: the coach's loudspeaker coming back into its own microphone.

An exact delayed copy of the output is something any canceller removes perfectly, so the
simulation is honest instead: a mildly distorting loudspeaker (soft clipping plus a little second
harmonic, then the small speaker's high-pass), a delay the canceller is not told, and a room
impulse response (the direct path, a few early reflections and an exponentially decaying
reverberant tail of seeded noise with the chosen RT60), all scaled by `gain`.

`Room.process` is streaming: feed consecutive chunks of what the speaker played (any sizes) and
get the echo arriving at the microphone for the same samples, identical whatever the chunking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.defaults import RATE_HZ, ROOM_DELAY_MS, ROOM_DISTORTION, ROOM_GAIN, ROOM_RT60_S, ROOM_SEED
from coach.errors import UsageError

DIRECT_TO_REVERB_DB = 3.0       # energy of the direct path over early reflections + tail
TAIL_DEPTH_DB = 70.0            # the impulse response is cut where the tail is this far down
SPEAKER_HIGHPASS_HZ = 150.0     # a small loudspeaker reproduces little below this
EARLY_REFLECTIONS = 6           # discrete reflections in the first 25 ms after the direct path
TAIL_START_MS = 3.0             # the diffuse tail starts this long after the direct path


@dataclass(frozen=True)
class RoomConfig:
    """How the coach's voice comes back: `gain` scales the direct path (1.0 = the played level)."""

    gain: float = ROOM_GAIN
    delay_ms: float = ROOM_DELAY_MS     # speaker -> microphone, milliseconds
    rt60_s: float = ROOM_RT60_S         # the reverberant tail decays 60 dB in this many seconds
    distortion: float = ROOM_DISTORTION  # 0 = a linear loudspeaker .. 1 = heavy soft clipping
    seed: int = ROOM_SEED

    def check(self) -> RoomConfig:
        """Raise `UsageError` (one line) for settings that do not describe a room."""
        if not 0.0 <= self.gain <= 4.0:
            raise UsageError(f"--echo-gain must be between 0 and 4, not {self.gain:g}")
        if not 0.0 <= self.delay_ms <= 1000.0:
            raise UsageError(f"--echo-delay-ms must be between 0 and 1000, not {self.delay_ms:g}")
        if not 0.05 <= self.rt60_s <= 2.0:
            raise UsageError(f"--echo-rt60-s must be between 0.05 and 2, not {self.rt60_s:g}")
        if not 0.0 <= self.distortion <= 1.0:
            raise UsageError(f"--echo-distortion must be between 0 and 1, not {self.distortion:g}")
        return self


def impulse_response(config: RoomConfig, rate_hz: int = RATE_HZ) -> np.ndarray:
    """The room's linear response (speaker high-pass included), float64, starting at t = 0."""
    rng = np.random.default_rng(config.seed)
    delay = int(round(config.delay_ms * rate_hz / 1000))
    length = int(np.ceil(config.rt60_s * TAIL_DEPTH_DB / 60.0 * rate_hz))
    t = np.arange(length) / rate_hz
    envelope = 10.0 ** (-3.0 * t / config.rt60_s)          # amplitude: -60 dB at t = rt60
    tail = rng.normal(size=length) * envelope
    tail[: int(TAIL_START_MS * rate_hz / 1000)] = 0.0
    early = np.zeros(length)
    at = rng.integers(int(0.002 * rate_hz), int(0.025 * rate_hz), size=EARLY_REFLECTIONS)
    early[at] = rng.uniform(0.2, 0.5, size=EARLY_REFLECTIONS) * rng.choice([-1.0, 1.0], EARLY_REFLECTIONS)
    reverb = early + tail
    reverb *= np.sqrt(10.0 ** (-DIRECT_TO_REVERB_DB / 10.0) / np.sum(reverb**2))
    reverb[0] = 1.0                                         # the direct path
    # A first-order high-pass (the loudspeaker), as a short impulse response of its own.
    a = np.exp(-2 * np.pi * SPEAKER_HIGHPASS_HZ / rate_hz)
    k = np.arange(int(0.03 * rate_hz))
    highpass = -(1 - a) * a ** np.maximum(k - 1, 0) * (k >= 1)
    highpass[0] = 1.0
    highpass *= (1 + a) / 2
    response = np.convolve(reverb, highpass)[:length]
    return np.concatenate([np.zeros(delay), response]) * config.gain


def loudspeaker(played: np.ndarray, distortion: float) -> np.ndarray:
    """Memoryless loudspeaker nonlinearity on the int16 scale: a little 2nd harmonic, soft clipping."""
    x = played.astype(np.float64) / 32768.0
    if distortion <= 0:
        return x * 32768.0
    drive = 1.0 + 3.0 * distortion
    y = x + 0.15 * distortion * x * x
    return np.tanh(drive * y) / drive * 32768.0


class Room:
    """Streaming convolution (FFT overlap-add) of the loudspeaker output with the room."""

    def __init__(self, config: RoomConfig, rate_hz: int = RATE_HZ) -> None:
        self.config = config.check()
        self.rate_hz = rate_hz
        self.response = impulse_response(config, rate_hz)
        self._tail = np.zeros(len(self.response) - 1)
        self._spectra: dict[int, np.ndarray] = {}

    @property
    def delay_samples(self) -> int:
        return int(round(self.config.delay_ms * self.rate_hz / 1000))

    def reset(self) -> None:
        self._tail[:] = 0.0

    def process(self, played: np.ndarray) -> np.ndarray:
        """Echo at the microphone (float32, int16 scale, not clipped) for the next `len(played)` samples."""
        n = len(played)
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        if self.config.gain == 0:
            return np.zeros(n, dtype=np.float32)
        x = loudspeaker(played, self.config.distortion)
        m = len(self.response)
        nfft = 1 << int(np.ceil(np.log2(n + m - 1)))
        spectrum = self._spectra.get(nfft)
        if spectrum is None:
            spectrum = self._spectra.setdefault(nfft, np.fft.rfft(self.response, nfft))
        y = np.fft.irfft(np.fft.rfft(x, nfft) * spectrum, nfft)[: n + m - 1]
        y[: m - 1] += self._tail
        out = y[:n]
        self._tail = y[n:].copy()                             # always m - 1 samples
        return out.astype(np.float32)
