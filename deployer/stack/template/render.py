"""Rendering in Jinja2's immutable sandbox, with errors at the template's file and line."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from deployer.errors import Diagnostic, StackError
from deployer.stack.template import limits
from deployer.stack.template.limits import bounded_render, limited_sandbox, time_limit
from deployer.stack.template.linemap import SYNTAX, Rendered, clean, has_template_syntax, mark, unmark
from deployer.stack.template.variables import stack_vars


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
    from jinja2.sandbox import SecurityError

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
                    return mark(source, files.index(display)), display, lambda: True
            where = " or ".join(_display(root) for root in roots)
            raise jinja2.TemplateNotFound(template, f"template {template!r} not found in {where}")

    environment = limited_sandbox()(loader=StackLoader(), undefined=jinja2.StrictUndefined, autoescape=False)
    environment.filters["json"] = _flow_json
    environment.globals["fail"] = _fail
    try:
        code = environment.compile(mark(text, 0), name=file, filename=file)
        template = environment.template_class.from_code(environment, code, environment.make_globals(None))
        with time_limit(limits.MAX_RENDER_SECONDS):
            output = bounded_render(template.generate(vars=context_vars, env=_Env()), files)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or file
        where = where if where in sources else file
        line = exc.lineno or 1
        message = f"template syntax error: {clean(exc.message or str(exc))}"
        raise StackError([Diagnostic(where, line, _column(sources.get(where, ""), line, None), message)]) from None
    except Exception as exc:  # any failure while rendering is an error in the template
        where, line = getattr(exc, "where", None) or _template_frame(
            exc.__traceback__, sources, file, caller=isinstance(exc, TemplateFailure))
        message = clean(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
        name = _undefined_name(message)
        prefix = "" if message.startswith(("undefined variable", "environment variable")) else "template error: "
        raise StackError([Diagnostic(where, line, _column(sources.get(where, ""), line, name),
                                     f"{prefix}{message}")]) from None
    if text.endswith("\n") and not output.endswith("\n"):
        output += "\n"
    return unmark(output, files, file)


class TemplateFailure(Exception):
    """`{{ fail("message") }}`: a template (a preset checking its parameters) refuses its input.
    Reported at the line that called the failing macro, where the user can fix it."""


def _fail(message: Any) -> None:
    raise TemplateFailure(str(message))


def _flow_json(value: Any) -> str:
    """`{{ x | json }}`: a value as one line of JSON, which YAML reads as a flow collection or a
    double-quoted string wherever it lands, whatever the indentation. (Jinja's own `tojson` is
    for HTML: it writes `<` as `\\u003c`, unreadable in `deploy render`.)"""
    import json

    return json.dumps(value, ensure_ascii=False)


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
    positions = [p for p in (text.find(token) for token in SYNTAX) if p >= 0]
    return (min(positions) + 1) if positions else 1
