"""Write a stack document as YAML with comments above the addresses findings point at.

PyYAML cannot write comments, so this writes the block-style YAML itself (the stack is only
mappings, lists and scalars) and lets PyYAML quote each scalar. Mapping order is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

import yaml

from deployer.convert.model import Path


def to_yaml(doc: dict[str, Any], comments: dict[Path, list[str]], header: Iterable[str] = (),
            template: bool = False) -> str:
    """The stack as YAML. `template`: it will be read as a Jinja2 template (its name ends in .j2),
    so text that looks like template syntax is escaped; a plain stack keeps it as written."""
    token = _TEMPLATE.set(template)
    try:
        out = [f"# {_quiet(line)}" if line else "#" for line in header]
        out += _mapping(doc, 0, (), comments)
    finally:
        _TEMPLATE.reset(token)
    return "\n".join(out) + "\n"


def _comment_lines(path: Path, indent: int, comments: dict[Path, list[str]]) -> list[str]:
    pad = " " * indent
    return [f"{pad}# {_quiet(line)}" for text in comments.get(path, []) for line in text.splitlines()]


_JINJA = re.compile(r"\{[{%#]")
_TEMPLATE: ContextVar[bool] = ContextVar("template", default=False)


def _quiet(text: str) -> str:
    """In a template, a comment must not open a Jinja2 block."""
    if not _TEMPLATE.get():
        return text
    return _JINJA.sub(lambda m: m.group(0)[0] + " " + m.group(0)[1], text)


def _escape(text: str) -> str:
    """Values keep `{{`, `{%` and `{#` (bash's `${#x}`, say) by writing them as Jinja2 string
    expressions, which the stack loader renders back to the same characters (templates only)."""
    if not _TEMPLATE.get():
        return text
    return _JINJA.sub(lambda m: "{{ '" + m.group(0) + "' }}", text)


def _mapping(value: dict[str, Any], indent: int, path: Path, comments: dict[Path, list[str]]) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, item in value.items():
        here = (*path, key)
        lines += _comment_lines(here, indent, comments)
        k = _scalar(str(key))
        if isinstance(item, dict) and item:
            lines.append(f"{pad}{k}:")
            lines += _mapping(item, indent + 2, here, comments)
        elif isinstance(item, list) and item:
            lines.append(f"{pad}{k}:")
            lines += _sequence(item, indent + 2, here, comments)
        else:
            lines += _inline(f"{pad}{k}:", item, indent + 2)
    return lines


def _sequence(value: list[Any], indent: int, path: Path, comments: dict[Path, list[str]]) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for i, item in enumerate(value):
        here = (*path, i)
        lines += _comment_lines(here, indent, comments)
        if isinstance(item, dict) and item:
            body = _mapping(item, indent + 2, here, comments)
            # the first key goes on the dash line (its comments stay above the dash)
            first = next(n for n, line in enumerate(body) if not line.lstrip().startswith("#"))
            lines += body[:first]
            lines.append(f"{pad}- {body[first].lstrip()}")
            lines += body[first + 1:]
        elif isinstance(item, list) and item:
            lines.append(f"{pad}-")
            lines += _sequence(item, indent + 2, here, comments)
        else:
            lines += _inline(f"{pad}-", item, indent + 2)
    return lines


def _inline(prefix: str, value: Any, indent: int) -> list[str]:
    if isinstance(value, str) and "\n" in value and _literal_ok(value):
        value = _escape(value)
        style = "|" if value.endswith("\n") else "|-"
        pad = " " * indent
        return [f"{prefix} {style}", *[f"{pad}{line}" if line else "" for line in value.rstrip("\n").split("\n")]]
    return [f"{prefix} {_scalar(value)}"]


def _literal_ok(value: str) -> bool:
    lines = value.rstrip("\n").split("\n")
    return (not value.endswith("\n\n") and not lines[0].startswith((" ", "\t"))
            and all(line == line.rstrip() for line in lines) and "\t" not in value)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    if isinstance(value, str):
        value = _escape(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30, allow_unicode=True)
    text = text.strip()
    if text.endswith("\n..."):
        text = text[:-4].strip()
    if text.endswith("..."):
        text = text[:-3].strip()
    if isinstance(value, str) and _needs_quotes_12(value) and not text.startswith(("'", '"')):
        text = "'" + value.replace("'", "''") + "'"
    return text


def _needs_quotes_12(value: str) -> bool:
    """PyYAML writes YAML 1.1; the stack loader reads YAML 1.2 core. Quote anything that either
    would read as something other than a string (numbers, booleans, null)."""
    return bool(re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+"
                             r"|true|True|TRUE|false|False|FALSE|null|Null|NULL|~|\.inf|\.nan", value))
