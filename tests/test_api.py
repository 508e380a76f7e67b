"""The library under the CLI, called directly; and the one rule for whose history is shown."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta

import pytest

from coach import api  # noqa: F401 - the package imports
from coach.api import history, library, progress
from coach.api.settings import settings, user_of
from coach.cli import main
from coach.errors import UsageError
from coach.history.store import Store

START = datetime(2026, 11, 20, 8, 0).astimezone()


def _record(data_dir, user: str, held: list[float], day: int = 0, routine: str = "glutes") -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(data_dir / "history.sqlite3")
    try:
        at = START + timedelta(days=day)
        sid = store.start_session(routine, at, "keys", "en-us", user)
        for n, seconds in enumerate(held, start=1):
            store.record_hold(sid, "bridge", n, 60, seconds, "cant_hold", at + timedelta(minutes=n))
        store.end_session(sid, at + timedelta(minutes=10), "finished")
    finally:
        store.close()


@pytest.fixture
def two_people(tmp_path):
    data = tmp_path / "data"
    _record(data, "ann", [41, 42])
    _record(data, "bob", [11, 12, 13], day=1)
    return data


def test_holds_are_one_users(two_people):
    assert [h.held_s for h in history.holds(two_people, "ann")] == [41, 42]
    assert [h.held_s for h in history.holds(two_people, "bob")] == [11, 12, 13]
    assert len(history.holds(two_people, None)) == 5                        # everyone's
    assert history.holds(two_people, "carl") == []
    assert history.holds(two_people.parent / "nothing", "ann") == []       # no history file yet


def test_history_lines_and_table(two_people):
    holds = history.holds(two_people, "ann")
    lines = history.history_lines(holds)
    assert lines[0] == "bridge  (target 60 s; one row per session, a bar per set)"
    first_hold = START + timedelta(minutes=1)
    assert lines[1].startswith(f"  {first_hold:%Y-%m-%d %H:%M}  ") and lines[1].endswith("  41   42")
    table = history.history_table(holds)
    assert table[0].startswith("date") and len(table) == 3 and " ann " in table[1]


def _cli(args, monkeypatch, capsys, env: dict[str, str]) -> str:
    for name in ("COACH_USER", "COACH_CONFIG", "COACH_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(args) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("how", ["config", "environment", "command line"])
def test_coach_history_shows_only_the_resolved_user(two_people, tmp_path, monkeypatch, capsys, how):
    """It used to mix every user's holds unless --user was given."""
    config = tmp_path / "config.yaml"
    config.write_text("user: ann\n")
    env = {"COACH_DATA_DIR": str(two_people), "COACH_CONFIG": str(config)}
    args = ["history", "--json"]
    if how == "environment":
        env["COACH_USER"] = "bob"                   # the environment wins over the file
    elif how == "command line":
        env["COACH_USER"] = "ann"
        args += ["--user", "bob"]                   # the command line wins over both
    out = _cli(args, monkeypatch, capsys, env)
    users = {json.loads(line)["user"] for line in out.splitlines()}
    assert users == ({"ann"} if how == "config" else {"bob"})


def test_with_no_user_named_history_and_export_show_everyone(two_people, tmp_path, monkeypatch, capsys):
    env = {"COACH_DATA_DIR": str(two_people), "COACH_CONFIG": str(tmp_path / "none.yaml")}
    (tmp_path / "none.yaml").write_text("# nothing set\n")
    out = _cli(["history", "--json"], monkeypatch, capsys, env)
    assert {json.loads(line)["user"] for line in out.splitlines()} == {"ann", "bob"}
    (tmp_path / "none.yaml").write_text("user: bob\n")
    out = _cli(["export", "--format", "json"], monkeypatch, capsys, env)
    assert {s["user"] for s in json.loads(out)["sessions"]} == {"bob"}


