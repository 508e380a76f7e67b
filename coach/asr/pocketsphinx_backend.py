"""pocketsphinx with its embedded US-English model: the engine that works on a fresh machine.

A plain command grammar forces every sound onto a command (it fired on 92 % of ordinary sentences).
Here each speech segment cut by `segmenter.EnergySegmenter` is decoded by one warm decoder with a
small n-gram model of the command phrases plus ~200 everyday filler words: ordinary speech comes
out as fillers. A command is reported only when the whole segment decodes to exactly one phrase
and the segment is short enough to be that phrase. Fillers one phone away from a command word
("one" for "done", "now" for "how", "can" for "can't") are left out: they would steal the command.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coach.asr.base import Heard, Word
from coach.asr.phrases import FILLER_WORDS_EN, PhraseError, PhraseTable, filler_lm_text, normalise
from coach.asr.segmenter import EnergySegmenter, SegmentedRecognizer, SegmenterConfig, SpeechSegment
from coach.errors import ModelNotFoundError

RATE_HZ = 16_000
_SEARCH = "commands"
_ARPA_CACHE: dict[str, str] = {}                             # LM training text -> ARPA text
_SHM = Path("/dev/shm")                                      # memory, where Linux has it


@dataclass(frozen=True)
class PocketsphinxTuning:
    """Acceptance settings, tuned on the development corpus (scripts/bench_recognition.py)."""

    phrase_weight: int = 10          # LM weight of the phrases against the fillers
    max_s_base: float = 0.45         # a phrase lasts at most base + per_phone * phones seconds
    max_s_per_phone: float = 0.11
    min_confidence: float = 0.0      # drop results whose reported confidence is below this
    accepted_floor: float = 0.6      # confidence of an accepted phrase with posterior 0
    # Extra pocketsphinx.Config settings. No second (flat-lexicon) pass: 35 % less CPU, -2 points in noise.
    decoder_options: tuple[tuple[str, object], ...] = (("fwdflat", False),)


@dataclass(frozen=True)
class SegmentScore:
    """What the decoder made of one segment; kept for tuning and tests."""

    t_start: float
    t_end: float
    hypothesis: str
    command: str | None
    confidence: float
    accepted: bool
    reason: str                      # "ok", "too long", "not a phrase", "too long for phrase", ...
    words: tuple[Word, ...] = ()     # the decoded words, aligned (stream seconds)


def _cache_dir() -> Path:
    """Derived data, safe to delete: $XDG_CACHE_HOME/coach (~/.cache/coach)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "coach"


def _arpa_cache_path(text: str) -> Path:
    """Keyed by the LM text."""
    import hashlib

    return _cache_dir() / f"commands-{hashlib.sha256(text.encode()).hexdigest()[:16]}.arpa"


def _scratch_folders() -> list[Path]:
    """Where a file the decoder must read can go: the cache folder, the temp folder (none at all on a
    full one-partition disk: `gettempdir` raises), then /dev/shm (memory)."""
    temp = _temp_folder()
    return [_cache_dir(), *([temp] if temp is not None else []), *([_SHM] if _SHM.is_dir() else [])]


def _temp_folder() -> Path | None:
    try:
        return Path(tempfile.gettempdir())
    except OSError:
        return None


