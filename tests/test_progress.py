"""Progress between sessions, on a real SQLite history with sessions spread over simulated days:
targets, last time, feedback, streaks across midnight and DST, unlocks per user, the v1 -> v2
migration, the progress rules in a routine file, the sparkline and the chart."""

from __future__ import annotations

import sqlite3
import struct
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from coach.errors import RoutineError, StoreError, UsageError
from coach.history import store as store_module
from coach.history.store import Store
from coach.progress import (
    NO_PROGRESS,
    ChartUnavailableError,
    LastTime,
    TargetRule,
    UnlockRule,
    VoiceLine,
    best_s,
    counted_starts,
    day_stats,
    draw_chart,
    evaluate,
    feedback,
    is_unlocked,
    last_time,
    local_day,
    offer_due,
    offer_line,
    opening,
    read_progress,
    sparkline,
    status_line,
    targets,
)
from coach.routine.model import Exercise, RestRange
from coach.yamlfile import open_yaml

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
TARGET = TargetRule(source="best_recent", sessions=3, step_s=5)
BAND_RULE = UnlockRule(exercise="band_bridge", after="bridge", every_set_at_least_s=60, sessions=3,
                       different_days=True)


def at(day: int, hour: int = 8, minute: int = 0, tz=LONDON, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=tz)


def add_session(store: Store, start: datetime, held: list[float], *, user: str = "default",
                exercise: str = "bridge", target_s: float = 60.0) -> int:
    """A session as the runner writes it: each hold committed as it ends, with rests between."""
    sid = store.start_session("glutes", start, "keys", "en-us", user=user)
    t = start + timedelta(minutes=2)
    for set_no, held_s in enumerate(held, 1):
        ended_by = "target" if held_s >= target_s - 0.05 else "cant_hold"
        store.record_hold(sid, exercise, set_no, target_s, held_s, ended_by, t)
        t += timedelta(seconds=held_s + 45)
    store.end_session(sid, t, "finished")
    return sid


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "history.sqlite3")
    yield s
    s.close()


# -- targets and last time --------------------------------------------------------------------------
def test_first_session_aims_for_the_routine_target(store):
    assert targets(store.holds(), "bridge", 5, 60.0, TARGET) == (60.0,) * 5
    assert last_time(store.holds(), "bridge") is None


def test_targets_come_from_the_best_of_the_last_sessions_capped_at_the_routine(store):
    add_session(store, at(20), [50, 50, 50, 50, 50])         # older than the last 3: ignored
    add_session(store, at(21), [42, 30, 30, 58])
    add_session(store, at(22), [40, 38, 35, 20])
    add_session(store, at(23), [41.6, 36, 33])
    holds = store.holds()
    # set 1: best 42 + 5; set 2: 38 + 5; set 3: 35 + 5; set 4: 58 + 5 capped at 60; set 5: never done lately
    assert targets(holds, "bridge", 5, 60.0, TARGET) == (47.0, 43.0, 40.0, 60.0, 60.0)
    assert targets(holds, "bridge", 5, 60.0, TargetRule(sessions=1, step_s=2.5)) == (44.0, 39.0, 36.0, 60, 60)
    assert targets(holds, "bridge", 5, 60.0, NO_PROGRESS.target) == (60.0,) * 5


def test_targets_and_last_time_are_per_user(store):
    add_session(store, at(21), [60, 60, 60], user="ana")
    add_session(store, at(22), [20, 25, 30], user="ben")
    assert targets(store.holds(user="ana"), "bridge", 3, 60, TARGET) == (60, 60, 60)
    assert targets(store.holds(user="ben"), "bridge", 3, 60, TARGET) == (25, 30, 35)
    last = last_time(store.holds(user="ana"), "bridge")
    assert last is not None and last.session.held_s == (60, 60, 60)


