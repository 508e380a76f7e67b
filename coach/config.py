"""The configuration file: the user's standing choices, and where each effective value came from.

One YAML file, `$XDG_CONFIG_HOME/coach/config.yaml` (`~/.config/coach/config.yaml`), or the file
named by `--config FILE` or $COACH_CONFIG. Precedence, highest first: the command line, the
environment (COACH_USER, COACH_DATA_DIR, COACH_VOSK_MODEL), the file, coach/defaults.py. Every value
is a `Setting` that remembers its source, so `coach config` shows not only what is in effect but
why, and a surprising value can be traced to the line that set it.

The file is read once, at the edge (the CLI), into a frozen `Config` that is passed in; nothing
deeper reads it. It goes through `coach.yamlfile` like routines and voice packs: unknown keys are
refused with a did-you-mean, and every mistake is one line, `FILE:LINE: FIELD: what is wrong`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

from coach import defaults, paths
from coach.errors import ConfigError, UsageError
from coach.timeofday import parse_time
from coach.yamlfile import Fields, one_line, open_yaml

T = TypeVar("T")

# The values live in coach/defaults.py; these names are kept for the config's readers.
ENV_CONFIG = defaults.ENV_CONFIG
CONFIG_NAME = defaults.CONFIG_NAME
INPUT_MODE = defaults.INPUT_MODE
ENGINE = defaults.ENGINE
INPUT_MODES = defaults.INPUT_MODES
ENGINES = defaults.ENGINES
MAX_REMINDERS = defaults.MAX_REMINDERS
DEFAULT = "default"                 # the source of a value nobody set
_INDEX = re.compile(r"-?[0-9]+")

DeviceSpec = str | int | None


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One effective value and where it came from: "default", "config file PATH:LINE",
    "environment COACH_USER" or "command line --user"."""

    value: T
    source: str = DEFAULT


@dataclass(frozen=True)
class Config:
    """The effective configuration. Every setting carries its source; `file` is the config file
    that was read, or looked for (`file_found` False: none there, defaults apply)."""

    file: Path
    file_source: str                # "default", "environment COACH_CONFIG" or "command line --config"
    file_found: bool
    user: Setting[str]
    voice: Setting[str]             # voice pack name or path
    routine: Setting[str]           # routine name or path
    input_mode: Setting[str]        # "keys" | "voice"
    input_device: Setting[DeviceSpec]   # None: PortAudio's default
    output_device: Setting[DeviceSpec]
    engine: Setting[str]            # "auto" | "pocketsphinx" | "vosk"
    model: Setting[Path | None]     # vosk model folder; None: found automatically
    noise_suppression: Setting[int]     # 0 (off) .. 4: webrtc-noise-gain before the recognizer
    reminders: Setting[tuple[str, ...]]     # "HH:MM", sorted, no duplicates
    data_dir: Setting[Path]


# (key in the file and in `coach config`, Config attribute, how the command line names it)
FIELDS = (
    ("user", "user", "--user"),
    ("voice", "voice", "--voice"),
    ("routine", "routine", "ROUTINE"),
    ("input", "input_mode", "--input"),
    ("devices.input", "input_device", "--device"),
    ("devices.output", "output_device", "--output-device"),
    ("recognizer.engine", "engine", "--engine"),
    ("recognizer.model", "model", "--model"),
    ("recognizer.noise_suppression", "noise_suppression", "--noise-suppression"),
    ("reminders", "reminders", "--reminders"),
    ("data_dir", "data_dir", "--data-dir"),
)
_CLI_FLAG = {attr: flag for _, attr, flag in FIELDS}


# -- finding and loading ----------------------------------------------------------------------------
def config_file(explicit: Path | None, env: Mapping[str, str]) -> tuple[Path, str]:
    """The config file to read and why: `--config`, else $COACH_CONFIG, else the XDG location."""
    if explicit is not None:
        return _expand(str(explicit)), "command line --config"
    if env.get(ENV_CONFIG):
        return _expand(env[ENV_CONFIG]), f"environment {ENV_CONFIG}"
    xdg = env.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"   # as XDG says
    return base / "coach" / CONFIG_NAME, DEFAULT


