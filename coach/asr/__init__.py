"""Speech in: recognizers turn 16 kHz PCM chunks into heard commands.

`base.Recognizer` is the interface; `pocketsphinx_backend` (embedded US-English model) and
`vosk_backend` (a downloaded model) implement it; `listener.CommandListener` adds what a session
needs on top: the state's accepted commands, confidence thresholds and the self-voice gate.
"""
