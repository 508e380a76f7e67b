#!/usr/bin/env python3
"""Train the neural command head from the clips of scripts/make_command_data.py; seeded.

1. Every clip becomes `--variants` streams: one clean (a -60 dBFS floor), the others with pink,
   brown, white, babble or fan-hum noise at 0-20 dB SNR (the noise starts with the stream), 20 %
   with reverberation, random gain. Features (coach.asr.neural.features, the run-time code) are
   taken around the clip's true bounds, jittered like a segmenter's. Cached in build/asr-data.
2. Out-of-fold scores, grouped by speaker (a voice is never scored by a head that saw it): the
   reject threshold is the lowest that keeps false triggers <= 1 % on sentences and <= 2 % on
   near-miss words; Piper joe is test only (scored by the final head, which never saw it).
3. The final head (3 MLPs, 256 hidden, averaged) is trained on every training voice and written
   to coach/asr/neural/head.npz with coach/asr/neural/TRAINING.md and training_report.json.

With the segments of scripts/make_echo_data.py (the coach's residual echo after the canceller, alone
and with the user talking over it), those join the training rows: residual segments as hard
negatives (kind "echo", scored as "ft echo"), double-talk commands as positives; the threshold must
then also keep false triggers on the residual <= 1 %.

    nice -n 10 .venv/bin/python scripts/train_command_head.py [--workers 2] [--variants 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from command_texts import kind_of  # noqa: E402

from coach.asr.neural import features as F  # noqa: E402
from coach.asr.neural.head import OTHER, CommandHead  # noqa: E402

DATA = ROOT / "build" / "asr-data"
PACKAGE = ROOT / "coach" / "asr" / "neural"
RATE_HZ = 16_000
NOISES = ("pink", "brown", "white", "babble", "hum")
# Rendered, but never trained on: Piper joe (the natural-sounding test voice) and the dev corpus's
# espeak-ng voice, so that the corpus and joe are scored by a head that never heard them.
TEST_ONLY_VOICES = {"espeak:en+m3", "espeak:en-us"}


def coloured_noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise: white, pink (1/f), brown (1/f^2) or a fan-like hum (harmonics + rumble)."""
    if kind == "hum":
        t = np.arange(n) / RATE_HZ
        f0 = rng.uniform(45, 130)
        x = sum(rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6))
                for k in range(1, 6))
        x = x + 0.5 * coloured_noise("brown", n, rng) + 0.2 * coloured_noise("pink", n, rng)
    elif kind == "white":
        x = rng.normal(size=n)
    else:
        m = 1 << max(10, (n - 1).bit_length())       # a power of two: an odd-sized FFT is slow
        spectrum = np.fft.rfft(rng.normal(size=m))
        f = np.maximum(np.fft.rfftfreq(m, 1 / RATE_HZ), 20.0)
        power = {"pink": 1.0, "brown": 2.0}[kind]
        x = np.fft.irfft(spectrum / f ** (power / 2), m)[:n]
    return x / (np.sqrt(np.mean(x**2)) + 1e-9)


