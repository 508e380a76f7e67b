"""The segmenter in background talk (a TV, people talking in the room): real espeak-ng voices.

Six voices talking at once never fall quiet. The energy floor sits in their dips, so before the
segmenter learned the level of the talk, the whole stream was one endless "sentence" and a
command said 10 dB over it was never decoded (bench_recognition's babble rows: 0 %)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from coach.asr.segmenter import EnergySegmenter, SegmenterConfig
from coach.audio.wav import load_pcm16

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from babble import babble as make_talk  # noqa: E402

DATA = Path(__file__).parent / "data" / "asr"
RATE_HZ = 16_000
# The user's own speech kept out of the talk level: not the default yet (see SegmenterConfig).
OWN_SPEECH_CAPPED = SegmenterConfig(level_speech_rise_db=6.0)

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@pytest.fixture(scope="module")
def babble(tmp_path_factory) -> np.ndarray:
    """90 s of six voices at once, each looped from a different place, unit RMS overall."""
    return make_talk(tmp_path_factory.mktemp("babble"), 90.0)


def command_in_talk(babble: np.ndarray, snr_db: float, at_s: float = 22.0,
                    seconds: float = 30.0) -> tuple[np.ndarray, float]:
    """"ready" at `at_s`, `snr_db` over the first `seconds` of the talk; returns the stream and
    where the word starts."""
    word = load_pcm16(DATA / "ready.wav").astype(np.float64)
    level = np.sqrt(np.mean(word**2)) / 10 ** (snr_db / 20)
    audio = babble[: int(seconds * RATE_HZ)] * level
    at = int(at_s * RATE_HZ)
    audio[at : at + len(word)] += word
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16), at / RATE_HZ


def segments(pcm: np.ndarray, config: SegmenterConfig | None = None) -> list:
    seg = EnergySegmenter(config)
    out = []
    for start in range(0, len(pcm), 800):
        out += seg.feed(pcm[start : start + 800])
    return out + seg.flush()


def word_segment(found: list, t_word: float) -> list:
    """Decodable segments that begin within 0.25 s of the word (the hold-time target)."""
    return [s for s in found if not s.too_long and abs(s.t_start - t_word) <= 0.25]


@pytest.mark.parametrize("snr_db", [10.0, 20.0])
def test_a_command_over_background_talk_gets_its_own_segment(babble, snr_db) -> None:
    pcm, t_word = command_in_talk(babble, snr_db)
    found = word_segment(segments(pcm), t_word)
    assert len(found) == 1, [(s.t_start, s.t_end, s.too_long) for s in segments(pcm)]
    assert found[0].t_end - found[0].t_start < 1.5


@pytest.mark.parametrize("at_s", [27.0, 41.0, 55.0, 69.0, 83.0])
def test_a_command_deep_into_a_long_talk_is_heard(babble, at_s) -> None:
    """A TV talks on for minutes. The floor creeps up into the talk between its dips; leaving the
    talk level the first time the floor came near it cut the talk back into sentences 10-20 s in,
    and a command said then was swallowed by one (found with `coach listen` on a file).
    Entering it needed 8 s in a row over the gap, and the level of six voices dips for a moment
    every few seconds: some talks took 45 s to be recognised."""
    pcm, t_word = command_in_talk(babble, 10.0, at_s, seconds=90.0)
    found = segments(pcm)
    assert len(word_segment(found, t_word)) == 1, [(s.t_start, s.t_end, s.too_long) for s in found]
    # Once the talk is recognised, nothing of it is cut into decodable pieces.
    stray = [(s.t_start, s.t_end) for s in found
             if s.t_start > 20.0 and not s.too_long and abs(s.t_start - t_word) > 0.25]
    assert stray == []


def test_a_sentence_said_over_the_talk_is_measured_against_the_talk_not_itself(babble) -> None:
    """The user says a sentence (1.8 s, 20 dB over a TV). The talk level is a percentile of the last
    1.5 s, and the sentence's own frames filled it: its segment ended 0.8 s in, and the rest of it
    started no segment at all, because the user's voice was now the level (a "stop" at the end of
    "hang on, my back is sore, stop" was lost). It is one segment, to the sentence's end."""
    sentence = load_pcm16(DATA / "water.wav").astype(np.float64)
    level = np.sqrt(np.mean(sentence**2)) / 10 ** (20.0 / 20)
    audio = babble[: 30 * RATE_HZ] * level
    at = 22 * RATE_HZ
    audio[at : at + len(sentence)] += sentence
    found = segments(np.clip(np.round(audio), -32768, 32767).astype(np.int16), OWN_SPEECH_CAPPED)
    quiet = segments(np.clip(np.round(sentence), -32768, 32767).astype(np.int16), OWN_SPEECH_CAPPED)
    assert len(quiet) == 1
    t_end = 22.0 + quiet[0].t_end
    mine = [s for s in found if s.t_end > 21.75]
    assert len(mine) == 1, [(round(s.t_start, 2), round(s.t_end, 2), s.too_long) for s in found]
    assert abs(mine[0].t_start - 22.0) <= 0.25 and abs(mine[0].t_end - t_end) <= 0.25, \
        (mine[0].t_start, mine[0].t_end, t_end)


