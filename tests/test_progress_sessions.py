"""Three days of sessions through the core with a real SQLite history: memory, targets, unlock,
streak, chart and export/import, as a user would meet them."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import COACH, ROOT
from helpers.session_driver import Driver

from coach.history import Store
from coach.routine import load_routine
from coach.routine.model import default_cues
from coach.runner.planning import build_plan
from coach.session import HoldEnded, HoldStarted, Session, UnlockAnswered
from coach.session.core import HOLD_GRACE_S

GLUTES = ROOT / "coach" / "routine" / "shipped" / "glutes.yaml"


def play_day(store: Store, voice, start: datetime, held: list[float], answer: str | None = None) -> Driver:
    """One glute session on `start`'s day: hold each set for `held[i]` seconds (60 = to the end)."""
    routine = load_routine(GLUTES)
    plan = build_plan(store, routine, "ann", start.date(), None)
    d = Driver(Session(routine, voice, default_cues(), plan))
    sid = store.start_session(routine.name, start, "keys", voice.name, "ann")
    d.start()
    if answer is not None:
        assert d.s.state == "asking"
        d.say(answer)
    d.narration_done()
    d.say("ready")                              # neutral spine done
    d.narration_done()
    for n, seconds in enumerate(held, start=1):
        d.say("ready")
        d.run_until(d.t + 4.6)                  # get set
        if seconds < 60:
            d.run_until(d.t + seconds)
            d.say("cant_hold", t_start=d.t)
        else:
            d.run_until(d.t + 60.05 + HOLD_GRACE_S)     # the full hold is recorded after the grace
        if n < len(held):
            d.run_until(d.t + 31)
    for action in d.actions:
        if isinstance(action, HoldEnded):
            store.record_hold(sid, action.exercise, action.set, action.target_s, action.held_s,
                              action.ended_by, start + timedelta(seconds=action.started_t))
        if isinstance(action, UnlockAnswered):
            store.record_unlock("ann", routine.name, action.exercise,
                                "unlocked" if action.unlocked else "locked", start, "answered")
    store.end_session(sid, start + timedelta(minutes=10), "finished")
    return d


def test_three_days_memory_targets_and_unlock(tmp_path, voice):
    store = Store(tmp_path / "history.sqlite3")
    day1 = datetime(2026, 11, 20, 8, 0).astimezone()
    d = play_day(store, voice, day1, [42, 38, 35, 30, 28])
    assert not any("Last time" in s for s in d.said())              # nothing to remember yet
    assert not any(s.startswith("New personal best") for s in d.said())

    d = play_day(store, voice, day1 + timedelta(days=1), [45, 36, 35, 31, 20])
    said = d.said()
    assert "Last time you held 42, 38, 35, 30 and 28 seconds. Your best is 42 seconds." in said
    assert "Each set has its own goal today; I'll give it to you as we go." in said
    assert not any("47, 43" in s for s in said)                     # no list of five numbers to remember
    goals = [a.goal_s for a in d.of(HoldStarted)]
    assert goals == [47, 43, 40, 35, 33]                             # best recent + 5 s, per set
    lifts = [s for s in said if s.startswith("Lift, and hold")]    # each goal said as its set starts
    assert lifts == [f"Lift, and hold for {goal:g} seconds." for goal in goals]
    assert "A new personal best, 3 seconds better." in said          # 45 after a best of 42
    assert "2 seconds short of last time." in said                   # set 2: 36 after 38
    assert "Same as last time." in said                              # set 3: 35 and 35
    assert "Goal reached. Lovely work." not in said                    # no set reached its goal

    # three days with every set at 60 s earn the band bridge
    for day in (3, 4, 5):
        d = play_day(store, voice, day1 + timedelta(days=day), [60] * 5)
    assert "Today, aim for the full 60 seconds each set." in d.said()
    d = play_day(store, voice, day1 + timedelta(days=6), [60] * 5 + [50] * 5, answer="yes")
    said = d.said()
    assert any(s.startswith("Your holds have reached the goal on 3 different days. "
                            "Shall we add the band bridge")
               for s in said)
    assert "Good. The band bridge for the side glutes is part of your routine from today." in said
    assert {a.exercise for a in d.of(HoldEnded)} == {"bridge", "band_bridge"}
    assert "Day 4 in a row." in said                                  # days 3, 4, 5 and today
    assert store.unlock_state("ann", "glutes", "band_bridge").state == "unlocked"
    # the next session includes it without asking
    plan = build_plan(store, load_routine(GLUTES), "ann", (day1 + timedelta(days=7)).date(), None)
    assert plan.offer is None and "band_bridge" in plan.enabled
    # and another person on the same device has their own history
    other = build_plan(store, load_routine(GLUTES), "bob", (day1 + timedelta(days=7)).date(), None)
    assert other.offer is None and not other.enabled and not other.exercises["bridge"].opening


