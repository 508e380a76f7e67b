"""Parsing `voices/*.yaml` into a frozen `VoicePack`, checking every line's {placeholders}."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

from coach.errors import VoiceError
from coach.routine.model import CueTiming
from coach.yamlfile import Fields, open_yaml

SHIPPED_DIR = Path(__file__).resolve().parent.parent.parent / "voices"

# Every command the session understands, in the order `help` lists them.
COMMANDS = ("ready", "done", "cant_hold", "pause", "resume", "skip", "next", "repeat", "stop",
            "how_long", "help")

# Every line the session may say, with the placeholders it may use.
LINE_FIELDS: dict[str, tuple[str, ...]] = {
    "session_start": ("routine",), "exercise_start": ("exercise",), "ready_prompt": (),
    "set_intro": ("set", "sets"), "count": ("n",), "hold_start": (), "hold_every": ("elapsed_s",),
    "hold_halfway": (), "hold_left": ("left_s",), "times_up": (), "hold_ended": ("held_s",),
    "rest_start": ("min_s", "max_s"), "rest_left": ("left_s",), "rest_min_reached": (),
    "rest_over": (), "paused": (), "resumed": (), "how_long_hold": ("elapsed_s", "left_s"),
    "how_long_rest": ("left_s",), "how_long_idle": (), "help": ("commands",),
    "already_holding": (), "rest_longer": ("wait_s",), "nothing_to_pause": (), "not_paused": (),
    "paused_hint": (), "no_hold": (), "skip_exercise": ("exercise",), "skip_rest": (),
    "stopped": (), "session_end": ("sets_done",), "nothing_to_repeat": (),
}


@dataclass(frozen=True)
class VoicePack:
    name: str
    title: str
    language: str
    engine_voice: str           # pyttsx3 voice id
    rate_wpm: int
    volume: float               # 0..1
    cues: CueTiming
    lines: tuple[tuple[str, str], ...]          # (line id, template), every id of LINE_FIELDS
    commands: tuple[tuple[str, tuple[str, ...]], ...]   # (command id, phrases)
    source: Path

    def line(self, key: str, **values: object) -> str:
        return dict(self.lines)[key].format(**values)

    @property
    def phrases(self) -> dict[str, list[str]]:
        return {command: list(phrases) for command, phrases in self.commands}

    def command_word(self, command: str) -> str:
        """What to tell the user to say for `command` (its first phrase)."""
        return dict(self.commands)[command][0]


def list_voices(user_dir: Path | None) -> list[tuple[str, Path]]:
    found: dict[str, Path] = {}
    for folder in (SHIPPED_DIR, user_dir):
        if folder is not None and folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                found[path.stem] = path
    return sorted(found.items())


def find_voice(name_or_path: str, user_dir: Path | None) -> Path:
    as_path = Path(name_or_path).expanduser()
    if as_path.suffix in (".yaml", ".yml") or "/" in name_or_path:
        if not as_path.is_file():
            raise VoiceError(f"{as_path}: no such voice file")
        return as_path
    voices = dict(list_voices(user_dir))
    if name_or_path not in voices:
        names = ", ".join(voices) or "none"
        raise VoiceError(f"no voice called `{name_or_path}` (available: {names})")
    return voices[name_or_path]


def load_voice(path: Path) -> VoicePack:
    top = open_yaml(path, VoiceError)
    title = top.text("title", max_len=120)
    language = top.text("language", max_len=20)
    engine = top.mapping("engine", required=True)
    assert engine is not None
    engine_voice = engine.text("voice", max_len=80)
    rate_wpm = engine.integer("rate_wpm", 150, minimum=60, maximum=400)
    volume = engine.number("volume", 0.9, maximum=1.0)
    engine.done(("voice", "rate_wpm", "volume"))
    from coach.routine.loader import read_cues

    cues = top.read("cues", read_cues) or CueTiming()
    lines_f = top.mapping("lines", required=True)
    assert lines_f is not None
    lines = tuple((key, _template(lines_f, key)) for key in LINE_FIELDS)
    lines_f.done(tuple(LINE_FIELDS))
    commands_f = top.mapping("commands", required=True)
    assert commands_f is not None
    commands = tuple((c, tuple(p.lower() for p in commands_f.texts(c, max_len=60))) for c in COMMANDS)
    commands_f.done(COMMANDS)
    _check_phrases_unique(commands_f, commands)
    top.done(("title", "language", "engine", "cues", "lines", "commands"))
    return VoicePack(name=path.stem, title=title, language=language, engine_voice=engine_voice,
                     rate_wpm=rate_wpm, volume=volume, cues=cues, lines=lines, commands=commands,
                     source=path)


def _template(f: Fields, key: str) -> str:
    text = f.text(key, max_len=300)
    allowed = LINE_FIELDS[key]
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as err:
        f.fail(f"bad braces in the line ({err}); write {{{{ and }}}} for literal braces", field=key)
    for name in names:
        if name not in allowed:
            can = ", ".join("{" + a + "}" for a in allowed) or "no placeholders"
            f.fail(f"unknown placeholder {{{name}}}; this line can use {can}", field=key)
    return text


def _check_phrases_unique(f: Fields, commands: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
    owner: dict[str, str] = {}
    for command, phrases in commands:
        for phrase in phrases:
            if phrase in owner and owner[phrase] != command:
                f.fail(f"the phrase `{phrase}` is used for both {owner[phrase]} and {command}",
                       field=command)
            owner[phrase] = command
