"""The coach falls silent when talked over at most DUCKS_PER_LINE times for speech that came to
nothing, per time the session says a line, not per line text for the whole session.

The bad moment (bench_turns, room gain 0, a reserved voice): two asides over the first rest's
"Rest. You can say ready after 10 seconds..." used up that text's two cuts for good, and twenty
sets later a "stop" over the same line, said anew, no longer silenced the coach (it talked on
0.4 s past the word, and once the word was misheard, to the end of the line).

The runner's bookkeeping only: the session core, narrator, timeline and runner are real; the
speech engine renders a plain tone per line and the listener is scripted (it reports the user
talking over the coach where the test says, and the verdict "no command" when the talk ends).
"""

from __future__ import annotations

import io
import json
from concurrent.futures import Future
from dataclasses import replace
from datetime import datetime

import numpy as np
import pytest
from conftest import make_routine

from coach.asr.base import Heard
from coach.asr.listener import Reason, Verdict
from coach.audio.chunk import AudioChunk
from coach.audio.wav import WavMicrophone, write_wav
from coach.defaults import RATE_HZ
from coach.history.store import Store
from coach.routine.model import default_cues
from coach.runner.display import Display
from coach.runner.eventlog import EventLog
from coach.runner.loop import DUCKS_PER_LINE, SessionRunner
from coach.runner.source import TimeSource
from coach.session import Session
from coach.session.core import REPROMPT_AFTER_S, SORRY_GAP_S
from coach.session.plan import NO_PLAN
from coach.speech.narrator import Narrator
from coach.speech.speakers import SilentSpeaker
from coach.speech.timeline import SpeechTimeline
from coach.vocab import Feedback

TALK_S = 0.6            # each aside lasts this long
INTO_LINE_S = 0.5       # and begins this far into the line it talks over


class ToneSynth:
    """A line as a steady tone, 0.06 s per character (real samples, no engine)."""

    name = "tone"

    def submit(self, text: str) -> Future:
        n = int(0.06 * len(text) * RATE_HZ)
        future: Future = Future()
        future.set_result((3000 * np.sin(2 * np.pi * 220 * np.arange(n) / RATE_HZ)).astype(np.int16))
        return future

    def close(self) -> None:
        pass


class ScriptedTalk:
    """The user talks (something that is no command) over every playing of a rest line, once, and
    says "ready" whenever the session waits for it outside a rest and nobody is talking."""

    def __init__(self, timeline: SpeechTimeline, session: Session) -> None:
        self._timeline = timeline
        self._session = session
        self._talk: tuple[float, float] | None = None
        self._talked: set[int] = set()
        self._now = 0.0
        self.failure = None

    def feed(self, chunk: AudioChunk, accepted: tuple[str, ...]) -> list[Verdict]:
        self._now = chunk.t_end
        out = []
        if self._talk is not None and self._now >= self._talk[1] + 0.2:
            t0, t1 = self._talk
            self._talk = None
            out.append(Verdict(Heard("", "oh my back", t0, t1, 0.9), False, Reason.NO_COMMAND))
        for u in self._timeline.utterances:
            if u.text.startswith("Rest.") and id(u) not in self._talked and self._talk is None \
                    and u.start_s + INTO_LINE_S <= self._now < u.end_s:
                self._talked.add(id(u))
                self._talk = (self._now, self._now + TALK_S)
        if self._talk is None and "ready" in accepted and self._session.state != "resting" \
                and not self._timeline.speaking(self._now - 0.5, self._now, 0.0):
            out.append(Verdict(Heard("ready", "ready", self._now - 0.3, self._now, 0.99), True, ""))
        return out

    def flush(self, accepted: tuple[str, ...]) -> list[Verdict]:
        return []

    @property
    def hearing_since(self) -> float | None:
        return self._talk[0] if self._talk is not None else None

    @property
    def over_coach(self) -> tuple[float, float] | None:
        if self._talk is None or self._now < self._talk[0] + 0.1:
            return None
        return self._talk[0], 20.0

    def fell_silent(self, since: float) -> None:
        pass

    onset_lag_s = 0.0


def replay(tmp_path, voice, sorry: Feedback = Feedback.WORD, sets: int = 3,
           talk=ScriptedTalk) -> list[dict]:  # noqa: ANN001 - a ScriptedTalk class
    """Three sets; an aside over every rest line. The rest is long enough (8-9 s) for each aside's
    "Sorry?", the pause after it and the line said again, twice."""
    display = Display(io.StringIO(), io.StringIO())
    routine = make_routine(hold_s=2, sets=sets, rest=(8, 9), setup=False)
    voice = replace(voice, earcons=replace(voice.earcons, not_understood=sorry))
    session = Session(routine, voice, default_cues(), NO_PLAN)
    timeline = SpeechTimeline()
    narrator = Narrator(ToneSynth(), timeline, live=False, warn=display.warn)
    log = EventLog(tmp_path / "ev.jsonl")
    wav = tmp_path / "room.wav"
    write_wav(wav, np.zeros(90 * RATE_HZ, dtype=np.int16), RATE_HZ)
    source = TimeSource(WavMicrophone(wav), display, log, timeline)
    store = Store(tmp_path / "history.sqlite3")
    wall = datetime.now().astimezone()
    runner = SessionRunner(session, narrator, SilentSpeaker(), log, display, store,
                           store.start_session(routine.name, wall, "voice", voice.name), wall,
                           source=source, listener=talk(timeline, session))
    try:
        runner.run()
    finally:
        log.close()
    return [json.loads(line) for line in (tmp_path / "ev.jsonl").read_text().splitlines()]


