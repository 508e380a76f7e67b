"""SQLite history: each hold is committed the moment it ends, so a crash loses nothing finished.

The file is opened in WAL mode with one short transaction per write. A file that is not a coach
database (or is damaged) is reported and never overwritten. An older file is migrated in place,
all steps in one transaction, so it is either fully upgraded or untouched.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from coach.errors import StoreError
from coach.vocab import Effort, EndedBy, SessionStatus, UnlockState, values

SCHEMA_VERSION = 3
BUSY_TIMEOUT_S = 5.0    # how long a write waits for another coach's write to finish
_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS sessions (
    id          INTEGER PRIMARY KEY,
    user        TEXT NOT NULL DEFAULT 'default',
    routine     TEXT NOT NULL,
    started_at  TEXT NOT NULL,          -- ISO 8601, local time with offset
    ended_at    TEXT,
    status      TEXT NOT NULL,          -- a coach.vocab.SessionStatus
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
# v2: who unlocked which advanced exercise, as a log of changes (the latest row is the state).
_SCHEMA_V2 = """
CREATE TABLE IF NOT EXISTS unlocks (
    id          INTEGER PRIMARY KEY,
    user        TEXT NOT NULL,
    routine     TEXT NOT NULL,
    exercise    TEXT NOT NULL,          -- the advanced exercise
    state       TEXT NOT NULL CHECK (state IN ('offered', 'unlocked', 'locked')),
    changed_at  TEXT NOT NULL,          -- ISO 8601, local time with offset
    why         TEXT NOT NULL DEFAULT '',
    UNIQUE (user, routine, exercise, state, changed_at)
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user, routine, started_at);
"""
# v3: how the session felt, asked after the last set (NULL: not asked, or not answered).
_SCHEMA_V3 = """
ALTER TABLE sessions ADD COLUMN effort TEXT CHECK (effort IN ('easy', 'okay', 'hard'));
ALTER TABLE sessions ADD COLUMN pain INTEGER CHECK (pain IN (0, 1));
"""
_MIGRATIONS = {0: _SCHEMA_V1, 1: _SCHEMA_V2, 2: _SCHEMA_V3}     # from version N to N + 1
_TABLES = {0: set(), 1: {"sessions", "holds"}, 2: {"sessions", "holds", "unlocks"},
           3: {"sessions", "holds", "unlocks"}}  # at version N
UNLOCK_STATES = values(UnlockState)
STATUSES = values(SessionStatus)
ENDED_BY = values(EndedBy)
EFFORTS = values(Effort)


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

    def to_json(self, **more: object) -> str:
        return json.dumps({**asdict(self), **more}, ensure_ascii=False)


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
    effort: str | None = None       # easy | okay | hard, the answer to "how did that feel?"
    pain: bool | None = None        # the answer to "any pain?"


@dataclass(frozen=True)
class UnlockRecord:
    """One change of an advanced exercise's state for a user: offered, unlocked or locked."""

    user: str
    routine: str
    exercise: str
    state: str                  # offered | unlocked | locked
    changed_at: str             # ISO 8601 with offset
    why: str


@dataclass(frozen=True)
class MergeResult:
    sessions_added: int
    holds_added: int
    unlocks_added: int
    skipped_duplicates: int


class HistoryUnwritable(StoreError):
    """The history is fine but cannot be written now: a full disk, or a read-only folder or file.
    Its data is not in danger; it can still be read (`Store(path, read_only=True)`)."""


class HoldConflict(StoreError):
    """Another process already recorded this set of this session: it is never overwritten."""


# SQLite errors that say the file is not a usable database (the only ones that may say "move it aside")
_DAMAGED = {"SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_CORRUPT_INDEX", "SQLITE_CORRUPT_SEQUENCE",
            "SQLITE_CORRUPT_VTAB"}
# The file opened but its schema would not take a statement (a migration that failed half way):
# the file, not the disk, is the problem, and it was left as it was.
_UNUSABLE = _DAMAGED | {"SQLITE_ERROR"}
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


class _Refused(sqlite3.DatabaseError):
    """Our own checks: the file is not a coach history (another program's, damaged, newer)."""


