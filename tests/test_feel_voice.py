"""How did that feel?, answered by voice in a replayed session: a real recognizer on real speech."""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import COACH, ROOT, load_script

pytestmark = pytest.mark.audio

make_session = load_script("make_session_wav")

FEEL_ROUTINE = """\
title: Feel test
summary: One 3-second hold, then how did that feel.
cues: {get_set_s: 1}
exercises:
  - id: bridge
    title: Bridge
    say: "Lift your hips."
    hold_s: 3
    sets: 1
    rest_s: 2
"""


def coach(args, env):
    out = subprocess.run([*COACH, *args], env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out


def test_hard_and_no_by_voice_are_stored_and_shown_in_history(coach_env, data_dir, tmp_path):
    (data_dir / "routines" / "feel.yaml").write_text(FEEL_ROUTINE)
    wav, ev = tmp_path / "s.wav", tmp_path / "ev.jsonl"
    # The question "How did that feel?" ends near 21 s, "Any pain?" near 26 s (the say_end records).
    plan = [(7.0, "ready"), (22.5, "hard"), (28.0, "no")]
    make_session.make_session_wav(wav, plan, 36.0, voice="flite:rms")
    coach(["run", "feel", "--mic", str(wav), "--events", str(ev)], coach_env)
    records = [json.loads(line) for line in ev.read_text().splitlines()]
    asked = [r for r in records if r["type"] == "say" and r["line"] in ("effort_ask", "pain_ask")]
    assert [r["line"] for r in asked] == ["effort_ask", "pain_ask"]
    ends = {r["text"]: r["t"] for r in records if r["type"] == "say_end"}
    assert all(ends[r["text"]] > r["t"] for r in asked)            # each question's end is logged
    assert [(r["type"], r["answer"]) for r in records if r["type"] in ("effort", "pain")] == [
        ("effort", "hard"), ("pain", False)]
    assert records[-1]["type"] in ("session_end", "say_end")
    (end,) = [r for r in records if r["type"] == "session_end"]
    assert end["stopped"] is False
    assert "(felt hard, no pain)" in coach(["history"], coach_env).stdout
    assert "last answer: felt hard, no pain" in coach(["status", "feel"], coach_env).stdout


def test_the_unlock_question_times_out_30_s_after_it_was_said_and_says_so(coach_env, data_dir, tmp_path):
    """The offer is queued behind the intro at t=0 but heard from about 6 s: its 30 s start at its end."""
    from datetime import datetime, timedelta, timezone

    from coach.history.store import Store

    store = Store(data_dir / "history.sqlite3")
    for day in range(3):                              # every bridge set at 60 s on three days: offered
        t = datetime(2026, 11, 26 + day, 8, tzinfo=timezone.utc)
        sid = store.start_session("glutes", t, "keys", "en-us")
        for set_no in range(1, 6):
            store.record_hold(sid, "bridge", set_no, 60.0, 60.0, "target", t + timedelta(minutes=set_no))
        store.end_session(sid, t + timedelta(minutes=9), "finished")
    store.close()
    wav, ev = tmp_path / "quiet.wav", tmp_path / "ev.jsonl"
    make_session.make_session_wav(wav, [], 48.0)
    coach(["run", "glutes", "--mic", str(wav), "--events", str(ev),
           "--start-time", "2026-12-01T08:00:00+00:00"], coach_env)
    records = [json.loads(line) for line in ev.read_text().splitlines()]
    (offer,) = [r for r in records if r["type"] == "say" and r["line"] == "unlock_offer"]
    (said_end,) = [r for r in records if r["type"] == "say_end" and r["text"] == offer["text"]]
    (timeout,) = [r for r in records if r["type"] == "say" and r["line"] == "unlock_no_answer"]
    assert offer["t"] == 0.0 and said_end["start"] > 4.0           # queued behind the intro
    assert timeout["t"] == pytest.approx(said_end["t"] + 30.0, abs=0.06)
