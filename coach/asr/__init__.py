"""Speech in: recognizers turn 16 kHz PCM chunks into heard commands.

`base.Recognizer` is the interface; `pocketsphinx_backend` (embedded US-English model),
`vosk_backend` (a downloaded model), `neural.backend` (openWakeWord's speech embedding and a
small trained head) and `neural.fused` (the head and pocketsphinx on the same segments) implement
it; `select` picks one; `listener.CommandListener` adds what a session needs on top: the state's
accepted commands, confidence thresholds and the self-voice gate. `enroll` adapts the head to a
user's voice.
"""