def test_last_time_is_the_latest_session_in_real_time_and_best_ever_is_all_time(store):
    add_session(store, at(21), [45, 44, 40])
    # Written in New York time: 07:00-05:00 is 12:00 UTC, later than the London 08:00 session of the
    # same day although its text sorts first.
    add_session(store, datetime(2026, 11, 22, 8, 0, tzinfo=LONDON), [30, 30, 30])
    latest = add_session(store, datetime(2026, 11, 22, 7, 0, tzinfo=NEW_YORK), [42, 38, 35])
    last = last_time(store.holds(), "bridge")
    assert last is not None
    assert last.session.session_id == latest
    assert last.session.held_s == (42, 38, 35)
    assert last.best_ever_s == 45
    assert last.held_for(2) == 38 and last.held_for(4) is None
    assert best_s(store.holds(), "bridge") == 45 and best_s(store.holds(), "plank") is None


# -- what the coach says -------------------------------------------------------------------------
def test_opening_lines_say_how_last_time_went_and_the_targets(store):
    add_session(store, at(21), [45, 40, 30])
    add_session(store, at(22), [42, 38, 35])
    holds = store.holds()
    last = last_time(holds, "bridge")
    goals = targets(holds, "bridge", 3, 60, TARGET)
    assert opening(last, goals, 60) == (
        VoiceLine("last_time", {"held_list": (42, 38, 35), "sets": 3, "best_s": 45}),
        VoiceLine("targets", {"target_list": (50, 45, 40), "sets": 3}))
    assert opening(last, (50.0, 50.0), 60)[1] == VoiceLine("target_all", {"target_s": 50, "sets": 2})
    assert opening(last, (60.0, 60.0), 60)[1] == VoiceLine("target_full", {"target_s": 60, "sets": 2})
    assert opening(None, (60.0,) * 5, 60) == ()


def test_feedback_against_last_time_and_personal_best(store):
    add_session(store, at(21), [45, 30, 30])
    add_session(store, at(22), [42.2, 38, 35])
    holds = store.holds()
    last = last_time(holds, "bridge")
    best = last.best_ever_s if last else None
    assert feedback(46.4, 1, last, best) == VoiceLine(
        "personal_best", {"held_s": 46, "previous_best_s": 45, "diff_s": 1})
    assert feedback(44.0, 1, last, best) == VoiceLine("better_than_last",
                                                      {"held_s": 44, "last_s": 42, "diff_s": 2})
    assert feedback(41.6, 1, last, best) == VoiceLine("same_as_last",
                                                      {"held_s": 42, "last_s": 42, "diff_s": 0})
    assert feedback(30.0, 2, last, best) == VoiceLine("below_last", {"held_s": 30, "last_s": 38, "diff_s": 8})
    assert feedback(30.0, 4, last, best) == VoiceLine("first_time", {"held_s": 30})    # no set 4 last time
    assert feedback(30.0, 1, None, None) == VoiceLine("first_time", {"held_s": 30})
    assert feedback(45.4, 1, last, best).key == "better_than_last"      # equals the best: no record


def test_a_second_record_in_one_session_is_a_personal_best_too(store):
    add_session(store, at(21), [40, 40])
    last = last_time(store.holds(), "bridge")
    assert last is not None
    running_best = last.best_ever_s
    keys = []
    for set_no, held in enumerate([44.0, 47.0, 45.0], 1):
        keys.append(feedback(held, set_no, last, running_best).key)
        running_best = max(running_best, held)
    assert keys == ["personal_best", "personal_best", "first_time"]


# -- schedule --------------------------------------------------------------------------------------
def test_2359_and_0001_are_two_days_in_a_row(store):
    add_session(store, at(20, 23, 59), [30])
    add_session(store, at(21, 0, 1), [30])
    starts = counted_starts(store.sessions())
    stats = day_stats(starts, date(2026, 11, 21), LONDON)
    assert (stats.sessions_today, stats.done_today, stats.streak_days) == (1, True, 2)
    assert stats.last_session_day == date(2026, 11, 21)
    assert stats.missed_days == ()
    # The same two instants seen from New York (5 hours behind) both fall on the 20th.
    ny = day_stats(starts, date(2026, 11, 20), NEW_YORK)
    assert (ny.sessions_today, ny.streak_days) == (2, 1)


