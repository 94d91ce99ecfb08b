"""Rendering in Jinja2's immutable sandbox, with errors at the template's file and line."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from deployer.errors import Diagnostic, StackError
from deployer.stack.loader import has_template_syntax
from deployer.stack.suggest import closest
from deployer.stack.template import limits
from deployer.stack.template.limits import bounded_render, limited_sandbox, time_limit
from deployer.stack.template.linemap import SYNTAX, Rendered, clean, mark, tag_end, unmark
from deployer.stack.template.variables import stack_vars


class _Vars(dict[str, Any]):
    """`vars`: a mapping whose missing names are errors that say how to set them."""

    def __missing__(self, key: str) -> Any:
        from jinja2.exceptions import UndefinedError

        close = closest(str(key), [k for k in self if isinstance(k, str)])
        hint = f"did you mean vars.{close}? Otherwise " if close else ""
        raise UndefinedError(f"undefined variable vars.{key}: {hint}set it under the stack's vars:, in a "
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
                      variables: Mapping[str, Any] | None = None, target: str | None = None) -> Rendered:
    """Render `text` (the stack `file`, in `base_dir`) or return it as is if it is no template:
    only a file named `*.j2` is one (see `is_template`). `target` is the command line's
    `--target` (None without one): templates read it as `deploy.target`, so that a stack can
    follow `--target azure` (`kind: {{ deploy.target or vars.target }}`) instead of planning,
    say, the local target's start task for Azure's nodes."""
    if not is_template(file) or not has_template_syntax(text):
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
    from deployer.stack.template.packaged import packaged_templates

    presets = packaged_templates()  # the shipped presets, found without the repository
    if presets is not None and presets not in roots:
        roots.append(presets)

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
            where = " or ".join(_display(root) if root != presets else "the built-in presets" for root in roots)
            raise jinja2.TemplateNotFound(template, f"template {template!r} not found in {where}")

    environment = limited_sandbox()(loader=StackLoader(), undefined=jinja2.StrictUndefined, autoescape=False)
    environment.filters["json"] = _flow_json
    environment.globals["fail"] = _fail
    try:
        code = environment.compile(mark(protect_comments(text), 0), name=file, filename=file)
        template = environment.template_class.from_code(environment, code, environment.make_globals(None))
        with time_limit(limits.MAX_RENDER_SECONDS):
            output = bounded_render(template.generate(vars=context_vars, env=_Env(), deploy={"target": target}),
                                    files)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or file
        where = where if where in sources else file
        line = exc.lineno or 1
        message = f"template syntax error: {clean(exc.message or str(exc))}{LITERAL_HINT}"
        raise StackError([Diagnostic(where, line, _column(sources.get(where, ""), line, None), message)]) from None
    except Exception as exc:  # any failure while rendering is an error in the template
        where, line = getattr(exc, "where", None) or _template_frame(
            exc.__traceback__, sources, file, caller=isinstance(exc, TemplateFailure))
        message = clean(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
        name = _undefined_name(message)
        message = _with_suggestion(message, context_vars, sources)
        prefix = "" if message.startswith(("undefined variable", "environment variable")) else "template error: "
        raise StackError([Diagnostic(where, line, _column(sources.get(where, ""), line, name),
                                     f"{prefix}{message}")]) from None
    if text.endswith("\n") and not output.endswith("\n"):
        output += "\n"
    return unmark(output, files, file)


#: Said with every template syntax error: the usual cause is text meant literally.
LITERAL_HINT = (" (this file is rendered as a Jinja template because its name ends in .j2; for a literal '{{' "
                "write {{ '{{' }}, or wrap the text in {% raw %}…{% endraw %})")


def is_template(file: str) -> bool:
    """A stack is a template only when it says so by its name: `media.yaml.j2`. A plain `.yaml`
    file is read as YAML, whatever `{{`, `{%` or `{#` its values hold (bash `${#a[@]}`, docker
    `--format '{{.ID}}'`)."""
    return file.lower().endswith(".j2")


_JINJA_INTENT = re.compile(r"\{\{-?\s*(?:vars|env|deploy)\s*\.\s*\w+[^}]*\}\}"
                           r"|\{%-?\s*(?:if|for|set|include|import|from|macro)\b[^%]*%\}")


def unrendered_template(text: str, file: str) -> Diagnostic | None:
    """A warning for a plain stack (not `*.j2`) that holds what only makes sense rendered
    (`{{ vars.env }}`, `{% for %}`): it is read literally, which is rarely what was meant."""
    if is_template(file) or not has_template_syntax(text):
        return None
    for number, line in enumerate(text.splitlines(), 1):
        end = _comment_start(line)
        match = _JINJA_INTENT.search(line if end is None else line[:end])
        if match:
            return Diagnostic(file, number, match.start() + 1,
                              f"{match.group(0)!r} is template syntax, but this file is read as plain YAML: "
                              f"only stacks named *.j2 are rendered (rename it to {PurePosixPath(file).name}.j2)",
                              severity="warning")
    return None


def _with_suggestion(message: str, context_vars: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    """"Did you mean" for a name the template does not define: a variable written without
    `vars.`, or a macro misspelt in an imported template (`autoscale.pending_task`)."""
    match = re.fullmatch(r"'(\w+)' is undefined", message)
    if match:
        name = match.group(1)
        names = [k for k in context_vars if isinstance(k, str)]
        close = name if name in names else closest(name, names)
        if close:
            return f"{message}; did you mean vars.{close}?"
        return message
    match = re.search(r"TemplateModule object'? has no attribute '(\w+)'", message)
    if match:
        name = match.group(1)
        macros = sorted({m for source in sources.values() for m in _MACRO.findall(source)})
        close = closest(name, macros)
        hint = f"; did you mean {close!r}?" if close else ""
        return f"the imported template has no macro {name!r}{hint}"
    return message


_MACRO = re.compile(r"\{%-?\s*macro\s+(\w+)")


_RAW_OPEN = "{% raw %}"
_RAW_CLOSE = "{% endraw %}"


def protect_comments(text: str) -> str:
    """`text` with every YAML comment wrapped in `{% raw %}`: comments never render, so a `{{` or
    `${#` in one cannot break (or change) the stack. Lines inside block scalars (`|`, `>`) are
    values, not comments, and render; template tags (and `{% raw %}` blocks) are skipped whole,
    wherever they are, as Jinja's lexer sees them. One pass, left to right: on each line, what
    starts first — a comment or a tag — wins."""
    out: list[str] = []
    i, n = 0, len(text)
    line_begin, indent, quote = 0, 0, ""
    content_line = False  # a line of a block scalar: no comments on it
    block_indent: int | None = None
    at_line_start = True
    while i < n:
        if at_line_start:
            at_line_start = False
            line_begin, quote = i, ""
            eol = text.find("\n", i)
            line = text[i:eol if eol >= 0 else n]
            stripped = line.strip()
            indent = len(line) - len(line.lstrip(" "))
            content_line = block_indent is not None and (
                not stripped or indent > block_indent or stripped.startswith(("{%", "{#")))
            if block_indent is not None and not content_line:
                block_indent = None
        if text.startswith(SYNTAX, i):
            close = tag_end(text, i + 2, text[i:i + 2])
            if close < 0:  # unterminated: Jinja reports it
                out.append(text[i:])
                break
            end = close + 2
            if text.startswith("{%", i) and _RAW_TAG.fullmatch(text, i, end):
                endraw = _ENDRAW_TAG.search(text, end)
                end = endraw.end() if endraw else n
            out.append(text[i:end])
            if "\n" in text[i:end]:
                line_begin = text.rfind("\n", i, end) + 1
            i = end
            continue
        char = text[i]
        if char == "\n":
            if not content_line and _BLOCK_SCALAR.search(text[line_begin:i].rstrip()):
                block_indent = indent
            out.append(char)
            i += 1
            at_line_start = True
            continue
        if content_line or (char not in _SPECIAL):
            # Nothing to decide until the next character that can start or end something.
            found = (_TAG_OR_EOL if content_line else _NEXT_SPECIAL).search(text, i + 1)
            stop = found.start() if found else n
            out.append(text[i:stop])
            i = stop
            continue
        if quote:
            if char == quote and quote == "'" and text.startswith("''", i):
                out.append("''")
                i += 2
                continue
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"' and i + 1 < n and text[i + 1] != "\n":
                out.append(text[i:i + 2])
                i += 2
                continue
        elif char in "'\"" and (i == line_begin or text[i - 1] in " \t[{,:-"):
            quote = char
        elif char == "#" and (i == line_begin or text[i - 1] in " \t"):
            eol = text.find("\n", i)
            eol = n if eol < 0 else eol
            comment = text[i:eol]
            out.append(comment if "endraw" in comment else f"{_RAW_OPEN}{comment}{_RAW_CLOSE}")
            if _BLOCK_SCALAR.search(text[line_begin:i].rstrip()):
                block_indent = indent
                content_line = True  # the rest is the newline: keep the block scalar state
            i = eol
            continue
        out.append(char)
        i += 1
    return "".join(out)


_BLOCK_SCALAR = re.compile(r"(?:^|[:\s-])\s*[|>][-+0-9]*$")
_SPECIAL = frozenset("#'\"\\{\n")
_NEXT_SPECIAL = re.compile(r"[#'\"\\{\n]")
_TAG_OR_EOL = re.compile(r"[{\n]")
_RAW_TAG = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}")
_ENDRAW_TAG = re.compile(r"\{%[-+]?\s*endraw\s*[-+]?%\}")


def _comment_start(line: str) -> int | None:
    """Where a YAML comment starts on one line (outside quotes and template tags), or None."""
    protected = protect_comments(line)
    at = protected.find(_RAW_OPEN)
    while at >= 0 and not protected.startswith(_RAW_OPEN + "#", at):
        at = protected.find(_RAW_OPEN, at + 1)
    return None if at < 0 or protected[:at] != line[:at] else at


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
