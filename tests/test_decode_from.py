"""`SegmentedRecognizer.decode_from`: a segment decoded again from a later start, on real speech.

The listener asks for it when the coach's residual spoiled the start of a word said over it (see
tests/test_listener.py for when). Here the spoiled start is 0.2 s of other speech run into an
espeak-ng "pause" (tests/data/asr, a voice the head was not trained on), through the real fused
recognizer: whole, the segment is no command; from where the "pause" begins, it is.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from coach.voice import load_voice

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")

from coach.asr.neural.fused import FusedRecognizer  # noqa: E402

DATA = Path(__file__).parent / "data" / "asr"
RATE_HZ = 16_000
LEAD_S = 1.5


def _speech(name: str) -> np.ndarray:
    with wave.open(str(DATA / name)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64)
    loud = np.nonzero(np.abs(x) > 300)[0]
    return x[loud[0]:loud[-1]]


def _stream(rec):
    """What `rec` heard of 0.2 s of other speech run into a "pause", and where the "pause" starts."""
    other = _speech("water.wav")[: int(0.2 * RATE_HZ)]
    x = np.concatenate([np.zeros(int(LEAD_S * RATE_HZ)), other, _speech("pause.wav"), np.zeros(RATE_HZ)])
    x += np.random.default_rng(0).normal(0, 5, len(x))
    pcm = np.clip(x, -32768, 32767).astype("<i2")
    heard = [h for i in range(0, len(pcm), 800) for h in rec.feed(pcm[i:i + 800].tobytes())]
    return heard + rec.flush(), LEAD_S + len(other) / RATE_HZ


def _phrases():
    return load_voice(ROOT / "voices" / "en-us.yaml").phrases


@pytest.fixture(scope="module")
def spoiled():
    """(the fused recognizer, what it heard, where the "pause" starts)."""
    rec = FusedRecognizer(_phrases())
    return (rec, *_stream(rec))


def test_a_segment_whose_start_is_spoiled_is_heard_from_a_later_start(spoiled):
    rec, heard, pause_at = spoiled
    (whole,) = heard
    assert whole.command == "" and whole.t_start == pytest.approx(LEAD_S, abs=0.02)
    again = rec.decode_from(whole.t_start, pause_at)
    assert again is not None and again.command == "pause"
    assert abs(again.t_start - pause_at) <= 0.05              # timed from the word, not the segment


def test_decode_from_knows_only_recent_segments_and_needs_speech_left(spoiled):
    rec, heard, _ = spoiled
    (whole,) = heard
    assert rec.decode_from(whole.t_start + 0.3, whole.t_start + 0.4) is None     # no such segment
    assert rec.decode_from(whole.t_start, whole.t_end - 0.05) is None            # too little left


def test_decoding_again_gives_the_same_command(spoiled):
    """(Each decode draws pocketsphinx's dither afresh from its seeded generator, so a replayed
    session repeats it exactly; two calls in a row differ only in the last digits of confidence.)"""
    rec, heard, pause_at = spoiled
    (whole,) = heard
    first, second = rec.decode_from(whole.t_start, pause_at), rec.decode_from(whole.t_start, pause_at)
    assert first is not None and second is not None
    assert (first.command, first.phrase) == (second.command, second.phrase)
    assert first.t_start == pytest.approx(second.t_start, abs=0.02)


def test_pocketsphinx_alone_decodes_from_a_later_start_too():
    from coach.asr.pocketsphinx_backend import PocketsphinxRecognizer

    rec = PocketsphinxRecognizer(_phrases())
    heard, pause_at = _stream(rec)
    assert [h.command for h in heard] == [""]
    again = rec.decode_from(heard[0].t_start, pause_at)
    assert again is not None and again.command == "pause"


def test_decoding_again_does_not_push_the_heard_segments_out(spoiled):
    """The re-decoded pieces are not segments the recognizer heard: however often a listener asks
    (every later start it tries, for each of several segments), what it heard stays findable."""
    rec, heard, pause_at = spoiled
    (whole,) = heard
    for _ in range(6):
        assert rec.decode_from(whole.t_start, pause_at) is not None
