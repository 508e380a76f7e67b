"""`coach run` and `coach serve` declare their shared options once: same flags, same help."""

from __future__ import annotations

import argparse

from coach.cli import COMMANDS, build_parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _options(p: argparse.ArgumentParser) -> dict[str, str | None]:
    return {a.option_strings[-1]: a.help for a in p._actions if a.option_strings}


def test_run_and_serve_share_options_with_identical_help():
    subs = _subparsers(build_parser())
    run, serve = _options(subs["run"]), _options(subs["serve"])
    shared = {"--mic", "--speaker", "--events", "--voice", "--echo-gain", "--device", "--output-device",
              "--quiet", "--keep-audio", "--engine", "--model", "--user", "--data-dir", "--config",
              "--start-time", "--dry-run"}     # issue 11: a replay's clock, and a run that saves nothing
    assert shared <= set(run) and shared <= set(serve)
    assert {flag: run[flag] for flag in shared} == {flag: serve[flag] for flag in shared}


def test_every_command_has_a_handler():
    assert set(_subparsers(build_parser())) == set(COMMANDS)


def test_start_time_is_for_replays_and_must_be_a_time():
    """Issue 11: `--start-time` (run and serve alike) goes with --mic and reads as an ISO time."""
    import pytest

    from coach.cli.context import Context
    from coach.cli.session import start_time
    from coach.errors import UsageError

    parser = build_parser()
    for command in ("run", "serve"):
        def ctx(*argv: str, command: str = command) -> Context:
            return Context(parser.parse_args([command, *argv]), {})
        assert start_time(ctx()) is None
        stamped = start_time(ctx("--mic", "x.wav", "--start-time", "2026-11-27T08:00"))
        assert stamped is not None and stamped.tzinfo is not None
        assert (stamped.hour, stamped.minute) == (8, 0)
        with pytest.raises(UsageError, match="goes with --mic"):
            start_time(ctx("--start-time", "2026-11-27T08:00"))
        with pytest.raises(UsageError, match="not a time like"):
            start_time(ctx("--mic", "x.wav", "--start-time", "tomorrow"))
