"""Audio edges: microphones (live or WAV) yield chunks; speakers play or render speech."""
