#!/usr/bin/env python3
"""Turn-taking benchmark (issue 9, Must-have 8): is the user heard at every moment of a session?

    scripts/bench_turns.py [--quick] [--gains 0,0.3,0.5,1.0] [--voices espeak:en-us,...]
                           [--sessions 10] [--jobs 2] [--json out.json] [--keep DIR]

Replays whole sessions through `coach run --mic ... --events ... --speaker ...` (file mode: on the
audio clock, as fast as the recognizer runs), with a user's voice placed at moments defined by the
coach's own timeline (see tests/helpers/turns.py for how positions are computed):
  (a) "can't hold" 0.3 s into each kind of hold cue: an elapsed mark ("10 seconds."), "Halfway.",
      "10 seconds to go." and every second of the 5-4-3-2-1 countdown; plus "between" cues (control);
  (b) "ready" 0, 100, 200 and 300 ms after a prompt ("Rest is over. Say ready for the next set.") ends;
  (c) "ready" over a line that contains it: the cue "You can say ready whenever you like." and the
      narration "Rest is over. Say ready for the next set.";
  (d) "pause" (at five places) and "stop" over narration ("Rest. Say ready after 10 seconds, ...").
The coach's voice comes back into the microphone at each echo gain (the room simulation when
`coach run` has one, else today's exact delayed copy). One chain run per voice and gain carries
every placement, each hold set up by an answer the session cannot miss.

Then whole glute sessions at echo gain 1.0 in which the user says only what is needed ("ready"
after each prompt): every `heard` the user did not say is a self-trigger.

Voices: development voices, and separately the reserved independent-check voices (measured, never
tuned on). Prints the tables; `--json` keeps every placement's result.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "helpers"))

import turns as T  # noqa: E402

GAINS = (0.0, 0.3, 0.5, 1.0)
PROMPT_OFFSETS_MS = (0, 100, 200, 300)
FALLBACK_S = 3.0            # a user who was not answered says it again this much later
CONTROL_INTO_HOLD_S = 2.5   # the "between cues" can't hold, this far into a hold
RESYNC_GAP_S = 2.0          # the resync "ready" comes this long after the latest possible prompt end
TOLERANCE_S = 0.25          # issue 9: held_s within 0.25 s of the utterance start
BARGE_IN_S = 0.3            # issue 9: the coach stops talking within 0.3 s of "stop"
GLUTE_REPEAT_S = 4.0        # whole glute sessions: an unanswered "ready" is said again this much later


@dataclass
class Calib:
    """What a first pass of the bench routine tells (for one voice and echo gain)."""

    voice: str
    gain: float
    ok: bool
    why: str = ""
    r0: float = 0.0             # the first "ready" (chunk-aligned, 1.5 s after the first prompt ends)
    dh: float = 0.0             # hold start minus the start of a "ready" said in silence
    h1: float = 0.0             # the calibration hold's start
    group_end: float = 0.0      # after a hold ends at its target: the rest narration ends (offset)
    min_end: float = 0.0        # "You can say ready whenever you like." ends (offset from hold end)
    over_end: float = 0.0       # "Rest is over. Say ready for the next set." ends (offset)
    run: T.Run | None = None


@dataclass
class Episode:
    kind: str                   # every, halfway, warn, count5..count1, prompt+0ms.., word_cue, ...
    pred_h: float               # the deterministic hold this episode hangs on
    phrase: T.Phrase
    control: T.Phrase | None = None


@dataclass
class Result:
    voice: str
    family: str
    gain: float
    kind: str
    valid: bool                 # the hold started where it was predicted (else: not counted)
    outcome: str = ""           # heard | misheard | ignored | lost
    reason: str = ""            # the `ignored` reason
    acted: bool = False
    err_s: float | None = None  # held_s minus the truth (hold-ending kinds)
    stop_s: float | None = None  # end of the command to the coach's line stopping (pause/stop)
    said_s: float | None = None  # where the command was placed in the chain (session seconds)


@dataclass
class CellReport:
    voice: str
    gain: float
    calib_ok: bool
    why: str = ""
    results: list[Result] = field(default_factory=list)
    self_triggers: list[dict[str, Any]] = field(default_factory=list)
    phrases: int = 0
    lost: int = 0
    audio_s: float = 0.0
    wall_s: float = 0.0


def first_prompt_end(work: Path) -> float:
    """Pass 0: the bench routine over silence; where "Say ready when you're in position." ends."""
    mic = work / "silence.wav"
    T.make_mic(mic, [], 25.0, "flite:rms")
    run = T.coach_run(work / "pass0", "turns", mic, routine_text=T.TURNS_ROUTINE)
    end = T.line_end(run, run.says("ready_prompt")[0])
    assert end is not None
    return end


def calibrate(work: Path, voice: str, gain: float, prompt_end: float) -> Calib:
    r0 = T.align(prompt_end + 1.5)
    mic = work / "calib.wav"
    phrases = T.make_mic(mic, [T.Phrase("ready", r0, tag="resync", command="ready")],
                         r0 + T.GET_SET_S + T.TURNS_HOLD_S + T.TURNS_REST_MAX_S + 8.0, voice)
    run = T.coach_run(work / "calib", "turns", mic, gain=gain, routine_text=T.TURNS_ROUTINE)
    run.phrases = phrases
    starts = run.of("hold_start")
    if not starts:
        return Calib(voice, gain, False, "the first \"ready\", said in silence, was not acted on", run=run)
    h1 = starts[0]["t"]
    end = run.hold_end_after(starts[0])
    if end is None or end["ended_by"] != "target" or T.self_triggers(run, phrases):
        return Calib(voice, gain, False, "the calibration hold did not run to its target", run=run)
    hold_end = end["t"]
    says = {e["line"]: e for e in run.says() if e["t"] >= hold_end}
    ends = {k: T.line_end(run, says[k]) for k in ("rest_start", "rest_min_reached", "rest_over") if k in says}
    if None in ends.values() or len(ends) < 3:
        return Calib(voice, gain, False, "the rest's lines were not found in the calibration run", run=run)
    return Calib(voice, gain, True, r0=r0, dh=round(h1 - r0, 3), h1=h1,
                 group_end=ends["rest_start"] - hold_end, min_end=ends["rest_min_reached"] - hold_end,
                 over_end=ends["rest_over"] - hold_end, run=run)


ALL_CUES = tuple(T.TURNS_CUES)
ALL_ANSWERS = tuple(f"prompt+{ms}ms" for ms in PROMPT_OFFSETS_MS) + ("word_cue", "word_narration")
QUICK_ANSWERS = ("prompt+0ms", "prompt+200ms", "word_cue", "word_narration")
ALL_BARGE = ("pause", "stop")
# The benchmark's barge-in: "pause" at more places in the rest narration ("Rest. You can say ready
# after 10 seconds. ...", its end minus these seconds; plain "pause" is 2 s), then "stop".
PAUSE_AT_S = (1.0, 3.0, 4.0, 5.0)
BENCH_BARGE = ("pause", *(f"pause@{s:g}s" for s in PAUSE_AT_S), "stop")
BARGE_BEFORE_END_S = 2.0


def barge_word(kind: str) -> tuple[str, float]:
    """("pause", seconds before the rest narration's end) of a barge-in kind such as "pause@3s"."""
    word, _, at = kind.partition("@")
    return word, float(at[:-1]) if at else BARGE_BEFORE_END_S


def is_barge(kind: str) -> bool:
    return kind == "stop" or kind.startswith("pause")


def build_chain(c: Calib, cues: tuple[str, ...] = ALL_CUES, answers: tuple[str, ...] = ALL_ANSWERS,
                barge: tuple[str, ...] = ALL_BARGE) -> tuple[list[T.Phrase], list[Episode], float]:
    """Every placement in one session: each episode's hold starts at a known sample.

    cues: "can't hold" inside these hold cues (T.TURNS_CUES); answers: "ready" at prompt+Nms,
    word_cue or word_narration (each followed by a repeat and a "between cues" control hold);
    barge: "pause" and/or "stop" over the rest narration ("stop" ends the session: it comes last).
    """
    phrases: list[T.Phrase] = [T.Phrase("ready", c.r0, tag="resync", command="ready")]
    episodes: list[Episode] = []
    hold = T.TURNS_HOLD_S
    r = c.r0

    def resync(latest_h: float, extra_s: float = 0.0) -> float:
        t = T.align(latest_h + hold + c.over_end + extra_s + RESYNC_GAP_S)
        phrases.append(T.Phrase("ready", t, tag="resync", command="ready"))
        return t

    def control_after(fallback_t: float) -> T.Phrase:
        p = T.Phrase("can't hold", round(fallback_t + c.dh + CONTROL_INTO_HOLD_S, 3), tag="between",
                     command="cant_hold")
        phrases.append(p)
        return p

    for kind in cues:                                   # (a) inside each kind of cue
        h = r + c.dh
        p = T.Phrase("can't hold", round(h + T.TURNS_CUES[kind] + T.INTO_CUE_S, 3), tag=kind,
                     command="cant_hold")
        phrases.append(p)
        episodes.append(Episode(kind, h, p))
        r = resync(h)
    for kind in answers:                                # (b), (c): a "ready" after a target hold
        h = r + c.dh
        hold_end = h + hold
        if kind.startswith("prompt+"):
            at = hold_end + c.over_end + int(kind[7:-2]) / 1000
            fallback = T.align(at + FALLBACK_S)
        elif kind == "word_cue":
            at = hold_end + T.TURNS_REST_MIN_S + T.INTO_CUE_S
            fallback = T.align(hold_end + T.TURNS_REST_MIN_S + 2.0)
        else:
            at = hold_end + T.TURNS_REST_MAX_S + 0.4
            fallback = T.align(hold_end + c.over_end + 1.5)
        p = T.Phrase("ready", round(at, 3), tag=kind, command="ready")
        phrases.append(p)
        phrases.append(T.Phrase("ready", fallback, tag="fallback", command="ready"))
        episodes.append(Episode(kind, h, p, control_after(fallback)))
        r = resync(fallback + c.dh)
    for kind in barge:                                  # (d) over the rest narration
        word, before_end_s = barge_word(kind)
        h = r + c.dh
        hold_end = h + hold
        p = T.Phrase(word, round(hold_end + c.group_end - before_end_s, 3), tag=kind, command=word)
        phrases.append(p)
        episodes.append(Episode(kind, h, p))
        if word == "stop":
            break
        phrases.append(T.Phrase("resume", T.align(hold_end + c.group_end + 3.0), tag="fallback",
                                command="resume"))
        r = resync(h, extra_s=8.0)
    last = max(p.start_s for p in phrases)
    return phrases, episodes, last + (8.0 if episodes and episodes[-1].kind == "stop" else 45.0)


def judge(run: T.Run, calib: Calib, episodes: list[Episode], voice: str, gain: float) -> list[Result]:
    fam = T.family(voice)
    out: list[Result] = []
    for ep in episodes:
        start = run.hold_near(ep.pred_h)
        res = Result(voice, fam, gain, ep.kind, start is not None)
        if start is None:
            out.append(res)
            continue
        res.said_s = ep.phrase.start_s
        res.outcome, ev = T.outcome(run, ep.phrase)
        res.reason = ev.get("reason", "") if ev is not None and ev["type"] == "ignored" else ""
        if ep.phrase.command == "cant_hold":
            end = run.hold_end_after(start)
            res.acted = res.outcome == "heard" and end is not None and end["ended_by"] == "cant_hold"
            if res.acted and end is not None:
                res.err_s = round(end["held_s"] - (ep.phrase.start_s - start["t"]), 3)
        elif ep.phrase.command in ("pause", "stop"):
            res.acted = res.outcome == "heard"
            hold_end = start["t"] + T.TURNS_HOLD_S
            ref_end = undisturbed_target_end(run, before=hold_end)
            group_end = hold_end + calib.group_end
            if ref_end is not None:
                # The same lines after an earlier hold of this run (lines are rendered once per run).
                cut = T.cut_time(run, run, ep.phrase.start_s, group_end, hold_end - ref_end)
                res.stop_s = round((cut if cut is not None else group_end) - ep.phrase.end_s, 3)
        else:
            res.acted = res.outcome == "heard"
        out.append(res)
        if ep.control is not None:
            before = [e for e in run.of("hold_start") if e["t"] < ep.control.start_s]
            # counted only when the answer (or its repeat) started the hold it was meant for
            ctrl = Result(voice, fam, gain, "between", bool(before) and before[-1]["t"] > ep.phrase.start_s)
            ctrl.outcome, cev = T.outcome(run, ep.control)
            ctrl.reason = cev.get("reason", "") if cev is not None and cev["type"] == "ignored" else ""
            if before:
                end = run.hold_end_after(before[-1])
                ctrl.acted = ctrl.outcome == "heard" and end is not None and end["ended_by"] == "cant_hold"
                if ctrl.acted and end is not None:
                    ctrl.err_s = round(end["held_s"] - (ep.control.start_s - before[-1]["t"]), 3)
            out.append(ctrl)
    return out


def undisturbed_target_end(run: T.Run, before: float) -> float | None:
    """An earlier hold of this run that ran to its target, with nothing acted on in the rest after it
    (whose lines are then exactly what a later such rest says, until a command changes them)."""
    for e in run.of("hold_end"):
        if e["ended_by"] != "target" or e["t"] >= before - 1.0:
            continue
        if not [h for h in run.of("heard") if e["t"] - 1.0 <= h["t"] <= e["t"] + T.TURNS_REST_MIN_S]:
            return float(e["t"])
    return None


def run_cell(work: Path, voice: str, gain: float, prompt_end: float, quick: bool) -> tuple[CellReport, Calib]:
    t0 = time.monotonic()
    calib = calibrate(work, voice, gain, prompt_end)
    report = CellReport(voice, gain, calib.ok, calib.why)
    if not calib.ok:
        report.wall_s = time.monotonic() - t0
        return report, calib
    plan, episodes, length = build_chain(calib, answers=QUICK_ANSWERS if quick else ALL_ANSWERS,
                                         barge=ALL_BARGE if quick else BENCH_BARGE)
    report, run = run_chain(work, calib, plan, episodes, length)
    report.wall_s = time.monotonic() - t0
    return report, calib


def run_chain(work: Path, calib: Calib, plan: list[T.Phrase], episodes: list[Episode],
              length: float) -> tuple[CellReport, T.Run]:
    """Replay a chain for the calibrated voice and gain; judge every placement."""
    voice, gain = calib.voice, calib.gain
    report = CellReport(voice, gain, True)
    mic = work / "chain.wav"
    phrases = T.make_mic(mic, plan, length, voice)
    placed = {id(want): got for want, got in zip(plan, phrases, strict=True)}   # the exact onsets
    for ep in episodes:
        ep.phrase = placed[id(ep.phrase)]
        if ep.control is not None:
            ep.control = placed[id(ep.control)]
    run = T.coach_run(work / "chain", "turns", mic, gain=gain, routine_text=T.TURNS_ROUTINE)
    report.results = judge(run, calib, episodes, voice, gain)
    report.self_triggers = T.self_triggers(run, phrases)
    report.phrases = len(phrases)
    report.lost = sum(1 for p in phrases if T.outcome(run, p)[0] == "lost")
    report.audio_s = length
    run.phrases = phrases
    return report, run


# -- whole glute sessions ----------------------------------------------------------------------
@dataclass
class GluteReport:
    voice: str
    gain: float
    answer_s: float
    ok: bool
    holds: int = 0
    targets: int = 0
    self_triggers: list[dict[str, Any]] = field(default_factory=list)
    lost: int = 0
    why: str = ""


def glute_prompt_end(work: Path) -> float:
    """The glute routine over silence: where its first prompt (after "Find neutral spine") ends."""
    mic = work / "silence.wav"
    T.make_mic(mic, [], 45.0, "flite:rms")
    run = T.coach_run(work / "gpass0", "glutes", mic)
    end = T.line_end(run, run.says("ready_prompt")[0])
    assert end is not None
    return end


@dataclass
class GluteTimes:
    prompt1_end: float          # "Say ready when you're in position." after the set-up narration
    prompt2_s: float            # the bridge's prompt ends this long after the first "ready" is heard


def glute_times(work: Path) -> GluteTimes:
    """Two passes of the glute routine (voice flite:rms): the first prompt's end, and how long the
    bridge's narration and prompt take after the "ready" that answers it."""
    p1 = glute_prompt_end(work)
    mic = work / "gpass1.wav"
    T.make_mic(mic, [T.Phrase("ready", T.align(p1 + 1.5), command="ready")], p1 + 60.0, "flite:rms")
    run = T.coach_run(work / "gpass1", "glutes", mic)
    heard = run.of("heard")
    assert heard, "glute pass 1: the first \"ready\" was not heard"
    prompt = [s for s in run.says("ready_prompt") if s["t"] > heard[0]["t"]]
    end = T.line_end(run, prompt[0]) if prompt else None
    assert end is not None, "glute pass 1: no second prompt"
    return GluteTimes(p1, end - heard[0]["t"])


def glute_plan(calib: Calib, times: GluteTimes, answer_s: float) -> tuple[list[T.Phrase], float]:
    """(phrases, length in s) of a whole glute session in which the user says "ready" `answer_s`
    after each prompt (twice "Say ready when you're in position.", then "You can say ready whenever
    you like." in each rest) and nothing else: 5 holds to target."""
    min_dur = calib.min_end - T.TURNS_REST_MIN_S
    r1 = T.align(times.prompt1_end + answer_s)
    plan = [T.Phrase("ready", r1, tag="needed", command="ready")]
    r = T.align(r1 + calib.dh - T.GET_SET_S + times.prompt2_s + answer_s)
    for k in range(5):
        plan.append(T.Phrase("ready", r, tag="needed", command="ready"))
        # not answered? a person says it again (harmless when the first was heard: "not now")
        plan.append(T.Phrase("ready", T.align(r + GLUTE_REPEAT_S), tag="repeat", command="ready"))
        h = r + calib.dh
        if k < 4:
            r = T.align(h + 60.0 + 30.0 + min_dur + answer_s)
    return plan, h + 60.0 + 30.0


def glute_session(work: Path, calib: Calib, gain: float, times: GluteTimes, answer_s: float,
                  seed: int) -> GluteReport:
    """One whole glute session as `glute_plan` places it; every `heard` the user did not say is a
    self-trigger."""
    plan, length = glute_plan(calib, times, answer_s)
    mic = work / "glute.wav"
    phrases = T.make_mic(mic, plan, length, calib.voice, seed=seed)
    run = T.coach_run(work / "glute", "glutes", mic, gain=gain)
    ends = run.of("hold_end")
    rep = GluteReport(calib.voice, gain, answer_s, True, len(ends),
                      sum(1 for e in ends if e["ended_by"] == "target"), T.self_triggers(run, phrases),
                      sum(1 for p in phrases if T.outcome(run, p)[0] == "lost"))
    if rep.holds != 5 or rep.targets != 5:
        rep.ok = False
        rep.why = f"{rep.holds} holds, {rep.targets} to target"
    return rep


# -- tables ------------------------------------------------------------------------------------
KIND_ORDER = ["every", "halfway", "warn", "count5", "count4", "count3", "count2", "count1", "between",
              "prompt+0ms", "prompt+100ms", "prompt+200ms", "prompt+300ms", "word_cue", "word_narration",
              "pause", *BENCH_BARGE[1:-1], "stop"]
KIND_LABEL = {"every": "(a) in \"10 seconds.\"", "halfway": "(a) in \"Halfway.\"",
              "warn": "(a) in \"10 seconds to go.\"", "count5": "(a) in countdown \"5\"",
              "count4": "(a) in countdown \"4\"", "count3": "(a) in countdown \"3\"",
              "count2": "(a) in countdown \"2\"", "count1": "(a) in countdown \"1\"",
              "between": "(a') between cues (control)",
              "prompt+0ms": "(b) prompt end +0 ms", "prompt+100ms": "(b) prompt end +100 ms",
              "prompt+200ms": "(b) prompt end +200 ms", "prompt+300ms": "(b) prompt end +300 ms",
              "word_cue": "(c) over cue with \"ready\"", "word_narration": "(c) over narration w/ \"ready\"",
              "pause": "(d) \"pause\" over narration", "stop": "(d) \"stop\" over narration",
              **{k: f"(d) \"pause\" {barge_word(k)[1]:g} s before its end" for k in BENCH_BARGE[1:-1]}}


def pct(k: int, n: int) -> str:
    return f"{100 * k / n:3.0f}% ({k}/{n})" if n else "-"


def wilson_pct(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of k successes in n, in percent."""
    if n == 0:
        return 0.0, 100.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def tables(cells: list[CellReport], gains: tuple[float, ...], glutes: list[GluteReport]) -> str:
    lines: list[str] = []
    results = [r for c in cells for r in c.results]
    fams = [f for f in ("dev", "reserved") if any(r.family == f for r in results)]
    head = "".join(f" | gain {g:<13g}" for g in gains)
    lines.append(f"Commands acted on (valid placements; echo = {T.echo_model()})")
    lines.append(f"{'placement':34} {'voices':8}{head}")
    for kind in KIND_ORDER:
        for fam in fams:
            row = [r for r in results if r.kind == kind and r.family == fam and r.valid]
            if not row:
                continue
            cols = ""
            for g in gains:
                at_g = [r for r in row if r.gain == g]
                cols += f" | {pct(sum(r.acted for r in at_g), len(at_g)):18}"
            lines.append(f"{KIND_LABEL[kind]:34} {fam:8}{cols}")
    lines.append("")
    lines.append(f"held_s error, s (median / worst |err|; within {TOLERANCE_S} s), hold-ending placements")
    lines.append(f"{'placement':34} {'voices':8}{head}")
    for kind in KIND_ORDER[:9]:
        for fam in fams:
            row = [r for r in results if r.kind == kind and r.family == fam and r.err_s is not None]
            if not row:
                continue
            cols = ""
            for g in gains:
                errs = [r.err_s for r in row if r.gain == g and r.err_s is not None]
                if errs:
                    near = sum(abs(e) <= TOLERANCE_S for e in errs)
                    worst = max(errs, key=abs)
                    cols += f" | {statistics.median(errs):+.2f}/{worst:+.2f} {near}/{len(errs):<4}"
                else:
                    cols += f" | {'-':18}"
            lines.append(f"{KIND_LABEL[kind]:34} {fam:8}{cols}")
    lines.append("")
    lines.append("Per echo gain and voice family")
    intervals: list[str] = []           # each row's barge-in interval, printed under the table
    lines.append(f"{'gain':>5} {'voices':8} {'sessions':>8} {'self-trig/session':>17} {'lost utt.':>10} "
                 f"{'on target*':>11} {'barge-in heard':>15} {'stop->silent med/worst':>23} {'invalid':>8}")
    for g in gains:
        for fam in fams:
            cs = [c for c in cells if c.gain == g and T.family(c.voice) == fam]
            ok = [c for c in cs if c.calib_ok]
            rs = [r for c in ok for r in c.results]
            if not cs:
                continue
            trig = sum(len(c.self_triggers) for c in ok)
            n_phr = sum(c.phrases for c in ok)
            lost = sum(c.lost for c in ok)
            valid = [r for r in rs if r.valid and not is_barge(r.kind) and r.kind != "between"]
            good = sum(r.acted and (r.err_s is None or abs(r.err_s) <= TOLERANCE_S) for r in valid)
            barge = [r for r in rs if r.valid and is_barge(r.kind)]
            if barge:
                lo, hi = wilson_pct(sum(r.acted for r in barge), len(barge))
                intervals.append(f"  barge-in heard at gain {g:g} ({fam}), 95 % interval: "
                                 f"{lo:.0f}-{hi:.0f} %")
            stops = [r.stop_s for r in barge if r.stop_s is not None]
            stop_txt = f"{statistics.median(stops):+.2f}/{max(stops):+.2f} s" if stops else "-"
            lines.append(f"{g:5g} {fam:8} {len(ok):>4}/{len(cs):<3} {trig / max(1, len(ok)):17.2f} "
                         f"{pct(lost, n_phr):>10} {100 * good / max(1, len(valid)):10.0f}% "
                         f"{pct(sum(r.acted for r in barge), len(barge)):>15} {stop_txt:>23} "
                         f"{sum(1 for r in rs if not r.valid):>8}")
    lines.append("  * on target: (a)-(c) placements acted on, and for holds within 0.25 s of the truth")
    # A change anywhere moves every later moment of a chain (a reply heard or not changes what the
    # coach says next), so each placement meets the coach's words differently from run to run: the
    # counts are samples, and a difference inside these intervals is not a finding.
    lines += intervals
    failed = [c for c in cells if not c.calib_ok]
    for c in failed:
        lines.append(f"  calibration failed for {c.voice} at gain {c.gain:g}: {c.why}")
    reasons: dict[str, int] = defaultdict(int)
    for r in results:
        if r.valid and not r.acted:
            reasons[f"{r.outcome}{': ' + r.reason if r.reason else ''}"] += 1
    if reasons:
        lines.append("  why commands were not acted on: " +
                     ", ".join(f"{k} x{v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])))
    if glutes:
        lines.append("")
        trig = sum(len(gs.self_triggers) for gs in glutes)
        lines.append(f"Whole glute sessions, echo gain {glutes[0].gain:g}, the user says only \"ready\" "
                     f"after each prompt: {trig} self-trigger(s) in {len(glutes)} sessions")
        for gs in glutes:
            what = ", ".join(f"{e['command']}@{e['t']:.1f}" for e in gs.self_triggers) or "none"
            lines.append(f"  {gs.voice:14} answer +{gs.answer_s:.1f} s  holds {gs.holds} (to target "
                         f"{gs.targets}) lost {gs.lost}  self-triggers: {what}  {gs.why}")
    return "\n".join(lines)


def cue_voice_pack(work: Path, tones: bool) -> Path:
    """The shipped en-us voice pack with every hold cue spoken, or every one a tone."""
    import re

    text = (ROOT / "coach" / "voice" / "shipped" / "en-us.yaml").read_text(encoding="utf-8")
    head, section = text.split("\nearcons:\n", 1)
    for key in ("countdown", "every", "hold"):
        section, n = re.subn(rf"^(  {key}:) *(true|false)", rf"\1 {'true' if tones else 'false'}", section,
                          count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"bench_turns: no earcons.{key} in the shipped voice pack")
    path = work / f"en-us-{'earcons' if tones else 'words'}.yaml"
    path.write_text(head + "\nearcons:\n" + section, encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two voices, gains 0 and 1.0, 2 glute sessions")
    parser.add_argument("--gains", help="comma-separated echo gains (default 0,0.3,0.5,1.0)")
    parser.add_argument("--voices", help="comma-separated user voices (default: all dev and reserved ones)")
    parser.add_argument("--sessions", type=int, help="whole glute sessions at gain 1.0 (default 10; quick 2)")
    parser.add_argument("--jobs", type=int, default=2, help="replays at once (default 2)")
    parser.add_argument("--json", type=Path, help="write every placement's result here")
    parser.add_argument("--keep", type=Path, help="keep the WAVs and logs in this folder")
    parser.add_argument("--cues", choices=("shipped", "words", "earcons"), default="shipped",
                        help="the hold cues as the shipped voice pack has them (default), all spoken "
                             "(words), or the countdown, the 10-s marks and hold start/end as tones")
    args = parser.parse_args()
    default_gains = (0.0, 1.0) if args.quick else GAINS
    gains = tuple(float(g) for g in args.gains.split(",")) if args.gains else default_gains
    if args.voices:
        voices = tuple(args.voices.split(","))
    elif args.quick:
        voices = ("flite:rms", "espeak:en+f2")
    else:
        voices = T.available_voices(T.DEV_VOICES) + T.RESERVED_VOICES
    sessions = args.sessions if args.sessions is not None else (2 if args.quick else 10)
    work, tmp = T.work_folder(args.keep, "bench_turns.")
    if args.cues != "shipped":
        T.EXTRA_ARGS[:] = ["--voice", str(cue_voice_pack(work, args.cues == "earcons"))]
    t0 = time.monotonic()
    gain_list = ", ".join(f"{g:g}" for g in gains)
    print(f"bench_turns: cues {args.cues}; voices {', '.join(voices)}; gains {gain_list}; "
          f"echo model: {T.echo_model()}; {sessions} glute session(s)", file=sys.stderr)
    prompt_end = first_prompt_end(work)
    gtimes = glute_times(work) if sessions else GluteTimes(0.0, 0.0)
    jobs = [(v, g) for g in gains for v in voices]
    cells: list[CellReport] = []
    calibs: dict[tuple[str, float], Calib] = {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_cell, work / f"{v.replace(':', '_')}_{g:g}", v, g, prompt_end, args.quick):
                   (v, g) for v, g in jobs}
        for fut, key in futures.items():
            report, calib = fut.result()
            cells.append(report)
            calibs[key] = calib
            print(f"  {key[0]:14} gain {key[1]:<4g} {report.wall_s:5.1f} s  "
                  f"{'ok' if report.calib_ok else 'calibration failed'}", file=sys.stderr)
        glute_jobs = []
        g_gain = 1.0
        usable = [v for v in voices if (v, g_gain) in calibs and calibs[(v, g_gain)].ok]
        if sessions and not usable:
            print(f"  no voice calibrated at gain {g_gain:g}: no glute sessions", file=sys.stderr)
        for i in range(sessions if usable else 0):
            v = usable[i % len(usable)]
            answer = 1.5 if i < len(usable) else 2.5
            glute_jobs.append(pool.submit(glute_session, work / f"glute{i}_{v.replace(':', '_')}",
                                          calibs[(v, g_gain)], g_gain, gtimes, answer, seed=i + 1))
        glutes = [f.result() for f in glute_jobs]
    print(tables(cells, gains, glutes))
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\n({time.monotonic() - t0:.0f} s wall, {cpu.ru_utime + cpu.ru_stime:.0f} CPU-s in coach runs, "
          f"{sum(c.audio_s for c in cells) / 60:.0f} min of chain audio)")
    if args.json:
        args.json.write_text(json.dumps({
            "echo_model": T.echo_model(),
            "results": [asdict(r) for c in cells for r in c.results],
            "cells": [{"voice": c.voice, "gain": c.gain, "calib_ok": c.calib_ok, "why": c.why,
                       "self_triggers": c.self_triggers, "phrases": c.phrases, "lost": c.lost}
                      for c in cells],
            "glutes": [asdict(g) for g in glutes]}, indent=1))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
