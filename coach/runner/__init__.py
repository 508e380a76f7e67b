"""Wiring one session: a clock or microphone drives the core; the edges carry out its actions."""
