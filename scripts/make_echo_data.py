#!/usr/bin/env python3
"""Render the command head's residual-echo and double-talk data, exactly as a session hears it; seeded.

Each scene is a few seconds of the coach talking: its voice pack's lines (placeholders filled with
plausible values, "You can say: ready, done, ..." and "Say ready when you're in position." among
them) and the routine's narration, rendered by the coach's own TTS (coach.speech.tts with the
pack's engine voice, rate and volume), and its earcons. That output goes through a simulated room
(coach.audio.room, gain 0.3-1.0, random delay, RT60, loudspeaker distortion and tail seed) into a
microphone with a quiet pink floor. In most scenes the user says something over it (a command, or
a negative sentence / near-miss word), taken from make_command_data.py's clips of training voices
only (a few scenes use the test-only voices, so the report can score them). The microphone then
takes the runtime's path: coach.audio.echo.open_canceller() in 50 ms chunks, the listener's gate
(coach.asr.selfvoice.EchoEvidence.observe), the runtime's segmenter, and for each segment the
head's features, taken as NeuralRecognizer.classify takes them.

Labels: a segment that does not touch the user's words is the coach's residual (kind "echo", a
hard negative: the head must say "other"); one that covers most of the user's command is that
command (double-talk positive); one over the user's negative text is "other" (kind "neg"); one
that covers only part of the user's command is dropped (neither right nor wrong to fire on).

Output (git-ignored, reused when the inputs are the same): build/asr-data/echo-<key>.npz with the
features and build/asr-data/echo-<key>.json with one row per segment (read by
scripts/train_command_head.py, which takes the newest echo set).

    nice -n 10 .venv/bin/python scripts/make_echo_data.py [--scenes 1500] [--workers 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from train_command_head import DATA, TEST_ONLY_VOICES, load_clips  # noqa: E402

from coach.asr.neural import features as F  # noqa: E402
from coach.asr.segmenter import EnergySegmenter, SpeechSegment  # noqa: E402

RATE_HZ = 16_000
CHUNK = int(0.05 * RATE_HZ)          # the runtime's microphone chunk
PARTIAL_COVER = 0.6                  # a segment covering this share of the user's words is theirs
SCENE_KINDS = (("echo", 0.25), ("cmd", 0.6), ("neg", 0.15))
TEST_USER_SHARE = 0.08               # command scenes spoken by a test-only voice (scored, never trained)

# Values for the voice pack's placeholders (a few per name, drawn at random).
VALUES: dict[str, list[Any]] = {
    "routine": ["glute activation", "Turn test"], "exercise": ["Glute bridge", "Band bridge", "Bridge"],
    "set": [1, 2, 3, 4, 5], "sets": [5, 3, 30], "goal_s": [30, 45, 60], "n": [1, 2, 3, 4, 5],
    "elapsed_s": [10, 20, 30, 40, 50], "left_s": [5, 10, 15, 20, 30], "held_s": [60, 43.5, 12, 30],
    "min_s": [10, 30], "max_s": [14, 60], "rest_s": [30, 45], "wait_s": [10, 20],
    "sets_done": [1, 3, 5], "held_list": [[58, 60, 60], [45, 50]], "best_s": [60, 55],
    "target_s": [60, 50], "target_list": [[50, 55, 60]], "goal_reached": [60], "previous_best_s": [55],
    "diff_s": [3, 5, 1], "last_s": [50, 58], "days": [2, 3, 5], "sessions": [3], "done": [2, 3],
    "total": [5], "idle_min": [5], "text": ["Keep breathing.", "Squeeze your glutes."],
}


def coach_texts(pack: Any, routine_path: Path) -> list[str]:
    """Everything the coach may say with this pack and routine: each line with 1-3 fillings."""
    import random

    from coach.voice.pack import LINE_FIELDS

    rng = random.Random(0)
    texts: dict[str, None] = {}
    for key, names in LINE_FIELDS.items():
        for _ in range(3 if names else 1):
            values: dict[str, Any] = {n: rng.choice(VALUES.get(n, [5])) for n in names}
            if key == "help":
                values["commands"] = ", ".join(pack.command_word(c) for c, _ in pack.commands)
            texts[pack.line(key, **values)] = None
    for text in routine_lines(routine_path):
        texts[text] = None
    return [t for t in texts if t.strip()]


def routine_lines(path: Path) -> list[str]:
    import yaml

    data = yaml.safe_load(path.read_text())
    out: list[str] = []

    def take(value: Any) -> None:
        for text in [value] if isinstance(value, str) else value or []:
            out.append(re.sub(r"\{[a-z_]+\}", lambda m: {"{sets}": "5"}.get(m.group(0), "60"), text))

    take(data.get("intro"))
    take(data.get("outro"))
    for ex in data.get("exercises", []):
        take(ex.get("title"))
        for key in ("say", "form_cues", "short_hold"):
            take(ex.get(key))
    return out


def render_texts(pack: Any, texts: list[str]) -> dict[str, np.ndarray]:
    """The coach's own TTS (pyttsx3 with the pack's engine settings), as the session renders lines."""
    from coach.speech.tts import Pyttsx3Synthesizer

    synth = Pyttsx3Synthesizer(pack.engine_voice, pack.rate_wpm, pack.volume)
    synth.start()
    try:
        out = {t: synth.render(t) for t in texts}
    finally:
        synth.close()
    return {t: a for t, a in out.items() if len(a)}


def earcon_tracks() -> list[tuple[str, np.ndarray]]:
    """The tones the coach plays: one alone, and the 5-4-3-2-1 countdown (a beep a second)."""
    from coach.speech.earcons import render
    from coach.vocab import Earcon

    out = [(f"<{e.value}>", render(e)) for e in Earcon]
    count = np.zeros(5 * RATE_HZ, np.int16)
    for k in range(5):
        tone = render(Earcon.COUNT_LAST if k == 4 else Earcon.COUNT)
        count[k * RATE_HZ : k * RATE_HZ + len(tone)] = tone
    out.append(("<countdown>", count))
    return out


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    m = 1 << max(10, (n - 1).bit_length())
    spectrum = np.fft.rfft(rng.normal(size=m)) / np.sqrt(np.maximum(np.fft.rfftfreq(m, 1 / RATE_HZ), 20.0))
    x = np.fft.irfft(spectrum, m)[:n]
    return x / (np.sqrt(np.mean(x**2)) + 1e-9)


# -- one scene (run in the workers) -------------------------------------------------------------
_LINES: list[tuple[str, np.ndarray]] = []       # set before the workers fork
_TONES: list[tuple[str, np.ndarray]] = []
_USERS: dict[str, dict[str, list[tuple[dict, np.ndarray]]]] = {}    # pool -> label -> clips
_EMBEDDER: F.SpeechEmbedder | None = None


def coach_track(rng: np.random.Generator, warm_s: float) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """The coach's output: items one after another with short gaps, until `warm_s` plus a few seconds."""
    items: list[tuple[float, float, str]] = []
    pieces: list[tuple[int, np.ndarray]] = []
    t = rng.uniform(0.2, 0.8)
    goal = warm_s + rng.uniform(2.0, 6.0)
    while t < goal:
        text, audio = pick_item(rng)
        at = int(t * RATE_HZ)
        pieces.append((at, audio))
        items.append((t, t + len(audio) / RATE_HZ, text))
        t += len(audio) / RATE_HZ + (rng.uniform(0.05, 0.4) if rng.random() < 0.5 else rng.uniform(0.4, 1.5))
    n = int(t * RATE_HZ) + 1
    played = np.zeros(n, np.int32)
    for at, audio in pieces:
        played[at : at + len(audio)] += audio
    return np.clip(played, -32768, 32767).astype(np.int16), items


