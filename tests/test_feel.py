"""How did that feel? After the last set the coach asks once: easy, okay or hard, then any pain.

And every question's timeout counts from the end of its speech (`SpeechEnded`), and is said aloud.
Pure core, fake clock."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import make_routine
from helpers.session_driver import Driver

from coach.progress.memory import VoiceLine
from coach.routine.model import default_cues
from coach.session import EffortAnswered, PainAnswered, Session, SessionEnded, SpeechEnded
from coach.session.core import ASK_TIMEOUT_S
from coach.session.plan import ExercisePlan, SessionPlan, UnlockOffer
from coach.vocab import CommandId


def _session(voice, ask_effort: bool = True, plan: SessionPlan | None = None) -> Driver:
    routine = replace(make_routine(hold_s=3, sets=1, setup=False), ask_effort=ask_effort)
    return Driver(Session(routine, voice, default_cues(), plan or SessionPlan()))


def _last_set_done(d: Driver) -> list:
    d.start()
    d.narration_done()
    d.say("ready")
    return d.run_until(d.t + 10)          # the count, the 3 s hold, the grace: every set is done


def test_after_the_last_set_it_asks_how_it_felt_then_about_pain(voice):
    d = _session(voice)
    out = _last_set_done(d)
    assert d.said(out)[-2:] == ["That's 1 set. Good work.", "How did that feel: easy, okay or hard?"]
    assert d.s.state == "asking" and not d.of(SessionEnded, out)
    assert set(d.s.accepted()) >= {CommandId.EASY, CommandId.OKAY, CommandId.HARD}
    assert CommandId.YES not in d.s.accepted()
    out = d.say("hard", source="voice")
    assert d.of(EffortAnswered, out) == [EffortAnswered("hard", d.t)]
    assert d.said(out) == ["Any pain? Say yes or no."]
    assert CommandId.YES in d.s.accepted() and CommandId.HARD not in d.s.accepted()
    out = d.say("no")
    assert d.of(PainAnswered, out) == [PainAnswered(False, d.t)]
    assert d.said(out) == ["Good.", "Bye."]                 # then the routine's outro
    (end,) = d.of(SessionEnded, out)
    assert not end.stopped and d.s.state == "finished"


def test_pain_yes_gets_its_own_answer(voice):
    d = _session(voice)
    _last_set_done(d)
    d.say("easy")
    out = d.say("yes")
    assert d.of(PainAnswered, out)[0].pain is True
    assert "physio" in d.said(out)[0]


@pytest.mark.parametrize("word", ["yes", "no", "skip", "done"])
def test_a_word_that_is_no_rating_asks_for_one_and_the_question_stands(voice, word):
    d = _session(voice)
    _last_set_done(d)
    out = d.say(word)
    assert d.said(out) == ["Please say easy, okay or hard."]
    assert not d.of(EffortAnswered, out) and d.s.state == "asking"
    assert d.of(EffortAnswered, d.say("okay"))


def test_a_rating_at_a_yes_or_no_question_asks_for_yes_or_no(voice):
    d = _session(voice)
    _last_set_done(d)
    d.say("okay")
    out = d.say("hard")
    assert d.said(out) == ["Please say yes or no."] and not d.of(PainAnswered, out)


def test_repeat_and_help_at_the_question(voice):
    d = _session(voice)
    _last_set_done(d)
    assert d.said(d.say("repeat")) == ["How did that feel: easy, okay or hard?"]
    assert d.said(d.say("help")) == ["You can say: easy, okay, hard, repeat, stop."]


def test_no_answer_is_said_aloud_and_the_session_ends_normally(voice):
    d = _session(voice)
    _last_set_done(d)
    out = d.run_until(d.t + ASK_TIMEOUT_S + 1)
    assert d.said(out) == ["No answer. That's fine, we'll leave it for today.", "Bye."]
    assert not d.of(EffortAnswered, out) and not d.of(PainAnswered, out)
    (end,) = d.of(SessionEnded, out)
    assert not end.stopped


def test_stop_at_the_question_ends_a_finished_session_as_finished(voice):
    d = _session(voice)
    _last_set_done(d)
    out = d.say("stop")
    (end,) = d.of(SessionEnded, out)
    assert not end.stopped and not d.of(EffortAnswered, out)


def test_a_routine_can_turn_it_off(voice):
    d = _session(voice, ask_effort=False)
    out = _last_set_done(d)
    assert "How did that feel: easy, okay or hard?" not in d.said(out)
    assert d.of(SessionEnded, out)


def test_a_session_with_no_set_done_is_not_asked(voice):
    d = _session(voice)
    d.start()
    d.narration_done()
    out = d.say("skip")
    assert d.of(SessionEnded, out) and "How did that feel: easy, okay or hard?" not in d.said(out)


def test_a_rating_key_outside_a_question_says_there_is_none(voice):
    d = _session(voice)
    d.start()
    assert d.said(d.say("easy")) == ["There's no question to answer right now."]


# -- every question's timeout counts from the end of its speech --------------------------------------
UNLOCK = SessionPlan(offer=UnlockOffer("bridge", VoiceLine(
    "unlock_offer", {"exercise": "band bridge", "days": 3, "sessions": 3})))


def test_the_unlock_question_times_out_30_s_after_it_was_said_not_after_it_was_queued(voice):
    d = _session(voice, plan=UNLOCK)
    out = d.start()
    (question,) = [a for a in out if getattr(a, "line", "") == "unlock_offer"]
    d.run_until(2.0)
    d.send(SpeechEnded(2.0, "Let's do test routine."))        # the runner tells of every line's end
    d.run_until(ASK_TIMEOUT_S + 1)
    assert d.s.state == "asking"                              # the question is still being said
    d.send(SpeechEnded(ASK_TIMEOUT_S + 1, question.text))     # said at last (a long queue before it)
    out = d.run_until(2 * ASK_TIMEOUT_S + 0.9)
    assert d.s.state == "asking" and not d.said(out)
    out = d.run_until(2 * ASK_TIMEOUT_S + 1.1)
    assert d.said(out)[0] == "No answer, so we'll keep to the usual routine. I'll ask again next time."
    assert d.s.state != "asking"


def test_a_question_said_again_counts_from_its_new_end(voice):
    d = _session(voice)
    _last_set_done(d)
    question = "How did that feel: easy, okay or hard?"
    d.send(SpeechEnded(d.t + 0.05, question))
    t_end = d.t + 0.05
    d.run_until(t_end + 20)
    d.say("repeat")
    d.send(SpeechEnded(d.t + 3, question))
    d.run_until(t_end + ASK_TIMEOUT_S + 5)
    assert d.s.state == "asking"                               # 30 s from the repeat's end, not the first
    d.run_until(t_end + 23 + ASK_TIMEOUT_S + 0.1)
    assert d.s.state == "finished"


def test_the_resume_question_timing_out_is_said_and_starts_afresh(voice):
    from coach.session import ResumeAnswered
    from coach.session.plan import ResumePoint

    d = _session(voice, plan=SessionPlan(resume=ResumePoint("bridge", 1, 0, 1)))
    d.start()
    out = d.run_until(ASK_TIMEOUT_S + 1)
    assert d.said(out)[0] == "No answer, so we'll start afresh."
    assert [r.resume for r in d.of(ResumeAnswered, out)] == [False]


# -- repeat: the current step's instructions, not "Last time ..." ------------------------------------
def test_repeat_says_the_step_instructions_without_last_time(voice):
    plan = SessionPlan(exercises={"bridge": ExercisePlan(opening=(
        VoiceLine("streak", {"days": 3}),))})
    d = _session(voice, plan=plan)
    out = d.start()
    assert "Day 3 in a row." in d.said(out)
    assert d.said(d.say("repeat")) == ["Bridge.", "Lift your hips."]


# -- printed in step with the audio: a line the engine never rendered is still printed ---------------
def test_lines_waiting_on_a_hung_engine_are_printed_when_it_is_given_up() -> None:
    import time
    from concurrent.futures import Future

    from coach.session import Say
    from coach.speech.narrator import Narrator
    from coach.speech.timeline import SpeechTimeline

    class HungSynth:
        def submit(self, text: str) -> Future:
            return Future()                 # never done

    warned: list[str] = []
    timeline = SpeechTimeline()
    narrator = Narrator(HungSynth(), timeline, live=True, warn=warned.append, timeout_s=0.01)  # type: ignore[arg-type]
    narrator.say(Say("Lie on your back.", 0.0))
    narrator.say(Say("5", 0.0, kind="cue"))
    time.sleep(0.05)
    narrator.poll(0.1)
    assert warned and "only printed" in warned[0]
    assert [u.text for u in timeline.utterances] == ["Lie on your back."]     # printed; the late cue is not


@pytest.mark.parametrize("source", ["keys", "voice"])
@pytest.mark.parametrize("command", list(CommandId))
@pytest.mark.parametrize("question", ["effort", "pain"])
def test_every_command_at_the_feel_questions_answers_and_the_session_ends(voice, question, command, source):
    d = _session(voice)
    _last_set_done(d)
    if question == "pain":
        d.say("okay")
    out = d.say(command.value, source=source)
    if command is not CommandId.START:             # `start` is only heard by `coach serve`, between sessions
        assert d.said(out), f"{command} at the {question} question said nothing"
    d.run_until(d.t + 2 * ASK_TIMEOUT_S + 5)
    assert d.s.state == "finished"
    (end,) = d.of(SessionEnded)
    assert not end.stopped
