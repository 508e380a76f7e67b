"""`coach run --input voice` on the virtual PulseAudio devices: a spoken "ready" into the
microphone starts the set; the coach's speech reaches the speaker."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pexpect
import pytest
from conftest import ROOT, load_script

pytestmark = [pytest.mark.live, pytest.mark.audio]

make_session = load_script("make_session_wav")


def test_spoken_ready_into_the_virtual_microphone_starts_the_set(virtual_audio, coach_env, tmp_path):
    env = {**coach_env, **virtual_audio.env}
    ready_wav = tmp_path / "ready.wav"
    make_session.make_session_wav(ready_wav, [(0.3, "ready")], 1.5)
    events = tmp_path / "ev.jsonl"
    recorded: dict[str, np.ndarray] = {}

    kept = tmp_path / "mic.wav"
    # record what reaches the virtual speaker over the whole start of the session
    recorder = threading.Thread(target=lambda: recorded.update(pcm=virtual_audio.record_speaker(15.0)))
    recorder.start()
    child = pexpect.spawn(sys.executable, ["-m", "coach", "run", "short", "--input", "voice",
                                           "--events", str(events), "--keep-audio", str(kept)],
                          env=env, cwd=str(ROOT), encoding="utf-8", timeout=60)
    child.expect("listening with the neural command head fused with pocketsphinx")
    child.expect("Say ready when you're in position.")
    child.expect(pexpect.TIMEOUT, timeout=2.5)         # let the prompt play out (no self-trigger)
    virtual_audio.play_into_mic(ready_wav)
    child.expect("heard: ready", timeout=15)
    child.expect("Set 1 of 2.")
    child.expect("Lift, and hold.", timeout=15)
    child.send("q")                                    # the keyboard works alongside the voice
    child.expect(r"session stopped: 1 hold recorded")
    child.expect(pexpect.EOF)
    child.close()
    recorder.join(timeout=20)
    assert child.exitstatus == 0

    records = [json.loads(line) for line in events.read_text().splitlines()]
    heard = [r for r in records if r["type"] == "heard"]
    assert [h["command"] for h in heard] == ["ready"]
    prompt = next(r for r in records if r["type"] == "say" and r["line"] == "ready_prompt")
    assert heard[0]["t_start"] > prompt["t"]
    holds = [r["type"] for r in records if r["type"] in ("hold_start", "hold_end")]
    assert holds == ["hold_start", "hold_end"]

    # what the microphone heard was kept, and replays to the same command
    listened = subprocess.run([sys.executable, "-m", "coach", "listen", str(kept), "--json"], env=env,
                              cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert [json.loads(line)["command"] for line in listened.stdout.splitlines()] == ["ready"]

    pcm = recorded["pcm"].astype(np.float64)
    frames = pcm[: len(pcm) // 320 * 320].reshape(-1, 320)     # 20 ms frames
    loud = np.sqrt((frames**2).mean(axis=1)) > 300
    assert loud.sum() * 0.02 > 2.5, f"only {loud.sum() * 0.02:.2f} s of speech reached the speaker"


def test_serve_starts_a_session_on_a_spoken_start_phrase_from_the_virtual_microphone(
        virtual_audio, coach_env, tmp_path):
    env = {**coach_env, **virtual_audio.env}
    start_wav = tmp_path / "start.wav"
    make_session.make_session_wav(start_wav, [(0.3, "start my exercises")], 2.5)
    events = tmp_path / "serve.jsonl"
    child = pexpect.spawn(sys.executable, ["-m", "coach", "serve", "--routine", "short", "--quiet",
                                           "--max-sessions", "1", "--events", str(events)],
                          env=env, cwd=str(ROOT), encoding="utf-8", timeout=60)
    child.expect("idle: say")
    child.expect(pexpect.TIMEOUT, timeout=1.0)
    virtual_audio.play_into_mic(start_wav)
    child.expect("heard: start my exercises", timeout=15)
    child.expect("Say ready when you're in position.")
    child.send("q")                                    # stop the session from the keyboard
    child.expect(r"served 1 session, ", timeout=30)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    records = [json.loads(line) for line in events.read_text().splitlines()]
    assert [r["routine"] for r in records if r["type"] == "serve_session"] == ["short"]
