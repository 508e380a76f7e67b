"""The neural `Recognizer`: speech segments -> openWakeWord embeddings -> the command head.

Segments are cut by the same `EnergySegmenter` as pocketsphinx (its onset is `t_start`, good to
~0.05 s on the dev corpus). The recognizer keeps the last few seconds of the stream, so the
features can include audio from before the segment (the embedding model needs 0.76 s of audio per
frame; a "stop" lasts 0.3 s). A command is reported when the head's best class is a command of the
voice pack whose phrases the head was trained on, with at least `threshold` probability.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from coach.asr.base import Heard
from coach.asr.neural.features import RATE_HZ, SpeechEmbedder, segment_features, window_bounds
from coach.asr.neural.head import OTHER, CommandHead, Prediction, load_shipped_head
from coach.asr.phrases import PhraseTable
from coach.asr.segmenter import EnergySegmenter, SegmentedRecognizer, SegmenterConfig, SpeechSegment

_BUFFER_S = 6.0                              # longer than a segment (2.5 s) plus its context
ACCEPTED_FLOOR = 0.6                         # confidence of a command at exactly the threshold


def command_confidence(probability: float, threshold: float) -> float:
    """The head's probability on the listener's scale: an accepted command starts at 0.6 (above
    its 0.55 floor) and reaches 1 at probability 1, as pocketsphinx's do."""
    span = max(1e-6, 1.0 - threshold)
    above = min(1.0, max(0.0, (probability - threshold) / span))
    return round(ACCEPTED_FLOOR + (1 - ACCEPTED_FLOOR) * above, 3)


class StreamBuffer:
    """The last `seconds` of int16 samples, addressed by stream sample index."""

    def __init__(self, seconds: float = _BUFFER_S) -> None:
        self._max = int(seconds * RATE_HZ)
        self._data = np.zeros(0, np.int16)
        self._start = 0                      # stream index of self._data[0]

    def append(self, samples: np.ndarray) -> None:
        data = np.concatenate([self._data, samples.astype(np.int16, copy=False)])
        drop = max(0, len(data) - self._max)
        self._data = data[drop:]
        self._start += drop

    def between(self, t0_s: float, t1_s: float) -> np.ndarray:
        a = max(int(round(t0_s * RATE_HZ)) - self._start, 0)
        b = max(int(round(t1_s * RATE_HZ)) - self._start, 0)
        return self._data[a:b]


class NeuralRecognizer(SegmentedRecognizer):
    """`Recognizer` on the shipped (or a given) head. One per audio stream.

    `phrases`: the voice pack's command -> phrases. Commands whose phrases the head was not trained
    on are listed in `unknown` and never reported (the fused engine hears them with pocketsphinx).
    `embedder` may be shared between recognizers (the ONNX sessions are the large part).
    """

    name = "neural"
    rate_hz = RATE_HZ

    def __init__(
        self,
        phrases: Mapping[str, list[str]],
        *,
        head: CommandHead | None = None,
        embedder: SpeechEmbedder | None = None,
        segmenter: SegmenterConfig | None = None,
        threshold: float | None = None,
    ) -> None:
        self.table = PhraseTable.from_mapping(phrases)
        self.head = head if head is not None else load_shipped_head()
        self.threshold = self.head.threshold if threshold is None else threshold
        self.known = frozenset(c for c, ps in phrases.items() if self.head.knows(c, list(ps)))
        self.unknown = frozenset(phrases) - self.known
        self._first_phrase = {c: list(ps)[0] for c, ps in phrases.items()}
        self.model = f"openWakeWord embedding + command head ({len(self.known)} commands)"
        self._embedder = embedder if embedder is not None else SpeechEmbedder()
        self._segmenter = EnergySegmenter(segmenter)
        self._buffer = StreamBuffer()
        self._n_samples = 0

    def feed(self, pcm: bytes) -> list[Heard]:
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
        self._buffer.append(samples)
        self._n_samples += len(samples)
        return self._decode_all(self._segmenter.feed(samples))

    def classify(self, segment: SpeechSegment) -> Prediction:
        """The head's answer for a segment that ended no more than a hangover ago."""
        begin, end = window_bounds(segment.t_start, segment.t_end)
        audio = self._buffer.between(begin, min(end, self.t_now))
        return self.head.predict(segment_features(self._embedder, audio))

    def decide(self, segment: SpeechSegment, prediction: Prediction) -> Heard:
        t0, t1 = round(segment.t_start, 3), round(segment.t_end, 3)
        p = round(prediction.probability, 3)
        label = prediction.label
        if label == OTHER:
            return Heard("", "", t0, t1, p, reason="not a command")
        if label not in self.known:
            return Heard("", label, t0, t1, p, reason="not a command of this voice pack")
        if prediction.probability < self.threshold:
            return Heard("", self._first_phrase[label], t0, t1, p, reason="low confidence")
        return Heard(label, self._first_phrase[label], t0, t1, command_confidence(p, self.threshold))

    def _decode(self, segment: SpeechSegment) -> Heard:
        return self.decide(segment, self.classify(segment))
