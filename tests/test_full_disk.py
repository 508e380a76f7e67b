"""Issue 11, item 1: holds survive a full or read-only disk.

The unit tests check the kept file's safety (O_EXCL, 0600, never through a planted symlink or into
a planted folder, fallbacks) and that `coach import` reads it. The end-to-end test fills a real
tmpfs (a private mount namespace, `unshare -m`) and runs a voice session from a WAV into it.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import ROOT, SHORT_ROUTINE, load_script, needs_mount

from coach.history.store import HistoryUnwritable, Store
from coach.history.transfer import import_file
from coach.history.unsaved import SessionInfo, keep_unsaved, unsaved_document
from coach.session.actions import HoldEnded

T0 = datetime(2026, 11, 27, 7, 58, 3, 250000, tzinfo=timezone(timedelta(hours=1)))
HOLDS = [HoldEnded("bridge", 1, 3.0, 3.0, "target", 20.0, 17.0),
         HoldEnded("bridge", 2, 3.0, 1.25, "cant_hold", 30.0, 28.75)]
INFO = SessionInfo("ana", "short", T0, "voice", "en-us")
NOW = datetime(2026, 11, 27, 8, 30)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_the_kept_file_is_new_private_and_imports_with_its_session(tmp_path):
    text = unsaved_document(HOLDS, INFO, "stopped", T0 + timedelta(minutes=1))
    path = keep_unsaved(text, tmp_path, {}, NOW)
    assert path.parent == tmp_path and _mode(path) == 0o600
    store = Store(tmp_path / "history.sqlite3")
    result = import_file(store, path)
    assert (result.sessions_added, result.holds_added) == (1, 2)
    (session,) = store.sessions()
    assert (session.user, session.routine, session.status) == ("ana", "short", "stopped")
    holds = store.holds()
    assert [(h.set, h.held_s, h.ended_by) for h in holds] == [(1, 3.0, "target"), (2, 1.25, "cant_hold")]
    assert holds[0].started_at == (T0 + timedelta(seconds=17)).isoformat(timespec="milliseconds")
    store.close()


def test_kept_holds_import_into_the_session_the_history_already_has(tmp_path):
    """The first hold was saved, the second was not: importing adds only the second, to the same
    session (matched on user, routine and start time)."""
    store = Store(tmp_path / "history.sqlite3")
    sid = store.start_session("short", T0, "voice", "en-us", user="ana")
    store.record_hold(sid, "bridge", 1, 3.0, 3.0, "target", T0 + timedelta(seconds=17))
    path = keep_unsaved(unsaved_document(HOLDS[1:], INFO, "stopped", None), tmp_path, {}, NOW)
    result = import_file(store, path)
    assert (result.sessions_added, result.holds_added) == (0, 1)
    assert [h.set for h in store.holds()] == [1, 2] and len(store.sessions()) == 1
    store.close()


def test_a_planted_folder_or_symlink_is_never_used(tmp_path):
    """Before: a predictable name in /tmp opened with open("w"): a folder there raised
    IsADirectoryError and a planted symlink was followed and overwritten."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "coach-unsaved-20261127-083000.json").mkdir()
    os.symlink(victim, tmp_path / "coach-unsaved-20261127-083000-1.json")
    path = keep_unsaved(unsaved_document(HOLDS, INFO, "stopped", None), tmp_path, {}, NOW)
    assert path.name == "coach-unsaved-20261127-083000-2.json" and _mode(path) == 0o600
    assert victim.read_text() == "precious"


def test_no_data_folder_then_the_runtime_folder_then_a_private_temp_folder(tmp_path):
    missing = tmp_path / "no" / "such"          # cannot be written: its parent does not exist
    runtime = tmp_path / "run"
    runtime.mkdir()
    text = unsaved_document(HOLDS, INFO, "stopped", None)
    assert keep_unsaved(text, missing, {"XDG_RUNTIME_DIR": str(runtime)}, NOW).parent == runtime
    last = keep_unsaved(text, missing, {"XDG_RUNTIME_DIR": str(tmp_path / "gone")}, NOW)
    try:
        assert last.parent.name.startswith("coach-unsaved-") and _mode(last.parent) == 0o700
        assert _mode(last) == 0o600 and json.loads(last.read_text())["format"] == "coach-history"
    finally:
        shutil.rmtree(last.parent)


