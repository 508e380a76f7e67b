"""The history of sessions and holds, in one SQLite file in the data directory."""

from coach.history.store import HoldRecord, SessionRecord, Store

__all__ = ["HoldRecord", "SessionRecord", "Store"]