def run(args, env):
    return subprocess.run([*COACH, *args], env=env, cwd=str(ROOT), capture_output=True, text=True,
                          timeout=120)


def test_status_chart_and_export_import_from_the_command_line(tmp_path, voice, coach_env, data_dir):
    store = Store(data_dir / "history.sqlite3")
    today = datetime.now().astimezone().replace(hour=7, minute=30, second=0, microsecond=0)
    for back in (3, 2, 1):
        play_day(store, voice, today - timedelta(days=back), [60] * 5)
    out = run(["status", "--user", "ann"], coach_env)
    assert "Band bridge for the side glutes: earned, to be offered at the next session" in out.stdout
    play_day(store, voice, today, [60] * 5 + [50, 45, 40, 35, 30], answer="yes")
    store.close()

    out = run(["status", "--user", "ann"], coach_env)
    assert out.returncode == 0, out.stderr
    assert "today:   1 session of 1-2 a day  (done for today)" in out.stdout
    assert "streak:  4 days in a row" in out.stdout
    assert f"Band bridge for the side glutes: unlocked on {today:%Y-%m-%d} — answered" in out.stdout

    out = run(["history", "--user", "ann"], coach_env)
    assert "bridge" in out.stdout and "█" in out.stdout

    pytest.importorskip("matplotlib")
    png = tmp_path / "holds.png"
    out = run(["chart", "--user", "ann", "--out", str(png)], coach_env)
    assert out.returncode == 0, out.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000

    export = tmp_path / "export.json"
    assert run(["export", "--format", "json", "--out", str(export)], coach_env).returncode == 0
    fresh = dict(coach_env, COACH_DATA_DIR=str(tmp_path / "fresh"))
    out = run(["import", str(export)], fresh)
    assert out.returncode == 0 and "imported 4 sessions, 25 holds" in out.stdout
    again = tmp_path / "again.json"
    assert run(["export", "--format", "json", "--out", str(again)], fresh).returncode == 0
    assert json.loads(again.read_text()) == json.loads(export.read_text())
    assert "0 sessions" in run(["import", str(export)], fresh).stdout       # twice adds nothing


def test_lock_and_unlock_by_hand(coach_env):
    out = run(["unlock", "band_bridge", "--user", "ann"], coach_env)
    assert out.returncode == 0 and "unlocked for ann" in out.stdout
    assert "unlocked on" in run(["status", "--user", "ann"], coach_env).stdout
    assert run(["lock", "band_bridge", "--user", "ann"], coach_env).returncode == 0
    assert "locked on" in run(["status", "--user", "ann"], coach_env).stdout
    bad = run(["unlock", "bridge"], coach_env)
    assert bad.returncode == 2 and "not an advanced exercise" in bad.stderr


def test_play_day_helper_is_honest(tmp_path, voice):
    """The simulated days record what the core decided, not what the test wished."""
    store = Store(tmp_path / "h.sqlite3")
    play_day(store, voice, datetime(2026, 1, 5, 9).astimezone(), [12, 60, 60, 60, 60])
    held = [h.held_s for h in store.holds()]
    assert held[0] == pytest.approx(12.1, abs=0.01) and held[1:] == [60.0] * 4   # 0.1 s of get-set overrun
    assert Path(store.path).exists()


def test_a_hold_past_its_goal_gets_no_short_hold_line(tmp_path, voice):
    store = Store(tmp_path / "history.sqlite3")
    day1 = datetime(2026, 11, 20, 8, 0).astimezone()
    play_day(store, voice, day1, [40, 40])
    d = play_day(store, voice, day1 + timedelta(days=1), [50, 41])     # goals 45 and 45
    said = d.said()
    assert "Goal reached. Lovely work." in said
    after_set_1 = said[said.index("Down. You held 50 seconds."):said.index("Down. You held 41 seconds.")]
    assert "Good effort. Strength here builds over weeks." not in after_set_1     # past today's goal
    short = "Good effort. Strength here builds over weeks."
    assert said[said.index("Down. You held 41 seconds.") + 2] == short
