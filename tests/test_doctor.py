"""coach.doctor: every check against real files in tmp_path, the machine as it is, and (marked `live`)
the audio test on the virtual PulseAudio devices.

Each broken piece must fail its own check with the fix a user can act on, and make the overall
status non-zero; everything else must keep passing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from coach.audio.devices import NO_PORTAUDIO_FIX, DeviceInfo
from coach.defaults import RATE_HZ
from coach.doctor import (
    NO_DEVICE_FIX,
    Check,
    DoctorContext,
    _version_key,
    check_audio_input,
    check_audio_output,
    check_config,
    check_data_dir,
    check_device,
    check_espeak,
    check_history,
    check_python,
    check_recognizer,
    exit_status,
    format_checks,
    make_context,
    run_doctor,
)
from coach.errors import AudioDeviceError
from coach.history import Store

if TYPE_CHECKING:
    from live_fixtures import VirtualAudio

if "live_fixtures" not in sys.modules:
    pytest_plugins = ["live_fixtures"]

REPO = Path(__file__).resolve().parent.parent
VIRTUAL_AUDIO_ADVICE = 'eval "$(scripts/virtual-audio start)"'
MIC = DeviceInfo(0, "USB Mic", 1, 0, 48_000, True, False)
SPEAKER = DeviceInfo(1, "Headphones", 0, 2, 48_000, False, True)
HDMI = DeviceInfo(2, "HDMI out", 0, 2, 48_000, False, False)


def make_ctx(tmp_path: Path, **changes: object) -> DoctorContext:
    """A context that looks only inside tmp_path, with a microphone and a speaker (fakes)."""
    data = tmp_path / "data"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "xdg"),
           "PATH": os.environ.get("PATH", "")}
    fields: dict[str, object] = {"data_dir": data, "env": env,
                                 "list_devices": lambda: [MIC, SPEAKER, HDMI]}
    fields.update(changes)
    return DoctorContext(**fields)  # type: ignore[arg-type]


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, mode=0o700)
    path.chmod(0o700)
    return path


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


# -- the machine as it is ------------------------------------------------------------------------
DOCTOR_SCRIPT = """
import os, sys
from coach.doctor import format_checks, exit_status, make_context, run_doctor
checks = run_doctor(make_context(None, os.environ))
print(format_checks(checks))
sys.exit(exit_status(checks))
"""


@pytest.mark.audio
def test_doctor_on_this_machine(tmp_path: Path) -> None:
    """No sound server named (PULSE_SERVER unset): on a machine without a sound card the speaker
    check fails with the virtual-audio advice; everything else passes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "COACH_"))}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
               PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", DOCTOR_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    status = {line.split()[1]: line.split()[0] for line in lines            # "data directory" -> "data"
              if line.split()[:1] in (["ok"], ["FAIL"], ["warn"])}
    for name in ("python", "packages", "config", "data", "history", "voice", "espeak-ng", "speech",
                 "recognizer"):
        assert status.get(name) == "ok", done.stdout
    speaker = next(line for line in lines if line.split()[1:2] == ["speaker"])
    if speaker.startswith("ok"):
        pytest.skip("this machine has a sound device: the no-device advice cannot be seen here")
    assert speaker.split(None, 2)[2] == "no speaker found (no output device)"
    assert lines[lines.index(speaker) + 1].strip() == f"fix: {NO_DEVICE_FIX}"
    assert VIRTUAL_AUDIO_ADVICE in NO_DEVICE_FIX
    assert status["microphone"] == "warn"            # input is `keys` by default: not required
    assert lines[-1] == "1 problem to fix; then run `coach doctor` again"
    assert done.returncode == 1


# -- Python, packages, config ------------------------------------------------------------------------
def test_python_and_version_parsing(tmp_path: Path) -> None:
    check = check_python(make_ctx(tmp_path))
    assert check.ok and check.detail.startswith(f"Python {sys.version_info[0]}.{sys.version_info[1]}.")
    assert _version_key("0.3.45") == (0, 3, 45)
    assert _version_key("2.0rc1") == (2, 0)
    assert _version_key("6.0.4.post1") == (6, 0, 4)
    assert _version_key("dev") == ()


def test_config_missing_is_fine(tmp_path: Path) -> None:
    check = check_config(make_ctx(tmp_path))
    assert check.ok
    assert check.detail == (f"{tmp_path}/config/coach/config.yaml: none; the defaults apply "
                            "(`coach config --init` writes one)")


