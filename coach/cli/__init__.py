"""The command line: thin commands over `coach.api` (and the runner, for `run`/`serve`).

    parser.py    every command's options; the options `run` and `serve` share are declared once
    context.py   the parsed arguments with the settings resolved once (command line > environment
                 > config file > default), the data directory and the user
    session.py   coach run, coach serve
    records.py   coach history, status, chart, report, export, import, lock, unlock
    tools.py     coach routines, voices, say, listen, enroll, devices, models, config, doctor

User mistakes and environment faults (`CoachError`) become one line on stderr and an exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from coach.cli import records, session, tools
from coach.cli.context import Context
from coach.cli.parser import build_parser
from coach.errors import CoachError

COMMANDS: dict[str, Callable[[Context], int]] = {
    "run": session.run, "serve": session.serve,
    "history": records.history, "status": records.status, "chart": records.chart,
    "report": records.report, "export": records.export, "import": records.import_,
    "unlock": records.unlock, "lock": records.lock,
    "routines": tools.routines, "voices": tools.voices, "say": tools.say, "listen": tools.listen,
    "enroll": tools.enroll, "devices": tools.devices, "models": tools.models, "config": tools.config,
    "doctor": tools.doctor,
}

__all__ = ["COMMANDS", "build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return COMMANDS[args.command](Context(args, os.environ))
    except CoachError as err:
        print(f"coach: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("coach: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
