"""The neural command recognizer: features, the head, fusion rules, and the shipped head on real speech.

Real-speech tests stream the espeak-ng clips of tests/data/asr (voices en-us+m1 / en-us+f3, not
in the head's training set) with pauses and a quiet noise floor, as a microphone would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coach.asr.neural.head import OTHER, CommandHead, Prediction
from coach.asr.pocketsphinx_backend import SegmentScore
from coach.errors import ModelNotFoundError, UsageError

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")

from coach.asr.neural import features as F  # noqa: E402
from coach.asr.neural.fused import FusionTuning, fuse  # noqa: E402

DATA = Path(__file__).parent / "data" / "asr"
RATE_HZ = 16_000
PHRASES = {
    "ready": ["ready", "i'm ready", "let's go"], "done": ["done", "finished", "i'm done"],
    "cant_hold": ["can't hold", "cannot hold", "i can't"], "pause": ["pause"],
    "resume": ["resume", "continue"], "skip": ["skip"], "next": ["next"],
    "repeat": ["repeat", "say again"], "stop": ["stop"], "how_long": ["how long"], "help": ["help"],
}


def tiny_head(threshold: float = 0.5) -> CommandHead:
    rng = np.random.default_rng(0)
    labels = ("pause", "ready", OTHER)
    member = (rng.normal(size=(F.FEATURE_DIM, 4)).astype(np.float32), np.zeros(4, np.float32),
              rng.normal(size=(4, 3)).astype(np.float32), np.zeros(3, np.float32))
    return CommandHead(labels, np.zeros(F.FEATURE_DIM, np.float32), np.ones(F.FEATURE_DIM, np.float32),
                       (member,), threshold, {"pause": ["pause"], "ready": ["ready", "i'm ready"]}, {})


def test_pooling_resamples_any_length_to_one_vector() -> None:
    for n in (1, 3, 7, 20):
        x = np.arange(n * F.EMBEDDING_DIM, dtype=np.float32).reshape(n, F.EMBEDDING_DIM)
        v = F.pool(x)
        assert v.shape == (F.FEATURE_DIM,)
        assert np.allclose(v[: F.EMBEDDING_DIM], x[0]) and np.allclose(v[-1], np.log(n))
    assert not F.pool(np.zeros((0, F.EMBEDDING_DIM))).any()


def test_the_feature_window_reaches_back_to_the_minimum_length() -> None:
    begin, end = F.window_bounds(5.0, 5.3)
    assert end == pytest.approx(5.3 + F.POST_S) and end - begin == pytest.approx(F.MIN_WINDOW_S)
    begin, end = F.window_bounds(5.0, 7.0)
    assert begin == pytest.approx(5.0 - F.PRE_S)


def test_a_head_survives_saving_and_loading(tmp_path) -> None:
    head = tiny_head()
    head.save(tmp_path / "h.npz")
    loaded = CommandHead.load(tmp_path / "h.npz")
    x = np.random.default_rng(1).normal(size=(5, F.FEATURE_DIM)).astype(np.float32)
    assert loaded.labels == head.labels and loaded.threshold == head.threshold
    assert np.allclose(loaded.probabilities(x), head.probabilities(x), atol=2e-3)   # float16 weights
    assert np.allclose(loaded.probabilities(x).sum(axis=1), 1.0, atol=1e-5)


def test_a_head_knows_a_command_only_if_it_was_trained_on_every_phrase() -> None:
    head = tiny_head()
    assert head.knows("ready", ["Ready", "I'm ready"])
    assert not head.knows("ready", ["ready", "go now"])
    assert not head.knows("stop", ["stop"])


def test_a_broken_head_file_is_one_actionable_error(tmp_path) -> None:
    (tmp_path / "h.npz").write_bytes(b"not a head")
    with pytest.raises(ModelNotFoundError, match="command head"):
        CommandHead.load(tmp_path / "h.npz")


def score(command: str | None, accepted: bool = True, reason: str = "ok") -> SegmentScore:
    return SegmentScore(1.0, 1.4, command or "water", command, 0.8 if accepted else 0.0, accepted, reason)


def test_fusion_rules() -> None:
    known = frozenset({"ready", "pause"})
    tuning = FusionTuning(neural_alone=0.9, confirm_min=0.3, sphinx_alone=True, sphinx_veto=0.7)

    def go(label: str, p: float, sc: SegmentScore) -> str:
        return fuse(Prediction(label, p, p - 0.05, OTHER), sc, known, 0.5, tuning)[0]

    assert go("ready", 0.95, score(None, False, "not a phrase")) == "ready"      # sure: alone
    assert go("ready", 0.6, score(None, False, "not a phrase")) == ""            # unsure, no support
    assert go("ready", 0.35, score("ready")) == "ready"                          # pocketsphinx agrees
    assert go(OTHER, 0.8, score("pause")) == ""                                  # the head vetoes
    assert go(OTHER, 0.5, score("pause")) == "pause"                             # too weak a veto
    assert go(OTHER, 0.99, score("stop")) == "stop"                              # the head cannot know stop
    assert fuse(Prediction("ready", 0.95, 0.9, OTHER), score(None, False), known, 0.97, tuning)[0] == ""


def test_neural_engines_need_an_english_voice(tmp_path) -> None:
    from coach.asr.select import choose_engine
    from coach.voice.pack import load_voice_named

    voice = load_voice_named("ko", tmp_path)
    with pytest.raises(UsageError, match="English"):
        choose_engine("neural", None, {}, tmp_path, voice)


# --- the shipped head on real speech ------------------------------------------------------------

def build_stream(names: list[str], gap_s: float = 0.8) -> tuple[np.ndarray, list[tuple[float, float]]]:
    from coach.audio.wav import load_pcm16

    gap = int(gap_s * RATE_HZ)
    parts, spans, n = [np.zeros(gap)], [], gap
    for name in names:
        clip = load_pcm16(DATA / f"{name}.wav").astype(np.float64)
        spans.append((n / RATE_HZ, (n + len(clip)) / RATE_HZ))
        parts += [clip, np.zeros(gap)]
        n += len(clip) + gap
    audio = np.concatenate(parts) + np.random.default_rng(len(names)).normal(0.0, 30.0, n)
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16), spans


def feed_all(recognizer, pcm: np.ndarray, chunk: int = 800) -> list:  # noqa: ANN001
    heard = []
    for start in range(0, len(pcm), chunk):
        heard += recognizer.feed(pcm[start : start + chunk].tobytes())
    return heard + recognizer.flush()


@pytest.fixture(scope="module")
def embedder():
    return F.SpeechEmbedder()


@pytest.mark.audio
@pytest.mark.parametrize("engine", ["neural", "fused"])
def test_the_shipped_head_hears_commands_with_their_start_times(engine, embedder) -> None:
    from coach.asr.neural.backend import NeuralRecognizer
    from coach.asr.neural.fused import FusedRecognizer

    make = NeuralRecognizer if engine == "neural" else FusedRecognizer
    recognizer = make(PHRASES, embedder=embedder)
    assert recognizer.neural.known if engine == "fused" else recognizer.known    # type: ignore[attr-defined]
    pcm, spans = build_stream(["ready", "water", "cant_hold", "say_done", "pause"])
    heard = feed_all(recognizer, pcm)
    commands = [h for h in heard if h.command]
    expected = {"ready": spans[0], "cant_hold": spans[2], "pause": spans[4]}
    if engine == "fused":
        assert [h.command for h in commands] == ["ready", "cant_hold", "pause"]
    else:   # the head alone, at its strict threshold, may miss one; it must not invent any
        assert [h.command for h in commands] in (["ready", "cant_hold", "pause"], ["ready", "cant_hold"])
    for h in commands:
        t_start, _t_end = expected[h.command]
        assert abs(h.t_start - t_start) <= 0.25, (h, t_start)
        assert 0.55 <= h.confidence <= 1.0
    ignored = [h for h in heard if not h.command]
    assert len(ignored) >= 2 and all(h.reason for h in ignored)       # the two sentences


@pytest.mark.audio
def test_a_command_the_head_was_not_trained_for_is_left_to_pocketsphinx(embedder) -> None:
    from coach.asr.neural.backend import NeuralRecognizer
    from coach.asr.neural.fused import FusedRecognizer

    phrases = {**PHRASES, "pause": ["pause", "hang on"]}       # a phrase the head never heard
    assert "pause" in NeuralRecognizer(phrases, embedder=embedder).unknown
    pcm, _ = build_stream(["pause"])
    heard = [h.command for h in feed_all(FusedRecognizer(phrases, embedder=embedder), pcm) if h.command]
    assert heard == ["pause"]
    neural = NeuralRecognizer(phrases, embedder=embedder)
    assert [h.command for h in feed_all(neural, pcm) if h.command] == []


def test_the_shipped_head_loads_from_the_installed_package() -> None:
    from coach.asr.neural.head import load_shipped_head

    head = load_shipped_head()
    assert OTHER in head.labels and 0.0 < head.threshold < 1.0
    assert head.knows("ready", PHRASES["ready"]) and head.knows("cant_hold", PHRASES["cant_hold"])


# --- the coach's own voice coming back: residual echo and double-talk ------------------------------

COACH_LINES = ("Time to wake up your glutes. Lie on a mat, a rug or soft grass.",
               "You can say: ready, done, can't hold, pause, resume, skip, next, repeat, stop, help.",
               "Say ready when you're in position. Stop when you need to.")


@pytest.fixture(scope="module")
def coach_voice() -> list[np.ndarray]:
    """The coach's lines rendered by its own TTS (the en-us pack's engine settings)."""
    from coach.speech.tts import Pyttsx3Synthesizer

    synth = Pyttsx3Synthesizer("en-us", 150, 0.9)
    try:
        synth.start()
        return [synth.render(line) for line in COACH_LINES]
    finally:
        synth.close()


def through_the_room(lines: list[np.ndarray], gain: float, user: np.ndarray | None = None,
                     user_at_s: float = 0.0) -> tuple[np.ndarray, float, float]:
    """What the recognizer hears in a session: the coach's lines (0.4 s apart) through the room at
    `gain` plus the user's clip at `user_at_s` (peak -12 dBFS), after the canceller and the gate.
    Returns the audio and the user's span in it."""
    from coach.asr.selfvoice import EchoEvidence
    from coach.audio.echo import open_canceller
    from coach.audio.room import Room, RoomConfig

    gap = np.zeros(int(0.4 * RATE_HZ), np.int16)
    tail = np.zeros(RATE_HZ, np.int16)
    played = np.concatenate([gap, *[np.concatenate([line, gap]) for line in lines], tail])
    mic = np.random.default_rng(3).normal(0.0, 30.0, len(played))
    u0 = u1 = 0.0
    if user is not None:
        a = int(user_at_s * RATE_HZ)
        speech = user.astype(np.float64) * (32767 * 10 ** (-12 / 20) / np.abs(user).max())
        mic[a : a + len(speech)] += speech
        u0, u1 = a / RATE_HZ, (a + len(speech)) / RATE_HZ
    mic += Room(RoomConfig(gain=gain)).process(played)
    mic16 = np.clip(np.round(mic), -32768, 32767).astype(np.int16)
    canceller, evidence = open_canceller(), EchoEvidence()
    parts = []
    for i in range(0, len(mic16) - 799, 800):
        out = canceller.process(mic16[i : i + 800], played[i : i + 800])
        parts.append(evidence.observe(i, out, played[i : i + 800]))
    heard = np.concatenate([*parts, evidence.drain()])[evidence.delay_samples :]   # the gate's look-back
    return heard, u0, u1


