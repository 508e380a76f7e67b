"""Speech features for the command head, the same at training and at run time.

openWakeWord's two ONNX models (from the installed `openwakeword` wheel, never the network):
`melspectrogram.onnx` turns 16 kHz audio on the int16 scale into 32-bin mel frames every 10 ms
(scaled as `x / 10 + 2`), and `embedding_model.onnx` turns each window of 76 mel frames (stride 8)
into one 96-value embedding, one per 80 ms. A speech segment's embedding sequence is resampled to
`N_STEPS` frames and followed by the per-dimension maximum and the log of the frame count.

The audio given to the models is the segment from `PRE_S` before its onset to `POST_S` after its
end, extended backwards to at least `MIN_WINDOW_S` (the models need 0.76 s for one embedding).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import numpy as np

from coach.errors import ModelNotFoundError

RATE_HZ = 16_000
MEL_WINDOW = 76
MEL_STRIDE = 8
EMBEDDING_DIM = 96
N_STEPS = 8
FEATURE_DIM = N_STEPS * EMBEDDING_DIM + EMBEDDING_DIM + 1
PRE_S = 0.25                 # audio kept before the segment's onset
POST_S = 0.2                 # and after its end (the segmenter's hangover)
MIN_WINDOW_S = 1.3           # at least this much audio: 7 embeddings
_MODEL_DIR = "openwakeword/resources/models"


def model_path(name: str) -> Path:
    """A model file of the installed openwakeword wheel, found without importing the package."""
    hint = "install it with `pip install openwakeword==0.4.0` (scripts/setup does)"
    try:
        path = Path(str(distribution("openwakeword").locate_file(f"{_MODEL_DIR}/{name}")))
    except PackageNotFoundError:
        raise ModelNotFoundError(f"the neural recognizer needs the openwakeword package: {hint}") from None
    if not path.is_file():
        raise ModelNotFoundError(f"{path} is missing from the openwakeword package: {hint}")
    return path


def _onnxruntime() -> Any:
    """onnxruntime, imported (heavy: only when the neural engine is used) with its telemetry off.

    Its Linux build writes a `.ses` telemetry-session file into $TMPDIR at import; that goes to
    coach's cache folder instead, so a session leaves nothing in the temporary folder.
    """
    import os
    import sys

    if "onnxruntime" not in sys.modules:
        from coach.asr.pocketsphinx_backend import _cache_dir

        saved = os.environ.get("TMPDIR")
        try:
            _cache_dir().mkdir(parents=True, exist_ok=True)
            os.environ["TMPDIR"] = str(_cache_dir())
        except OSError:
            pass
        try:
            import onnxruntime
        finally:
            if saved is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = saved
        onnxruntime.disable_telemetry_events()
    return sys.modules["onnxruntime"]


def _session(path: Path) -> Any:
    ort = _onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1            # a Pi has 4 small cores; the coach needs one
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.enable_mem_pattern = False          # segments vary in length: patterns only grew RSS (12 MB)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class SpeechEmbedder:
    """Audio (int16 samples) -> embedding frames (n, 96). One per process: loading takes ~0.1 s."""

    def __init__(self) -> None:
        self._mel = _session(model_path("melspectrogram.onnx"))
        self._embed = _session(model_path("embedding_model.onnx"))
        self._mel_in = self._mel.get_inputs()[0].name
        self._embed_in = self._embed.get_inputs()[0].name

    def mel(self, pcm: np.ndarray) -> np.ndarray:
        x = pcm.astype(np.float32)[None, :]
        frames = self._mel.run(None, {self._mel_in: x})[0]
        return np.squeeze(frames, axis=(0, 1)) / 10.0 + 2.0

    def embed(self, pcm: np.ndarray) -> np.ndarray:
        mel = self.mel(pcm)
        n = (len(mel) - MEL_WINDOW) // MEL_STRIDE + 1
        if n < 1:
            return np.zeros((0, EMBEDDING_DIM), np.float32)
        windows = np.stack([mel[i * MEL_STRIDE : i * MEL_STRIDE + MEL_WINDOW] for i in range(n)])
        out = self._embed.run(None, {self._embed_in: windows[..., None].astype(np.float32)})[0]
        return out.reshape(n, EMBEDDING_DIM)


def pool(embeddings: np.ndarray) -> np.ndarray:
    """(n, 96) -> FEATURE_DIM values: `N_STEPS` resampled frames, the maximum, log(n)."""
    n = len(embeddings)
    if n == 0:
        return np.zeros(FEATURE_DIM, np.float32)
    at = np.linspace(0, n - 1, N_STEPS)
    lo = np.floor(at).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = (at - lo)[:, None]
    steps = embeddings[lo] * (1 - frac) + embeddings[hi] * frac
    return np.concatenate([steps.reshape(-1), embeddings.max(axis=0), [np.log(n)]]).astype(np.float32)


def window_bounds(t_start: float, t_end: float) -> tuple[float, float]:
    """Stream seconds of the audio the features are computed from, for a segment."""
    begin, end = t_start - PRE_S, t_end + POST_S
    return min(begin, end - MIN_WINDOW_S), end


def segment_features(embedder: SpeechEmbedder, pcm: np.ndarray) -> np.ndarray:
    return pool(embedder.embed(pcm))
