"""The pocketsphinx backend, decoding real speech.

The clips in tests/data/asr are espeak-ng renderings (en-us+m1 / en-us+f3 at 150 wpm, 16 kHz,
trimmed to the speech, -3 dBFS peak). Each test builds a stream like a microphone's: a quiet noise
floor, the clips with pauses between them, fed through `feed` in fixed-size chunks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coach.asr.phrases import PhraseTable, jsgf_grammar, normalise
from coach.audio.wav import load_pcm16
from coach.errors import VoiceError

pytest.importorskip("pocketsphinx", reason="pocketsphinx is not installed")

from coach.asr.pocketsphinx_backend import PocketsphinxRecognizer  # noqa: E402

DATA = Path(__file__).parent / "data" / "asr"
RATE_HZ = 16_000
GAP_S = 0.8
PHRASES = {
    "ready": ["ready", "i'm ready", "let's go"], "done": ["done", "finished", "i'm done"],
    "cant_hold": ["can't hold", "cannot hold", "i can't"], "pause": ["pause"],
    "resume": ["resume", "continue"], "skip": ["skip"], "next": ["next"],
    "repeat": ["repeat", "say again"], "stop": ["stop"], "how_long": ["how long"], "help": ["help"],
}


def floor_noise(n: int, seed: int) -> np.ndarray:
    """About -60 dBFS of noise: no microphone delivers exact zeros."""
    return np.random.default_rng(seed).normal(0.0, 30.0, n)


def build_stream(names: list[str]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Clips separated by GAP_S of floor noise; returns PCM and each clip's (start, end) in seconds."""
    gap = int(GAP_S * RATE_HZ)
    parts: list[np.ndarray] = [np.zeros(gap)]
    spans, n = [], gap
    for name in names:
        clip = load_pcm16(DATA / f"{name}.wav").astype(np.float64)
        spans.append((n / RATE_HZ, (n + len(clip)) / RATE_HZ))
        parts += [clip, np.zeros(gap)]
        n += len(clip) + gap
    audio = np.concatenate(parts) + floor_noise(n, seed=len(names))
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16), spans


def feed_all(recognizer: PocketsphinxRecognizer, pcm: np.ndarray, chunk: int) -> list:
    heard = []
    for start in range(0, len(pcm), chunk):
        heard += recognizer.feed(pcm[start : start + chunk].tobytes())
    return heard + recognizer.flush()


def commands(heard: list) -> list:
    """Only the results that name a command (the others are speech that matched no phrase)."""
    return [h for h in heard if h.command]


@pytest.fixture(scope="module")
def make_recognizer():
    return lambda: PocketsphinxRecognizer(PHRASES)


@pytest.mark.audio
def test_commands_are_heard_with_their_times(make_recognizer) -> None:
    pcm, spans = build_stream(["ready", "cant_hold", "pause"])
    heard = commands(feed_all(make_recognizer(), pcm, 800))
    assert [h.command for h in heard] == ["ready", "cant_hold", "pause"]
    for h, (t_start, t_end) in zip(heard, spans, strict=True):
        assert abs(h.t_start - t_start) <= 0.1, (h, t_start)
        assert abs(h.t_end - t_end) <= 0.15, (h, t_end)
        assert 0.55 <= h.confidence <= 1.0
    assert heard[1].phrase == "can't hold"


@pytest.mark.audio
def test_ordinary_sentence_triggers_nothing(make_recognizer) -> None:
    pcm, spans = build_stream(["water"])
    heard = feed_all(make_recognizer(), pcm, 800)
    assert commands(heard) == []
    # ... but it is reported as speech that matched no phrase, with its times, for "Sorry?".
    assert len(heard) == 1 and heard[0].command == "" and heard[0].reason
    assert abs(heard[0].t_start - spans[0][0]) <= 0.15 and heard[0].t_end <= spans[0][1] + 0.15
    assert 0.0 <= heard[0].confidence <= 1.0


@pytest.mark.audio
def test_coach_instruction_containing_a_command_triggers_nothing(make_recognizer) -> None:
    pcm, _ = build_stream(["say_done"])                # "when you are done say done"
    heard = feed_all(make_recognizer(), pcm, 800)
    assert commands(heard) == [] and heard
    assert all(h.command == "" and h.reason for h in heard)


@pytest.mark.audio
def test_a_segment_too_long_for_any_command_is_reported_without_a_command(make_recognizer) -> None:
    pcm = tone_stream([(1.0, 4.5)], 6.0)               # 3.5 s: longer than any phrase
    heard = feed_all(make_recognizer(), pcm, 800)
    assert [(h.command, h.phrase, h.reason) for h in heard] == [("", "", "too long")]
    assert abs(heard[0].t_start - 1.0) <= 0.05 and abs(heard[0].t_end - 4.5) <= 0.05