@pytest.mark.audio
def test_the_head_hears_no_command_in_the_coachs_own_residual(coach_voice, embedder) -> None:
    """Lines full of command words, at the room's full echo (gain 1.0): the residual after the
    canceller and the gate is no command to the head (scripts/make_echo_data.py trains it on that)."""
    from coach.asr.neural.backend import NeuralRecognizer

    heard, _, _ = through_the_room(coach_voice, 1.0)
    got = [h for h in feed_all(NeuralRecognizer(PHRASES, embedder=embedder), heard) if h.command]
    assert got == []


# Slow lane: this passes for one render of the help line and not for another. After other tests
# have used pyttsx3 in the same process (tests/test_api.py's `say`), the render differs slightly and
# the head misses the "pause" (the whole-session bench agrees: "pause" over narration at room gain
# 1 is heard 0-50 % of the time). It is a regression probe for the head, not a guarantee.
@pytest.mark.slow
@pytest.mark.audio
def test_the_head_hears_the_user_over_the_coach(coach_voice, embedder) -> None:
    """Double-talk: "pause" said over "You can say: ready, done, ... stop, help." at echo gain 1.0."""
    from coach.asr.neural.backend import NeuralRecognizer
    from coach.audio.wav import load_pcm16

    start = (0.4 + len(coach_voice[0]) / RATE_HZ + 0.4) + 1.5       # 1.5 s into the help line
    heard, u0, _ = through_the_room(coach_voice, 1.0, load_pcm16(DATA / "pause.wav"), start)
    got = [h for h in feed_all(NeuralRecognizer(PHRASES, embedder=embedder), heard) if h.command]
    assert [h.command for h in got] == ["pause"]
    assert abs(got[0].t_start - u0) <= 0.25


