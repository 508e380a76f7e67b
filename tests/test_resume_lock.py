"""Issue 11, item 6: two `--resume` of one session at once overwrote each other's holds
(`INSERT OR REPLACE`). Now a session is locked by the process carrying it on, and a hold is never
overwritten."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime

import pytest
from conftest import COACH, ROOT

from coach.history.lock import SessionLocks
from coach.history.store import HoldConflict, Store

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from coach.history.lock import SessionLocks
    locks = SessionLocks(Path(sys.argv[1]))
    assert locks.take(int(sys.argv[2]))
    print("locked", flush=True)
    sys.stdin.read()
""")


def hold_lock(data_dir, session_id: int) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir), str(session_id)], cwd=str(ROOT),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "locked"
    return child


def test_a_session_lock_is_one_process_at_a_time_and_goes_with_the_process(tmp_path):
    child = hold_lock(tmp_path, 7)
    try:
        mine = SessionLocks(tmp_path)
        assert not mine.take(7) and mine.take(8)
    finally:
        child.communicate("", timeout=10)
    assert mine.take(7)                 # the holder ended: its lock went with it
    mine.close()


def test_a_hold_is_never_overwritten(tmp_path):
    store = Store(tmp_path / "h.sqlite3")
    t = datetime.now().astimezone()
    sid = store.start_session("short", t, "keys", "en-us")
    store.record_hold(sid, "bridge", 1, 3.0, 2.5, "done", t)
    store.record_hold(sid, "bridge", 1, 3.0, 2.5, "done", t)          # the same again: a retry
    with pytest.raises(HoldConflict, match="another coach is carrying on this session"):
        store.record_hold(sid, "bridge", 1, 3.0, 1.0, "cant_hold", t)
    assert [h.held_s for h in store.holds()] == [2.5]
    store.close()


def test_a_second_resume_of_a_session_being_carried_on_is_told_so(coach_env, data_dir):
    store = Store(data_dir / "history.sqlite3")
    t = datetime.now().astimezone()
    sid = store.start_session("short", t, "keys", "en-us")
    store.record_hold(sid, "bridge", 1, 3.0, 3.0, "target", t)
    store.end_session(sid, t, "interrupted")
    store.close()
    child = hold_lock(data_dir, sid)
    try:
        out = subprocess.run([*COACH, "run", "short", "--resume", "--quiet"], env=coach_env, cwd=str(ROOT),
                             capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    finally:
        child.communicate("", timeout=10)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "is already being carried on by another coach" in out.stderr
    store = Store(data_dir / "history.sqlite3")
    assert [(h.set, h.held_s) for h in store.holds()] == [(1, 3.0)] and len(store.sessions()) == 1
    store.close()
