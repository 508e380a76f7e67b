"""From `Say` actions to sound in the timeline, without ever holding up the count.

Live, rendering runs in the engine's thread and a line enters the timeline when its samples are
ready (a late cue is dropped rather than heard late). Replaying a file, the narrator waits for each
line instead, so the result does not depend on how fast the machine is. Either way a hung or
failing engine trips the watchdog: from then on lines are only printed, and the user is told once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from coach.defaults import TTS_RENDER_TIMEOUT_S
from coach.session.actions import Say, Tone
from coach.speech import earcons
from coach.speech.timeline import SpeechTimeline
from coach.speech.tts import Synthesizer
from coach.vocab import SayKind

READ_S_PER_WORD = 0.3   # with no speech engine, printed narration still paces the session
LATE_CUE_S = 0.5        # live: a cue whose audio is ready later than this after its time is dropped


@dataclass
class _Pending:
    say: Say
    job: Future[np.ndarray]
    asked_at: float         # monotonic seconds, for the watchdog


class Narrator:
    def __init__(self, synth: Synthesizer | None, timeline: SpeechTimeline, *, live: bool,
                 warn: Callable[[str], None], timeout_s: float = TTS_RENDER_TIMEOUT_S) -> None:
        self.timeline = timeline
        self._synth = synth
        self._live = live
        self._warn = warn
        self._timeout_s = timeout_s
        self._pending: list[_Pending] = []

    @property
    def pending(self) -> bool:
        """Lines asked for whose audio is not in the timeline yet."""
        return bool(self._pending)

    def say(self, say: Say) -> None:
        if self._synth is None:         # printed only: leave the time a reader needs
            words = max(1, len(say.text.split()))
            silence = np.zeros(int(words * READ_S_PER_WORD * self.timeline.rate_hz), dtype=np.int16)
            self.timeline.add(say.text, silence, say.t, say.kind, line=say.line)
            return
        try:
            job = self._synth.submit(say.text)
        except Exception as err:        # the engine thread is gone, or the engine refused the text
            self._give_up(f"the speech engine failed: {err}")
            self.say(say)               # printed, like every line from now on
            return
        self._pending.append(_Pending(say, job, time.monotonic()))
        if not self._live:
            self._wait_all()

    def tone(self, tone: Tone) -> None:
        """A generated tone, heard exactly at its time like a cue (no engine needed: never late)."""
        earcon = earcons.Earcon(tone.name)
        samples = earcons.render(earcon, self.timeline.rate_hz)
        self.timeline.add(earcons.label(earcon), samples, tone.t, "cue", tone=True)

    def hush(self, t: float) -> None:
        self._pending = [p for p in self._pending if p.say.kind == "cue" and p.say.t > t]
        self.timeline.hush(t)

    def interrupt(self, t: float) -> list[Say]:
        """The user is talking over the coach: stop the narration playing at `t` and drop what is
        queued after it (cues due later stay). Returns the narration cut, in order, as it was
        asked for: the line cut off mid-way first, to be said again whole if it comes to nothing."""
        at = int(round(t * self.timeline.rate_hz))
        cut = sorted((u for u in self.timeline.utterances
                      if u.spoken_narration and u.end > at and u.end > u.start),
                     key=lambda u: u.start)
        lines = [Say(u.text, t, SayKind.NARRATION, u.line) for u in cut]
        lines += [p.say for p in self._pending if p.say.kind != "cue"]
        self._pending = [p for p in self._pending if p.say.kind == "cue"]
        self.timeline.cut(at, narration_only=True)
        return lines

    def prefetch(self, texts: list[str]) -> None:
        if self._synth is not None and hasattr(self._synth, "prefetch"):
            try:
                self._synth.prefetch(texts)
            except Exception as err:
                self._give_up(f"the speech engine failed: {err}")

    def poll(self, now_t: float) -> None:
        """Live: move finished renders into the timeline, in order; check the watchdog."""
        while self._pending and self._synth is not None:
            head = self._pending[0]
            if not head.job.done():
                if time.monotonic() - head.asked_at > self._timeout_s:
                    self._give_up(f"the speech engine hung (no audio after {self._timeout_s:g} s)")
                return
            self._pending.pop(0)
            self._place(head, now_t)

    def _wait_all(self) -> None:
        while self._pending and self._synth is not None:
            head = self._pending.pop(0)
            try:
                head.job.result(timeout=self._timeout_s)
            except TimeoutError:
                self._give_up(f"the speech engine hung (no audio after {self._timeout_s:g} s)")
                return
            except Exception:       # reported by _place
                pass
            self._place(head, head.say.t)

    def _place(self, item: _Pending, now_t: float) -> None:
        error = item.job.exception()
        if error is not None:
            self._give_up(f"the speech engine failed: {error}", also=[item])
            return
        say = item.say
        t = say.t
        if self._live and now_t > say.t:
            if say.kind == "cue" and now_t - say.t > LATE_CUE_S:
                return
            t = now_t
        self.timeline.add(say.text, item.job.result(), t, say.kind, line=say.line)

    def _give_up(self, why: str, also: list[_Pending] | None = None) -> None:
        """No more speech: the lines still waiting for audio are printed instead (a late cue is not)."""
        self._synth = None
        waiting, self._pending = [*(also or []), *self._pending], []
        self._warn(f"{why}; from now on the coach's words are only printed")
        for item in waiting:
            if item.say.kind != "cue":
                self.say(item.say)
