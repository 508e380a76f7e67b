"""One session, start to end: a time source drives the core, the edges carry out its actions.

The time source is either a microphone (a live device or a WAV file: session time is the
sample count) or, for keyboard-only sessions, a real-time ticker on absolute deadlines. The rest
of the loop is the same in every mode, which is what lets a WAV file replay a whole session
deterministically and faster than real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from coach.asr.listener import CommandListener, Verdict
from coach.audio.chunk import AudioChunk, Microphone
from coach.defaults import CHUNK_S, ECHO_DELAY_S, RATE_HZ
from coach.errors import AudioDeviceError, StoreError
from coach.history.store import Store
from coach.runner.display import Display
from coach.runner.eventlog import EventLog
from coach.runner.keys import KeyReader
from coach.session import (
    Action,
    Command,
    HoldEnded,
    HoldStarted,
    Hush,
    NarrationDone,
    RestEnded,
    RestStarted,
    Say,
    Session,
    SessionEnded,
    Start,
    StateChanged,
    Tick,
    UnlockAnswered,
)
from coach.speech.narrator import Narrator
from coach.speech.speakers import Speaker


@dataclass
class RunResult:
    status: str                         # finished | stopped | interrupted | ended (end of file)
    holds: list[HoldEnded] = field(default_factory=list)
    unsaved: list[HoldEnded] = field(default_factory=list)
    t_end: float = 0.0


REOPEN_EVERY_S = 3.0    # after losing the microphone, try to reopen it this often


class RealtimeClock:
    """Session seconds on the monotonic clock, ticking on absolute deadlines (never drifting)."""

    def __init__(self, tick_s: float = CHUNK_S, start_t: float = 0.0) -> None:
        self.tick_s = tick_s
        self._t0 = time.monotonic() - start_t
        self._start_t = start_t

    def now(self) -> float:
        return time.monotonic() - self._t0

    def at(self, monotonic_s: float) -> float:
        return monotonic_s - self._t0

    def ticks(self) -> Iterator[float]:
        k = 1
        while True:
            due = self._t0 + self._start_t + k * self.tick_s
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:               # fell behind (a slow step): skip the missed ticks, keep the grid
                k += int(-delay // self.tick_s)
            k += 1
            yield self.now()


class SessionRunner:
    def __init__(self, session: Session, narrator: Narrator, speaker: Speaker, log: EventLog,
                 display: Display, store: Store | None, session_id: int, wall_start: datetime, *,
                 user: str = "default",
                 mic: Microphone | None = None, listener: CommandListener | None = None,
                 keys: KeyReader | None = None, echo_gain: float = 0.0,
                 echo_delay_s: float = ECHO_DELAY_S,
                 reopen_mic: Callable[[], Microphone] | None = None) -> None:
        self.session = session
        self.narrator = narrator
        self.timeline = narrator.timeline
        self.speaker = speaker
        self.log = log
        self.display = display
        self.store = store
        self.session_id = session_id
        self.wall_start = wall_start
        self.user = user
        self.mic = mic
        self.reopen_mic = reopen_mic
        self.listener = listener
        self.keys = keys
        self.echo_gain = echo_gain
        self.echo_delay = int(round(echo_delay_s * RATE_HZ))
        self.result = RunResult("running")
        self._clock: RealtimeClock | None = None
        self._t = 0.0
        self._narration_reported = True

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> RunResult:
        self._apply(self.session.handle(Start(0.0)))
        self.narrator.prefetch(self.session.cue_texts())
        try:
            for t, chunk in self._source():
                self._t = t
                self._step(t, chunk)
                if self.session.state == "finished" and t >= self.timeline.busy_until():
                    break
            else:
                if self.session.state != "finished":        # end of the file: as if "stop"
                    self._apply(self.session.handle(Command("stop", self._t, source="end of input")))
                    self.result.status = "ended"
        except KeyboardInterrupt:
            self.result.status = "interrupted"
        finally:
            self.result.t_end = self._t
            self.speaker.finish(self._t)
        return self.result

    def _step(self, t: float, chunk: AudioChunk | None) -> None:
        commands: list[Command] = []
        if chunk is not None and self.listener is not None:
            for verdict in self.listener.feed(chunk, self.session.accepted()):
                self._log_heard(verdict)
                if verdict.accepted:
                    h = verdict.heard
                    commands.append(Command(h.command, t, h.t_start, h.phrase, "voice"))
        if self.keys is not None:
            if self.keys.closed and self.mic is None and self.session.state != "finished":
                commands.append(Command("stop", t, source="end of input"))    # a pipe ran dry
            for command, pressed in self.keys.get_all():
                at = self._clock.at(pressed) if self._clock is not None else t
                at = min(max(at, 0.0), t)
                self.log.write(t, "key", command=command, t_start=at)
                commands.append(Command(command, t, at, "", "keys"))
        for command in sorted(commands, key=lambda c: c.began):
            self._apply(self.session.handle(command))
        self._apply(self.session.handle(Tick(t)))
        self.narrator.poll(t)
        if not self._narration_reported and self.session.state == "setup" \
                and not self.narrator.pending and t >= self.timeline.busy_until():
            self._narration_reported = True
            self._apply(self.session.handle(NarrationDone(t)))
        self.speaker.advance(t)
        exercise = self.session.exercise
        detail = ""
        if exercise is not None and exercise.is_hold:
            detail = f"{exercise.title}, set {min(self.session.set_no, exercise.sets)} of {exercise.sets}"
        self.display.status(self.session.state, self.session.timer(t), detail)

    def _source(self) -> Iterator[tuple[float, AudioChunk | None]]:
        """(session time, chunk) pairs: from the microphone, or from the real-time clock.

        A live microphone that is lost hands over to the clock (and the keyboard); the runner
        tries to reopen it every few seconds and, when it is back, listens again.
        """
        if self.mic is None:
            self._clock = RealtimeClock()
            for t in self._clock.ticks():
                yield t, None
            return
        mic: Microphone | None = self.mic
        offset_s = 0.0
        last_t = 0.0
        while mic is not None:
            try:
                for chunk in mic:
                    chunk = self._with_echo(AudioChunk(chunk.pcm, chunk.t_start + offset_s))
                    last_t = chunk.t_end
                    self._clock = None
                    yield chunk.t_end, chunk
                return                                  # end of the file
            except AudioDeviceError as err:
                if not mic.live:
                    raise
                mic.close()
                self.display.warn(f"{err}; carrying on from the keyboard until it is back (h for keys)")
                self.log.write(last_t, "device_lost", reason=str(err))
                mic = None
            self._clock = RealtimeClock(start_t=last_t)
            next_try = last_t + REOPEN_EVERY_S
            for t in self._clock.ticks():
                yield t, None
                if self.reopen_mic is not None and t >= next_try:
                    next_try = t + REOPEN_EVERY_S
                    try:
                        mic = self.reopen_mic()
                    except AudioDeviceError:
                        continue
                    offset_s = self._clock.now()
                    self.display.info("the microphone is back: listening again")
                    self.log.write(t, "device_back")
                    self.mic = mic
                    break

    def _with_echo(self, chunk: AudioChunk) -> AudioChunk:
        """`--echo-gain`: the room sends the coach's own voice back into the microphone."""
        if self.echo_gain <= 0:
            return chunk
        start = int(round(chunk.t_start * RATE_HZ))
        echo = self.timeline.render(start - self.echo_delay, chunk.n_samples).astype(np.float32)
        mic = np.frombuffer(chunk.pcm, dtype="<i2").astype(np.float32)
        mixed = np.clip(mic + self.echo_gain * echo, -32768, 32767).astype("<i2")
        return AudioChunk(mixed.tobytes(), chunk.t_start)

    # -- actions -------------------------------------------------------------------------------
    def _apply(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Say):
                self.log.write(action.t, "say", text=action.text, line=action.line, kind=action.kind)
                self.display.said(action.text)
                self.narrator.say(action)
                if self.session.state == "setup":
                    self._narration_reported = False
            elif isinstance(action, Hush):
                self.narrator.hush(action.t)
            elif isinstance(action, StateChanged):
                self.log.write(action.t, "state", name=action.state)
            elif isinstance(action, HoldStarted):
                goal = {"goal_s": action.goal_s} if action.goal_s is not None else {}
                self.log.write(action.t, "hold_start", exercise=action.exercise, set=action.set,
                               target_s=action.target_s, **goal)
            elif isinstance(action, HoldEnded):
                self.log.write(action.t, "hold_end", exercise=action.exercise, set=action.set,
                               held_s=action.held_s, ended_by=action.ended_by, target_s=action.target_s)
                self._save(action)
            elif isinstance(action, RestStarted):
                self.log.write(action.t, "rest_start", rest_s=action.rest_s, min_s=action.min_s)
            elif isinstance(action, RestEnded):
                self.log.write(action.t, "rest_end")
            elif isinstance(action, UnlockAnswered):
                self.log.write(action.t, "unlock", exercise=action.exercise, unlocked=action.unlocked)
                self._record_unlock(action)
            elif isinstance(action, SessionEnded):
                self.log.write(action.t, "session_end", sets_done=action.sets_done,
                               stopped=action.stopped)
                self.result.status = "stopped" if action.stopped else "finished"

    def _record_unlock(self, answer: UnlockAnswered) -> None:
        if self.store is None:
            return
        state = "unlocked" if answer.unlocked else "locked"
        try:
            self.store.record_unlock(self.user, self.session.routine.name, answer.exercise, state,
                                     self.wall_start + timedelta(seconds=answer.t), "answered in a session")
        except StoreError as err:
            self.display.warn(f"could not save your answer ({err})")

    def _save(self, hold: HoldEnded) -> None:
        """Commit the hold now. If the store fails, keep it in memory and try again next time."""
        self.result.holds.append(hold)
        if self.store is None:
            return
        for item in [*self.result.unsaved, hold]:
            try:
                started = self.wall_start + timedelta(seconds=item.started_t)
                self.store.record_hold(self.session_id, item.exercise, item.set, item.target_s,
                                       item.held_s, item.ended_by, started)
                if item in self.result.unsaved:
                    self.result.unsaved.remove(item)
            except StoreError as err:
                if item not in self.result.unsaved:
                    self.result.unsaved.append(item)
                self.display.warn(f"could not save the hold ({err}); it is kept until it can be")
                return

    def _log_heard(self, verdict: Verdict) -> None:
        h = verdict.heard
        fields = dict(command=h.command, phrase=h.phrase, t_start=h.t_start, t_end=h.t_end,
                      confidence=h.confidence)
        if verdict.accepted:
            self.log.write(self._t, "heard", **fields)
            self.display.info(f"heard: {h.phrase} ({h.confidence:.2f})")
        else:
            self.log.write(self._t, "ignored", reason=verdict.reason, **fields)
