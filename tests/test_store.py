"""The SQLite history, on a real file."""

from __future__ import annotations

import sqlite3
import stat
from datetime import datetime, timedelta, timezone

import pytest

from coach.errors import StoreError
from coach.history import Store

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=timezone(timedelta(hours=1)))


def test_holds_are_committed_at_once_and_visible_to_another_connection(tmp_path):
    db = tmp_path / "h.sqlite3"
    store = Store(db)
    sid = store.start_session("glutes", T0, "keys", "en-us")
    store.record_hold(sid, "bridge", 1, 60.0, 41.8, "cant_hold", T0 + timedelta(seconds=30))
    other = sqlite3.connect(db)             # no close() on `store`: the hold must already be on disk
    assert other.execute("SELECT exercise, set_no, target_s, held_s, ended_by FROM holds").fetchall() == [
        ("bridge", 1, 60.0, 41.8, "cant_hold")]
    other.close()
    store.close()


def test_round_trip_and_filters(tmp_path):
    store = Store(tmp_path / "h.sqlite3")
    a = store.start_session("glutes", T0, "keys", "en-us")
    store.record_hold(a, "bridge", 1, 60.0, 60.0, "target", T0)
    store.record_hold(a, "bridge", 2, 60.0, 42.5, "done", T0 + timedelta(minutes=2))
    store.end_session(a, T0 + timedelta(minutes=5), "finished")
    b = store.start_session("other", T0 + timedelta(days=1), "voice", "en-us")
    store.record_hold(b, "plank", 1, 30.0, 12.0, "stop", T0 + timedelta(days=1))
    holds = store.holds()
    assert [(h.routine, h.exercise, h.set, h.held_s) for h in holds] == [
        ("glutes", "bridge", 1, 60.0), ("glutes", "bridge", 2, 42.5), ("other", "plank", 1, 12.0)]
    assert [h.set for h in store.holds(routine="glutes")] == [1, 2]
    assert holds[1].started_at == "2026-11-27T08:02:00.000+01:00"
    sessions = store.sessions()
    assert [(s.status, s.holds) for s in sessions] == [("finished", 2), ("running", 1)]


def test_file_is_private(tmp_path):
    store = Store(tmp_path / "h.sqlite3")
    store.close()
    assert stat.S_IMODE((tmp_path / "h.sqlite3").stat().st_mode) == 0o600


@pytest.mark.parametrize("content", [b"this is not a database" * 50, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_corrupt_database_is_reported_and_left_untouched(tmp_path, content):
    db = tmp_path / "h.sqlite3"
    db.write_bytes(content)
    with pytest.raises(StoreError) as err:
        Store(db)
    assert str(err.value).startswith(f"{db}: not a usable coach history")
    assert "\n" not in str(err.value)
    assert db.read_bytes() == content


def test_foreign_sqlite_file_is_not_adopted(tmp_path):
    db = tmp_path / "h.sqlite3"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE notes (x)")
    con.commit()
    con.close()
    before = db.read_bytes()
    with pytest.raises(StoreError, match="not a coach database"):
        Store(db)
    assert db.read_bytes() == before


def test_read_only_history_gives_store_error_on_write(tmp_path):
    store = Store(tmp_path / "h.sqlite3")
    sid = store.start_session("glutes", T0, "keys", "en-us")
    store.close()
    ro = Store.__new__(Store)
    ro.path = tmp_path / "h.sqlite3"
    ro._db = sqlite3.connect(f"file:{ro.path}?mode=ro", uri=True, isolation_level=None)
    with pytest.raises(StoreError, match="cannot write the history"):
        ro.record_hold(sid, "bridge", 1, 60, 10, "done", T0)
