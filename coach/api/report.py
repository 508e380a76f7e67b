"""`coach report`: one user's progress on one routine as a private HTML page (and a PDF)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from coach.api.history import has_history, open_store
from coach.errors import UsageError


def write_report(data_dir: Path, routine_name: str, user: str, out: Path, pdf: Path | None,
                 now: datetime) -> list[str]:
    """Write the report to `out` (mode 0600) and, when `pdf` is given, print it to that PDF through
    headless Chromium (also 0600); returns the lines that say what was written."""
    from coach.report import build_report, html_to_pdf, render_html, write_private
    from coach.routine.loader import load_routine_named

    routine = load_routine_named(routine_name, data_dir)
    data = None
    if has_history(data_dir):
        with open_store(data_dir) as store:
            data = build_report(routine, user, store.sessions(user=user, routine=routine.name),
                                store.holds(routine=routine.name, user=user),
                                store.unlocks(user=user, routine=routine.name), now.date())
    if data is None:
        raise UsageError(f"no sessions of `{routine.name}` for {user} yet; run `coach run` first")
    write_private(out, render_html(data, now).encode("utf-8"))
    lines = [f"wrote {out} (readable only by you)"]
    if pdf is not None:
        html_to_pdf(out, pdf)
        pdf.chmod(0o600)
        lines.append(f"wrote {pdf}")
    return lines
