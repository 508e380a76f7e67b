#!/usr/bin/env python3
"""Soak `coach serve` in file mode: hours of a quiet room with sessions in it, RSS/threads/fds sampled.

    scripts/soak_serve.py [--hours 24] [--sessions-per-day 3] [--reminder 08:00 ...]
                          [--coach-root DIR] [--json OUT.json]

A WAV of `--hours` is made as a sparse file (the quiet stretches take no disk; coach dithers them
as it does every replay), with real synthesized speech (flite, not the coach's voice), made once
and placed at each session: "start my exercises", then "ready" for each of two 3-second sets.
`coach serve --mic FILE --quiet` replays it as fast as it runs, in a subprocess; its resident
memory (/proc/PID/status), threads and open descriptors are sampled with the audio position it has
reached (the WAV descriptor's offset, /proc/PID/fdinfo). At the end: a table, the growth after the
first two sessions (the warm-up: models, caches), the RSS trend per replayed day (a least-squares line)
and how long a week would take at the measured speed.

A week in one run (`--hours 168`): a RIFF WAV's sizes are 32-bit (at most ~37 h at 16 kHz), so
longer soaks are written as RF64 (64-bit sizes, the format recorders use past 4 GB; coach reads
it), still sparse. serve replayed a week (21 sessions) at 148x real time on one core of this
machine: 68 minutes.
`--coach-root` runs another checkout's coach (e.g. /work/main, to see the old growth).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RATE_HZ = 16_000
ROUTINE = """\
title: Soak
summary: Two 3-second holds.
cues: {get_set_s: 1}
exercises:
  - id: bridge
    title: Bridge
    say: Lift your hips.
    hold_s: 3
    sets: 2
    rest_s: {min: 2, max: 2}
"""
SCRIPT = ((0.0, "start my exercises"), (14.0, "ready"), (30.0, "ready"))   # seconds into a session
MAX_RIFF_HOURS = (2 ** 32 - 1 - 36) / (RATE_HZ * 2) / 3600                 # one RIFF's 32-bit sizes
# Growth is measured after this many sessions: the first two load what serve keeps for good (a
# one-time step of ~16 MB at the second session, measured; then flat)
WARM_SESSIONS = 2


def _make_session_module():
    path = ROOT / "scripts" / "make_session_wav.py"
    spec = importlib.util.spec_from_file_location("make_session_wav", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def make_wav(path: Path, hours: float, per_day: int, voice: str) -> list[float]:
    """The sparse day-long recording; returns the session start times (seconds)."""
    total = int(hours * 3600 * RATE_HZ)
    make = _make_session_module()
    with tempfile.TemporaryDirectory() as tmp:
        phrases = {text: make.synthesize(text, voice, Path(tmp)) for _, text in SCRIPT}
    header = wav_header(total)
    gap_s = 86_400 / per_day
    starts = [600.0 + k * gap_s for k in range(int(hours * 3600 / gap_s) + 1) if 600 + k * gap_s + 60
              < hours * 3600]
    with path.open("wb") as f:
        f.write(header)
        f.truncate(len(header) + total * 2)
        for start in starts:
            for offset, text in SCRIPT:
                f.seek(len(header) + int((start + offset) * RATE_HZ) * 2)
                f.write(np.asarray(phrases[text], dtype="<i2").tobytes())
    return starts


def wav_header(frames: int) -> bytes:
    """16 kHz mono int16: RIFF while the sizes fit 32 bits, else RF64 (sizes in a ds64 chunk)."""
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, RATE_HZ, RATE_HZ * 2, 2, 16)
    data_bytes = frames * 2
    if 36 + data_bytes < 2 ** 32:
        return b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE" + fmt + b"data" + struct.pack(
            "<I", data_bytes)
    riff_bytes = 4 + (8 + 28) + len(fmt) + 8 + data_bytes
    ds64 = b"ds64" + struct.pack("<IQQQI", 28, riff_bytes, data_bytes, frames, 0)
    return b"RF64" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + ds64 + fmt + b"data" + struct.pack(
        "<I", 0xFFFFFFFF)


def _proc(pid: int) -> tuple[float, int, int] | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    if "VmRSS" not in fields:       # exiting (a zombie)
        return None
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"]), fds


def _audio_s(pid: int, wav: Path, header_bytes: int) -> float | None:
    """How far serve has read into `wav`, in audio seconds: its descriptor's file offset."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(wav):
                info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
                pos = int(next(line for line in info.splitlines() if line.startswith("pos:")).split()[1])
                return max(0.0, (pos - header_bytes) / (RATE_HZ * 2))
    except (OSError, StopIteration, ValueError):
        return None
    return None


def _trend_mb_per_day(samples: list[dict]) -> float | None:
    """The least-squares slope of RSS against audio time, in MB per replayed day."""
    points = [(s["audio_s"], s["rss_mb"]) for s in samples if s.get("audio_s") is not None]
    if len(points) < 3 or points[-1][0] - points[0][0] < 600:
        return None
    x, y = np.array(points).T
    return float(np.polyfit(x / 86_400, y, 1)[0])


