"""The listener's filters, with a scripted recognizer (the real ones are tested in test_asr_*)."""

from __future__ import annotations

import numpy as np

from coach.asr.base import Heard
from coach.asr.listener import CommandListener
from coach.audio.chunk import AudioChunk
from coach.speech.timeline import SpeechTimeline


class ScriptedRecognizer:
    """Returns prepared results when its own clock passes their end; counts resets."""

    name = "scripted"
    model = "none"
    rate_hz = 16000

    def __init__(self, results: list[Heard]) -> None:
        self._results = sorted(results, key=lambda h: h.t_end)
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


def test_what_the_coach_is_saying_is_not_heard_but_the_user_can_talk_over_it():
    tl = SpeechTimeline()
    tl.add("When you're done, say done.", np.ones(32000, dtype=np.int16), 1.0, "narration")   # 1.0-3.0 s
    tl.add("Ten seconds to go.", np.ones(16000, dtype=np.int16), 6.0, "cue")                 # 6.0-7.0 s
    rec = ScriptedRecognizer([
        heard("done", 2.4, 2.7),                      # the coach's own "done" (echo)
        Heard("done", "finished", 1.5, 1.9, 0.95),    # another phrase of a command the coach is saying
        heard("stop", 2.0, 2.3, 0.95),                # barge-in: the coach is not saying "stop"
        heard("done", 3.2, 3.5),                      # still within the echo tail
        heard("done", 4.0, 4.3),                      # after the tail: the user's own
        heard("cant_hold", 6.2, 6.9, 0.9),            # the user over a count: accepted
        heard("cant_hold", 6.5, 6.9, 0.6)])           # ... but not when unsure
    verdicts = run(CommandListener(rec, tl, phrases={"done": ["done", "finished"]}, echo_tail_s=0.35), 0, 8)
    assert [(v.heard.command, v.heard.t_start, v.accepted, v.reason) for v in verdicts] == [
        ("done", 1.5, False, "coach speaking"), ("stop", 2.0, True, ""),
        ("done", 2.4, False, "coach speaking"), ("done", 3.2, False, "coach speaking"),
        ("done", 4.0, True, ""), ("cant_hold", 6.2, True, ""),
        ("cant_hold", 6.5, False, "low confidence while coach speaking")]
    assert rec.resets == 2


def test_times_stay_in_session_time_across_a_gap_in_the_audio():
    rec = ScriptedRecognizer([heard("ready", 1.0, 1.3)])       # recognizer time: 1.0 s into its audio
    listener = CommandListener(rec)
    run(listener, 0.0, 0.5)
    verdicts = run(listener, 20.0, 22.0)                        # the microphone was away for 19.5 s
    assert [(v.heard.t_start, v.heard.t_end) for v in verdicts] == [(20.5, 20.8)]
    assert rec.resets == 1
