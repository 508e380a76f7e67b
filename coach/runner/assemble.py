"""Building a session from plain settings: find the files, open the edges, run, close.

The CLI turns its arguments into a `RunConfig` (no argparse namespace goes deeper than that);
everything here is constructed explicitly and passed in, so tests can assemble the same pieces.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from coach import paths
from coach.asr.listener import CommandListener
from coach.audio.chunk import Microphone
from coach.audio.echo import EchoCanceller, open_canceller
from coach.audio.room import Room, RoomConfig
from coach.defaults import AEC, DITHER_LSB, ENV_SPEEXDSP, ROOM_DELAY_MS, ROOM_DISTORTION, ROOM_RT60_S
from coach.errors import (
    AudioDeviceError,
    CoachError,
    EchoCancellerError,
    SpeechEngineError,
    StoreError,
    UsageError,
)
from coach.history.store import Store
from coach.routine.loader import load_routine_named
from coach.routine.model import Routine, default_cues
from coach.runner.display import Display
from coach.runner.eventlog import EventLog
from coach.runner.keys import KEY_HELP, KeyReader
from coach.runner.loop import RunResult, SessionRunner
from coach.runner.planning import build_plan, find_resume
from coach.runner.source import TimeSource
from coach.session import Say, Session
from coach.speech.narrator import Narrator
from coach.speech.speakers import LiveSpeaker, SilentSpeaker, Speaker, WavSpeaker
from coach.speech.timeline import SpeechTimeline
from coach.speech.tts import Pyttsx3Synthesizer, Synthesizer
from coach.vocab import SayKind
from coach.voice.pack import VoicePack, load_voice_named
from coach.voice.wording import plural


@dataclass(frozen=True)
class RunConfig:
    routine: str
    voice: str
    input_mode: str                 # "keys" | "voice"
    data_dir: Path
    mic_wav: Path | None = None
    speaker_wav: Path | None = None
    events: Path | None = None
    include_advanced: bool = False
    echo_gain: float = 0.0          # with mic_wav: the simulated room sends the coach's voice back
    echo_delay_ms: float = ROOM_DELAY_MS
    echo_rt60_s: float = ROOM_RT60_S
    echo_distortion: float = ROOM_DISTORTION
    aec: bool = AEC                 # cancel the coach's own voice whenever it speaks
    keep_echo: Path | None = None   # write PREFIX-mic.wav / PREFIX-clean.wav (before / after cancelling)
    engine: str = "auto"
    model: Path | None = None
    input_device: str | int | None = None   # a device name or index; None: the default
    output_device: str | int | None = None
    quiet: bool = False             # print only, no speech
    user: str = "default"
    resume: bool | None = None      # carry on with today's unfinished session: None = ask
    keep_audio: Path | None = None  # record the microphone to this WAV (nothing is kept otherwise)
    idle_timeout_s: float | None = None   # give a session up after this long with no answer (serve)


@dataclass
class Edges:
    """Everything a session talks to, opened once (for one `coach run`, or a whole `coach serve`)."""

    voice: VoicePack
    store: Store
    log: EventLog
    timeline: SpeechTimeline
    narrator: Narrator
    speaker: Speaker
    source: TimeSource
    listener: CommandListener | None
    keys: KeyReader | None
    display: Display
    closers: list[Callable[[], None]]

    def say_line(self, key: str, t: float, **values: object) -> None:
        """Speak a voice-pack line outside a session (device lost, a reminder)."""
        text = self.voice.line(key, **values)
        self.log.write(t, "say", text=text, line=key, kind="narration")
        self.display.said(text)
        self.narrator.say(Say(text, t, SayKind.NARRATION, key))

    def close(self) -> None:
        self.display.close()
        for close in reversed(self.closers):
            try:
                close()
            except Exception:       # closing is best effort; the session's data is already saved
                pass


def open_edges(config: RunConfig, env: Mapping[str, str], display: Display,
               extra_phrases: Mapping[str, list[str]] | None = None) -> Edges:
    """Open the store, log, speech, microphone and speaker, in the order that keeps them sane."""
    if config.echo_gain and config.mic_wav is None:
        raise UsageError("--echo-gain simulates a room from a file: it needs --mic IN.wav")
    room_config = RoomConfig(config.echo_gain, config.echo_delay_ms, config.echo_rt60_s,
                             config.echo_distortion).check()
    voice = load_voice_named(config.voice, config.data_dir)
    store = Store(paths.db_path(paths.ensure_private_dir(config.data_dir)))
    closers: list[Callable[[], None]] = [store.close]
    try:
        log = EventLog(config.events)
        closers.append(log.close)
        timeline = SpeechTimeline()
        live = config.mic_wav is None
        synth = None if config.quiet else _start_synth(voice, display)   # before the recognizer
        if synth is not None:
            closers.append(synth.close)
        narrator = Narrator(synth, timeline, live=live, warn=display.warn)
        mic, listener = _open_input(config, env, voice, timeline, display, extra_phrases)
        speaker = _open_speaker(config, timeline, synth is not None, display)
        keys = None
        if live and sys.stdin is not None and not sys.stdin.closed:
            keys = KeyReader(sys.stdin, show_keys=display.info)
            closers.append(keys.close)
            display.key_hint = keys.tty
            display.info(KEY_HELP)
        edges = Edges(voice, store, log, timeline, narrator, speaker, None, listener, keys, display,  # type: ignore[arg-type]
                      closers)
        room = Room(room_config) if config.echo_gain > 0 and mic is not None else None
        canceller = _open_canceller(config, env, display) if mic is not None and synth is not None else None
        edges.source = TimeSource(mic, display, log, timeline, room, canceller, keep_echo=config.keep_echo,
                                  reopen_mic=_reopener(config) if mic is not None and mic.live else None,
                                  announce=lambda key, t: edges.say_line(key, t),
                                  keep_audio=config.keep_audio if mic is not None else None)
        closers.append(edges.source.close)
        return edges
    except BaseException:
        for close in reversed(closers):
            close()
        raise


def _open_canceller(config: RunConfig, env: Mapping[str, str], display: Display) -> EchoCanceller | None:
    """The echo canceller, unless `--no-aec`; without its library, a warning and none."""
    if not config.aec:
        return None
    try:
        return open_canceller(library=env.get(ENV_SPEEXDSP) or None)
    except EchoCancellerError as err:
        display.warn(str(err))
        return None


def start_session(edges: Edges, routine: Routine, config: RunConfig, t: float,
                  wall_start: datetime) -> SessionRunner:
    """A new session in the history, planned from it, ready to `begin(t)`."""
    store = edges.store
    today = (wall_start + timedelta(seconds=t)).date()
    plan = build_plan(store, routine, config.user, today, None, config.include_advanced)
    unfinished = None
    if config.resume is not False:
        unfinished = find_resume(store, routine, config.user, today, None, ask=config.resume is None,
                                 enabled=plan.enabled)
        if unfinished is not None:
            plan = replace(plan, resume=unfinished[1], offer=None)
    session = Session(routine, edges.voice, default_cues(), plan, idle_timeout_s=config.idle_timeout_s)
    if not session.exercises:
        raise UsageError(f"{routine.source}: every exercise is advanced; pass --include-advanced")
    started = wall_start + timedelta(seconds=t)
    if unfinished is not None and config.resume:
        session_id = unfinished[0]                  # --resume: straight on with the old session
    else:
        session_id = store.start_session(routine.name, started, config.input_mode, edges.voice.name,
                                         config.user)
    if plan.offer is not None:
        store.record_unlock(config.user, routine.name, plan.offer.exercise, "offered", started,
                            "the progression rule is met")
    return SessionRunner(session, edges.narrator, edges.speaker, edges.log, edges.display, store,
                         session_id, wall_start, source=edges.source, user=config.user,
                         listener=edges.listener, keys=edges.keys,
                         unfinished_id=unfinished[0] if unfinished is not None else None)


def run_session(config: RunConfig, env: Mapping[str, str], display: Display) -> RunResult:
    """`coach run`: one session, start to end."""
    routine = load_routine_named(config.routine, config.data_dir)
    edges = open_edges(config, env, display)
    try:
        wall_start = datetime.now().astimezone()
        runner = start_session(edges, routine, config, 0.0, wall_start)
        result = runner.run()
        runner.retry_unsaved()                      # one more try before giving up on any
        try:
            edges.store.end_session(runner.session_id, datetime.now().astimezone(), result.status)
        except StoreError as err:
            display.warn(f"could not close the session in the history ({err})")
        if result.unsaved:
            _keep_unsaved(result.unsaved, display)
        return result
    finally:
        edges.close()


def _keep_unsaved(holds: list, display: Display) -> None:  # noqa: ANN001 - HoldEnded
    """The history cannot be written: put the holds in a file the user can find, and say where."""
    import json
    import tempfile

    path = Path(tempfile.gettempdir()) / f"coach-unsaved-{datetime.now():%Y%m%d-%H%M%S}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for h in holds:
            out.write(json.dumps({"exercise": h.exercise, "set": h.set, "target_s": h.target_s,
                                  "held_s": h.held_s, "ended_by": h.ended_by}) + "\n")
    display.warn(f"{plural(len(holds), 'hold', 'holds')} could not be saved to the history; "
                 f"they are in {path}")


def _start_synth(voice: VoicePack, display: Display) -> Synthesizer | None:
    synth = Pyttsx3Synthesizer(voice.engine_voice, voice.rate_wpm, voice.volume)
    try:
        synth.start()
    except SpeechEngineError as err:
        display.warn(f"{err}; the coach's words will only be printed (scripts/setup installs espeak-ng)")
        return None
    return synth


def _open_input(config: RunConfig, env: Mapping[str, str], voice: VoicePack, timeline: SpeechTimeline,
                display: Display, extra_phrases: Mapping[str, list[str]] | None = None,
                ) -> tuple[Microphone | None, CommandListener | None]:
    if config.input_mode == "keys" and config.mic_wav is None:
        return None, None
    from coach.asr.select import choose_engine, make_recognizer
    from coach.audio.wav import WavMicrophone

    choice = choose_engine(config.engine, config.model, env, config.data_dir, voice)
    display.info(f"listening with {choice.why}")
    phrases = {**voice.phrases, **(extra_phrases or {})}
    recognizer = make_recognizer(choice, voice, phrases)
    listener = CommandListener(recognizer, timeline, phrases=phrases,
                               on_failure=lambda why: display.warn(f"{why}; carrying on from the keyboard "
                                                                   "(h for keys)"))
    if config.mic_wav is not None:
        return WavMicrophone(config.mic_wav, dither_lsb=DITHER_LSB), listener
    try:
        from coach.audio.live import LiveMicrophone

        mic = LiveMicrophone(config.input_device)
        mic.wait_ready(5.0)
    except AudioDeviceError as err:
        display.warn(f"{err}; carrying on with keyboard control")
        return None, None
    return mic, listener


def _reopener(config: RunConfig):  # noqa: ANN202
    def reopen() -> Microphone:
        from coach.audio.live import LiveMicrophone

        mic = LiveMicrophone(config.input_device)
        mic.wait_ready(2.0)
        return mic

    return reopen


def _open_speaker(config: RunConfig, timeline: SpeechTimeline, speaking: bool, display: Display) -> Speaker:
    if config.speaker_wav is not None:
        return WavSpeaker(config.speaker_wav, timeline)
    if not speaking or config.mic_wav is not None:
        return SilentSpeaker()
    try:
        speaker = LiveSpeaker(timeline, config.output_device)
        speaker.wait_started()
        return speaker
    except AudioDeviceError as err:
        display.warn(f"{err}; the coach's words will only be printed")
        return SilentSpeaker()
    except CoachError:
        raise
