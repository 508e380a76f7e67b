"""Echo cancellation: remove the coach's own voice from the microphone before recognition.

The coach knows, sample by sample, what it plays (the speech timeline). An `EchoCanceller` takes
the microphone and that reference for the same samples and returns the microphone with the echo
of the reference removed. The room's delay is not known: a GCC-PHAT delay estimator over the last
seconds pre-aligns the reference, so the adaptive filter only has to model the room's response
from the direct path on (and the live path's device latency is absorbed the same way).

The canceller used is speexdsp's MDF (multi-delay block frequency-domain adaptive filter, with its
own double-talk control) followed by its residual echo suppressor (`AEC_SUPPRESS_DB`), reached
through ctypes on Debian's libspeexdsp1; `scripts/bench_aec.py` measures it against a plain
numpy NLMS. Without the library, `open_canceller` raises `EchoCancellerError` (one line) and the
coach carries on without cancellation.

Statistics for the listener: every processed frame records reference, microphone and output
power (dBFS); `leak_db` is the running estimate of how much of the reference's power is left in
the output where the coach speaks (output - reference, dB), `erle_db` the echo return loss
enhancement (microphone - output, dB), and `echo_power_estimate(ref)` the residual echo power one
should expect in the output for those reference samples.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from coach.audio.chunk import AudioChunk
from coach.audio.speaker_model import (
    SPEAKER_FIT_MIN_ERLE_DB,
    SPEAKER_FIT_WINDOW_S,
    SpeakerNonlinearity,
)
from coach.defaults import (
    AEC_FILTER_MS,
    AEC_FRAME_MS,
    AEC_MAX_DELAY_MS,
    AEC_SPEAKER_MODEL,
    AEC_SUPPRESS_DB,
    RATE_HZ,
)
from coach.errors import EchoCancellerError

SPEEX_LIBRARY = "libspeexdsp.so.1"
SPEEX_ECHO_SET_SAMPLING_RATE = 24
SPEEX_ECHO_GET_IMPULSE_RESPONSE_SIZE = 27
SPEEX_ECHO_GET_IMPULSE_RESPONSE = 29
SPEEX_PREPROCESS_SET_DENOISE = 0
SPEEX_PREPROCESS_SET_ECHO_SUPPRESS = 20
SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE = 22
SPEEX_PREPROCESS_SET_ECHO_STATE = 24
SPEEX_PREPROCESS_SET_NOISE_SUPPRESS = 18

SILENT_DBFS = -200.0
REF_ACTIVE_DBFS = -55.0         # a frame in which the coach is audibly playing
ESTIMATE_EVERY_S = 0.5          # estimate the delay this often while none is found (and the coach speaks)
REESTIMATE_EVERY_S = 2.0        # then re-estimate it this often, as the room changes
ESTIMATE_WINDOW_S = 2.0         # over this much of the recent microphone
DELAY_MARGIN_MS = 5.0           # align the reference this much early: taps before the direct path
DELAY_CHANGE_MS = 4.0           # a new delay estimate must differ this much (twice) to be taken
PEAK_MIN_SIGMA = 8.0            # a correlation peak this many standard deviations above the rest
STATS_KEEP_S = 10.0             # per-frame statistics kept for the listener
# Divergence (as WebRTC's AEC3 guards its subtractor): an adaptive filter that learned an echo path
# the room does not have (the user talking over the coach where no echo comes back: headphones, a
# far speaker, room gain 0) adds the coach's voice to the microphone instead of removing it.
# Measured on the bench_turns chains at gain 0: up to 25 s of frames in 20 min with the output
# 3-26 dB louder than its input, heard as speech ("no command" segments, the coach falling silent
# for nothing). A frame whose output is this much louder than the microphone (both above
# DC_BLOCK_HZ, which the filter removes too) is the microphone's instead: never worse than no
# cancellation. Divergence in this many of the latest frames resets the filter to learn anew.
DIVERGED_OVER_MIC_DB = 3.0
DIVERGED_RESET_FRAMES = 20
DIVERGED_WINDOW_FRAMES = 50
DC_BLOCK_HZ = 45.0              # speexdsp's own input notch at 16 kHz (radius 0.982)


def power_dbfs(x: np.ndarray) -> float:
    """Mean power of int16-scale samples in dB relative to full scale (a full-scale square = 0)."""
    if len(x) == 0:
        return SILENT_DBFS
    x = np.asarray(x, dtype=np.float64)
    # einsum, not np.mean(np.square(...)): half the time, 3 calls per 10 ms frame; not np.dot,
    # whose BLAS threads spun on the other core (user time 77 -> 136 s for one replay).
    p = float(np.einsum("i,i->", x, x)) / len(x) / 32768.0**2
    return 10.0 * np.log10(p) if p > 1e-20 else SILENT_DBFS


@dataclass(frozen=True)
class FrameStats:
    """One canceller frame: its first sample (session samples: counted from 0, or from the
    `start_sample` of the last `reset`) and three powers in dBFS."""

    sample: int
    ref_dbfs: float     # the aligned reference (what the coach played)
    mic_dbfs: float     # the microphone before cancellation
    out_dbfs: float     # after cancellation


class EchoCanceller(Protocol):
    """Removes the echo of `ref` (what the coach played at those samples) from `mic`.

    int16 in, int16 out, same length; any chunk sizes across calls. `latency_samples` is 0 while
    every chunk is a multiple of `frame_samples` (coach's 50 ms chunks are); at the first chunk
    that ends inside a frame it becomes `frame_samples - 1`, once, for good.
    """

    name: str
    frame_samples: int
    latency_samples: int

    def process(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray: ...

    def reset(self, start_sample: int = 0) -> None: ...

    @property
    def delay_ms(self) -> float | None: ...

    @property
    def leak_db(self) -> float: ...

    @property
    def erle_db(self) -> float: ...

    def frames(self, start_sample: int, end_sample: int) -> list[FrameStats]: ...

    def echo_power_estimate(self, ref: np.ndarray) -> float: ...


class DelayEstimator:
    """Speaker -> microphone delay by GCC-PHAT over the last seconds, re-estimated as the room changes."""

    def __init__(self, rate_hz: int = RATE_HZ, max_delay_ms: float = AEC_MAX_DELAY_MS) -> None:
        self.rate_hz = rate_hz
        self.max_lag = int(max_delay_ms * rate_hz / 1000)
        self.window = int(ESTIMATE_WINDOW_S * rate_hz)
        # Rings, oldest sample at `_written % len`: shifting both windows by a frame each 10 ms
        # moved 0.6 MB a frame (57 MB/s), a few per cent of a Pi core for nothing.
        self._mic_ring = np.zeros(self.window, dtype=np.float64)
        self._ref_ring = np.zeros(self.window + self.max_lag, dtype=np.float64)
        self._written = 0
        self._since = 0
        self.delay_samples: int | None = None
        self._candidate: int | None = None

    def reset(self) -> None:
        self._mic_ring[:] = 0.0
        self._ref_ring[:] = 0.0
        self._written = 0
        self._since = 0
        self.delay_samples = None
        self._candidate = None

    def push(self, mic: np.ndarray, ref: np.ndarray) -> None:
        """One frame of each (pushed whole frames, so estimates fall on the same samples)."""
        n = len(mic)
        for ring, x in ((self._mic_ring, mic), (self._ref_ring, ref)):
            at = self._written % len(ring)
            first = min(n, len(ring) - at)
            ring[at:at + first] = x[:first]
            ring[:n - first] = x[first:]
        self._written += n
        self._since += n
        every_s = ESTIMATE_EVERY_S if self.delay_samples is None else REESTIMATE_EVERY_S
        if self._since >= every_s * self.rate_hz:
            self._since = 0
            self._estimate()

    @staticmethod
    def _unrolled(ring: np.ndarray, written: int) -> np.ndarray:
        at = written % len(ring)
        return np.concatenate((ring[at:], ring[:at]))

    def _estimate(self) -> None:
        mic = self._unrolled(self._mic_ring, self._written)
        ref = self._unrolled(self._ref_ring, self._written)
        ref_recent = ref[self.max_lag:]
        if power_dbfs(ref_recent) < REF_ACTIVE_DBFS or power_dbfs(mic) < REF_ACTIVE_DBFS - 20:
            return
        nfft = 1 << int(np.ceil(np.log2(len(ref) + self.window)))
        spec = np.fft.rfft(mic, nfft) * np.conj(np.fft.rfft(ref, nfft))
        spec /= np.abs(spec) + 1e-9
        corr = np.fft.irfft(spec, nfft)
        # corr[k] = sum mic[n + k] ref[n]; mic index i is ref index i + max_lag - delay, so the
        # echo of a delay d shows at k = d - max_lag (negative, wrapped around)
        lags = np.concatenate([corr[nfft - self.max_lag:], corr[:1]])   # lags[d], d = 0 .. max_lag
        peak = int(np.argmax(lags))
        rest = np.delete(lags, range(max(0, peak - 40), min(len(lags), peak + 41)))
        if len(rest) == 0 or lags[peak] < np.mean(rest) + PEAK_MIN_SIGMA * np.std(rest):
            return
        if self.delay_samples is None:
            self.delay_samples = peak
        elif abs(peak - self.delay_samples) > DELAY_CHANGE_MS * self.rate_hz / 1000:
            if self._candidate is not None and abs(peak - self._candidate) <= 16:
                self.delay_samples = peak
                self._candidate = None
            else:
                self._candidate = peak
        else:
            self._candidate = None


def _pcm16(x: np.ndarray) -> np.ndarray:
    """Float samples on the int16 scale, rounded and clipped to int16."""
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


class DcBlock:
    """A first-order DC-blocking high-pass (y[n] = x[n] - x[n-1] + r y[n-1]), carried across
    calls; vectorised per block by the closed form y[n] = r^n (r y[-1] + sum_k<=n r^-k d[k])
    (blocks of BLOCK samples keep r^-k small)."""

    BLOCK = 160

    def __init__(self, cutoff_hz: float = DC_BLOCK_HZ, rate_hz: int = RATE_HZ) -> None:
        self.r = 1.0 - 2.0 * np.pi * cutoff_hz / rate_hz
        self._rk = self.r ** np.arange(self.BLOCK)
        self._x = 0.0
        self._y = 0.0

    def reset(self) -> None:
        self._x = self._y = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        out = np.empty(len(x))
        for a in range(0, len(x), self.BLOCK):
            block = x[a:a + self.BLOCK]
            rk = self._rk[:len(block)]
            y = rk * (self.r * self._y + np.cumsum(np.diff(block, prepend=self._x) / rk))
            self._x, self._y = float(block[-1]), float(y[-1])
            out[a:a + len(block)] = y
        return out

    def pcm16(self, x: np.ndarray) -> np.ndarray:
        """`x` through the block, as int16."""
        return _pcm16(self(x))


def dc_blocked(block: DcBlock, chunk: AudioChunk) -> AudioChunk:
    """`chunk` through `block` (int16 in and out). For the paths with no canceller (`coach
    listen`, `--no-aec`, no libspeexdsp): speexdsp notches DC out of the microphone itself, and a
    microphone's DC offset otherwise deafens the recognizer (a 300-LSB offset, -41 dBFS, under
    a "ready" at -30 dBFS: nothing heard; the segmenter's floor is the offset's power)."""
    return AudioChunk(block.pcm16(np.frombuffer(chunk.pcm, dtype="<i2")).tobytes(), chunk.t_start)


class FramedCanceller:
    """Framing, delay alignment, the divergence guard and statistics around a per-frame
    cancellation step."""

    name = "none"
    guards = True               # subclasses that filter: watch for divergence (see DIVERGED_OVER_MIC_DB)

    def __init__(self, rate_hz: int = RATE_HZ, frame_ms: float = AEC_FRAME_MS,
                 estimate_delay: bool = True) -> None:
        self.rate_hz = rate_hz
        self.frame_samples = int(round(frame_ms * rate_hz / 1000))
        self.latency_samples = 0
        self._estimator = DelayEstimator(rate_hz) if estimate_delay else None
        self._margin = int(DELAY_MARGIN_MS * rate_hz / 1000)
        self._max_lag = self._estimator.max_lag if self._estimator is not None else 0
        self._mic_pending = np.zeros(0, dtype=np.int16)
        self._ref_pending = np.zeros(0, dtype=np.int16)
        self._ref_hist = np.zeros(self._max_lag + self.frame_samples, dtype=np.int16)
        self._out_ready = np.zeros(0, dtype=np.int16)
        self._sample = 0
        self._stats: deque[FrameStats] = deque(maxlen=int(STATS_KEEP_S * rate_hz / self.frame_samples))
        self._leak_db = 0.0
        self._erle_db = 0.0
        self._dc = DcBlock(rate_hz=rate_hz)
        self._diverged: deque[bool] = deque(maxlen=DIVERGED_WINDOW_FRAMES)
        self.diverged_frames = 0        # frames the guard gave the microphone for (since reset)
        self.filter_resets = 0          # times divergence reset the filter

    # -- what subclasses provide ------------------------------------------------------------
    def _cancel(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        return mic

    def _reset_filter(self) -> None:
        pass

    # -- the interface ------------------------------------------------------------------------
    def reset(self, start_sample: int = 0) -> None:
        """Forget the room (another device, another delay); count frames from `start_sample` on."""
        self._reset_filter()
        if self._estimator is not None:
            self._estimator.reset()
        self._mic_pending = np.zeros(0, dtype=np.int16)
        self._ref_pending = np.zeros(0, dtype=np.int16)
        self._ref_hist[:] = 0
        self._out_ready = np.zeros(0, dtype=np.int16)
        self.latency_samples = 0
        self._sample = start_sample
        self._stats.clear()
        self._leak_db = 0.0
        self._erle_db = 0.0
        self._dc.reset()
        self._diverged.clear()
        self.diverged_frames = 0
        self.filter_resets = 0

    @property
    def delay_ms(self) -> float | None:
        """The speaker -> microphone delay found (None before the coach has spoken enough)."""
        if self._estimator is None or self._estimator.delay_samples is None:
            return None
        return self._estimator.delay_samples * 1000.0 / self.rate_hz

    @property
    def leak_db(self) -> float:
        """Output power relative to reference power where the coach plays (dB, <= 0 is a good sign)."""
        return self._leak_db

    @property
    def erle_db(self) -> float:
        """Running echo return loss enhancement: microphone over output power where the coach plays."""
        return self._erle_db

    def frames(self, start_sample: int, end_sample: int) -> list[FrameStats]:
        """The kept per-frame statistics overlapping samples [start, end) (counted since reset)."""
        n = self.frame_samples
        return [f for f in self._stats if f.sample < end_sample and f.sample + n > start_sample]

    def echo_power_estimate(self, ref: np.ndarray) -> float:
        """The residual echo power (dBFS) to expect in the output for these reference samples."""
        return power_dbfs(ref.astype(np.float64)) + self._leak_db

    def process(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        if len(mic) != len(ref):
            raise ValueError(f"microphone and reference differ in length ({len(mic)} vs {len(ref)})")
        mic = np.asarray(mic, dtype=np.int16)
        ref = np.asarray(ref, dtype=np.int16)
        self._mic_pending = np.concatenate([self._mic_pending, mic])
        self._ref_pending = np.concatenate([self._ref_pending, ref])
        f = self.frame_samples
        done = []
        while len(self._mic_pending) >= f:
            m, self._mic_pending = self._mic_pending[:f], self._mic_pending[f:]
            r, self._ref_pending = self._ref_pending[:f], self._ref_pending[f:]
            done.append(self._frame(m, r))
        if done:
            self._out_ready = np.concatenate([self._out_ready, *done])
        if len(self._out_ready) < len(mic):
            # A chunk that ends inside a frame: fall behind, once, by a frame less one sample,
            # which is enough for any chunk sizes from then on.
            pad = self.frame_samples - 1 - self.latency_samples
            self._out_ready = np.concatenate([np.zeros(pad, dtype=np.int16), self._out_ready])
            self.latency_samples += pad
        out, self._out_ready = self._out_ready[: len(mic)], self._out_ready[len(mic):]
        return out

    def _frame(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        f = self.frame_samples
        self._ref_hist[:-f] = self._ref_hist[f:]
        self._ref_hist[-f:] = ref
        lag = 0
        if self._estimator is not None:
            self._estimator.push(mic, ref)
        if self._estimator is not None and self._estimator.delay_samples is not None:
            lag = max(0, self._estimator.delay_samples - self._margin)
        end = len(self._ref_hist) - lag
        aligned = self._ref_hist[end - f : end]
        out = self._cancel(mic, aligned)
        if self.guards:
            out = self._guard(mic, out)
        self._record(mic, aligned, out)
        return out

    def _guard(self, mic: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The filter's output, or the microphone's (DC-blocked) where the filter diverged."""
        band = self._dc(mic)
        diverged = power_dbfs(out) > power_dbfs(band) + DIVERGED_OVER_MIC_DB
        self._diverged.append(diverged)
        if not diverged:
            return out
        self.diverged_frames += 1
        if sum(self._diverged) >= DIVERGED_RESET_FRAMES:
            self._reset_filter()
            self.filter_resets += 1
            self._diverged.clear()
        return _pcm16(band)

    def _record(self, mic: np.ndarray, ref: np.ndarray, out: np.ndarray) -> None:
        stats = FrameStats(self._sample, power_dbfs(ref), power_dbfs(mic), power_dbfs(out))
        self._stats.append(stats)
        self._sample += len(mic)
        if stats.ref_dbfs < REF_ACTIVE_DBFS:
            return
        # Fast down, slow up: frames where the user also talks raise the output but not the echo.
        leak = stats.out_dbfs - stats.ref_dbfs
        self._leak_db += (0.2 if leak < self._leak_db else 0.01) * (leak - self._leak_db)
        erle = stats.mic_dbfs - stats.out_dbfs
        self._erle_db += (0.2 if erle > self._erle_db else 0.01) * (erle - self._erle_db)


