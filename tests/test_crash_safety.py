"""Crash safety, proven: `coach run --mic` killed with SIGKILL at random moments of a replay.

After every kill the history opens cleanly, passes SQLite's integrity check, and holds exactly the
holds that had ended before the kill, each once, complete. The runner writes the `hold_end` log
line and then commits the hold (`SessionRunner._apply` -> `_save`), and writes its next log line
only after the commit returns. So the guarantee checked here is:

- every hold whose `hold_end` line is followed by any later line in the log is in the database;
- the database holds nothing the log does not show, except at most the one hold being saved at
  the moment of the kill (which would be the case if the store committed before the log line);
- no hold is there twice, and each is complete and equal to what the log says.

A replay is deterministic, so each killed run's log should also be a prefix of an uninterrupted
run's. Under heavy load a first narration line was seen to come out empty now and then (about one
run in twenty), which shifts the ready prompt; such runs are printed, not failed: the checks above
use each run's own log, and byte-for-byte replays are test_voice_session's to prove.
All kills share one data directory (each run with its own `--user`), so a database left by a
killed coach is also what the next coach opens.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import COACH, ROOT, load_script

pytestmark = pytest.mark.audio

make_session = load_script("make_session_wav")

# Few cues, so the user's commands fall between the coach's lines; 8 s holds, 2 s rest.
CRASH_ROUTINE = """\
title: Crash test
summary: Six 8-second holds with 2 s rest, few cues.
cues: {get_set_s: 1, every_s: 0, halfway: false, warn_left_s: 0, countdown_from: 0,
       rest_every_s: 0, rest_warn_left_s: 0}
exercises:
  - id: bridge
    title: Bridge
    say: "Lift your hips."
    hold_s: 8
    sets: 6
    rest_s: 2
