"""The report as one HTML page: inline CSS and inline SVG charts, no scripts, no fonts, no links
to anything, so it opens the same on a phone, a laptop or printed, and never goes online.

Key figures carry `data-figure="name"` so a test can read them back from the rendered page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from html import escape

from coach.report.data import ExerciseReport, HoldPoint, ReportData
from coach.voice.wording import half_up, plural

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
CANT = "#b00020"
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 480, 260, 38, 24, 12, 30      # SVG user units (about phone width)
FONT = 13
CANT_LISTED = 15

CSS = """
*{box-sizing:border-box}
body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;margin:0;
background:#fff}
main{max-width:900px;margin:0 auto;padding:16px}
h1{font-size:1.5em;margin:.2em 0}
h2{font-size:1.2em;margin:1.6em 0 .4em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.sub{color:#555;margin:0 0 1em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px}
.card{border:1px solid #ddd;border-radius:8px;padding:8px 10px}
.card b{display:block;font-size:1.5em}
.card span{color:#555;font-size:.9em}
svg{width:100%;height:auto;display:block}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.95em;min-width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
.cant{color:#b00020;font-weight:600}
.note{color:#555;font-size:.9em}
@media print{main{max-width:none}h2{break-after:avoid}svg,table{break-inside:avoid}}
"""


def render_html(data: ReportData, generated: datetime) -> str:
    who = "" if data.user == "default" else f" for {escape(data.user)}"
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(data.routine_title)}: progress report</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>{escape(data.routine_title)}: progress report{who}</h1>",
        f'<p class="sub">{_day(data.first_day)} to {_day(data.today)} · made {generated:%d %b %Y %H:%M} '
        f"by coach</p>",
        _cards(data),
        "<h2>Sessions per day</h2>",
        f'<p class="note">The routine asks for {_range(data.per_day_min, data.per_day_max)} a day '
        "(the shaded band). Red marks a missed day.</p>",
        _days_chart(data),
        _missed(data),
    ]
    for exercise in data.exercises:
        parts += _exercise(exercise)
    parts += _feelings(data)
    parts += _unlocks(data)
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _cards(data: ReportData) -> str:
    cards = [("sessions", str(data.sessions), "sessions"),
             ("days", f"{data.days_in_range} of {data.days}", "days with 1-2 sessions"
              if (data.per_day_min, data.per_day_max) == (1, 2) else "days on plan"),
             ("streak", plural(data.streak_days, "day", "days"), "current streak"),
             ("longest-streak", plural(data.longest_streak_days, "day", "days"), "longest streak"),
             ("missed", str(len(data.missed_days)), "missed days")]
    for ex in data.exercises:
        cards.append((f"best-{ex.exercise}", f"{half_up(ex.best_s)} s", f"best {escape(ex.title.lower())}"))
    html = ['<div class="cards">']
    for key, value, label in cards:
        html.append(f'<div class="card"><b data-figure="{key}">{value}</b><span>{label}</span></div>')
    html.append("</div>")
    return "".join(html)


def _days_chart(data: ReportData) -> str:
    days = data.sessions_per_day
    top = max(data.per_day_max + 1, max(n for _, n in days))
    inner_w, inner_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    bar = inner_w / len(days)
    bar_w = min(bar * 0.7, 28.0)           # one day alone is a bar, not a wall

    def y(v: float) -> float:
        return PAD_T + inner_h * (1 - v / top)

    out = [_svg_open("Sessions per day")]
    out.append(f'<rect x="{PAD_L}" y="{y(data.per_day_max):.1f}" width="{inner_w}" '
               f'height="{y(data.per_day_min) - y(data.per_day_max):.1f}" fill="#2ca02c" '
               'opacity=".12"/>')
    for v in range(0, top + 1):
        out.append(_hgrid(y(v), str(v)))
    for i, (day, count) in enumerate(days):
        x = PAD_L + i * bar
        if count:
            out.append(f'<rect x="{x + (bar - bar_w) / 2:.1f}" y="{y(count):.1f}" width="{bar_w:.1f}" '
                       f'height="{y(0) - y(count):.1f}" fill="#1f77b4"><title>{_day(day)}: '
                       f'{plural(count, "session", "sessions")}</title></rect>')
        elif day in data.missed_days:
            out.append(f'<rect x="{x + (bar - bar_w) / 2:.1f}" y="{y(0) - 4:.1f}" width="{bar_w:.1f}" '
                       f'height="4" fill="{CANT}"><title>{_day(day)}: missed</title></rect>')
    out += _day_ticks([d for d, _ in days], lambda i: PAD_L + (i + 0.5) * bar)
    out.append("</svg>")
    return "".join(out)


def _missed(data: ReportData) -> str:
    if not data.missed_days:
        return '<p class="note">No missed days.</p>'
    listed = ", ".join(_day(d) for d in data.missed_days[-20:])
    more = f" (the last 20 of {len(data.missed_days)})" if len(data.missed_days) > 20 else ""
    return f'<p class="note">Missed days{more}: {listed}.</p>'


def _exercise(ex: ExerciseReport) -> list[str]:
    out = [f"<h2>{escape(ex.title)}: seconds held per set</h2>",
           f'<p class="note">Target {ex.hold_s:g} s, {plural(ex.sets, "set", "sets")} a session '
           f"(dashed line). ✕ marks a hold that gave out (can't hold). "
           f'<span data-figure="full-{ex.exercise}">{ex.full_holds}</span> full holds of '
           f'<span data-figure="holds-{ex.exercise}">{len(ex.holds)}</span>.</p>',
           _legend(ex), _hold_chart(ex), _hold_table(ex)]
    cant = ex.cant_hold
    out.append(f"<h2>{escape(ex.title)}: can't-hold times</h2>")
    if not cant:
        out.append('<p class="note">Every hold went to the target or was ended by choice.</p>')
    else:
        rows = "".join(f"<tr><td>{h.when:%d %b %Y %H:%M}</td><td>{h.set_no}</td>"
                       f'<td class="cant" data-cant="{h.held_s:.1f}">{h.held_s:.1f} s</td>'
                       f"<td>{h.target_s:g} s</td></tr>" for h in cant[-CANT_LISTED:])
        if len(cant) > CANT_LISTED:
            out.append(f'<p class="note">The last {CANT_LISTED} of <span data-figure="cant-{ex.exercise}">'
                       f"{len(cant)}</span>; every one is in the table above, marked ✕.</p>")
        else:
            out.append(f'<p class="note"><span data-figure="cant-{ex.exercise}">{len(cant)}</span> '
                       "in all.</p>")
        out.append('<div class="scroll"><table><tr><th>when</th><th>set</th><th>held</th>'
                   f"<th>target</th></tr>{rows}</table></div>")
    if ex.stopped:
        out.append(f'<p class="note">{plural(ex.stopped, "hold was", "holds were")} stopped part-way '
                   "(the session was stopped); they are left out above.</p>")
    return out


def _hold_chart(ex: ExerciseReport) -> str:
    times = [h.when.timestamp() for h in ex.holds]
    t0, t1 = min(times), max(times)
    if t1 - t0 < 3600:
        t0, t1 = t0 - 1800, t1 + 1800
    top = max(ex.hold_s, max(h.held_s for h in ex.holds)) * 1.1
    inner_w, inner_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def x(t: float) -> float:
        return PAD_L + inner_w * (t - t0) / (t1 - t0)

    def y(v: float) -> float:
        return PAD_T + inner_h * (1 - v / top)

    out = [_svg_open(f"{ex.title}: seconds held per set")]
    step = 10 if top <= 80 else 30 if top <= 240 else 60
    for v in range(0, int(top) + 1, step):
        out.append(_hgrid(y(v), str(v)))
    out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y(ex.hold_s):.1f}" y2="{y(ex.hold_s):.1f}" '
               'stroke="#000" stroke-dasharray="6 4" stroke-width="1.2"/>')
    for set_no in sorted({h.set_no for h in ex.holds}):
        colour = COLOURS[(set_no - 1) % len(COLOURS)]
        pts = [h for h in ex.holds if h.set_no == set_no]
        path = " ".join(f"{x(h.when.timestamp()):.1f},{y(h.held_s):.1f}" for h in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
        for h in pts:
            cx, cy = x(h.when.timestamp()), y(h.held_s)
            if h.ended_by == "cant_hold":
                out.append(f'<path d="M{cx - 4:.1f},{cy - 4:.1f}l8,8m0,-8l-8,8" stroke="{CANT}" '
                           f'stroke-width="2"><title>set {set_no}: {h.held_s:.1f} s, '
                           "can't hold</title></path>")
            else:
                out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2.6" fill="{colour}">'
                           f"<title>set {set_no}: {h.held_s:.1f} s</title></circle>")
    days = sorted({h.day for h in ex.holds})
    out += _day_ticks(days, lambda i: x(datetime.combine(days[i], datetime.min.time(),
                                                         ex.holds[0].when.tzinfo).timestamp() + 43200))
    out.append("</svg>")
    return "".join(out)


def _legend(ex: ExerciseReport) -> str:
    keys = [f'<span style="color:{COLOURS[(n - 1) % len(COLOURS)]}">● set {n}</span>'
            for n in sorted({h.set_no for h in ex.holds})]
    keys += ['<span class="cant">✕ can\'t hold</span>', "<span>- - target</span>"]
    return f'<p class="note">{" &nbsp; ".join(keys)}</p>'


def _hold_table(ex: ExerciseReport) -> str:
    """One row per session (its first hold's time), a column per set."""
    sessions: dict[int, dict[int, HoldPoint]] = {}
    for h in ex.holds:
        sessions.setdefault(h.session_id, {})[h.set_no] = h
    head = "".join(f"<th>set {n}</th>" for n in range(1, ex.sets + 1))
    rows = []
    for sets in sorted(sessions.values(), key=lambda s: min(h.when for h in s.values())):
        cells = []
        for n in range(1, ex.sets + 1):
            point = sets.get(n)
            if point is None:
                cells.append("<td>–</td>")
            elif point.ended_by == "cant_hold":
                cells.append(f'<td class="cant">{half_up(point.held_s)} ✕</td>')
            else:
                cells.append(f"<td>{half_up(point.held_s)}</td>")
        first = min(h.when for h in sets.values())
        rows.append(f"<tr><td>{first:%d %b %Y %H:%M}</td>{''.join(cells)}</tr>")
    return f'<div class="scroll"><table><tr><th>session</th>{head}</tr>{"".join(rows)}</table></div>'


def _feelings(data: ReportData) -> list[str]:
    """How each session felt, as the user answered after the last set."""
    out = ["<h2>How it felt</h2>"]
    if not data.feelings:
        return [*out, '<p class="note">No answers yet to "How did that feel?" and "Any pain?" '
                "(asked after the last set).</p>"]
    counts = ", ".join(f'<span data-figure="felt-{e}">{data.effort_count(e)}</span> {e}'
                       for e in ("easy", "okay", "hard"))
    out.append(f'<p class="note">After the last set: {counts}; pain in '
               f'<span data-figure="felt-pain">{data.pain_count}</span> of '
               f'{plural(len(data.feelings), "answered session", "answered sessions")}.</p>')
    rows = []
    for f in data.feelings[-CANT_LISTED * 2:]:
        pain = "–" if f.pain is None else "yes" if f.pain else "no"
        cls = ' class="cant"' if f.pain else ""
        effort = f.effort or ""
        rows.append(f'<tr><td>{f.when:%d %b %Y %H:%M}</td><td data-effort="{effort}">'
                    f"{effort or '–'}</td><td{cls}>{pain}</td></tr>")
    out.append('<div class="scroll"><table><tr><th>session</th><th>felt</th><th>pain</th></tr>'
               f"{''.join(rows)}</table></div>")
    return out


def _unlocks(data: ReportData) -> list[str]:
    if not data.unlocks:
        return []
    rows = "".join(f"<tr><td>{_day(u.day)}</td><td>{escape(u.title)}</td>"
                   f'<td data-unlock="{u.state}">{u.state}</td><td>{escape(u.why)}</td></tr>'
                   for u in data.unlocks)
    return ["<h2>Advanced step</h2>",
            '<div class="scroll"><table><tr><th>day</th><th>exercise</th><th>state</th><th>why</th></tr>'
            f"{rows}</table></div>"]


def _svg_open(label: str) -> str:
    return (f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="{escape(label)}" '
            'xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif">')


def _hgrid(y: float, label: str) -> str:
    return (f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>'
            f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" font-size="{FONT}" text-anchor="end" '
            f'fill="#555">{label}</text>')


def _day_ticks(days: Sequence[date], x_of: Callable[[int], float]) -> list[str]:
    if not days:
        return []
    every = max(1, -(-len(days) // 6))
    out = []
    for i in range(0, len(days), every):
        x = x_of(i)
        out.append(f'<text x="{x:.1f}" y="{H - PAD_B + 16}" font-size="{FONT}" text-anchor="middle" '
                   f'fill="#555">{days[i]:%d %b}</text>')
    return out


def _day(day: date) -> str:
    return f"{day:%a %d %b %Y}"


def _range(low: int, high: int) -> str:
    return plural(low, "session", "sessions") if low == high else f"{low}-{high} sessions"
