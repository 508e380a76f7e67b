"""Who is carrying on which session: one lock per session, so two coaches never write one session.

The locks are POSIX record locks on one byte each (the session id as the offset) of one file in
the data folder, `sessions.lock`: no file per session to clean up, and the kernel drops a lock
when its process ends, however it ends (a crash leaves no stale lock). A process keeps one open
handle for all its locks (closing any handle to the file would drop them all).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = "sessions.lock"


class SessionLocks:
    """The sessions this process is running. `take(id)` is False when another process has it."""

    def __init__(self, data_dir: Path) -> None:
        self._fd: int | None = None
        self._held: set[int] = set()
        try:
            self._fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            self._fd = None         # a read-only or full disk: nothing can be written to clash with

    def take(self, session_id: int) -> bool:
        if self._fd is None or session_id in self._held:
            return True
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, session_id)
        except OSError:
            return False
        self._held.add(session_id)
        return True

    def release(self, session_id: int) -> None:
        if self._fd is None or session_id not in self._held:
            return
        self._held.discard(session_id)
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, session_id)
        except OSError:
            pass

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._held.clear()
