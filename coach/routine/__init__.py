"""Routines: YAML files parsed into frozen dataclasses (`model`), found and validated by `loader`."""

from coach.routine.loader import RoutineInfo, find_routine, list_routines, load_routine
from coach.routine.model import CueTiming, Exercise, RestRange, Routine

__all__ = ["CueTiming", "Exercise", "RestRange", "Routine", "RoutineInfo", "find_routine",
           "list_routines", "load_routine"]
