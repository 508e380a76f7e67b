"""`coach listen` with several files: one recognizer for all of them, each file's times from 0."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pocketsphinx", reason="pocketsphinx is not installed")

from coach.runner import listen as listen_module  # noqa: E402

CLIP = Path(__file__).parent / "data" / "asr" / "ready.wav"


@pytest.mark.audio
def test_many_files_share_one_recognizer_and_each_starts_at_zero(tmp_path, monkeypatch) -> None:
    clip = padded_clip(tmp_path / "ready.wav")
    built = []
    real = listen_module.make_recognizer
    monkeypatch.setattr(listen_module, "make_recognizer", lambda *a, **k: built.append(1) or real(*a, **k))
    out, err = io.StringIO(), io.StringIO()
    listen_module.listen([clip, clip, clip], True, "en-us", "pocketsphinx", None, None, tmp_path,
                         {"XDG_CACHE_HOME": str(tmp_path / "cache")}, out=out, err=err)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(built) == 1
    assert [r["command"] for r in rows] == ["ready"] * 3
    assert all(abs(r["t_start"] - rows[0]["t_start"]) <= 0.05 for r in rows)
    assert abs(rows[0]["t_start"] - 0.5) <= 0.1


def padded_clip(path: Path) -> Path:
    """The clip with 0.5 s of quiet noise before and 0.8 s after, as a microphone would give it."""
    from coach.audio.wav import load_pcm16

    rng = np.random.default_rng(0)
    speech = load_pcm16(CLIP).astype(np.float64)
    audio = np.concatenate([np.zeros(8000), speech, np.zeros(12800)]) + rng.normal(0, 30, len(speech) + 20800)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.clip(np.round(audio), -32768, 32767).astype("<i2").tobytes())
    return path
