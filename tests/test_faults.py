"""A hostile environment: damaged or foreign history files, a history that cannot be written, two
coaches at once, a speech engine that hangs or fails, a recognizer that raises, broken WAV input, a
microphone that goes away; and privacy: private files, no stray audio, no listening sockets.

Every case must end in one of two ways: coach carries on without losing a finished hold or freezing
the count, or it stops with one actionable line and a non-zero status, leaving the user's files
as they were. In-process cases build a `SessionRunner` from real parts, with hand-written fakes
only where the fault is injected (a recognizer that says what it is told, a synthesizer that hangs).
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import shutil
import sqlite3
import stat
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from conftest import COACH, ROOT, SHORT_ROUTINE, make_routine

from coach.asr.base import Heard
from coach.asr.listener import CommandListener
from coach.asr.selfvoice import EchoEvidence
from coach.audio.chunk import AudioChunk
from coach.audio.wav import WavMicrophone, load_pcm16, read_wav, resample, write_wav
from coach.defaults import CHUNK_S, DITHER_LSB, RATE_HZ
from coach.errors import AudioDeviceError
from coach.history.store import Store
from coach.routine.model import CueTiming, default_cues
from coach.runner.display import Display
from coach.runner.eventlog import EventLog
from coach.runner.keys import KeyReader
from coach.runner.loop import RunResult, SessionRunner
from coach.runner.source import TimeSource
from coach.session import Session
from coach.session.core import HOLD_GRACE_S
from coach.session.plan import NO_PLAN
from coach.speech.narrator import Narrator
from coach.speech.speakers import SilentSpeaker
from coach.speech.timeline import SpeechTimeline

# -- fakes at the edges -------------------------------------------------------------------------


# With a timeline, the listener hands the recognizer its audio this late (the echo gate's look-back).
GATE_LAG_S = EchoEvidence().delay_samples / RATE_HZ


class ScriptedRecognizer:
    """Hears `command` at the given stream seconds (as if 0.3 s long), whatever the audio; raises
    from `feed` once `fail_at_s` of audio has been fed, like a native decoder falling over."""

    name = "scripted"
    model = "none"
    rate_hz = RATE_HZ

    def __init__(self, script: list[tuple[float, str]], fail_at_s: float | None = None,
                 lag_s: float = 0.0) -> None:
        """`script` in session seconds; `lag_s`: how late the listener hands this recognizer its
        audio (the echo gate's look-back, with a timeline), so its own clock runs that far behind."""
        self._script = sorted((t + lag_s, command) for t, command in script)
        self._fed = 0
        self.fail_at_s = fail_at_s
        self.calls_after_failure = 0

    def feed(self, pcm: bytes) -> list[Heard]:
        now = self._fed / RATE_HZ
        if self.fail_at_s is not None and now >= self.fail_at_s:
            self.calls_after_failure += 1
            raise RuntimeError("decoder state corrupted")
        self._fed += len(pcm) // 2
        now = self._fed / RATE_HZ
        out = []
        while self._script and self._script[0][0] + 0.3 <= now:
            t, command = self._script.pop(0)
            phrase = {"cant_hold": "can't hold"}.get(command, command)
            out.append(Heard(command, phrase, t, t + 0.3, 0.99))
        return out

    def flush(self) -> list[Heard]:
        return []

    def reset(self) -> None:
        pass


class HangingSynth:
    """A speech engine whose renders never finish (pyttsx3 stuck in its run loop)."""

    name = "hanging"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def submit(self, text: str) -> Future:
        self.asked.append(text)
        return Future()

    def close(self) -> None:
        pass


class FailingSynth(HangingSynth):
    """A speech engine whose renders fail (no voice, a driver error)."""

    def submit(self, text: str) -> Future:
        self.asked.append(text)
        job: Future = Future()
        job.set_exception(RuntimeError("espeak-ng: no audio device driver"))
        return job


class DeadThreadSynth(HangingSynth):
    """A speech engine whose owner thread died: asking for a line raises at once."""

    def submit(self, text: str) -> Future:
        self.asked.append(text)
        raise RuntimeError("the pyttsx3 thread is not running")


class VanishingMic:
    """A live microphone whose device goes away after `lose_after_s` of audio (yielded at once)."""

    live = True
    name = "vanishing"

    def __init__(self, lose_after_s: float) -> None:
        self.lose_after_s = lose_after_s
        self.closed = False

    def __iter__(self) -> Iterator[AudioChunk]:
        n = int(round(CHUNK_S * RATE_HZ))
        k = 0
        while k * CHUNK_S < self.lose_after_s - 1e-9:
            yield AudioChunk(np.zeros(n, dtype="<i2").tobytes(), k * CHUNK_S)
            k += 1
        raise AudioDeviceError("the microphone `USB Audio` went away")

    def close(self) -> None:
        self.closed = True


class ReadOnlyFor(Store):
    """A real Store whose next `fail_writes` hold writes go through a read-only SQLite connection:
    SQLite itself refuses them ("attempt to write a readonly database")."""

    fail_writes = 0

    def record_hold(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        if self.fail_writes <= 0:
            return super().record_hold(*args, **kwargs)
        self.fail_writes -= 1
        writable = self._db
        self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        try:
            return super().record_hold(*args, **kwargs)
        finally:
            self._db.close()
            self._db = writable


# -- a session in-process ---------------------------------------------------------------------

# One hold exercise, no setup step: 3 s holds, 2 s rest, "1" before each hold.
# Printed narration: the ready prompt at 1.8 s; "ready" at 5 s (0.3 s long, reaching the recognizer
# GATE_LAG_S later) starts the get-set at 5.5 s and the hold at 8.0 s; "can't hold" at 10 s ends set 1
# after 2.0 s; "ready" at 20 s starts set 2 at 23.0 s, which runs to its 3 s target at 26.0 s.
SCRIPT = [(5.0, "ready"), (10.0, "cant_hold"), (20.0, "ready")]
EXPECTED = [(1, 2.0, "cant_hold"), (2, 3.0, "target")]


class Run:
    """The pieces of one in-process session, and what it printed."""

    def __init__(self, tmp: Path, voice, *, script=SCRIPT, synth=None, live_narrator: bool = False,
                 store: Store | None = None, mic=None, keys=None, length_s: float = 30.0,
                 fail_at_s: float | None = None, on_failure: bool = True, hold_s: float = 3,
                 sets: int = 2, tts_timeout_s: float = 0.3) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.out, self.err = io.StringIO(), io.StringIO()
        self.display = Display(self.out, self.err)
        routine = make_routine(hold_s=hold_s, sets=sets, rest=(2, 2), cues=CueTiming(get_set_s=1),
                               setup=False)
        self.session = Session(routine, voice, default_cues(), NO_PLAN)
        self.timeline = SpeechTimeline()
        self.narrator = Narrator(synth, self.timeline, live=live_narrator, warn=self.display.warn,
                                 timeout_s=tts_timeout_s)
        self.log_path = tmp / "ev.jsonl"
        self.log = EventLog(self.log_path)
        if mic is None and keys is None:
            wav = tmp / "room.wav"
            write_wav(wav, np.zeros(int(length_s * RATE_HZ), dtype=np.int16), RATE_HZ)
            mic = WavMicrophone(wav, dither_lsb=DITHER_LSB)
        self.source = TimeSource(mic, self.display, self.log, self.timeline)
        self.recognizer = ScriptedRecognizer(script, fail_at_s, GATE_LAG_S if mic is not None else 0.0)
        self.listener = None
        if mic is not None:
            self.listener = CommandListener(self.recognizer, self.timeline, phrases=voice.phrases,
                                            on_failure=self.display.warn if on_failure else None)
        self.store = store if store is not None else Store(tmp / "history.sqlite3")
        wall = datetime.now().astimezone()
        self.session_id = self.store.start_session(routine.name, wall, "voice", voice.name)
        self.runner = SessionRunner(self.session, self.narrator, SilentSpeaker(), self.log, self.display,
                                    self.store, self.session_id, wall, source=self.source,
                                    listener=self.listener, keys=keys)

    def run(self) -> RunResult:
        try:
            return self.runner.run()
        finally:
            self.log.close()

    def run_until_holds(self, n: int, limit_s: float = 20.0) -> RunResult:
        """Drive the loop by hand until `n` holds have ended (a live session has no end of file)."""
        self.runner.begin(0.0)
        try:
            for t, chunk in self.source:
                self.runner.step(t, chunk)
                if len(self.runner.result.holds) >= n or t > limit_s:
                    break
        finally:
            self.log.close()
        return self.runner.result

    def records(self, *types: str) -> list[dict]:
        records = [json.loads(line) for line in self.log_path.read_text().splitlines()]
        return [r for r in records if not types or r["type"] in types]

    def warnings(self) -> list[str]:
        return self.err.getvalue().splitlines()


def _holds(result: RunResult) -> list[tuple[int, float, str]]:
    return [(h.set, round(h.held_s, 3), h.ended_by) for h in result.holds]


def _stored(store: Store) -> list[tuple[int, float, str]]:
    return [(h.set, h.held_s, h.ended_by) for h in store.holds()]


@pytest.fixture
def baseline(tmp_path, voice) -> Run:
    """The scripted session with every edge healthy and the narration printed."""
    run = Run(tmp_path / "baseline", voice)
    result = run.run()
    assert result.status == "finished" and _holds(result) == EXPECTED and not run.warnings()
    return run


def _timing(run: Run) -> list[dict]:
    return run.records("hold_start", "hold_end", "heard", "rest_start", "rest_end", "session_end")


# -- the history ------------------------------------------------------------------------------


def run_cli(args: list[str], env: dict[str, str], timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*COACH, *args], env=env, cwd=str(ROOT), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, **kw)


def one_line_error(out: subprocess.CompletedProcess, status: int) -> str:
    """The process failed with `status`, and said why in exactly one line, with no traceback."""
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("coach: error: "), out.stderr
    assert out.returncode == status, (out.returncode, out.stderr)
    return lines[0]


def _real_history(path: Path) -> None:
    store = Store(path)
    now = datetime.now().astimezone()
    for _ in range(60):
        sid = store.start_session("glutes", now, "keys", "en-us")
        for k in range(1, 6):
            store.record_hold(sid, "bridge", k, 60.0, 30.0 + k, "done", now)
    store.close()


def _foreign(path: Path, user_version: int) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")         # and in WAL mode: a switch would be invisible
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO notes (body) VALUES ('my shopping list')")
    db.execute(f"PRAGMA user_version = {user_version}")
    db.commit()
    db.close()


def _damage(kind: str, db: Path) -> None:
    if kind == "garbage":
        db.write_bytes(os.urandom(8192))
    elif kind == "truncated":
        _real_history(db)
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 2])
    elif kind == "truncated-header":
        _real_history(db)
        db.write_bytes(db.read_bytes()[:60])
    elif kind == "foreign":
        _foreign(db, 0)
    elif kind == "foreign-claiming-v1":         # another program's file that sets user_version = 1
        _foreign(db, 1)
    elif kind == "foreign-claiming-v2":
        _foreign(db, 2)


