#!/usr/bin/env python3
"""Compare the segmenters a recognizer can use: energy (coach's own), Silero VAD, micro VAD.

    .venv/bin/python scripts/bench_vad.py [--speeds norm] [--levels clean,10,brown10,babble10]

The dev corpus's command clips are streamed back to back (as in bench_recognition.py, the noise
runs through the pauses). A command clip is "one good segment" when exactly one segment overlaps
its speech and that segment's onset is within 0.25 s of the speech start (the hold-time target).
Also: clips with no segment (missed), with two or more (split), onset error, CPU per audio second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_recognition as B  # noqa: E402

from coach.asr.segmenter import EnergySegmenter  # noqa: E402
from coach.asr.vad import VadConfig, VadSegmenter  # noqa: E402


def segments_of(name: str, pcm: np.ndarray) -> tuple[list, float]:
    seg = EnergySegmenter() if name == "energy" else VadSegmenter(VadConfig(kind=name))
    out, t0 = [], time.process_time()
    for start in range(0, len(pcm), B.CHUNK_SAMPLES):
        out += seg.feed(pcm[start : start + B.CHUNK_SAMPLES])
    out += seg.flush()
    return out, time.process_time() - t0


def judge(spans, segments) -> dict:
    good = missed = split = 0
    errors = []
    for item, _t0, t_speech, t_end in spans:
        if item is None or item.kind != "cmd":
            continue
        hits = [s for s in segments if s.t_start < t_end + 0.1 and s.t_end > t_speech - 0.1]
        if not hits:
            missed += 1
            continue
        if len(hits) > 1:
            split += 1
            continue
        errors.append(hits[0].t_start - t_speech)
        good += abs(errors[-1]) <= 0.25
    n = good + missed + split + (len(errors) - good)
    return {"good": good / n, "missed": missed / n, "split": split / n,
            "onset_median_s": statistics.median(errors) if errors else None, "n": n}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speeds", default="norm")
    parser.add_argument("--levels", default="clean,10,brown10,babble10")
    args = parser.parse_args()
    speeds = args.speeds.split(",")
    items = [i for i in B.read_manifest(B.CORPUS, False) if i.cond == "clean" and i.speed in speeds]
    print(f"{'segmenter':<10}{'noise':<10}{'good':>7}{'missed':>8}{'split':>7}{'onset':>8}{'cpu/s':>8}")
    for level in args.levels.split(","):
        color = next((c for c in ("brown", "babble") if level.startswith(c)), "pink")
        pcm, spans = B.build_stream(items, [], level.removeprefix(color), B.NoiseSource(color), {})
        for name in ("energy", "silero", "micro"):
            segments, cpu = segments_of(name, pcm)
            r = judge(spans, segments)
            onset = "-" if r["onset_median_s"] is None else f"{r['onset_median_s']:+.2f}"
            print(f"{name:<10}{level:<10}{r['good']:>7.3f}{r['missed']:>8.3f}{r['split']:>7.3f}{onset:>8}"
                  f"{cpu / (len(pcm) / B.RATE_HZ):>8.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
