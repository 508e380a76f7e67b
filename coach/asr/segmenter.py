"""Energy-based voice-activity segmentation, counted in audio time.

Commands are short and spoken after a pause, so a recognizer only needs to decode the stretches
between pauses. Cutting them ourselves (instead of an endpointer with a 0.3 s window) keeps latency
low, gives `t_start` to 10 ms (holds are measured to it) and lets a long stretch be rejected as a
sentence without decoding it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from coach.asr.base import Heard

FRAME_SAMPLES = 160                  # 10 ms at 16 kHz
RECENT_SEGMENTS = 4                  # segments kept for `SegmentedRecognizer.decode_from`
# A frame whose RMS is at most this many LSB is digital silence (an echo gate's
# look-back before the first chunk, a virtual or just-opened microphone, a dropout), not the room:
# it neither sets nor moves the noise floor. (It used to set it at `abs_floor_db`; the room's noise
# after it then stood 10-15 dB over that floor for ~2 s, read as one long segment, and a command
# said in it was lost as "too long".) A stream of nothing but zeros keeps the floor at `abs_floor_db`.
DIGITAL_SILENCE_LSB = 1
TRIM_LEAD_S = 0.1                    # the quiet lead a segment decoded from a later start is given


@dataclass(frozen=True)
class SegmenterConfig:
    """Thresholds in dB above the tracked noise floor; durations in seconds."""

    rate_hz: int = 16_000
    start_db: float = 10.0           # a frame this far above the floor may start speech
    keep_db: float = 6.0             # speech continues while frames stay this far above the floor
    onset_db: float = 5.0            # t_start: first frame this loud before the trigger
    peak_drop_db: float = 30.0       # speech also ends below its own peak minus this (quiet tails)
    min_speech_s: float = 0.06       # this much loud audio (in `trigger_window_s`) starts a segment
    trigger_window_s: float = 0.1
    hangover_s: float = 0.2          # quiet this long ends a segment (latency vs split words)
    pre_roll_s: float = 0.25         # audio kept before the onset (weak initial consonants)
    max_segment_s: float = 2.5       # longer than any command: a sentence, not decoded
    min_segment_s: float = 0.12      # shorter: a click or a breath
    abs_floor_db: float = -75.0      # dBFS; exact digital silence counts as this
    floor_rise_db_per_s: float = 3.0 # noise floor creeps up this fast (a 1 s word lifts it 3 dB)
    pre_emphasis: float = 0.97       # second detector on x[n] - a*x[n-1]: hears speech over rumble
    # Background talk (a TV, people in the room) never falls quiet: the floor, which falls fast to
    # the quietest frames, sits in its dips and the whole of it reads as one endless sentence (at
    # 10 dB over six-voice babble, no command was heard at all). So the segmenter also keeps the
    # `level_percentile` of the last `level_window_s` of frames. Once that has stood more than
    # `level_gap_db` over the floor for `level_hold_s` (longer than a sentence, or a run of the
    # coach's own lines at room gain 1, whose residual engaged a 4 s hold), speech is measured
    # from it; once it has stood within `level_stay_db` of the floor for `level_hold_s`, from the
    # floor again. "Stood" forgives moments shorter than `level_reset_s` that argue against: six
    # voices dip for a moment every few seconds (needing 8 s in a row, a long talk took 45 s to be
    # recognised), and the floor creeps up into a long talk between its dips (leaving at the
    # first moment it came near cut a TV's talk back into sentences 10-20 s in). A pause between
    # sentences is longer, so the coach's lines in a row never count. Steady noise and quiet rooms
    # never get there: the percentile stays within a few dB of the floor.
    level_window_s: float = 1.5      # 0: off
    level_percentile: float = 60.0
    level_gap_db: float = 5.0
    level_hold_s: float = 8.0
    level_reset_s: float = 0.5       # shorter than a pause between sentences
    level_stay_db: float = 3.0
    # Keep the user's own speech out of the talk level (None: off, the default; see `_step`).
    # On, a command said right after a sentence over babble is heard (84 of 96, was 0 of 96) and
    # a sentence over it stays whole; but bench_recognition's isolated commands in babble fell
    # (fused babble10 41.8 -> 39.4 %, babble20 70.9 -> 66.7 %, ft_neg 0 -> 2.5 %), so not yet.
    level_speech_rise_db: float | None = None


@dataclass(frozen=True)
class SpeechSegment:
    """A stretch of speech. `pcm` includes the pre-roll and the quiet hangover after it.

    `t_start`/`t_end` are stream seconds of the first and last loud frame; `t_audio_start` is the
    stream time of `pcm[0]`. A segment longer than `max_segment_s` comes with `too_long` set and
    no audio (it is a sentence; decoding it would only cost time).
    """

    t_start: float
    t_end: float
    t_audio_start: float
    pcm: np.ndarray                  # int16
    too_long: bool
    floor_db: float                  # noise floor when the segment started, dBFS


class TalkLevel:
    """The level of background talk in one detector's frames (see `SegmenterConfig.level_window_s`).

    `update` takes a frame's energy and the tracked noise floor (dBFS) and returns the floor speech
    should be measured from: the talk level while background talk holds, else the floor."""

    def __init__(self, config: SegmenterConfig, frame_s: float) -> None:
        self.config = config
        self._window_frames = max(1, round(config.level_window_s / frame_s))
        self._levels: deque[float] = deque(maxlen=self._window_frames)
        self._hold_frames = round(config.level_hold_s / frame_s)
        self._reset_frames = round(config.level_reset_s / frame_s)
        self._n_frames = 0
        self.level_db = -200.0                  # the percentile, dBFS (recomputed every 0.1 s)
        self.talking = False                    # measuring from the level
        self._for = 0                           # frames that argued for switching
        self._against = 0                       # frames in a row that argued against

    def update(self, energy_db: float, floor_db: float, cap_db: float | None = None) -> float:
        """`cap_db`: the most this frame may count for in the level (see `level_speech_rise_db`)."""
        c = self.config
        self._levels.append(energy_db if cap_db is None else min(energy_db, cap_db))
        if self._n_frames % 10 == 0 and len(self._levels) >= self._window_frames // 2:
            self.level_db = float(np.percentile(np.fromiter(self._levels, float), c.level_percentile))
        self._n_frames += 1
        above_db = self.level_db - floor_db
        # Switch after `level_hold_s` of frames that argue for it (the level over the gap to enter,
        # near the floor to leave), forgiving runs against it up to `level_reset_s` long.
        if (above_db <= c.level_stay_db) if self.talking else (above_db > c.level_gap_db):
            self._for += 1
            self._against = 0
        else:
            self._against += 1
            if self._against > self._reset_frames:
                self._for = 0
        if self._for > self._hold_frames:
            self.talking = not self.talking
            self._for = self._against = 0
        return self.level_db if self.talking else floor_db


class EnergySegmenter:
    """Feed int16 samples in any chunk size; get finished speech segments back."""

    def __init__(self, config: SegmenterConfig | None = None) -> None:
        self.config = config or SegmenterConfig()
        c = self.config
        self._frame_s = FRAME_SAMPLES / c.rate_hz
        self._trigger_frames = max(1, round(c.trigger_window_s / self._frame_s))
        self._min_loud_frames = max(1, round(c.min_speech_s / self._frame_s))
        self._hang_frames = max(1, round(c.hangover_s / self._frame_s))
        self._pre_frames = round(c.pre_roll_s / self._frame_s)
        self._max_frames = round(c.max_segment_s / self._frame_s)
        self._min_frames = round(c.min_segment_s / self._frame_s)
        self._rise_db = c.floor_rise_db_per_s * self._frame_s
        self._pending = np.zeros(0, dtype=np.int16)
        self._last_sample = 0.0
        self._n_frames = 0                                   # frames seen since construction
        # Per detector (plain, pre-emphasised) as Python floats: the frame loop runs 100 times a
        # second, all day, and numpy's per-call cost on two numbers was most of idle listening.
        self._floors_db: list[float] | None = None
        self._floor_heard = False                            # the floor is the room's, not zeros'
        # Per detector, how far loud moments rise above its floor (slow average of 1 s maxima).
        self._contrast_db = [1.0, 0.0]                        # start with plain energy
        self._window_peak_db = [0.0, 0.0]
        # Recent frames (audio, energy) for the pre-roll and the onset search.
        self._history: deque[tuple[np.ndarray, float]] = deque(maxlen=self._pre_frames + self._trigger_frames)
        self._quiet_frames_needed = 0                        # after reset(): wait for a pause
        self._talk = [TalkLevel(c, self._frame_s) for _ in range(2)] if c.level_window_s > 0 else []
        self._level_frames = round(c.level_window_s / self._frame_s)
        # Per detector, the talk level before the latest segments (None: they began over the floor)
        # and the frame until which the level's window still holds their frames.
        self._talk_base_db: list[float | None] = [None, None]
        self._talk_base_until = 0
        self._reset_speech()

    def _reset_speech(self) -> None:
        self._in_speech = False
        self._frames: list[np.ndarray] = []
        self._first_frame = 0                                # frame index of self._frames[0]
        self._onset_frame = 0
        self._last_loud_frame = 0
        self._too_long = False
        self._seg_floor_db = 0.0
        self._peak_db = -200.0

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def speech_onset_s(self) -> float | None:
        """Stream seconds where the speech in progress began; None between segments."""
        return self._onset_frame * self._frame_s if self._in_speech else None

    @property
    def floor_db(self) -> float:
        """The plain detector's noise floor, dBFS."""
        return float(self._floors_db[0]) if self._floors_db is not None else self.config.abs_floor_db

    def reset(self) -> None:
        """Drop the segment in progress, and the rest of it: no new segment starts before a pause.

        The frame clock and the noise floor are kept.
        """
        self._reset_speech()
        self._history.clear()
        self._quiet_frames_needed = self._hang_frames

    def feed(self, samples: np.ndarray) -> list[SpeechSegment]:
        data = np.concatenate([self._pending, samples.astype(np.int16, copy=False)])
        n_full = len(data) // FRAME_SAMPLES
        self._pending = data[n_full * FRAME_SAMPLES :]
        if n_full == 0:
            return []
        frames = data[: n_full * FRAME_SAMPLES].reshape(n_full, FRAME_SAMPLES)
        flat = frames.reshape(-1).astype(np.float64)
        previous = np.concatenate([[self._last_sample], flat[:-1]])
        self._last_sample = float(flat[-1])
        emphasised = (flat - self.config.pre_emphasis * previous).reshape(n_full, FRAME_SAMPLES)
        # Two detectors: plain energy suits hiss and pink noise, pre-emphasised energy suits rumble
        # and brown noise. A frame's loudness is its excess over the better detector's floor.
        power = np.stack([np.mean(frames.astype(np.float64) ** 2, axis=1), np.mean(emphasised**2, axis=1)], 1)
        energies_db = 10.0 * np.log10(np.maximum(power / 32768.0**2, 10 ** (self.config.abs_floor_db / 10)))
        done: list[SpeechSegment] = []
        silent = power[:, 0] <= DIGITAL_SILENCE_LSB**2
        for frame, energy_db, is_silent in zip(frames, energies_db.tolist(), silent.tolist(), strict=True):
            segment = self._step(frame, energy_db, is_silent)
            if segment is not None:
                done.append(segment)
        return done

    def flush(self) -> list[SpeechSegment]:
        """End of stream: close the segment in progress as if the hangover had passed."""
        if not self._in_speech:
            return []
        segment = self._finish()
        return [segment] if segment is not None else []

    def _step(self, frame: np.ndarray, energies_db: list[float], silent: bool) -> SpeechSegment | None:
        c = self.config
        index = self._n_frames
        self._n_frames += 1
        if self._floors_db is None or (not self._floor_heard and not silent):
            self._floors_db = list(energies_db)          # the first frame the room is heard in
            self._floor_heard = not silent
        # Use the detector in which loud moments stand out more: speech over brown noise barely
        # rises in plain energy, speech over pink noise less in pre-emphasised energy.
        floors = self._floors_db
        if self._talk:
            # The talk level is the background's: the speech being measured must not become it.
            # Its own frames filled the level's window within a second: a 1.8 s sentence 20 dB
            # over a TV ended 0.8 s in, the rest heard as nothing, and a "ready" said right after
            # it was measured against the sentence. So (when `level_speech_rise_db` is set) while
            # a segment that began over the talk could still be a command, its frames count in the
            # level for at most the level before it (for `level_window_s` after it, that plus the
            # rise), and speech is measured from no higher than that plus the rise.
            rise = c.level_speech_rise_db
            in_command = self._in_speech and not self._too_long and rise is not None
            if in_command:
                self._talk_base_until = index + self._level_frames
            if rise is not None and (in_command or (index < self._talk_base_until and not self._in_speech)):
                base = self._talk_base_db
                window_caps = [None if r is None else r if in_command else r + rise for r in base]
                caps = [None if r is None else r + rise for r in base]
            else:
                window_caps = caps = [None, None]
            floors = [talk.update(e, f, cap) for talk, e, f, cap
                      in zip(self._talk, energies_db, floors, window_caps, strict=True)]
            floors = [min(f, cap) if cap is not None and talk.talking else f
                      for talk, f, cap in zip(self._talk, floors, caps, strict=True)]
        excess = [energies_db[0] - floors[0], energies_db[1] - floors[1]]
        if not silent:                                       # zeros say nothing about the room;
            self._track_floor(energies_db)                   # every other frame: a stuck floor never recovers
        peak = self._window_peak_db
        self._window_peak_db = [max(peak[0], excess[0]), max(peak[1], excess[1])]
        if index % 100 == 99:
            contrast, peak = self._contrast_db, self._window_peak_db
            self._contrast_db = [0.9 * contrast[0] + 0.1 * peak[0], 0.9 * contrast[1] + 0.1 * peak[1]]
            self._window_peak_db = [0.0, 0.0]
        excess_db = excess[0] if self._contrast_db[0] >= self._contrast_db[1] else excess[1]
        if self._quiet_frames_needed > 0:
            quiet = excess_db <= c.keep_db
            self._quiet_frames_needed = self._quiet_frames_needed - 1 if quiet else self._hang_frames
            return None
        if not self._in_speech:
            self._history.append((frame, excess_db))
            if excess_db > c.start_db:
                recent = list(self._history)[-self._trigger_frames :]
                if sum(1 for _, e in recent if e > c.start_db) >= self._min_loud_frames:
                    self._start(index)
            return None
        self._frames.append(frame)
        self._peak_db = max(self._peak_db, excess_db)
        if excess_db > max(c.keep_db, self._peak_db - c.peak_drop_db):
            self._last_loud_frame = index
        if index - self._onset_frame > self._max_frames:
            self._too_long = True
            self._frames = self._frames[-1:]                  # stop buffering a sentence
        if index - self._last_loud_frame >= self._hang_frames:
            return self._finish()
        return None

    def _track_floor(self, energies_db: list[float]) -> None:
        """Falls fast to quieter frames, creeps up slowly (a word must not become the floor)."""
        floors = self._floors_db if self._floors_db is not None else energies_db
        self._floors_db = [0.8 * f + 0.2 * e if e < f else min(e, f + self._rise_db)
                           for f, e in zip(floors, energies_db, strict=True)]

    def _start(self, index: int) -> None:
        c = self.config
        history = list(self._history)
        first = index - len(history) + 1                     # frame index of history[0]
        onset = index
        # Walk back over the frames that are already above the onset level.
        for offset in range(len(history) - 1, -1, -1):
            if history[offset][1] > c.onset_db:
                onset = first + offset
            elif index - (first + offset) > self._trigger_frames:
                break
        self._in_speech = True
        self._onset_frame = onset
        self._last_loud_frame = index
        self._too_long = False
        self._seg_floor_db = self.floor_db
        if index >= self._talk_base_until:                   # else the level holds the last segment's frames
            self._talk_base_db = [t.level_db if t.talking else None for t in self._talk] or [None, None]
        self._peak_db = max(e for _, e in history)
        keep_from = max(first, onset - self._pre_frames)
        self._frames = [f for i, (f, _) in enumerate(history) if first + i >= keep_from]
        self._first_frame = keep_from
        self._history.clear()

    def _finish(self) -> SpeechSegment | None:
        fs = self._frame_s
        duration_frames = self._last_loud_frame + 1 - self._onset_frame
        segment = SpeechSegment(
            t_start=self._onset_frame * fs,
            t_end=(self._last_loud_frame + 1) * fs,
            t_audio_start=self._first_frame * fs,
            pcm=np.zeros(0, np.int16) if self._too_long else np.concatenate(self._frames),
            too_long=self._too_long,
            floor_db=self._seg_floor_db,
        )
        self._reset_speech()
        if duration_frames < self._min_frames and not segment.too_long:
            return None
        return segment


