"""What every command gets: the parsed arguments, the environment, and the settings resolved from
them once, the same way for every command."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coach.config import Config

# Config attribute -> the argparse destination that overrides it (absent on a command: not given).
OVERRIDES = (("user", "user"), ("voice", "voice"), ("routine", "routine"), ("input_mode", "input"),
             ("input_device", "device"), ("output_device", "output_device"), ("engine", "engine"),
             ("model", "model"), ("noise_suppression", "noise_suppression"), ("data_dir", "data_dir"))


@dataclass
class Context:
    args: argparse.Namespace
    env: Mapping[str, str]

    @property
    def overrides(self) -> dict[str, object | None]:
        return {attr: getattr(self.args, dest, None) for attr, dest in OVERRIDES}

    @cached_property
    def config(self) -> Config:
        """Command line, then environment, then config file, then defaults (read when first used,
        so a broken config file does not stop `coach devices`)."""
        from coach.api.settings import settings

        return settings(getattr(self.args, "config", None), self.env, self.overrides)

    @property
    def data_dir(self) -> Path:
        return Path(self.config.data_dir.value)

    @property
    def user(self) -> str:
        from coach.api.settings import user_of

        return user_of(self.config)

    @property
    def named_user(self) -> str | None:
        """The user if one was named anywhere (None: everyone, for history and export)."""
        from coach.api.settings import named_user

        return named_user(self.config)

    @property
    def routine(self) -> str:
        return str(self.config.routine.value)

    @property
    def routine_to_show(self) -> str:
        """For chart and report: the routine asked for anywhere, else the one this user last ran."""
        from coach.api.progress import routine_to_show
        from coach.config import DEFAULT

        setting = self.config.routine
        asked = None if setting.source == DEFAULT else str(setting.value)
        return routine_to_show(self.data_dir, self.user, asked, str(setting.value))

    @property
    def voice(self) -> str:
        return str(self.config.voice.value)

    @property
    def model(self) -> Path | None:
        from coach.api.settings import model_of

        return model_of(self.config)
