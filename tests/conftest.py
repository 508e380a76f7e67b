"""Shared fixtures. Real files only: the shipped voice pack and routines are loaded, not faked."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))      # tests/helpers, tests/live_fixtures

from live_fixtures import virtual_audio  # noqa: E402,F401 - the PulseAudio fixture, for every test file

from coach.routine.model import CueTiming, Exercise, RestRange, Routine  # noqa: E402
from coach.voice import load_voice  # noqa: E402

COACH = [sys.executable, "-m", "coach"]


def load_script(name: str):  # noqa: ANN201 - a module
    """scripts/NAME.py as a module (registered in sys.modules: its dataclasses need it)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def shipped_voice():
    return load_voice(ROOT / "voices" / "en-us.yaml")


@pytest.fixture(scope="session")
def voice(shipped_voice):
    """The shipped voice with every cue in words (no tones), so core tests read what is said."""
    from dataclasses import replace

    from coach.session.wording import Earcons

    return replace(shipped_voice, earcons=Earcons())


def make_routine(hold_s: float = 10, sets: int = 2, rest: tuple[float, float] = (3, 6),
                 cues: CueTiming | None = None, setup: bool = True) -> Routine:
    exercises = []
    if setup:
        exercises.append(Exercise("position", "Get in position", "setup", ("Lie down.",)))
    exercises.append(Exercise("bridge", "Bridge", "hold", ("Lift your hips.",), hold_s=hold_s, sets=sets,
                              rest=RestRange(*rest), short_hold=("Noted.",)))
    return Routine(name="test", title="Test routine", summary="test", exercises=tuple(exercises),
                   cues=cues or CueTiming(), sessions_per_day_min=1, sessions_per_day_max=2,
                   intro=(), outro=("Bye.",), source=Path("test.yaml"))


SHORT_ROUTINE = """\
title: Short test
summary: Two 3-second holds with 2 s rest.
cues: {get_set_s: 1}
ask_effort: false       # "how did that feel?" would wait 30 s for an answer; tests/test_feel*.py ask it
exercises:
  - id: bridge
    title: Bridge
    say: "Lift your hips."
    hold_s: 3
    sets: 2
    rest_s: 2
"""


@pytest.fixture
def data_dir(tmp_path):
    """A fresh data directory holding the short routine `short`."""
    d = tmp_path / "data"
    (d / "routines").mkdir(parents=True)
    (d / "routines" / "short.yaml").write_text(SHORT_ROUTINE)
    return d


@pytest.fixture
def coach_env(data_dir):
    env = dict(os.environ)
    env["COACH_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = str(ROOT)
    return env


def can_mount_tmpfs() -> bool:
    """Whether tests may fill a real filesystem: a private tmpfs under `unshare -rm` (a full disk)."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


needs_mount = pytest.mark.skipif(not can_mount_tmpfs(), reason="needs unshare -rm and tmpfs mounts")
