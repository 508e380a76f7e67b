"""Every command's options. The options `coach run` and `coach serve` share are declared once
(`session_options`), so their help cannot drift apart."""

from __future__ import annotations

import argparse
from pathlib import Path

from coach import __version__, defaults

EPILOG = """\
everyday use:
  coach run                      the glute routine, spoken, controlled from the keyboard
  coach run --input voice        hands-free: say "ready", "done", "can't hold", "pause", "stop"
  coach history                  what you held, session by session
  coach listen                   check that coach hears you (Ctrl-C to stop)

files: routines and voices are YAML; your own go in DATA_DIR/routines and DATA_DIR/voices.
DATA_DIR is --data-dir, else $COACH_DATA_DIR, else $XDG_DATA_HOME/coach (~/.local/share/coach).
"""


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

ENROLL_EPILOG = """\
examples:
  coach enroll                     say each command 3 times when asked (the microphone)
  coach enroll --commands ready,done --takes 2       only some commands
  coach enroll --from ~/takes      ready_1.wav, ready_2.wav, done_1.wav, cant_hold_1.wav, ...
  coach enroll --from ~/anna --user anna     one adapted head per user

Recording from the microphone: stay quiet for a moment at the start, then say just the command
each time you are asked; the takes are kept in DATA_DIR/enroll/USER/takes.
Takes that are too quiet, clipped, too long or not the word are named and left out. The adapted
head goes to DATA_DIR/enroll/USER/head.npz unless it did worse on held-back takes; --engine neural
and fused (auto, for English) use it for that user's sessions (`--user`) from then on. Delete
that file to go back to the shipped head.
"""



def common_options(p: argparse.ArgumentParser) -> None:
    """--data-dir and --config: every command has them."""
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="where history, your routines, voices and models live "
                        "(default: $COACH_DATA_DIR or ~/.local/share/coach)")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="configuration file (default: $COACH_CONFIG or ~/.config/coach/config.yaml)")


def user_option(p: argparse.ArgumentParser, everyone: bool = False) -> None:
    """--user, resolved the same way for every command; `everyone`: no user named means all of them."""
    fallback = "everyone's" if everyone else f"`{defaults.USER}`"
    p.add_argument("--user", default=None, metavar="NAME",
                   help=f"whose sessions (several people on one device; default: ${defaults.ENV_USER}, "
                        f"else the config file's `user:`, else {fallback})")


def recognizer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=defaults.ENGINES, default=None,
                   help="speech recognizer (auto: vosk when a model for the voice is installed, "
                        f"else for English {defaults.AUTO_ENGINE}: the neural command head fused with "
                        "pocketsphinx)")
    p.add_argument("--model", type=Path, metavar="DIR",
                   help=f"vosk model folder (default: ${defaults.ENV_VOSK_MODEL} or DATA_DIR/models)")
    p.add_argument("--noise-suppression", type=int, choices=defaults.NOISE_SUPPRESSION_LEVELS, default=None,
                   metavar="N", help="clean steady noise (a fan, traffic) from the microphone before "
                   "recognizing: 1 (mild) to 4 (strong), 0 off (the default: it costs a little on clean "
                   "speech); the config file's recognizer.noise_suppression sets it for good")


def echo_options(p: argparse.ArgumentParser) -> None:
    """The simulated room (file mode) and the echo canceller (always on, unless --no-aec)."""
    p.add_argument("--echo-gain", type=float, default=0.0, metavar="G",
                   help="with --mic: send the coach's own voice back into the microphone through a "
                        "simulated room, direct path at gain G (testing that it never hears itself)")
    p.add_argument("--echo-delay-ms", type=float, default=defaults.ROOM_DELAY_MS, metavar="MS",
                   help=f"the room's speaker-to-mic delay (default {defaults.ROOM_DELAY_MS:g})")
    p.add_argument("--echo-rt60-s", type=float, default=defaults.ROOM_RT60_S, metavar="S",
                   help=f"the room's reverberation time (default {defaults.ROOM_RT60_S:g})")
    p.add_argument("--echo-distortion", type=float, default=defaults.ROOM_DISTORTION, metavar="D",
                   help=f"loudspeaker distortion 0..1 (default {defaults.ROOM_DISTORTION:g})")
    p.add_argument("--no-aec", dest="aec", action="store_false",
                   help="do not cancel the coach's own voice from the microphone")
    p.add_argument("--keep-echo", type=Path, metavar="PREFIX",
                   help="write PREFIX-mic.wav, PREFIX-clean.wav and PREFIX-heard.wav: the microphone "
                        "before and after echo cancellation, and what the recognizer heard after the "
                        "echo gate (measurement; all three in step)")


