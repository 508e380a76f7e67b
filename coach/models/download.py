"""Fetch an official vosk model: resumable download, checked checksum, atomic unpack.

The archive goes to `<models_dir>/<name>.zip.part`; an interrupted run leaves it there and the next
run asks the server for the rest (`Range`). sha256 and md5 are computed while downloading and the
one the catalog gives is checked (sha256 preferred; without one, the sha256 is pinned on first use:
pins.py). The zip is unpacked into a hidden temporary
folder inside models_dir and moved into place with one `os.replace`, so `<models_dir>/<name>` is
either absent or complete; the unpacked model gets a SHA256SUMS file for later re-checks.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO
from urllib.error import HTTPError, URLError
from urllib.request import Request

from coach.errors import ModelDownloadError
from coach.models import settings
from coach.models.catalog import CatalogEntry, Opener, default_opener
from coach.models.locate import missing_part
from coach.models.pins import check_pin
from coach.models.progress import ProgressBar

_MB = 1_000_000
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_NETWORK_ERRORS = (OSError, http.client.HTTPException)      # URLError and timeouts are OSErrors


class ModelAlreadyInstalledError(ModelDownloadError):
    """The model folder exists already; nothing was downloaded or changed."""


@dataclass(frozen=True)
class DownloadResult:
    """What `download_model` installed, for the closing line of `coach models download`."""

    name: str
    path: Path                  # the unpacked model folder
    archive_sha256: str
    archive_bytes: int
    checked_with: str           # "sha256", "md5" or "nothing" (allow_unverified)
    resumed_from_bytes: int     # 0 when the download started from the beginning
    pinned: str = ""            # without a catalog sha256: "pinned now" or "matches the pin" (pins.py)


@dataclass(frozen=True)
class _Fetched:
    sha256: str
    md5: str
    size_bytes: int
    resumed_from_bytes: int


def _first_line(err: object) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _interrupted(name: str, done_bytes: int, reason: str) -> ModelDownloadError:
    return ModelDownloadError(
        f"download of {name} interrupted at {done_bytes / _MB:.1f} MB ({reason}); "
        "run the same command again to resume")


def _hash_file(path: Path, chunk_bytes: int) -> tuple[Any, Any, int]:
    """sha256 and md5 objects fed with the bytes already on disk, and how many there were."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    if path.exists():
        with path.open("rb") as f:
            while chunk := f.read(chunk_bytes):
                sha.update(chunk)
                md5.update(chunk)
                size += len(chunk)
    return sha, md5, size


def _range_start(response: Any, have_bytes: int) -> tuple[int, int | None] | None:
    """(offset the body starts at, total archive bytes or None); None when a 206 is not our range."""
    length = response.headers.get("Content-Length")
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch((response.headers.get("Content-Range") or "").strip())
        if match is None or int(match.group(1)) != have_bytes:
            return None
        return have_bytes, int(match.group(3)) if match.group(3) != "*" else None
    return 0, int(length) if length and length.isdigit() else None


def _stream(response: Any, part: Path, start_bytes: int, total_bytes: int | None, name: str,
            chunk_bytes: int, progress: ProgressBar) -> _Fetched:
    """Append the body to `part` from `start_bytes`, hashing everything, the old bytes included."""
    if start_bytes:
        sha, md5, _ = _hash_file(part, chunk_bytes)
    else:
        sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    done = start_bytes
    out: BinaryIO
    with part.open("ab" if start_bytes else "wb") as out:
        try:
            while chunk := response.read(chunk_bytes):
                out.write(chunk)
                sha.update(chunk)
                md5.update(chunk)
                done += len(chunk)
                if total_bytes is not None and done > total_bytes:
                    break
                progress.update(done)
        except _NETWORK_ERRORS as err:
            progress.finish()
            raise _interrupted(name, done, _first_line(err)) from err
    progress.finish()
    if total_bytes is not None and done > total_bytes:
        part.unlink(missing_ok=True)
        raise ModelDownloadError(f"the server sent more than the {total_bytes} bytes announced for {name}; "
                                 "the download was deleted")
    if total_bytes is not None and done < total_bytes:
        raise _interrupted(name, done, "the connection closed early")
    return _Fetched(sha.hexdigest(), md5.hexdigest(), done, start_bytes)