def sentence_then_word(babble: np.ndarray, snr_db: float, sentence_at_s: float,
                       seconds: float) -> tuple[np.ndarray, float]:
    """water.wav at `sentence_at_s`, then "ready" 0.3 s after it, `snr_db` (the word's RMS) over the
    first `seconds` of the talk; returns the stream and where the word starts."""
    sentence = load_pcm16(DATA / "water.wav").astype(np.float64)
    word = load_pcm16(DATA / "ready.wav").astype(np.float64)
    audio = babble[: int(seconds * RATE_HZ)] * np.sqrt(np.mean(word**2)) / 10 ** (snr_db / 20)
    at = int(sentence_at_s * RATE_HZ)
    audio[at : at + len(sentence)] += sentence
    word_at = at + len(sentence) + int(0.3 * RATE_HZ)
    audio[word_at : word_at + len(word)] += word
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16), word_at / RATE_HZ


@pytest.mark.parametrize("snr_db", [10.0, 15.0, 20.0])
@pytest.mark.parametrize("sentence_at_s", [20.0, 29.0])
def test_a_command_right_after_a_sentence_over_the_talk_is_heard(babble, snr_db, sentence_at_s) -> None:
    """"hang on, I need some water ... ready": the user talks over the TV, then answers 0.3 s after.
    The sentence's frames fill the talk level, so the "ready" is measured against the user's own
    voice and starts no segment at all (0 of 96 over babble at 10-20 dB by default; with the cap
    on, 84 of 96 decoded as "ready" by the fused recognizer)."""
    pcm, t_word = sentence_then_word(babble, snr_db, sentence_at_s, sentence_at_s + 8)
    found = segments(pcm, OWN_SPEECH_CAPPED)
    assert len(word_segment(found, t_word)) == 1, \
        [(round(s.t_start, 2), round(s.t_end, 2), s.too_long) for s in found]


@pytest.mark.xfail(strict=True, reason="default segmenter: the user's sentence becomes the talk level "
                   "(level_speech_rise_db fixes it but costs isolated commands in babble)")
def test_by_default_a_command_right_after_a_sentence_over_the_talk_is_heard(babble) -> None:
    pcm, t_word = sentence_then_word(babble, 15.0, 20.0, 30.0)
    assert len(word_segment(segments(pcm), t_word)) == 1


