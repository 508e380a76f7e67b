"""coach.config: the config file, its precedence (command line > environment > file > defaults),
the sources `coach config` shows, the template, and broken files as one exact line each.

The fuzz test at the end mutates a full config file with the strategies of tests/test_routine_loader.py
(COACH_FUZZ_EXAMPLES asks for a longer run than the default 300 examples).
"""

from __future__ import annotations

import re
import stat
import time
from pathlib import Path

import pytest
from helpers.fuzz import FUZZ, check_one_line, fuzzed_files
from hypothesis import event, given

from coach import defaults
from coach.config import (
    TEMPLATE,
    Config,
    Setting,
    config_file,
    fallback_config,
    format_config,
    init_config,
    load_config,
    parse_time,
    resolve,
)
from coach.errors import ConfigError, UsageError

# Every key set; each broken case below changes one line. Line numbers are in the comments.
FULL = """\
user: ana                               # 1
voice: en-us                            # 2
routine: glutes                         # 3
input: voice                            # 4
devices:                                # 5
  input: USB Mic                        # 6
  output: 2                             # 7
recognizer:                             # 8
  engine: vosk                          # 9
  model: models/small-en                # 10
reminders: ["18:00", "8:00"]            # 11
data_dir: ~/coach-data                  # 12
"""


def edit(old: str, new: str) -> str:
    assert old in FULL, old
    return FULL.replace(old, new, 1)


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment that points the XDG folders into tmp_path (and nothing else)."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"), **extra}


def write_config(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "config" / "coach" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def values(config: Config) -> dict[str, object]:
    return {name: getattr(config, name).value for name in
            ("user", "voice", "routine", "input_mode", "input_device", "output_device", "engine", "model",
             "reminders", "data_dir")}


# -- finding the file and the defaults ------------------------------------------------------------
def test_no_file_means_defaults_from_defaults_py(tmp_path: Path) -> None:
    config = load_config(None, env_for(tmp_path))
    assert config.file == tmp_path / "config" / "coach" / "config.yaml"
    assert (config.file_found, config.file_source) == (False, "default")
    assert values(config) == {
        "user": defaults.USER, "voice": defaults.VOICE, "routine": defaults.ROUTINE, "input_mode": "keys",
        "input_device": None, "output_device": None, "engine": "auto", "model": None, "reminders": (),
        "data_dir": tmp_path / "data" / "coach"}
    assert {getattr(config, name).source for name in values(config)} == {"default"}


def test_where_the_file_is_looked_for(tmp_path: Path) -> None:
    home = Path.home()
    assert config_file(None, {}) == (home / ".config" / "coach" / "config.yaml", "default")
    assert config_file(None, {"XDG_CONFIG_HOME": "relative"})[0] == home / ".config" / "coach" / "config.yaml"
    env = {"XDG_CONFIG_HOME": str(tmp_path), "COACH_CONFIG": str(tmp_path / "env.yaml")}
    assert config_file(None, env) == (tmp_path / "env.yaml", "environment COACH_CONFIG")
    assert config_file(tmp_path / "cli.yaml", env) == (tmp_path / "cli.yaml", "command line --config")


def test_a_file_the_user_named_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing, env_for(tmp_path))
    assert str(caught.value) == (f"{missing}: no such file (named by command line --config); "
                                 "`coach config --init` writes a commented one")
    with pytest.raises(ConfigError, match="named by environment COACH_CONFIG"):
        load_config(None, env_for(tmp_path, COACH_CONFIG=str(missing)))
    assert ConfigError.exit_code == 2


# -- a full file, and where each value came from -----------------------------------------------------
def test_full_file_values_and_sources(tmp_path: Path) -> None:
    path = write_config(tmp_path, FULL)
    config = load_config(None, env_for(tmp_path))
    assert config.file_found and config.file == path
    assert values(config) == {
        "user": "ana", "voice": "en-us", "routine": "glutes", "input_mode": "voice",
        "input_device": "USB Mic", "output_device": 2, "engine": "vosk",
        "model": path.parent / "models" / "small-en",           # relative to the config file
        "reminders": ("08:00", "18:00"),                        # normalised and sorted
        "data_dir": Path.home() / "coach-data"}
    lines = {"user": 1, "voice": 2, "routine": 3, "input_mode": 4, "input_device": 6, "output_device": 7,
             "engine": 9, "model": 10, "reminders": 11, "data_dir": 12}
    for name, line in lines.items():
        assert getattr(config, name).source == f"config file {path}:{line}", name


