"""Every command in every state, from keys and from voice: never an exception, always an answer.

The session core dispatches a (state, command) pair through one table; a pair it leaves out gets
a polite answer. The only silent pairs are documented in `coach.session.core`: nothing at all
before Start or after the end, a stray yes/no outside a question, and `start` (heard only by
`coach serve` between sessions).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.session_driver import Driver

from coach.progress.memory import VoiceLine
from coach.routine.model import CueTiming, Exercise, RestRange, Routine, default_cues
from coach.session import HoldEnded, ResumeAnswered, Session, UnlockAnswered
from coach.session.core import ACCEPTED, ASK_TIMEOUT_S, DISPATCH
from coach.session.plan import NO_PLAN, ResumePoint, SessionPlan, UnlockOffer
from coach.vocab import CommandId, State


def _routine() -> Routine:
    return Routine(
        name="t", title="Test routine", summary="t", cues=CueTiming(), sessions_per_day_min=1,
        sessions_per_day_max=2, intro=(), outro=("Bye.",), source=Path("t.yaml"),
        exercises=(
            Exercise("position", "Get in position", "setup", ("Lie down.",)),
            Exercise("bridge", "Bridge", "hold", ("Lift your hips.",), hold_s=10, sets=2,
                     rest=RestRange(3, 6)),
            Exercise("band", "Band bridge", "hold", ("Band on.",), hold_s=10, sets=1, advanced=True),
        ))


UNLOCK = SessionPlan(offer=UnlockOffer("band", VoiceLine(
    "unlock_offer", {"exercise": "band bridge", "days": 3, "sessions": 3})))
RESUME = SessionPlan(resume=ResumePoint("bridge", set_no=2, sets_done=1, sets_total=2))


def _hold_started(d: Driver) -> None:
    d.start()
    d.narration_done()
    d.say("ready")              # the set-up step is done
    d.narration_done()
    d.say("ready")              # set 1: get set
    d.run_until(d.t + 6)
    assert d.s.state == "holding"


def _to(where: str, voice) -> Driver:
    """A fresh session brought to `where` (a state, or a state with how it got there)."""
    plan = {"asking_unlock": UNLOCK, "asking_resume": RESUME}.get(where, NO_PLAN)
    d = Driver(Session(_routine(), voice, default_cues(), plan))
    if where == "idle":
        return d
    if where in ("asking_unlock", "asking_resume"):
        d.start()
    elif where in ("unlock_timed_out", "resume_timed_out"):
        d = _to("asking_" + where.removesuffix("_timed_out"), voice)
        d.run_until(ASK_TIMEOUT_S + 1)
        assert d.s.state == "setup"
    elif where == "setup":
        d.start()
    elif where == "waiting_ready":
        d.start()
        d.narration_done()
    elif where in ("get_set", "paused_get_set"):
        d.start()
        d.narration_done()
        d.say("ready")
        d.narration_done()
        d.say("ready")
        d.run_until(d.t + 0.5)
        assert d.s.state == "get_set"
    elif where in ("holding", "paused_holding"):
        _hold_started(d)
        d.run_until(d.t + 2)
    elif where in ("resting", "resting_after_min", "paused_resting"):
        _hold_started(d)
        d.say("done")
        d.run_until(d.t + (4 if where == "resting_after_min" else 1))
        assert d.s.state == "resting"
    elif where == "finished":
        d.start()
        d.say("stop")
    if where.startswith("paused_"):
        d.say("pause")
        assert d.s.state == "paused"
    return d


PLACES = ["idle", "asking_unlock", "asking_resume", "unlock_timed_out", "resume_timed_out", "setup",
          "waiting_ready", "get_set", "holding", "resting", "resting_after_min", "paused_get_set",
          "paused_holding", "paused_resting", "finished"]


def _silent(state: str, command: CommandId) -> bool:
    """The documented silent no-ops."""
    if state in ("idle", "finished"):
        return True
    return state != "asking" and command in (CommandId.YES, CommandId.NO, CommandId.START)


@pytest.mark.parametrize("source", ["keys", "voice"])
@pytest.mark.parametrize("command", list(CommandId))
@pytest.mark.parametrize("where", PLACES)
def test_every_command_in_every_state_answers(voice, where, command, source):
    d = _to(where, voice)
    state = d.s.state
    out = d.say(command.value, source=source)
    if _silent(state, command):
        assert out == [] and d.s.state == state
    else:
        assert d.said(out), f"{command} in {where} said nothing"
    # and the session carries on without a fault: let time pass, say ready and done a few times
    for _ in range(3):
        d.narration_done()
        d.say("ready", source=source)
        d.run_until(d.t + 8)
        d.say("done", source=source)
    d.run_until(d.t + 40)


@pytest.mark.parametrize("asking", ["asking_unlock", "asking_resume"])
@pytest.mark.parametrize("key", ["skip", "next", "how_long", "pause", "resume", "done", "cant_hold",
                                 "ready", "start"])
def test_a_key_while_a_question_is_up_asks_for_yes_or_no(voice, asking, key):
    """`s`, `n` and `t` used to crash here (assert exercise is not None, KeyError('total_s'))."""
    d = _to(asking, voice)
    out = d.say(key)
    assert d.said(out) == ["Please say yes or no."]
    assert d.s.state == "asking" and not d.of(HoldEnded, out)
    assert d.s.timer(d.t) == ("asking", pytest.approx(d.t), 0.0)
    out = d.say("yes")                      # the question still stands, and is answered
    assert d.of(UnlockAnswered, out) or d.of(ResumeAnswered, out)


@pytest.mark.parametrize("answer", ["yes", "no"])
@pytest.mark.parametrize("source", ["keys", "voice"])
def test_unlock_yes_and_no_from_keys_and_voice(voice, answer, source):
    d = _to("asking_unlock", voice)
    out = d.say(answer, source=source)
    (unlock,) = d.of(UnlockAnswered, out)
    assert unlock.unlocked is (answer == "yes") and d.s.state == "setup"
    assert [e.id for e in d.s.exercises][-1:] == (["band"] if answer == "yes" else ["bridge"])


@pytest.mark.parametrize("answer", ["yes", "no"])
@pytest.mark.parametrize("source", ["keys", "voice"])
def test_resume_yes_and_no_from_keys_and_voice(voice, answer, source):
    d = _to("asking_resume", voice)
    out = d.say(answer, source=source)
    (resume,) = d.of(ResumeAnswered, out)
    assert resume.resume is (answer == "yes")
    if answer == "yes":
        assert d.s.state == "waiting_ready" and d.s.exercise.id == "bridge" and d.s.set_no == 2
    else:
        assert d.s.state == "setup" and d.s.exercise.id == "position"


@pytest.mark.parametrize("asking", ["asking_unlock", "asking_resume"])
def test_no_answer_times_out_and_carries_on(voice, asking):
    d = _to(asking, voice)
    out = d.run_until(ASK_TIMEOUT_S + 1)
    assert d.s.state == "setup" and d.s.exercise.id == "position"
    assert [r.resume for r in d.of(ResumeAnswered, out)] == ([False] if asking == "asking_resume" else [])
    assert not d.of(UnlockAnswered, out)        # no answer: asked again next time
    out = d.say("yes")                          # too late: a stray yes is ignored
    assert out == []


def test_every_accepted_command_has_a_handler():
    """What the recognizer listens for is never answered by the fallback."""
    for state, commands in ACCEPTED.items():
        for command in commands:
            looked_up = CommandId.SKIP if command is CommandId.NEXT else command
            assert (state, looked_up) in DISPATCH, (state, command)


def test_the_table_names_only_real_states_and_commands():
    assert {state for state, _ in DISPATCH} <= set(State) - {State.IDLE, State.FINISHED}
    assert all(isinstance(c, CommandId) and c is not CommandId.NEXT for _, c in DISPATCH)


def test_an_unknown_word_is_ignored(voice):
    d = _to("holding", voice)
    assert d.say("dance") == []
    assert d.s.state == "holding"
