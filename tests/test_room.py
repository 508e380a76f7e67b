"""The simulated room: RT60, delay, determinism, streaming, cost and bad settings."""

from __future__ import annotations

import time

import numpy as np
import pytest

from coach.audio.room import Room, RoomConfig, impulse_response
from coach.defaults import RATE_HZ
from coach.errors import UsageError


def measured_rt60_s(h: np.ndarray) -> float:
    """Schroeder backward integration from the direct path, T20 (-5 to -25 dB) extrapolated to 60 dB."""
    onset = int(np.argmax(np.abs(h)))
    energy = np.cumsum((h[onset:] ** 2)[::-1])[::-1]
    edc_db = 10 * np.log10(energy / energy[0])
    t = np.arange(len(edc_db)) / RATE_HZ
    sel = (edc_db < -5) & (edc_db > -25)
    slope_db_per_s = np.polyfit(t[sel], edc_db[sel], 1)[0]
    return -60.0 / slope_db_per_s


@pytest.mark.parametrize("rt60_s", [0.3, 0.45, 0.6])
def test_the_reverberant_tail_decays_60_db_in_rt60(rt60_s):
    h = impulse_response(RoomConfig(gain=1.0, rt60_s=rt60_s))
    assert measured_rt60_s(h) == pytest.approx(rt60_s, rel=0.08)


@pytest.mark.parametrize("delay_ms", [30.0, 70.0, 150.0])
def test_the_echo_arrives_after_the_delay(delay_ms):
    room = Room(RoomConfig(gain=1.0, delay_ms=delay_ms, distortion=0.0))
    click = np.zeros(RATE_HZ, dtype=np.int16)
    click[100] = 10000
    echo = room.process(click)
    assert np.max(np.abs(echo[: 100 + room.delay_samples])) < 1e-3     # FFT round-off only
    assert int(np.argmax(np.abs(echo))) == 100 + int(round(delay_ms * RATE_HZ / 1000))


def test_the_direct_path_is_scaled_by_gain():
    loud = Room(RoomConfig(gain=1.0, distortion=0.0)).process(_noise(2.0))
    soft = Room(RoomConfig(gain=0.25, distortion=0.0)).process(_noise(2.0))
    assert np.allclose(soft, 0.25 * loud, atol=0.05)
    assert not Room(RoomConfig(gain=0.0)).process(_noise(1.0)).any()


def test_same_seed_same_room_other_seed_other_room():
    a = impulse_response(RoomConfig(seed=3))
    assert np.array_equal(a, impulse_response(RoomConfig(seed=3)))
    assert not np.allclose(a, impulse_response(RoomConfig(seed=4)))


def test_streaming_gives_the_same_echo_whatever_the_chunking():
    x = _noise(5.0)
    whole = Room(RoomConfig()).process(x)
    room = Room(RoomConfig())
    pieces, i, sizes = [], 0, [1, 7, 160, 333, 800, 4096]
    while i < len(x):
        n = sizes[len(pieces) % len(sizes)]
        pieces.append(room.process(x[i:i + n]))
        i += n
    assert np.allclose(np.concatenate(pieces), whole, atol=1e-3)


def test_distortion_adds_harmonics_a_linear_speaker_does_not():
    t = np.arange(RATE_HZ) / RATE_HZ
    tone = (20000 * np.sin(2 * np.pi * 500 * t)).astype(np.int16)

    def harmonic_db(distortion: float) -> float:
        y = Room(RoomConfig(gain=1.0, delay_ms=0.0, rt60_s=0.05, distortion=distortion)).process(tone)
        spectrum = np.abs(np.fft.rfft(y[4000:] * np.hanning(len(y) - 4000)))
        freq = np.fft.rfftfreq(len(y) - 4000, 1 / RATE_HZ)
        at = lambda f: spectrum[np.argmin(np.abs(freq - f))]  # noqa: E731
        return 20 * np.log10(max(at(1000), at(1500)) / at(500))

    assert harmonic_db(0.0) < -60
    assert -40 < harmonic_db(0.2) < -10


def test_it_costs_under_five_percent_of_a_core():
    x = _noise(20.0)
    room = Room(RoomConfig())
    t0 = time.process_time()
    for i in range(0, len(x), 800):
        room.process(x[i:i + 800])
    assert (time.process_time() - t0) / 20.0 < 0.05


@pytest.mark.parametrize("bad, word", [(dict(gain=-1.0), "--echo-gain"),
                                       (dict(delay_ms=-5.0), "--echo-delay-ms"),
                                       (dict(rt60_s=0.0), "--echo-rt60-s"),
                                       (dict(distortion=2.0), "--echo-distortion")])
def test_settings_that_are_no_room_are_one_line_errors(bad, word):
    with pytest.raises(UsageError, match=word):
        Room(RoomConfig(**bad))


def _noise(seconds: float) -> np.ndarray:
    return (np.random.default_rng(1).normal(size=int(seconds * RATE_HZ)) * 3000).astype(np.int16)
