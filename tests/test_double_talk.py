"""Issue 9, the user talking over the coach with its voice back through the room at full gain.

At room echo gain 1.0 the coach's voice reaches the microphone 15-25 dB louder than the user's.
Two placements of `scripts/bench_turns.py` were missed there on every run before the canceller's
filter reached the room's reverberant tail (300 ms) and learned the loudspeaker's distortion
(`coach.audio.speaker_model`): espeak-ng en+m3's "pause" 1 s before the end of the rest line
(its "p" under the coach's "seconds", decoded as "those") and its "can't hold" 0.3 s into
"Nearly there, 10 seconds to go." (decoded as a mixture of both voices). One short chain, both
placements (and a "ready" the moment a prompt ends), the real recognizer and the honest room.
"""

from __future__ import annotations

import pytest
from conftest import load_script

bench = load_script("bench_turns")

pytestmark = pytest.mark.audio

VOICE = "espeak:en+m3"       # a development voice (never in the head's training set, never reserved)
ROOM_GAIN = 1.0


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    work = tmp_path_factory.mktemp("double_talk")
    calib = bench.calibrate(work, VOICE, ROOM_GAIN, bench.first_prompt_end(work))
    if not calib.ok:
        pytest.fail(f"calibration: {calib.why} ({VOICE}, echo {ROOM_GAIN})")
    # the reply at the prompt's end also gives a hold that runs to its target: the rest lines after
    # it are what the "pause" cuts, and how soon the coach fell silent is measured against them
    plan, episodes, length = bench.build_chain(calib, cues=("warn",), answers=("prompt+0ms",),
                                               barge=("pause@1s",))
    report, run = bench.run_chain(work, calib, plan, episodes, length)
    return report


def result(report, kind):
    [r] = [r for r in report.results if r.kind == kind]
    assert r.valid, f"the session did not follow the plan before {kind}"
    return r


def test_cant_hold_over_nearly_there_ends_the_hold_at_its_start(chain):
    r = result(chain, "warn")
    assert r.acted, f"{r.outcome} ({r.reason})"
    assert r.err_s is not None and abs(r.err_s) <= bench.TOLERANCE_S, r.err_s


def test_pause_over_the_last_second_of_the_rest_line_stops_the_coach(chain):
    r = result(chain, "pause@1s")
    assert r.acted, f"{r.outcome} ({r.reason})"
    assert r.stop_s is not None and r.stop_s <= bench.BARGE_IN_S, r.stop_s


def test_ready_the_moment_the_prompt_ends_is_heard(chain):
    r = result(chain, "prompt+0ms")
    assert r.acted, f"{r.outcome} ({r.reason})"


def test_no_self_triggers_at_full_room_gain(chain):
    assert not chain.self_triggers, chain.self_triggers
