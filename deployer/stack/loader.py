"""Read a stack file into plain data while remembering where every node came from.

PyYAML's composer gives us a node graph with source marks; we build the Python values from it
ourselves instead of using a constructor, because that lets us:

* refuse every tag that would build an object (only the YAML core types exist here);
* report duplicate keys, which PyYAML silently lets the last one win;
* expand anchors and aliases with a bound, so an alias bomb is refused, not expanded;
* resolve plain scalars by the YAML 1.2 core schema: `yes`, `on`, `00:15:00` stay strings
  (YAML 1.1 would make them a boolean and the integer 900, which breaks Azure durations);
* record the line and column of every key and value for diagnostics.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from deployer.errors import Diagnostic, StackError

# A stack describing thousands of pools is a few MB; anything far bigger is a mistake
# (a log file, a binary) and reading it would only waste the user's time.
MAX_FILE_BYTES = 8 * 1024 * 1024
# Values built from the node graph, aliases counted every time they are expanded.
# A 1,000-pool stack builds about 60,000; a billion-laughs file would build 10**9.
MAX_EXPANDED_NODES = 1_000_000
# The deepest real stack nests about a dozen levels (a pool's container registry identity);
# bounding the depth keeps every later walk (schema, checks, renderers) far from the recursion
# limit. libyaml itself stops at 1,000 levels.
MAX_DEPTH = 64
# Azure's integers are at most 64-bit (20 digits); a longer literal is a mistake, and one over
# 4,300 digits would not even convert (Python's int() guard against quadratic conversion).
MAX_INT_DIGITS = 40

PathKey = tuple[str | int, ...]

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_INT_OCT = re.compile(r"^0o[0-7]+$")
_INT_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}
_ANCHOR = re.compile(r"^&\S+\s+")
_STR, _TIMESTAMP, _MERGE = f"{_CORE}str", f"{_CORE}timestamp", f"{_CORE}merge"
# An alias (`*name`) is a `*` before a name character, at the start of a node (see
# _may_hold_alias). Text without one has no alias, so it expands to exactly the values it writes.
_STAR_NAME = re.compile(r"\*[^\s\[\]{},]")
_BEFORE_NODE = frozenset(" \t\r\n\f\v[{,")
# What YAML 1.2 calls printable (c-printable): anything else makes the reader stop, and PyYAML
# reports it by character offset only; we give the line and column instead.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Position(NamedTuple):
    """A NamedTuple, not a dataclass: loading a 1,000-pool stack records 60,000 of them, and a
    frozen dataclass's __init__ was a third of the build."""

    line: int  # 1-based
    column: int  # 1-based


# A Position, or PyYAML's mark of a node (0-based line and column) as the loader recorded it:
# a 1,000-pool stack records 60,000 places and a handful are ever asked for, so each becomes a
# Position only when asked (SourceMap.value / key).
Place = Position | yaml.Mark


