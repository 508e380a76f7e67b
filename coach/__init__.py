"""coach: an offline, voice-guided exercise coach.

The package is laid out along the pipeline a session runs through:

    audio/    microphone and speaker edges (live devices or WAV files)
    asr/      recognizers: PCM chunks in, heard commands out
    session/  the pure core: events in, actions out, no I/O
    speech/   text-to-speech (pyttsx3) and the speech timeline
    history/  the SQLite store of sessions and holds
    routine/  routine files (YAML) parsed into frozen dataclasses
    voice/    voice packs: engine settings, wording, command phrases
    models/   finding and downloading recognizer models
    runner/   wires the edges to the core for one session
    cli.py    the command line, where errors become one-line messages
"""

__version__ = "0.1.0"
