"""`coach serve`: the smart-speaker mode. Idle, it listens only for a start phrase (cheaply: the
recognizer decodes only what the voice-activity detector lets through); it speaks reminders at
the chosen times; on "start my exercises" it runs a session exactly as `coach run` would, then
goes back to idle. One session at a time, on one clock, with one event log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time

from coach import paths
from coach.asr.listener import Reason
from coach.errors import StoreError
from coach.progress.schedule import counted_starts, day_stats
from coach.routine import list_routines
from coach.routine.model import Routine
from coach.runner.assemble import (
    Edges,
    RunConfig,
    finish_session,
    load_routine_named,
    open_edges,
    replay_start,
    start_session,
)
from coach.runner.display import Display
from coach.runner.loop import SessionRunner, log_verdict
from coach.runner.reminders import Reminders

IDLE_ACCEPTS = ("start",)


@dataclass(frozen=True)
class ServeResult:
    sessions: int
    holds: int
    reminders: int


def serve(config: RunConfig, reminders: tuple[time, ...], env: Mapping[str, str], display: Display,
          start_at: datetime | None = None, max_sessions: int | None = None) -> ServeResult:
    default = load_routine_named(config.routine, config.data_dir)
    names = [info.name for info in list_routines(paths.routines_dir(config.data_dir))]
    edges = open_edges(config, env, display)
    wall_start = start_at or replay_start(config) or datetime.now().astimezone()
    server = _Server(edges, config, default, names, Reminders(reminders), wall_start, max_sessions, env)
    try:
        server.loop()
    except KeyboardInterrupt:
        server.interrupted()
    finally:
        edges.speaker.finish(server.t)
        edges.close()
    return ServeResult(server.sessions, server.holds, server.reminded)


class _Server:
    def __init__(self, edges: Edges, config: RunConfig, default: Routine, names: list[str],
                 reminders: Reminders, wall_start: datetime, max_sessions: int | None,
                 env: Mapping[str, str]) -> None:
        self.edges = edges
        self.env = env
        self.config = config
        self.default = default
        self.names = names
        self.reminders = reminders
        self.wall_start = wall_start
        self.max_sessions = max_sessions
        self.runner: SessionRunner | None = None
        self.t = 0.0
        self.sessions = 0
        self.holds = 0
        self.reminded = 0

    def loop(self) -> None:
        edges = self.edges
        edges.display.info("idle: say \"start my exercises\" (or press r) to begin")
        edges.log.write(0.0, "state", name="idle")
        for t, chunk in edges.source:
            self.t = t
            edges.timeline.trim(t)
            if self.runner is not None:
                self.runner.step(t, chunk)
                if self.runner.done(t):
                    self._session_over(t, self.runner.result.status)
                    if self.max_sessions is not None and self.sessions >= self.max_sessions:
                        return
                continue
            routine = self._heard_start(t, chunk)
            if routine is not None:
                self._start(routine, t)
                continue
            self._maybe_remind(t)
            edges.narrator.poll(t)
            edges.speaker.advance(t)
            edges.display.status("idle", None, "say \"start my exercises\"")
        if self.runner is not None:         # the file ended mid-session
            self.runner.end_of_input()
            self._session_over(self.t, "ended")
        else:
            self._idle_end_of_input()

    def interrupted(self) -> None:
        if self.runner is not None:
            self._session_over(self.t, "interrupted")

    # -- idle ------------------------------------------------------------------------------------
    def _heard_start(self, t: float, chunk) -> Routine | None:  # noqa: ANN001
        edges = self.edges
        if chunk is not None and edges.listener is not None:
            for verdict in edges.listener.feed(chunk, IDLE_ACCEPTS):
                log_verdict(edges.log, edges.display, t, verdict)
                if verdict.accepted:
                    return self._routine_for(verdict.heard.phrase)
        if edges.keys is not None:
            for command, _pressed in edges.keys.get_all():
                if command == "ready":
                    return self.default
                if command == "stop":
                    raise KeyboardInterrupt
        return None

    def _idle_end_of_input(self) -> None:
        """The file ended while idle: what the recognizer still held is decided and logged (every
        utterance ends as `heard` or `ignored`). A start phrase in it is not acted on: no audio is
        left to run a session in, so it is logged as ignored, "input ended"."""
        listener = self.edges.listener
        if listener is None:
            return
        for verdict in listener.flush(IDLE_ACCEPTS):
            if verdict.accepted:
                verdict = replace(verdict, accepted=False, reason=Reason.INPUT_ENDED)
            log_verdict(self.edges.log, self.edges.display, self.t, verdict)

    def _routine_for(self, phrase: str) -> Routine:
        """"start glutes" runs `glutes`; any other start phrase runs the default routine."""
        words = set(re.findall(r"[\w']+", phrase.lower()))
        for name in self.names:
            if name in words and name != self.default.name:
                return load_routine_named(name, self.config.data_dir)
        return self.default

    def _maybe_remind(self, t: float) -> None:
        now = self.wall_start + _seconds(t)
        due = self.reminders.due(now, lambda: self._sessions_today(now), self.default.sessions_per_day_max)
        if due is not None:
            self.reminded += 1
            self.edges.log.write(t, "reminder", at=due.strftime("%H:%M"))
            self.edges.say_line("reminder", t, routine=self.default.title)

    def _sessions_today(self, now: datetime) -> int:
        try:
            sessions = self.edges.store.sessions(user=self.config.user, routine=self.default.name)
        except StoreError as err:
            self._store_trouble(self.t, err)
            return 0
        return day_stats(counted_starts(sessions), now.date(), None).sessions_today

    # -- sessions --------------------------------------------------------------------------------
    def _start(self, routine: Routine, t: float) -> None:
        self.edges.log.write(t, "serve_session", routine=routine.name)
        try:
            self.runner = start_session(self.edges, routine, self.config, t, self.wall_start)
        except StoreError as err:       # the history cannot even be read: stay up, stay idle
            self._store_trouble(t, err)
            return
        self.runner.begin(t)

    def _store_trouble(self, t: float, err: StoreError) -> None:
        """A store error is a warning in the log and on the screen; the daemon goes on."""
        self.edges.log.write(t, "warning", what="history", error=str(err))
        self.edges.display.warn(f"{err}; coach serve carries on")

    def _session_over(self, t: float, status: str) -> None:
        runner = self.runner
        if runner is None:
            return
        finish_session(self.edges, runner, self.config, self.env, status, self.wall_start + _seconds(t))
        self.sessions += 1
        self.holds += len(runner.result.holds)
        self.runner = None
        if self.edges.listener is not None:
            self.edges.listener.recognizer.reset()
        self.edges.log.write(t, "state", name="idle")
        self.edges.display.info(f"session {status}: back to idle")


def _seconds(t: float):  # noqa: ANN202
    from datetime import timedelta

    return timedelta(seconds=t)
