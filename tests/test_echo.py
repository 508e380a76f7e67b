"""The echo canceller: ERLE on real synthesized speech through the honest room, delay found,
double-talk kept, chunking, statistics, and a missing library."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import COACH, ROOT

from coach.asr.selfvoice import EchoEvidence
from coach.audio.echo import (
    DIVERGED_OVER_MIC_DB,
    DIVERGED_RESET_FRAMES,
    DcBlock,
    FramedCanceller,
    PassThrough,
    SpeexCanceller,
    open_canceller,
    power_dbfs,
)
from coach.audio.room import Room, RoomConfig
from coach.audio.wav import load_pcm16, write_wav
from coach.defaults import RATE_HZ
from coach.errors import EchoCancellerError

NARRATION = ("Keep that neutral spine. On the count, raise your hips and bottom off the floor. "
             "Let your buttock muscles do the lifting, not your lower back. Twenty seconds. Halfway. "
             "We aim for sixty seconds, five times, with a short rest between. Ten seconds to go.")
CONVERGED_S = 5.0           # the canceller is given this long (of coach speech) to converge
MIN_ERLE_DB = 15.0          # and must then remove this much (measured 21-23 dB, see the README)


def espeak(text: str, voice: str, tmp: Path) -> np.ndarray:
    path = tmp / "speech.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(path), text], check=True)
    return load_pcm16(path, RATE_HZ)


def flite(text: str, voice: str, tmp: Path) -> np.ndarray:
    path = tmp / "user.wav"
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(path)], check=True)
    samples = load_pcm16(path, RATE_HZ)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    return samples[loud[0]:loud[-1] + 1]


@pytest.fixture(scope="module")
def narration(tmp_path_factory) -> np.ndarray:
    """The coach's voice (espeak-ng en-us, as pyttsx3 speaks it), about 15 s."""
    return espeak(NARRATION, "en-us", tmp_path_factory.mktemp("narration"))


def through_room(played: np.ndarray, config: RoomConfig, floor_rms: float = 3.0) -> np.ndarray:
    room = Room(config)
    echo = np.concatenate([room.process(played[i:i + 800]) for i in range(0, len(played), 800)])
    return echo + np.random.default_rng(2).normal(0.0, floor_rms, len(echo))


def run(canceller, mic: np.ndarray, ref: np.ndarray, chunk: int = 800) -> np.ndarray:
    mic16 = np.clip(np.round(mic), -32768, 32767).astype(np.int16)
    return np.concatenate([canceller.process(mic16[i:i + chunk], ref[i:i + chunk])
                           for i in range(0, len(mic16), chunk)])


