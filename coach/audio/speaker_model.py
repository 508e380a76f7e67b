"""The loudspeaker's own distortion, learned so the echo canceller can remove it too.

A linear adaptive filter cannot remove what a loudspeaker adds: its soft clipping and harmonics
(loud speech on a small speaker). Measured in `coach.audio.room`'s default room, speexdsp's
300 ms filter leaves 23.6 dB of ERLE with the speaker's distortion and 34.6 dB without
(`scripts/bench_aec.py`); with this model in front of it, 33.7 dB. The usual remedy
(a Hammerstein model, as in the "adaptive polynomial preprocessor" of Stenger and Kellermann)
puts a memoryless nonlinearity in front of the linear filter: the filter is fed f(x), not x.

`SpeakerNonlinearity` is that f: x + a2 x^2 + a3 x^3 on the full-scale range, held flat past its
turning points (a loudspeaker saturates; it does not fold back). The canceller is not told the
room: it learns a2 and a3 from what it sees. Every `SPEAKER_FIT_EVERY_S` it takes the linear
filter's impulse response h and, over the last `SPEAKER_FIT_WINDOW_S`, regresses the canceller's
output (what is left of the echo) on h * x, h * x^2 and h * x^3. With h the room's response, the
output is h * (f_true - f)(x), so the x^2 and x^3 weights (divided by how h's scale relates to
the microphone) are how far a2 and a3 are from the truth: a damped Gauss-Newton step. A
linear loudspeaker leaves a2 = a3 = 0 (the fit finds nothing to add).
"""

from __future__ import annotations

import numpy as np

from coach.defaults import RATE_HZ

SPEAKER_FIT_EVERY_S = 2.0       # fit this often while the model is new
SPEAKER_REFIT_EVERY_S = 10.0    # and this often once it has taken SPEAKER_FIT_QUICK steps (a volume change)
SPEAKER_FIT_QUICK = 10
SPEAKER_FIT_WINDOW_S = 4.0      # over this much of the latest audio
SPEAKER_FIT_STEP = 0.5          # damping: take this share of each Gauss-Newton step
SPEAKER_FIT_MIN_ACTIVE = 0.25   # share of the window in which the coach must be playing
SPEAKER_FIT_MIN_ERLE_DB = 10.0  # the linear filter must have converged this far first
SPEAKER_ACTIVE_RMS = 0.002      # a sample block counts as the coach playing above this (full scale 1)
A2_LIMITS = (-0.5, 0.5)         # a loudspeaker's second harmonic is small
A3_LIMITS = (-1.5, 0.5)         # soft clipping compresses (negative); a little expansion allowed
TABLE_POINTS = 1025             # f is applied by interpolation in a table over [-1, 1]


class SpeakerNonlinearity:
    """f(x) = x + a2 x^2 + a3 x^3, monotonic (flat past a turning point), learned from the echo."""

    def __init__(self, rate_hz: int = RATE_HZ) -> None:
        self.rate_hz = rate_hz
        self.a2 = 0.0
        self.a3 = 0.0
        self.fits = 0                       # fits that changed the model since reset
        self._grid = np.linspace(-1.0, 1.0, TABLE_POINTS)
        self._table = self._grid.copy()

    @property
    def fit_every_s(self) -> float:
        """How long to wait before the next fit."""
        return SPEAKER_FIT_EVERY_S if self.fits < SPEAKER_FIT_QUICK else SPEAKER_REFIT_EVERY_S

    @property
    def linear(self) -> bool:
        return self.a2 == 0.0 and self.a3 == 0.0

    def reset(self) -> None:
        self.a2 = self.a3 = 0.0
        self.fits = 0
        self._table = self._grid.copy()

    def apply(self, x: np.ndarray) -> np.ndarray:
        """f of full-scale samples (float64 in [-1, 1])."""
        if self.linear:
            return x
        return np.interp(x, self._grid, self._table)

    def _rebuild(self) -> None:
        g = self._grid
        y = g + self.a2 * g * g + self.a3 * g * g * g
        mid = TABLE_POINTS // 2
        # Flat past the turning points: the running max from 0 up, the running min from 0 down.
        y[mid:] = np.maximum.accumulate(y[mid:])
        y[: mid + 1] = np.minimum.accumulate(y[: mid + 1][::-1])[::-1]
        self._table = y

    def fit(self, x: np.ndarray, mic: np.ndarray, out: np.ndarray, h: np.ndarray) -> bool:
        """One damped step from the latest window; True if the model changed.

        `x`: the reference as fed to the model (full scale), `len(h) - 1` samples longer than
        `mic` and `out` (the filter's memory first); `mic`, `out`: the microphone and the
        canceller's output for the window's samples; `h`: the linear filter's impulse response
        (any scale).
        """
        n = len(mic)
        if n == 0 or len(out) != n or len(x) != n + len(h) - 1 or not np.any(h):
            return False
        block = max(1, self.rate_hz // 100)
        usable = n // block * block
        rms = np.sqrt(np.mean(np.square(x[len(h) - 1:][:usable]).reshape(-1, block), axis=1))
        if usable == 0 or np.mean(rms > SPEAKER_ACTIVE_RMS) < SPEAKER_FIT_MIN_ACTIVE:
            return False
        nfft = 1 << int(np.ceil(np.log2(len(x) + len(h) - 1)))
        spectrum = np.fft.rfft(h, nfft)

        def through_h(signal: np.ndarray) -> np.ndarray:
            # a copy of the window, so the nfft-long buffer goes at once (peak RSS of a session)
            return np.fft.irfft(np.fft.rfft(signal, nfft) * spectrum, nfft)[len(h) - 1: len(h) - 1 + n].copy()

        modelled = through_h(self.apply(x))
        scale = float(np.dot(modelled, mic) / max(float(np.dot(modelled, modelled)), 1e-12))
        del modelled
        if not np.isfinite(scale) or scale <= 0:
            return False
        # Least squares of `out` on the three columns by their 3 x 3 normal equations: no n x 3
        # matrix and no copies of it (with lstsq the canceller peaked at 11.2 MB of Python memory
        # over 2 minutes of narration, now 9.0; 4.8 without the model: scripts/bench_budget.py).
        basis = [through_h(x), through_h(x * x), through_h(x * x * x)]
        gram = np.array([[float(np.dot(a, b)) for b in basis] for a in basis])
        rhs = np.array([float(np.dot(a, out)) for a in basis])
        del basis
        try:
            beta = np.linalg.solve(gram, rhs)
        except np.linalg.LinAlgError:
            return False
        if not np.all(np.isfinite(beta)):
            return False
        step2, step3 = SPEAKER_FIT_STEP * beta[1] / scale, SPEAKER_FIT_STEP * beta[2] / scale
        a2 = float(np.clip(self.a2 + step2, *A2_LIMITS))
        a3 = float(np.clip(self.a3 + step3, *A3_LIMITS))
        if a2 == self.a2 and a3 == self.a3:
            return False
        self.a2, self.a3 = a2, a3
        self._rebuild()
        self.fits += 1
        return True
