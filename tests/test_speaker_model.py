"""The learned loudspeaker distortion: the fit finds a speaker's soft clipping, leaves a linear
speaker linear, never folds back, and in front of speexdsp's filter removes what the filter alone
cannot (real synthesized speech through the honest room)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_echo import NARRATION, erle_db, run, through_room

from coach.audio.echo import SpeexCanceller, open_canceller
from coach.audio.room import RoomConfig, loudspeaker
from coach.audio.speaker_model import SpeakerNonlinearity
from coach.audio.wav import load_pcm16
from coach.defaults import RATE_HZ

WINDOW = 4 * RATE_HZ


def speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise under a syllable-rate envelope, peaks near 0.7 of full scale (float, [-1, 1])."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE_HZ)
    envelope = np.abs(np.sin(np.arange(n) * np.pi * 4 / RATE_HZ)) ** 2
    return np.clip(0.25 * rng.normal(size=n) * envelope, -0.95, 0.95)


def soft_clip(x: np.ndarray) -> np.ndarray:
    return loudspeaker(x * 32768.0, 0.2) / 32768.0


def fit_rounds(model: SpeakerNonlinearity, truth, rounds: int, seed: int = 0) -> None:
    """`rounds` fits, each on a fresh window, as a canceller whose linear filter is the room would."""
    rng = np.random.default_rng(seed)
    h = np.zeros(64)
    h[0] = 1.0
    h[1:] = rng.normal(size=63) * 0.05 * np.exp(-np.arange(63) / 20)
    for k in range(rounds):
        x = speechlike(WINDOW / RATE_HZ + 0.01, seed=k)[: WINDOW + len(h) - 1]
        mic = np.convolve(truth(x), h)[len(h) - 1: len(h) - 1 + WINDOW] * 20000
        modelled = np.convolve(model.apply(x), h)[len(h) - 1: len(h) - 1 + WINDOW] * 20000
        model.fit(x, mic, mic - modelled, h * 3.0)         # h's scale is not the microphone's


def test_the_fit_learns_a_soft_clipping_speaker():
    model = SpeakerNonlinearity()
    fit_rounds(model, soft_clip, rounds=12)
    x = np.linspace(-0.6, 0.6, 121)
    assert model.a3 < -0.3
    assert np.max(np.abs(model.apply(x) - soft_clip(x))) < 0.02


def test_a_linear_speaker_stays_linear():
    model = SpeakerNonlinearity()
    fit_rounds(model, lambda x: x, rounds=8)
    assert abs(model.a2) < 0.01 and abs(model.a3) < 0.01


def test_the_model_saturates_instead_of_folding_back():
    model = SpeakerNonlinearity()
    model.a3 = -1.0                   # x - x^3 turns at 0.577
    model._rebuild()
    x = np.linspace(-1.0, 1.0, 2001)
    y = model.apply(x)
    assert np.all(np.diff(y) >= 0)
    assert y[-1] == pytest.approx(y[np.searchsorted(x, 0.58)], abs=1e-3)


def test_no_fit_without_the_coach_playing_or_with_a_filter_that_knows_nothing():
    model = SpeakerNonlinearity()
    quiet = np.zeros(WINDOW + 63)
    assert not model.fit(quiet, np.zeros(WINDOW), np.zeros(WINDOW), np.ones(64))
    x = speechlike(WINDOW / RATE_HZ + 0.01)[: WINDOW + 63]
    assert not model.fit(x, np.zeros(WINDOW), np.zeros(WINDOW), np.zeros(64))
    assert model.linear


@pytest.fixture(scope="module")
def long_narration(tmp_path_factory) -> np.ndarray:
    """About 30 s of the coach's voice (espeak-ng en-us, loud as pyttsx3 renders it)."""
    path: Path = tmp_path_factory.mktemp("speaker") / "narration.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), NARRATION + " " + NARRATION],
                   check=True)
    return load_pcm16(path, RATE_HZ)


@pytest.mark.audio
def test_in_front_of_speex_it_removes_the_speakers_distortion(long_narration):
    config = RoomConfig(gain=1.0)                     # the default room: distortion 0.2
    mic = through_room(long_narration, config)
    plain = erle_db(mic, run(SpeexCanceller(), mic, long_narration), long_narration, from_s=15.0)
    canceller = SpeexCanceller(speaker_model=True)
    learned = erle_db(mic, run(canceller, mic, long_narration), long_narration, from_s=15.0)
    assert canceller.speaker is not None and canceller.speaker.a3 < 0
    assert learned >= plain + 3.0, (plain, learned)


@pytest.mark.audio
def test_with_a_linear_speaker_it_costs_nothing(long_narration):
    mic = through_room(long_narration, RoomConfig(gain=1.0, distortion=0.0))
    plain = erle_db(mic, run(SpeexCanceller(), mic, long_narration), long_narration, from_s=15.0)
    learned = erle_db(mic, run(SpeexCanceller(speaker_model=True), mic, long_narration),
                      long_narration, from_s=15.0)
    assert learned >= plain - 1.0, (plain, learned)


@pytest.mark.audio
def test_the_coach_opens_it_by_default_and_a_reset_forgets_it(long_narration):
    assert getattr(open_canceller(speaker_model=False), "speaker", None) is None
    canceller = open_canceller()                                     # on by default (README)
    assert isinstance(canceller, SpeexCanceller) and canceller.speaker is not None
    mic = through_room(long_narration, RoomConfig(gain=1.0))
    run(canceller, mic, long_narration)
    assert not canceller.speaker.linear
    canceller.reset()
    assert canceller.speaker.linear

