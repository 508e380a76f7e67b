"""Noise suppression before the recognizer: WebRTC's, through webrtc-noise-gain.

Wyoming-satellite cleans its microphone the same way before wake-word detection. The library works
on 10 ms frames of 16 kHz 16-bit PCM and keeps no look-ahead, so a frame comes out as it goes in and
the session's sample clock is untouched. Microphone chunks are whole frames (50 ms); a chunk that
is not (the end of a file) has its last partial frame passed on as it came.
"""

from __future__ import annotations

from coach.defaults import NOISE_SUPPRESSION_LEVELS, RATE_HZ
from coach.errors import NoiseSuppressorError

FRAME_SAMPLES = RATE_HZ // 100          # 10 ms: the only frame size the library takes
_FRAME_BYTES = 2 * FRAME_SAMPLES


class NoiseSuppressor:
    """`process(pcm) -> pcm` of the same length, with WebRTC noise suppression at `level` (1-4)."""

    def __init__(self, level: int, auto_gain_dbfs: int = 0) -> None:
        if level not in NOISE_SUPPRESSION_LEVELS or level == 0:
            raise ValueError(f"noise suppression level must be 1-4, not {level}")
        try:
            from webrtc_noise_gain import AudioProcessor
        except ImportError as err:
            raise NoiseSuppressorError(
                f"noise suppression needs webrtc-noise-gain ({err}); install it with "
                "`pip install webrtc-noise-gain` (scripts/setup does); listening without it") from err
        self.level = level
        self._processor = AudioProcessor(auto_gain_dbfs, level)

    def process(self, pcm: bytes) -> bytes:
        whole = len(pcm) - len(pcm) % _FRAME_BYTES
        out = bytearray()
        for start in range(0, whole, _FRAME_BYTES):
            out += self._processor.Process10ms(pcm[start : start + _FRAME_BYTES]).audio
        return bytes(out) + pcm[whole:]
