"""`coach doctor`: is this machine ready to coach? Each check says what it found and, when it
fails, the one thing to do about it.

A smart speaker on a Raspberry Pi is set up once and then nobody looks at a terminal, so the
doctor checks every piece a session needs, in the order they depend on each other: Python and the
packages, the config file, the data directory and history, the voice and speech engine, the sound
devices (with `audio_test`, a tone out and a second recorded in), and the recognizer.

Everything comes in through a `DoctorContext` (data directory, environment, voice, recognizer,
config file, device lister), so tests point it at temporary folders. Heavy and native imports
(sounddevice, pyttsx3, the recognizers) happen inside the checks: a missing piece is a failed
check, never a traceback. PortAudio takes the sound server's address from the process environment
when it loads, not from `ctx.env`.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from coach import defaults, paths
from coach.config import (
    ENGINE,
    FIELDS,
    INPUT_MODE,
    Config,
    DeviceSpec,
    config_file,
    fallback_config,
    load_config,
    resolve,
)
from coach.errors import CoachError, ConfigError
from coach.voice.wording import plural

if TYPE_CHECKING:
    from coach.audio.devices import DeviceInfo
    from coach.voice import VoicePack

MIN_PYTHON = (3, 10)
# The distributions coach needs and the oldest versions it was tested with (as in pyproject.toml).
PACKAGES = (("pyttsx3", "2.99"), ("vosk", "0.3.45"), ("pocketsphinx", "5.0"), ("sounddevice", "0.5"),
            ("numpy", "1.24"), ("pyyaml", "6.0"))
TEST_LINE = "Coach is ready."
TONE_S = 0.5                # the --audio-test tone
TONE_HZ = 440.0
RECORD_S = 1.0              # the --audio-test recording
SPEAKER_TIMEOUT_S = 4.0     # an idle virtual sink may take 2 s to pull its first block
SILENCE_S = 0.5             # fed to the recognizer to prove it loads
SETUP_FIX = "run scripts/setup (it installs the Debian packages and the Python packages in .venv)"
NO_DEVICE_FIX = ("connect one, then check `coach devices`; on a machine without a sound card, "
                 "start virtual devices: eval \"$(scripts/virtual-audio start)\"")
PORTAUDIO_FIX = "sudo apt-get install libportaudio2"

Kind = Literal["input", "output"]


@dataclass(frozen=True)
class Check:
    """One finding. `fix` is the concrete thing to do when `ok` is False; a check that is not
    `required` only warns (coach can still run without it)."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    required: bool = True


@dataclass(frozen=True)
class DoctorContext:
    """What the doctor looks at; all of it passed in, nothing read from globals."""

    data_dir: Path
    env: Mapping[str, str]
    config_path: Path | None = None         # --config; None: $COACH_CONFIG or the usual place
    voice: str = defaults.VOICE
    engine: str = ENGINE
    model: Path | None = None
    input_mode: str = INPUT_MODE            # "voice" makes the microphone required
    input_device: DeviceSpec = None
    output_device: DeviceSpec = None
    audio_test: bool = False                # play a tone and record a second
    list_devices: Callable[[], list[DeviceInfo]] | None = None   # None: coach.audio.devices.list_devices


def make_context(config_path: Path | None, env: Mapping[str, str],
                 cli_overrides: Mapping[str, object | None] | None = None,
                 audio_test: bool = False) -> DoctorContext:
    """The context from the configuration. A broken config file is not fatal here: the defaults
    stand in, and the config check reports the file."""
    try:
        config = load_config(config_path, env)
    except ConfigError:
        config = fallback_config(config_path, env)
    return context_from_config(resolve(config, cli_overrides or {}), env, config_path, audio_test)


def context_from_config(config: Config, env: Mapping[str, str], config_path: Path | None = None,
                        audio_test: bool = False) -> DoctorContext:
    # A model from $COACH_VOSK_MODEL is left to the recognizer's own lookup, which names it so.
    model = None if config.model.source.startswith("environment") else config.model.value
    return DoctorContext(
        data_dir=config.data_dir.value, env=env, config_path=config_path, voice=config.voice.value,
        engine=config.engine.value, model=model, input_mode=config.input_mode.value,
        input_device=config.input_device.value, output_device=config.output_device.value,
        audio_test=audio_test)


