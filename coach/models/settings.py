"""Defaults for finding and fetching vosk models, kept apart from coach/defaults.py.

Nothing here touches the network or the environment: callers pass `env` in, so tests can point the
downloader at a local server without patching anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from coach.errors import ModelDownloadError

DEFAULT_BASE_URL = "https://alphacephei.com/vosk/models"  # the official host; model-list.json lives here
ENV_MODEL_BASE_URL = "COACH_MODEL_BASE_URL"                 # a mirror, or the tests' local server
MODEL_LIST_NAME = "model-list.json"

DEFAULT_MODEL = "vosk-model-small-en-us-0.15"   # small, English, accepts a runtime grammar

MODELS_SUBDIR = "models"                        # <data_dir>/models/<name>/
PART_SUFFIX = ".zip.part"                       # <models_dir>/<name>.zip.part while downloading
SUMS_NAME = "SHA256SUMS"                        # sidecar in the unpacked model, `sha256sum -c` format

CATALOG_TIMEOUT_S = 3.0         # `models list` must stay quick offline: the refresh is optional
DOWNLOAD_TIMEOUT_S = 30.0       # per socket operation, not for the whole download
CHUNK_BYTES = 64 * 1024
MAX_UNPACKED_BYTES = 8_000_000_000      # the biggest official model unpacks to about 3 GB
MAX_UNPACK_RATIO = 20                   # unpacked size at most this many times the archive (zip bombs)
MAX_MEMBERS = 100_000
USER_AGENT = "coach-models/0.1"


def models_dir(data_dir: Path) -> Path:
    """Where downloaded models are unpacked: one folder per model."""
    return data_dir / MODELS_SUBDIR


def resolve_base_url(explicit: str | None, env: Mapping[str, str]) -> str:
    """The model host: an explicit argument, else $COACH_MODEL_BASE_URL, else the official host."""
    chosen = explicit or env.get(ENV_MODEL_BASE_URL) or DEFAULT_BASE_URL
    return chosen.rstrip("/")


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def check_url(url: str, what: str) -> None:
    """Refuse any URL but https, except plain http to this machine (the tests' local server).

    A model is code-like data the recognizer trusts, so it never travels over plain http from
    another host, even when a mirror is configured. Raises ModelDownloadError naming `what`.
    """
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return
    raise ModelDownloadError(
        f"refusing to fetch {what} from {url}: only https URLs are allowed "
        f"(plain http only for 127.0.0.1/localhost); check ${ENV_MODEL_BASE_URL}"
    )
