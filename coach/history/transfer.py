"""`coach export` and `coach import`: the whole history as CSV or JSON, and back, without loss.

Everything needed to restore is written: sessions (id, user, routine, times with their offsets,
status, input, voice), their holds, and the unlock decisions. Times are copied as the text the
store holds and numbers as Python's shortest exact form, so export -> import into an empty
history -> export gives the same bytes. Import is all or nothing (the file is checked before
anything is written) and idempotent: what is already there is counted as a duplicate, not added.

CSV: one header, then one row per record; `record` says which (session, hold or unlock) and the
columns that do not belong to that record stay empty. Or, with `what`, one tidy table: `sessions`
(one row per session, with how it felt) or `holds` (one row per hold, each with its session's user,
routine and start, by which a holds file is imported into sessions already in the history).
JSON: {"format": "coach-history", "version": 1, "sessions": [{..., "holds": [...]}], "unlocks": [...]}.
A session's `effort` (easy, okay, hard) and `pain` (CSV yes/no, JSON true/false) may be empty:
not asked, or not answered; files from before they existed still import.
"""

from __future__ import annotations

import bisect
import csv
import difflib
import io
import json
import json.decoder
import json.scanner
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from coach.errors import UsageError
from coach.history.store import (
    EFFORTS,
    ENDED_BY,
    STATUSES,
    UNLOCK_STATES,
    HoldRecord,
    MergeResult,
    SessionRecord,
    Store,
    UnlockRecord,
)

FORMATS = ("csv", "json")
JSON_FORMAT = "coach-history"
JSON_VERSION = 1
_MAX_BYTES = 200_000_000
_MAX_INT = 2**63 - 1        # SQLite's INTEGER range: larger ids cannot be stored
_MAX_DIGITS = 30            # longer numbers are not ours (and Python refuses > 4300 digits)

_SESSION = ("session_id", "user", "routine", "started_at", "ended_at", "status", "input", "voice", "effort",
            "pain")
_HOLD = ("session_id", "exercise", "set", "target_s", "held_s", "ended_by", "started_at")
_UNLOCK = ("user", "routine", "exercise", "state", "changed_at", "why")
CSV_COLUMNS = ("record", "session_id", "user", "routine", "started_at", "ended_at", "status", "input",
               "voice", "exercise", "set", "target_s", "held_s", "ended_by", "state", "changed_at", "why",
               "effort", "pain")
_LATER_COLUMNS = ("effort", "pain")     # not in files written before they existed
WHAT = ("sessions", "holds")            # `coach export --what`: one tidy table
SESSIONS_COLUMNS = _SESSION
HOLDS_COLUMNS = ("session_id", "user", "routine", "session_started_at", "exercise", "set", "target_s",
                 "held_s", "ended_by", "started_at")
_CSV_FIELDS = {"session": _SESSION, "hold": _HOLD, "unlock": _UNLOCK}

ImportResult = MergeResult      # sessions_added, holds_added, unlocks_added, skipped_duplicates


@dataclass(frozen=True)
class ExportResult:
    sessions: int
    holds: int
    unlocks: int


@dataclass(frozen=True)
class _Data:
    sessions: list[SessionRecord]
    holds: list[HoldRecord]             # session_id: the id in the file
    unlocks: list[UnlockRecord]


