"""What a session hears: a recognizer plus the rules that keep it from acting on noise or on itself.

- Only the commands the session accepts right now count (fewer choices, fewer false triggers).
- Results below the confidence threshold are dropped.
- The coach's own voice: the microphone reaches the listener after echo cancellation, and
  `selfvoice.EchoEvidence` compares it with what the coach was playing at the same samples. A
  command heard while the coach was audible is the user's where some DUCK_MIN_S of it stood
  clearly above the echo expected there (USER_PEAK_OVER_ECHO_DB; DUCK_OVER_ECHO_DB in speech the
  coach fell silent for), and is then accepted at the normal threshold, also over a count or a
  line that contains the same word. Otherwise it is dropped as the coach's own voice: "coach
  speaking" when the coach's overlapping line contains the phrase, else "echo".
- What the recognizer hears is gated by the same evidence: stretches the coach's echo explains are
  turned down to the noise floor, so its residual cannot merge with the user's word into one
  long segment (which would then be dropped whole).
- Nothing the user says is thrown away: the recognizer is never reset when the coach stops
  talking (an answer that begins as a prompt ends is decoded whole). It is reset only over a gap
  in the audio (a lost and reopened microphone).
- The user's phrase inside a segment the coach's residual ran into: with the coach loud (room
  gain 1), its residual and the user's word often make one segment that decodes as "it ready" or
  "no can't hold", and a segment must decode to exactly one phrase. Where the decoder aligned
  words, a phrase of an accepted command inside the segment is taken when its own span stands
  clearly above the expected echo (the user) and everything else in the segment is either the
  echo's residual or quiet (not the user saying more: "I'm not ready" stays a sentence). Only in a
  segment where the coach is audible; a phrase lying past the point where its echo died away (a
  "ready" answered as a prompt ends) must stand well above the loudest the microphone heard over
  the echo tail before it, as the room's tail only decays. `Heard.by` is "words" for these.
- Every utterance the recognizer reports ends as a verdict: accepted, or dropped with a reason
  ("not now", "low confidence", "coach speaking", "echo", "no command" for speech that matched no
  phrase). The runner logs them all, so misses can be measured.

A recognizer is a native library and may raise mid-session. Given `on_failure`, the listener is
the edge that absorbs that: it reports the failure once (`on_failure(why)`, and `failure`), stops
using the recognizer and hears nothing from then on, so the session carries on from the keyboard
with its holds and clock intact. Without `on_failure` the exception propagates, as before.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from coach.asr.base import Heard, Recognizer, Word
from coach.asr.segmenter import SegmenterConfig
from coach.asr.selfvoice import EchoEvidence, EchoJudgement
from coach.audio import tones
from coach.audio.chunk import AudioChunk
from coach.defaults import AEC_MAX_DELAY_MS, CHUNK_S, ECHO_TAIL_S, MIN_CONFIDENCE
from coach.speech import earcons
from coach.speech.timeline import SpeechTimeline, Utterance

# A command only the neural head heard, while the coach was audible, must stand this far above
# the expected residual: the head was trained on clean and noisy speech, never on the broken-up
# residual of the coach's own voice, and hears commands in it (measured: "help", "stop", "done").
# Measured on the development voices in bench_turns at room gains 0.5 and 1, with the coach's
# tones taken out: the head's own-voice commands stood at most 4.6 dB above the expected echo, a
# user's "can't hold" over "10 seconds in." 9.5 dB (it was 12 dB before the tones were removed).
NEURAL_OVER_ECHO_DB = 8.0

# The user talking over the coach (see `CommandListener.over_coach`): speech this long, standing this
# far above the coach's expected residual echo, makes the coach fall silent and listen. Chosen on
# the development voices in bench_turns at room gain 1 (reserved voices measured, never tuned on):
# the coach's own residual stood at most ~8.5 dB above its expected echo over a whole segment.
DUCK_MIN_S = 0.08
DUCK_OVER_ECHO_DB = 10.0
# ... judged on the evidence itself before the recognizer has the speech (the gate hands it its
# audio `_delay_s` late and the segmenter needs 60 ms more): then the stretch must also stand this
# far above the noise floor (the segmenter's own start threshold), and a command in the segment
# that follows may begin up to EARLY_ONSET_SLACK_S before it (the word's soft start).
EARLY_ABOVE_FLOOR_DB = 10.0
EARLY_ONSET_SLACK_S = 0.3

# A phrase found inside a longer segment (see the module notes): its span must stand this far above
# the expected echo (twice that when the coach was saying the phrase around then), the rest of the segment
# be explained by the echo or lie within QUIET_ABOVE_FLOOR_DB of the noise floor; pieces shorter
# than SPAN_MIN_S are not judged. Its confidence is the listener's threshold: the phrase beat every
# filler word over its span, and the evidence, not the decoder's score, is what makes it the user's.
PHRASE_OVER_ECHO_DB = 6.0
QUIET_ABOVE_FLOOR_DB = 6.0
SPAN_MIN_S = 0.05
# A phrase the segment carries past the point where the coach's echo died away (a "ready" answered
# as a prompt ends, run into one segment with the prompt's residual) is the user's when it stands
# this far above the loudest frame the microphone heard before it in the segment and over the echo
# tail (ECHO_TAIL_S) before it: a room's tail only decays. (Measured at room gain 1 on the
# development voices: the users' answers 10.8-19 dB above that peak.)
PAST_ECHO_OVER_DB = 6.0
# A command decoded while the coach is audible is the user's only where some DUCK_MIN_S of it stood
# this far above the expected echo (see `CommandListener._user_over_coach`).
USER_PEAK_OVER_ECHO_DB = 12.0
SORRY_OVER_ECHO_DB = 12.0   # speech that matched nothing asks "Sorry?" over the coach only this far above it
# Later starts a segment the coach fell silent for is decoded from when its whole decodes as no
# command (see `CommandListener._from_later_start`): 0.05-0.2 s, the span the coach stays audible.
TRIM_STEPS_S = (0.05, 0.1, 0.15, 0.2)
WORD_PLACE_S = 0.4          # how far off a word's place in a line may be from where it was said


_WORD = re.compile(r"[\w']+")


def _words(text: str) -> list[str]:
    """Lower-case words, apostrophes kept ("can't"), punctuation dropped."""
    return _WORD.findall(text.lower())


def _places(words: list[str], phrase: list[str]) -> list[int]:
    """Where `phrase` occurs in `words` (index of its first word); none for an empty phrase."""
    n = len(phrase)
    return [i for i in range(len(words) - n + 1) if n and words[i:i + n] == phrase]


def _the_user_speaks(stretch: EchoJudgement) -> bool:
    """A stretch neither the coach's echo explains nor quiet (within QUIET_ABOVE_FLOOR_DB of the floor)."""
    return not stretch.explained and stretch.above_floor_db > QUIET_ABOVE_FLOOR_DB