def test_days_across_the_autumn_dst_change_in_new_york():
    # 1 November 2026: clocks go back at 02:00 EDT, so that day has 25 hours.
    starts = [
        datetime(2026, 10, 31, 23, 30, tzinfo=NEW_YORK),
        datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK),            # EDT, 04:30 UTC
        datetime(2026, 11, 1, 23, 30, tzinfo=NEW_YORK),           # EST, 04:30 UTC on 2 November
        datetime(2026, 11, 2, 4, 45, tzinfo=timezone.utc),        # 23:45 EST on 1 November
    ]
    assert [local_day(s, NEW_YORK) for s in starts] == [date(2026, 10, 31)] + [date(2026, 11, 1)] * 3
    stats = day_stats(starts, date(2026, 11, 1), NEW_YORK, per_day_min=1)
    assert (stats.sessions_today, stats.streak_days) == (3, 2)
    # A fixed offset (what the first session was recorded with) would put the last two on 2 November.
    fixed = day_stats(starts, date(2026, 11, 1), timezone(timedelta(hours=-4)))
    assert fixed.sessions_today == 1
    # As recorded by a machine in New York (each with the offset of its moment), tz=None agrees.
    recorded = [s.astimezone(NEW_YORK) for s in starts]
    assert day_stats(recorded, date(2026, 11, 1), None) == stats


def test_streak_and_missed_days_across_the_spring_dst_change_in_london():
    # 29 March 2026: clocks go forward at 01:00 GMT, so that day has 23 hours.
    starts = [
        datetime(2026, 3, 26, 8, 0, tzinfo=LONDON),
        datetime(2026, 3, 28, 23, 59, tzinfo=LONDON),             # GMT
        datetime(2026, 3, 29, 0, 1, tzinfo=LONDON),               # GMT, before the change at 01:00
        datetime(2026, 3, 29, 23, 59, tzinfo=LONDON),             # BST: 22:59 UTC
        datetime(2026, 3, 30, 0, 1, tzinfo=LONDON).astimezone(timezone.utc),   # 23:01 UTC on the 29th
    ]
    stats = day_stats(starts, date(2026, 3, 30), LONDON, per_day_min=1)
    assert (stats.sessions_today, stats.streak_days) == (1, 3)
    assert stats.missed_days == (date(2026, 3, 27),)
    twice = day_stats(starts, date(2026, 3, 30), LONDON, per_day_min=2)
    assert twice.sessions_today == 1 and not twice.done_today
    assert twice.streak_days == 1                    # only the 29th had two; today is still open
    assert twice.missed_days == (date(2026, 3, 26), date(2026, 3, 27), date(2026, 3, 28))


def test_an_open_day_does_not_break_the_streak_but_a_gap_does():
    starts = [at(d) for d in (10, 11, 12, 13, 17, 18, 19)]
    stats = day_stats(starts, date(2026, 11, 20), LONDON)       # nothing yet today
    assert (stats.sessions_today, stats.done_today, stats.streak_days) == (0, False, 3)
    assert stats.missed_days == (date(2026, 11, 14), date(2026, 11, 15), date(2026, 11, 16))
    later = day_stats(starts, date(2026, 11, 22), LONDON)
    assert later.streak_days == 0
    assert later.missed_days == tuple(date(2026, 11, d) for d in (15, 16, 20, 21))
    assert later.last_session_day == date(2026, 11, 19)
    assert day_stats([], date(2026, 11, 22), LONDON).last_session_day is None