def babble(n: int, pool: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    x = np.zeros(n)
    for _ in range(int(rng.integers(3, 6))):
        clip = pool[int(rng.integers(len(pool)))].astype(np.float64)
        reps = np.tile(clip, n // max(1, len(clip)) + 2)
        start = int(rng.integers(len(clip)))
        x += reps[start : start + n] * rng.uniform(0.5, 1.0)
    return x / (np.sqrt(np.mean(x**2)) + 1e-9)


def reverb(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import fftconvolve

    rt60 = rng.uniform(0.15, 0.6)
    t = np.arange(int(rt60 * RATE_HZ)) / RATE_HZ
    ir = rng.normal(size=len(t)) * np.exp(-6.9 * t / rt60) * rng.uniform(0.2, 0.6)
    ir[0] = 1.0
    y = fftconvolve(x, ir)[: len(x)]
    return y * (np.max(np.abs(x)) / (np.max(np.abs(y)) + 1e-9))


def make_stream(clip: np.ndarray, variant: int, rng: np.random.Generator,
                pool: list[np.ndarray]) -> tuple[np.ndarray, float, float, str, float]:
    """(int16 stream, onset s, end s, noise kind, snr dB); variant 0 is clean."""
    speech = clip.astype(np.float64) * 10 ** (rng.uniform(-6, 3) / 20)
    if variant > 0 and rng.random() < 0.2:
        speech = reverb(speech, rng)
    lead, tail = int(rng.uniform(0.6, 1.2) * RATE_HZ), int(0.4 * RATE_HZ)
    n = lead + len(speech) + tail
    audio = np.zeros(n)
    audio[lead : lead + len(speech)] = speech
    s_rms = np.sqrt(np.mean(speech**2)) + 1e-9
    if variant == 0:
        kind, snr = "clean", 99.0
        noise = coloured_noise("pink", n, rng) * 32768 * 10 ** (-60 / 20)
    else:
        kind = NOISES[int(rng.integers(len(NOISES)))]
        snr = float(rng.uniform(0, 20))
        noise = (babble(n, pool, rng) if kind == "babble" else coloured_noise(kind, n, rng))
        noise = noise * s_rms / 10 ** (snr / 20)
    audio = audio + noise
    peak = np.max(np.abs(audio))
    if peak > 32000:
        audio *= 32000 / peak
    onset = lead / RATE_HZ + rng.uniform(-0.06, 0.06)
    end = (lead + len(speech)) / RATE_HZ + rng.uniform(-0.08, 0.05)
    return np.round(audio).astype(np.int16), onset, end, kind, snr


_EMBEDDER: F.SpeechEmbedder | None = None
_CLIPS: list[np.ndarray] = []                # set before the workers fork
_POOL: list[np.ndarray] = []


def _features_job(job: tuple[int, int, int]) -> tuple[np.ndarray, str, float]:
    global _EMBEDDER
    if _EMBEDDER is None:
        _EMBEDDER = F.SpeechEmbedder()
    i, v, seed = job
    rng = np.random.default_rng([seed, i, v])
    stream, onset, end, kind, snr = make_stream(_CLIPS[i], v, rng, _POOL)
    begin, stop = F.window_bounds(onset, end)
    a, b = max(0, int(begin * RATE_HZ)), min(len(stream), int(stop * RATE_HZ))
    return F.segment_features(_EMBEDDER, stream[a:b]), kind, snr


def load_clips() -> tuple[list[dict], list[np.ndarray]]:
    rows = json.loads((DATA / "clips.json").read_text())
    by_voice: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_voice[row["voice"]].append(row)
    out_rows, clips = [], []
    for voice, voice_rows in by_voice.items():
        with np.load(DATA / "clips" / f"{voice.replace(':', '_')}.npz") as z:
            for j, row in enumerate(voice_rows):
                out_rows.append(row)
                clips.append(z[f"c{j}"])
    return out_rows, clips


def load_echo(path: Path | None) -> tuple[np.ndarray, list[dict]]:
    """The features and rows of an echo set (make_echo_data.py): `path` (without suffix), or the
    newest in build/asr-data; none when there is none."""
    if path is None:
        found = sorted(DATA.glob("echo-*.npz"), key=lambda p: p.stat().st_mtime)
        if not found:
            return np.zeros((0, F.FEATURE_DIM), np.float32), []
        path = found[-1].with_suffix("")
    with np.load(path.with_suffix(".npz")) as z:
        x = z["x"]
    rows = json.loads(path.with_suffix(".json").read_text())
    print(f"echo set {path.name}: {len(rows)} segments", file=sys.stderr)
    return x, rows


def is_test_only(row: dict) -> bool:
    return row["family"] == "piper" or row["voice"].startswith("piper:") or row["voice"] in TEST_ONLY_VOICES


def speaker(voice: str) -> str:
    """The group a voice belongs to for grouped folds: flite rms/slt renderings are one speaker each."""
    parts = voice.split(":")
    return ":".join(parts[:2])


def build_features(rows: list[dict], clips: list[np.ndarray], variants: int, workers: int,
                   seed: int) -> tuple[np.ndarray, list[dict]]:
    key = hashlib.sha256(json.dumps([len(rows), variants, seed, F.FEATURE_DIM, F.MIN_WINDOW_S,
                                     rows[-1]["id"], "v1"]).encode()).hexdigest()[:12]
    cache = DATA / f"features-{key}.npz"
    global _CLIPS, _POOL
    _CLIPS = clips
    _POOL = [c for c, r in zip(clips, rows, strict=True) if r["kind"] == "neg" and len(c) > 8000][:400]
    jobs = [(i, v, seed) for i in range(len(rows)) for v in range(variants)]
    if cache.exists():
        with np.load(cache) as z:
            x, kinds, snrs = z["x"], list(z["kinds"]), list(z["snrs"])
    else:
        t0 = time.time()
        if workers > 1:
            import multiprocessing

            with multiprocessing.get_context("fork").Pool(workers) as p:
                results = p.map(_features_job, jobs, chunksize=32)
        else:
            results = [_features_job(j) for j in jobs]
        x = np.stack([r[0] for r in results])
        kinds, snrs = [r[1] for r in results], [r[2] for r in results]
        print(f"features: {len(jobs)} streams in {time.time() - t0:.0f} s", file=sys.stderr)
        np.savez_compressed(cache, x=x, kinds=np.array(kinds), snrs=np.array(snrs))
    meta_rows = [{**rows[i], "variant": v, "noise": str(k), "snr": float(s)}
                 for (i, v, _), k, s in zip(jobs, kinds, snrs, strict=True)]
    return x, meta_rows


def sample_weights(rows: list[dict], near_miss: float, double_talk: float = 1.0) -> np.ndarray:
    """Near-miss words ("paws", "held", "one") count `near_miss` times: there are few of them and
    they are the false triggers the head makes most; commands said over the coach (echo rows)
    count `double_talk` times: there are few of them next to thousands of clean and noisy clips."""
    def weight(r: dict) -> float:
        if r["kind"] == "neg" and kind_of(r["text"]) == "near_miss":
            return near_miss
        return double_talk if r["kind"] == "cmd" and r["family"] == "echo" else 1.0

    return np.array([weight(r) for r in rows])


def fit_members(x: np.ndarray, y: np.ndarray, labels: list[str], n_members: int, seed: int,
                epochs: int, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, list]:
    from sklearn.neural_network import MLPClassifier

    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    xs = (x - mean) / scale
    members = []
    for k in range(n_members):
        clf = MLPClassifier(hidden_layer_sizes=(256,), alpha=1e-3, batch_size=128, max_iter=epochs,
                            learning_rate_init=1e-3, random_state=seed + k, tol=1e-5, n_iter_no_change=epochs)
        clf.fit(xs, y, sample_weight=weights)
        # Columns in `labels` order (sklearn sorts its classes; every label is present in training).
        order = [list(clf.classes_).index(i) for i in range(len(labels))]
        w0, w1 = clf.coefs_
        b0, b1 = clf.intercepts_
        members.append((w0.astype(np.float32), b0.astype(np.float32),
                        w1[:, order].astype(np.float32), b1[order].astype(np.float32)))
    return mean.astype(np.float32), scale.astype(np.float32), members


def make_head(labels, mean, scale, members, threshold, phrases, meta) -> CommandHead:  # noqa: ANN001
    return CommandHead(tuple(labels), mean, scale, tuple(members), threshold, phrases, meta)


def rates(p: np.ndarray, y: np.ndarray, labels: list[str], rows: list[dict], threshold: float) -> dict:
    other = labels.index(OTHER)
    best = p.argmax(axis=1)
    fires = (best != other) & (p.max(axis=1) >= threshold)
    pos = y != other
    share = max(1e-9, float(pos.mean())) if pos.any() else 0.0
    out = {"n_pos": int(pos.sum()),
           "correct": float(np.mean((best == y) & fires & pos) / share) if pos.any() else None,
           "wrong": float(np.mean((best != y) & fires & pos) / share) if pos.any() else None}
    for kind in ("sentence", "near_miss", "word"):
        mask = np.array([r["kind"] == "neg" and kind_of(r["text"]) == kind for r in rows])
        out[f"ft_{kind}"] = float(fires[mask].mean()) if mask.any() else None
        out[f"n_{kind}"] = int(mask.sum())
    mask = np.array([r["kind"] == "echo" for r in rows])
    out["ft_echo"] = float(fires[mask].mean()) if mask.any() else None
    out["n_echo"] = int(mask.sum())
    return out


def noise_bucket(row: dict) -> str:
    if row["noise"] == "echo":
        return "echo gain 0.3-0.65" if row["gain"] < 0.65 else "echo gain 0.65-1"
    if row["noise"] == "clean":
        return "clean"
    return "snr 12-20" if row["snr"] >= 12 else "snr 6-12" if row["snr"] >= 6 else "snr 0-6"


ECHO_RULE_DB = (12.0, 9.0, 6.0, 3.0, 0.0, -99.0)


def echo_rule(p: np.ndarray, y: np.ndarray, labels: list[str], rows: list[dict],
              threshold: float) -> list[dict]:
    """The listener's rule for a command only the head heard while the coach was audible (it must
    stand `NEURAL_OVER_ECHO_DB` above the expected residual), at several settings: the share of
    double-talk commands the head hears that pass it, and of residual segments it fires on that
    pass it (those become self-triggers), over the echo rows with the coach audible."""
    other = labels.index(OTHER)
    best = p.argmax(axis=1)
    fires = (best != other) & (p.max(axis=1) >= threshold)
    active = np.array([bool(r.get("coach_active")) for r in rows])
    excess = np.array([float(r.get("user_excess_db", 99.0)) for r in rows])
    pos = active & (y != other)
    residual = active & np.array([r["kind"] == "echo" for r in rows])
    out = []
    for db in ECHO_RULE_DB:
        passes = excess >= db
        heard = fires & (best == y) & passes
        out.append({"db": db, "n_pos": int(pos.sum()), "n_residual": int(residual.sum()),
                    "heard": float(np.mean(heard[pos])) if pos.any() else None,
                    "self_triggers": float(np.mean((fires & passes)[residual])) if residual.any() else None})
    return out


def pick_threshold(p, y, labels, rows) -> float:  # noqa: ANN001
    for t in np.arange(0.30, 0.995, 0.01):
        r = rates(p, y, labels, rows, float(t))
        if ((r["ft_sentence"] or 0) <= 0.01 and (r["ft_near_miss"] or 0) <= 0.02
                and (r["ft_echo"] or 0) <= 0.01):
            return round(float(t), 2)
    return 0.99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=PACKAGE / "head.npz")
    parser.add_argument("--echo", type=Path, help="echo set (build/asr-data/echo-KEY; default: the newest)")
    parser.add_argument("--no-echo", action="store_true", help="train without residual-echo segments")
    parser.add_argument("--near-miss-weight", type=float, default=3.0, help="weight of near-miss negatives")
    parser.add_argument("--double-talk-weight", type=float, default=3.0,
                        help="weight of commands said over the coach's voice")
    args = parser.parse_args()
    t0 = time.time()
    rows, clips = load_clips()
    x, meta = build_features(rows, clips, args.variants, args.workers, args.seed)
    if not args.no_echo:
        x_echo, echo_rows = load_echo(args.echo)
        x, meta = np.concatenate([x, x_echo.astype(x.dtype)]), meta + echo_rows
    phrases: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "cmd" and r["text"] not in phrases[r["label"]]:
            phrases[r["label"]].append(r["text"])
    labels = sorted(phrases) + [OTHER]
    y = np.array([labels.index(r["label"]) for r in meta])
    test_only = np.array([is_test_only(r) for r in meta])
    groups = np.array([speaker(r["voice"]) for r in meta])
    w = sample_weights(meta, args.near_miss_weight, args.double_talk_weight)
    train = ~test_only
    from sklearn.model_selection import GroupKFold

    oof = np.zeros((len(meta), len(labels)), np.float32)
    idx = np.nonzero(train)[0]
    for fold, (a, b) in enumerate(GroupKFold(n_splits=args.folds).split(idx, groups=groups[idx])):
        mean, scale, members = fit_members(x[idx[a]], y[idx[a]], labels, 1, args.seed + 100 * fold,
                                           args.epochs, w[idx[a]])
        head = make_head(labels, mean, scale, members, 0.5, dict(phrases), {})
        oof[idx[b]] = head.probabilities(x[idx[b]])
        print(f"fold {fold + 1}/{args.folds} done ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    train_rows = [meta[i] for i in idx]
    threshold = pick_threshold(oof[idx], y[idx], labels, train_rows)
    mean, scale, members = fit_members(x[idx], y[idx], labels, args.members, args.seed, args.epochs, w[idx])
    info = {"seed": args.seed, "variants": args.variants, "epochs": args.epochs, "folds": args.folds,
            "near_miss_weight": args.near_miss_weight, "double_talk_weight": args.double_talk_weight,
            "echo_segments": sum(r["family"] == "echo" for r in meta),
            "train_clips": int(len(set(r["id"] for r in train_rows))), "train_streams": int(len(idx)),
            "train_voices": sorted(set(r["voice"] for r in train_rows))}
    head = make_head(labels, mean, scale, members, threshold, dict(phrases), info)
    head.save(args.out)
    # Report: out-of-fold (unseen speakers) by family and noise; Piper joe by the final head.
    report: dict = {"threshold": threshold, "labels": labels,
                    **{k: v for k, v in info.items() if k != "train_voices"},
                    "n_train_voices": len(info["train_voices"]), "out_of_fold": {}, "test_voices": {}}
    test_idx = np.nonzero(test_only)[0]
    p_test = head.probabilities(x[test_idx]) if len(test_idx) else np.zeros((0, len(labels)))
    for name, sel, probs in (("out_of_fold", idx, oof[idx]), ("test_voices", test_idx, p_test)):
        sel_rows = [meta[i] for i in sel]
        report[name]["all"] = rates(probs, y[sel], labels, sel_rows, threshold)
        for bucket in ("clean", "snr 12-20", "snr 6-12", "snr 0-6", "echo gain 0.3-0.65", "echo gain 0.65-1"):
            m = np.array([noise_bucket(r) == bucket for r in sel_rows])
            if m.any():
                chosen = [r for r, k in zip(sel_rows, m, strict=True) if k]
                report[name][bucket] = rates(probs[m], y[sel][m], labels, chosen, threshold)
        for fam in sorted(set(r["family"] for r in sel_rows)):
            m = np.array([r["family"] == fam for r in sel_rows])
            chosen = [r for r, k in zip(sel_rows, m, strict=True) if k]
            report[name][f"family {fam}"] = rates(probs[m], y[sel][m], labels, chosen, threshold)
    echo_idx = np.array([i for i in idx if meta[i]["family"] == "echo"], dtype=int)
    if len(echo_idx):
        report["echo_rule"] = echo_rule(oof[echo_idx], y[echo_idx], labels, [meta[i] for i in echo_idx],
                                        threshold)
    report["seconds"] = round(time.time() - t0)
    (PACKAGE / "training_report.json").write_text(json.dumps(report, indent=1))
    (PACKAGE / "TRAINING.md").write_text(markdown(report))
    print(markdown(report))
    return 0


def markdown(report: dict) -> str:
    lines = ["# Command head: training report (generated by scripts/train_command_head.py)", "",
             f"Seed {report['seed']}; {report['train_clips']} training clips x {report['variants']} variants "
             f"({report['train_streams']} streams) from {report['n_train_voices']} voices; reject threshold "
             f"{report['threshold']}; {report['seconds']} s.", "",
             "Out-of-fold rows are scored by heads that never saw the speaker (grouped folds); the test "
             "voices (Piper joe, espeak-ng en+m3) by the final head, which never saw them. "
             "ft = false triggers.", "",
             "| set | rows | correct | wrong | ft sentences | ft near-miss | ft words | "
             "ft coach's residual |",
             "|---|---|---|---|---|---|---|---|"]

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f} %"

    for name in ("out_of_fold", "test_voices"):
        for key, r in report[name].items():
            lines.append(f"| {name} {key} | {r['n_pos']} cmd | {pct(r['correct'])} | {pct(r['wrong'])} | "
                         f"{pct(r['ft_sentence'])} | {pct(r['ft_near_miss'])} | {pct(r['ft_word'])} | "
                         f"{pct(r.get('ft_echo'))} |")
    if report.get("echo_rule"):
        n = report["echo_rule"][0]
        lines += ["", f"The listener's rule for a command only the head heard while the coach was audible "
                  f"(coach/asr/listener.py NEURAL_OVER_ECHO_DB), out of fold on the echo rows with the coach "
                  f"audible ({n['n_pos']} double-talk commands, {n['n_residual']} residual segments): "
                  "commands heard right and passing the rule, residual segments fired on and passing it.", "",
                  "| rule: user above expected residual | double-talk commands heard | residual fired on |",
                  "|---|---|---|"]
        for r in report["echo_rule"]:
            rule = "no rule" if r["db"] < -50 else f">= {r['db']:g} dB"
            lines.append(f"| {rule} | {pct(r['heard'])} | {pct(r['self_triggers'])} |")
        lines += ["", "Out of fold is not the whole story: replayed sessions "
                  "(scripts/bench_turns.py --quick, "
                  "head of seed 7, listener rule lowered to 3 dB in a scratch copy) heard \"next\" in the "
                  "residual of \"Lift, and hold for 30 seconds.\" at echo gain 0.5, 6.2 dB above the "
                  "expected residual, in both voices' sessions (which it ended). Lower the rule no "
                  "further than 9 dB without measuring whole sessions."]
    lines += ["", "Regenerate (seeded; about 45 min of CPU on a quiet 2-core machine):", "", "```",
              "nice -n 10 .venv/bin/python scripts/make_command_data.py --piper",
              "nice -n 10 .venv/bin/python scripts/make_command_data.py --espeak-voices 100 "
              "--negatives-per-voice 24",
              "nice -n 10 .venv/bin/python scripts/make_echo_data.py --scenes 1500",
              "nice -n 10 .venv/bin/python scripts/train_command_head.py --folds 3 --epochs 30 --members 2",
              "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