def test_environment_beats_the_file_and_the_command_line_beats_both(tmp_path: Path) -> None:
    write_config(tmp_path, FULL)
    env = env_for(tmp_path, COACH_USER="ben", COACH_DATA_DIR=str(tmp_path / "envdata"),
                  COACH_VOSK_MODEL=str(tmp_path / "envmodel"))
    config = load_config(None, env)
    assert config.user == Setting("ben", "environment COACH_USER")
    assert config.data_dir == Setting(tmp_path / "envdata", "environment COACH_DATA_DIR")
    assert config.model == Setting(tmp_path / "envmodel", "environment COACH_VOSK_MODEL")
    assert config.engine.value == "vosk"                        # the file still counts where env is silent

    final = resolve(config, {"user": "cleo", "data_dir": tmp_path / "clidata", "input_mode": "keys",
                             "engine": None, "input_device": "3", "reminders": ["7:05"]})
    assert final.user == Setting("cleo", "command line --user")
    assert final.data_dir == Setting(tmp_path / "clidata", "command line --data-dir")
    assert final.input_mode == Setting("keys", "command line --input")
    assert final.input_device == Setting(3, "command line --device")
    assert final.reminders == Setting(("07:05",), "command line --reminders")
    assert final.engine == config.engine                        # None: not given on the command line
    assert config.user.value == "ben"                           # frozen: resolve made a new Config


def test_empty_environment_values_are_ignored(tmp_path: Path) -> None:
    config = load_config(None, env_for(tmp_path, COACH_USER="  ", COACH_DATA_DIR=""))
    assert config.user.source == config.data_dir.source == "default"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"input_mode": "telepathy"}, "--input must be one of keys, voice, not `telepathy`"),
    ({"engine": "whisper"}, "--engine must be one of auto, pocketsphinx, neural, fused, vosk, not `whisper`"),
    ({"user": " "}, "--user must not be empty"),
    ({"reminders": ["25:00"]}, "--reminders: `25:00` is not a time of day as HH:MM, 24-hour"),
])
def test_bad_command_line_values_are_usage_errors(tmp_path: Path, overrides: dict[str, object],
                                                  message: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve(load_config(None, env_for(tmp_path)), overrides)
    assert str(caught.value) == message


def test_resolve_refuses_a_setting_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="colour"):
        resolve(load_config(None, env_for(tmp_path)), {"colour": "red"})


@pytest.mark.parametrize(("text", "expected"), [
    ("08:00", "08:00"), ("8:00", "08:00"), ("23:59", "23:59"), ("0:00", "00:00"), (" 7:30 ", "07:30"),
    ("24:00", None), ("12:60", None), ("8", None), ("8:0", None), ("08:00:00", None), ("8h00", None),
    ("", None), ("-1:00", None), ("１２:００", None),
])
def test_parse_time(text: str, expected: str | None) -> None:
    assert parse_time(text) == expected


# -- showing it ----------------------------------------------------------------------------------
def test_format_config_shows_value_and_source(tmp_path: Path) -> None:
    path = write_config(tmp_path, FULL)
    text = format_config(resolve(load_config(None, env_for(tmp_path, COACH_USER="ben")), {"voice": "ko"}))
    lines = text.splitlines()
    assert lines[0] == f"config file: {path} (read)"
    assert re.fullmatch(r"key +value +source", lines[2])
    rows = {line.split()[0]: line for line in lines[3:]}
    assert list(rows) == ["user", "voice", "routine", "input", "devices.input", "devices.output",
                          "recognizer.engine", "recognizer.model", "recognizer.noise_suppression",
                          "reminders", "data_dir"]
    assert re.fullmatch(r"user +ben +environment COACH_USER", rows["user"])
    assert re.fullmatch(r"voice +ko +command line --voice", rows["voice"])
    where = re.escape(f"config file {path}")
    assert re.fullmatch(rf"reminders +08:00, 18:00 +{where}:11", rows["reminders"])
    assert re.fullmatch(rf"devices.input +USB Mic +{where}:6", rows["devices.input"])


