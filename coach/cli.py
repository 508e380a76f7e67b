"""The command line. Arguments become plain values here; user mistakes become one line and an exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from coach import __version__, defaults, paths
from coach.errors import CoachError, UsageError

EPILOG = """\
everyday use:
  coach run                      the glute routine, spoken, controlled from the keyboard
  coach run --input voice        hands-free: say "ready", "done", "can't hold", "pause", "stop"
  coach history                  what you held, session by session
  coach listen                   check that coach hears you (Ctrl-C to stop)

files: routines and voices are YAML; your own go in DATA_DIR/routines and DATA_DIR/voices.
DATA_DIR is --data-dir, else $COACH_DATA_DIR, else $XDG_DATA_HOME/coach (~/.local/share/coach).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coach", description="An offline, voice-guided exercise coach.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"coach {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_: str, epilog: str = "") -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_, epilog=epilog,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--data-dir", type=Path, metavar="DIR",
                       help="where history, your routines, voices and models live "
                            "(default: $COACH_DATA_DIR or ~/.local/share/coach)")
        p.add_argument("--config", type=Path, metavar="FILE",
                       help="configuration file (default: $COACH_CONFIG or ~/.config/coach/config.yaml)")
        return p

    run = add("run", "Coach a routine: narrate, count the holds, record what you managed.", RUN_EPILOG)
    run.add_argument("routine", nargs="?", default=None,
                     help=f"routine name or .yaml path (default: {defaults.ROUTINE}, or the config file's; "
                          "see `coach routines`)")
    run.add_argument("--input", choices=("keys", "voice"), default=None,
                     help="keys: the keyboard (default); voice: spoken commands (default with --mic)")
    run.add_argument("--mic", type=Path, metavar="IN.wav",
                     help="read the microphone from a WAV file instead of a device (replays, tests)")
    run.add_argument("--speaker", type=Path, metavar="OUT.wav",
                     help="write what the coach says into a WAV file, at the times it would be heard")
    run.add_argument("--events", type=Path, metavar="OUT.jsonl",
                     help="write every event as one JSON line (see the README for the format)")
    run.add_argument("--voice", help=f"voice pack (default: {defaults.VOICE})")
    run.add_argument("--include-advanced", action="store_true",
                     help="include the advanced exercises (the band bridge) now")
    run.add_argument("--echo-gain", type=float, default=0.0, metavar="G",
                     help="with --mic: mix the coach's own voice back into the microphone at gain G "
                          "(a room simulation for testing self-trigger immunity)")
    _recognizer_args(run)
    run.add_argument("--device", metavar="IN", help="microphone: device name or index (`coach devices`)")
    run.add_argument("--output-device", metavar="OUT", help="speaker: device name or index")
    run.add_argument("--quiet", action="store_true", help="print the coach's words instead of speaking")
    run.add_argument("--keep-audio", type=Path, metavar="MIC.wav",
                     help="record the microphone to a WAV (to replay with --mic); nothing is kept otherwise")
    run.add_argument("--start-time", metavar="ISO", help="with --mic: the wall-clock time the recording "
                     "starts at (default: the file's own start, from its modification time)")
    run.add_argument("--dry-run", action="store_true",
                     help="run the session against a copy of the history: nothing is saved")
    resume = run.add_mutually_exclusive_group()
    resume.add_argument("--resume", dest="resume", action="store_true", default=None,
                        help="carry on with today's unfinished session (after a crash) without asking")
    resume.add_argument("--no-resume", dest="resume", action="store_false",
                        help="start afresh without asking (the default when replaying --mic)")
    _user_arg(run)

    serve = add("serve", "Smart-speaker mode: wait for \"start my exercises\", run the session, "
                         "speak reminders, repeat.", SERVE_EPILOG)
    serve.add_argument("--routine", help=f"what \"start my exercises\" runs (default: {defaults.ROUTINE})")
    serve.add_argument("--reminder", action="append", default=[], metavar="HH:MM",
                       help="speak a reminder at this time of day (repeatable, e.g. 08:00 and 18:00)")
    serve.add_argument("--mic", type=Path, metavar="IN.wav", help="replay a recording instead of a device")
    serve.add_argument("--start-time", metavar="ISO", help="with --mic: the wall-clock time the recording "
                       "starts at, e.g. 2026-11-27T07:58 (reminders and days follow it)")
    serve.add_argument("--max-sessions", type=int, metavar="N", help="stop after N sessions")
    serve.add_argument("--dry-run", action="store_true", help="nothing is saved to the history")
    serve.add_argument("--speaker", type=Path, metavar="OUT.wav", help="write the coach's voice to a WAV")
    serve.add_argument("--events", type=Path, metavar="OUT.jsonl", help="write every event as a JSON line")
    serve.add_argument("--voice", help=f"voice pack (default: {defaults.VOICE})")
    serve.add_argument("--echo-gain", type=float, default=0.0, metavar="G", help="with --mic: room echo")
    serve.add_argument("--device", metavar="IN", help="microphone: device name or index")
    serve.add_argument("--output-device", metavar="OUT", help="speaker: device name or index")
    serve.add_argument("--quiet", action="store_true", help="print instead of speaking")
    serve.add_argument("--keep-audio", type=Path, metavar="MIC.wav", help="record the microphone to a WAV")
    _recognizer_args(serve)
    _user_arg(serve)

    add("routines", "List the routines you can run, shipped and your own.")
    add("voices", "List the voice packs.")

    history = add("history", "Show the holds you recorded: per exercise, a sparkline per session.")
    history.add_argument("--json", action="store_true", help="one JSON object per hold")
    history.add_argument("--routine", help="only this routine")
    history.add_argument("--all", action="store_true", help="every hold, one line each")
    _user_arg(history)

    status = add("status", "Sessions today, your streak, missed days, and what is unlocked and why.")
    status.add_argument("routine", nargs="?", default=None, help=f"routine (default: {defaults.ROUTINE})")
    _user_arg(status)

    chart = add("chart", "Draw held time per set over the days, with the target line (needs matplotlib).")
    chart.add_argument("--out", type=Path, default=Path("holds.png"), metavar="FILE.png",
                       help="where to write the picture (default: %(default)s)")
    chart.add_argument("--routine", help=f"routine (default: {defaults.ROUTINE})")
    chart.add_argument("--exercise", help="exercise id (default: the routine's first hold exercise)")
    _user_arg(chart)

    export = add("export", "Write your history as CSV or JSON (to stdout, or --out FILE).")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--out", type=Path, metavar="FILE")
    export.add_argument("--user", help="only this person's history (default: everyone's)")

    imp = add("import", "Add an exported CSV or JSON file to the history (importing twice adds nothing).")
    imp.add_argument("file", type=Path)

    for verb, text in (("unlock", "Add an advanced exercise to your sessions now."),
                       ("lock", "Take an advanced exercise out of your sessions again.")):
        p = add(verb, text)
        p.add_argument("exercise", help="exercise id, e.g. band_bridge")
        p.add_argument("--routine", help=f"routine (default: {defaults.ROUTINE})")
        _user_arg(p)

    say = add("say", "Say a line with a voice, to try it (or write it to a WAV file).")
    say.add_argument("text", nargs="?", help="what to say")
    say.add_argument("--voice", help=f"voice pack (default: {defaults.VOICE})")
    say.add_argument("--out", type=Path, metavar="FILE.wav", help="write a WAV file instead of playing")
    say.add_argument("--list-voices", action="store_true", help="list the speech engine's voices")

    listen = add("listen", "Print every command heard, from the microphone or WAV files.", LISTEN_EPILOG)
    listen.add_argument("files", nargs="*", type=Path, metavar="FILE.wav")
    listen.add_argument("--json", action="store_true", help="one JSON object per command")
    listen.add_argument("--voice", help="voice pack whose phrases to listen for")
    listen.add_argument("--device", metavar="IN", help="microphone: device name or index")
    _recognizer_args(listen)

    add("devices", "List the audio input and output devices.")

    models = add("models", "List or download vosk speech models.")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION")
    mlist = msub.add_parser("list", help="installed models and the ones that can be fetched")
    mlist.add_argument("--refresh", action="store_true", help="ask the model host for its current list")
    mlist.add_argument("--all", action="store_true", help="include obsolete models")
    mdl = msub.add_parser("download", help="fetch a model (resumable, checksum-checked)")
    mdl.add_argument("name", nargs="?", help="model name (default: the small US-English model)")
    mdl.add_argument("--force", action="store_true", help="replace an installed model of that name")
    mdl.add_argument("--allow-unverified", action="store_true",
                     help="install even when the catalog gives no checksum")
    for p in (mlist, mdl):
        p.add_argument("--base-url", help="model host (default: $COACH_MODEL_BASE_URL or the vosk site)")
        p.add_argument("--data-dir", type=Path, metavar="DIR", help="where models are installed")
        p.add_argument("--config", type=Path, metavar="FILE", help="configuration file")

    config = add("config", "Show the effective configuration and where each value comes from.")
    config.add_argument("--init", action="store_true", help="write a commented config file to start from")

    doctor = add("doctor", "Check speech, audio devices, the recognizer and the data directory; "
                           "print a fix for each problem.")
    doctor.add_argument("--audio-test", action="store_true",
                        help="also play a short tone and record a second from the microphone")
    return parser


