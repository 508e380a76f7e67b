"""`coach routines`, `coach voices`, `coach say`: what can be run and how it sounds."""

from __future__ import annotations

import shlex
from pathlib import Path

from coach import defaults, paths
from coach.errors import AudioDeviceError, CoachError, UsageError


def routine_lines(data_dir: Path) -> list[str]:
    """One line per routine, shipped and the user's: name, where it comes from, its summary."""
    from coach.routine.loader import list_routines, load_routine

    lines = []
    for info in list_routines(paths.routines_dir(data_dir)):
        try:
            summary = load_routine(info.path).summary
        except CoachError as err:
            summary = f"(cannot be loaded: {err})"
        lines.append(f"{info.name:<16} {info.origin:<8} {summary}")
    return lines


def voice_lines(data_dir: Path) -> list[str]:
    """One line per voice pack: name, language, title (or why it cannot be loaded)."""
    from coach.voice.pack import list_voices, load_voice

    lines = []
    for name, path in list_voices(paths.voices_dir(data_dir)):
        try:
            voice = load_voice(path)
            lines.append(f"{name:<12} {voice.language:<8} {voice.title}")
        except CoachError as err:
            lines.append(f"{name:<12} (cannot be loaded: {err})")
    return lines


def engine_voice_lines() -> list[str]:
    """The speech engine's own voices (`coach say --list-voices`)."""
    from coach.speech.tts import list_engine_voices

    return [f"{ident:<28} {name}" for ident, name in list_engine_voices()]


def say(text: str, voice_name: str, data_dir: Path, out: Path | None = None) -> str | None:
    """Speak `text` with a voice pack, or write it to the WAV file `out` (then say how long it is).
    Without a sound card the AudioDeviceError says how to keep the speech in a file instead."""
    from coach.speech.tts import Pyttsx3Synthesizer
    from coach.voice.pack import load_voice_named

    if not text:
        raise UsageError("say what? e.g. coach say \"Lift, and hold.\"")
    voice = load_voice_named(voice_name, data_dir)
    synth = Pyttsx3Synthesizer(voice.engine_voice, voice.rate_wpm, voice.volume)
    try:
        synth.start()
        samples = synth.render(text)
    finally:
        synth.close()
    if out is None:
        from coach.speech.speakers import play_samples

        try:
            play_samples(samples)
        except AudioDeviceError as err:
            raise AudioDeviceError(f"{err}; to hear it later, write it to a file: "
                                   f"coach say {shlex.quote(text)} --out say.wav") from err
        return None
    from coach.audio.wav import write_wav

    try:
        write_wav(out, samples, defaults.RATE_HZ)
    except OSError as err:
        raise UsageError(f"{out}: cannot write ({err.strerror or err})") from err
    return f"{out}: {len(samples) / defaults.RATE_HZ:.2f} s of speech"
