"""The edge of `coach enroll --from DIR`: load, adapt, report, store (only if it helped)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from coach.asr.enroll import enroll, read_recordings, save
from coach.asr.select import enrolled_head_path


def enroll_from_dir(folder: Path, voice_name: str, data_dir: Path, out: TextIO = sys.stdout) -> int:
    from coach.asr.neural.features import SpeechEmbedder
    from coach.asr.neural.head import load_shipped_head
    from coach.runner.assemble import load_voice_pack

    voice = load_voice_pack(voice_name, data_dir)
    head = load_shipped_head()
    result = enroll(read_recordings(folder, voice.phrases), head, SpeechEmbedder(), voice.phrases)
    print(result.summary(), file=out)
    if result.head is None:
        return 1
    if result.held_back and result.after < result.before:
        print("the adapted head did worse on the held-back recordings: not saved", file=out)
        return 1
    path = enrolled_head_path(data_dir)
    save(result, path)
    print(f"saved to {path}; the neural and fused engines use it from now on "
          f"(delete it to go back to the shipped head)", file=out)
    return 0