# -- running and showing ----------------------------------------------------------------------------
def run_doctor(ctx: DoctorContext) -> list[Check]:
    """Every check, in the order the pieces depend on each other."""
    checks = [
        _guarded("python", check_python, ctx),
        _guarded("packages", check_packages, ctx),
        _guarded("config file", check_config, ctx),
        _guarded("data directory", check_data_dir, ctx),
        _guarded("history", check_history, ctx),
    ]
    voice, voice_check = _load_voice(ctx)
    checks += [voice_check, _guarded("espeak-ng", check_espeak, ctx)]
    checks.append(_guarded("speech", check_speech, ctx, voice) if voice else _skipped("speech", "voice pack"))
    speaker = _guarded("speaker", check_device, ctx, "output")
    microphone = _guarded("microphone", check_device, ctx, "input")
    checks += [speaker, microphone]
    if ctx.audio_test:
        checks.append(_guarded("audio test: speaker", check_audio_output, ctx) if speaker.ok
                      else _skipped("audio test: speaker", "speaker"))
        checks.append(_guarded("audio test: microphone", check_audio_input, ctx) if microphone.ok
                      else _skipped("audio test: microphone", "microphone"))
    checks.append(_guarded("recognizer", check_recognizer, ctx, voice) if voice
                  else _skipped("recognizer", "voice pack"))
    return checks


def exit_status(checks: list[Check]) -> int:
    """0 when every required check passed, else 1."""
    return 0 if all(c.ok or not c.required for c in checks) else 1