"""
# Six holds ended every way: can't hold, target, done (the replay takes ~3 s of wall time).
PLAN = [(8.0, "ready"), (15.0, "can't hold"), (28.0, "ready"), (50.0, "ready"), (72.0, "ready"),
        (78.0, "i can't"), (92.0, "ready"), (114.0, "ready"), (120.0, "finished")]
LENGTH_S = 140.0
MIN_HOLDS = 3           # the reference replay must end at least this many holds, or the test proves little
LANES = 2               # runs killed side by side, sharing the history (also: a kill beside a live writer)


@dataclass
class Replay:
    env: dict[str, str]
    data: Path
    wav: Path
    reference: list[str]            # the event log lines of an uninterrupted run
    first_line_s: float             # wall time until the first log line (start-up)
    total_s: float                  # wall time of the whole run
    tally: dict[str, int] = field(default_factory=dict)
    diverged: list[str] = field(default_factory=list)     # killed runs whose log is not a prefix


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> Replay:
    base = tmp_path_factory.mktemp("crash")
    data = base / "data"
    (data / "routines").mkdir(parents=True)
    (data / "routines" / "crash.yaml").write_text(CRASH_ROUTINE)
    wav = base / "session.wav"
    make_session.make_session_wav(wav, PLAN, LENGTH_S)
    tmp = base / "tmp"              # the speech engine's scratch folder: what a kill leaves behind
    tmp.mkdir()
    env = dict(os.environ, COACH_DATA_DIR=str(data), PYTHONPATH=str(ROOT), TMPDIR=str(tmp))
    # Two uninterrupted runs side by side, as the kills run two at a time: their logs are the
    # reference, their timing (first log line, end) is what kill moments are drawn against.
    with ThreadPoolExecutor(LANES) as pool:
        runs = list(pool.map(lambda k: _reference_run(env, wav, base / f"ref{k}.jsonl", f"reference{k}"),
                             range(LANES)))
    reference = runs[0][0]
    if any(r[0] != reference for r in runs):    # seen rarely under load: the narration's timing differed
        again = _reference_run(env, wav, base / "ref-again.jsonl", "reference-again")[0]
        matching = [r for r in runs if r[0] == again]
        assert matching, "three replays of one file gave three different logs"
        reference = again
        print(f"\nnote: two side-by-side replays differed; a third agreed with {len(matching)} of them")
    ends = [json.loads(line) for line in reference if '"hold_end"' in line]
    assert len(ends) >= MIN_HOLDS, f"the replay ended only {len(ends)} hold(s): fix PLAN"
    first_line_s = max(r[1] for r in runs)
    total_s = max(r[2] for r in runs)
    return Replay(env, data, wav, reference, first_line_s, total_s)


def _reference_run(env: dict[str, str], wav: Path, ev: Path, user: str) -> tuple[list[str], float, float]:
    began = time.monotonic()
    proc = _start(env, wav, ev, user)
    first_line_s = 0.0
    while proc.poll() is None:
        if not first_line_s and ev.exists() and ev.stat().st_size:
            first_line_s = time.monotonic() - began
        time.sleep(0.005)
    total_s = time.monotonic() - began
    _, stderr = proc.communicate()
    assert proc.returncode == 0, stderr
    return ev.read_text().splitlines(), first_line_s or total_s / 2, total_s


def _start(env: dict[str, str], wav: Path, ev: Path, user: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*COACH, "run", "crash", "--mic", str(wav), "--events", str(ev), "--user", user],
                            env=env, cwd=str(ROOT), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _hold_key(record: dict) -> tuple:
    return (record["exercise"], record["set"], round(record["held_s"], 3), record["ended_by"],
            record["target_s"])


def _history(env: dict[str, str]) -> list[dict]:
    out = subprocess.run([*COACH, "history", "--json"], env=env, cwd=str(ROOT), capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and not out.stderr, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def _check_after_kill(replay: Replay, ev: Path, user: str, killed: bool, before: list[dict],
                      stderr: str = "", lane: frozenset[str] = frozenset()) -> None:
    # 1. The database opens cleanly, through coach and through SQLite's own check.
    holds = _history(replay.env)
    db = sqlite3.connect(replay.data / "history.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        sessions = db.execute("SELECT status, ended_at FROM sessions WHERE user = ?", (user,)).fetchall()
        orphans = db.execute("SELECT COUNT(*) FROM holds WHERE session_id NOT IN (SELECT id FROM sessions)")
        assert orphans.fetchone()[0] == 0
    finally:
        db.close()
    # 2. Earlier runs' holds are exactly as they were.
    others = lane | {user}
    assert [h for h in holds if h["user"] not in others] == [h for h in before if h["user"] not in others]

    # 3. The log: whole lines only (each is one flushed write), ideally a prefix of the reference run.
    text = ev.read_text() if ev.exists() else ""
    assert text == "" or text.endswith("\n"), f"a half-written log line: {text.splitlines()[-1]!r}"
    lines = text.splitlines()
    if lines != replay.reference[: len(lines)]:     # the narration's timing differed: noted, see above
        pairs = zip(lines, replay.reference[: len(lines)], strict=False)
        first = next((i for i, (a, b) in enumerate(pairs) if a != b), len(lines) - 1)
        replay.diverged.append(f"{user}: line {first + 1}: {lines[first][:80]} "
                               f"(stderr: {stderr.strip()[:200]!r})")
    records = [json.loads(line) for line in lines]
    logged = [_hold_key(r) for r in records if r["type"] == "hold_end"]
    durable = [_hold_key(r) for i, r in enumerate(records)
               if r["type"] == "hold_end" and i + 1 < len(records)]

    # 4. The database holds exactly the holds that had ended, each once, each complete.
    mine = [h for h in holds if h["user"] == user]
    stored = [(h["exercise"], h["set"], round(h["held_s"], 3), h["ended_by"], h["target_s"]) for h in mine]
    assert len(stored) == len(set(stored)), f"a hold is stored twice: {stored}"
    assert set(durable) <= set(stored), f"lost a finished hold: logged {durable}, stored {stored}"
    unlogged = [h for h in stored if h not in logged]       # only the one being saved at the kill,
    assert len(unlogged) <= 1 and all(h[1] == len(logged) + 1 for h in unlogged), \
        f"a hold that had not ended: {stored} vs {logged}"  # if the store commits before the log line
    for h in mine:
        assert h["routine"] == "crash" and h["session_id"] > 0 and h["started_at"][:2] == "20"
        assert 0.0 <= h["held_s"] <= h["target_s"]
    if records:                             # the session row was written before the first log line
        assert len(sessions) == 1
        status, ended_at = sessions[0]
        ended = records[-1]["type"] == "session_end"        # killed, maybe, while closing down
        if not killed:
            assert status != "running"
        elif not ended:
            assert status == "running"
        assert (ended_at is None) == (status == "running")
    else:
        assert not mine

    key = "killed" if killed else "finished before the kill"
    replay.tally[key] = replay.tally.get(key, 0) + 1
    replay.tally[f"{len(logged)} holds logged"] = replay.tally.get(f"{len(logged)} holds logged", 0) + 1
    if set(stored) != set(logged):
        replay.tally["kill between hold_end line and commit"] = \
            replay.tally.get("kill between hold_end line and commit", 0) + 1


def _kill_one(replay: Replay, ev: Path, user: str, u: float | None = None,
              at_hold_end: int | None = None) -> tuple[bool, str]:
    """Start a run and SIGKILL it: at `u` of the replay (u < 0: in the later half of start-up,
    opening the history and starting the session; 0..1: timed from the first log line, so start-up
    jitter on a busy machine does not push kills past the end), or the moment the
    `at_hold_end`-th hold_end line appears (its commit is under way, or just done)."""
    proc = _start(replay.env, replay.wav, ev, user)
    began = time.monotonic()
    if at_hold_end is not None:
        deadline = None
        while proc.poll() is None:
            if ev.exists() and ev.read_text().count('"hold_end"') >= at_hold_end:
                break
            time.sleep(0.001)
    elif u is not None and u < 0:
        deadline = began + replay.first_line_s * (1.0 + 5.0 * u)
    else:
        while proc.poll() is None and not (ev.exists() and ev.stat().st_size):
            time.sleep(0.002)
        deadline = time.monotonic() + (u or 0.0) * (replay.total_s - replay.first_line_s)
    try:
        proc.wait(timeout=0 if deadline is None else max(0.0, deadline - time.monotonic()))
        killed = False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        killed = True
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if not killed:
        assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    return killed, stderr


def _kill_many(replay: Replay, tmp_path: Path, n_random: int, seed: int, at_hold_ends: list[int]) -> dict:
    """Kill runs two at a time (each on its own schedule), then check each run's holds."""
    rng = random.Random(seed)
    plan = [(rng.uniform(-0.1, 1.0), None) for _ in range(n_random)] + [(None, n) for n in at_hold_ends]
    replay.tally, replay.diverged = {}, []
    before = _history(replay.env)
    for first in range(0, len(plan), LANES):
        lane = {f"kill{seed}-{k}": plan[k] for k in range(first, min(first + LANES, len(plan)))}
        with ThreadPoolExecutor(len(lane)) as pool:
            jobs = {user: pool.submit(_kill_one, replay, tmp_path / f"{user}.jsonl", user, u, at_hold_end)
                    for user, (u, at_hold_end) in lane.items()}
        for user, job in jobs.items():
            killed, stderr = job.result()
            _check_after_kill(replay, tmp_path / f"{user}.jsonl", user, killed, before, stderr,
                              frozenset(lane))
        before = _history(replay.env)
    leftovers = list(Path(replay.env["TMPDIR"]).iterdir())
    print(f"\n{len(plan)} kills, {LANES} at a time (start-up {replay.first_line_s:.2f} s, whole run "
          f"{replay.total_s:.2f} s): {dict(sorted(replay.tally.items()))}; left in TMPDIR: "
          f"{len(leftovers)} folder(s), {len([p for d in leftovers for p in d.glob('*.wav')])} WAV file(s)")
    for note in replay.diverged:        # reported, not failed: determinism is test_voice_session's
        print(f"  not a prefix of the reference log: {note}")
    return replay.tally


def _hold_ends(replay: Replay) -> int:
    return sum('"hold_end"' in line for line in replay.reference)


def test_six_kills_lose_nothing_and_leave_nothing_half_written(replay, tmp_path):
    """Four at random moments, and two as a hold ends (the first and the last). (Ten until the
    default run neared its 10-minute budget; the fifty below run in the slow lane.)"""
    tally = _kill_many(replay, tmp_path, 4, seed=10, at_hold_ends=[1, _hold_ends(replay)])
    assert tally.get("killed", 0) >= 4                  # the kills really landed inside the runs


@pytest.mark.slow
def test_fifty_kills_lose_nothing_and_leave_nothing_half_written(replay, tmp_path):
    """Fifty at random moments, and one as each hold ends."""
    n = _hold_ends(replay)
    tally = _kill_many(replay, tmp_path, 50, seed=50, at_hold_ends=list(range(1, n + 1)))
    assert tally.get("killed", 0) >= 40 + n
