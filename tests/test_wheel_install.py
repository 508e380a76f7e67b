"""Issue 11, item 10: a wheel works away from the checkout. Before, a plain `pip install .` had no
voice packs (`coach say`: "no voice called en-us (available: none)"): they lived outside the package.

The wheel is built from a copy of the checkout, installed with --no-deps into a fresh virtual
environment in a temporary folder, and its dependencies come from this environment through a .pth
file (no network, no second copy of numpy). Every command runs with the temporary folder as its
working directory and no PYTHONPATH, and the test checks that `coach` is imported from the new
environment, not from the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import ROOT, SHORT_ROUTINE, load_script

pytestmark = pytest.mark.audio

_IGNORE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
                                 ".hypothesis", "out")

make_session = load_script("make_session_wav")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=_IGNORE)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    str(src), "-w", str(base / "dist")], check=True, capture_output=True, timeout=300)
    (wheel,) = (base / "dist").glob("coach-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True, timeout=300)
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz-coach-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    shutil.rmtree(src)                          # nothing of the checkout's copy is left to lean on
    data = base / "data"
    (data / "routines").mkdir(parents=True)
    (data / "routines" / "short.yaml").write_text(SHORT_ROUTINE)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(COACH_DATA_DIR=str(data), PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
    return base, env


def coach(base: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([str(base / "venv" / "bin" / "coach"), *args], cwd=str(base), env=env,
                         capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert out.returncode == 0 and "Traceback" not in out.stderr, (args, out.stdout, out.stderr)
    return out


def test_the_wheel_imports_coach_from_the_new_environment(installed):
    base, env = installed
    out = subprocess.run([str(base / "venv" / "bin" / "python"), "-c", "import coach; print(coach.__file__)"],
                         cwd=str(base), env=env, capture_output=True, text=True, check=True)
    assert out.stdout.startswith(str(base / "venv")), out.stdout
    assert "en-us" in coach(base, env, "voices").stdout
    assert "glutes" in coach(base, env, "routines").stdout


def test_say_listen_and_a_replayed_session_from_the_wheel(installed):
    base, env = installed
    said = base / "said.wav"
    coach(base, env, "say", "Lift, and hold.", "--out", str(said))
    assert said.stat().st_size > 10_000
    wav = base / "ready.wav"
    make_session.make_session_wav(wav, [(1.0, "ready")], 4.0, voice="flite:rms")
    assert "ready" in coach(base, env, "listen", str(wav)).stdout
    session = base / "session.wav"
    make_session.make_session_wav(session, [(8.0, "ready")], 20.0, voice="flite:rms")
    out = coach(base, env, "run", "short", "--mic", str(session), "--quiet")
    assert "session ended: 1 hold recorded" in out.stdout, out.stdout
