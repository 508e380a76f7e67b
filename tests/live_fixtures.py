"""The `virtual_audio` fixture: a private PulseAudio server with a virtual microphone and speaker.

Import it from conftest.py (`from live_fixtures import virtual_audio  # noqa: F401`). It runs
`scripts/virtual-audio start` once per test session, points this process at the server
(PULSE_SERVER etc. in os.environ, PortAudio re-initialised so it sees them) and stops the server at
the end if it started it. Without Linux or PulseAudio the tests that use it are skipped, except
under CI=true, where they fail: CI must really run them.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from helpers.virtual_audio import exports

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "virtual-audio"
RATE_HZ = 16_000
TOOLS = ("pulseaudio", "pactl", "paplay", "parec")
FIRST_AUDIO_TIMEOUT_S = 5.0          # a record stream on an idle null sink starts within ~2 s


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def unavailable(reason: str) -> None:
    """Skip the test, or fail it under CI=true."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the live audio tests must run)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed (install it with scripts/setup)")
    return str(path)


@dataclass
class VirtualAudio:
    """The running server: `env` holds PULSE_SERVER and friends (already in os.environ)."""

    env: dict[str, str]
    state_dir: Path
    started_here: bool = field(default=False)

    def play_into_mic(self, wav_path: Path, wait: bool = True) -> subprocess.Popen[bytes]:
        """Speak a WAV file into the virtual microphone (`paplay --device=vmic_in`).

        With `wait=False` it returns at once with the running `paplay`; call `.wait()` on it.
        """
        command = ["paplay", "--device=vmic_in", str(wav_path)]
        if not wait:
            return subprocess.Popen(command, env=self._env(), stdout=subprocess.DEVNULL)
        proc = subprocess.Popen(command, env=self._env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        _, err = proc.communicate(timeout=30)
        if proc.returncode != 0:
            raise RuntimeError(f"paplay failed: {err.decode(errors='replace').strip()}")
        return proc

    def record_speaker(self, seconds: float) -> np.ndarray:
        """What the virtual speaker plays for `seconds` (int16, 16 kHz mono), from `vspeaker.monitor`.

        The seconds count from the first sample parec delivers, which can take up to ~2 s when
        nothing is playing (the null sink wakes every 2 s while idle).
        """
        want_bytes = int(round(seconds * RATE_HZ)) * 2
        proc = subprocess.Popen(
            ["parec", "--raw", "--device=vspeaker.monitor", "--format=s16le", f"--rate={RATE_HZ}",
             "--channels=1", "--latency-msec=20"],
            env=self._env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdout = proc.stdout
        if stdout is None:
            raise RuntimeError("parec: no output pipe")
        data = bytearray()
        deadline_s = time.monotonic() + FIRST_AUDIO_TIMEOUT_S + seconds
        try:
            while len(data) < want_bytes:
                left_s = deadline_s - time.monotonic()
                if left_s <= 0:
                    raise RuntimeError(f"parec delivered {len(data)} of {want_bytes} bytes in time")
                ready, _, _ = select.select([stdout], [], [], left_s)
                if ready:
                    block = os.read(stdout.fileno(), want_bytes - len(data))
                    if not block:
                        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                        raise RuntimeError(f"parec stopped: {err.strip()}")
                    data += block
        finally:
            proc.kill()
            proc.communicate()                                   # reaps it, closes the pipes
        return np.frombuffer(bytes(data), dtype="<i2").copy()

    def is_running(self) -> bool:
        return _script("status", self.state_dir).returncode == 0

    def stop_server(self) -> None:
        """Stop the server (the device-lost test); `start_server()` brings it back."""
        _check(_script("stop", self.state_dir))

    def start_server(self) -> None:
        _check(_script("start", self.state_dir))

    def freeze_server(self) -> None:
        """SIGSTOP the server: a hung device, which sends no error, only silence in time."""
        os.kill(self._server_pid(), signal.SIGSTOP)

    def thaw_server(self) -> None:
        os.kill(self._server_pid(), signal.SIGCONT)

    def _server_pid(self) -> int:
        return int((self.state_dir / "pulseaudio.pid").read_text().strip())

    def _env(self) -> dict[str, str]:
        return {**os.environ, **self.env}


def _script(command: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), command], capture_output=True, text=True,
                          env={**os.environ, "COACH_PULSE_DIR": str(state_dir)}, timeout=30)


def _check(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        pytest.fail(f"scripts/virtual-audio: {result.stderr.strip()}", pytrace=False)


def reinit_portaudio() -> None:
    """PortAudio reads PULSE_SERVER when it initialises: rescan if sounddevice is already loaded.

    Only safe while no stream is open.
    """
    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()


@pytest.fixture(scope="session")
def virtual_audio() -> Iterator[VirtualAudio]:
    if not sys.platform.startswith("linux"):
        unavailable("the virtual audio devices need Linux and PulseAudio")
    for tool in TOOLS:
        require_tool(tool)
    state_dir = Path(os.environ.get("COACH_PULSE_DIR") or f"/tmp/coach-pulse-test-{os.getpid()}")
    was_running = _script("status", state_dir).returncode == 0
    started = _script("start", state_dir)
    _check(started)
    env = exports(started.stdout)
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        reinit_portaudio()
        from coach.audio.devices import sounddevice_module
        from coach.errors import AudioDeviceError
        try:
            sounddevice_module()
        except AudioDeviceError as err:
            unavailable(str(err))
        yield VirtualAudio(env=env, state_dir=state_dir, started_here=not was_running)
    finally:
        if not was_running:
            _script("stop", state_dir)
            shutil.rmtree(state_dir, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