def test_sessions_without_holds_do_not_count_and_naive_times_are_refused(store):
    add_session(store, at(21), [30])
    store.start_session("glutes", at(22), "keys", "en-us")      # started, nothing held
    assert counted_starts(store.sessions()) == [at(21)]
    with pytest.raises(ValueError, match="no UTC offset"):
        day_stats([datetime(2026, 11, 21, 8, 0)], date(2026, 11, 21), LONDON)


# -- unlocks ---------------------------------------------------------------------------------------
def test_unlock_needs_every_set_on_three_different_days(store):
    add_session(store, at(20), [60, 60, 60, 60, 59.98])          # ended by its target: counts
    add_session(store, at(21), [60, 60, 60, 60, 55])             # one set short: does not count
    add_session(store, at(22), [60, 60, 60, 60])                 # stopped after 4 sets: does not count
    add_session(store, at(22, 18), [60, 60, 60, 60, 60])
    status = evaluate(store.holds(), BAND_RULE, sets=5, title="Glute bridge")
    assert not status.met
    assert status.qualifying_days == (date(2026, 11, 20), date(2026, 11, 22))
    assert status.why == ("every set of Glute bridge reached 60 s on 2 of 3 different days so far "
                          "(2026-11-20, 2026-11-22)")
    add_session(store, at(23), [60, 60, 60, 60, 60])
    status = evaluate(store.holds(), BAND_RULE, sets=5, title="Glute bridge")
    assert status.met
    assert status.why == ("every set of Glute bridge reached 60 s on 3 different days: "
                          "2026-11-20, 2026-11-22, 2026-11-23")


def test_two_good_sessions_on_one_day_count_once_unless_days_need_not_differ(store):
    for start in (at(21, 8), at(21, 19), at(22, 8)):
        add_session(store, start, [60, 60, 60])
    status = evaluate(store.holds(), BAND_RULE, sets=3)
    assert not status.met and status.qualifying_sessions == 3
    assert status.why.startswith("every set of bridge reached 60 s on 2 of 3 different days")
    any_day = UnlockRule("band_bridge", "bridge", 60, sessions=3, different_days=False)
    status = evaluate(store.holds(), any_day, sets=3)
    assert status.met
    assert status.why == "every set of bridge reached 60 s in 3 sessions (the last on 2026-11-22)"


def test_unlock_days_are_local_days(store):
    # 23:30 and 00:30 London: one UTC day... but two London days.
    add_session(store, at(21, 23, 30), [60])
    add_session(store, at(22, 0, 30), [60])
    add_session(store, at(23), [60])
    assert evaluate(store.holds(), BAND_RULE, sets=1, tz=LONDON).met
    assert not evaluate(store.holds(), BAND_RULE, sets=1, tz=timezone(timedelta(hours=-8))).met


