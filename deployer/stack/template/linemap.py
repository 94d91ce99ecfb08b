"""The line map through rendering: which file and line each rendered line came from.

Before rendering, a marker naming (file, line) is put at the end of every line of template
*data* (never inside a tag — `tag_end` finds a tag's end as Jinja's lexer does, so a `}}` inside a
dict literal or a string does not end it — and never in whitespace a `-` strips); after rendering,
each output line takes the position of the first marker on it and the markers are removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from deployer.errors import Diagnostic
from deployer.stack.loader import TEMPLATE_SYNTAX as SYNTAX

_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_MARK_OPEN = "\ue000"
_MARK_CLOSE = "\ue001"
MARKER = re.compile(f"{_MARK_OPEN}(\\d+):(\\d+){_MARK_CLOSE}")
_RAW = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}")
_ENDRAW = re.compile(r"\{%[-+]?\s*endraw\s*[-+]?%\}")


@dataclass(frozen=True)
class LineMap:
    """Where each line of a rendered stack came from: (file, line) per rendered line."""

    file: str  # the name the rendered document is reported under (the stack's)
    lines: tuple[tuple[str, int], ...]

    def locate(self, line: int) -> tuple[str, int]:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return (self.file, line)

    def remap(self, diagnostic: Diagnostic) -> Diagnostic:
        if diagnostic.file != self.file or diagnostic.line <= 0:
            return diagnostic
        file, line = self.locate(diagnostic.line)
        return Diagnostic(file, line, diagnostic.column, diagnostic.message, diagnostic.path,
                          diagnostic.severity)

    def remap_all(self, diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
        return [self.remap(d) for d in diagnostics]


@dataclass(frozen=True)
class Rendered:
    text: str
    line_map: LineMap | None  # None when the file was not rendered (no template syntax)


def mark(text: str, file_id: int) -> str:
    """Put a (file, line) marker at the end of every line of template data."""
    out: list[str] = []
    i, line, n = 0, 1, len(text)

    def data(chunk: str) -> None:
        nonlocal line
        parts = chunk.split("\n")
        for part in parts[:-1]:
            out.append(f"{part}{_MARK_OPEN}{file_id}:{line}{_MARK_CLOSE}\n")
            line += 1
        out.append(parts[-1])

    while i < n:
        starts = [(text.find(token, i), token) for token in SYNTAX]
        found = [(pos, token) for pos, token in starts if pos >= 0]
        if not found:
            data(text[i:])
            break
        pos, token = min(found)
        chunk = text[i:pos]
        if text.startswith("-", pos + 2):  # `{%-` strips the whitespace before it: no markers in it
            kept = chunk.rstrip(" \t\r\n")
            data(kept)
            out.append(chunk[len(kept):])
            line += chunk.count("\n", len(kept))
        else:
            data(chunk)
        close = tag_end(text, pos + 2, token)
        if close < 0:  # unterminated tag: Jinja reports it
            out.append(text[pos:])
            break
        tag = text[pos : close + 2]
        out.append(tag)
        line += tag.count("\n")
        i = close + 2
        if tag[-3] == "-":  # `-%}` strips the whitespace after it: no markers in it
            j = i
            while j < n and text[j] in " \t\r\n":
                j += 1
            out.append(text[i:j])
            line += text.count("\n", i, j)
            i = j
        if token == "{%" and _RAW.fullmatch(tag):
            end = _ENDRAW.search(text, i)
            stop = end.start() if end else n
            data(text[i:stop])
            i = stop
    return "".join(out)


def tag_end(text: str, start: int, token: str) -> int:
    """Where the tag opened by `token` just before `start` closes, as Jinja's lexer sees it: a
    `}}` or `%}` inside a string or inside brackets (`{{ {"a": {"b": 1}} }}`) does not close it."""
    closer = _CLOSERS[token]
    if token == "{#":
        return text.find(closer, start)
    depth, i, n = 0, start, len(text)
    while i < n:
        char = text[i]
        if char in "\"'":
            i += 1
            while i < n and text[i] != char:
                i += 2 if text[i] == "\\" else 1
        elif depth == 0 and text.startswith(closer, i):
            return i
        elif char in "([{":
            depth += 1
        elif char in ")]}" and depth > 0:
            depth -= 1
        i += 1
    return -1


def unmark(rendered: str, files: Sequence[str], main: str) -> Rendered:
    lines = rendered.split("\n")
    located: list[tuple[str, int] | None] = []
    clean: list[str] = []
    for text in lines:
        match = MARKER.search(text)
        located.append((files[int(match.group(1))], int(match.group(2))) if match else None)
        clean.append(MARKER.sub("", text) if match else text)
    # Lines after the last marker (the end of the text) count on from the last marked line.
    last = next((i for i in range(len(located) - 1, -1, -1) if located[i] is not None), None)
    if last is None:
        located = [(main, i + 1) for i in range(len(located))]
    else:
        file, line = located[last] or (main, 1)
        for index in range(last + 1, len(located)):
            located[index] = (file, line + index - last)
    # Lines a multi-line value produced carry no marker: they belong to the line that ends it.
    following: tuple[str, int] = (main, 1)
    for index in range(len(located) - 1, -1, -1):
        here = located[index]
        if here is None:
            located[index] = following
        else:
            following = here
    return Rendered("\n".join(clean), LineMap(main, tuple(loc for loc in located if loc is not None)))


def clean(message: str) -> str:
    """`message` without markers (Jinja quotes template text in some errors)."""
    return MARKER.sub("", message)
