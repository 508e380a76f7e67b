"""`coach enroll`: record takes from the microphone (or load them `--from DIR`), adapt the head,
report, store it (only if it helped).

The checks and the adaptation are in `coach.asr.enroll`, the recording in `coach.runner.takes`;
these are the steps the CLI calls, returning the lines to print and where the adapted head was
stored (None: not stored).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from coach.audio.chunk import Microphone
from coach.errors import UsageError


@dataclass(frozen=True)
class Enrolled:
    lines: list[str]
    saved: Path | None          # the adapted head's file; None: nothing stored (the shipped head stays)


def enroll_from_dir(folder: Path, voice_name: str, data_dir: Path, user: str = "default") -> Enrolled:
    from coach.asr.enroll import enroll, read_recordings, save
    from coach.asr.neural.features import SpeechEmbedder
    from coach.asr.neural.head import load_shipped_head
    from coach.asr.select import enrolled_head_path
    from coach.voice.pack import load_voice_named

    voice = load_voice_named(voice_name, data_dir)
    head = load_shipped_head()
    result = enroll(read_recordings(folder, voice.phrases), head, SpeechEmbedder(), voice.phrases)
    lines = [result.summary()]
    if result.head is None:
        return Enrolled(lines, None)
    if result.held_back and result.after < result.before:
        return Enrolled([*lines, "the adapted head did worse on the held-back recordings: not saved"], None)
    path = enrolled_head_path(data_dir, user)
    save(result, path)
    lines.append(f"saved to {path}; the neural and fused engines use it for {user} from now on "
                 f"(delete it to go back to the shipped head)")
    return Enrolled(lines, path)


def takes_dir(data_dir: Path, user: str = "default") -> Path:
    """Where `coach enroll` keeps the takes it recorded for this user (next to the adapted head)."""
    from coach.asr.select import enrolled_head_path

    return enrolled_head_path(data_dir, user).parent / "takes"


def enroll_live(mic: Microphone, voice_name: str, data_dir: Path, user: str, takes: int,
                commands: Sequence[str] | None, show: Callable[[str], None]) -> Enrolled:
    """Ask for each command `takes` times from `mic`, keep the takes, then adapt as `--from` does."""
    from coach.asr.neural.head import OTHER, load_shipped_head
    from coach.runner.takes import record_takes
    from coach.voice.pack import load_voice_named

    voice = load_voice_named(voice_name, data_dir)
    known = [c for c in voice.phrases if c in load_shipped_head().labels and c != OTHER]
    wanted = list(commands) if commands else known
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise UsageError(f"--commands: {', '.join(unknown)} cannot be enrolled "
                         f"(the neural head knows: {', '.join(known)})")
    folder = takes_dir(data_dir, user)
    recorded = record_takes(mic, wanted, voice.phrases, folder, takes, show)
    kept = [t for t in recorded if t.path is not None]
    lines = [f"recorded {len(kept)} of {len(wanted) * takes} takes into {folder} "
             f"(coach enroll --from {folder} adapts from them again)"]
    if not kept:
        return Enrolled([*lines, "nothing recorded: is the microphone on? "
                                 "(coach listen shows what it hears)"], None)
    enrolled = enroll_from_dir(folder, voice_name, data_dir, user)
    return Enrolled([*lines, *enrolled.lines], enrolled.saved)
