"""Stack files are Jinja2 templates: render them before the YAML is read.

Rendering runs in Jinja2's immutable sandbox with `StrictUndefined`: an undefined name, an
unsafe attribute (`''.__class__`) or an include outside the allowed folders is an error with
the file and line of the template, never a traceback. A file with no `{{`, `{%` or `{#` is not
rendered at all (the fast path: Jinja2 is not even imported).

Context of a template:

* `vars` — the stack's own top-level `vars:` mapping, overridden key by key by each
  `--var-file` in order, then by each `--var NAME=VALUE` in order (last wins);
* `env` — environment variables, only by name: `env.NAME` (`env.NAME` unset is an error).

The stack's `vars:` block is read from the raw text, before rendering: it is the block that
starts with `vars:` at column 0 and runs to the next line at column 0. It must be plain YAML
(no template syntax), so it can be read before anything is rendered.

Includes and imports (`{% include 'x.yaml' %}`) resolve against the stack's own folder first,
then the nearest `templates/` folder at or above it (the repository's fragments). Absolute
names, `..` and anything resolving (through symlinks) outside those folders are refused.

Line map: before rendering, a marker naming (file, line) is put at the end of every line of
template *data* (never inside a tag) of the stack and of every included template; after
rendering, each output line takes the position of the first marker on it and the markers are
removed. So a line repeated by `{% for %}` maps to its line in the loop body, a line from an
included template maps to that template's file and line, and lines that a value with newlines
produced map to the line of the expression. Limits: columns are those of the rendered line
(exact up to the first expression on the line whose value has a different length than its
source text); the text captured by a block `{% set x %}…{% endset %}` carries markers too, so
comparing it with a string does not work (using it as output does).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from deployer.errors import Diagnostic, StackError, UsageError

_SYNTAX = ("{{", "{%", "{#")
_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_MARK_OPEN = "\ue000"
_MARK_CLOSE = "\ue001"
_MARKER = re.compile(f"{_MARK_OPEN}(\\d+):(\\d+){_MARK_CLOSE}")
_RAW = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}")
_ENDRAW = re.compile(r"\{%[-+]?\s*endraw\s*[-+]?%\}")
_VARS_LINE = re.compile(r"^vars\s*:(?:\s|$)")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def has_template_syntax(text: str) -> bool:
    """The fast path: only files with `{{`, `{%` or `{#` are rendered."""
    return any(token in text for token in _SYNTAX)


# ---------------------------------------------------------------------------------------------
# Variables from the command line


def load_variables(var_files: Sequence[Path] = (), assignments: Sequence[str] = ()) -> dict[str, Any]:
    """Merge `--var-file` files (in order) and then `--var NAME=VALUE` (in order); later wins.

    A var file is a YAML mapping of names to values. `--var` values are strings. Raise
    StackError (with file and line) for a bad file, UsageError for a malformed `--var`.
    """
    from deployer.stack.loader import load_yaml_text, read_stack_text

    merged: dict[str, Any] = {}
    for path in var_files:
        name = str(path)
        text = read_stack_text(path, name)
        if not text.strip() or all(not s.strip() or s.lstrip().startswith("#") for s in text.splitlines()):
            continue  # an empty variable file sets nothing
        doc = load_yaml_text(text, name)
        if not isinstance(doc.data, dict):
            pos = doc.source.value(())
            raise StackError([Diagnostic(name, pos.line, pos.column,
                                         "a variable file must be a YAML mapping of names to values, "
                                         f"not {_kind(doc.data)}")])
        merged.update(doc.data)
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name):
            raise UsageError(f"--var {assignment!r}: expected NAME=VALUE, where NAME is letters, digits "
                             "and underscores (not starting with a digit)")
        merged[name] = value
    return merged


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a {type(value).__name__} ({value!r})"


# ---------------------------------------------------------------------------------------------
# The stack's own vars: block


def stack_vars(text: str, file: str) -> dict[str, Any]:
    """The stack's top-level `vars:` mapping, read from the raw (unrendered) text."""
    from deployer.stack.loader import load_yaml_text

    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _VARS_LINE.match(line)), None)
    if start is None:
        return {}
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#"):
        end += 1
    block = "".join(lines[start:end])
    if has_template_syntax(block):
        raise StackError([Diagnostic(file, start + 1, 1,
                                     "the stack's vars: block must be plain YAML without template syntax "
                                     "({{ }}, {% %}, {# #}): it is read before the stack is rendered")])
    doc = load_yaml_text("\n" * start + block, file)
    values = doc.data.get("vars") if isinstance(doc.data, dict) else None
    if values is None:
        return {}
    if not isinstance(values, dict):
        pos = doc.source.value(("vars",))
        raise StackError([Diagnostic(file, pos.line, pos.column,
                                     f"vars: must be a mapping of names to values, not {_kind(values)}",
                                     "vars")])
    return values


