"""`coach chart`: held time per set over the days, with the routine's target, drawn to an image file.

matplotlib is an optional extra (`pip install 'coach[chart]'`): it is imported only here, only
when a chart is drawn, so the coach starts fast and runs on a Pi without it. No pyplot: a bare
Figure on the Agg canvas touches no global state and needs no display.

What it shows: one line per set (seconds held, per session); the routine's full hold as a dashed
line; today's personal goal for each set as a short dotted line at the right; holds that gave
out ("can't hold") marked with a cross. A hold cut short by `stop` is not an attempt and is left
out. How each session felt, when it was answered ("how did that feel?", "any pain?"), is written
above its holds: easy, okay or hard, and "pain" in red. The time axis is chosen from the span of
the data, so one session, a day, a month and a year all get readable ticks (hours, days, months),
never seconds or a six-year range.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from coach.errors import UsageError
from coach.history.store import HoldRecord, SessionRecord
from coach.progress.memory import attempts

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class ChartUnavailableError(UsageError):
    """matplotlib is not installed."""


@dataclass(frozen=True)
class TimeAxis:
    """The x range (naive local datetimes) and how to tick it."""

    start: datetime
    end: datetime
    unit: str           # "hour" | "day" | "month"
    step: int           # ticks every `step` units
    label_format: str   # strftime for the tick labels
    caption: str        # the axis label (names the day or the year when the ticks do not)


def time_axis(first: datetime, last: datetime) -> TimeAxis:
    """A readable x axis for data from `first` to `last` (naive local times)."""
    span = last - first
    if first.date() == last.date():             # one session, or several on one day: hours
        hours = span.total_seconds() / 3600
        start = first.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
        end = last.replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
        step = 1 if hours < 4 else 2 if hours < 10 else 3
        return TimeAxis(start, end, "hour", step, "%H:%M", f"time on {first:%a %d %b %Y}")
    if span <= timedelta(days=62):              # days
        start = datetime.combine(first.date(), datetime.min.time()) - timedelta(hours=12)
        end = datetime.combine(last.date(), datetime.min.time()) + timedelta(hours=36)
        days = (last.date() - first.date()).days + 1
        step = max(1, math.ceil(days / 10))
        years = f"{first:%Y}" if first.year == last.year else f"{first:%Y}-{last:%Y}"
        return TimeAxis(start, end, "day", step, "%d %b", f"date ({years})")
    start = datetime(first.year, first.month, 1)
    end = datetime(last.year + (last.month == 12), last.month % 12 + 1, 1)
    months = (end.year - start.year) * 12 + end.month - start.month
    step = max(1, math.ceil(months / 12))
    return TimeAxis(start, end, "month", step, "%b %Y", "month")


CANT_COLOUR = "#b00020"
FEEL_COLOUR = {"easy": "#2ca02c", "okay": "#555555", "hard": "#d95f02"}
FELT_WORDS_MAX = 20         # more answered sessions than this: dots instead of words (they would overlap)


def _felt_points(mine: Sequence[HoldRecord], sessions: Sequence[SessionRecord],
                 local: Callable[[str], datetime]) -> list[tuple[datetime, str | None, bool | None]]:
    """(time of the session's first hold, effort, pain) for each charted session with an answer."""
    first: dict[int, datetime] = {}
    for h in mine:
        when = local(h.started_at)
        first[h.session_id] = min(first.get(h.session_id, when), when)
    return [(first[s.id], s.effort, s.pain) for s in sessions
            if s.id in first and (s.effort is not None or s.pain is not None)]


def draw_chart(holds: Iterable[HoldRecord], exercise: str, out_path: Path, title: str,
               goal_s: float | None = None, tz: tzinfo | None = None,
               size_px: tuple[int, int] = (1200, 600), dpi: int = 100,
               goals_s: Sequence[float] = (), sessions: Sequence[SessionRecord] = ()) -> Figure:
    """Draw the chart to `out_path` (format from the suffix) and return the Figure.

    `goal_s` is the routine's full hold (default: the highest target seen); `goals_s` today's
    personal goal per set (set 1 first), drawn when given; `sessions` give how each one felt."""
    mine = [h for h in attempts(holds) if h.exercise == exercise]
    if not mine:
        raise UsageError(f"no holds of `{exercise}` to chart yet; run a session first")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.dates import DateFormatter, DayLocator, HourLocator, MonthLocator, date2num
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
    except ImportError as err:
        raise ChartUnavailableError(
            f"drawing a chart needs matplotlib, which is not installed ({err}); install it with "
            f"`{sys.executable} -m pip install 'coach[chart]'` (or `pip install matplotlib`)") from err

    def local(when: str) -> datetime:      # naive local time: matplotlib would otherwise use UTC
        moment = datetime.fromisoformat(when)
        return (moment.astimezone(tz) if tz is not None else moment.astimezone()).replace(tzinfo=None)

    target = goal_s if goal_s is not None else max(h.target_s for h in mine)
    fig = Figure(figsize=(size_px[0] / dpi, size_px[1] / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    times = [local(h.started_at) for h in mine]
    axis = time_axis(min(times), max(times))
    set_numbers = sorted({h.set for h in mine})
    for index, set_no in enumerate(set_numbers):
        color = f"C{index % 10}"
        points = sorted((local(h.started_at), h) for h in mine if h.set == set_no)
        xs = date2num([when for when, _ in points])
        ax.plot(xs, [h.held_s for _, h in points], marker="o", markersize=4, color=color,
                linewidth=1.5, label=f"set {set_no}")
        if index < len(goals_s) and goals_s[index] < target:     # a full-hold goal is the target line
            ax.hlines(goals_s[index], date2num(max(times)), date2num(axis.end), colors=color,
                      linestyles=":", linewidth=2)
    gave_out = [(local(h.started_at), h.held_s) for h in mine if h.ended_by == "cant_hold"]
    felt = _felt_points(mine, sessions, local)
    if gave_out:
        ax.plot(date2num([w for w, _ in gave_out]), [s for _, s in gave_out], linestyle="none",
                marker="x", markersize=6, markeredgewidth=1.5, color="#b00020", zorder=5)
    ax.axhline(target, color="black", linestyle="--", linewidth=1.2)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="black", linestyle="--"))
    labels.append(f"routine target {target:g} s")
    if gave_out:
        handles.append(Line2D([], [], color="#b00020", marker="x", linestyle="none", markeredgewidth=1.5))
        labels.append("can't hold")
    if goals_s:
        handles.append(Line2D([], [], color="grey", linestyle=":", linewidth=2))
        labels.append("today's goal (per set)")
    if felt and len(felt) <= FELT_WORDS_MAX:
        handles.append(Line2D([], [], color="none"))
        labels.append("above: how it felt")
    elif felt:
        for word, colour in FEEL_COLOUR.items():
            handles.append(Line2D([], [], color=colour, marker="o", linestyle="none"))
            labels.append(f"felt {word}")
        handles.append(Line2D([], [], color=CANT_COLOUR, marker="v", linestyle="none"))
        labels.append("pain")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              borderaxespad=0)      # beside the plot, never over the data
    ax.set_title(title)
    ax.set_ylabel("seconds held")
    ax.set_xlabel(axis.caption)
    top = max(target, max(h.held_s for h in mine), max(goals_s, default=0.0))
    ax.set_ylim(0, top * (1.3 if felt else 1.12))
    words_fit = len(felt) <= FELT_WORDS_MAX
    for when, effort, pain in felt:
        colour = FEEL_COLOUR.get(effort or "", "black")
        if words_fit:
            words = "\n".join(w for w in (effort, "pain" if pain else "") if w)
            ax.text(date2num(when), top * 1.16, words, ha="center", va="bottom", fontsize="small",
                    color=CANT_COLOUR if pain else colour, gid="felt")
            continue
        if effort is not None:          # too many sessions for words: a coloured dot each, pain above
            ax.plot([date2num(when)], [top * 1.16], marker="o", markersize=4, color=colour, gid="felt")
        if pain:
            ax.plot([date2num(when)], [top * 1.23], marker="v", markersize=5, color=CANT_COLOUR, gid="felt")
    ax.set_xlim(date2num(axis.start), date2num(axis.end))
    locator = {"hour": HourLocator(interval=axis.step), "day": DayLocator(interval=axis.step),
               "month": MonthLocator(interval=axis.step)}[axis.unit]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(DateFormatter(axis.label_format))
    ax.grid(True, alpha=0.3)
    fmt = out_path.suffix.lstrip(".").lower() or "png"
    try:
        from coach.paths import open_private_binary

        with open_private_binary(out_path) as out:      # 0600: it shows the user's health history
            fig.savefig(out, format=fmt)
    except OSError as err:
        raise UsageError(f"{out_path}: cannot write the chart ({err.strerror or err})") from err
    except ValueError as err:
        raise UsageError(f"{out_path}: cannot draw a `.{fmt}` file ({err}); use .png, .svg or .pdf") from err
    return fig
