"""Turn-taking measurements on replayed sessions, through `coach run`'s command-line contract only.

Everything here reads what `coach run --mic IN.wav --events EV.jsonl --speaker OUT.wav` writes:
the event log (`say` with `line`/`kind`, `hold_start`, `hold_end`, `heard`, `ignored`, ...) and the
coach's own voice on the session clock. Nothing imports the coach's internals, so the same code
measures today's listener and its rewrite.

How commands are placed at moments defined by the coach's own timeline: a replay of a file is
deterministic (the session clock is the sample count), and a cue falls at a fixed *phase time*
after its hold starts. So a first pass tells where the prompt ends and how long after a "ready"
(said in silence) the hold starts; from then on a whole chain of holds can be laid out ahead: the
user answers each rest's prompt well after it ends ("resync"), which makes the next hold's start
known to the sample whatever happened before. Each placement is checked afterwards against the
run's own log (the hold really started where it was predicted), and its truth is the exact onset of
the placed audio.

Utterance ends: a `say_end` event when the log has one, else the coach's voice in the `--speaker`
WAV (the last loud 10 ms frame before the next thing it was asked to say).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
COACH = [sys.executable, "-m", "coach"]
RATE_HZ = 16_000
CHUNK_S = 0.05                  # coach's microphone chunk: the session clock's grain
FRAME_S = 0.01                  # energy frames for reading the speaker WAV
LOUD_DBFS = -45.0               # a 10 ms frame of the coach's voice louder than this is speech
MATCH_SLACK_S = 0.3             # a recognized segment this close to a placed phrase belongs to it

_spec = importlib.util.spec_from_file_location("make_session_wav", ROOT / "scripts" / "make_session_wav.py")
assert _spec is not None and _spec.loader is not None
make_session = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_session)

# The bench routine: the glute routine's cue timing on a 30 s hold, a 10-14 s rest without spoken
# rest counts (so nothing but the hold's own cues and the rest's prompts is said), many sets.
# Hold cues: "Lift, and hold for 30 seconds." at 0, "10 seconds in." at 10, "Halfway there." at 15,
# "Nearly there, 10 seconds to go." at 20 (it wins over "20 seconds in."), 5-4-3-2-1 at 25..29.
# Rest: "Well held..." + "Rest. You can say ready after 10 seconds. ..." at 0, "Say ready whenever
# you want the next set." at 10, "Rest over. Say ready for the next set." at 14, then it waits.
TURNS_ROUTINE = """\
title: Turn test
summary: The glute routine's cues on 30-second holds, a 10-14 s rest, many sets.
cues: {every_s: 10, halfway: true, warn_left_s: 10, countdown_from: 5, get_set_s: 3,
       rest_every_s: 0, rest_warn_left_s: 0}
exercises:
  - id: bridge
    title: Bridge
    say: "Lift your hips on the count. If your hold gives out early, just say can't hold."
    hold_s: 30
    sets: 30
    rest_s: {min: 10, max: 14}
"""
TURNS_HOLD_S = 30.0
TURNS_REST_MIN_S = 10.0
TURNS_REST_MAX_S = 14.0
GET_SET_S = 4.5                 # "Set 2 of 30." then three, two, one: the hold starts 4.5 s after "ready"

# Where each kind of hold cue falls (phase seconds) in the bench routine and in the glute routine.
TURNS_CUES = {"every": 10.0, "halfway": 15.0, "warn": 20.0,
              "count5": 25.0, "count4": 26.0, "count3": 27.0, "count2": 28.0, "count1": 29.0}
GLUTE_CUES = {"every": 20.0, "halfway": 30.0, "warn": 50.0,
              "count5": 55.0, "count4": 56.0, "count3": 57.0, "count2": 58.0, "count1": 59.0}
INTO_CUE_S = 0.3                # the user starts speaking this far into the cue (the 20.3 s)

DEV_VOICES = ("espeak:en-us", "espeak:en+m3", "flite:slt", "flite:rms", "piper:joe")
RESERVED_VOICES = ("espeak:en+f2", "flite:awb", "flite:kal")     # measure only: never tune on these


def family(voice: str) -> str:
    return "reserved" if voice in RESERVED_VOICES else "dev"


def available_voices(voices: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v for v in voices if not v.startswith("piper:") or make_session.piper_available())


def align(t: float) -> float:
    """Round up onto the chunk grid, so that a phrase meets the recognizer the same way every time."""
    return round(np.ceil(t / CHUNK_S - 1e-6) * CHUNK_S, 3)


@lru_cache(maxsize=1)
def coach_run_help() -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([*COACH, "run", "--help"], env=env, capture_output=True, text=True,
                          timeout=60).stdout


def echo_model() -> str:
    """`room` when `coach run` simulates a room (impulse response, unknown delay), else `copy`."""
    return "room" if "--echo-rt60-s" in coach_run_help() else "copy"


def echo_args(gain: float) -> list[str]:
    """The room at gain G with its own defaults (delay, RT60); today's exact delayed copy otherwise."""
    return ["--echo-gain", f"{gain:g}"] if gain > 0 else []