@pytest.fixture(scope="module")
def noise_wav(tmp_path_factory) -> Path:
    """Ten seconds of a quiet room: enough for a session to start and end at the end of the file."""
    path = tmp_path_factory.mktemp("noise") / "room.wav"
    rng = np.random.default_rng(3)
    write_wav(path, (rng.normal(0, 30, 10 * RATE_HZ)).astype(np.int16), RATE_HZ)
    return path


@pytest.mark.parametrize("kind", ["garbage", "truncated", "truncated-header", "foreign",
                                  "foreign-claiming-v1", "foreign-claiming-v2"])
def test_a_damaged_or_foreign_history_is_refused_in_one_line_and_left_byte_identical(
        kind, coach_env, data_dir, noise_wav):
    db = data_dir / "history.sqlite3"
    _damage(kind, db)
    before = db.read_bytes()
    for args in (["history", "--json"], ["run", "short", "--mic", str(noise_wav), "--quiet"]):
        line = one_line_error(run_cli(args, coach_env), 3)
        assert line.startswith(f"coach: error: {db}: not a usable coach history (")
        assert "move it aside" in line
        assert db.read_bytes() == before
        assert sorted(p.name for p in data_dir.iterdir()) == ["history.sqlite3", "routines"]  # no -wal/-shm


