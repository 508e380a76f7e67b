"""Every default in one place, so that a newcomer finds them and tests can name them."""

from __future__ import annotations

# Audio: everything inside coach is 16 kHz mono signed 16-bit PCM.
RATE_HZ = 16_000
CHUNK_S = 0.05                      # 50 ms per microphone chunk: the session clock's resolution
DITHER_LSB = 2.0                    # recognizers fail on exact digital silence; add a little noise

# Session timing.
GET_SET_S = 3                       # "three, two, one" before a hold starts
CUE_EVERY_S = 10                    # spoken elapsed time during a hold
CUE_WARN_LEFT_S = 10                # "ten seconds left"
CUE_COUNTDOWN_FROM = 5              # "five, four, three, two, one"
CUE_HALFWAY = True
REST_WARN_LEFT_S = 10               # "ten seconds of rest left"
REST_EVERY_S = 20                   # spoken rest remaining, every 20 s

# Speech out.
VOICE = "en-us"                     # voices/en-us.yaml
TTS_RATE_WPM = 150
TTS_VOLUME = 0.9
TTS_RENDER_TIMEOUT_S = 5.0          # watchdog: longer than this and the engine is considered hung
TTS_REPLAY_TIMEOUT_S = 300.0        # the same in file mode, where nothing is real-time: a loaded
                                    # machine must not turn a slow render into a printed-only line
ECHO_DELAY_S = 0.03                 # --echo-gain: delay of the simulated room echo
ECHO_TAIL_S = 0.35                  # after the coach stops talking, keep discounting this long

# Speech in.
MIN_CONFIDENCE = 0.55               # heard commands below this are dropped
BARGE_IN_MIN_CONFIDENCE = 0.8       # while the coach talks, a command it is not saying needs this

# Routine.
ROUTINE = "glutes"

# People: several can share one device.
USER = "default"
ENV_USER = "COACH_USER"

# Files.
DB_NAME = "history.sqlite3"
ENV_DATA_DIR = "COACH_DATA_DIR"
ENV_VOSK_MODEL = "COACH_VOSK_MODEL"
