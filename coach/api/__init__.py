"""The library under the command line: every `coach` command that reports or changes something is
a function here, which takes plain values (a data directory, a user, a routine name) and returns
lines or results. `coach.cli` only parses arguments and prints; tests call these directly.

    settings.py   the effective configuration and the one rule for the user
    history.py    coach history / export / import
    progress.py   coach status / chart / lock / unlock
    report.py     coach report
    library.py    coach routines / voices / say
    enroll.py     coach enroll (the adaptation itself is coach.asr.enroll)

Heavy modules (sqlite3, yaml, the speech engine) are imported inside the functions that need them.
"""
