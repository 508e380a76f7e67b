"""coach.voice.pack: the shipped voice, finding voices, and broken voice packs with exact messages.

Each broken pack is the real voices/en-us.yaml with one edit; `{line}` in an expected message is
the line the edit is on. The fuzz strategies come from tests/test_routine_loader.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import event, given
from test_routine_loader import FUZZ, check_one_line, fuzzed_files, run_coach

from coach.errors import VoiceError
from coach.voice import COMMANDS, LINE_FIELDS, VoicePack, find_voice, list_voices, load_voice
from coach.voice.pack import SHIPPED_DIR

EN_US = SHIPPED_DIR / "en-us.yaml"
TEXT = EN_US.read_text()


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def edit(old: str, new: str) -> str:
    assert old in TEXT, old
    return TEXT.replace(old, new, 1)


def without(first: str, stop: str) -> str:
    """The real file without the lines from the one containing `first` up to the one containing `stop`."""
    start = TEXT.rindex("\n", 0, TEXT.index(first)) + 1
    return TEXT[:start] + TEXT[TEXT.rindex("\n", 0, TEXT.index(stop)) + 1:]


# (id, new text, where {line} is (a piece of text on that line), expected message)
BROKEN = [
    ("unknown line key", edit("  hold_every:", "  hold_evry:"), "hold_evry:",
     "{p}:{line}: lines.hold_evry: unknown field (did you mean `hold_every`?)"),
    ("unknown top key", edit("language:", "langauge:"), "langauge:",
     "{p}:{line}: langauge: unknown field (did you mean `language`?)"),
    ("unknown engine key", edit("rate_wpm: 150", "rate: 150"), "rate: 150",
     "{p}:{line}: engine.rate: unknown field (did you mean `rate_wpm`?)"),
    ("unknown command", edit('  stop: ["stop"]', '  halt: ["stop"]'), "halt:",
     "{p}:{line}: commands.halt: unknown field"),
    ("unknown placeholder", edit('"{elapsed_s} in."', '"{secs} in."'), "{secs}",
     "{p}:{line}: lines.hold_every: unknown placeholder {secs}; this line can use {elapsed_s}"),
    ("placeholder on a plain line", edit('"Halfway there."', '"Halfway for {secs}."'), "Halfway for",
     "{p}:{line}: lines.hold_halfway: unknown placeholder {secs}; this line can use no placeholders"),
    ("positional placeholder", edit('"Set {set} of {sets}.', '"Set {} of {sets}.'), "Set {}",
     "{p}:{line}: lines.set_intro: unknown placeholder {}; this line can use {set}, {sets}, {goal_s}"),
    ("attribute placeholder", edit('"Set {set} of {sets}.', '"Set {set.real} of {sets}.'), "Set {",
     "{p}:{line}: lines.set_intro: unknown placeholder {set.real}; this line can use "
     "{set}, {sets}, {goal_s}"),
    ("unclosed brace", edit('count: "{n}"', 'count: "{n"'), 'count: "{n"',
     "{p}:{line}: lines.count: bad braces (expected '}' before end of string); "
     "write {{ or }} for a literal brace"),
    ("lone closing brace", edit('"Halfway there."', '"Halfway there.}"'), "Halfway there.}",
     "{p}:{line}: lines.hold_halfway: bad braces (Single '}' encountered in format string); "
     "write {{ or }} for a literal brace"),
    ("format spec", edit('count: "{n}"', 'count: "{n:>3}"'), "{n:>3}",
     "{p}:{line}: lines.count: write the placeholder as {n}, or a count as {n:one|many}; "
     "no other `!` or `:`"),
    ("conversion", edit('count: "{n}"', 'count: "{n!x}"'), "{n!x}",
     "{p}:{line}: lines.count: write the placeholder as {n}, or a count as {n:one|many}; "
     "no other `!` or `:`"),
    ("plural spec on seconds",
     edit('"Down. You held {held_s}."', '"Down. You held {held_s:second|seconds}."'),
     "Down. You held", "{p}:{line}: lines.hold_ended: write the placeholder as {held_s}, or a count as "
     "{held_s:one|many}; no other `!` or `:`"),
    ("half a plural spec", edit('{sets_done:set|sets}', '{sets_done:sets}'), "{sets_done:sets}",
     "{p}:{line}: lines.session_end: write the placeholder as {sets_done}, or a count as "
     "{sets_done:one|many}; no other `!` or `:`"),
    ("unit written after seconds", edit('"Down. You held {held_s}."', '"Down. You held {held_s} seconds."'),
     "Down. You held", "{p}:{line}: lines.hold_ended: write {held_s} without `seconds` after it: the unit "
     "is added for you (\"1 second\", \"42 seconds\")"),
    ("line a list", edit('count: "{n}"', "count: [n]"), "count: [n]",
     "{p}:{line}: lines.count: must be text, got a list"),
    ("line empty", edit('count: "{n}"', "count:"), "count:",
     "{p}:{line}: lines.count: must be text, got nothing"),
    ("missing line", without("  no_hold:", "  skip_exercise:"), "  session_start:",
     "{p}:{line}: lines.no_hold: required field is missing"),
    ("missing lines section", without("# What the coach says", "# What you can say"), "title:",
     "{p}:{line}: lines: required field is missing"),
    ("lines a list", without("# What the coach says", "# What you can say").replace(
        "\ncommands:", "\nlines: [hello]\ncommands:"), "lines: [hello]",
     "{p}:{line}: lines: must be a mapping of `key: value` lines, got a list"),
    ("phrase used by two commands", edit('skip: ["skip"]', 'skip: ["skip", "ready"]'), '"ready"]',
     "{p}:{line}: commands.skip[1]: the phrase `ready` is used for both ready and skip"),
    ("same phrase in other case and spacing", edit('skip: ["skip"]', 'skip: ["skip", "  Ready "]'),
     "Ready", "{p}:{line}: commands.skip[1]: the phrase `ready` is used for both ready and skip"),
    ("missing command", without('  next: ["next"]', '  repeat:'), "  ready: [",
     "{p}:{line}: commands.next: required field is missing"),
    ("command without phrases", edit('pause: ["pause"]', "pause: []"), "pause: []",
     "{p}:{line}: commands.pause: must have at least 1 line"),
    ("phrase too long", edit('pause: ["pause"]', f'pause: ["{"pause " * 20}"]'), "pause: [",
     "{p}:{line}: commands.pause[0]: is 119 characters long; at most 60"),
    ("rate too high", edit("rate_wpm: 150", "rate_wpm: 1000"), "rate_wpm",
     "{p}:{line}: engine.rate_wpm: must be between 60 and 400, got `1000`"),
    ("rate too low", edit("rate_wpm: 150", "rate_wpm: 10"), "rate_wpm",
     "{p}:{line}: engine.rate_wpm: must be between 60 and 400, got `10`"),
    ("volume above 1", edit("volume: 0.9", "volume: 1.5"), "volume",
     "{p}:{line}: engine.volume: must be at most 1, got `1.5`"),
    ("volume zero", edit("volume: 0.9", "volume: 0"), "volume",
     "{p}:{line}: engine.volume: must be greater than 0, got `0`"),
    ("volume text", edit("volume: 0.9", "volume: loud"), "volume",
     "{p}:{line}: engine.volume: must be a number, got `loud`"),
    ("missing engine voice", edit("  voice: en-us ", "  # voice: en-us "), "rate_wpm",
     "{p}:{line}: engine.voice: required field is missing"),
    ("engine a word", without("engine:", "# When spoken cues").replace(
        "language: en-us\n", "language: en-us\nengine: espeak\n"), "engine: espeak",
     "{p}:{line}: engine: must be a mapping of `key: value` lines, got `espeak`"),
    ("cue negative", edit("every_s: 10", "every_s: -1"), "every_s",
     "{p}:{line}: cues.every_s: must not be negative, got `-1`"),
    ("earcon style misspelt", edit("acknowledge: tone", "acknowledge: beep"), "acknowledge: beep",
     "{p}:{line}: earcons.acknowledge: must be one of tone, word, none; got `beep`"),
    ("earcon flag not a flag", edit("countdown: true ", "countdown: yes please "), "countdown: yes",
     "{p}:{line}: earcons.countdown: must be true or false, got `yes please`"),
    ("unknown earcon", edit("  every: true", "  evry: true"), "evry:",
     "{p}:{line}: earcons.evry: unknown field (did you mean `every`?)"),
    ("duplicate line", edit('  hold_halfway: "Halfway there."', '  count: "{n}"'), '  count: "{n}"\n',
     "{p}:{line}: lines.count: appears twice (first on line " + str(line_of(TEXT, "  count:")) + ")"),
]


@pytest.mark.parametrize(("content", "where", "expected"), [case[1:] for case in BROKEN],
                         ids=[case[0] for case in BROKEN])
def test_broken_voice_pack_gives_one_exact_line(tmp_path: Path, content: str, where: str,
                                                expected: str) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(content)
    with pytest.raises(VoiceError) as caught:
        load_voice(path)
    wanted = expected.replace("{p}", str(path)).replace("{line}", str(line_of(content, where)))
    assert str(caught.value) == wanted


def test_cli_prints_the_line_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(edit("volume: 0.9", "volume: 1.5"))
    done = run_coach("run", "--voice", str(path), "--quiet", "--data-dir", str(tmp_path / "data"))
    assert (done.returncode, done.stdout) == (2, "")
    line = line_of(TEXT, "volume:")
    assert done.stderr == f"coach: error: {path}:{line}: engine.volume: must be at most 1, got `1.5`\n"


def test_shipped_voice_loads() -> None:
    voice = load_voice(EN_US)
    assert (voice.name, voice.language, voice.engine_voice) == ("en-us", "en-us", "en-us")
    assert (voice.rate_wpm, voice.volume) == (150, 0.9)
    assert (voice.cues.every_s, voice.cues.countdown_from, voice.cues.halfway) == (10.0, 5, None)
    assert [key for key, _ in voice.lines] == list(LINE_FIELDS)
    assert [command for command, _ in voice.commands] == list(COMMANDS)
    assert voice.line("set_intro", set=2, sets=5, goal_s=38) == "Set 2 of 5."
    assert voice.line("hold_start", goal_s=38) == "Lift, and hold for 38 seconds."
    assert voice.line("hold_ended", held_s=42) == "Down. You held 42 seconds."
    assert voice.command_word("cant_hold") == "can't hold"


@pytest.mark.parametrize(("key", "values", "said"), [
    ("hold_ended", {"held_s": 1}, "Down. You held 1 second."),
    ("hold_ended", {"held_s": 0}, "Down. You held 0 seconds."),
    ("hold_ended", {"held_s": 2.5}, "Down. You held 3 seconds."),          # half up, not banker's
    ("hold_ended", {"held_s": 41.44}, "Down. You held 41 seconds."),
    ("hold_every", {"elapsed_s": 20}, "20 seconds in."),
    ("hold_left", {"left_s": 10}, "Nearly there, 10 seconds to go."),
    ("session_end", {"sets_done": 1}, "That's 1 set. Good work."),
    ("session_end", {"sets_done": 5}, "That's 5 sets. Good work."),
    ("last_time", {"held_list": (42, 38, 35), "sets": 3, "best_s": 60},
     "Last time you held 42, 38 and 35 seconds. Your best is 60 seconds."),
    ("last_time", {"held_list": (1,), "sets": 1, "best_s": 1},
     "Last time you held 1 second. Your best is 1 second."),
    ("skip_exercise", {"exercise": "Glute bridge"}, "Skipping this one: glute bridge."),
    ("exercise_start", {"exercise": "Glute bridge"}, "Glute bridge."),     # opening a line: capital kept
    ("session_start", {"routine": "Glute activation"}, "Let's do glute activation."),
    # idle_min is minutes, not seconds: no "seconds" added, a plural that fits, a fraction kept
    ("idle_abandon", {"idle_min": 1}, "I haven't heard from you for 1 minute, so I'll stop here. "
                                      "What you did is saved."),
    ("idle_abandon", {"idle_min": 5}, "I haven't heard from you for 5 minutes, so I'll stop here. "
                                      "What you did is saved."),
    ("idle_abandon", {"idle_min": 0.5}, "I haven't heard from you for 0.5 minutes, so I'll stop here. "
                                        "What you did is saved."),
    ("ack", {}, "Okay."),
    ("sorry", {}, "Sorry?"),
])
def test_lines_read_naturally(key: str, values: dict, said: str) -> None:
    assert load_voice(EN_US).line(key, **values) == said


def test_elapsed_and_remaining_sound_different() -> None:
    voice = load_voice(EN_US)
    elapsed, left = voice.line("hold_every", elapsed_s=10), voice.line("hold_left", left_s=10)
    assert elapsed.split()[0] != left.split()[0] and elapsed.split()[-1] != left.split()[-1]
    assert voice.phrases["ready"] == ["ready", "i'm ready", "let's go"]


def test_phrases_are_lower_case_with_single_spaces(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(edit('ready: ["ready", "i\'m ready"', 'ready: ["Ready", "  I\'m   READY "'))
    assert load_voice(path).phrases["ready"] == ["ready", "i'm ready", "let's go"]


def test_literal_braces_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(edit('"Halfway there."', '"Halfway {{really}}."'))
    assert load_voice(path).line("hold_halfway") == "Halfway {really}."


def test_find_voice_by_name_and_by_path(tmp_path: Path) -> None:
    assert find_voice("en-us", None) == EN_US
    own = tmp_path / "mine.yaml"
    own.write_text(TEXT)
    assert find_voice(str(own), None) == own
    with pytest.raises(VoiceError) as caught:
        find_voice(str(tmp_path / "gone.yaml"), None)
    assert str(caught.value) == f"{tmp_path / 'gone.yaml'}: no such voice file"


def test_unknown_voice_name_lists_the_available_ones(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(TEXT)
    names = sorted({"mine"} | {p.stem for p in SHIPPED_DIR.glob("*.yaml")})
    with pytest.raises(VoiceError) as caught:
        find_voice("en-uk", tmp_path)
    assert str(caught.value) == f"no voice called `en-uk` (available: {', '.join(names)})"


def test_user_voices_shadow_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "en-us.yaml").write_text(edit("rate_wpm: 150", "rate_wpm: 120"))
    assert dict(list_voices(tmp_path))["en-us"] == tmp_path / "en-us.yaml"
    assert load_voice(find_voice("en-us", tmp_path)).rate_wpm == 120
    assert dict(list_voices(None))["en-us"] == EN_US


# -- fuzzing ----------------------------------------------------------------------------------
def _check_voice(voice: VoicePack) -> None:
    """What the session relies on, for every voice pack that loads."""
    assert 60 <= voice.rate_wpm <= 400 and 0 < voice.volume <= 1
    for key, fields in LINE_FIELDS.items():
        assert voice.line(key, **{name: 7 for name in fields}).strip()
    owners = {phrase: command for command, phrases in voice.commands for phrase in phrases}
    assert all(voice.phrases[command] for command in COMMANDS)
    assert all(owners[phrase] == command
               for command, phrases in voice.commands for phrase in phrases)


@FUZZ
@given(content=fuzzed_files(TEXT))
def test_fuzzed_voice_pack_loads_or_fails_with_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                         content: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzzed.yaml"
    path.write_bytes(content)
    start = time.perf_counter()
    try:
        voice = load_voice(path)
    except VoiceError as err:
        check_one_line(str(err), path)
    else:
        _check_voice(voice)
        event("loaded")
    assert time.perf_counter() - start < 1.0


def test_every_shipped_voice_loads_and_adds_its_own_unit() -> None:
    for name, path in list_voices(None):
        assert load_voice(path).name == name
    ko = load_voice(SHIPPED_DIR / "ko.yaml")
    assert ko.line("hold_ended", held_s=42.5) == "내려오세요. 43초 버텼어요."
    assert ko.line("last_time", held_list=(42, 38), sets=2, best_s=60) == \
        "지난번: 42 그리고 38초. 최고 기록 60초."


# -- bad phrases: every kind names the file, the line and the field, through the command line ----
MULTILINE_SKIP = edit('  skip: ["skip"]\n', '  skip:\n    - skip\n    - "ready"\n')

BAD_PHRASES = [
    # (id, pack text, text on the phrase's line, field, problem)
    ("only punctuation", edit('pause: ["pause"]', 'pause: ["pause", "!!!"]'), '"!!!"',
     "commands.pause[1]", "the phrase `!!!` has no words to say"),
    ("a number", edit('pause: ["pause"]', 'pause: ["pause", 5]'), '5]',
     "commands.pause[1]", "the phrase `5` has a number in it; write numbers as words (`five`)"),
    ("same phrase with punctuation", edit('skip: ["skip"]', 'skip: ["skip", "Ready!"]'), "Ready!",
     "commands.skip[1]", "the phrase `ready` is used for both ready and skip"),
    ("duplicate on its own line", MULTILINE_SKIP, '    - "ready"',
     "commands.skip[1]", "the phrase `ready` is used for both ready and skip"),
    ("a mapping", edit('pause: ["pause"]', "pause: {say: pause}"), "pause: {",
     "commands.pause", "must be a line of text or a list of lines, got a mapping"),
    ("a list in a list", edit('pause: ["pause"]', "pause: [[pause]]"), "pause: [[",
     "commands.pause[0]", "must be text, got a list"),
    ("empty", edit('pause: ["pause"]', 'pause: ["pause", " "]'), 'pause: ["pause", " "]',
     "commands.pause[1]", "must not be empty"),
]


def _in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The real command line (`coach.cli.main`) without a new interpreter per call."""
    from coach.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("content", "where", "field", "problem"), [c[1:] for c in BAD_PHRASES],
                         ids=[c[0] for c in BAD_PHRASES])
