"""coach report: the figures from a real SQLite history, the private self-contained HTML page, and
the page as headless Chromium renders it (a phone-width screenshot that is not blank, the figures
read back from the rendered DOM, a PDF)."""

from __future__ import annotations

import re
import stat
import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import COACH, ROOT

from coach.history.store import Store
from coach.report import build_report, find_chromium, html_to_pdf, render_html, screenshot, write_private
from coach.report.pdf import dump_dom
from coach.routine.loader import load_routine

LONDON = ZoneInfo("Europe/London")
GLUTES = load_routine(ROOT / "coach" / "routine" / "shipped" / "glutes.yaml")
START = datetime(2026, 11, 10, 8, 0, tzinfo=LONDON)
TODAY = date(2026, 11, 23)
MISSED = (3, 7, 8)          # days after START without a session
TWICE = (0, 5, 12)          # days with two sessions


def fill(store: Store) -> dict[str, object]:
    """Two weeks of sessions; returns what the figures must be."""
    cant: list[float] = []
    stopped = 0
    for day in range(14):
        if day in MISSED:
            continue
        for k in range(2 if day in TWICE else 1):
            t0 = START + timedelta(days=day, hours=9 * k)
            sid = store.start_session("glutes", t0, "voice", "en-us")
            t = t0 + timedelta(minutes=2)
            for set_no in range(1, 6):
                held = min(60.0, 30.0 + 2.5 * day - set_no + 0.5)
                by = "target" if held >= 60 else "cant_hold"
                if day == 9 and set_no == 4:
                    held, by = 7.0, "stop"
                store.record_hold(sid, "bridge", set_no, 60.0, held, by, t)
                if by == "cant_hold":
                    cant.append(held)
                stopped += by == "stop"
                t += timedelta(seconds=held + 40)
                if by == "stop":
                    break
            store.end_session(sid, t, "finished")
    store.record_unlock("default", "glutes", "band_bridge", "unlocked", START + timedelta(days=13, hours=1),
                        "said yes")
    sessions = 14 - len(MISSED) + len(TWICE)
    return {"sessions": sessions, "cant": cant, "stopped": stopped}


@pytest.fixture
def history(tmp_path):
    store = Store(tmp_path / "history.sqlite3")
    expected = fill(store)
    data = build_report(GLUTES, "default", store.sessions(), store.holds(), store.unlocks(), TODAY, LONDON)
    store.close()
    assert data is not None
    return data, expected


def test_figures_match_the_history(history):
    data, expected = history
    assert data.sessions == expected["sessions"]
    assert data.first_day == date(2026, 11, 10) and data.days == 14
    assert data.missed_days == tuple(date(2026, 11, 10 + d) for d in MISSED)
    per_day = dict(data.sessions_per_day)
    assert [per_day[date(2026, 11, 10 + d)] for d in TWICE] == [2, 2, 2]
    assert data.streak_days == 5 and data.longest_streak_days == 5          # 19th to 23rd
    assert data.days_in_range == 11
    (bridge,) = data.exercises
    assert [h.held_s for h in bridge.cant_hold] == expected["cant"]
    assert bridge.stopped == expected["stopped"] == 1
    assert all(h.ended_by != "stop" for h in bridge.holds)
    assert [(u.title, u.state, u.day) for u in data.unlocks] == [
        ("Band bridge for the side glutes", "unlocked", date(2026, 11, 23))]


def test_nothing_recorded_is_none(tmp_path):
    store = Store(tmp_path / "h.sqlite3")
    assert build_report(GLUTES, "default", store.sessions(), store.holds(), store.unlocks(), TODAY) is None
    store.close()


def test_page_is_self_contained_and_readable_on_a_phone(history):
    data, _ = history
    page = render_html(data, datetime(2026, 11, 23, 20, 0))
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert not re.search(r"<script|<link|<img|src=|url\(|@import", page)
    assert set(re.findall(r"https?://[^\"' ]+", page)) == {"http://www.w3.org/2000/svg"}   # the SVG namespace
    assert "Glute activation: progress report</h1>" in page
    assert "1-2 sessions a day" in page


def test_written_private_even_over_an_existing_file(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("old")
    out.chmod(0o644)
    write_private(out, b"<html></html>")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_bytes() == b"<html></html>"


needs_chromium = pytest.mark.skipif(find_chromium() is None,
                                    reason="needs Chromium (apt-get install chromium)")


@needs_chromium
def test_chromium_renders_the_figures_and_a_non_blank_page(history, tmp_path):
    pytest.importorskip("matplotlib")
    import numpy as np
    from matplotlib.image import imread

    data, expected = history
    page = tmp_path / "report.html"
    write_private(page, render_html(data, datetime(2026, 11, 23, 20, 0)).encode())
    dom = dump_dom(page)
    figures = dict(re.findall(r'data-figure="([^"]+)">([^<]+)<', dom))
    assert figures["sessions"] == str(expected["sessions"])
    assert figures["missed"] == "3"
    assert figures["streak"] == "5 days"
    assert figures["days"] == "11 of 14"
    assert figures["cant-bridge"] == str(len(expected["cant"]))
    assert figures["best-bridge"] == "60 s"
    shown = [float(v) for v in re.findall(r'data-cant="([0-9.]+)"', dom)]
    assert shown == [round(v, 1) for v in expected["cant"][-len(shown):]]
    assert re.search(r'data-unlock="unlocked"', dom)

    png = tmp_path / "phone.png"
    screenshot(page, png, 412, 1400)
    pixels = imread(png)[..., :3]
    assert pixels.shape[:2] == (1400, 412)
    not_white = (pixels < 0.9).any(axis=2).mean()
    assert 0.03 < not_white < 0.7                                   # drawn, not blank, not a black page
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 30                                        # text, bars and lines, in colour

    pdf = tmp_path / "report.pdf"
    html_to_pdf(page, pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"


@needs_chromium
def test_coach_report_command_writes_private_html_and_pdf(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    store = Store(data_dir / "history.sqlite3")
    fill(store)
    store.close()
    env = {"COACH_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    out, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    done = subprocess.run([*COACH, "report", "--out", str(out), "--pdf", str(pdf)], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and stat.S_IMODE(pdf.stat().st_mode) == 0o600
    assert "Glute bridge: seconds held per set" in out.read_text()
