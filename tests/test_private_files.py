"""Issue 11, item 8: what coach writes that holds the user's data or voice is created 0600, even
with a umask of 022 (before: exports, --events, --speaker, --keep-audio and the chart were 0644)."""

from __future__ import annotations

import os
import stat
import subprocess
from datetime import datetime

import numpy as np
from conftest import COACH, ROOT

from coach.audio.wav import write_wav
from coach.defaults import RATE_HZ
from coach.history.store import Store


def run(args, env):
    out = subprocess.run([*COACH, *args], env=env, cwd=str(ROOT), capture_output=True, text=True,
                         timeout=120, stdin=subprocess.DEVNULL, preexec_fn=lambda: os.umask(0o022))
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    return out


def test_every_file_with_the_users_data_is_private(coach_env, data_dir, tmp_path):
    noise = tmp_path / "room.wav"
    write_wav(noise, np.random.default_rng(1).normal(0, 30, 6 * RATE_HZ).astype(np.int16), RATE_HZ)
    ev, spk, keep = tmp_path / "ev.jsonl", tmp_path / "spk.wav", tmp_path / "keep.wav"
    keep.write_bytes(b"old")
    keep.chmod(0o644)                       # a file that was there: it does not stay readable
    run(["run", "short", "--mic", str(noise), "--quiet", "--events", str(ev), "--speaker", str(spk),
         "--keep-audio", str(keep)], coach_env)
    store = Store(data_dir / "history.sqlite3")
    t = datetime.now().astimezone()
    sid = store.start_session("short", t, "keys", "en-us")
    store.record_hold(sid, "bridge", 1, 3.0, 3.0, "target", t)
    store.close()
    export, chart, said = tmp_path / "all.json", tmp_path / "chart.png", tmp_path / "said.wav"
    run(["export", "--format", "json", "--out", str(export)], coach_env)
    run(["chart", "--routine", "short", "--out", str(chart)], coach_env)
    run(["say", "hello", "--out", str(said)], coach_env)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (ev, spk, keep, export, chart, said,
                                                              data_dir / "history.sqlite3")}
    assert modes == dict.fromkeys(modes, 0o600), {k: oct(v) for k, v in modes.items()}
    assert ev.stat().st_size > 0 and spk.stat().st_size > 44 and keep.stat().st_size > 44