def load_config(path: Path | None, env: Mapping[str, str]) -> Config:
    """Defaults, then the file, then the environment. `path` is `--config` (None: the usual place).

    A missing file at the usual place means defaults; a file the user named (`--config`,
    $COACH_CONFIG) must exist. A file that cannot be read or used is a one-line ConfigError.
    """
    file, why = config_file(path, env)
    try:
        found = file.exists() or file.is_symlink()      # a dangling link is a mistake to report
    except OSError as err:
        raise ConfigError(one_line(f"{file}: cannot read the file ({err.strerror or err})")) from err
    if not found and why != DEFAULT:
        raise ConfigError(one_line(f"{file}: no such file (named by {why}); "
                                   "`coach config --init` writes a commented one"))
    return _assemble(file, why, found, _read_file(file) if found else {}, env)


def fallback_config(path: Path | None, env: Mapping[str, str]) -> Config:
    """The configuration without the file (defaults and environment): what applies while it is broken."""
    file, why = config_file(path, env)
    return _assemble(file, why, False, {}, env)


def _assemble(file: Path, why: str, found: bool, from_file: dict[str, Setting],
              env: Mapping[str, str]) -> Config:
    values = {**_defaults(env), **from_file, **_from_env(env)}
    return Config(file=file, file_source=why, file_found=found, **values)


def _defaults(env: Mapping[str, str]) -> dict[str, Setting]:
    without_env = {k: v for k, v in env.items() if k != defaults.ENV_DATA_DIR}
    return {
        "user": Setting(defaults.USER), "voice": Setting(defaults.VOICE),
        "routine": Setting(defaults.ROUTINE), "input_mode": Setting(INPUT_MODE),
        "input_device": Setting(None), "output_device": Setting(None), "engine": Setting(ENGINE),
        "model": Setting(None), "noise_suppression": Setting(defaults.NOISE_SUPPRESSION),
        "reminders": Setting(()),
        "data_dir": Setting(paths.data_dir(None, without_env)),
    }


def _from_env(env: Mapping[str, str]) -> dict[str, Setting]:
    """The environment's settings. Never fails: a value that makes no sense fails where it is used."""
    found: dict[str, Setting] = {}
    for name, attr in ((defaults.ENV_USER, "user"), (defaults.ENV_DATA_DIR, "data_dir"),
                       (defaults.ENV_VOSK_MODEL, "model")):
        value = env.get(name, "").strip()
        if value:
            found[attr] = Setting(value if attr == "user" else _expand(value), f"environment {name}")
    return found