# -- running the coach -------------------------------------------------------------------------
@dataclass
class Phrase:
    """A phrase the user says: where it was placed (the truth) and why."""

    text: str
    start_s: float
    end_s: float = 0.0
    tag: str = ""               # which placement (for the tables)
    command: str = ""           # the command it should be heard as


@dataclass
class Run:
    events: list[dict[str, Any]]
    speaker: np.ndarray         # the coach's voice, int16 on the session clock
    phrases: list[Phrase] = field(default_factory=list)
    _loud: np.ndarray | None = field(default=None, repr=False)

    @property
    def loud(self) -> np.ndarray:
        """Per 10 ms frame of the speaker WAV: the coach talking (computed once)."""
        if self._loud is None:
            self._loud = loud(self.speaker)
        return self._loud

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == type_]

    def says(self, line: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.of("say") if line is None or e.get("line") == line]

    def hold_near(self, t: float, tol_s: float = 0.06) -> dict[str, Any] | None:
        return next((e for e in self.of("hold_start") if abs(e["t"] - t) <= tol_s), None)

    def hold_end_after(self, start: dict[str, Any]) -> dict[str, Any] | None:
        return next((e for e in self.of("hold_end") if e["t"] >= start["t"] and e["set"] == start["set"]),
                    None)


def write_routine(data_dir: Path, name: str, text: str) -> None:
    (data_dir / "routines").mkdir(parents=True, exist_ok=True)
    (data_dir / "routines" / f"{name}.yaml").write_text(text)


EXTRA_ARGS: list[str] = []      # added to every coach_run (the bench's `--cues words` sets a voice pack)


def coach_run(workdir: Path, routine: str, mic: Path, *, gain: float = 0.0,
              routine_text: str | None = None, extra: tuple[str, ...] = ()) -> Run:
    """`coach run ROUTINE --mic MIC --events --speaker` in a fresh data dir (no history: same lines
    every time). Returns the event log and the speaker samples."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "data"
    if data.exists():
        shutil.rmtree(data)
    data.mkdir()
    if routine_text is not None:
        write_routine(data, routine, routine_text)
    ev, spk = workdir / "ev.jsonl", workdir / "out.wav"
    env = dict(os.environ, COACH_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    args = [*COACH, "run", routine, "--mic", str(mic), "--events", str(ev), "--speaker", str(spk),
            *echo_args(gain), *EXTRA_ARGS, *extra]
    out = subprocess.run(args, env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"coach run failed ({out.returncode}): {out.stderr[-2000:]}")
    printed = [line for line in out.stderr.splitlines()
               if "only be printed" in line or "only printed" in line]
    if printed:             # no voice: no echo, no timing of lines; every placement would be off
        raise RuntimeError(f"coach run lost its voice: {printed[0].strip()}")
    events = [json.loads(line) for line in ev.read_text().splitlines() if line.strip()]
    return Run(events, read_speaker(spk))


def read_speaker(path: Path) -> np.ndarray:
    from coach.audio.wav import load_pcm16
    return load_pcm16(path, RATE_HZ) if path.exists() and path.stat().st_size > 44 else np.zeros(0, np.int16)


def make_mic(path: Path, phrases: list[Phrase], length_s: float, voice: str, seed: int = 1) -> list[Phrase]:
    """The user's microphone: each phrase starting exactly at its `start_s`, over a quiet pink floor."""
    plan = [(p.start_s, p.text) for p in phrases]
    path.parent.mkdir(parents=True, exist_ok=True)
    truth = make_session.make_session_wav(path, plan, length_s, voice=voice, seed=seed)
    out = []
    for p, t in zip(phrases, truth, strict=True):
        out.append(Phrase(p.text, t["t_start"], t["t_end"], p.tag, p.command))
    return out


