"""A small text progress bar for downloads, with no dependency.

On a terminal it redraws one line; into a file or a pipe (CI logs, `2> log`) it prints a plain line
every 10 %, so logs stay readable. MB here are 10^6 bytes, as the speed is.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

_MB = 1_000_000
_UNKNOWN_TOTAL_LINE_EVERY_BYTES = 10 * _MB      # without a total there are no percents to step by


def _clock_text(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_text(label: str, done_bytes: int, total_bytes: int | None, speed_bytes_per_s: float) -> str:
    """One status line: percent, MB done/total, speed, ETA (parts that are unknown are left out)."""
    speed = f"{speed_bytes_per_s / _MB:.1f} MB/s"
    if not total_bytes:
        return f"{label}  {done_bytes / _MB:.1f} MB  {speed}"
    percent = min(100, done_bytes * 100 // total_bytes)
    left_bytes = max(0, total_bytes - done_bytes)
    eta = _clock_text(left_bytes / speed_bytes_per_s) if speed_bytes_per_s > 0 else "?"
    return (f"{label}  {percent:3d}%  {done_bytes / _MB:.1f}/{total_bytes / _MB:.1f} MB  "
            f"{speed}  ETA {eta}")


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """Reports bytes done for one download. `update()` often; `finish()` once at the end.

    `start_bytes` is what a resumed download already had: the speed counts only this run's bytes.
    The clock is injectable so tests get exact speeds and ETAs.
    """

    def __init__(self, label: str, total_bytes: int | None, *, stream: TextIO | None = None,
                 start_bytes: int = 0, clock: Callable[[], float] = time.monotonic,
                 redraw_every_s: float = 0.1, width_chars: int = 24) -> None:
        self.label = label
        self.total_bytes = total_bytes
        self.stream = stream if stream is not None else sys.stderr
        self.tty = _is_tty(self.stream)
        self._clock = clock
        self._start_s = clock()
        self._start_bytes = start_bytes
        self._done_bytes = start_bytes
        self._redraw_every_s = redraw_every_s
        self._width_chars = width_chars
        self._last_draw_s: float | None = None
        self._last_step = -1            # the last 10 % step (or 10 MB step) printed as a plain line
        self._drawn_chars = 0
        self._printed_bytes: int | None = None   # done_bytes of the last plain line

    def _speed(self) -> float:
        elapsed_s = self._clock() - self._start_s
        return (self._done_bytes - self._start_bytes) / elapsed_s if elapsed_s > 0 else 0.0

    def _step(self) -> int:
        if self.total_bytes:
            return min(10, self._done_bytes * 10 // self.total_bytes)
        return self._done_bytes // _UNKNOWN_TOTAL_LINE_EVERY_BYTES

    def _line(self) -> str:
        return progress_text(self.label, self._done_bytes, self.total_bytes, self._speed())

    def _redraw(self) -> None:
        text = self._line()
        if self.total_bytes:
            filled = min(self._width_chars, self._done_bytes * self._width_chars // self.total_bytes)
            text = f"[{'#' * filled}{'.' * (self._width_chars - filled)}] {text}"
        padding = " " * max(0, self._drawn_chars - len(text))
        self.stream.write(f"\r{text}{padding}")
        self.stream.flush()
        self._drawn_chars = len(text)
        self._last_draw_s = self._clock()

    def update(self, done_bytes: int) -> None:
        self._done_bytes = done_bytes
        if self.tty:
            now_s = self._clock()
            if self._last_draw_s is None or now_s - self._last_draw_s >= self._redraw_every_s:
                self._redraw()
            return
        step = self._step()
        if step > self._last_step:
            self._last_step = step
            self._print_line()

    def _print_line(self) -> None:
        self.stream.write(self._line() + "\n")
        self.stream.flush()
        self._printed_bytes = self._done_bytes

    def finish(self) -> None:
        """Draw the final state and end the line."""
        if self.tty:
            self._redraw()
            self.stream.write("\n")
            self.stream.flush()
        elif self._printed_bytes != self._done_bytes:
            self._print_line()