def test_bad_phrase_is_one_line_through_say_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    content: str, where: str, field: str,
                                                    problem: str) -> None:
    """`coach say --voice FILE` and `coach run --voice NAME` (a user pack in DATA_DIR/voices)."""
    data = tmp_path / "data"
    (data / "voices").mkdir(parents=True)
    path = data / "voices" / "mine.yaml"
    path.write_text(content)
    expected = f"coach: error: {path}:{line_of(content, where)}: {field}: {problem}\n"
    said = _in_process(capsys, "say", "--voice", str(path), "--out", str(tmp_path / "o.wav"), "hello",
                       "--data-dir", str(data))
    assert said == (2, "", expected)
    ran = _in_process(capsys, "run", "--voice", "mine", "--quiet", "--data-dir", str(data))
    assert ran == (2, "", expected)


def test_a_bad_phrase_in_a_real_process_is_one_line_and_exit_2(tmp_path: Path) -> None:
    _, content, where, field, problem = BAD_PHRASES[0]
    path = tmp_path / "v.yaml"
    path.write_text(content)
    said = run_coach("say", "--voice", str(path), "--out", str(tmp_path / "o.wav"), "hello",
                     "--data-dir", str(tmp_path / "data"))
    assert (said.returncode, said.stdout) == (2, "")
    assert said.stderr == f"coach: error: {path}:{line_of(content, where)}: {field}: {problem}\n"