@contextmanager
def read_only_dir(path: Path) -> Iterator[None]:
    """`path` made unwritable even for root: chmod 555 when that is enough, else chattr +i."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("running as root where chmod does not stop writes, and chattr +i is not available")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_a_read_only_data_dir_is_reported_as_such_and_the_history_left_untouched(coach_env, data_dir,
                                                                               noise_wav):
    """Issue 11: a read-only data folder stopped everything (run, history, status, export exit 3).
    Now the session runs (its holds would be kept), the reading commands read, nothing is written,
    and nobody is told to move the history aside."""
    db = data_dir / "history.sqlite3"
    _real_history(db)
    before = db.read_bytes()
    with read_only_dir(data_dir):
        probe = data_dir / "probe"
        with pytest.raises(OSError):
            probe.write_text("x")
        out = run_cli(["run", "short", "--mic", str(noise_wav), "--quiet"], coach_env)
        assert "Traceback" not in out.stderr and out.returncode == 0, out.stderr
        assert "cannot open the history for writing" in out.stderr and str(data_dir) in out.stderr
        assert "move it aside" not in out.stderr            # the file is fine: do not send it away
        assert "session ended" in out.stdout
        history = run_cli(["history", "--json"], coach_env)
        assert history.returncode == 0 and len(history.stdout.splitlines()) == 300, history.stderr
        exported = run_cli(["export", "--format", "json"], coach_env)
        assert exported.returncode == 0 and '"coach-history"' in exported.stdout, exported.stderr
        status = run_cli(["status", "short"], coach_env)
        assert status.returncode == 0, status.stderr
    assert db.read_bytes() == before


def test_holds_that_cannot_be_written_are_kept_and_saved_with_the_next_one(tmp_path, voice, baseline):
    store = ReadOnlyFor(tmp_path / "flaky" / "history.sqlite3")
    store.fail_writes = 1                   # the first hold's write fails; then writes work again
    run = Run(tmp_path / "flaky", voice, store=store)
    result = run.run()
    assert _holds(result) == EXPECTED
    assert result.unsaved == []
    assert _stored(store) == EXPECTED                   # the first hold came in with the second
    warnings = run.warnings()
    assert len(warnings) == 1 and "could not save the hold" in warnings[0]
    assert "readonly database" in warnings[0]
    assert _timing(run) == _timing(baseline)            # the session went on exactly as usual


def test_holds_that_can_never_be_written_stay_in_the_result(tmp_path, voice, baseline):
    store = ReadOnlyFor(tmp_path / "ro" / "history.sqlite3")
    store.fail_writes = 1000
    run = Run(tmp_path / "ro", voice, store=store)
    result = run.run()
    assert _holds(result) == EXPECTED
    assert [(h.set, h.held_s, h.ended_by) for h in result.unsaved] == EXPECTED
    assert _stored(store) == []
    assert len(run.warnings()) == 2
    assert _timing(run) == _timing(baseline)


def test_a_hold_that_failed_while_an_older_one_was_retried_is_saved_when_writes_come_back(tmp_path, voice):
    """Writes fail for set 1 and for its retry at set 2; they work again at set 3."""
    store = ReadOnlyFor(tmp_path / "twice" / "history.sqlite3")
    store.fail_writes = 2
    run = Run(tmp_path / "twice", voice, store=store, script=[*SCRIPT, (37.0, "ready")], sets=3, length_s=50)
    result = run.run()
    expected = [*EXPECTED, (3, 3.0, "target")]
    assert _holds(result) == expected
    assert _stored(store) == expected and result.unsaved == []


def _create_and_write(path: str, barrier, results, user: str) -> None:
    try:
        barrier.wait()
        store = Store(Path(path))
        now = datetime.now().astimezone()
        sid = store.start_session("glutes", now, "voice", "en-us", user)
        for k in range(1, 11):
            store.record_hold(sid, "bridge", k, 60.0, float(k), "done", now)
        store.end_session(sid, now, "finished")
        store.close()
        results.put("ok")
    except Exception as err:       # reported to the test, which fails on it
        results.put(f"{type(err).__name__}: {err}")


def test_four_coaches_creating_one_history_at_the_same_moment_all_succeed(tmp_path):
    """The first open of a new file races: version and tables were read apart (one coach saw the
    tables another had just made, with version 0: "not a coach database"), and the switch to WAL
    does not wait for a lock ("database is locked"). Both were seen about once in 25 tries."""
    ctx = multiprocessing.get_context("fork")
    failures = []
    for attempt in range(25):
        path = tmp_path / f"try{attempt}" / "history.sqlite3"
        path.parent.mkdir()
        barrier, results = ctx.Barrier(4), ctx.Queue()
        procs = [ctx.Process(target=_create_and_write, args=(str(path), barrier, results, f"u{i}"))
                 for i in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        outcomes = [results.get(timeout=5) for _ in procs]
        failures += [o for o in outcomes if o != "ok"]
        if not failures:
            store = Store(path)
            assert len(store.holds()) == 40 and len(store.sessions()) == 4
            store.close()
    assert failures == []


CRASH_ROUTINE = """\
title: Two at once
summary: Three 4-second holds.
cues: {get_set_s: 1, every_s: 0, halfway: false, warn_left_s: 0, countdown_from: 0}
exercises:
  - id: bridge
    title: Bridge
    say: "Lift your hips."
    hold_s: 4
    sets: 3
    rest_s: 2
