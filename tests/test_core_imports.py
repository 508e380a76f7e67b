"""The session core is pure: importing it loads no database, YAML parser, audio or recognizer."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

IO_MODULES = ("sqlite3", "_sqlite3", "yaml", "sounddevice", "pocketsphinx", "vosk", "numpy",
              "pyttsx3", "matplotlib", "wave", "termios")


def test_importing_the_session_core_loads_no_io_module():
    code = ("import json, sys; import coach.session, coach.session.core, coach.vocab; "
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    loaded = set(json.loads(out))
    assert not loaded & set(IO_MODULES), sorted(loaded & set(IO_MODULES))
    assert not {m for m in loaded if m.startswith(("coach.history", "coach.voice", "coach.runner",
                                                   "coach.audio", "coach.asr", "coach.speech"))}
