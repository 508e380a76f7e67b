"""A microphone with a DC offset (common on cheap USB microphones and sound cards) is heard.

The bad moment: `coach listen` on a "ready" at -30 dBFS with an offset of 300 LSB (-41 dBFS) heard
nothing at all: the segmenter's noise floor is the offset's power, and no frame of the word stood
10 dB above it. speexdsp's canceller notches DC out of the microphone itself; where nothing
cancels (`coach listen`, `--no-aec`, no libspeexdsp) a DC-blocking high-pass (45 Hz, as speexdsp's
own) now does."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import COACH, ROOT, load_script

pytestmark = pytest.mark.audio

make_session = load_script("make_session_wav")

OFFSETS_LSB = (0, 300, 3000)


def _with_offset(src: Path, dst: Path, offset: int) -> Path:
    with wave.open(str(src), "rb") as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int32)
    with wave.open(str(dst), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.clip(x + offset, -32768, 32767).astype("<i2").tobytes())
    return dst


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[int, Path]:
    work = tmp_path_factory.mktemp("dc")
    clean = work / "ready.wav"
    make_session.make_session_wav(clean, [(1.0, "ready")], 3.0, voice="flite:slt", level_dbfs=-30)
    return {off: _with_offset(clean, work / f"ready-{off}.wav", off) for off in OFFSETS_LSB}


def test_coach_listen_hears_ready_whatever_the_offset(coach_env, clips):
    out = subprocess.run([*COACH, "listen", "--json", *map(str, clips.values())], env=coach_env,
                         cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    heard = {Path(r["file"]).name: r for r in map(json.loads, out.stdout.splitlines())}
    starts = []
    for off, path in clips.items():
        assert heard.get(path.name, {}).get("command") == "ready", (off, out.stdout)
        starts.append(heard[path.name]["t_start"])
    assert max(starts) - min(starts) <= 0.02


@pytest.mark.parametrize("aec", [True, False], ids=["canceller", "no-aec"])
def test_a_session_starts_its_hold_on_ready_from_an_offset_microphone(coach_env, clips, tmp_path, aec):
    mic = tmp_path / "mic.wav"
    make_session.make_session_wav(mic, [(5.0, "ready")], 14.0, voice="flite:slt", level_dbfs=-30)
    _with_offset(mic, mic, 3000)
    events = tmp_path / "ev.jsonl"
    out = subprocess.run([*COACH, "run", "short", "--mic", str(mic), "--events", str(events),
                          "--speaker", str(tmp_path / "out.wav"), *([] if aec else ["--no-aec"])],
                         env=coach_env, cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in events.read_text().splitlines()]
    heard = [r for r in records if r["type"] == "heard" and r["command"] == "ready"]
    said = [r for r in records if r["type"] in ("heard", "ignored")]
    assert heard and abs(heard[0]["t_start"] - 5.0) <= 0.25, said
    assert any(r["type"] == "hold_start" for r in records)
