"""Where each utterance falls in session time, so the count is never late.

Cues (counts, tones, "ten seconds to go") start exactly when they are due and cut off whatever
is still playing; cues asked for at the same instant (a tone, then the words it goes with) play
one after the other; narration queues behind what is playing. The timeline is pure bookkeeping over sample
arrays: the live speaker, the `--speaker OUT.wav` renderer, the `--echo-gain` room simulation and
the self-voice gate all read the same timeline, so they agree on when the coach was talking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.defaults import RATE_HZ

FADE_S = 0.01       # a cut-off utterance fades out over this long instead of clicking
KEEP_S = 120.0      # speech older than this is never rendered or checked again: `trim` frees it
TRIM_EVERY_S = 5.0
DROPPED_KEEP = 100  # `dropped` keeps only the latest lines (forget_before trims it: months of serve)


@dataclass
class Utterance:
    text: str
    kind: str               # "cue" or "narration"
    start: int              # first sample, session time
    samples: np.ndarray     # int16
    end: int                # one past the last sample heard (earlier than start+len when cut)
    asked: int = -1         # the sample it was asked for (a queued line starts later)
    tone: bool = False      # a generated tone, not words
    shown: bool = False     # the runner has seen it start (and printed it)
    ended: bool = False     # the runner has seen it end (and told the session)
    line: str = ""          # the voice-pack line it says (to say it again after the user spoke over it)

    @property
    def spoken_narration(self) -> bool:
        """Narration in words: what the coach stops saying when the user talks over it (cues and
        tones are on the clock and play on)."""
        return self.kind == "narration" and not self.tone

    @property
    def start_s(self) -> float:
        return self.start / RATE_HZ

    @property
    def end_s(self) -> float:
        return self.end / RATE_HZ


class SpeechTimeline:
    def __init__(self, rate_hz: int = RATE_HZ) -> None:
        self.rate_hz = rate_hz
        self.utterances: list[Utterance] = []
        self.dropped: list[str] = []        # narration dropped before it was heard (for the log)
        self._trimmed_t = 0.0

    def add(self, text: str, samples: np.ndarray, t: float, kind: str, tone: bool = False,
            line: str = "") -> Utterance:
        """Place an utterance asked for at session time `t`."""
        at = int(round(t * self.rate_hz))
        if kind == "cue":
            together = [u for u in self.utterances if u.kind == "cue" and u.asked == at]
            self.cut(at, keep=together)
            start = max([at, *(u.end for u in together)])
        else:
            start = max(at, self.busy_until_sample())
        utterance = Utterance(text, kind, start, samples, start + len(samples), at, tone, line=line)
        self.utterances.append(utterance)
        return utterance

    def cut(self, at: int, keep: list[Utterance] | None = None, narration_only: bool = False) -> None:
        """Stop what plays at sample `at`; drop what would start after it (except `keep`). With
        `narration_only` (the user talking over the coach), cues and tones play on."""
        kept = []
        spared = {id(u) for u in keep or ()}
        for u in self.utterances:
            if id(u) in spared or narration_only and not u.spoken_narration:
                kept.append(u)
                continue
            if u.start >= at:
                self.dropped.append(u.text)
                continue
            if u.end > at:
                u.end = at
            kept.append(u)
        self.utterances = kept

    def hush(self, t: float) -> None:
        self.cut(int(round(t * self.rate_hz)))

    def busy_until_sample(self) -> int:
        return max((u.end for u in self.utterances), default=0)

    def busy_until(self) -> float:
        return self.busy_until_sample() / self.rate_hz

    def speaking(self, t0: float, t1: float, tail_s: float = 0.0) -> bool:
        """Whether the coach was heard anywhere in [t0, t1], counting `tail_s` of echo after each line."""
        a, b = t0 * self.rate_hz, t1 * self.rate_hz
        tail = tail_s * self.rate_hz
        return any(u.start <= b and u.end + tail >= a for u in self.utterances if u.end > u.start)

    def said_during(self, t0: float, t1: float, tail_s: float = 0.0) -> list[str]:
        """The lines heard anywhere in [t0, t1] (with `tail_s` of echo after each)."""
        a, b = t0 * self.rate_hz, t1 * self.rate_hz
        tail = tail_s * self.rate_hz
        return [u.text for u in self.utterances if u.end > u.start and u.start <= b and u.end + tail >= a]

    def render(self, start: int, n: int) -> np.ndarray:
        """Samples [start, start+n) of everything the coach says, as int16."""
        out = np.zeros(n, dtype=np.int32)
        for u in self.utterances:
            lo, hi = max(u.start, start), min(u.end, start + n)
            if lo >= hi:
                continue
            piece = u.samples[lo - u.start : hi - u.start].astype(np.int32)
            cut_short = u.end < u.start + len(u.samples)
            if cut_short:                       # fade the last FADE_S before a cut
                fade = int(FADE_S * self.rate_hz)
                ramp_start = u.end - fade
                idx = np.arange(lo, hi)
                gain = np.clip((u.end - idx) / max(fade, 1), 0.0, 1.0)
                piece = np.where(idx >= ramp_start, (piece * gain).astype(np.int32), piece)
            out[lo - start : hi - start] += piece
        return np.clip(out, -32768, 32767).astype(np.int16)

    def trim(self, t: float) -> None:
        """Every TRIM_EVERY_S of session time, forget what was said more than KEEP_S before `t`: a
        whole session (or months of serve) would otherwise keep every line's samples (a 20-minute
        replay peaked at 163 MB) and every audio chunk would scan them all."""
        if t - self._trimmed_t >= TRIM_EVERY_S:
            self._trimmed_t = t
            self.forget_before(int((t - KEEP_S) * self.rate_hz))

    def forget_before(self, sample: int) -> None:
        """Free utterances that ended before `sample` (a long live session), and all but the
        latest DROPPED_KEEP dropped lines."""
        self.utterances = [u for u in self.utterances if u.end + self.rate_hz > sample]
        del self.dropped[:-DROPPED_KEEP]