"""


def test_two_coach_runs_on_one_new_history_both_finish_and_store_everything(tmp_path, coach_env, data_dir):
    (data_dir / "routines" / "two.yaml").write_text(CRASH_ROUTINE)
    wav = tmp_path / "replay.wav"
    make_session_wav(wav, [(6.0, "ready"), (19.0, "ready"), (32.0, "ready")], 45.0)
    procs = {}
    for user in ("ann", "bob"):
        ev = tmp_path / f"{user}.jsonl"
        procs[user] = (ev, subprocess.Popen(
            [*COACH, "run", "two", "--mic", str(wav), "--events", str(ev), "--user", user, "--quiet"],
            env=coach_env, cwd=str(ROOT), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True))
    logged = {}
    for user, (ev, proc) in procs.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err and "Traceback" not in err
        records = [json.loads(line) for line in ev.read_text().splitlines()]
        logged[user] = [(r["set"], r["held_s"], r["ended_by"]) for r in records if r["type"] == "hold_end"]
    holds = [json.loads(line) for line in run_cli(["history", "--json"], coach_env).stdout.splitlines()]
    for user in procs:
        assert [(h["set"], h["held_s"], h["ended_by"]) for h in holds if h["user"] == user] == logged[user]
    assert sum(map(len, logged.values())) == len(holds)
    assert all(len(ends) >= 2 for ends in logged.values()), logged     # they really wrote at the same time


def make_session_wav(out: Path, plan: list[tuple[float, str]], length_s: float) -> None:
    import importlib.util

    path = ROOT / "scripts" / "make_session_wav.py"
    spec = importlib.util.spec_from_file_location("make_session_wav", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_session_wav(out, plan, length_s)


# -- the speech engine ------------------------------------------------------------------------


@pytest.mark.parametrize("synth_class", [HangingSynth, FailingSynth, DeadThreadSynth])
def test_a_speech_engine_that_hangs_or_fails_falls_back_to_print_once_and_the_count_goes_on(
        tmp_path, voice, baseline, synth_class):
    synth = synth_class()
    run = Run(tmp_path / "tts", voice, synth=synth)
    began = time.monotonic()
    result = run.run()
    assert time.monotonic() - began < 5.0               # one watchdog wait (0.3 s), not one per line
    assert _holds(result) == EXPECTED and result.unsaved == []
    assert _stored(run.store) == EXPECTED
    warnings = run.warnings()
    assert len(warnings) == 1 and "speech engine" in warnings[0] and "only printed" in warnings[0]
    assert len(synth.asked) == 1                        # given up at the first line
    said = [line for line in run.out.getvalue().splitlines() if line.startswith("  coach: ")]
    assert len(said) == len(run.records("say"))         # every line was still printed
    assert _timing(run) == _timing(baseline)


def test_a_hung_speech_engine_in_a_live_session_never_holds_up_the_count(tmp_path, voice):
    """Live: renders are awaited by a watchdog in the loop, never blocking it. On the real-time
    clock (keyboard only), a hold started while the engine hangs ends exactly at its target."""
    read_fd, write_fd = os.pipe()
    keys = KeyReader(os.fdopen(read_fd, "r"))
    os.write(write_fd, b"ready\n")                      # ready at once: skips the instructions
    synth = HangingSynth()
    run = Run(tmp_path / "live", voice, synth=synth, live_narrator=True, keys=keys, hold_s=2, sets=1,
              tts_timeout_s=0.5)
    began = time.monotonic()
    try:
        result = run.run_until_holds(1)
    finally:
        keys.close()
        os.close(write_fd)
    wall_s = time.monotonic() - began
    (start,), (end,) = run.records("hold_start"), run.records("hold_end")
    assert (end["ended_by"], end["held_s"]) == ("target", 2.0) and _holds(result) == [(1, 2.0, "target")]
    assert end["t"] - start["t"] == pytest.approx(2.0, abs=0.06)
    # session time kept up with the wall clock (a full hold is recorded after the grace that lets a
    # "can't hold" begun just before the target still count)
    assert end["t"] + HOLD_GRACE_S == pytest.approx(wall_s, abs=0.5)
    warnings = run.warnings()
    assert len(warnings) == 1 and "hung" in warnings[0]


# -- the recognizer ---------------------------------------------------------------------------


def test_the_listener_absorbs_a_recognizer_failure_and_reports_it_once():
    recognizer = ScriptedRecognizer([(0.2, "ready"), (2.0, "ready")], fail_at_s=1.0)
    reports: list[str] = []
    listener = CommandListener(recognizer, on_failure=reports.append)
    chunk_n = int(CHUNK_S * RATE_HZ)
    heard = []
    for k in range(60):
        chunk = AudioChunk(b"\0\0" * chunk_n, k * CHUNK_S)
        heard += [v.heard.command for v in listener.feed(chunk, ("ready",))]
    heard += [v.heard.command for v in listener.flush(("ready",))]
    assert heard == ["ready"]                           # before the failure; nothing after it
    assert reports == ["scripted failed: decoder state corrupted"] and listener.failure == reports[0]
    assert recognizer.calls_after_failure == 1          # not fed again once it had failed


def test_without_a_failure_handler_the_listener_still_raises():
    listener = CommandListener(ScriptedRecognizer([], fail_at_s=0.0))
    with pytest.raises(RuntimeError, match="decoder state corrupted"):
        listener.feed(AudioChunk(b"\0\0" * 800, 0.0), ("ready",))


def test_a_recognizer_that_raises_mid_hold_leaves_the_hold_to_end_at_its_target(tmp_path, voice):
    """It fails at 9 s, during set 1 (8.0-11.0 s): the "can't hold" at 10 s is never heard, so
    the hold runs to its target; the session goes on (deaf) to the end of the file."""
    run = Run(tmp_path / "deaf", voice, fail_at_s=9.0)
    result = run.run()
    assert result.status == "ended"
    assert _holds(result) == [(1, 3.0, "target")] and result.unsaved == []
    assert _stored(run.store) == [(1, 3.0, "target")]
    (end,) = run.records("hold_end")
    assert end["t"] == pytest.approx(11.0)
    warnings = run.warnings()
    assert len(warnings) == 1 and "scripted failed: decoder state corrupted" in warnings[0]
    assert run.records("session_end")[0]["t"] == pytest.approx(30.0)


FAILING_RECOGNIZER_SHIM = """\
# Loaded by Python at start-up (sitecustomize): the session's recognizer raises after {after_s} s.
import coach.asr.select as select

