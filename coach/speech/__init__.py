"""Speech out: pyttsx3 renders text to samples (`tts`); the `timeline` places them in session time."""
