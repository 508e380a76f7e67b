"""Trust on first use for archives the catalog can only check by md5.

The official list publishes md5 sums; sha256 sums were found for only some archives. md5 still
catches a broken download, but not a deliberately altered archive. So the first time an archive
passes the catalog's check (md5, or nothing with --allow-unverified), its sha256 is written to
`<models_dir>/PINNED-SHA256` (`sha256sum` format: `<hex>  <name>.zip`), and every later download of
that name must have the same sha256: a changed mirror or model list cannot swap the archive
afterwards. This is not the same as a sha256 published in advance; `coach models list` says which
entries have which.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from coach.errors import ModelDownloadError
from coach.models import settings

_LINE = re.compile(r"([0-9a-f]{64})  (\S+)\.zip")


def pins_path(models_dir: Path) -> Path:
    return models_dir / settings.PINS_NAME


def read_pins(models_dir: Path) -> dict[str, str]:
    """{model name: sha256} pinned so far; lines that are not pins (comments, damage) are skipped."""
    try:
        text = pins_path(models_dir).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    pins: dict[str, str] = {}
    for line in text.splitlines():
        match = _LINE.fullmatch(line.strip())
        if match is not None:
            pins.setdefault(match.group(2), match.group(1))
    return pins


def pin(models_dir: Path, name: str, sha256: str) -> None:
    """Add `name`'s sha256 (an existing pin for it is kept: `check_pin` refuses a different one)."""
    pins = read_pins(models_dir)
    pins.setdefault(name, sha256.lower())
    lines = ["# sha256 of model archives the catalog checks by md5 only, pinned at first download",
             "# by `coach models download`; delete a line to accept a new archive for that model"]
    lines += [f"{digest}  {model}.zip" for model, digest in sorted(pins.items())]
    path = pins_path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def check_pin(models_dir: Path, name: str, sha256: str) -> str:
    """Compare with the pin and pin a first download: "matches the pin" or "pinned now".

    Raises ModelDownloadError when a pin exists and differs (the caller deletes the download)."""
    pinned = read_pins(models_dir).get(name)
    if pinned is None:
        pin(models_dir, name, sha256)
        return "pinned now"
    if pinned != sha256.lower():
        raise ModelDownloadError(
            f"{name}.zip has sha256 {sha256}, but {pinned} was pinned at its first download "
            f"({pins_path(models_dir)}); the archive changed upstream or the mirror serves another one; "
            "the download was deleted (delete that line to accept the new archive)")
    return "matches the pin"