def _expand(text: str) -> Path:
    """`~` expanded; left as written when it cannot be (`~nobody/`), so the error names it later."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        return Path(text)


# -- the file -------------------------------------------------------------------------------------
def _read_file(file: Path) -> dict[str, Setting]:
    try:
        top = open_yaml(file, ConfigError)
    except ConfigError:
        if _only_comments(file):        # a template with every line commented out: all defaults
            return {}
        raise
    top.only(("user", "voice", "routine", "input", "devices", "recognizer", "reminders", "data_dir"))
    found: dict[str, Setting] = {}

    def put(attr: str, fields: Fields, key: str, value: object) -> None:
        found[attr] = Setting(value, f"config file {file}:{_line(fields, key)}")

    for key in ("user", "voice"):
        if top.has(key):
            put(key, top, key, top.text(key, max_len=80))
    if top.has("routine"):
        put("routine", top, "routine", top.text("routine", max_len=400))
    if top.has("input"):
        put("input_mode", top, "input", top.choice("input", INPUT_MODES))
    devices = top.mapping("devices")
    if devices is not None:
        devices.only(("input", "output"))
        for key in ("input", "output"):
            if devices.has(key):
                put(f"{key}_device", devices, key, _device(devices, key))
    recognizer = top.mapping("recognizer")
    if recognizer is not None:
        recognizer.only(("engine", "model", "noise_suppression"))
        if recognizer.has("engine"):
            put("engine", recognizer, "engine", recognizer.choice("engine", ENGINES))
        if recognizer.has("model"):
            put("model", recognizer, "model", _path(recognizer, "model", file.parent))
        if recognizer.has("noise_suppression"):
            put("noise_suppression", recognizer, "noise_suppression",
                recognizer.integer("noise_suppression", minimum=0,
                                   maximum=max(defaults.NOISE_SUPPRESSION_LEVELS)))
    if top.has("reminders"):
        put("reminders", top, "reminders", _reminders(top))
    if top.has("data_dir"):
        put("data_dir", top, "data_dir", _path(top, "data_dir", file.parent))
    return found


def _line(fields: Fields, key: str) -> int:
    """The line of `key` in the file. TODO(lead): a public `Fields.line(key)` in coach/yamlfile.py."""
    return fields._items[key][0].start_mark.line + 1


def _only_comments(file: Path) -> bool:
    try:
        text = file.read_bytes()[:65_536].decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return False
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def _device(fields: Fields, key: str) -> DeviceSpec:
    """A device name (or part of one) or an index, as `coach devices` lists them."""
    text = fields.text(key, max_len=200)
    if not _INDEX.fullmatch(text):
        return text
    if text.startswith("-"):
        fields.fail_at(key, f"must be a device name or an index (0 or more), got `{text[:40]}`")
    return int(text)


def _path(fields: Fields, key: str, base: Path) -> Path:
    """A path; `~` is the home folder, and a relative path is relative to the config file's folder."""
    text = fields.text(key, max_len=4000)
    try:
        path = Path(text).expanduser()
    except RuntimeError:
        fields.fail_at(key, f"cannot find the home folder in `{text[:40]}`; write the full path")
    return path if path.is_absolute() else base / path


def _reminders(top: Fields) -> tuple[str, ...]:
    nodes = top.items("reminders", required=False, min_items=0, max_items=MAX_REMINDERS)
    texts = top.texts("reminders", required=False, min_items=0, max_items=MAX_REMINDERS, max_len=40)
    seen: dict[str, str] = {}
    for (field, node), text in zip(nodes, texts, strict=True):
        time = parse_time(text)
        if time is None:
            top.fail(f"must be a time of day as HH:MM, 24-hour (e.g. 07:30 or 18:00), got `{text}`",
                     node, field)
        if time in seen:
            top.fail(f"{time} is already in the list ({seen[time]})", node, field)
        seen[time] = field
    return tuple(sorted(seen))


# -- the command line -------------------------------------------------------------------------------
def resolve(config: Config, cli_overrides: Mapping[str, object | None]) -> Config:
    """`config` with the command line's values on top. Keys are Config attribute names (`user`,
    `input_mode`, `data_dir`, ...); None means the option was not given."""
    changes: dict[str, Any] = {}
    for attr, value in cli_overrides.items():
        if attr not in _CLI_FLAG:
            raise KeyError(f"resolve: no setting called {attr!r}")
        if value is not None:
            changes[attr] = Setting(_cli_value(attr, value), f"command line {_CLI_FLAG[attr]}")
    return replace(config, **changes)