class Store:
    """The history database at `path` (created with its folder when missing).

    `read_only`: open an existing file for reading only (`history`, `status`, `export` on a full
    disk or a read-only folder); writes raise HistoryUnwritable. `in_memory`: an empty history
    that lives only as long as the process (a session that runs although nothing can be written).
    """

    read_only = False
    in_memory = False
    _version = SCHEMA_VERSION

    def __init__(self, path: Path, read_only: bool = False, in_memory: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.in_memory = in_memory
        self._version = SCHEMA_VERSION
        db: sqlite3.Connection | None = None
        try:
            if in_memory:
                db = self._db = sqlite3.connect(":memory:", isolation_level=None)
                self._migrate()
                self.read_only = True       # never "save" a hold where it would be lost on exit
                return
            if read_only:
                db = self._db = self._connect_read_only(path)
                self._check_and_migrate()
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                raise StoreError(f"{path}: is a folder, not a history file; move it aside, "
                                 "or pass --data-dir")
            new = not path.exists()
            db = self._db = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
            if new:
                os.chmod(path, 0o600)
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._check_and_migrate()
        except sqlite3.DatabaseError as err:
            if db is not None:          # no -wal/-shm left beside a file that was refused
                db.close()
            if _is_full(err):
                raise HistoryUnwritable(f"{path}: the disk is full, so the history cannot be written "
                                        f"({err}); nothing in it is lost: free some space") from err
            if isinstance(err, _Refused) or getattr(err, "sqlite_errorname", "") in _UNUSABLE:
                raise StoreError(f"{path}: not a usable coach history ({err}); it was left untouched — "
                                 "move it aside to start a new history, or pass --data-dir") from err
            raise HistoryUnwritable(f"{path}: cannot open the history for writing ({err}); check that "
                                    f"you can write to {path.parent} and that the disk has room, or pass "
                                    "--data-dir") from err
        except OSError as err:
            if db is not None:
                db.close()
            if err.errno in _FULL_ERRNOS:
                raise HistoryUnwritable(f"{path}: the disk is full ({err.strerror}); nothing in the "
                                        "history is lost: free some space") from err
            raise HistoryUnwritable(f"{path}: cannot open the history ({err.strerror or err})") from err

    @classmethod
    def scratch_copy(cls, path: Path) -> Store:
        """`--dry-run`: an in-memory copy of the history at `path` (empty when there is none) that
        takes every write and forgets it at exit; the file is only read."""
        store = cls(path, in_memory=True)
        store.read_only = False
        if path.is_file():
            source = cls(path, read_only=True)
            try:
                source._db.backup(store._db)
            finally:
                source.close()
        return store

    @staticmethod
    def _connect_read_only(path: Path) -> sqlite3.Connection:
        """mode=ro; when even that needs a write (the -shm of a WAL file in a read-only folder),
        immutable=1: nothing can change the file there anyway."""
        if not path.is_file():
            raise sqlite3.OperationalError("unable to open database file (no history file)")
        uri = path.resolve().as_uri()
        try:
            db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
            db.execute("PRAGMA user_version").fetchone()
            return db
        except sqlite3.DatabaseError as err:
            if getattr(err, "sqlite_errorname", "") in _DAMAGED:
                raise
            return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)

    def _check_and_migrate(self) -> None:
        db = self._db
        db.execute("BEGIN")     # one snapshot: another coach may be creating this file right now
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")
        self._version = version
        if version == 0 and tables:
            raise _Refused("it has tables but is not a coach database")
        if version > SCHEMA_VERSION:
            raise _Refused(f"made by a newer coach (schema {version}); upgrade coach")
        if version < 0:
            raise _Refused(f"it is not a coach database (user_version {version})")
        missing = sorted(_TABLES[version] - tables)
        if missing:     # another program's file that happens to set user_version: do not touch it
            raise _Refused(f"it is not a coach database (no {', '.join(missing)} "
                                        f"table{'s' if len(missing) > 1 else ''})")
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise _Refused("the file is damaged (quick_check failed)")
        if self.read_only:
            return
        self._use_wal()
        # FULL, not NORMAL: in WAL mode NORMAL syncs only at checkpoints, so a power cut could take
        # holds that were already reported as saved. FULL syncs the WAL at every commit.
        db.execute("PRAGMA synchronous = FULL")
        if version < SCHEMA_VERSION:
            self._migrate()

    def _use_wal(self) -> None:
        """Switch to WAL. The switch needs the file to itself, and SQLite does not wait for that
        (no busy timeout): two coaches creating the history at once would see "database is locked"."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _migrate(self) -> None:
        """Every step from the file's version to ours in one transaction (re-read under the lock,
        so two coaches opening the same old file do not both migrate it)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            while version < SCHEMA_VERSION:
                for statement in _statements(_MIGRATIONS[version]):
                    db.execute(statement)
                version += 1
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
            self._version = SCHEMA_VERSION
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on error; SQLite errors become StoreError."""
        db = self._db
        if self.read_only:
            raise HistoryUnwritable(f"{self.path}: the history is open for reading only")
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
            if _is_full(err):
                raise HistoryUnwritable(f"{self.path}: the disk is full ({err})") from err
            if getattr(err, "sqlite_errorname", "") in _DAMAGED:
                raise StoreError(f"{self.path}: cannot write the history ({err})") from err
            raise HistoryUnwritable(f"{self.path}: cannot write the history ({err})") from err

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
        ended_by = EndedBy(ended_by).value      # ValueError for a word the history does not know
        row = (session_id, exercise, set_no, target_s, round(held_s, 3), ended_by,
               started_at.isoformat(timespec="milliseconds"))
        with self._tx():
            cur = self._db.execute(
                "INSERT OR IGNORE INTO holds (session_id, exercise, set_no, target_s, held_s, ended_by, "
                "started_at) VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            if cur.rowcount == 0:       # there already: the same hold again (a retry) is fine
                there = self._db.execute(
                    "SELECT session_id, exercise, set_no, target_s, held_s, ended_by, started_at FROM holds "
                    "WHERE session_id = ? AND exercise = ? AND set_no = ?", row[:3]).fetchone()
                if tuple(there) != row:
                    raise HoldConflict(f"{self.path}: set {set_no} of {exercise} in session {session_id} "
                                       "is already in the history (another coach is carrying on this "
                                       "session); it was not overwritten")

    def record_effort(self, session_id: int, effort: str) -> None:
        """The answer to "how did that feel?" (a `coach.vocab.Effort` value)."""
        effort = Effort(effort).value
        with self._tx():
            self._db.execute("UPDATE sessions SET effort = ? WHERE id = ?", (effort, session_id))

    def record_pain(self, session_id: int, pain: bool) -> None:
        """The answer to "any pain?"."""
        with self._tx():
            self._db.execute("UPDATE sessions SET pain = ? WHERE id = ?", (int(bool(pain)), session_id))

    def end_session(self, session_id: int, ended_at: datetime, status: str) -> None:
        status = SessionStatus(status).value    # only what export/import know is ever written
        with self._tx():
            self._db.execute("UPDATE sessions SET ended_at = ?, status = ? WHERE id = ?",
                             (ended_at.isoformat(timespec="milliseconds"), status, session_id))

    # -- reads ---------------------------------------------------------------------------------
    def drop_session_if_empty(self, session_id: int) -> None:
        """Remove a session row that never got a hold (it was replaced by a resumed one)."""
        with self._tx():
            self._db.execute("DELETE FROM sessions WHERE id = ? AND NOT EXISTS "
                             "(SELECT 1 FROM holds WHERE session_id = ?)", (session_id, session_id))

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

    def sessions(self, user: str | None = None, routine: str | None = None) -> list[SessionRecord]:
        feel = "s.effort, s.pain" if self._version >= 3 else "NULL, NULL"   # an old file read-only
        sql = ("SELECT s.id, s.user, s.routine, s.started_at, s.ended_at, s.status, s.input, s.voice, "
               f"(SELECT COUNT(*) FROM holds h WHERE h.session_id = s.id), {feel} FROM sessions s WHERE 1=1")
        args: list[object] = []
        for column, value in (("s.user", user), ("s.routine", routine)):
            if value is not None:
                sql += f" AND {column} = ?"
                args.append(value)
        return [_session(row) for row in self._read(sql + " ORDER BY s.id", args)]

    def users(self) -> list[str]:
        """Everyone with a session or an unlock, sorted."""
        rows = self._read("SELECT user FROM sessions UNION SELECT user FROM unlocks ORDER BY 1", [])
        return [row[0] for row in rows]

    # -- unlocks (schema 2) ----------------------------------------------------------------------
    def record_unlock(self, user: str, routine: str, exercise: str, state: str, changed_at: datetime,
                      why: str = "") -> None:
        """Append a state change; the latest one (by time) is the exercise's state for `user`."""
        if state not in UNLOCK_STATES:
            raise ValueError(f"unlock state must be one of {UNLOCK_STATES}, got {state!r}")
        with self._tx():
            self._db.execute(
                "INSERT OR IGNORE INTO unlocks (user, routine, exercise, state, changed_at, why) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (user, routine, exercise, state, changed_at.isoformat(timespec="milliseconds"), why))

    def unlocks(self, user: str | None = None, routine: str | None = None,
                exercise: str | None = None) -> list[UnlockRecord]:
        """Every change, oldest first in real time (not text order: offsets differ across a DST change),
        ties in the order they were written."""
        if self._version < 2:       # an old file opened read-only (not migrated): no unlocks yet
            return []
        sql = "SELECT user, routine, exercise, state, changed_at, why FROM unlocks WHERE 1=1"
        args: list[object] = []
        for column, value in (("user", user), ("routine", routine), ("exercise", exercise)):
            if value is not None:
                sql += f" AND {column} = ?"
                args.append(value)
        records = [UnlockRecord(*row) for row in self._read(sql + " ORDER BY id", args)]
        return sorted(records, key=lambda u: datetime.fromisoformat(u.changed_at))

    def unlock_state(self, user: str, routine: str, exercise: str) -> UnlockRecord | None:
        """The latest change for this user's exercise, or None when it was never offered."""
        changes = self.unlocks(user=user, routine=routine, exercise=exercise)
        return changes[-1] if changes else None

    # -- import --------------------------------------------------------------------------------
    def merge(self, sessions: Iterable[SessionRecord], holds: Iterable[HoldRecord],
              unlocks: Iterable[UnlockRecord], known_ids: frozenset[int] = frozenset()) -> MergeResult:
        """Add what is not here yet, in one transaction; idempotent.

        A session is the same when user, routine and started_at match; it keeps its id when that
        id is free. Holds refer to sessions by the ids given here (`HoldRecord.session_id`); a hold
        is the same when its session, exercise and set match. Unlock changes match on every field
        but `why`. Counts what was added and what was already there. `known_ids`: sessions of this
        history the holds may refer to directly (a holds table imported on its own).
        """
        added_sessions = added_holds = added_unlocks = skipped = 0
        db = self._db
        with self._tx():
            ids: dict[int, int] = {i: i for i in known_ids}     # sessions already here, by their own id
            for s in sessions:
                row = db.execute("SELECT id FROM sessions WHERE user = ? AND routine = ? AND started_at = ?",
                                 (s.user, s.routine, s.started_at)).fetchone()
                if row is not None:
                    ids[s.id] = int(row[0])
                    skipped += 1
                    if s.effort is not None or s.pain is not None:     # answers it could not save then
                        pain = None if s.pain is None else int(s.pain)
                        db.execute("UPDATE sessions SET effort = COALESCE(effort, ?), "
                                   "pain = COALESCE(pain, ?) WHERE id = ?", (s.effort, pain, row[0]))
                    continue
                taken = db.execute("SELECT 1 FROM sessions WHERE id = ?", (s.id,)).fetchone()
                cur = db.execute(
                    "INSERT INTO sessions (id, user, routine, started_at, ended_at, status, input, voice, "
                    "effort, pain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (None if taken else s.id, s.user, s.routine, s.started_at, s.ended_at, s.status,
                     s.input, s.voice, s.effort, None if s.pain is None else int(s.pain)))
                ids[s.id] = int(cur.lastrowid or 0)
                added_sessions += 1
            for h in holds:
                if h.session_id not in ids:
                    raise ValueError(f"a hold refers to session {h.session_id}, which is not being merged")
                cur = db.execute(
                    "INSERT OR IGNORE INTO holds (session_id, exercise, set_no, target_s, held_s, ended_by, "
                    "started_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (ids[h.session_id], h.exercise, h.set, h.target_s, h.held_s, h.ended_by, h.started_at))
                added_holds += cur.rowcount
                skipped += 1 - cur.rowcount
            for u in unlocks:
                cur = db.execute(
                    "INSERT OR IGNORE INTO unlocks (user, routine, exercise, state, changed_at, why) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (u.user, u.routine, u.exercise, u.state, u.changed_at, u.why))
                added_unlocks += cur.rowcount
                skipped += 1 - cur.rowcount
        return MergeResult(added_sessions, added_holds, added_unlocks, skipped)

    def _read(self, sql: str, args: list[object]) -> list[tuple]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path}: cannot read the history ({err})") from err

    def close(self) -> None:
        self._db.close()


def open_for_reading(path: Path) -> Store:
    """The history for commands that only read it: writable when it can be, else read-only (a
    full disk or a read-only folder must not stop `history`, `status` or `export`)."""
    try:
        return Store(path)
    except HistoryUnwritable:
        return Store(path, read_only=True)


_CONTROL = {c: None for c in [*range(0, 32), 127, *range(0x80, 0xA0)] if chr(c) not in "\t"}
_CONTROL.update({c: None for c in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))})


def printable(text: str) -> str:
    """`text` without control characters (escape sequences, bidi overrides) for the terminal: an
    imported history must not be able to move the cursor or recolour what `coach history` prints."""
    return text.translate(_CONTROL)


def _session(row: tuple) -> SessionRecord:
    (id_, user, routine, started_at, ended_at, status, input_mode, voice, holds, effort, pain) = row
    return SessionRecord(id_, user, routine, started_at, ended_at, status, input_mode, voice, holds,
                         effort, None if pain is None else bool(pain))


def _is_full(err: sqlite3.DatabaseError) -> bool:
    name = getattr(err, "sqlite_errorname", "")
    return name == "SQLITE_FULL" or "disk is full" in str(err)


def _statements(script: str) -> list[str]:
    """The statements of a schema script (no `;` inside them, comments are `--` to line end)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [stmt.strip() for stmt in "\n".join(lines).split(";") if stmt.strip()]
