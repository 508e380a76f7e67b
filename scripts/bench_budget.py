#!/usr/bin/env python3
"""The smart-speaker budget: idle CPU, peak memory, and time to the first spoken word.

    .venv/bin/python scripts/bench_budget.py [--idle-minutes 10] [--json OUT]

- Idle listening: `coach serve` replays N minutes of a quiet room (pink-noise floor, a few
  ordinary sentences, no start phrase) from a WAV file, pinned to one core. CPU seconds used per
  second of audio is the share of one core that live idle listening costs.
- Peak RSS: the serve process's maximum resident memory (its VmHWM, read while it runs).
- Voice session: a whole replayed glute session (`coach run glutes --mic`, the default engine,
  the coach's voice coming back through the simulated room at gain 1 and the echo canceller): the
  user answers "ready" 0.2 s after each prompt (scripts/bench_turns.py builds the recording), five
  holds to target. Peak RSS (VmHWM) and the median RSS over the session's second half (steady).
  `--skip-voice-session` leaves it out (it takes a few minutes).
- Live voice session: `coach run short --input voice` through the virtual PulseAudio microphone
  and speaker (scripts/virtual-audio; sounddevice and PortAudio loaded, as on a real device), a
  recorded "ready" played into the microphone every 8 s: peak RSS. `--skip-live` leaves it out.
- First spoken word: wall time from starting `coach run` until the first line of speech is
  rendered and placed for playing (the "coach: ..." line is printed as it is queued; we time the
  WAV written by --speaker to confirm it holds speech at t=0).
Every figure comes from running the real program; nothing here is estimated.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "helpers"))

from make_session_wav import make_session_wav  # noqa: E402
from virtual_audio import exports  # noqa: E402

COACH = [sys.executable, "-m", "coach"]
DISTRACTORS = ["I think I need some water", "what a lovely morning", "where did I put my phone",
               "turn the radio down a bit", "okay"]


def _status_kb(pid: int, field: str) -> int:
    """A `/proc/PID/status` memory figure (kB), e.g. VmHWM (peak so far) or VmRSS; 0 once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith(field)), 0)


@dataclass
class Watched:
    """A finished child: its exit status, its own CPU usage (os.wait4), its peak RSS (VmHWM, read
    while it ran: Linux carries a forked child's high-water mark across exec, so getrusage would
    report this large benchmark process's own peak, 757 MB once, as the child's) and its RSS over
    time."""

    returncode: int
    usage: resource.struct_rusage
    peak_kb: int
    rss_kb: list[tuple[float, int]]         # (seconds since start, VmRSS)
    wall_s: float
    errors: str                             # its standard error


def run_watched(command: list[str], env: dict[str, str], err_path: Path,
                tick: Callable[[float], None] | None = None, limit_s: float | None = None) -> Watched:
    """Run `command` pinned to one core and watch its memory every 50 ms; `tick(seconds)` at each
    look; killed after `limit_s`."""
    start = time.monotonic()
    peak_kb, rss_kb = 0, []
    with err_path.open("w+") as err:
        proc = subprocess.Popen(pinned(command), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err)
        while True:
            now = time.monotonic() - start
            peak_kb = max(peak_kb, _status_kb(proc.pid, "VmHWM:"))
            if kb := _status_kb(proc.pid, "VmRSS:"):
                rss_kb.append((now, kb))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if limit_s is not None and now > limit_s:
                proc.kill()
            if tick is not None:
                tick(now)
            time.sleep(0.05)
        err.seek(0)
        errors = err.read()
    wall_s = time.monotonic() - start
    return Watched(os.waitstatus_to_exitcode(status), usage, peak_kb, rss_kb, wall_s, errors)


def pinned(command: list[str]) -> list[str]:
    return ["taskset", "-c", "0", *command] if shutil.which("taskset") else command


def bench_idle(minutes: float, work: Path, env: dict[str, str]) -> dict[str, float]:
    wav = work / "idle.wav"
    length_s = minutes * 60
    plan = [(30.0 + i * (length_s - 60) / len(DISTRACTORS), text) for i, text in enumerate(DISTRACTORS)]
    make_session_wav(wav, plan, length_s, voice="flite:rms")
    run = run_watched([*COACH, "serve", "--mic", str(wav), "--quiet", "--events", str(work / "idle.jsonl")],
                      env, work / "serve.err")
    if run.returncode != 0:
        raise SystemExit(f"coach serve failed: {run.errors.strip()}")
    cpu_s = run.usage.ru_utime + run.usage.ru_stime
    events = [json.loads(line) for line in (work / "idle.jsonl").read_text().splitlines()]
    return {"audio_s": length_s, "wall_s": round(run.wall_s, 2), "cpu_s": round(cpu_s, 2),
            "idle_cpu_pct_of_one_core": round(100 * cpu_s / length_s, 2),
            "peak_rss_mb": round(run.peak_kb / 1024, 1),
            "false_starts": sum(1 for e in events if e["type"] == "heard")}


