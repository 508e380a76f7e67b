"""How the session felt, in the history: schema 3 migrates an older file in place, answers are
stored with the session, and export/import carry them (JSON, the combined CSV, the tidy tables)."""

from __future__ import annotations

import io
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from coach.errors import UsageError
from coach.history import store as store_module
from coach.history.store import Store
from coach.history.transfer import HOLDS_COLUMNS, SESSIONS_COLUMNS, export_holds, import_file

UTC = timezone.utc
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def make_v2_file(path) -> None:
    """A history as a schema-2 coach left it: no effort or pain columns."""
    con = sqlite3.connect(path)
    for script in (store_module._SCHEMA_V1, store_module._SCHEMA_V2):
        for statement in store_module._statements(script):
            con.execute(statement)
    con.execute("INSERT INTO sessions (id, user, routine, started_at, ended_at, status, input, voice) VALUES "
                "(1, 'ana', 'glutes', '2026-11-19T08:00:00.000+00:00', '2026-11-19T08:10:00.000+00:00', "
                "'finished', 'keys', 'en-us')")
    con.execute("INSERT INTO holds VALUES (1, 1, 'bridge', 1, 60.0, 41.8, 'cant_hold', "
                "'2026-11-19T08:02:00.000+00:00')")
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()


def test_a_v2_history_gains_the_columns_and_keeps_its_sessions(tmp_path):
    db = tmp_path / "history.sqlite3"
    make_v2_file(db)
    ro = Store(db, read_only=True)                  # read-only: not migrated, still readable
    (old,) = ro.sessions()
    assert (old.effort, old.pain, old.holds) == (None, None, 1)
    ro.close()
    store = Store(db)
    (old,) = store.sessions()
    assert (old.user, old.effort, old.pain) == ("ana", None, None)
    sid = store.start_session("glutes", T0, "voice", "en-us", user="ana")
    store.record_effort(sid, "hard")
    store.record_pain(sid, False)
    store.close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 3
    rows = con.execute("SELECT effort, pain FROM sessions ORDER BY id").fetchall()
    assert rows == [(None, None), ("hard", 0)]
    con.close()
    again = Store(db)
    assert [(s.effort, s.pain) for s in again.sessions()] == [(None, None), ("hard", False)]
    again.close()


def test_the_store_refuses_an_effort_it_does_not_know(tmp_path):
    store = Store(tmp_path / "h.sqlite3")
    sid = store.start_session("glutes", T0, "keys", "en-us")
    with pytest.raises(ValueError):
        store.record_effort(sid, "brutal")
    store.close()


def _filled(path) -> Store:
    store = Store(path)
    for day, effort, pain in ((0, "easy", False), (1, "hard", True), (2, None, None)):
        start = T0 + timedelta(days=day)
        sid = store.start_session("glutes", start, "keys", "en-us", user="ana")
        store.record_hold(sid, "bridge", 1, 60.0, 40.5 + day, "cant_hold", start + timedelta(minutes=1))
        if effort is not None:
            store.record_effort(sid, effort)
        if pain is not None:
            store.record_pain(sid, pain)
        store.end_session(sid, start + timedelta(minutes=9), "finished")
    return store


def _export(store: Store, fmt: str, what: str | None = None) -> str:
    out = io.StringIO()
    export_holds(store, fmt, out, what=what)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_effort_and_pain_round_trip(tmp_path, fmt):
    full = _filled(tmp_path / "full.sqlite3")
    text = _export(full, fmt)
    (tmp_path / f"h.{fmt}").write_text(text, encoding="utf-8")
    empty = Store(tmp_path / "empty.sqlite3")
    import_file(empty, tmp_path / f"h.{fmt}")
    assert [(s.effort, s.pain) for s in empty.sessions()] == [("easy", False), ("hard", True), (None, None)]
    assert _export(empty, fmt) == text
    full.close()
    empty.close()


def test_the_tidy_tables_have_user_and_routine_on_every_hold_and_import_back(tmp_path):
    full = _filled(tmp_path / "full.sqlite3")
    sessions = _export(full, "csv", "sessions")
    holds = _export(full, "csv", "holds")
    assert sessions.splitlines()[0] == ",".join(SESSIONS_COLUMNS)
    assert sessions.splitlines()[2] == ("2,ana,glutes,2026-11-21T08:00:00.000+00:00,"
                                        "2026-11-21T08:09:00.000+00:00,finished,keys,en-us,hard,yes")
    assert holds.splitlines()[0] == ",".join(HOLDS_COLUMNS)
    assert holds.splitlines()[1] == ("1,ana,glutes,2026-11-20T08:00:00.000+00:00,bridge,1,60.0,40.5,"
                                     "cant_hold,2026-11-20T08:01:00.000+00:00")
    (tmp_path / "s.csv").write_text(sessions, encoding="utf-8")
    (tmp_path / "h.csv").write_text(holds, encoding="utf-8")
    empty = Store(tmp_path / "empty.sqlite3")
    with pytest.raises(UsageError, match="import the sessions file"):      # holds need their sessions
        import_file(empty, tmp_path / "h.csv")
    assert import_file(empty, tmp_path / "s.csv").sessions_added == 3
    assert import_file(empty, tmp_path / "h.csv").holds_added == 3
    assert import_file(empty, tmp_path / "h.csv").holds_added == 0           # idempotent
    assert _export(empty, "csv") == _export(full, "csv")
    full.close()
    empty.close()


def test_what_is_for_csv(tmp_path):
    store = Store(tmp_path / "h.sqlite3")
    with pytest.raises(UsageError, match="--format csv"):
        export_holds(store, "json", io.StringIO(), what="holds")
    store.close()


