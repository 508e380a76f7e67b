"""The effective settings, resolved one way for every command: command line > environment >
config file > default (see `coach.config`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from coach.config import DEFAULT, Config, load_config, resolve


def settings(config_path: Path | None, env: Mapping[str, str],
             overrides: Mapping[str, object | None] | None = None) -> Config:
    """The configuration file (`config_path`, else $COACH_CONFIG, else the usual place) under the
    environment under `overrides` (Config attribute -> command-line value; None: not given)."""
    return resolve(load_config(config_path, env), overrides or {})


def user_of(config: Config) -> str:
    """Whose sessions: --user, else $COACH_USER, else the config file's `user:`, else the default."""
    return str(config.user.value)


def named_user(config: Config) -> str | None:
    """The user when someone named one (command line, environment or config file), else None:
    `coach history` and `coach export` then show everyone's holds, as on a one-person device."""
    return None if config.user.source == DEFAULT else user_of(config)


def model_of(config: Config) -> Path | None:
    """The vosk model folder from the command line or the config file; None lets the recognizer
    choose (it reads $COACH_VOSK_MODEL itself, where the model is picked)."""
    setting = config.model
    if setting.value is None or not setting.source.startswith(("command line", "config")):
        return None
    return Path(setting.value)
