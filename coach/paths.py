"""Where coach keeps its files. The data directory is chosen once, at the edge, and passed in."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

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


__all__ = ["data_dir", "db_path", "ensure_private_dir", "models_dir", "routines_dir", "voices_dir"]
