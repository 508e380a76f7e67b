"""WAV files in and out: any rate, channel count, 16-bit or float in; 16 kHz mono int16 inside."""

from __future__ import annotations

import os
import stat
import struct
import sys
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np

from coach.audio.chunk import AudioChunk
from coach.defaults import CHUNK_S, RATE_HZ
from coach.errors import AudioDeviceError, UsageError
from coach.paths import open_private_binary


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a WAV file as float32 mono in [-1, 1] and its sample rate.

    Handles PCM 8/16/24/32-bit and IEEE float (format 3), which the stdlib `wave` module refuses.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise AudioDeviceError(f"{path}: cannot read the WAV file ({err.strerror or err})") from err
    try:
        return _parse_wav(data)
    except (ValueError, struct.error) as err:
        raise AudioDeviceError(f"{path}: not a usable WAV file ({err})") from err


def _parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("missing RIFF/WAVE header")
    pos = 12
    fmt: tuple[int, int, int, int] | None = None
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        body = data[pos + 8 : pos + 8 + size]
        if chunk_id == b"fmt ":
            fmt = _fmt_chunk(body)
        elif chunk_id == b"data":
            if fmt is None:
                raise ValueError("data chunk before fmt chunk")
            return _decode(body, *fmt)
        pos += 8 + size + (size & 1)
    raise ValueError("no data chunk")


def _fmt_chunk(body: bytes) -> tuple[int, int, int, int]:
    """(format tag, channels, rate in Hz, bits per sample) from a WAV `fmt ` chunk's body."""
    tag, channels, rate_hz = struct.unpack("<HHI", body[:8])
    (bits,) = struct.unpack("<H", body[14:16])
    if tag == 0xFFFE and len(body) >= 26:     # WAVE_FORMAT_EXTENSIBLE: real tag in the GUID
        (tag,) = struct.unpack("<H", body[24:26])
    return tag, channels, rate_hz, bits


