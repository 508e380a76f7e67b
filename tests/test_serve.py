"""`coach serve`: the smart-speaker mode, replayed from a WAV of a whole morning; reminders."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, time, timedelta, timezone

import numpy as np
import pytest
from conftest import COACH, ROOT, load_script
from test_voice_session import VOICE_ROUTINE

from coach.audio.wav import load_pcm16, write_wav
from coach.runner.reminders import Reminders, parse_times

make_session = load_script("make_session_wav")

TZ = timezone(timedelta(hours=1))


def at(day: int, hh: int, mm: int) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=TZ)


def test_each_reminder_is_said_once_and_not_when_the_day_is_done():
    r = Reminders(parse_times(["18:00", "08:00"]))
    assert r.times == (time(8, 0), time(18, 0))
    assert r.due(at(27, 7, 59), 0, 2) is None
    assert r.due(at(27, 8, 0), 0, 2) == time(8, 0)
    assert r.due(at(27, 8, 1), 0, 2) is None                # no nagging
    assert r.due(at(27, 18, 0), 1, 2) == time(18, 0)        # one done, the second is due
    assert r.due(at(28, 8, 0), 1, 2) is None                # already done today (early bird)
    assert r.due(at(28, 18, 5), 2, 2) is None               # both done
    assert r.due(at(29, 8, 45), 0, 2) is None               # missed by more than the grace: skipped
    assert r.due(at(29, 18, 0), 1, 1) is None               # the routine wants one a day: done


def test_the_history_is_asked_only_when_a_reminder_is_due_and_old_days_are_forgotten():
    """serve asked the history for today's sessions at every 50 ms audio chunk (11 % of idle CPU);
    a callable is called only when a reminder time has just passed. A year of days stays bounded."""
    asked = []

    def sessions_today() -> int:
        asked.append(1)
        return 0

    r = Reminders(parse_times(["08:00", "18:00"]))
    minute = timedelta(minutes=1)
    for day in range(1, 31):
        for k in range(24 * 60):
            r.due(at(1, 0, 0) + timedelta(days=day - 1) + k * minute, sessions_today, 2)
    assert len(asked) == 2 * 30 and len(r._considered) <= 2


def test_bad_reminder_times_are_refused():
    for bad in ("8", "25:00", "08:60", "noon"):
        with pytest.raises(ValueError, match="is not a time like 08:00"):
            parse_times([bad])


@pytest.mark.audio
def test_serve_a_recorded_morning_two_sessions_and_a_reminder(coach_env, data_dir, tmp_path):
    (data_dir / "routines" / "voice.yaml").write_text(VOICE_ROUTINE)
    wav = tmp_path / "morning.wav"
    # Each command falls after the coach's words it answers (the second session opens with how
    # last time went, so its "ready" comes once that is said).
    plan = [(62, "start my exercises"), (76, "ready"), (84, "can't hold"), (100, "ready"), (109, "i'm done"),
            (150, "coach start"), (171.5, "ready"), (180, "can't hold"), (194, "ready"), (203, "i'm done")]
    make_session.make_session_wav(wav, [(float(s), p) for s, p in plan], 230.0, voice="flite:rms")
    ev = tmp_path / "ev.jsonl"
    out = subprocess.run([*COACH, "serve", "--routine", "voice", "--mic", str(wav), "--events", str(ev),
                          "--start-time", "2026-11-27T07:59:30",
                          "--reminder", "08:00", "--reminder", "18:00"],
                         env=coach_env, cwd=str(ROOT), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "served 2 sessions, 4 holds, 1 reminder" in out.stdout
    records = [json.loads(line) for line in ev.read_text().splitlines()]
    reminders = [r for r in records if r["type"] == "reminder"]
    assert [(r["t"], r["at"]) for r in reminders] == [(30.0, "08:00")]
    states = [r["name"] for r in records if r["type"] == "state"]
    assert states.count("idle") == 3 and states.count("finished") == 2
    ends = [(r["set"], r["ended_by"]) for r in records if r["type"] == "hold_end"]
    assert ends == [(1, "cant_hold"), (2, "done"), (1, "cant_hold"), (2, "done")]
    history = subprocess.run([*COACH, "history", "--json"], env=coach_env, cwd=str(ROOT),
                             capture_output=True, text=True, timeout=60)
    holds = [json.loads(line) for line in history.stdout.splitlines()]
    assert len({h["session_id"] for h in holds}) == 2
    assert holds[0]["started_at"].startswith("2026-11-27T08:00:49")        # 07:59:30 + 79.1 s


def test_serve_gives_up_a_session_nobody_answers_and_goes_back_to_idle(coach_env, data_dir, tmp_path):
    """The user starts, does one set, then walks away: after the idle time the coach says so once,
    keeps the hold, marks the session abandoned, and a later "coach start" begins a new one."""
    (data_dir / "routines" / "voice.yaml").write_text(VOICE_ROUTINE)
    wav = tmp_path / "walked-away.wav"
    plan = [(2, "start my exercises"), (15, "ready"), (24, "can't hold"),
            (120, "coach start"), (133, "ready")]
    make_session.make_session_wav(wav, [(float(s), p) for s, p in plan], 150.0, voice="flite:rms")
    ev = tmp_path / "ev.jsonl"
    out = subprocess.run([*COACH, "serve", "--routine", "voice", "--mic", str(wav), "--events", str(ev),
                          "--idle-timeout-min", "0.5", "--start-time", "2026-11-27T07:59:30"],
                         env=coach_env, cwd=str(ROOT), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in ev.read_text().splitlines()]
    (abandoned,) = [r for r in records if r["type"] == "session_end" and r.get("abandoned")]
    said = [r["text"] for r in records if r["type"] == "say" and r["line"] == "idle_abandon"]
    assert len(said) == 1 and "saved" in said[0]
    states = [r["name"] for r in records if r["type"] == "state"]
    assert states.count("idle") >= 2                            # back to idle after giving up
    starts = [r for r in records if r["type"] == "heard" and r["command"] == "start"]
    assert len(starts) == 2 and starts[1]["t_start"] > abandoned["t"]
    exported = subprocess.run([*COACH, "export", "--format", "json"], env=coach_env, cwd=str(ROOT),
                              capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    assert '"abandoned"' in exported.stdout


@pytest.mark.audio
def test_serve_logs_a_start_said_as_the_recording_ends(coach_env, data_dir, tmp_path):
    """The bad moment: `coach serve --mic` on a file that ends 0.2 s after "coach start", idle.
    The recognizer still held the phrase undecided; serve stopped at the end of the file without
    deciding it, so the utterance was in the event log neither as heard nor as ignored. It is now
    decided and logged, as ignored: nothing is left to run a session in."""
    (data_dir / "routines" / "voice.yaml").write_text(VOICE_ROUTINE)
    wav = tmp_path / "cut.wav"
    truth = make_session.make_session_wav(wav, [(2.0, "coach start")], 6.0, voice="flite:rms")
    pcm = load_pcm16(wav, 16_000)
    write_wav(wav, np.asarray(pcm[: int((truth[0]["t_end"] + 0.2) * 16_000)]), 16_000)
    ev = tmp_path / "ev.jsonl"
    out = subprocess.run([*COACH, "serve", "--routine", "voice", "--mic", str(wav), "--events", str(ev),
                          "--start-time", "2026-11-27T07:59:30"],
                         env=coach_env, cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "served 0 sessions" in out.stdout
    records = [json.loads(line) for line in ev.read_text().splitlines()]
    decided = [r for r in records if r["type"] in ("heard", "ignored")]
    assert [(r["type"], r["command"], r["reason"]) for r in decided] == [("ignored", "start", "input ended")]
    assert decided[0]["t_start"] == pytest.approx(truth[0]["t_start"], abs=0.25)
    assert not [r for r in records if r["type"] == "session_start"]