# ---------------------------------------------------------------------------------------------
# The line map


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


def _mark(text: str, file_id: int) -> str:
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
        starts = [(text.find(token, i), token) for token in _SYNTAX]
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
        close = _tag_end(text, pos + 2, token)
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


def _tag_end(text: str, start: int, token: str) -> int:
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


def _unmark(rendered: str, files: Sequence[str], main: str) -> Rendered:
    lines = rendered.split("\n")
    located: list[tuple[str, int] | None] = []
    clean: list[str] = []
    for text in lines:
        match = _MARKER.search(text)
        located.append((files[int(match.group(1))], int(match.group(2))) if match else None)
        clean.append(_MARKER.sub("", text) if match else text)
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


# ---------------------------------------------------------------------------------------------
# Rendering


class _Vars(dict[str, Any]):
    """`vars`: a mapping whose missing names are errors that say how to set them."""

    def __missing__(self, key: str) -> Any:
        from jinja2.exceptions import UndefinedError

        raise UndefinedError(f"undefined variable vars.{key}: set it under the stack's vars:, in a "
                             f"--var-file or with --var {key}=VALUE")


class _Env:
    """`env`: environment variables, only by name (`env.HOME`); no listing, no iteration."""

    __slots__ = ()

    def __getitem__(self, key: str) -> str:
        value = os.environ.get(key)
        if value is None:
            from jinja2.exceptions import UndefinedError

            raise UndefinedError(f"environment variable {key} is not set (used as env.{key})")
        return value

    def __repr__(self) -> str:
        return "env"


def templates_folder(stack_dir: Path) -> Path | None:
    """The nearest `templates/` folder at or above the stack's folder (not past a `.git` root)."""
    folder = stack_dir.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / "templates").is_dir():
            return candidate / "templates"
        if (candidate / ".git").exists():
            return None
    return None


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)


