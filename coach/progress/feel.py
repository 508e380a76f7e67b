"""How a session felt (the answers to "how did that feel?" and "any pain?") as short text. Pure."""

from __future__ import annotations

from collections.abc import Iterable

from coach.history.store import SessionRecord


def feel_text(effort: str | None, pain: bool | None) -> str:
    """`felt hard, no pain`, `felt easy`, `pain`; empty when neither was answered."""
    parts = []
    if effort is not None:
        parts.append(f"felt {effort}")
    if pain is not None:
        parts.append("pain" if pain else "no pain")
    return ", ".join(parts)


def feelings(sessions: Iterable[SessionRecord]) -> dict[int, str]:
    """Session id -> `feel_text`, for the sessions with an answer."""
    return {s.id: text for s in sessions if (text := feel_text(s.effort, s.pain))}
