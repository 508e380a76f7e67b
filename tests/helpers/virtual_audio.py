"""What `scripts/virtual-audio start|env` prints, read back: the tests' fixture and the budget
benchmark point their clients at the private PulseAudio server with it."""

from __future__ import annotations

import re


def exports(text: str) -> dict[str, str]:
    """The `export NAME='VALUE'` lines as a mapping."""
    return dict(re.findall(r"^export (\w+)='([^']*)'$", text, flags=re.MULTILINE))
