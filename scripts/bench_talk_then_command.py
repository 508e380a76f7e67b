#!/usr/bin/env python3
"""A command said right after the user's own sentence, over background talk (a TV, people talking).

    PYTHONPATH=. python scripts/bench_talk_then_command.py [--rise-db 6] [--snr 20,15,10]
        [--gaps 0.3,0.6] [--positions 16]

"hang on, I need some water ... ready": the user says a sentence over six voices talking at once,
then answers. The segmenter measures speech against the level of the talk; this replays the
sentence (tests/data/asr/water.wav) and "ready" (ready.wav) `--gaps` seconds after it, at
`--positions` places 3 s apart in 90 s of babble, at each SNR (the word's RMS over the talk's), and
counts, per cell: segments that start within 0.3 s of the word, and "ready" heard by the fused
recognizer within 0.35 s of it. `--rise-db` sets `SegmenterConfig.level_speech_rise_db` (the cap
that keeps the user's own speech out of the talk level; off by default).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "helpers"))

from babble import babble as make_babble  # noqa: E402

from coach.asr.segmenter import EnergySegmenter, SegmenterConfig  # noqa: E402
from coach.audio.wav import load_pcm16  # noqa: E402

DATA = ROOT / "tests" / "data" / "asr"
RATE_HZ = 16_000
CHUNK = 800                                                  # 50 ms, as a session feeds
SEGMENT_TOLERANCE_S = 0.3
HEARD_TOLERANCE_S = 0.35


def mix(talk: np.ndarray, sentence: np.ndarray, word: np.ndarray, snr_db: float,
        at_s: float, gap_s: float) -> tuple[np.ndarray, float]:
    """The stream from the start of the talk to 4 s after the word; and where the word starts."""
    level = np.sqrt(np.mean(word**2)) / 10 ** (snr_db / 20)
    at = int(at_s * RATE_HZ)
    word_at = at + len(sentence) + int(gap_s * RATE_HZ)
    audio = talk[: word_at + len(word) + 4 * RATE_HZ] * level
    audio[at : at + len(sentence)] += sentence
    audio[word_at : word_at + len(word)] += word
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16), word_at / RATE_HZ


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rise-db", type=float, default=None,
                    help="level_speech_rise_db for the segmenter (default: off, as shipped)")
    ap.add_argument("--snr", default="20,15,10", help="comma-separated SNRs in dB (default 20,15,10)")
    ap.add_argument("--gaps", default="0.3,0.6", help="seconds from the sentence's end to the word")
    ap.add_argument("--positions", type=int, default=16, help="places in the talk, 3 s apart from 20 s")
    ap.add_argument("--segments-only", action="store_true", help="skip the recognizer (seconds, not minutes)")
    args = ap.parse_args(argv)
    snrs = [float(s) for s in args.snr.split(",")]
    gaps = [float(g) for g in args.gaps.split(",")]
    config = SegmenterConfig(level_speech_rise_db=args.rise_db)
    positions = [20.0 + 3.0 * k for k in range(args.positions)]

    with tempfile.TemporaryDirectory() as tmp:
        talk = make_babble(Path(tmp), positions[-1] + 20.0)
        sentence = load_pcm16(DATA / "water.wav").astype(np.float64)
        word = load_pcm16(DATA / "ready.wav").astype(np.float64)
        fused = None
        if not args.segments_only:
            from coach.asr.neural.fused import FusedRecognizer
            from coach.voice.pack import load_voice_named

            phrases = load_voice_named("en-us", Path(tmp)).phrases
        rows = []
        started = time.monotonic()
        for snr in snrs:
            for gap in gaps:
                n_segment = n_heard = 0
                for at_s in positions:
                    pcm, t_word = mix(talk, sentence, word, snr, at_s, gap)
                    seg = EnergySegmenter(config)
                    found = []
                    for i in range(0, len(pcm), CHUNK):
                        found += seg.feed(pcm[i : i + CHUNK])
                    found += seg.flush()
                    n_segment += any(not s.too_long and abs(s.t_start - t_word) <= SEGMENT_TOLERANCE_S
                                     for s in found)
                    if args.segments_only:
                        continue
                    fused = FusedRecognizer(phrases, segmenter=config)
                    heard = []
                    data = pcm.tobytes()
                    for i in range(0, len(data), 2 * CHUNK):
                        heard += fused.feed(data[i : i + 2 * CHUNK])
                    n_heard += any(h.command == "ready" and abs(h.t_start - t_word) <= HEARD_TOLERANCE_S
                                   for h in heard)
                rows.append((snr, gap, n_segment, None if args.segments_only else n_heard))
                print(f"  {snr:.0f} dB, gap {gap:.1f} s: done ({time.monotonic() - started:.0f} s)",
                      file=sys.stderr, flush=True)

    n = len(positions)
    rise = "off" if args.rise_db is None else f"{args.rise_db:g} dB"
    print(f"\nA 'ready' after the user's sentence over babble (level_speech_rise_db {rise}; {n} places)\n")
    print("| SNR | gap | word's own segment | heard as 'ready' (fused) |")
    print("|---|---|---|---|")
    for snr, gap, n_segment, n_heard in rows:
        heard = "-" if n_heard is None else f"{n_heard}/{n}"
        print(f"| {snr:.0f} dB | {gap:.1f} s | {n_segment}/{n} | {heard} |")
    total = sum(r[3] or 0 for r in rows)
    if not args.segments_only:
        print(f"\nheard in all: {total}/{n * len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
