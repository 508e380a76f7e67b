"""Issue 11, item 7: in `coach serve` a store error was the end of the daemon, and serve did not
keep unsaved holds as `run` does. Now serve goes through run's finishing path: it warns, keeps the
holds in a file `coach import` reads, and carries on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, load_script

from coach.history.store import Store

pytestmark = pytest.mark.audio

soak_serve = load_script("soak_serve")


def test_serve_on_a_read_only_history_serves_and_keeps_the_holds(tmp_path):
    chattr = shutil.which("chattr")
    data, runtime = tmp_path / "data", tmp_path / "run"
    (data / "routines").mkdir(parents=True)
    (data / "routines" / "soak.yaml").write_text(soak_serve.ROUTINE)
    runtime.mkdir()
    Store(data / "history.sqlite3").close()
    wav = tmp_path / "day.wav"
    starts = soak_serve.make_wav(wav, 0.2, 86_400 // 600, "flite:rms")
    assert len(starts) == 1
    if chattr is None or subprocess.run([chattr, "+i", str(data)], capture_output=True).returncode != 0:
        pytest.skip("needs chattr +i to make the data folder read-only for root")
    try:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COACH_DATA_DIR": str(data),
               "XDG_RUNTIME_DIR": str(runtime), "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-m", "coach", "serve", "--mic", str(wav), "--quiet",
                              "--routine", "soak", "--start-time", "2026-11-23T07:00"], env=env,
                             cwd=str(ROOT), capture_output=True, text=True, timeout=600,
                             stdin=subprocess.DEVNULL)
    finally:
        subprocess.run([chattr, "-i", str(data)], check=True)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert "served 1 session, 2 holds" in out.stdout
    (kept,) = runtime.glob("coach-unsaved-*.json")
    assert f"coach import {kept}" in out.stderr
    doc = json.loads(kept.read_text())
    assert [h["set"] for h in doc["sessions"][0]["holds"]] == [1, 2]
    assert doc["sessions"][0]["started_at"].startswith("2026-11-23T07:1")
