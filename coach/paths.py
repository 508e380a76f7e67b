"""Where coach keeps its files. The data directory is chosen once, at the edge, and passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO, TextIO

from coach.defaults import DB_NAME, ENV_DATA_DIR, MODELS_SUBDIR


def data_dir(explicit: Path | None, env: Mapping[str, str]) -> Path:
    """`--data-dir`, else $COACH_DATA_DIR, else $XDG_DATA_HOME/coach, else ~/.local/share/coach."""
    if explicit is not None:
        return explicit.expanduser()
    if env.get(ENV_DATA_DIR):
        return Path(env[ENV_DATA_DIR]).expanduser()
    xdg = env.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "coach"


def ensure_private_dir(path: Path) -> Path:
    """Create the folder readable by the user only (it holds their health history)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def db_path(data: Path) -> Path:
    return data / DB_NAME


def routines_dir(data: Path) -> Path:
    return data / "routines"


def voices_dir(data: Path) -> Path:
    return data / "voices"


def models_dir(data: Path) -> Path:
    return data / MODELS_SUBDIR


def open_private(path: Path, newline: str | None = None) -> TextIO:
    """Open `path` for writing UTF-8 text, created (or truncated) readable by the user only (0600):
    what coach writes holds the user's health data or voice. Raises OSError."""
    return os.fdopen(_private_fd(path), "w", encoding="utf-8", newline=newline)


def open_private_binary(path: Path) -> BinaryIO:
    """`open_private` for bytes (recordings, charts)."""
    return os.fdopen(_private_fd(path), "wb")


def _private_fd(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)        # a file that was there before keeps no wider mode
    except OSError:
        pass
    return fd


__all__ = ["data_dir", "db_path", "ensure_private_dir", "models_dir", "open_private", "open_private_binary",
           "routines_dir", "voices_dir"]
