"""What the coach says during a hold never holds a phrase that would end or interrupt it.

At room echo gain 1 the canceller's residual of "Goal reached, well done." was heard as "done"
6.6-11 dB over the expected echo (just past the self-voice margin) and ended three holds early in
two whole glute sessions (scripts/bench_turns.py). The listener still judges every word against
the residual; the words themselves should not invite it. Instructions given on purpose
("already holding: say done when you finish", help) are not in this list.
"""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import ROOT

from coach.voice.pack import SHIPPED_DIR, load_voice

HOLD_LINES = ("hold_start", "hold_every", "hold_halfway", "hold_left", "goal_reached", "count",
              "times_up", "how_long_hold")
HOLD_COMMANDS = ("done", "cant_hold", "stop", "pause", "skip", "next")
VALUES = dict(goal_s=38, elapsed_s=20, left_s=10, n=3, text="")


def words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


def contains(line: str, phrase: str) -> bool:
    w, p = words(line), words(phrase)
    return any(w[i:i + len(p)] == p for i in range(len(w) - len(p) + 1))


@pytest.mark.parametrize("pack", ["en-us"])
def test_no_line_said_during_a_hold_contains_a_hold_ending_phrase(pack):
    voice = load_voice(SHIPPED_DIR / f"{pack}.yaml")
    phrases = {c: p for c, p in voice.phrases.items() if c in HOLD_COMMANDS}
    said = [voice.line(k, **VALUES) for k in HOLD_LINES]
    for routine in (ROOT / "coach" / "routine" / "shipped").glob("*.yaml"):
        for exercise in yaml.safe_load(routine.read_text())["exercises"]:
            said += exercise.get("form_cues", [])
    clashes = [(line, c, p) for line in said for c, ps in phrases.items() for p in ps if contains(line, p)]
    assert not clashes, clashes
