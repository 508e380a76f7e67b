"""The session state machine: `Session.handle(event) -> list[Action]`.

It owns the routine's progress (which exercise, which set), the hold and rest clocks, and the
schedule of spoken cues. It knows nothing of audio, terminals or files: the runner feeds it
events stamped with the session clock and carries out the actions it returns, so a whole session
can be replayed from a list of events, or from a WAV file, with identical results.

States:
    asking         waiting for an answer: yes or no (shall we add the unlocked advanced exercise?
                   carry on with today's session? any pain?), or easy, okay or hard (how did that
                   feel?, asked once after the last set when the routine asks it)
    setup          instructions are being read out; `ready` skips the rest of them
    waiting_ready  waiting for `ready` (to start the first set, the next set, or the next step)
    get_set        "set 2 of 5 ... three, two, one" before a hold
    holding        the hold clock runs; cues fall on schedule; done / can't hold end it
    resting        the rest clock counts down; `ready` is accepted after the minimum rest
    paused         the hold or rest clock is frozen
    finished       nothing more happens

Turn-taking: a spoken command the table acts on is acknowledged (a tone or a word, per voice
pack) so the user is never left wondering; short speech that matched no command gets "Sorry?"
and the prompt again, in a waiting state only (never over a count); "stop" and "pause" cut the
coach off at once; a command that ends a hold is applied at the moment the user began to speak,
so cues due after that moment (the 3-2-1 of the countdown) are not said; a question's timeout counts
from the moment its speech ended (`SpeechEnded`, from the runner) and is said aloud; and with an idle
timeout (`coach serve`), a session left unanswered that long is given up, keeping what was done.

Commands are dispatched through `DISPATCH`, a (state, command) table, whether they were spoken
or typed: a pair the table leaves out gets a polite answer (`_polite`), never an exception.
A new command: a `CommandId` member (coach/vocab.py), its phrases in the voice packs, the states
that listen for it in ACCEPTED, and a row in `_table()`. Timed phases (coach/session/phases.py)
carry their own typed data; a new timed event is a `CueKind` handled in `_fire`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from coach.progress.memory import VoiceLine, feedback
from coach.routine.model import CueTiming, Exercise, Routine, goal_below, held_within
from coach.session.actions import (
    Action,
    EffortAnswered,
    HoldEnded,
    HoldStarted,
    Hush,
    PainAnswered,
    RestEnded,
    RestStarted,
    ResumeAnswered,
    Say,
    SessionEnded,
    StateChanged,
    Tone,
    UnlockAnswered,
)
from coach.session.cues import Cue, hold_cues, rest_cues
from coach.session.events import Command, Event, Misheard, NarrationDone, SpeechEnded, Start, Tick
from coach.session.phases import AskingPhase, GetSetPhase, HoldPhase, Phase, RestPhase
from coach.session.plan import NO_PLAN, ResumePoint, SessionPlan
from coach.session.wording import Wording
from coach.vocab import CommandId, CueKind, Earcon, Effort, Feedback, Question, SayKind, State

GET_SET_LEAD_S = 1.5      # "set 2 of 5" gets this long before the count starts
ASK_TIMEOUT_S = 30.0      # no answer this long after a question was said: say so, carry on
HOLD_GRACE_S = 0.8        # after "time's up", a "can't hold" begun before it still counts this long
HOLD_GRACE_MAX_S = 3.0    # ... up to this long while the recognizer still hears speech begun before it
HOLD_CLOSE_POLL_S = 0.05  # how often a waiting hold looks again
REPROMPT_AFTER_S = 0.8    # after "Sorry?", this pause, then the prompt again
SORRY_GAP_S = 4.0         # at most one "Sorry?" this often (someone talking on is not asked each time)

C = CommandId

# Commands worth listening for in each state; the recognizer listens for these only, which keeps
# false triggers down. Every one has an entry in DISPATCH; a key outside them is answered politely.
ACCEPTED: dict[State, tuple[CommandId, ...]] = {
    State.ASKING: (C.YES, C.NO, C.REPEAT, C.STOP, C.HELP),
    State.SETUP: (C.READY, C.SKIP, C.NEXT, C.REPEAT, C.STOP, C.HELP, C.HOW_LONG),
    State.WAITING_READY: (C.READY, C.SKIP, C.NEXT, C.REPEAT, C.STOP, C.HELP, C.HOW_LONG),
    State.GET_SET: (C.PAUSE, C.SKIP, C.NEXT, C.STOP, C.HELP, C.HOW_LONG),
    State.HOLDING: (C.DONE, C.CANT_HOLD, C.PAUSE, C.SKIP, C.NEXT, C.STOP, C.HOW_LONG, C.HELP, C.REPEAT),
    State.RESTING: (C.READY, C.SKIP, C.NEXT, C.PAUSE, C.STOP, C.HOW_LONG, C.HELP, C.REPEAT),
    State.PAUSED: (C.RESUME, C.STOP, C.HOW_LONG, C.HELP, C.REPEAT, C.SKIP, C.NEXT),
    State.FINISHED: (),
}
# While asking "how did that feel?": the ratings instead of yes and no.
ACCEPTED_EFFORT = (C.EASY, C.OKAY, C.HARD, C.REPEAT, C.STOP, C.HELP)
# The questions asked after the last set; each one's prompt when the answer was not one of its words.
FEEL = frozenset({Question.EFFORT, Question.PAIN})
_ASK_AGAIN_LINE = {Question.EFFORT: "effort_or"}        # else "yes_or_no"
_TIMEOUT_LINE = {Question.UNLOCK: "unlock_no_answer", Question.RESUME: "resume_no_answer",
                 Question.EFFORT: "feel_no_answer", Question.PAIN: "feel_no_answer"}

# The answer to a command the table leaves out, outside the asking state (where it is always
# "please say yes or no"). A command not listed here is ignored there: yes/no outside a question,
# and `start`, which only `coach serve` hears between sessions.
DEFAULT_ANSWER: dict[CommandId, str] = {
    C.DONE: "no_hold", C.CANT_HOLD: "no_hold", C.PAUSE: "nothing_to_pause", C.RESUME: "not_paused",
    C.EASY: "no_question", C.OKAY: "no_question", C.HARD: "no_question",
}

# Commands applied at the moment the user began to say them: cues due after that are not said.
AT_ONSET = frozenset({C.DONE, C.CANT_HOLD, C.STOP, C.SKIP, C.NEXT})
# Where speech that matched no command gets "Sorry?": waiting for an answer, never over a count.
ASKS_AGAIN = frozenset({State.WAITING_READY, State.ASKING})
# States where speech the coach fell silent for, that matched nothing, gets "Sorry?" (never a hold).
SORRY_WHEN_CUT_OFF = frozenset({State.SETUP, State.RESTING, State.PAUSED, *ASKS_AGAIN})
# States that wait for the user; with an idle timeout, silence this long gives the session up.
WAITS_FOR_USER = frozenset({State.WAITING_READY, State.PAUSED})


class Session:
    """One run through a routine. Feed it events in time order; it returns what to do."""

    def __init__(self, routine: Routine, voice: Wording, base_cues: CueTiming,
                 plan: SessionPlan = NO_PLAN, *, idle_timeout_s: float | None = None) -> None:
        self.routine = routine
        self.idle_timeout_s = idle_timeout_s
        self.voice = voice
        self.plan = plan
        self._base_cues = voice.cues.over(base_cues)
        self._enabled = set(plan.enabled)
        self._exercises = self._choose_exercises()
        self._best: dict[str, float | None] = {e.id: plan.for_exercise(e.id).best_s
                                               for e in routine.exercises}
        self.state = State.IDLE
        self._ex_index = -1
        self._set = 0                   # the set in progress or next (1-based)
        self._phase: Phase | None = None    # kept while paused, its clock stopped
        self._sets_done = 0
        self._last_lines: list[str] = []
        self._last_lines_call = -1
        self._calls = 0
        self._out: list[Action] = []
        self._t = 0.0
        self._prompt: tuple[str, dict[str, object]] = ("ready_prompt", {})    # what "Sorry?" asks again
        self._last_sorry_t = -math.inf
        self._unheard_tries = 0             # spoken repeats and "Sorry?"s in a row (`_maybe_hint`)
        self._idle_from_t = 0.0                 # the last time the user spoke or a wait began
        self._hears_speech_ends = False         # the runner sends SpeechEnded: timeouts wait for them
        self._asked_feel = False
        self._hearing_since: float | None = None   # the recognizer's undecided speech began then

    # -- public --------------------------------------------------------------------------------
    @property
    def exercise(self) -> Exercise | None:
        if 0 <= self._ex_index < len(self._exercises):
            return self._exercises[self._ex_index]
        return None

    @property
    def exercises(self) -> tuple[Exercise, ...]:
        """The exercises of this session: the routine's, with advanced ones only when enabled."""
        return self._exercises

    def _choose_exercises(self) -> tuple[Exercise, ...]:
        return tuple(e for e in self.routine.exercises if not e.advanced or e.id in self._enabled)

    @property
    def set_no(self) -> int:
        """The set in progress, or the next one."""
        return self._set

    @property
    def sets_done(self) -> int:
        return self._sets_done

    def accepted(self) -> tuple[CommandId, ...]:
        """The commands worth listening for right now."""
        if isinstance(self._phase, AskingPhase) and self._phase.about is Question.EFFORT:
            return ACCEPTED_EFFORT
        return ACCEPTED.get(self.state, ())

    def timer(self, t: float) -> tuple[State, float, float] | None:
        """(phase, elapsed_s, total_s) of the running clock, for a live display."""
        phase = self._phase
        if phase is None:
            return None
        return phase.state, phase.elapsed(t), phase.total_s

    def cue_texts(self) -> list[str]:
        """Every cue line this session can say, so the narrator can render them ahead of time."""
        texts: list[str] = []
        for exercise in self.routine.exercises:
            if not exercise.is_hold:
                continue
            texts.append(self.voice.line("goal_reached", goal_s=0))
            timing = self.routine.cues_for(exercise, self._base_cues)
            texts += [self.voice.line("set_intro", set=k, sets=exercise.sets,
                                      goal_s=self._set_goal(exercise, k))
                      for k in range(1, exercise.sets + 1)]
            texts += [self.voice.line("count", n=n) for n in range(1, (timing.get_set_s or 0) + 1)]
            texts += [self.voice.line("hold_start", goal_s=self._set_goal(exercise, k))
                      for k in range(1, exercise.sets + 1)]
            texts.append(self.voice.line("times_up"))
            cues = hold_cues(exercise.hold_s, timing, form=exercise.form_cues)
            if exercise.rest is not None:
                cues += rest_cues(exercise.rest.min_s, exercise.rest.max_s, timing)
                texts.append(self.voice.line("rest_min_reached"))
            texts += [self.voice.line(c.line, **c.values) for c in cues if c.kind is CueKind.SAY]
        return list(dict.fromkeys(texts))

    def handle(self, event: Event) -> list[Action]:
        self._out = []
        self._calls += 1
        if isinstance(event, Start):
            self._t = event.t
            self._start(event.t)
        elif isinstance(event, Tick):
            self._hearing_since = event.hearing_since
            self._say_held_times_up(event.t)
            self._advance(event.t)
        elif isinstance(event, NarrationDone):
            self._advance(event.t)
            if self.state is State.SETUP:
                self._prompt_ready(event.t)
        elif isinstance(event, Command):
            command = CommandId.parse(event.command)
            self._advance(event.began if command in AT_ONSET else event.t)
            self._idle_from_t = event.t
            self._command(event)
            self._advance(event.t)
        elif isinstance(event, Misheard):
            self._advance(event.t)
            self._idle_from_t = event.t
            self._misheard(event)
        elif isinstance(event, SpeechEnded):
            self._advance(event.t)
            self._speech_ended(event)
        return self._out

    def _speech_ended(self, event: SpeechEnded) -> None:
        """A question (or its prompt again) finished being said: its timeout starts now."""
        self._hears_speech_ends = True
        asking = self._phase
        if not isinstance(asking, AskingPhase):
            return
        if event.text not in (asking.question, self.voice.line(self._ask_again_line(asking))):
            return
        asking.spoken = True
        asking.started_t = event.t
        asking.accum_s = 0.0
        asking.running = True
        asking.cues = [Cue(ASK_TIMEOUT_S, CueKind.ASK_TIMEOUT)]
        self._advance(self._t)

    # -- time ----------------------------------------------------------------------------------
    def _advance(self, t: float) -> None:
        """Fire every cue due by `t`, each at its own scheduled time."""
        t = max(t, self._t)
        while self._phase is not None and self._phase.running and self._phase.cues:
            phase = self._phase
            due_t = phase.time_of(phase.cues[0].at_s)
            if due_t > t + 1e-9:
                break
            cue = phase.cues.pop(0)
            self._t = max(self._t, due_t)
            self._fire(cue, due_t)
        self._t = t
        timeout = self.idle_timeout_s
        if timeout is not None and self.state in WAITS_FOR_USER and t - self._idle_from_t >= timeout:
            self._abandon(self._idle_from_t + timeout)

    def _fire(self, cue: Cue, t: float) -> None:
        if cue.kind is CueKind.SAY:
            tone = self._tone_for(cue)
            if tone is not None:
                self._emit(Tone(tone, t, cue.line))
            else:
                self._say(t, cue.line, kind=SayKind.CUE, **cue.values)
        elif cue.kind is CueKind.HOLD_START:
            self._start_hold(t)
        elif cue.kind is CueKind.HOLD_END:
            self._reach_target(t)
        elif cue.kind is CueKind.HOLD_CLOSE:
            phase = self._phase
            assert isinstance(phase, HoldPhase) and phase.reached_t is not None
            if self._deciding_before(phase.reached_t) and t < phase.reached_t + HOLD_GRACE_MAX_S:
                later = replace(cue, at_s=cue.at_s + HOLD_CLOSE_POLL_S)
                phase.cues.insert(sum(c.at_s <= later.at_s for c in phase.cues), later)
                return
            self._end_hold(t, "target")     # (says the held-back "Well held", if any)
        elif cue.kind is CueKind.REST_MIN:
            self._say(t, "rest_min_reached", kind=SayKind.CUE)
        elif cue.kind is CueKind.ASK_TIMEOUT:
            asking = self._phase
            assert isinstance(asking, AskingPhase)
            if self._hears_speech_ends and not asking.spoken:
                asking.running = False      # still being said (or queued): the time starts at its end
                asking.accum_s = 0.0
                asking.cues.insert(0, cue)
                return
            self._ask_timed_out(asking, t)
        elif cue.kind is CueKind.REST_END:
            self._emit(RestEnded(t))
            self._phase = None
            self._wait_ready(t, line="rest_over")

    def _deciding_before(self, t: float) -> bool:
        """The recognizer is still hearing speech the user began shortly before `t` (a "can't hold"
        said in the last second, whose segment ran on into the coach's next line): wait for its
        verdict. Speech that began long before (a fan, chatter) is no command: no wait for it."""
        since = self._hearing_since
        return since is not None and t - HOLD_GRACE_MAX_S <= since < t

    # -- flow ----------------------------------------------------------------------------------
    def _start(self, t: float) -> None:
        self._say(t, "session_start", routine=self.routine.title)
        for text in self.routine.intro:
            self._say_text(t, text)
        for line in self.plan.greeting:
            self._say_line(t, line)
        resume = self.plan.resume
        if resume is not None and self._resume_index(resume) is not None:
            if not resume.ask:
                self._resume(t)
                return
            self._ask(t, Question.RESUME, VoiceLine("resume_offer", {"done": resume.sets_done,
                                                                    "total": resume.sets_total}))
            return
        offer = self.plan.offer
        if offer is not None and self.routine.exercise(offer.exercise) is not None:
            self._ask(t, Question.UNLOCK, offer.line)
            return
        self._next_exercise(t)

    def _ask(self, t: float, about: Question, line: VoiceLine) -> None:
        """Say the question `line` and wait for its answer (`repeat` says the question again)."""
        self._set_state(State.ASKING, t)
        text = self.voice.line(line.key, **line.values)
        self._phase = AskingPhase(t, [Cue(ASK_TIMEOUT_S, CueKind.ASK_TIMEOUT)], about=about, question=text)
        self._emit(Say(text, t, SayKind.NARRATION, line.key))
        self._last_lines, self._last_lines_call = [text], self._calls

    def _ask_again_line(self, asking: AskingPhase) -> str:
        return _ASK_AGAIN_LINE.get(asking.about, "yes_or_no")

    def _ask_timed_out(self, asking: AskingPhase, t: float) -> None:
        """No answer: say so, and carry on as the question's safe default (asked again next time)."""
        self._phase = None
        self._say(t, _TIMEOUT_LINE[asking.about])
        if asking.about in FEEL:
            self._close(t)
            return
        if asking.about is Question.RESUME:
            self._emit(ResumeAnswered(False, t))    # no answer to "carry on?": start afresh
        self._next_exercise(t)

    def _resume_index(self, resume: ResumePoint) -> int | None:
        ids = [e.id for e in self._exercises]
        return ids.index(resume.exercise) if resume.exercise in ids else None

    def _resume(self, t: float) -> None:
        """Carry on where today's unfinished session stopped: that exercise, the next set."""
        resume = self.plan.resume
        assert resume is not None
        index = self._resume_index(resume)
        assert index is not None
        self._ex_index = index
        self._set = resume.set_no
        self._sets_done = resume.sets_done
        exercise = self._exercises[index]
        self._say(t, "resume_from", exercise=exercise.title, set=resume.set_no, sets=exercise.sets)
        self._wait_ready(t, line="ready_prompt")

    def _answer(self, t: float, yes: bool) -> None:
        asking = self._phase
        assert isinstance(asking, AskingPhase)      # DISPATCH sends yes/no here only while asking
        if asking.about is Question.EFFORT:         # not an answer to "how did that feel?"
            self._say(t, "effort_or")
            return
        self._phase = None
        if asking.about is Question.PAIN:
            self._emit(PainAnswered(yes, t))
            self._say(t, "pain_yes" if yes else "pain_no")
            self._close(t)
            return
        if asking.about is Question.RESUME:
            self._emit(ResumeAnswered(yes, t))
            if yes:
                self._resume(t)
            else:
                self._next_exercise(t)
            return
        offer = self.plan.offer
        assert offer is not None
        exercise = self.routine.exercise(offer.exercise)
        assert exercise is not None
        self._emit(UnlockAnswered(offer.exercise, yes, t))
        if yes:
            self._enabled.add(offer.exercise)
            self._exercises = self._choose_exercises()
            self._say(t, "unlock_yes", exercise=exercise.title)
        else:
            self._say(t, "unlock_no")
        self._next_exercise(t)

    def _next_exercise(self, t: float) -> None:
        self._ex_index += 1
        self._set = 1
        exercise = self.exercise
        if exercise is None:
            self._finish(t, stopped=False)
            return
        self._set_state(State.SETUP, t)
        self._last_lines, self._last_lines_call = [], self._calls   # `repeat`: this step's words only
        self._say(t, "exercise_start", exercise=exercise.title)
        for line in self.plan.for_exercise(exercise.id).opening:    # "Last time ...": not repeated
            self._say_line(t, line)
        for text in exercise.say:
            self._say_text(t, text)

    def _prompt_ready(self, t: float) -> None:
        exercise = self.exercise
        assert exercise is not None
        self._wait_ready(t, line="ready_prompt")

    def _wait_ready(self, t: float, line: str) -> None:
        """Wait for `ready`: it starts the next set of a hold exercise, or the next exercise."""
        self._set_state(State.WAITING_READY, t)
        self._idle_from_t = t
        self._prompt = (line, {})
        self._say(t, line)

    def _ready(self, t: float) -> None:
        """`ready` in setup or waiting_ready."""
        exercise = self.exercise
        assert exercise is not None
        if self.state is State.SETUP:
            self._emit(Hush(t))
        if not exercise.is_hold:
            self._next_exercise(t)
        else:
            self._get_set(t)

    def _get_set(self, t: float) -> None:
        exercise = self.exercise
        assert exercise is not None
        timing = self._timing()
        count_from = timing.get_set_s or 0
        lead = GET_SET_LEAD_S if count_from else 0.0
        cues = [Cue(0.0, CueKind.SAY, "set_intro", {"set": self._set, "sets": exercise.sets,
                                                    "goal_s": self._set_goal(exercise, self._set)})]
        cues += [Cue(lead + i, CueKind.SAY, "count", {"n": count_from - i}) for i in range(count_from)]
        cues.append(Cue(lead + count_from, CueKind.HOLD_START))
        self._set_state(State.GET_SET, t)
        self._phase = GetSetPhase(t, cues, count_s=lead + count_from)
        self._advance(t)

    def _start_hold(self, t: float) -> None:
        exercise = self.exercise
        assert exercise is not None
        self._set_state(State.HOLDING, t)
        target_s = exercise.hold_s
        goal = goal_below(self.plan.for_exercise(exercise.id).goal_for(self._set), target_s)
        self._emit(HoldStarted(exercise.id, self._set, target_s, t, goal))
        cues = hold_cues(target_s, self._timing(), goal_s=goal, form=exercise.form_cues,
                         form_from=self._set - 1)
        self._phase = HoldPhase(t, cues, target_s=target_s, began_t=t)
        if self.voice.earcons.hold:
            self._emit(Tone(Earcon.HOLD_START, t, "hold_start"))
        self._say(t, "hold_start", kind=SayKind.CUE, goal_s=self._set_goal(exercise, self._set))

    def _reach_target(self, t: float) -> None:
        """The target is reached: say so now, record it a moment later.

        A "can't hold" or "done" the user began just before the target is recognized a fraction of
        a second after it: for `HOLD_GRACE_S` such a command still ends the hold where it began."""
        phase = self._phase
        assert isinstance(phase, HoldPhase)
        phase.reached_t = t
        if self._deciding_before(t):
            # The user is saying something begun just before the target (a "can't hold" in the last
            # second): the coach does not talk over it. "Well held" over the rest of a "can't hold"
            # made one segment of both, decoded as "can't them" (bench_turns, countdown "1").
            phase.times_up_held = True
        else:
            self._say_times_up(t)
        phase.cues.insert(0, Cue(phase.target_s + HOLD_GRACE_S, CueKind.HOLD_CLOSE))

    def _say_times_up(self, t: float) -> None:
        if self.voice.earcons.hold:
            self._emit(Tone(Earcon.HOLD_END, t, "times_up"))
        self._say(t, "times_up", kind=SayKind.CUE)

    def _say_held_times_up(self, t: float) -> None:
        """The speech the target's "Well held" waited for is decided and was nothing: say it now."""
        phase = self._phase
        if isinstance(phase, HoldPhase) and phase.times_up_held and phase.reached_t is not None \
                and not self._deciding_before(phase.reached_t):
            phase.times_up_held = False
            self._say_times_up(t)

    def _end_hold(self, t: float, ended_by: str, began: float | None = None) -> None:
        """End the running (or paused) hold. For done/cant_hold, `began` is when the user spoke.

        After the target was reached (the grace), only a command begun before it changes what is
        recorded; anything else records the full hold, whose end was already announced."""
        exercise = self.exercise
        phase = self._phase
        assert exercise is not None and isinstance(phase, HoldPhase)
        announced = phase.reached_t is not None and (began is None or began >= phase.reached_t)
        if announced and phase.times_up_held and ended_by != "stop":
            phase.times_up_held = False     # the full hold stands: its "Well held" is due now
            self._say_times_up(t)
        if announced:
            assert phase.reached_t is not None
            t_end, stopping = phase.reached_t, ended_by == "stop"
            ended_by, began = "target", None
            if stopping:        # stop in the grace: record the full hold, then the session ends
                self._phase = None
                self._sets_done += 1
                self._emit(HoldEnded(exercise.id, self._set, phase.target_s, phase.target_s, "target",
                                     t_end, phase.began_t))
                return
        end_t = t if began is None else min(max(began, phase.time_of(0.0)), t)
        if announced:
            end_t = t_end
        if phase.running:
            held = phase.elapsed(end_t)
        else:       # paused: the clock stopped at the pause
            held = phase.accum_s
        held = phase.target_s if ended_by == "target" else held_within(held, phase.target_s)
        self._phase = None
        self._sets_done += 1
        self._emit(HoldEnded(exercise.id, self._set, phase.target_s, held, ended_by, end_t,
                             phase.began_t))
        if ended_by == "stop":
            return
        if not announced:
            if self.voice.earcons.hold:
                self._emit(Tone(Earcon.HOLD_END, t, "hold_ended"))
            self._say(t, "hold_ended", held_s=held)
        self._feedback(t, exercise, held)
        if ended_by != "target":        # short of today's goal for the set, not only of the full hold
            for text in exercise.short_hold if held < self._set_goal(exercise, self._set) else ():
                self._say_text(t, text, remember=False)
        if self._set < exercise.sets:
            self._set += 1
            self._start_rest(t)
        else:
            self._next_exercise(t)

    def _feedback(self, t: float, exercise: Exercise, held: float) -> None:
        """One short line against last time; nothing in the very first session."""
        plan = self.plan.for_exercise(exercise.id)
        line = feedback(held, self._set, plan.last, self._best.get(exercise.id))
        if line.key != "first_time":
            self._say_line(t, line)
        best = self._best.get(exercise.id)
        self._best[exercise.id] = held if best is None else max(best, held)

    def _start_rest(self, t: float) -> None:
        exercise = self.exercise
        assert exercise is not None and exercise.rest is not None
        rest = exercise.rest
        self._set_state(State.RESTING, t)
        self._emit(RestStarted(rest.max_s, rest.min_s, t))
        if rest.min_s < rest.max_s:
            self._say(t, "rest_start", min_s=_num(rest.min_s), max_s=_num(rest.max_s))
        else:
            self._say(t, "rest_start_fixed", rest_s=_num(rest.max_s))
        self._phase = RestPhase(t, rest_cues(rest.min_s, rest.max_s, self._timing()),
                                min_s=rest.min_s, max_s=rest.max_s)

    def _end_rest(self, t: float) -> None:
        self._emit(RestEnded(t))
        self._phase = None
        self._get_set(t)

    def _finish(self, t: float, stopped: bool, abandoned: bool = False) -> None:
        self._phase = None
        if abandoned:
            minutes = (self.idle_timeout_s or 0) / 60
            self._say(t, "idle_abandon", idle_min=_num(round(minutes, 1)))
        elif stopped:
            self._say(t, "stopped")
        else:
            self._say(t, "session_end", sets_done=self._sets_done)
            if self.routine.ask_effort and self._sets_done > 0 and not self._asked_feel:
                self._asked_feel = True         # once: "how did that feel?", then "any pain?"
                self._ask(t, Question.EFFORT, VoiceLine("effort_ask", {}))
                return
            self._close(t)
            return
        self._set_state(State.FINISHED, t)
        self._emit(SessionEnded(self._sets_done, stopped or abandoned, t, abandoned))

    def _close(self, t: float, outro: bool = True) -> None:
        """The end of a session whose every exercise is done."""
        self._phase = None
        for text in self.routine.outro if outro else ():
            self._say_text(t, text, remember=False)
        self._set_state(State.FINISHED, t)
        self._emit(SessionEnded(self._sets_done, False, t))

    def _abandon(self, t: float) -> None:
        """Nobody answered for the idle time: say so once, keep what was done, end."""
        if isinstance(self._phase, RestPhase):
            self._emit(RestEnded(t))
        self._finish(t, stopped=True, abandoned=True)

    def _misheard(self, event: Misheard) -> None:
        """Speech that matched no command: "Sorry?" and the prompt again, in a waiting state."""
        t = event.t
        style = self.voice.earcons.not_understood
        asks_again = self.state in ASKS_AGAIN
        if style is Feedback.NONE or not (asks_again or event.cut_off and self.state in SORRY_WHEN_CUT_OFF):
            return
        if event.t_start < self._last_sorry_t + SORRY_GAP_S:
            return
        self._last_sorry_t = t
        if style is Feedback.TONE:
            self._emit(Tone(Earcon.SORRY, t, "sorry"))
        else:
            self._say(t, "sorry")
        if not asks_again:
            return                  # the runner says the narration it cut again, REPROMPT_AFTER_S on
        phase = self._phase
        again = self._ask_again_line(phase) if isinstance(phase, AskingPhase) else "yes_or_no"
        line, values = self._prompt if self.state is State.WAITING_READY else (again, {})
        self._say(t + REPROMPT_AFTER_S, line, SayKind.NARRATION, **values)
        self._maybe_hint(t + REPROMPT_AFTER_S)

    def _tone_for(self, cue: Cue) -> Earcon | None:
        """The tone that stands in for a spoken cue, when the voice pack asks for tones."""
        earcons = self.voice.earcons
        if cue.line == "count" and earcons.countdown:
            return Earcon.COUNT_LAST if cue.values.get("n") == 1 else Earcon.COUNT
        if cue.line == "hold_every" and earcons.every:
            return Earcon.TICK
        return None

    # -- commands ------------------------------------------------------------------------------
    def _command(self, cmd: Command) -> None:
        """Look the (state, command) pair up in DISPATCH; keys and voice alike."""
        command = CommandId.parse(cmd.command)
        if command is None or self.state in (State.IDLE, State.FINISHED):
            return      # not a command word; or no session to talk about (before Start, after the end)
        if command is C.NEXT:
            command = C.SKIP
        handler = DISPATCH.get((self.state, command))
        if handler is None:
            self._polite(cmd.t, command)
            return
        if cmd.source == "voice" and command is not C.REPEAT:
            self._unheard_tries = 0
        first = len(self._out)
        handler(self, cmd)
        if cmd.source == "voice":
            self._acknowledge(cmd.t, first)

    def _acknowledge(self, t: float, first: int) -> None:
        """A spoken command was acted on: a tone (or a word) so the user knows it was heard.

        Placed after the handler's Hush, if any, so that cutting the coach off does not cut it."""
        style = self.voice.earcons.acknowledge
        if style is Feedback.NONE:
            return
        at = first
        for i in range(first, len(self._out)):
            if isinstance(self._out[i], Hush):
                at = i + 1
        ack: Action = (Tone(Earcon.ACK, t, "ack") if style is Feedback.TONE
                       else Say(self.voice.line("ack"), t, SayKind.CUE, "ack"))
        self._out.insert(at, ack)

    def _polite(self, t: float, command: CommandId) -> None:
        """A command that means nothing in this state: say so (or, for a stray yes or no, nothing)."""
        if isinstance(self._phase, AskingPhase):
            self._say(t, self._ask_again_line(self._phase))
        elif command in DEFAULT_ANSWER:
            self._say(t, DEFAULT_ANSWER[command])

    def _cmd_ready(self, cmd: Command) -> None:
        self._ready(cmd.t)

    def _cmd_ready_in_rest(self, cmd: Command) -> None:
        phase = self._phase
        assert isinstance(phase, RestPhase)
        left = phase.min_s - phase.elapsed(cmd.t)
        if left > 0:
            self._say(cmd.t, "rest_longer", wait_s=max(1, math.ceil(left)))
        else:
            self._end_rest(cmd.t)

    def _cmd_yes(self, cmd: Command) -> None:
        self._answer(cmd.t, True)

    def _cmd_no(self, cmd: Command) -> None:
        self._answer(cmd.t, False)

    def _cmd_effort(self, cmd: Command) -> None:
        """easy / okay / hard: the answer to "how did that feel?"; then "any pain?"."""
        asking = self._phase
        assert isinstance(asking, AskingPhase)      # DISPATCH sends ratings here only while asking
        if asking.about is not Question.EFFORT:
            self._say(cmd.t, self._ask_again_line(asking))
            return
        self._emit(EffortAnswered(Effort(CommandId(cmd.command).value), cmd.t))
        self._ask(cmd.t, Question.PAIN, VoiceLine("pain_ask", {}))

    def _cmd_done(self, cmd: Command) -> None:
        self._end_hold_by(cmd, "done")

    def _cmd_cant_hold(self, cmd: Command) -> None:
        self._end_hold_by(cmd, "cant_hold")

    def _end_hold_by(self, cmd: Command, ended_by: str) -> None:
        """done / can't hold while holding, or while a hold is paused."""
        if not isinstance(self._phase, HoldPhase):      # paused during a rest or the count
            self._say(cmd.t, "no_hold")
            return
        self._set_state(State.HOLDING, cmd.t)
        self._end_hold(cmd.t, ended_by, began=cmd.began)

    def _cmd_pause(self, cmd: Command) -> None:
        phase = self._phase
        assert phase is not None
        self._emit(Hush(cmd.t))                 # barge-in: the coach stops talking at once
        phase.accum_s = phase.elapsed(cmd.t)
        phase.running = False
        self._set_state(State.PAUSED, cmd.t)
        self._say(cmd.t, "paused")

    def _cmd_resume(self, cmd: Command) -> None:
        t = cmd.t
        phase = self._phase
        assert phase is not None
        self._say(t, "resumed")
        if isinstance(phase, GetSetPhase):      # a count that was cut off starts again
            self._phase = None
            self._get_set(t)
            return
        phase.started_t = t
        phase.running = True
        self._set_state(phase.state, t)

    def _cmd_skip(self, cmd: Command) -> None:
        """Skip the rest (resting, or paused in a rest), else the rest of the exercise."""
        t = cmd.t
        exercise = self.exercise
        assert exercise is not None
        if isinstance(self._phase, RestPhase):
            self._say(t, "skip_rest")
            self._end_rest(t)
            return
        self._emit(Hush(t))
        if isinstance(self._phase, HoldPhase):
            self._end_hold(t, "stop", began=cmd.began)
        self._phase = None
        self._say(t, "skip_exercise", exercise=exercise.title)
        self._next_exercise(t)

    def _cmd_repeat(self, cmd: Command) -> None:
        if not self._last_lines:
            self._say(cmd.t, "nothing_to_repeat")
            return
        for text in list(self._last_lines):
            self._say_text(cmd.t, text, remember=False)
        if cmd.source == "voice":
            self._maybe_hint(cmd.t)

    def _maybe_hint(self, t: float) -> None:
        """A voice whose "ready" is heard as "repeat" (or as nothing) would go round for ever: the
        second such try in a row, where ready is wanted, offers another ready phrase after the
        prompt (once per run of them)."""
        self._unheard_tries += 1
        if self._unheard_tries == 2 and self.state in WANTS_READY and self.voice.line("repeat_hint"):
            self._say(t, "repeat_hint")

    def _cmd_stop(self, cmd: Command) -> None:
        t = cmd.t
        self._emit(Hush(t))
        if isinstance(self._phase, AskingPhase) and self._phase.about in FEEL:   # every set is done
            self._say(t, "stopped")
            self._close(t, outro=False)
            return
        if isinstance(self._phase, HoldPhase):
            self._end_hold(t, "stop", began=cmd.began)
        if isinstance(self._phase, RestPhase):
            self._emit(RestEnded(t))
        self._finish(t, stopped=True)

    def _cmd_how_long(self, cmd: Command) -> None:
        t = cmd.t
        phase = self._phase
        if isinstance(phase, HoldPhase):
            elapsed = phase.elapsed(t)
            self._say(t, "how_long_hold", elapsed_s=int(elapsed), left_s=math.ceil(phase.target_s - elapsed))
        elif isinstance(phase, RestPhase):
            self._say(t, "how_long_rest", left_s=max(0, math.ceil(phase.max_s - phase.elapsed(t))))
        else:
            self._say(t, "how_long_idle")

    def _cmd_help(self, cmd: Command) -> None:
        words = [self.voice.command_word(c) for c in self.accepted() if c not in (C.NEXT, C.HELP)]
        self._say(cmd.t, "help", commands=", ".join(words))

    # -- output helpers ------------------------------------------------------------------------
    def _set_goal(self, exercise: Exercise, set_no: int) -> int | float:
        """Today's goal for a set, as said at the set: the personal goal, else the full hold."""
        goal = goal_below(self.plan.for_exercise(exercise.id).goal_for(set_no), exercise.hold_s)
        return _num(exercise.hold_s if goal is None else goal)

    def _timing(self) -> CueTiming:
        exercise = self.exercise
        assert exercise is not None
        return self.routine.cues_for(exercise, self._base_cues)

    def _set_state(self, state: State, t: float) -> None:
        if state != self.state:
            self.state = state
            self._emit(StateChanged(state, t))

    def _emit(self, action: Action) -> None:
        self._out.append(action)

    def _say(self, t: float, line: str, kind: SayKind = SayKind.NARRATION, **values: object) -> None:
        text = self.voice.line(line, **values)
        self._emit(Say(text, t, kind, line))
        if line in _INSTRUCTION_LINES:
            self._remember(text)

    def _say_line(self, t: float, line: VoiceLine, remember: bool = False) -> None:
        text = self.voice.line(line.key, **line.values)
        self._emit(Say(text, t, SayKind.NARRATION, line.key))
        if remember:
            self._remember(text)

    def _say_text(self, t: float, text: str, remember: bool = True) -> None:
        self._emit(Say(text, t, SayKind.NARRATION, "routine"))
        if remember:
            self._remember(text)

    def _remember(self, text: str) -> None:
        """Keep the latest instructions for `repeat`: the lines said in one go, not the answers."""
        if self._last_lines_call != self._calls:
            self._last_lines = []
            self._last_lines_call = self._calls
        self._last_lines.append(text)