_make = select.make_recognizer


class _Failing:
    def __init__(self, inner):
        self._inner, self._fed = inner, 0
        self.name, self.model, self.rate_hz = inner.name, inner.model, inner.rate_hz

    def feed(self, pcm):
        self._fed += len(pcm) // 2
        if self._fed / self.rate_hz > {after_s}:
            raise RuntimeError("decoder state corrupted")
        return self._inner.feed(pcm)

    def flush(self):
        return self._inner.flush()

    def reset(self):
        self._inner.reset()


def make_recognizer(*args, **kwargs):
    return _Failing(_make(*args, **kwargs))


select.make_recognizer = make_recognizer
"""


def test_coach_run_survives_a_recognizer_that_raises(tmp_path, coach_env, noise_wav):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(FAILING_RECOGNIZER_SHIM.format(after_s=3.0))
    env = dict(coach_env, PYTHONPATH=f"{shim}{os.pathsep}{coach_env['PYTHONPATH']}")
    ev = tmp_path / "ev.jsonl"
    out = run_cli(["run", "short", "--mic", str(noise_wav), "--events", str(ev), "--quiet"], env)
    assert "Traceback" not in out.stderr
    assert out.returncode == 0, out.stderr
    assert "decoder state corrupted" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert json.loads(ev.read_text().splitlines()[-1])["type"] == "session_end"


def test_no_recognizer_installed_is_one_line_naming_the_package(tmp_path, coach_env, noise_wav):
    """Seen with a Python that lacked the packages: a ModuleNotFoundError traceback from deep in
    the recognizer's constructor."""
    blocked = tmp_path / "blocked"
    for name in ("pocketsphinx", "openwakeword", "vosk"):
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(f"raise ImportError('No module named {name}')\n")
    env = dict(coach_env, PYTHONPATH=f"{blocked}{os.pathsep}{coach_env['PYTHONPATH']}")
    for args in (["run", "short", "--mic", str(noise_wav), "--quiet"], ["listen", str(noise_wav)]):
        out = run_cli(args, env)
        assert "Traceback" not in out.stderr, out.stderr
        assert out.returncode != 0
        assert "pocketsphinx is missing" in out.stderr.strip().splitlines()[-1]
        assert "pip install pocketsphinx" in out.stderr


