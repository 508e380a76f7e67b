"""Parsing `voices/*.yaml` into a frozen `VoicePack`, checking every line's {placeholders}."""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from coach import defaults
from coach.asr.phrases import normalise
from coach.errors import VoiceError
from coach.routine.model import CueTiming
from coach.session.wording import Earcons
from coach.vocab import CommandId, Feedback
from coach.voice.wording import Units, count_of, mid_sentence, seconds, spoken_list
from coach.yamlfile import Fields, one_line, open_yaml

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"     # `voices/` at the top is a link to it

# Every command the session understands, in the order `help` lists them.
COMMANDS = tuple(c.value for c in CommandId)

# Every line the session may say, with the placeholders it may use.
LINE_FIELDS: dict[str, tuple[str, ...]] = {
    "session_start": ("routine",), "exercise_start": ("exercise",), "ready_prompt": (),
    "set_intro": ("set", "sets", "goal_s"), "count": ("n",), "hold_start": ("goal_s",),
    "hold_every": ("elapsed_s",),
    "hold_halfway": (), "hold_left": ("left_s",), "times_up": (), "hold_ended": ("held_s",),
    "rest_start": ("min_s", "max_s"), "rest_start_fixed": ("rest_s",), "rest_left": ("left_s",),
    "rest_min_reached": (),
    "rest_over": (), "paused": (), "resumed": (), "how_long_hold": ("elapsed_s", "left_s"),
    "how_long_rest": ("left_s",), "how_long_idle": (), "help": ("commands",),
    "already_holding": (), "rest_longer": ("wait_s",), "nothing_to_pause": (), "not_paused": (),
    "paused_hint": (), "no_hold": (), "skip_exercise": ("exercise",), "skip_rest": (),
    "stopped": (), "stopped_unsaved": ("holds",), "session_end": ("sets_done",), "nothing_to_repeat": (),
    # history-aware coaching
    "last_time": ("held_list", "sets", "best_s"), "target_all": ("target_s", "sets"),
    "target_full": ("target_s", "sets"), "targets": ("target_list", "sets"),
    "goal_reached": ("goal_s",), "personal_best": ("held_s", "previous_best_s", "diff_s"),
    "better_than_last": ("held_s", "last_s", "diff_s"), "same_as_last": ("held_s", "last_s", "diff_s"),
    "below_last": ("held_s", "last_s", "diff_s"), "streak": ("days",),
    "unlock_offer": ("exercise", "days", "sessions"), "unlock_yes": ("exercise",), "unlock_no": (),
    "yes_or_no": (), "resume_offer": ("done", "total"), "resume_from": ("exercise", "set", "sets"),
    # devices and the smart-speaker mode
    "mic_lost": (), "mic_back": (), "reminder": ("routine",),
    # turn-taking: a command acted on, speech not understood, a session left unanswered
    "ack": (), "sorry": (), "idle_abandon": ("idle_min",),
    "repeat_hint": (),      # after a second spoken "repeat" or "Sorry?" in a row where ready is wanted
    # questions that were not answered, said aloud; answers outside a question
    "unlock_no_answer": (), "resume_no_answer": (), "no_question": (),
    # after the last set: how did that feel, any pain
    "effort_ask": (), "effort_or": (), "pain_ask": (), "pain_yes": (), "pain_no": (), "feel_no_answer": (),
    # form cues during a hold: the routine's own words, said through this line
    "form_cue": ("text",),
}

# Lines a voice pack may leave out (packs written before the line existed), with what is said then.
OPTIONAL_LINES: dict[str, str] = {
    # instead of `stopped` when the history refused some holds: never "your holds are saved"
    "stopped_unsaved": "Stopping here. I could not save {holds:hold|holds} to your history; the screen "
                       "shows where I kept what was not saved, and how to import it.",
    # another way to say ready, for a voice the recognizer hears as "repeat": said only when the pack
    # has it (a pack whose ready has one phrase has nothing to offer)
    "repeat_hint": "",
}