def _fetch(entry: CatalogEntry, part: Path, opener: Opener, timeout_s: float,
           progress_stream: TextIO | None, chunk_bytes: int, clock: Callable[[], float]) -> _Fetched:
    """Download to `part`, resuming what is there. Two tries: the second starts from zero."""
    for _attempt in range(2):
        have = part.stat().st_size if part.exists() else 0
        if entry.size_bytes is not None and have > entry.size_bytes:
            part.unlink()
            have = 0
        headers = {"User-Agent": settings.USER_AGENT, "Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
        try:
            response = opener(Request(entry.url, headers=headers), timeout=timeout_s)
        except HTTPError as err:
            if err.fp is not None:
                err.close()
            if err.code == 416 and have:         # nothing after `have`: complete already, or stale
                if have == entry.size_bytes:
                    sha, md5, size = _hash_file(part, chunk_bytes)
                    return _Fetched(sha.hexdigest(), md5.hexdigest(), size, size)
                part.unlink()
                continue
            raise ModelDownloadError(
                f"could not download {entry.name} from {entry.url}: HTTP {err.code} {err.reason}") from err
        except (URLError, *_NETWORK_ERRORS) as err:
            reason = _first_line(getattr(err, "reason", err) or err)
            raise ModelDownloadError(
                f"could not reach {entry.url} for {entry.name} ({reason}); check the network, "
                f"or set ${settings.ENV_MODEL_BASE_URL} to a mirror") from err
        with response:
            settings.check_url(response.geturl(), entry.name)    # a redirect must not leave https
            started = _range_start(response, have)
            if started is None:                 # a range we did not ask for: start over, plainly
                part.unlink()
                continue
            start_bytes, total_bytes = started
            if entry.size_bytes is not None and total_bytes not in (None, entry.size_bytes):
                part.unlink(missing_ok=True)
                raise ModelDownloadError(
                    f"{entry.url} is {total_bytes} bytes but the catalog says {entry.size_bytes} for "
                    f"{entry.name}; the file changed upstream or the mirror serves another one")
            total_bytes = total_bytes if total_bytes is not None else entry.size_bytes
            progress = ProgressBar(entry.name, total_bytes, stream=progress_stream,
                                   start_bytes=start_bytes, clock=clock)
            return _stream(response, part, start_bytes, total_bytes, entry.name, chunk_bytes, progress)
    raise ModelDownloadError(f"the server for {entry.url} did not honour a plain download of {entry.name}")


def _check(entry: CatalogEntry, fetched: _Fetched, part: Path) -> str:
    """Compare with the catalog (sha256 preferred); a mismatch deletes the download."""
    if entry.sha256:
        algo, expected, got = "sha256", entry.sha256.lower(), fetched.sha256
    elif entry.md5:
        algo, expected, got = "md5", entry.md5.lower(), fetched.md5
    else:
        return "nothing"
    if got != expected:
        part.unlink(missing_ok=True)
        raise ModelDownloadError(
            f"checksum mismatch for {entry.name}: expected {algo} {expected}, got {got}; "
            "the download was deleted, run the command again")
    return algo


def _safe_relpath(member: str, name: str) -> str:
    """The member's path with / separators; ModelDownloadError for absolute paths or `..`."""
    path = member.replace("\\", "/")
    if path.startswith("/") or re.match(r"[A-Za-z]:", path) or ".." in path.split("/"):
        raise ModelDownloadError(
            f"the archive for {name} has an unsafe path {member!r}; refusing to unpack it")
    return path


_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


def check_model_name(name: str) -> str:
    """A catalog name becomes a folder and a file name: no path separators, no `..`, no oddities."""
    if not _MODEL_NAME.fullmatch(name) or ".." in name:
        raise ModelDownloadError(f"the model name {name!r} is not a plain name (letters, digits, `.`, "
                                 "`-`, `_`; no `/` or `..`); refusing it")
    return name


def _check_unpacked_size(infos: list[zipfile.ZipInfo], archive: Path, name: str) -> None:
    """Refuse a zip that would unpack to more than the limit before writing anything (zipfile reads
    at most each member's declared size, so the declared total bounds what is written)."""
    if len(infos) > settings.MAX_MEMBERS:
        raise ModelDownloadError(f"the archive for {name} has {len(infos)} files; at most "
                                 f"{settings.MAX_MEMBERS}; refusing to unpack it")
    total = sum(info.file_size for info in infos)
    limit = min(settings.MAX_UNPACKED_BYTES, settings.MAX_UNPACK_RATIO * max(archive.stat().st_size, _MB))
    if total > limit:
        raise ModelDownloadError(f"the archive for {name} would unpack to {total / _MB:.0f} MB; at most "
                                 f"{limit / _MB:.0f} MB; refusing to unpack it")


def _extract(archive: Path, staging: Path, name: str) -> dict[str, str]:
    """Unpack every member under `staging`; return {relative path: sha256} of the files."""
    sums: dict[str, str] = {}
    with zipfile.ZipFile(archive) as zf:
        _check_unpacked_size(zf.infolist(), archive, name)
        members = [(info, _safe_relpath(info.filename, name)) for info in zf.infolist()]
        for info, rel in members:
            dest = staging / rel
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            sha = hashlib.sha256()
            with zf.open(info) as src, dest.open("wb") as dst:
                while chunk := src.read(settings.CHUNK_BYTES):
                    dst.write(chunk)
                    sha.update(chunk)
            sums[rel.strip("/")] = sha.hexdigest()
    return sums


def _write_sums(root: Path, prefix: str, sums: dict[str, str], name: str,
                archive_sha256: str, checked_with: str) -> None:
    """`sha256sum -c SHA256SUMS` works inside the model folder; `#` lines are skipped by it."""
    lines = [f"# {name}.zip sha256 {archive_sha256} (checked against the catalog's {checked_with})",
             "# written by `coach models download`; check with: sha256sum -c SHA256SUMS"]
    for rel, digest in sorted(sums.items()):
        inner = rel[len(prefix):] if prefix else rel
        if inner != settings.SUMS_NAME:
            lines.append(f"{digest}  {inner}")
    (root / settings.SUMS_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _install(root: Path, target: Path, scratch: Path, force: bool) -> None:
    """Move `root` to `target` with os.replace; with `force`, the old folder goes only after."""
    old = scratch / "previous"
    if target.exists():
        if not force:
            raise ModelAlreadyInstalledError(f"{target.name} is already installed at {target}; "
                                             "pass --force to replace it")
        os.replace(target, old)
    try:
        os.replace(root, target)
    except OSError:
        if old.exists():
            os.replace(old, target)
        raise


def unpack_model(archive: Path, models_dir: Path, name: str, *, archive_sha256: str,
                 checked_with: str, force: bool = False) -> Path:
    """Unpack `archive` to `<models_dir>/<name>` all at once, or leave nothing behind.

    A zip with one top-level folder (as vosk's are) has that folder's contents become the model;
    otherwise the whole archive does. Names with `..` or absolute paths are refused.
    """
    target = models_dir / check_model_name(name)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}.unpack-", dir=models_dir))
    try:
        staging = scratch / "unpacked"
        staging.mkdir()
        try:
            sums = _extract(archive, staging, name)
        except (zipfile.BadZipFile, zlib.error, EOFError) as err:
            reason = _first_line(err)
            raise ModelDownloadError(f"the download of {name} is not a valid zip ({reason})") from err
        except OSError as err:
            reason = _first_line(err)
            raise ModelDownloadError(f"could not unpack {name} into {models_dir} ({reason})") from err
        top = list(staging.iterdir())
        root, prefix = (top[0], top[0].name + "/") if len(top) == 1 and top[0].is_dir() else (staging, "")
        problem = missing_part(root)
        if problem is not None:
            raise ModelDownloadError(f"the archive for {name} holds no vosk model ({problem})")
        _write_sums(root, prefix, sums, name, archive_sha256, checked_with)
        _install(root, target, scratch, force)
        return target
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def download_model(entry: CatalogEntry, models_dir: Path, *, opener: Opener | None = None,
                   timeout_s: float = settings.DOWNLOAD_TIMEOUT_S, progress_stream: TextIO | None = None,
                   force: bool = False, allow_unverified: bool = False,
                   chunk_bytes: int = settings.CHUNK_BYTES,
                   clock: Callable[[], float] = time.monotonic) -> DownloadResult:
    """Download, check and unpack `entry` into `<models_dir>/<entry.name>`.

    Only https URLs are fetched (plain http only from 127.0.0.1/localhost, for tests). Raises
    ModelAlreadyInstalledError when the folder exists (unless `force`), and ModelDownloadError for a
    network failure (the partial file is kept for resuming), a checksum mismatch (it is deleted), an
    entry with no checksum (unless `allow_unverified`), or an archive that is not a safe vosk model.
    """
    check_model_name(entry.name)
    settings.check_url(entry.url, entry.name)
    if not entry.sha256 and not entry.md5 and not allow_unverified:
        raise ModelDownloadError(f"the catalog has no checksum for {entry.name}, so it cannot be verified; "
                                 "pass --allow-unverified to download it anyway")
    target = models_dir / entry.name
    if target.exists() and not force:
        raise ModelAlreadyInstalledError(f"{entry.name} is already installed at {target}; "
                                         "pass --force to replace it")
    models_dir.mkdir(parents=True, exist_ok=True)
    part = models_dir / f"{entry.name}{settings.PART_SUFFIX}"
    fetched = _fetch(entry, part, opener or default_opener(), timeout_s, progress_stream, chunk_bytes, clock)
    checked_with = _check(entry, fetched, part)
    pinned = ""
    if checked_with != "sha256":
        try:
            pinned = check_pin(models_dir, entry.name, fetched.sha256)
        except ModelDownloadError:
            part.unlink(missing_ok=True)
            raise
    try:
        path = unpack_model(part, models_dir, entry.name, archive_sha256=fetched.sha256,
                            checked_with=checked_with, force=force)
    except ModelAlreadyInstalledError:
        raise
    except ModelDownloadError:
        part.unlink(missing_ok=True)        # the archive itself is bad: do not resume into it
        raise
    part.unlink(missing_ok=True)
    return DownloadResult(entry.name, path, fetched.sha256, fetched.size_bytes, checked_with,
                          fetched.resumed_from_bytes, pinned)


def verify_installed_model(model_dir: Path) -> list[str]:
    """Re-check an installed model against its SHA256SUMS; returns the problems (empty when fine)."""
    sums = model_dir / settings.SUMS_NAME
    if not sums.is_file():
        return [f"{model_dir} has no {settings.SUMS_NAME} (not installed by `coach models download`)"]
    problems = []
    for line in sums.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        digest, _, rel = line.partition("  ")
        path = model_dir / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
            continue
        sha, _, _ = _hash_file(path, settings.CHUNK_BYTES)
        if sha.hexdigest() != digest:
            problems.append(f"{rel}: changed since download")
    return problems
