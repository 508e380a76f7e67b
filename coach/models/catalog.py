"""What can be fetched: a built-in list of official vosk models, optionally refreshed from the host.

The built-in list makes `coach models list` and `coach models download` work without asking the
network what exists. Sizes and md5 sums are the ones the official model-list.json publishes; the
sha256 sums were published by other projects that hashed the same archives (several agree). Where
no sha256 could be found, the downloader checks md5 and pins the archive's sha256 on first use
(pins.py); where neither is known the field is None, and the downloader refuses unless told otherwise.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit
from urllib.request import Request, build_opener

from coach.errors import ModelDownloadError
from coach.models import settings
from coach.models.locate import InstalledModel
from coach.suggest import closest

Opener = Callable[..., Any]
"""`opener(request, timeout=seconds)` returning a response with `.read()`, like `OpenerDirector.open`."""


@dataclass(frozen=True)
class CatalogEntry:
    """One downloadable model, as in the official model-list.json."""

    name: str                   # "vosk-model-small-en-us-0.15": also the folder inside the zip
    lang: str                   # "en-us"
    lang_text: str              # "US English"
    url: str                    # where the zip is fetched from (already rebased on the chosen host)
    size_bytes: int | None      # size of the zip, not of the unpacked model
    md5: str | None             # hex, as the official list publishes it
    sha256: str | None          # hex; preferred over md5 when both are known
    kind: str = "small"         # the list's "type": "small" models accept a runtime grammar
    obsolete: bool = False


@dataclass(frozen=True)
class Catalog:
    """The entries plus where they came from, for the `models list` header."""

    entries: tuple[CatalogEntry, ...]
    source: str                 # "built-in list" or the model-list.json URL
    note: str | None = None     # e.g. why the refresh failed; shown once, never fatal


def _entry(name: str, lang: str, lang_text: str, size_bytes: int, md5: str | None,
           sha256: str | None = None, kind: str = "small") -> CatalogEntry:
    url = f"{settings.DEFAULT_BASE_URL}/{name}.zip"
    return CatalogEntry(name, lang, lang_text, url, size_bytes, md5, sha256, kind)


BUILTIN: tuple[CatalogEntry, ...] = (
    _entry("vosk-model-small-en-us-0.15", "en-us", "US English", 41_205_931,
           "09ab50ccd62b674cbaa231b825f9c1cb",
           "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"),
    _entry("vosk-model-en-us-0.22-lgraph", "en-us", "US English", 130_557_655, None,
           "d9838b4aaa82a75c4a17f5aca300eaca129aaab2a7cbf951bafbb500eb9c4334", kind="big-lgraph"),
    _entry("vosk-model-en-us-0.22", "en-us", "US English", 1_913_365_522,
           "228741ed058893e403dce60bdd659f42", kind="big"),
    _entry("vosk-model-small-en-gb-0.15", "en-gb", "UK English", 42_757_500,
           "6afd611b04b2b47c129c3615dc502383"),
    _entry("vosk-model-small-en-in-0.4", "en-in", "Indian English", 37_573_330,
           "62fd085f33c8c5fc01a235030e2a1fe3"),
    _entry("vosk-model-small-de-0.15", "de", "German", 46_499_967, "4f21f92c0897b48287ef8839420608eb"),
    _entry("vosk-model-small-fr-0.22", "fr", "French", 42_233_323, "8873b1234503f6edd55f54bfff31cf3e"),
    _entry("vosk-model-small-es-0.42", "es", "Spanish", 39_817_833, "2d5c94f9859a84881a0ef744738ebd31"),
    _entry("vosk-model-small-it-0.22", "it", "Italian", 49_665_141, "fbd8f9c72cbb8c3dfa3e4581bd3585f4"),
    _entry("vosk-model-small-cn-0.22", "cn", "Chinese", 43_898_754, "d1a8e82933dcc7632667c036b0bb3dbb",
           "3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba"),
    _entry("vosk-model-small-ko-0.22", "ko", "Korean", 86_914_329, "fa8029a173787a159e0e72fe6135f890"),
)


def _rebase(url: str, base_url: str) -> str:
    """Keep the file name, swap the host: a mirror serves the same names as the official list."""
    return f"{base_url.rstrip('/')}/{PurePosixPath(urlsplit(url).path).name}"


def builtin_catalog(base_url: str = settings.DEFAULT_BASE_URL) -> Catalog:
    """The shipped list, with URLs on `base_url`."""
    entries = tuple(replace(e, url=_rebase(e.url, base_url)) for e in BUILTIN)
    return Catalog(entries, source="built-in list")


def _hex_or_none(value: Any, length: int) -> str | None:
    text = str(value or "").strip().lower()
    if len(text) == length and all(c in "0123456789abcdef" for c in text):
        return text
    return None


def parse_model_list(raw: bytes, base_url: str, source: str) -> tuple[CatalogEntry, ...]:
    """Read the official model-list.json format (a JSON array of objects, `obsolete` as a string).

    Entries without a name or URL are skipped rather than fatal: the list is a convenience.
    Raises ModelDownloadError when the document itself is not such a list.
    """
    try:
        items = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelDownloadError(f"the model list at {source} is not JSON ({err})") from err
    if not isinstance(items, list):
        raise ModelDownloadError(f"the model list at {source} is not a JSON array of models")
    entries = []
    for item in items:
        if not isinstance(item, dict) or not item.get("name") or not item.get("url"):
            continue
        size = item.get("size")
        entries.append(CatalogEntry(
            name=str(item["name"]),
            lang=str(item.get("lang", "")),
            lang_text=str(item.get("lang_text", "")),
            url=_rebase(str(item["url"]), base_url),
            size_bytes=size if isinstance(size, int) and size > 0 else None,
            md5=_hex_or_none(item.get("md5"), 32),
            sha256=_hex_or_none(item.get("sha256"), 64),
            kind=str(item.get("type", "")),
            obsolete=str(item.get("obsolete", "false")).lower() == "true",
        ))
    return tuple(entries)


def _merge(remote: Iterable[CatalogEntry], builtin: Sequence[CatalogEntry]) -> tuple[CatalogEntry, ...]:
    """Remote entries win, but keep our sha256 when the remote archive is evidently the same one."""
    known = {e.name: e for e in builtin}
    merged = []
    for entry in remote:
        ours = known.get(entry.name)
        same = ours is not None and ours.size_bytes == entry.size_bytes and (
            entry.md5 is None or ours.md5 is None or ours.md5 == entry.md5)
        if ours is not None and same and entry.sha256 is None:
            entry = replace(entry, sha256=ours.sha256)
        merged.append(entry)
    return tuple(merged)


def default_opener() -> Opener:
    """urllib's opener (honours proxy variables, follows redirects)."""
    return build_opener().open