def test_format_config_without_a_file(tmp_path: Path) -> None:
    text = format_config(load_config(None, env_for(tmp_path)))
    assert text.splitlines()[0] == (f"config file: {tmp_path}/config/coach/config.yaml (not there: defaults "
                                    "apply; `coach config --init` writes one)")
    rows = {line.split()[0]: line for line in text.splitlines()[3:]}
    assert re.fullmatch(r"devices.output +\(system default\) +default", rows["devices.output"])
    assert re.fullmatch(r"recognizer.model +\(found automatically\) +default", rows["recognizer.model"])
    assert re.fullmatch(r"reminders +\(none\) +default", rows["reminders"])


# -- the template --------------------------------------------------------------------------------
def test_init_writes_a_private_template_that_loads_as_the_defaults(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    path = init_config(config_file(None, env)[0])
    assert path.read_text() == TEMPLATE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    config = load_config(None, env)
    assert config.file_found
    assert values(config) == values(fallback_config(None, env))


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    path = write_config(tmp_path, "user: ana\n")
    with pytest.raises(ConfigError) as caught:
        init_config(path)
    assert str(caught.value) == f"{path}: already exists; edit it, or move it aside to write a fresh template"
    assert path.read_text() == "user: ana\n"


def test_every_setting_in_the_template_is_valid_when_uncommented(tmp_path: Path) -> None:
    uncommented = re.sub(r"^#(?=\S|  )", "", TEMPLATE, flags=re.MULTILINE)
    path = write_config(tmp_path, uncommented)
    config = load_config(None, env_for(tmp_path))
    sources = {getattr(config, name).source.rsplit(":", 1)[0] for name in values(config)}
    assert sources == {f"config file {path}"}
    assert config.reminders.value == ("08:00", "18:00")


# -- broken files: one exact line each -----------------------------------------------------------
BROKEN = [
    ("top-level typo", edit("reminders:", "remiders:"),
     "{p}:11: remiders: unknown field (did you mean `reminders`?)"),
    ("nested typo", edit("  engine: vosk", "  engin: vosk"),
     "{p}:9: recognizer.engin: unknown field (did you mean `engine`?)"),
    ("devices typo", edit("  output: 2", "  ouput: 2"),
     "{p}:7: devices.ouput: unknown field (did you mean `output`?)"),
    ("unknown key", edit("user: ana", "colour: red"), "{p}:1: colour: unknown field"),
    ("input choice", edit("input: voice", "input: voise"),
     "{p}:4: input: must be one of keys, voice; got `voise` (did you mean `voice`?)"),
    ("engine choice", edit("engine: vosk", "engine: whisper"),
     "{p}:9: recognizer.engine: must be one of auto, pocketsphinx, neural, fused, vosk; got `whisper`"),
    ("user empty", edit("user: ana", "user:"), "{p}:1: user: must be text, got nothing"),
    ("user a list", edit("user: ana", "user: [ana, ben]"), "{p}:1: user: must be text, got a list"),
    ("devices a list", "".join(FULL.splitlines(True)[:4]) + "devices: [1]\n",
     "{p}:5: devices: must be a mapping of `key: value` lines, got a list"),
    ("negative device", edit("output: 2", "output: -1"),
     "{p}:7: devices.output: must be a device name or an index (0 or more), got `-1`"),
    ("reminder out of range", edit('["18:00", "8:00"]', '["18:00", "25:00"]'),
     "{p}:11: reminders[1]: must be a time of day as HH:MM, 24-hour (e.g. 07:30 or 18:00), got `25:00`"),
    ("reminder in words", edit('["18:00", "8:00"]', "[noon]"),
     "{p}:11: reminders[0]: must be a time of day as HH:MM, 24-hour (e.g. 07:30 or 18:00), got `noon`"),
    ("reminder duplicate", edit('["18:00", "8:00"]', '\n  - "08:00"\n  - "18:00"\n  - "8:00"'),
     "{p}:14: reminders[2]: 08:00 is already in the list (reminders[0])"),
    ("reminders a single time", edit('["18:00", "8:00"]', '"08:00"'),
     "{p}:11: reminders: must be a list (lines starting with `- `), got `\"08:00\"`"),
    ("reminders nothing", edit('["18:00", "8:00"]', ""),
     "{p}:11: reminders: must be a list (lines starting with `- `), got nothing"),
    ("reminders a list in the list", edit('["18:00", "8:00"]', '[["08:00"]]'),
     "{p}:11: reminders[0]: must be text, got a list"),
    ("too many reminders", edit('["18:00", "8:00"]', "[" + ", ".join(f'"{h}:00"' for h in range(25)) + "]"),
     "{p}:11: reminders: has 25 entries; at most 24"),
    ("unknown home folder", edit("data_dir: ~/coach-data", "data_dir: ~no-such-user-xyz/coach"),
     "{p}:12: data_dir: cannot find the home folder in `~no-such-user-xyz/coach`; write the full path"),
    ("duplicate key", edit("voice: en-us", "user: ben"), "{p}:2: user: appears twice (first on line 1)"),
    ("tab indent", edit("  engine: vosk", "\tengine: vosk"),
     "{p}:9: not valid YAML: a tab here; indent with spaces, not tabs"),
    ("just a list", "- user\n- voice\n",
     "{p}:1: the file must be a mapping of `key: value` lines, got a list"),
    ("non-UTF-8", FULL.encode().replace(b"ana", b"an\xe1"),
     "{p}:1: not UTF-8 text (byte 0xe1); save the file as UTF-8"),
    ("empty document", "---\n", "{p}:2: the file must be a mapping of `key: value` lines, got nothing"),
]


@pytest.mark.parametrize(("content", "expected"), [case[1:] for case in BROKEN],
                         ids=[case[0] for case in BROKEN])
def test_broken_config_gives_one_exact_line(tmp_path: Path, content: str | bytes, expected: str) -> None:
    path = write_config(tmp_path, content)
    with pytest.raises(ConfigError) as caught:
        load_config(None, env_for(tmp_path))
    assert str(caught.value) == expected.replace("{p}", str(path))


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "  # indented\n#user: ana\n"])
def test_blank_or_commented_out_file_means_defaults(tmp_path: Path, text: str) -> None:
    write_config(tmp_path, text)
    config = load_config(None, env_for(tmp_path))
    assert config.file_found
    assert values(config) == values(fallback_config(None, env_for(tmp_path)))