def test_a_line_said_anew_can_be_cut_again_after_an_earlier_one_used_up_its_cuts(tmp_path, voice):
    events = replay(tmp_path, voice)
    of = {kind: [e for e in events if e["type"] == kind] for kind in ("say", "duck", "ignored")}
    rests = [e["t"] for e in of["say"] if e["line"] == "rest_start"]
    overs = [e["t"] for e in of["say"] if e["line"] == "rest_over"]
    first = [t for t in rests if t < overs[0]]              # the first rest line and its repeats
    second = [t for t in rests if overs[0] < t < overs[1]]  # the next set's, said anew
    ducks = [e["t"] for e in of["duck"]]
    # The first rest line: cut twice for the asides, said again each time (its count is used up).
    assert len(first) == DUCKS_PER_LINE + 1
    assert len([d for d in ducks if d < overs[0]]) == DUCKS_PER_LINE
    # The next rest line is new: talked over, the coach falls silent again.
    assert second and [d for d in ducks if overs[0] < d < overs[1]], (rests, ducks)


def test_an_aside_the_coach_fell_silent_for_gets_sorry_and_a_pause_before_the_line_again(tmp_path, voice):
    """The user talked over the rest line and it was no command: not the line again at once, as if
    nobody had spoken, but "Sorry?" and REPROMPT_AFTER_S to answer in (to say "pause" again, now
    over silence), then the line it cut. Another aside within SORRY_GAP_S is not asked about again."""
    events = replay(tmp_path, voice)
    said = [e for e in events if e["type"] == "say"]
    first, second = [e for e in events if e["type"] == "duck_end" and not e["acted"]][:2]
    assert [e["line"] for e in said if first["t"] <= e["t"] < second["t"]] == ["sorry", "rest_start"]
    assert [e["t"] for e in said if first["t"] <= e["t"] < second["t"]] == pytest.approx(
        [first["t"], first["t"] + REPROMPT_AFTER_S], abs=1e-3)
    assert second["t"] - first["t"] < SORRY_GAP_S
    assert [(e["line"], e["t"]) for e in said if second["t"] <= e["t"] < second["t"] + 1] == [
        ("rest_start", second["t"])]


def test_with_sorry_as_a_tone_the_cut_line_waits_for_the_tone_and_the_pause_too(tmp_path, voice):
    events = replay(tmp_path, voice, sorry=Feedback.TONE)
    first = next(e for e in events if e["type"] == "duck_end" and not e["acted"])
    assert [e["t"] for e in events if e["type"] == "tone" and e["line"] == "sorry"][:1] == [first["t"]]
    again = next(e for e in events
                 if e["type"] == "say" and e["line"] == "rest_start" and e["t"] >= first["t"])
    assert again["t"] == pytest.approx(first["t"] + REPROMPT_AFTER_S, abs=1e-3)


class SplitTalk(ScriptedTalk):
    """Each aside comes in two stretches with a 0.3 s pause inside the sentence ("oh my back is a
    bit | sore today"): the recognizer decides the first before the user has finished."""

    GAP_S = 0.3
    last: SplitTalk | None = None                           # the one the latest replay used

    def __init__(self, timeline: SpeechTimeline, session: Session) -> None:
        super().__init__(timeline, session)
        self._second: tuple[float, float] | None = None     # the rest of the sentence, to come
        self._in_second = False                             # the stretch talked now is the rest
        self.stretches: list[tuple[float, float]] = []     # decided, in order
        SplitTalk.last = self

    def feed(self, chunk: AudioChunk, accepted: tuple[str, ...]) -> list[Verdict]:
        was, was_second = self._talk, self._in_second
        out = super().feed(chunk, accepted)
        if was is not None and self._talk is None:          # a stretch was just decided
            self.stretches.append(was)
            self._in_second = False
            if not was_second:                              # the sentence goes on after a pause
                self._second = (was[1] + self.GAP_S, was[1] + self.GAP_S + TALK_S)
        if self._second is not None and self._now >= self._second[0] and self._talk is None:
            self._talk, self._second, self._in_second = self._second, None, True
        return out


def test_a_pause_inside_the_users_sentence_is_waited_out_before_sorry(tmp_path, voice):
    """The coach fell silent for an aside; its first stretch came to nothing while the user was
    only pausing. Not "Sorry?" into the rest of the sentence: one duck, ended after the second
    stretch, then "Sorry?" once and the line again."""
    SplitTalk.last = None
    events = replay(tmp_path, voice, sets=2, talk=SplitTalk)
    talk = SplitTalk.last
    assert talk is not None
    first, second = talk.stretches[:2]
    ducks = [e for e in events if e["type"] == "duck" and e["t"] < second[1] + 1.0]
    ends = [e for e in events if e["type"] == "duck_end" and e["t"] < second[1] + 1.0]
    assert len(ducks) == 1 and ducks[0]["t"] < first[1], ducks
    assert len(ends) == 1 and ends[0]["t"] >= second[1], (ends, second)
    said = [e["line"] for e in events if e["type"] == "say" and ducks[0]["t"] < e["t"] < ends[0]["t"] + 1.0]
    assert said == ["sorry", "rest_start"], said
