"""coach.routine.loader: the shipped routine, finding routines, and broken files with exact messages.

Every broken file gives one line, `FILE:LINE: FIELD: what is wrong`, as a RoutineError. The fuzz
test at the end mutates the real glutes.yaml (and throws raw bytes) at the loader; the strategies
here are also used by tests/test_voice_pack.py.
Set COACH_FUZZ_EXAMPLES (>= 1000) for a longer fuzz run than the default 300 examples.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.fuzz import FUZZ, check_one_line, fuzzed_files
from hypothesis import event, given

from coach.errors import RoutineError
from coach.routine import Routine, find_routine, list_routines, load_routine
from coach.routine.loader import SHIPPED_DIR

GLUTES = SHIPPED_DIR / "glutes.yaml"

# A small routine; each case below changes one line of it. Line numbers are in the comments.
BASE = """\
title: Test routine                     # 1
summary: A setup step, then bridges.    # 2
sessions_per_day: {min: 1, max: 2}      # 3
cues: {every_s: 10, halfway: true}      # 4
exercises:                              # 5
  - id: lie_down                        # 6
    title: Lie down                     # 7
    kind: setup                         # 8
    say: Lie on your back.              # 9
  - id: bridge                          # 10
    title: Bridge                       # 11
    hold_s: 60                          # 12
    sets: 5                             # 13
    rest_s: {min: 30, max: 60}          # 14
    say: [Lift., Hold.]                 # 15
