"""The pure core, driven with a fake clock through every state and command."""

from __future__ import annotations

import pytest
from conftest import make_routine
from helpers.session_driver import Driver

from coach.routine.model import CueTiming, default_cues
from coach.session import (
    HoldEnded,
    HoldStarted,
    Hush,
    Misheard,
    RestEnded,
    RestStarted,
    Say,
    Session,
    SessionEnded,
    StateChanged,
)
from coach.session.core import HOLD_GRACE_S as G


def session(voice, **kw) -> Driver:
    return Driver(Session(make_routine(**kw), voice, default_cues()))


def to_first_hold(d: Driver) -> float:
    """Start, read the set-up, say ready twice, run the get-set count; returns the hold start time."""
    d.start()
    d.narration_done()
    d.say("ready")                      # set-up exercise done
    d.narration_done()
    d.say("ready")                      # start set 1
    out = d.run_until(d.t + 6)
    (start,) = d.of(HoldStarted, out)
    return start.t


def test_start_narrates_then_waits_for_ready(voice):
    d = session(voice)
    out = d.start()
    assert d.said(out)[:2] == ["Let's do test routine.", "Get in position."]
    assert "Lie down." in d.said(out)
    assert d.s.state == "setup"
    assert "ready" in d.s.accepted() and "done" not in d.s.accepted()
    out = d.narration_done()
    assert d.s.state == "waiting_ready"
    assert d.said(out) == ["Say ready when you're in position."]


def test_ready_during_setup_hushes_narration(voice):
    d = session(voice)
    d.start()
    d.run_until(1.0)
    out = d.say("ready")
    assert d.of(Hush, out) and d.s.exercise.id == "bridge"


def test_get_set_count_then_hold_starts_on_time(voice):
    d = session(voice)
    d.start()
    d.narration_done()
    d.say("ready")
    d.narration_done()
    t_ready = d.t
    out = d.say("ready")
    assert d.s.state == "get_set"
    out += d.run_until(6)
    texts = d.said(out)
    assert texts[:4] == ["Set 1 of 2.", "3", "2", "1"]
    (hold,) = d.of(HoldStarted, out)
    assert hold.t == pytest.approx(t_ready + 1.5 + 3)
    assert hold.target_s == 10 and hold.set == 1


def test_hold_to_target_records_target_and_cues_fall_on_schedule(voice):
    d = session(voice, hold_s=60, sets=1)
    t0 = to_first_hold(d)
    out = d.run_until(t0 + 61)
    cues = [(round(a.t - t0, 3), a.text) for a in d.of(Say, out) if a.kind == "cue"]
    assert cues == [(10.0, "10 seconds in."), (20.0, "20 seconds in."), (30.0, "Halfway there."),
                    (40.0, "40 seconds in."), (50.0, "Nearly there, 10 seconds to go."), (55.0, "5"),
                    (56.0, "4"), (57.0, "3"), (58.0, "2"), (59.0, "1"),
                    (60.0, "Well held. Lower down slowly.")]
    (end,) = d.of(HoldEnded, out)
    assert (end.held_s, end.ended_by, end.t) == (60.0, "target", pytest.approx(t0 + 60))


def test_cues_do_not_drift_with_coarse_ticks(voice):
    """Ticks every 0.7 s: each cue is still stamped with its own due time."""
    d = session(voice, hold_s=20, sets=1)
    t0 = to_first_hold(d)
    out = d.run_until(t0 + 21, step=0.7)
    times = [round(a.t - t0, 6) for a in d.of(Say, out) if a.kind == "cue"]
    assert times == [10.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0]


@pytest.mark.parametrize("command", ["done", "cant_hold"])
def test_done_and_cant_hold_record_time_to_the_start_of_the_utterance(voice, command):
    d = session(voice, hold_s=60)
    t0 = to_first_hold(d)
    d.run_until(t0 + 42.5)
    out = d.say(command, t_start=t0 + 41.8)        # recognition finished 0.7 s after the word began
    (end,) = d.of(HoldEnded, out)
    assert end.held_s == pytest.approx(41.8) and end.ended_by == command
    assert "Down. You held 42 seconds." in d.said(out)
    assert "Noted." in d.said(out)                  # short-hold encouragement from the routine
    assert d.s.state == "resting"


