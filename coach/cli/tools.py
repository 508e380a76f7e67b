"""`coach routines`, `voices`, `say`, `listen`, `enroll`, `devices`, `models`, `config`, `doctor`."""

from __future__ import annotations

import sys
from pathlib import Path

from coach.api import library
from coach.audio.chunk import Microphone
from coach.cli.context import Context
from coach.errors import AudioDeviceError, UsageError


def routines(ctx: Context) -> int:
    _print(library.routine_lines(ctx.data_dir))
    return 0


def voices(ctx: Context) -> int:
    _print(library.voice_lines(ctx.data_dir))
    return 0


def say(ctx: Context) -> int:
    args = ctx.args
    if args.list_voices:
        _print(library.engine_voice_lines())
        return 0
    try:
        written = library.say(args.text or "", ctx.voice, ctx.data_dir, args.out)
    except AudioDeviceError:
        print(args.text)        # no sound card: show the words at least (the error says how to keep them)
        raise
    if written is not None:
        print(written)
    return 0


def listen(ctx: Context) -> int:
    from coach.runner.listen import listen as listen_for_commands

    args, cfg = ctx.args, ctx.config
    return listen_for_commands(files=args.files, as_json=args.json, voice_name=ctx.voice,
                               engine=cfg.engine.value, model=ctx.model, device=cfg.input_device.value,
                               data_dir=ctx.data_dir, env=ctx.env, user=ctx.user,
                               noise_suppression=cfg.noise_suppression.value)


def enroll(ctx: Context) -> int:
    from coach.api.enroll import enroll_from_dir, enroll_live

    args = ctx.args
    if args.from_dir is not None:
        enrolled = enroll_from_dir(args.from_dir, ctx.voice, ctx.data_dir, ctx.user)
    else:
        if not 1 <= args.takes <= 5:
            raise UsageError(f"--takes must be between 1 and 5, not {args.takes}")
        commands = [c.strip() for c in args.commands.split(",") if c.strip()] if args.commands else None
        mic = _enroll_microphone(args.mic, ctx.config.input_device.value)
        try:
            enrolled = enroll_live(mic, ctx.voice, ctx.data_dir, ctx.user, args.takes, commands,
                                   lambda line: print(f"coach: {line}", file=sys.stderr, flush=True))
        except KeyboardInterrupt:
            print("coach: enrollment stopped; nothing adapted", file=sys.stderr)
            return 130
        finally:
            mic.close()
    _print(enrolled.lines)
    return 0 if enrolled.saved is not None else 1


def _enroll_microphone(wav: Path | None, device: object) -> Microphone:
    if wav is not None:
        from coach.audio.wav import WavMicrophone

        return WavMicrophone(wav)
    from coach.audio.live import LiveMicrophone

    return LiveMicrophone(device)  # type: ignore[arg-type]


def devices(ctx: Context) -> int:
    from coach.audio.devices import format_devices, list_devices

    print(format_devices(list_devices()))
    return 0


def models(ctx: Context) -> int:
    from coach import models as m
    from coach.models.pins import pins_path, read_pins

    args = ctx.args
    data = ctx.data_dir
    base_url = m.resolve_base_url(getattr(args, "base_url", None), ctx.env)
    if args.models_command in (None, "list"):
        catalog = m.load_catalog(base_url, refresh=bool(getattr(args, "refresh", False)))
        installed = m.installed_models(data)
        _print(m.model_list_lines(catalog, installed, show_obsolete=bool(getattr(args, "all", False)),
                                  pins=read_pins(m.models_dir(data))))
        if catalog.note:
            print(catalog.note, file=sys.stderr)
        return 0
    entry = m.entry_for(args.name or m.DEFAULT_MODEL, base_url)
    try:
        result = m.download_model(entry, m.models_dir(data), force=args.force,
                                  allow_unverified=args.allow_unverified)
    except m.ModelAlreadyInstalledError as err:
        print(f"coach: {err}", file=sys.stderr)
        return 0
    pinned = {"pinned now": f"; its sha256 {result.archive_sha256} is now pinned in "
                            f"{pins_path(m.models_dir(data))}",
              "matches the pin": "; its sha256 matches the one pinned at the first download"}
    print(f"installed {result.name} in {result.path} (checked with {result.checked_with}"
          f"{pinned.get(result.pinned, '')})")
    return 0


def config(ctx: Context) -> int:
    from coach.config import config_file, format_config, init_config

    if ctx.args.init:
        print(f"wrote {init_config(config_file(ctx.args.config, ctx.env)[0])}")
        return 0
    print(format_config(ctx.config))
    return 0


def doctor(ctx: Context) -> int:
    from coach.doctor import exit_status, format_checks, make_context, run_doctor

    checks = run_doctor(make_context(ctx.args.config, ctx.env, ctx.overrides, ctx.args.audio_test))
    print(format_checks(checks))
    return exit_status(checks)


def _print(lines: list[str]) -> None:
    for line in lines:
        print(line)
