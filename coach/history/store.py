"""SQLite history: each hold is committed the moment it ends, so a crash loses nothing finished.

The file is opened in WAL mode with one short transaction per write. A file that is not a coach
database (or is damaged) is reported and never overwritten.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from coach.errors import StoreError

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id          INTEGER PRIMARY KEY,
    user        TEXT NOT NULL DEFAULT 'default',
    routine     TEXT NOT NULL,
    started_at  TEXT NOT NULL,          -- ISO 8601, local time with offset
    ended_at    TEXT,
    status      TEXT NOT NULL,          -- running | finished | stopped | interrupted
    input       TEXT NOT NULL,          -- keys | voice
    voice       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS holds (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id),
    exercise    TEXT NOT NULL,
    set_no      INTEGER NOT NULL,
    target_s    REAL NOT NULL,
    held_s      REAL NOT NULL,
    ended_by    TEXT NOT NULL,          -- target | done | cant_hold | stop
    started_at  TEXT NOT NULL,
    UNIQUE (session_id, exercise, set_no)
);
CREATE INDEX IF NOT EXISTS holds_by_exercise ON holds (exercise, started_at);
"""


@dataclass(frozen=True)
class HoldRecord:
    session_id: int
    routine: str
    user: str
    exercise: str
    set: int
    target_s: float
    held_s: float
    ended_by: str
    started_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


@dataclass(frozen=True)
class SessionRecord:
    id: int
    user: str
    routine: str
    started_at: str
    ended_at: str | None
    status: str
    input: str
    voice: str
    holds: int


class Store:
    """The history database at `path` (created with its folder when missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            new = not path.exists()
            self._db = sqlite3.connect(str(path), timeout=5.0, isolation_level=None)
            if new:
                os.chmod(path, 0o600)
            self._db.execute("PRAGMA busy_timeout = 5000")
            self._check_and_migrate()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{path}: not a usable coach history ({err}); it was left untouched — "
                             "move it aside to start a new history, or pass --data-dir") from err
        except OSError as err:
            raise StoreError(f"{path}: cannot open the history ({err.strerror or err})") from err

    def _check_and_migrate(self) -> None:
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and tables:
            raise sqlite3.DatabaseError("it has tables but is not a coach database")
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"made by a newer coach (schema {version}); upgrade coach")
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("the file is damaged (quick_check failed)")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        if version == 0:
            db.executescript("BEGIN;" + _SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on error; SQLite errors become StoreError."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path}: cannot write the history ({err})") from err

    # -- writes --------------------------------------------------------------------------------
    def start_session(self, routine: str, started_at: datetime, input_mode: str, voice: str,
                      user: str = "default") -> int:
        with self._tx():
            cur = self._db.execute(
                "INSERT INTO sessions (user, routine, started_at, status, input, voice) "
                "VALUES (?, ?, ?, 'running', ?, ?)",
                (user, routine, started_at.isoformat(timespec="milliseconds"), input_mode, voice))
        return int(cur.lastrowid or 0)

    def record_hold(self, session_id: int, exercise: str, set_no: int, target_s: float,
                    held_s: float, ended_by: str, started_at: datetime) -> None:
        with self._tx():
            self._db.execute(
                "INSERT OR REPLACE INTO holds (session_id, exercise, set_no, target_s, held_s, ended_by, "
                "started_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, exercise, set_no, target_s, round(held_s, 3), ended_by,
                 started_at.isoformat(timespec="milliseconds")))

    def end_session(self, session_id: int, ended_at: datetime, status: str) -> None:
        with self._tx():
            self._db.execute("UPDATE sessions SET ended_at = ?, status = ? WHERE id = ?",
                             (ended_at.isoformat(timespec="milliseconds"), status, session_id))

    # -- reads ---------------------------------------------------------------------------------
    def holds(self, routine: str | None = None, exercise: str | None = None,
              user: str | None = None) -> list[HoldRecord]:
        sql = ("SELECT h.session_id, s.routine, s.user, h.exercise, h.set_no, h.target_s, h.held_s, "
               "h.ended_by, h.started_at FROM holds h JOIN sessions s ON s.id = h.session_id WHERE 1=1")
        args: list[object] = []
        for column, value in (("s.routine", routine), ("h.exercise", exercise), ("s.user", user)):
            if value is not None:
                sql += f" AND {column} = ?"
                args.append(value)
        sql += " ORDER BY h.started_at, h.id"
        try:
            return [HoldRecord(*row) for row in self._db.execute(sql, args)]
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path}: cannot read the history ({err})") from err

    def sessions(self) -> list[SessionRecord]:
        rows = self._db.execute(
            "SELECT s.id, s.user, s.routine, s.started_at, s.ended_at, s.status, s.input, s.voice, "
            "(SELECT COUNT(*) FROM holds h WHERE h.session_id = s.id) FROM sessions s ORDER BY s.id")
        return [SessionRecord(*row) for row in rows]

    def close(self) -> None:
        self._db.close()