def test_the_training_report_counts_the_residual_and_the_echo_rule() -> None:
    """train_command_head.py: false triggers on the coach's residual, and which of them (and of the
    double-talk commands) a listener rule of N dB above the expected residual lets through."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import train_command_head as train

    labels = ["pause", "ready", OTHER]
    p = np.array([[0.99, 0.0, 0.01], [0.0, 0.0, 1.0], [0.995, 0.0, 0.005], [0.0, 0.995, 0.005]])
    y = np.array([2, 2, 0, 1])
    rows = [{"kind": "echo", "text": "", "coach_active": True, "user_excess_db": 2.0},
            {"kind": "echo", "text": "", "coach_active": True, "user_excess_db": 1.0},
            {"kind": "cmd", "text": "pause", "coach_active": True, "user_excess_db": 14.0},
            {"kind": "cmd", "text": "ready", "coach_active": True, "user_excess_db": 7.0}]
    r = train.rates(p, y, labels, rows, 0.98)
    assert r["ft_echo"] == 0.5 and r["n_echo"] == 2 and r["correct"] == 1.0
    rule = {e["db"]: e for e in train.echo_rule(p, y, labels, rows, 0.98)}
    assert rule[12.0]["heard"] == 0.5 and rule[12.0]["self_triggers"] == 0.0
    assert rule[6.0]["heard"] == 1.0 and rule[0.0]["self_triggers"] == 0.5
    weights = train.sample_weights([{"kind": "neg", "text": "paws", "family": "espeak"},
                                    {"kind": "neg", "text": "okay", "family": "espeak"},
                                    {"kind": "cmd", "text": "stop", "family": "echo"}], 3.0, 2.0)
    assert list(weights) == [3.0, 1.0, 2.0]