def _tone_partials(u: Utterance) -> tuple[float, ...]:
    """The steady partials of a tone the timeline holds (`earcons.label`); none for words."""
    earcon = earcons.from_label(u.text)
    return earcons.partials_hz(earcon) if earcon is not None else ()


class Reason:
    """Why a heard utterance was not acted on (the `reason` of an `ignored` event)."""

    NOT_NOW = "not now"
    LOW_CONFIDENCE = "low confidence"
    COACH_SPEAKING = "coach speaking"       # the residual echo explains it and the coach says those words
    ECHO = "echo"                           # the residual echo explains it (misheard coach audio)
    NO_COMMAND = "no command"               # speech that matched no phrase
    INPUT_ENDED = "input ended"             # decided as the input ended, with nothing left to act in


@dataclass(frozen=True)
class Verdict:
    heard: Heard
    accepted: bool
    reason: str                             # "" when accepted; else one of `Reason`
    echo: EchoJudgement | None = None       # the residual-echo evidence, when the coach was audible

    @property
    def unmatched(self) -> bool:
        """The user said something short that is no command: a prompt may ask "Sorry?".

        Not for a stretch too long to be any command (a sentence, perhaps to someone else), and
        while the coach is audible only for what stands well above its residual: at room gain 1 a
        0.12 s burst of residual 6 dB over the expected echo, as a line began, drew "Sorry?" ten
        times in one replayed session."""
        if self.reason != Reason.NO_COMMAND or self.heard.reason == "too long":
            return False
        return not (self.echo is not None and self.echo.coach_active
                    and self.echo.user_excess_db < SORRY_OVER_ECHO_DB)


