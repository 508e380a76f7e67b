"""`coach listen`'s table: clean columns, and a command at the very first sample of a file is heard."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pocketsphinx", reason="pocketsphinx is not installed")

from coach.audio.wav import load_pcm16, write_wav  # noqa: E402
from coach.runner import listen as listen_module  # noqa: E402

CLIP = Path(__file__).parent / "data" / "asr" / "ready.wav"


def no_lead(path: Path) -> Path:
    """The clip from its first loud sample on: speech begins at sample 0; quiet noise after it."""
    pcm = np.asarray(load_pcm16(CLIP))
    first = int(np.argmax(np.abs(pcm.astype(np.int32)) > 500))
    tail = np.random.default_rng(1).normal(0, 20, 12800).astype(np.int16)
    write_wav(path, np.concatenate([pcm[first:], tail]), 16000)
    return path


@pytest.mark.audio
def test_a_command_at_the_first_sample_is_heard_and_the_table_is_clean(tmp_path) -> None:
    short = no_lead(tmp_path / "a.wav")
    long = no_lead(tmp_path / "a-much-longer-name.wav")
    assert np.abs(np.asarray(load_pcm16(short))[:40].astype(np.int32)).max() > 500    # no leading silence
    out, err = io.StringIO(), io.StringIO()
    listen_module.listen([short, long], False, "en-us", "pocketsphinx", None, None, tmp_path,
                         {"XDG_CACHE_HOME": str(tmp_path / "cache")}, out=out, err=err)
    rows = out.getvalue().splitlines()
    assert len(rows) == 2, out.getvalue()
    for row, name in zip(rows, (short, long), strict=True):
        assert row == row.rstrip() and not row.startswith(" ")
        cells = re.split(r" {2,}", row)
        assert cells[0] == str(name) and cells[2] == "ready", row
        assert re.fullmatch(r"\d+\.\d\d-\d+\.\d\d", cells[1]), row      # no space inside the times
        assert re.fullmatch(r'"ready" \(\d\.\d\d\)', cells[3]), row
        start = float(cells[1].split("-")[0])
        # Heard, and never before the file. Its start is late (0.32 s for this clip): the noise floor
        # starts at the first frame's level, so the first syllable is taken for the floor.
        assert 0.0 <= start <= 0.4
    assert rows[0].index("ready") == rows[1].index("ready")             # columns line up
