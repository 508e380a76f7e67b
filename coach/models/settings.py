"""Finding and fetching vosk models: the host, the safe-URL rule (the values are in coach/defaults.py).

Nothing here touches the network or the environment: callers pass `env` in, so tests can point the
downloader at a local server without patching anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from coach import defaults as d
from coach import paths
from coach.errors import ModelDownloadError

# The values live in coach/defaults.py with every other default; these names are what the
# models package (and its tests) use.
DEFAULT_BASE_URL = d.MODEL_BASE_URL
ENV_MODEL_BASE_URL = d.ENV_MODEL_BASE_URL
MODEL_LIST_NAME = d.MODEL_LIST_NAME
DEFAULT_MODEL = d.MODEL
MODELS_SUBDIR = d.MODELS_SUBDIR
PART_SUFFIX = d.MODEL_PART_SUFFIX
SUMS_NAME = d.MODEL_SUMS_NAME
PINS_NAME = d.MODEL_PINS_NAME
CATALOG_TIMEOUT_S = d.CATALOG_TIMEOUT_S
DOWNLOAD_TIMEOUT_S = d.DOWNLOAD_TIMEOUT_S
CHUNK_BYTES = d.DOWNLOAD_CHUNK_BYTES
MAX_UNPACKED_BYTES = d.MODEL_MAX_UNPACKED_BYTES
MAX_UNPACK_RATIO = d.MODEL_MAX_UNPACK_RATIO
MAX_MEMBERS = d.MODEL_MAX_MEMBERS
USER_AGENT = d.MODELS_USER_AGENT


def models_dir(data_dir: Path) -> Path:
    """Where downloaded models are unpacked: one folder per model."""
    return paths.models_dir(data_dir)


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