def pick_item(rng: np.random.Generator) -> tuple[str, np.ndarray]:
    pool = _TONES if rng.random() < 0.15 else _LINES
    return pool[int(rng.integers(len(pool)))]


def place_user(rng: np.random.Generator, items: list[tuple[float, float, str]], warm_s: float,
               length_s: float) -> float:
    """Where the user starts: over a line (most often), right after one ends, or in a gap."""
    late = [it for it in items if it[0] >= warm_s] or items[-1:]
    start, end, _ = late[int(rng.integers(len(late)))]
    mode = rng.random()
    if mode < 0.6:
        return float(rng.uniform(max(0.0, start - 0.2), max(start, end - 0.2)))
    if mode < 0.85:
        return end + float(rng.uniform(0.0, 0.4))
    return end + float(rng.uniform(0.4, 1.2))


def _earlier(segment: SpeechSegment, by_s: float) -> SpeechSegment:
    """A segment in the microphone's time (the segmenter heard it `by_s` late)."""
    return replace(segment, t_start=segment.t_start - by_s, t_end=segment.t_end - by_s,
                   t_audio_start=segment.t_audio_start - by_s)


def run_scene(k: int, seed: int) -> list[tuple[np.ndarray, dict]]:
    global _EMBEDDER
    from coach.asr.selfvoice import EchoEvidence
    from coach.audio.echo import open_canceller
    from coach.audio.room import Room, RoomConfig

    if _EMBEDDER is None:
        _EMBEDDER = F.SpeechEmbedder()
    rng = np.random.default_rng([seed, k])
    kinds, weights = zip(*SCENE_KINDS, strict=True)
    kind = str(rng.choice(kinds, p=np.array(weights) / sum(weights)))
    room = RoomConfig(gain=float(rng.uniform(0.3, 1.0)), delay_ms=float(rng.uniform(20, 150)),
                      rt60_s=float(rng.uniform(0.3, 0.6)), distortion=float(rng.uniform(0.0, 0.5)),
                      seed=int(rng.integers(1 << 30)))
    warm_s = 0.0 if rng.random() < 0.15 else float(rng.uniform(3.0, 8.0))
    played, items = coach_track(rng, warm_s)
    user: tuple[dict, np.ndarray] | None = None
    onset = 0.0
    if kind != "echo":
        pool_name = kind
        if kind == "cmd" and rng.random() < TEST_USER_SHARE:
            pool_name = "cmd_test"
        by_label = _USERS[pool_name]                    # every command as often ("stop" has one phrase)
        pool = by_label[sorted(by_label)[int(rng.integers(len(by_label)))]]
        user = pool[int(rng.integers(len(pool)))]
        onset = place_user(rng, items, warm_s, len(played) / RATE_HZ)
    n = len(played)
    if user is not None:
        n = max(n, int(onset * RATE_HZ) + len(user[1]))
    n += int(rng.uniform(0.8, 1.5) * RATE_HZ)
    n -= n % CHUNK
    played = np.concatenate([played, np.zeros(max(0, n - len(played)), np.int16)])[:n]
    mic = pink(n, rng) * 32768 * 10 ** (rng.uniform(-68, -52) / 20)
    u0 = u1 = 0.0
    if user is not None:
        speech = user[1].astype(np.float64)
        speech *= 10 ** (rng.uniform(-18, -6) / 20) * 32767 / max(1.0, float(np.abs(speech).max()))
        a = int(onset * RATE_HZ)
        mic[a : a + len(speech)] += speech[: n - a]
        u0, u1 = a / RATE_HZ, min(n, a + len(speech)) / RATE_HZ
    mic += Room(room).process(played)
    mic16 = np.clip(np.round(mic), -32768, 32767).astype(np.int16)
    canceller = open_canceller()
    evidence = EchoEvidence()
    segmenter = EnergySegmenter()
    segments = []
    parts = []
    lag = evidence.delay_samples            # the gate hands on its audio this late (its look-back)
    for i in range(0, n, CHUNK):
        out = canceller.process(mic16[i : i + CHUNK], played[i : i + CHUNK])
        parts.append(evidence.observe(i, out, played[i : i + CHUNK]))
        segments += [(s, (i + CHUNK) / RATE_HZ) for s in segmenter.feed(parts[-1])]
    parts.append(evidence.drain())
    segments += [(s, n / RATE_HZ) for s in segmenter.feed(parts[-1]) + segmenter.flush()]
    segments = [(_earlier(s, lag / RATE_HZ), t) for s, t in segments]
    heard = np.concatenate(parts)[lag:]     # in the microphone's time
    out_rows = []
    for j, (seg, t_now) in enumerate(segments):
        if seg.too_long:
            continue
        judged = evidence.judge(seg.t_start, seg.t_end)     # what the listener's echo rules see
        row = {"id": f"echo/{k}/{j}", "family": "echo", "variant": 0, "noise": "echo",
               "snr": 99.0, "gain": round(room.gain, 3), "t_start": round(seg.t_start, 3),
               "t_end": round(seg.t_end, 3), "coach_active": judged.coach_active,
               "user_excess_db": judged.user_excess_db}
        overlap = max(0.0, min(seg.t_end, u1) - max(seg.t_start, u0)) if user is not None else 0.0
        said = [it[2] for it in items if it[0] <= seg.t_end + 0.3 and it[1] + 0.5 >= seg.t_start]
        if user is None or overlap <= 0.0:
            row |= {"voice": f"coach:echo{k % 12}", "kind": "echo", "text": " | ".join(said),
                    "label": "other"}
        elif overlap >= PARTIAL_COVER * (u1 - u0):
            meta = user[0]
            row |= {"voice": meta["voice"], "kind": meta["kind"], "text": meta["text"],
                    "label": meta["label"], "over": " | ".join(said)}
        else:
            continue
        begin, end = F.window_bounds(seg.t_start, seg.t_end)
        a, b = max(0, int(round(begin * RATE_HZ))), int(round(min(end, t_now) * RATE_HZ))
        out_rows.append((F.segment_features(_EMBEDDER, heard[a:b]), row))
    return out_rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voice", default="en-us", help="voice pack the coach speaks with")
    parser.add_argument("--routine", type=Path,
                        default=ROOT / "coach" / "routine" / "shipped" / "glutes.yaml")
    parser.add_argument("--scenes", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    from coach.paths import data_dir
    from coach.voice.pack import load_voice_named

    t0 = time.time()
    pack = load_voice_named(args.voice, data_dir(None, os.environ))
    texts = coach_texts(pack, args.routine)
    rows, clips = load_clips()
    inputs = [args.scenes, args.seed, texts, len(rows), rows[-1]["id"], pack.engine_voice, pack.rate_wpm,
              pack.volume, "v2"]
    key = hashlib.sha256(json.dumps(inputs).encode()).hexdigest()[:12]
    out = DATA / f"echo-{key}"
    if out.with_suffix(".npz").exists():
        print(f"{out}.npz is up to date", file=sys.stderr)
        return 0
    global _LINES, _TONES, _USERS
    rendered = render_texts(pack, texts)
    _LINES = list(rendered.items())
    _TONES = earcon_tracks()
    print(f"{len(_LINES)} coach lines rendered ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    test_voice = [r["family"] == "piper" or r["voice"] in TEST_ONLY_VOICES for r in rows]
    _USERS = {"cmd": {}, "neg": {}, "cmd_test": {}}
    for r, c, test in zip(rows, clips, test_voice, strict=True):
        name = ("cmd_test" if test else "cmd") if r["kind"] == "cmd" else ("neg" if not test else "")
        if name:
            _USERS[name].setdefault(r["label"], []).append((r, c))
    jobs = list(range(args.scenes))
    if args.workers > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(args.workers) as p:
            results = p.starmap(run_scene, [(k, args.seed) for k in jobs], chunksize=8)
    else:
        results = [run_scene(k, args.seed) for k in jobs]
    feats = [f for scene in results for f, _ in scene]
    meta = [r for scene in results for _, r in scene]
    np.savez_compressed(out.with_suffix(".npz"), x=np.stack(feats).astype(np.float32))
    out.with_suffix(".json").write_text(json.dumps(meta))
    kinds = {k: sum(1 for r in meta if r["kind"] == k) for k in ("echo", "cmd", "neg")}
    print(f"{len(meta)} segments from {args.scenes} scenes ({kinds}) in {time.time() - t0:.0f} s "
          f"-> {out}.npz", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