def erle_db(mic: np.ndarray, out: np.ndarray, ref: np.ndarray, from_s: float) -> float:
    """Mic over output power in the 10 ms frames after `from_s` where the coach plays."""
    f = 160
    n = len(ref) // f
    frames = [i for i in range(int(from_s * RATE_HZ) // f, n) if power_dbfs(ref[i * f:(i + 1) * f]) > -50]
    pm = sum(float(np.sum(mic[i * f:(i + 1) * f].astype(np.float64) ** 2)) for i in frames)
    po = sum(float(np.sum(out[i * f:(i + 1) * f].astype(np.float64) ** 2)) for i in frames)
    return 10 * np.log10(pm / po)


@pytest.mark.audio
def test_speech_through_the_room_at_gain_1_is_cancelled_by_15_db_within_5_s(narration):
    mic = through_room(narration, RoomConfig(gain=1.0))
    canceller = SpeexCanceller()
    out = run(canceller, mic, narration)
    assert erle_db(mic, out, narration, CONVERGED_S) >= MIN_ERLE_DB
    assert canceller.delay_ms == pytest.approx(70.0, abs=1.0)      # the delay it was not told
    assert canceller.erle_db >= MIN_ERLE_DB                         # its own running estimate agrees
    assert canceller.leak_db <= -MIN_ERLE_DB


@pytest.mark.audio
@pytest.mark.parametrize("delay_ms", [30.0, 150.0])
def test_the_delay_is_found_and_cancelled_whatever_it_is(narration, delay_ms):
    mic = through_room(narration, RoomConfig(gain=1.0, delay_ms=delay_ms, rt60_s=0.6))
    canceller = SpeexCanceller()
    out = run(canceller, mic, narration)
    assert canceller.delay_ms == pytest.approx(delay_ms, abs=1.0)
    assert erle_db(mic, out, narration, CONVERGED_S) >= MIN_ERLE_DB


@pytest.mark.audio
def test_a_user_command_over_narration_survives_cancellation(narration, tmp_path):
    user = flite("can't hold", "slt", tmp_path).astype(np.float64) * 0.5
    at = int(9.0 * RATE_HZ)                 # well after convergence, over the coach's speech
    user_track = np.zeros(len(narration))
    user_track[at:at + len(user)] = user
    echo = through_room(narration, RoomConfig(gain=1.0))
    out = run(SpeexCanceller(), echo + user_track, narration).astype(np.float64)
    span = slice(at, at + len(user))
    kept = float(np.dot(out[span], user) / np.dot(user, user))       # the user's speech left in the output
    assert 20 * np.log10(kept) > -3.0
    residual = out[span] - kept * user                               # echo left while both talk
    assert power_dbfs(echo[span]) - power_dbfs(residual) > 5        # measured 7.8 dB (21 dB single-talk)
    after = slice(at + len(user), at + len(user) + 3 * RATE_HZ)
    assert power_dbfs(echo[after]) - power_dbfs(out[after]) > MIN_ERLE_DB   # and the filter did not diverge


@pytest.mark.audio
def test_the_residual_suppressor_keeps_the_user_10_ms_later(narration, tmp_path):
    user = flite("can't hold", "slt", tmp_path).astype(np.float64) * 0.5
    at = int(9.0 * RATE_HZ)
    user_track = np.zeros(len(narration))
    user_track[at:at + len(user)] = user
    echo = through_room(narration, RoomConfig(gain=1.0))
    canceller = SpeexCanceller(suppress_db=-40)
    out = run(canceller, echo + user_track, narration).astype(np.float64)
    lag = 158                                                       # the suppressor's window
    span = slice(at + lag, at + lag + len(user))
    kept = float(np.dot(out[span], user) / np.dot(user, user))
    assert 20 * np.log10(kept) > -3.0
    alone = run(SpeexCanceller(suppress_db=-40), echo, narration)    # the coach alone: 28 dB measured
    assert erle_db(echo, alone, narration, CONVERGED_S) >= MIN_ERLE_DB + 5


@pytest.mark.audio
def test_with_no_echo_the_user_talking_over_the_coach_does_not_put_the_coach_into_the_output(
        narration, tmp_path):
    """Headphones, a far speaker, room gain 0: nothing of the coach comes back, and the user talks
    over it three times at a normal level. speexdsp's filter then learns an echo path the room does
    not have and adds the coach's voice to the microphone (measured without the guard: up to 45 dB
    over the microphone, the coach-only stretches 12-27 dB over the floor, heard as speech). With
    the guard, no frame is louder than the microphone by more than DIVERGED_OVER_MIC_DB, the
    coach-only stretches stay at the floor and the user's words are kept."""
    user = flite("can't hold", "slt", tmp_path).astype(np.float64)
    user *= 32767 * 10 ** (-12 / 20) / np.abs(user).max()          # as bench_turns places a user
    n = len(narration)
    track, said = np.zeros(n), np.zeros(n, bool)
    for at_s in (2.0, 5.0, 8.0):
        at = int(at_s * RATE_HZ)
        track[at:at + len(user)] += user
        said[at:at + len(user)] = True
    mic = np.random.default_rng(2).normal(0.0, 3.0, n) + track
    canceller = SpeexCanceller()
    out = run(canceller, mic, narration).astype(np.float64)
    band = DcBlock()(np.round(mic))
    f = 160
    frames = range(n // f)
    over = [power_dbfs(out[i * f:(i + 1) * f]) - power_dbfs(band[i * f:(i + 1) * f]) for i in frames]
    assert max(over) <= DIVERGED_OVER_MIC_DB + 1e-6
    coach_only = [i for i in frames if not said[i * f:(i + 1) * f].any()
                  and power_dbfs(narration[i * f:(i + 1) * f]) > -50]
    power = np.mean([10 ** (power_dbfs(out[i * f:(i + 1) * f]) / 10) for i in coach_only])
    assert 10 * np.log10(power) < power_dbfs(band[: RATE_HZ]) + 1.0     # the floor, not the coach
    kept = float(np.dot(out[said], track[said]) / np.dot(track[said], track[said]))
    assert 20 * np.log10(kept) > -3.0
    assert canceller.diverged_frames > 0                            # (the guard did the work)


class _Adds(FramedCanceller):
    """A filter that has diverged for good: it adds the reference instead of removing it."""

    def __init__(self) -> None:
        super().__init__(estimate_delay=False)
        self.resets = 0

    def _cancel(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        return np.clip(mic.astype(np.int32) + ref, -32768, 32767).astype(np.int16)

    def _reset_filter(self) -> None:
        self.resets += 1


def test_a_diverged_filter_gives_the_microphone_and_is_reset(narration_free_signal):
    ref, _ = narration_free_signal
    mic = np.random.default_rng(3).normal(0.0, 30.0, len(ref))
    mic16 = np.round(mic).astype(np.int16)
    canceller = _Adds()
    out = run(canceller, mic16, ref)
    band = DcBlock()(mic16)
    diverged = 0
    for i in range(0, len(ref), 160):
        frame = slice(i, i + 160)
        added = np.clip(mic16[frame].astype(np.int32) + ref[frame], -32768, 32767)
        if power_dbfs(added) > power_dbfs(band[frame]) + DIVERGED_OVER_MIC_DB:
            diverged += 1                                           # the microphone's, not the filter's
            assert np.array_equal(out[frame], np.clip(np.round(band[frame]), -32768, 32767))
        else:
            assert np.array_equal(out[frame], added)
    assert diverged > 2 * DIVERGED_RESET_FRAMES
    assert canceller.diverged_frames == diverged
    assert canceller.resets == canceller.filter_resets >= 2


def test_the_dc_block_removes_drift_keeps_speech_and_does_not_depend_on_the_chunking():
    t = np.arange(2 * RATE_HZ) / RATE_HZ
    drift = 2000 + 3000 * np.sin(2 * np.pi * 5 * t)                  # an offset and a slow rumble
    voice = 1000 * np.sin(2 * np.pi * 300 * t)
    out = DcBlock()(drift + voice)
    tail = slice(RATE_HZ, None)
    assert power_dbfs(out[tail] - voice[tail]) < power_dbfs(drift[tail]) - 20
    assert abs(power_dbfs(out[tail]) - power_dbfs(voice[tail])) < 0.5
    block = DcBlock()
    pieces = np.concatenate([block(x) for x in np.array_split(drift + voice, 37)])
    assert np.allclose(pieces, out)


def test_the_output_does_not_depend_on_the_chunking(narration_free_signal):
    ref, mic = narration_free_signal
    mic = np.round(mic).astype(np.int16)
    whole = run(SpeexCanceller(), mic, ref, chunk=800)
    for sizes in ([160], [480, 160, 1600], [3200]):
        canceller = SpeexCanceller()
        pieces, i, k = [], 0, 0
        while i < len(mic):
            n = sizes[k % len(sizes)]
            pieces.append(canceller.process(mic[i:i + n], ref[i:i + n]))
            i, k = i + n, k + 1
        assert canceller.latency_samples == 0
        assert np.array_equal(np.concatenate(pieces), whole)


def test_chunks_that_end_inside_a_frame_cost_one_fixed_delay_under_a_frame(narration_free_signal):
    ref, mic = narration_free_signal
    whole = run(SpeexCanceller(), mic, ref, chunk=800)
    canceller = SpeexCanceller()
    out = run(canceller, mic, ref, chunk=333)
    lag = canceller.latency_samples
    assert lag == canceller.frame_samples - 1
    assert len(out) == len(mic)
    assert np.array_equal(out[lag:], whole[: len(whole) - lag])


def test_statistics_per_frame_and_the_expected_residual(narration_free_signal):
    ref, mic = narration_free_signal
    canceller = SpeexCanceller()
    run(canceller, mic, ref)
    last = canceller.frames(len(mic) - 1600, len(mic))
    assert len(last) == 10 and all(f.sample % 160 == 0 for f in last)
    assert all(f.out_dbfs < f.mic_dbfs for f in last)
    expected = canceller.echo_power_estimate(ref[-1600:])
    assert expected == pytest.approx(power_dbfs(ref[-1600:]) + canceller.leak_db)
    assert expected < power_dbfs(mic[-1600:])


def test_pass_through_changes_nothing_but_still_measures(narration_free_signal):
    ref, mic = narration_free_signal
    mic16 = np.round(mic).astype(np.int16)
    canceller = open_canceller("none")
    out = run(canceller, mic16, ref)
    assert isinstance(canceller, PassThrough) and np.array_equal(out, mic16)
    assert canceller.erle_db == pytest.approx(0.0, abs=0.5)


def test_a_missing_library_is_a_one_line_error():
    with pytest.raises(EchoCancellerError) as err:
        SpeexCanceller(library="/nonexistent/libspeexdsp.so.1")
    message = str(err.value)
    assert "\n" not in message and "libspeexdsp1" in message


@pytest.mark.audio
def test_coach_run_cancels_its_echo_and_keeps_all_three_signals(coach_env, tmp_path):
    mic = tmp_path / "silence.wav"
    write_wav(mic, np.round(np.random.default_rng(1).normal(0, 3, 20 * RATE_HZ)).astype(np.int16), RATE_HZ)
    prefix = tmp_path / "echo"
    out = subprocess.run([*COACH, "run", "glutes", "--mic", str(mic), "--echo-gain", "1.0",
                          "--keep-echo", str(prefix)], env=coach_env, cwd=str(ROOT), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    raw, clean = _read(Path(f"{prefix}-mic.wav")), _read(Path(f"{prefix}-clean.wav"))
    heard = _read(Path(f"{prefix}-heard.wav"))
    assert len(raw) == len(clean) == len(heard) == 20 * RATE_HZ
    late = slice(6 * RATE_HZ, None)
    assert power_dbfs(raw[late]) - power_dbfs(clean[late]) > 10
    # what the recognizer heard: in step with the others (the gate's 0.16 s delay taken off: the
    # cancelled microphone correlates with it at lag 0, not at the delay), and the residual of the
    # coach's voice turned down by the echo gate
    delay = EchoEvidence().delay_samples
    assert _correlation(clean, heard) > 0.3
    assert abs(_correlation(clean[:-delay], heard[delay:])) < 0.1
    assert power_dbfs(clean[late]) - power_dbfs(heard[late]) > 3


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


@pytest.mark.audio
def test_coach_run_without_the_library_warns_once_and_carries_on(coach_env, tmp_path):
    mic = tmp_path / "silence.wav"
    write_wav(mic, np.round(np.random.default_rng(1).normal(0, 3, 8 * RATE_HZ)).astype(np.int16), RATE_HZ)
    env = dict(coach_env, COACH_SPEEXDSP="/nonexistent/libspeexdsp.so.1")
    out = subprocess.run([*COACH, "run", "short", "--mic", str(mic), "--echo-gain", "0.5"], env=env,
                         cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    warnings = [line for line in (out.stdout + out.stderr).splitlines() if "no echo cancellation" in line]
    assert len(warnings) == 1


@pytest.fixture(scope="module")
def narration_free_signal() -> tuple[np.ndarray, np.ndarray]:
    """A speech-like reference (noise with a syllable envelope) and its room echo: no synthesis needed."""
    rng = np.random.default_rng(5)
    n = 6 * RATE_HZ
    envelope = np.clip(np.sin(2 * np.pi * 3 * np.arange(n) / RATE_HZ), 0, None)
    ref = (rng.normal(size=n) * 4000 * envelope).astype(np.int16)
    return ref, through_room(ref, RoomConfig(gain=1.0))


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
