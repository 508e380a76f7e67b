"""End to end through a pseudo-terminal, as a user at the keyboard: real speech, real SQLite."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import wave

import numpy as np
import pexpect
import pytest
from conftest import COACH, ROOT

pytestmark = pytest.mark.audio


def spawn(args, env, timeout=60):
    return pexpect.spawn(sys.executable, ["-m", "coach", *args], env=env, cwd=str(ROOT),
                         encoding="utf-8", timeout=timeout)


def run(args, env, **kw):
    return subprocess.run([*COACH, *args], env=env, cwd=str(ROOT), capture_output=True, text=True,
                          timeout=120, **kw)


def test_short_routine_from_the_keyboard_records_holds(coach_env, data_dir, tmp_path):
    events = tmp_path / "ev.jsonl"
    speaker = tmp_path / "out.wav"
    child = spawn(["run", "short", "--events", str(events), "--speaker", str(speaker)], coach_env)
    child.expect("Say ready when you're in position.")
    child.send("r")
    child.expect("Lift, and hold.")
    t_hold = time.monotonic()
    time.sleep(1.5)
    child.send("c")                                  # can't hold, after about 1.5 s
    t_key = time.monotonic()
    child.expect("You held")
    child.expect("Rest over|whenever you want", timeout=10)
    child.send("r")                                  # set 2: let it run to the 3 s target
    child.expect("Well held. Lower down slowly")
    child.expect(r"session finished: 2 holds recorded")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    out = run(["history", "--json"], coach_env)
    holds = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(h["exercise"], h["set"], h["ended_by"]) for h in holds] == [
        ("bridge", 1, "cant_hold"), ("bridge", 2, "target")]
    assert holds[1]["held_s"] == 3.0

    records = [json.loads(line) for line in events.read_text().splitlines()]
    # The line is printed as its audio starts: after the hold-start tone, so later than the hold's
    # own start by the tone; the key interval is measured from the printed line.
    hold_t = next(r["t"] for r in records if r["type"] == "hold_start")
    line_t = next(r["start"] for r in records
                  if r["type"] == "say_end" and r["text"].startswith("Lift, and hold"))
    assert holds[0]["held_s"] == pytest.approx(t_key - t_hold + (line_t - hold_t), abs=0.3)
    assert all(isinstance(r["t"], float) and "type" in r for r in records)
    types = [r["type"] for r in records]
    for needed in ("say", "state", "hold_start", "hold_end", "rest_start", "rest_end", "session_end"):
        assert needed in types, needed
    ends = [r for r in records if r["type"] == "hold_end"]
    assert [e["held_s"] for e in ends] == [holds[0]["held_s"], 3.0]
    assert records[-1]["type"] == "session_end" and records[-1]["sets_done"] == 2

    with wave.open(str(speaker)) as w:
        assert w.getframerate() == 16000
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    duration_s = len(audio) / 16000
    assert duration_s == pytest.approx(records[-1]["t"], abs=6.0)
    says = [r for r in records if r["type"] == "say"]
    first = says[0]
    window = audio[int(first["t"] * 16000): int((first["t"] + 0.8) * 16000)]
    assert np.abs(window.astype(np.int32)).max() > 3000          # speech where the log says
    assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) > 200  # and plenty of it overall


def test_ctrl_c_keeps_finished_holds_and_exits_130(coach_env):
    child = spawn(["run", "short"], coach_env)
    child.expect("Say ready when you're in position.")
    child.send("r")
    child.expect("Lift, and hold.")
    child.send("d")
    child.expect("You held")
    child.sendintr()
    child.expect(r"session interrupted: 1 hold recorded")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    out = run(["history", "--json"], coach_env)
    assert len(out.stdout.splitlines()) == 1


def test_broken_routine_gives_one_line_and_exit_2(coach_env, data_dir):
    (data_dir / "routines" / "broken.yaml").write_text(
        "title: Broken\nsummary: x\nexercises:\n  - id: a\n    title: A\n    say: hi\n    hold_s: -5\n")
    out = run(["run", "broken"], coach_env)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"coach: error: {data_dir}/routines/broken.yaml:7: exercises[0].hold_s: must be greater than 0, "
        "got `-5`"]
    assert "Traceback" not in out.stderr


def test_say_writes_real_speech(coach_env, tmp_path):
    out_wav = tmp_path / "say.wav"
    result = run(["say", "Lift your hips and hold for sixty seconds.", "--out", str(out_wav)], coach_env)
    assert result.returncode == 0, result.stderr
    with wave.open(str(out_wav)) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        rate = w.getframerate()
    duration = len(audio) / rate
    assert 1.5 < duration < 5.0                       # eight words at 150 wpm
    assert np.abs(audio.astype(np.int32)).max() > 5000
    assert "Audio saved" not in result.stdout         # pyttsx3's own chatter is kept out


def test_routines_lists_shipped_and_user_routines(coach_env):
    out = run(["routines"], coach_env)
    lines = out.stdout.splitlines()
    assert any(line.startswith("glutes") and "shipped" in line for line in lines)
    assert any(line.startswith("short") and "user" in line for line in lines)


def test_corrupt_history_is_reported_not_overwritten(coach_env, data_dir):
    db = data_dir / "history.sqlite3"
    db.write_bytes(b"garbage" * 100)
    out = run(["history"], coach_env)
    assert out.returncode == 3 and len(out.stderr.strip().splitlines()) == 1
    assert "not a usable coach history" in out.stderr
    out = run(["run", "short"], coach_env, stdin=subprocess.DEVNULL)
    assert out.returncode == 3
    assert db.read_bytes() == b"garbage" * 100


def test_after_a_crash_the_next_run_offers_to_carry_on(coach_env):
    child = spawn(["run", "short"], coach_env)
    child.expect("Say ready when you're in position.")
    child.send("r")
    child.expect("Lift, and hold.")
    child.send("c")
    child.expect("You held")
    child.kill(9)                                   # a power cut after set 1
    child.close()

    child = spawn(["run", "short"], coach_env)
    child.expect("Your last session today stopped after 1 of 2 sets. Shall we carry on")
    child.send("y")
    child.expect("Carrying on with the bridge, set 2 of 2.")
    child.expect("Say ready when you're in position.")
    child.send("r")
    child.expect("Set 2 of 2.")
    child.expect("Well held. Lower down slowly")
    child.expect(r"session finished: 1 hold recorded")
    child.expect(pexpect.EOF)
    child.close()
    holds = [json.loads(line) for line in run(["history", "--json"], coach_env).stdout.splitlines()]
    assert [(h["session_id"], h["set"], h["ended_by"]) for h in holds] == [(1, 1, "cant_hold"),
                                                                           (1, 2, "target")]


def test_no_resume_starts_afresh_and_resume_carries_on_without_asking(coach_env):
    child = spawn(["run", "short"], coach_env)
    child.expect("Say ready when you're in position.")
    child.send("r")
    child.expect("Lift, and hold.")
    child.send("d")
    child.expect("You held")
    child.kill(9)
    child.close()
    child = spawn(["run", "short", "--resume"], coach_env)
    child.expect("Carrying on with the bridge, set 2 of 2.")
    child.kill(9)                                   # crashes again before set 2
    child.close()
    child = spawn(["run", "short", "--no-resume"], coach_env)
    child.expect("Say ready when you're in position.")
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    out = run(["history", "--json"], coach_env)
    assert [json.loads(line)["session_id"] for line in out.stdout.splitlines()] == [1]