def test_unreadable_config(tmp_path: Path) -> None:
    folder = tmp_path / "config" / "coach" / "config.yaml"
    folder.mkdir(parents=True)
    with pytest.raises(ConfigError) as caught:
        load_config(None, env_for(tmp_path))
    assert str(caught.value) == f"{folder}: not a file"
    link = tmp_path / "link.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(link))}: "):
        load_config(link, env_for(tmp_path))


# -- fuzzing -------------------------------------------------------------------------------------
@FUZZ
@given(content=fuzzed_files(FULL))
def test_fuzzed_config_loads_or_fails_with_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                     content: bytes) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    path = write_config(tmp, content)
    start = time.perf_counter()
    try:
        config = load_config(None, env_for(tmp))
    except ConfigError as err:
        check_one_line(str(err), path)
    else:
        event("loaded")
        assert config.input_mode.value in ("keys", "voice")
        assert config.engine.value in ("auto", "pocketsphinx", "vosk")
        assert list(config.reminders.value) == sorted(set(config.reminders.value))
        assert all(parse_time(t) == t for t in config.reminders.value)
        assert all(isinstance(d, (str, int, type(None))) for d in (config.input_device.value,
                                                                   config.output_device.value))
        format_config(config)                   # never fails on what loaded
    assert time.perf_counter() - start < 1.0
