#!/usr/bin/env python3
"""Measure echo cancellation of the coach's own voice over a whole glute session's narration.

    scripts/bench_aec.py [--work DIR] [--full] [--excerpt-s 120] [--skip-asr] [--json OUT.json]

1. Renders a whole glute session: `coach run --mic USER.wav --speaker OUT.wav`, where USER.wav
   (flite slt, a development voice) says "ready" after each "Say ready" prompt; the prompts are
   found run by run, so the session goes to its end. OUT.wav is the coach's narration.
2. ERLE per room (`coach.audio.room`) and canceller: echo = Room(narration), mic = echo plus a
   -60 dBFS noise floor; ERLE = mic power over output power in the frames where the coach plays,
   after the first 10 s; convergence = the first second whose ERLE reaches 10 dB; CPU as the
   canceller's real-time factor (process seconds per audio second, one core). By default one
   room setting is varied at a time around the default room; `--full` runs the whole grid.
   The coach's own canceller is "speex+speaker model" (`coach.audio.echo.open_canceller`).
3. Self-triggers: `coach listen --json` over the whole session's echo at gain 1.0, uncancelled and
   cancelled: every command it reports is one the coach would have heard from itself.
4. Double-talk: development voices (flite slt/rms, espeak-ng en-us/en+m3) say commands over
   narration lines; how much the cancelled output attenuates them (the in-phase part of the
   user's speech left in the output) and whether `coach listen` still hears them.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from coach.audio.echo import FramedCanceller, PassThrough, SpeexCanceller, power_dbfs  # noqa: E402
from coach.audio.nlms import NlmsCanceller  # noqa: E402
from coach.audio.room import Room, RoomConfig  # noqa: E402
from coach.audio.wav import load_pcm16, write_wav  # noqa: E402
from coach.defaults import RATE_HZ  # noqa: E402

CHUNK = 800                 # 50 ms, as the coach feeds the canceller
FLOOR_RMS = 32767 * 10 ** (-60 / 20)
SKIP_S = 10.0               # ERLE is reported after this much (the converged filter)
CANDIDATES = {
    "speex": lambda: SpeexCanceller(),
    "speex+speaker model": lambda: SpeexCanceller(speaker_model=True),
    "speex+suppress": lambda: SpeexCanceller(suppress_db=-40),
    "speex, no delay est.": lambda: SpeexCanceller(estimate_delay=False),
    "nlms (numpy)": lambda: NlmsCanceller(),
}
USER_VOICES = ["flite:slt", "flite:rms", "espeak:en-us", "espeak:en+m3"]
COMMANDS = [("can't hold", "cant_hold"), ("stop", "stop"), ("done", "done"), ("pause", "pause"),
            ("ready", "ready")]


def _make_session_module():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("make_session_wav", HERE / "make_session_wav.py")
    module = importlib.util.module_from_spec(spec)          # type: ignore[arg-type]
    spec.loader.exec_module(module)                         # type: ignore[union-attr]
    return module


def coach(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "coach", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)


def render_session(work: Path) -> tuple[np.ndarray, list[dict]]:
    """The coach's narration of a whole glute session (int16) and its event log."""
    out, ev = work / "narration.wav", work / "narration.jsonl"
    if out.exists() and ev.exists():
        return load_pcm16(out), [json.loads(x) for x in ev.read_text().splitlines()]
    make = _make_session_module()
    readies: list[float] = []
    env = dict(os.environ, COACH_DATA_DIR=str(work / "data"))
    for _ in range(12):
        user = work / "user-ready.wav"
        length = (readies[-1] if readies else 0.0) + 240.0
        make.make_session_wav(user, [(t, "ready") for t in readies], length, "flite:slt")
        for p in (work / "data").glob("*.sqlite3*"):
            p.unlink()
        coach("run", "--mic", str(user), "--speaker", str(out), "--events", str(ev), "--no-aec",
              "--no-resume", env=env)
        records = [json.loads(x) for x in ev.read_text().splitlines()]
        end = records[-1]
        if end["type"] == "session_end" and not end.get("stopped"):
            break
        prompts = [r["t"] for r in records if r["type"] == "state" and r.get("name") == "waiting_ready"
                   and r["t"] > (readies[-1] if readies else -1)]
        if not prompts:
            break
        speech = load_pcm16(out)
        at = int(prompts[0] * RATE_HZ)
        quiet = (np.abs(speech[at:].astype(np.int32)) < 30).astype(np.int64)
        csum = np.concatenate([[0], np.cumsum(quiet)])
        run = csum[RATE_HZ // 2:] - csum[: -(RATE_HZ // 2)]          # quiet samples in each 0.5 s
        gap = np.flatnonzero((run == RATE_HZ // 2) & (np.arange(len(run)) > 0.3 * RATE_HZ))
        end_s = prompts[0] + (gap[0] / RATE_HZ if len(gap) else 3.0)
        readies.append(round(end_s + 1.5, 2))     # clear of the listener's echo tail
    return load_pcm16(out), records


def echo_of(narration: np.ndarray, config: RoomConfig, seed: int = 7) -> np.ndarray:
    room = Room(config)
    echo = np.concatenate([room.process(narration[i:i + CHUNK]) for i in range(0, len(narration), CHUNK)])
    return echo + np.random.default_rng(seed).normal(0.0, FLOOR_RMS, len(echo))


def cancel(canceller: FramedCanceller, mic: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, float]:
    mic16 = np.clip(np.round(mic), -32768, 32767).astype(np.int16)
    t0 = time.process_time()
    out = np.concatenate([canceller.process(mic16[i:i + CHUNK], ref[i:i + CHUNK])
                          for i in range(0, len(mic16), CHUNK)])
    return out, (time.process_time() - t0) / (len(mic16) / RATE_HZ)


def erle_figures(mic: np.ndarray, out: np.ndarray, ref: np.ndarray) -> tuple[float, float | None]:
    """Steady ERLE (dB, coach-active frames after SKIP_S) and the first second reaching 10 dB."""
    f = 160
    n = len(ref) // f
    act = np.array([power_dbfs(ref[i * f:(i + 1) * f]) > -50 for i in range(n)])
    pm = np.square(mic[: n * f].astype(np.float64)).reshape(n, f).sum(1)
    po = np.square(out[: n * f].astype(np.float64)).reshape(n, f).sum(1)
    skip = int(SKIP_S * RATE_HZ / f)
    sel = act.copy()
    sel[:skip] = False
    steady = 10 * np.log10(pm[sel].sum() / max(po[sel].sum(), 1e-9))
    conv = None
    per_s = RATE_HZ // f
    for s in range(n // per_s):
        a = act[s * per_s:(s + 1) * per_s]
        if a.sum() < per_s // 4:
            continue
        span = slice(s * per_s, (s + 1) * per_s)
        e = 10 * np.log10(pm[span][a].sum() / max(po[span][a].sum(), 1e-9))
        if e >= 10:
            conv = float(s + 1)
            break
    return float(steady), conv


def explained_margin_db(canceller: FramedCanceller, out: np.ndarray, ref: np.ndarray,
                        t_start: float, t_end: float) -> float:
    """How far the output stands above the residual echo the canceller expects there (dB).

    Near or below 0, the coach's own residual explains what was heard; a user's command stands
    well above it. (The listener's self-voice rule can use `echo_power_estimate` like this.)
    """
    span = slice(int(t_start * RATE_HZ), max(int(t_end * RATE_HZ), int(t_start * RATE_HZ) + 160))
    return power_dbfs(out[span]) - canceller.echo_power_estimate(ref[span])


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{np.median(values):.1f} ({min(values):.1f}..{max(values):.1f})"


def rooms(full: bool) -> list[RoomConfig]:
    base = RoomConfig(gain=1.0)
    if full:
        return [RoomConfig(g, d, r, x) for g, r, d, x in
                itertools.product((0.3, 0.5, 1.0), (0.3, 0.45, 0.6), (30.0, 70.0, 150.0), (0.0, 0.2))]
    out = [base]
    out += [replace(base, gain=g) for g in (0.3, 0.5)]
    out += [replace(base, rt60_s=r) for r in (0.3, 0.6)]
    out += [replace(base, delay_ms=d) for d in (30.0, 150.0)]
    out += [replace(base, distortion=0.0)]
    out += [RoomConfig(gain=1.0, delay_ms=150.0, rt60_s=0.6, distortion=0.0)]
    return out


def excerpt(narration: np.ndarray, seconds: float) -> np.ndarray:
    """The densest `seconds` of narration (the most coach speech), to keep the grid quick."""
    n = int(seconds * RATE_HZ)
    if len(narration) <= n:
        return narration
    active = np.abs(narration.astype(np.int32)) > 100
    per_s = active[: len(active) // RATE_HZ * RATE_HZ].reshape(-1, RATE_HZ).sum(1)
    window = int(seconds)
    best = int(np.argmax(np.convolve(per_s, np.ones(window), "valid")))
    return narration[best * RATE_HZ: best * RATE_HZ + n]


def listen(path: Path, env: dict[str, str]) -> list[dict]:
    result = coach("listen", str(path), "--json", "--engine", "pocketsphinx", env=env)
    return [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]


def table(rows: list[list[str]], head: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def kept_db(out: np.ndarray, user: np.ndarray, span: slice, max_lag: int = 400) -> float:
    """The user's speech left in the output (dB): the in-phase gain at the best lag (a suppressor
    delays its output by about a frame; speex's DC notch alone costs a little at low frequencies)."""
    u = user[span]
    best = 0.0
    for lag in range(0, max_lag, 2):
        o = out[span.start + lag: span.stop + lag].astype(np.float64)
        if len(o) < len(u):
            break
        best = max(best, float(np.dot(o, u) / max(np.dot(u, u), 1e-9)))
    return 20 * np.log10(max(best, 1e-6))


def heard_in(signal: np.ndarray, path: Path, truth: list[dict], env: dict[str, str]) -> str:
    """How many of the said commands `coach listen` hears in `signal` (right command, within 1.5 s)."""
    write_wav(path, np.clip(np.round(signal), -32768, 32767).astype(np.int16), RATE_HZ)
    got = listen(path, env)
    label = dict(COMMANDS)
    hits = sum(any(h["command"] == label[p["text"]] and abs(h["t_start"] - p["t_start"]) < 1.5 for h in got)
               for p in truth)
    return f"{hits}/{len(truth)}"


def double_talk(narration: np.ndarray, work: Path, env: dict[str, str], gain: float,
                candidates: tuple[str, ...] = ("speex", "speex+speaker model", "speex+suppress"),
                ) -> list[list[str]]:
    """Commands said over narration lines: attenuation by the canceller and what pocketsphinx hears."""
    make = _make_session_module()
    length = min(len(narration) / RATE_HZ, 240.0)
    ref = narration[: int(length * RATE_HZ)]
    active = np.abs(ref.astype(np.int32)) > 100
    per_100ms = active[: len(active) // 1600 * 1600].reshape(-1, 1600).mean(1) > 0.2
    # start times where the coach talks through the next second, at least 6 s apart, after 15 s
    starts, last = [], -10.0
    for k in range(len(per_100ms) - 12):
        t = k * 0.1
        if t > 15 and t - last >= 6 and per_100ms[k:k + 10].all():
            starts.append(round(t + 0.2, 2))
            last = t
    rows = []
    for voice in USER_VOICES:
        plan = [(t, COMMANDS[i % len(COMMANDS)][0]) for i, t in enumerate(starts)]
        user_wav = work / f"user-{voice.replace(':', '-')}.wav"
        truth = make.make_session_wav(user_wav, plan, length, voice)
        user = load_pcm16(user_wav).astype(np.float64)
        echo = echo_of(ref, RoomConfig(gain=gain))
        mic = user + echo
        spans = [slice(int(p["t_start"] * RATE_HZ), int(p["t_end"] * RATE_HZ)) for p in truth]
        sir = [10 * np.log10(np.sum(user[s] ** 2) / max(np.sum(echo[s] ** 2), 1e-9)) for s in spans]

        def wav(name: str, _voice: str = voice) -> Path:
            return work / f"dt-{_voice.replace(':', '-')}-{name}.wav"

        alone = heard_in(user, wav("user_alone"), truth, env)
        uncancelled = heard_in(mic, wav("uncancelled"), truth, env)
        for name in candidates:
            canceller = CANDIDATES[name]()
            out, _ = cancel(canceller, mic, ref)
            margins = [explained_margin_db(canceller, out, ref, p["t_start"], p["t_end"]) for p in truth]
            att = [kept_db(out, user, s) for s in spans]
            rows.append([voice, f"{gain:g}", name, str(len(truth)), f"{np.median(sir):.1f}",
                         f"{np.median(att):.1f} ({min(att):.1f})", alone, uncancelled,
                         heard_in(out, wav(name.replace("+", "_")), truth, env), _spread(margins)])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/coach-bench-aec"))
    parser.add_argument("--full", action="store_true",
                        help="every room of the grid, not one change at a time")
    parser.add_argument("--excerpt-s", type=float, default=120.0, help="seconds of narration per ERLE run")
    parser.add_argument("--skip-asr", action="store_true", help="only ERLE and CPU (no recognizer runs)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, COACH_DATA_DIR=str(args.work / "data"))
    narration, records = render_session(args.work)
    total_s = len(narration) / RATE_HZ
    speaking = float(np.mean(np.abs(narration.astype(np.int32)) > 100))
    print(f"narration: {total_s:.0f} s of a whole glute session, "
          f"{sum(r['type'] == 'say' for r in records)} lines, "
          f"coach audible {100 * speaking:.0f} % of samples")
    ref = excerpt(narration, args.excerpt_s)
    results: dict[str, object] = {"erle": [], "self_triggers": [], "double_talk": []}
    rows = []
    for room in rooms(args.full):
        mic = echo_of(ref, room)
        for name, make in CANDIDATES.items():
            canceller = make()
            out, rtf = cancel(canceller, mic, ref)
            steady, conv = erle_figures(mic, out, ref)
            rows.append([f"{room.gain:g}", f"{room.rt60_s:g}", f"{room.delay_ms:g}", f"{room.distortion:g}",
                         name, f"{steady:.1f}", "-" if conv is None else f"{conv:.0f}", f"{rtf:.3f}",
                         "-" if canceller.delay_ms is None else f"{canceller.delay_ms:.1f}"])
            keys = ["gain", "rt60_s", "delay_ms", "distortion", "canceller", "erle_db", "converged_s",
                    "rtf", "delay_found_ms"]
            results["erle"].append(dict(zip(keys, rows[-1], strict=True)))  # type: ignore[attr-defined]
        print(f"  room gain {room.gain:g} rt60 {room.rt60_s:g} delay {room.delay_ms:g} "
              f"distortion {room.distortion:g} done", file=sys.stderr, flush=True)
    print(f"\nERLE over {len(ref) / RATE_HZ:.0f} s of the densest narration (after {SKIP_S:g} s), "
          "50 ms chunks:")
    print(table(rows, ["gain", "RT60 s", "delay ms", "distortion", "canceller", "ERLE dB",
                       "to 10 dB, s", "CPU (RTF)", "delay found ms"]))
    if args.skip_asr:
        return 0
    rows = []
    echo = echo_of(narration, RoomConfig(gain=1.0))
    for name, make in (("none", PassThrough), ("speex", CANDIDATES["speex"]),
                       ("speex+speaker model", CANDIDATES["speex+speaker model"]),
                       ("speex+suppress", CANDIDATES["speex+suppress"]),
                       ("nlms (numpy)", CANDIDATES["nlms (numpy)"])):
        canceller = make()
        out, _ = cancel(canceller, echo, narration)
        path = args.work / f"self-{name.split()[0]}.wav"
        write_wav(path, out, RATE_HZ)
        got = listen(path, env)
        which = ", ".join(f"{h['command']}@{h['t_start']:.1f}" for h in got[:6])
        margins = [explained_margin_db(canceller, out, narration, h["t_start"], h["t_end"]) for h in got]
        rows.append([name, f"{total_s:.0f}", str(len(got)), which + (" ..." if len(got) > 6 else ""),
                     _spread(margins)])
        results["self_triggers"].append({"canceller": name, "commands": got})  # type: ignore[attr-defined]
    print("\nSelf-triggers: `coach listen` (pocketsphinx) over the whole session's echo, room gain 1.0 "
          "(default room):")
    print(table(rows, ["canceller", "audio s", "commands heard", "which",
                       "output over expected residual, dB: median (min..max)"]))
    rows = []
    for gain in (0.5, 1.0):
        rows += double_talk(narration, args.work, env, gain)
    print("\nDouble-talk: commands said over narration lines; the user's speech kept in the output, "
          "median (worst); heard = right command within 1.5 s:")
    print(table(rows, ["user voice", "gain", "canceller", "commands", "user/echo dB", "user kept dB",
                       "heard: user alone", "heard: uncancelled", "heard: cancelled",
                       "output over expected residual, dB"]))
    results["double_talk"] = rows
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
