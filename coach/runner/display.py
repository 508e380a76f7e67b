"""The terminal: every spoken line printed, and a live timer line redrawn in place on a TTY."""

from __future__ import annotations

import sys
from typing import TextIO

from coach.vocab import State

STATE_NAMES: dict[str, str] = {State.ASKING: "waiting for yes or no", State.SETUP: "instructions",
                               State.WAITING_READY: "waiting for ready", State.GET_SET: "get set",
                               State.HOLDING: "holding", State.RESTING: "resting", State.PAUSED: "paused",
                               State.FINISHED: "finished"}
_TIMED = (State.HOLDING, State.RESTING, State.PAUSED, State.GET_SET)


class Display:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self._out = out if out is not None else sys.stdout
        self._err = err if err is not None else sys.stderr
        self._tty = self._out.isatty()
        self._status = ""

    def said(self, text: str) -> None:
        self._line(f"  coach: {text}")

    def info(self, text: str) -> None:
        self._line(f"  {text}")

    def warn(self, text: str) -> None:
        """Problems go to stderr, so stdout stays the session transcript."""
        self._clear()
        print(f"coach: {text}", file=self._err, flush=True)
        self._redraw()

    def status(self, state: str, timer: tuple[str, float, float] | None, detail: str) -> None:
        if not self._tty:
            return
        clock = ""
        if timer is not None and state in _TIMED:
            _, elapsed, total = timer
            clock = f" {_mmss(elapsed)} / {_mmss(total)}" if state != State.RESTING else \
                f" {_mmss(max(0.0, total - elapsed))} left"
        text = f"[{STATE_NAMES.get(state, state)}{clock}] {detail}"
        if text != self._status:
            self._status = text
            self._redraw()

    def close(self) -> None:
        self._clear()
        self._status = ""

    def _line(self, text: str) -> None:
        self._clear()
        print(text, file=self._out, flush=True)
        self._redraw()

    def _clear(self) -> None:
        if self._tty and self._status:
            self._out.write("\r\x1b[2K")

    def _redraw(self) -> None:
        if self._tty and self._status:
            self._out.write(self._status + "  (h: keys)")
            self._out.flush()


def _mmss(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"