def _cli_value(attr: str, value: object) -> object:
    flag = _CLI_FLAG[attr]
    if attr in ("model", "data_dir"):
        return _expand(str(value))
    if attr == "reminders":
        items = [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        times = set()
        for item in items:
            time = parse_time(str(item))
            if time is None:
                raise UsageError(one_line(f"{flag}: `{item}` is not a time of day as HH:MM, 24-hour"))
            times.add(time)
        return tuple(sorted(times))
    if attr == "noise_suppression":
        level = int(value)  # type: ignore[call-overload]
        if level not in defaults.NOISE_SUPPRESSION_LEVELS:
            top = max(defaults.NOISE_SUPPRESSION_LEVELS)
            raise UsageError(f"{flag} must be 0 (off) to {top}, not {level}")
        return level
    if attr in ("input_device", "output_device"):
        if isinstance(value, int):
            return value
        return int(str(value)) if _INDEX.fullmatch(str(value).strip()) else str(value)
    text = str(value).strip()
    if not text:
        raise UsageError(f"{flag} must not be empty")
    options = {"input_mode": INPUT_MODES, "engine": ENGINES}.get(attr)
    if options is not None and text not in options:
        raise UsageError(one_line(f"{flag} must be one of {', '.join(options)}, not `{text}`"))
    return text


# -- showing and writing ----------------------------------------------------------------------------
def format_config(config: Config) -> str:
    """`coach config`: the config file, then one row per setting: key, value, source."""
    why = "" if config.file_source == DEFAULT else f", named by {config.file_source}"
    state = "read" if config.file_found else "not there: defaults apply; `coach config --init` writes one"
    rows = [(key, _show(attr, getattr(config, attr).value), getattr(config, attr).source)
            for key, attr, _ in FIELDS]
    key_w = max(len("key"), *(len(r[0]) for r in rows))
    value_w = min(50, max(len("value"), *(len(r[1]) for r in rows)))
    lines = [f"config file: {config.file} ({state}{why})", "",
             f"{'key':<{key_w}}  {'value':<{value_w}}  source"]
    lines += [f"{key:<{key_w}}  {value:<{value_w}}  {source}" for key, value, source in rows]
    return "\n".join(one_line(line) for line in lines)


def _show(attr: str, value: object) -> str:
    if value is None:
        return {"model": "(found automatically)"}.get(attr, "(system default)")
    if attr == "noise_suppression":
        return f"{value} (off)" if value == 0 else str(value)
    if attr == "reminders":
        return ", ".join(value) or "(none)"            # type: ignore[arg-type]
    return str(value)


TEMPLATE = f"""\
# coach configuration: your standing choices, so that the command line can stay short.
# Remove the `#` in front of a setting to use it. Command-line options win over this file, and so
# do ${defaults.ENV_USER}, ${defaults.ENV_DATA_DIR} and ${defaults.ENV_VOSK_MODEL}.
# `coach config` shows what is in effect and where each value came from. In paths, `~` is your
# home folder, and a relative path is relative to the folder of this file.

#user: {defaults.USER}                 # whose sessions (several people can share one device)
#voice: {defaults.VOICE}                  # voice pack: `coach voices` lists them
#routine: {defaults.ROUTINE}               # what `coach run` starts: `coach routines` lists them
#input: {INPUT_MODE}                   # keys, or voice (hands-free)
#devices:                      # `coach devices` lists them; a name, part of one, or an index
#  input: USB                  # the microphone
#  output: 0                   # the speaker
#recognizer:
#  engine: {ENGINE}                # {", ".join(ENGINES)}
#  model: ~/vosk-model-small-en-us-0.15    # a vosk model folder (`coach models download`)
#  noise_suppression: 2        # 0 (off) .. 4: clean a steady noise (a fan) before recognizing
#reminders: ["08:00", "18:00"] # times of day for a reminder (HH:MM, 24-hour)
#data_dir: ~/.local/share/coach    # history, your routines, voices and models
"""


def init_config(path: Path) -> Path:
    """Write the commented template to `path`, readable by the user only; never overwrites."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as err:
        raise ConfigError(one_line(f"{path}: already exists; edit it, or move it aside "
                                   "to write a fresh template")) from err
    except OSError as err:
        raise ConfigError(one_line(f"{path}: cannot write ({err.strerror or err})")) from err
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(TEMPLATE)
    return path


__all__ = ["Config", "Setting", "FIELDS", "config_file", "fallback_config", "format_config",
           "init_config", "load_config", "parse_time", "resolve"]
