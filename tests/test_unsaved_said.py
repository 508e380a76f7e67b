"""Issue 11: the coach never says "your holds are saved" when some were kept aside.

The session core ends a stopped session with the voice pack's `stopped` line ("Stopping here. Your
holds are saved."). When the history refused some holds (a full or read-only disk), the runner says
`stopped_unsaved` instead, and the finishing path prints where they were kept and the
`coach import` command. In-process sessions from tests/test_faults.py with a real Store that a
read-only SQLite connection makes refuse writes.
"""

from __future__ import annotations

from pathlib import Path

from test_faults import ReadOnlyFor, Run

STOP_IN_REST = [(5.0, "ready"), (10.0, "cant_hold"), (14.0, "stop")]
STOP_IN_HOLD = [(5.0, "ready"), (9.0, "stop")]


def _last_say(run: Run) -> dict:
    return run.records("say")[-1]


def test_a_healthy_history_hears_the_usual_stop_line(tmp_path: Path, voice) -> None:
    run = Run(tmp_path, voice, script=STOP_IN_REST)
    result = run.run()
    assert result.status == "stopped" and result.unsaved == []
    assert (_last_say(run)["line"], _last_say(run)["text"]) == ("stopped", voice.line("stopped"))


def test_holds_kept_aside_are_never_called_saved(tmp_path: Path, voice) -> None:
    for name, script, held in (("rest", STOP_IN_REST, 1), ("hold", STOP_IN_HOLD, 1)):
        store = ReadOnlyFor(tmp_path / name / "history.sqlite3")
        store.fail_writes = 1000
        run = Run(tmp_path / name, voice, store=store, script=script)
        result = run.run()
        assert result.status == "stopped" and len(result.unsaved) == held, name
        said = _last_say(run)
        assert said["line"] == "stopped_unsaved", name
        assert said["text"] == voice.line("stopped_unsaved", holds=held)
        assert "saved." not in said["text"].lower() and "could not" in said["text"]
        assert said["text"] in run.out.getvalue()           # printed as well as spoken


def test_the_stop_line_is_the_usual_one_when_the_retry_at_the_stop_succeeds(tmp_path: Path, voice) -> None:
    """Set 1's write fails; the retry at the stop-mid-hold works: everything is saved by the stop."""
    store = ReadOnlyFor(tmp_path / "history.sqlite3")
    store.fail_writes = 1
    run = Run(tmp_path, voice, store=store, script=[(5.0, "ready"), (10.0, "cant_hold"),
                                                     (20.0, "ready"), (23.5, "stop")])
    result = run.run()
    assert result.unsaved == [] and _last_say(run)["line"] == "stopped"
