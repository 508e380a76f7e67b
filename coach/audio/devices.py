"""Sound devices as PortAudio sees them: list them, pick one by index or name, print them.

`sounddevice` is imported lazily (it loads the PortAudio C library at import, and initialises it with
the environment of that moment, PULSE_SERVER included): a missing library becomes an
`AudioDeviceError` with the fix, not a traceback at `import coach`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from coach.errors import AudioDeviceError

Kind = Literal["input", "output"]

NO_PORTAUDIO_FIX = "PortAudio library not found: install it with: sudo apt-get install libportaudio2"


def sounddevice_module() -> ModuleType:
    """The `sounddevice` module, or an `AudioDeviceError` that says how to get it working."""
    try:
        import sounddevice
    except OSError as err:                                  # raised when libportaudio2 is missing
        raise AudioDeviceError(NO_PORTAUDIO_FIX) from err
    except ImportError as err:
        raise AudioDeviceError("the sounddevice package is missing: pip install sounddevice") from err
    return sounddevice


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    max_input_channels: int
    max_output_channels: int
    default_rate_hz: int
    is_default_input: bool
    is_default_output: bool

    def has(self, kind: Kind) -> bool:
        return (self.max_input_channels if kind == "input" else self.max_output_channels) > 0


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio lists (empty when there is no sound card and no sound server)."""
    sd = sounddevice_module()
    try:
        raw = sd.query_devices()
    except sd.PortAudioError as err:
        raise AudioDeviceError(f"cannot list sound devices: {err}") from err
    default_in = _default_index(sd, "input")
    default_out = _default_index(sd, "output")
    return [
        DeviceInfo(
            index=int(dev["index"]),
            name=str(dev["name"]),
            max_input_channels=int(dev["max_input_channels"]),
            max_output_channels=int(dev["max_output_channels"]),
            default_rate_hz=int(round(float(dev["default_samplerate"]))),
            is_default_input=int(dev["index"]) == default_in,
            is_default_output=int(dev["index"]) == default_out,
        )
        for dev in raw
    ]


def _default_index(sd: ModuleType, kind: Kind) -> int:
    """PortAudio's default device of that kind, or -1 when there is none."""
    try:
        return int(sd.query_devices(kind=kind)["index"])
    except (sd.PortAudioError, ValueError, KeyError):
        return -1


def resolve_device(spec: str | int | None, kind: Kind) -> int | None:
    """The device index for `spec`: None (PortAudio's default), an index, or part of a name.
    See `match_device`; raises `AudioDeviceError` when nothing (or too much) matches."""
    if spec is None:
        return None
    return match_device(list_devices(), spec, kind).index


def match_device(devices: list[DeviceInfo], spec: str | int, kind: Kind) -> DeviceInfo:
    """The one device of `kind` that `spec` names: an index, an exact name, or one partial name.

    Names match case-insensitively; an exact name wins over partial matches. Raises
    `AudioDeviceError` naming the spec and the available devices when nothing (or too much) matches.
    """
    if isinstance(spec, str) and spec.strip().lstrip("-").isdigit():
        spec = int(spec.strip())
    devices = [d for d in devices if d.has(kind)]
    available = ", ".join(f"{d.index}: {d.name}" for d in devices) or "none"
    if isinstance(spec, int):
        for dev in devices:
            if dev.index == spec:
                return dev
        raise AudioDeviceError(f"no {kind} device with index {spec} (available: {available})")
    wanted = spec.strip().lower()
    exact = [d for d in devices if d.name.lower() == wanted]
    if exact:
        return exact[0]
    partial = [d for d in devices if wanted in d.name.lower()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise AudioDeviceError(f"no {kind} device matches {spec!r} (available: {available})")
    names = ", ".join(f"{d.index}: {d.name}" for d in partial)
    raise AudioDeviceError(f"{spec!r} matches several {kind} devices ({names}): give the index")


def format_devices(devices: list[DeviceInfo]) -> str:
    """A table for `coach devices`; `>` marks the default input, `<` the default output."""
    if not devices:
        return ("no sound devices found (no sound card, or the sound server is not running; "
                "without a sound card: eval \"$(scripts/virtual-audio start)\")")
    width = max(len(d.name) for d in devices)
    lines = [f"    #  {'name':<{width}}  in  out  rate"]
    for d in devices:
        mark = (">" if d.is_default_input else " ") + ("<" if d.is_default_output else " ")
        lines.append(f"{mark} {d.index:>2}  {d.name:<{width}}  {d.max_input_channels:>2}  "
                     f"{d.max_output_channels:>3}  {d.default_rate_hz} Hz")
    lines.append("> default input, < default output")
    return "\n".join(lines)