def format_checks(checks: list[Check]) -> str:
    """One line per check (`ok`, `FAIL` or `warn`), each failure followed by its fix, then a verdict."""
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        mark = "ok" if c.ok else "FAIL" if c.required else "warn"
        lines.append(f"{mark:<4}  {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"{'':<4}  {'':<{width}}  fix: {c.fix}")
    failed = sum(1 for c in checks if not c.ok and c.required)
    warned = sum(1 for c in checks if not c.ok and not c.required)
    if failed:
        lines.append(f"\n{plural(failed, 'problem', 'problems')} to fix; then run `coach doctor` again")
    else:
        warnings = plural(warned, "warning", "warnings")
        lines.append("\nready" + (f" ({warnings})" if warned else ": every check passed"))
    return "\n".join(lines)


def _guarded(name: str, check: Callable[..., Check], *args: object) -> Check:
    """A check that breaks is reported as a failed check, so one bug does not hide the others."""
    try:
        return check(*args)
    except Exception as err:                # noqa: BLE001 - the doctor reports, it does not crash
        return Check(name, False, f"the check itself failed: {type(err).__name__}: {err}",
                     "this is a bug in coach doctor: please report it with this line")


def _skipped(name: str, needs: str) -> Check:
    return Check(name, False, f"not checked: the {needs} check failed", f"fix the {needs} first (above)")


# -- Python and packages ----------------------------------------------------------------------------
def check_python(ctx: DoctorContext) -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        return Check("python", False, f"Python {version} ({sys.executable}) is too old",
                     "coach needs Python 3.10 or newer: use Debian 12 / Raspberry Pi OS bookworm, "
                     "then run scripts/setup")
    return Check("python", True, f"Python {version} ({sys.executable})")


def check_packages(ctx: DoctorContext) -> Check:
    found, problems, wanted = [], [], []
    for name, minimum in PACKAGES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{name} is missing")
            wanted.append(f"'{name}>={minimum}'")
            continue
        found.append(f"{name} {version}")
        if _version_key(version) < _version_key(minimum):
            problems.append(f"{name} {version} is older than {minimum}")
            wanted.append(f"'{name}>={minimum}'")
    if problems:
        return Check("packages", False, "; ".join(problems),
                     f"{SETUP_FIX}; or: {shlex.quote(sys.executable)} -m pip install {' '.join(wanted)}")
    return Check("packages", True, ", ".join(found))


def _version_key(version: str) -> tuple[int, ...]:
    """The leading numbers of a version: "0.3.45" -> (0, 3, 45), "2.0rc1" -> (2, 0)."""
    match = re.match(r"[0-9]+(?:\.[0-9]+)*", version)
    return tuple(int(n) for n in match[0].split(".")) if match else ()


# -- files ------------------------------------------------------------------------------------------
def check_config(ctx: DoctorContext) -> Check:
    try:
        file, _ = config_file(ctx.config_path, ctx.env)
        config = load_config(ctx.config_path, ctx.env)
    except ConfigError as err:
        return Check("config file", False, str(err),
                     "correct that line (`coach config` then shows what is in effect), or move the file "
                     "aside to use the defaults")
    if not config.file_found:
        return Check("config file", True,
                     f"{file}: none; the defaults apply (`coach config --init` writes one)")
    count = sum(getattr(config, attr).source.startswith("config file") for _, attr, _ in FIELDS)
    return Check("config file", True, f"{file}: {plural(count, 'setting', 'settings')}")


def check_data_dir(ctx: DoctorContext) -> Check:
    """The data directory exists (or can be created), is writable, and is private: it holds health data."""
    name, d = "data directory", ctx.data_dir
    elsewhere = "or point coach elsewhere with data_dir: in the config file (or --data-dir DIR)"
    if d.exists() and not d.is_dir():
        return Check(name, False, f"{d} is a file, not a folder", f"move that file aside, {elsewhere}")
    if not d.exists():
        parent = next((p for p in d.parents if p.exists()), Path("/"))
        if not parent.is_dir():
            return Check(name, False, f"{d} cannot be created: {parent} is a file, not a folder",
                         f"move {parent} aside, {elsewhere}")
        if not os.access(parent, os.W_OK | os.X_OK):
            return Check(name, False, f"{d} cannot be created: {parent} is not writable",
                         f"create it: mkdir -p -m 700 {shlex.quote(str(d))}, {elsewhere}")
        return Check(name, True, f"{d} does not exist yet; it is created (readable by you only) on first use")
    try:
        with tempfile.TemporaryFile(dir=d, prefix=".coach-doctor-"):
            pass
    except OSError as err:
        return Check(name, False, f"{d} is not writable ({err.strerror or err})",
                     f"make it yours: sudo chown -R \"$USER\" {shlex.quote(str(d))} && chmod 700 "
                     f"{shlex.quote(str(d))}, {elsewhere}")
    mode = d.stat().st_mode & 0o777
    if mode & 0o077:
        return Check(name, False, f"{d} can be read by other users (mode {mode:o}); "
                     "it holds your health history", f"chmod 700 {shlex.quote(str(d))}")
    return Check(name, True, f"{d} (writable, readable by you only)")


def check_history(ctx: DoctorContext) -> Check:
    """The history database opens. A damaged one is reported and never touched."""
    from coach.errors import StoreError
    from coach.history import Store

    db = paths.db_path(ctx.data_dir)
    if ctx.data_dir.exists() and not ctx.data_dir.is_dir():
        return _skipped("history", "data directory")
    if not db.exists():
        return Check("history", True, f"{db}: none yet; it starts with your first session")
    try:
        store = Store(db)
    except StoreError as err:
        aside = shlex.quote(str(db))
        return Check("history", False, str(err),
                     f"it was left untouched: move it aside (mv {aside} {aside}.broken) and coach starts "
                     "a new history")
    try:
        sessions = store.sessions()
    finally:
        store.close()
    return Check("history", True, f"{db}: {plural(len(sessions), 'session', 'sessions')}")


# -- speech out ----------------------------------------------------------------------------------------
def _load_voice(ctx: DoctorContext) -> tuple[VoicePack | None, Check]:
    from coach.voice.pack import load_voice_named

    try:
        voice = load_voice_named(ctx.voice, ctx.data_dir)
    except CoachError as err:
        return None, Check("voice pack", False, str(err),
                           "correct the voice pack (the message names the line), or choose another: "
                           "voice: in the config file, or --voice NAME (`coach voices` lists them)")
    except Exception as err:                # noqa: BLE001 - e.g. a package missing for the import
        return None, Check("voice pack", False, f"cannot load `{ctx.voice}`: {err}", SETUP_FIX)
    return voice, Check("voice pack", True, f"{voice.name}: {voice.title} ({voice.source})")


def check_espeak(ctx: DoctorContext) -> Check:
    found = shutil.which("espeak-ng", path=ctx.env.get("PATH"))
    if found is None:
        return Check("espeak-ng", False, "espeak-ng is not installed (pyttsx3 speaks through it)",
                     "sudo apt-get install espeak-ng (scripts/setup does it)")
    return Check("espeak-ng", True, found)


def check_speech(ctx: DoctorContext, voice: VoicePack) -> Check:
    """pyttsx3 renders a short line to samples with the voice's settings."""
    from coach.errors import SpeechEngineError

    try:
        from coach.speech.tts import Pyttsx3Synthesizer
    except ImportError as err:
        return Check("speech", False, f"cannot load the speech engine: {err}", SETUP_FIX)
    synth = Pyttsx3Synthesizer(voice.engine_voice, voice.rate_wpm, voice.volume)
    try:
        synth.start()
        samples = synth.render(TEST_LINE)
    except SpeechEngineError as err:
        fix = ("`coach say --list-voices` lists the engine's voices; set engine.voice in the voice pack"
               if "no voice" in str(err) else "sudo apt-get install espeak-ng (scripts/setup does it)")
        return Check("speech", False, str(err), fix)
    finally:
        synth.close()
    seconds = len(samples) / defaults.RATE_HZ
    if seconds == 0:
        return Check("speech", False, f"{synth.name} rendered silence", "sudo apt-get install espeak-ng")
    return Check("speech", True, f"{synth.name}: \"{TEST_LINE}\" is {seconds:.1f} s of speech")


# -- sound devices ----------------------------------------------------------------------------------
def check_device(ctx: DoctorContext, kind: Kind) -> Check:
    """The speaker (always required) or the microphone (required for voice input): present, and
    the one the configuration names (or a default) is there."""
    from coach.errors import AudioDeviceError

    name = "speaker" if kind == "output" else "microphone"
    required = kind == "output" or ctx.input_mode == "voice"
    try:
        if ctx.list_devices is not None:
            devices = ctx.list_devices()
        else:
            from coach.audio.devices import list_devices

            devices = list_devices()
    except AudioDeviceError as err:
        fix = PORTAUDIO_FIX if "PortAudio library" in str(err) else (
            SETUP_FIX if "package" in str(err) else
            "check the sound server (`pactl info`); without a sound card: "
            "eval \"$(scripts/virtual-audio start)\"")
        return Check(name, False, str(err), fix, required)
    usable = [d for d in devices if d.has(kind)]
    if not usable:
        return Check(name, False, f"no {name} found (no {kind} device)", NO_DEVICE_FIX, required)
    spec = ctx.input_device if kind == "input" else ctx.output_device
    available = ", ".join(f"{d.index}: {d.name}" for d in usable)
    key = f"devices.{kind} in the config file (or {'--device' if kind == 'input' else '--output-device'})"
    if spec is None:
        default = next((d for d in usable
                        if (d.is_default_input if kind == "input" else d.is_default_output)), None)
        if default is None:
            return Check(name, False, f"no default {kind} device (available: {available})",
                         f"name one with {key}", required)
        return Check(name, True, f"{default.name} (device {default.index}, the default)", None, required)
    chosen = _pick(usable, spec, kind)
    if chosen is None:
        return Check(name, False, f"no single {kind} device matches `{spec}` (available: {available})",
                     f"set {key} to one of those names or indexes", required)
    return Check(name, True, f"{chosen.name} (device {chosen.index}, from `{spec}`)", None, required)


def _pick(devices: list[DeviceInfo], spec: str | int, kind: Kind) -> DeviceInfo | None:
    """The device a session would open for `spec` (`coach.audio.devices.match_device`), or None."""
    from coach.audio.devices import match_device
    from coach.errors import AudioDeviceError

    try:
        return match_device(devices, spec, kind)
    except AudioDeviceError:
        return None


def check_audio_output(ctx: DoctorContext) -> Check:
    """Play a short tone through the speaker and watch the device take it."""
    import numpy as np

    from coach.audio.live import DeviceOutput
    from coach.errors import AudioDeviceError

    t = np.arange(int(TONE_S * defaults.RATE_HZ)) / defaults.RATE_HZ
    fade = np.minimum(1.0, np.minimum(t, TONE_S - t) / 0.02)           # no clicks
    tone = np.rint(8000 * fade * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16)

    def fill(start: int, out: np.ndarray) -> None:
        part = tone[start : start + len(out)]
        out[: len(part)] = part
        out[len(part) :] = 0

    try:
        speaker = DeviceOutput(fill, ctx.output_device)
    except AudioDeviceError as err:
        return Check("audio test: speaker", False, str(err), NO_DEVICE_FIX)
    try:
        deadline_s = time.monotonic() + SPEAKER_TIMEOUT_S
        while speaker.position_s() < TONE_S + 0.1 and time.monotonic() < deadline_s:
            time.sleep(0.05)
        played_s = min(speaker.position_s(), TONE_S)
        device = speaker.name
    except AudioDeviceError as err:
        return Check("audio test: speaker", False, str(err), "check the device and the sound server")
    finally:
        speaker.close()
    if played_s < TONE_S:
        return Check("audio test: speaker", False,
                     f"{device!r} took {played_s:.1f} s of a {TONE_S:g} s tone in {SPEAKER_TIMEOUT_S:g} s",
                     "another program may hold the device, or the sound server is stuck: `pactl info`")
    return Check("audio test: speaker", True,
                 f"played a {TONE_S:g} s {TONE_HZ:g} Hz tone on {device!r} (did you hear it?)")


def check_audio_input(ctx: DoctorContext) -> Check:
    """Record a second from the microphone (no dither, so digital silence shows) and report the level."""
    import numpy as np

    from coach.audio.live import LiveMicrophone
    from coach.errors import AudioDeviceError

    name = "audio test: microphone"
    want = int(RECORD_S * defaults.RATE_HZ)
    try:
        mic = LiveMicrophone(ctx.input_device, dither_lsb=0.0)
    except AudioDeviceError as err:
        return Check(name, False, str(err), NO_DEVICE_FIX)
    chunks: list[np.ndarray] = []
    got = 0
    try:
        mic.wait_ready()
        for chunk in mic:
            samples = np.frombuffer(chunk.pcm, dtype="<i2")
            chunks.append(samples)
            got += len(samples)
            if got >= want:
                break
        device = mic.name
    except AudioDeviceError as err:
        return Check(name, False, str(err), "check the microphone and the sound server")
    finally:
        mic.close()
    audio = np.concatenate(chunks)[:want].astype(np.float64) if chunks else np.zeros(0)
    if not np.any(audio):
        return Check(name, False,
                     f"recorded {len(audio) / defaults.RATE_HZ:.1f} s from {device!r}: "
                     "level -inf dBFS (digital silence)",
                     "silent: check the microphone (plugged in? muted? the right device? `coach devices` "
                     "lists them; choose one with devices.input or --device)")
    rms_db = _dbfs(float(np.sqrt(np.mean(audio**2))))
    peak_db = _dbfs(float(np.max(np.abs(audio))))
    return Check(name, True, f"recorded {RECORD_S:g} s from {device!r}: level {rms_db:.1f} dBFS "
                 f"(peak {peak_db:.1f} dBFS)")


def _dbfs(amplitude: float) -> float:
    return 20 * math.log10(amplitude / 32768) if amplitude > 0 else -math.inf


# -- speech in --------------------------------------------------------------------------------------
def check_recognizer(ctx: DoctorContext, voice: VoicePack) -> Check:
    """The recognizer the session would choose loads its model and accepts half a second of audio."""
    import numpy as np

    from coach.errors import ModelNotFoundError, UsageError

    try:
        from coach.asr.select import choose_engine, make_recognizer

        choice = choose_engine(ctx.engine, ctx.model, ctx.env, ctx.data_dir, voice)
        recognizer = make_recognizer(choice, voice)
    except ModelNotFoundError as err:
        return Check("recognizer", False, str(err),
                     "download one with `coach models download`, or set recognizer.model in the config "
                     "file (or --model DIR) to a vosk model folder")
    except UsageError as err:
        return Check("recognizer", False, str(err),
                     "set recognizer.engine in the config file (or --engine) to auto, with a vosk model "
                     "for the voice's language")
    except CoachError as err:
        return Check("recognizer", False, str(err), "see the message; `coach models list` shows the models")
    except ImportError as err:
        return Check("recognizer", False, f"cannot load the recognizer: {err}", SETUP_FIX)
    rng = np.random.default_rng(0)      # exact zeros upset recognizers; a live mic is never that quiet
    silence = np.rint(rng.normal(0.0, defaults.DITHER_LSB, int(SILENCE_S * defaults.RATE_HZ)))
    heard = [h for h in recognizer.feed(silence.astype("<i2").tobytes()) + recognizer.flush() if h.command]
    odd = f"; it heard {', '.join(h.command for h in heard)} in silence" if heard else ""
    return Check("recognizer", True, f"{choice.why}: loaded, and listened to {SILENCE_S:g} s of silence{odd}")


__all__ = ["Check", "DoctorContext", "check_audio_input", "check_audio_output", "check_config",
           "check_data_dir", "check_device", "check_espeak", "check_history", "check_packages",
           "check_python", "check_recognizer", "check_speech", "context_from_config", "exit_status",
           "format_checks", "make_context", "run_doctor"]