def render_stack_text(text: str, file: str, base_dir: Path,
                      variables: Mapping[str, Any] | None = None) -> Rendered:
    """Render `text` (the stack `file`, in `base_dir`) or return it as is if it is no template."""
    if not has_template_syntax(text):
        return Rendered(text, None)
    context_vars = _Vars(stack_vars(text, file))
    context_vars.update(variables or {})

    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    files: list[str] = [file]  # file id → display name; 0 is the stack
    sources: dict[str, str] = {file: text}
    roots = [base_dir.resolve()]
    shared = templates_folder(base_dir)
    if shared is not None and shared not in roots:
        roots.append(shared)

    class StackLoader(jinja2.BaseLoader):
        def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
            parts = PurePosixPath(template).parts
            if (not template or template.startswith(("/", "\\")) or "\\" in template
                    or re.match(r"^[A-Za-z]:", template) or ".." in parts):
                raise SecurityError(
                    f"cannot include {template!r}: only paths relative to the stack's folder or the "
                    "templates/ folder may be included (no absolute paths, no '..')")
            for root in roots:
                candidate = (root / template).resolve()
                if not candidate.is_relative_to(root):
                    raise SecurityError(f"cannot include {template!r}: it resolves outside {_display(root)}")
                if candidate.is_file():
                    display = _display(candidate)
                    try:
                        source = candidate.read_text(encoding="utf-8-sig")
                    except (OSError, UnicodeDecodeError) as exc:
                        raise jinja2.TemplateError(f"cannot read template {display}: {exc}") from None
                    if display not in files:
                        files.append(display)
                    sources[display] = source
                    return _mark(source, files.index(display)), display, lambda: True
            where = " or ".join(_display(root) for root in roots)
            raise jinja2.TemplateNotFound(template, f"template {template!r} not found in {where}")

    class StackEnvironment(ImmutableSandboxedEnvironment):
        """The sandbox, with `*` and `**` unable to build values past the size of a stack."""

        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

    environment = StackEnvironment(loader=StackLoader(), undefined=jinja2.StrictUndefined, autoescape=False)
    environment.filters["json"] = _flow_json
    environment.globals["fail"] = _fail
    try:
        code = environment.compile(_mark(text, 0), name=file, filename=file)
        template = environment.template_class.from_code(environment, code, environment.make_globals(None))
        with _time_limit(MAX_RENDER_SECONDS):
            output = _bounded_render(template.generate(vars=context_vars, env=_Env()), files)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or file
        where = where if where in sources else file
        line = exc.lineno or 1
        message = f"template syntax error: {_clean(exc.message or str(exc))}"
        raise StackError([Diagnostic(where, line, _column(sources.get(where, ""), line, None), message)]) from None
    except Exception as exc:  # any failure while rendering is an error in the template
        where, line = getattr(exc, "where", None) or _template_frame(
            exc.__traceback__, sources, file, caller=isinstance(exc, TemplateFailure))
        message = _clean(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
        name = _undefined_name(message)
        prefix = "" if message.startswith(("undefined variable", "environment variable")) else "template error: "
        raise StackError([Diagnostic(where, line, _column(sources.get(where, ""), line, name),
                                     f"{prefix}{message}")]) from None
    if text.endswith("\n") and not output.endswith("\n"):
        output += "\n"
    return _unmark(output, files, file)


class TemplateFailure(Exception):
    """`{{ fail("message") }}`: a template (a preset checking its parameters) refuses its input.
    Reported at the line that called the failing macro, where the user can fix it."""


def _fail(message: Any) -> None:
    raise TemplateFailure(str(message))


class RenderLimit(Exception):
    """Rendering would produce more than a stack may hold, or takes too long."""

    def __init__(self, message: str, where: tuple[str, int] | None = None) -> None:
        super().__init__(message)
        self.where = where  # (file, line) when the traceback cannot tell


MAX_RENDERED_CHARS = 8 * 1024 * 1024  # the loader's limit for a stack file
MAX_RENDER_SECONDS = 30


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `'x' * 10**9` and `10 ** 10**8` before Python spends the memory or the time."""
    if operator == "*":
        for value, times in ((left, right), (right, left)):
            if (isinstance(value, str | list | tuple) and isinstance(times, int)
                    and len(value) * times > MAX_RENDERED_CHARS):
                raise RenderLimit(f"`*` would build a value of {len(value) * times:,} items; the rendered "
                                  f"stack may hold at most {MAX_RENDERED_CHARS:,} characters")
    elif (operator == "**" and isinstance(left, int) and isinstance(right, int)
          and abs(left) > 1 and right * max(abs(left).bit_length(), 1) > 64 * 1024):
        raise RenderLimit(f"`{left} ** {right}` is too large a number for a stack")


def _bounded_render(chunks: Iterator[str], files: Sequence[str]) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        out.append(chunk)
        if size > MAX_RENDERED_CHARS:
            markers = _MARKER.findall("".join(out[-64:]))  # the line that was being repeated
            where = (files[int(markers[-1][0])], int(markers[-1][1])) if markers else None
            raise RenderLimit(f"the rendered stack is over {MAX_RENDERED_CHARS // (1024 * 1024)} MB, the limit "
                              "for a stack (a loop that runs away?)", where)
    return "".join(out)


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    """Stop a template that loops for too long (where SIGALRM exists and we are on the main thread)."""
    import signal
    import threading

    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise RenderLimit(f"rendering took over {seconds} s (a loop that runs away?)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _flow_json(value: Any) -> str:
    """`{{ x | json }}`: a value as one line of JSON, which YAML reads as a flow collection or a
    double-quoted string wherever it lands, whatever the indentation. (Jinja's own `tojson` is
    for HTML: it writes `<` as `\\u003c`, unreadable in `deploy render`.)"""
    import json

    return json.dumps(value, ensure_ascii=False)


def _clean(message: str) -> str:
    return _MARKER.sub("", message)


def _frames(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _template_frame(tb: TracebackType | None, sources: Mapping[str, str], main: str,
                    *, caller: bool = False) -> tuple[str, int]:
    """The innermost template file and line in a (Jinja-rewritten) traceback; with `caller`, the
    innermost line in another file than that one (the call of the macro that failed)."""
    frames = [(f.tb_frame.f_code.co_filename, f.tb_lineno) for f in _frames(tb)]
    found = [(name, line) for name, line in frames if name in sources] or [(main, 1)]
    if caller:
        outside = [(name, line) for name, line in found if name != found[-1][0]]
        if outside:
            return outside[-1]
    return found[-1]


def _undefined_name(message: str) -> str | None:
    for pattern in (r"vars\.(\w+)", r"env\.(\w+)", r"^'(\w+)' is undefined", r"attribute '(\w+)'"):
        match = re.search(pattern, message)
        if match:
            return match.group(1)
    return None


def _column(source: str, line: int, name: str | None) -> int:
    """The column to point at on a template line: the name if given, else the first tag."""
    lines = source.splitlines()
    if not 0 < line <= len(lines):
        return 1
    text = lines[line - 1]
    if name:
        tags = [m.span() for m in re.finditer(r"\{[{%#].*?(?:[}%#]\}|$)", text)]
        for pattern in (rf"\b(?:vars|env)\s*\.\s*{re.escape(name)}\b", rf"{re.escape(name)}"):
            for match in re.finditer(pattern, text):
                if any(start <= match.start() < end for start, end in tags):
                    return match.start() + 1
    positions = [p for p in (text.find(token) for token in _SYNTAX) if p >= 0]
    return (min(positions) + 1) if positions else 1
