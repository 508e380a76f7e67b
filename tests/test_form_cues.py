"""Form cues during a hold (coach.session.cues.form_cues), and a stopped hold not counting as an attempt."""

from __future__ import annotations

from coach.history.store import HoldRecord
from coach.progress.memory import last_time, targets
from coach.progress.rules import TargetRule
from coach.routine.model import CueTiming, default_cues
from coach.session.cues import hold_cues

FORM = ("Keep breathing.", "Squeeze your glutes.", "Keep your hips level.", "Back neutral, not arched.")


def timing(**kw) -> CueTiming:
    return CueTiming(**kw).over(default_cues())


def test_form_cues_fall_between_the_counts_and_never_in_the_last_ten_seconds() -> None:
    cues = hold_cues(60, timing(), goal_s=38, form=FORM, form_from=1)
    form = [(c.at_s, c.values["text"]) for c in cues if c.line == "form_cue"]
    assert form == [(5.0, FORM[1]), (15.0, FORM[2]), (25.0, FORM[3]), (35.0, FORM[0]), (45.0, FORM[1])]
    numbered = {c.at_s for c in cues if c.line in ("hold_every", "hold_halfway", "hold_left", "count",
                                                    "goal_reached")}
    for at, _ in form:
        assert all(abs(at - n) >= 2 for n in numbered), at
        assert at <= 60 - 10


def test_each_set_opens_with_a_different_cue() -> None:
    firsts = [next(c.values["text"] for c in hold_cues(60, timing(), form=FORM, form_from=k)
                   if c.line == "form_cue") for k in range(4)]
    assert firsts == list(FORM)


def test_form_cues_off_short_holds_and_no_cues() -> None:
    assert not [c for c in hold_cues(60, timing(form=False), form=FORM) if c.line == "form_cue"]
    assert not [c for c in hold_cues(12, timing(), form=FORM) if c.line == "form_cue"]   # last 10 s
    assert not [c for c in hold_cues(60, timing(), form=()) if c.line == "form_cue"]
    spaced = [c.at_s for c in hold_cues(40, timing(every_s=0), form=FORM) if c.line == "form_cue"]
    assert spaced == [5.0, 15.0, 25.0]          # no elapsed calls: every 10 s all the same


def hold(session_id: int, set_no: int, held_s: float, ended_by: str) -> HoldRecord:
    return HoldRecord(session_id, "glutes", "ann", "bridge", set_no, 60.0, held_s, ended_by,
                      f"2026-11-2{session_id}T08:0{set_no}:00+00:00")


def test_a_stopped_partial_hold_is_not_last_time_or_a_target() -> None:
    holds = [hold(1, 1, 40, "cant_hold"), hold(1, 2, 38, "cant_hold"),
             hold(2, 1, 3, "stop")]                     # the next session was stopped 3 s into set 1
    last = last_time(holds, "bridge")
    assert last is not None and last.session.session_id == 1 and last.session.held_s == (40, 38)
    assert targets(holds, "bridge", 2, 60, TargetRule()) == (45, 43)
    only_stopped = [hold(2, 1, 3, "stop")]
    assert last_time(only_stopped, "bridge") is None


def run_one_hold(voice_path, routine_path) -> list[str]:
    """Say every line of a session with one 60 s bridge held to the end."""
    from coach.routine.loader import load_routine
    from coach.session import Command, NarrationDone, Say, Session, Start, Tick
    from coach.voice import load_voice

    routine = load_routine(routine_path)
    s = Session(routine, load_voice(voice_path), default_cues())
    said = [a.text for a in s.handle(Start(0.0)) if isinstance(a, Say)]
    t = 0.0
    for _ in range(2):                                  # neutral spine, then the bridge
        said += [a.text for a in s.handle(NarrationDone(t)) if isinstance(a, Say)]
        said += [a.text for a in s.handle(Command("ready", t)) if isinstance(a, Say)]
    while t < 70:
        t = round(t + 0.1, 3)
        said += [a.text for a in s.handle(Tick(t)) if isinstance(a, Say)]
    return said


def test_form_cues_from_the_routine_and_a_switch_in_the_voice_pack(tmp_path) -> None:
    from conftest import ROOT

    voice = ROOT / "voices" / "en-us.yaml"
    glutes = ROOT / "coach" / "routine" / "shipped" / "glutes.yaml"
    said = run_one_hold(voice, glutes)
    assert "Squeeze your glutes." in said and "Keep your hips level." in said
    quiet = tmp_path / "quiet.yaml"
    text = voice.read_text().replace("cues:\n  every_s: 10\n", "cues:\n  every_s: 10\n  form: false\n", 1)
    text = text.replace("  every: true ", "  every: false ", 1)     # the marks spoken, to see them said
    quiet.write_text(text)
    said = run_one_hold(quiet, glutes)
    assert "10 seconds in." in said and not {"Squeeze your glutes.", "Keep your hips level."} & set(said)
    off = tmp_path / "glutes.yaml"
    off.write_text(glutes.read_text().replace("  get_set_s: 3\n", "  get_set_s: 3\n  form: false\n", 1))
    assert "Squeeze your glutes." not in run_one_hold(voice, off)