RUN_EPILOG = """\
keys during a session:
  r, space or enter  ready        d  done           c  can't hold
  p  pause           u  resume    s  skip           a  repeat
  t  how long        h  help      y / n  yes / no
  q  stop (your finished holds are kept)

examples:
  coach run                                    the glute routine, keyboard control
  coach run --input voice                      hands-free with the default microphone
  coach run glutes --mic session.wav --events ev.jsonl --speaker out.wav
                                               replay a recording, faster than real time
"""

SERVE_EPILOG = """\
examples:
  coach serve --reminder 08:00 --reminder 18:00      on a Raspberry Pi by the mat
  coach serve --mic day.wav --events ev.jsonl --start-time 2026-11-27T07:58
                                                      replay a recorded day
  scripts/install-service                             run it as a systemd user service
"""

LISTEN_EPILOG = """\
examples:
  coach listen                     speak commands at the microphone; Ctrl-C stops
  coach listen ready.wav --json    one JSON line per command heard in the file
"""


def _recognizer_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=("auto", "pocketsphinx", "vosk"), default=None,
                   help="speech recognizer (auto: vosk when a model for the voice is installed, "
                        "else pocketsphinx's bundled English model)")
    p.add_argument("--model", type=Path, metavar="DIR",
                   help=f"vosk model folder (default: ${defaults.ENV_VOSK_MODEL} or DATA_DIR/models)")


