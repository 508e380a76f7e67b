"""Headless Chromium: the report as a PDF, and a screenshot (for tests and a quick look).

Chromium is optional (Debian `chromium`); without it `coach report` still writes the HTML and
says how to get a PDF. The flags keep it off the network and out of the user's own profile.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from coach.errors import UsageError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 90
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars")


def find_chromium() -> str | None:
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


def _run(html_path: Path, *extra: str) -> None:
    browser = find_chromium()
    if browser is None:
        raise UsageError("a PDF needs Chromium, which is not installed (Debian: apt-get install chromium); "
                         "the HTML report opens and prints in any browser")
    with tempfile.TemporaryDirectory(prefix="coach-chromium-") as profile:
        try:
            done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *extra,
                                   html_path.resolve().as_uri()], capture_output=True, text=True,
                                  timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as err:
            raise UsageError(f"Chromium did not finish within {TIMEOUT_S} s") from err
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise UsageError(f"Chromium failed (exit {done.returncode}): {last}")


def html_to_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print `html_path` to `pdf_path` (A4 by the page's own print CSS, no header or footer)."""
    _run(html_path, f"--print-to-pdf={pdf_path.resolve()}", "--no-pdf-header-footer")
    if not pdf_path.is_file():
        raise UsageError(f"Chromium wrote no PDF at {pdf_path}")


def screenshot(html_path: Path, png_path: Path, width_px: int = 412, height_px: int = 2400) -> None:
    """A PNG of the page at a phone's width (412 px by default)."""
    _run(html_path, f"--screenshot={png_path.resolve()}", f"--window-size={width_px},{height_px}")


def dump_dom(html_path: Path) -> str:
    """The page's DOM as Chromium rendered it."""
    browser = find_chromium()
    if browser is None:
        raise UsageError("Chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="coach-chromium-") as profile:
        done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                               html_path.resolve().as_uri()], capture_output=True, text=True,
                              timeout=TIMEOUT_S, check=False)
    return done.stdout
