"""The pure session core: events in, actions out. No I/O, no sleeping, no clock of its own."""

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
from coach.session.core import Session
from coach.session.events import Command, Event, Misheard, NarrationDone, SpeechEnded, Start, Tick

__all__ = ["Action", "Command", "EffortAnswered", "Event", "HoldEnded", "HoldStarted", "Hush", "Misheard",
           "NarrationDone", "PainAnswered", "RestEnded", "RestStarted", "ResumeAnswered", "Say", "Session",
           "SessionEnded", "SpeechEnded", "Start", "StateChanged", "Tick", "Tone", "UnlockAnswered"]
