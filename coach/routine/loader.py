"""Finding routine files and turning them into `Routine`s, refusing anything doubtful.

Shipped routines live in `coach/routine/shipped/`; a user's own go in `<data dir>/routines/`
and win over a shipped one of the same name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from coach.errors import RoutineError
from coach.routine.model import CueTiming, Exercise, RestRange, Routine
from coach.yamlfile import Fields, open_yaml

SHIPPED_DIR = Path(__file__).parent / "shipped"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_TOP_KEYS = ("title", "summary", "sessions_per_day", "cues", "intro", "outro", "exercises")
_EXERCISE_KEYS = ("id", "title", "kind", "say", "hold_s", "sets", "rest_s", "advanced", "short_hold", "cues")
_CUE_KEYS = ("every_s", "halfway", "warn_left_s", "countdown_from", "get_set_s", "rest_every_s",
             "rest_warn_left_s")


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
            raise RoutineError(f"{as_path}: no such routine file")
        return as_path
    infos = list_routines(user_dir)
    for info in infos:
        if info.name == name_or_path:
            return info.path
    names = ", ".join(i.name for i in infos) or "none"
    raise RoutineError(f"no routine called `{name_or_path}` (available: {names}); "
                       "see `coach routines`")


def load_routine(path: Path) -> Routine:
    top = open_yaml(path, RoutineError)
    name = path.stem
    title = top.text("title", max_len=120)
    summary = top.text("summary", max_len=300)
    per_day = top.mapping("sessions_per_day")
    day_min, day_max = 1, 1
    if per_day is not None:
        day_min = per_day.integer("min", 1, minimum=1, maximum=24)
        day_max = per_day.integer("max", day_min, minimum=1, maximum=24)
        per_day.done(("min", "max"))
        if day_max < day_min:
            per_day.fail(f"max ({day_max}) is smaller than min ({day_min})")
    cues = top.read("cues", read_cues) or CueTiming()
    intro = top.texts("intro", required=False)
    outro = top.texts("outro", required=False)
    exercises = []
    seen: set[str] = set()
    for where, node in top.items("exercises", max_items=50):
        exercise = _read_exercise(top.sub(where, node))
        if exercise.id in seen:
            top.sub(where, node).fail(f"id `{exercise.id}` is used twice")
        seen.add(exercise.id)
        exercises.append(exercise)
    top.done(_TOP_KEYS)
    return Routine(name=name, title=title, summary=summary, exercises=tuple(exercises), cues=cues,
                   sessions_per_day_min=day_min, sessions_per_day_max=day_max, intro=intro,
                   outro=outro, source=path)


def _read_exercise(f: Fields) -> Exercise:
    ident = f.text("id", max_len=40)
    if not _ID.match(ident):
        f.fail(f"must be lower-case letters, digits, - or _ (got `{ident}`)", field="id")
    kind = f.choice("kind", ("setup", "hold"), "hold")
    title = f.text("title", max_len=120)
    say = f.texts("say")
    advanced = f.flag("advanced", False)
    cues = f.read("cues", read_cues)
    if kind == "setup":
        for key in ("hold_s", "sets", "rest_s", "short_hold"):
            if f.has(key):
                f.fail("only hold exercises have this field (this one is `kind: setup`)", field=key)
        f.done(_EXERCISE_KEYS)
        return Exercise(id=ident, title=title, kind=kind, say=say, advanced=advanced, cues=cues)
    hold_s = f.number("hold_s", maximum=3600)
    sets = f.integer("sets", 1, minimum=1, maximum=50)
    rest = _read_rest(f) if f.has("rest_s") else RestRange(30.0, 60.0)
    short_hold = f.texts("short_hold", required=False)
    f.done(_EXERCISE_KEYS)
    return Exercise(id=ident, title=title, kind=kind, say=say, hold_s=hold_s, sets=sets, rest=rest,
                    advanced=advanced, short_hold=short_hold, cues=cues)


def _read_rest(f: Fields) -> RestRange:
    """`rest_s: 45` (exactly) or `rest_s: {min: 30, max: 60}`."""
    sub = f.mapping("rest_s") if f.is_mapping("rest_s") else None
    if sub is None:
        value = f.number("rest_s", maximum=3600)
        return RestRange(value, value)
    low = sub.number("min", maximum=3600)
    high = sub.number("max", maximum=3600)
    sub.done(("min", "max"))
    if high < low:
        sub.fail(f"max ({high:g}) is smaller than min ({low:g})")
    return RestRange(low, high)


def read_cues(f: Fields) -> CueTiming:
    timing = CueTiming(
        every_s=f.number("every_s", None, positive=False, maximum=3600) if f.has("every_s") else None,
        halfway=f.flag("halfway", False) if f.has("halfway") else None,
        warn_left_s=f.number("warn_left_s", None, positive=False, maximum=3600)
        if f.has("warn_left_s") else None,
        countdown_from=f.integer("countdown_from", None, minimum=0, maximum=10)
        if f.has("countdown_from") else None,
        get_set_s=f.integer("get_set_s", None, minimum=0, maximum=10) if f.has("get_set_s") else None,
        rest_every_s=f.number("rest_every_s", None, positive=False, maximum=3600)
        if f.has("rest_every_s") else None,
        rest_warn_left_s=f.number("rest_warn_left_s", None, positive=False, maximum=3600)
        if f.has("rest_warn_left_s") else None,
    )
    f.done(_CUE_KEYS)
    return timing
