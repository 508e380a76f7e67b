"""One session, start to end: a time source drives the core, the edges carry out its actions.

The time source is either a microphone (a live device or a WAV file: session time is the
sample count) or, for keyboard-only sessions, a real-time ticker on absolute deadlines. The rest
of the loop is the same in every mode, which is what lets a WAV file replay a whole session
deterministically and faster than real time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from coach.asr.listener import EARLY_ONSET_SLACK_S, CommandListener, Verdict
from coach.asr.selfvoice import NO_PEAK_DB
from coach.audio.chunk import AudioChunk
from coach.errors import StoreError
from coach.history.store import Store
from coach.runner.display import Display
from coach.runner.eventlog import EventLog
from coach.runner.keys import KeyReader
from coach.runner.source import TimeSource
from coach.session import (
    Action,
    Command,
    EffortAnswered,
    HoldEnded,
    HoldStarted,
    Hush,
    Misheard,
    NarrationDone,
    PainAnswered,
    RestEnded,
    RestStarted,
    ResumeAnswered,
    Say,
    Session,
    SessionEnded,
    SpeechEnded,
    Start,
    StateChanged,
    Tick,
    Tone,
    UnlockAnswered,
)
from coach.session.core import REPROMPT_AFTER_S
from coach.speech.narrator import Narrator
from coach.speech.speakers import Speaker
from coach.speech.timeline import Utterance

SHOW_QUEUE = 200        # lines said and not heard yet, kept for printing (a hushed line is never heard)
DUCKS_PER_LINE = 2      # a line cut off this often for speech that came to nothing is not cut again
#                         (counted per time the session says it: the rest line comes every set)
# Not within this long after a tone: the canceller's filter, adapted to a pure tone, lets through
# more of the words that follow it, which stood up to 10.7 dB over the expected echo (the hold's
# "Lift, and hold" after its rising tone; "Paused." after the acknowledgement) at room gain 1.
DUCK_AFTER_TONE_S = 1.0
# A person pauses inside a sentence; the segmenter ends a stretch after 0.2 s of quiet. Speech
# that goes on within this long of the end of what the coach fell silent for is the same turn:
# the coach stays silent for it too (it had said "Sorry?" over "oh my back is a bit | sore today"
# and fallen silent again), for at most DUCK_CONTINUES more stretches (a TV talks on for ever).
SENTENCE_PAUSE_S = 0.5
DUCK_CONTINUES = 3


@dataclass
class _Duck:
    """The coach fell silent at `t` because the user began talking over its narration at `since`.

    When that speech has been decided: a command acted on leaves the session to answer it;
    otherwise the narration cut off is said again, whole. Narration the session asks for
    meanwhile waits (`held`); cues and tones play as due."""

    t: float
    since: float
    cut: list[Say]
    held: list[Say] = field(default_factory=list)
    acted: bool = False
    unmatched: bool = False     # it was the user's and matched nothing: "Sorry?" first (the session's)
    decided_until: float | None = None  # stream time the user's speech has been decided up to
    sorry_tone_held: Tone | None = None  # ... or its "Sorry?" tone: played once the turn is over
    continued: int = 0          # stretches after a pause inside the sentence, waited for too


@dataclass
class RunResult:
    status: str                         # finished | stopped | interrupted | ended (end of file)
    holds: list[HoldEnded] = field(default_factory=list)
    unsaved: list[HoldEnded] = field(default_factory=list)
    effort: str | None = None           # how it felt, kept here too: written with the unsaved holds
    pain: bool | None = None
    feel_unsaved: bool = False          # an answer could not be written to the history
    t_end: float = 0.0


class SessionRunner:
    def __init__(self, session: Session, narrator: Narrator, speaker: Speaker, log: EventLog,
                 display: Display, store: Store | None, session_id: int, wall_start: datetime, *,
                 source: TimeSource, user: str = "default",
                 listener: CommandListener | None = None, keys: KeyReader | None = None,
                 unfinished_id: int | None = None) -> None:
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
        self.unfinished_id = unfinished_id     # today's unfinished session, if the user may resume it
        self.source = source
        self.listener = listener
        self.keys = keys
        self.result = RunResult("running")
        self._t = 0.0
        self._narration_reported = True
        self._to_show: deque[str] = deque(maxlen=SHOW_QUEUE)    # said, not heard yet: printed as it starts
        self._duck: _Duck | None = None
        self._ducked_since = -1.0               # the onset of the last speech the coach fell silent for
        self._ducks: dict[str, int] = {}        # per line said: cut off for speech that came to nothing

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> RunResult:
        """Run the whole session on its own time source (`coach run`)."""
        self.begin(0.0)
        try:
            for t, chunk in self.source:
                self.timeline.trim(t)
                self.step(t, chunk)
                if self.done(t):
                    break
            else:
                self.end_of_input()
        except KeyboardInterrupt:
            self.result.status = "interrupted"
        finally:
            self.speaker.finish(self._t)
            self.show_rest()
        return self.result

    def begin(self, t: float) -> None:
        self._t = t
        self._apply(self.session.handle(Start(t)))
        self.narrator.prefetch(self.session.cue_texts())

    def done(self, t: float) -> bool:
        """Finished, and its last words have been heard."""
        return self.session.state == "finished" and t >= self.timeline.busy_until()

    def end_of_input(self) -> None:
        """The WAV file ended: what the recognizer still held is decided first (a "can't hold" said
        as the recording stops ends its hold), then as if the user said stop (finished holds are kept)."""
        if self.listener is not None and self.session.state != "finished":
            for command in sorted(self._heard(self._t, self.listener.flush(self.session.accepted())),
                                  key=_began):
                self._apply(self.session.handle(command))
        if self.session.state != "finished":
            self._apply(self.session.handle(Command("stop", self._t, source="end of input")))
            if self.result.status != "finished":    # finished: every set was done (it ended at a question)
                self.result.status = "ended"
        self.show_rest()

    def step(self, t: float, chunk: AudioChunk | None) -> None:
        self._t = t
        self.result.t_end = t
        commands: list[Command | Misheard] = []
        verdicts: list[Verdict] = []
        if chunk is not None and self.listener is not None:
            verdicts = self.listener.feed(chunk, self.session.accepted())
            commands += self._heard(t, verdicts)
        if self.keys is not None:
            if self.keys.closed and self.source.mic is None and self.session.state != "finished":
                commands.append(Command("stop", t, source="end of input"))    # a pipe ran dry
            for key_command, pressed in self.keys.get_all():
                at = self.source.key_time(pressed, t)
                self.log.write(t, "key", command=key_command, t_start=at)
                commands.append(Command(key_command, t, at, "", "keys"))
        for command in sorted(commands, key=_began):
            self._apply(self.session.handle(command))
        if self.listener is not None:
            self._follow_duck(t, verdicts)
        hearing = self.listener.hearing_since if self.listener is not None else None
        self._apply(self.session.handle(Tick(t, hearing)))
        self.narrator.poll(t)
        self._follow_speech(t)
        if not self._narration_reported and self.session.state == "setup" and self._duck is None \
                and not self.narrator.pending and t >= self.timeline.busy_until():
            self._narration_reported = True
            self._apply(self.session.handle(NarrationDone(t)))
        self.speaker.advance(t)
        exercise = self.session.exercise
        detail = ""
        if exercise is not None and exercise.is_hold:
            detail = f"{exercise.title}, set {min(self.session.set_no, exercise.sets)} of {exercise.sets}"
        self.display.status(self.session.state, self.session.timer(t), detail)

    def _heard(self, t: float, verdicts: list[Verdict]) -> list[Command | Misheard]:
        """Log each verdict; the session events they make (a command, or speech that matched nothing)."""
        events: list[Command | Misheard] = []
        for verdict in verdicts:
            self._log_heard(verdict)
            h = verdict.heard
            if verdict.accepted:
                events.append(Command(h.command, t, h.t_start, h.phrase, "voice"))
            elif verdict.unmatched:
                cut_off = self._duck is not None and h.t_start >= self._duck.since - EARLY_ONSET_SLACK_S
                if cut_off and self._duck is not None:
                    self._duck.unmatched = True
                events.append(Misheard(t, h.t_start, cut_off=cut_off))
        return events

    def _follow_duck(self, t: float, verdicts: list[Verdict]) -> None:
        """Barge-in by voice activity: when the user talks over the coach's narration, the coach
        falls silent at once (a person stops talking when talked over), so the rest of what the user
        says reaches the recognizer without the coach's voice over it. Cues and tones are on the
        clock and play on (cutting spoken hold cues too was measured: more self-triggers at gain 1)."""
        assert self.listener is not None
        duck = self._duck
        if duck is not None:
            duck.acted = duck.acted or any(v.accepted for v in verdicts)
            for v in verdicts:
                if v.heard.t_start >= duck.since - EARLY_ONSET_SLACK_S:
                    end = v.heard.t_end
                    duck.decided_until = end if duck.decided_until is None else max(duck.decided_until, end)
            since = self.listener.hearing_since
            lag = self.listener.onset_lag_s
            if since is None and t < duck.t + lag:
                return                                      # the recognizer has yet to hear it begin
            if since is not None and since <= duck.since + EARLY_ONSET_SLACK_S:
                return                                      # still speaking: still listening
            if not duck.acted and duck.decided_until is not None and duck.continued < DUCK_CONTINUES:
                if since is not None and since <= duck.decided_until + SENTENCE_PAUSE_S:
                    duck.since = self._ducked_since = since     # the sentence goes on: hear it out
                    duck.continued += 1
                    return
                if since is None and t < duck.decided_until + SENTENCE_PAUSE_S + lag:
                    return                                  # a pause inside a sentence, perhaps
            held_lines = {say.line for say in duck.held if say.line}
            again = [] if duck.acted else [say for say in duck.cut
                                           if not say.line or say.line not in held_lines]
            for say in again:
                self._ducks[say.text] = self._ducks.get(say.text, 0) + 1
            self._end_duck(t, again)
            return
        if self.result.status != "running" or self.session.state == "finished":
            return
        over = self.listener.over_coach
        if over is None or over[0] <= self._ducked_since + 1e-6:
            return
        sample = int(round(t * self.timeline.rate_hz))
        settle = int(DUCK_AFTER_TONE_S * self.timeline.rate_hz)
        if any(u.tone and u.start <= sample < u.end + settle for u in self.timeline.utterances):
            return
        playing = [u for u in self.timeline.utterances if u.spoken_narration
                   and u.start <= sample < u.end and self._ducks.get(u.text, 0) < DUCKS_PER_LINE]
        if not playing:
            return
        self._ducked_since = over[0]
        self.listener.fell_silent(over[0])
        self._duck = _Duck(t, over[0], self.narrator.interrupt(t))
        self.log.write(t, "duck", since=round(over[0], 3), over_echo_db=round(over[1], 2),
                       stopped=[u.text for u in playing], cut=[say.text for say in self._duck.cut])

    def _end_duck(self, t: float, again: list[Say]) -> None:
        """The speech the coach fell silent for is decided: say `again` (the cut lines to repeat),
        then the narration held meanwhile."""
        assert self._duck is not None
        duck, self._duck = self._duck, None
        self.log.write(t, "duck_end", acted=duck.acted, again=[say.text for say in again])
        # Speech of the user's that matched nothing: the session's "Sorry?" (held meanwhile) first,
        # then a pause to answer in, then the line it cut.
        sorry = [say for say in duck.held if say.line == "sorry"] if duck.unmatched and not duck.acted else []
        tone = duck.sorry_tone_held if duck.unmatched and not duck.acted else None
        at = t + REPROMPT_AFTER_S if sorry or tone is not None else t
        self._apply([replace(say, t=t) for say in sorry])
        self._apply([replace(tone, t=t)] if tone is not None else [])
        self._apply([replace(say, t=at) for say in again], again=True)
        self._apply([replace(say, t=at) for say in duck.held if say not in sorry])

    def _follow_speech(self, t: float) -> None:
        """Print each line as its audio starts (so the transcript keeps step with the speaker, and a
        printed-only session is paced as speech would be); at each line's end, tell the session
        (a question's timeout counts from there) and write `say_end` with its end time."""
        sample = int(round(t * self.timeline.rate_hz))
        starting = sorted((u for u in self.timeline.utterances if not u.shown and u.start <= sample),
                          key=lambda u: u.start)
        for u in starting:
            u.shown = True
            if not u.tone and u.text in self._to_show:
                self._to_show.remove(u.text)
                self.display.said(u.text)
        for u in self._end_lines(sample):
            self._apply(self.session.handle(SpeechEnded(u.end_s, u.text)))

    def _end_lines(self, sample: int) -> Iterator[Utterance]:
        """Mark every shown line that has ended by `sample`, write its `say_end` and yield it
        (tones are marked only). Lazy: the session may end while a line's end is being handled;
        a line an inner call took is skipped, and after session_end nothing more is logged (it
        stays the last record)."""
        for u in sorted((u for u in self.timeline.utterances if not u.ended and u.shown and u.end <= sample),
                        key=lambda u: u.end):
            if u.ended:
                continue
            u.ended = True
            if u.tone or self.result.status != "running":
                continue
            self.log.write(u.end_s, "say_end", text=u.text, start=u.start_s)
            yield u

    def show_rest(self) -> None:
        """The session is over: print what was said but never heard (the input ended first)."""
        while self._to_show:
            self.display.said(self._to_show.popleft())

    # -- actions -------------------------------------------------------------------------------
    def _apply(self, actions: list[Action], again: bool = False) -> None:
        """Carry out the session's actions; `again`: lines a duck cut, said again (their count of
        cuts goes on; a line the session says anew starts from none)."""
        for action in actions:
            if isinstance(action, Say) and action.kind != "cue" and self._duck is not None:
                self._duck.held.append(action)              # said once the user has been heard
            elif isinstance(action, Say):
                if not again:
                    self._ducks.pop(action.text, None)
                action = self._truthful(action)
                self.log.write(action.t, "say", text=action.text, line=action.line, kind=action.kind)
                self._to_show.append(action.text)
                self.narrator.say(action)
                if self.session.state == "setup":
                    self._narration_reported = False
            elif isinstance(action, Tone):
                if self._duck is not None and action.line == "sorry":
                    self._duck.sorry_tone_held = action     # not into a pause inside the sentence
                    continue
                self.log.write(action.t, "tone", name=action.name, line=action.line)
                self.narrator.tone(action)
            elif isinstance(action, Hush):
                if self._duck is not None:                  # what was cut or held is pointless now
                    self._duck.cut.clear()
                    self._duck.held.clear()
                self.narrator.hush(action.t)
            elif isinstance(action, StateChanged):
                self.log.write(action.t, "state", name=action.state)
            elif isinstance(action, HoldStarted):
                goal = {"goal_s": action.goal_s} if action.goal_s is not None else {}
                self.log.write(action.t, "hold_start", exercise=action.exercise, set=action.set,
                               target_s=action.target_s, **goal)
            elif isinstance(action, HoldEnded):
                self._save(action)          # committed first: the log never shows an unsaved hold
                self.log.write(action.t, "hold_end", exercise=action.exercise, set=action.set,
                               held_s=action.held_s, ended_by=action.ended_by, target_s=action.target_s)
            elif isinstance(action, RestStarted):
                self.log.write(action.t, "rest_start", rest_s=action.rest_s, min_s=action.min_s)
            elif isinstance(action, RestEnded):
                self.log.write(action.t, "rest_end")
            elif isinstance(action, ResumeAnswered):
                self.log.write(action.t, "resume", resume=action.resume)
                self._resume_answered(action)
            elif isinstance(action, UnlockAnswered):
                self.log.write(action.t, "unlock", exercise=action.exercise, unlocked=action.unlocked)
                self._record_unlock(action)
            elif isinstance(action, EffortAnswered):
                self.log.write(action.t, "effort", answer=action.effort)
                self._record_feeling(action)
            elif isinstance(action, PainAnswered):
                self.log.write(action.t, "pain", answer=action.pain)
                self._record_feeling(action)
            elif isinstance(action, SessionEnded):
                if self._duck is not None:                  # ("stop" said over the coach): its last
                    self._duck.acted = True                 # words go out before session_end
                    self._end_duck(action.t, [])
                for _ in self._end_lines(int(round(action.t * self.timeline.rate_hz))):
                    pass                            # lines the end cut short: logged before session_end
                extra = {"abandoned": True} if action.abandoned else {}
                self.log.write(action.t, "session_end", sets_done=action.sets_done,
                               stopped=action.stopped, **extra)
                self.result.status = ("abandoned" if action.abandoned
                                      else "stopped" if action.stopped else "finished")

    def _truthful(self, say: Say) -> Say:
        """The core's last words on a stop say the holds are saved; when the history refused some,
        say so instead (the finishing path then prints where they are kept and how to import them)."""
        if say.line not in _SAYS_SAVED or not self.result.unsaved:
            return say
        text = self.session.voice.line("stopped_unsaved", holds=len(self.result.unsaved))
        return replace(say, text=text, line="stopped_unsaved")

    def _resume_answered(self, answer: ResumeAnswered) -> None:
        """Yes: further holds go into the unfinished session. No: it is marked abandoned."""
        old = self.unfinished_id
        if self.store is None or old is None or old == self.session_id:
            return
        now = self.wall_start + timedelta(seconds=answer.t)
        try:
            if answer.resume:
                self.store.drop_session_if_empty(self.session_id)
                self.session_id = old
            else:
                self.store.end_session(old, now, "abandoned")
        except StoreError as err:
            self.display.warn(f"could not update the history ({err})")

    def _record_feeling(self, answer: EffortAnswered | PainAnswered) -> None:
        """How the session felt, stored with the session the moment it is answered."""
        if isinstance(answer, EffortAnswered):
            self.result.effort = answer.effort
        else:
            self.result.pain = answer.pain
        if self.store is None:
            return
        try:
            if isinstance(answer, EffortAnswered):
                self.store.record_effort(self.session_id, answer.effort)
            else:
                self.store.record_pain(self.session_id, answer.pain)
        except StoreError as err:
            self.result.feel_unsaved = True
            self.display.warn(f"could not save your answer ({err}); it is kept with the unsaved holds")

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
        self.result.unsaved.append(hold)
        self.retry_unsaved()

    def retry_unsaved(self) -> None:
        """Write every hold not saved yet, oldest first; stop at the first failure, keeping the rest."""
        if self.store is None:
            return
        for item in list(self.result.unsaved):
            try:
                started = self.wall_start + timedelta(seconds=item.started_t)
                self.store.record_hold(self.session_id, item.exercise, item.set, item.target_s,
                                       item.held_s, item.ended_by, started)
            except StoreError as err:
                self.display.warn(f"could not save the hold ({err}); it is kept until it can be")
                return
            self.result.unsaved.remove(item)

    def _log_heard(self, verdict: Verdict) -> None:
        log_verdict(self.log, self.display, self._t, verdict)


# Voice-pack lines that tell the user their holds are saved
_SAYS_SAVED = ("stopped", "idle_abandon")


def _began(event: Command | Misheard) -> float:
    return event.began if isinstance(event, Command) else event.t_start


def log_verdict(log: EventLog, display: Display, t: float, verdict: Verdict) -> None:
    """A recognized command in the event log: `heard` when acted on, `ignored` with the reason."""
    h = verdict.heard
    fields: dict[str, object] = dict(command=h.command, phrase=h.phrase, t_start=h.t_start,
                                     t_end=h.t_end, confidence=h.confidence)
    if verdict.echo is not None:            # the coach was audible: how far the user rose above it
        fields["over_echo_db"] = verdict.echo.user_excess_db
        if verdict.echo.peak_excess_db > NO_PEAK_DB:    # its loudest short stretch (see the listener)
            fields["peak_over_echo_db"] = verdict.echo.peak_excess_db
    if h.by:                                # heard by one part of the engine alone, or found inside
        fields["by"] = h.by                 # a longer segment ("words")
    if verdict.accepted:
        log.write(t, "heard", **fields)
        display.info(f"heard: {h.phrase} ({h.confidence:.2f})")
    else:
        if h.reason:                        # the recognizer's own word on it ("too long for phrase")
            fields["why"] = h.reason
        if h.words and not h.command:       # what the decoder aligned, for a segment it rejected
            fields["words"] = [[w.text, w.t_start, w.t_end] for w in h.words]
        log.write(t, "ignored", reason=verdict.reason, **fields)
