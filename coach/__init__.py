"""coach: an offline, voice-guided exercise coach.

The package is laid out along the pipeline a session runs through:

    vocab.py     the closed vocabularies (states, commands, cue and say kinds) as enums; no I/O
    session/     the pure core: events in, actions out, no I/O (tested: imports no I/O module)
    routine/     routine files (YAML) parsed into frozen dataclasses, progress rules included
    progress/    between sessions: targets, feedback, streaks, unlocking, sparkline and chart
    voice/       voice packs: engine settings, wording, command phrases
    audio/       microphone and speaker edges (live devices or WAV files)
    asr/         recognizers: PCM chunks in, heard commands out
    speech/      text-to-speech (pyttsx3) and the speech timeline
    history/     the SQLite store of sessions and holds; export and import
    models/      finding and downloading recognizer models
    runner/      wires the edges to the core for one session, and for `coach serve`
    api/         the library under the command line (history, status, chart, lock, say, ...)
    cli/         the command line, where errors become one-line messages
    config.py    the config file and the resolution of settings; defaults.py every default
    doctor.py    `coach doctor`; yamlfile.py hand-written YAML; suggest.py did-you-mean;
                 timeofday.py reminder times; paths.py the data directory; errors.py typed errors
"""

__version__ = "0.1.0"