# Placeholders filled with seconds (a number, or a list of numbers for `*_list`): the pack adds
# the unit and rounds half up, so a line can never say "1 seconds" or leave the unit out.
# Titles (`exercise`, `routine`) inside a sentence lose their capital: "Skipping the glute bridge."
_TITLES = ("exercise", "routine")
_UNITS = Units()


def _is_seconds(name: str) -> bool:
    return name.endswith("_s") or name.endswith("_list")


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
    earcons: Earcons = Earcons()
    units: Units = Units()
    # (phrase, `FILE:LINE: commands.X[i]`): where each phrase is written, so a problem a recognizer
    # finds later (a word it cannot say) still names the line
    phrase_places: tuple[tuple[str, str], ...] = ()

    def line(self, key: str, **values: object) -> str:
        """The line `key` with its placeholders filled: seconds with their unit, counts with
        `{name:one|many}` plurals, titles in sentence case."""
        out: list[str] = []
        for literal, name, spec, _ in string.Formatter().parse(dict(self.lines)[key]):
            out.append(literal)
            if name is None:
                continue
            out.append(self._fill(name, spec or "", values[name], at_start=not "".join(out).strip()))
        return "".join(out)

    def _fill(self, name: str, spec: str, value: object, at_start: bool) -> str:
        if _is_seconds(name) and isinstance(value, (int, float, Sequence)) and not isinstance(value, str):
            return seconds(value, self.units)       # type: ignore[arg-type]
        if spec:
            one, _, many = spec.partition("|")
            return count_of(value, one, many)    # type: ignore[arg-type]
        if isinstance(value, Sequence) and not isinstance(value, str):
            return spoken_list(value, self.units.and_word)
        if name in _TITLES and isinstance(value, str) and not at_start:
            return mid_sentence(value)
        return str(value)

    @property
    def phrases(self) -> dict[str, list[str]]:
        return {command: list(phrases) for command, phrases in self.commands}

    def place_of(self, phrase: str) -> str | None:
        """`FILE:LINE: FIELD` of `phrase` (as normalised), or None for a phrase not from this pack."""
        return dict(self.phrase_places).get(phrase)

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
            raise VoiceError(one_line(f"{as_path}: no such voice file"))
        return as_path
    voices = dict(list_voices(user_dir))
    if name_or_path not in voices:
        names = ", ".join(voices) or "none"
        raise VoiceError(one_line(f"no voice called `{name_or_path}` (available: {names})"))
    return voices[name_or_path]


def load_voice_named(name_or_path: str, data_dir: Path) -> VoicePack:
    """The voice `--voice NAME` means: a shipped one, one in DATA_DIR/voices, or a path."""
    from coach import paths

    return load_voice(find_voice(name_or_path, paths.voices_dir(data_dir)))


def load_voice(path: Path) -> VoicePack:
    """Parse and check a voice pack; any problem is a one-line VoiceError naming the field."""
    from coach.routine.loader import read_cues

    top = open_yaml(path, VoiceError)
    top.only(("title", "language", "engine", "cues", "earcons", "units", "lines", "commands"))
    title = top.text("title", max_len=120)
    language = top.text("language", max_len=20)
    engine = top.section("engine")
    engine.only(("voice", "rate_wpm", "volume"))
    engine_voice = engine.text("voice", max_len=80)
    rate_wpm = engine.integer("rate_wpm", defaults.TTS_RATE_WPM, minimum=60, maximum=400)
    volume = engine.number("volume", defaults.TTS_VOLUME, maximum=1.0)
    cues = top.read("cues", read_cues) or CueTiming()
    earcons = top.read("earcons", _earcons) or Earcons()
    units = top.read("units", _read_units) or Units()
    lines_f = top.section("lines")
    lines_f.only(tuple(LINE_FIELDS))
    lines = tuple((key, _template(lines_f, key, units) if key not in OPTIONAL_LINES or lines_f.has(key)
                   else OPTIONAL_LINES[key]) for key in LINE_FIELDS)
    commands_f = top.section("commands")
    commands_f.only(COMMANDS)
    located = tuple((c, _phrases(commands_f, c)) for c in COMMANDS)
    places = _check_phrases_unique(commands_f, located)
    commands = tuple((c, tuple(phrase for phrase, _ in phrases)) for c, phrases in located)
    return VoicePack(name=path.stem, title=title, language=language, engine_voice=engine_voice,
                     rate_wpm=rate_wpm, volume=volume, cues=cues, lines=lines, commands=commands,
                     source=path, earcons=earcons, units=units, phrase_places=places)


