"""`coach chart`: held time per set over the days, with the target, drawn to an image file.

matplotlib is an optional extra (`pip install 'coach[chart]'`): it is imported only here, only
when a chart is drawn, so the coach starts fast and runs on a Pi without it. No pyplot: a bare
Figure on the Agg canvas touches no global state and needs no display.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import datetime, tzinfo
from pathlib import Path

from coach.errors import UsageError
from coach.history.store import HoldRecord
from coach.progress.memory import by_session


class ChartUnavailableError(UsageError):
    """matplotlib is not installed."""


def draw_chart(holds: Iterable[HoldRecord], exercise: str, out_path: Path, title: str,
               goal_s: float | None = None, tz: tzinfo | None = None,
               size_px: tuple[int, int] = (1200, 600), dpi: int = 100) -> None:
    """One line per set (held seconds per session), each session's targets as ticks, and the
    routine's `goal_s` (default: the highest target seen) as a dashed line. Format from the suffix."""
    sessions = by_session(holds, exercise)
    if not sessions:
        raise UsageError(f"no holds of `{exercise}` to chart yet; run a session first")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ChartUnavailableError(
            f"drawing a chart needs matplotlib, which is not installed ({err}); install it with "
            f"`{sys.executable} -m pip install 'coach[chart]'` (or `pip install matplotlib`)") from err

    def local(when: datetime) -> datetime:      # naive local time: matplotlib would otherwise use UTC
        return (when.astimezone(tz) if tz is not None else when).replace(tzinfo=None)

    goal = goal_s if goal_s is not None else max(max(s.target_s) for s in sessions)
    fig = Figure(figsize=(size_px[0] / dpi, size_px[1] / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    set_numbers = sorted({n for s in sessions for n in s.sets})
    for index, set_no in enumerate(set_numbers):
        color = f"C{index % 10}"
        done = [(s, s.sets.index(set_no)) for s in sessions if set_no in s.sets]
        days = date2num([local(s.started_at) for s, _ in done])
        ax.plot(days, [s.held_s[i] for s, i in done], marker="o", color=color, label=f"set {set_no}")
        ax.plot(days, [s.target_s[i] for s, i in done], linestyle="none", marker="_", markersize=14,
                color=color, alpha=0.6)
    ax.axhline(goal, color="black", linestyle="--", linewidth=1.2, label=f"target {goal:g} s")
    ax.set_title(title)
    ax.set_ylabel("held (seconds)")
    ax.set_ylim(0, max(goal, max(max(s.held_s) for s in sessions)) * 1.1)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    fmt = out_path.suffix.lstrip(".").lower() or "png"
    try:
        from coach.paths import open_private_binary

        with open_private_binary(out_path) as out:      # 0600: it shows the user's health history
            fig.savefig(out, format=fmt)
    except OSError as err:
        raise UsageError(f"{out_path}: cannot write the chart ({err.strerror or err})") from err
    except ValueError as err:
        raise UsageError(f"{out_path}: cannot draw a `.{fmt}` file ({err}); use .png, .svg or .pdf") from err
