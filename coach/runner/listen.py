"""`coach listen`: the session's recognizer and filters in its idle state, printing what it hears.

Users check their microphone and their way of speaking with it; benchmarks and outside tests
feed it WAV files. Every command counts here, as in a session that accepts anything.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from coach.asr.base import Heard, Recognizer
from coach.asr.denoised import with_noise_suppression
from coach.asr.listener import CommandListener
from coach.asr.select import choose_engine, make_recognizer
from coach.audio.chunk import Microphone
from coach.audio.echo import DcBlock, dc_blocked
from coach.audio.wav import WavMicrophone
from coach.defaults import DITHER_LSB, NOISE_SUPPRESSION
from coach.voice import COMMANDS
from coach.voice.pack import load_voice_named


def listen(files: Sequence[Path], as_json: bool, voice_name: str, engine: str, model: Path | None,
           device: str | int | None, data_dir: Path, env: Mapping[str, str], out: TextIO = sys.stdout,
           err: TextIO = sys.stderr, user: str = "default",
           noise_suppression: int = NOISE_SUPPRESSION) -> int:
    voice = load_voice_named(voice_name, data_dir)
    choice = choose_engine(engine, model, env, data_dir, voice, user)

    def say(text: str) -> None:
        print(f"coach: {text}", file=err, flush=True)

    def recognizer() -> Recognizer:
        return with_noise_suppression(make_recognizer(choice, voice), noise_suppression, say, say)

    say(f"listening with {choice.why}")
    if not files:
        from coach.audio.live import LiveMicrophone

        mic = LiveMicrophone(device)
        say("say a command (Ctrl-C to stop)")
        try:
            _listen_one(mic, CommandListener(recognizer()), "-", as_json, out, 1)
        except KeyboardInterrupt:
            pass
        finally:
            mic.close()
        return 0
    wavs = [WavMicrophone(path, dither_lsb=DITHER_LSB) for path in files]    # all readable first
    # One recognizer for every file (building one costs more than decoding a clip); each file's
    # times still start from 0.
    shared = recognizer()
    width = max(len(str(path)) for path in files)
    for path, wav in zip(files, wavs, strict=True):
        _listen_one(wav, CommandListener(_FromZero(shared)), str(path), as_json, out, width)
    return 0


class _FromZero:
    """A shared recognizer seen through a clock that starts at 0 where this view was made."""

    def __init__(self, recognizer: Recognizer) -> None:
        self._recognizer = recognizer
        self.name, self.model, self.rate_hz = recognizer.name, recognizer.model, recognizer.rate_hz
        self._start_s = float(getattr(recognizer, "t_now", 0.0))   # stream seconds fed so far

    def feed(self, pcm: bytes) -> list[Heard]:
        return self._shift(self._recognizer.feed(pcm))

    def flush(self) -> list[Heard]:
        return self._shift(self._recognizer.flush())

    def reset(self) -> None:
        self._recognizer.reset()

    def _shift(self, heard: list[Heard]) -> list[Heard]:
        s = self._start_s
        # A command at the very first sample: the segmenter's pre-roll must not put it before the file.
        return [replace(h, t_start=max(0.0, round(h.t_start - s, 3)), t_end=max(0.0, round(h.t_end - s, 3)))
                for h in heard]


def _listen_one(mic: Microphone, listener: CommandListener, name: str, as_json: bool, out: TextIO,
                width: int) -> None:
    dc = DcBlock()                  # a microphone's DC offset (no canceller here to notch it)
    for chunk in mic:
        for verdict in listener.feed(dc_blocked(dc, chunk), COMMANDS):
            _print(verdict, name, as_json, out, width)
    for verdict in listener.flush(COMMANDS):
        _print(verdict, name, as_json, out, width)


COMMAND_WIDTH = max(len(c) for c in COMMANDS)
SPAN_WIDTH = len("000.00-000.00")


def table_row(name: str, h: Heard, width: int) -> str:
    """`FILE  START-END  COMMAND  "PHRASE" (CONFIDENCE)`: columns two spaces apart, each padded on
    its right only, so nothing sits between a number and its neighbour and no line ends in spaces."""
    span = f"{max(0.0, h.t_start):.2f}-{max(0.0, h.t_end):.2f}"
    return (f"{name:<{width}}  {span:<{SPAN_WIDTH}}  {h.command:<{COMMAND_WIDTH}}  \"{h.phrase}\" "
            f"({h.confidence:.2f})")


def _print(verdict, name: str, as_json: bool, out: TextIO, width: int) -> None:  # noqa: ANN001
    if not verdict.accepted:
        return
    h = verdict.heard
    if as_json:
        print(json.dumps({"file": name, "command": h.command, "phrase": h.phrase,
                          "t_start": round(h.t_start, 3), "t_end": round(h.t_end, 3),
                          "confidence": round(h.confidence, 3)}, ensure_ascii=False), file=out, flush=True)
    else:
        print(table_row(name, h, width), file=out, flush=True)
