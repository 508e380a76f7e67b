"""The echo gate's look-back (coach/asr/selfvoice.py), on synthetic levels: pure numpy, no audio I/O.

The bad moment it is for: at room gain 1 a "pause" said over the coach's narration begins under
the coach's residual (its "p" and the start of the vowel stand no higher than the echo expected
there). A gate that opened only once the word stood clear turned those 0.1-0.2 s down to the noise
floor, and pocketsphinx heard the rest as "us" (bench_turns, flite slt).
"""

from __future__ import annotations

import numpy as np
import pytest

from coach.asr.selfvoice import FRAME_S, EchoEvidence, EchoEvidenceConfig

RATE = 16_000


def scene(seed: int = 0):
    """The coach from 0.5 s to 3 s (noise-like output), its residual 20 dB under it in the microphone, and
    the user from 2.0 s: 0.12 s no louder than that residual, then 20 dB above it."""
    rng = np.random.default_rng(seed)
    n = 3 * RATE
    ref = rng.normal(0.0, 3000.0, n)
    ref[: RATE // 2] = 0.0                                   # the room, quiet, before the coach starts
    mic = 0.1 * np.roll(ref, 160) + rng.normal(0.0, 3.0, n)
    onset, clear = 2 * RATE, int(2.12 * RATE)
    mic[onset:clear] += rng.normal(0.0, 150.0, clear - onset)
    mic[clear:] += rng.normal(0.0, 3000.0, n - clear)
    return np.clip(ref, -32768, 32767).astype(np.int16), np.round(mic).astype(np.int16), onset, clear


def gate(evidence: EchoEvidence, mic: np.ndarray, ref: np.ndarray, chunk: int = 800) -> np.ndarray:
    """What the recognizer hears, put back on the microphone's clock."""
    parts = [evidence.observe(i, mic[i : i + chunk], ref[i : i + chunk]) for i in range(0, len(mic), chunk)]
    return np.concatenate([*parts, evidence.drain()])[evidence.delay_samples :]


def gain_over(heard: np.ndarray, mic: np.ndarray, a: int, b: int) -> float:
    return float(np.sqrt(np.mean(heard[a:b].astype(float) ** 2) / np.mean(mic[a:b].astype(float) ** 2)))


def test_a_word_begun_under_the_coachs_echo_reaches_the_recognizer_whole():
    ref, mic, onset, clear = scene()
    heard = gate(EchoEvidence(), mic, ref)
    assert len(heard) == len(mic)
    assert gain_over(heard, mic, onset, clear) > 0.95                    # its start, untouched
    assert gain_over(heard, mic, clear, clear + RATE // 4) > 0.99        # and the rest of it
    assert gain_over(heard, mic, RATE, int(1.8 * RATE)) < 0.1            # the residual before it: gated


def test_without_the_look_back_the_words_start_was_cut():
    """The behaviour it replaces, kept as an option (gate_lookback_s 0: no delay)."""
    ref, mic, onset, clear = scene()
    evidence = EchoEvidence(EchoEvidenceConfig(gate_lookback_s=0.0))
    assert evidence.delay_samples == 0
    heard = gate(evidence, mic, ref)
    assert gain_over(heard, mic, onset, clear - int(0.02 * RATE)) < 0.2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_output_is_the_input_exactly_delayed_whatever_the_chunking(seed):
    """With the coach silent nothing is gated: the recognizer hears every sample, `delay_samples`
    late, and each call returns as many samples as it was given (odd chunk sizes, mid-frame ends)."""
    rng = np.random.default_rng(seed)
    mic = rng.normal(0.0, 2000.0, 2 * RATE).astype(np.int16)
    evidence = EchoEvidence()
    delay = evidence.delay_samples
    assert delay == round((EchoEvidenceConfig().gate_lookback_s / FRAME_S + 1) * FRAME_S * RATE)
    out, i = [], 0
    while i < len(mic):
        n = int(rng.integers(1, 1200))
        got = evidence.observe(i, mic[i : i + n], np.zeros(len(mic[i : i + n]), np.int16))
        assert len(got) == len(mic[i : i + n])
        out.append(got)
        i += n
    stream = np.concatenate(out)
    assert np.array_equal(stream[:delay], np.zeros(delay, np.int16))
    assert np.array_equal(stream[delay:], mic[: len(mic) - delay])
    assert np.array_equal(np.concatenate([stream, evidence.drain()])[delay:], mic)


def test_a_gap_in_the_audio_keeps_the_delay_and_loses_nothing_before_it():
    rng = np.random.default_rng(4)
    a, b = rng.normal(0, 2000, 8005).astype(np.int16), rng.normal(0, 2000, 8000).astype(np.int16)
    evidence = EchoEvidence()
    silent = np.zeros(8005, np.int16)
    first = evidence.observe(0, a, silent)
    second = evidence.observe(40_000, b, silent[:8000])                 # the microphone was away
    assert (len(first), len(second)) == (len(a), len(b))
    stream = np.concatenate([first, second, evidence.drain()])[evidence.delay_samples :]
    assert np.array_equal(stream, np.concatenate([a, b]))
