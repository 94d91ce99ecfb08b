"""Template variables: `--var-file` / `--var` from the command line, and the stack's own `vars:`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deployer.errors import Diagnostic, StackError, UsageError
from deployer.stack.loader import has_template_syntax

_VARS_LINE = re.compile(r"^vars\s*:(?:\s|$)")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_variables(var_files: Sequence[Path] = (), assignments: Sequence[str] = ()) -> dict[str, Any]:
    """Merge `--var-file` files (in order) and then `--var NAME=VALUE` (in order); later wins.

    A var file is a YAML mapping of names to values. `--var` values are strings. Raise
    StackError (with file and line) for a bad file, UsageError for a malformed `--var`.
    """
    from deployer.stack.loader import load_yaml_text, read_stack_text

    merged: dict[str, Any] = {}
    for path in var_files:
        name = str(path)
        text = read_stack_text(path, name, "variable")
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
