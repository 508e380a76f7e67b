"""`coach enroll --from DIR`: load the takes, adapt the head, report, store it (only if it helped).

The checks and the adaptation are in `coach.asr.enroll`; this is the step the CLI calls, returning
the lines to print and where the adapted head was stored (None: not stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