def test_the_user_is_resolved_the_same_way_for_every_command(two_people, tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.yaml"
    config.write_text("user: bob\n")
    env = {"COACH_DATA_DIR": str(two_people), "COACH_CONFIG": str(config)}
    assert "for bob" in _cli(["status"], monkeypatch, capsys, env).splitlines()[0]
    table = _cli(["history", "--all"], monkeypatch, capsys, env)
    assert " 11.0s " in table and " 41.0s " not in table and " ann " not in table
    assert user_of(settings(config, {})) == "bob"
    assert user_of(settings(config, {"COACH_USER": "ann"})) == "ann"
    assert user_of(settings(config, {"COACH_USER": "ann"}, {"user": "carl"})) == "carl"


def test_status_lines(two_people):
    lines = progress.status_lines(two_people, "glutes", "ann", date(2026, 11, 20))
    assert lines[0].endswith("for ann") and lines[1].startswith("  today:   1 session of")
    fresh = progress.status_lines(two_people.parent / "none", "glutes", "ann", date(2026, 11, 20))
    assert len(fresh) == 1 and "no sessions yet for ann" in fresh[0]


def test_lock_and_unlock(two_people):
    line = progress.set_unlock(two_people, "glutes", "ann", "band_bridge", progress.UnlockState.UNLOCKED,
                               START)
    assert line.endswith(": unlocked for ann")
    status = progress.status_lines(two_people, "glutes", "ann", date(2026, 11, 20))
    assert any("unlocked on 2026-11-20" in s for s in status)
    with pytest.raises(UsageError, match="not an advanced exercise"):
        progress.set_unlock(two_people, "glutes", "ann", "bridge", progress.UnlockState.LOCKED, START)


def test_export_and_import_round_trip(two_people, tmp_path):
    out = io.StringIO()
    result = history.export_history(two_people, "json", out)
    assert (result.sessions, result.holds) == (2, 5)
    only_ann = history.export_history(two_people, "csv", tmp_path / "ann.csv", user="ann")
    assert only_ann.holds == 2
    fresh = tmp_path / "fresh"
    imported = history.import_history(fresh, tmp_path / "ann.csv")
    assert (imported.sessions_added, imported.holds_added) == (1, 2)
    assert history.import_history(fresh, tmp_path / "ann.csv").holds_added == 0
    with pytest.raises(UsageError, match="cannot write"):
        history.export_history(two_people, "csv", tmp_path / "no" / "such" / "dir" / "x.csv")


def test_chart_needs_a_real_exercise(two_people, tmp_path):
    with pytest.raises(UsageError, match="no exercise `nope`"):
        progress.chart(two_people, "glutes", "ann", "nope", tmp_path / "x.png")


def test_chart_and_report_show_the_routine_asked_for_else_the_one_last_run(two_people):
    _record(two_people, "ann", [30], day=2, routine="mine")
    _record(two_people, "ann", [], day=3, routine="empty")       # no holds: not what was "run"
    assert progress.last_routine(two_people, "ann") == "mine"
    assert progress.routine_to_show(two_people, "ann", None, "glutes") == "mine"
    assert progress.routine_to_show(two_people, "ann", "glutes", "glutes") == "glutes"   # asked for
    assert progress.routine_to_show(two_people, "bob", None, "glutes") == "glutes"
    assert progress.routine_to_show(two_people, "carl", None, "glutes") == "glutes"      # no sessions
    assert progress.last_routine(two_people.parent / "none", "ann") is None              # no history


def test_report_without_sessions_is_a_usage_error_and_writes_nothing(two_people, tmp_path):
    from coach.api.report import write_report

    out = tmp_path / "r.html"
    with pytest.raises(UsageError, match="no sessions of `glutes` for carl yet"):
        write_report(two_people, "glutes", "carl", out, None, START)
    with pytest.raises(UsageError, match="no sessions of `glutes` for ann yet"):
        write_report(two_people.parent / "none", "glutes", "ann", out, None, START)
    assert not out.exists() and not (two_people.parent / "none").exists()


def test_say_without_a_sound_card_says_how_to_keep_the_speech(tmp_path, monkeypatch):
    from coach.errors import AudioDeviceError
    from coach.speech import speakers

    def no_card(samples):   # noqa: ANN001, ANN202 - stands in for play_samples
        raise AudioDeviceError("no audio output device")

    monkeypatch.setattr(speakers, "play_samples", no_card)
    with pytest.raises(AudioDeviceError, match=r"no audio output device; .*coach say 'Lift, and hold\.' "
                                               r"--out say.wav"):
        library.say("Lift, and hold.", "en-us", tmp_path)


def test_routines_and_voices(tmp_path):
    assert any(line.startswith("glutes ") for line in library.routine_lines(tmp_path))
    assert any(line.startswith("en-us ") for line in library.voice_lines(tmp_path))


def test_say_without_text_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="say what"):
        library.say("", "en-us", tmp_path)
