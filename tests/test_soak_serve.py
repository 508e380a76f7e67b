"""Issue 11, item 7: `coach serve` for months. Before, the speech timeline was never trimmed: RSS
grew by about 2 MB a session in quiet mode. scripts/soak_serve.py replays days of serve in file
mode (sessions and idle) and samples RSS, threads and descriptors; this runs a shortened soak."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT

from coach.voice.wording import plural

pytestmark = [pytest.mark.slow, pytest.mark.audio]

_spec = importlib.util.spec_from_file_location("soak_serve", ROOT / "scripts" / "soak_serve.py")
soak_serve = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(soak_serve)  # type: ignore[union-attr]


def test_many_served_sessions_leave_memory_threads_and_fds_flat():
    result = soak_serve.soak(hours=2.0, per_day=480, coach_root=ROOT, voice="flite:rms", sample_every_s=5.0)
    assert result["returncode"] == 0, result["stderr"]
    sessions = result["sessions_planned"]
    assert result["stdout"] == [f"served {plural(sessions, 'session', 'sessions')}, "
                                f"{plural(2 * sessions, 'hold', 'holds')}, 0 reminders"]
    assert result["rss_growth_mb"] < 5, result["samples"]
    assert result["threads_growth"] == 0 and result["fds_growth"] == 0, result["samples"]
