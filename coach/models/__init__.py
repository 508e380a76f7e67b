"""Finding and downloading vosk models (`coach models list`, `coach models download`).

    catalog.py   what can be fetched: a built-in list, optionally refreshed from the host
    download.py  resumable download, checksum check, atomic unpack
    locate.py    which installed model to load, and why
    progress.py  a dependency-free text progress bar
    settings.py  the host URL, file names, timeouts

Nothing here touches the network at import time; every function takes its collaborators.
"""

from coach.models.catalog import (
    Catalog,
    CatalogEntry,
    builtin_catalog,
    entry_for,
    find_entry,
    load_catalog,
    model_list_lines,
    parse_model_list,
)
from coach.models.download import (
    DownloadResult,
    ModelAlreadyInstalledError,
    download_model,
    unpack_model,
    verify_installed_model,
)
from coach.models.locate import (
    InstalledModel,
    ModelChoice,
    find_vosk_model,
    installed_models,
    is_vosk_model,
)
from coach.models.progress import ProgressBar
from coach.models.settings import DEFAULT_MODEL, ENV_MODEL_BASE_URL, models_dir, resolve_base_url

__all__ = [
    "DEFAULT_MODEL",
    "ENV_MODEL_BASE_URL",
    "Catalog",
    "CatalogEntry",
    "DownloadResult",
    "InstalledModel",
    "ModelAlreadyInstalledError",
    "ModelChoice",
    "ProgressBar",
    "builtin_catalog",
    "download_model",
    "entry_for",
    "find_entry",
    "find_vosk_model",
    "installed_models",
    "is_vosk_model",
    "load_catalog",
    "model_list_lines",
    "models_dir",
    "parse_model_list",
    "resolve_base_url",
    "unpack_model",
    "verify_installed_model",
]