# -- the microphone ---------------------------------------------------------------------------


def test_a_microphone_lost_during_a_hold_hands_over_to_the_clock_and_the_hold_ends_at_its_target(
        tmp_path, voice):
    """ready at 5 s; the hold runs 8.0-11.0 s; the device goes at 8 s. From then on the real-time
    clock drives the session, from the same session time, and the hold ends at its target."""
    mic = VanishingMic(lose_after_s=8.0)
    run = Run(tmp_path / "lost", voice, script=[(5.0, "ready")], mic=mic)
    began = time.monotonic()
    result = run.run_until_holds(1)
    wall_s = time.monotonic() - began
    assert _holds(result) == [(1, 3.0, "target")] and _stored(run.store) == [(1, 3.0, "target")]
    (start,), (end,) = run.records("hold_start"), run.records("hold_end")
    assert (start["t"], end["t"]) == (pytest.approx(8.0), pytest.approx(11.0, abs=0.06))
    assert 2.5 < wall_s < 5.0                              # the last 2.8 s really passed on the clock
    (lost,) = run.records("device_lost")
    assert lost["t"] == pytest.approx(8.0) and "went away" in lost["reason"]
    assert mic.closed
    warnings = run.warnings()
    assert len(warnings) == 1 and "went away" in warnings[0] and "keyboard" in warnings[0]


# -- WAV input --------------------------------------------------------------------------------


def _wav_bytes(tag: int, channels: int, rate_hz: int, bits: int, body: bytes, data_size: int | None = None,
               data: bool = True) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate_hz, rate_hz * block, block, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if data:
        chunks += b"data" + struct.pack("<I", len(body) if data_size is None else data_size) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def _speechlike(rate_hz: int, seconds: float) -> np.ndarray:
    """A float signal in [-0.5, 0.5] with content up to a few kHz (a chirp), at `rate_hz`."""
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    return (0.5 * np.sin(2 * np.pi * (200 + 1500 * t) * t)).astype(np.float64)


