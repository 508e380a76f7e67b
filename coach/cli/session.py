"""`coach run` and `coach serve`: one RunConfig from the shared options, then the runner."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from coach.cli.context import Context
from coach.errors import UsageError
from coach.voice.wording import plural

if TYPE_CHECKING:
    from coach.runner.assemble import RunConfig


def run_config(ctx: Context, input_mode: str, **only_run: Any) -> RunConfig:
    """The settings of one session from the options `run` and `serve` share (see `session_options`)."""
    from coach.runner.assemble import RunConfig

    args, cfg = ctx.args, ctx.config
    return RunConfig(
        routine=ctx.routine, voice=ctx.voice, input_mode=input_mode, data_dir=ctx.data_dir,
        mic_wav=args.mic, speaker_wav=args.speaker, events=args.events, echo_gain=args.echo_gain,
        echo_delay_ms=args.echo_delay_ms, echo_rt60_s=args.echo_rt60_s,
        echo_distortion=args.echo_distortion, aec=args.aec, keep_echo=args.keep_echo,
        engine=cfg.engine.value, model=ctx.model, noise_suppression=cfg.noise_suppression.value,
        input_device=cfg.input_device.value, output_device=cfg.output_device.value, quiet=args.quiet,
        user=ctx.user,
        keep_audio=args.keep_audio, start_at=start_time(ctx), dry_run=args.dry_run, **only_run)


def start_time(ctx: Context) -> datetime | None:
    """`--start-time`: a replay's wall-clock start, or None (not given)."""
    args = ctx.args
    if not args.start_time:
        return None
    if args.mic is None:
        raise UsageError("--start-time is for replays: it goes with --mic IN.wav")
    try:
        return datetime.fromisoformat(args.start_time).astimezone()
    except ValueError as err:
        raise UsageError(f"--start-time: `{args.start_time}` is not a time like 2026-11-27T07:58") from err


def run(ctx: Context) -> int:
    from coach.runner.assemble import run_session
    from coach.runner.display import Display

    args = ctx.args
    input_mode = args.input or ("voice" if args.mic else ctx.config.input_mode.value)
    if args.mic is not None and input_mode == "keys":
        raise UsageError("--mic is a microphone recording: it goes with --input voice")
    resume = args.resume if args.resume is not None or args.mic is None else False
    config = run_config(ctx, input_mode, include_advanced=args.include_advanced, resume=resume)
    result = run_session(config, ctx.env, Display())
    held = f" (seconds: {', '.join(f'{h.held_s:.1f}' for h in result.holds)})" if result.holds else ""
    print(f"session {result.status}: {plural(len(result.holds), 'hold', 'holds')} recorded{held}")
    if result.unsaved:
        print(f"coach: {plural(len(result.unsaved), 'hold', 'holds')} could not be saved to the history",
              file=sys.stderr)
        return 3
    return 130 if result.status == "interrupted" else 0


def serve(ctx: Context) -> int:
    from coach.runner.display import Display
    from coach.runner.serve import serve as serve_forever
    from coach.timeofday import parse_times

    args = ctx.args
    try:
        reminders = parse_times(args.reminder or list(ctx.config.reminders.value))
    except ValueError as err:
        raise UsageError(f"--reminder: {err}") from err
    idle_s = args.idle_timeout_min * 60 if args.idle_timeout_min > 0 else None
    result = serve_forever(run_config(ctx, "voice", idle_timeout_s=idle_s), reminders, ctx.env, Display(),
                           start_at=start_time(ctx), max_sessions=args.max_sessions)
    print(f"served {plural(result.sessions, 'session', 'sessions')}, "
          f"{plural(result.holds, 'hold', 'holds')}, {plural(result.reminders, 'reminder', 'reminders')}")
    return 0
