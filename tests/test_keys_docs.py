"""The README's key table and the keys the keyboard reader really maps agree, both ways."""

from __future__ import annotations

import re

from conftest import ROOT

from coach.runner.keys import HELP_KEYS, KEY_HELP, KEYS

WORD_KEYS = {"space": " ", "enter": "\n"}


def readme_keys() -> dict[str, str]:
    """key -> the first voice phrase of its row, from the README's `| say | key | what |` table."""
    text = (ROOT / "README.md").read_text()
    table = text[text.index("| say (voice) | key |"):]
    table = table[: table.index("\n\n")]
    found: dict[str, str] = {}
    for row in table.splitlines()[2:]:
        say, keys, _ = (cell.strip() for cell in row.strip("|").split("|"))
        phrases = re.findall(r'"([^"]+)"', say)
        for key in re.findall(r"`([^`]+)`|\b(space|enter)\b", keys):
            name = key[0] or key[1]
            found[WORD_KEYS.get(name, name)] = phrases[0] if "/" not in keys else \
                phrases[[k.strip(" `") for k in keys.split("/")].index(name)]
    return found


PHRASE_COMMAND = {"ready": "ready", "done": "done", "can't hold": "cant_hold", "pause": "pause",
                  "resume": "resume", "skip": "skip", "repeat": "repeat", "how long": "how_long",
                  "help": "help", "stop": "stop", "yes": "yes", "no": "no", "easy": "easy", "okay": "okay",
                  "hard": "hard"}


def test_every_documented_key_does_what_the_readme_says() -> None:
    documented = readme_keys()
    for key, phrase in documented.items():
        assert KEYS.get(key) == PHRASE_COMMAND[phrase], (key, phrase)


def test_every_key_is_documented_and_listed_by_h() -> None:
    documented = readme_keys()
    for key in KEYS:
        if key == "\r":
            continue            # enter arrives as \r on some terminals
        assert key in documented, f"key {key!r} is missing from the README table"
    assert set(HELP_KEYS) <= set(documented)
    for key, command in KEYS.items():
        if key.strip() and command != "help":
            assert f"{key} " in KEY_HELP or f"/{key}" in KEY_HELP, key
    assert "n no" in KEY_HELP and "n next" not in KEY_HELP
