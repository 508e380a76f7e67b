"""`--events OUT.jsonl`: one JSON object per line, each with `t` (session seconds) and `type`.

This is a stable contract for outside tests (see the README). Lines are flushed as they are
written, and times are rounded to the millisecond so a replayed file gives identical bytes.
The file is created 0600 (it is a transcript of the user's session). When the disk fills, the
log stops with one warning: a log must never end the session.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from coach.errors import UsageError
from coach.paths import open_private


class EventLog:
    def __init__(self, path: Path | None, warn: Callable[[str], None] | None = None) -> None:
        self._file: IO[str] | None = None
        self._path = path
        self._warn = warn or (lambda text: print(f"coach: {text}", file=sys.stderr, flush=True))
        if path is not None:
            try:
                self._file = open_private(path)
            except OSError as err:
                raise UsageError(f"{path}: cannot write the event log ({err.strerror or err})") from err

    def write(self, t: float, type_: str, **fields: Any) -> None:
        if self._file is None:
            return
        record = {"t": round(t, 3), "type": type_}
        record.update({k: (round(v, 3) if isinstance(v, float) else v) for k, v in fields.items()})
        try:
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._file.flush()
        except OSError as err:
            self._give_up(err)

    def _give_up(self, err: OSError) -> None:
        self._warn(f"{self._path}: event log stopped ({err.strerror or err}); the session goes on")
        file, self._file = self._file, None
        try:
            if file is not None:
                file.close()
        except OSError:
            pass

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as err:
                self._give_up(err)
            self._file = None