class SegmentedRecognizer:
    """The streaming half both backends share: PCM in, speech segments out to `_decode_all`.

    A subclass sets `_segmenter` and `_n_samples = 0` and decodes whole segments.
    """

    _segmenter: EnergySegmenter
    _n_samples: int
    _recent: deque[SpeechSegment] | None = None        # the latest segments decoded (`decode_from`)

    def feed(self, pcm: bytes) -> list[Heard]:
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
        self._n_samples += len(samples)
        return self._decode_all(self._segmenter.feed(samples))

    def flush(self) -> list[Heard]:
        return self._decode_all(self._segmenter.flush())

    @property
    def t_now(self) -> float:
        """Stream seconds fed so far."""
        return self._n_samples / self._segmenter.config.rate_hz

    @property
    def hearing_since_s(self) -> float | None:
        """Stream seconds where the speech still being heard began (not decided yet); else None."""
        return self._segmenter.speech_onset_s

    def reset(self) -> None:
        self._segmenter.reset()

    def _decode_all(self, segments: list[SpeechSegment]) -> list[Heard]:
        """One `Heard` per segment: too long to be a command without decoding, else `_decode`."""
        self._keep(segments)
        return [too_long(segment) if segment.too_long else self._decode(segment) for segment in segments]

    def _keep(self, segments: list[SpeechSegment]) -> None:
        if self._recent is None:
            self._recent = deque(maxlen=RECENT_SEGMENTS)
        self._recent.extend(s for s in segments if not s.too_long)

    def decode_from(self, t_start_s: float, cut_s: float) -> Heard | None:
        """The recent segment that began at `t_start_s` decoded again from `cut_s` on, as if its
        speech began there (its audio before the cut replaced by TRIM_LEAD_S of its noise floor).
        None if no such segment is kept or too little of it is left. For a listener that knows the
        start of a segment was something else (the coach's own residual) and wants the rest heard."""
        segment = next((s for s in self._recent or () if abs(s.t_start - t_start_s) < 0.0015), None)
        if segment is None or segment.t_end - cut_s < self._segmenter.config.min_segment_s:
            return None
        rate = self._segmenter.config.rate_hz
        lead = int(round(TRIM_LEAD_S * rate))
        rng = np.random.default_rng(int(round(cut_s * 1000)))       # replays stay identical
        floor = max(10.0 ** (segment.floor_db / 20.0) * 32768.0, 1.0)
        quiet = np.clip(rng.normal(0.0, floor, lead), -32768, 32767).astype(np.int16)
        i = max(0, int(round((cut_s - segment.t_audio_start) * rate)))
        trimmed = SpeechSegment(cut_s, segment.t_end, cut_s - TRIM_LEAD_S,
                                np.concatenate([quiet, segment.pcm[i:]]), False, segment.floor_db)
        recent, self._recent = self._recent, None   # not a segment it heard: not kept among them
        try:
            return self._decode_all([trimmed])[0]
        finally:
            self._recent = recent

    def _decode(self, segment: SpeechSegment) -> Heard:
        raise NotImplementedError


def too_long(segment: SpeechSegment) -> Heard:
    """The `Heard` for a stretch too long to be any command (a sentence): reported, not decoded."""
    return Heard("", "", round(segment.t_start, 3), round(segment.t_end, 3), 0.0, reason="too long")
