"""Short generated tones (earcons) that can stand in for spoken cues.

A beep carries no words, so the recognizer cannot mistake it for a command, it is short (the
user has the room to speak), and a pure tone is the easiest thing for an echo canceller to
remove. Each tone is synthesised here (sine partials under a smooth envelope), never recorded.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from coach.defaults import EARCON_LEVEL_DBFS, RATE_HZ
from coach.vocab import Earcon

__all__ = ["Earcon", "duration_s", "from_label", "label", "partials_hz", "render"]


# (start Hz, end Hz, seconds) per note; notes are played one after another.
_NOTES: dict[Earcon, tuple[tuple[float, float, float], ...]] = {
    Earcon.TICK: ((1320.0, 1320.0, 0.04),),
    Earcon.COUNT: ((880.0, 880.0, 0.09),),
    Earcon.COUNT_LAST: ((1175.0, 1175.0, 0.16),),
    Earcon.HOLD_START: ((660.0, 660.0, 0.09), (990.0, 990.0, 0.14)),
    Earcon.HOLD_END: ((990.0, 990.0, 0.09), (660.0, 660.0, 0.18)),
    Earcon.ACK: ((784.0, 784.0, 0.06),),
    Earcon.SORRY: ((523.0, 698.0, 0.22),),
}


@cache
def render(earcon: Earcon, rate_hz: int = RATE_HZ, level_dbfs: float = EARCON_LEVEL_DBFS) -> np.ndarray:
    """The tone as int16 samples (cached: the same array every time; do not modify it)."""
    amplitude = 32767.0 * 10 ** (level_dbfs / 20)
    pieces = []
    for f0, f1, seconds in _NOTES[Earcon(earcon)]:
        n = max(1, int(round(seconds * rate_hz)))
        freq = np.linspace(f0, f1, n)
        phase = 2 * np.pi * np.cumsum(freq) / rate_hz
        wave = np.sin(phase) + 0.25 * np.sin(2 * phase)          # a soft second partial
        ramp = min(n // 2, int(0.008 * rate_hz))                # 8 ms fades: no clicks
        envelope = np.ones(n)
        if ramp:
            envelope[:ramp] = np.linspace(0, 1, ramp)
            envelope[-ramp:] = np.linspace(1, 0, ramp)
        envelope *= np.exp(-np.arange(n) / (0.6 * n))           # a struck, not droning, note
        pieces.append(wave * envelope)
        pieces.append(np.zeros(int(0.03 * rate_hz)))            # a short gap between notes
    samples = np.concatenate(pieces[:-1]) if len(pieces) > 1 else pieces[0]
    peak = float(np.max(np.abs(samples))) or 1.0
    out = np.round(samples / peak * amplitude).astype(np.int16)
    out.setflags(write=False)
    return out


def partials_hz(earcon: Earcon) -> tuple[float, ...]:
    """The steady partials of the tone (each note's fundamental and its second partial); none for a
    glide, whose frequency moves. What `coach.audio.tones` takes back out of the microphone."""
    return tuple(f * k for f0, f1, _ in _NOTES[Earcon(earcon)] if f0 == f1 for f in (f0,) for k in (1, 2))


def label(earcon: Earcon) -> str:
    """How a tone is named in the speech timeline (where words are their text): "[count]"."""
    return f"[{Earcon(earcon).value}]"


def from_label(text: str) -> Earcon | None:
    """The tone a timeline text names (`label`), or None for words."""
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        return Earcon(text[1:-1])
    except ValueError:
        return None


def duration_s(earcon: Earcon, rate_hz: int = RATE_HZ) -> float:
    return len(render(earcon, rate_hz)) / rate_hz
