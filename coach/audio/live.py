"""Live audio through PortAudio (sounddevice): a microphone on the session clock, a callback-fed speaker.

Threads, not asyncio: PortAudio calls our callbacks on its own thread. The microphone callback only
copies bytes into a queue; re-chunking, resampling and dither happen in the consumer (`__iter__`).
The speaker callback asks the caller's `fill` for the next block of a timeline the caller owns.

Measured with the virtual PulseAudio devices (`scripts/virtual-audio`): an idle null sink wakes
every 2 s, so the first input callback arrives up to 2 s after the stream opens (1.2-1.9 s seen;
~20 ms when the device is already awake) and audio before it is lost: call `wait_ready()` before
prompting the user. Input blocks are 137/139 frames, with a few of 1-5 frames while something
plays into the microphone. The output takes 3 blocks at once, then may stall up to 2 s the same
way: keep one speaker open for the whole session and schedule by `position_s()`, not wall time.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from math import gcd
from types import ModuleType
from typing import Any, Literal

import numpy as np

from coach.audio.chunk import AudioChunk
from coach.audio.devices import list_devices, resolve_device, sounddevice_module
from coach.defaults import CHUNK_S, DITHER_LSB, RATE_HZ
from coach.errors import AudioDeviceError

START_TIMEOUT_S = 5.0        # opened stream -> first input callback (virtual devices: up to ~2 s)
LOST_AFTER_S = 1.0           # no input callback for this long while running: the device is gone
CLOSE_TIMEOUT_S = 1.0        # closing a stream on a hung device blocks: give up waiting after this
NO_DEVICE_FIX = ("connect one and check `coach devices` (no sound card? "
                 "eval \"$(scripts/virtual-audio start)\")")

FillFn = Callable[[int, np.ndarray], None]


class LiveMicrophone:
    """A PortAudio input device as a `Microphone`: 16 kHz mono int16 chunks of exactly `chunk_s`.

    `t_start` counts the samples yielded so far (the session clock), starting at the first sample
    the device delivered. A little Gaussian dither (`dither_lsb`, standard deviation in LSB) is
    added because recognizers misbehave on exact digital zeros, which virtual devices produce.

    The stream opens in the constructor; blocks wait in an unbounded queue until iterated (16 kHz
    is 32 kB a second), so a slow consumer loses nothing and the clock stays exact.

    When the device is lost mid-stream (PortAudio stops the stream, or no block arrives for
    `lost_after_s`), the iterator closes the stream and raises
    `AudioDeviceError("microphone lost: ...")`; the caller may construct a new `LiveMicrophone`
    to retry. If the device refuses 16 kHz, it is opened at its default rate and resampled in the
    consumer; `device_rate_hz` forces a rate (used by the tests).
    """

    live = True

    def __init__(self, device: str | int | None = None, chunk_s: float = CHUNK_S,
                 dither_lsb: float = DITHER_LSB, *, device_rate_hz: int | None = None,
                 lost_after_s: float = LOST_AFTER_S) -> None:
        self._sd = sounddevice_module()
        self._chunk_samples = max(1, int(round(chunk_s * RATE_HZ)))
        self._dither_lsb = dither_lsb
        self._lost_after_s = lost_after_s
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._ready = threading.Event()
        self._closed = False
        self._overflows = 0
        self._pending = np.zeros(0, dtype=np.int16)
        self._samples_yielded = 0
        self._rng = np.random.default_rng()
        self.ready_after_s: float | None = None           # stream opened -> first callback
        self._opened_at_s = time.monotonic()
        index = resolve_device(device, "input")
        self._stream, self.device_rate_hz = self._open(index, device_rate_hz)
        self._resampler = (None if self.device_rate_hz == RATE_HZ
                           else StreamResampler(self.device_rate_hz, RATE_HZ))
        self.name = _device_name(self._sd, self._stream.device, "input")

    def _open(self, index: int | None, device_rate_hz: int | None) -> tuple[Any, int]:
        sd = self._sd
        rate_hz = device_rate_hz or RATE_HZ
        try:
            try:
                return self._start(index, rate_hz), rate_hz
            except sd.PortAudioError:
                default_rate_hz = int(round(sd.query_devices(index, "input")["default_samplerate"]))
                if device_rate_hz or default_rate_hz == RATE_HZ:
                    raise
                return self._start(index, default_rate_hz), default_rate_hz   # refused 16 kHz
        except (sd.PortAudioError, ValueError) as err:
            raise _open_error(sd, err, "input", index) from err

    def _start(self, index: int | None, rate_hz: int) -> Any:
        stream = self._sd.RawInputStream(
            samplerate=rate_hz, device=index, channels=1, dtype="int16",
            callback=self._on_audio, finished_callback=self._on_finished)
        self._opened_at_s = time.monotonic()
        try:
            stream.start()
        except self._sd.PortAudioError:
            stream.close(ignore_errors=True)
            raise
        return stream

    # PortAudio's thread: copy and return, nothing else.
    def _on_audio(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        if status.input_overflow:
            self._overflows += 1
        if not self._ready.is_set():
            self.ready_after_s = time.monotonic() - self._opened_at_s
            self._ready.set()
        self._queue.put(bytes(indata))

    def _on_finished(self) -> None:
        self._queue.put(None)                                  # wakes the consumer

    @property
    def overflows(self) -> int:
        """Input overflows PortAudio reported (audio the device dropped before we saw it)."""
        return self._overflows

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Block until the first block of audio has arrived; audio before that moment is lost."""
        deadline_s = time.monotonic() + timeout_s
        while not self._ready.wait(0.05):
            if self._closed:
                raise AudioDeviceError("microphone closed before it started")
            if not self._is_active():
                self._raise_lost("the audio stream stopped before the first audio")
            if time.monotonic() > deadline_s:
                self.close()
                raise AudioDeviceError(
                    f"microphone {self.name!r} sent no audio within {timeout_s:.1f} s: "
                    "check it is not muted or used by another program")

    def __iter__(self) -> Iterator[AudioChunk]:
        if not self._closed:
            self.wait_ready()
        while True:
            block = self._next_block()
            if block is None:
                return
            samples = np.frombuffer(block, dtype="<i2")
            if self._resampler is not None:
                samples = self._resampler.process(samples)
            self._pending = np.concatenate((self._pending, samples))
            while len(self._pending) >= self._chunk_samples and not self._closed:
                chunk = self._pending[: self._chunk_samples]
                self._pending = self._pending[self._chunk_samples :]
                if self._dither_lsb:
                    noisy = chunk + self._rng.normal(0.0, self._dither_lsb, len(chunk))
                    chunk = np.clip(np.rint(noisy), -32768, 32767).astype(np.int16)
                t_start = self._samples_yielded / RATE_HZ
                self._samples_yielded += len(chunk)
                yield AudioChunk(chunk.astype("<i2").tobytes(), t_start)

    def _next_block(self) -> bytes | None:
        """The next raw block, None once closed; raises when the device is lost."""
        deadline_s = time.monotonic() + self._lost_after_s
        while not self._closed:
            try:
                block = self._queue.get(timeout=0.1)
            except queue.Empty:
                if not self._is_active():
                    self._raise_lost("the audio stream stopped")
                if time.monotonic() > deadline_s:
                    self._raise_lost(f"no audio for {self._lost_after_s:.1f} s")
                continue
            if block is not None:
                return block
            if not self._closed:
                self._raise_lost("the audio stream stopped (device unplugged or sound server gone)")
        return None

    def _is_active(self) -> bool:
        try:
            return bool(self._stream.active)
        except self._sd.PortAudioError:
            return False

    def _raise_lost(self, reason: str) -> None:
        if not self._closed:                    # the stream is dead: close it without waiting
            self._closed = True
            _close_stream(self._stream, "microphone", wait_s=0.0)
        raise AudioDeviceError(f"microphone lost: {reason}; check the device and start again")

    def close(self) -> None:
        """Stop and close the stream; an iterator in another thread then ends. Idempotent.

        Returns within `CLOSE_TIMEOUT_S` even when the device hangs (the close then finishes,
        or not, on a daemon thread).
        """
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        _close_stream(self._stream, "microphone")

    def __enter__(self) -> LiveMicrophone:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DeviceOutput:
    """A continuously running PortAudio output (mono int16) fed by `fill(start_sample, out)`.

    `fill` runs on PortAudio's thread for every block: it must write `len(out)` samples (speech or
    zeros) for the samples `start_sample .. start_sample + len(out)` of the caller's timeline,
    where `start_sample` counts output samples since the stream started. It must be fast and never
    block. If it raises, the speaker falls silent and `position_s()` re-raises.
    Output underflows (the callback came too late) are counted in `underflows`, not raised.
    """

    def __init__(self, fill: FillFn, device: str | int | None = None, rate_hz: int = RATE_HZ,
                 block_s: float = 0.02) -> None:
        self._sd = sounddevice_module()
        self._fill = fill
        self.rate_hz = rate_hz
        self._samples_out = 0
        self._underflows = 0
        self._fill_error: BaseException | None = None
        self._finished = threading.Event()
        self._closed = False
        index = resolve_device(device, "output")
        sd = self._sd
        try:
            self._stream = sd.RawOutputStream(
                samplerate=rate_hz, blocksize=max(1, int(round(block_s * rate_hz))), device=index,
                channels=1, dtype="int16", callback=self._on_request,
                finished_callback=self._finished.set)
        except (sd.PortAudioError, ValueError) as err:
            raise _open_error(sd, err, "output", index) from err
        try:
            self._stream.start()
        except sd.PortAudioError as err:
            self._stream.close(ignore_errors=True)
            raise _open_error(sd, err, "output", index) from err
        self.name = _device_name(sd, self._stream.device, "output")

    # PortAudio's thread.
    def _on_request(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        if status.output_underflow:
            self._underflows += 1
        out = np.frombuffer(outdata, dtype=np.int16, count=frames)
        start_sample = self._samples_out
        try:
            self._fill(start_sample, out)
        except Exception as err:                      # reported by position_s(), not lost
            out[:] = 0
            self._fill_error = err
            raise self._sd.CallbackAbort from err
        self._samples_out = start_sample + frames

    @property
    def underflows(self) -> int:
        return self._underflows

    @property
    def latency_s(self) -> float:
        """PortAudio's output latency: a sample handed to `fill` is heard about this much later."""
        return float(self._stream.latency)

    def position_s(self) -> float:
        """Output samples handed to the device since the start, in seconds."""
        if self._fill_error is not None:
            raise RuntimeError("the speaker's fill function failed") from self._fill_error
        if self._finished.is_set() and not self._closed:
            raise AudioDeviceError("speaker lost: the audio stream stopped "
                                   "(device unplugged or sound server gone); check the device")
        return self._samples_out / self.rate_hz

    def close(self) -> None:
        """Stop and close the stream (bounded by `CLOSE_TIMEOUT_S`, as for the microphone). Idempotent."""
        if self._closed:
            return
        self._closed = True
        _close_stream(self._stream, "speaker")

    def __enter__(self) -> DeviceOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The old name, for coach/speech/speakers.py (`import LiveSpeaker as DeviceOutput`) until it
# imports DeviceOutput; there is another LiveSpeaker there (the narrator's side of this stream).
LiveSpeaker = DeviceOutput


class StreamResampler:
    """Resamples a stream block by block with no seams: windowed-sinc low-pass (when going down)
    carried across blocks, then linear interpolation at exact rational positions."""

    TAPS = 63

    def __init__(self, from_hz: int, to_hz: int) -> None:
        common = gcd(from_hz, to_hz)
        self._up = to_hz // common                # output sample n sits at input n * down / up
        self._down = from_hz // common
        self._kernel: np.ndarray | None = None
        self._history = np.zeros(0)
        if to_hz < from_hz:
            cutoff = 0.5 * to_hz / from_hz * 0.95
            n = np.arange(self.TAPS) - (self.TAPS - 1) / 2
            kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(self.TAPS)
            self._kernel = kernel / kernel.sum()
            self._history = np.zeros(self.TAPS - 1)
        self._filtered = np.zeros(0)              # filtered input from index `_consumed` on
        self._consumed = 0
        self._n_out = 0

    def process(self, block: np.ndarray) -> np.ndarray:
        x = block.astype(np.float64)
        if self._kernel is not None:
            buf = np.concatenate((self._history, x))
            x = np.convolve(buf, self._kernel, mode="valid")
            self._history = buf[len(buf) - (self.TAPS - 1) :]
        self._filtered = np.concatenate((self._filtered, x))
        total = self._consumed + len(self._filtered)
        n_end = max(self._n_out, -(-((total - 1) * self._up) // self._down))   # ceil
        n = np.arange(self._n_out, n_end, dtype=np.int64)
        index = (n * self._down) // self._up - self._consumed
        frac = ((n * self._down) % self._up) / self._up
        out = self._filtered[index] * (1 - frac) + self._filtered[index + 1] * frac
        self._n_out = n_end
        keep_from = min((n_end * self._down) // self._up, total)   # first input still needed
        self._filtered = self._filtered[keep_from - self._consumed :]
        self._consumed = keep_from
        return np.clip(np.rint(out), -32768, 32767).astype(np.int16)


def _close_stream(stream: Any, what: str, wait_s: float = CLOSE_TIMEOUT_S) -> None:
    """Close on a daemon thread and wait at most `wait_s`: PortAudio's close joins its callback
    thread, which a hung sound server can block for ever."""
    closer = threading.Thread(target=stream.close, kwargs={"ignore_errors": True}, daemon=True,
                              name=f"coach-{what}-close")
    closer.start()
    if wait_s > 0:
        closer.join(wait_s)


def _device_name(sd: ModuleType, index: int, kind: Literal["input", "output"]) -> str:
    try:
        return str(sd.query_devices(index, kind)["name"])
    except (sd.PortAudioError, ValueError):
        return f"device {index}"


def _open_error(sd: ModuleType, err: Exception, kind: Literal["input", "output"],
                index: int | None) -> AudioDeviceError:
    what = "microphone" if kind == "input" else "speaker"
    if not any(d.has(kind) for d in list_devices()):
        return AudioDeviceError(f"no {what} found: {NO_DEVICE_FIX}")
    which = "the default" if index is None else f"device {index}"
    return AudioDeviceError(f"cannot open {which} {what}: {err}")
