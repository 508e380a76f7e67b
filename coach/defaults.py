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
CUE_FORM = True                     # the routine's form cues ("squeeze the glutes") between counts
REST_WARN_LEFT_S = 10               # "ten seconds of rest left"
REST_EVERY_S = 20                   # spoken rest remaining, every 20 s
ASK_EFFORT = True                   # a routine file asks "how did that feel?" after the last set
                                    # unless it says `ask_effort: false`

# Speech out.
VOICE = "en-us"                     # coach/voice/shipped/en-us.yaml (voices/ links there)
TTS_RATE_WPM = 150
TTS_VOLUME = 0.9
TTS_RENDER_TIMEOUT_S = 5.0          # watchdog: longer than this and the engine is considered hung
TTS_REPLAY_TIMEOUT_S = 300.0        # the same in file mode, where nothing is real-time: a loaded
                                    # machine must not turn a slow render into a printed-only line
ECHO_TAIL_S = 0.6                   # the coach's voice can still ring in the room this long after a line
EARCON_LEVEL_DBFS = -14.0           # tones (earcons) play this loud: a little below speech

# The simulated room (`--echo-gain`): the coach's loudspeaker coming back into its microphone.
ROOM_GAIN = 1.0                     # a RoomConfig's gain: the direct path arrives at the played level
ROOM_DELAY_MS = 70.0                # speaker -> mic delay the canceller is not told
ROOM_RT60_S = 0.45                  # reverberation time: the tail decays 60 dB in this long
ROOM_DISTORTION = 0.2               # loudspeaker nonlinearity, 0 (none) .. 1 (hard soft-clipping)
ROOM_SEED = 0                       # the reverberant tail is seeded noise: same seed, same room

# Echo cancellation of the coach's own voice (on whenever the coach speaks; `--no-aec` turns it off).
AEC = True
AEC_FRAME_MS = 10                   # the canceller's internal frame (160 samples at 16 kHz)
AEC_FILTER_MS = 300                 # adaptive filter length after delay alignment: the room tail it models
                                    # (200 ms left a loud syllable's tail, 0.2-0.3 s on: README)
AEC_MAX_DELAY_MS = 500              # the delay estimator searches speaker -> mic delays up to this
AEC_SUPPRESS_DB: int | None = None  # speex's residual echo suppressor after the filter (None: off)
AEC_SPEAKER_MODEL = True            # learn the loudspeaker's distortion (audio.speaker_model): README

# Speech in.
INPUT_MODES = ("keys", "voice")     # `--input`: the keyboard, or spoken commands
INPUT_MODE = "keys"
ENGINES = ("auto", "pocketsphinx", "neural", "fused", "vosk")  # `--engine`
# What `auto` picks for English when no vosk model fits: the best of pocketsphinx, neural and fused
# by scripts/bench_recognition.py's rank_engines (dev corpus + Piper joe, voices the head never
# trained on: accuracy minus worst false triggers): fused 0.508, pocketsphinx 0.459, neural 0.312.
AUTO_ENGINE = "fused"
ENGINE = "auto"
MIN_CONFIDENCE = 0.55               # heard commands below this are dropped
# Noise suppression before the recognizer (webrtc-noise-gain, as wyoming-satellite uses it): level
# 0 (off) .. 4 (strongest). Off by default: on the dev corpus (fused) level 2 took pink noise at
# 10 dB from 76 % to 85 % but clean speech from 98 % to 96 %, and at 5 dB false triggers from 5 % to
# 25-30 % (scripts/bench_recognition.py --noise-suppression 2). For a room with a fan always on.
NOISE_SUPPRESSION = 0
NOISE_SUPPRESSION_LEVELS = (0, 1, 2, 3, 4)

# Smart-speaker mode.
SERVE_IDLE_TIMEOUT_S = 300.0        # coach serve gives up a session nobody answers for this long

# Routine, and the smart-speaker mode.
ROUTINE = "glutes"
MAX_REMINDERS = 24                  # reminder times in the config file

# People: several can share one device.
USER = "default"
ENV_USER = "COACH_USER"

# Files.
DB_NAME = "history.sqlite3"
ENV_DATA_DIR = "COACH_DATA_DIR"
ENV_VOSK_MODEL = "COACH_VOSK_MODEL"
ENV_SPEEXDSP = "COACH_SPEEXDSP"     # another libspeexdsp to load (a path or a soname)
ENV_CONFIG = "COACH_CONFIG"
CONFIG_NAME = "config.yaml"         # in $XDG_CONFIG_HOME/coach (~/.config/coach)

# Vosk models (`coach models`): where they come from and where they go.
MODEL_BASE_URL = "https://alphacephei.com/vosk/models"     # the official host; model-list.json lives here
ENV_MODEL_BASE_URL = "COACH_MODEL_BASE_URL"                 # a mirror, or the tests' local server
MODEL_LIST_NAME = "model-list.json"
MODEL = "vosk-model-small-en-us-0.15"   # small, English, accepts a runtime grammar
MODELS_SUBDIR = "models"                # DATA_DIR/models/<name>/
MODEL_PART_SUFFIX = ".zip.part"         # DATA_DIR/models/<name>.zip.part while downloading
MODEL_SUMS_NAME = "SHA256SUMS"          # sidecar in the unpacked model, `sha256sum -c` format
MODEL_PINS_NAME = "PINNED-SHA256"       # in the models folder: sha256 of md5-only archives, first seen
CATALOG_TIMEOUT_S = 3.0         # `models list` must stay quick offline: the refresh is optional
DOWNLOAD_TIMEOUT_S = 30.0       # per socket operation, not for the whole download
DOWNLOAD_CHUNK_BYTES = 64 * 1024
MODEL_MAX_UNPACKED_BYTES = 8_000_000_000    # the biggest official model unpacks to about 3 GB
MODEL_MAX_UNPACK_RATIO = 20                 # unpacked size at most this many times the archive (zip bombs)
MODEL_MAX_MEMBERS = 100_000                 # files in one model archive
MODELS_USER_AGENT = "coach-models/0.1"
