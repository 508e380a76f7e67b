"""`coach enroll`: adapt the neural command head to one user's voice from a few recordings.

Recordings are WAV files named after the command (`ready_1.wav`, `cant_hold-2.wav`, or a folder
per command: `ready/1.wav`). Each is checked (too quiet, clipped, no speech, longer than the
command's phrases can last, or it sounds like another command to the shipped head); of each
command's good recordings the last is held back, the others (augmented with noise and gain)
adapt the output layer of every head member (a few gradient steps pulled towards the shipped
weights). The held-back recordings are scored by the shipped and the adapted head, so the user
hears how much it helped; the adapted head gets a stricter threshold (`STRICTER_BY`) so that
false triggers do not rise. It is stored in the data directory (`select.enrolled_head_path`)
and used from then on by the neural and fused engines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from coach.asr.neural.features import RATE_HZ, SpeechEmbedder, segment_features, window_bounds
from coach.asr.neural.head import OTHER, CommandHead
from coach.asr.segmenter import EnergySegmenter
from coach.errors import UsageError

QUIET_PEAK_DBFS = -30.0      # a recording whose peak is below this is too quiet to learn from
CLIP_SHARE = 0.002           # more than this share of samples at full scale: clipped
WRONG_WORD_P = 0.8           # the shipped head is this sure it is another command: wrong word
STRICTER_BY = 0.05           # threshold added after enrolling (at most half the way to 1)
AUGMENT = 8                  # noisy copies per kept recording
STEPS = 60
LEARNING_RATE = 0.05
PULL = 0.01                  # L2 pull towards the shipped weights
_NAME = re.compile(r"^([a-z_]+?)(?:[-_ ]?\d+)?$")


@dataclass(frozen=True)
class Recording:
    command: str
    path: Path
    pcm: np.ndarray
    problem: str = ""                        # "" when usable


@dataclass
class EnrollResult:
    recordings: list[Recording]
    held_back: list[Recording]
    before: float                            # share of held-back recordings heard right, shipped head
    after: float                             # ... with the adapted head
    threshold: float
    head: CommandHead | None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        used = [r for r in self.recordings if not r.problem]
        lines = [f"{len(used)} of {len(self.recordings)} recordings used"]
        lines += [f"  {r.path.name}: {r.problem}" for r in self.recordings if r.problem]
        if self.held_back:
            lines.append(f"held back {len(self.held_back)}: heard right {100 * self.before:.0f} % before, "
                         f"{100 * self.after:.0f} % after adapting (threshold {self.threshold:.2f})")
        lines += self.notes
        return "\n".join(lines)


def command_of(path: Path, commands: Mapping[str, list[str]]) -> str | None:
    """`ready_2.wav` -> "ready"; `cant_hold/1.wav` -> "cant_hold"; None if it names no command."""
    for name in (path.stem.lower(), path.parent.name.lower()):
        m = _NAME.match(name)
        if m and m.group(1) in commands:
            return m.group(1)
    return None


def read_recordings(folder: Path, commands: Mapping[str, list[str]]) -> list[Recording]:
    from coach.audio.wav import load_pcm16

    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder of WAV recordings")
    out = []
    for path in sorted(folder.rglob("*.wav")):
        command = command_of(path, commands)
        if command is None:
            continue
        out.append(Recording(command, path, load_pcm16(path)))
    if not out:
        raise UsageError(f"no recordings in {folder}: name them after the command, e.g. ready_1.wav, "
                         f"cant_hold_2.wav (commands: {', '.join(commands)})")
    return out


def max_speech_s(phrases: list[str]) -> float:
    """How long a recording of these phrases may be: 0.6 s plus 0.4 s per word of the longest."""
    return 0.6 + 0.4 * max((len(p.split()) for p in phrases), default=1)


def speech_window(pcm: np.ndarray, max_s: float = 2.5) -> tuple[np.ndarray, str]:
    """The audio the head would see for the recording's one speech segment, or a problem."""
    samples = pcm.astype(np.int16)
    peak = float(np.max(np.abs(samples.astype(np.int32)))) if len(samples) else 0.0
    if peak <= 0 or 20 * np.log10(peak / 32768) < QUIET_PEAK_DBFS:
        return samples[:0], "too quiet (speak closer to the microphone)"
    if np.mean(np.abs(samples.astype(np.int32)) >= 32700) > CLIP_SHARE:
        return samples[:0], "clipped (too loud: move back or turn the input down)"
    rng = np.random.default_rng(0)
    lead = rng.normal(0, 3, RATE_HZ // 2)           # a quiet lead-in so the segmenter finds the floor
    stream = np.concatenate([lead, samples.astype(np.float64), lead]).round().astype(np.int16)
    segmenter = EnergySegmenter()
    segments = segmenter.feed(stream) + segmenter.flush()
    if not segments:
        return samples[:0], "no speech found"
    segment = max(segments, key=lambda s: s.t_end - s.t_start)
    if segment.too_long or segment.t_end - segment.t_start > max_s:
        return samples[:0], f"{segment.t_end - segment.t_start:.1f} s is too long for the command " \
                            "(wrong words? say just the command)"
    begin, end = window_bounds(segment.t_start, segment.t_end)
    return stream[max(0, int(begin * RATE_HZ)) : int(end * RATE_HZ)], ""


def _augment(window: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = window.astype(np.float64) * 10 ** (rng.uniform(-6, 3) / 20)
    rms = np.sqrt(np.mean(x**2)) + 1e-9
    x = x + rng.normal(0, rms / 10 ** (rng.uniform(10, 30) / 20), len(x))
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def _adapt(head: CommandHead, x: np.ndarray, y: np.ndarray) -> CommandHead:
    """Gradient steps on each member's output layer, pulled towards the shipped weights."""
    xs = (x - head.mean) / head.scale
    members = []
    for w0, b0, w1, b1 in head.members:
        h = np.maximum(xs @ w0 + b0, 0.0)
        w, b = w1.copy(), b1.copy()
        onehot = np.eye(len(head.labels), dtype=np.float32)[y]
        for _ in range(STEPS):
            logits = h @ w + b
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            g = (p - onehot) / len(x)
            w -= LEARNING_RATE * (h.T @ g + PULL * (w - w1))
            b -= LEARNING_RATE * (g.sum(axis=0) + PULL * (b - b1))
        members.append((w0, b0, w.astype(np.float32), b.astype(np.float32)))
    return replace(head, members=tuple(members))


def _heard_right(head: CommandHead, feats: list[np.ndarray], labels: list[str]) -> float:
    if not feats:
        return 0.0
    right = 0
    for f, label in zip(feats, labels, strict=True):
        pred = head.predict(f)
        right += pred.label == label and pred.probability >= head.threshold
    return right / len(feats)


def enroll(recordings: list[Recording], head: CommandHead, embedder: SpeechEmbedder,
           phrases: Mapping[str, list[str]] | None = None, seed: int = 0) -> EnrollResult:
    rng = np.random.default_rng(seed)
    checked: list[Recording] = []
    windows: dict[int, np.ndarray] = {}
    for rec in recordings:
        if rec.command not in head.labels:
            checked.append(replace(rec, problem=f"the head was not trained on {rec.command!r}"))
            continue
        limit = max_speech_s(list((phrases or head.phrases).get(rec.command, [rec.command])))
        window, problem = speech_window(rec.pcm, limit)
        if not problem:
            pred = head.predict(segment_features(embedder, window))
            if pred.label not in (rec.command, OTHER) and pred.probability >= WRONG_WORD_P:
                problem = f"sounds like {pred.label!r}, not {rec.command!r} (wrong word?)"
        checked.append(replace(rec, problem=problem))
        if not problem:
            windows[len(checked) - 1] = window
    good = [i for i in windows]
    by_command: dict[str, list[int]] = {}
    for i in good:
        by_command.setdefault(checked[i].command, []).append(i)
    held = [ids[-1] for ids in by_command.values() if len(ids) >= 2]
    train = [i for i in good if i not in held]
    notes = []
    if not train:
        return EnrollResult(checked, [], 0.0, 0.0, head.threshold, None,
                            ["nothing to learn from: record each command two or three times"])
    xs, ys = [], []
    for i in train:
        label = head.labels.index(checked[i].command)
        xs.append(segment_features(embedder, windows[i]))
        ys.append(label)
        for _ in range(AUGMENT):
            xs.append(segment_features(embedder, _augment(windows[i], rng)))
            ys.append(label)
    adapted = _adapt(head, np.stack(xs), np.array(ys))
    adapted = adapted.with_threshold(stricter(head.threshold))
    adapted = replace(adapted, meta={**head.meta, "enrolled": sorted(by_command), "recordings": len(train)})
    held_feats = [segment_features(embedder, windows[i]) for i in held]
    held_labels = [checked[i].command for i in held]
    before = _heard_right(head, held_feats, held_labels)
    after = _heard_right(adapted, held_feats, held_labels)
    missing = sorted(set(head.labels) - {OTHER} - set(by_command))
    if missing:
        notes.append(f"not recorded (the shipped head is used for them): {', '.join(missing)}")
    return EnrollResult(checked, [checked[i] for i in held], before, after, adapted.threshold, adapted, notes)


def stricter(threshold: float) -> float:
    """The adapted head's threshold: `STRICTER_BY` higher, but never more than half the way to 1
    (a head adapted to a voice fires more readily on it, and on sounds like it)."""
    return round(min(threshold + STRICTER_BY, threshold + (1.0 - threshold) / 2), 4)


def save(result: EnrollResult, path: Path) -> None:
    if result.head is None:
        return
    result.head.save(path)
    report = {"before": result.before, "after": result.after, "threshold": result.threshold,
              "held_back": [str(r.path) for r in result.held_back],
              "problems": {str(r.path): r.problem for r in result.recordings if r.problem}}
    path.with_suffix(".json").write_text(json.dumps(report, indent=1), encoding="utf-8")
