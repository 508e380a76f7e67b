"""What a session hears: a recognizer plus the rules that keep it from acting on noise or on itself.

- Only the commands the session accepts right now count (fewer choices, fewer false triggers).
- Results below the confidence threshold are dropped.
- While the coach is talking (plus an echo tail) results are discounted: a command whose words
  the coach itself is saying at that moment ("when you're done, say done") is dropped; any other
  command (the user talking over a count, "stop" to barge in) needs a higher confidence.
- When the coach stops talking, the recognizer is reset, so half-heard narration cannot run on
  into the user's next word.
Dropped results are returned too, with the reason, so they can be logged and measured.

A recognizer is a native library and may raise mid-session. Given `on_failure`, the listener is
the edge that absorbs that: it reports the failure once (`on_failure(why)`, and `failure`), stops
using the recognizer and hears nothing from then on, so the session carries on from the keyboard
with its holds and clock intact. Without `on_failure` the exception propagates, as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from coach.asr.base import Heard, Recognizer
from coach.audio.chunk import AudioChunk
from coach.defaults import BARGE_IN_MIN_CONFIDENCE, ECHO_TAIL_S, MIN_CONFIDENCE
from coach.speech.timeline import SpeechTimeline


def _words(text: str) -> list[str]:
    """Lower-case words, apostrophes kept ("can't"), punctuation dropped."""
    return re.findall(r"[\w']+", text.lower())


@dataclass(frozen=True)
class Verdict:
    heard: Heard
    accepted: bool
    reason: str         # "" when accepted; else why not ("not now", "low confidence", "coach speaking")


class CommandListener:
    def __init__(self, recognizer: Recognizer, timeline: SpeechTimeline | None = None, *,
                 phrases: dict[str, list[str]] | None = None,
                 min_confidence: float = MIN_CONFIDENCE,
                 barge_in_min_confidence: float = BARGE_IN_MIN_CONFIDENCE,
                 echo_tail_s: float = ECHO_TAIL_S,
                 on_failure: Callable[[str], None] | None = None) -> None:
        self.recognizer = recognizer
        self.failure: str | None = None     # why the recognizer was given up; None while it works
        self._on_failure = on_failure
        self._timeline = timeline
        self._phrases = {c: [_words(p) for p in ps] for c, ps in (phrases or {}).items()}
        self._min_confidence = min_confidence
        self._barge_in_min = barge_in_min_confidence
        self._tail_s = echo_tail_s
        self._was_speaking = False
        self._fed_s = 0.0           # audio fed to the recognizer (its own clock)
        self._offset_s = 0.0        # session time minus recognizer time (grows over gaps in the audio)

    def feed(self, chunk: AudioChunk, accepted: tuple[str, ...]) -> list[Verdict]:
        if self.failure is not None:
            return []
        try:
            gap_s = chunk.t_start - (self._fed_s + self._offset_s)
            if gap_s > 0.001:       # the microphone was away (lost and back): keep times in session time
                self._offset_s += gap_s
                self.recognizer.reset()
            self._fed_s += chunk.n_samples / self.recognizer.rate_hz
            heard = self.recognizer.feed(chunk.pcm)
            self._reset_after_speech(chunk)
        except Exception as err:
            self._fail(err)
            return []
        return [self._judge(self._to_session(h), accepted) for h in heard]

    def flush(self, accepted: tuple[str, ...]) -> list[Verdict]:
        if self.failure is not None:
            return []
        try:
            heard = self.recognizer.flush()
        except Exception as err:
            self._fail(err)
            return []
        return [self._judge(self._to_session(h), accepted) for h in heard]

    def _fail(self, err: Exception) -> None:
        if self._on_failure is None:
            raise err
        self.failure = f"{getattr(self.recognizer, 'name', 'the recognizer')} failed: {err}"
        self._on_failure(self.failure)

    def _to_session(self, heard: Heard) -> Heard:
        if not self._offset_s:
            return heard
        return replace(heard, t_start=heard.t_start + self._offset_s, t_end=heard.t_end + self._offset_s)

    def _judge(self, heard: Heard, accepted: tuple[str, ...]) -> Verdict:
        if heard.command not in accepted:
            return Verdict(heard, False, "not now")
        if heard.confidence < self._min_confidence:
            return Verdict(heard, False, "low confidence")
        if self._timeline is not None:
            said = self._timeline.said_during(heard.t_start, heard.t_end, self._tail_s)
            if said:
                if self._coach_says(heard, said):
                    return Verdict(heard, False, "coach speaking")
                if heard.confidence < self._barge_in_min:
                    return Verdict(heard, False, "low confidence while coach speaking")
        return Verdict(heard, True, "")

    def _coach_says(self, heard: Heard, lines: list[str]) -> bool:
        """Whether the coach's own words could be what was heard: the phrase (or any phrase of
        the same command) appears in a line it was saying."""
        candidates = [_words(heard.phrase), *self._phrases.get(heard.command, [])]
        for line in lines:
            words = _words(line)
            for phrase in candidates:
                n = len(phrase)
                if n and any(words[i:i + n] == phrase for i in range(len(words) - n + 1)):
                    return True
        return False

    def _reset_after_speech(self, chunk: AudioChunk) -> None:
        if self._timeline is None:
            return
        speaking = self._timeline.speaking(chunk.t_start, chunk.t_end, self._tail_s)
        if self._was_speaking and not speaking:
            self.recognizer.reset()
        self._was_speaking = speaking
