"""Writing a report file that only its owner can read."""

from __future__ import annotations

import os
from pathlib import Path

from coach.errors import UsageError

PRIVATE_MODE = 0o600


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` with mode 0600, also when the file already existed with another mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
        try:
            os.fchmod(fd, PRIVATE_MODE)
        except OSError:
            os.close(fd)
            raise
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError as err:
        raise UsageError(f"{path}: cannot write the report ({err.strerror or err})") from err