class PassThrough(FramedCanceller):
    """No cancellation (`--no-aec`, or no library): the statistics still say how much echo there is."""

    name = "none"
    guards = False              # the microphone, untouched


def _load_speex(library: str | None = None) -> ctypes.CDLL:
    path = library or ctypes.util.find_library("speexdsp") or SPEEX_LIBRARY
    try:
        lib = ctypes.CDLL(path)
    except OSError as err:
        raise EchoCancellerError(
            f"no echo cancellation: {path} cannot be loaded (apt-get install libspeexdsp1); "
            "the coach's own voice may be heard as commands") from err
    lib.speex_echo_state_init.restype = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
    lib.speex_echo_state_reset.argtypes = [ctypes.c_void_p]
    lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    pcm = np.ctypeslib.ndpointer(dtype=np.int16, flags="C_CONTIGUOUS")
    lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, pcm, pcm, pcm]
    lib.speex_preprocess_state_init.restype = ctypes.c_void_p
    lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_preprocess_state_destroy.argtypes = [ctypes.c_void_p]
    lib.speex_preprocess_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_preprocess_run.argtypes = [ctypes.c_void_p, pcm]
    return lib


class _Ring:
    """The latest `size` samples (float64), oldest first when read."""

    def __init__(self, size: int) -> None:
        self._x = np.zeros(size)
        self._at = 0

    def push(self, x: np.ndarray) -> None:
        n, size = len(x), len(self._x)
        first = min(n, size - self._at)
        self._x[self._at:self._at + first] = x[:first]
        self._x[:n - first] = x[first:]
        self._at = (self._at + n) % size

    def read(self) -> np.ndarray:
        return np.concatenate((self._x[self._at:], self._x[:self._at]))

    def clear(self) -> None:
        self._x[:] = 0.0
        self._at = 0


