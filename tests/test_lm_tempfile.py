"""Issue 11: voice mode on a full temp folder. pocketsphinx reads its command language model from a
file; that file went to $TMPDIR with `mkstemp`, and a full disk there raised `OSError: No space
left on device` with a traceback. Now the model is read from the cache folder where it is kept
anyway, else written to the cache folder, $TMPDIR or /dev/shm (memory), in that order; when none
takes it, one line names the folders.

The slow test uses real full filesystems: small tmpfs mounts, filled, in a private mount namespace
(`unshare -rm`), and the real `coach listen`. The quick ones walk the same fallback order with
folders that cannot be written (a file where the cache folder should be, a temp folder that is gone).
"""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import pytest
from conftest import ROOT, needs_mount

from coach.asr import pocketsphinx_backend as ps
from coach.errors import ModelNotFoundError

ARPA = "\\data\\\nngram 1=1\n\n\\1-grams:\n-1.0 <s>\n\n\\end\\\n"


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """The cache folder and the temp folder are inside a file: the first two choices fail."""
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    monkeypatch.setattr(ps.tempfile, "tempdir", str(tmp_path / "a-file" / "tmp"))
    return tmp_path


def test_the_model_file_falls_back_to_memory_and_is_removed_after(nowhere, monkeypatch):
    shm = nowhere / "shm"
    shm.mkdir()
    monkeypatch.setattr(ps, "_SHM", shm)
    with ps._arpa_file("text", ARPA) as path:
        assert path.parent == shm and path.read_text() == ARPA
    assert list(shm.iterdir()) == []


def test_the_cached_copy_is_read_in_place(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(ps.tempfile, "tempdir", str(tmp_path / "gone"))
    ps._write_cached_arpa("text", ARPA)
    with ps._arpa_file("text", ARPA) as path:
        assert path == ps._arpa_cache_path("text")
    assert path.read_text() == ARPA                                     # the cache is kept


def test_when_nothing_takes_it_one_line_names_every_folder(nowhere, monkeypatch):
    monkeypatch.setattr(ps, "_SHM", nowhere / "a-file")                 # not a folder: skipped
    with pytest.raises(ModelNotFoundError) as caught, ps._arpa_file("text", ARPA):
        pass
    message = str(caught.value)
    assert "\n" not in message and str(nowhere / "a-file" / "coach") in message
    assert str(nowhere / "a-file" / "tmp") in message and "TMPDIR" in message



def _quiet_wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(b"\0\0" * 8_000)
    return path


@pytest.mark.slow        # ~7 s: the language model is built twice (once per empty cache)
@needs_mount
def test_voice_mode_starts_with_a_full_tmpdir_and_says_one_line_when_nothing_is_writable(tmp_path):
    """A one-partition machine with a full disk: $TMPDIR, /tmp, /var/tmp and the working folder are
    all full (so Python has no temp folder at all), the cache folder fine or full, /dev/shm fine or
    full. tmp_path is bind-mounted at /mnt first, since a tmpfs is mounted over /tmp."""
    _quiet_wav(tmp_path / "quiet.wav")
    for folder in ("full", "cache-full", "out", "cache"):
        (tmp_path / folder).mkdir()
    k = "/mnt"                      # tmp_path inside the namespace
    listen = (f"{sys.executable} -m coach listen --engine pocketsphinx --data-dir {k}/data {k}/quiet.wav")
    full_env = f"TMPDIR={k}/full"

    def fill(where: str, size: str = "256k") -> str:
        return (f"mount -t tmpfs -o size={size} tmpfs {where}; "
                f"dd if=/dev/zero of={where}/fill bs=4k 2>/dev/null || true")

    def run(n: int, cache: str) -> str:
        return (f"(cd /tmp && {full_env} XDG_CACHE_HOME={cache} {listen} > {k}/out/{n}.out "
                f"2> {k}/out/{n}.err; echo $? > {k}/out/{n}.rc)")

    script = "\n".join([
        "set -e", f"mount --bind {tmp_path} {k}",
        fill(f"{k}/full"), fill("/tmp"), fill("/var/tmp"), "set +e",
        # 1: every temp folder full, the cache folder fine (the model is cached there and read from it)
        run(1, f"{k}/cache"),
        # 3: the cache folder full too: the model goes through /dev/shm
        fill(f"{k}/cache-full"), run(3, f"{k}/cache-full"),
        # 4: /dev/shm full as well: one line naming where it tried
        fill("/dev/shm", "64k"), run(4, f"{k}/cache-full"),
    ])
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=str(ROOT), capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"

    def outcome(n: int) -> tuple[int, str]:
        err = (out / f"{n}.err").read_text()
        assert "Traceback" not in err and "OSError" not in err, err
        return int((out / f"{n}.rc").read_text()), err

    for n in (1, 3):
        rc, err = outcome(n)
        assert rc == 0, (n, err)
        assert (out / f"{n}.out").read_text() == "", n           # silence: nothing heard, no error
    assert list((tmp_path / "cache" / "coach").glob("commands-*.arpa"))
    rc, err = outcome(4)
    last = err.strip().splitlines()[-1]
    assert rc != 0 and last.startswith("coach: error: ") and len(err.strip().splitlines()) == 2, err
    assert f"{k}/cache-full/coach" in last and "/dev/shm" in last and "No space left on device" in last, last