"""


def edit(old: str, new: str) -> str:
    """BASE with its first `old` replaced by `new`."""
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def before(marker: str) -> str:
    """BASE up to (not including) the line that starts with `marker`."""
    return BASE[: BASE.index(marker)]


BROKEN = [
    # unknown keys, with a did-you-mean where one is close
    ("top-level typo", edit("exercises:", "exercise:"),
     "{p}:5: exercise: unknown field (did you mean `exercises`?)"),
    ("exercise typo", edit("hold_s: 60", "hold: 60"),
     "{p}:12: exercises[1].hold: unknown field (did you mean `hold_s`?)"),
    ("unknown key, nothing close", edit("sets: 5", "colour: red"),
     "{p}:13: exercises[1].colour: unknown field"),
    ("cues typo", edit("{every_s: 10,", "{every: 10,"),
     "{p}:4: cues.every: unknown field (did you mean `every_s`?)"),
    ("rest typo", edit("{min: 30, max: 60}", "{min: 30, maximum: 60}"),
     "{p}:14: exercises[1].rest_s.maximum: unknown field (did you mean `max`?)"),
    ("kind typo", edit("kind: setup", "kind: stup"),
     "{p}:8: exercises[0].kind: must be one of setup, hold; got `stup` (did you mean `setup`?)"),
    # wrong types
    ("hold_s quoted text", edit("hold_s: 60", 'hold_s: "sixty"'),
     '{p}:12: exercises[1].hold_s: must be a number, got `"sixty"`'),
    ("hold_s plain text", edit("hold_s: 60", "hold_s: 60 seconds"),
     "{p}:12: exercises[1].hold_s: must be a number, got `60 seconds`"),
    ("hold_s quoted number", edit("hold_s: 60", "hold_s: '60'"),
     "{p}:12: exercises[1].hold_s: must be a number, got `'60'`"),
    ("hold_s a list", edit("hold_s: 60", "hold_s: [60]"),
     "{p}:12: exercises[1].hold_s: must be a number, got a list"),
    ("hold_s empty", edit("hold_s: 60", "hold_s:"),
     "{p}:12: exercises[1].hold_s: must be a number, got nothing"),
    ("hold_s .nan", edit("hold_s: 60", "hold_s: .nan"),
     "{p}:12: exercises[1].hold_s: must be a number, got `.nan`"),
    ("hold_s bad explicit int", edit("hold_s: 60", "hold_s: !!int sixty"),
     "{p}:12: exercises[1].hold_s: must be a number, got `sixty`"),
    ("hold_s impossible date", edit("hold_s: 60", "hold_s: 2024-13-45"),
     "{p}:12: exercises[1].hold_s: must be a number, got `2024-13-45`"),
    ("sets fraction", edit("sets: 5", "sets: 2.5"),
     "{p}:13: exercises[1].sets: must be a whole number, got `2.5`"),
    ("sets boolean", edit("sets: 5", "sets: true"),
     "{p}:13: exercises[1].sets: must be a whole number, got `true`"),
    ("advanced quoted yes", edit("sets: 5", 'advanced: "yes"'),
     '{p}:13: exercises[1].advanced: must be true or false, got `"yes"`'),
    ("advanced bad explicit bool", edit("sets: 5", "advanced: !!bool maybe"),
     "{p}:13: exercises[1].advanced: must be true or false, got `maybe`"),
    ("say a mapping", edit("say: [Lift., Hold.]", "say: {a: 1}"),
     "{p}:15: exercises[1].say: must be a line of text or a list of lines, got a mapping"),
    ("say holds a list", edit("say: [Lift., Hold.]", "say: [Lift., [Hold.]]"),
     "{p}:15: exercises[1].say[1]: must be text, got a list"),
    ("say an empty line", edit("say: [Lift., Hold.]", "say: [Lift., '  ']"),
     "{p}:15: exercises[1].say[1]: must not be empty"),
    ("title empty", edit("title: Test routine", "title:"),
     "{p}:1: title: must be text, got nothing"),
    ("title a control character", edit("title: Test routine", r'title: "Test\x07routine"'),
     "{p}:1: title: contains the control character U+0007"),
    ("cues a list", edit("cues: {every_s: 10, halfway: true}", "cues: [10]"),
     "{p}:4: cues: must be a mapping of `key: value` lines, got a list"),
    ("exercise a word", before("exercises:") + "exercises: [lie_down]\n",
     "{p}:5: exercises[0]: must be a mapping of `key: value` lines, got `lie_down`"),
    # missing fields: the line is where the mapping missing it starts
    ("missing title", edit("title: Test routine", "# no title"),
     "{p}:2: title: required field is missing"),
    ("missing summary", edit("summary: A setup step, then bridges.", "# no summary"),
     "{p}:1: summary: required field is missing"),
    ("missing exercises", before("exercises:"),
     "{p}:1: exercises: required field is missing"),
    ("missing id", edit("- id: bridge", "- kind: hold"),
     "{p}:10: exercises[1].id: required field is missing"),
    ("missing exercise title", edit("title: Bridge", "kind: hold"),
     "{p}:10: exercises[1].title: required field is missing"),
    ("missing say", edit("say: [Lift., Hold.]", "# no say"),
     "{p}:10: exercises[1].say: required field is missing"),
    ("missing hold_s", edit("hold_s: 60", "# no hold_s"),
     "{p}:10: exercises[1].hold_s: required field is missing"),
    ("missing rest max", edit("{min: 30, max: 60}", "{min: 30}"),
     "{p}:14: exercises[1].rest_s.max: required field is missing"),
    # times and counts out of range
    ("hold_s zero", edit("hold_s: 60", "hold_s: 0"),
     "{p}:12: exercises[1].hold_s: must be greater than 0, got `0`"),
    ("hold_s negative", edit("hold_s: 60", "hold_s: -5"),
     "{p}:12: exercises[1].hold_s: must be greater than 0, got `-5`"),
    ("hold_s huge", edit("hold_s: 60", "hold_s: 1e308"),
     "{p}:12: exercises[1].hold_s: must be at most 3600, got `1e308`"),
    ("hold_s infinite", edit("hold_s: 60", "hold_s: .inf"),
     "{p}:12: exercises[1].hold_s: must be at most 3600, got `.inf`"),
    ("hold_s 200 digits", edit("hold_s: 60", "hold_s: " + "9" * 200),
     "{p}:12: exercises[1].hold_s: must be a number, got `" + "9" * 37 + "...`"),
    ("sets zero", edit("sets: 5", "sets: 0"),
     "{p}:13: exercises[1].sets: must be between 1 and 50, got `0`"),
    ("sets huge", edit("sets: 5", "sets: 12345678901234567890"),
     "{p}:13: exercises[1].sets: must be between 1 and 50, got `12345678901234567890`"),
    ("rest single zero", edit("{min: 30, max: 60}", "0"),
     "{p}:14: exercises[1].rest_s: must be greater than 0, got `0`"),
    ("rest min negative", edit("{min: 30, max: 60}", "{min: -1, max: 60}"),
     "{p}:14: exercises[1].rest_s.min: must not be negative, got `-1`"),
    ("rest max zero", edit("{min: 30, max: 60}", "{min: 0, max: 0}"),
     "{p}:14: exercises[1].rest_s.max: must be greater than 0, got `0`"),
    ("rest max below min", edit("{min: 30, max: 60}", "{min: 60, max: 30}"),
     "{p}:14: exercises[1].rest_s.max: must not be less than min (60), got 30"),
    ("sessions max below min", edit("{min: 1, max: 2}", "{min: 3, max: 2}"),
     "{p}:3: sessions_per_day.max: must not be less than min (3), got 2"),
    ("sessions zero", edit("{min: 1, max: 2}", "0"),
     "{p}:3: sessions_per_day: must be between 1 and 24, got `0`"),
    ("cue negative", edit("{every_s: 10,", "{every_s: -10,"),
     "{p}:4: cues.every_s: must not be negative, got `-10`"),
    ("countdown too long", edit("{every_s: 10,", "{countdown_from: 60,"),
     "{p}:4: cues.countdown_from: must be between 0 and 10, got `60`"),
    # the exercise list
    ("no exercises", before("exercises:") + "exercises: []\n",
     "{p}:5: exercises: must have at least 1 entry"),
    ("exercises empty", before("exercises:") + "exercises:\n",
     "{p}:5: exercises: must be a list (lines starting with `- `), got nothing"),
    ("duplicate id", edit("id: bridge", "id: lie_down"),
     "{p}:10: exercises[1].id: `lie_down` is already the id of exercises[0]"),
    ("bad id characters", edit("id: bridge", "id: Glute Bridge"),
     "{p}:10: exercises[1].id: must be lower-case letters, digits, `-` or `_`, starting with a letter "
     "or digit; got `Glute Bridge`"),
    ("setup with hold_s", edit("say: Lie on your back.", "say: Lie on your back.\n    hold_s: 30"),
     "{p}:10: exercises[0].hold_s: only hold exercises have this field (this one is `kind: setup`)"),
    # YAML itself
    ("duplicate key", edit("sets: 5", "hold_s: 30"),
     "{p}:13: exercises[1].hold_s: appears twice (first on line 12)"),
    ("unclosed bracket", edit("say: [Lift., Hold.]", "say: [Lift., Hold."),
     "{p}:16: not valid YAML: expected ',' or ']', but got the end of the file "
     "(while parsing a flow sequence on line 15)"),
    ("unclosed brace", edit("max: 60}", "max: 60"),
     "{p}:15: not valid YAML: expected ',' or '}', but got a value "
     "(while parsing a flow mapping on line 14)"),
    ("unclosed quote", edit("title: Bridge", "title: 'Bridge"),
     "{p}:16: not valid YAML: found unexpected end of stream (while scanning a quoted scalar on line 11)"),
    ("tab indent", edit("    sets: 5", "\tsets: 5"),
     "{p}:13: not valid YAML: a tab here; indent with spaces, not tabs"),
    ("two documents", BASE + "---\ntitle: Another\n",
     "{p}:16: not valid YAML: more than one document (`---`); a coach file holds one"),
    ("duplicate anchor", edit("title: Lie down", "title: &t Lie down").replace("Bridge", "&t Bridge"),
     "{p}:11: not valid YAML: found duplicate anchor 't' (first defined on line 7)"),
    ("undefined alias", edit("title: Bridge", "title: *nowhere"),
     "{p}:11: not valid YAML: found undefined alias 'nowhere'"),
    ("deep nesting", edit("hold_s: 60", "hold_s: " + "[" * 100 + "]" * 100),
     "{p}:12: not valid YAML: nested more than 20 levels deep"),
    ("NUL character", edit("Bridge", "Bri\x00dge"),
     "{p}:11: not valid YAML: the character U+0000 is not allowed"),
    ("merge key", edit("  - id: bridge", "  - <<: {id: bridge}"),
     "{p}:10: exercises[1].<<: unknown field"),
    ("mapping as key", edit("sets: 5", "? {a: 1}\n    : 5"),
     "{p}:13: exercises[1]: keys must be plain words, got a mapping"),
    ("empty key", edit("sets: 5", "'': 5"),
     "{p}:13: exercises[1]: a key is empty"),
    ("colon in text", edit("summary: A setup step, then bridges.", "summary: Note: then bridges."),
     "{p}:2: not valid YAML: a `: ` where none can be; put text that contains `: ` in quotes"),
    # whole files
    ("empty file", "", "{p}:1: the file is empty"),
    ("only comments", "# nothing here\n\n", "{p}:1: the file is empty"),
    ("just a list", "- title\n- summary\n",
     "{p}:1: the file must be a mapping of `key: value` lines, got a list"),
    ("just a scalar", "glute bridges\n",
     "{p}:1: the file must be a mapping of `key: value` lines, got `glute bridges`"),
    ("non-UTF-8", BASE.encode().replace(b"Bridge", b"Br\xefdge"),
     "{p}:11: not UTF-8 text (byte 0xef); save the file as UTF-8"),
    ("UTF-16", BASE.encode("utf-16"),
     "{p}:1: not UTF-8 text (byte 0xff); it looks like UTF-16; save the file as UTF-8"),
    ("5 MB", BASE + "# " + "x" * 5_000_000 + "\n",
     "{p}: the file is larger than 64 KiB; is it the right file?"),
]


@pytest.mark.parametrize(("content", "expected"), [case[1:] for case in BROKEN],
                         ids=[case[0] for case in BROKEN])
def test_broken_routine_gives_one_exact_line(tmp_path: Path, content: str | bytes, expected: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(RoutineError) as caught:
        load_routine(path)
    assert str(caught.value) == expected.replace("{p}", str(path))


def test_base_routine_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(BASE)
    routine = load_routine(path)
    assert [e.id for e in routine.exercises] == ["lie_down", "bridge"]
    assert routine.exercises[0].say == ("Lie on your back.",)
    assert routine.exercises[1].say == ("Lift.", "Hold.")


@pytest.mark.parametrize(("old", "new", "facts"), [
    ("{min: 30, max: 60}", "{min: 0, max: 10}", {"rest": (0.0, 10.0)}),     # no minimum rest
    ("{min: 30, max: 60}", "45", {"rest": (45.0, 45.0)}),
    ("rest_s: {min: 30, max: 60}", "# no rest_s", {"rest": (30.0, 60.0)}),   # the default
    ("hold_s: 60", "hold_s: 1e2", {"hold_s": 100.0}),                        # YAML 1.2 style float
    ("hold_s: 60", "hold_s: 1:30", {"hold_s": 90.0}),                        # minutes:seconds
    ("sets: 5", "# no sets", {"sets": 1}),
    ("{min: 1, max: 2}", "3", {"per_day": (3, 3)}),
])
def test_valid_variants(tmp_path: Path, old: str, new: str, facts: dict[str, Any]) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(edit(old, new))
    routine = load_routine(path)
    bridge = routine.exercises[1]
    actual = {"rest": (bridge.rest.min_s, bridge.rest.max_s) if bridge.rest else None,
              "hold_s": bridge.hold_s, "sets": bridge.sets,
              "per_day": (routine.sessions_per_day_min, routine.sessions_per_day_max)}
    assert {key: actual[key] for key in facts} == facts


def test_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert load_routine(path).title == "Test routine"


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(RoutineError, match=r"^.*nope\.yaml: cannot read the file \(No such file"):
        load_routine(tmp_path / "nope.yaml")
    with pytest.raises(RoutineError) as caught:
        load_routine(tmp_path)
    assert str(caught.value) == f"{tmp_path}: not a file"
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(RoutineError) as caught:
        load_routine(fifo)
    assert str(caught.value) == f"{fifo}: not a file"


def test_alias_bomb_is_refused_without_expanding(tmp_path: Path) -> None:
    """Nine levels of nine aliases: 9**9 (387 million) lines if anything expanded them."""
    levels = ['  - &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"  - &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("title: Bomb\nsummary: Boom.\nintro:\n" + "\n".join(levels) + "\n")
    start = time.perf_counter()
    with pytest.raises(RoutineError) as caught:
        load_routine(path)
    assert time.perf_counter() - start < 1.0
    assert str(caught.value) == f"{path}:4: intro[0]: must be text, got a list"


def test_aliases_of_text_are_shared_not_copied(tmp_path: Path) -> None:
    """A hundred aliases of one long line are allowed; more lines than that are not."""
    line = "x" * 2000
    path = tmp_path / "many.yaml"
    refs = ", ".join(["*l"] * 99)
    path.write_text(edit("say: [Lift., Hold.]", f"say: [&l {line}, {refs}]"))
    assert load_routine(path).exercises[1].say == (line,) * 100
    path.write_text(edit("say: [Lift., Hold.]", f"say: [&l {line}, {refs}, *l]"))
    with pytest.raises(RoutineError, match=r":15: exercises\[1\]\.say: has 101 lines; at most 100$"):
        load_routine(path)


def test_largest_allowed_file_loads_quickly(tmp_path: Path) -> None:
    filler = "".join(f"  - \"{'word ' * 200}{i}\"\n" for i in range(63))
    path = tmp_path / "big.yaml"
    path.write_text(BASE.replace("exercises:", "intro:\n" + filler + "exercises:", 1))
    assert 60_000 < path.stat().st_size <= 64 * 1024
    start = time.perf_counter()
    assert len(load_routine(path).intro) == 63
    assert time.perf_counter() - start < 1.0


def run_coach(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process (no terminal, no audio: it stops at the file)."""
    return subprocess.run([sys.executable, "-m", "coach", *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_cli_prints_the_line_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(edit("hold_s: 60", "hold_s: -5"))
    done = run_coach("run", str(path), "--quiet", "--data-dir", str(tmp_path / "data"))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"coach: error: {path}:12: exercises[1].hold_s: must be greater than 0, got `-5`\n"


# -- the shipped routine ----------------------------------------------------------------------
def test_shipped_glutes_routine_carries_the_facts() -> None:
    routine = load_routine(GLUTES)
    assert routine.name == "glutes"
    assert (routine.sessions_per_day_min, routine.sessions_per_day_max) == (1, 2)
    setup, bridge, band = routine.exercises
    assert (setup.kind, setup.hold_s, setup.rest) == ("setup", 0.0, None)
    spoken = " ".join(setup.say)
    for fact in ("hip width", "toes turned out", "Call that zero", "That's ten", "at five",
                 "neutral spine"):
        assert fact in spoken
    for exercise in (bridge, band):
        assert exercise.kind == "hold"
        assert (exercise.hold_s, exercise.sets) == (60.0, 5)
        assert exercise.rest is not None
        assert (exercise.rest.min_s, exercise.rest.max_s) == (30.0, 60.0)
    assert (bridge.advanced, band.advanced) == (False, True)
    assert "band" in " ".join(band.say)
    assert routine.total_sets == 10
    bridge_says = " ".join(bridge.say)
    assert "Put your fingertips on your buttocks" in bridge_says          # an instruction, not a hint
    assert "60 seconds, 5 times, with 30 to 60 seconds of rest" in bridge_says   # filled from the numbers
    cues = " ".join(bridge.form_cues).lower()
    for cue in ("breathing", "squeeze your glutes", "hips level", "back neutral"):
        assert cue in cues
    every_line = [*routine.intro, *routine.outro, *(t for e in routine.exercises
                                                   for t in (*e.say, *e.short_hold, *e.form_cues))]
    assert all(len(t.split()) <= 16 for t in every_line), "short lines, for someone lying on a mat"
    assert all("{" not in t for t in every_line)


def test_a_copied_routine_says_its_own_numbers(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    text = GLUTES.read_text().replace("hold_s: 60", "hold_s: 20", 1).replace("sets: 5", "sets: 3", 1)
    path.write_text(text.replace("rest_s: {min: 30, max: 60}", "rest_s: {min: 10, max: 15}", 1))
    bridge = load_routine(path).exercise("bridge")
    assert bridge is not None
    assert "The full hold is 20 seconds, 3 times, with 10 to 15 seconds of rest." in bridge.say


@pytest.mark.parametrize(("old", "new", "message"), [
    ('"Stay in neutral spine."', '"Hold {hold_secs}."', "exercises[1].say: unknown placeholder {hold_secs}; "
     "a hold exercise's lines can use {hold_s}, {sets}, {rest_min_s}, {rest_max_s}"),
    ('"Stay in neutral spine."', '"Hold {hold_s:>4}."', "exercises[1].say: write the placeholder as "
     "{hold_s}, without `!` or `:`"),
    ('"Stay in neutral spine."', '"Hold {hold_s."', "exercises[1].say: bad braces"),
    ('"Lie on your back with your knees bent."', '"Lie down for {hold_s}."',
     "exercises[0].say: {hold_s}: only a hold exercise's lines can use placeholders"),
    ('"See you next time."', '"{sets} done."', "outro: {sets}: only a hold exercise's lines can use"),
])
def test_bad_placeholders_in_routine_lines_fail_on_load(tmp_path: Path, old: str, new: str,
                                                         message: str) -> None:
    path = tmp_path / "mine.yaml"
    text = GLUTES.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(RoutineError) as caught:
        load_routine(path)
    assert message in str(caught.value)


def test_form_cues_can_be_switched_off(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(GLUTES.read_text().replace("  get_set_s: 3\n", "  get_set_s: 3\n  form: false\n", 1))
    assert load_routine(path).cues.form is False
    assert load_routine(GLUTES).cues.form is None        # the default (on) from coach.defaults


def test_without_advanced_drops_the_band_step() -> None:
    routine = load_routine(GLUTES).without_advanced()
    assert [e.id for e in routine.exercises] == ["neutral_spine", "bridge"]
    assert routine.total_sets == 5


# -- finding routines -------------------------------------------------------------------------
def test_find_routine_by_name_and_by_path(tmp_path: Path) -> None:
    assert find_routine("glutes", None) == GLUTES
    own = tmp_path / "elsewhere.yaml"
    own.write_text(BASE)
    assert find_routine(str(own), None) == own
    with pytest.raises(RoutineError) as caught:
        find_routine(str(tmp_path / "missing.yaml"), None)
    assert str(caught.value) == f"{tmp_path / 'missing.yaml'}: no such routine file"


def test_unknown_routine_name_lists_the_available_ones(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(BASE)
    names = sorted({"mine"} | {p.stem for p in SHIPPED_DIR.glob("*.yaml")})
    with pytest.raises(RoutineError) as caught:
        find_routine("glutez", tmp_path)
    assert str(caught.value) == (f"no routine called `glutez` (available: {', '.join(names)}); "
                                 "see `coach routines`")


def test_user_routines_shadow_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "glutes.yaml").write_text(BASE)
    (tmp_path / "mine.yaml").write_text(BASE)
    infos = {info.name: info for info in list_routines(tmp_path)}
    assert (infos["glutes"].origin, infos["glutes"].path) == ("user", tmp_path / "glutes.yaml")
    assert (infos["mine"].origin, infos["mine"].path) == ("user", tmp_path / "mine.yaml")
    assert find_routine("glutes", tmp_path) == tmp_path / "glutes.yaml"
    assert load_routine(find_routine("glutes", tmp_path)).title == "Test routine"


def test_list_routines_without_a_user_folder(tmp_path: Path) -> None:
    shipped = list_routines(None)
    assert [(i.name, i.origin) for i in shipped if i.name == "glutes"] == [("glutes", "shipped")]
    assert [i.name for i in shipped] == sorted(i.name for i in shipped)
    assert list_routines(tmp_path / "no-such-folder") == shipped


# -- fuzzing (the generators live in tests/helpers/fuzz.py, shared with test_config) ----------
def _check_routine(routine: Routine) -> None:
    """What the session relies on, for every routine that loads."""
    assert routine.title and routine.summary and routine.exercises
    assert 1 <= routine.sessions_per_day_min <= routine.sessions_per_day_max
    assert len({e.id for e in routine.exercises}) == len(routine.exercises)
    for exercise in routine.exercises:
        assert exercise.say and all(line.strip() for line in exercise.say)
        if exercise.is_hold:
            assert 0 < exercise.hold_s <= 3600 and 1 <= exercise.sets <= 50
            assert exercise.rest is not None and 0 <= exercise.rest.min_s <= exercise.rest.max_s
            assert exercise.rest.max_s > 0
        else:
            assert exercise.kind == "setup" and exercise.sets == 0


@FUZZ
@given(content=fuzzed_files(GLUTES.read_text()))
def test_fuzzed_routine_loads_or_fails_with_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                      content: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzzed.yaml"
    path.write_bytes(content)
    start = time.perf_counter()
    try:
        routine = load_routine(path)
    except RoutineError as err:
        check_one_line(str(err), path)
    else:
        _check_routine(routine)
        event("loaded")
    assert time.perf_counter() - start < 1.0