def test_config_settings_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("user: ana\nrecognizer: {engine: pocketsphinx}\n")
    check = check_config(make_ctx(tmp_path, config_path=path))
    assert (check.ok, check.detail) == (True, f"{path}: 2 settings")


def test_broken_config_fails_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config" / "coach" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("user: ana\nremiders: ['08:00']\n")
    check = check_config(make_ctx(tmp_path))
    assert not check.ok and check.required
    assert check.detail == f"{path}:2: remiders: unknown field (did you mean `reminders`?)"
    assert check.fix is not None and check.fix.startswith("correct that line")


def test_make_context_survives_a_broken_config(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("input: [broken\n")
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "COACH_USER": "ana"}
    ctx = make_context(path, env, {"engine": "pocketsphinx", "data_dir": None}, audio_test=True)
    assert (ctx.data_dir, ctx.engine, ctx.input_mode, ctx.audio_test, ctx.config_path) == \
        (tmp_path / "xdg" / "coach", "pocketsphinx", "keys", True, path)
    path.write_text("input: voice\ndevices: {input: 3}\nrecognizer: {model: m}\n")
    ctx = make_context(path, env)
    assert (ctx.input_mode, ctx.input_device, ctx.model) == ("voice", 3, tmp_path / "m")


# -- the data directory and the history ------------------------------------------------------------
def test_private_data_dir_passes(tmp_path: Path) -> None:
    data = private_dir(tmp_path / "data")
    check = check_data_dir(make_ctx(tmp_path))
    assert (check.ok, check.detail) == (True, f"{data} (writable, readable by you only)")
    assert list(data.iterdir()) == []                        # the write test left nothing behind


def test_missing_data_dir_can_be_created(tmp_path: Path) -> None:
    check = check_data_dir(make_ctx(tmp_path))
    assert check.ok and "does not exist yet" in check.detail
    assert not (tmp_path / "data").exists()                 # the doctor does not create it


def test_data_dir_readable_by_others_says_chmod_700(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    checks = by_name(run_quick(make_ctx(tmp_path)))
    check = checks["data directory"]
    assert not check.ok and check.required
    assert check.detail == (f"{data} can be read by other users (mode 755); it holds your health history")
    assert check.fix == f"chmod 700 {data}"


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    checks = by_name(run_quick(make_ctx(tmp_path)))
    check = checks["data directory"]
    assert (check.ok, check.detail) == (False, f"{tmp_path}/data is a file, not a folder")
    assert check.fix is not None and check.fix.startswith("move that file aside")
    assert "--data-dir" in check.fix
    assert not checks["history"].ok                         # cannot look inside a file
    assert checks["history"].fix == "fix the data directory first (above)"


def test_data_dir_below_a_file_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("")
    check = check_data_dir(make_ctx(tmp_path, data_dir=tmp_path / "blocker" / "coach"))
    assert not check.ok
    assert check.detail == (f"{tmp_path}/blocker/coach cannot be created: {tmp_path}/blocker is a file, "
                            "not a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into any folder")
def test_data_dir_not_writable(tmp_path: Path) -> None:
    data = private_dir(tmp_path / "data")
    data.chmod(0o500)
    try:
        check = check_data_dir(make_ctx(tmp_path))
    finally:
        data.chmod(0o700)
    assert not check.ok and "is not writable" in check.detail
    assert check.fix is not None and "chmod 700" in check.fix


def test_history_missing_then_present(tmp_path: Path) -> None:
    data = private_dir(tmp_path / "data")
    ctx = make_ctx(tmp_path)
    check = check_history(ctx)
    assert check.ok and check.detail == f"{data}/history.sqlite3: none yet; it starts with your first session"
    store = Store(data / "history.sqlite3")
    store.start_session("glutes", datetime.now().astimezone(), "keys", "en-us")
    store.close()
    check = check_history(ctx)
    assert (check.ok, check.detail) == (True, f"{data}/history.sqlite3: 1 session")


def test_corrupt_history_is_reported_and_left_untouched(tmp_path: Path) -> None:
    data = private_dir(tmp_path / "data")
    db = data / "history.sqlite3"
    junk = b"this is not a database\n" * 100
    db.write_bytes(junk)
    before = db.stat()
    checks = by_name(run_quick(make_ctx(tmp_path)))
    check = checks["history"]
    assert not check.ok and check.required
    assert check.detail.startswith(f"{db}: not a usable coach history (")
    assert check.fix == (f"it was left untouched: move it aside (mv {db} {db}.broken) and coach starts "
                         "a new history")
    assert db.read_bytes() == junk and db.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in data.iterdir()) == ["history.sqlite3"]      # no -wal, no -journal
    assert checks["data directory"].ok


