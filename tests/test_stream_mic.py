"""Issue 11, item 5: `--mic` streams the file. Before, it read and resampled the whole file in
memory (2 h at 16 kHz: 1.95 GB peak RSS; /dev/zero: MemoryError; a FIFO hung)."""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import COACH, ROOT

from coach.audio.wav import WavMicrophone, load_pcm16
from coach.errors import AudioDeviceError


def _write(path: Path, rate_hz: int, channels: int, width: int, seconds: float, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    data = rng.normal(0, 3000, int(rate_hz * seconds) * channels).clip(-32768, 32767).astype("<i2")
    if width == 2:
        raw = data.tobytes()
    elif width == 3:
        as32 = data.astype("<i4") * 256
        raw = np.frombuffer(as32.tobytes(), np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        raw = ((data // 256) + 128).astype(np.uint8).tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate_hz)
        w.writeframes(raw)


@pytest.mark.parametrize(("rate_hz", "channels", "width"), [
    (16000, 1, 2), (44100, 2, 2), (8000, 1, 2), (48000, 1, 3), (22050, 1, 1), (11025, 2, 2)])
def test_streaming_gives_the_same_samples_as_reading_the_whole_file(tmp_path, rate_hz, channels, width):
    path = tmp_path / "in.wav"
    _write(path, rate_hz, channels, width, 7.3)
    streamed = np.frombuffer(b"".join(c.pcm for c in WavMicrophone(path)), "<i2")
    assert np.array_equal(streamed, load_pcm16(path))
    chunks = list(WavMicrophone(path, chunk_s=0.1))
    assert [c.t_start for c in chunks[:3]] == [0.0, 0.1, 0.2] and len(chunks) == 73


def _sparse_wav(path: Path, rate_hz: int, seconds: float) -> None:
    """A WAV header promising `seconds` of 16-bit mono, on a sparse file (no disk used)."""
    data_bytes = int(rate_hz * seconds) * 2
    header = b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE" + b"fmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, rate_hz, rate_hz * 2, 2, 16) + b"data" + struct.pack("<I", data_bytes)
    with path.open("wb") as f:
        f.write(header)
        f.truncate(len(header) + data_bytes)


PEAK = textwrap.dedent("""
    import resource, sys
    from pathlib import Path
    from coach.audio.wav import WavMicrophone
    n = 0
    for chunk in WavMicrophone(Path(sys.argv[1])):
        n += len(chunk.pcm)
    print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
""")


def peak_rss_mb(path: Path) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True,
                         cwd=str(ROOT), timeout=600, check=True)
    samples_bytes, peak_mb = out.stdout.split()
    return int(samples_bytes), int(peak_mb)


@pytest.mark.slow
def test_a_ten_hour_file_replays_in_constant_memory(tmp_path):
    short, long = tmp_path / "short.wav", tmp_path / "long.wav"
    _sparse_wav(short, 16000, 60)
    _sparse_wav(long, 16000, 10 * 3600)
    n_short, rss_short = peak_rss_mb(short)
    n_long, rss_long = peak_rss_mb(long)
    print(f"peak RSS: 1 min {rss_short} MB, 10 h {rss_long} MB")
    assert n_long == 10 * 3600 * 16000 * 2
    assert rss_long - rss_short < 20, (rss_short, rss_long)


def test_a_long_resampled_file_replays_in_constant_memory(tmp_path):
    short, long = tmp_path / "short.wav", tmp_path / "long.wav"
    _sparse_wav(short, 44100, 10)
    _sparse_wav(long, 44100, 15 * 60)         # the whole-file path needed ~1 GB for this
    _, rss_short = peak_rss_mb(short)
    n_long, rss_long = peak_rss_mb(long)
    assert n_long == 15 * 60 * 16000 * 2
    assert rss_long - rss_short < 20, (rss_short, rss_long)


def test_fifos_and_character_devices_are_refused_with_one_line(tmp_path, coach_env):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "a FIFO"), (Path("/dev/zero"), "a character device")):
        with pytest.raises(AudioDeviceError, match=f"is {kind}, not a WAV file"):
            WavMicrophone(path)
        out = subprocess.run([*COACH, "run", "short", "--mic", str(path), "--quiet"], env=coach_env,
                             cwd=str(ROOT), capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
        assert out.returncode == 4 and "Traceback" not in out.stderr, out.stderr
        assert out.stderr.strip().splitlines()[-1].endswith(f"is {kind}, not a WAV file; --mic replays a "
                                                            "recorded file")


def test_a_header_that_promises_more_than_the_file_holds_plays_what_is_there(tmp_path):
    path = tmp_path / "cut.wav"
    _write(path, 16000, 1, 2, 2.0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 16000])          # the last half second is gone
    streamed = b"".join(c.pcm for c in WavMicrophone(path))
    assert len(streamed) == len(data) - 44 - 16000


def _as_rf64(riff: bytes) -> bytes:
    """The same samples with RF64's layout: 32-bit sizes all ones, the real ones in `ds64`."""
    fmt_end = riff.index(b"data")
    fmt = riff[12:fmt_end]
    samples = riff[fmt_end + 8:]
    ds64 = b"ds64" + struct.pack("<IQQQI", 28, 4 + 36 + len(fmt) + 8 + len(samples), len(samples),
                                 len(samples) // 2, 0)
    return (b"RF64" + b"\xff\xff\xff\xff" + b"WAVE" + ds64 + fmt + b"data" + b"\xff\xff\xff\xff"
            + samples)


def test_an_rf64_file_plays_the_same_samples_as_its_riff_twin(tmp_path):
    """Recorders and sox/ffmpeg write RF64 past 4 GB (a day and a half at 16 kHz mono)."""
    riff, rf64 = tmp_path / "riff.wav", tmp_path / "rf64.wav"
    _write(riff, 16000, 1, 2, 2.0)
    rf64.write_bytes(_as_rf64(riff.read_bytes()))
    assert WavMicrophone(rf64).duration_s == pytest.approx(2.0)
    assert b"".join(c.pcm for c in WavMicrophone(rf64)) == b"".join(c.pcm for c in WavMicrophone(riff))


def test_an_rf64_file_longer_than_riff_can_say_keeps_its_length(tmp_path):
    """A week of `coach serve` soak is one sparse RF64 file; a RIFF header cannot say 40 hours."""
    frames = 40 * 3600 * 16000
    path = tmp_path / "long.wav"
    spec = importlib.util.spec_from_file_location("soak_serve", ROOT / "scripts" / "soak_serve.py")
    soak = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(soak)  # type: ignore[union-attr]
    header = soak.wav_header(frames)
    assert header[:4] == b"RF64"
    with path.open("wb") as f:
        f.write(header)
        f.truncate(len(header) + frames * 2)
    mic = WavMicrophone(path)
    assert mic.duration_s == pytest.approx(40 * 3600)
    first = next(iter(mic))
    assert first.t_start == 0.0 and len(first.pcm) > 0
    mic.close()
