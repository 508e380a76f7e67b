"""Issue 11, item 7: `coach serve` for months. Before, the speech timeline was never trimmed: RSS
grew by about 2 MB a session in quiet mode. scripts/soak_serve.py replays days of serve in file
mode (sessions and idle) and samples RSS, threads and descriptors; this runs a shortened soak."""

from __future__ import annotations

import pytest
from conftest import ROOT, load_script

from coach.voice.wording import plural

pytestmark = [pytest.mark.slow, pytest.mark.audio]

soak_serve = load_script("soak_serve")


def test_many_served_sessions_leave_memory_threads_and_fds_flat():
    """Two hours with a session every 3 minutes (40 sessions: two weeks of three a day) and a
    reminder; ~2 minutes here."""
    result = soak_serve.soak(hours=2.0, per_day=480, coach_root=ROOT, voice="flite:rms", sample_every_s=5.0,
                             reminders=("00:05",))
    assert result["returncode"] == 0, result["stderr"]
    sessions = result["sessions_planned"]
    assert result["stdout"] == [f"served {plural(sessions, 'session', 'sessions')}, "
                                f"{plural(2 * sessions, 'hold', 'holds')}, 1 reminder"]
    assert result["reminders_said"] == 1
    positions = [s["audio_s"] for s in result["samples"] if s["audio_s"] is not None]
    assert positions == sorted(positions) and positions[-1] > 1.5 * 3600     # sampled across the replay
    assert result["rss_growth_mb"] < 5, result["samples"]
    assert result["threads_growth"] == 0 and result["fds_growth"] == 0, result["samples"]


def test_more_than_one_wav_holds_is_refused_before_anything_is_made(tmp_path):
    with pytest.raises(SystemExit, match="does not fit one WAV"):
        soak_serve.make_wav(tmp_path / "week.wav", 168.0, 3, "flite:rms")
    assert not (tmp_path / "week.wav").exists()
