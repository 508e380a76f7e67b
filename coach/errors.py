"""Typed errors. Each carries one actionable line for the user; the CLI prints it and exits non-zero."""

from __future__ import annotations


class CoachError(Exception):
    """A problem the user can fix. `str(err)` is the one line shown to them."""

    exit_code = 1


class RoutineError(CoachError):
    """A routine file that cannot be used (names the file, the line and the field)."""

    exit_code = 2


class VoiceError(CoachError):
    """A voice pack that cannot be used (names the file, the line and the field)."""

    exit_code = 2


class ConfigError(CoachError):
    """The configuration file cannot be used (names the file, the line and the field)."""

    exit_code = 2


class UsageError(CoachError):
    """A command line that does not make sense."""

    exit_code = 2


class StoreError(CoachError):
    """The history database cannot be opened or written; it is never overwritten."""

    exit_code = 3


class AudioDeviceError(CoachError):
    """No usable microphone or speaker, or a WAV file that cannot be read."""

    exit_code = 4


class ModelNotFoundError(CoachError):
    """No recognizer model where one was expected."""

    exit_code = 5


class ModelDownloadError(CoachError):
    """A model download failed (network, checksum, unpacking)."""

    exit_code = 5


class SpeechEngineError(CoachError):
    """The text-to-speech engine failed or hung."""

    exit_code = 6


class EchoCancellerError(CoachError):
    """No echo canceller can be had (its library is missing); coach carries on without one."""

    exit_code = 4


class NoiseSuppressorError(CoachError):
    """No noise suppressor can be had (webrtc-noise-gain is missing); coach listens without one."""

    exit_code = 4
