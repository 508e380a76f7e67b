#!/usr/bin/env python3
"""Soak the listener: hours of a quiet room through the real recognizer, as fast as it runs.

    scripts/soak.py [--hours 8] [--json OUT.json] [--seed 1] [--accept ready,stop,...]

The audio is made on the fly, one block at a time so memory stays flat: a pink-noise floor, now and
then an ordinary sentence from someone in the room (some with command words inside them: "we're
almost done with the kitchen"), and once in a while a real command. It goes through pocketsphinx
and `CommandListener` in 50 ms chunks, exactly as a `--mic` replay does, with every command
accepted (the most permissive state). Every simulated 10 minutes the process's resident memory
(/proc/self/statm), threads and open file descriptors are sampled. At the end: a table, the false
triggers (a command acted on where none was said), the commands heard and missed, the real-time
factor, and the growth of threads and descriptors after the first sample and of memory after the
warm-up (its floor: single samples sit 15-20 MB high now and then, while the allocator holds on to
freed blocks, and are back down at the next).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.asr.listener import CommandListener  # noqa: E402
from coach.asr.select import choose_engine, make_recognizer  # noqa: E402
from coach.audio.chunk import AudioChunk  # noqa: E402
from coach.defaults import CHUNK_S, RATE_HZ  # noqa: E402
from coach.voice import load_voice  # noqa: E402

BLOCK_S = 60.0                  # audio is made and fed one block at a time
SAMPLE_EVERY_S = 600.0          # simulated seconds between samples
FLOOR_DBFS = -55.0              # the room's noise floor
SENTENCE_EVERY_S = 150.0        # on average, someone says something this often
COMMAND_EVERY_S = 900.0         # and a real command this often
MATCH_SLACK_S = 0.6             # a heard command this close to a spoken one is that one

SENTENCES = [
    "I think I will make some tea later.",
    "The weather is supposed to be nice tomorrow.",
    "Did you see the game last night?",
    "Let me call you back in a minute.",
    "Hold on, I am on the phone.",
    "We are almost done with the kitchen.",
    "Are you ready to go out for dinner?",
    "I can't find my keys anywhere.",
    "Can you pause the music for a second?",
    "Next week we should visit your mother.",
    "Stop by the shop on your way home.",
    "How long does the bus take from here?",
]
COMMANDS = [("ready", "ready"), ("how long", "how_long"), ("pause", "pause"), ("stop", "stop")]
VOICES = ["flite:slt", "flite:rms"]


@dataclass
class Sample:
    sim_h: float
    wall_s: float
    rtf: float                  # wall seconds per audio second, so far
    rss_mb: float
    threads: int
    fds: int
    false_triggers: int
    heard: int


@dataclass
class Report:
    hours: float
    seed: int
    engine: str
    samples: list[Sample] = field(default_factory=list)
    spoken_commands: int = 0
    heard_commands: int = 0
    false_triggers: list[dict] = field(default_factory=list)
    missed: list[dict] = field(default_factory=list)
    ignored: int = 0            # results the listener dropped (low confidence): not acted on
    rtf: float = 0.0
    rss_growth_mb: float = 0.0  # rise of the floor after the warm-up (see below)
    rss_peak_mb: float = 0.0
    thread_growth: int = 0
    fd_growth: int = 0


def _make_session_wav_module():  # noqa: ANN202
    path = ROOT / "scripts" / "make_session_wav.py"
    spec = importlib.util.spec_from_file_location("make_session_wav", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bank(texts: list[str]) -> dict[tuple[str, str], np.ndarray]:
    """Each text in each voice, synthesised once (a few hundred kB in all)."""
    msw = _make_session_wav_module()
    bank = {}
    with tempfile.TemporaryDirectory(prefix="coach-soak-") as tmp:
        for voice in VOICES:
            for text in texts:
                bank[(text, voice)] = msw.synthesize(text, voice, Path(tmp)).astype(np.float64)
    return bank


def _pink(n: int, rms: float, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(size=n))
    freqs = np.fft.rfftfreq(n)
    freqs[0] = freqs[1]
    noise = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    return noise / np.sqrt(np.mean(noise**2)) * rms


def _block(start_s: float, rng: np.random.Generator, bank: dict, spoken: list[tuple[float, float, str]],
           ) -> np.ndarray:
    """One block of room audio; commands placed in it are appended to `spoken` (start, end, id)."""
    n = int(BLOCK_S * RATE_HZ)
    audio = _pink(n, 32767 * 10 ** (FLOOR_DBFS / 20), rng)
    level = 32767 * 10 ** (-14 / 20)
    events: list[tuple[float, str, str | None]] = []     # (at, text, command or None)
    for _ in range(rng.poisson(BLOCK_S / SENTENCE_EVERY_S)):
        events.append((rng.uniform(0, BLOCK_S - 5), str(rng.choice(SENTENCES)), None))
    for _ in range(rng.poisson(BLOCK_S / COMMAND_EVERY_S)):
        phrase, command_id = COMMANDS[int(rng.integers(len(COMMANDS)))]
        events.append((rng.uniform(0, BLOCK_S - 3), phrase, command_id))
    taken_until = -1.0
    for at_s, text, command in sorted(events, key=lambda e: e[0]):
        at_s = max(at_s, taken_until + 1.0)       # people take turns
        speech = bank[(text, VOICES[int(rng.integers(len(VOICES)))])]
        speech = speech * (level / max(1.0, np.abs(speech).max()))
        i = int(at_s * RATE_HZ)
        j = min(n, i + len(speech))
        if j <= i:
            continue
        audio[i:j] += speech[: j - i]
        taken_until = j / RATE_HZ
        if command is not None:
            spoken.append((start_s + i / RATE_HZ, start_s + j / RATE_HZ, command))
    return np.clip(audio, -32768, 32767).astype("<i2")


def _process() -> tuple[float, int, int]:
    """Resident memory (MB), threads, open file descriptors of this process."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    rss_mb = pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    return rss_mb, len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd"))


