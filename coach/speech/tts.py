"""Text to speech samples with pyttsx3, in one owner thread guarded by a watchdog.

pyttsx3 must be created and driven from a single thread, can hang (reported on a Raspberry Pi),
and on Linux plays through `aplay` behind your back. So coach never lets it play: it renders each
line to a WAV file in its own thread, reads the samples back, and the caller decides when they
are heard. A render that takes longer than the watchdog allows marks the engine dead; the caller
then prints instead of speaking.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Protocol

import numpy as np

from coach.audio.wav import load_pcm16
from coach.defaults import RATE_HZ, TTS_RENDER_TIMEOUT_S
from coach.errors import SpeechEngineError

WARM_UP_TEXT = "Ready."
# A line that fails or comes out silent is rendered again, up to this many times in all. espeak-ng
# through pyttsx3 sometimes ends a message at once with no audio (a bare "message terminated"
# callback right after espeak_Synth returned EE_OK): measured 0-4 in 120 lines per process, once
# twice in a row for the same line, which with two tries left that line silent.
RENDER_TRIES = 4
CLOSE_WAIT_S = 1.0      # close() waits this long for the owner thread to finish its line and clean up


class Synthesizer(Protocol):
    """Renders text to int16 mono samples at RATE_HZ. `name` says which engine, for messages."""

    name: str

    def submit(self, text: str) -> Future[np.ndarray]: ...

    def close(self) -> None: ...


class Pyttsx3Synthesizer:
    """pyttsx3 (espeak-ng on Linux) rendering to samples, with a cache of lines already said."""

    def __init__(self, voice: str, rate_wpm: int, volume: float) -> None:
        self.name = f"pyttsx3 ({voice}, {rate_wpm} wpm)"
        self._settings = (voice, rate_wpm, volume)
        self._jobs: queue.Queue[tuple[str, Future[np.ndarray]] | None] = queue.Queue()
        self._cache: dict[str, np.ndarray] = {}
        # Lines asked for and not rendered yet: asked again, they get the same job. espeak-ng's
        # output depends on what it rendered before (the same line came out 34479-34681 samples
        # long in one process), so a second render of a line still in the queue (a prefetch
        # racing the narrator, as load decides) changed every later line and a replay was no
        # longer byte-identical under load (tests/test_replay_under_load.py, 1 ms off).
        self._pending: dict[str, Future[np.ndarray]] = {}
        self._lock = threading.Lock()
        self._started = Future()    # type: Future[None]
        self._thread = threading.Thread(target=self._own_engine, name="pyttsx3", daemon=True)
        self._thread.start()

    def start(self, timeout_s: float = TTS_RENDER_TIMEOUT_S) -> None:
        """Wait until the engine is up and has spoken once; raises SpeechEngineError if it cannot.

        The warm-up render matters: pyttsx3's queued settings (voice, rate) are applied by its first
        run loop, and heavy native work elsewhere in the process at that moment (creating a
        pocketsphinx decoder) was seen to make that first loop drop the rate or the audio.
        Callers start the synthesizer before the recognizer.
        """
        try:
            self._started.result(timeout=timeout_s)
        except TimeoutError as err:
            raise SpeechEngineError(f"the speech engine did not start within {timeout_s:g} s") from err
        if len(self.render(WARM_UP_TEXT, timeout_s)) == 0:
            raise SpeechEngineError("the speech engine produced no audio")

    def submit(self, text: str) -> Future[np.ndarray]:
        """Ask for `text`'s samples; the future completes in the owner thread (or from the cache)."""
        with self._lock:
            if text in self._cache:
                done: Future[np.ndarray] = Future()
                done.set_result(self._cache[text])
                return done
            if text in self._pending:
                return self._pending[text]
            job: Future[np.ndarray] = Future()
            self._pending[text] = job
        self._jobs.put((text, job))
        job.add_done_callback(lambda f: self._keep(text, f))
        return job

    def prefetch(self, texts: list[str]) -> None:
        """Render lines that will be needed soon (the counts of the next hold) ahead of time."""
        for text in texts:
            self.submit(text)           # (a cached or queued line is not rendered again)

    def render(self, text: str, timeout_s: float = TTS_RENDER_TIMEOUT_S) -> np.ndarray:
        """Blocking render with the watchdog; raises SpeechEngineError on a hang or failure."""
        try:
            return self.submit(text).result(timeout=timeout_s)
        except TimeoutError as err:
            raise SpeechEngineError(f"the speech engine hung (no audio after {timeout_s:g} s)") from err
        except SpeechEngineError:
            raise
        except Exception as err:
            raise SpeechEngineError(f"the speech engine failed: {err}") from err

    def _keep(self, text: str, job: Future[np.ndarray]) -> None:
        with self._lock:
            if self._pending.get(text) is job:
                del self._pending[text]
            if job.exception() is None:
                self._cache[text] = job.result()

    def close(self) -> None:
        """Stop the owner thread; wait a little (not for a hung engine) so it removes its temp folder."""
        self._jobs.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join(CLOSE_WAIT_S)

    # -- the owner thread ----------------------------------------------------------------------
    def _own_engine(self) -> None:
        try:
            engine = _make_engine(*self._settings)
        except Exception as err:            # no espeak-ng, no driver: say why, once
            self._started.set_exception(SpeechEngineError(f"cannot start pyttsx3: {err}"))
            return
        self._started.set_result(None)
        with tempfile.TemporaryDirectory(prefix="coach-tts-") as tmp:
            out = Path(tmp) / "line.wav"
            while (item := self._jobs.get()) is not None:
                text, job = item
                # RENDER_TRIES before giving up: a failed render, seen once in a clean-clone test run
                # (every line of that replayed session was then only printed), is not a dead engine.
                for attempt in range(RENDER_TRIES):
                    try:
                        samples = self._render_once(engine, text, out, self._settings)
                    except Exception as err:
                        if attempt + 1 == RENDER_TRIES:
                            job.set_exception(err)
                        continue
                    if len(samples) or attempt + 1 == RENDER_TRIES:
                        job.set_result(samples)
                        break

    @staticmethod
    def _render_once(engine, text: str, out: Path,  # noqa: ANN001 - pyttsx3 is untyped
                     settings: tuple[str, int, float]) -> np.ndarray:
        out.unlink(missing_ok=True)
        # The settings go into every run loop with the line, not only the first: a clean-clone
        # run replayed one session twice and one of the two spoke every line at espeak's default
        # rate (the first loop had dropped it), so the two event logs differed.
        _apply_settings(engine, *settings)
        engine.save_to_file(text, str(out))
        engine.runAndWait()
        if not out.exists():
            raise SpeechEngineError("pyttsx3 wrote no audio")
        samples = load_pcm16(out, RATE_HZ)
        out.unlink()                        # no audio lies around in /tmp, even if coach is killed
        return trim_silence(samples)


