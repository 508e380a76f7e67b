"""`--events OUT.jsonl`: one JSON object per line, each with `t` (session seconds) and `type`.

This is a stable contract for outside tests (see the README). Lines are flushed as they are
written, and times are rounded to the millisecond so a replayed file gives identical bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from coach.errors import UsageError


class EventLog:
    def __init__(self, path: Path | None) -> None:
        self._file: IO[str] | None = None
        if path is not None:
            try:
                self._file = path.open("w", encoding="utf-8")
            except OSError as err:
                raise UsageError(f"{path}: cannot write the event log ({err.strerror or err})") from err

    def write(self, t: float, type_: str, **fields: Any) -> None:
        if self._file is None:
            return
        record = {"t": round(t, 3), "type": type_}
        record.update({k: (round(v, 3) if isinstance(v, float) else v) for k, v in fields.items()})
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
