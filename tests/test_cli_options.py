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
              "--quiet", "--keep-audio", "--engine", "--model", "--user", "--data-dir", "--config"}
    assert shared <= set(run) and shared <= set(serve)
    assert {flag: run[flag] for flag in shared} == {flag: serve[flag] for flag in shared}


def test_every_command_has_a_handler():
    assert set(_subparsers(build_parser())) == set(COMMANDS)
