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
from typing import Any, cast

from coach import paths
from coach.asr.listener import CommandListener
from coach.audio.chunk import Microphone
from coach.audio.echo import EchoCanceller, open_canceller
from coach.audio.room import Room, RoomConfig
from coach.defaults import (
    AEC,
    DITHER_LSB,
    ENV_SPEEXDSP,
    NOISE_SUPPRESSION,
    ROOM_DELAY_MS,
    ROOM_DISTORTION,
    ROOM_RT60_S,
    TTS_RENDER_TIMEOUT_S,
    TTS_REPLAY_TIMEOUT_S,
)
from coach.errors import (
    AudioDeviceError,
    CoachError,
    EchoCancellerError,
    SpeechEngineError,
    StoreError,
    UsageError,
)
from coach.history.lock import SessionLocks
from coach.history.store import HistoryUnwritable, Store
from coach.history.unsaved import SessionInfo, keep_unsaved, unsaved_document
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
from coach.vocab import InputMode, SayKind
from coach.voice.pack import VoicePack, load_voice_named
from coach.voice.wording import plural


@dataclass(frozen=True)
class RunConfig:
    routine: str
    voice: str
    input_mode: str                 # "keys" | "voice" (a --mic session is stored as "replay")
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
    keep_echo: Path | None = None   # write PREFIX-mic/-clean/-heard.wav (before / after cancelling, as heard)
    engine: str = "auto"
    model: Path | None = None
    noise_suppression: int = NOISE_SUPPRESSION  # webrtc-noise-gain level before the recognizer, 0 off
    input_device: str | int | None = None   # a device name or index; None: the default
    output_device: str | int | None = None
    quiet: bool = False             # print only, no speech
    user: str = "default"
    resume: bool | None = None      # carry on with today's unfinished session: None = ask
    keep_audio: Path | None = None  # record the microphone to this WAV (nothing is kept otherwise)
    idle_timeout_s: float | None = None   # give a session up after this long with no answer (serve)
    start_at: datetime | None = None    # a replay's wall-clock start (default: the file's own start)
    dry_run: bool = False           # run against a copy of the history: nothing is saved


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
    locks: SessionLocks | None = None       # the sessions this process carries on
    session_started_at: datetime | None = None  # when the session now running began

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
    store = Store.scratch_copy(paths.db_path(config.data_dir)) if config.dry_run else \
        open_session_store(config.data_dir, display)
    closers: list[Callable[[], None]] = [store.close]
    try:
        log = EventLog(config.events, warn=display.warn)
        closers.append(log.close)
        timeline = SpeechTimeline()
        live = config.mic_wav is None
        # Replaying a file, wall-clock watchdogs would make the output depend on the machine's load
        # (a render that takes 6 s under load was given up: a line missing, the next prompt moved).
        tts_timeout_s = TTS_RENDER_TIMEOUT_S if live else TTS_REPLAY_TIMEOUT_S
        synth = None if config.quiet else _start_synth(voice, display, tts_timeout_s)  # before the recognizer
        if synth is not None:
            closers.append(synth.close)
        narrator = Narrator(synth, timeline, live=live, warn=display.warn, timeout_s=tts_timeout_s)
        mic, listener = _open_input(config, env, voice, timeline, display, extra_phrases)
        speaker = _open_speaker(config, timeline, synth is not None, display)
        keys = None
        if live and sys.stdin is not None and not sys.stdin.closed:
            keys = KeyReader(sys.stdin, show_keys=display.info)
            closers.append(keys.close)
            display.key_hint = keys.tty
            display.info(KEY_HELP)
        locks = SessionLocks(config.data_dir)
        closers.append(locks.close)
        edges = Edges(voice, store, log, timeline, narrator, speaker, None, listener, keys, display,  # type: ignore[arg-type]
                      closers, locks)
        room = Room(room_config) if config.echo_gain > 0 and mic is not None else None
        canceller = _open_canceller(config, env, display) if mic is not None and synth is not None else None
        edges.source = TimeSource(mic, display, log, timeline, room, canceller, keep_echo=config.keep_echo,
                                  reopen_mic=_reopener(config) if mic is not None and mic.live else None,
                                  announce=lambda key, t: edges.say_line(key, t),
                                  keep_audio=config.keep_audio if mic is not None else None)
        closers.append(edges.source.close)
        if listener is not None and config.keep_echo is not None:
            listener.heard_audio = edges.source.keep_heard
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


