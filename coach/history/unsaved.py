"""Holds the history could not take (a full or read-only disk) kept in a file `coach import` reads.

The file is a `coach export --format json` document with the one session (user, routine, times,
status) and its unsaved holds, so `coach import FILE` puts them back once the disk has room;
holds already in the history are counted as duplicates. It is created with O_CREAT|O_EXCL and
mode 0600 (never through a planted symlink or over an existing file), in the first place that
takes it: the data folder, then $XDG_RUNTIME_DIR, then a new private folder from mkdtemp.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from coach.vocab import EndedBy, SessionStatus

JSON_FORMAT = "coach-history"   # the same document as coach.history.transfer writes
JSON_VERSION = 1


class UnsavedHold(Protocol):
    """What a kept hold must carry (coach.session.HoldEnded has it)."""

    @property
    def exercise(self) -> str: ...
    @property
    def set(self) -> int: ...
    @property
    def target_s(self) -> float: ...
    @property
    def held_s(self) -> float: ...
    @property
    def ended_by(self) -> str: ...
    @property
    def started_t(self) -> float: ...


@dataclass(frozen=True)
class SessionInfo:
    user: str
    routine: str
    started_at: datetime        # the session's start; hold times are this plus session seconds
    input_mode: str
    voice: str


def unsaved_document(holds: Sequence[UnsavedHold], session: SessionInfo, status: str,
                     ended_at: datetime | None, session_started_at: datetime | None = None,
                     effort: str | None = None, pain: bool | None = None) -> str:
    """The JSON text `coach import` reads back. Holds are stamped `session.started_at` plus their
    session time; the session row keeps `session_started_at` when the history already has it
    (a resumed session), so the import adds the holds to it instead of a new session. `effort` and
    `pain` (how the session felt) go with the session; importing fills them in where it has none."""
    stamp = session.started_at
    row_start = session_started_at or stamp

    def at(when: datetime) -> str:
        return when.isoformat(timespec="milliseconds")

    doc = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "sessions": [{
            "id": 1, "user": session.user, "routine": session.routine, "started_at": at(row_start),
            "ended_at": at(ended_at) if ended_at is not None else None,
            "status": SessionStatus(status).value, "input": session.input_mode, "voice": session.voice,
            **({"effort": effort} if effort is not None else {}),
            **({"pain": pain} if pain is not None else {}),
            "holds": [{"exercise": h.exercise, "set": h.set, "target_s": float(h.target_s),
                       "held_s": round(float(h.held_s), 3), "ended_by": EndedBy(h.ended_by).value,
                       "started_at": at(stamp + timedelta(seconds=h.started_t))} for h in holds],
        }],
        "unlocks": [],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def keep_unsaved(text: str, data_dir: Path, env: Mapping[str, str], now: datetime) -> Path:
    """Write `text` to a new private file; the first place that takes it. Raises OSError when none
    does (the caller then has only the terminal left)."""
    name = f"coach-unsaved-{now:%Y%m%d-%H%M%S}"
    places: list[Path] = [data_dir]
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        places.append(Path(runtime))
    last: OSError | None = None
    for folder in places:
        try:
            return _write_new(folder, name, text)
        except OSError as err:
            last = err
    try:
        private = Path(tempfile.mkdtemp(prefix="coach-unsaved-"))     # 0700, a new name
        return _write_new(private, name, text)
    except OSError as err:
        raise (last or err) from err


def _write_new(folder: Path, name: str, text: str) -> Path:
    """O_CREAT|O_EXCL|O_NOFOLLOW, 0600; another name when one is taken; flushed to the disk."""
    data = text.encode("utf-8")
    for n in range(100):
        path = folder / (f"{name}.json" if n == 0 else f"{name}-{n}.json")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:
            continue                    # a file, a folder or a symlink is there: never touch it
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except OSError:
            os.close(fd)
            path.unlink(missing_ok=True)    # a half file would only confuse `coach import`
            raise
        os.close(fd)
        return path
    raise FileExistsError(f"{folder}: too many unsaved-hold files named {name}")
