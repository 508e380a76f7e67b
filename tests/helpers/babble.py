"""Background talk for tests: six espeak-ng voices at once (a TV, people talking in the room)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from coach.audio.wav import load_pcm16

RATE_HZ = 16_000
TALK = [("en-us", "The weather tomorrow looks dry with a light wind from the west."),
        ("en+m3", "In other news the council has approved the new library on the high street."),
        ("en-gb", "Stir the sauce gently and let it simmer for another twenty minutes."),
        ("en+m1", "The match was delayed by rain but the home side won in the end."),
        ("en-us+f3", "Traffic on the bridge is moving slowly after an earlier accident."),
        ("en+m2", "Scientists say the comet will be visible just after sunset this week.")]


def babble(folder: Path, seconds: float, seed: int = 3) -> np.ndarray:
    """`seconds` of the six voices, each looped from a different place; unit RMS overall."""
    n = int(seconds * RATE_HZ)
    out = np.zeros(n)
    rng = np.random.default_rng(seed)
    for i, (voice, text) in enumerate(TALK):
        raw, wav = folder / f"raw{i}.wav", folder / f"talk{i}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True, capture_output=True)
        subprocess.run(["sox", str(raw), "-r", str(RATE_HZ), "-c", "1", "-b", "16", str(wav)],
                       check=True, capture_output=True)
        clip = load_pcm16(wav).astype(np.float64)
        loop = np.tile(clip, n // len(clip) + 2)
        start = int(rng.integers(len(clip)))
        out += loop[start : start + n] / np.sqrt(np.mean(clip**2))
    return out / np.sqrt(np.mean(out**2))
