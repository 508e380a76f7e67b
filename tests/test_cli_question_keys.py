"""Through a pseudo-terminal: keys pressed while the coach asks a yes/no question get an answer,
never a traceback (s, n and t used to crash here: an assert and a KeyError in the core)."""

from __future__ import annotations

import sys

import pexpect
import pytest
from conftest import ROOT

pytestmark = pytest.mark.audio


def spawn(args, env, timeout=60):
    return pexpect.spawn(sys.executable, ["-m", "coach", *args], env=env, cwd=str(ROOT),
                         encoding="utf-8", timeout=timeout)


# Slow lane (34 s of speech on the wall clock): the default run keeps its twin in the core,
# tests/test_core_dispatch.py::test_a_key_while_a_question_is_up_asks_for_yes_or_no (every key),
# and the keyboard path of the same question in tests/test_cli_keys.py (the offer after a crash).
@pytest.mark.slow
def test_keys_during_the_resume_question(coach_env):
    child = spawn(["run", "short"], coach_env)
    child.expect("Say ready when you're in position.")
    child.send("r")
    child.expect(r"Lift, and hold for \d+ seconds\.")
    child.send("c")
    child.expect("You held")
    child.kill(9)                                   # a power cut after set 1
    child.close()

    child = spawn(["run", "short"], coach_env)
    child.expect("Shall we carry on")
    for key in "stdpu":                             # skip, how long, done, pause, resume
        child.send(key)
        child.expect("Please say yes or no.")
    child.send("n")                                 # the question is still up: no starts afresh
    child.expect("Say ready when you're in position.")
    child.send("q")
    child.expect(r"session stopped")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")
