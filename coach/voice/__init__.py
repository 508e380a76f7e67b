"""Voice packs: how the coach sounds (engine, speed), what it says, and what it understands."""

from coach.voice.pack import COMMANDS, LINE_FIELDS, VoicePack, find_voice, list_voices, load_voice

__all__ = ["COMMANDS", "LINE_FIELDS", "VoicePack", "find_voice", "list_voices", "load_voice"]
