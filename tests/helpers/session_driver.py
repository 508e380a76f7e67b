"""Drive a pure `Session` with a fake clock and keep every action, as the runner would."""

from __future__ import annotations

from coach.session import Command, NarrationDone, Say, Session, Start, Tick


class Driver:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.t = 0.0
        self.actions: list = []

    def send(self, event):
        out = self.s.handle(event)
        self.actions += out
        return out

    def start(self):
        return self.send(Start(0.0))

    def run_until(self, t: float, step: float = 0.05, hearing_since: float | None = None):
        """Tick to `t`; `hearing_since`: the recognizer is in the middle of speech begun then."""
        out = []
        while self.t + step <= t + 1e-9:
            self.t = round(self.t + step, 6)
            out += self.send(Tick(self.t, hearing_since))
        return out

    def say(self, command: str, t_start: float | None = None, source: str = "keys"):
        """`command` from the keyboard (at once) or by voice (begun half a second ago)."""
        if source == "voice":
            began = max(0.0, self.t - 0.5) if t_start is None else t_start
            return self.send(Command(command, self.t, began, command.replace("_", " "), "voice"))
        return self.send(Command(command, self.t, t_start))

    def narration_done(self):
        return self.send(NarrationDone(self.t))

    def said(self, actions=None) -> list[str]:
        return [a.text for a in (self.actions if actions is None else actions) if isinstance(a, Say)]

    def of(self, kind, actions=None):
        return [a for a in (self.actions if actions is None else actions) if isinstance(a, kind)]