# -- speech ----------------------------------------------------------------------------------------
def test_espeak_missing_says_how_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    ctx = make_ctx(tmp_path)
    check = check_espeak(replace(ctx, env={**ctx.env, "PATH": str(empty)}))
    assert not check.ok
    assert check.fix == "sudo apt-get install espeak-ng (scripts/setup does it)"


def test_unknown_voice_fails_and_skips_what_needs_it(tmp_path: Path) -> None:
    checks = by_name(run_doctor(make_ctx(tmp_path, voice="klingon")))
    assert not checks["voice pack"].ok
    assert checks["voice pack"].detail.startswith("no voice called `klingon` (available: ")
    for name in ("speech", "recognizer"):
        assert (checks[name].ok, checks[name].fix) == (False, "fix the voice pack first (above)")
    assert exit_status(list(checks.values())) == 1


# -- devices ---------------------------------------------------------------------------------------
def test_devices_present(tmp_path: Path) -> None:
    speaker = check_device(make_ctx(tmp_path), "output")
    assert (speaker.ok, speaker.detail) == (True, "Headphones (device 1, the default)")
    mic = check_device(make_ctx(tmp_path, input_device="usb"), "input")
    assert (mic.ok, mic.detail) == (True, "USB Mic (device 0, from `usb`)")
    hdmi = check_device(make_ctx(tmp_path, output_device=2), "output")
    assert (hdmi.ok, hdmi.detail) == (True, "HDMI out (device 2, from `2`)")


def test_named_device_that_is_not_there(tmp_path: Path) -> None:
    check = check_device(make_ctx(tmp_path, output_device="bluetooth"), "output")
    assert not check.ok
    assert check.detail == ("no single output device matches `bluetooth` "
                            "(available: 1: Headphones, 2: HDMI out)")
    assert check.fix == ("set devices.output in the config file (or --output-device) to one of those names "
                         "or indexes")


def test_no_devices_gives_the_virtual_audio_advice(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, list_devices=lambda: [])
    speaker, mic = check_device(ctx, "output"), check_device(ctx, "input")
    assert (speaker.ok, speaker.required, speaker.fix) == (False, True, NO_DEVICE_FIX)
    assert (mic.ok, mic.required, mic.fix) == (False, False, NO_DEVICE_FIX)     # keys: a warning
    assert VIRTUAL_AUDIO_ADVICE in NO_DEVICE_FIX and "connect one" in NO_DEVICE_FIX
    voice_mic = check_device(make_ctx(tmp_path, list_devices=lambda: [], input_mode="voice"), "input")
    assert voice_mic.required and not voice_mic.ok


def test_portaudio_missing_says_which_package(tmp_path: Path) -> None:
    def no_portaudio() -> list[DeviceInfo]:
        raise AudioDeviceError(NO_PORTAUDIO_FIX)

    check = check_device(make_ctx(tmp_path, list_devices=no_portaudio), "output")
    assert (check.ok, check.detail) == (False, NO_PORTAUDIO_FIX)
    assert check.fix == "sudo apt-get install libportaudio2"


# -- the recognizer --------------------------------------------------------------------------------
@pytest.mark.audio
def test_recognizer_loads_pocketsphinx(tmp_path: Path, voice) -> None:  # noqa: ANN001 - the fixture
    check = check_recognizer(make_ctx(tmp_path, engine="pocketsphinx"), voice)
    assert check.ok, check.detail
    assert check.detail.startswith("pocketsphinx with its bundled US-English model (--engine pocketsphinx): "
                                   "loaded, and listened to 0.5 s of silence")


def test_recognizer_model_that_is_not_there(tmp_path: Path, voice) -> None:  # noqa: ANN001
    missing = tmp_path / "no-model"
    check = check_recognizer(make_ctx(tmp_path, engine="vosk", model=missing), voice)
    assert not check.ok and str(missing) in check.detail
    assert check.fix is not None and check.fix.startswith("download one with `coach models download`")


# -- the whole run and its report ------------------------------------------------------------------
def run_quick(ctx: DoctorContext) -> list[Check]:
    """The file checks of `run_doctor` (the speech and recognizer checks take a second each)."""
    from coach.doctor import check_packages

    return [check_python(ctx), check_packages(ctx), check_config(ctx), check_data_dir(ctx),
            check_history(ctx)]