@contextmanager
def _arpa_file(text: str, arpa: str) -> Iterator[Path]:
    """A file holding `arpa` for `add_lm_file`: the cached copy when it is there, else a temporary
    one in the first scratch folder that takes it. ModelNotFoundError, naming them, when none does."""
    cached = _arpa_cache_path(text)
    try:
        use_cached = cached.stat().st_size == len(arpa.encode("utf-8"))
    except OSError:
        use_cached = False
    if use_cached:
        yield cached
        return
    tried = []
    for folder in _scratch_folders():
        name = ""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(suffix=".arpa", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(arpa)
        except OSError as err:
            if name:
                with suppress(OSError):
                    os.unlink(name)
            tried.append(f"{folder}: {err.strerror or err}")
            continue
        try:
            yield Path(name)
        finally:
            with suppress(OSError):
                os.unlink(name)
        return
    if _temp_folder() is None:
        tried.insert(1, "$TMPDIR, /tmp, /var/tmp: no usable temp folder")
    raise ModelNotFoundError(f"pocketsphinx needs its command language model ({len(arpa) // 1024 + 1} KB) "
                             f"in a file and no folder would take it ({'; '.join(tried)}); free some "
                             "space or set TMPDIR to a writable folder")


def small_dictionary(full: Path, words: set[str]) -> Path:
    """A pronunciation dictionary with only `words` (and their alternative pronunciations), cut
    from `full` once and kept in the cache folder (or a temporary folder if that is read-only).
    Words missing from `full` are simply absent: `_check_words` reports them."""
    import hashlib

    key = hashlib.sha256("\n".join([str(full), *sorted(words)]).encode()).hexdigest()[:16]
    for folder in _scratch_folders():
        path = folder / f"dict-{key}.dict"
        if path.is_file():
            return path
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            lines = [line for line in full.read_text(encoding="utf-8").splitlines()
                     if line.split(" ", 1)[0].split("(", 1)[0] in words]
            folder.mkdir(parents=True, exist_ok=True)
            tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
            tmp.replace(path)
            return path
        except OSError:
            with suppress(OSError):
                tmp.unlink()
            continue
    return full


def _read_cached_arpa(text: str) -> str | None:
    try:
        return _arpa_cache_path(text).read_text(encoding="utf-8")
    except OSError:
        return None


def _write_cached_arpa(text: str, arpa: str) -> None:
    """Best effort: a read-only home only costs the 3 s again next time."""
    path = _arpa_cache_path(text)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(arpa, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        with suppress(OSError):
            tmp.unlink()                # a full disk leaves no half-written copy behind


class PocketsphinxRecognizer(SegmentedRecognizer):
    """The `Recognizer` for pocketsphinx; one instance per audio stream (it adapts to the room)."""

    name = "pocketsphinx"
    rate_hz = RATE_HZ

    def __init__(
        self,
        phrases: Mapping[str, list[str]],
        *,
        tuning: PocketsphinxTuning | None = None,
        segmenter: SegmenterConfig | None = None,
        dither_lsb: float = 2.0,
        model_dir: Path | None = None,
    ) -> None:
        try:
            import pocketsphinx  # heavy: import only when used
        except ImportError as err:
            raise ModelNotFoundError(
                f"no speech recognizer is installed: pocketsphinx is missing ({err}); install it with "
                "`pip install pocketsphinx` (scripts/setup does)") from err

        self.tuning = tuning or PocketsphinxTuning()
        self.table = PhraseTable.from_mapping(phrases)
        self.model = "bundled en-us" if model_dir is None else str(model_dir)
        model_root = Path(pocketsphinx.get_model_path())
        hmm = model_dir or model_root / "en-us" / "en-us"
        if not hmm.is_dir():
            raise ModelNotFoundError(f"pocketsphinx model folder {hmm} is missing; reinstall pocketsphinx")
        # Only the phrase and filler words: the full 135k-word dictionary made loading the decoder
        # and its language-model search take ~3 s (the search is sized by the dictionary).
        words = {*self.table.words, *FILLER_WORDS_EN}
        self._decoder = pocketsphinx.Decoder(
            samprate=RATE_HZ,
            hmm=str(hmm),
            dict=str(small_dictionary(model_root / "en-us" / "cmudict-en-us.dict", words)),
            # No default language model: pocketsphinx would load its 27 MB en-us.lm.bin (55 MB of
            # RSS) only for the phrase model below to replace it.
            lm=None,
            loglevel="FATAL",
            **dict(self.tuning.decoder_options),
        )
        self._phone_counts = self._check_words()
        self._add_language_model()
        self._segmenter = EnergySegmenter(segmenter)
        self._dither_lsb = dither_lsb
        self._rng = np.random.default_rng(0)                  # fixed: replays stay identical
        self._n_samples = 0
        self.scores: list[SegmentScore] = []                  # every segment, if keep_scores
        self.keep_scores = False

    def _add_language_model(self) -> None:
        from pocketsphinx.lm import ArpaBoLM

        command_prons = {
            tuple(self._decoder.lookup_word(w).split()) for p in self.table.phrases for w in p.split()
        }
        fillers = [
            w for w in FILLER_WORDS_EN
            if (pron := self._decoder.lookup_word(w)) is not None
            and not any(_one_phone_apart(tuple(pron.split()), c) for c in command_prons)
        ]
        text = filler_lm_text(self.table, fillers, self.tuning.phrase_weight)
        arpa = _ARPA_CACHE.get(text) or _read_cached_arpa(text)
        if arpa is None:                                      # ~3 s in pure Python: once, then cached
            model = ArpaBoLM(text=text, add_start=True)
            model.compute()
            buffer = io.StringIO()
            model.write(buffer)
            arpa = buffer.getvalue()
            _write_cached_arpa(text, arpa)
        _ARPA_CACHE[text] = arpa
        with _arpa_file(text, arpa) as path:
            self._decoder.add_lm_file(_SEARCH, str(path))
        self._decoder.activate_search(_SEARCH)

    def _check_words(self) -> dict[str, int]:
        """Phones per phrase; a word without a pronunciation is a voice-pack error."""
        counts: dict[str, int] = {}
        for phrase in self.table.phrases:
            total = 0
            for word in phrase.split():
                pron = self._decoder.lookup_word(word)
                if pron is None:
                    command = self.table.by_phrase[phrase]
                    raise PhraseError(command, phrase, f"the word `{word}` in `{phrase}` is not in the "
                                      "pocketsphinx dictionary; choose another phrase")
                total += len(pron.split())
            counts[phrase] = total
        return counts

    def _decode_all(self, segments: list[SpeechSegment]) -> list[Heard]:
        self._keep(segments)                                  # for `decode_from`
        heard = []
        for segment in segments:
            score = self._score(segment)
            if self.keep_scores:
                self.scores.append(score)
            accepted = score.accepted and score.command is not None
            heard.append(Heard(
                command=score.command if accepted and score.command is not None else "",
                phrase=score.hypothesis,
                t_start=round(score.t_start, 3),
                t_end=round(score.t_end, 3),
                confidence=round(score.confidence, 3),
                reason="" if accepted else score.reason,
                words=score.words,
            ))
        return heard

    def _score(self, segment: SpeechSegment) -> SegmentScore:
        aligned: list[tuple[str, float, float]] = []

        def verdict(hyp: str, command: str | None, confidence: float, why: str) -> SegmentScore:
            return SegmentScore(segment.t_start, segment.t_end, hyp, command, confidence, why == "ok", why,
                                _words(aligned))

        if segment.too_long:
            return verdict("", None, 0.0, "too long")
        d = self._decoder
        d.start_utt()
        d.process_raw(self._dither(segment.pcm).tobytes(), full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        aligned = self._aligned(segment)
        text = normalise(hyp.hypstr) if hyp is not None else ""
        command = self.table.command_for(text) if text else None
        if command is None or hyp is None:
            return verdict(text, None, 0.0, "not a phrase")
        t = self.tuning
        max_s = t.max_s_base + t.max_s_per_phone * self._phone_counts[text]
        if segment.t_end - segment.t_start > max_s:
            return verdict(text, command, 0.0, "too long for phrase")
        # The phrase already beat every filler sentence, so it starts at `accepted_floor` (above the
        # listener's 0.55); the lattice posterior, poorly calibrated and often ~0.2, adds the rest.
        confidence = t.accepted_floor + (1 - t.accepted_floor) * math.sqrt(_clamp01(hyp.prob))
        if confidence < t.min_confidence:
            return verdict(text, command, confidence, "low confidence")
        return SegmentScore(_speech_start(segment, aligned), segment.t_end, text, command, confidence, True,
                            "ok", _words(aligned))

    def _aligned(self, segment: SpeechSegment) -> list[tuple[str, float, float]]:
        """The last decoded utterance's words as the decoder spelled them, with start and end in
        stream seconds; fillers and silences (`<s>`, `[NOISE]`, `+BREATH+`) left out."""
        return [(word.word, segment.t_audio_start + word.start_frame * 0.01,
                 segment.t_audio_start + (word.end_frame + 1) * 0.01)
                for word in self._decoder.seg() or [] if not word.word.startswith(("<", "[", "+"))]

    def _dither(self, pcm: np.ndarray) -> np.ndarray:
        """A few LSB of noise: exact digital silence breaks pocketsphinx (95 % -> 65 %)."""
        if self._dither_lsb <= 0:
            return pcm.astype("<i2")
        noise = self._rng.normal(0.0, self._dither_lsb, len(pcm))
        return np.clip(pcm.astype(np.float64) + noise, -32768, 32767).astype("<i2")


def _words(aligned: list[tuple[str, float, float]]) -> tuple[Word, ...]:
    """The aligned words as `Heard.words`: normalised ("ready(2)" is "ready"), times to the ms."""
    return tuple(Word(text, round(t0, 3), round(t1, 3)) for spelled, t0, t1 in aligned
                 if (text := normalise(spelled.split("(", 1)[0])))


def _speech_start(segment: SpeechSegment, aligned: list[tuple[str, float, float]]) -> float:
    """The first word's start from the decoder's alignment; the segmenter's onset can sit on a noise
    bump before the word (brown noise: 0.3 s early). Holds are measured to this."""
    if aligned and segment.t_start - 0.05 <= aligned[0][1] <= segment.t_end:
        return aligned[0][1]
    return segment.t_start


def _clamp01(value: float) -> float:
    return 0.0 if math.isnan(value) else min(1.0, max(0.0, float(value)))


def _one_phone_apart(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Same phones but one substituted, inserted or deleted (not identical)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