def _silence_wav(path: Path, seconds: float = 0.5) -> Path:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(b"\0\0" * int(16_000 * seconds))
    return path


UNSAYABLE = edit('skip: ["skip"]', 'skip:\n    - skip\n    - "qwzxv now"')


def test_a_word_the_recognizer_cannot_say_names_the_file_and_line(tmp_path: Path) -> None:
    """Found only when pocketsphinx looks the word up; still `FILE:LINE: FIELD: problem`, exit 2,
    through `coach listen` and a voice session (`coach run --mic`)."""
    data = tmp_path / "data"
    path = tmp_path / "v.yaml"
    path.write_text(UNSAYABLE)
    wav = _silence_wav(tmp_path / "quiet.wav")
    expected = (f"coach: error: {path}:{line_of(UNSAYABLE, 'qwzxv')}: commands.skip[1]: the word "
                "`qwzxv` in `qwzxv now` is not in the pocketsphinx dictionary; choose another phrase\n")
    heard = run_coach("listen", "--voice", str(path), "--engine", "pocketsphinx", str(wav),
                      "--data-dir", str(data))
    assert (heard.returncode, heard.stdout, heard.stderr.splitlines()[-1] + "\n") == (2, "", expected)
    assert "Traceback" not in heard.stderr
    ran = run_coach("run", "glutes", "--voice", str(path), "--mic", str(wav), "--engine", "pocketsphinx",
                    "--quiet", "--data-dir", str(data))
    assert (ran.returncode, ran.stderr.splitlines()[-1] + "\n") == (2, expected)
    assert "Traceback" not in ran.stderr


def test_a_pack_written_before_stopped_unsaved_still_loads_and_never_says_saved(tmp_path: Path) -> None:
    from coach.voice.pack import OPTIONAL_LINES

    path = tmp_path / "old.yaml"
    path.write_text(without("  stopped_unsaved:", "  session_end:"))
    voice = load_voice(path)
    assert dict(voice.lines)["stopped_unsaved"] == OPTIONAL_LINES["stopped_unsaved"]
    assert voice.line("stopped_unsaved", holds=1) == (
        "Stopping here. I could not save 1 hold to your history; the screen shows where I kept what "
        "was not saved, and how to import it.")
    assert load_voice(EN_US).line("stopped_unsaved", holds=2).startswith(
        "Stopping here. I could not save 2 holds")