def session_options(p: argparse.ArgumentParser) -> None:
    """What `coach run` and `coach serve` share: audio in and out, recordings, voice, recognizer, user."""
    p.add_argument("--mic", type=Path, metavar="IN.wav",
                   help="read the microphone from a WAV file instead of a device (replays, tests)")
    p.add_argument("--speaker", type=Path, metavar="OUT.wav",
                   help="write what the coach says into a WAV file, at the times it would be heard")
    p.add_argument("--events", type=Path, metavar="OUT.jsonl",
                   help="write every event as one JSON line (see the README for the format)")
    p.add_argument("--voice", help=f"voice pack (default: {defaults.VOICE})")
    echo_options(p)
    p.add_argument("--device", metavar="IN", help="microphone: device name or index (`coach devices`)")
    p.add_argument("--output-device", metavar="OUT", help="speaker: device name or index")
    p.add_argument("--quiet", action="store_true", help="print the coach's words instead of speaking")
    p.add_argument("--keep-audio", type=Path, metavar="MIC.wav",
                   help="record the microphone to a WAV (to replay with --mic); nothing is kept otherwise")
    p.add_argument("--start-time", metavar="ISO",
                   help="with --mic: the wall-clock time the recording starts at, e.g. 2026-11-27T07:58 "
                        "(default: the file's own start, from its modification time; the session's times, "
                        "days and reminders follow it)")
    p.add_argument("--dry-run", action="store_true",
                   help="run against a copy of the history: nothing is saved")
    recognizer_options(p)
    user_option(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coach", description="An offline, voice-guided exercise coach.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"coach {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_: str, epilog: str = "") -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_, epilog=epilog,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        common_options(p)
        return p

    run = add("run", "Coach a routine: narrate, count the holds, record what you managed.", RUN_EPILOG)
    run.add_argument("routine", nargs="?", default=None,
                     help=f"routine name or .yaml path (default: {defaults.ROUTINE}, or the config file's; "
                          "see `coach routines`)")
    run.add_argument("--input", choices=defaults.INPUT_MODES, default=None,
                     help="keys: the keyboard (default); voice: spoken commands (default with --mic)")
    run.add_argument("--include-advanced", action="store_true",
                     help="include the advanced exercises (the band bridge) now")
    resume = run.add_mutually_exclusive_group()
    resume.add_argument("--resume", dest="resume", action="store_true", default=None,
                        help="carry on with today's unfinished session (after a crash) without asking")
    resume.add_argument("--no-resume", dest="resume", action="store_false",
                        help="start afresh without asking (the default when replaying --mic)")
    session_options(run)

    serve = add("serve", "Smart-speaker mode: wait for \"start my exercises\", run the session, "
                         "speak reminders, repeat.", SERVE_EPILOG)
    serve.add_argument("--routine", help=f"what \"start my exercises\" runs (default: {defaults.ROUTINE})")
    serve.add_argument("--reminder", action="append", default=[], metavar="HH:MM",
                       help="speak a reminder at this time of day (repeatable, e.g. 08:00 and 18:00)")
    serve.add_argument("--max-sessions", type=int, metavar="N", help="stop after N sessions")
    serve.add_argument("--idle-timeout-min", type=float, metavar="MIN",
                       default=defaults.SERVE_IDLE_TIMEOUT_S / 60,
                       help="give a session up (keeping what was done) after this long with no answer "
                            f"(default: {defaults.SERVE_IDLE_TIMEOUT_S / 60:g}; 0 = never)")
    session_options(serve)

    add("routines", "List the routines you can run, shipped and your own.")
    add("voices", "List the voice packs.")

    history = add("history", "Show the holds you recorded: per exercise, a sparkline per session.")
    history.add_argument("--json", action="store_true", help="one JSON object per hold")
    history.add_argument("--routine", help="only this routine")
    history.add_argument("--all", action="store_true", help="every hold, one line each")
    user_option(history, everyone=True)

    status = add("status", "Sessions today, your streak, missed days, and what is unlocked and why.")
    status.add_argument("routine", nargs="?", default=None, help=f"routine (default: {defaults.ROUTINE})")
    user_option(status)

    report = add("report", "Write a progress report (one HTML page, private) to show your physiotherapist.")
    report.add_argument("--out", type=Path, default=Path("coach-report.html"), metavar="FILE.html",
                        help="where to write it (default: coach-report.html)")
    report.add_argument("--pdf", type=Path, metavar="FILE.pdf",
                        help="also print it to a PDF (needs Chromium)")
    report.add_argument("--routine", help="routine (default: the one you last ran)")
    user_option(report)
    chart = add("chart", "Draw held time per set over the days, with the target line (needs matplotlib).")
    chart.add_argument("--out", type=Path, default=Path("holds.png"), metavar="FILE.png",
                       help="where to write the picture (default: %(default)s)")
    chart.add_argument("--routine", help="routine (default: the one you last ran)")
    chart.add_argument("--exercise", help="exercise id (default: the routine's first hold exercise)")
    user_option(chart)

    export = add("export", "Write your history as CSV or JSON (to stdout, or --out FILE).")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--what", choices=("sessions", "holds"),
                        help="CSV: one tidy table, the sessions or the holds (default: all in one file)")
    export.add_argument("--out", type=Path, metavar="FILE")
    user_option(export, everyone=True)

    imp = add("import", "Add an exported CSV or JSON file to the history (importing twice adds nothing).")
    imp.add_argument("file", type=Path)

    for verb, text in (("unlock", "Add an advanced exercise to your sessions now."),
                       ("lock", "Take an advanced exercise out of your sessions again.")):
        p = add(verb, text)
        p.add_argument("exercise", help="exercise id, e.g. band_bridge")
        p.add_argument("--routine", help=f"routine (default: {defaults.ROUTINE})")
        user_option(p)

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
    recognizer_options(listen)
    user_option(listen)

    enroll = add("enroll", "Adapt the neural recognizer to your voice from recordings of each command.",
                 ENROLL_EPILOG)
    enroll.add_argument("--from", dest="from_dir", type=Path, metavar="DIR",
                        help="WAV files named after the command: ready_1.wav, ready_2.wav, cant_hold_1.wav "
                             "(without it: record them now from the microphone)")
    enroll.add_argument("--takes", type=int, default=3, metavar="N",
                        help="recording from the microphone: how often to say each command (1-5, default 3)")
    enroll.add_argument("--commands", metavar="LIST",
                        help="only these commands, comma-separated (e.g. ready,cant_hold); default all")
    enroll.add_argument("--device", metavar="IN", help="microphone: device name or index (`coach devices`)")
    enroll.add_argument("--mic", type=Path, metavar="FILE.wav",
                        help="read the microphone from a WAV file instead of a device (replays, tests)")
    enroll.add_argument("--voice", help="voice pack whose commands to enroll")
    user_option(enroll)

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