Handler = Callable[[Session, Command], None]


def _reply(line: str) -> Handler:
    """A handler that only answers with the voice-pack line `line`."""
    def answer(session: Session, cmd: Command) -> None:
        session._say(cmd.t, line)
    answer.__name__ = f"say_{line}"
    return answer


def _table() -> dict[tuple[State, CommandId], Handler]:
    """(state, command) -> handler. Pairs left out get `Session._polite`. NEXT is looked up as SKIP."""
    S = State
    active = (S.ASKING, S.SETUP, S.WAITING_READY, S.GET_SET, S.HOLDING, S.RESTING, S.PAUSED)
    timed = (S.GET_SET, S.HOLDING, S.RESTING)
    rows: list[tuple[CommandId, tuple[State, ...], Handler]] = [
        (C.YES, (S.ASKING,), Session._cmd_yes),
        (C.NO, (S.ASKING,), Session._cmd_no),
        (C.EASY, (S.ASKING,), Session._cmd_effort),
        (C.OKAY, (S.ASKING,), Session._cmd_effort),
        (C.HARD, (S.ASKING,), Session._cmd_effort),
        (C.READY, (S.SETUP, S.WAITING_READY), Session._cmd_ready),
        (C.READY, (S.RESTING,), Session._cmd_ready_in_rest),
        (C.READY, (S.GET_SET, S.HOLDING), _reply("already_holding")),
        (C.READY, (S.PAUSED,), _reply("paused_hint")),
        (C.DONE, (S.HOLDING, S.PAUSED), Session._cmd_done),
        (C.CANT_HOLD, (S.HOLDING, S.PAUSED), Session._cmd_cant_hold),
        (C.PAUSE, timed, Session._cmd_pause),
        (C.PAUSE, (S.PAUSED,), _reply("paused_hint")),
        (C.RESUME, (S.PAUSED,), Session._cmd_resume),
        (C.SKIP, (S.SETUP, S.WAITING_READY, *timed, S.PAUSED), Session._cmd_skip),
        (C.HOW_LONG, (S.SETUP, S.WAITING_READY, *timed, S.PAUSED), Session._cmd_how_long),
        (C.REPEAT, active, Session._cmd_repeat),
        (C.STOP, active, Session._cmd_stop),
        (C.HELP, active, Session._cmd_help),
    ]
    table: dict[tuple[State, CommandId], Handler] = {}
    for command, states, handler in rows:
        for state in states:
            if (state, command) in table:
                raise ValueError(f"DISPATCH lists ({state}, {command}) twice")
            table[(state, command)] = handler
    return table


DISPATCH = _table()

# Where the session waits for "ready" (a "repeat" heard there may be a misheard ready).
WANTS_READY = frozenset({State.SETUP, State.WAITING_READY, State.RESTING})

# The lines `repeat` says again: instructions and prompts, not answers or counts.
_INSTRUCTION_LINES = frozenset({"exercise_start", "ready_prompt", "rest_start", "rest_over"})


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 1)
