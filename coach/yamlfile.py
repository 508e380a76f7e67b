"""Reading YAML files that people write by hand, with errors that name the file, line and field.

Routine files, voice packs and (later) the config file all go through `open_yaml`, which returns
a `Fields` reader over the top-level mapping. Every accessor checks the type; `done()` rejects
unknown keys with a did-you-mean. Errors are raised as the `error` class the caller passes in
(RoutineError, VoiceError, ...), always as one line: `FILE:LINE: FIELD: what is wrong`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from coach.errors import CoachError

T = TypeVar("T")
ErrorType = type[CoachError]

_MAX_BYTES = 1_000_000      # a routine is a page of text; refuse a runaway file instead of hanging


def open_yaml(path: Path, error: ErrorType) -> Fields:
    """Parse `path` and return a reader over its top-level mapping."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise error(f"{path}: cannot read the file ({err.strerror or err})") from err
    if len(raw) > _MAX_BYTES:
        raise error(f"{path}: the file is {len(raw)} bytes; that is too large for a coach file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(f"{path}: not UTF-8 text (byte {err.start})") from err
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else 1
        raise error(f"{path}:{line}: not valid YAML: {err.problem}") from err
    except yaml.YAMLError as err:
        raise error(f"{path}: not valid YAML: {err}") from err
    if node is None:
        raise error(f"{path}:1: the file is empty")
    return Fields(path, node, "", error)


class Fields:
    """A YAML mapping being read field by field. Tracks which keys were used."""

    def __init__(self, path: Path, node: Node, where: str, error: ErrorType) -> None:
        self.path = path
        self.where = where
        self.error = error
        self._node = node
        if not isinstance(node, MappingNode):
            self.fail(f"expected a mapping of `key: value` lines, got {_kind(node)}", node)
        self._items: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self.fail("keys must be plain words", key_node)
            assert isinstance(key, str)
            if key in self._items:
                self.fail(f"`{key}` appears twice", key_node, field=key)
            self._items[key] = (key_node, value_node)
        self._used: set[str] = set()

    # -- errors -----------------------------------------------------------------------------
    def fail(self, message: str, node: Node | None = None, field: str | None = None) -> None:
        node = node if node is not None else self._node
        line = node.start_mark.line + 1
        name = self._field(field) if field else self.where
        prefix = f"{self.path}:{line}: " + (f"{name}: " if name else "")
        raise self.error(prefix + message)

    def _field(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    # -- accessors --------------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in self._items

    def is_mapping(self, key: str) -> bool:
        return key in self._items and isinstance(self._items[key][1], MappingNode)

    def keys(self) -> list[str]:
        return list(self._items)

    def _get(self, key: str, required: bool) -> Node | None:
        if key not in self._items:
            if required:
                self.fail(f"missing required field `{key}`")
            return None
        self._used.add(key)
        return self._items[key][1]

    def text(self, key: str, default: str | None = None, *, max_len: int = 2000) -> str:
        node = self._get(key, default is None)
        if node is None:
            return default  # type: ignore[return-value]
        if not isinstance(node, ScalarNode) or node.tag.endswith(":null"):
            self.fail(f"must be text, got {_kind(node)}", node, key)
        value = str(node.value).strip()
        if not value:
            self.fail("must not be empty", node, key)
        if len(value) > max_len:
            self.fail(f"is {len(value)} characters long; at most {max_len}", node, key)
        return value

    def number(self, key: str, default: float | None = None, *, positive: bool = True,
               maximum: float = 86_400.0) -> float:
        node = self._get(key, default is None)
        if node is None:
            return default  # type: ignore[return-value]
        value = _scalar(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            self.fail(f"must be a number, got {_show(node)}", node, key)
        if positive and value <= 0:
            self.fail(f"must be greater than 0, got {_show(node)}", node, key)
        if not positive and value < 0:
            self.fail(f"must not be negative, got {_show(node)}", node, key)
        if value > maximum:
            self.fail(f"must be at most {maximum:g}, got {_show(node)}", node, key)
        return float(value)

    def integer(self, key: str, default: int | None = None, *, minimum: int = 1,
                maximum: int = 1000) -> int:
        node = self._get(key, default is None)
        if node is None:
            return default  # type: ignore[return-value]
        value = _scalar(node)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"must be a whole number, got {_show(node)}", node, key)
        if not minimum <= value <= maximum:
            self.fail(f"must be between {minimum} and {maximum}, got {value}", node, key)
        return int(value)

    def flag(self, key: str, default: bool) -> bool:
        node = self._get(key, False)
        if node is None:
            return default
        value = _scalar(node)
        if not isinstance(value, bool):
            self.fail(f"must be true or false, got {_show(node)}", node, key)
        return bool(value)

    def mapping(self, key: str, required: bool = False) -> Fields | None:
        node = self._get(key, required)
        if node is None:
            return None
        if not isinstance(node, MappingNode):
            self.fail(f"must be a mapping of `key: value` lines, got {_kind(node)}", node, key)
        return Fields(self.path, node, self._field(key), self.error)

    def items(self, key: str, *, required: bool = True, min_items: int = 1,
              max_items: int = 200) -> list[tuple[str, Node]]:
        """A list field: returns (field name with index, node) pairs for the caller to read."""
        node = self._get(key, required)
        if node is None:
            return []
        if not isinstance(node, SequenceNode):
            self.fail(f"must be a list (lines starting with `- `), got {_kind(node)}", node, key)
        if len(node.value) < min_items:
            self.fail(f"must have at least {min_items} entr{'y' if min_items == 1 else 'ies'}", node, key)
        if len(node.value) > max_items:
            self.fail(f"has {len(node.value)} entries; at most {max_items}", node, key)
        return [(f"{self._field(key)}[{i}]", item) for i, item in enumerate(node.value)]

    def texts(self, key: str, *, required: bool = True, min_items: int = 1,
              max_len: int = 2000) -> tuple[str, ...]:
        """A list of text lines; a single text is accepted as a list of one."""
        node = self._get(key, required)
        if node is None:
            return ()
        if isinstance(node, ScalarNode) and not node.tag.endswith(":null"):
            nodes = [node]
        elif isinstance(node, SequenceNode):
            nodes = list(node.value)
        else:
            self.fail(f"must be a line of text or a list of lines, got {_kind(node)}", node, key)
        if len(nodes) < min_items:
            self.fail(f"must have at least {min_items} line{'s' if min_items > 1 else ''}", node, key)
        out = []
        for i, item in enumerate(nodes):
            where = f"{key}[{i}]" if isinstance(node, SequenceNode) else key
            if not isinstance(item, ScalarNode) or item.tag.endswith(":null") or not str(item.value).strip():
                self.fail(f"must be text, got {_kind(item)}", item, where)
            if len(item.value) > max_len:
                self.fail(f"is {len(item.value)} characters long; at most {max_len}", item, where)
            out.append(str(item.value).strip())
        return tuple(out)

    def sub(self, where: str, node: Node) -> Fields:
        """A reader over a mapping inside a list (from `items`)."""
        return Fields(self.path, node, where, self.error)

    def choice(self, key: str, options: tuple[str, ...], default: str | None = None) -> str:
        value = self.text(key, default)
        if value not in options:
            node = self._items[key][1]
            hint = _did_you_mean(value, options)
            self.fail(f"must be one of {', '.join(options)}; got `{value}`{hint}", node, key)
        return value

    def done(self, allowed: tuple[str, ...] | None = None) -> None:
        """Reject keys nobody read (typos), with a did-you-mean from `allowed` or the read keys."""
        known = tuple(allowed) if allowed is not None else tuple(self._used)
        for key, (key_node, _) in self._items.items():
            if key not in self._used and key not in known:
                self.fail(f"unknown field{_did_you_mean(key, known)}", key_node, field=key)

    def read(self, key: str, reader: Callable[[Fields], T]) -> T | None:
        sub = self.mapping(key)
        return reader(sub) if sub is not None else None


def _did_you_mean(word: str, options: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _scalar(node: Node) -> Any:
    """The Python value of a scalar node (int, float, bool, str, ...); other nodes as they are."""
    if not isinstance(node, ScalarNode):
        return node
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node)
    finally:
        loader.dispose()


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag.endswith(":null"):
        return "nothing"
    return f"`{_clip(str(node.value))}`"


def _show(node: Node) -> str:
    return _kind(node)


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
