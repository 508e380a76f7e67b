"""Live, on the virtual PulseAudio devices, with the coach's speaker looped back into its own
microphone (a PulseAudio loopback from vspeaker.monitor into vmic_in): the coach hears itself the
whole session, and a "can't hold" spoken during the final countdown still ends the hold at the
moment the user began to speak."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pexpect
import pytest
from conftest import ROOT, load_script

# Slow lane: live recognition through a loopback is not yet reliable here (it passed about half
# the runs this session: a "ready" said right after the prompt was sometimes decoded with a bit of
# the coach's residual and rejected, and a starved sound server drops blocks). Run it with -m slow.
pytestmark = [pytest.mark.live, pytest.mark.audio, pytest.mark.slow]

make_session = load_script("make_session_wav")

COUNTDOWN_ROUTINE = """\
title: Countdown test
summary: One 12-second hold with the 5-4-3-2-1 at the end.
cues: {get_set_s: 1, every_s: 0, countdown_from: 5, warn_left_s: 0, halfway: false}
exercises:
  - id: bridge
    title: Bridge
    say: "Lift your hips."
    hold_s: 12
    sets: 1
"""

GIVE_UP_AT_S = 9.3          # into the hold: during the countdown (it runs from 7 s to 12 s)


def _pactl(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["pactl", *args], env=env, capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise RuntimeError(f"pactl {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


@contextmanager
def looped_back_coach(env: dict[str, str], routine: str, events: Path,
                      loopback_volume: str | None = None) -> Iterator[pexpect.spawn]:
    """`coach run ROUTINE --input voice` with its speaker looped back into its own microphone
    (optionally turned down); the coach and the loopback never outlive the test."""
    module = _pactl(env, "load-module", "module-loopback", "source=vspeaker.monitor", "sink=vmic_in",
                    "latency_msec=40", "source_dont_move=true", "sink_dont_move=true")
    child = None
    try:
        if loopback_volume is not None:
            _set_loopback_volume(env, module, loopback_volume)
        child = pexpect.spawn(sys.executable, ["-m", "coach", "run", routine, "--input", "voice",
                                               "--events", str(events)],
                              env=env, cwd=str(ROOT), encoding="utf-8", timeout=60)
        yield child
    finally:
        if child is not None and child.isalive():       # never leave a coach playing into the next test
            child.terminate(force=True)
        _pactl(env, "unload-module", module)


def test_cant_hold_in_the_countdown_is_heard_over_the_coachs_own_looped_back_voice(
        virtual_audio, coach_env, data_dir, tmp_path):
    env = {**coach_env, **virtual_audio.env}
    (data_dir / "routines" / "countdown.yaml").write_text(COUNTDOWN_ROUTINE)
    ready_wav, give_up_wav = tmp_path / "ready.wav", tmp_path / "cant.wav"
    make_session.make_session_wav(ready_wav, [(0.3, "ready")], 1.5)
    make_session.make_session_wav(give_up_wav, [(0.3, "can't hold")], 1.8)
    events = tmp_path / "ev.jsonl"
    with looped_back_coach(env, "countdown", events) as child:
        child.expect("listening with")
        child.expect("Say ready when you're in position.")
        child.expect(pexpect.TIMEOUT, timeout=3.0)      # the prompt plays, loops back: no self-trigger
        virtual_audio.play_into_mic(ready_wav)
        child.expect("heard: ready", timeout=15)
        child.expect("Lift, and hold", timeout=15)
        held_from = time.monotonic()
        time.sleep(max(0.0, GIVE_UP_AT_S - 0.3 - (time.monotonic() - held_from)))   # the clip's lead-in
        virtual_audio.play_into_mic(give_up_wav)
        child.expect("heard: can't hold", timeout=15)
        child.expect(pexpect.EOF, timeout=40)           # the one set is done: the session ends
        child.close()
    records = [json.loads(line) for line in events.read_text().splitlines()]
    heard = [r for r in records if r["type"] == "heard"]
    assert [h["command"] for h in heard] == ["ready", "cant_hold"], heard
    (start,) = [r for r in records if r["type"] == "hold_start"]
    (end,) = [r for r in records if r["type"] == "hold_end"]
    assert end["ended_by"] == "cant_hold"
    # measured to the moment the user began to speak, on the coach's own clock
    assert end["held_s"] == pytest.approx(heard[1]["t_start"] - start["t"], abs=0.05)
    # ... which is when the clip was played, give or take the sound server's latency
    assert GIVE_UP_AT_S - 0.3 <= end["held_s"] <= GIVE_UP_AT_S + 0.6
    # the coach's own voice, looped back all session, was never taken for a command
    assert not [r for r in records if r["type"] == "ignored" and r["reason"] in ("not now", "low confidence")
                and r["command"]]


def _set_loopback_volume(env: dict[str, str], module: str, volume: str) -> None:
    listing = _pactl(env, "list", "sink-inputs")
    for block in listing.split("Sink Input #")[1:]:
        if f"Owner Module: {module}" in block:
            _pactl(env, "set-sink-input-volume", block.split()[0], volume)
            return
    raise RuntimeError(f"no sink input of loopback module {module}")


LONG_ROUTINE = """\
title: Barge-in test
summary: One long instruction, then a hold.
cues: {get_set_s: 1, every_s: 0, countdown_from: 0, warn_left_s: 0, halfway: false}
exercises:
  - id: bridge
    title: Bridge
    say: "Lie on your back with your knees bent and your feet flat on the floor, hip width apart.
      Breathe out, squeeze your glutes and lift your hips until your body makes a straight line
      from your shoulders to your knees. If your hold gives out early, just say can't hold."
    hold_s: 10
    sets: 1
"""
STOP_INTO_LINE_S = 7.0      # into the long instruction: the canceller has converged by then


def test_stop_said_over_the_coachs_looped_back_narration_silences_it_and_ends_the_session(
        virtual_audio, coach_env, data_dir, tmp_path):
    env = {**coach_env, **virtual_audio.env}
    (data_dir / "routines" / "bargein.yaml").write_text(LONG_ROUTINE)
    stop_wav = tmp_path / "stop.wav"
    make_session.make_session_wav(stop_wav, [(0.3, "stop")], 1.2)
    events = tmp_path / "ev.jsonl"
    # A room, not a wire: the coach's voice comes back about 9 dB down (70 % on PulseAudio's cubic
    # scale). At full level, with live cancellation only ~4 dB (the README's live ERLE), a user's
    # "stop" is no louder than the coach's own voice, for any recognizer.
    with looped_back_coach(env, "bargein", events, loopback_volume="70%") as child:
        child.expect("listening with")
        child.expect("Lie on your back")
        time.sleep(STOP_INTO_LINE_S - 0.3)
        virtual_audio.play_into_mic(stop_wav)
        child.expect("heard: stop", timeout=15)
        child.expect(pexpect.EOF, timeout=30)
        child.close()
    records = [json.loads(line) for line in events.read_text().splitlines()]
    ducks = [r for r in records if r["type"] == "duck"]
    assert len(ducks) == 1, ducks
    assert ducks[0]["t"] - ducks[0]["since"] <= 0.3          # silent within 0.3 s of the word's start
    heard = [r for r in records if r["type"] == "heard"]
    assert [h["command"] for h in heard] == ["stop"], heard
    assert records[-1]["type"] == "session_end" and records[-1]["stopped"] is True
