"""vosk (Kaldi) with a downloaded model and a runtime grammar of the command phrases.

vosk's grammar is a loop over the phrases' words plus a garbage word, so it happily returns
"stop next" or a lone second word of a phrase: only a result whose whole text is one phrase, with
every word's confidence above the threshold, is a command. Speech is cut by the same energy
segmenter as pocketsphinx, so a command is final one hangover after it ends (vosk's own endpointer
waits 0.5 s) and silence is never decoded.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.asr.base import Heard
from coach.asr.phrases import PhraseError, PhraseTable, vosk_grammar
from coach.asr.segmenter import EnergySegmenter, SegmentedRecognizer, SegmenterConfig, SpeechSegment
from coach.errors import ModelNotFoundError

RATE_HZ = 16_000
_GARBAGE_WORDS = ("[unk]", "<unk>", "<UNK>")          # the spelling differs between models
_FST_MAGIC = 2125659606
_SYMBOLS_MAGIC = 2125658996


@dataclass(frozen=True)
class VoskTuning:
    min_word_confidence: float = 0.7  # every word of the phrase must be at least this sure


def load_model(model_path: Path) -> Any:
    """A `vosk.Model`, or `ModelNotFoundError` with one line that says what to do."""
    import vosk

    vosk.SetLogLevel(-1)
    hint = "download a vosk model and unpack it there (or set COACH_VOSK_MODEL)"
    if not (model_path / "am" / "final.mdl").is_file() or not (model_path / "conf").is_dir():
        raise ModelNotFoundError(f"no vosk model in {model_path}: {hint}")
    try:
        return vosk.Model(str(model_path))
    except Exception as err:                          # vosk raises a bare Exception
        raise ModelNotFoundError(f"vosk could not load the model in {model_path} ({err}): {hint}") from None


def model_vocabulary(model_path: Path) -> set[str] | None:
    """The model's words: graph/words.txt, or the symbol table inside graph/Gr.fst; None if neither."""
    words_txt = model_path / "graph" / "words.txt"
    if words_txt.is_file():
        lines = words_txt.read_text(encoding="utf-8", errors="replace").splitlines()
        return {line.split()[0] for line in lines if line.strip()}
    gr_fst = model_path / "graph" / "Gr.fst"
    if gr_fst.is_file():
        return _fst_output_symbols(gr_fst)
    return None


def _fst_output_symbols(path: Path) -> set[str] | None:
    """Read the symbol table an OpenFst binary header embeds (the Korean model has no words.txt)."""
    with path.open("rb") as f:
        head = f.read(1 << 16)
        at = head.find(struct.pack("<i", _SYMBOLS_MAGIC))
        if struct.unpack("<i", head[:4])[0] != _FST_MAGIC or at < 0:
            return None
        f.seek(at + 4)
        (name_len,) = struct.unpack("<i", f.read(4))
        f.seek(name_len, 1)
        _available, size = struct.unpack("<qq", f.read(16))
        words = set()
        data = f.read(min(size * 64, 1 << 27))
        pos = 0
        for _ in range(size):
            (n,) = struct.unpack_from("<i", data, pos)
            words.add(data[pos + 4 : pos + 4 + n].decode("utf-8", errors="replace"))
            pos += 4 + n + 8
        return words


class VoskRecognizer(SegmentedRecognizer):
    """The `Recognizer` for vosk. `model` may be a loaded `vosk.Model` to share one between streams."""

    name = "vosk"
    rate_hz = RATE_HZ

    def __init__(
        self,
        model_path: Path,
        phrases: Mapping[str, list[str]],
        *,
        tuning: VoskTuning | None = None,
        segmenter: SegmenterConfig | None = None,
        loaded_model: Any = None,
    ) -> None:
        import vosk

        self.model = str(model_path)
        self.tuning = tuning or VoskTuning()
        self.table = PhraseTable.from_mapping(phrases)
        self._model = loaded_model if loaded_model is not None else load_model(model_path)
        vocabulary = model_vocabulary(model_path)
        garbage = "[unk]"
        if vocabulary is not None:
            self._check_words(vocabulary)
            garbage = next((w for w in _GARBAGE_WORDS if w in vocabulary), "[unk]")
        self.grammar: list[str] = vosk_grammar(self.table, garbage)
        self._grammar = json.dumps(self.grammar, ensure_ascii=False)
        self._vosk = vosk
        self._recognizer = self._new_recognizer()
        self._segmenter = EnergySegmenter(segmenter)
        self._fed_s = 0.0                            # seconds of audio vosk has been given
        self._n_samples = 0

    def _check_words(self, vocabulary: set[str]) -> None:
        for phrase in self.table.phrases:
            for word in phrase.split():
                if word not in vocabulary:
                    command = self.table.by_phrase[phrase]
                    raise PhraseError(command, phrase, f"the word `{word}` in `{phrase}` is not in the vosk "
                                      f"model's vocabulary ({self.model}); choose another phrase")

    def _new_recognizer(self) -> Any:
        recognizer = self._vosk.KaldiRecognizer(self._model, RATE_HZ, self._grammar)
        recognizer.SetWords(True)
        return recognizer

    def _decode(self, segment: SpeechSegment) -> Heard:
        """The command, or a `Heard` with `command=""` and the reason it is none."""
        offset_s = segment.t_audio_start - self._fed_s       # vosk's clock -> stream time
        self._recognizer.AcceptWaveform(segment.pcm.astype("<i2").tobytes())
        self._fed_s += len(segment.pcm) / RATE_HZ
        result = json.loads(self._recognizer.FinalResult())
        words = result.get("result") or []
        text = " ".join(w["word"] for w in words)
        command = self.table.command_for(text) if words else None
        confidence = min((float(w.get("conf", 0.0)) for w in words), default=0.0)

        def none(reason: str) -> Heard:
            return Heard("", text, round(segment.t_start, 3), round(segment.t_end, 3),
                         round(confidence, 3), reason=reason)

        if command is None:
            return none("not a phrase")
        if confidence < self.tuning.min_word_confidence:
            return none("low confidence")
        return Heard(
            command=command,
            phrase=text,
            t_start=round(float(words[0]["start"]) + offset_s, 3),
            t_end=round(float(words[-1]["end"]) + offset_s, 3),
            confidence=round(confidence, 3),
        )
