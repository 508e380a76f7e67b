"""The listener's filters, with a scripted recognizer (the real ones are tested in test_asr_*)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from coach.asr.base import Heard, Word
from coach.asr.listener import CommandListener
from coach.asr.selfvoice import EchoEvidence
from coach.audio.chunk import AudioChunk
from coach.speech.timeline import SpeechTimeline


class ScriptedRecognizer:
    """Returns prepared results when its own clock passes their end; counts resets."""

    name = "scripted"
    model = "none"
    rate_hz = 16000

    def __init__(self, results: list[Heard], lag_s: float = 0.0) -> None:
        """`results` in session time; `lag_s`: how late the listener hands this recognizer its
        audio (the echo gate's look-back, with a timeline), so its own clock runs that far behind."""
        self._results = sorted((_shifted(h, lag_s) for h in results), key=lambda h: h.t_end)
        self._fed = 0
        self.resets = 0

    def feed(self, pcm: bytes) -> list[Heard]:
        self._fed += len(pcm) // 2
        now = self._fed / self.rate_hz
        due = [h for h in self._results if h.t_end <= now]
        self._results = [h for h in self._results if h.t_end > now]
        return due

    def flush(self) -> list[Heard]:
        out, self._results = self._results, []
        return out

    def reset(self) -> None:
        self.resets += 1


def _shifted(h: Heard, by_s: float) -> Heard:
    return replace(h, t_start=h.t_start + by_s, t_end=h.t_end + by_s,
                   words=tuple(Word(w.text, w.t_start + by_s, w.t_end + by_s) for w in h.words))


# With a timeline, the listener hands the recognizer its audio this late (the gate's look-back).
LAG_S = EchoEvidence().delay_samples / 16000


def gated(results: list[Heard]) -> ScriptedRecognizer:
    """A scripted recognizer behind a listener with a timeline (results in session time)."""
    return ScriptedRecognizer(results, lag_s=LAG_S)


def chunks(start_s: float, end_s: float, step_s: float = 0.05):
    n = int(round(step_s * 16000))
    t = start_s
    while t < end_s - 1e-9:
        yield AudioChunk(np.zeros(n, dtype="<i2").tobytes(), t)
        t = round(t + step_s, 6)


def run(listener, start_s, end_s, accepted=("ready", "done", "stop", "pause", "cant_hold")):
    out = []
    for c in chunks(start_s, end_s):
        out += listener.feed(c, accepted)
    return out


def heard(command, t0, t1, conf=0.9):
    return Heard(command, command, t0, t1, conf)


def test_only_accepted_and_confident_commands_pass():
    rec = ScriptedRecognizer([heard("ready", 1.0, 1.4), heard("resume", 2.0, 2.4),
                              heard("done", 3.0, 3.3, 0.2)])
    verdicts = run(CommandListener(rec), 0, 5)
    assert [(v.heard.command, v.accepted, v.reason) for v in verdicts] == [
        ("ready", True, ""), ("resume", False, "not now"), ("done", False, "low confidence")]


RATE = 16000


def tone(seconds: float, amplitude: float, freq_hz: float = 220.0, seed: int = 0) -> np.ndarray:
    """A voiced-sounding test signal: a few harmonics with a little noise."""
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    x = sum(np.sin(2 * np.pi * freq_hz * k * t + k) / k for k in range(1, 6)) + 0.1 * rng.normal(size=len(t))
    return (amplitude * x / np.max(np.abs(x))).astype(np.float64)


def mic_session(timeline: SpeechTimeline, end_s: float, echo_gain: float,
                user: list[tuple[float, np.ndarray]]):
    """Chunks of a microphone hearing the coach (scaled by `echo_gain`) plus the user's audio."""
    n = int(end_s * RATE)
    mic = echo_gain * timeline.render(0, n).astype(np.float64)
    mic += np.random.default_rng(1).normal(0, 3.0, n)                  # a quiet room's floor
    for at_s, audio in user:
        i = int(at_s * RATE)
        mic[i : i + len(audio)] += audio
    pcm = np.clip(mic, -32768, 32767).astype("<i2")
    step = 800
    for i in range(0, n, step):
        yield AudioChunk(pcm[i : i + step].tobytes(), i / RATE)


def judge_all(listener, chunks_, accepted=("ready", "done", "stop", "pause", "cant_hold")):
    out = []
    for c in chunks_:
        out += listener.feed(c, accepted)
    return [(v.heard.command, v.heard.t_start, v.accepted, v.reason) for v in out]


def coach_timeline() -> SpeechTimeline:
    tl = SpeechTimeline()
    tl.add("Welcome. Lie on your back.", tone(4.0, 8000).astype(np.int16), 0.0, "narration")  # leak learnt
    tl.add("When you're done, say done.", tone(2.0, 8000).astype(np.int16), 5.0, "narration")  # 5-7 s
    tl.add("Ten seconds to go.", tone(1.0, 8000).astype(np.int16), 9.0, "cue")                   # 9-10 s
    return tl


def test_the_coachs_own_words_coming_back_are_dropped():
    tl = coach_timeline()
    rec = gated([
        heard("done", 6.4, 6.8),                       # the coach's own "done", through the room
        Heard("done", "finished", 5.5, 5.9, 0.95),     # another phrase of a command the coach is saying
        heard("stop", 9.2, 9.5, 0.95),                 # echo of "ten seconds" misheard as stop
    ])
    listener = CommandListener(rec, tl, phrases={"done": ["done", "finished"]})
    assert judge_all(listener, mic_session(tl, 12.0, echo_gain=0.5, user=[])) == [
        ("done", 5.5, False, "coach speaking"), ("done", 6.4, False, "coach speaking"),
        ("stop", 9.2, False, "echo")]


def test_the_user_is_heard_over_the_coach_even_saying_the_same_word():
    tl = coach_timeline()
    rec = gated([
        heard("done", 6.4, 6.8, 0.7),                  # the user says "done" over "say done"
        heard("cant_hold", 9.3, 9.8, 0.7),             # the user gives up during a count
        heard("stop", 2.0, 2.3, 0.6),                  # barge-in at the normal threshold
    ])
    user = [(6.4, tone(0.4, 12000, 150.0, seed=2)), (9.3, tone(0.5, 12000, 130.0, seed=3)),
            (2.0, tone(0.3, 12000, 170.0, seed=4))]
    listener = CommandListener(rec, tl, phrases={"done": ["done", "finished"]})
    # uncancelled echo at 0.3: the user's voice is about 14 dB above it (users over the coach stood
    # 13.7 dB or more above its residual at their loudest, in bench_turns at room gains 0.5 and 1)
    assert judge_all(listener, mic_session(tl, 12.0, echo_gain=0.3, user=user)) == [
        ("stop", 2.0, True, ""), ("done", 6.4, True, ""), ("cant_hold", 9.3, True, "")]


def test_a_command_only_just_above_the_coachs_residual_is_not_taken_for_the_user():
    """The bad moment (bench_turns, room gain 1, flite rms): right after the hold's rising tone and
    "Lift, and hold for 30 seconds.", the coach's own residual decoded as "done", 6.5 dB above the
    expected echo over the segment and never 12 dB above it: the hold ended after 0.5 s, and the
    history would have said so. A stretch that stands 8-9 dB above the echo throughout, never
    12 dB, is not taken for the user."""
    tl = coach_timeline()
    rec = gated([heard("done", 6.4, 6.8, 0.7), heard("cant_hold", 9.3, 9.8, 0.7)])
    user = [(6.4, tone(0.4, 5500, 150.0, seed=2)), (9.3, tone(0.5, 5500, 130.0, seed=3))]
    listener = CommandListener(rec, tl, phrases={"done": ["done", "finished"]})
    verdicts = [v for c in mic_session(tl, 12.0, echo_gain=0.3, user=user)
                for v in listener.feed(c, ("done", "cant_hold"))]
    assert [(v.heard.command, v.accepted, v.reason) for v in verdicts] == [
        ("done", False, "coach speaking"), ("cant_hold", False, "echo")]
    assert all(8.0 < v.echo.user_excess_db and v.echo.peak_excess_db < 12.0 for v in verdicts), verdicts


def test_in_a_quiet_room_with_no_echo_every_command_over_the_coach_is_the_users():
    tl = coach_timeline()
    rec = gated([heard("done", 6.4, 6.8, 0.6), heard("cant_hold", 9.5, 9.9, 0.6)])
    user = [(6.4, tone(0.4, 3000, 150.0)), (9.5, tone(0.4, 3000, 130.0))]
    listener = CommandListener(rec, tl, phrases={"done": ["done"]})
    assert judge_all(listener, mic_session(tl, 12.0, echo_gain=0.0, user=user)) == [
        ("done", 6.4, True, ""), ("cant_hold", 9.5, True, "")]


def test_an_answer_as_the_prompt_ends_is_never_thrown_away():
    """The recognizer is not reset when the coach goes quiet: it may be mid-utterance."""
    tl = coach_timeline()
    rec = gated([heard("ready", 6.95, 7.4, 0.7), heard("ready", 10.0, 10.4, 0.7)])
    user = [(6.95, tone(0.45, 6000, 150.0)), (10.0, tone(0.4, 6000, 150.0))]
    listener = CommandListener(rec, tl, phrases={})
    verdicts = judge_all(listener, mic_session(tl, 12.0, echo_gain=0.5, user=user), accepted=("ready",))
    assert verdicts == [("ready", 6.95, True, ""), ("ready", 10.0, True, "")]
    assert rec.resets == 0


def test_speech_that_matched_no_command_is_reported_not_dropped_silently():
    tl = coach_timeline()
    rec = gated([Heard("", "water please", 7.5, 8.2, 0.0), Heard("", "", 6.2, 6.6, 0.0)])
    user = [(7.5, tone(0.7, 6000, 150.0))]
    listener = CommandListener(rec, tl)
    out = []
    for c in mic_session(tl, 12.0, echo_gain=0.5, user=user):
        out += listener.feed(c, ("ready",))
    assert [(v.heard.phrase, v.reason, v.unmatched) for v in out] == [
        ("", "echo", False), ("water please", "no command", True)]


def test_times_stay_in_session_time_across_a_gap_in_the_audio():
    rec = ScriptedRecognizer([heard("ready", 1.0, 1.3)])       # recognizer time: 1.0 s into its audio
    listener = CommandListener(rec)
    run(listener, 0.0, 0.5)
    verdicts = run(listener, 20.0, 22.0)                        # the microphone was away for 19.5 s
    assert [(v.heard.t_start, v.heard.t_end) for v in verdicts] == [(20.5, 20.8)]
    assert rec.resets == 1


def decoded(t0, t1, *words):
    """A segment that decoded to `words` (text, start, end): no single phrase, so no command."""
    from coach.asr.base import Word
    ws = tuple(Word(w, a, b) for w, a, b in words)
    return Heard("", " ".join(w.text for w in ws), t0, t1, 0.0, reason="not a phrase", words=ws)


def test_a_phrase_inside_a_segment_the_coachs_residual_ran_into_is_the_users():
    """Room gain 1: "it ready" over the coach's line, where "it" is the coach's residual and
    "ready" is the user, loud above it. The hold is timed from the phrase, not the segment."""
    tl = coach_timeline()
    rec = gated([decoded(5.2, 6.3, ("it", 5.2, 5.6), ("ready", 5.8, 6.25))])
    user = [(5.8, tone(0.45, 8000, 150.0, seed=2))]
    listener = CommandListener(rec, tl, phrases={"ready": ["ready"]})
    assert judge_all(listener, mic_session(tl, 8.0, echo_gain=0.15, user=user)) == [
        ("ready", 5.8, True, "")]
    assert listener.evidence.judge(5.8, 6.25).user_excess_db > 6     # the phrase's own span is the user


def test_a_sentence_with_a_command_word_over_the_coach_is_not_a_command():
    """"not ready": the user's "not" is as loud as the "ready": a sentence, not the phrase."""
    tl = coach_timeline()
    rec = gated([decoded(5.2, 6.3, ("not", 5.2, 5.6), ("ready", 5.8, 6.25))])
    user = [(5.2, tone(0.4, 8000, 140.0, seed=5)), (5.8, tone(0.45, 8000, 150.0, seed=2))]
    listener = CommandListener(rec, tl, phrases={"ready": ["ready"]})
    assert judge_all(listener, mic_session(tl, 8.0, echo_gain=0.15, user=user)) == [
        ("", 5.2, False, "no command")]


def test_the_coachs_own_residual_decoded_as_phrase_and_filler_is_not_the_user():
    tl = coach_timeline()
    rec = gated([decoded(5.2, 6.3, ("it", 5.2, 5.6), ("ready", 5.8, 6.25))])
    listener = CommandListener(rec, tl, phrases={"ready": ["ready"]})
    verdicts = judge_all(listener, mic_session(tl, 8.0, echo_gain=0.15, user=[]))
    assert [(c, ok) for c, _, ok, _ in verdicts] == [("", False)]


def test_no_phrase_is_looked_for_inside_a_segment_when_the_coach_is_quiet():
    """In a quiet moment "it ready" stays what it is (the recognizer's rule: exactly one phrase)."""
    tl = coach_timeline()
    rec = gated([decoded(12.2, 13.3, ("it", 12.2, 12.6), ("ready", 12.8, 13.25))])
    user = [(12.8, tone(0.45, 8000, 150.0, seed=2))]
    listener = CommandListener(rec, tl, phrases={"ready": ["ready"]})
    verdicts = judge_all(listener, mic_session(tl, 15.0, echo_gain=0.15, user=user))
    assert [(c, ok) for c, _, ok, _ in verdicts] == [("", False)]


def test_a_phrase_past_the_coachs_echo_no_louder_than_its_residual_is_not_the_user():
    """The segment began in the coach's residual and runs on past the point where the expected
    echo died away, into something the decoder took for a word (seen: a self-triggered "done" at
    room gain 1, a room ringing on longer than the echo model assumes). It is no louder than the
    residual earlier in the segment: no evidence that it is the user."""
    tl = coach_timeline()
    rec = gated([decoded(9.8, 10.9, ("it", 9.8, 10.1), ("done", 10.6, 10.85))])
    ring = [(10.6, tone(0.25, 0.5 * 0.15 * 8000, seed=3))]      # 6 dB under the coach's echo
    listener = CommandListener(rec, tl, phrases={"done": ["done"]})
    verdicts = judge_all(listener, mic_session(tl, 12.0, echo_gain=0.15, user=ring))
    assert [(c, ok) for c, _, ok, _ in verdicts] == [("", False)]
    assert not listener.evidence.judge(10.6, 10.85).coach_active


def test_an_answer_right_as_a_prompt_ends_run_into_its_residual_is_the_users():
    """Room gain 1: "ready" said 0.1-0.3 s after the prompt ends makes one segment with the
    prompt's residual ("... set." + "ready"), so the decoder's one-phrase rule rejects it, and the
    word lies past the point where the coach is audible. It stands far above anything the coach's
    echo was in that segment: it is the user (bench_turns (b) lost 4 of 8 of these at gain 1)."""
    tl = coach_timeline()
    rec = gated([decoded(9.6, 11.25, ("it", 9.6, 9.9), ("ready", 10.8, 11.2))])
    user = [(10.8, tone(0.4, 8000, 150.0, seed=2))]
    listener = CommandListener(rec, tl, phrases={"ready": ["ready"]})
    assert judge_all(listener, mic_session(tl, 12.0, echo_gain=0.15, user=user)) == [
        ("ready", 10.8, True, "")]
    assert not listener.evidence.judge(10.8, 11.2).coach_active


def test_the_listener_says_when_the_recognizer_is_still_hearing_speech():
    """Session time of the speech in progress (the hold waits for its verdict), offset kept."""
    class Hearing(ScriptedRecognizer):
        hearing_since_s: float | None = 1.25
    rec = Hearing([])
    listener = CommandListener(rec)
    run(listener, 0.0, 0.5)
    run(listener, 20.0, 20.5)
    assert listener.hearing_since == pytest.approx(20.75)
    rec.hearing_since_s = None
    assert listener.hearing_since is None


def test_a_burst_of_the_coachs_residual_never_asks_sorry():
    """Unmatched speech over the coach draws "Sorry?" only when it is clearly the user."""
    from coach.asr.listener import Reason, Verdict
    from coach.asr.selfvoice import EchoJudgement
    blip = Heard("", "", 61.71, 61.85, 0.65, reason="not a phrase")
    assert not Verdict(blip, False, Reason.NO_COMMAND, EchoJudgement(True, 6.3, False)).unmatched
    assert Verdict(blip, False, Reason.NO_COMMAND, EchoJudgement(True, 28.6, False)).unmatched
    assert Verdict(blip, False, Reason.NO_COMMAND, None).unmatched            # the coach was quiet
    assert not Verdict(replace(blip, reason="too long"), False, Reason.NO_COMMAND, None).unmatched


def test_where_in_a_line_the_coach_says_a_word_is_estimated_from_the_text():
    """"Rest over. Say ready for the next set." (3 s): "ready" is said around 1.0-1.4 s, so a
    "ready" answered as the line ends (3.1 s) is not the coach saying it; one over 1.2 s is."""
    tl = SpeechTimeline()
    tl.add("Rest over. Say ready for the next set.", tone(3.0, 8000).astype(np.int16), 0.0, "narration")
    listener = CommandListener(ScriptedRecognizer([]), tl, phrases={"ready": ["ready"]})
    assert listener._coach_says_at(["ready"], 1.1, 1.5)
    assert not listener._coach_says_at(["ready"], 3.1, 3.5)
    assert not listener._coach_says_at(["done"], 1.1, 1.5)


def test_a_command_in_speech_the_coach_fell_silent_for_needs_only_the_evidence_that_silenced_it():
    """A "stop" over narration at room gain 1 (tests/test_duck.py): the coach covered its first
    half and fell silent for it; at its loudest it stood 10.4 dB above the residual, under the 12 dB
    asked of a command the coach talked on over, and over the 10 dB that made the coach fall silent."""
    def verdicts(fell_silent_at: float | None):
        tl = coach_timeline()
        rec = gated([heard("cant_hold", 9.3, 9.8, 0.7)])
        listener = CommandListener(rec, tl, phrases={})
        if fell_silent_at is not None:
            listener.fell_silent(fell_silent_at)
        user = [(9.3, tone(0.5, 7000, 130.0, seed=3))]
        return [v for c in mic_session(tl, 12.0, echo_gain=0.3, user=user)
                for v in listener.feed(c, ("cant_hold",))]
    (talked_on,) = verdicts(None)
    assert 10.0 <= talked_on.echo.peak_excess_db < 12.0
    assert (talked_on.accepted, talked_on.reason) == (False, "echo")
    (fell_silent,) = verdicts(9.25)
    assert fell_silent.accepted
    (other_speech,) = verdicts(5.0)               # the coach fell silent for something said earlier
    assert not other_speech.accepted


class TrimmingRecognizer(ScriptedRecognizer):
    """A scripted recognizer that also decodes a segment again from a later start: `again` maps
    the cut (session seconds, to 0.01 s) to what it then hears; records every cut asked for."""

    def __init__(self, results: list[Heard], again: dict[float, Heard]) -> None:
        super().__init__(results, lag_s=LAG_S)
        self._again = {round(cut, 2): _shifted(h, LAG_S) for cut, h in again.items()}
        self.cuts: list[float] = []

    def decode_from(self, t_start_s: float, cut_s: float) -> Heard | None:
        cut = round(cut_s - LAG_S, 2)
        self.cuts.append(cut)
        return self._again.get(cut, Heard("", "those", cut_s, cut_s + 0.4, 0.5, reason="not a command"))


def later_start(fell_silent_at: float | None, user: list[tuple[float, np.ndarray]],
                again: Heard | None = None):
    """Room gain 1 over "When you're done, say done." (5-7 s): a segment from 5.6 s decodes as
    "those"; from 5.75 s on, as `again` (default: the user's "pause")."""
    tl = coach_timeline()
    again = again or Heard("pause", "pause", 5.75, 6.2, 0.8)
    rec = TrimmingRecognizer([Heard("", "those", 5.6, 6.2, 0.5, reason="not a command")], {5.75: again})
    listener = CommandListener(rec, tl, phrases={"pause": ["pause"], "stop": ["stop"]})
    if fell_silent_at is not None:
        listener.fell_silent(fell_silent_at)
    return judge_all(listener, mic_session(tl, 8.0, echo_gain=0.15, user=user)), rec.cuts


PAUSE_AT_S = 5.75
PAUSE = [(PAUSE_AT_S, tone(0.45, 8000, 150.0, seed=2))]


def test_a_command_whose_start_the_coachs_residual_spoiled_is_decoded_from_a_later_start():
    """Room gain 1 (bench_turns): the coach is still audible for the first 0.12-0.27 s of a
    "pause" said over its narration and its residual turns the word into "those". The coach fell
    silent for it; decoded again from a later start (dropping only what the echo explains), it is
    the user's "pause", timed from where it was found."""
    verdicts, cuts = later_start(fell_silent_at=5.7, user=PAUSE)
    assert verdicts == [("pause", 5.75, True, "")]
    assert cuts == [5.65, 5.7, 5.75]                  # 0.05 s steps until a command is found


def test_no_later_start_is_tried_unless_the_coach_fell_silent_for_the_speech():
    verdicts, cuts = later_start(fell_silent_at=None, user=PAUSE)
    assert verdicts == [("", 5.6, False, "no command")] and cuts == []


def test_a_later_start_never_drops_what_the_user_said():
    """"oh pause": the user was speaking from the segment's start (as loud as the "pause"), so the
    segment is not cut: what would be dropped is the user's, not the coach's residual."""
    user = [(5.6, tone(0.15, 8000, 140.0, seed=5)), *PAUSE]
    verdicts, cuts = later_start(fell_silent_at=5.7, user=user)
    assert verdicts == [("", 5.6, False, "no command")] and cuts == []


def test_a_command_found_from_a_later_start_must_still_be_the_users():
    """The coach's residual alone, cut and decoded again as "stop": no louder than the echo
    explains, so it is the coach's own voice, whatever made the coach fall silent."""
    verdicts, cuts = later_start(fell_silent_at=5.7, user=[], again=Heard("stop", "stop", 5.75, 6.2, 0.9))
    assert [(c, ok) for c, _, ok, _ in verdicts] == [("", False)]
    assert cuts == [5.65, 5.7, 5.75, 5.8]
