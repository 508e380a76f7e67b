"""Generated tones: short, clean (no clicks), distinct, at a known level."""

from __future__ import annotations

import numpy as np
import pytest

from coach.speech import earcons
from coach.speech.earcons import Earcon


@pytest.mark.parametrize("earcon", list(Earcon))
def test_every_tone_is_short_and_starts_and_ends_quietly(earcon):
    samples = earcons.render(earcon)
    assert samples.dtype == np.int16
    assert 0.03 <= earcons.duration_s(earcon) <= 0.45          # leaves room for the user to speak
    assert abs(int(samples[0])) < 300 and abs(int(samples[-1])) < 300     # faded: no click
    peak_dbfs = 20 * np.log10(np.max(np.abs(samples)) / 32767)
    assert peak_dbfs == pytest.approx(-14.0, abs=0.2)


def test_tones_are_distinct_and_cached():
    pitches = {}
    for earcon in (Earcon.TICK, Earcon.COUNT, Earcon.COUNT_LAST):
        samples = earcons.render(earcon).astype(float)
        spectrum = np.abs(np.fft.rfft(samples, 16000))
        pitches[earcon] = int(np.argmax(spectrum))
    assert len(set(pitches.values())) == 3
    assert earcons.render(Earcon.ACK) is earcons.render(Earcon.ACK)
    with pytest.raises(ValueError):
        earcons.render(Earcon.ACK)[0] = 1                   # shared: read-only


def test_the_hold_tones_rise_and_fall():
    def pitch(x):
        return int(np.argmax(np.abs(np.fft.rfft(x.astype(float), 16000))))

    start, end = earcons.render(Earcon.HOLD_START), earcons.render(Earcon.HOLD_END)
    half = len(start) // 2
    assert pitch(start[:half]) < pitch(start[half:])
    half = len(end) // 2
    assert pitch(end[:half]) > pitch(end[half:])
