"""Reading YAML files that people write by hand, with errors that name the file, line and field.

Routine files, voice packs and the config file all go through `open_yaml`, which returns
a `Fields` reader over the top-level mapping. Every accessor checks the type; `only()` rejects
unknown keys with a did-you-mean. Errors are raised as the `error` class the caller passes in
(RoutineError, VoiceError, ...), always as one line: `FILE:LINE: FIELD: what is wrong`.

Hostile files stay cheap: the size and the nesting depth are capped, values are read only where
a field asks for them, and aliases are never expanded (an alias is the node it names, shared), so
a "billion laughs" document costs what its text costs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from coach.errors import CoachError
from coach.suggest import did_you_mean

T = TypeVar("T")
ErrorType = type[CoachError]

# A routine or a voice pack is a page or two of text. The pure-Python YAML parser needs up to
# ~15 microseconds a byte on pathological input, so this also bounds the time a file can take.
MAX_BYTES = 64 * 1024
MAX_DEPTH = 20              # mappings and lists inside each other; a routine needs 4
_MAX_SCALAR = 100           # characters; no number or flag is longer than this
_CLIP = 40                  # characters of a user's value quoted back in a message
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")   # kept out of text values


def open_yaml(path: Path, error: ErrorType) -> Fields:
    """Parse `path` and return a reader over its top-level mapping."""
    try:
        if path.exists() and not path.is_file():       # a folder, or a pipe that never ends
            raise error(one_line(f"{path}: not a file"))
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except OSError as err:
        raise error(one_line(f"{path}: cannot read the file ({err.strerror or err})")) from err
    if len(raw) > MAX_BYTES:
        raise error(one_line(f"{path}: the file is larger than {MAX_BYTES // 1024} KiB; "
                             "is it the right file?"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        hint = "; it looks like UTF-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise error(one_line(f"{path}:{line}: not UTF-8 text (byte 0x{raw[err.start]:02x}){hint}; "
                             "save the file as UTF-8")) from err
    loader = None
    try:
        loader = _Loader(text)      # checks every character first
        node = loader.get_single_node()
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + 1
        raise error(one_line(f"{path}:{line}: not valid YAML: the character U+{err.character:04X} "
                             "is not allowed")) from err
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else 1
        raise error(one_line(f"{path}:{line}: not valid YAML: {_yaml_problem(err)}")) from err
    except yaml.YAMLError as err:
        raise error(one_line(f"{path}:1: not valid YAML: {_clip(str(err), 120)}")) from err
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise error(one_line(f"{path}:1: the file is empty"))
    return Fields(path, node, "", error)


class _Loader(yaml.SafeLoader):
    """The safe composer with a nesting limit (it recurses once per level)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _yaml_problem(err: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem and context as one readable clause."""
    problem = _clip(err.problem or "", 120)
    for token, words in (("'<stream end>'", "the end of the file"), ("'<scalar>'", "a value")):
        problem = problem.replace(token, words)
    context = _clip(err.context or "", 120)
    where = ""
    if err.context_mark is not None and (err.problem_mark is None
                                         or err.context_mark.line != err.problem_mark.line):
        where = f" on line {err.context_mark.line + 1}"
    if context.startswith("found duplicate anchor"):
        return f"{context.split(';')[0]} (first defined{where})"
    if context == "expected a single document in the stream":
        return "more than one document (`---`); a coach file holds one"
    if "'\\t'" in problem:
        return "a tab here; indent with spaces, not tabs"
    if problem == "mapping values are not allowed here":
        return "a `: ` where none can be; put text that contains `: ` in quotes"
    if not context:
        return problem or "cannot parse the file"
    return f"{problem} ({context}{where})" if problem else f"{context}{where}"


def one_line(text: str) -> str:
    """`text` with every line break and other unprintable character escaped, so it prints as one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class Fields:
    """A YAML mapping being read field by field. Tracks which keys were used."""

    def __init__(self, path: Path, node: Node, where: str, error: ErrorType) -> None:
        self.path = path
        self.where = where
        self.error = error
        self._node = node
        if not isinstance(node, MappingNode):
            what = "must be" if where else "the file must be"
            self.fail(f"{what} a mapping of `key: value` lines, got {_show(node)}", node)
        self._items: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.fail(f"keys must be plain words, got {_show(key_node)}", key_node)
            key = key_node.value
            if not key.strip():
                self.fail("a key is empty", key_node)
            if key in self._items:
                first = self._items[key][0].start_mark.line + 1
                self.fail(f"appears twice (first on line {first})", key_node, field=key)
            self._items[key] = (key_node, value_node)

    # -- errors -----------------------------------------------------------------------------
    def fail(self, message: str, node: Node | None = None, field: str | None = None) -> NoReturn:
        """Raise the error for `node` (default: this mapping), naming `field` (default: this mapping)."""
        node = node if node is not None else self._node
        line = node.start_mark.line + 1
        name = self._field(_clip(field)) if field else self.where
        prefix = f"{self.path}:{line}: " + (f"{name}: " if name else "")
        raise self.error(one_line(prefix + message))

    def fail_at(self, key: str, message: str) -> NoReturn:
        """Raise the error for field `key`, on the line of its value (of this mapping if it is missing)."""
        node = self._items[key][1] if key in self._items else None
        self.fail(message, node, key)

    def fail_place(self, place: str, message: str) -> NoReturn:
        """Raise the error for a value whose `place` was kept (from `located_texts`)."""
        raise self.error(one_line(f"{place}: {message}"))

    def _field(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    # -- keys -------------------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in self._items

    def is_mapping(self, key: str) -> bool:
        return key in self._items and isinstance(self._items[key][1], MappingNode)

    def keys(self) -> list[str]:
        return list(self._items)

    def only(self, allowed: tuple[str, ...]) -> None:
        """Reject every key not in `allowed` (a typo, most likely), with a did-you-mean. Call it first."""
        for key, (key_node, _) in self._items.items():
            if key not in allowed:
                self.fail(f"unknown field{did_you_mean(key, allowed)}", key_node, field=key)

    def _get(self, key: str, required: bool) -> Node | None:
        if key not in self._items and not required:
            return None
        return self._require(key)

    def _require(self, key: str) -> Node:
        if key not in self._items:
            self.fail("required field is missing", field=key)
        return self._items[key][1]

    # -- values -----------------------------------------------------------------------------
    def text(self, key: str, default: str | None = None, *, max_len: int = 2000) -> str:
        node = self._get(key, default is None)
        if node is None:
            return default  # type: ignore[return-value]
        return self._text(node, key, max_len)

    def _text(self, node: Node, field: str, max_len: int) -> str:
        if not isinstance(node, ScalarNode) or node.tag.endswith(":null"):
            self.fail(f"must be text, got {_show(node)}", node, field)
        value = node.value.strip()
        if not value:
            self.fail("must not be empty", node, field)
        if len(value) > max_len:
            self.fail(f"is {len(value)} characters long; at most {max_len}", node, field)
        bad = _CONTROL.search(value)
        if bad:
            self.fail(f"contains the control character U+{ord(bad.group()):04X}", node, field)
        return value

    def number(self, key: str, default: float | None = None, *, positive: bool = True,
               maximum: float = 86_400.0) -> float:
        node = self._get(key, default is None)
        if node is None:
            return default  # type: ignore[return-value]
        value = _scalar(node)
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or (isinstance(value, float) and math.isnan(value))):
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
            self.fail(f"must be between {minimum} and {maximum}, got {_show(node)}", node, key)
        return int(value)

    def flag(self, key: str, default: bool) -> bool:
        node = self._get(key, False)
        if node is None:
            return default
        value = _scalar(node)
        if not isinstance(value, bool):
            self.fail(f"must be true or false, got {_show(node)}", node, key)
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str | None = None) -> str:
        value = self.text(key, default)
        if value not in options:
            hint = did_you_mean(value, options)
            self.fail_at(key, f"must be one of {', '.join(options)}; got `{_clip(value)}`{hint}")
        return value

    # -- structure --------------------------------------------------------------------------
    def mapping(self, key: str, required: bool = False) -> Fields | None:
        node = self._get(key, required)
        return self._mapping(node, key) if node is not None else None

    def section(self, key: str) -> Fields:
        """A required mapping."""
        return self._mapping(self._require(key), key)

    def _mapping(self, node: Node, key: str) -> Fields:
        if not isinstance(node, MappingNode):
            self.fail(f"must be a mapping of `key: value` lines, got {_show(node)}", node, key)
        return Fields(self.path, node, self._field(key), self.error)

    def read(self, key: str, reader: Callable[[Fields], T]) -> T | None:
        sub = self.mapping(key)
        return reader(sub) if sub is not None else None

    def items(self, key: str, *, required: bool = True, min_items: int = 1,
              max_items: int = 200) -> list[tuple[str, Node]]:
        """A list field: returns (field name with index, node) pairs for the caller to read."""
        node = self._get(key, required)
        if node is None:
            return []
        if not isinstance(node, SequenceNode):
            self.fail(f"must be a list (lines starting with `- `), got {_show(node)}", node, key)
        if len(node.value) < min_items:
            self.fail(f"must have at least {min_items} entr{'y' if min_items == 1 else 'ies'}", node, key)
        if len(node.value) > max_items:
            self.fail(f"has {len(node.value)} entries; at most {max_items}", node, key)
        return [(f"{self._field(key)}[{i}]", item) for i, item in enumerate(node.value)]

    def texts(self, key: str, *, required: bool = True, min_items: int = 1, max_items: int = 100,
              max_len: int = 2000) -> tuple[str, ...]:
        """A list of text lines; a single text is accepted as a list of one."""
        return tuple(text for text, _ in self.located_texts(key, required=required, min_items=min_items,
                                                            max_items=max_items, max_len=max_len))

    def located_texts(self, key: str, *, required: bool = True, min_items: int = 1,
                      max_items: int = 100, max_len: int = 2000) -> tuple[tuple[str, str], ...]:
        """`texts`, each with where it is written (`FILE:LINE: FIELD[i]`), for a problem found later."""
        node = self._get(key, required)
        if node is None:
            return ()
        if isinstance(node, SequenceNode):
            nodes = list(node.value)
        elif isinstance(node, ScalarNode) and not node.tag.endswith(":null"):
            nodes = [node]
        else:
            self.fail(f"must be a line of text or a list of lines, got {_show(node)}", node, key)
        if len(nodes) < min_items:
            self.fail(f"must have at least {min_items} line{'s' if min_items > 1 else ''}", node, key)
        if len(nodes) > max_items:
            self.fail(f"has {len(nodes)} lines; at most {max_items}", node, key)
        in_list = isinstance(node, SequenceNode)
        fields = [f"{key}[{i}]" if in_list else key for i in range(len(nodes))]
        return tuple((self._text(item, field, max_len), self.place(item, field))
                     for item, field in zip(nodes, fields, strict=True))

    def place(self, node: Node, field: str) -> str:
        """`FILE:LINE: FIELD` for `node`: the start of an error message (see `fail_place`)."""
        return f"{self.path}:{node.start_mark.line + 1}: {self._field(_clip(field))}"

    def sub(self, where: str, node: Node) -> Fields:
        """A reader over a mapping inside a list (from `items`)."""
        return Fields(self.path, node, where, self.error)


_NOT_A_VALUE = object()
# YAML 1.1 (PyYAML) reads `1e3` as text; YAML 1.2 and people read it as a number.
_FLOAT_12 = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


def _scalar(node: Node) -> Any:
    """The Python value of a short scalar node (int, float, bool, str, date ...), else a sentinel."""
    if not isinstance(node, ScalarNode) or len(node.value) > _MAX_SCALAR:
        return _NOT_A_VALUE
    if node.style is None and node.tag == "tag:yaml.org,2002:str" and _FLOAT_12.fullmatch(node.value):
        return float(node.value)
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node)
    except Exception:       # `!!int abc`, `!!bool maybe`, `2024-13-45`, `!custom x`: not a value
        return _NOT_A_VALUE
    finally:
        loader.dispose()


def _show(node: Node) -> str:
    """A node as a message quotes it: `a mapping`, `a list`, `nothing` or the value as written."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if not isinstance(node, ScalarNode):
        return "a list"
    if node.tag.endswith(":null") and node.value in ("", "~", "null", "Null", "NULL"):
        return "nothing"
    quote = node.style if node.style in ("'", '"') else ""
    return f"`{quote}{_clip(node.value)}{quote}`"


def _clip(text: str, limit: int = _CLIP) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