class CommandListener:
    def __init__(self, recognizer: Recognizer, timeline: SpeechTimeline | None = None, *,
                 phrases: dict[str, list[str]] | None = None,
                 min_confidence: float = MIN_CONFIDENCE,
                 echo_tail_s: float = ECHO_TAIL_S,
                 evidence: EchoEvidence | None = None,
                 remove_tones: bool = True,
                 on_failure: Callable[[str], None] | None = None) -> None:
        self.recognizer = recognizer
        self.failure: str | None = None     # why the recognizer was given up; None while it works
        self._on_failure = on_failure
        self._timeline = timeline
        self._phrases = {c: [_words(p) for p in ps] for c, ps in (phrases or {}).items()}
        self._min_confidence = min_confidence
        self._tail_s = echo_tail_s
        self.evidence = evidence if evidence is not None else EchoEvidence()
        self._tones = tones.ToneRemover(timeline.rate_hz) if timeline is not None and remove_tones else None
        self._fed_s = 0.0           # audio fed to the recognizer (its own clock)
        self._offset_s = 0.0        # session time minus recognizer time (grows over gaps in the audio)
        self._chunk_ends: deque[float] = deque(maxlen=64)   # session time of the latest chunks' ends
        self._duck_since: float | None = None      # the speech `over_coach` judged last ...
        self._duck_judged_s = 0.0                  # ... up to this chunk end
        self._silent_for: deque[float] = deque(maxlen=8)   # onsets of speech the coach fell silent for
        # The echo gate hands the recognizer its audio this late (it looks back; see selfvoice).
        self._delay_s = self.evidence.delay_samples / timeline.rate_hz if timeline is not None else 0.0
        # What the recognizer hears goes here too (`--keep-echo`'s PREFIX-heard.wav), in step with
        # the microphone: the gate's delay is taken off the front and its last samples come at the end.
        self.heard_audio: Callable[[bytes], None] | None = None
        self._heard_skip_bytes = 2 * self.evidence.delay_samples if timeline is not None else 0

    def feed(self, chunk: AudioChunk, accepted: tuple[str, ...]) -> list[Verdict]:
        if self.failure is not None:
            return []
        try:
            gap_s = chunk.t_start - (self._fed_s + self._offset_s)
            if gap_s > 0.001:       # the microphone was away (lost and back): keep times in session time
                self._offset_s += gap_s
                self.recognizer.reset()
            self._fed_s += chunk.n_samples / self.recognizer.rate_hz
            self._chunk_ends.append(self._fed_s + self._offset_s)
            pcm = self._observe(chunk)
            self._keep_heard(pcm)
            heard = self.recognizer.feed(pcm)
        except Exception as err:
            self._fail(err)
            return []
        return [self._judge(self._to_session(h), accepted) for h in heard]

    def flush(self, accepted: tuple[str, ...]) -> list[Verdict]:
        if self.failure is not None:
            return []
        try:
            heard = []
            if self._timeline is not None:
                rest = self.evidence.drain()
                if len(rest):
                    pcm = rest.astype("<i2").tobytes()
                    self._keep_heard(pcm)
                    heard = self.recognizer.feed(pcm)
            heard = [*heard, *self.recognizer.flush()]
        except Exception as err:
            self._fail(err)
            return []
        return [self._judge(self._to_session(h), accepted) for h in heard]

    @property
    def hearing_since(self) -> float | None:
        """Session seconds where speech the recognizer has not decided on yet began; else None."""
        if self.failure is not None:
            return None
        since = getattr(self.recognizer, "hearing_since_s", None)
        return None if since is None else since + self._offset_s - self._delay_s

    @property
    def over_coach(self) -> tuple[float, float] | None:
        """(onset, dB above the expected echo) while the user is talking over the coach: speech in
        progress while the coach can be heard, at least DUCK_MIN_S long, its latest DUCK_MIN_S
        standing DUCK_OVER_ECHO_DB above what the coach's residual echo explains. Else None."""
        if self._timeline is None or self.failure is not None:
            return None
        since = self.hearing_since
        now = self._fed_s + self._offset_s
        if since is None:
            return self._talking_now(now)
        if not self._timeline.speaking(since, now, self._tail_s):
            return None
        # The latest DUCK_MIN_S at each chunk's end: the segment may have begun with the coach's
        # own residual (the user's word then runs on from it), which would water down the
        # evidence. The recognizer hears the speech `_delay_s` late (the gate's look-back), the
        # evidence is current: the chunk ends it passed meanwhile are judged now.
        if self._duck_since != since:
            self._duck_since, self._duck_judged_s = since, since + DUCK_MIN_S - 1e-9
        for end in [e for e in self._chunk_ends if e > self._duck_judged_s]:
            self._duck_judged_s = end
            echo = self.evidence.judge(end - DUCK_MIN_S, end)
            if echo.coach_active and echo.user_excess_db >= DUCK_OVER_ECHO_DB:
                return since, echo.user_excess_db
        return None

    @property
    def onset_lag_s(self) -> float:
        """How long after speech begins the recognizer can know it (the gate's delay, the
        segmenter's trigger and a chunk): a duck begun on the evidence waits this long for it."""
        return self._delay_s + SegmenterConfig.trigger_window_s + CHUNK_S

    def _talking_now(self, now: float) -> tuple[float, float] | None:
        """`over_coach` before the recognizer has the speech: the latest DUCK_MIN_S, from the
        evidence (current, not delayed), standing DUCK_OVER_ECHO_DB above the expected echo and
        EARLY_ABOVE_FLOOR_DB above the floor. (At room gain 1 the coach used to fall silent 0.22-0.27 s
        into a "stop", and its residual over the word's start made "to", "turn", "nice" of it.)"""
        assert self._timeline is not None
        t0 = now - DUCK_MIN_S
        if t0 < 0 or not self._timeline.speaking(t0, now, self._tail_s):
            return None
        echo = self.evidence.judge(t0, now)
        if echo.coach_active and echo.user_excess_db >= DUCK_OVER_ECHO_DB \
                and echo.above_floor_db >= EARLY_ABOVE_FLOOR_DB:
            return t0, echo.user_excess_db
        return None

    def _keep_heard(self, pcm: bytes) -> None:
        if self.heard_audio is None:
            return
        skip = min(self._heard_skip_bytes, len(pcm))
        self._heard_skip_bytes -= skip
        if skip < len(pcm):
            self.heard_audio(pcm[skip:])

    def _fail(self, err: Exception) -> None:
        if self._on_failure is None:
            raise err
        self.failure = f"{getattr(self.recognizer, 'name', 'the recognizer')} failed: {err}"
        self._on_failure(self.failure)

    def _to_session(self, heard: Heard) -> Heard:
        o = self._offset_s - self._delay_s
        if not o:
            return heard
        return replace(heard, t_start=heard.t_start + o, t_end=heard.t_end + o,
                       words=tuple(Word(w.text, w.t_start + o, w.t_end + o) for w in heard.words))

    def _observe(self, chunk: AudioChunk) -> bytes:
        """Keep the mic and the coach's output for the same samples side by side (session time);
        return what the recognizer hears: the mic, gated where the coach's echo explains it."""
        if self._timeline is None:
            return chunk.pcm
        start = int(round(chunk.t_start * self._timeline.rate_hz))
        raw = np.frombuffer(chunk.pcm, dtype="<i2")
        mic = raw
        if self._tones is not None:
            mic = self._tones.remove(raw, start, self._tone_frequencies(start, len(raw)))
        heard = self.evidence.observe(start, mic, self._timeline.render(start, len(mic)))
        return chunk.pcm if heard is raw else heard.astype("<i2").tobytes()

    def _tone_frequencies(self, start: int, n: int) -> Callable[[int], tuple[float, ...]]:
        """Per 10 ms block of this chunk: the frequencies of the coach's tones the room may still
        carry there (from a tone's start to its end + the longest delay + the echo tail)."""
        assert self._timeline is not None
        rate = self._timeline.rate_hz
        carry = int(round((AEC_MAX_DELAY_MS / 1000 + self._tail_s) * rate))
        near = [(u.start, u.end + carry, _tone_partials(u)) for u in self._timeline.utterances
                if u.tone and u.start < start + n and u.end + carry > start - tones.BLOCK_SAMPLES]
        near = [(a, b, p) for a, b, p in near if p]

        def of(block: int) -> tuple[float, ...]:
            end = block + tones.BLOCK_SAMPLES
            partials = sorted({f for a, b, p in near if a < end and b > block for f in p})
            return tones.frequencies(tuple(partials), rate) if partials else ()
        return of

    def _judge(self, heard: Heard, accepted: tuple[str, ...]) -> Verdict:
        echo = None
        if self._timeline is not None and self._timeline.speaking(heard.t_start, heard.t_end, self._tail_s):
            echo = self.evidence.judge(heard.t_start, heard.t_end, DUCK_MIN_S)
        if not heard.command:
            found = (self._phrase_inside(heard, accepted, echo)
                     or self._from_later_start(heard, accepted, echo))
            if found is not None:
                return found
            if echo is not None and echo.explained:
                return Verdict(heard, False, Reason.ECHO, echo)
            return Verdict(heard, False, Reason.NO_COMMAND, echo)
        return self._judge_command(heard, accepted, echo)

    def _judge_command(self, heard: Heard, accepted: tuple[str, ...], echo: EchoJudgement | None) -> Verdict:
        if (echo is not None and heard.by == "neural" and echo.coach_active
                and echo.user_excess_db < NEURAL_OVER_ECHO_DB):
            return Verdict(heard, False, Reason.ECHO, echo)     # the head never heard a residual
        if echo is not None and echo.coach_active and not self._user_over_coach(heard, echo):
            said = self._timeline.said_during(heard.t_start, heard.t_end, self._tail_s) \
                if self._timeline is not None else []
            why = Reason.COACH_SPEAKING if self._coach_says(heard, said) else Reason.ECHO
            return Verdict(heard, False, why, echo)
        if heard.command not in accepted:
            return Verdict(heard, False, Reason.NOT_NOW, echo)
        if heard.confidence < self._min_confidence:
            return Verdict(heard, False, Reason.LOW_CONFIDENCE, echo)
        return Verdict(heard, True, "", echo)

    def _user_over_coach(self, heard: Heard, echo: EchoJudgement) -> bool:
        """Whether a command heard while the coach was audible is the user's: some DUCK_MIN_S of
        it stood USER_PEAK_OVER_ECHO_DB above the expected echo, and either most of it stood
        clear of the echo or the coach was not saying that phrase right there.

        The loudest short stretch tells the user from the coach's residual better than the whole
        segment does: at room gains 0.5 and 1 (development voices) every command the users said
        over the coach peaked 13.7 dB or more above it, the residual decoded as a command at most
        10.7 dB; over the whole segment the two overlapped (residual "done" after "Lift, and hold"
        6.3-6.5 dB, a user's "stop" half covered by the coach's narration 1.8 dB)."""
        if echo.peak_excess_db < self._user_peak_db(heard):
            return False
        return not echo.explained or not self._coach_says_at(_words(heard.phrase), heard.t_start, heard.t_end)

    def _user_peak_db(self, heard: Heard) -> float:
        """How far some DUCK_MIN_S of a command over the coach must stand above its expected echo."""
        return DUCK_OVER_ECHO_DB if self._fell_silent_for(heard) else USER_PEAK_OVER_ECHO_DB

    def fell_silent(self, since: float) -> None:
        """The coach fell silent for the speech that began at `since` (the runner's barge-in, on
        `over_coach`'s evidence): a command in it needs only that evidence, DUCK_OVER_ECHO_DB.
        (A "stop" over narration at room gain 1 peaked 10.4 dB above the coach's residual: the
        coach covered its first half, and the rest was heard over the silence.)"""
        self._silent_for.append(since)

    def _fell_silent_for(self, heard: Heard) -> bool:
        longest = SegmenterConfig.max_segment_s           # the speech it fell silent for, at most
        return any(since - EARLY_ONSET_SLACK_S <= heard.t_start <= since + longest
                   for since in self._silent_for)

    def _from_later_start(self, heard: Heard, accepted: tuple[str, ...],
                          echo: EchoJudgement | None) -> Verdict | None:
        """A command in speech the coach fell silent for, whose start the coach's residual spoiled.

        At room gain 1 the coach is still audible for the first 0.12-0.27 s of a "stop" or "pause"
        said over it (the time it takes to be sure it is the user), and the residual, ~20 dB under
        the coach, is louder than the word's soft start: "pause" came out as "those" or "us", "stop"
        as "to". The segment is decoded again from TRIM_STEPS_S later starts, only where what is
        dropped is the echo's (explained by it, or within QUIET_ABOVE_FLOOR_DB of the floor), and
        a command found must pass every rule a command over the coach passes."""
        decode_from = getattr(self.recognizer, "decode_from", None)
        if (decode_from is None or echo is None or not echo.coach_active or heard.reason == "too long"
                or not self._fell_silent_for(heard)):
            return None
        o = self._offset_s - self._delay_s                      # session minus recognizer seconds
        for step_s in TRIM_STEPS_S:
            cut = heard.t_start + step_s
            if _the_user_speaks(self.evidence.judge(heard.t_start, cut)):
                return None                                     # the user was already speaking
            again = decode_from(heard.t_start - o, cut - o)
            if again is None:
                return None
            again = self._to_session(again)
            if not again.command:
                continue
            own = self.evidence.judge(again.t_start, again.t_end, DUCK_MIN_S)
            verdict = self._judge_command(replace(again, by="later start"), accepted, own)
            if verdict.accepted:
                return verdict
        return None

    def _phrase_inside(self, heard: Heard, accepted: tuple[str, ...],
                       echo: EchoJudgement | None) -> Verdict | None:
        """An accepted command's phrase inside a segment that also holds the coach's residual."""
        if echo is None or not echo.coach_active or not heard.words:
            return None
        words = [w.text for w in heard.words]
        best: tuple[int, int, str] | None = None            # (first word, n words, command)
        for command in accepted:
            for phrase in self._phrases.get(command, []):
                for i in _places(words, phrase):
                    if best is None or len(phrase) > best[1]:
                        best = (i, len(phrase), command)
        if best is None:
            return None
        i, n, command = best
        t0, t1 = heard.words[i].t_start, heard.words[i + n - 1].t_end
        found = replace(heard, command=command, phrase=" ".join(words[i:i + n]), t_start=t0,
                        t_end=t1, confidence=max(heard.confidence, self._min_confidence), reason="",
                        by="words")
        own = self.evidence.judge(t0, t1, DUCK_MIN_S)
        if own.coach_active:
            need_db = PHRASE_OVER_ECHO_DB * (2 if self._coach_says_at(words[i:i + n], t0, t1) else 1)
            if own.user_excess_db < need_db or own.peak_excess_db < self._user_peak_db(found):
                return None     # (the coach's "Lift, and hold" came back as "done" 9 dB over its echo)
        else:
            before = self.evidence.judge(min(heard.t_start, t0 - self._tail_s), t0)
            if own.mic_db - before.mic_peak_db < PAST_ECHO_OVER_DB:
                return None     # past the echo, but no louder than the residual before it: its tail
        for a, b in ((heard.t_start, t0), (t1, heard.t_end)):
            if b - a < SPAN_MIN_S:
                continue
            if _the_user_speaks(self.evidence.judge(a, b)):
                return None                                 # the user said more than the phrase
        return Verdict(found, True, "", own)

    def _coach_says_at(self, phrase: list[str], t0: float, t1: float) -> bool:
        """Whether the coach was saying `phrase` around [t0, t1]: where the phrase sits in a line
        is estimated from its place in the text (speech runs at a nearly even rate), widened by
        WORD_PLACE_S and the echo tail. "Rest over. Say ready for the next set." then says
        "ready" a second before its end, so a "ready" answered as it ends is not taken for it."""
        if self._timeline is None:
            return False
        n = len(phrase)
        for u in self._timeline.utterances:
            if u.tone or u.end <= u.start or not u.text:
                continue
            length_s = len(u.samples) / self._timeline.rate_hz
            if u.start_s > t1 or u.start_s + length_s + self._tail_s < t0:
                continue
            lower = u.text.lower()
            spans = [(m.start(), m.end()) for m in _WORD.finditer(lower)]
            for k in _places([lower[a:b] for a, b in spans], phrase):
                said0 = u.start_s + length_s * spans[k][0] / len(lower)
                said1 = u.start_s + length_s * spans[k + n - 1][1] / len(lower)
                if said0 - WORD_PLACE_S <= t1 and said1 + WORD_PLACE_S + self._tail_s >= t0 \
                        and said0 <= u.end_s:
                    return True
        return False

    def _coach_says(self, heard: Heard, lines: list[str]) -> bool:
        """Whether the coach's own words could be what was heard: the phrase (or any phrase of
        the same command) appears in a line it was saying."""
        candidates = [_words(heard.phrase), *self._phrases.get(heard.command, [])]
        for line in lines:
            words = _words(line)
            if any(_places(words, phrase) for phrase in candidates):
                return True
        return False
