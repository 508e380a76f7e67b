"""A plain numpy echo canceller, the comparison for speexdsp in `scripts/bench_aec.py`.

Partitioned-block frequency-domain NLMS (overlap-save, constrained gradient), with a simple
double-talk control: the step shrinks as the error grows beyond the echo the filter predicts.
It needs no library; it is slower and weaker than speexdsp's MDF on the same rooms (see the
README's table), so coach uses it only when asked.
"""

from __future__ import annotations

import numpy as np

from coach.audio.echo import FramedCanceller
from coach.defaults import AEC_FILTER_MS, AEC_FRAME_MS, RATE_HZ

STEP = 0.5                  # NLMS step at full confidence
STEP_FLOOR = 0.1            # the smallest step fraction (so a fresh filter still learns)
POWER_SMOOTHING = 0.9       # per-bin input power estimate: this much of the old value kept


class NlmsCanceller(FramedCanceller):
    name = "nlms"

    def __init__(self, rate_hz: int = RATE_HZ, frame_ms: float = AEC_FRAME_MS,
                 filter_ms: float = AEC_FILTER_MS, estimate_delay: bool = True) -> None:
        super().__init__(rate_hz, frame_ms, estimate_delay)
        self._b = self.frame_samples
        self._p = max(1, int(round(filter_ms * rate_hz / 1000 / self._b)))
        self._reset_filter()

    def _reset_filter(self) -> None:
        bins = self._b + 1
        self._w = np.zeros((self._p, bins), dtype=np.complex128)
        self._x = np.zeros((self._p, bins), dtype=np.complex128)
        self._x_last = np.zeros(self._b)
        self._power = np.full(bins, 1e3)

    def _cancel(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        b = self._b
        r = ref.astype(np.float64)
        spectrum = np.fft.rfft(np.concatenate([self._x_last, r]))
        self._x_last = r
        self._x = np.roll(self._x, 1, axis=0)
        self._x[0] = spectrum
        echo = np.fft.irfft(np.sum(self._w * self._x, axis=0), 2 * b)[b:]
        err = mic.astype(np.float64) - echo
        self._power = POWER_SMOOTHING * self._power + (1 - POWER_SMOOTHING) * np.abs(spectrum) ** 2
        p_echo, p_err = float(np.sum(echo**2)), float(np.sum(err**2)) + 1e-9
        step = STEP * min(1.0, max(STEP_FLOOR, p_echo / p_err))
        e_spec = np.fft.rfft(np.concatenate([np.zeros(b), err]))
        grad = np.conj(self._x) * e_spec / (self._p * self._power + 1e-3)
        g = np.fft.irfft(grad, 2 * b, axis=1)[:, :b]                # keep the causal half
        self._w += step * np.fft.rfft(np.concatenate([g, np.zeros_like(g)], axis=1), axis=1)
        return np.clip(np.round(err), -32768, 32767).astype(np.int16)