def open_session_store(data_dir: Path, display: Display) -> Store:
    """The history for a session. A full disk or a read-only folder does not stop the session: it
    runs on the history read-only (or an empty one in memory), and its holds are kept for you."""
    path = paths.db_path(data_dir)
    try:
        return Store(paths.db_path(paths.ensure_private_dir(data_dir)))
    except HistoryUnwritable as err:
        display.warn(f"{err}; the session runs anyway and its holds are kept for you")
    except OSError as err:           # the data folder itself cannot be made
        display.warn(f"{data_dir}: cannot write the history ({err.strerror or err}); the session runs "
                     "anyway and its holds are kept for you")
    try:
        return Store(path, read_only=True)
    except StoreError:
        return Store(path, in_memory=True)


_NOT_YET = -1       # the session's row could not be created yet


class _LateSessionStore:
    """The store as a session sees it when its row could not be created at the start (a full or
    read-only disk): the row is created by the first write that works, and holds go into it."""

    def __init__(self, store: Store, create: Callable[[], int]) -> None:
        self._store = store
        self._create = create
        self.session_id: int | None = None

    def _id(self, session_id: int) -> int:
        if session_id != _NOT_YET:
            return session_id
        if self.session_id is None:
            self.session_id = self._create()
        return self.session_id

    def record_hold(self, session_id: int, *args: Any) -> None:
        self._store.record_hold(self._id(session_id), *args)

    def end_session(self, session_id: int, ended_at: datetime, status: str) -> None:
        self._store.end_session(self._id(session_id), ended_at, status)

    def record_effort(self, session_id: int, effort: str) -> None:
        self._store.record_effort(self._id(session_id), effort)

    def record_pain(self, session_id: int, pain: bool) -> None:
        self._store.record_pain(self._id(session_id), pain)

    def drop_session_if_empty(self, session_id: int) -> None:
        if session_id != _NOT_YET:
            self._store.drop_session_if_empty(session_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


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
        if unfinished is not None and edges.locks is not None and not edges.locks.take(unfinished[0]):
            if config.resume:
                raise UsageError(f"today's unfinished session ({unfinished[0]}) is already being carried "
                                 "on by another coach; finish it there, or run without --resume")
            edges.display.warn(f"today's unfinished session ({unfinished[0]}) is already being carried "
                               "on by another coach; this is a new session")
            unfinished = None
        if unfinished is not None:
            plan = replace(plan, resume=unfinished[1], offer=None)
    session = Session(routine, edges.voice, default_cues(), plan, idle_timeout_s=config.idle_timeout_s)
    if not session.exercises:
        raise UsageError(f"{routine.source}: every exercise is advanced; pass --include-advanced")
    started = wall_start + timedelta(seconds=t)
    edges.session_started_at = started
    session_store: Store = store
    if unfinished is not None and config.resume:
        session_id = unfinished[0]                  # --resume: straight on with the old session
    else:
        input_mode = InputMode.REPLAY.value if config.mic_wav is not None else config.input_mode

        def create() -> int:
            return store.start_session(routine.name, started, input_mode, edges.voice.name, config.user)
        try:
            session_id = create()
            if edges.locks is not None:
                edges.locks.take(session_id)        # a new id: nobody else can hold it
        except StoreError as err:
            edges.display.warn(f"could not start the session in the history ({err}); its holds are "
                               "kept until they can be saved")
            session_id = _NOT_YET
            session_store = cast(Store, _LateSessionStore(store, create))
    if plan.offer is not None:
        try:
            store.record_unlock(config.user, routine.name, plan.offer.exercise, "offered", started,
                                "the progression rule is met")
        except StoreError as err:
            edges.display.warn(f"could not note the offer in the history ({err})")
    return SessionRunner(session, edges.narrator, edges.speaker, edges.log, edges.display, session_store,
                         session_id, wall_start, source=edges.source, user=config.user,
                         listener=edges.listener, keys=edges.keys,
                         unfinished_id=unfinished[0] if unfinished is not None else None)


def run_session(config: RunConfig, env: Mapping[str, str], display: Display) -> RunResult:
    """`coach run`: one session, start to end."""
    routine = load_routine_named(config.routine, config.data_dir)
    edges = open_edges(config, env, display)
    try:
        replay = replay_start(config)
        wall_start = replay or datetime.now().astimezone()
        runner = start_session(edges, routine, config, 0.0, wall_start)
        result = runner.run()
        ended_at = wall_start + timedelta(seconds=result.t_end) if replay else datetime.now().astimezone()
        finish_session(edges, runner, config, env, result.status, ended_at)
        return result
    finally:
        edges.close()


def replay_start(config: RunConfig) -> datetime | None:
    """A replay's clock: `--start-time`, else when the recording began (its modification time
    less its length), so its holds fall inside its session. None when not a replay."""
    if config.mic_wav is None:
        return None
    if config.start_at is not None:
        return config.start_at
    from coach.audio.wav import read_layout

    layout = read_layout(config.mic_wav)
    ended = config.mic_wav.stat().st_mtime
    return datetime.fromtimestamp(ended - layout.frames / layout.rate_hz).astimezone()


def finish_session(edges: Edges, runner: SessionRunner, config: RunConfig, env: Mapping[str, str],
                   status: str, ended_at: datetime) -> Path | None:
    """The one way a session ends, for `coach run` and `coach serve`: one more try at the holds not
    saved yet, the session closed in the history, and what still could not be saved kept in a file
    `coach import` reads (the user is told where). Store errors are warnings, never raised."""
    runner.retry_unsaved()                      # one more try before giving up on any
    try:
        (runner.store or edges.store).end_session(runner.session_id, ended_at, status)
    except StoreError as err:
        edges.display.warn(f"could not close the session in the history ({err})")
    if edges.locks is not None:
        edges.locks.release(runner.session_id)
        if runner.unfinished_id is not None:
            edges.locks.release(runner.unfinished_id)
    unsaved = runner.result.unsaved
    if not unsaved and not runner.result.feel_unsaved:
        return None
    input_mode = InputMode.REPLAY.value if config.mic_wav is not None else config.input_mode
    info = SessionInfo(config.user, runner.session.routine.name, runner.wall_start, input_mode,
                       edges.voice.name)
    started = _session_started_at(edges.store, runner) or edges.session_started_at or info.started_at
    text = unsaved_document(unsaved, info, status, ended_at, session_started_at=started,
                            effort=runner.result.effort, pain=runner.result.pain)
    try:
        path = keep_unsaved(text, config.data_dir, env, datetime.now().astimezone())
    except OSError as err:
        edges.display.warn(f"{plural(len(unsaved), 'hold', 'holds')} could not be saved anywhere "
                           f"({err.strerror or err}); "
                           "here they are, to import later with `coach import FILE`:")
        print(text, file=sys.stderr)
        return None
    edges.display.warn(f"{plural(len(unsaved), 'hold', 'holds')} could not be saved to the history; "
                       f"they are kept in {path} "
                       f"(readable by you only). When the disk has room: coach import {path}")
    return path


def _session_started_at(store: Store, runner: SessionRunner) -> datetime | None:
    """The start time the history holds for this session, so the kept holds import into it."""
    try:
        for s in store.sessions(user=runner.user):
            if s.id == runner.session_id:
                return datetime.fromisoformat(s.started_at)
    except StoreError:
        pass
    return None


def _start_synth(voice: VoicePack, display: Display, timeout_s: float) -> Synthesizer | None:
    synth = Pyttsx3Synthesizer(voice.engine_voice, voice.rate_wpm, voice.volume)
    try:
        synth.start(timeout_s)
    except SpeechEngineError as err:
        display.warn(f"{err}; the coach's words will only be printed (scripts/setup installs espeak-ng)")
        return None
    return synth


def _open_input(config: RunConfig, env: Mapping[str, str], voice: VoicePack, timeline: SpeechTimeline,
                display: Display, extra_phrases: Mapping[str, list[str]] | None = None,
                ) -> tuple[Microphone | None, CommandListener | None]:
    if config.input_mode == "keys" and config.mic_wav is None:
        return None, None
    from coach.asr.denoised import with_noise_suppression
    from coach.asr.select import choose_engine, make_recognizer
    from coach.audio.wav import WavMicrophone

    choice = choose_engine(config.engine, config.model, env, config.data_dir, voice, config.user)
    display.info(f"listening with {choice.why}")
    phrases = {**voice.phrases, **(extra_phrases or {})}
    recognizer = with_noise_suppression(make_recognizer(choice, voice, phrases), config.noise_suppression,
                                        display.info, display.warn)
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
