"""Finding routine files and turning them into `Routine`s, refusing anything doubtful.

Shipped routines live in `coach/routine/shipped/`; a user's own go in `<data dir>/routines/`
and win over a shipped one of the same name.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from coach import defaults
from coach.errors import RoutineError
from coach.progress.rules import read_progress
from coach.routine.model import (
    MAX_CUES_PER_HOLD,
    MIN_CUE_EVERY_S,
    NO_PROGRESS,
    CueTiming,
    Exercise,
    RestRange,
    Routine,
    default_cues,
)
from coach.yamlfile import Fields, one_line, open_yaml

SHIPPED_DIR = Path(__file__).parent / "shipped"
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_TOP_KEYS = ("title", "summary", "sessions_per_day", "cues", "intro", "outro", "exercises", "progress",
             "ask_effort")
_EXERCISE_KEYS = ("id", "title", "kind", "say", "hold_s", "sets", "rest_s", "advanced", "short_hold", "cues",
                  "form_cues")
_CUE_KEYS = ("every_s", "halfway", "warn_left_s", "countdown_from", "get_set_s", "rest_every_s",
             "rest_warn_left_s", "form")
# What an exercise's lines may say in {braces}, so a copied routine with `hold_s: 20` says 20.
TEMPLATE_FIELDS = ("hold_s", "sets", "rest_min_s", "rest_max_s")


@dataclass(frozen=True)
class RoutineInfo:
    name: str
    path: Path
    origin: str         # "shipped" or "user"


def list_routines(user_dir: Path | None) -> list[RoutineInfo]:
    """All routine files, user ones shadowing shipped ones of the same name, sorted by name."""
    found: dict[str, RoutineInfo] = {}
    for origin, folder in (("shipped", SHIPPED_DIR), ("user", user_dir)):
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            found[path.stem] = RoutineInfo(path.stem, path, origin)
    return [found[name] for name in sorted(found)]


def find_routine(name_or_path: str, user_dir: Path | None) -> Path:
    """A routine by name (`glutes`) or by path (`./my-routine.yaml`)."""
    as_path = Path(name_or_path).expanduser()
    if as_path.suffix in (".yaml", ".yml") or "/" in name_or_path:
        if not as_path.is_file():
            raise RoutineError(one_line(f"{as_path}: no such routine file"))
        return as_path
    infos = list_routines(user_dir)
    for info in infos:
        if info.name == name_or_path:
            return info.path
    names = ", ".join(i.name for i in infos) or "none"
    raise RoutineError(one_line(f"no routine called `{name_or_path}` (available: {names}); "
                                "see `coach routines`"))


def load_routine_named(name_or_path: str, data_dir: Path) -> Routine:
    """The routine `coach run NAME` means: a shipped one, one in DATA_DIR/routines, or a path."""
    from coach import paths

    return load_routine(find_routine(name_or_path, paths.routines_dir(data_dir)))


def load_routine(path: Path) -> Routine:
    """Parse and check a routine file; any problem is a one-line RoutineError naming the field."""
    top = open_yaml(path, RoutineError)
    top.only(_TOP_KEYS)
    title = top.text("title", max_len=120)
    summary = top.text("summary", max_len=300)
    day_min, day_max = _read_per_day(top)
    cues = top.read("cues", read_cues) or CueTiming()
    intro = _filled(top, "intro", top.texts("intro", required=False), {})
    outro = _filled(top, "outro", top.texts("outro", required=False), {})
    exercises = _read_exercises(top, cues)
    progress_f = top.mapping("progress")
    progress = read_progress(progress_f, exercises) if progress_f is not None else NO_PROGRESS
    ask_effort = top.flag("ask_effort", defaults.ASK_EFFORT)
    return Routine(name=path.stem, title=title, summary=summary, exercises=exercises, cues=cues,
                   sessions_per_day_min=day_min, sessions_per_day_max=day_max, intro=intro,
                   outro=outro, source=path, progress=progress, ask_effort=ask_effort)


def _read_per_day(top: Fields) -> tuple[int, int]:
    """`sessions_per_day: 2` (exactly) or `sessions_per_day: {min: 1, max: 2}`; 1 when left out."""
    if not top.has("sessions_per_day"):
        return 1, 1
    if not top.is_mapping("sessions_per_day"):
        count = top.integer("sessions_per_day", minimum=1, maximum=24)
        return count, count
    per_day = top.section("sessions_per_day")
    per_day.only(("min", "max"))
    low = per_day.integer("min", 1, minimum=1, maximum=24)
    high = per_day.integer("max", low, minimum=1, maximum=24)
    if high < low:
        per_day.fail_at("max", f"must not be less than min ({low}), got {high}")
    return low, high


def _read_exercises(top: Fields, routine_cues: CueTiming) -> tuple[Exercise, ...]:
    exercises = []
    first_use: dict[str, str] = {}
    for where, node in top.items("exercises", max_items=50):
        f = top.sub(where, node)
        exercise = _read_exercise(f)
        _check_cue_count(f, exercise, routine_cues)
        if exercise.id in first_use:
            f.fail_at("id", f"`{exercise.id}` is already the id of {first_use[exercise.id]}")
        first_use[exercise.id] = where
        exercises.append(exercise)
    return tuple(exercises)


def _read_exercise(f: Fields) -> Exercise:
    f.only(_EXERCISE_KEYS)
    ident = f.text("id", max_len=40)
    if not _ID.fullmatch(ident):
        f.fail_at("id", f"must be lower-case letters, digits, `-` or `_`, starting with a letter "
                        f"or digit; got `{ident}`")
    kind = f.choice("kind", ("setup", "hold"), "hold")
    title = f.text("title", max_len=120)
    say = f.texts("say")
    advanced = f.flag("advanced", False)
    cues = f.read("cues", read_cues)
    if kind == "setup":
        for key in ("hold_s", "sets", "rest_s", "short_hold", "form_cues"):
            if f.has(key):
                f.fail_at(key, "only hold exercises have this field (this one is `kind: setup`)")
        return Exercise(id=ident, title=title, kind=kind, say=_filled(f, "say", say, {}),
                        advanced=advanced, cues=cues)
    hold_s = f.number("hold_s", maximum=3600)
    sets = f.integer("sets", 1, minimum=1, maximum=50)
    rest = _read_rest(f) if f.has("rest_s") else RestRange(30.0, 60.0)
    short_hold = f.texts("short_hold", required=False)
    form_cues = f.texts("form_cues", required=False, max_len=80)
    values = {"hold_s": _num(hold_s), "sets": sets, "rest_min_s": _num(rest.min_s),
              "rest_max_s": _num(rest.max_s)}
    return Exercise(id=ident, title=title, kind=kind, say=_filled(f, "say", say, values), hold_s=hold_s,
                    sets=sets, rest=rest, advanced=advanced,
                    short_hold=_filled(f, "short_hold", short_hold, values), cues=cues,
                    form_cues=_filled(f, "form_cues", form_cues, values))


def _filled(f: Fields, key: str, texts: tuple[str, ...], values: Mapping[str, object]) -> tuple[str, ...]:
    """Routine lines with {hold_s}, {sets}, {rest_min_s} and {rest_max_s} filled in from the
    exercise, checked here so a mistake is a load error, not a crash mid-session."""
    out = []
    for text in texts:
        try:
            names = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text)
                     if name is not None]
        except ValueError as err:
            f.fail_at(key, f"bad braces ({err}); write {{{{ or }}}} for a literal brace")
        for name, spec, conv in names:
            if not values:
                f.fail_at(key, f"{{{name}}}: only a hold exercise's lines can use placeholders "
                               f"({', '.join('{' + n + '}' for n in TEMPLATE_FIELDS)})")
            if name not in values:
                f.fail_at(key, f"unknown placeholder {{{name}}}; a hold exercise's lines can use "
                               f"{', '.join('{' + n + '}' for n in TEMPLATE_FIELDS)}")
            if spec or conv:
                f.fail_at(key, f"write the placeholder as {{{name}}}, without `!` or `:`")
        out.append(text.format(**values))
    return tuple(out)


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _read_rest(f: Fields) -> RestRange:
    """`rest_s: 45` (exactly) or `rest_s: {min: 30, max: 60}`; min may be 0 (ready at once)."""
    if not f.is_mapping("rest_s"):
        value = f.number("rest_s", maximum=3600)
        return RestRange(value, value)
    sub = f.section("rest_s")
    sub.only(("min", "max"))
    low = sub.number("min", positive=False, maximum=3600)
    high = sub.number("max", maximum=3600)
    if high < low:
        sub.fail_at("max", f"must not be less than min ({low:g}), got {high:g}")
    return RestRange(low, high)


def _check_cue_count(f: Fields, exercise: Exercise, routine_cues: CueTiming) -> None:
    """At most MAX_CUES_PER_HOLD repeating cues in a hold or a rest (the routine's and the
    exercise's timing over the defaults): a tiny interval with a long hold would eat the memory."""
    if not exercise.is_hold:
        return
    timing = (exercise.cues or CueTiming()).over(routine_cues.over(default_cues()))
    rest_s = exercise.rest.max_s if exercise.rest is not None else 0.0
    for key, every_s, length_s, what in (("every_s", timing.every_s, exercise.hold_s, "hold"),
                                         ("rest_every_s", timing.rest_every_s, rest_s, "rest")):
        if every_s and length_s / every_s > MAX_CUES_PER_HOLD:
            where = "cues" if exercise.cues is not None and getattr(exercise.cues, key) is not None \
                else "hold_s" if what == "hold" else "rest_s"
            f.fail_at(where, f"a {length_s:g} s {what} with `{key}: {every_s:g}` gives "
                             f"{length_s / every_s:.0f} cues; at most {MAX_CUES_PER_HOLD} "
                             f"(make {key} at least {length_s / MAX_CUES_PER_HOLD:g})")


def _interval(f: Fields, key: str) -> float | None:
    """A repeating cue's interval: 0 (never) or at least MIN_CUE_EVERY_S."""
    if not f.has(key):
        return None
    value = f.number(key, None, positive=False, maximum=3600)
    if 0 < value < MIN_CUE_EVERY_S:
        f.fail_at(key, f"must be 0 (never) or at least {MIN_CUE_EVERY_S:g} seconds, got {value:g}")
    return value


def read_cues(f: Fields) -> CueTiming:
    """A `cues:` mapping (routine, exercise or voice pack); 0 turns a cue off."""
    f.only(_CUE_KEYS)
    return CueTiming(
        every_s=_interval(f, "every_s"),
        halfway=f.flag("halfway", False) if f.has("halfway") else None,
        warn_left_s=f.number("warn_left_s", None, positive=False, maximum=3600)
        if f.has("warn_left_s") else None,
        countdown_from=f.integer("countdown_from", None, minimum=0, maximum=10)
        if f.has("countdown_from") else None,
        get_set_s=f.integer("get_set_s", None, minimum=0, maximum=10) if f.has("get_set_s") else None,
        rest_every_s=_interval(f, "rest_every_s"),
        rest_warn_left_s=f.number("rest_warn_left_s", None, positive=False, maximum=3600)
        if f.has("rest_warn_left_s") else None,
        form=f.flag("form", True) if f.has("form") else None,
    )
