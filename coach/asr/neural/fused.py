"""The neural head and pocketsphinx on the same speech segments, combined by a measured rule.

One segmenter cuts the stream; each segment is classified by the head and decoded by
pocketsphinx's phrase language model (`fuse` decides; scripts/bench_recognition.py measured the
settings in `FusionTuning`). Commands whose phrases the head was not trained on are heard by
pocketsphinx alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from coach.asr.base import Heard
from coach.asr.neural.backend import NeuralRecognizer, command_confidence
from coach.asr.neural.features import RATE_HZ, SpeechEmbedder
from coach.asr.neural.head import OTHER, CommandHead, Prediction
from coach.asr.pocketsphinx_backend import PocketsphinxRecognizer, SegmentScore
from coach.asr.segmenter import SegmentedRecognizer, SegmenterConfig, SpeechSegment


@dataclass(frozen=True)
class FusionTuning:
    """Probabilities of the head's best class. Chosen on the dev corpus by bench_recognition.py out
    of 20 settings: pocketsphinx's commands always count (every veto by the head cost more
    commands on Piper joe than it saved false triggers), and the head adds the ones it is sure of
    (at its 0.99 threshold) that pocketsphinx missed: dev corpus clean 87 -> 98 %, 10 dB 64 -> 76 %.
    Where the two name different commands, the head's wins from 0.95: over the coach's cancelled
    voice pocketsphinx took a user's "stop" for "help" that the head heard as "stop" (0.977); on the
    corpus 0.9 and 0.95 scored alike and above never (dev merit 0.578 against 0.575; held-out and
    Piper joe unchanged), 0.97 as never."""

    neural_alone: float = 0.9        # the head's command fires on its own at this (and its threshold)
    confirm_min: float = 0.2         # from here, the head's command fires if pocketsphinx agrees
    sphinx_alone: bool = True        # pocketsphinx's command fires unless the head vetoes it
    sphinx_veto: float = 1.01        # the head vetoes when it says "no command" this surely (never)
    overrule: float = 0.95           # the head's command replaces pocketsphinx's other one this surely


def fuse(prediction: Prediction, score: SegmentScore, known: frozenset[str], threshold: float,
         tuning: FusionTuning) -> tuple[str, float, str]:
    """(command or "", confidence, reason) for one segment."""
    sphinx = score.command if score.accepted and score.command is not None else None
    label, p = prediction.label, prediction.probability
    if sphinx is not None and sphinx not in known:
        return sphinx, score.confidence, ""
    if label in known and p >= max(tuning.neural_alone, threshold):
        return label, command_confidence(p, threshold), ""
    if sphinx is not None and label == sphinx and p >= tuning.confirm_min:
        return sphinx, max(command_confidence(p, threshold), score.confidence), ""
    if sphinx is not None and label in known and label != sphinx and p >= tuning.overrule:
        return label, command_confidence(p, threshold), ""
    if sphinx is not None and tuning.sphinx_alone:
        if label == OTHER and p >= tuning.sphinx_veto:
            return "", p, "the neural head heard no command"
        return sphinx, score.confidence, ""
    if label in known and p >= threshold and sphinx is None and score.reason == "too long for phrase":
        return "", p, "too long for the phrase"
    return "", p, "no agreement" if (sphinx or label != OTHER) else "not a command"


class FusedRecognizer(SegmentedRecognizer):
    """`Recognizer` combining `NeuralRecognizer` and `PocketsphinxRecognizer` on shared segments."""

    name = "fused"
    rate_hz = RATE_HZ

    def __init__(
        self,
        phrases: Mapping[str, list[str]],
        *,
        head: CommandHead | None = None,
        embedder: SpeechEmbedder | None = None,
        segmenter: SegmenterConfig | None = None,
        tuning: FusionTuning | None = None,
        threshold: float | None = None,
    ) -> None:
        self.neural = NeuralRecognizer(phrases, head=head, embedder=embedder, segmenter=segmenter,
                                       threshold=threshold)
        self.sphinx = PocketsphinxRecognizer(phrases, segmenter=segmenter)
        self.tuning = tuning or FusionTuning()
        self.model = f"{self.neural.model} + pocketsphinx bundled en-us"
        self._segmenter = self.neural._segmenter               # one segmenter for both
        self._n_samples = 0
        self._first_phrase = {c: list(ps)[0] for c, ps in phrases.items()}

    def feed(self, pcm: bytes) -> list[Heard]:
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
        self.neural._buffer.append(samples)
        self.neural._n_samples += len(samples)
        self._n_samples += len(samples)
        return self._decode_all(self._segmenter.feed(samples))

    def _decode(self, segment: SpeechSegment) -> Heard:
        t0, t1 = round(segment.t_start, 3), round(segment.t_end, 3)
        prediction = self.neural.classify(segment)
        score = self.sphinx._score(segment)
        command, confidence, reason = fuse(prediction, score, self.neural.known,
                                           self.neural.threshold, self.tuning)
        if not command:
            return Heard("", score.hypothesis, t0, t1, round(confidence, 3), reason=reason, words=score.words)
        phrase = score.hypothesis if score.command == command else self._first_phrase[command]
        sphinx_agrees = score.command == command and score.accepted
        t_start = score.t_start if sphinx_agrees else t0
        return Heard(command, phrase, round(t_start, 3), t1, round(min(1.0, confidence), 3),
                     by="" if sphinx_agrees else "neural")
