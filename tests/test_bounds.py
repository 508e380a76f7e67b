"""Issue 11, item 4: validation closes the holes that passed and then ate memory or tracebacked."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import COACH, ROOT

from coach.errors import RoutineError, UsageError
from coach.history.store import Store, printable
from coach.history.transfer import import_file
from coach.routine import load_routine

ROUTINE = """\
title: T
summary: S
exercises:
  - id: bridge
    title: Bridge
    say: Lift.
    hold_s: {hold_s}
    sets: 1
{extra}"""


def _load(tmp_path: Path, hold_s: float = 30, extra: str = "", top: str = "") -> None:
    path = tmp_path / "r.yaml"
    path.write_text(top + ROUTINE.format(hold_s=hold_s, extra=extra))
    load_routine(path)


@pytest.mark.parametrize("top", ["cues: {every_s: 1e-300}\n", "cues: {every_s: 0.001}\n",
                                 "cues: {rest_every_s: 0.5}\n"])
def test_a_tiny_cue_interval_is_refused(tmp_path, top):
    with pytest.raises(RoutineError, match=r"must be 0 \(never\) or at least 1 seconds"):
        _load(tmp_path, top=top)


def test_too_many_cues_for_a_long_hold_are_refused_naming_the_field(tmp_path):
    with pytest.raises(RoutineError, match=r"exercises\[0\]\.cues: a 3600 s hold with "
                                           r"`every_s: 1` gives 3600 cues; at most 600"):
        _load(tmp_path, hold_s=3600, extra="    cues: {every_s: 1}\n")
    with pytest.raises(RoutineError, match=r"exercises\[0\]\.hold_s: a 3600 s hold"):
        _load(tmp_path, hold_s=3600, top="cues: {every_s: 2}\n")
    _load(tmp_path, hold_s=3600, top="cues: {every_s: 6}\n")        # 600: allowed
    _load(tmp_path, hold_s=3600, top="cues: {every_s: 0}\n")        # never: allowed


def _export(sessions: list[dict]) -> dict:
    return {"format": "coach-history", "version": 1, "sessions": sessions, "unlocks": []}


SESSION = {"id": 1, "user": "ana", "routine": "glutes", "started_at": "2026-11-27T08:00:00.000+01:00",
           "ended_at": None, "status": "finished", "input": "keys", "voice": "en-us", "holds": []}


@pytest.mark.parametrize(("text", "message"), [
    (json.dumps(_export([dict(SESSION, id=2**64)])), "sessions[0].id: must be at most 9223372036854775807"),
    (json.dumps(_export([dict(SESSION, id=10**40)])), "sessions[0].id: must be at most"),
    (json.dumps(_export([dict(SESSION, holds=[{"exercise": "b", "set": 2**70, "target_s": 1, "held_s": 1,
                                               "ended_by": "done",
                                               "started_at": "2026-11-27T08:00:00.000+01:00"}])])),
     "holds[0].set: must be at most"),
    (json.dumps(_export([dict(SESSION, holds=[{"exercise": "b", "set": 1, "target_s": 10**400, "held_s": 1,
                                               "ended_by": "done",
                                               "started_at": "2026-11-27T08:00:00.000+01:00"}])])),
     "holds[0].target_s: must be between 0 and 86400 seconds, got a number of 401 digits"),
    ('{"format": "coach-history", "version": 1, "sessions": [{"id": ' + "9" * 5000 + "}]}",
     "not a coach export"),
    ('{"sessions": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ('{"a": ' * 50_000 + "1" + "}" * 50_000, "nested too deeply"),
])
def test_import_refuses_huge_numbers_and_deep_nesting_with_one_line(tmp_path, text, message):
    path = tmp_path / "x.json"
    path.write_text(text)
    store = Store(tmp_path / "h.sqlite3")
    with pytest.raises(UsageError, match=".*") as caught:
        import_file(store, path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert store.sessions() == []
    store.close()


def test_csv_import_refuses_a_5000_digit_number(tmp_path):
    from coach.history.transfer import CSV_COLUMNS

    row = {c: "" for c in CSV_COLUMNS}
    row.update(record="session", session_id="9" * 5000, user="a", routine="g",
               started_at="2026-11-27T08:00:00.000+01:00", status="finished", input="keys", voice="en-us")
    path = tmp_path / "x.csv"
    path.write_text(",".join(CSV_COLUMNS) + "\n" + ",".join(row[c] for c in CSV_COLUMNS) + "\n")
    store = Store(tmp_path / "h.sqlite3")
    with pytest.raises(UsageError, match="session_id: must be a whole number up to"):
        import_file(store, path)
    store.close()


def test_history_prints_no_control_characters(tmp_path):
    assert printable("bridge\x1b[2J\x07\u202eevil\r") == "bridge[2Jevil"
    data = tmp_path / "data"
    store = Store(data / "history.sqlite3")
    from datetime import datetime, timezone

    t = datetime(2026, 11, 27, 8, tzinfo=timezone.utc)
    sid = store.start_session("glutes", t, "keys", "en-us", user="ana\x1b]0;pwned\x07")
    store.record_hold(sid, "bri\x1b[31mdge", 1, 30.0, 20.0, "done", t)
    store.close()
    out = subprocess.run([*COACH, "history", "--all", "--data-dir", str(data)], capture_output=True,
                         text=True, cwd=str(ROOT), timeout=60)
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout and "bri[31mdge" in out.stdout