_OVERRIDES = (("user", "user"), ("voice", "voice"), ("routine", "routine"), ("input_mode", "input"),
              ("input_device", "device"), ("output_device", "output_device"), ("engine", "engine"),
              ("model", "model"), ("data_dir", "data_dir"))


def _cfg(args: argparse.Namespace):  # noqa: ANN202 - coach.config.Config, imported lazily
    """The effective settings: command line, then environment, then config file, then defaults."""
    cached = getattr(args, "_config", None)
    if cached is None:
        from coach.config import load_config, resolve

        overrides = {attr: getattr(args, name, None) for attr, name in _OVERRIDES}
        cached = resolve(load_config(getattr(args, "config", None), os.environ), overrides)
        args._config = cached
    return cached


def _model(args: argparse.Namespace) -> Path | None:
    """--model, else the config file's; $COACH_VOSK_MODEL is read where the model is chosen."""
    if args.model is not None:
        return Path(args.model)
    setting = _cfg(args).model
    return Path(setting.value) if setting.value is not None and setting.source.startswith("config") else None


def _user_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", default=None, metavar="NAME",
                   help=f"whose sessions (several people on one device; default: ${defaults.ENV_USER} "
                        f"or `{defaults.USER}`)")


def _user(args: argparse.Namespace) -> str:
    return str(_cfg(args).user.value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return COMMANDS[args.command](args)
    except CoachError as err:
        print(f"coach: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("coach: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(_cfg(args).data_dir.value)


# -- commands ----------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from coach.runner.assemble import RunConfig, run_session
    from coach.runner.display import Display

    cfg = _cfg(args)
    input_mode = args.input or ("voice" if args.mic else cfg.input_mode.value)
    if args.mic is not None and input_mode == "keys":
        raise UsageError("--mic is a microphone recording: it goes with --input voice")
    config = RunConfig(
        routine=cfg.routine.value, voice=cfg.voice.value, input_mode=input_mode, data_dir=_data_dir(args),
        mic_wav=args.mic, speaker_wav=args.speaker, events=args.events,
        include_advanced=args.include_advanced, echo_gain=args.echo_gain, engine=cfg.engine.value,
        model=_model(args), input_device=cfg.input_device.value, output_device=cfg.output_device.value,
        quiet=args.quiet,
        user=_user(args), resume=args.resume if args.resume is not None or args.mic is None else False,
        keep_audio=args.keep_audio, start_at=_start_time(args), dry_run=args.dry_run)
    display = Display()
    result = run_session(config, os.environ, display)
    held = ", ".join(f"{h.held_s:.1f}" for h in result.holds) or "none"
    print(f"session {result.status}: {len(result.holds)} hold(s) recorded (seconds: {held})")
    if result.unsaved:
        print(f"coach: {len(result.unsaved)} hold(s) could not be saved to the history", file=sys.stderr)
        return 3
    return 130 if result.status == "interrupted" else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from coach.runner.assemble import RunConfig
    from coach.runner.display import Display
    from coach.runner.reminders import parse_times
    from coach.runner.serve import serve

    cfg = _cfg(args)
    try:
        reminders = parse_times(args.reminder or list(cfg.reminders.value))
    except ValueError as err:
        raise UsageError(f"--reminder: {err}") from err
    start_at = _start_time(args)
    config = RunConfig(
        routine=cfg.routine.value, voice=cfg.voice.value, input_mode="voice", data_dir=_data_dir(args),
        mic_wav=args.mic, speaker_wav=args.speaker, events=args.events, echo_gain=args.echo_gain,
        engine=cfg.engine.value, model=_model(args), input_device=cfg.input_device.value,
        output_device=cfg.output_device.value,
        quiet=args.quiet, user=_user(args), keep_audio=args.keep_audio, start_at=start_at,
        dry_run=args.dry_run)
    result = serve(config, reminders, os.environ, Display(), start_at=start_at,
                   max_sessions=args.max_sessions)
    print(f"served {result.sessions} session(s), {result.holds} hold(s), {result.reminders} reminder(s)")
    return 0


def _start_time(args: argparse.Namespace):  # noqa: ANN202 - datetime | None
    from datetime import datetime

    if not args.start_time:
        return None
    if args.mic is None:
        raise UsageError("--start-time is for replays: it goes with --mic IN.wav")
    try:
        return datetime.fromisoformat(args.start_time).astimezone()
    except ValueError as err:
        raise UsageError(f"--start-time: `{args.start_time}` is not a time like 2026-11-27T07:58") from err


def cmd_config(args: argparse.Namespace) -> int:
    from coach.config import config_file, format_config, init_config

    if args.init:
        print(f"wrote {init_config(config_file(args.config, os.environ)[0])}")
        return 0
    print(format_config(_cfg(args)))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from coach.doctor import exit_status, format_checks, make_context, run_doctor

    overrides = {attr: getattr(args, name, None) for attr, name in _OVERRIDES}
    checks = run_doctor(make_context(args.config, os.environ, overrides, args.audio_test))
    print(format_checks(checks))
    return exit_status(checks)


def cmd_routines(args: argparse.Namespace) -> int:
    from coach.routine import list_routines, load_routine

    for info in list_routines(paths.routines_dir(_data_dir(args))):
        try:
            summary = load_routine(info.path).summary
        except CoachError as err:
            summary = f"(cannot be loaded: {err})"
        print(f"{info.name:<16} {info.origin:<8} {summary}")
    return 0


def cmd_voices(args: argparse.Namespace) -> int:
    from coach.voice import list_voices, load_voice

    for name, path in list_voices(paths.voices_dir(_data_dir(args))):
        try:
            voice = load_voice(path)
            print(f"{name:<12} {voice.language:<8} {voice.title}")
        except CoachError as err:
            print(f"{name:<12} (cannot be loaded: {err})")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from coach.history.store import printable
    from coach.progress.memory import by_session
    from coach.progress.sparkline import sparkline

    store = _open_store(args, must_exist=False, write=False)
    if store is None:
        if not args.json:
            print("no history yet; run `coach run` to start one")
        return 0
    try:
        holds = store.holds(routine=args.routine, user=_user(args) if args.user else None)
    finally:
        store.close()
    if args.json:
        for hold in holds:
            print(hold.to_json())
        return 0
    if not holds:
        print("no holds recorded yet")
        return 0
    if args.all:
        print(f"{'date':<17} {'user':<8} {'routine':<10} {'exercise':<14} {'set':>3} {'held':>7} "
              f"{'target':>7}  ended by")
        for h in holds:
            print(printable(f"{h.started_at[:16].replace('T', ' '):<17} {h.user:<8} {h.routine:<10} "
                            f"{h.exercise:<14} {h.set:>3} {h.held_s:>6.1f}s {h.target_s:>6.0f}s  "
                            f"{h.ended_by}"))
        return 0
    for exercise in dict.fromkeys(h.exercise for h in holds):
        sessions = by_session(holds, exercise)
        target = max(h.target_s for h in holds if h.exercise == exercise)
        print(printable(f"{exercise}  (target {target:g} s; one row per session, a bar per set)"))
        for s_ in sessions[-14:]:
            held = " ".join(f"{x:4.0f}" for x in s_.held_s)
            print(f"  {s_.started_at:%Y-%m-%d %H:%M}  {sparkline(s_.held_s, 0, target)}  {held}")
        best = [max(s_.held_s) for s_ in sessions]
        print(f"  best per session: {sparkline(best, 0, target)}  (last {len(best)} sessions)")
    return 0


def _open_store(args: argparse.Namespace, must_exist: bool = True, write: bool = True):  # noqa: ANN202
    from coach.history import Store
    from coach.history.store import open_for_reading

    db = paths.db_path(_data_dir(args))
    if not db.exists() and not must_exist:
        return None
    if not write and db.exists():       # a full disk or a read-only folder must not stop reading
        return open_for_reading(db)
    return Store(paths.db_path(paths.ensure_private_dir(_data_dir(args))))


def cmd_status(args: argparse.Namespace) -> int:
    from datetime import datetime

    from coach.progress.schedule import counted_starts, day_stats
    from coach.progress.unlock import evaluate, status_line
    from coach.runner.assemble import load_routine_named

    data = _data_dir(args)
    routine = load_routine_named(_cfg(args).routine.value, data)
    user = _user(args)
    store = _open_store(args, must_exist=False, write=False)
    if store is None:
        print(f"{routine.title}: no sessions yet for {user}; `coach run` starts one")
        return 0
    try:
        holds = store.holds(routine=routine.name, user=user)
        stats = day_stats(counted_starts(store.sessions(user=user, routine=routine.name)),
                          datetime.now().astimezone().date(), None, routine.sessions_per_day_min)
        low, high = routine.sessions_per_day_min, routine.sessions_per_day_max
        per_day = f"{low}" if low == high else f"{low}-{high}"
        print(f"{routine.title} for {user}")
        print(f"  today:   {stats.sessions_today} session(s) of {per_day} a day"
              + ("  (done for today)" if stats.done_today else ""))
        print(f"  streak:  {stats.streak_days} day(s) in a row")
        missed = ", ".join(d.isoformat() for d in stats.missed_days) or "none"
        print(f"  missed:  {missed}  (last 7 days)")
        for rule in routine.progress.unlocks:
            earning, target = routine.exercise(rule.after), routine.exercise(rule.exercise)
            if earning is None or target is None:
                continue
            state = store.unlock_state(user, routine.name, rule.exercise)
            status = evaluate(holds, rule, earning.sets, earning.title)
            print("  " + status_line(target.title, state, status))
    finally:
        store.close()
    return 0


def cmd_chart(args: argparse.Namespace) -> int:
    from coach.progress.chart import draw_chart
    from coach.runner.assemble import load_routine_named

    routine = load_routine_named(_cfg(args).routine.value, _data_dir(args))
    exercise = routine.exercise(args.exercise) if args.exercise else next(
        (e for e in routine.exercises if e.is_hold), None)
    if exercise is None:
        raise UsageError(f"routine `{routine.name}` has no exercise `{args.exercise}`")
    store = _open_store(args, write=False)
    try:
        holds = store.holds(routine=routine.name, user=_user(args))
    finally:
        store.close()
    draw_chart(holds, exercise.id, args.out, f"{exercise.title} — {_user(args)}", goal_s=exercise.hold_s)
    print(f"wrote {args.out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from coach.history.transfer import export_holds

    store = _open_store(args, write=False)
    try:
        if args.out is None:
            result = export_holds(store, args.format, sys.stdout, user=args.user)
        else:
            try:
                with paths.open_private(args.out, newline="") as out:     # 0600: the user's history
                    result = export_holds(store, args.format, out, user=args.user)
            except OSError as err:
                raise UsageError(f"{args.out}: cannot write ({err.strerror or err})") from err
    finally:
        store.close()
    print(f"exported {result.sessions} session(s), {result.holds} hold(s)", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from coach.history.transfer import import_file

    store = _open_store(args)
    try:
        result = import_file(store, args.file)
    finally:
        store.close()
    print(f"imported {result.sessions_added} session(s), {result.holds_added} hold(s); "
          f"{result.skipped_duplicates} already there")
    return 0


def cmd_unlock(args: argparse.Namespace) -> int:
    return _set_unlock(args, "unlocked")


def cmd_lock(args: argparse.Namespace) -> int:
    return _set_unlock(args, "locked")


def _set_unlock(args: argparse.Namespace, state: str) -> int:
    from datetime import datetime

    from coach.runner.assemble import load_routine_named

    routine = load_routine_named(_cfg(args).routine.value, _data_dir(args))
    exercise = routine.exercise(args.exercise)
    advanced = [e.id for e in routine.exercises if e.advanced]
    if exercise is None or not exercise.advanced:
        raise UsageError(f"`{args.exercise}` is not an advanced exercise of `{routine.name}` "
                         f"(advanced: {', '.join(advanced) or 'none'})")
    store = _open_store(args)
    try:
        store.record_unlock(_user(args), routine.name, exercise.id, state, datetime.now().astimezone(),
                            "set by hand")
    finally:
        store.close()
    print(f"{exercise.title}: {state} for {_user(args)}")
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from coach.runner.assemble import load_voice_pack
    from coach.speech.tts import Pyttsx3Synthesizer, list_engine_voices

    if args.list_voices:
        for ident, name in list_engine_voices():
            print(f"{ident:<28} {name}")
        return 0
    if not args.text:
        raise UsageError("say what? e.g. coach say \"Lift, and hold.\"")
    voice = load_voice_pack(_cfg(args).voice.value, _data_dir(args))
    synth = Pyttsx3Synthesizer(voice.engine_voice, voice.rate_wpm, voice.volume)
    try:
        synth.start()
        samples = synth.render(args.text)
    finally:
        synth.close()
    if args.out is not None:
        from coach.audio.wav import write_wav

        try:
            write_wav(args.out, samples, defaults.RATE_HZ)
        except OSError as err:
            raise UsageError(f"{args.out}: cannot write ({err.strerror or err})") from err
        print(f"{args.out}: {len(samples) / defaults.RATE_HZ:.2f} s of speech")
        return 0
    from coach.speech.speakers import play_samples

    play_samples(samples)
    return 0


def cmd_listen(args: argparse.Namespace) -> int:
    from coach.runner.listen import listen

    cfg = _cfg(args)
    return listen(files=args.files, as_json=args.json, voice_name=cfg.voice.value, engine=cfg.engine.value,
                  model=_model(args), device=cfg.input_device.value, data_dir=_data_dir(args), env=os.environ)


def cmd_devices(args: argparse.Namespace) -> int:
    from coach.audio.devices import format_devices, list_devices

    print(format_devices(list_devices()))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from coach import models

    data = _data_dir(args)
    base_url = models.resolve_base_url(getattr(args, "base_url", None), os.environ)
    if args.models_command in (None, "list"):
        catalog = models.load_catalog(base_url, refresh=bool(getattr(args, "refresh", False)))
        installed = models.installed_models(data)
        show_obsolete = bool(getattr(args, "all", False))
        for line in models.model_list_lines(catalog, installed, show_obsolete=show_obsolete):
            print(line)
        if catalog.note:
            print(catalog.note, file=sys.stderr)
        return 0
    name = args.name or models.DEFAULT_MODEL
    entry = models.entry_for(name, base_url)
    try:
        result = models.download_model(entry, models.models_dir(data), force=args.force,
                                       allow_unverified=args.allow_unverified)
    except models.ModelAlreadyInstalledError as err:
        print(f"coach: {err}", file=sys.stderr)
        return 0
    print(f"installed {result.name} in {result.path} (checked with {result.checked_with})")
    return 0


COMMANDS = {"run": cmd_run, "routines": cmd_routines, "voices": cmd_voices, "history": cmd_history,
            "serve": cmd_serve, "config": cmd_config, "doctor": cmd_doctor, "status": cmd_status,
            "chart": cmd_chart, "export": cmd_export,
            "import": cmd_import,
            "unlock": cmd_unlock, "lock": cmd_lock,
            "say": cmd_say, "listen": cmd_listen, "devices": cmd_devices, "models": cmd_models}