@pytest.mark.audio
def test_result_does_not_depend_on_chunk_size(make_recognizer) -> None:
    pcm, _ = build_stream(["pause", "water", "ready"])
    small = feed_all(make_recognizer(), pcm, 160)       # 10 ms
    large = feed_all(make_recognizer(), pcm, 1600)      # 100 ms
    assert [h.command for h in small] == ["pause", "", "ready"]
    assert small == large


@pytest.mark.audio
def test_reset_drops_the_utterance_in_progress_and_keeps_the_clock(make_recognizer) -> None:
    recognizer = make_recognizer()
    first, spans = build_stream(["cant_hold"])
    middle = int((spans[0][0] + 0.5) * RATE_HZ)          # inside "can't hold"
    assert recognizer.feed(first[:middle].tobytes()) == []
    recognizer.reset()
    assert feed_all(recognizer, first[middle:], 800) == []
    second, spans2 = build_stream(["ready"])
    heard = commands(feed_all(recognizer, second, 800))
    assert [h.command for h in heard] == ["ready"]
    offset = len(first) / RATE_HZ                        # the clock kept counting through reset
    assert abs(heard[0].t_start - (offset + spans2[0][0])) <= 0.1


def test_phrases_are_normalised_and_checked() -> None:
    assert normalise("  I’m  Ready! ") == "i'm ready"
    table = PhraseTable.from_mapping({"ready": ["Ready", "let's go"], "stop": ["stop"]})
    assert table.command_for("LET'S GO") == "ready"
    assert table.command_for("let's") is None
    assert "( let's go )" in jsgf_grammar(table)
    with pytest.raises(VoiceError, match="both"):
        PhraseTable.from_mapping({"stop": ["stop"], "pause": ["Stop!"]})


@pytest.mark.audio
def test_a_word_missing_from_the_dictionary_is_a_voice_error() -> None:
    with pytest.raises(VoiceError, match="qwzxv"):
        PocketsphinxRecognizer({"ready": ["qwzxv"]})


def tone_stream(bursts_s: list[tuple[float, float]], total_s: float) -> np.ndarray:
    """A 300 Hz tone (-10 dBFS) in the given (start, end) stretches over a -60 dBFS noise floor."""
    t = np.arange(int(total_s * RATE_HZ)) / RATE_HZ
    audio = floor_noise(len(t), seed=3)
    for start, end in bursts_s:
        inside = (t >= start) & (t < end)
        audio[inside] += 10_000 * np.sin(2 * np.pi * 300 * t[inside])
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16)


def test_digital_silence_does_not_pin_the_noise_floor() -> None:
    """The bad moment: a stream that begins with exact zeros (the echo gate's look-back before the
    first chunk; a virtual or just-opened microphone) set the floor at `abs_floor_db`, and the room's
    noise after them stood 10-15 dB over it until the floor crept up (3 dB/s): its first ~2 s were
    one segment, and a "coach start" said 2 s after `coach serve` began ran into it and was lost as
    "too long". Runs of zeros in the middle of a stream (a microphone dropping out) must not pull
    the floor down either."""
    from coach.asr.segmenter import EnergySegmenter

    tone = tone_stream([(3.0, 3.5)], 7.0)
    for zeros_s, where_s in ((0.16, 0.0), (1.0, 0.0), (1.0, 1.5)):
        at, n = int(where_s * RATE_HZ), int(zeros_s * RATE_HZ)
        pcm = np.concatenate([tone[:at], np.zeros(n, np.int16), tone[at:]])
        segmenter = EnergySegmenter()
        segments = [s for start in range(0, len(pcm), 800) for s in segmenter.feed(pcm[start: start + 800])]
        (word,) = segments
        assert abs(word.t_start - (3.0 + zeros_s)) <= 0.02 and not word.too_long


def test_segmenter_cuts_speech_at_its_edges_in_any_chunking() -> None:
    from coach.asr.segmenter import EnergySegmenter

    pcm = tone_stream([(1.0, 1.5), (2.5, 6.0)], 7.0)
    for chunk in (37, 800):
        segmenter = EnergySegmenter()
        segments = []
        for start in range(0, len(pcm), chunk):
            segments += segmenter.feed(pcm[start : start + chunk])
        short, long_ = segments
        assert abs(short.t_start - 1.0) <= 0.02 and abs(short.t_end - 1.5) <= 0.02
        assert not short.too_long and len(short.pcm) > 0.5 * RATE_HZ
        assert long_.too_long and len(long_.pcm) == 0      # a sentence: not worth decoding