def test_unlock_state_is_per_user_and_offered_again_only_when_earned_again(store):
    for day in (20, 21, 22):
        add_session(store, at(day), [60, 60], user="ana")
        add_session(store, at(day), [60, 30], user="ben")
    ana, ben = store.holds(user="ana"), store.holds(user="ben")

    assert offer_due(store.unlock_state("ana", "glutes", "band_bridge"), ana, BAND_RULE, 2) is not None
    assert offer_due(store.unlock_state("ben", "glutes", "band_bridge"), ben, BAND_RULE, 2) is None

    status = evaluate(ana, BAND_RULE, 2, "Glute bridge")
    assert offer_line("Band bridge", status) == VoiceLine("unlock_offer", {"exercise": "Band bridge",
                                                                           "days": 3, "sessions": 3})
    store.record_unlock("ana", "glutes", "band_bridge", "offered", at(23, 8), status.why)
    offered = store.unlock_state("ana", "glutes", "band_bridge")
    assert offered is not None and offered.state == "offered"
    assert offer_due(offered, ana, BAND_RULE, 2) is not None         # no answer yet: ask again

    store.record_unlock("ana", "glutes", "band_bridge", "locked", at(23, 8, 1), "you said no")
    locked = store.unlock_state("ana", "glutes", "band_bridge")
    assert not is_unlocked(locked)
    assert offer_due(locked, store.holds(user="ana"), BAND_RULE, 2) is None
    assert status_line("Band bridge", locked, status) == "Band bridge: locked on 2026-11-23 — you said no"
    for day in (24, 25):
        add_session(store, at(day), [60, 60], user="ana")
    assert offer_due(store.unlock_state("ana", "glutes", "band_bridge"), store.holds(user="ana"),
                     BAND_RULE, 2) is None                            # 2 of 3 days since the "no"
    add_session(store, at(26), [60, 60], user="ana")
    assert offer_due(store.unlock_state("ana", "glutes", "band_bridge"), store.holds(user="ana"),
                     BAND_RULE, 2) is not None

    store.record_unlock("ana", "glutes", "band_bridge", "unlocked", at(27), "you said yes")
    assert is_unlocked(store.unlock_state("ana", "glutes", "band_bridge"))
    assert store.unlock_state("ben", "glutes", "band_bridge") is None
    assert store.unlock_state("ana", "other", "band_bridge") is None
    assert [u.state for u in store.unlocks(user="ana")] == ["offered", "locked", "unlocked"]
    assert store.users() == ["ana", "ben"]
    ben_status = evaluate(ben, BAND_RULE, 2, "Glute bridge")
    assert status_line("Band bridge", None, ben_status) == (
        "Band bridge: not yet unlocked — "
        "every set of Glute bridge reached 60 s on 0 of 3 different days so far")


def test_the_latest_unlock_change_is_latest_in_real_time_across_a_dst_change(store):
    # 25 October 2026, London: 01:30 BST (00:30 UTC), then the clocks go back; 01:10 GMT is later.
    store.record_unlock("ana", "glutes", "band_bridge", "locked",
                        datetime(2026, 10, 25, 1, 10, tzinfo=timezone.utc))
    store.record_unlock("ana", "glutes", "band_bridge", "unlocked",
                        datetime(2026, 10, 25, 1, 30, tzinfo=timezone(timedelta(hours=1))))
    state = store.unlock_state("ana", "glutes", "band_bridge")
    assert state is not None and state.state == "locked"


def test_record_unlock_refuses_an_unknown_state(store):
    with pytest.raises(ValueError, match="unlock state"):
        store.record_unlock("ana", "glutes", "band_bridge", "maybe", at(21))


# -- the schema migration -------------------------------------------------------------------------
# The v1 schema exactly as coach 0.1 wrote it (a snapshot: never import it from the store).
V1_SCHEMA = """
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    user        TEXT NOT NULL DEFAULT 'default',
    routine     TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    status      TEXT NOT NULL,
    input       TEXT NOT NULL,
    voice       TEXT NOT NULL
);
CREATE TABLE holds (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id),
    exercise    TEXT NOT NULL,
    set_no      INTEGER NOT NULL,
    target_s    REAL NOT NULL,
    held_s      REAL NOT NULL,
    ended_by    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    UNIQUE (session_id, exercise, set_no)
);
CREATE INDEX holds_by_exercise ON holds (exercise, started_at);
PRAGMA user_version = 1;
"""


def make_v1_file(path: Path) -> None:
    con = sqlite3.connect(path)
    con.executescript(V1_SCHEMA)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("INSERT INTO sessions VALUES (1, 'ana', 'glutes', '2026-11-20T08:00:00.000+00:00', "
                "'2026-11-20T08:10:00.000+00:00', 'finished', 'keys', 'en-us')")
    con.execute("INSERT INTO holds VALUES (1, 1, 'bridge', 1, 60.0, 41.8, 'cant_hold', "
                "'2026-11-20T08:02:00.000+00:00')")
    con.commit()
    con.close()