def test_pause_freezes_hold_clock_and_resume_continues(voice):
    d = session(voice, hold_s=30, sets=1)
    t0 = to_first_hold(d)
    d.run_until(t0 + 5)
    d.say("pause")
    assert d.s.state == "paused"
    assert d.run_until(t0 + 100) == []          # nothing happens while paused
    d.say("how_long")
    assert d.said()[-1] == "5 seconds in, 25 seconds to go."
    d.say("resume")
    assert d.s.state == "holding"
    out = d.run_until(d.t + 25.5 + G)              # recorded after the grace, as of the target
    (end,) = d.of(HoldEnded, out)
    assert end.held_s == 30 and end.t == pytest.approx(t0 + 100 + 25)


def test_done_while_paused_records_time_held_before_pause(voice):
    d = session(voice, hold_s=30)
    t0 = to_first_hold(d)
    d.run_until(t0 + 7)
    d.say("pause")
    d.run_until(t0 + 20)
    out = d.say("done")
    (end,) = d.of(HoldEnded, out)
    assert end.held_s == pytest.approx(7.0)


def test_rest_counts_down_accepts_ready_after_minimum_and_prompts_at_maximum(voice):
    d = session(voice, hold_s=10, sets=3, rest=(30, 60))
    t0 = to_first_hold(d)
    out = d.run_until(t0 + 10.01 + G)               # the rest starts after the hold's grace
    (rest,) = d.of(RestStarted, out)
    assert (rest.rest_s, rest.min_s) == (60, 30)
    t0 += G
    d.run_until(t0 + 20)
    out = d.say("ready")                              # 10 s into the rest: too early
    assert d.said(out) == ["Rest a little longer, another 20 seconds."] and d.s.state == "resting"
    out = d.run_until(t0 + 71)
    cues = [(round(a.t - t0 - 10, 3), a.text) for a in d.of(Say, out)]
    assert cues == [(20.0, "40 seconds of rest left."), (30.0, "Say ready whenever you want the next set."),
                    (40.0, "20 seconds of rest left."), (50.0, "10 seconds of rest left."),
                    (60.0, "Rest over. Say ready for the next set.")]
    assert d.of(RestEnded, out) and d.s.state == "waiting_ready"
    d.say("ready")
    assert d.s.state == "get_set" and d.s.set_no == 2


def test_ready_after_minimum_rest_starts_next_set(voice):
    d = session(voice, hold_s=10, sets=2, rest=(3, 6))
    t0 = to_first_hold(d)
    d.run_until(t0 + 14)
    out = d.say("ready")
    assert d.of(RestEnded, out) and d.s.state == "get_set"
    assert d.said(out)[0] == "Set 2 of 2."


def test_pause_during_rest_and_skip_rest(voice):
    d = session(voice, hold_s=10, sets=2, rest=(30, 60))
    t0 = to_first_hold(d)
    d.run_until(t0 + G + 15)
    d.say("pause")
    d.run_until(t0 + 200)
    assert d.s.state == "paused"
    d.say("how_long")
    assert d.said()[-1] == "55 seconds of rest left."
    out = d.say("skip")
    assert "Rest skipped." in d.said(out) and d.s.state == "get_set"


