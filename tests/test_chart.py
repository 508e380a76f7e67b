"""coach chart: axes, ticks, lines and marks read through matplotlib's own objects, for one session,
one day, a month and a year of history."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from coach.history.store import Store
from coach.progress.chart import draw_chart, time_axis

pytest.importorskip("matplotlib")
LONDON = ZoneInfo("Europe/London")


def add(store: Store, start: datetime, held: list[float], ended: list[str] | None = None) -> None:
    sid = store.start_session("glutes", start, "keys", "en-us")
    t = start + timedelta(minutes=2)
    for set_no, held_s in enumerate(held, 1):
        by = ended[set_no - 1] if ended else ("target" if held_s >= 60 else "cant_hold")
        store.record_hold(sid, "bridge", set_no, 60.0, held_s, by, t)
        t += timedelta(seconds=held_s + 45)
    store.end_session(sid, t, "finished")


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "history.sqlite3")
    yield s
    s.close()


def labels(ax) -> list[str]:
    ax.figure.canvas.draw()
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def chart(store, tmp_path, **kw):
    fig = draw_chart(store.holds(), "bridge", tmp_path / "holds.png", "Glute bridge: seconds held per set",
                     goal_s=60, tz=LONDON, **kw)
    return fig.axes[0]


def test_one_session_spans_hours_of_that_day(store, tmp_path):
    add(store, datetime(2026, 11, 21, 8, 30, tzinfo=LONDON), [42, 38, 35, 30, 28])
    ax = chart(store, tmp_path)
    left, right = ax.get_xlim()
    assert 0.1 < right - left < 0.5                              # hours, not years
    ticks = labels(ax)
    assert ticks and all(len(t) == 5 and t[2] == ":" for t in ticks), ticks      # 06:00, 07:00 ...
    assert "06:00" in ticks and "10:00" in ticks
    assert ax.get_xlabel() == "time on Sat 21 Nov 2026"
    assert ax.get_title() == "Glute bridge: seconds held per set"
    assert ax.get_ylim() == (0, pytest.approx(60 * 1.12))


def test_two_sessions_on_one_day_tick_in_hours_not_seconds(store, tmp_path):
    add(store, datetime(2026, 11, 21, 8, 0, tzinfo=LONDON), [42, 38])
    add(store, datetime(2026, 11, 21, 18, 0, tzinfo=LONDON), [45, 40])
    ticks = labels(chart(store, tmp_path))
    assert set(ticks) >= {"09:00", "12:00", "15:00", "18:00"}
    assert all(t.endswith(":00") for t in ticks)


def test_a_fortnight_in_november_is_labelled_november(store, tmp_path):
    for day in range(10, 24):
        add(store, datetime(2026, 11, day, 8, 0, tzinfo=LONDON), [30 + day, 28 + day])
    ax = chart(store, tmp_path)
    ticks = labels(ax)
    assert all(t.endswith("Nov") for t in ticks), ticks            # no "2026-Dec" for November data
    assert "10 Nov" in ticks
    assert ax.get_xlabel() == "date (2026)"


def test_a_year_ticks_in_months(store, tmp_path):
    start = datetime(2025, 12, 1, 8, 0, tzinfo=LONDON)
    for week in range(0, 53):
        add(store, start + timedelta(weeks=week), [min(60, 20 + week)])
    ticks = labels(chart(store, tmp_path))
    assert "Dec 2025" in ticks and "Jun 2026" in ticks and 6 <= len(ticks) <= 14


def test_target_goals_and_cant_hold_marks_are_drawn(store, tmp_path):
    add(store, datetime(2026, 11, 20, 8, 0, tzinfo=LONDON), [60, 42, 38])
    add(store, datetime(2026, 11, 21, 8, 0, tzinfo=LONDON), [60, 45, 20], ["target", "cant_hold", "stop"])
    ax = chart(store, tmp_path, goals_s=(60, 50, 43))
    target = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(target) == 1 and list(target[0].get_ydata()) == [60, 60]
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1
    assert sorted(crosses[0].get_ydata()) == [38, 42, 45]          # can't hold only; the stopped 20 is out
    set3 = next(line for line in ax.get_lines() if line.get_label() == "set 3")
    assert list(set3.get_ydata()) == [38]                           # a stopped hold is not an attempt
    goals = [seg[0][1] for coll in ax.collections for seg in coll.get_segments()]
    assert sorted(goals) == [43, 50]                 # set 1 aims for the full 60: that is the target line
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["set 1", "set 2", "set 3", "routine target 60 s", "can't hold",
                      "today's goal (per set)"]
    markers = {line.get_marker() for line in ax.get_lines()}
    assert "_" not in markers                                       # no dashes sitting on the target line


def test_time_axis_over_a_year_boundary():
    axis = time_axis(datetime(2026, 12, 28, 8), datetime(2027, 1, 4, 8))
    assert axis.unit == "day" and axis.caption == "date (2026-2027)"


def test_png_written(store, tmp_path):
    add(store, datetime(2026, 11, 21, 8, 30, tzinfo=LONDON), [42])
    chart(store, tmp_path)
    assert Path(tmp_path / "holds.png").read_bytes()[:4] == b"\x89PNG"


def test_chart_and_report_default_to_the_routine_last_run(coach_env, data_dir, tmp_path):
    import subprocess

    from conftest import COACH, ROOT

    store = Store(data_dir / "history.sqlite3")
    sid = store.start_session("short", datetime(2026, 11, 21, 8, 0, tzinfo=LONDON), "keys", "en-us")
    store.record_hold(sid, "bridge", 1, 3.0, 2.5, "cant_hold", datetime(2026, 11, 21, 8, 1, tzinfo=LONDON))
    store.end_session(sid, datetime(2026, 11, 21, 8, 2, tzinfo=LONDON), "finished")
    store.close()
    for args in (["chart", "--out", str(tmp_path / "c.png")], ["report", "--out", str(tmp_path / "r.html")]):
        done = subprocess.run([*COACH, *args], env=coach_env, cwd=str(ROOT), capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr              # not "no holds of the glute bridge yet"
    assert "Short test: progress report" in (tmp_path / "r.html").read_text()