def _earcons(f: Fields) -> Earcons:
    f.only(("countdown", "every", "hold", "acknowledge", "not_understood"))
    d = Earcons()
    return Earcons(countdown=f.flag("countdown", d.countdown), every=f.flag("every", d.every),
                   hold=f.flag("hold", d.hold),
                   acknowledge=Feedback(f.choice("acknowledge", _STYLES, d.acknowledge)),
                   not_understood=Feedback(f.choice("not_understood", _STYLES, d.not_understood)))


_STYLES = tuple(style.value for style in Feedback)


def _read_units(f: Fields) -> Units:
    """`units: {second: second, seconds: seconds, and: and, space: true}`: the words the pack adds
    itself, and whether a space goes between number and unit."""
    f.only(("second", "seconds", "and", "space"))
    base = Units()
    return Units(second=f.text("second", max_len=30) if f.has("second") else base.second,
                 seconds=f.text("seconds", max_len=30) if f.has("seconds") else base.seconds,
                 and_word=f.text("and", max_len=30) if f.has("and") else base.and_word,
                 space=" " if f.flag("space", True) else "")


def _template(f: Fields, key: str, units: Units = _UNITS) -> str:
    """A line with {placeholders}, each one a plain name that LINE_FIELDS allows for `key`."""
    text = f.text(key, max_len=300)
    allowed = LINE_FIELDS[key]
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None]
    except ValueError as err:
        f.fail_at(key, f"bad braces ({err}); write {{{{ or }}}} for a literal brace")
    for name, spec, conversion in fields:
        if name not in allowed:
            can = ", ".join("{" + a + "}" for a in allowed) or "no placeholders"
            f.fail_at(key, f"unknown placeholder {{{name}}}; this line can use {can}")
        if conversion or (spec and (_is_seconds(name) or spec.count("|") != 1 or spec.startswith("|")
                                    or spec.endswith("|"))):
            f.fail_at(key, f"write the placeholder as {{{name}}}, or a count as {{{name}:one|many}}; "
                           "no other `!` or `:`")
    for name in {n for n, _, _ in fields if _is_seconds(n)}:
        after = text.split("{" + name + "}", 1)[1].lstrip().lower()
        if after.startswith((units.second.lower(), units.seconds.lower())):
            f.fail_at(key, f"write {{{name}}} without `{units.seconds}` after it: the unit is added "
                           "for you (\"1 second\", \"42 seconds\")")
    return text


def _phrases(f: Fields, command: str) -> tuple[tuple[str, str], ...]:
    """What the user says for `command` as recognizers hear it (`phrases.normalise`: lower case, no
    punctuation, single spaces), each with where it is written."""
    out = []
    for text, place in f.located_texts(command, max_items=20, max_len=60):
        phrase = normalise(text)
        if not phrase:
            f.fail_place(place, f"the phrase `{text}` has no words to say")
        if any(ch.isdigit() for ch in phrase):
            f.fail_place(place, f"the phrase `{text}` has a number in it; write numbers as words (`five`)")
        out.append((phrase, place))
    return tuple(out)


def _check_phrases_unique(f: Fields, commands: tuple[tuple[str, tuple[tuple[str, str], ...]], ...],
                          ) -> tuple[tuple[str, str], ...]:
    """Every phrase with its place; a phrase claimed by two commands could never be told apart."""
    owner: dict[str, str] = {}
    places: dict[str, str] = {}
    for command, phrases in commands:
        for phrase, place in phrases:
            if phrase in owner and owner[phrase] != command:
                f.fail_place(place, f"the phrase `{phrase}` is used for both {owner[phrase]} and {command}")
            owner[phrase] = command
            places.setdefault(phrase, place)
    return tuple(places.items())