def load_catalog(base_url: str, *, refresh: bool, opener: Opener | None = None,
                 timeout_s: float = settings.CATALOG_TIMEOUT_S) -> Catalog:
    """The built-in list, refreshed from `<base_url>/model-list.json` when `refresh` and it answers.

    Never raises for network trouble: a failed refresh returns the built-in list with a `note`.
    """
    builtin = builtin_catalog(base_url)
    if not refresh:
        return builtin
    list_url = f"{base_url}/{settings.MODEL_LIST_NAME}"
    try:
        settings.check_url(list_url, "the model list")
        request = Request(list_url, headers={"User-Agent": settings.USER_AGENT})
        with (opener or default_opener())(request, timeout=timeout_s) as response:
            settings.check_url(response.geturl(), "the model list")
            raw = response.read()
        remote = parse_model_list(raw, base_url, list_url)
    except (OSError, ValueError, http.client.HTTPException, ModelDownloadError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        return replace(builtin, note=f"could not refresh the model list from {list_url} ({reason}); "
                                     "showing the built-in list")
    if not remote:
        return replace(builtin, note=f"the model list at {list_url} was empty; showing the built-in list")
    return Catalog(_merge(remote, builtin.entries), source=list_url)


def find_entry(catalog: Catalog, name: str) -> CatalogEntry:
    """The entry called `name`; ModelDownloadError with a did-you-mean when there is none."""
    for entry in catalog.entries:
        if entry.name == name:
            return entry
    names = [e.name for e in catalog.entries]
    close = closest(name, names)
    hint = f"did you mean {close}?" if close else "see `coach models list`"
    offline = " (the online list could not be read)" if catalog.note else ""
    raise ModelDownloadError(f"no model called {name!r} in the {catalog.source}{offline}; {hint}")


def entry_for(name: str, base_url: str, *, opener: Opener | None = None,
              timeout_s: float = settings.CATALOG_TIMEOUT_S) -> CatalogEntry:
    """The entry to download: from the built-in list (it carries sha256), else from the host's list.

    Raises ModelDownloadError when neither knows `name`, with a did-you-mean.
    """
    builtin = builtin_catalog(base_url)
    if any(e.name == name for e in builtin.entries):
        return find_entry(builtin, name)
    return find_entry(load_catalog(base_url, refresh=True, opener=opener, timeout_s=timeout_s), name)


def _size_text(size_bytes: int | None) -> str:
    return "?" if size_bytes is None else f"{size_bytes / 1e6:.0f} MB"


def _checked_by(entry: CatalogEntry, pins: Mapping[str, str]) -> str:
    """How a download of `entry` is checked: a sha256 published in advance is the strong one."""
    if entry.sha256:
        return "sha256 in the catalog"
    if entry.name in pins:
        return ("md5; " if entry.md5 else "no catalog checksum; ") + "sha256 pinned locally"
    if entry.md5:
        return "md5 only; sha256 pinned at first download"
    return "unverified"


def model_list_lines(catalog: Catalog, installed: Sequence[InstalledModel],
                     *, show_obsolete: bool = False, pins: Mapping[str, str] | None = None) -> list[str]:
    """Text for `coach models list`: installed models first, then what can be fetched, each with
    how it is checked (`pins`: the sha256 pinned in the models folder, pins.py)."""
    pins = pins or {}
    lines = ["installed:"]
    lines += [f"  {m.name:<34} {_size_text(m.size_bytes):>9}  {m.path}" for m in installed] or ["  (none)"]
    have = {m.name for m in installed}
    lines.append(f"available ({catalog.source}):")
    for e in catalog.entries:
        if e.name in have or (e.obsolete and not show_obsolete):
            continue
        lines.append(f"  {e.name:<34} {_size_text(e.size_bytes):>9}  {e.lang_text or e.lang}  "
                     f"({_checked_by(e, pins)})")
    if catalog.note:
        lines.append(f"note: {catalog.note}")
    return lines
