"""Routines: YAML files parsed into frozen dataclasses (`model`), found and validated by `loader`.

The model is imported at once; the loader (and with it yaml) only when one of its names is used,
so the pure session core can use the model without loading a YAML parser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.routine.model import CueTiming, Exercise, RestRange, Routine

if TYPE_CHECKING:
    from coach.routine.loader import RoutineInfo, find_routine, list_routines, load_routine

_LOADER_NAMES = ("RoutineInfo", "find_routine", "list_routines", "load_routine")

__all__ = ["CueTiming", "Exercise", "RestRange", "Routine", "RoutineInfo", "find_routine",
           "list_routines", "load_routine"]


def __getattr__(name: str) -> object:
    if name in _LOADER_NAMES:
        from coach.routine import loader

        return getattr(loader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
