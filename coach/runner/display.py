"""The terminal: every spoken line printed, and one live status line redrawn in place on a TTY.

On a terminal the status line (state, clock, exercise and set) sits below the transcript and is
rewritten in place: carriage return, erase the line, write it again, cut to the terminal's width
so it can never wrap into a second line (at 40 columns as at 200). A printed line first erases
the status, prints, then draws it again, so the transcript scrolls cleanly above it.
When stdout is not a terminal (a pipe, a file) only the transcript is written: no status line,
no escape codes.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

from coach.vocab import State

STATE_NAMES: dict[str, str] = {State.ASKING: "waiting for an answer", State.SETUP: "instructions",
                               State.WAITING_READY: "waiting for ready", State.GET_SET: "get set",
                               State.HOLDING: "holding", State.RESTING: "resting", State.PAUSED: "paused",
                               State.FINISHED: "finished"}
_TIMED = (State.HOLDING, State.RESTING, State.PAUSED, State.GET_SET)
KEY_HINT = "h: keys"
FALLBACK_COLUMNS = 80
_ERASE_LINE = "\r\x1b[2K"


class Display:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self._out = out if out is not None else sys.stdout
        self._err = err if err is not None else sys.stderr
        self._tty = _isatty(self._out)
        self._status = ""           # the status text, without the hint
        self._drawn = False         # a status line is on the screen now
        self.key_hint = False       # show "h: keys" (keyboard mode on a terminal)
        self._lock = threading.Lock()     # the key reader prints the key list from its own thread

    def said(self, text: str) -> None:
        self._line(f"  coach: {text}")

    def info(self, text: str) -> None:
        self._line(f"  {text}")

    def warn(self, text: str) -> None:
        """Problems go to stderr, so stdout stays the session transcript."""
        with self._lock:
            self._clear()
            print(f"coach: {text}", file=self._err, flush=True)
            self._redraw()

    def status(self, state: str, timer: tuple[str, float, float] | None, detail: str) -> None:
        if not self._tty:
            return
        text = status_text(state, timer, detail)
        with self._lock:
            if text != self._status:
                self._status = text
                self._clear()
                self._redraw()

    def close(self) -> None:
        with self._lock:
            self._clear()
            self._status = ""

    def _line(self, text: str) -> None:
        with self._lock:
            self._clear()
            print(text, file=self._out, flush=True)
            self._redraw()

    def _clear(self) -> None:
        if self._tty and self._drawn:
            self._out.write(_ERASE_LINE)
            self._out.flush()
            self._drawn = False

    def _redraw(self) -> None:
        if self._tty and self._status:
            hint = f"  ({KEY_HINT})" if self.key_hint else ""
            self._out.write(fit(self._status, hint, _columns(self._out)))
            self._out.flush()
            self._drawn = True


def status_text(state: str, timer: tuple[str, float, float] | None, detail: str) -> str:
    """`[holding 00:12 / 01:00] Glute bridge, set 2 of 5`; rest shows the time left."""
    clock = ""
    if timer is not None and state in _TIMED:
        phase, elapsed, total = timer
        if phase == State.RESTING:
            clock = f" {_mmss(max(0.0, total - elapsed))} left"
        else:
            clock = f" {_mmss(elapsed)} / {_mmss(total)}"
    text = f"[{STATE_NAMES.get(state, state)}{clock}]"
    return f"{text} {detail}" if detail else text


def fit(text: str, hint: str, columns: int) -> str:
    """`text` and `hint` in fewer than `columns` characters (the last column would wrap on some
    terminals): the hint goes first, then the text is cut with an ellipsis."""
    room = max(1, columns - 1)
    if len(text) + len(hint) <= room:
        return text + hint
    if len(text) <= room:
        return text
    return text[: room - 1] + "…"


def _columns(out: TextIO) -> int:
    try:
        return os.get_terminal_size(out.fileno()).columns or FALLBACK_COLUMNS
    except (OSError, ValueError, AttributeError):
        return FALLBACK_COLUMNS


def _isatty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _mmss(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"
