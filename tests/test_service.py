"""scripts/install-service and scripts/uninstall-service: the systemd user unit they write and remove.

They run for real, with HOME and the unit folder in tmp_path and without systemctl (--no-enable,
--no-disable), so nothing on this machine changes. `systemd-analyze verify` checks the unit where
it is installed and works (in a container it may be missing, or unable to start a manager).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
INSTALL = REPO / "scripts" / "install-service"
UNINSTALL = REPO / "scripts" / "uninstall-service"
COACH = REPO / ".venv" / "bin" / "coach"


def run(script: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CONFIG_HOME", "COACH_VENV")}
    env["HOME"] = str(home)
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True, env=env, timeout=30)


def unit_settings(text: str) -> dict[str, str]:
    """`Key=value` lines of the unit (later keys would win in systemd, so duplicates are an error)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            key, value = line.split("=", 1)
            assert key not in found, f"{key} set twice"
            found[key] = value
    return found


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    if not COACH.exists():
        pytest.skip(f"{COACH} is not there (run scripts/setup)")
    units = tmp_path / "units"
    done = run(INSTALL, "--user-unit-dir", str(units), "--no-enable", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines()[0] == f"install-service: wrote {units}/coach.service (runs {COACH} serve)"
    assert "systemctl --user enable --now coach.service" in done.stdout       # what to run instead
    assert "loginctl enable-linger" in done.stdout
    return units / "coach.service"


def test_install_writes_the_unit(installed: Path) -> None:
    text = installed.read_text()
    assert text.startswith("# Written by coach's scripts/install-service;")
    settings = unit_settings(text)
    exec_start = shlex.split(settings["ExecStart"])
    assert exec_start == [str(COACH), "serve"]
    assert Path(exec_start[0]).resolve().is_relative_to(REPO.resolve()) and Path(exec_start[0]).is_file()
    assert settings["WorkingDirectory"] == str(REPO)
    assert (settings["Restart"], settings["RestartSec"]) == ("on-failure", "5")
    assert settings["StandardOutput"] == settings["StandardError"] == "journal"
    assert settings["Environment"] == "PYTHONUNBUFFERED=1"
    assert settings["WantedBy"] == "default.target"
    assert oct(installed.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in installed.parent.iterdir()] == ["coach.service"]    # no temporary file left


def test_unit_passes_systemd_analyze_verify(installed: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    done = subprocess.run([analyze, "verify", str(installed)], capture_output=True, text=True, timeout=60)
    if done.returncode != 0 and ("Failed to initialize manager" in done.stderr
                                 or "Failed to connect to bus" in done.stderr):
        pytest.skip(f"systemd-analyze cannot run here: {done.stderr.strip().splitlines()[-1]}")
    assert (done.returncode, done.stderr) == (0, "")


def test_install_twice_changes_nothing(installed: Path, tmp_path: Path) -> None:
    before = installed.read_bytes(), installed.stat().st_mtime_ns
    done = run(INSTALL, "--user-unit-dir", str(installed.parent), "--no-enable", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"install-service: {installed} is already up to date"
    assert (installed.read_bytes(), installed.stat().st_mtime_ns) == before


def test_install_replaces_an_older_unit_of_its_own(installed: Path, tmp_path: Path) -> None:
    installed.write_text(installed.read_text().replace("RestartSec=5", "RestartSec=1"))
    done = run(INSTALL, "--user-unit-dir", str(installed.parent), "--no-enable", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "RestartSec=5" in installed.read_text()


def test_uninstall_removes_it_and_is_idempotent(installed: Path, tmp_path: Path) -> None:
    args = ("--user-unit-dir", str(installed.parent), "--no-disable")
    done = run(UNINSTALL, *args, home=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"uninstall-service: removed {installed}\n"), done.stderr
    assert not installed.exists()
    again = run(UNINSTALL, *args, home=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"uninstall-service: nothing to remove: {installed} does not exist\n"


def test_a_unit_written_by_someone_else_is_never_touched(tmp_path: Path) -> None:
    units = tmp_path / "units"
    units.mkdir()
    theirs = units / "coach.service"
    theirs.write_text("[Service]\nExecStart=/usr/bin/true\n")
    install = run(INSTALL, "--user-unit-dir", str(units), "--no-enable", home=tmp_path)
    uninstall = run(UNINSTALL, "--user-unit-dir", str(units), "--no-disable", home=tmp_path)
    for done, name in ((install, "install-service"), (uninstall, "uninstall-service")):
        assert done.returncode == 1
        assert done.stderr.startswith(f"{name}: {theirs} ")
        assert len(done.stderr.splitlines()) == 1
    assert theirs.read_text() == "[Service]\nExecStart=/usr/bin/true\n"


def test_default_folder_and_no_systemctl_needed(tmp_path: Path) -> None:
    """Without --user-unit-dir the unit goes under $HOME/.config/systemd/user; when systemctl cannot
    reach a user manager (a container, no login session) it says what to run instead."""
    if not COACH.exists():
        pytest.skip(f"{COACH} is not there (run scripts/setup)")
    probe = subprocess.run(["systemctl", "--user", "show-environment"], capture_output=True, timeout=10) \
        if shutil.which("systemctl") else None
    if probe is not None and probe.returncode == 0:
        pytest.skip("a user systemd manager answers here: the test would enable a real service")
    done = run(INSTALL, home=tmp_path)
    unit = tmp_path / ".config" / "systemd" / "user" / "coach.service"
    assert done.returncode == 0, done.stderr
    assert unit.is_file()
    assert "install-service: not starting it: " in done.stdout
    assert "systemctl --user enable --now coach.service" in done.stdout
    done = run(UNINSTALL, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not unit.exists()


@pytest.mark.parametrize("script", [INSTALL, UNINSTALL], ids=["install", "uninstall"])
def test_bad_arguments_give_one_line(script: Path, tmp_path: Path) -> None:
    done = run(script, "--frobnicate", home=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    flag = "--no-enable" if script == INSTALL else "--no-disable"
    assert done.stderr == (f"{script.name}: unknown option '--frobnicate' (usage: scripts/{script.name} "
                           f"[--user-unit-dir DIR] [{flag}])\n")
    missing = run(script, "--user-unit-dir", home=tmp_path)
    assert missing.returncode == 1 and len(missing.stderr.splitlines()) == 1
    assert missing.stderr.startswith(f"{script.name}: --user-unit-dir needs a folder")


def test_install_without_a_venv_says_to_run_setup(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "COACH_VENV": str(tmp_path / "no-venv")}
    done = subprocess.run(["bash", str(INSTALL), "--user-unit-dir", str(tmp_path / "u"), "--no-enable"],
                          capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 1
    coach = tmp_path / "no-venv" / "bin" / "coach"
    assert done.stderr == f"install-service: {coach} not found: run scripts/setup first\n"
    assert not (tmp_path / "u").exists()


def test_scripts_are_executable_and_strict() -> None:
    for script in (INSTALL, UNINSTALL):
        assert os.access(script, os.X_OK)
        assert "set -euo pipefail" in script.read_text()
        assert subprocess.run(["bash", "-n", str(script)], timeout=10).returncode == 0