def test_writes_to_a_read_only_store_are_refused_as_unwritable_not_damaged(tmp_path):
    store = Store(tmp_path / "history.sqlite3")
    store.start_session("short", T0, "voice", "en-us")
    store.close()
    ro = Store(tmp_path / "history.sqlite3", read_only=True)
    assert len(ro.sessions()) == 1
    with pytest.raises(HistoryUnwritable):
        ro.start_session("short", T0, "voice", "en-us")
    ro.close()
    memory = Store(tmp_path / "unused.sqlite3", in_memory=True)
    with pytest.raises(HistoryUnwritable):      # never "saved" where it is lost at exit
        memory.start_session("short", T0, "voice", "en-us")
    assert not (tmp_path / "unused.sqlite3").exists()


# -- a real full disk ---------------------------------------------------------------------------


make_session = load_script("make_session_wav")


@pytest.mark.audio
@needs_mount
def test_a_disk_that_fills_keeps_every_hold_in_a_file_coach_import_reads(tmp_path, coach_env):
    """The history is created, then the disk fills; a voice session from a WAV runs, its holds are
    kept (O_EXCL 0600) in $XDG_RUNTIME_DIR, with no traceback and no "damaged history" advice;
    `--speaker` on the full disk stops with one warning; after space is freed, `coach import`
    restores every hold."""
    wav = tmp_path / "session.wav"
    make_session.make_session_wav(wav, [(8.0, "ready")], 24.0, voice="flite:rms")
    mnt, run = tmp_path / "disk", tmp_path / "runtime"
    mnt.mkdir()
    run.mkdir()
    script = textwrap.dedent(f"""
        set -e
        mount -t tmpfs -o size=1m tmpfs {mnt}
        mount -t tmpfs -o size=1m tmpfs {run}
        mkdir -p {mnt}/data/routines
        cat > {mnt}/data/routines/short.yaml <<'YAML'
        {textwrap.indent(SHORT_ROUTINE, '        ').strip()}
        YAML
        {sys.executable} -c "from pathlib import Path; from coach.history import Store; \
Store(Path('{mnt}/data/history.sqlite3')).close()"
        dd if=/dev/zero of={mnt}/fill bs=4k 2>/dev/null || true
        set +e
        {sys.executable} -m coach run short --mic {wav} --quiet --speaker {mnt}/out.wav \
            > {tmp_path}/stdout 2> {tmp_path}/stderr
        echo $? > {tmp_path}/rc
        ls {run} > {tmp_path}/kept
        cp {run}/coach-unsaved-* {tmp_path}/ 2>/dev/null
        stat -c %a {run}/coach-unsaved-* > {tmp_path}/mode
        rm {mnt}/fill
        {sys.executable} -m coach import {run}/coach-unsaved-*.json > {tmp_path}/imported 2>&1
        {sys.executable} -m coach history --json > {tmp_path}/history
    """)
    env = dict(coach_env, COACH_DATA_DIR=f"{mnt}/data", XDG_RUNTIME_DIR=str(run))
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    stderr = (tmp_path / "stderr").read_text()
    assert "Traceback" not in stderr, stderr
    assert "move it aside" not in stderr and "not a usable" not in stderr, stderr
    assert (tmp_path / "rc").read_text().strip() == "3", stderr       # holds not in the history yet
    assert stderr.count("recording stopped") == 1, stderr
    assert "coach import" in stderr and str(run) in stderr, stderr
    said = (tmp_path / "stdout").read_text()                           # --quiet prints the narration
    assert "holds are saved" not in said and "I could not save 1 hold" in said, said
    assert (tmp_path / "mode").read_text().split() == ["600"]
    assert "imported 1 session, 1 hold" in (tmp_path / "imported").read_text()
    holds = [json.loads(line) for line in (tmp_path / "history").read_text().splitlines()]
    assert [(h["set"], h["ended_by"], h["held_s"], h["user"], h["routine"]) for h in holds] == [
        (1, "target", 3.0, "default", "short")]
