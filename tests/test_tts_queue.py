"""The speech engine renders each line once, whatever the timing of the requests.

espeak-ng's output depends on what the process rendered before (in one process the same line came
out 34479-34681 samples long), so a line asked for twice while its first render was still queued
(a cue prefetch racing the narrator, as the machine's load decides) was rendered twice, changed
every later line, and a replay under load was no longer byte-identical
(tests/test_replay_under_load.py failed 1 ms off in a clean-clone run). Each variant runs in its
own process: espeak-ng's state is the process's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.audio

RENDER = """
import hashlib, json, sys
from coach.speech.tts import Pyttsx3Synthesizer
twice = sys.argv[1] == "twice"
synth = Pyttsx3Synthesizer("en-us", 160, 1.0)
synth.start()
jobs, same = [], []
for text in ["Set 1 of 2.", "Well held. Lower down slowly.", "Rest."]:
    jobs.append(synth.submit(text))
    if twice:                                   # asked again before its render is done
        same.append(synth.submit(text) is jobs[-1] or jobs[-1].done())
out = [job.result(timeout=30) for job in jobs]
synth.close()
print(json.dumps({"same": same, "lines": [[len(x), hashlib.sha1(x.tobytes()).hexdigest()] for x in out]}))
"""


def _render(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", RENDER, mode], cwd=str(ROOT), capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_line_asked_for_again_while_queued_is_rendered_once_and_later_lines_do_not_change():
    once, twice = _render("once"), _render("twice")
    assert all(twice["same"])                   # the same job (or, already done, from the cache)
    assert all(n > 0 for n, _ in once["lines"])
    assert twice["lines"] == once["lines"]


def test_every_line_of_many_comes_back_with_audio():
    """espeak-ng sometimes ends a message with no audio at all (0-4 in 120 lines, once twice in a row
    for one line): each line is rendered again until it has some, so none is left silent."""
    from coach.speech.tts import Pyttsx3Synthesizer

    synth = Pyttsx3Synthesizer("en-us", 150, 0.9)
    try:
        lines = [f"Rest. You can say ready after {n} seconds. I'll call you at {n + 4} seconds."
                 for n in range(120)] + [f"{n} seconds in." for n in range(120)]
        silent = [text for text in lines if not len(synth.submit(text).result(timeout=30))]
    finally:
        synth.close()
    assert not silent, silent