def test_the_coachs_lines_in_a_row_are_not_background_talk() -> None:
    """Sentences with pauses between them (the coach narrating, heard back through the room, in a
    rumble) are not background talk, however long the run: each stays one sentence. A rule that
    counted 80 % of the last 8 s over the gap took them for talk in brown noise and cut two of
    twenty coach lines into words that fired as commands (bench_recognition, brown 10 dB)."""
    rng = np.random.default_rng(4)
    sentence = load_pcm16(DATA / "water.wav").astype(np.float64)
    sentence = np.concatenate([sentence, sentence])[: int(3.5 * RATE_HZ)]
    pause = np.zeros(int(2.0 * RATE_HZ))
    speech = np.concatenate([pause] + [np.concatenate([sentence * 0.5, pause]) for _ in range(12)])
    rumble = np.cumsum(rng.normal(0.0, 1.0, len(speech)))
    rumble -= np.convolve(rumble, np.ones(801) / 801, mode="same")       # brown, without drift
    rumble *= np.sqrt(np.mean((sentence * 0.5) ** 2)) / np.sqrt(np.mean(rumble**2)) / 10 ** 0.5
    pcm = np.clip(np.round(speech + rumble), -32768, 32767).astype(np.int16)
    found = segments(pcm)
    assert all(s.too_long for s in found), [(round(s.t_start, 2), round(s.t_end, 2), s.too_long)
                                            for s in found]
    assert len(found) >= 10


def test_without_the_talk_level_the_command_is_lost_in_it(babble) -> None:
    """The failure this guards against: the floor alone makes the talk one endless sentence."""
    pcm, t_word = command_in_talk(babble, 10.0)
    found = segments(pcm, SegmenterConfig(level_window_s=0.0))
    assert word_segment(found, t_word) == []
    assert any(s.too_long for s in found)


def test_one_sentence_in_a_quiet_room_stays_one_sentence(babble) -> None:
    """3.6 s of one talker (someone chatting on the mat) is not background talk: it is
    not cut into words that could each be decoded as a command."""
    rng = np.random.default_rng(1)
    quiet = rng.normal(0.0, 30.0, 2 * RATE_HZ)
    talk = load_pcm16(DATA / "water.wav").astype(np.float64)
    talk = np.concatenate([talk, talk])[: int(3.8 * RATE_HZ)]
    pcm = np.concatenate([quiet, talk, quiet, talk * 0.5, quiet])
    pcm = np.clip(np.round(pcm + rng.normal(0.0, 30.0, len(pcm))), -32768, 32767).astype(np.int16)
    found = segments(pcm)
    assert [s.too_long for s in found] == [True, True], [(s.t_start, s.t_end, s.too_long) for s in found]


def test_steady_noise_keeps_the_floor() -> None:
    """In a fan's steady noise the talk level never stands over the floor: a soft word 10 dB over
    it starts where it did before."""
    rng = np.random.default_rng(2)
    word = load_pcm16(DATA / "ready.wav").astype(np.float64)
    noise = rng.normal(0.0, 1.0, 20 * RATE_HZ)
    noise = noise / np.sqrt(np.mean(noise**2)) * np.sqrt(np.mean(word**2)) / 10 ** 0.5
    at = 12 * RATE_HZ
    noise[at : at + len(word)] += word
    pcm = np.clip(np.round(noise), -32768, 32767).astype(np.int16)
    found = segments(pcm)
    new = [(round(s.t_start, 2), s.too_long) for s in found]
    old = [(round(s.t_start, 2), s.too_long) for s in segments(pcm, SegmenterConfig(level_window_s=0.0))]
    assert new == old
    assert len(word_segment(found, at / RATE_HZ)) == 1


@pytest.mark.audio
def test_the_recognizer_hears_a_command_over_background_talk(babble) -> None:
    """The whole chain: pocketsphinx, fed in 50 ms chunks like a microphone, names the word 20 dB
    over the talk (at 10 dB it hears about 4 in 10 on the benchmark: the segment is there, the
    decoding is what misses)."""
    pytest.importorskip("pocketsphinx", reason="pocketsphinx is not installed")
    from coach.asr.pocketsphinx_backend import PocketsphinxRecognizer

    pcm, t_word = command_in_talk(babble, 20.0)
    recognizer = PocketsphinxRecognizer({"ready": ["ready"], "done": ["done"], "stop": ["stop"],
                                         "cant_hold": ["can't hold"], "pause": ["pause"]})
    heard = []
    for start in range(0, len(pcm), 800):
        heard += recognizer.feed(pcm[start : start + 800].tobytes())
    commands = [(h.command, round(h.t_start, 2)) for h in heard + recognizer.flush() if h.command]
    assert [c for c, _ in commands] == ["ready"], commands
    assert abs(commands[0][1] - t_word) <= 0.25
