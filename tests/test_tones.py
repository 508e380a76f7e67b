"""The coach's own tones taken back out of the microphone (coach.audio.tones), through the room."""

from __future__ import annotations

import numpy as np

from coach.audio.room import Room, RoomConfig
from coach.audio.tones import ToneRemover, frequencies
from coach.speech import earcons
from coach.vocab import Earcon

RATE = 16000


def level_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-9))


def through(remover: ToneRemover, mic: np.ndarray, freqs, chunk: int) -> np.ndarray:
    out = [remover.remove(mic[i:i + chunk], i, lambda block: freqs) for i in range(0, len(mic), chunk)]
    return np.concatenate(out)


def room_echo_of(earcon: Earcon, seconds: float = 1.2) -> np.ndarray:
    played = np.zeros(int(seconds * RATE), np.int16)
    tone = earcons.render(earcon)
    played[:len(tone)] = tone
    return np.clip(Room(RoomConfig(gain=1.0)).process(played), -32768, 32767).astype(np.int16)


def test_a_count_tone_ringing_in_the_room_leaves_nothing_to_hear():
    """The tone, its reverberant tail and the loudspeaker's harmonics: all at known frequencies."""
    for earcon in (Earcon.COUNT, Earcon.COUNT_LAST, Earcon.HOLD_START, Earcon.HOLD_END, Earcon.TICK,
                   Earcon.ACK):
        echo = room_echo_of(earcon)
        freqs = frequencies(earcons.partials_hz(earcon), RATE)
        out = through(ToneRemover(RATE), echo, freqs, 800)
        assert level_db(echo) - level_db(out) > 20, earcon       # measured 21-29 dB


def test_speech_over_a_tone_keeps_its_energy_and_chunking_does_not_matter():
    rng = np.random.default_rng(4)
    t = np.arange(int(0.8 * RATE)) / RATE
    voice = sum(np.sin(2 * np.pi * 130 * k * t + k) / k for k in range(1, 25))    # a 130 Hz voice
    voice = (voice * (1 + 0.3 * rng.normal(size=len(t))) * 3000).astype(np.int16)
    freqs = frequencies(earcons.partials_hz(Earcon.COUNT), RATE)
    out = through(ToneRemover(RATE), voice, freqs, 800)
    assert level_db(voice) - level_db(out) < 1.0
    odd = through(ToneRemover(RATE), voice, freqs, 333)                 # blocks split across chunks
    assert abs(level_db(out) - level_db(odd)) < 0.2


def test_no_tone_no_change():
    mic = (np.random.default_rng(1).normal(size=1600) * 1000).astype(np.int16)
    assert ToneRemover(RATE).remove(mic, 0, lambda block: ()) is mic


def test_glides_have_no_steady_partials():
    assert earcons.partials_hz(Earcon.SORRY) == ()
    assert earcons.partials_hz(Earcon.COUNT) == (880.0, 1760.0)