def test_whole_five_set_session(voice):
    d = session(voice, hold_s=60, sets=5, rest=(30, 60))
    t0 = to_first_hold(d)
    held = [60, 42, 38, 60, 35]
    for n, target in enumerate(held, start=1):
        if target < 60:
            d.run_until(d.t + target)
            d.say("cant_hold", t_start=d.t - 0.4)
        else:
            d.run_until(d.t + 60.05)
        if n < 5:
            d.run_until(d.t + 35)
            d.say("ready")
            d.run_until(d.t + 5)
    ends = d.of(HoldEnded)
    assert [e.set for e in ends] == [1, 2, 3, 4, 5]
    assert [round(e.held_s) for e in ends] == [60, 42, 38, 60, 35]
    assert [e.ended_by for e in ends] == ["target", "cant_hold", "cant_hold", "target", "cant_hold"]
    assert d.s.state == "finished"
    (end,) = d.of(SessionEnded)
    assert end.sets_done == 5 and not end.stopped
    assert d.said()[-2:] == ["That's 5 sets. Good work.", "Bye."]
    states = [a.state for a in d.of(StateChanged)]
    assert states.count("holding") == 5 and states.count("resting") == 4
    assert t0 > 0


def test_stop_mid_hold_records_the_hold_and_ends(voice):
    d = session(voice, hold_s=60)
    t0 = to_first_hold(d)
    d.run_until(t0 + 12)
    out = d.say("stop")
    (end,) = d.of(HoldEnded, out)
    assert end.ended_by == "stop" and end.held_s == pytest.approx(12)
    (fin,) = d.of(SessionEnded, out)
    assert fin.stopped and d.s.state == "finished"
    assert d.said(out) == ["Stopping here. Your holds are saved."]
    assert d.say("ready") == [] and d.run_until(d.t + 100) == []


def test_skip_exercise_from_waiting_and_next_is_skip(voice):
    d = session(voice)
    d.start()
    d.narration_done()
    out = d.say("next")
    assert "Skipping this one: get in position." in d.said(out) and d.s.exercise.id == "bridge"
    d.narration_done()
    out = d.say("skip")
    assert d.s.state == "finished" and d.of(SessionEnded, out)


@pytest.mark.parametrize("state_setup,command,answer", [
    ("waiting", "done", "There's no hold running right now."),
    ("waiting", "cant_hold", "There's no hold running right now."),
    ("waiting", "pause", "There's nothing to pause right now."),
    ("waiting", "resume", "We're not paused."),
    ("waiting", "how_long", "No timer is running right now."),
    ("holding", "ready", "You're holding already. Say done when you finish."),
    ("holding", "resume", "We're not paused."),
    ("paused", "ready", "We're paused. Say resume to carry on."),
    ("paused", "pause", "We're paused. Say resume to carry on."),
])
def test_commands_out_of_place_get_a_polite_answer(voice, state_setup, command, answer):
    d = session(voice)
    if state_setup == "waiting":
        d.start()
        d.narration_done()
    else:
        t0 = to_first_hold(d)
        d.run_until(t0 + 2)
        if state_setup == "paused":
            d.say("pause")
    before = d.s.state
    out = d.say(command)
    assert d.said(out) == [answer]
    assert d.s.state == before and not d.of(HoldEnded, out)


def test_help_lists_what_can_be_said_now(voice):
    d = session(voice)
    t0 = to_first_hold(d)
    d.run_until(t0 + 1)
    out = d.say("help")
    assert d.said(out) == ["You can say: done, can't hold, pause, skip, stop, how long, repeat."]


def test_repeat_says_the_instructions_again(voice):
    d = session(voice)
    d.start()
    d.narration_done()
    out = d.say("repeat")
    assert d.said(out) == ["Say ready when you're in position."]
    d.say("ready")
    d.run_until(d.t + 1)
    out = d.say("repeat")
    assert d.said(out) == ["Bridge.", "Lift your hips."]


