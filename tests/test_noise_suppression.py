"""`--noise-suppression N`: WebRTC noise suppression (webrtc-noise-gain) before the recognizer.

The bad moment: a fan or traffic in the room, 10 dB under the user's voice. The suppressor is real
(the library wyoming-satellite uses), the speech is a real synthesized clip and the noise is pink,
as in the benchmark's noisy rows (scripts/bench_recognition.py --noise-suppression 2).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import COACH, ROOT, load_script

from coach.audio.denoise import FRAME_SAMPLES, NoiseSuppressor
from coach.audio.wav import load_pcm16, write_wav
from coach.defaults import RATE_HZ

_make_session = load_script("make_session_wav")
DATA = ROOT / "tests" / "data" / "asr"
SPEECH_AT_S = 3.0                   # the command starts this far into each file, after 3 s of noise


def read_wav(path: Path) -> np.ndarray:
    return load_pcm16(path).astype(np.float64)


def save(path: Path, samples: np.ndarray) -> Path:
    write_wav(path, np.clip(np.rint(samples), -32768, 32767).astype(np.int16), RATE_HZ)
    return path


def in_noise(speech: np.ndarray, snr_db: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(mix, noise): `speech` at SPEECH_AT_S in pink noise `snr_db` below it (RMS over the speech),
    with 1 s of noise after it."""
    start = int(SPEECH_AT_S * RATE_HZ)
    noise = _make_session.pink_noise(start + len(speech) + RATE_HZ, 1.0, seed)
    noise *= np.sqrt(np.mean(speech**2)) / 10 ** (snr_db / 20)
    mix = noise.copy()
    mix[start : start + len(speech)] += speech
    return mix, noise


def db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2) + 1e-9)


def suppress(samples: np.ndarray, level: int = 2, chunk: int = 800) -> np.ndarray:
    suppressor = NoiseSuppressor(level)
    pcm = np.clip(np.rint(samples), -32768, 32767).astype("<i2").tobytes()
    out = b"".join(suppressor.process(pcm[i : i + 2 * chunk]) for i in range(0, len(pcm), 2 * chunk))
    assert len(out) == len(pcm)
    return np.frombuffer(out, dtype="<i2").astype(np.float64)


def test_the_suppressor_takes_the_noise_down_and_leaves_the_voice():
    speech = read_wav(DATA / "ready.wav")
    mix, noise = in_noise(speech, 10.0, seed=1)
    cleaned = suppress(mix)
    start = int(SPEECH_AT_S * RATE_HZ)
    settled = slice(RATE_HZ, start)                  # the noise alone, after the first second
    assert db(noise[settled]) - db(cleaned[settled]) >= 10.0
    spoken = slice(start, start + len(speech))
    assert abs(db(cleaned[spoken]) - db(speech)) <= 3.0


def test_chunks_keep_their_length_and_a_partial_frame_passes_through():
    """A file's last chunk may not be whole 10 ms frames: it comes out as long as it went in."""
    suppressor = NoiseSuppressor(1)
    odd = (np.arange(FRAME_SAMPLES * 2 + 37) % 50).astype("<i2").tobytes()
    out = suppressor.process(odd)
    assert len(out) == len(odd)
    assert out[-2 * 37 :] == odd[-2 * 37 :]
    with pytest.raises(ValueError):
        NoiseSuppressor(0)


