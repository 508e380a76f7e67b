"""The code stays lint-clean and type-checks: ruff and mypy, as configured in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT


def tool(name: str) -> str:
    path = shutil.which(name, path=str(ROOT / ".venv" / "bin")) or shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (it is in the dev extra: scripts/setup installs it)")
    return path


def test_ruff_is_clean():
    out = subprocess.run([tool("ruff"), "check", "coach", "scripts", "tests"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]


def test_mypy_is_clean():
    out = subprocess.run([sys.executable, "-m", "mypy", "coach"], cwd=ROOT, capture_output=True, text=True)
    if "No module named mypy" in out.stderr:
        pytest.skip("mypy is not installed")
    assert out.returncode == 0, out.stdout[-3000:]
