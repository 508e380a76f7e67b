"""`coach export` / `coach import` on real SQLite files: lossless round trips in both formats,
idempotent imports, merging into a history that already has data, and one-line errors for
damaged files that leave the history untouched."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from coach.errors import UsageError
from coach.history.store import Store
from coach.history.transfer import CSV_COLUMNS, ExportResult, ImportResult, export_holds, import_file

LONDON = ZoneInfo("Europe/London")
SEOUL = ZoneInfo("Asia/Seoul")


def fill(store: Store) -> None:
    """Two people, a week of sessions (one across a DST change), awkward numbers and text."""
    for day, held in ((20, [41.8, 38.25, 35.001]), (21, [45.0, 40.0, 33.3]), (22, [60.0, 59.999, 47.5])):
        start = datetime(2026, 11, day, 7, 58, 3, 250000, tzinfo=LONDON)
        sid = store.start_session("glutes", start, "keys", "en-us", user="ana")
        for set_no, held_s in enumerate(held, 1):
            store.record_hold(sid, "bridge", set_no, 60.0, held_s, "target" if held_s >= 60 else "cant_hold",
                              start + timedelta(minutes=2 * set_no))
        store.end_session(sid, start + timedelta(minutes=9), "finished")
    # Around the clocks going back in London: same wall-clock hour, two offsets.
    for hour in (0, 1):
        start = datetime(2026, 10, 25, 1, 30, tzinfo=timezone(timedelta(hours=hour)))
        sid = store.start_session("glutes", start, "voice", "ko", user="민준")
        store.record_hold(sid, "bridge", 1, 30.0, 12.5 + hour, "done", start + timedelta(seconds=30))
        store.end_session(sid, start + timedelta(minutes=3), "stopped")
    store.start_session("glutes", datetime(2026, 11, 23, 8, 0, tzinfo=SEOUL), "keys", "en-us", user="ana")
    store.record_unlock("ana", "glutes", "band_bridge", "offered", datetime(2026, 11, 23, 8, tzinfo=LONDON),
                        'every set of Glute bridge reached 60 s on 3 different days: "20, 21, 22"')
    store.record_unlock("ana", "glutes", "band_bridge", "unlocked",
                        datetime(2026, 11, 23, 8, 1, tzinfo=LONDON),
                        "you said yes,\nat the start of the session")


def export(store: Store, fmt: str, user: str | None = None) -> str:
    out = io.StringIO()
    export_holds(store, fmt, out, user=user)
    return out.getvalue()


def contents(store: Store) -> tuple:
    return store.sessions(), store.holds(), store.unlocks()


@pytest.fixture
def full(tmp_path):
    store = Store(tmp_path / "full.sqlite3")
    fill(store)
    yield store
    store.close()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_round_trip_into_an_empty_history_is_lossless(full, tmp_path, fmt):
    first = export(full, fmt)
    path = tmp_path / f"history.{fmt}"
    path.write_text(first, encoding="utf-8")
    empty = Store(tmp_path / "empty.sqlite3")
    result = import_file(empty, path)
    assert result == ImportResult(sessions_added=6, holds_added=11, unlocks_added=2, skipped_duplicates=0)
    assert export(empty, fmt) == first
    assert contents(empty) == contents(full)           # ids, offsets, floats, None ended_at, text
    assert empty.holds(user="ana")[2].held_s == 35.001 and empty.sessions()[-1].ended_at is None
    empty.close()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_importing_twice_adds_nothing_the_second_time(full, tmp_path, fmt):
    path = tmp_path / f"history.{fmt}"
    path.write_text(export(full, fmt), encoding="utf-8")
    store = Store(tmp_path / "other.sqlite3")
    import_file(store, path)
    before = contents(store)
    assert import_file(store, path) == ImportResult(0, 0, 0, skipped_duplicates=6 + 11 + 2)
    assert contents(store) == before
    assert import_file(full, path) == ImportResult(0, 0, 0, 19)     # into the history it came from
    store.close()


def test_csv_and_json_carry_the_same_data(full, tmp_path):
    (tmp_path / "h.csv").write_text(export(full, "csv"), encoding="utf-8")
    store = Store(tmp_path / "from-csv.sqlite3")
    import_file(store, tmp_path / "h.csv")
    assert export(store, "json") == export(full, "json")
    store.close()


def test_export_shape(full):
    rows = export(full, "csv").splitlines()
    assert rows[0] == ",".join(CSV_COLUMNS)
    assert rows[1] == "session,1,ana,glutes,2026-11-20T07:58:03.250+00:00,2026-11-20T08:07:03.250+00:00," \
                      "finished,keys,en-us,,,,,,,,,,"        # effort and pain last: not asked
    assert rows[2] == "hold,1,,,2026-11-20T08:00:03.250+00:00,,,,,bridge,1,60.0,41.8,cant_hold,,,,,"
    doc = json.loads(export(full, "json"))
    assert (doc["format"], doc["version"]) == ("coach-history", 1)
    assert doc["sessions"][0]["holds"][0] == {
        "exercise": "bridge", "set": 1, "target_s": 60.0, "held_s": 41.8, "ended_by": "cant_hold",
        "started_at": "2026-11-20T08:00:03.250+00:00"}
    assert doc["unlocks"][1]["why"] == "you said yes,\nat the start of the session"
    out = io.StringIO()
    assert export_holds(full, "json", out) == ExportResult(sessions=6, holds=11, unlocks=2)


def test_export_for_one_user(full):
    doc = json.loads(export(full, "json", user="민준"))
    assert [s["user"] for s in doc["sessions"]] == ["민준", "민준"] and doc["unlocks"] == []
    assert json.loads(export(full, "json", user="nobody"))["sessions"] == []


def test_import_merges_and_renumbers_sessions_whose_id_is_taken(full, tmp_path):
    path = tmp_path / "h.json"
    path.write_text(export(full, "json"), encoding="utf-8")
    store = Store(tmp_path / "mine.sqlite3")
    mine = store.start_session("glutes", datetime(2026, 12, 1, 8, tzinfo=LONDON), "keys", "en-us", user="bo")
    store.record_hold(mine, "bridge", 1, 60.0, 20.0, "cant_hold", datetime(2026, 12, 1, 8, 1, tzinfo=LONDON))
    result = import_file(store, path)
    assert result == ImportResult(6, 11, 2, 0)
    by_user: dict[str, list[float]] = {}
    for hold in store.holds():
        by_user.setdefault(hold.user, []).append(hold.held_s)
    assert by_user["bo"] == [20.0]
    assert by_user["ana"] == [h.held_s for h in full.holds(user="ana")]
    assert len({s.id for s in store.sessions()}) == 7
    store.close()


def test_import_adds_only_what_is_new(full, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(export(full, "csv"), encoding="utf-8")
    partial = Store(tmp_path / "partial.sqlite3")
    first = datetime(2026, 11, 20, 7, 58, 3, 250000, tzinfo=LONDON)
    sid = partial.start_session("glutes", first, "keys", "en-us", user="ana")       # the same session
    partial.record_hold(sid, "bridge", 1, 60.0, 41.8, "cant_hold", first + timedelta(minutes=2))
    result = import_file(partial, path)
    assert result == ImportResult(sessions_added=5, holds_added=10, unlocks_added=2, skipped_duplicates=2)
    assert [h.held_s for h in partial.holds(user="ana")][:3] == [41.8, 38.25, 35.001]
    partial.close()


# -- damaged files: one line naming the file, the line and the field; nothing written -----------------
def edit_csv(text: str, line: int, column: str, value: str) -> str:
    rows = text.splitlines()
    cells = rows[line - 1].split(",")
    cells[CSV_COLUMNS.index(column)] = value
    rows[line - 1] = ",".join(cells)
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("line, column, value, message", [
    (3, "held_s", "abc", ":3: held_s: must be a number of seconds, got `abc`"),
    (3, "held_s", "", ":3: held_s: missing"),
    (3, "held_s", "-4", ":3: held_s: must be between 0 and 86400 seconds, got -4"),
    (3, "set", "1.5", ":3: set: must be a whole number, got `1.5`"),
    (3, "ended_by", "cant-hold",
     ":3: ended_by: must be one of target, done, cant_hold, stop; got `cant-hold` "
     "(did you mean `cant_hold`?)"),
    (3, "session_id", "99", ":3: session_id: no session 99 in this file"),
    (2, "started_at", "2026-11-20T07:58:03", ":2: started_at: `2026-11-20T07:58:03` has no UTC offset"),
    (2, "started_at", "yesterday", ":2: started_at: must be a date and time like"),
    (2, "status", "done",
     ":2: status: must be one of running, finished, stopped, interrupted, ended, abandoned; got `done`"),
    (2, "exercise", "bridge", ":2: exercise: must be empty in a session row"),
    (2, "record", "sesion", ":2: record: must be one of session, hold, unlock; got `sesion` "
                            "(did you mean `session`?)"),
    (6, "session_id", "1", ":6: session_id: session 1 appears twice"),
])
def test_bad_csv_is_refused_with_one_line_and_nothing_is_written(full, tmp_path, line, column, value,
                                                                  message):
    path = tmp_path / "bad.csv"
    path.write_text(edit_csv(export(full, "csv"), line, column, value), encoding="utf-8")
    store = Store(tmp_path / "empty.sqlite3")
    with pytest.raises(UsageError) as err:
        import_file(store, path)
    assert str(err.value).startswith(f"{path}{message}"), str(err.value)
    assert "\n" not in str(err.value) and err.value.exit_code == 2
    assert contents(store) == ([], [], [])
    store.close()


def test_csv_header_and_shape_mistakes(tmp_path, full):
    store = Store(tmp_path / "empty.sqlite3")
    good = export(full, "csv")
    end = good.count("\n")         # lines in the file (the unlock's `why` spans two)
    cases = {
        good.replace("held_s,", "held,", 1): ":1: not a coach CSV export: missing column held_s",
        good.replace("\n", ",extra\n", 1): ":1: unknown or repeated column `extra`",
        good + "hold,1,,\n": f":{end + 1}: 4 columns where the header has 19",
        good + 'hold,"1\n': f":{end + 1}: not valid CSV",
        "": ": the file is empty",
    }
    for text, message in cases.items():
        path = tmp_path / "bad.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(UsageError) as err:
            import_file(store, path)
        assert str(err.value).startswith(f"{path}{message}"), str(err.value)
    assert contents(store) == ([], [], [])
    store.close()


def test_bad_json_names_the_line_and_the_field(full, tmp_path):
    store = Store(tmp_path / "empty.sqlite3")
    good = export(full, "json")
    doc = json.loads(good)
    lines = good.splitlines()
    hold_line = next(i for i, text in enumerate(lines, 1) if '"held_s": 38.25' in text)
    brace_line = max(i for i in range(1, hold_line) if lines[i - 1].strip() == "{")
    cases = [
        (good.replace('"held_s": 38.25', '"held_s": "38"'),
         f":{brace_line}: sessions[0].holds[1].held_s: must be a number of seconds, got `38`"),
        (good.replace('"held_s": 38.25', '"held": 38.25'),
         f":{brace_line}: sessions[0].holds[1].held: unknown field (did you mean `held_s`?)"),
        (good.replace('"held_s": 38.25,', '"held_s": 38.25'),
         f":{hold_line + 1}: not valid JSON: Expecting ','"),
        (good.replace('"coach-history"', '"something-else"'), ":1: format: must be `coach-history`"),
        (good.replace('"version": 1', '"version": 2'), ":1: version: this coach reads version 1, got `2`"),
        (json.dumps({**doc, "sessions": {}}), ":1: sessions: must be a list, got an object"),
        (json.dumps({**doc, "sessions": [1]}), ":1: sessions[0]: must be an object {...}, got `1`"),
        (json.dumps({**doc, "unlocks": [{**doc["unlocks"][0], "state": "open"}]}),
         ":1: unlocks[0].state: must be one of offered, unlocked, locked; got `open`"),
    ]
    for text, message in cases:
        path = tmp_path / "bad.json"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(UsageError) as err:
            import_file(store, path)
        assert str(err.value).startswith(f"{path}{message}"), str(err.value)
        assert "\n" not in str(err.value)
    assert contents(store) == ([], [], [])
    store.close()


def test_missing_file_and_unknown_format(tmp_path, full):
    with pytest.raises(UsageError, match="cannot read the file"):
        import_file(full, tmp_path / "nope.csv")
    with pytest.raises(UsageError, match="unknown export format `xml`; use csv or json"):
        export_holds(full, "xml", io.StringIO())
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00r")
    with pytest.raises(UsageError, match=r"not UTF-8 text \(byte 0\)"):
        import_file(full, Path(tmp_path / "bin.csv"))


# -- every history coach can write ------------------------------------------------------------
def test_every_status_and_ended_by_coach_writes_round_trips(tmp_path):
    """Issue 11: `ended` (a --mic file ran out) and `abandoned` (resume declined) were refused by
    import, so a backup could not be restored. One session per way a session can end (and one
    still `running`, as a crash leaves it), holds ended every way, in both formats."""
    from coach.vocab import EndedBy, SessionStatus

    store = Store(tmp_path / "all.sqlite3")
    start = datetime(2026, 11, 20, 7, 0, tzinfo=LONDON)
    for i, status in enumerate(SessionStatus):
        sid = store.start_session("glutes", start + timedelta(hours=i), "voice", "en-us")
        for set_no, ended_by in enumerate(EndedBy, 1):
            store.record_hold(sid, "bridge", set_no, 30.0, 10.0 + set_no, ended_by,
                              start + timedelta(hours=i, minutes=set_no))
        if status is not SessionStatus.RUNNING:
            store.end_session(sid, start + timedelta(hours=i, minutes=9), status)
    assert {s.status for s in store.sessions()} == {s.value for s in SessionStatus}
    for fmt in ("csv", "json"):
        first = export(store, fmt)
        path = tmp_path / f"all.{fmt}"
        path.write_text(first, encoding="utf-8")
        empty = Store(tmp_path / f"empty-{fmt}.sqlite3")
        result = import_file(empty, path)
        assert result.sessions_added == len(SessionStatus)
        assert result.holds_added == len(SessionStatus) * len(EndedBy)
        assert export(empty, fmt) == first
        empty.close()
    store.close()


def test_the_store_refuses_a_status_import_would_not_read(tmp_path):
    store = Store(tmp_path / "h.sqlite3")
    sid = store.start_session("glutes", datetime(2026, 11, 20, 7, 0, tzinfo=LONDON), "keys", "en-us")
    with pytest.raises(ValueError):
        store.end_session(sid, datetime(2026, 11, 20, 7, 5, tzinfo=LONDON), "exploded")
    with pytest.raises(ValueError):
        store.record_hold(sid, "bridge", 1, 30.0, 3.0, "gave_up", datetime(2026, 11, 20, 7, 1, tzinfo=LONDON))
    store.close()
