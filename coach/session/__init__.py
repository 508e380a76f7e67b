"""The pure session core: events in, actions out. No I/O, no sleeping, no clock of its own."""

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
    Tone,
    UnlockAnswered,
)
from coach.session.core import Session
from coach.session.events import Command, Event, Misheard, NarrationDone, Start, Tick

__all__ = ["Action", "Command", "Event", "HoldEnded", "HoldStarted", "Hush", "Misheard", "NarrationDone",
           "RestEnded", "RestStarted", "ResumeAnswered", "Say", "Session", "SessionEnded", "Start",
           "StateChanged", "Tick", "Tone", "UnlockAnswered"]