def _encode(kind: str, signal: np.ndarray) -> tuple[int, int, int, bytes]:
    """(tag, channels, bits, body) for the sample formats coach must read."""
    if kind == "8-bit":
        return 1, 1, 8, (np.round(signal * 127) + 128).astype(np.uint8).tobytes()
    if kind == "24-bit":
        ints = np.round(signal * (2**23 - 1)).astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
        return 1, 1, 24, ints.tobytes()
    if kind == "float32":
        return 3, 1, 32, signal.astype("<f4").tobytes()
    if kind == "stereo-44k":
        stereo = np.stack([signal, signal], axis=1)
        return 1, 2, 16, np.round(stereo * 32767).astype("<i2").tobytes()
    raise ValueError(kind)


@pytest.mark.parametrize("kind,rate_hz", [("8-bit", 16000), ("24-bit", 16000), ("float32", 16000),
                                          ("stereo-44k", 44100)])
def test_every_sample_format_decodes_to_the_same_signal(tmp_path, kind, rate_hz):
    signal = _speechlike(rate_hz, 1.0)
    tag, channels, bits, body = _encode(kind, signal)
    path = tmp_path / f"{kind}.wav"
    path.write_bytes(_wav_bytes(tag, channels, rate_hz, bits, body))
    got = load_pcm16(path).astype(np.float64) / 32767
    want = resample(signal.astype(np.float32), rate_hz, RATE_HZ).astype(np.float64)
    assert len(got) == len(want)
    inner = slice(200, -200)                        # the resampler's edges
    assert np.corrcoef(got[inner], want[inner])[0, 1] > 0.999
    assert np.max(np.abs(got[inner] - want[inner])) < 0.02


def _bad_wavs(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, "works" or "refused")."""
    signal = _speechlike(16000, 3.0)
    pcm16 = np.round(signal * 32767).astype("<i2").tobytes()
    cases: dict[str, tuple[bytes | None, str]] = {
        "empty": (b"", "refused"),
        "random-bytes": (np.random.default_rng(5).bytes(5000), "refused"),
        "riff-but-not-wave": (b"RIFF" + struct.pack("<I", 4) + b"AVI ", "refused"),
        "header-no-data": (_wav_bytes(1, 1, 16000, 16, b"", data=False), "refused"),
        "fmt-too-short": (b"RIFF" + struct.pack("<I", 16) + b"WAVEfmt " + struct.pack("<I", 4) + b"\1\0\1\0",
                          "refused"),
        "4-bit": (_wav_bytes(1, 1, 16000, 4, pcm16), "refused"),
        "0-channels": (_wav_bytes(1, 0, 16000, 16, pcm16), "refused"),
        "mu-law": (_wav_bytes(7, 1, 8000, 8, pcm16), "refused"),
        "empty-data": (_wav_bytes(1, 1, 16000, 16, b""), "works"),
        "truncated-data": (_wav_bytes(1, 1, 16000, 16, pcm16[:20000], data_size=len(pcm16)), "works"),
        "odd-byte-data": (_wav_bytes(1, 1, 16000, 16, pcm16[:20001]), "works"),
        "nan-floats": (_wav_bytes(3, 1, 16000, 32, np.full(16000, np.nan, "<f4").tobytes()), "works"),
        "8-bit": (_wav_bytes(*_fmt("8-bit", signal)), "works"),
        "24-bit": (_wav_bytes(*_fmt("24-bit", signal)), "works"),
        "float32": (_wav_bytes(*_fmt("float32", signal)), "works"),
        "stereo-44k": (_wav_bytes(*_fmt("stereo-44k", _speechlike(44100, 3.0), 44100)), "works"),
        "a-directory": (None, "refused"),
        "missing": (None, "refused"),
    }
    out = {}
    for name, (content, expect) in cases.items():
        path = tmp / f"{name}.wav"
        if name == "a-directory":
            path.mkdir()
        elif content is not None:
            path.write_bytes(content)
        out[name] = (path, expect)
    return out


def _fmt(kind: str, signal: np.ndarray, rate_hz: int = 16000) -> tuple[int, int, int, int, bytes]:
    tag, channels, bits, body = _encode(kind, signal)
    return tag, channels, rate_hz, bits, body


def _check_cli_on_wavs(tmp: Path, env: dict[str, str], names: list[str] | None = None) -> None:
    cases = _bad_wavs(tmp)
    procs = {}
    for name in names or list(cases):         # all at once: each is a start-up and a short replay
        procs[name] = subprocess.Popen([*COACH, "run", "short", "--mic", str(cases[name][0]), "--quiet"],
                                       env=env, cwd=str(ROOT), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    problems = []
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        path, expect = cases[name]
        result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        try:
            if expect == "refused":
                line = one_line_error(result, 4)
                assert str(path) in line
            else:
                assert "Traceback" not in err and err.strip() == "", err
                assert proc.returncode == 0 and "session ended" in out
        except AssertionError as failure:
            problems.append(f"{name}: {failure}")
    assert problems == []


def test_broken_wav_input_is_one_line_and_exit_4_and_a_good_one_just_works(tmp_path, coach_env):
    """Through the CLI, a few: every `coach run --mic` pays for the recognizer's start-up. The reader
    itself is checked on every case below (a typed error, so the CLI's one line and exit 4)."""
    _check_cli_on_wavs(tmp_path, coach_env, ["4-bit", "stereo-44k"])


@pytest.mark.slow
def test_every_broken_wav_through_the_cli(tmp_path, coach_env):
    _check_cli_on_wavs(tmp_path, coach_env)


def test_wav_reader_errors_are_typed(tmp_path):
    for name, (path, expect) in _bad_wavs(tmp_path).items():
        if expect == "refused":
            with pytest.raises(AudioDeviceError):
                read_wav(path)
        else:
            samples, _ = read_wav(path)
            assert np.isfinite(samples).all(), name


# -- privacy ----------------------------------------------------------------------------------


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _listening(pid: int) -> list[str]:
    """The process's sockets that accept connections, or any internet socket at all."""
    mine = _socket_inodes(pid)
    if not mine:
        return []
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
        try:
            rows = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[9] in mine:
                found.append(f"{table} {fields[1]} state {fields[3]}")   # coach is offline: none at all
    try:
        rows = Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]
    except OSError:
        rows = []
    for row in rows:
        fields = row.split()
        if fields[6] in mine and int(fields[3], 16) & 0x10000:       # __SO_ACCEPTCON: listening
            found.append(f"unix {' '.join(fields[7:])} listening")
    return found


