"""Is it the user, or the coach's own voice coming back? Evidence from the residual echo.

The coach knows exactly what it plays (the speech timeline, sample by sample). After echo
cancellation the microphone still carries some of it: the residual. Per 10 ms frame this keeps
the microphone's power and an envelope of the coach's output power (a leaky peak, so the room's
delay and reverberant tail are covered), and learns how much of the output leaks through
(`leak_db`: the 90th percentile of microphone-minus-output level while the coach talks: the
residual of a canceller comes in bursts, and the recognizer wakes on the bursts). Frames far
above that estimate are most likely the user talking over the coach, and barely move it.
For a stretch of speech the recognizer heard, the *expected echo* is the output envelope plus the
leak; when the microphone stays within `user_margin_db` of it, the echo explains what was heard
and it is not the user. Anything clearly louder than the expected echo is the user, whatever the
coach is saying at that moment: that is what lets a person talk over the count.

The same per-frame comparison also gates what the recognizer hears (`observe` returns it): a
frame the expected echo explains (no more than `gate_margin_db` above it) is turned down to the
microphone's noise floor, so the residual of the coach's voice cannot run into a user's word and
make one long segment of both; frames clearly above it, with a short hangover, pass untouched.
The gate also looks back: a word begun over the coach starts below the expected echo (a "pause"
whose "p" the coach's voice covered), and a gate that opened only once the word stood clear cut
its first 0.1-0.2 s away, and the rest decoded as "us" or "those". So what it returns is delayed
by `delay_samples` (the look-back plus one frame): a frame is let through whole when, within
`gate_lookback_s` after it, a frame stands `gate_lookback_db` above the expected echo (clearly the
user: the coach's own residual bursts stand a few dB over it, and must not open the gate early).

Pure numpy bookkeeping over the audio clock: a replayed file gives the same verdicts every time.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from coach.defaults import RATE_HZ

FRAME_S = 0.01
_FLOOR_DB = -100.0
NO_PEAK_DB = -99.0          # `peak_excess_db` when no window was asked for (or the stretch is shorter)


@dataclass(frozen=True)
class EchoJudgement:
    """What the residual says about one stretch of audio."""

    coach_active: bool          # the coach's output could reach the microphone in this stretch
    user_excess_db: float       # how far the microphone rose above the expected echo (75th pct)
    explained: bool             # coach_active and the excess is within the margin: not the user
    above_floor_db: float = 0.0  # how far the microphone rose above its noise floor (75th pct)
    mic_db: float = -100.0      # the microphone's level over the stretch (75th pct of frames, dBFS)
    mic_peak_db: float = -100.0  # the microphone's loudest frame in the stretch (dBFS)
    peak_excess_db: float = NO_PEAK_DB  # the most any `window_s` of it rose over the expected echo


@dataclass(frozen=True)
class EchoEvidenceConfig:
    history_s: float = 30.0             # how far back a heard stretch may lie
    env_decay_db_per_s: float = 80.0    # the output envelope falls this fast (a room's tail: RT60 0.6 s)
    active_above_floor_db: float = 3.0  # expected echo this far above the mic's floor: coach audible
    user_margin_db: float = 6.0         # the mic this far above the expected echo: the user speaks
    learn_above_floor_db: float = 20.0  # learn the leak only while the output is this loud
    leak_quantile: float = 0.9          # the leak is this quantile of (mic - output): echo bursts included
    leak_step_db: float = 0.2           # quantile-tracking step per frame
    leak_outlier_step_db: float = 0.02  # a frame far above the estimate is likely the user: barely learn
    leak_start_db: float = 0.0          # before any evidence: assume the echo is as loud as the output
    leak_warmup_frames: int = 30        # the first estimate is the median of this many frames
    floor_start_db: float = -90.0       # dBFS
    floor_rise_db_per_s: float = 6.0
    gate: bool = True                   # turn frames the echo explains down to the floor
    gate_margin_db: float = 3.0         # a frame this far above the expected echo opens the gate
    gate_hangover_s: float = 0.15       # ... and keeps it open this long (word endings, soft consonants)
    gate_max_cut_db: float = 40.0       # never turn a frame down by more than this
    gate_lookback_s: float = 0.15       # a frame this far before one clearly the user's passes too
    gate_lookback_db: float = 10.0      # clearly the user's: this far above the expected echo


class EchoEvidence:
    """Feed it the microphone (after cancellation) and the coach's output for the same samples."""

    def __init__(self, config: EchoEvidenceConfig | None = None, rate_hz: int = RATE_HZ) -> None:
        self.config = c = config or EchoEvidenceConfig()
        self._frame = int(round(FRAME_S * rate_hz))
        self._rate_hz = rate_hz
        self._n = max(1, int(c.history_s / FRAME_S))
        self._mic_db = np.full(self._n, _FLOOR_DB)
        self._env_db = np.full(self._n, _FLOOR_DB)
        self._floor_at = np.full(self._n, _FLOOR_DB)
        self._next_frame = 0                      # absolute index of the next frame to store
        self._pending_mic = np.zeros(0, np.float64)
        self._pending_ref = np.zeros(0, np.float64)
        self._pending_start = 0                   # absolute sample index of _pending_mic[0]
        self._env = _FLOOR_DB
        self._floor_db: float | None = None
        self._room_db: float | None = None
        self._decay_db = c.env_decay_db_per_s * FRAME_S
        self._leak_db = c.leak_start_db
        self._warmup: list[float] = []
        self._learned = False
        self._hang_frames = max(0, int(round(c.gate_hangover_s / FRAME_S)))
        self._open_for = 0                        # frames the gate stays open
        self._opened = False                      # the last frame was clearly the user's
        self._gain = 1.0                          # the last frame's gain (ramped from, per sample)
        self._look = max(0, int(round(c.gate_lookback_s / FRAME_S)))
        self._delay = (self._look + 1) * self._frame if self._look else 0
        self._out = np.zeros(self._delay, np.float64)   # gated samples not yet returned
        self._held: deque[tuple[np.ndarray, float, bool]] = deque()   # (frame, gain, opened)

    @property
    def delay_samples(self) -> int:
        """How far `observe`'s output lags its input (the gate's look-back), in samples."""
        return self._delay

    @property
    def leak_db(self) -> float:
        """How loud the residual echo is relative to the coach's output (dB; lower is better)."""
        return self._leak_db

    def observe(self, start_sample: int, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """The microphone and the output for samples [start_sample, start_sample + len(mic)).

        Returns the microphone for the recognizer, gated where the coach's echo explains it, and
        `delay_samples` late: as many samples as came in, the first of them the delayed ones."""
        if self._look:
            return self._observe_delayed(start_sample, mic, ref)
        first_sample, mic_frames, ref_frames = self._frames(start_sample, mic, ref)
        gains = np.full(len(mic), self._gain)
        if len(mic_frames) == 0:
            return self._apply(mic, gains)
        used = len(mic_frames) * self._frame
        # Python floats, frame by frame: numpy's per-call cost on scalars was most of idle listening
        mic_db = _power_db(mic_frames).tolist()
        ref_db = _power_db(ref_frames).tolist()
        for k, (m, r) in enumerate(zip(mic_db, ref_db, strict=True)):
            gain = self._step(m, r)
            lo = first_sample + k * self._frame - start_sample       # this frame in `mic`
            hi = lo + self._frame
            if hi > 0 and lo < len(mic):
                a, b = max(lo, 0), min(hi, len(mic))
                if gain == self._gain:                               # no ramp to draw
                    gains[a:b] = gain
                else:
                    ramp = np.linspace(self._gain, gain, self._frame, endpoint=False)
                    gains[a:b] = ramp[a - lo : b - lo]
            self._gain = gain
        if len(mic) and gains[-1] != self._gain:
            tail = first_sample + used - start_sample
            gains[max(tail, 0):] = self._gain
        return self._apply(mic, gains)

    def _frames(self, start_sample: int, mic: np.ndarray,
                ref: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
        """Add a chunk to the partial frame held back; return (the first whole frame's sample
        index, the whole frames of the microphone, the same frames of the output)."""
        if start_sample != self._pending_start + len(self._pending_mic):   # a gap (or the start)
            if self._look:
                self._drain_into_out()                       # what came before the gap goes out as it is
            self._next_frame = max(self._next_frame, start_sample // self._frame)
            self._pending_mic = np.zeros(0, np.float64)
            self._pending_ref = np.zeros(0, np.float64)
            self._pending_start = start_sample
        self._pending_mic = np.concatenate((self._pending_mic, mic.astype(np.float64)))
        self._pending_ref = np.concatenate((self._pending_ref, ref.astype(np.float64)))
        n_frames = len(self._pending_mic) // self._frame
        first_sample, used = self._pending_start, n_frames * self._frame
        mic_frames = self._pending_mic[:used].reshape(n_frames, self._frame)
        ref_frames = self._pending_ref[:used].reshape(n_frames, self._frame)
        self._pending_mic = self._pending_mic[used:]
        self._pending_ref = self._pending_ref[used:]
        self._pending_start += used
        return first_sample, mic_frames, ref_frames

    def _observe_delayed(self, start_sample: int, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        _, mic_frames, ref_frames = self._frames(start_sample, mic, ref)
        for frame, m, r in zip(mic_frames, _power_db(mic_frames).tolist(), _power_db(ref_frames).tolist(),
                               strict=True):
            gain = self._step(m, r)
            self._held.append((frame, gain, self._opened))
            if len(self._held) > self._look:
                opened_later = any(o for _, _, o in list(self._held)[1:])
                self._release(1.0 if opened_later else self._held[0][1])
        out, self._out = self._out[: len(mic)], self._out[len(mic):]
        if not self.config.gate:
            return out.astype(mic.dtype)
        return np.clip(np.rint(out), -32768, 32767).astype(mic.dtype)

    def drain(self) -> np.ndarray:
        """Everything `observe` still holds back (the end of a stream): as gated so far."""
        if not self._look:
            return np.zeros(0, np.int16)
        self._drain_into_out()
        out, self._out = self._out, np.zeros(0, np.float64)
        return np.clip(np.rint(out), -32768, 32767).astype(np.int16)

    def _drain_into_out(self) -> None:
        """Held frames and a partial frame go out at the gains decided so far; the delay stays."""
        while self._held:
            self._release(self._held[0][1])
        rest = self._pending_mic * (self._gain if self.config.gate else 1.0)
        self._out = np.concatenate((self._out, rest))
        self._pending_start += len(self._pending_mic)
        self._pending_mic = np.zeros(0, np.float64)
        self._pending_ref = np.zeros(0, np.float64)

    def _release(self, gain: float) -> None:
        """The oldest held frame goes out at `gain` (ramped from the last frame's)."""
        frame, _, _ = self._held.popleft()
        if not self.config.gate:
            gain = 1.0
        if gain != self._gain:
            frame = frame * np.linspace(self._gain, gain, self._frame, endpoint=False)
        elif gain != 1.0:
            frame = frame * gain
        self._gain = gain
        self._out = np.concatenate((self._out, frame))

    def _apply(self, mic: np.ndarray, gains: np.ndarray) -> np.ndarray:
        if not self.config.gate or np.all(gains == 1.0):
            return mic
        return np.clip(np.rint(mic.astype(np.float64) * gains), -32768, 32767).astype(mic.dtype)

    def _step(self, mic_db: float, ref_db: float) -> float:
        """Take one frame's levels; return the gain the recognizer should hear it at."""
        c = self.config
        self._env = max(ref_db, self._env - self._decay_db)
        # The mic's noise floor, two ways; each falls fast to quieter frames and creeps up slowly.
        # The leak is learned while the output stands well above the one that starts low, so that
        # it is learned from the coach's first words. The gate and the judgement compare with the
        # room, which starts at the first frame as the segmenter's floor does (the room as it is
        # before the coach's voice can have come back): from -90 dBFS, a replay that began in a
        # fan's noise with the coach already talking had the fan pass for the user (10.9 dB over the
        # expected echo) until the slow rise reached it 9 s later, and the coach fell silent for it;
        # the gate meanwhile turned frames down below the fan, and the pumping made one 10 s segment.
        start_db = c.floor_start_db if self._floor_db is None else self._floor_db
        self._floor_db = self._track(start_db, mic_db)
        self._room_db = self._track(mic_db if self._room_db is None else self._room_db, mic_db)
        room_db = max(self._floor_db, self._room_db)
        if ref_db > self._floor_db + c.learn_above_floor_db:      # the coach is playing right now
            self._learn(mic_db - self._env)
        i = self._next_frame % self._n
        self._mic_db[i] = mic_db
        self._env_db[i] = self._env
        self._floor_at[i] = room_db
        self._next_frame += 1
        return self._gate(mic_db, room_db)

    def _track(self, floor: float, mic_db: float) -> float:
        """A noise floor's next value: falls fast to quieter frames, creeps up slowly."""
        if mic_db < floor:
            return 0.8 * floor + 0.2 * mic_db
        return min(mic_db, floor + self.config.floor_rise_db_per_s * FRAME_S)

    def _gate(self, mic_db: float, floor: float) -> float:
        c = self.config
        expected = self._env + self._leak_db
        active = expected > floor + c.active_above_floor_db
        self._opened = active and mic_db > expected + c.gate_lookback_db   # the user, over the coach
        if not active or mic_db > expected + c.gate_margin_db:
            self._open_for = self._hang_frames if mic_db > expected + c.gate_margin_db else 0
            return 1.0
        if self._open_for > 0:
            self._open_for -= 1
            return 1.0
        cut_db = min(c.gate_max_cut_db, max(0.0, mic_db - floor))
        return float(10 ** (-cut_db / 20))

    def _learn(self, ratio_db: float) -> None:
        c = self.config
        if not self._learned:
            self._warmup.append(ratio_db)
            if len(self._warmup) >= c.leak_warmup_frames:
                self._leak_db = float(np.percentile(self._warmup, 100 * c.leak_quantile))
                self._learned = True
                self._warmup = []
            return
        q = c.leak_quantile
        if ratio_db > self._leak_db + c.user_margin_db:
            self._leak_db += c.leak_outlier_step_db
        elif ratio_db > self._leak_db:
            self._leak_db += c.leak_step_db * q
        else:
            self._leak_db -= c.leak_step_db * (1 - q)

    def judge(self, t0: float, t1: float, window_s: float = 0.0) -> EchoJudgement:
        """Whether the residual echo explains the microphone over [t0, t1] (stream seconds).

        With `window_s`, also how far the loudest stretch that long (in 10 ms steps) rose above the
        expected echo (`peak_excess_db`): a short word inside a stretch the coach mostly covered."""
        c = self.config
        first = max(int(t0 / FRAME_S), self._next_frame - self._n, 0)
        last = min(int(np.ceil(t1 / FRAME_S)), self._next_frame)
        if last <= first:
            return EchoJudgement(False, 99.0, False)
        idx = np.arange(first, last) % self._n
        floor = self._floor_at[idx]
        loud = round(float(np.percentile(self._mic_db[idx] - floor, 75)), 2)
        level = round(float(np.percentile(self._mic_db[idx], 75)), 2)
        peak = round(float(np.max(self._mic_db[idx])), 2)
        expected = self._env_db[idx] + self._leak_db
        audible = expected > floor + c.active_above_floor_db
        if not audible.any():
            return EchoJudgement(False, 99.0, False, loud, level, peak)
        excess = self._mic_db[idx] - np.maximum(expected, floor)
        user_excess = float(np.percentile(excess, 75))
        peak_excess = NO_PEAK_DB
        n = max(1, int(round(window_s / FRAME_S)))
        if window_s > 0 and len(excess) >= n:
            windows = np.lib.stride_tricks.sliding_window_view(excess, n)
            peak_excess = round(float(np.max(np.percentile(windows, 75, axis=1))), 2)
        return EchoJudgement(True, round(user_excess, 2), user_excess < c.user_margin_db, loud, level, peak,
                             peak_excess)


def _power_db(frames: np.ndarray) -> np.ndarray:
    power = np.mean(frames * frames, axis=1) / (32768.0 ** 2)
    return 10.0 * np.log10(np.maximum(power, 10 ** (_FLOOR_DB / 10)))