def bench_voice_session(work: Path, env: dict[str, str], gain: float = 1.0) -> dict[str, float]:
    import bench_turns as B
    import turns as T

    voice = "flite:rms"
    times = B.glute_times(work)
    calib = B.calibrate(work, voice, gain, B.first_prompt_end(work))
    if not calib.ok:
        raise SystemExit(f"voice session: calibration failed: {calib.why}")
    plan, length_s = B.glute_plan(calib, times, 0.2)
    mic = work / "glute.wav"
    T.make_mic(mic, plan, length_s, voice, seed=1)
    data = work / "vs-data"
    data.mkdir()
    events = work / "vs.jsonl"
    command = [*COACH, "run", "glutes", "--mic", str(mic), "--events", str(events),
               "--speaker", str(work / "vs-out.wav"), "--data-dir", str(data), *T.echo_args(gain)]
    run = run_watched(command, env, work / "vs.err")
    if run.returncode != 0:
        raise SystemExit(f"voice session: coach run failed: {run.errors.strip()[-500:]}")
    log = [json.loads(line) for line in events.read_text().splitlines()]
    second_half = sorted(kb for t, kb in run.rss_kb if t >= run.wall_s / 2) or [0]
    return {"audio_s": log[-1]["t"], "wall_s": round(run.wall_s, 2),
            "peak_rss_mb": round(run.peak_kb / 1024, 1),
            "steady_rss_mb": round(second_half[len(second_half) // 2] / 1024, 1),
            "holds": sum(1 for e in log if e["type"] == "hold_end"), "gain": gain}


SHORT_ROUTINE = """\
title: Short
summary: Two 3-second holds.
cues: {get_set_s: 1}
ask_effort: false
exercises:
  - {id: bridge, title: Bridge, say: "Lift your hips.", hold_s: 3, sets: 2, rest_s: 2}
"""


def bench_live_session(work: Path, env: dict[str, str]) -> dict[str, float] | None:
    """A live voice session through the virtual devices; None when they cannot be had here."""
    pulse = work / "pulse"
    started = subprocess.run([str(ROOT / "scripts" / "virtual-audio"), "start"], capture_output=True,
                             text=True, env=dict(env, COACH_PULSE_DIR=str(pulse)), timeout=60)
    if started.returncode != 0:
        print(f"live session skipped: {started.stderr.strip()}", file=sys.stderr)
        return None
    live_env = {**env, "COACH_PULSE_DIR": str(pulse), **exports(started.stdout)}
    data = work / "live-data"
    (data / "routines").mkdir(parents=True)
    (data / "routines" / "short.yaml").write_text(SHORT_ROUTINE)
    events = work / "live.jsonl"
    ready = ROOT / "tests" / "data" / "asr" / "ready.wav"
    next_ready_s = 8.0

    def play_ready(now_s: float) -> None:
        nonlocal next_ready_s
        if now_s >= next_ready_s:
            subprocess.Popen(["paplay", "--device=vmic_in", str(ready)], env=live_env)
            next_ready_s += 8.0

    try:
        run = run_watched([*COACH, "run", "short", "--input", "voice", "--data-dir", str(data), "--events",
                           str(events)], live_env, work / "live.err", tick=play_ready, limit_s=120)
    finally:
        subprocess.run([str(ROOT / "scripts" / "virtual-audio"), "stop"], env=live_env,
                       capture_output=True, timeout=60)
    if run.returncode != 0:
        raise SystemExit(f"live session: coach run failed ({run.returncode}): {run.errors.strip()[-500:]}")
    log = [json.loads(line) for line in events.read_text().splitlines()]
    return {"peak_rss_mb": round(run.peak_kb / 1024, 1),
            "holds": sum(1 for e in log if e["type"] == "hold_end"),
            "heard": sum(1 for e in log if e["type"] == "heard"), "wall_s": round(run.wall_s, 1)}


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
    parser.add_argument("--skip-voice-session", action="store_true",
                        help="leave out the whole replayed voice session (a few minutes)")
    parser.add_argument("--skip-live", action="store_true",
                        help="leave out the live session through the virtual PulseAudio devices")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
        work = Path(tmp)
        env["COACH_DATA_DIR"] = str(work / "data")
        idle = bench_idle(args.idle_minutes, work, env)
        first = bench_first_word(work, env)
        voice = None if args.skip_voice_session else bench_voice_session(work / "vs", env)
        live = None if args.skip_live else bench_live_session(work, env)
    cpu = idle["idle_cpu_pct_of_one_core"]
    rows = [("idle listening, CPU (share of one core)", f"{cpu:.2f} %", "<= 5 %"),
            ("idle replay speed", f"{idle['audio_s'] / idle['wall_s']:.0f}x real time", ""),
            ("peak RSS, coach serve idle (default engine)", f"{idle['peak_rss_mb']:.1f} MB", "<= 150 MB"),
            ("false starts in idle audio", f"{idle['false_starts']}", "0"),
            ("first spoken word after `coach run`", f"{first['first_word_s_median']:.2f} s (max "
             f"{first['first_word_s_max']:.2f})", "<= 1.5 s")]
    if voice is not None:
        rows += [(f"peak RSS, whole voice session ({voice['holds']} holds, room gain {voice['gain']:g})",
                  f"{voice['peak_rss_mb']:.1f} MB", "<= 150 MB"),
                 ("steady RSS, its second half", f"{voice['steady_rss_mb']:.1f} MB", ""),
                 ("voice session replay speed", f"{voice['audio_s'] / voice['wall_s']:.1f}x real time", "")]
    if live is not None:
        rows += [(f"peak RSS, live voice session ({live['holds']} holds, virtual devices)",
                  f"{live['peak_rss_mb']:.1f} MB", "<= 150 MB")]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':<24} target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<24} {target}")
    if args.json:
        found = {"idle": idle, "first_word": first, "voice_session": voice, "live_session": live}
        args.json.write_text(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