def test_a_v1_history_is_migrated_in_place_and_keeps_its_holds(tmp_path):
    db = tmp_path / "history.sqlite3"
    make_v1_file(db)
    store = Store(db)
    assert [(h.user, h.exercise, h.held_s) for h in store.holds()] == [("ana", "bridge", 41.8)]
    store.record_unlock("ana", "glutes", "band_bridge", "unlocked", at(21), "you said yes")
    add_session(store, at(22), [50], user="ana")
    store.close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == store_module.SCHEMA_VERSION
    assert con.execute("SELECT user, state FROM unlocks").fetchall() == [("ana", "unlocked")]
    con.close()
    again = Store(db)                                        # opening a current file changes nothing
    assert len(again.holds()) == 2 and len(again.unlocks()) == 1
    again.close()


def test_a_failed_migration_leaves_the_v1_file_as_it_was(tmp_path, monkeypatch):
    db = tmp_path / "history.sqlite3"
    make_v1_file(db)
    broken = store_module._SCHEMA_V2 + "\nCREATE TABLE sessions (x);"      # fails after the first steps
    monkeypatch.setitem(store_module._MIGRATIONS, 1, broken)
    with pytest.raises(StoreError, match="not a usable coach history"):
        Store(db)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert "unlocks" not in tables and "sessions_by_user" not in tables
    assert con.execute("SELECT held_s FROM holds").fetchall() == [(41.8,)]
    con.close()


def test_a_history_from_a_newer_coach_is_refused_untouched(tmp_path):
    db = tmp_path / "history.sqlite3"
    make_v1_file(db)
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {store_module.SCHEMA_VERSION + 1}")
    con.close()
    before = db.read_bytes()
    with pytest.raises(StoreError, match="newer coach"):
        Store(db)
    assert db.read_bytes() == before


# -- the progress: block of a routine file ---------------------------------------------------------
EXERCISES = (
    Exercise("neutral_spine", "Find neutral spine", "setup", ("Lie down.",)),
    Exercise("bridge", "Glute bridge", "hold", ("Lift.",), hold_s=60, sets=5, rest=RestRange(30, 60)),
    Exercise("band_bridge", "Band bridge", "hold", ("Band.",), hold_s=60, sets=5, rest=RestRange(30, 60),
             advanced=True),
)
PROGRESS = """\
title: Test
progress:
  target: {from: best_recent, sessions: 3, step_s: 5}
  unlock:
    exercise: band_bridge
    when: {exercise: bridge, every_set_at_least_s: 60, sessions: 3, different_days: true}
"""


def read(tmp_path: Path, text: str):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    f = open_yaml(path, RoutineError).mapping("progress")
    assert f is not None
    return read_progress(f, EXERCISES)


def test_progress_block_is_read(tmp_path):
    rules = read(tmp_path, PROGRESS)
    assert rules.target == TargetRule("best_recent", 3, 5.0)
    assert rules.unlocks == (BAND_RULE,)
    assert rules.unlock_for("band_bridge") == BAND_RULE and rules.unlock_for("bridge") is None
    as_list = read(tmp_path, "progress:\n  unlock:\n    - exercise: band_bridge\n"
                             "      when: {exercise: bridge, every_set_at_least_s: 50}\n")
    assert as_list.target == TargetRule()
    assert as_list.unlocks == (UnlockRule("band_bridge", "bridge", 50.0, 3, True),)
    assert read(tmp_path, "progress: {}\n").unlocks == ()