def _position(place: Place) -> Position:
    return place if isinstance(place, Position) else Position(place.line + 1, place.column + 1)


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of a loaded document starts in its file."""

    file: str
    values: dict[PathKey, Place] = field(default_factory=dict)
    keys: dict[PathKey, Place] = field(default_factory=dict)

    def value(self, path: PathKey) -> Position:
        """The position of the value at `path`, or of its nearest ancestor that has one."""
        return self._nearest(self.values, path)

    def key(self, path: PathKey) -> Position:
        """The position of the key naming `path` (falls back to the value's position)."""
        if path in self.keys:
            return _position(self.keys[path])
        return self.value(path)

    def _nearest(self, table: dict[PathKey, Place], path: PathKey) -> Position:
        while path:
            if path in table:
                return _position(table[path])
            path = path[:-1]
        return _position(table.get((), Position(1, 1)))


@dataclass
class LoadedDocument:
    data: Any
    source: SourceMap
    text: str
    # Set when the file was a Jinja2 template: positions in `source` and `text` are lines of the
    # rendered text, and this maps them back to the stack's (or an included template's) lines.
    line_map: Any = None  # deployer.stack.template.LineMap | None

    def position_inside(self, path: PathKey, line: int, column: int) -> Position:
        """Map a 1-based (line, column) inside a string value to its place in the file.

        Used for errors inside embedded languages (autoscale formulas): a block scalar (`|`)
        keeps lines one to one at the block's indentation; a quoted or plain scalar starts at
        its own column. Folded scalars (`>`) join lines, so we point at the value's first line.
        """
        start = self.source.value(path)
        lines = self.text.splitlines()
        if not 0 < start.line <= len(lines):
            return start
        first = lines[start.line - 1]
        indicator = first[start.column - 1 : start.column]
        if indicator in ("|", ">"):
            content = [text for text in lines[start.line :] if text.strip()]
            indent = len(content[0]) - len(content[0].lstrip(" ")) if content else 0
            if indicator == ">":
                return Position(start.line + 1, indent + 1)
            return Position(start.line + line, indent + column)
        quote = 1 if indicator in ("'", '"') else 0
        if line == 1:
            return Position(start.line, start.column + quote + column - 1)
        return Position(start.line + line - 1, column)


def format_path(path: PathKey) -> str:
    """`('batchAccounts', 'main', 'pools', 'p1', 'tasks', 0)` → `batchAccounts.main.pools.p1.tasks[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def read_bounded(path: Path, limit: int, name: str, what: str) -> bytes:
    """Read at most `limit` bytes of `path`, refusing more: `st_size` says nothing about a pipe,
    `/dev/zero` or a file that grows while it is read, so the bound is on what is actually read.
    Every way this can fail is a StackError naming the file."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:  # known too big: do not read it
                raise _fail(name, f"file is {info.st_size / 1e6:.1f} MB, over the {limit // (1024 * 1024)} MB "
                            f"limit for a {what}; split it or check that this is the right file")
            raw = handle.read(limit + 1)
    except FileNotFoundError:
        raise _fail(name, "no such file") from None
    except IsADirectoryError:
        raise _fail(name, f"is a directory; give the path of a {what} (.yaml) inside it") from None
    except PermissionError:
        raise _fail(name, "permission denied while reading the file") from None
    except OSError as exc:
        raise _fail(name, f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise _fail(name, f"more than {limit // (1024 * 1024)} MB to read, over the limit for a {what}; "
                    "check that this is the right file (not a device, a pipe or a log)")
    return raw


def read_stack_text(path: Path, display: str | None = None, what: str = "stack") -> str:
    """Read a stack (or variable) file as UTF-8 text, turning every way this can fail into a diagnostic."""
    name = display or str(path)
    raw = read_bounded(path, MAX_FILE_BYTES, name, f"{what} file")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(raw) >= 2 and (raw[0] == 0) != (raw[1] == 0)):
        raise _fail(name, "the file is UTF-16 (or UTF-32); save it as UTF-8", line=1, column=1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = len(raw[raw.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8", "replace")) + 1
        raise StackError(
            [
                Diagnostic(
                    name,
                    line,
                    column,
                    f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; save the file as UTF-8",
                )
            ]
        ) from None
    check_printable(text, name)
    return text


def check_printable(text: str, name: str) -> None:
    """Refuse a NUL or control character with its line and column (YAML allows tab, newline and
    carriage return only; other characters can be written as escapes in double quotes)."""
    bad = _NOT_PRINTABLE.search(text)
    if bad is None:
        return
    line = text.count("\n", 0, bad.start()) + 1
    column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
    code = ord(bad.group())
    raise StackError([Diagnostic(
        name, line, column,
        f"control character U+{code:04X} is not allowed in a YAML file; remove it, or write it as "
        f"\\u{code:04x} inside a double-quoted string")])


TEMPLATE_SYNTAX = ("{{", "{%", "{#")


def has_template_syntax(text: str) -> bool:
    """The fast path: only files with `{{`, `{%` or `{#` are rendered (and only *.j2 files at that)."""
    return any(token in text for token in TEMPLATE_SYNTAX)


def load_stack_file(path: Path, display: str | None = None,
                    variables: Mapping[str, Any] | None = None, target: str | None = None) -> LoadedDocument:
    """Read, render (when the file is a Jinja2 template) and parse a stack file.

    `variables` override the stack's own `vars:` and `target` is `--target`, `deploy.target` in a
    template (see deployer.stack.template). Diagnostics
    raised here point at the user's file and line, also when they come from rendered text.
    """
    name = display or str(path)
    text = read_stack_text(path, name)
    if not has_template_syntax(text):  # fast path: not a template
        return load_yaml_text(text, name)
    from deployer.stack.template import render_stack_text

    rendered = render_stack_text(text, name, path.parent, variables, target)
    if rendered.line_map is None:
        return load_yaml_text(rendered.text, name)
    try:
        doc = load_yaml_text(rendered.text, name)
    except StackError as exc:
        raise StackError(rendered.line_map.remap_all(exc.diagnostics)) from None
    doc.line_map = rendered.line_map
    return doc


def load_yaml_text(text: str, file: str) -> LoadedDocument:
    """Parse YAML text into plain data plus a source map; raise StackError on any problem."""
    if not text.strip() or _only_comments(text):
        raise _fail(file, "the file is empty; a stack needs at least `stack:` and `target:`", line=1, column=1)
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        loader = loader_cls(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(file, text, exc) from None
    except yaml.YAMLError as exc:  # errors without a mark (rare: reader errors)
        raise _fail(file, f"not valid YAML: {exc}") from None
    if root is None:
        raise _fail(file, "the file is empty; a stack needs at least `stack:` and `target:`", line=1, column=1)
    if _may_hold_alias(text):
        _refuse_alias_bombs(root, file)
    builder = _Builder(file, text)
    try:
        data = builder.build(root, ())
    except _OverLimit:  # too many values or too deep: the measure says where, and raises
        _refuse_alias_bombs(root, file)
        raise AssertionError("the builder and the measure disagree on the limits") from None
    if builder.diagnostics:
        raise StackError(builder.diagnostics)
    return LoadedDocument(data=data, source=builder.source, text=text)


def _may_hold_alias(text: str) -> bool:
    """Whether `text` may hold an alias: a `*name` at the start of a node (`- *a`, `k: *a`,
    `[*a]`). False positives (`ls *.txt` in a command line) only cost the measure. One regex for
    `*name`, then the character before in Python: a regex alternation for it scanned 20× slower."""
    return any(m.start() == 0 or text[m.start() - 1] in _BEFORE_NODE for m in _STAR_NAME.finditer(text))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [v for _, v in node.value]
    return []


def _measure(root: yaml.Node) -> dict[int, tuple[int, int]]:
    """(values built, levels of nesting) of every collection node, aliases counted every time
    they are expanded. An explicit stack, not recursion: libyaml lets documents nest 1,000 deep,
    past Python's recursion limit. A node that contains itself (a recursive alias) counts 1 here;
    the builder reports it with its position."""
    measured: dict[int, tuple[int, int]] = {}
    visiting: set[int] = set()
    todo: list[tuple[yaml.Node, list[yaml.Node] | None]] = [(root, None)]
    while todo:
        node, children = todo.pop()
        if children is not None:  # its children are measured: measure it
            visiting.discard(id(node))
            size, depth = 1, 0
            for child in children:
                child_size, child_depth = measured.get(id(child), (1, 1))
                size += child_size
                depth = max(depth, child_depth)
            measured[id(node)] = (size, depth + 1)
            continue
        if isinstance(node, yaml.ScalarNode) or id(node) in measured or id(node) in visiting:
            continue
        visiting.add(id(node))
        children = _children(node)
        todo.append((node, children))
        todo.extend((child, None) for child in children if not isinstance(child, yaml.ScalarNode))
    return measured


def _refuse_alias_bombs(root: yaml.Node, file: str) -> None:
    """Measure what aliases would expand to, and how deep values nest, before building anything."""
    measured = _measure(root)
    total, depth = measured.get(id(root), (1, 1))
    if total > MAX_EXPANDED_NODES:
        node = root
        while True:  # walk down to where the explosion starts, to point the user at it
            big = [c for c in _children(node) if measured.get(id(c), (1, 1))[0] > MAX_EXPANDED_NODES]
            if not big:
                break
            node = big[0]
        mark = node.start_mark
        raise StackError(
            [
                Diagnostic(
                    file,
                    mark.line + 1,
                    mark.column + 1,
                    f"anchors and aliases here expand to {total:,} values, over the limit of "
                    f"{MAX_EXPANDED_NODES:,} (an alias bomb?); write the values out or nest fewer aliases",
                )
            ]
        )
    if depth > MAX_DEPTH:
        node, level = root, 1
        while level <= MAX_DEPTH:  # follow the deepest branch to the first level past the limit
            node = max(_children(node), key=lambda c: measured.get(id(c), (1, 1))[1])
            level += 1
        mark = node.start_mark
        raise StackError([Diagnostic(file, mark.line + 1, mark.column + 1,
                                     f"values nest {depth:,} levels deep, over the limit of {MAX_DEPTH} for a "
                                     "stack (the deepest Azure property is about a dozen levels down); "
                                     "this is where it goes past the limit")])


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def _fail(file: str, message: str, line: int = 0, column: int = 0) -> StackError:
    return StackError([Diagnostic(file, line, column, message)])


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column : column + 1] if line < len(lines) else ""


def _yaml_error(file: str, text: str, exc: yaml.MarkedYAMLError) -> StackError:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    problem = exc.problem or "invalid YAML"
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t" or "'\\t'" in problem:
        message = "tab character in indentation; YAML indents with spaces only"
    elif "maximum nesting depth" in problem:
        message = f"values nest too many levels deep here, over the limit of {MAX_DEPTH} for a stack"
    elif exc.context and "found undefined alias" in str(exc.context) or "undefined alias" in problem:
        message = f"YAML {exc.context or ''} {problem}".strip()
    else:
        context = f"{exc.context}: " if exc.context else ""
        message = f"invalid YAML: {context}{problem}"
    return StackError([Diagnostic(file, line, column, message)])


class _OverLimit(Exception):
    """The builder went past MAX_EXPANDED_NODES or MAX_DEPTH (the measure was skipped: no alias)."""


class _Builder:
    """Turns a composed node graph into dicts, lists and scalars with a bounded expansion."""

    def __init__(self, file: str, text: str = ""):
        self.file = file
        self.text = text
        self.source = SourceMap(file)
        self.diagnostics: list[Diagnostic] = []
        self.active: set[int] = set()
        self.budget = MAX_EXPANDED_NODES  # values left to build

    def _error(self, node: yaml.Node, message: str, path: PathKey) -> None:
        mark = node.start_mark
        self.diagnostics.append(
            Diagnostic(self.file, mark.line + 1, mark.column + 1, message, format_path(path))
        )

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        if node.tag not in _ALLOWED_TAGS:
            self._error(
                node,
                f"tag {node.tag!r} is not allowed in a stack; only plain YAML values "
                "(mappings, lists, strings, numbers, booleans, null) are",
                path,
            )
            return None
        self.budget -= 1
        if self.budget < 0 or len(path) >= MAX_DEPTH:  # as _measure counts: a scalar is one level
            raise _OverLimit
        self.source.values.setdefault(path, node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self.active:
            self._error(node, "an alias refers to the node that contains it (a recursive alias)", path)
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
            assert isinstance(node, yaml.MappingNode)
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self._error(key_node, "merge keys (`<<:`) are not supported; write the keys out", path)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._error(key_node, "a mapping key must be a plain string", path)
                continue
            key = str(key_node.value)  # keys are names: `6.1:` is the version "6.1", not a float
            child: PathKey = (*path, key)
            if key in result:
                where = f" (first defined at line {self.source.key(child).line})" if child in self.source.keys else ""
                self._error(key_node, f"duplicate key {key!r}{where}", child)
                continue
            self.source.keys[child] = key_node.start_mark
            result[key] = self.build(value_node, child)
        return result

    def _plain_untagged(self, node: yaml.ScalarNode) -> bool:
        """A plain scalar with neither a tag nor more than one line: its source text is its value
        (after an anchor), so PyYAML's `str` is its implicit YAML 1.1 resolution, not `!!str`."""
        if node.style or not self.text:
            return False
        source = self.text[node.start_mark.index : node.end_mark.index]
        return _ANCHOR.sub("", source) == node.value

    def _scalar(self, node: yaml.ScalarNode, path: PathKey) -> Any:
        value: str = node.value
        tag = node.tag
        if tag == _STR and value[:1] in _NUMBER_START and _implicit_12(value) and self._plain_untagged(node):
            tag = _CORE_12[_implicit_12(value)]  # `1e3`, `0o17`: numbers in YAML 1.2, text in 1.1
        if tag in (_STR, _TIMESTAMP):
            return value  # dates stay text: Azure takes ISO-8601 strings
        # Anything else PyYAML resolved by YAML 1.1 rules (or an explicit !!int on a quoted
        # scalar): re-resolve by the YAML 1.2 core schema.
        if _NULL.match(value):
            return None
        if value in _BOOL:
            return _BOOL[value]
        digits = value.lstrip("+-")
        if _INT.match(value) or _INT_OCT.match(value) or _INT_HEX.match(value):
            if len(digits) > MAX_INT_DIGITS:
                self._error(node, f"a number of {len(digits):,} digits is too large for a stack (Azure's "
                            "integers are at most 64-bit); quote it if it is text", path)
                return None
            if _INT.match(value):
                return int(value)
            return int(value[2:], 8 if value.startswith("0o") else 16)
        if _FLOAT.match(value):
            return float(value)
        if _INF.match(value):
            return float("-inf") if value.startswith("-") else float("inf")
        if _NAN.match(value):
            return float("nan")
        if node.style or _implicit_tag(value) != tag:  # an explicit tag the value does not fit
            self._error(node, f"{value!r} is not a valid {tag.rsplit(':', 1)[1]}", path)
        return value


_RESOLVER = yaml.resolver.Resolver()
_CORE_12 = {"int": f"{_CORE}int", "float": f"{_CORE}float"}
_NUMBER_START = frozenset("0123456789+-.")


def _implicit_12(value: str) -> str:
    """The YAML 1.2 core schema's number type of a plain scalar ("int", "float"), or ""."""
    if _INT.match(value) or _INT_OCT.match(value) or _INT_HEX.match(value):
        return "int"
    if _FLOAT.match(value) or _INF.match(value) or _NAN.match(value):
        return "float"
    return ""


def _implicit_tag(value: str) -> str:
    """The tag PyYAML's YAML 1.1 resolver gives a plain scalar: tells implicit from explicit tags."""
    return str(_RESOLVER.resolve(yaml.ScalarNode, value, (True, False)))
