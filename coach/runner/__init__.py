"""Wiring one session: a clock or microphone drives the core; narrator, store and log carry out its actions."""