def test_a_csv_from_before_effort_existed_still_imports(tmp_path):
    full = _filled(tmp_path / "full.sqlite3")
    rows = _export(full, "csv").splitlines()
    old = "\n".join(row.rsplit(",", 2)[0] for row in rows) + "\n"     # drop the last two columns
    assert old.splitlines()[0].endswith(",why")
    (tmp_path / "old.csv").write_text(old, encoding="utf-8")
    empty = Store(tmp_path / "empty.sqlite3")
    assert import_file(empty, tmp_path / "old.csv").sessions_added == 3
    assert [(s.effort, s.pain) for s in empty.sessions()] == [(None, None)] * 3
    full.close()
    empty.close()


# -- shown in history, status, the chart and the report ----------------------------------------------
def test_history_status_chart_and_report_show_how_it_felt(tmp_path):
    from datetime import date

    from conftest import ROOT

    from coach.api import history as hist
    from coach.api.progress import status_lines
    from coach.progress.chart import draw_chart
    from coach.report import build_report, render_html
    from coach.routine.loader import load_routine

    data = tmp_path / "data"
    data.mkdir()
    store = _filled(data / "history.sqlite3")
    sessions, holds = store.sessions(), store.holds()
    store.close()
    lines = hist.history_lines(holds, hist.feelings(data, "ana"))
    assert lines[1].endswith("(felt easy, no pain)") and lines[2].endswith("(felt hard, pain)")
    assert "felt" not in lines[3]                                   # the third was not answered
    status = status_lines(data, "glutes", "ana", date(2026, 11, 22))
    assert "  last answer: felt hard, pain  (the session of Sat 21 Nov 08:00)" in status
    pytest.importorskip("matplotlib")
    fig = draw_chart(holds, "bridge", tmp_path / "c.png", "t", goal_s=60.0, tz=UTC, sessions=sessions)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts if t.get_gid() == "felt"] == ["easy", "hard\npain"]
    assert "above: how it felt" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert max(t.get_position()[1] for t in ax.texts) < ax.get_ylim()[1]      # inside the plot
    glutes = load_routine(ROOT / "coach" / "routine" / "shipped" / "glutes.yaml")
    report = build_report(glutes, "ana", sessions, holds, [], date(2026, 11, 22), UTC)
    assert report is not None and [(f.effort, f.pain) for f in report.feelings] == [("easy", False),
                                                                                 ("hard", True)]
    page = render_html(report, datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    assert '<span data-figure="felt-hard">1</span> hard' in page
    assert '<span data-figure="felt-pain">1</span> of 2 answered sessions' in page
    assert '<td data-effort="hard">hard</td><td class="cant">yes</td>' in page


def test_a_year_of_answers_is_drawn_as_dots_not_overlapping_words(tmp_path):
    pytest.importorskip("matplotlib")
    from coach.progress.chart import draw_chart

    store = Store(tmp_path / "h.sqlite3")
    for day in range(60):
        start = T0 + timedelta(days=6 * day)
        sid = store.start_session("glutes", start, "keys", "en-us")
        store.record_hold(sid, "bridge", 1, 60.0, 30.0 + day / 2, "target", start)
        store.record_effort(sid, ("easy", "okay", "hard")[day % 3])
        store.record_pain(sid, day % 10 == 0)
    fig = draw_chart(store.holds(), "bridge", tmp_path / "c.png", "t", goal_s=60.0, tz=UTC,
                     sessions=store.sessions())
    ax = fig.axes[0]
    assert not [t for t in ax.texts if t.get_gid() == "felt"]
    dots = [line for line in ax.get_lines() if line.get_gid() == "felt"]
    assert len(dots) == 60 + 6                                    # one per answer, a mark per pain
    assert {"felt hard", "pain"} <= {t.get_text() for t in ax.get_legend().get_texts()}
    store.close()


def test_an_answer_that_could_not_be_saved_is_kept_and_imported_into_its_session(tmp_path):
    from coach.history.unsaved import SessionInfo, unsaved_document

    store = Store(tmp_path / "h.sqlite3")
    sid = store.start_session("glutes", T0, "keys", "en-us", user="ana")    # the answers never got in
    store.record_hold(sid, "bridge", 1, 60.0, 41.0, "cant_hold", T0 + timedelta(minutes=1))
    text = unsaved_document([], SessionInfo("ana", "glutes", T0, "keys", "en-us"), "finished",
                            T0 + timedelta(minutes=9), effort="hard", pain=True)
    (tmp_path / "kept.json").write_text(text, encoding="utf-8")
    import_file(store, tmp_path / "kept.json")
    assert [(s.id, s.effort, s.pain) for s in store.sessions()] == [(sid, "hard", True)]
    import_file(store, tmp_path / "kept.json")                                 # twice: nothing changes
    assert len(store.sessions()) == 1
    store.close()


def test_history_json_and_all_carry_how_each_session_felt(tmp_path, capsys):
    """`coach history --json` is what scripts read, `--all` every hold: both hold the answers."""
    import json

    from coach.cli import main

    data = tmp_path / "data"
    data.mkdir()
    _filled(data / "history.sqlite3").close()
    assert main(["history", "--data-dir", str(data), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["effort"], r["pain"]) for r in rows] == [("easy", False), ("hard", True), (None, None)]
    assert main(["history", "--data-dir", str(data), "--all"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].endswith("ended by  felt")
    assert table[1].endswith("cant_hold felt easy, no pain") and table[2].endswith("felt hard, pain")
    assert table[3].endswith("cant_hold")