def soak(hours: float, seed: int = 1, accept: tuple[str, ...] | None = None, quiet: bool = False) -> Report:
    voice = load_voice(ROOT / "voices" / "en-us.yaml")
    choice = choose_engine("pocketsphinx", None, os.environ, Path(tempfile.gettempdir()), voice)
    listener = CommandListener(make_recognizer(choice, voice), None, phrases=voice.phrases)
    accepted = accept or tuple(voice.phrases)
    rng = np.random.default_rng(seed)
    bank = _bank(SENTENCES + [phrase for phrase, _ in COMMANDS])
    report = Report(hours, seed, f"{listener.recognizer.name} ({listener.recognizer.model})")
    spoken: list[tuple[float, float, str]] = []     # commands said and not yet heard
    chunk = int(round(CHUNK_S * RATE_HZ))
    total_s = hours * 3600.0
    began = time.monotonic()
    next_sample_s = 0.0
    t = 0.0
    if not quiet:
        print(f"{'sim':>6} {'wall s':>8} {'RTF':>7} {'RSS MB':>8} {'threads':>7} {'fds':>5} "
              f"{'false':>5} {'heard':>5}", flush=True)
    while t < total_s:
        if t >= next_sample_s:
            rss_mb, threads, fds = _process()
            wall_s = time.monotonic() - began
            sample = Sample(round(t / 3600, 3), round(wall_s, 1), round(wall_s / t, 4) if t else 0.0,
                            round(rss_mb, 2), threads, fds, len(report.false_triggers), report.heard_commands)
            report.samples.append(sample)
            if not quiet:
                print(f"{int(t // 3600)}:{int(t % 3600 // 60):02d} {sample.wall_s:>8.1f} {sample.rtf:>7.4f} "
                      f"{sample.rss_mb:>8.2f} {threads:>7} {fds:>5} {sample.false_triggers:>5} "
                      f"{sample.heard:>5}", flush=True)
            next_sample_s += SAMPLE_EVERY_S
        before = len(spoken)
        pcm = _block(t, rng, bank, spoken)
        report.spoken_commands += len(spoken) - before
        for i in range(0, len(pcm), chunk):
            piece = AudioChunk(pcm[i : i + chunk].tobytes(), t + i / RATE_HZ)
            for verdict in listener.feed(piece, accepted):
                if not verdict.accepted:
                    report.ignored += 1
                    continue
                h = verdict.heard
                match = next((s for s in spoken if s[2] == h.command and s[0] - MATCH_SLACK_S <= h.t_start
                              <= s[1] + MATCH_SLACK_S), None)
                if match is not None:
                    spoken.remove(match)
                    report.heard_commands += 1
                else:
                    report.false_triggers.append({"t_s": round(h.t_start, 2), "command": h.command,
                                                  "phrase": h.phrase, "confidence": round(h.confidence, 3)})
        t += BLOCK_S
        report.missed += [{"t_s": round(s[0], 2), "command": s[2]} for s in spoken if s[1] <= t - 5.0]
        spoken = [s for s in spoken if s[1] > t - 5.0]  # a few seconds for a late result
    rss_mb, threads, fds = _process()
    wall_s = time.monotonic() - began
    report.samples.append(Sample(round(t / 3600, 3), round(wall_s, 1), round(wall_s / t, 4), round(rss_mb, 2),
                                 threads, fds, len(report.false_triggers), report.heard_commands))
    report.rtf = round(wall_s / t, 4)
    first, rest = report.samples[0], report.samples[1:]     # rest: after the warm-up (models, buffers)
    if rest:
        # The allocator keeps freed blocks now and then (single samples 15-20 MB up, back at the next),
        # so growth is the rise of the floor: lowest of the later half minus lowest of the earlier.
        half = max(1, len(rest) // 2)
        early, late = rest[:half], rest[half:] or rest
        report.rss_growth_mb = round(min(s.rss_mb for s in late) - min(s.rss_mb for s in early), 2)
        report.rss_peak_mb = max(s.rss_mb for s in report.samples)
        report.thread_growth = max(s.threads for s in rest) - first.threads
        report.fd_growth = max(s.fds for s in rest) - first.fds
    if not quiet:
        last = report.samples[-1]
        print(f"{int(t // 3600)}:{int(t % 3600 // 60):02d} {last.wall_s:>8.1f} {last.rtf:>7.4f} "
              f"{last.rss_mb:>8.2f} {last.threads:>7} {last.fds:>5} {last.false_triggers:>5} {last.heard:>5}")
        print(f"\n{hours:g} h of room audio in {wall_s:.0f} s (real-time factor {report.rtf:.4f}, "
              f"{1 / report.rtf:.0f}x real time) with {report.engine}")
        print(f"commands: {report.heard_commands} of {report.spoken_commands} spoken were heard; "
              f"false triggers: {len(report.false_triggers)}; dropped by the listener: {report.ignored}")
        for miss in report.missed:
            print(f"  missed at {miss['t_s']:.1f} s: {miss['command']}")
        for ft in report.false_triggers:
            print(f"  false trigger at {ft['t_s']:.1f} s: {ft['command']} (\"{ft['phrase']}\", "
                  f"{ft['confidence']:.2f})")
        print(f"growth after the warm-up: RSS {report.rss_growth_mb:+.2f} MB (floor; peak "
              f"{report.rss_peak_mb:.1f} MB), threads {report.thread_growth:+d}, "
              f"file descriptors {report.fd_growth:+d}")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=8.0, help="hours of audio to replay (default: 8)")
    parser.add_argument("--seed", type=int, default=1, help="for the room's sounds (default: 1)")
    parser.add_argument("--accept", help="commands the listener acts on, comma-separated (default: all)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the report as JSON")
    args = parser.parse_args()
    if args.hours <= 0:
        parser.error("--hours must be more than 0")
    accept = tuple(a.strip() for a in args.accept.split(",")) if args.accept else None
    report = soak(args.hours, args.seed, accept)
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(report), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
