"""Fuzzing helpers shared by the routine-loader and config tests: hypothesis settings, files near
a real one (and far from it), and the check that an error message is one line fit for the user."""

from __future__ import annotations

import copy
import functools
import os
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st


def fuzz_examples() -> int:
    """300 in the default run; COACH_FUZZ_EXAMPLES asks for a longer run (at least 1,000)."""
    wanted = os.environ.get("COACH_FUZZ_EXAMPLES", "")
    if not wanted:
        return 300
    return max(1000, int(wanted)) if wanted.isdigit() else 1000


FUZZ = settings(max_examples=fuzz_examples(), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])

_ODD_TEXT = ["", " ", "0", "-5", "1e308", "yes", "~", "null", "sixty", "{secs}", "{", "}", "{{}}",
             "\t", "\ufeff", "\u2028", "\x85", "\x07", "é", "💪", "ready", "&a", "*a",
             "!!int x", "- x", "key: value", "'", '"', "#", "|", "2024-13-45", "1:30", ".inf"]
_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(), st.text(max_size=20), st.sampled_from(_ODD_TEXT),
    st.integers(0, 70_000).map(lambda n: "x" * n),
)
_VALUES = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _bomb(levels: int) -> list[Any]:
    """Lists of shared lists: yaml.dump writes it with anchors and aliases, small; expanded it is huge."""
    value: list[Any] = ["lol"] * 9
    for _ in range(levels):
        value = [value] * 9
    return value


def _containers(value: Any) -> list[Any]:
    found: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)) and all(item is not f for f in found):
            found.append(item)
            stack.extend(item.values() if isinstance(item, dict) else item)
    return found


@functools.cache
def _parsed(text: str) -> Any:
    return yaml.safe_load(text)


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)     # libyaml's when there, for speed


@st.composite
def _mutated_objects(draw: st.DrawFn, text: str) -> str:
    """`text` parsed, changed 1-4 times (keys dropped, renamed or added, values of other types,
    shared values, bombs, deep nesting), and written back as YAML."""
    doc = copy.deepcopy(_parsed(text))
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(_containers(doc)))
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        op = draw(st.sampled_from(["drop", "replace", "rename", "add", "share", "bomb", "deep"]))
        if not keys or op == "add":
            if isinstance(target, dict):
                target[draw(st.text(max_size=12) | st.sampled_from(sorted(map(str, keys)) or ["x"]))] = \
                    draw(_VALUES)
            else:
                target.append(draw(_VALUES))
            continue
        key = draw(st.sampled_from(keys))
        if op == "drop":
            del target[key]
        elif op == "rename" and isinstance(target, dict):
            name = str(key)
            cut = draw(st.integers(0, len(name)))
            target[name[:cut] + draw(st.sampled_from(["", "_", "s", "x"])) + name[cut + 1:]] = target.pop(key)
        elif op == "share":
            source = draw(st.sampled_from(_containers(doc)))
            target[key] = copy.deepcopy(source)
        elif op == "bomb":
            target[key] = _bomb(draw(st.integers(1, 9)))
        elif op == "deep":
            target[key] = _nested(draw(st.integers(1, 60)))
        else:
            target[key] = draw(_VALUES)
    return yaml.dump(doc, Dumper=_DUMPER, allow_unicode=draw(st.booleans()), sort_keys=False,
                     default_flow_style=draw(st.sampled_from([False, None, True])))


_SNIPPETS = ["\t", "\ufeff", "\x00", "\x85", "\u2028", "\r", "\n", ":", ": ", "- ", "[", "]", "{", "}",
             ",", "&a ", "*a", "&a [lol, lol]", "[*a, *a, *a]", "!!int ", "!!binary ", "!!python/object ",
             "!x ", "<<: *a\n", "? ", "---\n", "...\n", "%YAML 1.1\n", '"', "'", "\\", "|\n", ">\n", "#",
             "  ", "1e308", "-5", "0", "9" * 500, "💪", "é", "\U0010ffff", "[" * 200, "{a: " * 50]


@st.composite
def _mutated_text(draw: st.DrawFn, text: str) -> str:
    """`text` with 1-6 edits: snippets inserted, slices deleted or repeated, lines swapped."""
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "insert", "delete", "repeat", "swap"]))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(_SNIPPETS) | st.text(max_size=8)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 200)):]
        elif op == "repeat":
            text = text[:at] + text[at:at + draw(st.integers(1, 80))] * draw(st.integers(2, 50)) + text[at:]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@st.composite
def fuzzed_files(draw: st.DrawFn, original: str) -> bytes:
    """File contents near `original` (the real file, changed) and far from it (junk), mostly UTF-8."""
    kind = draw(st.sampled_from(["objects"] * 4 + ["text"] * 4 + ["junk text", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    text = draw(_mutated_objects(original) if kind == "objects"
                else _mutated_text(original) if kind == "text" else st.text(max_size=2000))
    encoding = draw(st.sampled_from(["utf-8"] * 8 + ["utf-8-sig", "utf-16"]))
    return text.encode(encoding, "surrogatepass")


def check_one_line(message: str, path: Path) -> None:
    """An error message fit for the user: one printable line, starting with the file."""
    assert message.startswith(f"{path}:"), message
    assert message.isprintable(), message
    assert len(message.splitlines()) == 1, message
    assert len(message) < len(str(path)) + 300, message
    problem = message[len(f"{path}:"):].split(": ", 2)[-1]    # after the line and the field
    event(re.sub(r"U\+\w+", "U+...", " ".join(problem.split()[:3])))   # --hypothesis-show-statistics
