"""The live status line, read off the screen of a real pseudo-terminal through a terminal emulator
(pyte), at 40 and 200 columns: one line, redrawn in place, never wrapped, gone at the end."""

from __future__ import annotations

import io
import sys
import time

import pexpect
import pyte
import pytest
from conftest import ROOT

from coach.runner.display import Display, fit, status_text

pytestmark = pytest.mark.audio


class Screen:
    """A pyte screen fed with everything the child writes."""

    def __init__(self, columns: int, rows: int = 30) -> None:
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.Stream(self.screen)

    def write(self, data: str) -> None:
        self.stream.feed(data.replace("\n", "\r\n") if "\r\n" not in data else data)

    def flush(self) -> None:
        pass

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def status_lines(self) -> list[str]:
        return [line for line in self.lines() if line.startswith("[")]


def play(coach_env, columns: int) -> tuple[list[str], list[str], list[str]]:
    """Run the short routine from the keyboard; the screens while holding, resting and at the end."""
    screen = Screen(columns)
    child = pexpect.spawn(sys.executable, ["-m", "coach", "run", "short", "--quiet"], env=coach_env,
                          cwd=str(ROOT), encoding="utf-8", timeout=30, dimensions=(30, columns))
    child.logfile_read = screen
    child.expect("Say ready when you're in position.")
    child.send("h")                       # at the keyboard, help lists the keys
    child.expect("h these keys")
    child.send("r")
    child.expect("Lift, and hold")
    time.sleep(1.6)                       # several ticks of the clock, each one a redraw
    child.expect([pexpect.TIMEOUT], timeout=0.2)
    holding = screen.lines()
    child.expect(r"\[resting 00:0")          # the rest's clock (its words follow "Well held", as spoken)
    time.sleep(0.6)
    child.expect([pexpect.TIMEOUT], timeout=0.2)
    resting = screen.lines()
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    return holding, resting, screen.lines()


@pytest.mark.parametrize("columns", [40, pytest.param(200, marks=pytest.mark.slow)])  # default run budget
def test_one_status_line_redrawn_in_place(coach_env, columns: int) -> None:
    holding, resting, end = play(coach_env, columns)
    for screen in (holding, resting):
        status = [line for line in screen if line.startswith("[")]
        assert len(status) == 1, screen                     # one line, not a trail of fragments
        assert len(status[0]) < columns
        assert screen[-1] == "" or screen[screen.index(status[0]) + 1:] == \
            [""] * (len(screen) - screen.index(status[0]) - 1)       # the last thing on the screen
    hold_status = next(line for line in holding if line.startswith("["))
    assert hold_status.startswith("[holding 00:0")
    rest_status = next(line for line in resting if line.startswith("["))
    assert rest_status.startswith("[resting 00:0") and " left" in rest_status
    if columns >= 80:
        assert hold_status.endswith("/ 00:03] Bridge, set 1 of 2  (h: keys)")
    else:
        assert "(h: keys)" not in hold_status                      # the hint gives way first
    assert not [line for line in end if line.startswith("[")]      # cleared at the end
    assert any("coach: Lift, and hold for 3 seconds." in line for line in holding)
    assert not any("You can say" in line for line in holding)     # `h` showed keys, not phrases


def test_no_status_and_no_escape_codes_when_not_a_terminal() -> None:
    out = io.StringIO()
    display = Display(out)
    display.key_hint = True
    display.said("Set 1 of 2.")
    display.status("holding", ("holding", 2.0, 60.0), "Glute bridge, set 1 of 5")
    display.said("Lift, and hold for 60 seconds.")
    display.close()
    assert out.getvalue() == "  coach: Set 1 of 2.\n  coach: Lift, and hold for 60 seconds.\n"


def test_status_text_and_fitting() -> None:
    assert status_text("holding", ("holding", 12.7, 60.0), "Glute bridge, set 2 of 5") == \
        "[holding 00:12 / 01:00] Glute bridge, set 2 of 5"
    assert status_text("paused", ("resting", 10.0, 60.0), "x") == "[paused 00:50 left] x"
    assert status_text("waiting_ready", None, "") == "[waiting for ready]"
    assert fit("abc", "  (h)", 80) == "abc  (h)"
    assert fit("a" * 50, "  (h: keys)", 40) == "a" * 38 + "…"
    assert len(fit("a" * 39, "", 40)) == 39


def test_printed_only_lines_appear_when_they_would_be_spoken(coach_env, tmp_path) -> None:
    """--quiet: each line is printed as its (silent) turn starts on the session clock, as speech would
    be, not every set-up line at t=0. Read off the emulated screen while the session runs."""
    events = tmp_path / "ev.jsonl"
    screen = Screen(100)
    child = pexpect.spawn(sys.executable, ["-m", "coach", "run", "short", "--quiet", "--events", str(events)],
                          env=coach_env, cwd=str(ROOT), encoding="utf-8", timeout=30, dimensions=(30, 100))
    child.logfile_read = screen
    child.expect("coach: Let's do short test.")
    t0 = time.monotonic()
    child.expect([pexpect.TIMEOUT], timeout=0.3)
    early = screen.lines()
    child.expect("coach: Say ready when you're in position.")
    t_prompt = time.monotonic() - t0
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert not any("Lift your hips." in line for line in early)             # not yet its turn
    assert not any("Say ready" in line for line in early)
    import json

    records = [json.loads(line) for line in events.read_text().splitlines()]
    said_at = {r["text"]: r["start"] for r in records if r["type"] == "say_end"}
    prompt_start = said_at["Say ready when you're in position."] - said_at["Let's do short test."]
    assert prompt_start > 1.5                                               # three lines before it
    assert t_prompt == pytest.approx(prompt_start, abs=0.5)                 # printed on the clock