class SpeexCanceller(FramedCanceller):
    """speexdsp's MDF adaptive filter; with `suppress_db`, also its residual echo suppressor;
    with `speaker_model`, fed the loudspeaker's learned distortion of the reference
    (`coach.audio.speaker_model`) rather than the reference itself.

    The suppressor (speex_preprocess with the echo state, noise suppression at -3 dB) adds 5 dB
    of ERLE and more commands heard over the coach's voice (`scripts/bench_aec.py`); its
    overlapping analysis window delays the output by about 10 ms (158 samples measured).
    """

    def __init__(self, rate_hz: int = RATE_HZ, frame_ms: float = AEC_FRAME_MS,
                 filter_ms: float = AEC_FILTER_MS, estimate_delay: bool = True,
                 suppress_db: int | None = None, library: str | None = None,
                 speaker_model: bool = False) -> None:
        super().__init__(rate_hz, frame_ms, estimate_delay)
        self._lib = _load_speex(library)
        self.filter_samples = int(round(filter_ms * rate_hz / 1000))
        self.suppress_db = suppress_db
        self.name = ("speex" + ("" if suppress_db is None else f"+suppress{suppress_db}")
                     + ("+speaker" if speaker_model else ""))
        self.speaker: SpeakerNonlinearity | None = None
        if speaker_model:
            self.speaker = SpeakerNonlinearity(rate_hz)
            window = int(SPEAKER_FIT_WINDOW_S * rate_hz)
            self._x_ring = _Ring(window + self.filter_samples - 1)
            self._mic_ring = _Ring(window)
            self._out_ring = _Ring(window)
            self._frames_since_fit = 0
            self._impulse = np.zeros(self.filter_samples, dtype=np.int32)
        self._state = self._lib.speex_echo_state_init(self.frame_samples, self.filter_samples)
        rate = ctypes.c_int(rate_hz)
        self._lib.speex_echo_ctl(self._state, SPEEX_ECHO_SET_SAMPLING_RATE, ctypes.byref(rate))
        self._pre: int | None = None
        if suppress_db is not None:
            self._pre = self._lib.speex_preprocess_state_init(self.frame_samples, rate_hz)
            self._pre_ctl(SPEEX_PREPROCESS_SET_ECHO_STATE, ctypes.c_void_p(self._state))
            self._pre_ctl(SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, ctypes.byref(ctypes.c_int(-3)))
            self._pre_ctl(SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, ctypes.byref(ctypes.c_int(suppress_db)))
            self._pre_ctl(SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE,
                          ctypes.byref(ctypes.c_int(suppress_db // 2)))

    def _pre_ctl(self, request: int, value: object) -> None:
        self._lib.speex_preprocess_ctl(self._pre, request, value)

    def _cancel(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        out = np.empty(self.frame_samples, dtype=np.int16)
        x = ref.astype(np.float64) / 32768.0
        fed = ref if self.speaker is None or self.speaker.linear else _pcm16(self.speaker.apply(x) * 32768.0)
        self._lib.speex_echo_cancellation(self._state, np.ascontiguousarray(mic),
                                          np.ascontiguousarray(fed), out)
        if self.speaker is not None:
            self._learn_speaker(x, mic, out)
        if self._pre is not None:
            self._lib.speex_preprocess_run(self._pre, out)
        return out

    def _learn_speaker(self, x: np.ndarray, mic: np.ndarray, out: np.ndarray) -> None:
        assert self.speaker is not None
        self._x_ring.push(x)
        self._mic_ring.push(mic.astype(np.float64))
        self._out_ring.push(out.astype(np.float64))
        self._frames_since_fit += 1
        if self._frames_since_fit * self.frame_samples < self.speaker.fit_every_s * self.rate_hz:
            return
        self._frames_since_fit = 0
        if self.erle_db < SPEAKER_FIT_MIN_ERLE_DB:
            return                  # the linear filter has not learned the room yet
        self._lib.speex_echo_ctl(self._state, SPEEX_ECHO_GET_IMPULSE_RESPONSE,
                                 self._impulse.ctypes.data_as(ctypes.c_void_p))
        self.speaker.fit(self._x_ring.read(), self._mic_ring.read(), self._out_ring.read(),
                         self._impulse.astype(np.float64))

    def _reset_filter(self) -> None:
        self._lib.speex_echo_state_reset(self._state)
        if self.speaker is not None:
            self.speaker.reset()
            for ring in (self._x_ring, self._mic_ring, self._out_ring):
                ring.clear()
            self._frames_since_fit = 0

    def close(self) -> None:
        if self._pre is not None:
            self._lib.speex_preprocess_state_destroy(self._pre)
            self._pre = None
        if self._state:
            self._lib.speex_echo_state_destroy(self._state)
            self._state = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:       # interpreter shutdown: the library may be gone already
            pass


def open_canceller(kind: str = "speex", rate_hz: int = RATE_HZ, library: str | None = None,
                   speaker_model: bool = AEC_SPEAKER_MODEL) -> FramedCanceller:
    """The canceller coach uses ("speex" or "none"); `EchoCancellerError` if it cannot be had."""
    if kind == "speex":
        return SpeexCanceller(rate_hz, suppress_db=AEC_SUPPRESS_DB, library=library,
                              speaker_model=speaker_model)
    if kind == "none":
        return PassThrough(rate_hz)
    raise ValueError(f"unknown echo canceller {kind!r}")