@pytest.fixture(scope="module")
def private_run(tmp_path_factory):
    """One `coach run --mic` with real speech out, into a data dir that does not exist yet, with a
    private TMPDIR; the process's sockets and new files are watched while it runs."""
    base = tmp_path_factory.mktemp("private")
    routine = base / "short.yaml"
    routine.write_text(SHORT_ROUTINE)
    data = base / "home" / ".local" / "share" / "coach"
    tmp = base / "tmp"
    tmp.mkdir()
    wav = base / "in" / "session.wav"
    wav.parent.mkdir()
    make_session_wav(wav, [(6.0, "ready")], 20.0)
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp), COACH_DATA_DIR=str(data))
    events = base / "ev.jsonl"
    proc = subprocess.Popen([*COACH, "run", str(routine), "--mic", str(wav), "--events", str(events)],
                            env=env, cwd=str(ROOT), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    listening, modes, samples = [], {}, 0
    while proc.poll() is None:
        listening += _listening(proc.pid)
        samples += 1
        for path in (data, *data.glob("history.sqlite3*")) if data.exists() else ():
            try:
                modes[path.name] = stat.S_IMODE(path.stat().st_mode)
            except OSError:
                pass
        time.sleep(0.01)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    return {"data": data, "tmp": tmp, "base": base, "listening": listening, "modes": modes,
            "samples": samples, "stdout": out}


def test_the_data_dir_and_history_are_created_private(private_run):
    data = private_run["data"]
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "history.sqlite3").stat().st_mode) == 0o600
    modes = private_run["modes"]                            # including -wal and -shm while it ran
    for name in ("history.sqlite3-wal", "history.sqlite3-shm"):
        assert modes.get(name, 0o600) == 0o600, modes
    assert all(mode & 0o077 == 0 for mode in modes.values()), modes


def test_a_replay_writes_no_audio_and_leaves_no_temporary_files(private_run):
    base = private_run["base"]
    wavs = sorted(str(p.relative_to(base)) for p in base.rglob("*.wav"))
    assert wavs == ["in/session.wav"]                       # only the input: no recording, no renders
    assert list(private_run["tmp"].iterdir()) == []         # the speech engine's folder was removed


def test_coach_opens_no_listening_socket(private_run):
    assert private_run["samples"] > 20                      # it was watched while it ran
    assert private_run["listening"] == []


# -- soak -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_half_an_hour_of_listening_does_not_grow(tmp_path):
    """scripts/soak.py for 0.5 h of room audio through the real recognizer (about a minute)."""
    out_json = tmp_path / "soak.json"
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "soak.py"), "--hours", "0.5", "--json",
                          str(out_json)], cwd=str(ROOT), capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    report = json.loads(out_json.read_text())
    assert len(report["samples"]) == 4                      # 0, 10, 20 and 30 minutes
    assert report["rss_growth_mb"] < 5.0, out.stdout
    assert report["thread_growth"] == 0 and report["fd_growth"] == 0, out.stdout
    assert 0 < report["rtf"] < 1.0