@pytest.fixture(scope="module")
def noisy_commands(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("noisy")
    files = {}
    for word in ("ready", "pause"):
        for seed in (1, 2):
            mix, _ = in_noise(read_wav(DATA / f"{word}.wav"), 10.0, seed)
            files[f"{word}_{seed}"] = save(folder / f"{word}_{seed}.wav", mix)
    return files


def listen(files: list[Path], *extra: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*COACH, "listen", "--json", *extra, *map(str, files)], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_coach_listen_hears_commands_in_pink_noise_at_10_db_with_suppression(noisy_commands, coach_env):
    out = listen(list(noisy_commands.values()), "--noise-suppression", "2", env=coach_env)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert "noise suppression level 2" in out.stderr
    heard = [json.loads(line) for line in out.stdout.splitlines()]
    by_file = {Path(h["file"]).stem: h for h in heard}
    assert sorted(by_file) == sorted(noisy_commands), heard
    for name, h in by_file.items():
        assert h["command"] == name.split("_")[0], h
        assert abs(h["t_start"] - SPEECH_AT_S) <= 0.15, h     # hold times are measured to here


def test_the_config_file_turns_it_on_and_coach_config_says_where_from(tmp_path, noisy_commands, coach_env):
    config = tmp_path / "config.yaml"
    config.write_text("recognizer:\n  noise_suppression: 3\n")
    shown = subprocess.run([*COACH, "config", "--config", str(config)], env=coach_env, cwd=str(ROOT),
                           capture_output=True, text=True, timeout=60)
    row = next(line for line in shown.stdout.splitlines() if line.startswith("recognizer.noise_suppression"))
    assert row.split()[1] == "3" and f"{config}:2" in row
    out = listen([noisy_commands["ready_1"]], "--config", str(config), env=coach_env)
    assert "noise suppression level 3" in out.stderr and out.returncode == 0
    out = listen([noisy_commands["ready_1"]], "--config", str(config), "--noise-suppression", "0",
                 env=coach_env)
    assert "noise suppression" not in out.stderr          # the command line wins over the file


def test_a_level_out_of_range_in_the_config_file_is_one_line_naming_file_line_and_field(
        tmp_path, noisy_commands, coach_env):
    config = tmp_path / "config.yaml"
    config.write_text("recognizer:\n  engine: auto\n  noise_suppression: 7\n")
    out = listen([noisy_commands["ready_1"]], "--config", str(config), env=coach_env)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        f"coach: error: {config}:3: recognizer.noise_suppression: must be between 0 and 4, got `7`"]


def test_without_the_library_coach_warns_once_and_listens_anyway(tmp_path, noisy_commands, coach_env):
    blocked = tmp_path / "blocked" / "webrtc_noise_gain"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('No module named webrtc_noise_gain')\n")
    env = dict(coach_env, PYTHONPATH=f"{blocked.parent}{os.pathsep}{coach_env['PYTHONPATH']}")
    out = listen([noisy_commands["ready_1"]], "--noise-suppression", "2", env=env)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    warnings = [line for line in out.stderr.splitlines() if "webrtc-noise-gain" in line]
    assert len(warnings) == 1 and "pip install webrtc-noise-gain" in warnings[0]


def test_a_replayed_session_in_pink_noise_hears_ready_through_the_suppressor(tmp_path, coach_env):
    """`coach run --mic`: the user says "ready" every 4 s in a room with pink noise 10 dB under it;
    the hold starts on one of them, and the start-up lines say the suppressor is on."""
    speech = read_wav(DATA / "ready.wav")
    length = 40 * RATE_HZ
    noise = _make_session.pink_noise(length, float(np.sqrt(np.mean(speech**2))) / 10 ** (10 / 20), seed=4)
    mic = noise.copy()
    placed_s = range(6, 36, 4)
    for t_s in placed_s:
        at = t_s * RATE_HZ
        mic[at : at + len(speech)] += speech
    wav = save(tmp_path / "mic.wav", mic)
    events = tmp_path / "ev.jsonl"
    out = subprocess.run([*COACH, "run", "short", "--mic", str(wav), "--events", str(events), "--quiet",
                          "--noise-suppression", "2"], env=coach_env, cwd=str(ROOT), capture_output=True,
                         text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert "noise suppression level 2" in out.stdout + out.stderr
    log = [json.loads(line) for line in events.read_text().splitlines()]
    heard = [e for e in log if e["type"] == "heard"]
    assert heard and heard[0]["command"] == "ready", log
    assert any(e["type"] == "hold_start" for e in log)
    assert min(abs(heard[0]["t_start"] - t_s) for t_s in placed_s) <= 0.15     # at a placed "ready"
