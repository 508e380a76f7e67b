"""The command head: a few small MLPs (numpy at run time), averaged, over `features.pool` vectors.

Stored as one `.npz`: standardisation (`mean`, `scale`), per member `w0_k, b0_k, w1_k, b1_k`
(float16 to keep the file small), and a JSON `meta` with the class labels ("other" = no command),
the phrases each command was trained on, the reject threshold and how it was trained.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from coach.errors import ModelNotFoundError

OTHER = "other"
SHIPPED = "head.npz"


@dataclass(frozen=True)
class Prediction:
    """The head's answer for one segment: best class, its probability, and the margin to the next."""

    label: str              # a command id, or OTHER
    probability: float
    margin: float           # probability of the best class minus the second best
    second: str


@dataclass(frozen=True)
class CommandHead:
    labels: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    members: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], ...]
    threshold: float                                # a command needs at least this probability
    phrases: dict[str, list[str]]                   # command -> the phrases it was trained on
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(n, FEATURE_DIM) or (FEATURE_DIM,) -> class probabilities, averaged over the members."""
        x = (np.atleast_2d(features).astype(np.float32) - self.mean) / self.scale
        total = np.zeros((len(x), len(self.labels)), np.float32)
        for w0, b0, w1, b1 in self.members:
            hidden = np.maximum(x @ w0 + b0, 0.0)
            logits = hidden @ w1 + b1
            logits -= logits.max(axis=1, keepdims=True)
            e = np.exp(logits)
            total += e / e.sum(axis=1, keepdims=True)
        return total / len(self.members)

    def predict(self, features: np.ndarray) -> Prediction:
        p = self.probabilities(features)[0]
        order = np.argsort(p)[::-1]
        return Prediction(self.labels[order[0]], float(p[order[0]]), float(p[order[0]] - p[order[1]]),
                          self.labels[order[1]])

    def knows(self, command: str, phrases: list[str]) -> bool:
        """Whether every one of `phrases` (normalised) is one this head was trained on for `command`."""
        from coach.asr.phrases import normalise

        trained = {normalise(p) for p in self.phrases.get(command, [])}
        return bool(trained) and all(normalise(p) in trained for p in phrases)

    def with_threshold(self, threshold: float) -> CommandHead:
        return replace(self, threshold=threshold)

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {"mean": self.mean.astype(np.float32),
                                         "scale": self.scale.astype(np.float32)}
        for k, (w0, b0, w1, b1) in enumerate(self.members):
            arrays |= {f"w0_{k}": w0.astype(np.float16), f"b0_{k}": b0.astype(np.float32),
                       f"w1_{k}": w1.astype(np.float16), f"b1_{k}": b1.astype(np.float32)}
        meta = {**self.meta, "labels": list(self.labels), "threshold": self.threshold,
                "phrases": self.phrases, "members": len(self.members)}
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            np.savez_compressed(f, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path) -> CommandHead:
        try:
            with np.load(path) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                members = tuple(
                    tuple(data[f"{name}_{k}"].astype(np.float32) for name in ("w0", "b0", "w1", "b1"))
                    for k in range(int(meta["members"]))
                )
                mean, scale = data["mean"], data["scale"]
        except (OSError, KeyError, ValueError) as err:
            raise ModelNotFoundError(f"cannot read the command head {path}: {err}") from None
        return cls(tuple(meta.pop("labels")), mean, scale, members,  # type: ignore[arg-type]
                   float(meta.pop("threshold")), dict(meta.pop("phrases")), meta)


def shipped_head_path() -> Path:
    return Path(str(resources.files("coach.asr.neural") / SHIPPED))


def load_shipped_head() -> CommandHead:
    path = shipped_head_path()
    if not path.is_file():
        raise ModelNotFoundError(f"the shipped command head {path} is missing; reinstall coach "
                                 "(or run scripts/train_command_head.py)")
    return CommandHead.load(path)