@pytest.mark.parametrize("old, new, message", [
    ("step_s: 5", "step: 5", ":3: progress.target.step: unknown field (did you mean `step_s`?)"),
    ("from: best_recent", "from: best_recnt",
     ":3: progress.target.from: must be one of best_recent, routine; got `best_recnt` "
     "(did you mean `best_recent`?)"),
    ("sessions: 3, step_s", "sessions: 0, step_s", ":3: progress.target.sessions: must be between 1 and 100"),
    ("exercise: band_bridge", "exercise: band_bridg",
     ":5: progress.unlock.exercise: no exercise `band_bridg` in this routine (did you mean `band_bridge`?)"),
    ("exercise: band_bridge", "exercise: bridge",
     ":5: progress.unlock.exercise: `bridge` is not `advanced: true`"),
    ("{exercise: bridge,", "{exercise: neutral_spine,",
     ":6: progress.unlock.when.exercise: `neutral_spine` is a setup step"),
    ("every_set_at_least_s: 60", "every_set_at_least: 60",
     ":6: progress.unlock.when.every_set_at_least: unknown field (did you mean `every_set_at_least_s`?)"),
    ("different_days: true", "different_days: yes please", ":6: progress.unlock.when.different_days: "
                                                           "must be true or false"),
    ("  unlock:", "  unlocks:", ":4: progress.unlocks: unknown field (did you mean `unlock`?)"),
])
def test_progress_block_mistakes_name_the_line_and_field(tmp_path, old, new, message):
    with pytest.raises(RoutineError) as err:
        read(tmp_path, PROGRESS.replace(old, new))
    text = str(err.value)
    assert text.startswith(str(tmp_path / "r.yaml") + message), text
    assert "\n" not in text


def test_unlock_list_mistakes(tmp_path):
    with pytest.raises(RoutineError, match=r"r.yaml:3: progress.unlock\[0\]: each entry must be a mapping"):
        read(tmp_path, "progress:\n  unlock:\n    - band_bridge\n")
    twice = ("progress:\n  unlock:\n" + "    - {exercise: band_bridge, when: {exercise: bridge, "
             "every_set_at_least_s: 60}}\n" * 2)
    with pytest.raises(RoutineError, match="r.yaml:3: progress.unlock: `band_bridge` has two unlock rules"):
        read(tmp_path, twice)


# -- sparkline and chart ---------------------------------------------------------------------------
def test_sparkline():
    assert sparkline([0, 10, 20, 30, 40, 50, 59, 60, 75], 0, 60) == "▁▂▃▄▅▆▇██"
    assert sparkline([30, None, 60], 0, 60) == "▄ █"
    assert sparkline([5, 5], 5, 5) == "██"
    assert sparkline([]) == ""
    assert sparkline([10, 20]) == "▄█"                    # hi defaults to the largest value


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_chart_is_a_png_of_the_asked_size_with_something_drawn(store, tmp_path):
    pytest.importorskip("matplotlib")
    import numpy as np
    from matplotlib.image import imread

    for i, day in enumerate(range(10, 24)):
        add_session(store, at(day), [min(60, 30 + 2 * i + k) for k in (3, 0, -2, -4, -6)])
    out = tmp_path / "holds.png"
    draw_chart(store.holds(), "bridge", out, "Glute bridge", goal_s=60, tz=LONDON, size_px=(900, 500))
    assert png_size(out) == (900, 500)
    pixels = imread(out)
    assert pixels.shape[:2] == (500, 900)
    colours = np.unique((pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50
    not_white = (pixels[..., :3] < 0.95).any(axis=2).mean()
    assert 0.01 < not_white < 0.6


def test_chart_without_matplotlib_says_how_to_install_it(store, tmp_path, monkeypatch):
    add_session(store, at(21), [40])
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.dates", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ChartUnavailableError) as err:
        draw_chart(store.holds(), "bridge", tmp_path / "x.png", "Glute bridge")
    assert "pip install 'coach[chart]'" in str(err.value) and "\n" not in str(err.value)
    assert err.value.exit_code == 2
    assert not (tmp_path / "x.png").exists()


def test_chart_with_no_holds_is_a_usage_error(store, tmp_path):
    with pytest.raises(UsageError, match="no holds of `bridge` to chart yet"):
        draw_chart(store.holds(), "bridge", tmp_path / "x.png", "Glute bridge")


def test_last_time_type_is_exported():
    assert LastTime.__dataclass_params__.frozen            # type: ignore[attr-defined]