def _make_engine(voice: str, rate_wpm: int, volume: float):  # noqa: ANN202 - pyttsx3 is untyped
    import pyttsx3

    engine = pyttsx3.init()
    _silence_driver_prints()
    ids = {v.id for v in engine.getProperty("voices")}
    base = voice.split("+")[0]      # espeak-ng variants: en-us+m3
    if base not in ids and not any(i.endswith("/" + base) for i in ids):
        raise SpeechEngineError(f"the speech engine has no voice `{voice}`; "
                                "`coach say --list-voices` shows the ones it has")
    _apply_settings(engine, voice, rate_wpm, volume)       # here too: a voice it cannot take fails at start
    return engine


def _apply_settings(engine, voice: str, rate_wpm: int, volume: float) -> None:  # noqa: ANN001
    engine.setProperty("voice", voice)
    engine.setProperty("rate", rate_wpm)
    engine.setProperty("volume", volume)


def _silence_driver_prints() -> None:
    """pyttsx3's espeak driver prints "Audio saved to ..." on every save; keep stdout ours."""
    try:
        from pyttsx3.drivers import espeak
    except Exception:       # another platform's driver
        return
    espeak.print = lambda *args, **kwargs: None     # a module-level name shadows the builtin


def trim_silence(samples: np.ndarray, threshold: int = 200, margin_s: float = 0.03) -> np.ndarray:
    """Cut the engine's leading and trailing silence, so an utterance's length is its speech."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if len(loud) == 0:
        return samples[:0]
    margin = int(margin_s * RATE_HZ)
    return samples[max(0, loud[0] - margin) : loud[-1] + margin]


def list_engine_voices() -> list[tuple[str, str]]:
    """(id, name) of every voice the engine offers."""
    import pyttsx3

    engine = pyttsx3.init()
    return [(v.id, v.name) for v in engine.getProperty("voices")]
