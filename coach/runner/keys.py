"""Keyboard commands: one key each on a terminal, or a word per line from a pipe.

A reader thread puts (command, monotonic time of the key press) on a queue; the session loop
drains it. On a terminal the keys take effect at once (cbreak mode, restored on exit), and `h`
(or `?`) shows the keys themselves, not the voice phrases: at the keyboard, keys are what help.
"""

from __future__ import annotations

import os
import queue
import select
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from coach.vocab import CommandId

C = CommandId
KEYS: dict[str, CommandId] = {
    "r": C.READY, " ": C.READY, "\n": C.READY, "\r": C.READY,
    "d": C.DONE, "c": C.CANT_HOLD, "p": C.PAUSE, "u": C.RESUME, "s": C.SKIP, "y": C.YES, "n": C.NO,
    "a": C.REPEAT, "q": C.STOP, "t": C.HOW_LONG, "h": C.HELP, "?": C.HELP,
    "1": C.EASY, "2": C.OKAY, "3": C.HARD,
}
KEY_HELP = ("keys: r/space/enter ready · d done · c can't hold · p pause · u resume · s skip · "
            "a repeat · t how long · y yes · n no · 1 easy · 2 okay · 3 hard · h these keys · q stop")
HELP_KEYS = ("h", "?")
# A word per line from a pipe: every command id, and the spoken forms with a space or apostrophe.
WORDS: dict[str, CommandId] = {**{c.value: c for c in CommandId if c is not C.START},
                               "can't hold": C.CANT_HOLD, "how long": C.HOW_LONG}


class KeyReader:
    """Reads commands from `stream` in a daemon thread. `get_all()` returns what arrived."""

    def __init__(self, stream: TextIO = sys.stdin, show_keys: Callable[[str], None] | None = None) -> None:
        """`show_keys(KEY_HELP)` is called (from the reader thread) for `h` on a terminal; without
        it `h` asks the session for help like the word does."""
        self._stream = stream
        self._show_keys = show_keys
        self._queue: queue.Queue[tuple[str, float]] = queue.Queue()
        self._stop = threading.Event()
        self._restore: object = None
        self.tty = _isatty(stream)
        self.closed = False         # the stream ended (a pipe ran dry)
        if self.tty:
            self._restore = _cbreak(stream)
        self._thread = threading.Thread(target=self._read, name="keys", daemon=True)
        self._thread.start()

    def get_all(self) -> list[tuple[str, float]]:
        out = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        self._stop.set()
        if self._restore is not None:
            _restore(self._stream, self._restore)
            self._restore = None

    def _read(self) -> None:
        fd = self._stream.fileno()
        pending = ""
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            data = os.read(fd, 64)
            now = time.monotonic()
            if not data:
                self.closed = True
                return
            text = data.decode("utf-8", "replace")
            if self.tty:
                for ch in text:
                    if ch.lower() in HELP_KEYS and self._show_keys is not None:
                        self._show_keys(KEY_HELP)
                        continue
                    command = KEYS.get(ch.lower())
                    if command:
                        self._queue.put((command, now))
                continue
            pending += text
            while "\n" in pending:
                line, pending = pending.split("\n", 1)
                word = line.strip().lower()
                command = WORDS.get(word) or (KEYS.get(word) if len(word) == 1 else None)
                if command:
                    self._queue.put((command, now))


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _cbreak(stream: TextIO) -> object:
    import termios
    import tty

    fd = stream.fileno()
    old = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    return old


def _restore(stream: TextIO, old: object) -> None:
    import termios

    try:
        termios.tcsetattr(stream.fileno(), termios.TCSADRAIN, old)  # type: ignore[arg-type]
    except (termios.error, ValueError, OSError):
        pass