def _decode(body: bytes, tag: int, channels: int, rate_hz: int, bits: int) -> tuple[np.ndarray, int]:
    if channels < 1 or rate_hz < 1000 or rate_hz > 384_000:
        raise ValueError(f"implausible format: {channels} channels at {rate_hz} Hz")
    if bits not in (8, 16, 24, 32, 64):
        raise ValueError(f"unsupported sample format (format tag {tag}, {bits} bits)")
    width = bits // 8
    usable = len(body) - len(body) % (width * channels)
    body = body[:usable]
    if tag == 3 and bits in (32, 64):
        samples = np.frombuffer(body, dtype="<f4" if bits == 32 else "<f8").astype(np.float32)
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)    # damaged floats
    elif tag == 1 and bits == 16:
        samples = np.frombuffer(body, dtype="<i2").astype(np.float32) / 32768.0
    elif tag == 1 and bits == 8:
        samples = (np.frombuffer(body, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif tag == 1 and bits == 24:
        raw = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        ints = (raw[:, 0].astype(np.int32) | (raw[:, 1].astype(np.int32) << 8)
                | (raw[:, 2].astype(np.int32) << 16))
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        samples = ints.astype(np.float32) / float(1 << 23)
    elif tag == 1 and bits == 32:
        samples = np.frombuffer(body, dtype="<i4").astype(np.float32) / float(1 << 31)
    else:
        raise ValueError(f"unsupported sample format (format tag {tag}, {bits} bits)")
    mono = samples.reshape(-1, channels).mean(axis=1) if channels > 1 else samples
    return np.clip(mono, -1.0, 1.0).astype(np.float32), rate_hz


def resample(samples: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Band-limited resampling (windowed-sinc low-pass, then linear interpolation).

    Good enough for speech recognition and narration; no SciPy needed.
    """
    if from_hz == to_hz or len(samples) == 0:
        return samples.astype(np.float32)
    x = samples.astype(np.float64)
    if to_hz < from_hz:                                   # low-pass below the new Nyquist first
        cutoff = 0.5 * to_hz / from_hz * 0.95
        taps = 63
        n = np.arange(taps) - (taps - 1) / 2
        kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
        kernel /= kernel.sum()
        x = np.convolve(x, kernel, mode="same")
    n_out = int(round(len(x) * to_hz / from_hz))
    t_out = np.arange(n_out) * (from_hz / to_hz)
    return np.interp(t_out, np.arange(len(x)), x).astype(np.float32)


def to_int16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype(np.int16)


def load_pcm16(path: Path, rate_hz: int = RATE_HZ) -> np.ndarray:
    """A WAV file as int16 mono at `rate_hz`."""
    samples, file_rate_hz = read_wav(path)
    return to_int16(resample(samples, file_rate_hz, rate_hz))


def write_wav(path: Path, pcm: np.ndarray, rate_hz: int) -> None:
    """Write int16 mono samples; written to a temporary name first so a crash leaves no half file."""
    tmp = path.with_name(path.name + ".part")
    with open_private_binary(tmp) as raw, wave.open(raw, "wb") as out:     # 0600: it may be a voice
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate_hz)
        out.writeframes(np.asarray(pcm, dtype="<i2").tobytes())
    tmp.replace(path)


class _StoppingWaveWriter(wave.Wave_write):
    """A WAV being written as audio arrives. When the disk fills (or the file goes away) it stops
    recording, warns once, and never raises: a recording must not end the session."""

    def __init__(self, path: Path, what: str, warn: Callable[[str], None] | None) -> None:
        self._file_obj: IO[bytes] = open_private_binary(path)
        self._where = f"{path}: {what}"
        self._warn = warn or _warn_stderr
        self._failed = False
        super().__init__(self._file_obj)

    @property
    def failed(self) -> bool:
        return self._failed

    def _stop(self, err: OSError) -> None:
        if not self._failed:
            self._failed = True
            self._warn(f"{self._where}: recording stopped ({err.strerror or err}); the session goes on")

    def writeframes(self, data: Any) -> None:
        if self._failed:
            return
        try:
            super().writeframes(data)
        except OSError as err:
            self._stop(err)

    def close(self) -> None:
        try:
            if not self._failed:
                super().close()
        except OSError as err:
            self._stop(err)
        finally:
            self._file = None       # type: ignore[assignment]  # wave's own handle: let go of it
            try:
                self._file_obj.close()
            except OSError as err:
                self._stop(err)


def _warn_stderr(text: str) -> None:
    print(f"coach: {text}", file=sys.stderr, flush=True)


def open_wav_writer(path: Path, what: str, warn: Callable[[str], None] | None = None) -> wave.Wave_write:
    """A 16 kHz mono int16 WAV (0600) open for writing as audio arrives; `what` names it in messages.

    A write that fails later (a full disk) stops the recording with one warning (`warn`, else
    stderr) instead of raising."""
    try:
        out = _StoppingWaveWriter(path, what, warn)
    except OSError as err:
        raise UsageError(f"{path}: cannot write the {what} ({err.strerror or err})") from err
    out.setnchannels(1)
    out.setsampwidth(2)
    out.setframerate(RATE_HZ)
    return out


@dataclass(frozen=True)
class WavLayout:
    """Where a WAV file's samples are and what they are, read from its header alone."""

    tag: int
    channels: int
    rate_hz: int
    bits: int
    data_offset: int
    data_bytes: int             # whole frames only, clamped to what the file really holds

    @property
    def frame_bytes(self) -> int:
        return self.bits // 8 * self.channels

    @property
    def frames(self) -> int:
        return self.data_bytes // self.frame_bytes


def read_layout(path: Path) -> WavLayout:
    """The header of a WAV file (any chunks before `data` are skipped by seeking, not read).
    Refuses what is not a regular file: a FIFO would hang and /dev/zero never ends."""
    try:
        info = os.stat(path)
    except OSError as err:
        raise AudioDeviceError(f"{path}: cannot read the WAV file ({err.strerror or err})") from err
    if not stat.S_ISREG(info.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a character device" \
            if stat.S_ISCHR(info.st_mode) else "a folder" if stat.S_ISDIR(info.st_mode) else "not a file"
        raise AudioDeviceError(f"{path}: is {kind}, not a WAV file; --mic replays a recorded file")
    try:
        with path.open("rb") as f:
            return _parse_layout(f, info.st_size)
    except OSError as err:
        raise AudioDeviceError(f"{path}: cannot read the WAV file ({err.strerror or err})") from err
    except (ValueError, struct.error) as err:
        raise AudioDeviceError(f"{path}: not a usable WAV file ({err})") from err


_RF64_SIZE = 0xFFFFFFFF         # an RF64 file's 32-bit size fields: "see the ds64 chunk"


def _parse_layout(f: BinaryIO, size: int) -> WavLayout:
    """RIFF WAVE, or RF64 (EBU Tech 3306: the same with 64-bit sizes in a `ds64` chunk, as
    recorders and sox/ffmpeg write past 4 GB: a day and a half of 16 kHz mono)."""
    head = f.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        raise ValueError("missing RIFF/WAVE header")
    rf64_data_bytes: int | None = None
    pos = 12
    fmt: tuple[int, int, int, int] | None = None
    while pos + 8 <= size:
        f.seek(pos)
        chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
        if chunk_id == b"ds64" and head[:4] == b"RF64":
            body = f.read(24)
            if len(body) < 24:
                raise ValueError("truncated ds64 chunk")
            rf64_data_bytes = struct.unpack("<QQQ", body)[1]
        elif chunk_id == b"data" and chunk_size == _RF64_SIZE and rf64_data_bytes is not None:
            chunk_size = rf64_data_bytes
        if chunk_id == b"fmt ":
            fmt = _fmt_chunk(f.read(min(chunk_size, 64)))
        elif chunk_id == b"data":
            if fmt is None:
                raise ValueError("data chunk before fmt chunk")
            tag, channels, rate_hz, bits = fmt
            _check_format(tag, channels, rate_hz, bits)
            frame = bits // 8 * channels
            available = min(chunk_size, size - pos - 8)
            return WavLayout(tag, channels, rate_hz, bits, pos + 8, available - available % frame)
        pos += 8 + chunk_size + (chunk_size & 1)
    raise ValueError("no data chunk")


def _check_format(tag: int, channels: int, rate_hz: int, bits: int) -> None:
    if channels < 1 or rate_hz < 1000 or rate_hz > 384_000:
        raise ValueError(f"implausible format: {channels} channels at {rate_hz} Hz")
    if (tag, bits) not in ((1, 8), (1, 16), (1, 24), (1, 32), (3, 32), (3, 64)):
        raise ValueError(f"unsupported sample format (format tag {tag}, {bits} bits)")


class StreamResampler:
    """`resample` in pieces: the same windowed-sinc low-pass and linear interpolation, fed block by
    block, with the look-ahead and history it needs carried over. Memory: one block."""

    _TAPS = 63

    def __init__(self, from_hz: int, to_hz: int, total_in: int) -> None:
        self.from_hz, self.to_hz = from_hz, to_hz
        self._ratio = from_hz / to_hz
        self._n_out = int(round(total_in * to_hz / from_hz))
        self._total_in = total_in
        self._kernel: np.ndarray | None = None
        if to_hz < from_hz:
            cutoff = 0.5 * to_hz / from_hz * 0.95
            n = np.arange(self._TAPS) - (self._TAPS - 1) / 2
            kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(self._TAPS)
            self._kernel = kernel / kernel.sum()
        self._half = (self._TAPS - 1) // 2 if self._kernel is not None else 0
        self._x = np.zeros(self._half)          # input not yet filtered (with its history)
        self._y = np.zeros(0)                   # filtered samples from index self._y0
        self._y0 = 0
        self._j = 0                             # next output sample

    def feed(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        x = np.concatenate([self._x, samples.astype(np.float64)])
        if last:
            x = np.concatenate([x, np.zeros(self._half)])
        if self._kernel is not None:
            if len(x) >= self._TAPS:
                filtered = np.convolve(x, self._kernel, mode="valid")
                self._x = x[len(filtered):]
            else:
                filtered = np.zeros(0)
                self._x = x
        else:
            filtered, self._x = x, np.zeros(0)
        self._y = np.concatenate([self._y, filtered])
        have = self._y0 + len(self._y)              # filtered samples known so far
        if last:
            end = self._n_out
        else:                                       # outputs whose right neighbour is known
            end = min(self._n_out, int(np.floor((have - 2) / self._ratio)) + 1) if have >= 2 else 0
        t = np.arange(self._j, max(self._j, end)) * self._ratio
        out = np.interp(t, np.arange(self._y0, have), self._y) if len(t) and len(self._y) else \
            np.zeros(len(t))
        self._j = max(self._j, end)
        keep_from = max(0, int(np.floor(self._j * self._ratio)) - self._y0 - 1)
        self._y = self._y[keep_from:]
        self._y0 += keep_from
        return out.astype(np.float32)


class WavMicrophone:
    """A WAV file in place of a microphone. The session clock follows the file's samples.

    The file is read, decoded and resampled in blocks of about a second as it is replayed, so a
    ten-hour recording needs no more memory than a short one. Only regular files are taken.
    """

    live = False
    BLOCK_S = 1.0

    def __init__(self, path: Path, chunk_s: float = CHUNK_S, dither_lsb: float = 0.0) -> None:
        self.name = str(path)
        self._path = path
        self._layout = read_layout(path)
        self._chunk = max(1, int(round(chunk_s * RATE_HZ)))
        self._dither_lsb = dither_lsb
        self._closed = False

    @property
    def duration_s(self) -> float:
        return self._layout.frames / self._layout.rate_hz

    def _pcm_blocks(self) -> Iterator[np.ndarray]:
        """int16 mono at RATE_HZ, block by block."""
        lay = self._layout
        resampler = StreamResampler(lay.rate_hz, RATE_HZ, lay.frames) if lay.rate_hz != RATE_HZ else None
        block_bytes = max(1, int(lay.rate_hz * self.BLOCK_S)) * lay.frame_bytes
        left = lay.data_bytes
        try:
            with self._path.open("rb") as f:
                f.seek(lay.data_offset)
                while left > 0 and not self._closed:
                    raw = f.read(min(block_bytes, left))
                    if not raw:
                        break
                    raw = raw[: len(raw) - len(raw) % lay.frame_bytes]
                    left -= len(raw)
                    samples, _ = _decode(raw, lay.tag, lay.channels, lay.rate_hz, lay.bits)
                    if resampler is not None:
                        samples = resampler.feed(samples, last=left <= 0)
                    yield to_int16(samples)
        except OSError as err:
            raise AudioDeviceError(f"{self._path}: cannot read the WAV file ({err.strerror or err})") from err

    def __iter__(self) -> Iterator[AudioChunk]:
        rng = np.random.default_rng(0)                     # fixed seed: replays stay identical
        pending = np.zeros(0, dtype=np.int16)
        start = 0
        for pcm in self._pcm_blocks():
            pending = np.concatenate([pending, pcm])
            while len(pending) >= self._chunk:
                if self._closed:
                    return
                yield self._chunk_at(pending[: self._chunk], start, rng)
                pending = pending[self._chunk :]
                start += self._chunk
        if len(pending) and not self._closed:
            yield self._chunk_at(pending, start, rng)

    def _chunk_at(self, block: np.ndarray, start: int, rng: np.random.Generator) -> AudioChunk:
        if self._dither_lsb:
            noise = rng.normal(0.0, self._dither_lsb, len(block))
            block = np.clip(block + noise, -32768, 32767).astype(np.int16)
        return AudioChunk(block.astype("<i2").tobytes(), start / RATE_HZ)

    def close(self) -> None:
        self._closed = True
