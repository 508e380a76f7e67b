"""`coach history`, `status`, `chart`, `report`, `export`, `import`, `lock`, `unlock`: print what
coach.api returns."""

from __future__ import annotations

import sys
from datetime import datetime

from coach.api import history as hist
from coach.api import progress
from coach.api import report as reports
from coach.cli.context import Context
from coach.voice.wording import plural


def history(ctx: Context) -> int:
    args = ctx.args
    if not hist.has_history(ctx.data_dir):
        if not args.json:
            print("no history yet; run `coach run` to start one")
        return 0
    holds = hist.holds(ctx.data_dir, ctx.named_user, routine=args.routine)
    if args.json:
        said = hist.answers(ctx.data_dir, ctx.named_user, routine=args.routine)
        for hold in holds:
            effort, pain = said.get(hold.session_id, (None, None))
            print(hold.to_json(effort=effort, pain=pain))       # the session's answers, on each hold
    elif not holds:
        print("no holds recorded yet" + (f" for {ctx.named_user}" if ctx.named_user else ""))
    else:
        feel = hist.feelings(ctx.data_dir, ctx.named_user, routine=args.routine)
        _print(hist.history_table(holds, feel) if args.all else hist.history_lines(holds, feel))
    return 0


def status(ctx: Context) -> int:
    _print(progress.status_lines(ctx.data_dir, ctx.routine, ctx.user, datetime.now().astimezone().date()))
    return 0


def chart(ctx: Context) -> int:
    out = progress.chart(ctx.data_dir, ctx.routine_to_show, ctx.user, ctx.args.exercise, ctx.args.out)
    print(f"wrote {out}")
    return 0


def report(ctx: Context) -> int:
    _print(reports.write_report(ctx.data_dir, ctx.routine_to_show, ctx.user, ctx.args.out, ctx.args.pdf,
                                datetime.now().astimezone()))
    return 0


def export(ctx: Context) -> int:
    args = ctx.args
    result = hist.export_history(ctx.data_dir, args.format, sys.stdout if args.out is None else args.out,
                                 user=ctx.named_user, what=args.what)
    print(f"exported {plural(result.sessions, 'session', 'sessions')}, "
          f"{plural(result.holds, 'hold', 'holds')}", file=sys.stderr)
    return 0


def import_(ctx: Context) -> int:
    result = hist.import_history(ctx.data_dir, ctx.args.file)
    print(f"imported {plural(result.sessions_added, 'session', 'sessions')}, "
          f"{plural(result.holds_added, 'hold', 'holds')}; "
          f"{result.skipped_duplicates} already there")
    return 0


def unlock(ctx: Context) -> int:
    return _set_unlock(ctx, progress.UnlockState.UNLOCKED)


def lock(ctx: Context) -> int:
    return _set_unlock(ctx, progress.UnlockState.LOCKED)


def _set_unlock(ctx: Context, state: progress.UnlockState) -> int:
    print(progress.set_unlock(ctx.data_dir, ctx.routine, ctx.user, ctx.args.exercise, state,
                              datetime.now().astimezone()))
    return 0


def _print(lines: list[str]) -> None:
    for line in lines:
        print(line)
