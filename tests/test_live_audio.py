"""Live audio through real PortAudio streams on the virtual PulseAudio devices (scripts/virtual-audio).

The `live` tests need Linux, PulseAudio and espeak-ng; they are skipped without them, except under
CI=true, where they fail. The device-lost test stops the server and restarts it: it stays last.
The two tests at the top are offline.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from coach.audio.chunk import AudioChunk
from coach.audio.live import StreamResampler
from coach.audio.wav import load_pcm16
from coach.defaults import CHUNK_S, RATE_HZ
from coach.errors import AudioDeviceError

if TYPE_CHECKING:
    from live_fixtures import VirtualAudio

# The `virtual_audio` fixture. When conftest.py has already imported it (`from live_fixtures import
# virtual_audio`), loading the module again as a plugin would only draw a PytestAssertRewriteWarning.
# Import from live_fixtures inside functions only, after pytest has loaded it.
if "live_fixtures" not in sys.modules:
    pytest_plugins = ["live_fixtures"]

REPO = Path(__file__).resolve().parent.parent

CHUNK_SAMPLES = int(round(CHUNK_S * RATE_HZ))
FLOOR_RMS = 20.0            # dither is ~2 LSB rms; the virtual mic is otherwise exact zeros
SPEECH_RMS = 300.0          # espeak-ng "ready" peaks near 5,000 rms per 50 ms chunk


def rms(pcm: np.ndarray | bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2") if isinstance(pcm, bytes) else pcm
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def best_match(signal: np.ndarray, template: np.ndarray) -> float:
    """The highest normalised correlation of `template` against any stretch of `signal` (FFT)."""
    x, t = signal.astype(np.float64), template.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(x) + len(t))))
    corr = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(t, size)), size)[: len(x) - len(t) + 1]
    running = np.concatenate(([0.0], np.cumsum(x * x)))
    energy = running[len(t) :] - running[: len(x) - len(t) + 1]     # |stretch|^2 at each offset
    scores = corr / (np.sqrt(np.maximum(energy, 1e-9)) * np.linalg.norm(t))
    return float(np.max(scores))


@pytest.fixture(scope="session")
def ready_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """espeak-ng saying "ready" (22,050 Hz, about 0.6 s)."""
    from live_fixtures import require_tool

    espeak = require_tool("espeak-ng")
    path = tmp_path_factory.mktemp("live") / "ready.wav"
    subprocess.run([espeak, "-w", str(path), "ready"], check=True, timeout=30)
    return path


# Offline ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("from_hz", "max_error"), [(48_000, 60), (44_100, 60), (8_000, 200)])
def test_stream_resampler_is_seamless_across_blocks(from_hz: int, max_error: float) -> None:
    t = np.arange(from_hz) / from_hz                                  # one second of 440 Hz
    tone = np.rint(10_000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    whole = StreamResampler(from_hz, RATE_HZ).process(tone)
    pieces, rs, pos = [], StreamResampler(from_hz, RATE_HZ), 0
    for size in np.random.default_rng(1).integers(1, 300, 2000):     # blocks of 1..299 frames
        pieces.append(rs.process(tone[pos : pos + size]))
        pos += size
        if pos >= len(tone):
            break
    streamed = np.concatenate(pieces)
    assert np.array_equal(streamed, whole)
    assert abs(len(whole) - RATE_HZ) <= 2
    delay = 31 * RATE_HZ / from_hz if from_hz > RATE_HZ else 0        # FIR group delay, in samples
    ideal = 10_000 * np.sin(2 * np.pi * 440 * (np.arange(len(whole)) - delay) / RATE_HZ)
    middle = slice(100, len(whole) - 100)
    # Linear interpolation: ~25 LSB off a 10,000 LSB tone when going down, ~150 going up from 8 kHz.
    assert np.max(np.abs(whole[middle] - ideal[middle])) < max_error


def test_missing_portaudio_is_an_audio_device_error() -> None:
    code = (
        "import ctypes.util, sys\n"
        "ctypes.util.find_library = lambda name: None\n"              # as without libportaudio2
        "from coach.errors import AudioDeviceError\n"
        "from coach.audio.devices import list_devices\n"
        "try:\n"
        "    list_devices()\n"
        "except AudioDeviceError as err:\n"
        "    print(err)\n"
        "    sys.exit(err.exit_code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=60)
    if "No module named 'sounddevice'" in done.stderr:
        pytest.skip("sounddevice is not installed")
    assert done.returncode == 4, done.stderr
    assert done.stdout.strip() == ("PortAudio library not found: "
                                   "install it with: sudo apt-get install libportaudio2")
    assert "Traceback" not in done.stderr


# Live ------------------------------------------------------------------------------------------

@pytest.mark.live
def test_devices_see_the_virtual_microphone_and_speaker(virtual_audio: VirtualAudio) -> None:
    from coach.audio.devices import format_devices, list_devices, resolve_device

    devices = list_devices()
    default_in = [d for d in devices if d.is_default_input]
    default_out = [d for d in devices if d.is_default_output]
    assert len(default_in) == 1 and default_in[0].max_input_channels >= 1
    assert len(default_out) == 1 and default_out[0].max_output_channels >= 1
    names = [d.name for d in devices]
    assert "pulse" in names                                          # ALSA's route to the server
    pulse = names.index("pulse")
    assert resolve_device("PULS", "input") == devices[pulse].index
    assert resolve_device(str(devices[pulse].index), "output") == devices[pulse].index
    assert resolve_device(None, "input") is None
    with pytest.raises(AudioDeviceError, match="no input device matches 'usb headset'.*pulse"):
        resolve_device("usb headset", "input")
    with pytest.raises(AudioDeviceError, match="no output device with index 99"):
        resolve_device(99, "output")
    table = format_devices(devices)
    assert "pulse" in table and "> default input" in table
    # The PortAudio default is PulseAudio's default, which the script made the virtual pair.
    info = subprocess.run(["pactl", "info"], capture_output=True, text=True, check=True).stdout
    assert "Default Sink: vspeaker" in info and "Default Source: vmic" in info


@pytest.mark.live
@pytest.mark.parametrize("device_rate_hz", [None, 48_000], ids=["16k", "48k-resampled"])
def test_microphone_hears_ready_at_the_right_time(
        virtual_audio: VirtualAudio, ready_wav: Path, device_rate_hz: int | None) -> None:
    from coach.audio.live import LiveMicrophone

    play_at_s, record_s = 0.5, 2.0
    mic = LiveMicrophone(device_rate_hz=device_rate_hz)
    chunks: list[AudioChunk] = []
    player = None
    try:
        mic.wait_ready()
        print(f"\nfirst callback {mic.ready_after_s:.3f} s after open ({mic.device_rate_hz} Hz)")
        wall_start_s = time.monotonic()
        for chunk in mic:
            chunks.append(chunk)
            if player is None and chunk.t_end >= play_at_s:
                player = virtual_audio.play_into_mic(ready_wav, wait=False)
            if chunk.t_end >= record_s:
                break
        wall_s = time.monotonic() - wall_start_s
    finally:
        mic.close()
        if player is not None:
            player.wait(timeout=10)
    assert mic.live is True and mic.device_rate_hz == (device_rate_hz or RATE_HZ)
    assert all(c.n_samples == CHUNK_SAMPLES for c in chunks)
    assert [c.t_start for c in chunks] == [i * CHUNK_SAMPLES / RATE_HZ for i in range(len(chunks))]
    assert abs(wall_s - chunks[-1].t_end) < 0.25                     # the clock runs in real time
    levels = [rms(c.pcm) for c in chunks]
    loud = [c.t_start for c, level in zip(chunks, levels, strict=True) if level > SPEECH_RMS]
    assert loud, f"no speech heard; chunk levels {[round(v) for v in levels]}"
    assert play_at_s <= loud[0] <= play_at_s + 0.4                   # paplay start-up + latency
    assert 0.3 <= loud[-1] - loud[0] <= 0.8                          # the word lasts ~0.6 s
    quiet = [level for c, level in zip(chunks, levels, strict=True) if c.t_end <= play_at_s]
    assert quiet and max(quiet) < FLOOR_RMS
    assert min(quiet) > 0.5                                          # dithered: no exact zeros


@pytest.mark.live
def test_speaker_plays_and_the_monitor_hears_it(virtual_audio: VirtualAudio, ready_wav: Path) -> None:
    from coach.audio.live import DeviceOutput

    word = load_pcm16(ready_wav)
    period = RATE_HZ                                                 # "ready" once a second

    def fill(start_sample: int, out: np.ndarray) -> None:
        index = np.arange(start_sample, start_sample + len(out)) % period
        speaking = index < len(word)
        out[:] = 0
        out[speaking] = word[index[speaking]]

    with DeviceOutput(fill) as speaker:
        heard = virtual_audio.record_speaker(2.0)
        before_s = speaker.position_s()
        time.sleep(0.5)
        advanced_s = speaker.position_s() - before_s
        print(f"\nspeaker latency {speaker.latency_s:.3f} s, underflows {speaker.underflows}")
    speaker.close()                                                  # idempotent
    assert 0.35 <= advanced_s <= 0.65
    assert rms(heard) > SPEECH_RMS
    assert best_match(heard, word) > 0.95                           # the same samples, not noise


@pytest.mark.live
def test_speaker_fill_errors_surface(virtual_audio: VirtualAudio) -> None:
    from coach.audio.live import DeviceOutput

    def broken(start_sample: int, out: np.ndarray) -> None:
        raise ValueError("bad timeline")

    speaker = DeviceOutput(broken)
    try:
        deadline_s = time.monotonic() + 3.0
        with pytest.raises(RuntimeError, match="fill function failed") as info:
            while time.monotonic() < deadline_s:
                speaker.position_s()
                time.sleep(0.01)
        assert isinstance(info.value.__cause__, ValueError)
    finally:
        speaker.close()


@pytest.mark.live
def test_no_sound_server_is_an_audio_device_error(tmp_path: Path) -> None:
    from live_fixtures import require_tool

    require_tool("pulseaudio")
    code = (
        "import sys\n"
        "from coach.errors import AudioDeviceError\n"
        "from coach.audio.devices import list_devices\n"
        "from coach.audio.live import DeviceOutput, LiveMicrophone\n"
        "print(len(list_devices()))\n"
        "for make in (LiveMicrophone, lambda: DeviceOutput(lambda s, o: None)):\n"
        "    try:\n"
        "        make()\n"
        "    except AudioDeviceError as err:\n"
        "        print(f'{type(err).__name__}: {err}')\n"
    )
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "PULSE_SERVER": f"unix:{tmp_path}/no-such-socket"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    count, mic_line, speaker_line = done.stdout.strip().splitlines()
    assert count == "0"
    assert mic_line.startswith("AudioDeviceError: no microphone found: connect one")
    assert speaker_line.startswith("AudioDeviceError: no speaker found: connect one")


@pytest.mark.live
def test_close_from_another_thread_ends_the_iterator(virtual_audio: VirtualAudio) -> None:
    from coach.audio.live import LiveMicrophone

    mic = LiveMicrophone()
    mic.wait_ready()
    closer = threading.Timer(0.3, mic.close)
    closer.start()
    started_s = time.monotonic()
    chunks = list(mic)                                               # ends when closed, no error
    closer.join()
    assert time.monotonic() - started_s < 1.0
    assert 0.1 <= len(chunks) * CHUNK_S <= 0.5
    assert list(mic) == []                                           # stays closed
    mic.close()


@pytest.mark.live
def test_hung_device_is_lost_after_a_second_of_silence(virtual_audio: VirtualAudio) -> None:
    from coach.audio.live import LOST_AFTER_S, LiveMicrophone

    mic = LiveMicrophone()
    frozen_at_s = None
    try:
        mic.wait_ready()
        with pytest.raises(AudioDeviceError, match=r"^microphone lost: no audio for 1\.0 s"):
            for chunk in mic:
                if frozen_at_s is None and chunk.t_end >= 0.3:
                    virtual_audio.freeze_server()
                    frozen_at_s = time.monotonic()
        assert frozen_at_s is not None
        raised_after_s = time.monotonic() - frozen_at_s
        assert LOST_AFTER_S <= raised_after_s < LOST_AFTER_S + 0.5
        started_s = time.monotonic()
        mic.close()                                                  # does not hang on the dead stream
        assert time.monotonic() - started_s < 0.1
    finally:
        virtual_audio.thaw_server()
    assert virtual_audio.is_running()


@pytest.mark.live
def test_device_lost_mid_stream_raises_then_a_new_microphone_works(
        virtual_audio: VirtualAudio) -> None:
    """Last in the file: it stops the server, then starts it again for whatever runs next."""
    from coach.audio.live import DeviceOutput, LiveMicrophone

    mic = LiveMicrophone()
    speaker = DeviceOutput(lambda start_sample, out: out.fill(0))
    stopped_at_s = None
    n_chunks = 0
    try:
        mic.wait_ready()
        with pytest.raises(AudioDeviceError, match="^microphone lost: ") as info:
            for chunk in mic:
                n_chunks += 1
                if stopped_at_s is None and chunk.t_end >= 0.5:
                    virtual_audio.stop_server()
                    stopped_at_s = time.monotonic()
                if stopped_at_s is not None and time.monotonic() - stopped_at_s > 5:
                    break                                            # fails: nothing was raised
        assert stopped_at_s is not None
        raised_after_s = time.monotonic() - stopped_at_s
        print(f"\nlost after {raised_after_s:.3f} s: {info.value}")
        assert raised_after_s < 2.0
        assert "\n" not in str(info.value)
        lost_deadline_s = time.monotonic() + 2.0
        with pytest.raises(AudioDeviceError, match="^speaker lost: "):
            while time.monotonic() < lost_deadline_s:
                speaker.position_s()
                time.sleep(0.02)
    finally:
        mic.close()
        mic.close()                                                  # idempotent
        speaker.close()
        if not virtual_audio.is_running():
            virtual_audio.start_server()
    # The documented recovery: construct a new microphone.
    retry = LiveMicrophone()
    try:
        retry.wait_ready()
        first = next(iter(retry))
        assert first.t_start == 0.0 and first.n_samples == CHUNK_SAMPLES
    finally:
        retry.close()

