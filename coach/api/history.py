"""`coach history`, `coach export`, `coach import`: the SQLite history as lines and files."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from coach import paths
from coach.errors import UsageError

if TYPE_CHECKING:
    from coach.history.store import HoldRecord, SessionRecord, Store
    from coach.history.transfer import ExportResult, ImportResult

SESSIONS_SHOWN = 14         # `coach history`: the last this many sessions per exercise


def has_history(data_dir: Path) -> bool:
    return paths.db_path(data_dir).exists()


@contextmanager
def open_store(data_dir: Path, write: bool = True) -> Iterator[Store]:
    """The history store (created, in a private directory, when there is none yet); closed after.

    `write=False` is for commands that only read: an existing history opens read-only when it
    cannot be written (a full disk, a read-only folder), so `history`, `status`, `chart` and
    `export` still work there."""
    from coach.history.store import Store, open_for_reading

    db = paths.db_path(data_dir)
    if not write and db.exists():
        store = open_for_reading(db)
    else:
        store = Store(paths.db_path(paths.ensure_private_dir(data_dir)))
    try:
        yield store
    finally:
        store.close()


def holds(data_dir: Path, user: str | None, routine: str | None = None) -> list[HoldRecord]:
    """`user`'s holds (None: everyone's), oldest first, of one routine or all; none when there is
    no history yet."""
    if not has_history(data_dir):
        return []
    with open_store(data_dir, write=False) as store:
        return store.holds(routine=routine, user=user)


def sessions(data_dir: Path, user: str | None, routine: str | None = None) -> list[SessionRecord]:
    """`user`'s sessions (None: everyone's), of one routine or all; none when there is no history."""
    if not has_history(data_dir):
        return []
    with open_store(data_dir, write=False) as store:
        return store.sessions(user=user, routine=routine)


def feelings(data_dir: Path, user: str | None, routine: str | None = None) -> dict[int, str]:
    """Session id -> how it felt ("felt hard, no pain"), for the sessions with an answer."""
    from coach.progress.feel import feelings as of_sessions

    return of_sessions(sessions(data_dir, user, routine))


def answers(data_dir: Path, user: str | None, routine: str | None = None
            ) -> dict[int, tuple[str | None, bool | None]]:
    """Session id -> (effort, pain): the answers to "how did that feel?" and "any pain?"."""
    return {s.id: (s.effort, s.pain) for s in sessions(data_dir, user, routine)}


def history_lines(holds: Sequence[HoldRecord], feel: Mapping[int, str] | None = None) -> list[str]:
    """Per exercise: a sparkline row per session (the last few, with how it felt when that was
    answered), then the best of each session.
    Text from the history goes through `printable`: an imported file must not drive the terminal."""
    from coach.history.store import printable
    from coach.progress.memory import by_session
    from coach.progress.sparkline import sparkline
    from coach.voice.wording import plural

    lines: list[str] = []
    for exercise in dict.fromkeys(h.exercise for h in holds):
        sessions = by_session(holds, exercise)
        target = max(h.target_s for h in holds if h.exercise == exercise)
        lines.append(printable(f"{exercise}  (target {target:g} s; one row per session, a bar per set)"))
        for s in sessions[-SESSIONS_SHOWN:]:
            held = " ".join(f"{x:4.0f}" for x in s.held_s)
            felt = (feel or {}).get(s.session_id, "")
            lines.append(f"  {s.started_at:%Y-%m-%d %H:%M}  {sparkline(s.held_s, 0, target)}  {held}"
                         + (f"  ({felt})" if felt else ""))
        best = [max(s.held_s) for s in sessions]
        lines.append(f"  best per session: {sparkline(best, 0, target)}  "
                     f"(last {plural(len(best), 'session', 'sessions')})")
    return lines


def history_table(holds: Sequence[HoldRecord], feel: Mapping[int, str] | None = None) -> list[str]:
    """Every hold, one line each (`coach history --all`), with how its session felt when that was
    answered; through `printable` as `history_lines`."""
    from coach.history.store import printable

    lines = [f"{'date':<17} {'user':<8} {'routine':<10} {'exercise':<14} {'set':>3} {'held':>7} "
             f"{'target':>7}  {'ended by':<9} felt"]
    for h in holds:
        felt = (feel or {}).get(h.session_id, "")
        lines.append(printable(f"{h.started_at[:16].replace('T', ' '):<17} {h.user:<8} {h.routine:<10} "
                               f"{h.exercise:<14} {h.set:>3} {h.held_s:>6.1f}s {h.target_s:>6.0f}s  "
                               f"{h.ended_by:<9} {felt}").rstrip())
    return lines


def export_history(data_dir: Path, fmt: str, out: TextIO | Path, user: str | None = None,
                   what: str | None = None) -> ExportResult:
    """Write the history (everyone's, or one user's) as CSV or JSON to a stream or a file (created
    readable by the user only: it is their health data)."""
    from coach.history.transfer import export_holds

    with open_store(data_dir, write=False) as store:
        if not isinstance(out, Path):
            return export_holds(store, fmt, out, user=user, what=what)
        try:
            with paths.open_private(out, newline="") as stream:
                return export_holds(store, fmt, stream, user=user, what=what)
        except OSError as err:
            raise UsageError(f"{out}: cannot write ({err.strerror or err})") from err


def import_history(data_dir: Path, file: Path) -> ImportResult:
    """Add an exported file to the history; what is there already is skipped."""
    from coach.history.transfer import import_file

    with open_store(data_dir) as store:
        return import_file(store, file)