# -- reading the coach's voice -----------------------------------------------------------------
def loud(speaker: np.ndarray) -> np.ndarray:
    """Per 10 ms frame: whether the coach's voice is louder than LOUD_DBFS."""
    n = int(FRAME_S * RATE_HZ)
    frames = len(speaker) // n
    if frames == 0:
        return np.zeros(0, bool)
    x = speaker[: frames * n].astype(np.float64).reshape(frames, n) / 32768
    return 20 * np.log10(np.sqrt(np.mean(x**2, axis=1)) + 1e-9) > LOUD_DBFS


def audible_end(run: Run, t0: float, t1: float) -> float | None:
    """End of the last loud frame in [t0, t1), or None when the coach was silent there."""
    flags = run.loud
    a, b = int(t0 / FRAME_S), min(len(flags), int(np.ceil(t1 / FRAME_S)))
    idx = np.flatnonzero(flags[a:b])
    return None if len(idx) == 0 else round((a + idx[-1] + 1) * FRAME_S, 3)


def speaking_at(run: Run, t0: float, t1: float) -> float:
    """The fraction of [t0, t1] in which the coach's voice is loud."""
    flags = run.loud
    a, b = int(t0 / FRAME_S), min(len(flags), int(np.ceil(t1 / FRAME_S)))
    return float(flags[a:b].mean()) if b > a else 0.0


def line_end(run: Run, say: dict[str, Any]) -> float | None:
    """When a `say` (and whatever was asked with it) stopped being heard: `say_end` if logged, else
    the last loud frame before the next line (or tone) asked for later."""
    ends = [e for e in run.of("say_end") if e["t"] >= say["t"] and e.get("text", say["text"]) == say["text"]]
    if ends:
        return float(ends[0]["t"])
    later = [e["t"] for e in run.events if e["type"] in ("say", "tone") and e["t"] > say["t"] + 1e-6]
    return audible_end(run, say["t"], min(later, default=len(run.speaker) / RATE_HZ))


def cut_time(run: Run, ref: Run, t0: float, t1: float, ref_shift_s: float = 0.0) -> float | None:
    """The first moment in [t0, t1) where the coach's voice in `run` departs from what `ref` (the same
    session without the command) was saying, while `ref` was still talking: when the line stopped.
    None if the line played on unchanged to its end."""
    shift = int(round(ref_shift_s * RATE_HZ))
    a, b = int(t0 * RATE_HZ), int(t1 * RATE_HZ)
    n = int(FRAME_S * RATE_HZ)
    ref_loud = ref.loud
    for s in range(a, b - n, n):
        r0 = s - shift
        if r0 < 0 or r0 + n > len(ref.speaker):
            break
        mine = run.speaker[s : s + n].astype(np.int32) if s + n <= len(run.speaker) else np.zeros(n, np.int32)
        theirs = ref.speaker[r0 : r0 + n].astype(np.int32)
        if np.max(np.abs(mine - theirs)) > 64 and ref_loud[min(r0 // n, len(ref_loud) - 1)]:
            return round(s / RATE_HZ, 3)
    return None


# -- judging the user's phrases ----------------------------------------------------------------
def recognized(run: Run) -> list[dict[str, Any]]:
    return [e for e in run.events if e["type"] in ("heard", "ignored")]


def overlaps(e: dict[str, Any], p: Phrase, slack_s: float = MATCH_SLACK_S) -> bool:
    return e["t_start"] < p.end_s + slack_s and e["t_end"] > p.start_s - slack_s


def outcome(run: Run, p: Phrase) -> tuple[str, dict[str, Any] | None]:
    """`heard` (acted on, as the right command), `misheard` (acted on as another), `ignored` (with a
    reason), or `lost` (no event at all: the utterance vanished)."""
    mine = [e for e in recognized(run) if overlaps(e, p)]
    for e in mine:
        if e["type"] == "heard" and (not p.command or e["command"] == p.command):
            return "heard", e
    for e in mine:
        if e["type"] == "heard":
            return "misheard", e
    return ("ignored", mine[0]) if mine else ("lost", None)


def self_triggers(run: Run, phrases: list[Phrase]) -> list[dict[str, Any]]:
    """`heard` events that no phrase of the user explains: the coach acted on its own voice (or noise)."""
    return [e for e in run.of("heard") if not any(overlaps(e, p) for p in phrases)]


def work_folder(keep: Path | None, prefix: str) -> tuple[Path, tempfile.TemporaryDirectory | None]:
    """A benchmark's working folder: `keep` (made if missing), else a temporary one (returned too,
    to clean up)."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return keep, None
    tmp = tempfile.TemporaryDirectory(prefix=prefix)
    return Path(tmp.name), tmp
