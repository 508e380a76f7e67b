"""The session state machine: `Session.handle(event) -> list[Action]`.

It owns the routine's progress (which exercise, which set), the hold and rest clocks, and the
schedule of spoken cues. It knows nothing of audio, terminals or files: the runner feeds it
events stamped with the session clock and carries out the actions it returns, so a whole session
can be replayed from a list of events, or from a WAV file, with identical results.

States:
    asking         waiting for yes or no (shall we add the unlocked advanced exercise?)
    setup          instructions are being read out; `ready` skips the rest of them
    waiting_ready  waiting for `ready` (to start the first set, the next set, or the next step)
    get_set        "set 2 of 5 ... three, two, one" before a hold
    holding        the hold clock runs; cues fall on schedule; done / can't hold end it
    resting        the rest clock counts down; `ready` is accepted after the minimum rest
    paused         the hold or rest clock is frozen
    finished       nothing more happens
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from coach.progress.memory import VoiceLine, feedback
from coach.routine.model import CueTiming, Exercise, Routine
from coach.session.actions import (
    Action,
    HoldEnded,
    HoldStarted,
    Hush,
    RestEnded,
    RestStarted,
    ResumeAnswered,
    Say,
    SessionEnded,
    StateChanged,
    UnlockAnswered,
)
from coach.session.cues import Cue, hold_cues, rest_cues
from coach.session.events import Command, Event, NarrationDone, Start, Tick
from coach.session.plan import NO_PLAN, ResumePoint, SessionPlan
from coach.voice.pack import VoicePack

GET_SET_LEAD_S = 1.5      # "set 2 of 5" gets this long before the count starts
ASK_TIMEOUT_S = 30.0      # no answer to "shall we add it?" in this long: carry on, ask next time

# Commands that do something (or get a useful answer) in each state; the recognizer listens for
# these only, which keeps false triggers down. Keyboard commands outside them are answered politely.
ACCEPTED: dict[str, tuple[str, ...]] = {
    "asking": ("yes", "no", "repeat", "stop", "help"),
    "setup": ("ready", "skip", "next", "repeat", "stop", "help", "how_long"),
    "waiting_ready": ("ready", "skip", "next", "repeat", "stop", "help", "how_long"),
    "get_set": ("pause", "skip", "next", "stop", "help", "how_long"),
    "holding": ("done", "cant_hold", "pause", "skip", "next", "stop", "how_long", "help", "repeat"),
    "resting": ("ready", "skip", "next", "pause", "stop", "how_long", "help", "repeat"),
    "paused": ("resume", "stop", "how_long", "help", "repeat", "skip", "next"),
    "finished": (),
}


@dataclass
class _Phase:
    """A timed stretch (get_set, holding, resting) whose clock can be paused."""

    name: str
    started_t: float                    # when the clock last (re)started
    cues: list[Cue]                     # still to come, by time
    accum_s: float = 0.0                # elapsed before `started_t`
    running: bool = True
    extra: dict[str, float] = field(default_factory=dict)

    def elapsed(self, t: float) -> float:
        return self.accum_s + (t - self.started_t if self.running else 0.0)

    def time_of(self, at_s: float) -> float:
        return self.started_t + (at_s - self.accum_s)


class Session:
    """One run through a routine. Feed it events in time order; it returns what to do."""

    def __init__(self, routine: Routine, voice: VoicePack, base_cues: CueTiming,
                 plan: SessionPlan = NO_PLAN) -> None:
        self.routine = routine
        self.voice = voice
        self.plan = plan
        self._base_cues = voice.cues.over(base_cues)
        self._enabled = set(plan.enabled)
        self._exercises = self._choose_exercises()
        self._best: dict[str, float | None] = {e.id: plan.for_exercise(e.id).best_s
                                               for e in routine.exercises}
        self.state = "idle"
        self._ex_index = -1
        self._set = 0                   # the set in progress or next (1-based)
        self._phase: _Phase | None = None
        self._paused_phase: str = ""
        self._after_ready = ""          # what `ready` does in waiting_ready: "next_exercise" | "set"
        self._asking = ""               # what a yes/no answers: "unlock" | "resume"
        self._sets_done = 0
        self._last_lines: list[str] = []
        self._last_lines_call = -1
        self._calls = 0
        self._out: list[Action] = []
        self._t = 0.0

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

    def accepted(self) -> tuple[str, ...]:
        """The commands worth listening for right now."""
        return ACCEPTED.get(self.state, ())

    def timer(self, t: float) -> tuple[str, float, float] | None:
        """(phase, elapsed_s, total_s) of the running clock, for a live display."""
        phase = self._phase
        if phase is None:
            return None
        total = phase.extra.get("total_s", 0.0)
        return phase.name, phase.elapsed(t), total

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
            texts += [self.voice.line(c.line, **c.values) for c in cues if c.kind == "say"]
        return list(dict.fromkeys(texts))

    def handle(self, event: Event) -> list[Action]:
        self._out = []
        self._calls += 1
        if isinstance(event, Start):
            self._t = event.t
            self._start(event.t)
        elif isinstance(event, Tick):
            self._advance(event.t)
        elif isinstance(event, NarrationDone):
            self._advance(event.t)
            if self.state == "setup":
                self._prompt_ready(event.t)
        elif isinstance(event, Command):
            self._advance(event.t)
            self._command(event)
        return self._out

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

    def _fire(self, cue: Cue, t: float) -> None:
        if cue.kind == "say":
            self._say(t, cue.line, kind="cue", **cue.values)
        elif cue.kind == "hold_start":
            self._start_hold(t)
        elif cue.kind == "hold_end":
            self._end_hold(t, "target")
        elif cue.kind == "rest_min":
            self._say(t, "rest_min_reached", kind="cue")
        elif cue.kind == "ask_timeout":        # no answer: carry on; it is asked again next time
            self._phase = None
            if self._asking == "resume":        # no answer to "carry on?": start afresh
                self._emit(ResumeAnswered(False, t))
            self._next_exercise(t)
        elif cue.kind == "rest_end":
            self._emit(RestEnded(t))
            self._phase = None
            self._wait_ready(t, "set", line="rest_over")

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
            self._ask(t, "resume")
            self._say(t, "resume_offer", done=resume.sets_done, total=resume.sets_total)
            return
        offer = self.plan.offer
        if offer is not None and self.routine.exercise(offer.exercise) is not None:
            self._ask(t, "unlock")
            self._say_line(t, offer.line, remember=True)
            return
        self._next_exercise(t)

    def _ask(self, t: float, about: str) -> None:
        self._asking = about
        self._set_state("asking", t)
        self._phase = _Phase("asking", t, [Cue(ASK_TIMEOUT_S, "ask_timeout")])

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
        self._wait_ready(t, "set", line="ready_prompt")

    def _answer(self, t: float, yes: bool) -> None:
        self._phase = None
        if self._asking == "resume":
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
        self._phase = None
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
        self._set_state("setup", t)
        self._say(t, "exercise_start", exercise=exercise.title)
        for line in self.plan.for_exercise(exercise.id).opening:
            self._say_line(t, line, remember=True)
        for text in exercise.say:
            self._say_text(t, text)

    def _prompt_ready(self, t: float) -> None:
        exercise = self.exercise
        assert exercise is not None
        self._wait_ready(t, "set" if exercise.is_hold else "next_exercise", line="ready_prompt")

    def _wait_ready(self, t: float, after: str, line: str) -> None:
        self._after_ready = after
        self._set_state("waiting_ready", t)
        self._say(t, line)

    def _ready(self, t: float) -> None:
        """`ready` in setup or waiting_ready."""
        exercise = self.exercise
        assert exercise is not None
        if self.state == "setup":
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
        cues = [Cue(0.0, "say", "set_intro", {"set": self._set, "sets": exercise.sets,
                                              "goal_s": self._set_goal(exercise, self._set)})]
        cues += [Cue(lead + i, "say", "count", {"n": count_from - i}) for i in range(count_from)]
        cues.append(Cue(lead + count_from, "hold_start"))
        self._set_state("get_set", t)
        self._phase = _Phase("get_set", t, cues, extra={"total_s": lead + count_from})
        self._advance(t)

    def _start_hold(self, t: float) -> None:
        exercise = self.exercise
        assert exercise is not None
        self._set_state("holding", t)
        goal = self.plan.for_exercise(exercise.id).goal_for(self._set)
        goal = goal if goal is not None and 0 < goal < exercise.hold_s else None
        self._emit(HoldStarted(exercise.id, self._set, exercise.hold_s, t, goal))
        cues = hold_cues(exercise.hold_s, self._timing(), goal_s=goal, form=exercise.form_cues,
                         form_from=self._set - 1)
        self._phase = _Phase("holding", t, cues, extra={"total_s": exercise.hold_s, "hold_t": t})
        self._say(t, "hold_start", kind="cue", goal_s=self._set_goal(exercise, self._set))

    def _end_hold(self, t: float, ended_by: str, began: float | None = None) -> None:
        """End the running (or paused) hold. For done/cant_hold, `began` is when the user spoke."""
        exercise = self.exercise
        phase = self._phase
        assert exercise is not None and phase is not None and phase.name == "holding"
        end_t = t if began is None else min(max(began, phase.time_of(0.0)), t)
        if phase.running:
            held = phase.elapsed(end_t)
        else:       # paused: the clock stopped at the pause
            held = phase.accum_s
        held = round(min(max(held, 0.0), exercise.hold_s), 3)
        if ended_by == "target":
            held = exercise.hold_s
        self._phase = None
        self._sets_done += 1
        self._emit(HoldEnded(exercise.id, self._set, exercise.hold_s, held, ended_by, end_t,
                             phase.extra["hold_t"]))
        if ended_by == "stop":
            return
        if ended_by == "target":
            self._say(t, "times_up", kind="cue")
        else:
            self._say(t, "hold_ended", held_s=held)
        self._feedback(t, exercise, held)
        if ended_by != "target":        # short of today's goal for the set, not only of the full hold
            for text in exercise.short_hold if held < self._set_goal(exercise, self._set) else ():
                self._say_text(t, text)
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
        self._set_state("resting", t)
        self._emit(RestStarted(rest.max_s, rest.min_s, t))
        if rest.min_s < rest.max_s:
            self._say(t, "rest_start", min_s=_num(rest.min_s), max_s=_num(rest.max_s))
        else:
            self._say(t, "rest_start_fixed", rest_s=_num(rest.max_s))
        self._phase = _Phase("resting", t, rest_cues(rest.min_s, rest.max_s, self._timing()),
                             extra={"total_s": rest.max_s, "min_s": rest.min_s})

    def _end_rest(self, t: float) -> None:
        self._emit(RestEnded(t))
        self._phase = None
        self._get_set(t)

    def _finish(self, t: float, stopped: bool) -> None:
        self._phase = None
        if stopped:
            self._say(t, "stopped")
        else:
            self._say(t, "session_end", sets_done=self._sets_done)
            for text in self.routine.outro:
                self._say_text(t, text)
        self._set_state("finished", t)
        self._emit(SessionEnded(self._sets_done, stopped, t))

    # -- commands ------------------------------------------------------------------------------
    def _command(self, cmd: Command) -> None:
        t = cmd.t
        state = self.state
        name = "skip" if cmd.command == "next" else cmd.command
        if state in ("finished", "idle"):
            return
        handler = getattr(self, f"_cmd_{name}", None)
        if handler is None:
            return
        handler(cmd, t, state)

    def _cmd_ready(self, cmd: Command, t: float, state: str) -> None:
        if state == "asking":
            self._say(t, "yes_or_no")
        elif state in ("setup", "waiting_ready"):
            self._ready(t)
        elif state == "resting":
            assert self._phase is not None
            left = self._phase.extra["min_s"] - self._phase.elapsed(t)
            if left > 0:
                self._say(t, "rest_longer", wait_s=max(1, math.ceil(left)))
            else:
                self._end_rest(t)
        elif state in ("holding", "get_set"):
            self._say(t, "already_holding")
        elif state == "paused":
            self._say(t, "paused_hint")

    def _cmd_yes(self, cmd: Command, t: float, state: str) -> None:
        if state == "asking":
            self._answer(t, True)

    def _cmd_no(self, cmd: Command, t: float, state: str) -> None:
        if state == "asking":
            self._answer(t, False)

    def _cmd_done(self, cmd: Command, t: float, state: str) -> None:
        self._end_hold_by(cmd, t, state, "done")

    def _cmd_cant_hold(self, cmd: Command, t: float, state: str) -> None:
        self._end_hold_by(cmd, t, state, "cant_hold")

    def _end_hold_by(self, cmd: Command, t: float, state: str, ended_by: str) -> None:
        if state == "holding" or (state == "paused" and self._paused_phase == "holding"):
            if state == "paused":
                self._set_state("holding", t)
            self._end_hold(t, ended_by, began=cmd.began)
        else:
            self._say(t, "no_hold")

    def _cmd_pause(self, cmd: Command, t: float, state: str) -> None:
        phase = self._phase
        if state in ("holding", "resting", "get_set") and phase is not None:
            phase.accum_s = phase.elapsed(t)
            phase.running = False
            self._paused_phase = phase.name
            self._set_state("paused", t)
            self._say(t, "paused")
        elif state == "paused":
            self._say(t, "paused_hint")
        else:
            self._say(t, "nothing_to_pause")

    def _cmd_resume(self, cmd: Command, t: float, state: str) -> None:
        phase = self._phase
        if state != "paused" or phase is None:
            self._say(t, "not_paused")
            return
        self._say(t, "resumed")
        if phase.name == "get_set":         # a count that was cut off starts again
            self._phase = None
            self._get_set(t)
            return
        phase.started_t = t
        phase.running = True
        self._set_state(phase.name, t)

    def _cmd_skip(self, cmd: Command, t: float, state: str) -> None:
        exercise = self.exercise
        assert exercise is not None
        if state == "resting":
            self._say(t, "skip_rest")
            self._end_rest(t)
            return
        if state == "paused" and self._paused_phase == "resting":
            self._say(t, "skip_rest")
            self._end_rest(t)
            return
        self._emit(Hush(t))
        if self._phase is not None and self._phase.name == "holding":
            self._end_hold(t, "stop", began=cmd.began)
        self._phase = None
        self._say(t, "skip_exercise", exercise=exercise.title)
        self._next_exercise(t)

    def _cmd_repeat(self, cmd: Command, t: float, state: str) -> None:
        if not self._last_lines:
            self._say(t, "nothing_to_repeat")
            return
        for text in list(self._last_lines):
            self._say_text(t, text, remember=False)

    def _cmd_stop(self, cmd: Command, t: float, state: str) -> None:
        self._emit(Hush(t))
        if self._phase is not None and self._phase.name == "holding":
            self._end_hold(t, "stop", began=cmd.began)
        if self._phase is not None and self._phase.name == "resting":
            self._emit(RestEnded(t))
        self._finish(t, stopped=True)

    def _cmd_how_long(self, cmd: Command, t: float, state: str) -> None:
        phase = self._phase
        if phase is None or phase.name == "get_set":
            self._say(t, "how_long_idle")
            return
        elapsed = phase.elapsed(t)
        total = phase.extra["total_s"]
        if phase.name == "holding":
            self._say(t, "how_long_hold", elapsed_s=int(elapsed), left_s=math.ceil(total - elapsed))
        else:
            self._say(t, "how_long_rest", left_s=max(0, math.ceil(total - elapsed)))

    def _cmd_help(self, cmd: Command, t: float, state: str) -> None:
        words = [self.voice.command_word(c) for c in self.accepted() if c not in ("next", "help")]
        self._say(t, "help", commands=", ".join(words))

    # -- output helpers ------------------------------------------------------------------------
    def _set_goal(self, exercise: Exercise, set_no: int) -> int | float:
        """Today's goal for a set, as said at the set: the personal goal, else the full hold."""
        goal = self.plan.for_exercise(exercise.id).goal_for(set_no)
        return _num(goal if goal is not None and 0 < goal < exercise.hold_s else exercise.hold_s)

    def _timing(self) -> CueTiming:
        exercise = self.exercise
        assert exercise is not None
        return self.routine.cues_for(exercise, self._base_cues)

    def _set_state(self, state: str, t: float) -> None:
        if state != self.state:
            self.state = state
            self._emit(StateChanged(state, t))

    def _emit(self, action: Action) -> None:
        self._out.append(action)

    def _say(self, t: float, line: str, kind: str = "narration", **values: object) -> None:
        text = self.voice.line(line, **values)
        self._emit(Say(text, t, kind, line))
        if line in _INSTRUCTION_LINES:
            self._remember(text)

    def _say_line(self, t: float, line: VoiceLine, remember: bool = False) -> None:
        text = self.voice.line(line.key, **line.values)
        self._emit(Say(text, t, "narration", line.key))
        if remember:
            self._remember(text)

    def _say_text(self, t: float, text: str, remember: bool = True) -> None:
        self._emit(Say(text, t, "narration", "routine"))
        if remember:
            self._remember(text)

    def _remember(self, text: str) -> None:
        """Keep the latest instructions for `repeat`: the lines said in one go, not the answers."""
        if self._last_lines_call != self._calls:
            self._last_lines = []
            self._last_lines_call = self._calls
        self._last_lines.append(text)


# The lines `repeat` says again: instructions and prompts, not answers or counts.
_INSTRUCTION_LINES = frozenset({"exercise_start", "ready_prompt", "rest_start", "rest_over"})


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 1)
