"""Issue 11, item 12: replays keep their own time. Before, a `--mic` session was stamped with the
wall clock at its start and closed with the wall clock at its end, so a replay (faster than real
time) had holds stamped after its session ended."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta

import pytest
from conftest import COACH, ROOT, load_script

from coach.history.store import Store

pytestmark = pytest.mark.audio

make_session = load_script("make_session_wav")

LENGTH_S = 24.0


@pytest.fixture(scope="module")
def session_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("replay") / "session.wav"
    make_session.make_session_wav(path, [(8.0, "ready")], LENGTH_S, voice="flite:rms")
    return path


def run(args, env):
    out = subprocess.run([*COACH, *args], env=env, cwd=str(ROOT), capture_output=True, text=True,
                         timeout=300, stdin=subprocess.DEVNULL)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    return out


def stored(data_dir):
    store = Store(data_dir / "history.sqlite3")
    try:
        return store.sessions(), store.holds()
    finally:
        store.close()


def check_inside(session, holds, start: datetime) -> None:
    began = datetime.fromisoformat(session.started_at)
    ended = datetime.fromisoformat(session.ended_at)
    assert began == start
    assert ended == start + timedelta(seconds=LENGTH_S - 0.1) or abs((ended - start).total_seconds()
                                                                    - LENGTH_S) < 0.5
    assert holds and all(began <= datetime.fromisoformat(h.started_at) <= ended for h in holds)
    assert session.input == "replay"


def test_a_replay_is_stamped_from_start_time_and_marked_as_a_replay(coach_env, data_dir, session_wav):
    run(["run", "short", "--mic", str(session_wav), "--quiet", "--start-time", "2026-11-27T07:58"], coach_env)
    (session,), holds = stored(data_dir)
    check_inside(session, holds, datetime.fromisoformat("2026-11-27T07:58").astimezone())


def test_without_start_time_a_replay_starts_when_the_recording_began(coach_env, data_dir, session_wav,
                                                                     tmp_path):
    wav = tmp_path / "copy.wav"
    wav.write_bytes(session_wav.read_bytes())
    recorded_end = datetime(2026, 11, 20, 18, 30, 0).astimezone()
    os.utime(wav, (recorded_end.timestamp(), recorded_end.timestamp()))
    run(["run", "short", "--mic", str(wav), "--quiet"], coach_env)
    (session,), holds = stored(data_dir)
    check_inside(session, holds, recorded_end - timedelta(seconds=LENGTH_S))


def test_dry_run_keeps_the_session_out_of_the_history(coach_env, data_dir, session_wav):
    store = Store(data_dir / "history.sqlite3")        # someone else's history: it must stay as it is
    t = datetime(2026, 11, 26, 8, 0).astimezone()
    store.record_hold(store.start_session("short", t, "keys", "en-us", user="other"), "bridge", 1, 3.0, 3.0,
                      "target", t)
    store.close()
    before = (data_dir / "history.sqlite3").read_bytes()
    out = run(["run", "short", "--mic", str(session_wav), "--quiet", "--dry-run"], coach_env)
    assert "1 hold recorded" in out.stdout and "could not" not in out.stderr, out.stderr
    assert len(stored(data_dir)[0]) == 1
    assert (data_dir / "history.sqlite3").read_bytes() == before