def test_a_second_spoken_repeat_in_a_row_while_waiting_for_ready_offers_another_phrase(voice):
    """The bad moment: a voice whose "ready" the recognizer hears as "repeat" (espeak-ng en-029 in
    bench_turns, every time, from any decoder state). The coach says the prompt again, the user
    says "ready" again, and it goes round for ever. The second spoken "repeat" in a row, where
    ready is wanted, says the prompt and then offers another ready phrase; once per run of repeats,
    and never for the keyboard's repeat (pressed on purpose)."""
    d = session(voice)
    d.start()
    d.narration_done()
    prompt = "Say ready when you're in position."
    hint = voice.line("repeat_hint")
    assert hint and "let's go" in hint
    d.run_until(d.t + 3)
    assert d.said(d.say("repeat", source="voice"))[-1:] == [prompt]
    d.run_until(d.t + 3)
    assert d.said(d.say("repeat", source="voice"))[-2:] == [prompt, hint]
    d.run_until(d.t + 3)
    assert hint not in d.said(d.say("repeat", source="voice"))
    d.run_until(d.t + 3)
    d.say("how_long", source="voice")                   # anything else in between starts the count again
    d.run_until(d.t + 3)
    assert hint not in d.said(d.say("repeat", source="voice"))
    d.run_until(d.t + 3)
    assert hint in d.said(d.say("repeat", source="voice"))
    keys = session(voice)
    keys.start()
    keys.narration_done()
    keys.say("repeat")
    assert hint not in keys.said(keys.say("repeat"))


def test_a_second_sorry_in_a_row_while_waiting_for_ready_offers_another_phrase(voice):
    """The same loop with "ready" heard as nothing at all ("Sorry?" and the prompt, again and
    again): the second "Sorry?" in a row adds the hint after the prompt; a spoken repeat and a
    "Sorry?" count together."""
    d = session(voice)
    d.start()
    d.narration_done()
    prompt, hint = "Say ready when you're in position.", voice.line("repeat_hint")
    d.run_until(d.t + 3)
    assert d.said(d.send(Misheard(d.t, d.t - 0.5))) == ["Sorry?", prompt]
    d.run_until(d.t + 5)
    assert d.said(d.send(Misheard(d.t, d.t - 0.5))) == ["Sorry?", prompt, hint]
    mixed = session(voice)
    mixed.start()
    mixed.narration_done()
    mixed.run_until(mixed.t + 3)
    mixed.say("repeat", source="voice")
    mixed.run_until(mixed.t + 5)
    assert mixed.said(mixed.send(Misheard(mixed.t, mixed.t - 0.5)))[-1] == hint


def test_pause_in_get_set_restarts_the_count(voice):
    d = session(voice)
    d.start()
    d.narration_done()
    d.say("ready")
    d.narration_done()
    d.say("ready")
    d.run_until(d.t + 2)
    d.say("pause")
    assert d.s.state == "paused"
    d.run_until(d.t + 10)
    out = d.say("resume")
    assert d.said(out)[:2] == ["Carrying on.", "Set 1 of 2."]
    out = d.run_until(d.t + 5)
    assert d.of(HoldStarted, out)


def test_timing_comes_from_exercise_over_routine_over_voice_over_defaults(voice):
    routine = make_routine(hold_s=20, sets=1, cues=CueTiming(every_s=5, countdown_from=0, warn_left_s=0,
                                                             halfway=False))
    d = Driver(Session(routine, voice, default_cues()))
    t0 = to_first_hold(d)
    out = d.run_until(t0 + 21)
    cues = [round(a.t - t0, 3) for a in d.of(Say, out) if a.kind == "cue"]
    assert cues == [5.0, 10.0, 15.0, 20.0]


def test_accepted_commands_follow_the_state(voice):
    d = session(voice)
    t0 = to_first_hold(d)
    assert set(d.s.accepted()) >= {"done", "cant_hold", "pause", "stop"}
    assert "ready" not in d.s.accepted()
    d.run_until(t0 + 10.1 + G)
    assert d.s.state == "resting" and "ready" in d.s.accepted() and "done" not in d.s.accepted()


def test_cue_texts_cover_everything_said_in_a_hold(voice):
    d = session(voice, hold_s=60, sets=2, rest=(30, 60))
    expected = set(d.s.cue_texts())
    t0 = to_first_hold(d)
    out = d.run_until(t0 + 130)
    cue_texts = {a.text for a in d.of(Say, out) if a.kind == "cue"}
    assert cue_texts <= expected