# -- export ------------------------------------------------------------------------------------
def export_holds(store: Store, fmt: str, out: TextIO, user: str | None = None,
                 what: str | None = None) -> ExportResult:
    """Write the history (one user's, or everyone's) to `out` as `fmt` ("csv" or "json"); `what`
    ("sessions" or "holds", CSV only) writes that one table."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format `{fmt}`; use csv or json")
    if what is not None and (what not in WHAT or fmt != "csv"):
        raise UsageError(f"--what {what}: choose sessions or holds, with --format csv" if what in WHAT
                         else f"--what {what}: choose sessions or holds")
    sessions = store.sessions(user=user)
    holds_of: dict[int, list[HoldRecord]] = {s.id: [] for s in sessions}
    for hold in store.holds(user=user):
        holds_of[hold.session_id].append(hold)
    unlocks = store.unlocks(user=user)
    if what == "sessions":
        _write_sessions_csv(out, sessions)
        return ExportResult(len(sessions), 0, 0)
    if what == "holds":
        _write_holds_csv(out, sessions, holds_of)
        return ExportResult(0, sum(len(h) for h in holds_of.values()), 0)
    if fmt == "csv":
        _write_csv(out, sessions, holds_of, unlocks)
    else:
        _write_json(out, sessions, holds_of, unlocks)
    return ExportResult(len(sessions), sum(len(h) for h in holds_of.values()), len(unlocks))


def _pain_text(pain: bool | None) -> str:
    return "" if pain is None else "yes" if pain else "no"


def _session_row(s: SessionRecord) -> dict[str, object]:
    return {"session_id": s.id, "user": s.user, "routine": s.routine, "started_at": s.started_at,
            "ended_at": s.ended_at or "", "status": s.status, "input": s.input, "voice": s.voice,
            "effort": s.effort or "", "pain": _pain_text(s.pain)}


def _write_sessions_csv(out: TextIO, sessions: list[SessionRecord]) -> None:
    writer = csv.DictWriter(out, fieldnames=SESSIONS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for s in sessions:
        writer.writerow(_session_row(s))


def _write_holds_csv(out: TextIO, sessions: list[SessionRecord],
                     holds_of: dict[int, list[HoldRecord]]) -> None:
    writer = csv.DictWriter(out, fieldnames=HOLDS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for s in sessions:
        for h in holds_of[s.id]:
            writer.writerow({"session_id": s.id, "user": s.user, "routine": s.routine,
                             "session_started_at": s.started_at, "exercise": h.exercise, "set": h.set,
                             "target_s": repr(h.target_s), "held_s": repr(h.held_s), "ended_by": h.ended_by,
                             "started_at": h.started_at})


def _write_csv(out: TextIO, sessions: list[SessionRecord], holds_of: dict[int, list[HoldRecord]],
               unlocks: list[UnlockRecord]) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for s in sessions:
        writer.writerow({"record": "session", **_session_row(s)})
        for h in holds_of[s.id]:
            writer.writerow({"record": "hold", "session_id": s.id, "exercise": h.exercise, "set": h.set,
                             "target_s": repr(h.target_s), "held_s": repr(h.held_s),
                             "ended_by": h.ended_by, "started_at": h.started_at})
    for u in unlocks:
        writer.writerow({"record": "unlock", "user": u.user, "routine": u.routine, "exercise": u.exercise,
                         "state": u.state, "changed_at": u.changed_at, "why": u.why})


def _write_json(out: TextIO, sessions: list[SessionRecord], holds_of: dict[int, list[HoldRecord]],
                unlocks: list[UnlockRecord]) -> None:
    doc = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "sessions": [
            {"id": s.id, "user": s.user, "routine": s.routine, "started_at": s.started_at,
             "ended_at": s.ended_at, "status": s.status, "input": s.input, "voice": s.voice,
             **({"effort": s.effort} if s.effort is not None else {}),
             **({"pain": s.pain} if s.pain is not None else {}),
             "holds": [{"exercise": h.exercise, "set": h.set, "target_s": float(h.target_s),
                        "held_s": float(h.held_s), "ended_by": h.ended_by, "started_at": h.started_at}
                       for h in holds_of[s.id]]}
            for s in sessions],
        "unlocks": [{"user": u.user, "routine": u.routine, "exercise": u.exercise, "state": u.state,
                     "changed_at": u.changed_at, "why": u.why} for u in unlocks],
    }
    out.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


# -- import ------------------------------------------------------------------------------------
def import_file(store: Store, path: Path) -> ImportResult:
    """Add a CSV or JSON export (told apart by its first character) to the history."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise UsageError(f"{path}: cannot read the file ({err.strerror or err})") from err
    if len(raw) > _MAX_BYTES:
        raise UsageError(f"{path}: the file is {len(raw)} bytes; that is too large for a coach export")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: not UTF-8 text (byte {err.start})") from err
    if not text.strip():
        raise UsageError(f"{path}: the file is empty")
    if text.lstrip().startswith("{"):
        data = _read_json(path, text)
    else:
        first = next(csv.reader(io.StringIO(text, newline="")), [])
        if first == list(HOLDS_COLUMNS):
            return _import_holds_table(store, path, text)
        data = _read_csv(path, text, tidy=first == list(SESSIONS_COLUMNS))
    return store.merge(data.sessions, data.holds, data.unlocks)


