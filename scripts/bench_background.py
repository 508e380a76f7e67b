#!/usr/bin/env python3
"""A glute session with a TV talking in the room: does the user get through it hands-free?

    scripts/bench_background.py [--voices flite:rms,espeak:en+m3] [--tv-db 20,10] [--gains 0.5]
                                [--jobs 2] [--keep DIR]

Replays the glute routine through `coach run --mic ... --echo-gain G` (file mode, on the audio
clock) with background talk for the whole session: six espeak-ng voices at once
(tests/helpers/babble.py), `--tv-db` dB under the user's voice. The user behaves as a person does:
says "ready" as each prompt ends, says it again as the prompt after "Sorry?" ends, or after 5 s
of silence when the coach said nothing (at most 6 "ready"s for the 2 the routine needs), then
gives up with "can't hold" 20.3 s into the first hold (over "20 seconds."). Each pass replays the
session so far and adds the next reply where that pass showed the coach waiting (a replay is
deterministic: everything before the new phrase happens again).

Prints per voice, TV level and room gain: how many "ready"s the two answers took, whether the
hold started and ended by "can't hold" (`target`: the give-up was not heard) and how far its
held_s is from the truth, how often the coach fell silent (`duck`) or said "Sorry?" with nobody
but the TV talking, and every command acted on that the user did not say (self-triggers, here:
the TV heard as a command).

Small differences move every later moment of a session at these levels (a reply heard or not
changes what the coach says next), so read single rows as examples, several voices and levels
as the figure.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "helpers"))

import turns as T  # noqa: E402
from babble import babble  # noqa: E402

from coach.audio.wav import load_pcm16, write_wav  # noqa: E402

NEEDED = 2                   # the glute routine asks twice before the first hold
MAX_READIES = 6
WAIT_S = 5.0                 # no answer at all: the user waits this long, then says it again
GIVE_UP_S = T.GLUTE_CUES["every"] + T.INTO_CUE_S
SESSION_S = 240.0            # each pass's length: the first hold and its give-up fit well inside


@dataclass
class Report:
    voice: str
    tv_db: float
    gain: float
    readies: int = 0
    hold: bool = False
    ended_by: str = ""
    held_err_s: float | None = None
    ducks_for_tv: list[float] = field(default_factory=list)
    sorry_to_tv: list[float] = field(default_factory=list)
    self_triggers: list[tuple[float, str]] = field(default_factory=list)
    passes: int = 0
    wall_s: float = 0.0


class Session:
    def __init__(self, work: Path, voice: str, tv_db: float, gain: float, tv: np.ndarray) -> None:
        self.work, self.voice, self.gain, self.tv = work, voice, gain, tv
        work.mkdir(parents=True, exist_ok=True)
        probe = T.make_mic(work / "probe.wav", [T.Phrase("ready", 1.0)], 3.0, voice)[0]
        pcm = load_pcm16(work / "probe.wav").astype(np.float64)
        user = pcm[int(probe.start_s * T.RATE_HZ) : int(probe.end_s * T.RATE_HZ)]
        self.tv_level = float(np.sqrt(np.mean(user**2))) / 10 ** (tv_db / 20)
        self.passes = 0

    def run(self, phrases: list[T.Phrase]) -> T.Run:
        """One pass. Every pass is SESSION_S long: the microphone's noise floor is made for the
        whole length, so passes of different lengths differed everywhere, and so did the sessions."""
        self.passes += 1
        mic = self.work / f"mic{self.passes}.wav"
        assert not phrases or phrases[-1].start_s + 15.0 < SESSION_S, "the session outgrew SESSION_S"
        placed = T.make_mic(mic, phrases, SESSION_S, self.voice)
        pcm = load_pcm16(mic).astype(np.float64)
        pcm += self.tv[: len(pcm)] * self.tv_level
        write_wav(mic, np.clip(np.round(pcm), -32768, 32767).astype(np.int16), T.RATE_HZ)
        run = T.coach_run(self.work / f"pass{self.passes}", "glutes", mic, gain=self.gain)
        run.phrases = placed
        return run


def next_ready(run: T.Run, last: T.Phrase | None) -> float | None:
    """When the user says "ready" next (see the module docstring); None: the coach never asks."""
    after = 0.0 if last is None else last.start_s
    say = next((s for s in run.says("ready_prompt") if s["t"] > after), None)
    end = T.line_end(run, say) if say is not None else None
    heard = last is not None and T.outcome(run, last)[0] == "heard"
    if end is not None and (last is None or heard or end < after + 10.0):
        return end
    return None if last is None or heard else last.start_s + WAIT_S


def near_user(t: float, phrases: list[T.Phrase], before_s: float, after_s: float) -> bool:
    return any(p.start_s - before_s <= t <= p.end_s + after_s for p in phrases)


def one(work: Path, voice: str, tv_db: float, gain: float, tv: np.ndarray) -> Report:
    t0 = time.monotonic()
    rep = Report(voice, tv_db, gain)
    session = Session(work, voice, tv_db, gain, tv)
    run = session.run([])
    phrases: list[T.Phrase] = []
    start = None
    while len(phrases) < MAX_READIES:
        at = next_ready(run, run.phrases[-1] if run.phrases else None)
        if at is None:
            break
        phrases.append(T.Phrase("ready", T.align(at), tag="ready", command="ready"))
        run = session.run(phrases)
        start = next((h for h in run.of("hold_start") if h["t"] > phrases[-1].start_s), None)
        if start is not None:
            break
    rep.readies = len(phrases)
    if start is not None:
        rep.hold = True
        phrases.append(T.Phrase("can't hold", T.align(start["t"] + GIVE_UP_S), tag="give_up",
                                command="cant_hold"))
        run = session.run(phrases)
        starts = run.of("hold_start")
        if not starts:          # the replay went otherwise this time (see the module docstring)
            rep.ended_by = "no replay"
        else:
            end = run.hold_end_after(starts[0])
            rep.ended_by = end["ended_by"] if end is not None else "-"
            if end is not None and end["ended_by"] == "cant_hold":
                rep.held_err_s = round(end["held_s"] - (run.phrases[-1].start_s - starts[0]["t"]), 3)
    placed = run.phrases
    rep.ducks_for_tv = [d["t"] for d in run.of("duck") if not near_user(d["t"], placed, 0.3, 0.5)]
    rep.sorry_to_tv = [s["t"] for s in run.says("sorry") if not near_user(s["t"], placed, 0.0, 1.5)]
    rep.self_triggers = [(e["t"], e.get("command", "")) for e in T.self_triggers(run, placed)]
    rep.passes = session.passes
    rep.wall_s = round(time.monotonic() - t0, 1)
    return rep


def table(reports: list[Report]) -> str:
    rows = [f"{'voice':14} {'TV':>6} {'gain':>4}  {'ready x':>7}  {'hold':5} {'ended by':10} "
            f"{'held_s err':>10}  {'ducks for TV':>12}  {'Sorry? to TV':>12}  self-triggers"]
    for r in reports:
        err = f"{r.held_err_s:+.2f} s" if r.held_err_s is not None else "-"
        rows.append(f"{r.voice:14} {r.tv_db:>4g}dB {r.gain:>4g}  {r.readies:>3}/{NEEDED:<3}  "
                    f"{'yes' if r.hold else 'NO':5} {r.ended_by or '-':10} {err:>10}  "
                    f"{len(r.ducks_for_tv):>12}  {len(r.sorry_to_tv):>12}  "
                    f"{', '.join(f'{c} at {t:.1f} s' for t, c in r.self_triggers) or 'none'}")
    done = [r for r in reports if r.ended_by == "cant_hold" and r.held_err_s is not None
            and abs(r.held_err_s) <= 0.25]
    rows.append(f"\n{len(done)}/{len(reports)} sessions reached the hold and recorded the give-up "
                f"within 0.25 s; {sum(r.readies for r in reports)} \"ready\"s for "
                f"{NEEDED * len(reports)} needed; ducks for the TV "
                f"{sum(len(r.ducks_for_tv) for r in reports)}, "
                f"\"Sorry?\" to the TV {sum(len(r.sorry_to_tv) for r in reports)}, self-triggers "
                f"{sum(len(r.self_triggers) for r in reports)}")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voices", default="flite:rms,espeak:en+m3,flite:slt",
                        help="the user's voices (default: three development voices)")
    parser.add_argument("--tv-db", default="20,10", help="TV this many dB under the user (default 20,10)")
    parser.add_argument("--gains", default="0.5", help="room echo gains (default 0.5)")
    parser.add_argument("--jobs", type=int, default=2, help="sessions at once (default 2)")
    parser.add_argument("--keep", type=Path, help="keep the WAVs and logs in this folder")
    args = parser.parse_args()
    work, tmp = T.work_folder(args.keep, "bench_background.")
    t0 = time.monotonic()
    talk_dir = work / "talk"
    talk_dir.mkdir(exist_ok=True)
    tv = babble(talk_dir, 600.0)
    jobs = [(v, float(d), float(g)) for g in args.gains.split(",") for d in args.tv_db.split(",")
            for v in args.voices.split(",")]
    print(f"bench_background: {len(jobs)} sessions (voices {args.voices}; TV {args.tv_db} dB under the "
          f"user; gains {args.gains}); echo model {T.echo_model()}", file=sys.stderr)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(one, work / f"{v.replace(':', '_')}_{d:g}_{g:g}", v, d, g, tv)
                   for v, d, g in jobs]
        reports = []
        for fut in futures:
            r = fut.result()
            reports.append(r)
            print(f"  {r.voice:14} TV {r.tv_db:g} dB gain {r.gain:g}: {r.passes} passes, {r.wall_s:.0f} s",
                  file=sys.stderr)
    print(table(reports))
    print(f"\n({time.monotonic() - t0:.0f} s wall)")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