@pytest.mark.audio
def test_everything_fine_then_one_broken_piece_fails_the_run(tmp_path: Path) -> None:
    private_dir(tmp_path / "data")
    ctx = make_ctx(tmp_path, engine="pocketsphinx")
    checks = run_doctor(ctx)
    assert [c.name for c in checks] == ["python", "packages", "config file", "data directory", "history",
                                        "voice pack", "espeak-ng", "speech", "speaker", "microphone",
                                        "recognizer"]
    assert all(c.ok for c in checks), format_checks(checks)
    assert exit_status(checks) == 0
    assert format_checks(checks).endswith("\nready: every check passed")

    config = tmp_path / "config" / "coach" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("input: voise\n")
    checks = run_doctor(ctx)
    assert [c.name for c in checks if not c.ok] == ["config file"]
    assert exit_status(checks) == 1


def test_format_checks_and_exit_status() -> None:
    checks = [Check("python", True, "Python 3.11.7"),
              Check("data directory", False, "/d can be read by other users", "chmod 700 /d"),
              Check("microphone", False, "no microphone found", "connect one", required=False)]
    assert format_checks(checks) == (
        "ok    python          Python 3.11.7\n"
        "FAIL  data directory  /d can be read by other users\n"
        "                      fix: chmod 700 /d\n"
        "warn  microphone      no microphone found\n"
        "                      fix: connect one\n"
        "\n"
        "1 problem to fix; then run `coach doctor` again")
    assert exit_status(checks) == 1
    assert exit_status([checks[0], checks[2]]) == 0
    assert format_checks([checks[0], checks[2]]).endswith("\nready (1 warning)")


def test_a_check_that_breaks_is_a_failed_check(tmp_path: Path) -> None:
    def broken() -> list[DeviceInfo]:
        raise RuntimeError("boom")

    checks = by_name(run_doctor(make_ctx(tmp_path, list_devices=broken, voice="klingon")))
    assert checks["speaker"].detail == "the check itself failed: RuntimeError: boom"
    assert not checks["speaker"].ok and checks["speaker"].fix


# -- live: the audio test on the virtual devices ---------------------------------------------------
def live_ctx(tmp_path: Path) -> DoctorContext:
    return DoctorContext(data_dir=tmp_path / "data", env=dict(os.environ), input_mode="voice",
                         audio_test=True)


@pytest.mark.live
def test_audio_test_plays_a_tone_and_hears_silence(virtual_audio: VirtualAudio, tmp_path: Path) -> None:
    ctx = live_ctx(tmp_path)
    assert check_device(ctx, "output").ok and check_device(ctx, "input").ok
    speaker = check_audio_output(ctx)
    assert speaker.ok, speaker.detail
    assert speaker.detail.startswith("played a 0.5 s 440 Hz tone on ")
    mic = check_audio_input(ctx)              # nothing plays into the virtual microphone
    assert not mic.ok and mic.required, mic.detail
    assert mic.detail.endswith("level -inf dBFS (digital silence)")
    assert mic.fix is not None and mic.fix.startswith("silent: check the microphone")


@pytest.mark.live
def test_audio_test_reports_the_level_it_hears(virtual_audio: VirtualAudio, tmp_path: Path) -> None:
    from coach.audio.wav import write_wav

    t = np.arange(4 * RATE_HZ) / RATE_HZ               # 4 s: covers the up to 2 s wake-up and 1 s recorded
    wav = tmp_path / "tone.wav"
    write_wav(wav, np.rint(3277 * np.sin(2 * np.pi * 300 * t)).astype(np.int16), RATE_HZ)  # -20 dBFS peak
    player = virtual_audio.play_into_mic(wav, wait=False)
    try:
        check = check_audio_input(live_ctx(tmp_path))
    finally:
        player.terminate()
        player.wait(timeout=30)
    assert check.ok, check.detail
    level_db = float(check.detail.split("level ")[1].split(" dBFS")[0])
    assert -30 < level_db < -15, check.detail          # a -20 dBFS sine is -23 dBFS rms


@pytest.mark.live
def test_doctor_with_audio_test_on_virtual_devices(virtual_audio: VirtualAudio, tmp_path: Path) -> None:
    private_dir(tmp_path / "data")
    checks = by_name(run_doctor(DoctorContext(data_dir=tmp_path / "data", env=dict(os.environ),
                                              engine="pocketsphinx", audio_test=True)))
    assert checks["speaker"].ok and checks["microphone"].ok and checks["audio test: speaker"].ok
    assert not checks["audio test: microphone"].ok          # digital silence: nobody speaks into it
    assert exit_status(list(checks.values())) == 1