class _Fields:
    """One record of the file, read field by field; errors name the file, line, record and field."""

    def __init__(self, path: Path, line: int, where: str, values: Mapping[str, Any], from_text: bool):
        self.path, self.line, self.where, self.values, self.from_text = path, line, where, values, from_text

    def fail(self, key: str, message: str) -> NoReturn:
        raise UsageError(f"{self.path}:{self.line}: {self.where}{key}: {message}")

    def _raw(self, key: str, optional: bool) -> Any:
        value = self.values.get(key)
        if value is None or value == "":
            if not optional:
                self.fail(key, "missing")
            return None
        return value

    def text(self, key: str, optional: bool = False, max_len: int = 2000) -> str | None:
        value = self._raw(key, optional)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(key, f"must be text, got {_show(value)}")
        if len(value) > max_len:
            self.fail(key, f"is {len(value)} characters long; at most {max_len}")
        return value

    def required(self, key: str) -> str:
        value = self.text(key)
        assert value is not None
        return value

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self.required(key)
        if value not in options:
            close = difflib.get_close_matches(value, options, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            self.fail(key, f"must be one of {', '.join(options)}; got `{value}`{hint}")
        return value

    def moment(self, key: str, optional: bool = False) -> str | None:
        """ISO 8601 with a UTC offset, kept as the text it was (so it comes back out the same)."""
        value = self.text(key, optional, max_len=64)
        if value is None:
            return None
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            self.fail(key, f"must be a date and time like 2026-11-27T08:00:00.000+01:00, got `{value}`")
        if when.tzinfo is None:
            self.fail(key, f"`{value}` has no UTC offset (add one, like +01:00)")
        return value

    def integer(self, key: str, minimum: int = 1) -> int:
        value = self._raw(key, False)
        if self.from_text and isinstance(value, str):
            if len(value) > _MAX_DIGITS:
                self.fail(key, f"must be a whole number up to {_MAX_INT}, got {len(value)} characters")
            try:
                value = int(value)
            except ValueError:
                self.fail(key, f"must be a whole number, got {_show(value)}")
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be a whole number, got {_show(value)}")
        if value < minimum:
            self.fail(key, f"must be at least {minimum}, got {_show(value)}")
        if value > _MAX_INT:
            self.fail(key, f"must be at most {_MAX_INT}, got {_show(value)}")
        return value

    def seconds(self, key: str) -> float:
        value = self._raw(key, False)
        if self.from_text and isinstance(value, str):
            if len(value) > _MAX_DIGITS:
                self.fail(key, f"must be a number of seconds, got {len(value)} characters")
            try:
                value = float(value)
            except ValueError:
                self.fail(key, f"must be a number of seconds, got `{value}`")
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or (isinstance(value, float) and not math.isfinite(value)):
            self.fail(key, f"must be a number of seconds, got {_show(value)}")
        if not 0 <= value <= 86_400:
            shown = f"{value:g}" if abs(value) < 1e300 else _show(value)
            self.fail(key, f"must be between 0 and 86400 seconds, got {shown}")
        return float(value)

    def pain(self, key: str) -> bool | None:
        """CSV `yes` / `no` / empty; JSON true / false / absent."""
        value = self._raw(key, True)
        if value is None:
            return None
        if self.from_text and value in ("yes", "no"):
            return bool(value == "yes")
        if not self.from_text and isinstance(value, bool):
            return value
        self.fail(key, f"must be {'yes or no' if self.from_text else 'true or false'}, got {_show(value)}")

    def only(self, allowed: tuple[str, ...]) -> None:
        """JSON: reject keys that are not ours (a typo would otherwise lose data silently)."""
        for key in self.values:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                self.fail(key, f"unknown field{hint}")


class _Collector:
    """Builds records from `_Fields` and checks what spans records (ids, references)."""

    def __init__(self, path: Path):
        self.path = path
        self.sessions: list[SessionRecord] = []
        self.by_id: dict[int, SessionRecord] = {}
        self.holds: list[tuple[_Fields, int, HoldRecord]] = []
        self.unlocks: list[UnlockRecord] = []

    def session(self, f: _Fields, id_key: str, hold_count: int) -> int:
        session_id = f.integer(id_key)
        if session_id in self.by_id:
            f.fail(id_key, f"session {session_id} appears twice")
        record = SessionRecord(
            id=session_id, user=f.required("user"), routine=f.required("routine"),
            started_at=f.moment("started_at") or "", ended_at=f.moment("ended_at", optional=True),
            status=f.choice("status", STATUSES), input=f.required("input"), voice=f.required("voice"),
            holds=hold_count, effort=f.choice("effort", EFFORTS) if f.values.get("effort") else None,
            pain=f.pain("pain"))
        self.by_id[session_id] = record
        self.sessions.append(record)
        return session_id

    def hold(self, f: _Fields, session_id: int) -> None:
        record = HoldRecord(
            session_id=session_id, routine="", user="", exercise=f.required("exercise"),
            set=f.integer("set"), target_s=f.seconds("target_s"), held_s=f.seconds("held_s"),
            ended_by=f.choice("ended_by", ENDED_BY), started_at=f.moment("started_at") or "")
        self.holds.append((f, session_id, record))

    def unlock(self, f: _Fields) -> None:
        self.unlocks.append(UnlockRecord(
            user=f.required("user"), routine=f.required("routine"), exercise=f.required("exercise"),
            state=f.choice("state", UNLOCK_STATES), changed_at=f.moment("changed_at") or "",
            why=f.text("why", optional=True) or ""))

    def data(self, session_key: str) -> _Data:
        holds = []
        for f, session_id, hold in self.holds:
            session = self.by_id.get(session_id)
            if session is None:
                f.fail(session_key, f"no session {session_id} in this file")
            holds.append(HoldRecord(session_id, session.routine, session.user, hold.exercise, hold.set,
                                    hold.target_s, hold.held_s, hold.ended_by, hold.started_at))
        return _Data(self.sessions, holds, self.unlocks)


def _read_csv(path: Path, text: str, tidy: bool = False) -> _Data:
    """The combined CSV, or (`tidy`) the sessions table."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        if tidy:
            collect = _Collector(path)
            for row in _rows(path, reader, header):
                collect.session(_Fields(path, reader.line_num, "", row, from_text=True), "session_id", 0)
            return collect.data("session_id")
        missing = [c for c in CSV_COLUMNS if c not in header and c not in _LATER_COLUMNS]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise UsageError(f"{path}:1: not a coach CSV export: missing column{plural} {', '.join(missing)} "
                             f"(the header is: {','.join(CSV_COLUMNS)})")
        extra = [c for c in header if c not in CSV_COLUMNS]
        if extra or len(set(header)) != len(header):
            raise UsageError(f"{path}:1: unknown or repeated column `{(extra or header)[0]}`; "
                             f"the header is: {','.join(CSV_COLUMNS)}")
        collect = _Collector(path)
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise UsageError(f"{path}:{line}: {_columns(len(row))} where the header has {len(header)}")
            f = _Fields(path, line, "", dict(zip(header, row, strict=True)), from_text=True)
            kind = f.choice("record", tuple(_CSV_FIELDS))
            for column in CSV_COLUMNS[1:]:
                if column not in _CSV_FIELDS[kind] and f.values.get(column, "") != "":
                    f.fail(column, f"must be empty in a {kind} row")
            if kind == "session":
                collect.session(f, "session_id", 0)
            elif kind == "hold":
                collect.hold(f, f.integer("session_id"))
            else:
                collect.unlock(f)
    except csv.Error as err:
        raise UsageError(f"{path}:{reader.line_num}: not valid CSV: {err}") from err
    return collect.data("session_id")


def _rows(path: Path, reader: Any, header: list[str]) -> Any:
    """The rows of a tidy table, as dicts, skipping blank lines; a short or long row is an error."""
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise UsageError(f"{path}:{reader.line_num}: {_columns(len(row))} where the header has "
                             f"{len(header)}")
        yield dict(zip(header, row, strict=True))


def _import_holds_table(store: Store, path: Path, text: str) -> ImportResult:
    """A `--what holds` file: every hold into its session, found in the history by user, routine
    and start (import the sessions file first)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = next(reader)
    known = {(s.user, s.routine, s.started_at): s.id for s in store.sessions()}
    holds: list[HoldRecord] = []
    try:
        for row in _rows(path, reader, header):
            f = _Fields(path, reader.line_num, "", row, from_text=True)
            key = (f.required("user"), f.required("routine"), f.moment("session_started_at") or "")
            if key not in known:
                f.fail("session_started_at", f"no session of {key[1]} for {key[0]} started at {key[2]} in "
                       "the history; import the sessions file (coach export --what sessions) first")
            holds.append(HoldRecord(known[key], key[1], key[0], f.required("exercise"), f.integer("set"),
                                    f.seconds("target_s"), f.seconds("held_s"),
                                    f.choice("ended_by", ENDED_BY), f.moment("started_at") or ""))
    except csv.Error as err:
        raise UsageError(f"{path}:{reader.line_num}: not valid CSV: {err}") from err
    return store.merge([], holds, [], known_ids=frozenset(known.values()))


_SESSION_KEYS = ("id", "user", "routine", "started_at", "ended_at", "status", "input", "voice", "holds",
                 "effort", "pain")
_HOLD_KEYS = ("exercise", "set", "target_s", "held_s", "ended_by", "started_at")
_TOP_KEYS = ("format", "version", "sessions", "unlocks")


def _read_json(path: Path, text: str) -> _Data:
    try:
        doc = _load_json_with_lines(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"{path}:{err.lineno}: not valid JSON: {err.msg}") from err
    except RecursionError as err:
        raise UsageError(f"{path}: nested too deeply to be a coach export") from err
    except ValueError as err:           # a number of thousands of digits
        raise UsageError(f"{path}: not a coach export: {str(err).splitlines()[0]}") from err
    if not isinstance(doc, dict):
        raise UsageError(f"{path}:1: not a coach export: the file must be a JSON object {{...}}")
    top = _Fields(path, getattr(doc, "line", 1), "", doc, from_text=False)
    if doc.get("format") != JSON_FORMAT:
        top.fail("format", f"must be `{JSON_FORMAT}`: this is not a coach export")
    if doc.get("version") != JSON_VERSION:
        top.fail("version", f"this coach reads version {JSON_VERSION}, got {_show(doc.get('version'))}; "
                 "upgrade coach")
    top.only(_TOP_KEYS)
    collect = _Collector(path)
    for i, item in enumerate(_list(top, "sessions")):
        where = f"sessions[{i}]."
        f = _record(path, item, where, top)
        f.only(_SESSION_KEYS)
        holds = _list(f, "holds")
        session_id = collect.session(f, "id", len(holds))
        for j, hold in enumerate(holds):
            h = _record(path, hold, f"{where}holds[{j}].", f)
            h.only(_HOLD_KEYS)
            collect.hold(h, session_id)
    for i, item in enumerate(_list(top, "unlocks")):
        u = _record(path, item, f"unlocks[{i}].", top)
        u.only(_UNLOCK)
        collect.unlock(u)
    return collect.data("id")


def _list(f: _Fields, key: str) -> list[Any]:
    value = f.values.get(key, [])
    if not isinstance(value, list):
        f.fail(key, f"must be a list, got {_show(value)}")
    return value


def _record(path: Path, item: Any, where: str, parent: _Fields) -> _Fields:
    if not isinstance(item, dict):
        parent.fail(where.rstrip("."), f"must be an object {{...}}, got {_show(item)}")
    return _Fields(path, getattr(item, "line", parent.line), where, item, from_text=False)


class _LinedDict(dict):  # type: ignore[type-arg]
    """A JSON object that knows the line its `{` is on."""

    line = 1


def _load_json_with_lines(text: str) -> Any:
    """json.loads, but every object carries `.line`, so errors can name the line (pure-Python scanner)."""
    newlines = [i for i, c in enumerate(text) if c == "\n"]
    decoder = json.JSONDecoder()

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        obj, end = json.decoder.JSONObject(s_and_end, *args)  # type: ignore[attr-defined]
        lined = _LinedDict(obj)
        lined.line = bisect.bisect_left(newlines, s_and_end[1] - 1) + 1
        return lined, end

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder.decode(text)


def _columns(count: int) -> str:
    return f"{count} column" if count == 1 else f"{count} columns"


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**_MAX_DIGITS:
        return f"a number of {len(str(abs(value))) if abs(value) < 10**4000 else 'thousands of'} digits"
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return f"`{text if len(text) <= 40 else text[:37] + '...'}`"