def _session_t(events: Path) -> tuple[float, int]:
    """The session time the log has reached, and how many sessions ended so far."""
    try:
        data = events.read_bytes()
    except OSError:
        return 0.0, 0
    lines = data.splitlines()
    ended = data.count(b'"type": "session_end"')
    for line in reversed(lines[-50:]):
        try:
            return float(json.loads(line)["t"]), ended
        except (ValueError, KeyError):
            continue
    return 0.0, ended


def soak(hours: float, per_day: int, coach_root: Path, voice: str, sample_every_s: float,
         reminders: tuple[str, ...] = ()) -> dict:
    with tempfile.TemporaryDirectory(prefix="coach-soak-serve-") as tmp:
        base = Path(tmp)
        (base / "data" / "routines").mkdir(parents=True)
        (base / "data" / "routines" / "soak.yaml").write_text(ROUTINE)
        wav, events = base / "week.wav", base / "events.jsonl"
        starts = make_wav(wav, hours, per_day, voice)
        env = dict(os.environ, COACH_DATA_DIR=str(base / "data"), PYTHONPATH=str(coach_root))
        began = time.monotonic()
        child = subprocess.Popen([sys.executable, "-m", "coach", "serve", "--mic", str(wav), "--quiet",
                                  "--routine", "soak", "--events", str(events),
                                  "--start-time", "2026-11-23T00:00",
                                  *(arg for at in reminders for arg in ("--reminder", at))],
                                 cwd=str(coach_root), env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        samples = []
        header_bytes = len(wav_header(int(hours * 3600 * RATE_HZ)))
        while child.poll() is None:
            time.sleep(sample_every_s)
            got = _proc(child.pid)
            audio_s = _audio_s(child.pid, wav, header_bytes)
            if got is not None:
                t, ended = _session_t(events)
                samples.append({"t_s": t, "audio_s": audio_s, "sessions": ended, "rss_mb": round(got[0], 1),
                                "threads": got[1], "fds": got[2],
                                "wall_s": round(time.monotonic() - began, 1)})
        out, err = child.communicate()
        wall_s = time.monotonic() - began
        events_text = events.read_text() if events.exists() else ""
    warm = [s for s in samples if s["sessions"] >= WARM_SESSIONS] or samples
    result = {
        "hours": hours, "sessions_planned": len(starts), "returncode": child.returncode,
        "stdout": out.strip().splitlines()[-1:] if out else [], "stderr": err.strip().splitlines()[-3:],
        "wall_s": round(wall_s, 1), "samples": samples,
        "rss_warmup_mb": round(warm[0]["rss_mb"] - samples[0]["rss_mb"], 1) if warm else None,
        "rss_growth_mb": round(warm[-1]["rss_mb"] - min(s["rss_mb"] for s in warm), 1) if warm else None,
        "threads_growth": warm[-1]["threads"] - warm[0]["threads"] if warm else None,
        "fds_growth": warm[-1]["fds"] - warm[0]["fds"] if warm else None,
        "rss_trend_mb_per_day": _round(_trend_mb_per_day(warm)),
        "reminders_said": _count(events_text, "reminder"),
    }
    replayed = hours * 3600
    result["speed_x_real_time"] = round(replayed / wall_s, 1) if wall_s else None
    result["week_wall_min"] = round(7 * 86_400 / (replayed / wall_s) / 60, 1) if wall_s else None
    return result


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _count(events_text: str, kind: str) -> int:
    return events_text.count(f'"type": "{kind}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0,
                        help=f"replayed hours (168: a week; past {MAX_RIFF_HOURS:.1f} the WAV is RF64)")
    parser.add_argument("--sessions-per-day", type=int, default=3)
    parser.add_argument("--coach-root", type=Path, default=ROOT)
    parser.add_argument("--voice", default="flite:rms")
    parser.add_argument("--sample-every", type=float, default=5.0, help="wall-clock seconds between samples")
    parser.add_argument("--reminder", action="append", default=[], metavar="HH:MM",
                        help="passed to coach serve (repeatable)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = soak(args.hours, args.sessions_per_day, args.coach_root, args.voice, args.sample_every,
                  tuple(args.reminder))
    print(f"{'audio time':>10} {'wall':>7} {'sessions':>8} {'RSS MB':>7} {'threads':>7} {'fds':>4}")
    shown = result["samples"][:: max(1, len(result["samples"]) // 30)]
    for s in shown:
        audio = f"{s['audio_s'] / 3600:>9.2f}h" if s.get("audio_s") is not None else f"{'?':>10}"
        print(f"{audio} {s['wall_s']:>6.0f}s {s['sessions']:>8} {s['rss_mb']:>7.1f} {s['threads']:>7} "
              f"{s['fds']:>4}")
    print(f"{result['stdout']} in {result['wall_s']} s (exit {result['returncode']}); "
          f"{result['reminders_said']} reminders in the log")
    print(f"warm-up (the first {WARM_SESSIONS} sessions): RSS +{result['rss_warmup_mb']} MB")
    print(f"after the warm-up: RSS {result['rss_growth_mb']} MB (last minus lowest), "
          f"trend {result['rss_trend_mb_per_day']} MB per replayed day, "
          f"threads {result['threads_growth']:+d}, fds {result['fds_growth']:+d}")
    print(f"speed {result['speed_x_real_time']}x real time: a week would take {result['week_wall_min']} min")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["returncode"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
